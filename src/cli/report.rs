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

/// Refuses a run that would need more memory than this process may use
/// ([`adjoint::resources::ensure_memory`]).
pub fn ensure_memory(what: &str, bytes: f64) -> anyhow::Result<()> {
    Ok(adjoint::resources::ensure_memory(what, bytes)?)
}

/// A number as written (`0.01`, `3`), or in exponent form when that is long (`1e300`).
pub fn num(x: f64) -> String {
    let s = format!("{x}");
    if s.len() > 12 {
        format!("{x:e}")
    } else {
        s
    }
}
