//! The optimality-criteria loop of the 88-line code, around the adjoint engine.
//!
//! Per iteration `k`: evaluate the compliance `c_k = Fᵀu` and its gradient `dc = dL/dx_phys`
//! (the engine's adjoint), `dv = 1`; filter (`ft = 1`, sensitivities:
//! `dc ← H(x∘dc)/Hs/max(10⁻³, x)`; `ft = 2`, densities: `dc ← H(dc/Hs)`, `dv ← H(dv/Hs)`);
//! then bisect the Lagrange multiplier of the volume constraint, with `l1 = 0`, `l2 = 10⁹`,
//! while `(l2 − l1)/(l1 + l2) > 10⁻³`:
//!
//! ```text
//!     lmid  = (l1 + l2)/2
//!     x_new = max(0, max(x − 0.2, min(1, min(x + 0.2, x·√(−dc/dv/lmid)))))
//!     x_phys = x_new (ft = 1)  or  H x_new / Hs (ft = 2)
//!     l1 = lmid if Σ x_phys > volfrac·n_e, else l2 = lmid
//! ```
//!
//! and `change_k = max|x_new − x|`, `x = x_new`; stop when `change ≤ 0.01` or after `maxit`
//! iterations. The square roots are taken once per iteration, `x·√(−dc/dv/lmid) =
//! (x·√(−dc/dv)) · (1/√lmid)`; a bisection step is then a multiply and four comparisons per
//! element.

use super::{Filter, MbbBeam};
use crate::solve::SolverOptions;
use crate::{AdjointWorkspace, Error, Result, SolverKind};
use std::time::{Duration, Instant};

/// Which filter (the paper's `ft`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// `ft = 1`: sensitivity filter.
    Sensitivity,
    /// `ft = 2`: density filter.
    Density,
}

impl FilterKind {
    /// From the paper's `ft` (1 or 2).
    ///
    /// # Errors
    /// [`Error::Invalid`] for another number.
    pub fn from_ft(ft: u32) -> Result<Self> {
        match ft {
            1 => Ok(FilterKind::Sensitivity),
            2 => Ok(FilterKind::Density),
            _ => Err(Error::invalid(
                "ft",
                format!("the filter must be 1 (sensitivity) or 2 (density), got {ft}"),
            )),
        }
    }

    /// The paper's `ft`.
    pub fn ft(self) -> u32 {
        match self {
            FilterKind::Sensitivity => 1,
            FilterKind::Density => 2,
        }
    }
}

/// The optimizer's settings (the paper's defaults: `volfrac = 0.5`, `rmin = 2.4`, `ft = 1`).
#[derive(Debug, Clone, PartialEq)]
pub struct OcOptions {
    /// Volume fraction, in `(0, 1]`.
    pub volfrac: f64,
    /// Filter radius in element widths, `> 0`.
    pub rmin: f64,
    /// Sensitivity or density filter.
    pub filter: FilterKind,
    /// Iteration limit.
    pub maxit: usize,
    /// The solver of `K u = F` (and of the adjoint).
    pub solver: SolverOptions,
}

impl Default for OcOptions {
    fn default() -> Self {
        OcOptions {
            volfrac: 0.5,
            rmin: 2.4,
            filter: FilterKind::Sensitivity,
            maxit: 1000,
            solver: SolverKind::Auto.into(),
        }
    }
}

impl OcOptions {
    /// Checks the ranges.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the setting.
    pub fn validate(&self) -> Result<()> {
        if !(self.volfrac > 0.0 && self.volfrac <= 1.0) {
            return Err(Error::invalid(
                "volfrac",
                format!(
                    "the volume fraction must lie in (0, 1], got {}",
                    self.volfrac
                ),
            ));
        }
        if !(self.rmin.is_finite() && self.rmin > 0.0) {
            return Err(Error::invalid(
                "rmin",
                format!(
                    "the filter radius must be a positive number, got {}",
                    self.rmin
                ),
            ));
        }
        if self.maxit == 0 {
            return Err(Error::invalid("maxit", "at least one iteration is needed"));
        }
        Ok(())
    }
}

/// What one iteration reports to the callback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    /// 0-based iteration number.
    pub index: usize,
    /// Compliance at the start of the iteration (before its update).
    pub compliance: f64,
    /// Mean `x_phys` after the update.
    pub volume: f64,
    /// `max |x_new − x|`.
    pub change: f64,
}

/// Time of one iteration, by phase.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Assembling `K` and `∂f/∂θ` (and the objective's partials).
    pub assemble: Duration,
    /// Numeric factorization of `K`.
    pub factor: Duration,
    /// State and adjoint solves.
    pub solve: Duration,
    /// `(∂f/∂θ)ᵀλ`.
    pub sensitivity: Duration,
    /// Filtering.
    pub filter: Duration,
    /// The optimality-criteria update.
    pub update: Duration,
    /// The whole iteration.
    pub total: Duration,
}

/// The optimizer's result.
#[derive(Debug, Clone)]
pub struct TopOptResult {
    /// The final physical densities (element order).
    pub x_phys: Vec<f64>,
    /// Per iteration: compliance before the update, mean `x_phys` after, change.
    pub history: Vec<Iteration>,
    /// Per iteration, by phase.
    pub times: Vec<PhaseTimes>,
    /// The set-up (mesh, filter, symbolic analysis), not part of any iteration.
    pub setup: Duration,
    /// The solver that ran (`cholesky`, `ldlt`, …).
    pub solver: String,
}

impl TopOptResult {
    /// Iterations run.
    pub fn iterations(&self) -> usize {
        self.history.len()
    }
    /// The compliance of the last iteration (the paper's printed result).
    pub fn compliance(&self) -> f64 {
        self.history.last().map_or(f64::NAN, |i| i.compliance)
    }
    /// Mean seconds per iteration (set-up excluded).
    pub fn seconds_per_iteration(&self) -> f64 {
        let total: Duration = self.times.iter().map(|t| t.total).sum();
        total.as_secs_f64() / self.times.len().max(1) as f64
    }
}

/// Runs the paper's optimizer on `beam`, calling `callback` after every iteration.
///
/// # Errors
/// Invalid options; a solver failure (a singular `K`).
pub fn optimize(
    beam: &MbbBeam,
    options: &OcOptions,
    mut callback: impl FnMut(&Iteration),
) -> Result<TopOptResult> {
    options.validate()?;
    let setup_start = Instant::now();
    let n = beam.n_elements();
    let filter = Filter::new(beam.nelx(), beam.nely(), options.rmin);
    let hs = filter.row_sums().to_vec();
    let mut ws = AdjointWorkspace::new(beam, options.solver)?;
    let setup = setup_start.elapsed();

    let volfrac = options.volfrac;
    let mut x = vec![volfrac; n];
    let mut x_phys = x.clone();
    let mut x_new = vec![0.0; n];
    let mut dc = vec![0.0; n];
    let mut dv = vec![1.0; n];
    let mut scratch = vec![0.0; n];
    let ones = vec![1.0; n];
    let mut dv_filtered = vec![0.0; n];
    if options.filter == FilterKind::Density {
        // dv ← H(dv/Hs) does not change between iterations
        let w: Vec<f64> = ones.iter().zip(&hs).map(|(o, h)| o / h).collect();
        filter.apply(&w, &mut dv_filtered);
    }
    let mut history = Vec::new();
    let mut times = Vec::new();
    let mut change = 1.0;
    while change > 0.01 && history.len() < options.maxit {
        let start = Instant::now();
        let compliance = ws.evaluate(beam, &x_phys)?;
        let t = ws.timings();
        let mut phase = PhaseTimes {
            assemble: t.assemble,
            factor: t.factor,
            solve: t.state_solve + t.adjoint_solve,
            sensitivity: t.gradient,
            ..PhaseTimes::default()
        };
        let t_filter = Instant::now();
        match options.filter {
            FilterKind::Sensitivity => {
                for ((s, &xe), &g) in scratch.iter_mut().zip(&x).zip(ws.gradient()) {
                    *s = xe * g;
                }
                filter.apply(&scratch, &mut dc);
                for ((d, &h), &xe) in dc.iter_mut().zip(&hs).zip(&x) {
                    *d /= h * xe.max(1e-3);
                }
                dv.copy_from_slice(&ones);
            }
            FilterKind::Density => {
                for ((s, &g), &h) in scratch.iter_mut().zip(ws.gradient()).zip(&hs) {
                    *s = g / h;
                }
                filter.apply(&scratch, &mut dc);
                dv.copy_from_slice(&dv_filtered);
            }
        }
        phase.filter = t_filter.elapsed();
        let t_update = Instant::now();
        let (mut l1, mut l2) = (0.0_f64, 1e9_f64);
        let target = volfrac * n as f64;
        // x·√(−dc/dv/lmid) = (x·√(−dc/dv)) / √lmid: the square roots once, not per bisection
        for ((q, &xe), (&d, &v)) in scratch.iter_mut().zip(&x).zip(dc.iter().zip(&dv)) {
            *q = xe * (-d / v).sqrt();
        }
        while (l2 - l1) / (l1 + l2) > 1e-3 {
            let lmid = 0.5 * (l1 + l2);
            let scale = 1.0 / lmid.sqrt();
            for ((xn, &xe), &q) in x_new.iter_mut().zip(&x).zip(&scratch) {
                *xn = 0.0_f64.max((xe - 0.2).max(1.0_f64.min((xe + 0.2).min(q * scale))));
            }
            let volume = match options.filter {
                FilterKind::Sensitivity => x_new.iter().sum::<f64>(),
                FilterKind::Density => {
                    filter.apply(&x_new, &mut x_phys);
                    x_phys.iter_mut().zip(&hs).for_each(|(v, h)| *v /= h);
                    x_phys.iter().sum::<f64>()
                }
            };
            if volume > target {
                l1 = lmid;
            } else {
                l2 = lmid;
            }
        }
        if options.filter == FilterKind::Sensitivity {
            x_phys.copy_from_slice(&x_new);
        }
        change = x_new
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        std::mem::swap(&mut x, &mut x_new);
        phase.update = t_update.elapsed();
        phase.total = start.elapsed();
        let it = Iteration {
            index: history.len(),
            compliance,
            volume: x_phys.iter().sum::<f64>() / n as f64,
            change,
        };
        callback(&it);
        history.push(it);
        times.push(phase);
    }
    Ok(TopOptResult {
        x_phys,
        history,
        times,
        setup,
        solver: ws.solver().name().to_string(),
    })
}
