//! Shared output helpers: timing medians and JSON pieces.

use adjoint::Timings;
use serde_json::{json, Value};
use sprs::CsMat;
use std::time::Duration;

/// Per-phase medians over several evaluations.
pub fn median_timings(all: &[Timings]) -> Timings {
    let med = |f: fn(&Timings) -> Duration| {
        let mut v: Vec<Duration> = all.iter().map(f).collect();
        v.sort();
        match v.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2,
        }
    };
    Timings {
        state_solve: med(|t| t.state_solve),
        assemble: med(|t| t.assemble),
        factor: med(|t| t.factor),
        adjoint_solve: med(|t| t.adjoint_solve),
        gradient: med(|t| t.gradient),
        total: med(|t| t.total),
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn timings_json(t: &Timings) -> Value {
    json!({
        "state_solve": ms(t.state_solve),
        "assemble": ms(t.assemble),
        "factor": ms(t.factor),
        "adjoint_solve": ms(t.adjoint_solve),
        "gradient": ms(t.gradient),
        "total": ms(t.total),
    })
}

pub fn shape_json(m: &CsMat<f64>) -> Value {
    json!({ "rows": m.rows(), "cols": m.cols(), "nnz": m.nnz() })
}

pub fn timings_text(t: &Timings, repeat: usize) -> String {
    format!(
        "timings (median of {repeat}): state solve {:.3} ms, assemble {:.3} ms, factor {:.3} ms, \
         adjoint solve {:.3} ms, gradient {:.3} ms, total {:.3} ms",
        ms(t.state_solve),
        ms(t.assemble),
        ms(t.factor),
        ms(t.adjoint_solve),
        ms(t.gradient),
        ms(t.total)
    )
}

/// Refuses a run that would need more memory than this process may use, with a clear message
/// instead of an allocation failure (`bytes` is an estimate).
pub fn ensure_memory(what: &str, bytes: f64) -> anyhow::Result<()> {
    if let Some((avail, source)) = memory_limit() {
        if bytes > avail {
            anyhow::bail!(
                "{what} needs about {:.1} GB of memory, but only {:.1} GB are available ({source})",
                bytes / 1e9,
                avail / 1e9
            );
        }
    }
    Ok(())
}

/// The least of what the host has available (`MemAvailable`), the process's address-space
/// limit (`RLIMIT_AS`) and its cgroup's limit (v2 `memory.max − memory.current`, or v1
/// `memory.limit_in_bytes − memory.usage_in_bytes`), in bytes, with where it comes from.
pub fn memory_limit() -> Option<(f64, &'static str)> {
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

#[cfg(unix)]
fn address_space_limit() -> Option<f64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } == 0;
    (ok && r.rlim_cur != libc::RLIM_INFINITY).then_some(r.rlim_cur as f64)
}

#[cfg(not(unix))]
fn address_space_limit() -> Option<f64> {
    None
}

fn cgroup_limit() -> Option<f64> {
    let read = |p: &str| -> Option<f64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    // the process's own cgroup (v2: one line "0::/path")
    let own = std::fs::read_to_string("/proc/self/cgroup").ok();
    let v2_path = own
        .as_deref()
        .and_then(|c| c.lines().find_map(|l| l.strip_prefix("0::")))
        .map(|p| format!("/sys/fs/cgroup{}", p.trim_end_matches('/')));
    if let Some(dir) = v2_path {
        if let Some(max) = read(&format!("{dir}/memory.max")) {
            let used = read(&format!("{dir}/memory.current")).unwrap_or(0.0);
            return Some((max - used).max(0.0));
        }
    }
    // v1: the memory controller's line "k:memory:/path"
    let v1_path = own
        .as_deref()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_string()))
        })
        .unwrap_or_default();
    let dir = format!("/sys/fs/cgroup/memory{}", v1_path.trim_end_matches('/'));
    let max = read(&format!("{dir}/memory.limit_in_bytes"))?;
    // v1 reports "no limit" as a huge number
    if max >= 1e18 {
        return None;
    }
    let used = read(&format!("{dir}/memory.usage_in_bytes")).unwrap_or(0.0);
    Some((max - used).max(0.0))
}
