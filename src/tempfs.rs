//! Temporary files and folders next to their destination, removed unless kept.
//!
//! Written by hand instead of using the `tempfile` crate, which brought five crates into the
//! library's tree for three calls. Exports need exactly this: a new, uniquely named entry in a
//! given folder, created exclusively (`create_new` / `mkdir`, so two processes never share
//! one) with the usual modes (`0666` / `0777` masked by the umask: exports are meant to be
//! read by others), removed on drop unless [`TempPath::keep`] or [`TempPath::persist`] took
//! it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary file or folder, removed (recursively for a folder) when dropped.
#[derive(Debug)]
pub(crate) struct TempPath {
    path: PathBuf,
    folder: bool,
    kept: bool,
}

/// `prefix` + process id + a per-process counter + clock bits + `suffix`.
fn unique_name(prefix: &str, suffix: &str, attempt: u32) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}-{count}-{:08x}{suffix}",
        std::process::id(),
        nanos ^ attempt.rotate_left(16)
    )
}

/// Tries `create` on fresh names until one does not exist yet.
fn create_unique(
    dir: &Path,
    prefix: &str,
    suffix: &str,
    mut create: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<PathBuf> {
    for attempt in 0..64 {
        let path = dir.join(unique_name(prefix, suffix, attempt));
        match create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no unused temporary name after 64 attempts",
    ))
}

/// A new file `prefix…suffix` in `dir`, opened for writing.
pub(crate) fn new_file_in(dir: &Path, prefix: &str, suffix: &str) -> io::Result<(File, TempPath)> {
    let mut file = None;
    let path = create_unique(dir, prefix, suffix, |p| {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o666);
        }
        file = Some(o.open(p)?);
        Ok(())
    })?;
    let file = file.expect("created");
    Ok((
        file,
        TempPath {
            path,
            folder: false,
            kept: false,
        },
    ))
}

/// A new, empty folder `prefix…` in `parent`.
pub(crate) fn new_dir_in(parent: &Path, prefix: &str) -> io::Result<TempPath> {
    let path = create_unique(parent, prefix, "", |p| {
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o777);
        }
        b.create(p)
    })?;
    Ok(TempPath {
        path,
        folder: true,
        kept: false,
    })
}

impl TempPath {
    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps it (no removal on drop) and returns its path.
    pub(crate) fn keep(mut self) -> PathBuf {
        self.kept = true;
        std::mem::take(&mut self.path)
    }

    /// Renames it to `dest` (replacing a file there); on failure it is removed.
    pub(crate) fn persist(self, dest: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, dest)?;
        self.keep();
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.kept {
            let _ = if self.folder {
                std::fs::remove_dir_all(&self.path)
            } else {
                std::fs::remove_file(&self.path)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_unique_removed_on_drop_and_kept_on_request() {
        let dir = std::env::temp_dir().join(unique_name("adjoint-tempfs-test.", "", 0));
        std::fs::create_dir(&dir).unwrap();
        let (_, a) = new_file_in(&dir, ".a.", ".tmp").unwrap();
        let (_, b) = new_file_in(&dir, ".a.", ".tmp").unwrap();
        assert_ne!(a.path(), b.path());
        let (pa, pb) = (a.path().to_path_buf(), b.path().to_path_buf());
        drop(a);
        assert!(!pa.exists() && pb.exists());
        b.persist(&dir.join("final")).unwrap();
        assert!(dir.join("final").is_file() && !pb.exists());
        let d = new_dir_in(&dir, ".d.").unwrap();
        std::fs::write(d.path().join("x"), b"x").unwrap();
        let pd = d.path().to_path_buf();
        drop(d);
        assert!(!pd.exists());
        let kept = new_dir_in(&dir, ".d.").unwrap().keep();
        assert!(kept.is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
