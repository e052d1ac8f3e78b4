//! Newton's method for the state: `f(u, θ) = 0` solved for `u` with the engine's
//! factorization of `∂f/∂u`.
//!
//! ```text
//!     J_k δ_k = −f(u_k),   u_{k+1} = u_k + α_k δ_k,   α_k = 1, ½, ¼, … until ‖f(u_{k+1})‖∞ decreases enough
//! ```
//!
//! **Stopping rule**, with no tolerance to tune: stop at the first `u_k` with
//!
//! ```text
//!     ‖f(u_k)‖∞ ≤ 64 ε ‖ |J_k| |u_k| + |f(0)| ‖∞
//! ```
//!
//! where `|J_k| |u_k|` (entrywise absolute values; after a step, `J` of the previous iterate is
//! tried first, so a converged solve ends without factorizing at its last iterate) and `|f(0)|`
//! are the sizes of the terms the
//! residual adds up: the residual cannot be computed more accurately than rounding of those
//! terms, so an absolute test (`‖f‖ ≤ 1e-10`) would never be met for `u'' / h²` at n = 10⁶, and
//! a step test can stall. The backtracking line search accepts `α` when
//! `‖f(u + αδ)‖∞ ≤ (1 − 10⁻⁴ α) ‖f(u)‖∞` (or the new residual already meets the stopping rule),
//! halving `α` at most 30 times. After [`MAX_ITERATIONS`] iterations, or a failed line search,
//! the solve stops with [`Error::NotConverged`].
//!
//! The first solve starts from [`Model::initial_state`](super::Model::initial_state); later ones
//! from the previous evaluation's state (a warm start), so an optimization loop typically needs
//! one or two iterations per step.

use crate::{Error, JacobianSolve, Result};

/// Most Newton iterations before [`Error::NotConverged`].
pub const MAX_ITERATIONS: usize = 50;

/// The multiple of `ε` in the stopping rule.
pub const STOPPING_FACTOR: f64 = 64.0;

/// Buffers of one Newton solve (kept between evaluations).
#[derive(Debug, Default)]
pub(crate) struct NewtonWork {
    pub f: Vec<f64>,
    pub f0: Vec<f64>,
    pub step: Vec<f64>,
    pub trial: Vec<f64>,
    pub zeros: Vec<f64>,
}

impl NewtonWork {
    pub fn new(n: usize) -> Self {
        NewtonWork {
            f: vec![0.0; n],
            f0: vec![0.0; n],
            step: vec![0.0; n],
            trial: vec![0.0; n],
            zeros: vec![0.0; n],
        }
    }
}

/// `max |v_i|`, NaN when any entry is NaN (`f64::max` would drop it, and a residual that is
/// NaN somewhere must never look small).
fn norm_inf(v: &[f64]) -> f64 {
    // branch-free: the largest |v_i|, and apart whether any is NaN
    let (mut m, mut nan) = (0.0f64, false);
    for x in v {
        let a = x.abs();
        nan |= a.is_nan();
        m = m.max(a);
    }
    if nan {
        f64::NAN
    } else {
        m
    }
}

/// `‖ |J| |u| + |f0| ‖∞`, or `‖f0‖∞ + ‖u‖∞` scaled by the largest entry when the matrix is
/// not available.
fn term_scale(jac: &dyn JacobianSolve, u: &[f64], f0: &[f64], scratch: &mut [f64]) -> f64 {
    match jac.jacobian() {
        Some(j) => {
            // |f(0)| where it exists: a model may be undefined at u = 0 (ln u, 1/u)
            for (s, f) in scratch.iter_mut().zip(f0) {
                *s = if f.is_finite() { f.abs() } else { 0.0 };
            }
            // raw CSC arrays: this runs once or twice per Newton iteration, for every time
            // step of an ODE march
            let (ptr, idx, val) = (j.indptr(), j.indices(), j.data());
            let ptr = ptr.raw_storage();
            let base = ptr[0];
            for (w, &uj) in ptr.windows(2).zip(u) {
                let a = uj.abs();
                for k in w[0] - base..w[1] - base {
                    scratch[idx[k]] += val[k].abs() * a;
                }
            }
            norm_inf(scratch)
        }
        None => {
            let f0_max = f0
                .iter()
                .filter(|f| f.is_finite())
                .fold(0.0f64, |m, f| m.max(f.abs()));
            f0_max + norm_inf(u)
        }
    }
}

/// Solves `f(u, θ) = 0` in place (see the module documentation); `residual(u, f)` writes
/// `f(u, θ)` (every entry: `f` holds zeros on entry). `linear`: `∂f/∂u` does not depend on
/// `u`, so it is factored once. Returns the number of Newton steps taken (0 when `u` already
/// solves it).
///
/// # Errors
/// [`Error::NotConverged`] (also for a Jacobian that becomes singular after a step); a
/// non-finite residual; whatever the first factorization reports.
pub(crate) fn solve(
    jac: &mut dyn JacobianSolve,
    u: &mut [f64],
    w: &mut NewtonWork,
    linear: bool,
    mut residual: impl FnMut(&[f64], &mut [f64]),
) -> Result<usize> {
    let eps = f64::EPSILON * STOPPING_FACTOR;
    residual(&w.zeros, &mut w.f0);
    residual(u, &mut w.f);
    crate::error::check_finite("residual f(u, theta)", &w.f)?;
    let mut norm = norm_inf(&w.f);
    // after a step, a singular Jacobian means the iteration went astray (to a turning
    // point of f, say): the solve did not converge; at the start it is the model's
    let astray = |k: usize, norm: f64, e: Error| match e {
        Error::SingularPivot { .. }
        | Error::NumericallySingular { .. }
        | Error::NonFiniteEntry { .. }
            if k > 0 =>
        {
            Error::NotConverged {
                iterations: k,
                residual: norm,
            }
        }
        e => e,
    };
    let mut tol = f64::INFINITY;
    for k in 0..MAX_ITERATIONS {
        // after a step, the last Jacobian's term sizes first: when they already show
        // convergence, no factorization at the final iterate is needed (not even tried when
        // the residual is far above the last tolerance: the term sizes do not jump 4×)
        if k > 0 && norm <= 4.0 * tol && norm <= eps * term_scale(jac, u, &w.f0, &mut w.trial) {
            return Ok(k);
        }
        // ∂f/∂u of a model linear in u is the same at every iterate: factor it once
        if k == 0 || !linear {
            jac.factor_at(u).map_err(|e| astray(k, norm, e))?;
        }
        tol = eps * term_scale(jac, u, &w.f0, &mut w.trial);
        if norm <= tol {
            return Ok(k);
        }
        // J δ = −f
        for (s, f) in w.step.iter_mut().zip(&w.f) {
            *s = -f;
        }
        jac.solve_in_place(&mut w.step)
            .map_err(|e| astray(k, norm, e))?;
        let mut alpha = 1.0;
        let mut accepted = false;
        for _ in 0..=30 {
            for ((t, &x), &d) in w.trial.iter_mut().zip(u.iter()).zip(&w.step) {
                *t = x + alpha * d;
            }
            residual(&w.trial, &mut w.f);
            let trial_norm = norm_inf(&w.f);
            if trial_norm.is_finite()
                && (trial_norm <= (1.0 - 1e-4 * alpha) * norm || trial_norm <= tol)
            {
                u.copy_from_slice(&w.trial);
                norm = trial_norm;
                accepted = true;
                break;
            }
            alpha *= 0.5;
        }
        if !accepted {
            residual(u, &mut w.f);
            return Err(Error::NotConverged {
                iterations: k + 1,
                residual: norm,
            });
        }
    }
    Err(Error::NotConverged {
        iterations: MAX_ITERATIONS,
        residual: norm,
    })
}
