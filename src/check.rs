//! Verification tools: are the hand-assembled partials right, and is the gradient right?
//!
//! - [`check_partials`]: compares the assembled `∂f/∂u`, `∂f/∂θ`, `(∂L/∂u)ᵀ`, `(∂L/∂θ)ᵀ`
//!   column by column against a reference — forward-mode dual numbers (num-dual's, not the
//!   library's own) on the problem's [`Model`] when it has one ([`AsModel`];
//!   [`Reference::Dual`], exact to rounding), central finite
//!   differences of [`Residual`] and [`Objective`](crate::problem::Objective) otherwise ([`Reference::FiniteDifferences`]).
//!   It reports the worst entries and every entry that is nonzero in the reference but missing
//!   from the assembled pattern.
//! - [`taylor_test`]: for a direction `δ`, the remainder `|L(θ + hδ) − L(θ) − h ∇L·δ|` of a
//!   correct gradient falls as `h²`; the observed order is reported (≈ 2 passes, ≈ 1 means
//!   the gradient is wrong), as pyadjoint's `taylor_test` does.
//! - [`forward_sensitivity_gradient`]: the gradient through `du/dθ = −(∂f/∂u)⁻¹ ∂f/∂θ`, one
//!   solve per parameter with the same factorization — the `O(n_u n_θ)` route the adjoint
//!   method avoids, kept as an independent check.

use crate::derived::AsModel;
use crate::problem::{AdjointProblem, Residual};
use crate::Model;
use crate::{AdjointWorkspace, Error, Result, SolverKind};
use num_dual::Dual64;

/// Which reference [`check_partials`] used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reference {
    /// Forward-mode dual numbers (one pass per column).
    Dual,
    /// Central finite differences with this step (relative to `max(1, |x|)`).
    FiniteDifferences(f64),
}

/// One entry where the assembled value and the reference differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Row (0 for a vector).
    pub row: usize,
    /// Column (the index for a vector).
    pub col: usize,
    /// The assembled value (0 when not stored).
    pub assembled: f64,
    /// The reference value.
    pub reference: f64,
    /// `|assembled − reference| / max(1, |reference|)`.
    pub error: f64,
}

/// The comparison of one matrix or vector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComparedPart {
    /// The largest error.
    pub max_error: f64,
    /// The worst entries, largest error first (at most [`WORST`]).
    pub worst: Vec<Mismatch>,
    /// Entries nonzero in the reference but absent from the assembled pattern.
    pub missing: Vec<Mismatch>,
}

/// How many worst entries are kept.
pub const WORST: usize = 5;

impl ComparedPart {
    fn note(&mut self, m: Mismatch, stored: bool, tol: f64) {
        if !stored && m.reference.abs() > tol {
            self.missing.push(m.clone());
        }
        self.max_error = self.max_error.max(m.error);
        if m.error > 0.0
            && (self.worst.len() < WORST || m.error > self.worst.last().map_or(0.0, |w| w.error))
        {
            self.worst.push(m);
            self.worst.sort_by(|a, b| b.error.total_cmp(&a.error));
            self.worst.truncate(WORST);
        }
    }
    /// Whether every error is within `tol` and nothing is missing.
    pub fn passes(&self, tol: f64) -> bool {
        self.max_error <= tol && self.missing.is_empty()
    }
}

/// The result of [`check_partials`].
#[derive(Debug, Clone, PartialEq)]
pub struct PartialsReport {
    /// The reference used.
    pub reference: Reference,
    /// The tolerance applied by [`passes`](Self::passes).
    pub tolerance: f64,
    /// `∂f/∂u`.
    pub dfdu: ComparedPart,
    /// `∂f/∂θ`.
    pub dfdtheta: ComparedPart,
    /// `(∂L/∂u)ᵀ`.
    pub dl_du: ComparedPart,
    /// `(∂L/∂θ)ᵀ`.
    pub dl_dtheta: ComparedPart,
}

impl PartialsReport {
    /// Whether all four parts are within tolerance and no entry is missing.
    pub fn passes(&self) -> bool {
        [&self.dfdu, &self.dfdtheta, &self.dl_du, &self.dl_dtheta]
            .iter()
            .all(|p| p.passes(self.tolerance))
    }

    /// A readable report.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let reference = match self.reference {
            Reference::Dual => "forward-mode dual numbers".to_string(),
            Reference::FiniteDifferences(h) => format!("central finite differences, h = {h:e}"),
        };
        let _ = writeln!(s, "reference: {reference}; tolerance {:e}", self.tolerance);
        for (name, p) in [
            ("df/du", &self.dfdu),
            ("df/dtheta", &self.dfdtheta),
            ("dL/du", &self.dl_du),
            ("dL/dtheta", &self.dl_dtheta),
        ] {
            let verdict = if p.passes(self.tolerance) {
                "ok"
            } else {
                "FAILED"
            };
            let _ = writeln!(
                s,
                "  {name:<10} {verdict:<6} max error {:.2e}, {} missing from the pattern",
                p.max_error,
                p.missing.len()
            );
            for m in p.worst.iter().take(3) {
                let _ = writeln!(
                    s,
                    "    ({}, {}): assembled {:e}, reference {:e}, error {:.2e}",
                    m.row, m.col, m.assembled, m.reference, m.error
                );
            }
            for m in p.missing.iter().take(WORST) {
                let _ = writeln!(
                    s,
                    "    missing ({}, {}): reference {:e}",
                    m.row, m.col, m.reference
                );
            }
        }
        s
    }
}

fn column_of(m: &sprs::CsMat<f64>, j: usize, n: usize, dense: &mut [f64], stored: &mut [bool]) {
    dense[..n].fill(0.0);
    stored[..n].fill(false);
    if let Some(col) = m.outer_view(j) {
        for (i, &v) in col.iter() {
            dense[i] = v;
            stored[i] = true;
        }
    }
}

fn compare_column(
    part: &mut ComparedPart,
    j: usize,
    assembled: &[f64],
    stored: &[bool],
    reference: &[f64],
    tol: f64,
) {
    for (i, ((&a, &s), &r)) in assembled.iter().zip(stored).zip(reference).enumerate() {
        let error = (a - r).abs() / r.abs().max(1.0);
        part.note(
            Mismatch {
                row: i,
                col: j,
                assembled: a,
                reference: r,
                error,
            },
            s,
            tol,
        );
    }
}

/// One column of the reference: `(∂f/∂x_k, ∂L/∂x_k)` for `x = u` or `x = θ`.
trait ColumnReference {
    fn column(&self, wrt_theta: bool, k: usize, df: &mut [f64]) -> Result<f64>;
}

struct DualRef<'a, M> {
    model: &'a M,
    u: &'a [f64],
    theta: &'a [f64],
}

impl<M: Model> ColumnReference for DualRef<'_, M> {
    fn column(&self, wrt_theta: bool, k: usize, df: &mut [f64]) -> Result<f64> {
        let seed = |v: &[f64], on: bool| -> Vec<Dual64> {
            v.iter()
                .enumerate()
                .map(|(i, &x)| Dual64::new(x, if on && i == k { 1.0 } else { 0.0 }))
                .collect()
        };
        let (u, t) = (seed(self.u, !wrt_theta), seed(self.theta, wrt_theta));
        let mut f = vec![Dual64::from(0.0); self.u.len()];
        self.model.residual(&u, &t, &mut f);
        for (d, fi) in df.iter_mut().zip(&f) {
            *d = fi.eps;
        }
        Ok(self.model.objective(&u, &t).eps)
    }
}

struct FdRef<'a, P> {
    p: &'a P,
    u: &'a [f64],
    theta: &'a [f64],
    h: f64,
}

impl<P: Residual + crate::Objective> ColumnReference for FdRef<'_, P> {
    fn column(&self, wrt_theta: bool, k: usize, df: &mut [f64]) -> Result<f64> {
        let (mut u, mut t) = (self.u.to_vec(), self.theta.to_vec());
        let x = if wrt_theta { t[k] } else { u[k] };
        let h = self.h * x.abs().max(1.0);
        let mut eval = |v: f64, f: &mut [f64]| -> Result<f64> {
            if wrt_theta {
                t[k] = v
            } else {
                u[k] = v
            }
            self.p.residual(&u, &t, f)?;
            self.p.objective(&u, &t)
        };
        let mut fp = vec![0.0; self.u.len()];
        let mut fm = vec![0.0; self.u.len()];
        let lp = eval(x + h, &mut fp)?;
        let lm = eval(x - h, &mut fm)?;
        for ((d, a), b) in df.iter_mut().zip(&fp).zip(&fm) {
            *d = (a - b) / (2.0 * h);
        }
        Ok((lp - lm) / (2.0 * h))
    }
}

fn compare<R: ColumnReference>(
    ws: &AdjointWorkspace,
    r: &R,
    reference: Reference,
    tol: f64,
) -> Result<PartialsReport> {
    let (n_u, n_t) = (ws.u().len(), ws.gradient().len());
    let mut report = PartialsReport {
        reference,
        tolerance: tol,
        dfdu: ComparedPart::default(),
        dfdtheta: ComparedPart::default(),
        dl_du: ComparedPart::default(),
        dl_dtheta: ComparedPart::default(),
    };
    let mut df = vec![0.0; n_u];
    let mut dense = vec![0.0; n_u];
    let mut stored = vec![false; n_u];
    for (wrt_theta, n, m) in [(false, n_u, ws.dfdu()), (true, n_t, ws.dfdtheta())] {
        for k in 0..n {
            let dl = r.column(wrt_theta, k, &mut df)?;
            column_of(m, k, n_u, &mut dense, &mut stored);
            let (part, vpart, vec) = if wrt_theta {
                (&mut report.dfdtheta, &mut report.dl_dtheta, ws.dl_dtheta())
            } else {
                (&mut report.dfdu, &mut report.dl_du, ws.dl_du())
            };
            compare_column(part, k, &dense, &stored, &df, tol);
            let error = (vec[k] - dl).abs() / dl.abs().max(1.0);
            vpart.note(
                Mismatch {
                    row: 0,
                    col: k,
                    assembled: vec[k],
                    reference: dl,
                    error,
                },
                true,
                tol,
            );
        }
    }
    Ok(report)
}

/// Checks the assembled partials of `problem` at `θ` (at its state `u(θ)`) against dual
/// numbers run through its [`Model`].
///
/// # Errors
/// Whatever evaluating the problem reports.
///
/// # Complexity
/// `n_u + n_θ` residual evaluations on dual numbers.
pub fn check_partials<P: AdjointProblem + AsModel>(
    problem: &P,
    theta: &[f64],
) -> Result<PartialsReport> {
    let mut ws = AdjointWorkspace::new(problem, SolverKind::Auto)?;
    ws.evaluate(problem, theta)?;
    let u = ws.u().to_vec();
    compare(
        &ws,
        &DualRef {
            model: &problem.model(),
            u: &u,
            theta,
        },
        Reference::Dual,
        1e-10,
    )
}

/// Checks the assembled partials against central finite differences with relative step `h`
/// (for problems without dual-number support). The tolerance is `10 (h² + ε/h)` (truncation
/// plus rounding) times the problem's scale `max(1, |L|, ‖u‖∞, ‖θ‖∞)`, clamped to
/// `[1e-8, FD_MAX_RELATIVE_TOLERANCE]` times that scale: it never grows without bound.
///
/// # Errors
/// [`Error::Invalid`] for a step outside [`FD_STEP_RANGE`]; whatever evaluating the problem
/// reports.
///
/// # Complexity
/// `2 (n_u + n_θ)` residual and objective evaluations.
pub fn check_partials_fd<P: AdjointProblem + Residual>(
    problem: &P,
    theta: &[f64],
    h: f64,
) -> Result<PartialsReport> {
    let (lo, hi) = FD_STEP_RANGE;
    if !(lo..=hi).contains(&h) {
        return Err(Error::invalid(
            "finite-difference step",
            format!("the relative step must lie in [{lo:e}, {hi:e}], got {h:e}"),
        ));
    }
    let mut ws = AdjointWorkspace::new(problem, SolverKind::Auto)?;
    ws.evaluate(problem, theta)?;
    let u = ws.u().to_vec();
    // truncation O(h²) plus rounding O(ε·scale/h), with the size of the numbers involved
    let inf_norm = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = 1f64
        .max(ws.objective().abs())
        .max(inf_norm(&u))
        .max(inf_norm(theta));
    // bounded: never looser than 1e-2 · scale, whatever the step
    let tol = scale * (10.0 * (h * h + f64::EPSILON / h)).clamp(1e-8, FD_MAX_RELATIVE_TOLERANCE);
    compare(
        &ws,
        &FdRef {
            p: problem,
            u: &u,
            theta,
            h,
        },
        Reference::FiniteDifferences(h),
        tol,
    )
}

/// The relative steps [`check_partials_fd`] accepts: below `1e-12` rounding swamps the
/// difference (at `1e-20`, `x + h == x` and the reference is all zeros), above `1e-1`
/// truncation does.
pub const FD_STEP_RANGE: (f64, f64) = (1e-12, 1e-1);

/// The loosest tolerance of [`check_partials_fd`], relative to the problem's scale
/// `max(1, |L|, ‖u‖∞, ‖θ‖∞)`; the tolerance `10 (h² + ε/h)` is clamped to it.
pub const FD_MAX_RELATIVE_TOLERANCE: f64 = 1e-2;

/// The result of [`taylor_test`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaylorReport {
    /// The steps `h`.
    pub steps: Vec<f64>,
    /// `|L(θ + hδ) − L(θ) − h ∇L·δ|` for each step.
    pub remainders: Vec<f64>,
    /// `log(r_k / r_{k+1}) / log(h_k / h_{k+1})` between consecutive steps.
    pub orders: Vec<f64>,
}

impl TaylorReport {
    /// The smallest observed order (≈ 2 for a correct gradient); NaN when any order is NaN
    /// (e.g. two zero remainders, or a NaN objective).
    pub fn min_order(&self) -> f64 {
        self.orders.iter().copied().fold(f64::INFINITY, |m, o| {
            if m.is_nan() || o.is_nan() {
                f64::NAN
            } else {
                m.min(o)
            }
        })
    }
    /// Whether every observed order is a number and at least 1.8.
    pub fn passes(&self) -> bool {
        !self.orders.is_empty() && self.orders.iter().all(|&o| o >= 1.8)
    }
}

/// The Taylor test of the adjoint gradient at `θ` in direction `δ`, for steps
/// `h_0, h_0/2, …` (`n_steps` of them).
///
/// # Errors
/// [`Error::Invalid`] for `h_0` outside `(0, 1]`, fewer than two steps, or a `δ` that is zero,
/// of the wrong length or not finite; whatever the evaluations report.
pub fn taylor_test<P: AdjointProblem + ?Sized>(
    problem: &P,
    theta: &[f64],
    delta: &[f64],
    h0: f64,
    n_steps: usize,
) -> Result<TaylorReport> {
    if !(h0 > 0.0 && h0 <= 1.0) {
        return Err(Error::invalid(
            "Taylor step",
            format!("the first step must lie in (0, 1], got {h0}"),
        ));
    }
    if n_steps < 2 {
        return Err(Error::invalid(
            "steps",
            "the Taylor test needs at least two steps",
        ));
    }
    crate::error::check_vector("direction", delta, theta.len())?;
    if delta.iter().all(|&d| d == 0.0) {
        return Err(Error::invalid(
            "direction",
            "a zero direction tests nothing (every remainder is 0)",
        ));
    }
    let mut ws = AdjointWorkspace::new(problem, SolverKind::Auto)?;
    let l0 = ws.evaluate(problem, theta)?;
    let slope: f64 = ws.gradient().iter().zip(delta).map(|(g, d)| g * d).sum();
    let mut steps = Vec::with_capacity(n_steps);
    let mut remainders = Vec::with_capacity(n_steps);
    let mut shifted = theta.to_vec();
    for k in 0..n_steps {
        let h = h0 / 2f64.powi(k as i32);
        for ((s, t), d) in shifted.iter_mut().zip(theta).zip(delta) {
            *s = t + h * d;
        }
        let l = ws.evaluate(problem, &shifted)?;
        steps.push(h);
        remainders.push((l - l0 - h * slope).abs());
    }
    let orders = steps
        .windows(2)
        .zip(remainders.windows(2))
        .map(|(h, r)| (r[0] / r[1]).ln() / (h[0] / h[1]).ln())
        .collect();
    Ok(TaylorReport {
        steps,
        remainders,
        orders,
    })
}

/// The gradient through forward sensitivities: for each parameter `k`, solve
/// `(∂f/∂u) s_k = −(∂f/∂θ) e_k` (so `s_k = du/dθ_k`) with the factorization already in `ws`,
/// and form `dL/dθ_k = ∂L/∂θ_k + (∂L/∂u) s_k`. `ws` must have been evaluated at the point of
/// interest. Costs `n_θ` solves: the `O(n_u n_θ)` work the adjoint method avoids.
///
/// # Errors
/// Whatever the solver reports.
pub fn forward_sensitivity_gradient(ws: &mut AdjointWorkspace) -> Result<Vec<f64>> {
    let n_u = ws.u().len();
    let n_t = ws.gradient().len();
    let mut s = vec![0.0; n_u];
    let mut g = ws.dl_dtheta().to_vec();
    for (k, gk) in g.iter_mut().enumerate() {
        s.fill(0.0);
        if let Some(col) = ws.dfdtheta().outer_view(k) {
            for (i, &v) in col.iter() {
                s[i] = -v;
            }
        }
        ws.solve_state_system(&mut s)?;
        *gk += ws.dl_du().iter().zip(&s).map(|(a, b)| a * b).sum::<f64>();
    }
    debug_assert_eq!(g.len(), n_t);
    Ok(g)
}

/// How hand-written Jacobians compare with the ones [`crate::Derived`] derives from the same
/// model, at one point (see [`compare_with_derived`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedComparison {
    /// Whether the hand-written pattern of `∂f/∂u` is exactly the detected one.
    pub dfdu_same_pattern: bool,
    /// Whether the hand-written pattern of `∂f/∂θ` is exactly the detected one.
    pub dfdtheta_same_pattern: bool,
    /// `max |hand − derived| / max(|hand|, |derived|)` over the stored entries of `∂f/∂u`
    /// (`inf` when the patterns differ).
    pub dfdu_difference: f64,
    /// The same for `∂f/∂θ`.
    pub dfdtheta_difference: f64,
    /// The same for `L`, `(∂L/∂u)ᵀ` and `(∂L/∂θ)ᵀ` (hand-written objective against the
    /// model's, differentiated by reverse mode): the largest of the three.
    pub objective_difference: f64,
}

impl DerivedComparison {
    /// Same patterns, and every value within `tol` relative.
    pub fn passes(&self, tol: f64) -> bool {
        self.dfdu_same_pattern
            && self.dfdtheta_same_pattern
            && self.dfdu_difference <= tol
            && self.dfdtheta_difference <= tol
            && self.objective_difference <= tol
    }
}

/// Compares a problem's hand-written Jacobians and objective partials (the fast path) with
/// those derived from its model at `(u, θ)`: the patterns must be identical, and the values
/// agree to rounding.
///
/// # Errors
/// [`Error::Shape`] when the sizes differ; whatever the fills report.
pub fn compare_with_derived<P: crate::Jacobians + crate::Objective + ?Sized, M: crate::Model>(
    hand: &P,
    derived: &crate::Derived<M>,
    u: &[f64],
    theta: &[f64],
) -> Result<DerivedComparison> {
    use crate::{Jacobians, Problem};
    if (hand.n_state(), hand.n_params()) != (derived.n_state(), derived.n_params()) {
        return Err(Error::Shape {
            what: "hand-written problem".into(),
            expected: format!("n_u = {}, n_θ = {}", derived.n_state(), derived.n_params()),
            found: format!("n_u = {}, n_θ = {}", hand.n_state(), hand.n_params()),
        });
    }
    let compare = |ph: sprs::CsStructure,
                   pd: &sprs::CsStructure,
                   fill_h: &dyn Fn(&mut [f64]) -> Result<()>,
                   fill_d: &dyn Fn(&mut [f64]) -> Result<()>|
     -> Result<(bool, f64)> {
        let same = ph.shape() == pd.shape()
            && ph.indptr().to_proper().as_ref() == pd.indptr().to_proper().as_ref()
            && ph.indices() == pd.indices();
        if !same {
            return Ok((false, f64::INFINITY));
        }
        let (mut a, mut b) = (vec![0.0; ph.nnz()], vec![0.0; pd.nnz()]);
        fill_h(&mut a)?;
        fill_d(&mut b)?;
        Ok((true, max_relative_difference(&a, &b)))
    };
    let (dfdu_same_pattern, dfdu_difference) = compare(
        hand.dfdu_pattern(),
        derived.dfdu_structure(),
        &|v| hand.fill_dfdu(u, theta, v),
        &|v| derived.fill_dfdu(u, theta, v),
    )?;
    let (dfdtheta_same_pattern, dfdtheta_difference) = compare(
        hand.dfdtheta_pattern(),
        derived.dfdtheta_structure(),
        &|v| hand.fill_dfdtheta(u, theta, v),
        &|v| derived.fill_dfdtheta(u, theta, v),
    )?;
    let by_hand = objective_partials(hand, u, theta)?;
    let derived_partials = objective_partials(derived, u, theta)?;
    Ok(DerivedComparison {
        dfdu_same_pattern,
        dfdtheta_same_pattern,
        dfdu_difference,
        dfdtheta_difference,
        objective_difference: max_relative_difference(&by_hand, &derived_partials),
    })
}

/// `[L; (∂L/∂u)ᵀ; (∂L/∂θ)ᵀ]` at `(u, θ)`, zeros for a [`Partial::Zero`](crate::Partial::Zero).
fn objective_partials<O: crate::Objective + ?Sized>(
    o: &O,
    u: &[f64],
    theta: &[f64],
) -> Result<Vec<f64>> {
    let mut out = vec![0.0; 1 + u.len() + theta.len()];
    let (l, rest) = out.split_at_mut(1);
    let (du, dt) = rest.split_at_mut(u.len());
    l[0] = o.objective_with_partial_u(u, theta, du)?;
    if o.objective_partial_theta(u, theta, dt)? == crate::Partial::Zero {
        dt.fill(0.0);
    }
    Ok(out)
}

/// `max_k |a_k − b_k| / max(|a_k|, |b_k|)` (0 where both are 0); infinite where one of the
/// two is not finite and they are not the same value (a NaN or an overflow is never a match).
fn max_relative_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0f64, |m, (x, y)| {
        let d = if !(x.is_finite() && y.is_finite()) {
            if x == y {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            let scale = x.abs().max(y.abs());
            if scale == 0.0 {
                0.0
            } else {
                (x - y).abs() / scale
            }
        };
        m.max(d)
    })
}
