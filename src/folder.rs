//! Export folders replaced as a whole: a reader sees the previous export or the new one,
//! never a mix of two runs, a half-written file or a temporary file.
//!
//! [`FolderWriter::begin`] creates a hidden sibling `.NAME.adjoint-tmp.PID.XXXX` of the target
//! `NAME`, where the whole export is written; [`FolderWriter::commit`] then moves an earlier
//! export aside (`.NAME.adjoint-old.PID.XXXX`), renames the new folder into place and deletes
//! the old one. A failed run removes its temporary folder; a run killed by a signal leaves it
//! behind, and the next export next to it removes it (its process is gone). Two concurrent
//! exports to one target each commit a complete folder; the last rename wins.
//!
//! An existing target is only replaced when it is empty or an earlier export of this tool
//! (it holds the marker file [`MARKER`], or — for exports written before the marker — a
//! `problem.json` with a known `kind` and a `summary.md`) and holds nothing but the files an
//! export writes: `--export .` or `--export ~/results` never deletes anything of the user's.
//! New files get the usual mode, `0666` (folders `0777`) masked by the umask.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The file that marks a folder as an export of this tool.
pub const MARKER: &str = ".adjoint-export";

/// The `kind`s of `problem.json` an export can have.
const KINDS: [&str; 3] = ["tridiagonal", "mlp", "network"];

/// A new export folder being written next to its target; see the module documentation.
#[derive(Debug)]
pub struct FolderWriter {
    target: PathBuf,
    parent: PathBuf,
    name: String,
    tmp: Option<crate::tempfs::TempPath>,
}

fn io_err(path: &Path, message: impl Into<String>) -> Error {
    Error::io(path, std::io::Error::other(message.into()))
}

impl FolderWriter {
    /// Checks that `target` may be (re)placed, removes what killed runs left next to it, and
    /// creates the temporary sibling folder to write into.
    ///
    /// # Errors
    /// [`Error::Io`] when `target` exists and is not a folder, is a folder that is neither
    /// empty nor an earlier export, or when the parent folder cannot be created or written.
    pub fn begin(target: &Path) -> Result<Self> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..");
        // `--export .` and friends: work on the canonical path
        let (parent, name) = match name {
            Some(n) => {
                let parent = match target.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                (parent, n)
            }
            None => {
                let canonical = target.canonicalize().map_err(|e| Error::io(target, e))?;
                let n = canonical
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| io_err(target, "cannot export to the root folder"))?;
                let p = canonical
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                (p, n)
            }
        };
        check_target(target)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        remove_leftovers(&parent, &name);
        let tmp = tempdir_in(
            &parent,
            &format!(".{name}.adjoint-tmp.{}.", std::process::id()),
        )
        .map_err(|e| Error::io(target, e))?;
        crate::mtx::write_atomic(tmp.path().join(MARKER), b"adjoint export\n")?;
        Ok(FolderWriter {
            target: target.to_path_buf(),
            parent,
            name,
            tmp: Some(tmp),
        })
    }

    /// The temporary folder to write every file into.
    pub fn path(&self) -> &Path {
        self.tmp.as_ref().map(|t| t.path()).unwrap_or(&self.target)
    }

    /// The final path of a file written as `self.path().join(name)`.
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.target.join(name)
    }

    /// Moves the finished folder into place (an earlier export is moved aside and deleted).
    ///
    /// # Errors
    /// [`Error::Io`] when a rename fails (the temporary folder is then removed).
    pub fn commit(mut self) -> Result<()> {
        let tmp = self.tmp.take().expect("commit once").keep();
        let dest = self.parent.join(&self.name);
        let result = swap_in(&tmp, &dest, &self.parent, &self.name);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result.map_err(|e| Error::io(&self.target, e))
    }
}

/// Checks that a folder could be created at `path`: the first of its ancestors that exists
/// is a folder (not a file).
///
/// # Errors
/// [`Error::Io`] naming `path` and the ancestor that is a file.
pub fn check_parent(path: &Path) -> Result<()> {
    let mut up = path.parent();
    while let Some(p) = up {
        let p = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        if p.exists() {
            if !p.is_dir() {
                return Err(io_err(
                    path,
                    format!("its parent {} is a file, not a folder", p.display()),
                ));
            }
            break;
        }
        up = p.parent();
    }
    Ok(())
}

/// Checks, before any work, that an export to `target` could be written: no ancestor is a
/// file, `target` is not a link, and it is absent, an empty folder or an earlier export.
///
/// # Errors
/// As [`FolderWriter::begin`].
pub fn check_target(target: &Path) -> Result<()> {
    check_parent(target)?;
    if std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io_err(
            target,
            "is a symbolic link; export to the folder itself",
        ));
    }
    if target.exists() {
        if !target.is_dir() {
            return Err(io_err(target, "exists and is not a folder"));
        }
        if let Some(what) = foreign_content(target)? {
            return Err(io_err(
                target,
                format!(
                    "exists and is not an export of adjoint ({what}); export to a new or empty folder"
                ),
            ));
        }
    }
    Ok(())
}

/// `rename(tmp → dest)`, moving an existing `dest` aside first; retried when a concurrent
/// export puts a folder at `dest` in between.
fn swap_in(tmp: &Path, dest: &Path, parent: &Path, name: &str) -> std::io::Result<()> {
    for _ in 0..16 {
        let old = if dest.exists() {
            let aside = tempdir_in(
                parent,
                &format!(".{name}.adjoint-old.{}.", std::process::id()),
            )?
            .keep();
            // rename over the empty placeholder folder
            match std::fs::rename(dest, &aside) {
                Ok(()) => {
                    // what was moved aside may have appeared after the check in `begin`: a
                    // folder that is not an export goes back untouched
                    let foreign = foreign_content(&aside).map_err(std::io::Error::other)?;
                    if let Some(what) = foreign {
                        let _ = std::fs::rename(&aside, dest);
                        return Err(std::io::Error::other(format!(
                            "appeared during the export and is not an export of adjoint ({what}); left untouched"
                        )));
                    }
                    Some(aside)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let _ = std::fs::remove_dir(&aside);
                    None
                }
                Err(e) => {
                    let _ = std::fs::remove_dir(&aside);
                    return Err(e);
                }
            }
        } else {
            None
        };
        match std::fs::rename(tmp, dest) {
            Ok(()) => {
                if let Some(old) = old {
                    let _ = std::fs::remove_dir_all(old);
                }
                return Ok(());
            }
            // another export got there first: move that one aside too, and try again
            Err(_) if dest.exists() => {
                if let Some(old) = old {
                    let _ = std::fs::remove_dir_all(old);
                }
            }
            Err(e) => {
                if let Some(old) = old {
                    let _ = std::fs::rename(&old, dest);
                }
                return Err(e);
            }
        }
    }
    Err(std::io::Error::other(
        "other exports keep replacing this folder",
    ))
}

/// `None` when `dir` may be replaced (empty, or an earlier export holding only export
/// files); otherwise what makes it foreign.
fn foreign_content(dir: &Path) -> Result<Option<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if !is_file {
            return Ok(Some(format!("it holds the folder or link {name:?}")));
        }
        names.push(name);
    }
    if names.is_empty() {
        return Ok(None);
    }
    let marked = names.iter().any(|n| n == MARKER);
    let legacy = names.iter().any(|n| n == "summary.md") && known_kind(&dir.join("problem.json"));
    if !(marked || legacy) {
        return Ok(Some(format!(
            "it holds {:?} and no export marker",
            names[0]
        )));
    }
    let export_file = |n: &str| {
        n == MARKER
            || n == "problem.json"
            || n == "summary.md"
            || [".mtx", ".svg", ".png"].iter().any(|e| n.ends_with(e))
    };
    Ok(names
        .iter()
        .find(|n| !export_file(n))
        .map(|n| format!("it holds {n:?}, which an export does not write")))
}

fn known_kind(problem_json: &Path) -> bool {
    crate::resources::read_text(problem_json)
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|j| j.get("kind")?.as_str().map(|k| KINDS.contains(&k)))
        .unwrap_or(false)
}

/// Removes `.NAME.adjoint-tmp.PID.*` and `.NAME.adjoint-old.PID.*` of processes that are gone.
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let rest = [".adjoint-tmp.", ".adjoint-old."]
            .iter()
            .find_map(|tag| file.strip_prefix(&format!(".{name}{tag}")));
        let Some(pid) = rest.and_then(|r| r.split('.').next()?.parse::<u32>().ok()) else {
            continue;
        };
        if !process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

/// A new folder `prefix` + unique characters in `parent`, mode `0777` masked by the umask.
fn tempdir_in(parent: &Path, prefix: &str) -> std::io::Result<crate::tempfs::TempPath> {
    crate::tempfs::new_dir_in(parent, prefix)
}
