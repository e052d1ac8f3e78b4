//! How much memory this process may still use, so that inputs which claim more than that are
//! refused with one line instead of an allocation failure or the kernel's OOM killer.
//!
//! The limit is the least of
//!
//! - what the host has available (`MemAvailable` in `/proc/meminfo`),
//! - what is left of the process's address-space limit (`RLIMIT_AS`, `ulimit -v`) beyond the
//!   address space it already uses,
//! - its cgroup's limit minus what the cgroup already uses (v2 `memory.max − memory.current`,
//!   v1 `memory.limit_in_bytes − memory.usage_in_bytes`),
//!
//! and unknown (no refusal) where none of them can be read.

use crate::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Largest text file (JSON: network files, `problem.json`) read into memory: 64 MiB, far
/// above any real one (200,000 layers take 10 MB), so `/dev/zero` or a runaway file is an
/// error, not an unbounded allocation.
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// Reads a text file of at most [`MAX_TEXT_BYTES`], without a leading UTF-8 byte-order mark.
/// `Ok(None)` when the file does not exist.
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::Parse`] when it is larger or not UTF-8.
pub fn read_text(path: &Path) -> Result<Option<String>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    let parse = |message: String| Error::Parse {
        path: path.to_path_buf(),
        line: 0,
        message,
    };
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Err(parse(format!(
            "larger than {} MiB, not a file this tool reads",
            MAX_TEXT_BYTES >> 20
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| parse("not UTF-8 text".into()))?;
    Ok(Some(match text.strip_prefix('\u{feff}') {
        Some(t) => t.to_string(),
        None => text,
    }))
}

/// [`read_text`] for a file that must exist.
///
/// # Errors
/// As [`read_text`], and [`Error::Io`] (not found) when it does not exist.
pub fn read_required_text(path: &Path) -> Result<String> {
    read_text(path)?.ok_or_else(|| {
        Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
        )
    })
}

/// The memory this process may still use, in bytes, and which limit that is; `None` when no
/// limit can be read (then nothing is refused).
pub fn available_memory() -> Option<(f64, &'static str)> {
    let mut limits: Vec<(f64, &'static str)> = Vec::new();
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
    });
    if let Some(kb) = meminfo {
        limits.push((kb * 1024.0, "host memory"));
    }
    if let Some(b) = address_space_limit() {
        limits.push((b, "the process's address-space limit, ulimit -v"));
    }
    if let Some(b) = cgroup_limit() {
        limits.push((b, "the cgroup's memory limit"));
    }
    limits.into_iter().min_by(|a, b| a.0.total_cmp(&b.0))
}

/// Refuses a task that needs about `bytes` of memory when less is available.
///
/// # Errors
/// [`Error::OutOfMemory`] naming `what`, the estimate and the limit.
pub fn ensure_memory(what: &str, bytes: f64) -> Result<()> {
    match available_memory() {
        Some((available, limit)) if bytes > available => Err(Error::OutOfMemory {
            what: what.to_string(),
            needed: bytes,
            available,
            limit: limit.to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn address_space_limit() -> Option<f64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct that we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } == 0;
    if !ok || r.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    // what is left: the limit minus the address space already in use (/proc/self/statm's
    // first field, in pages)
    // SAFETY: sysconf only reads a configuration value.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as f64;
    let used = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * page);
    Some((r.rlim_cur as f64 - used).max(0.0))
}

#[cfg(not(unix))]
fn address_space_limit() -> Option<f64> {
    None
}

fn cgroup_limit() -> Option<f64> {
    let read = |p: &str| -> Option<f64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    // v2: the line "0::/path"
    if let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::")) {
        let dir = format!("/sys/fs/cgroup{}", path.trim().trim_end_matches('/'));
        if let Some(max) = read(&format!("{dir}/memory.max")) {
            let used = read(&format!("{dir}/memory.current")).unwrap_or(0.0);
            return Some((max - used).max(0.0));
        }
    }
    // v1: the memory controller's line "k:memory:/path"
    let path = own
        .lines()
        .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.trim()))?;
    let dir = format!("/sys/fs/cgroup/memory{}", path.trim_end_matches('/'));
    let max = read(&format!("{dir}/memory.limit_in_bytes"))?;
    // v1 reports "no limit" as a number near 2⁶³
    if max >= 1e18 {
        return None;
    }
    let used = read(&format!("{dir}/memory.usage_in_bytes")).unwrap_or(0.0);
    Some((max - used).max(0.0))
}
