//! The kernels of one time step, shared by the explicit and the checkpointed modes so that
//! both compute bit for bit the same numbers: `g`'s Jacobians at a point (compressed forward
//! mode through [`Derived`]), the blocks `∂f_k/∂x_k`, `∂f_{k+1}/∂x_k` built from them, the
//! Newton solve of an implicit step, and the adjoint step.
//!
//! With `J_k = ∂g/∂x(t_k, x_k)` and the scheme's weight `w`, the column block of `x_k` in
//! `∂f/∂u` holds
//!
//! ```text
//!     D_k     = ∂f_k/∂x_k     =  I − w h_k J_k
//!     S_{k+1} = ∂f_{k+1}/∂x_k = −I − (1 − w) h_{k+1} J_k
//! ```
//!
//! and `∂f_k/∂θ = −h_k (w ∂g/∂θ(t_k, x_k) + (1 − w) ∂g/∂θ(t_{k−1}, x_{k−1}))`, plus
//! `S_1 ∂x_0/∂θ` in block 1 when the initial state depends on `θ`.

use super::small::{self, SMALL};
use super::OdeModel;
use crate::derived::newton::{self, NewtonWork};
use crate::derived::{Derived, Model};
use crate::problem::{JacobianSolve, Jacobians, Objective, Partial};
use crate::solve::block_triangular::DENSE_BLOCK;
use crate::solve::dense::{lu_factor, lu_solve};
use crate::solve::triangular::dot;
use crate::solve::{BlockTriangularSolver, Factorization};
use crate::sparse::SlotMap;
use crate::{Error, Result, Scalar};
use sprs::{CsMat, CsStructure};
use std::cell::Cell;
use std::sync::Arc;

thread_local! {
    /// The time at which the wrapped models evaluate `g` and `l`: set by [`at_time`] on the
    /// thread that evaluates, so concurrent evaluations at different times cannot mix.
    static TIME: Cell<f64> = const { Cell::new(0.0) };
}

fn at_time<R>(t: f64, f: impl FnOnce() -> R) -> R {
    TIME.with(|c| c.set(t));
    f()
}

/// `g` and the running cost `l` at the thread's time, as a [`Model`] in `x`.
pub(crate) struct RhsModel<M>(pub Arc<M>);

impl<M: OdeModel> Model for RhsModel<M> {
    fn n_state(&self) -> usize {
        self.0.n_state()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        self.0.rhs(TIME.with(Cell::get), u, theta, f);
    }
    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        self.0.running_cost(TIME.with(Cell::get), u, theta)
    }
}

/// The initial state `x_0(θ)` (as a residual that ignores `u`) and the terminal cost
/// `Φ(x, θ)`, as a [`Model`].
pub(crate) struct EndsModel<M>(pub Arc<M>);

impl<M: OdeModel> Model for EndsModel<M> {
    fn n_state(&self) -> usize {
        self.0.n_state()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn residual<T: Scalar>(&self, _u: &[T], theta: &[T], f: &mut [T]) {
        self.0.initial_state(theta, f);
    }
    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        self.0.terminal_cost(u, theta).unwrap_or_else(T::zero)
    }
}

/// A diagonal or sub-diagonal block pattern `±I ∪ pattern(J)`, with where each entry of
/// `J` and each diagonal entry is stored.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub pattern: CsStructure,
    /// `±I` in the block's storage order (what `fill` starts from).
    base: Vec<f64>,
    /// Slot of each stored entry of `J`, empty when the block does not involve `J`.
    from_j: Vec<usize>,
}

impl Local {
    fn new(jp: &CsStructure, with_j: bool, diag_value: f64) -> Result<Self> {
        let n = jp.rows();
        let mut positions: Vec<(usize, usize)> = (0..n).map(|i| (i, i)).collect();
        if with_j {
            positions.extend(jp.iter().map(|(_, (i, j))| (i, j)));
        }
        let map = SlotMap::new(n, n, &positions)?;
        let mut base = vec![0.0; map.pattern().nnz()];
        for &d in &map.slots()[..n] {
            base[d] = diag_value;
        }
        Ok(Local {
            pattern: map.pattern().clone(),
            base,
            from_j: map.slots()[n..].to_vec(),
        })
    }

    /// `out = ±I − c J` in the block's storage order.
    pub fn fill(&self, j: &[f64], c: f64, out: &mut [f64]) {
        out.copy_from_slice(&self.base);
        for (&s, &v) in self.from_j.iter().zip(j) {
            out[s] -= c * v;
        }
    }
}

/// Everything derived once from an [`OdeModel`] and a scheme.
pub(crate) struct Kernels<M> {
    pub ode: Arc<M>,
    pub n: usize,
    pub n_t: usize,
    pub w: f64,
    rhs: Derived<RhsModel<M>>,
    ends: Derived<EndsModel<M>>,
    pub has_terminal: bool,
    /// The model writes `∂g/∂x` (`∂g/∂θ`) itself.
    hand_x: bool,
    hand_t: bool,
    /// `g` is linear in `x`: `J` is constant and Newton factorizes once per step.
    pub linear: bool,
    /// Patterns of `∂g/∂x` (n × n), `∂g/∂θ` (n × n_θ), `∂x_0/∂θ` (n × n_θ).
    pub jp: CsStructure,
    pub tp: CsStructure,
    pub x0p: CsStructure,
    /// `D_k = I − w h_k J_k` and `S_{k+1} = −I − (1 − w) h_{k+1} J_k`.
    pub d: Local,
    pub s: Local,
}

impl<M: OdeModel> Kernels<M> {
    pub fn new(ode: Arc<M>, w: f64) -> Result<Self> {
        let (n, n_t) = (ode.n_state(), ode.n_params());
        let rhs =
            Derived::new(RhsModel(ode.clone())).map_err(|e| context("the right-hand side g", e))?;
        let ends = Derived::new(EndsModel(ode.clone()))
            .map_err(|e| context("x0 or the terminal cost", e))?;
        let hand_x = ode.jacobian_x_pattern();
        let hand_t = ode.jacobian_theta_pattern();
        let (hand_x_given, hand_t_given) = (hand_x.is_some(), hand_t.is_some());
        let jp = match hand_x {
            Some(p) => {
                check_hand_written(&rhs, &*ode, &p, false)?;
                p
            }
            None => rhs.dfdu_structure().clone(),
        };
        let tp = match hand_t {
            Some(p) => {
                check_hand_written(&rhs, &*ode, &p, true)?;
                p
            }
            None => rhs.dfdtheta_structure().clone(),
        };
        let x0p = ends.dfdtheta_structure().clone();
        let zeros_x = vec![0.0; n];
        let zeros_t = vec![0.0; n_t];
        let has_terminal = ode.terminal_cost::<f64>(&zeros_x, &zeros_t).is_some();
        Ok(Kernels {
            n,
            n_t,
            w,
            linear: rhs.is_linear_in_u(),
            d: Local::new(&jp, w != 0.0, 1.0)?,
            s: Local::new(&jp, w != 1.0, -1.0)?,
            rhs,
            ends,
            has_terminal,
            hand_x: hand_x_given,
            hand_t: hand_t_given,
            jp,
            tp,
            x0p,
            ode,
        })
    }

    /// `dx = g(t, x, θ)`.
    pub fn g(&self, t: f64, x: &[f64], theta: &[f64], dx: &mut [f64]) {
        dx.fill(0.0);
        self.ode.rhs(t, x, theta, dx);
    }

    /// Values of `∂g/∂x(t, x, θ)` in the order of [`Self::jp`].
    pub fn jac_x(&self, t: f64, x: &[f64], theta: &[f64], out: &mut [f64]) -> Result<()> {
        if self.hand_x {
            out.fill(0.0);
            self.ode.jacobian_x(t, x, theta, out);
            return Ok(());
        }
        if self.n <= SMALL {
            small::rhs_jacobian(&*self.ode, t, x, theta, false, &self.jp, out);
            return Ok(());
        }
        at_time(t, || self.rhs.fill_dfdu(x, theta, out))
    }

    /// Values of `∂g/∂θ(t, x, θ)` in the order of [`Self::tp`].
    pub fn jac_theta(&self, t: f64, x: &[f64], theta: &[f64], out: &mut [f64]) -> Result<()> {
        if self.hand_t {
            out.fill(0.0);
            self.ode.jacobian_theta(t, x, theta, out);
            return Ok(());
        }
        if self.n_t <= SMALL {
            small::rhs_jacobian(&*self.ode, t, x, theta, true, &self.tp, out);
            return Ok(());
        }
        at_time(t, || self.rhs.fill_dfdtheta(x, theta, out))
    }

    /// `l(t, x, θ)`.
    pub fn cost(&self, t: f64, x: &[f64], theta: &[f64]) -> f64 {
        self.ode.running_cost(t, x, theta)
    }

    /// `l` and `∂l/∂x` at `(t, x)`.
    pub fn cost_x(&self, t: f64, x: &[f64], theta: &[f64], out: &mut [f64]) -> Result<f64> {
        if self.n <= SMALL {
            return Ok(small::cost_gradient(&*self.ode, t, x, theta, false, out));
        }
        at_time(t, || self.rhs.objective_with_partial_u(x, theta, out))
    }

    /// `∂l/∂θ` at `(t, x)`, or [`Partial::Zero`] when `l` does not depend on `θ`.
    pub fn cost_theta(&self, t: f64, x: &[f64], theta: &[f64], out: &mut [f64]) -> Result<Partial> {
        if self.rhs.dl_dtheta_pattern().is_empty() {
            return Ok(Partial::Zero);
        }
        if self.n_t <= SMALL {
            small::cost_gradient(&*self.ode, t, x, theta, true, out);
            return Ok(Partial::Written);
        }
        at_time(t, || self.rhs.objective_partial_theta(x, theta, out))
    }

    /// `x_0(θ)`.
    pub fn x0(&self, theta: &[f64], x0: &mut [f64]) {
        x0.fill(0.0);
        self.ode.initial_state(theta, x0);
    }

    /// Values of `∂x_0/∂θ` in the order of [`Self::x0p`].
    pub fn x0_theta(&self, theta: &[f64], zeros: &[f64], out: &mut [f64]) -> Result<()> {
        self.ends.fill_dfdtheta(zeros, theta, out)
    }

    /// `Φ(x, θ)` (0 without a terminal cost).
    pub fn terminal(&self, x: &[f64], theta: &[f64]) -> f64 {
        self.ode.terminal_cost(x, theta).unwrap_or(0.0)
    }

    /// `Φ` and `∂Φ/∂x`.
    pub fn terminal_x(&self, x: &[f64], theta: &[f64], out: &mut [f64]) -> Result<f64> {
        self.ends.objective_with_partial_u(x, theta, out)
    }

    /// `∂Φ/∂θ`.
    pub fn terminal_theta(&self, x: &[f64], theta: &[f64], out: &mut [f64]) -> Result<Partial> {
        self.ends.objective_partial_theta(x, theta, out)
    }

    /// The coefficient `c` of `D_k = I − c J_k`: `w h_k`.
    pub fn d_coef(&self, h_k: f64) -> f64 {
        self.w * h_k
    }

    /// The coefficient `c` of `S_{k+1} = −I − c J_k`: `(1 − w) h_{k+1}`.
    pub fn s_coef(&self, h_next: f64) -> f64 {
        (1.0 - self.w) * h_next
    }

    /// The value of an entry of `∂f_k/∂θ` from the entries `a` of `∂g/∂θ(t_k, x_k)` and `b`
    /// of `∂g/∂θ(t_{k−1}, x_{k−1})`.
    pub fn p_value(&self, h_k: f64, a: f64, b: f64) -> f64 {
        if self.w == 1.0 {
            -h_k * a
        } else if self.w == 0.0 {
            -h_k * b
        } else {
            -h_k * (self.w * a + (1.0 - self.w) * b)
        }
    }
}

/// Checks a model's hand-written `∂g/∂x` (or `∂g/∂θ`): its pattern holds every entry sparsity
/// detection found, and its values equal the derived ones at a random point (to `1e-12` of the
/// largest), as the crate checks its built-ins' hand-written Jacobians.
fn check_hand_written<M: OdeModel>(
    rhs: &Derived<RhsModel<M>>,
    ode: &M,
    pattern: &CsStructure,
    wrt_theta: bool,
) -> Result<()> {
    use rand::RngExt;
    let (n, n_t) = (ode.n_state(), ode.n_params());
    let what = if wrt_theta { "dg/dtheta" } else { "dg/dx" };
    let (detected, cols) = if wrt_theta {
        (rhs.dfdtheta_structure(), n_t)
    } else {
        (rhs.dfdu_structure(), n)
    };
    if pattern.shape() != (n, cols) || !pattern.is_csc() {
        return Err(Error::Shape {
            what: format!("the model's {what} pattern"),
            expected: format!("{n}×{cols} CSC"),
            found: format!("{}×{}", pattern.rows(), pattern.cols()),
        });
    }
    let position = |i: usize, j: usize| -> Option<usize> {
        let base = pattern.indptr().index(0);
        let (a, b) = (
            pattern.indptr().index(j) - base,
            pattern.indptr().index(j + 1) - base,
        );
        pattern.indices()[a..b]
            .binary_search(&i)
            .ok()
            .map(|k| a + k)
    };
    let mut rng = crate::rng::generator(0x0de);
    let x: Vec<f64> = (0..n).map(|_| rng.random::<f64>() + 0.5).collect();
    let theta: Vec<f64> = (0..n_t).map(|_| rng.random::<f64>() + 0.5).collect();
    let t = 0.5;
    let mut derived = vec![0.0; detected.nnz()];
    at_time(t, || {
        if wrt_theta {
            rhs.fill_dfdtheta(&x, &theta, &mut derived)
        } else {
            rhs.fill_dfdu(&x, &theta, &mut derived)
        }
    })?;
    let mut hand = vec![0.0; pattern.nnz()];
    if wrt_theta {
        ode.jacobian_theta(t, &x, &theta, &mut hand);
    } else {
        ode.jacobian_x(t, &x, &theta, &mut hand);
    }
    let scale = derived
        .iter()
        .chain(&hand)
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let mut matched = vec![false; hand.len()];
    for ((_, (i, j)), &d) in detected.iter().zip(&derived) {
        let Some(k) = position(i, j) else {
            return Err(Error::invalid(
                format!("the model's {what}"),
                format!(
                    "entry ({i}, {j}) depends on the input but is not in the hand-written pattern"
                ),
            ));
        };
        matched[k] = true;
        if (hand[k] - d).abs() > 1e-12 * scale {
            return Err(Error::invalid(
                format!("the model's {what}"),
                format!("entry ({i}, {j}) is {} by hand, {d} derived", hand[k]),
            ));
        }
    }
    for (k, (_, (i, j))) in pattern.iter().enumerate() {
        if !matched[k] && hand[k].abs() > 1e-12 * scale {
            return Err(Error::invalid(
                format!("the model's {what}"),
                format!("entry ({i}, {j}) is {} by hand but 0 derived", hand[k]),
            ));
        }
    }
    Ok(())
}

fn context(what: &str, e: Error) -> Error {
    match e {
        Error::ValueDuringDetection { .. } => Error::ValueDuringDetection { what: what.into() },
        e => e,
    }
}

/// Buffers of the step kernels (one set per workspace).
#[derive(Debug)]
pub(crate) struct StepWork {
    pub jvals: Vec<f64>,
    pub dvals: CsMat<f64>,
    pub svals: Vec<f64>,
    pub ta: Vec<f64>,
    pub tb: Vec<f64>,
    pub pv: Vec<f64>,
    pub g_prev: Vec<f64>,
    pub g_new: Vec<f64>,
    pub lx: Vec<f64>,
    pub lt: Vec<f64>,
    pub rhs: Vec<f64>,
    pub x0t: Vec<f64>,
    pub zeros: Vec<f64>,
    pub newton: NewtonWork,
    pub dense: DenseLu,
    /// The diagonal block's solver: the same kernel the stacked block-triangular solver uses.
    pub solver: BlockTriangularSolver,
}

impl StepWork {
    pub fn new<M: OdeModel>(k: &Kernels<M>) -> Result<Self> {
        let n = k.n;
        let dvals = crate::sparse::zeros_like(&k.d.pattern, "diagonal block")?;
        Ok(StepWork {
            jvals: vec![0.0; k.jp.nnz()],
            svals: vec![0.0; k.s.pattern.nnz()],
            ta: vec![0.0; k.tp.nnz()],
            tb: vec![0.0; k.tp.nnz()],
            pv: vec![0.0; k.tp.nnz()],
            g_prev: vec![0.0; n],
            g_new: vec![0.0; n],
            lx: vec![0.0; n],
            lt: vec![0.0; k.n_t],
            rhs: vec![0.0; n],
            x0t: vec![0.0; k.x0p.nnz()],
            zeros: vec![0.0; n],
            newton: NewtonWork::new(n),
            dense: DenseLu::default(),
            solver: BlockTriangularSolver::analyze(&k.d.pattern, &[0, n])?,
            dvals,
        })
    }
}

/// The engine side of Newton's method for one implicit step: `∂f_k/∂x_k = D_k` at an iterate.
struct StepJacobian<'a, M> {
    k: &'a Kernels<M>,
    theta: &'a [f64],
    t: f64,
    c: f64,
    jvals: &'a mut Vec<f64>,
    dvals: &'a mut CsMat<f64>,
    solver: &'a mut BlockTriangularSolver,
    /// A small block's dense `LU` (`n ≤ DENSE_BLOCK`): the forward march need not use the
    /// block solver's kernel (only the adjoint sweep must match the stacked one).
    dense: &'a mut DenseLu,
    factored: bool,
}

/// Dense `LU` of a small diagonal block, for the Newton solves of the march.
#[derive(Debug, Clone, Default)]
pub(crate) struct DenseLu {
    a: Vec<f64>,
    piv: Vec<u32>,
}

const WHAT: &str = "the step's Jacobian I - w h dg/dx";

impl<M: OdeModel> JacobianSolve for StepJacobian<'_, M> {
    fn factor_at(&mut self, x: &[f64]) -> Result<()> {
        self.factored = false;
        self.k.jac_x(self.t, x, self.theta, self.jvals)?;
        self.k.d.fill(self.jvals, self.c, self.dvals.data_mut());
        let n = self.k.n;
        if n <= DENSE_BLOCK {
            if self.dvals.data().iter().any(|v| !v.is_finite()) {
                crate::sparse::check_matrix_finite(WHAT, self.dvals)?;
            }
            let (a, piv) = (&mut self.dense.a, &mut self.dense.piv);
            a.resize(n * n, 0.0);
            piv.resize(n, 0);
            if self.dvals.nnz() == n * n {
                // every entry stored: CSC order is the dense column-major order
                a.copy_from_slice(self.dvals.data());
            } else {
                a.fill(0.0);
                for (&v, (i, j)) in self.dvals.iter() {
                    a[i + j * n] = v;
                }
            }
            lu_factor(a, n, piv);
            let tol = crate::solve::DEFAULT_PIVOT_TOLERANCE;
            if let Some((index, pivot, tolerance)) =
                crate::solve::singular_pivot(|k| a[k + k * n], n, tol)
            {
                return Err(Error::SingularPivot {
                    what: WHAT.into(),
                    index,
                    pivot,
                    tolerance,
                });
            }
        } else {
            self.solver.factor(self.dvals, WHAT)?;
        }
        self.factored = true;
        Ok(())
    }
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        let n = self.k.n;
        if n <= DENSE_BLOCK {
            lu_solve(&self.dense.a, n, &self.dense.piv, rhs);
            return crate::error::check_finite("Newton step", rhs);
        }
        self.solver.solve_in_place(rhs)
    }
    fn jacobian(&self) -> Option<&CsMat<f64>> {
        self.factored.then_some(&*self.dvals)
    }
}

/// Step `k`: `x` from `x_prev` (one Newton solve for an implicit scheme, warm-started from
/// `x_prev`); returns the Newton iterations.
pub(crate) fn advance<M: OdeModel>(
    k: &Kernels<M>,
    grid: &super::TimeGrid,
    step: usize,
    theta: &[f64],
    x_prev: &[f64],
    x: &mut [f64],
    w: &mut StepWork,
) -> Result<usize> {
    let (t_prev, t, h) = (grid.t(step - 1), grid.t(step), grid.h(step));
    let at = |e: Error| Error::TimeStep {
        step,
        time: t,
        source: Box::new(e),
    };
    if k.w != 1.0 {
        k.g(t_prev, x_prev, theta, &mut w.g_prev);
    }
    if k.w == 0.0 {
        for ((x, &xp), &g) in x.iter_mut().zip(x_prev).zip(&w.g_prev) {
            *x = xp + h * g;
        }
        return crate::error::check_finite("state", x)
            .map(|()| 0)
            .map_err(at);
    }
    x.copy_from_slice(x_prev);
    let (wt, g_prev, g_new) = (k.w, &w.g_prev, &mut w.g_new);
    let mut jac = StepJacobian {
        k,
        theta,
        t,
        c: k.d_coef(h),
        jvals: &mut w.jvals,
        dvals: &mut w.dvals,
        solver: &mut w.solver,
        dense: &mut w.dense,
        factored: false,
    };
    let iterations = newton::solve(&mut jac, x, &mut w.newton, k.linear, |x, f| {
        k.g(t, x, theta, g_new);
        if wt == 1.0 {
            for i in 0..f.len() {
                f[i] = x[i] - x_prev[i] - h * g_new[i];
            }
        } else {
            for i in 0..f.len() {
                f[i] = x[i] - x_prev[i] - h * (wt * g_new[i] + (1.0 - wt) * g_prev[i]);
            }
        }
    })
    .map_err(at)?;
    Ok(iterations)
}

/// `r = −(h_k ∂l/∂x(t_k, x_k) + [k = K] ∂Φ/∂x(x_K))`: the adjoint right-hand side of block
/// `k` before the coupling to step `k + 1` (the negated block of `(∂L/∂u)ᵀ`).
pub(crate) fn dl_dx_block<M: OdeModel>(
    k: &Kernels<M>,
    grid: &super::TimeGrid,
    step: usize,
    theta: &[f64],
    x: &[f64],
    out: &mut [f64],
    scratch: &mut [f64],
) -> Result<()> {
    let h = grid.h(step);
    k.cost_x(grid.t(step), x, theta, scratch)?;
    for (o, &l) in out.iter_mut().zip(scratch.iter()) {
        *o = h * l;
    }
    if step == grid.steps() && k.has_terminal {
        k.terminal_x(x, theta, scratch)?;
        for (o, &p) in out.iter_mut().zip(scratch.iter()) {
            *o += p;
        }
    }
    Ok(())
}

/// Subtracts `S_{k+1}ᵀ λ_{k+1}` from `r`, column by column in storage order (as the stacked
/// block-triangular sweep does).
pub(crate) fn subtract_coupling(s: &Local, svals: &[f64], lambda_next: &[f64], r: &mut [f64]) {
    let p = &s.pattern;
    for (j, col) in p.outer_iterator().enumerate() {
        let base = p.indptr().index(j) - p.indptr().index(0);
        let mut acc = r[j];
        for (e, (i, _)) in col.iter().enumerate() {
            acc -= svals[base + e] * lambda_next[i];
        }
        r[j] = acc;
    }
}

/// `grad += h_k ∂l/∂θ(t_k, x_k) + (∂f_k/∂θ)ᵀ λ_k` (and, for `k = 1`, `+ (∂x_0/∂θ)ᵀ S_1ᵀ λ_1`):
/// the one fixed order in which both modes accumulate the gradient, `k = K, K−1, …, 1`.
///
/// `pv`: the values of `−h_k (w ∂g/∂θ(t_k, x_k) + (1 − w) ∂g/∂θ(t_{k−1}, x_{k−1}))` in the order
/// of `∂g/∂θ`'s pattern when the caller holds them (the explicit mode reads them from the
/// stacked `∂f/∂θ`: the same numbers [`Kernels::p_value`] gives), else `None` (computed here).
#[allow(clippy::too_many_arguments)]
pub(crate) fn accumulate<M: OdeModel>(
    k: &Kernels<M>,
    grid: &super::TimeGrid,
    step: usize,
    theta: &[f64],
    x_prev: &[f64],
    x: &[f64],
    lambda: &[f64],
    grad: &mut [f64],
    pv: Option<&[f64]>,
    w: &mut StepWork,
) -> Result<()> {
    let (h, t, t_prev) = (grid.h(step), grid.t(step), grid.t(step - 1));
    if let Partial::Written = k.cost_theta(t, x, theta, &mut w.lt)? {
        for (g, &l) in grad.iter_mut().zip(&w.lt) {
            *g += h * l;
        }
    }
    let pv = match pv {
        Some(v) => v,
        None => {
            if k.w != 0.0 {
                k.jac_theta(t, x, theta, &mut w.ta)?;
            }
            if k.w != 1.0 {
                k.jac_theta(t_prev, x_prev, theta, &mut w.tb)?;
            }
            for ((v, &a), &b) in w.pv.iter_mut().zip(&w.ta).zip(&w.tb) {
                *v = k.p_value(h, a, b);
            }
            &w.pv[..]
        }
    };
    let p = &k.tp;
    for (col, (j, g)) in p.outer_iterator().zip(grad.iter_mut().enumerate()) {
        let base = p.indptr().index(j) - p.indptr().index(0);
        let mut acc = *g;
        for (e, (i, _)) in col.iter().enumerate() {
            acc += pv[base + e] * lambda[i];
        }
        *g = acc;
    }
    if step == 1 && k.x0p.nnz() > 0 {
        // μ = S_1ᵀ λ_1 with S_1 = −I − (1 − w) h_1 J(t_0, x_0), then grad += (∂x_0/∂θ)ᵀ μ
        k.jac_x(t_prev, x_prev, theta, &mut w.jvals)?;
        k.s.fill(&w.jvals, k.s_coef(h), &mut w.svals);
        w.rhs.fill(0.0);
        subtract_coupling(&k.s, &w.svals, lambda, &mut w.rhs);
        k.x0_theta(theta, &w.zeros, &mut w.x0t)?;
        let q = &k.x0p;
        for (col, (j, g)) in q.outer_iterator().zip(grad.iter_mut().enumerate()) {
            let base = q.indptr().index(j) - q.indptr().index(0);
            let mut acc = *g;
            for (e, (i, _)) in col.iter().enumerate() {
                // rhs holds −μ
                acc -= w.x0t[base + e] * w.rhs[i];
            }
            *g = acc;
        }
    }
    Ok(())
}

/// The adjoint step `k` of the checkpointed mode: `λ_k` from `λ_{k+1}` (`None` for `k = K`),
/// exactly as the stacked block-triangular sweep computes block `k`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reverse<M: OdeModel>(
    k: &Kernels<M>,
    grid: &super::TimeGrid,
    step: usize,
    theta: &[f64],
    x: &[f64],
    lambda_next: Option<&[f64]>,
    lambda: &mut [f64],
    w: &mut StepWork,
) -> Result<()> {
    let t = grid.t(step);
    let at = |e: Error| Error::TimeStep {
        step,
        time: t,
        source: Box::new(e),
    };
    k.jac_x(t, x, theta, &mut w.jvals).map_err(at)?;
    dl_dx_block(k, grid, step, theta, x, &mut w.rhs, &mut w.lx).map_err(at)?;
    for (l, &r) in lambda.iter_mut().zip(&w.rhs) {
        *l = -r;
    }
    if k.w == 0.0 {
        // explicit Euler: D_k = I, and the stacked ∂f/∂u is lower triangular, swept by the
        // triangular solver's unit-diagonal kernel: λ_j = (r_j − 0) − Σ_i (S_{k+1})_ij λ_{k+1,i},
        // the sum as one dot product — the same arithmetic here
        if let Some(next) = lambda_next {
            k.s.fill(&w.jvals, k.s_coef(grid.h(step + 1)), &mut w.svals);
            let p = &k.s.pattern;
            let base = p.indptr().index(0);
            for (j, l) in lambda.iter_mut().enumerate() {
                let (a, b) = (p.indptr().index(j) - base, p.indptr().index(j + 1) - base);
                let s = *l - dot(&[], &[], next);
                *l = s - dot(&p.indices()[a..b], &w.svals[a..b], next);
            }
        }
        return Ok(());
    }
    if let Some(next) = lambda_next {
        k.s.fill(&w.jvals, k.s_coef(grid.h(step + 1)), &mut w.svals);
        subtract_coupling(&k.s, &w.svals, next, lambda);
    }
    k.d.fill(&w.jvals, k.d_coef(grid.h(step)), w.dvals.data_mut());
    w.solver.factor(&w.dvals, "df/du").map_err(at)?;
    w.solver.solve_transpose_in_place(lambda).map_err(at)?;
    Ok(())
}
