//! The generic adjoint gradient.
//!
//! For `min_θ L(u, θ)` subject to `f(u, θ) = 0`, with `u ∈ ℝ^{n_u}`, `θ ∈ ℝ^{n_θ}`:
//!
//! ```text
//!     1. state:    solve f(u, θ) = 0 for u                       (StateSolve)
//!     2. assemble  ∂f/∂u (n_u × n_u), ∂f/∂θ (n_u × n_θ), (∂L/∂u)ᵀ (n_u), (∂L/∂θ)ᵀ (n_θ)
//!     3. adjoint:  (∂f/∂u)ᵀ λ = −(∂L/∂u)ᵀ                         λ ∈ ℝ^{n_u}
//!     4. gradient: (dL/dθ)ᵀ = (∂L/∂θ)ᵀ + (∂f/∂θ)ᵀ λ               ∈ ℝ^{n_θ}
//! ```
//!
//! This is the total derivative of the Lagrangian `L + λᵀ f` with `λ` chosen so that the
//! coefficient of `du/dθ`, namely `∂L/∂u + λᵀ ∂f/∂u`, vanishes: the `n_u × n_θ` sensitivity
//! `du/dθ` is never formed. Note the sign: `λ` here solves the system with `−∂L/∂u` on the
//! right, so `dL/dθ = ∂L/∂θ + λᵀ ∂f/∂θ` with a plus.
//!
//! [`AdjointWorkspace`] owns everything that can be kept between evaluations at different `θ`:
//! the Jacobian patterns (values refilled in place), the solver's symbolic analysis, and the
//! vectors. An optimization loop creates it once and calls [`AdjointWorkspace::evaluate`] per
//! iteration.
//!
//! # Example
//! ```
//! use adjoint::problems::tridiagonal::Tridiagonal;
//! use adjoint::{AdjointWorkspace, SolverKind};
//! # fn main() -> adjoint::Result<()> {
//! let (problem, theta) = Tridiagonal::random(5, 0)?;
//! let mut ws = AdjointWorkspace::new(&problem, SolverKind::Auto)?;
//! let objective = ws.evaluate(&problem, &theta)?;
//! assert_eq!(ws.gradient().len(), 2 * 5 - 1);
//! assert!(objective >= 0.0);
//! // the adjoint equation holds: (∂f/∂u)ᵀ λ = −(∂L/∂u)ᵀ
//! let r = &ws.dfdu().transpose_view() * &ndarray::Array1::from(ws.lambda().to_vec());
//! for (ri, gi) in r.iter().zip(ws.dl_du()) {
//!     assert!((ri + gi).abs() < 1e-9);
//! }
//! # Ok(()) }
//! ```

use crate::error::{check_finite, check_scalar, check_vector};
use crate::parallel::{join_if, PARALLEL_THRESHOLD};
use crate::problem::{AdjointProblem, JacobianSolve, Partial};
use crate::solve::{Factorization, Solver, SolverKind};
use crate::sparse::{mul_transpose_add_into, zeros_from, ColumnRuns};
use crate::{Error, Result};
use sprs::CsMat;
use std::time::{Duration, Instant};

/// Wall-clock time of each phase of the last evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// State solve, excluding the assembly and factorization it asked for.
    pub state_solve: Duration,
    /// Filling `∂f/∂u`, `∂f/∂θ` and the objective's partials. The `∂f/∂θ` fill runs
    /// concurrently with the adjoint solve for large problems (above [`crate::thresholds::PARALLEL_THRESHOLD`]), so the
    /// phases can add up to more than [`total`](Self::total).
    pub assemble: Duration,
    /// Numeric factorization of `∂f/∂u` (including its checks).
    pub factor: Duration,
    /// The adjoint solve `(∂f/∂u)ᵀ λ = −(∂L/∂u)ᵀ` (when fused with the state's first solve,
    /// [`AdjointWorkspace::adjoint_was_fused`], its cost is in `state_solve`).
    pub adjoint_solve: Duration,
    /// `(∂L/∂θ)ᵀ + (∂f/∂θ)ᵀ λ`.
    pub gradient: Duration,
    /// Everything one optimization iteration pays.
    pub total: Duration,
}

/// Reusable state of the adjoint method for one problem (fixed sizes and patterns).
#[derive(Debug, Clone)]
pub struct AdjointWorkspace {
    n_state: usize,
    n_params: usize,
    dfdu: CsMat<f64>,
    dfdtheta: CsMat<f64>,
    /// The gradient plan of `∂f/∂θ` (column segments, no `indptr`), or `None` for a pattern
    /// too irregular for one.
    dfdtheta_runs: Option<ColumnRuns>,
    solver: Solver,
    u: Vec<f64>,
    lambda: Vec<f64>,
    dl_du: Vec<f64>,
    dl_dtheta: Vec<f64>,
    /// `dl_dtheta` holds zeros because the problem reported `∂L/∂θ = 0`.
    dl_dtheta_zero: bool,
    gradient: Vec<f64>,
    objective: f64,
    timings: Timings,
    /// `u` holds the state of the last successful evaluation (a warm start).
    has_state: bool,
    /// Iterations of the last state solve, if it iterates.
    state_iterations: Option<usize>,
    /// The `u` of the last factorization in the state solve (for problems whose `∂f/∂u`
    /// depends on `u`: a factorization at the final `u` is reused by the adjoint solve).
    factored_u: Vec<f64>,
    /// `[b, −(∂L/∂u)ᵀ]`, solved in place into `[u, λ]`: the fused state and adjoint solve
    /// (`2 n_u` numbers; empty unless the problem's hints and the solver allow it).
    fused: Vec<f64>,
    /// The last evaluation's `λ` came from the fused solve.
    lambda_fused: bool,
}

impl AdjointWorkspace {
    /// Asks the problem for its patterns, checks their shapes, and analyzes the solver with
    /// `options`: a [`SolverKind`], or [`SolverOptions`](crate::solve::SolverOptions) for the
    /// ordering and pivot tolerance too.
    ///
    /// # Errors
    /// [`Error::Shape`] when a pattern does not have the problem's sizes;
    /// [`Error::SolverNotApplicable`] when the requested solver does not fit `∂f/∂u`;
    /// [`Error::Invalid`] for a pivot tolerance outside `[0, 1)`.
    pub fn new<P: AdjointProblem + ?Sized>(
        problem: &P,
        options: impl Into<crate::solve::SolverOptions>,
    ) -> Result<Self> {
        let (n_u, n_t) = (problem.n_state(), problem.n_params());
        let dfdu_pattern = problem.dfdu_pattern();
        let dfdtheta_pattern = problem.dfdtheta_pattern();
        for (what, shape, expected) in [
            ("df/du pattern", dfdu_pattern.shape(), (n_u, n_u)),
            ("df/dtheta pattern", dfdtheta_pattern.shape(), (n_u, n_t)),
        ] {
            if shape != expected {
                return Err(Error::Shape {
                    what: what.into(),
                    expected: format!("{}×{}", expected.0, expected.1),
                    found: format!("{}×{}", shape.0, shape.1),
                });
            }
        }
        let blocks = problem.dfdu_blocks();
        let dissection = problem.dfdu_dissection();
        let solver = Solver::analyze_with(
            &dfdu_pattern,
            options,
            crate::solve::StructureHints {
                blocks: blocks.as_deref(),
                dissection: dissection.as_ref(),
            },
        )?;
        // the value matrices take over the patterns' index arrays: no copy of the structure
        let dfdtheta = zeros_from(dfdtheta_pattern, "df/dtheta pattern")?;
        Ok(AdjointWorkspace {
            n_state: n_u,
            n_params: n_t,
            dfdu: zeros_from(dfdu_pattern, "df/du pattern")?,
            dfdtheta_runs: ColumnRuns::new(&dfdtheta),
            dfdtheta,
            u: vec![0.0; n_u],
            lambda: vec![0.0; n_u],
            dl_du: vec![0.0; n_u],
            dl_dtheta: vec![0.0; n_t],
            dl_dtheta_zero: true,
            gradient: vec![0.0; n_t],
            objective: f64::NAN,
            timings: Timings::default(),
            has_state: false,
            state_iterations: None,
            factored_u: if problem.dfdu_depends_on_u() {
                vec![0.0; n_u]
            } else {
                Vec::new()
            },
            fused: if fusable(problem) && solver.is_symmetric() {
                vec![0.0; 2 * n_u]
            } else {
                Vec::new()
            },
            solver,
            lambda_fused: false,
        })
    }

    /// Runs steps 1–4 at `θ` and returns `L(u(θ), θ)`; the gradient and the intermediate
    /// quantities are then available from the accessors.
    ///
    /// # Errors
    /// [`Error::Shape`] / [`Error::NonFinite`] for a bad `θ`; a result that overflowed or became
    /// NaN — the state `u`, the objective ([`Error::NonFiniteScalar`]), `∂L/∂u`, `∂L/∂θ`, the
    /// adjoint `λ` or the gradient, each named with its first bad index; anything the problem
    /// or the solver reports (e.g. [`Error::SingularPivot`]). After an error the accessors
    /// hold partial results and [`objective`](Self::objective) is NaN.
    ///
    /// # Panics
    /// When used with a problem of other sizes than the one it was created for.
    ///
    /// # Complexity
    /// One state solve, at most two factorizations (one when `∂f/∂u` does not depend on `u`),
    /// one adjoint solve and `O(nnz(∂f/∂θ))` for the gradient. The engine's own steps allocate
    /// nothing (a problem's fills may). When neither
    /// `∂f/∂u` nor `∂L/∂u` depends on `u` and the solver is symmetric, the adjoint system is
    /// solved with the state's first solve, both right-hand sides in one pass over the factor
    /// ([`adjoint_was_fused`](Self::adjoint_was_fused)).
    #[track_caller]
    pub fn evaluate<P: AdjointProblem + ?Sized>(
        &mut self,
        problem: &P,
        theta: &[f64],
    ) -> Result<f64> {
        assert_eq!(
            (problem.n_state(), problem.n_params()),
            (self.n_state, self.n_params),
            "AdjointWorkspace used with a problem of other sizes"
        );
        // one entry into the thread pool for all of the evaluation's joins
        let parallel = self.dfdtheta.nnz().max(self.n_params) >= PARALLEL_THRESHOLD;
        crate::parallel::in_pool(parallel, || self.evaluate_on_thread(problem, theta))
    }

    fn evaluate_on_thread<P: AdjointProblem + ?Sized>(
        &mut self,
        problem: &P,
        theta: &[f64],
    ) -> Result<f64> {
        let start = Instant::now();
        self.timings = Timings::default();
        self.objective = f64::NAN;
        self.lambda_fused = false;
        check_vector("theta", theta, self.n_params)?;

        // 1. state (a failed evaluation leaves no state to warm-start from)
        let warm = std::mem::replace(&mut self.has_state, false);
        self.state_iterations = None;
        let depends_on_u = problem.dfdu_depends_on_u();
        let mut factorizer = Factorizer {
            problem,
            theta,
            dfdu: &mut self.dfdu,
            solver: &mut self.solver,
            factored: false,
            assemble: Duration::ZERO,
            factor: Duration::ZERO,
            warm,
            iterations: None,
            factored_u: if depends_on_u {
                // a workspace made for a problem whose ∂f/∂u did not depend on u
                self.factored_u.resize(self.n_state, 0.0);
                Some(&mut self.factored_u[..])
            } else {
                None
            },
            fused: if fusable(problem) {
                &mut self.fused
            } else {
                &mut []
            },
            guess: &mut self.lambda,
            fused_lambda: false,
        };
        let t = Instant::now();
        problem.solve_state(theta, &mut factorizer, &mut self.u)?;
        let state_total = t.elapsed();
        let (factored, mut assemble, mut factor) =
            (factorizer.factored, factorizer.assemble, factorizer.factor);
        let mut fused_lambda = factorizer.fused_lambda;
        self.state_iterations = factorizer.iterations;
        self.timings.state_solve = state_total.saturating_sub(assemble + factor);
        check_finite("u", &self.u)?;

        // 2. ∂f/∂u again only when the state solve's factorization cannot be reused: it was
        // made at another u than the final one, for a ∂f/∂u that depends on u
        let stale = depends_on_u
            && self
                .factored_u
                .iter()
                .zip(&self.u)
                .any(|(a, b)| a.to_bits() != b.to_bits());
        if !factored || stale {
            fused_lambda = false;
            let t = Instant::now();
            problem.fill_dfdu(&self.u, theta, self.dfdu.data_mut())?;
            assemble += t.elapsed();
            let t = Instant::now();
            self.solver.factor(&self.dfdu, "df/du")?;
            factor += t.elapsed();
        }
        self.timings.factor = factor;

        // 2–3. ∂f/∂θ on one thread; the objective, its partials and the adjoint solve
        // (∂f/∂u)ᵀ λ = −(∂L/∂u)ᵀ on the other (they share nothing but u and θ)
        let u = &self.u[..];
        let parallel = self.dfdtheta.nnz() >= PARALLEL_THRESHOLD;
        let dfdtheta = self.dfdtheta.data_mut();
        let (dl_du, dl_dtheta, lambda) = (&mut self.dl_du, &mut self.dl_dtheta, &mut self.lambda);
        let (dl_dtheta_zero, solver) = (&mut self.dl_dtheta_zero, &mut self.solver);
        let fused = &self.fused[..];
        let (filled, adjoint) = join_if(
            parallel,
            || {
                let t = Instant::now();
                problem
                    .fill_dfdtheta(u, theta, dfdtheta)
                    .map(|()| t.elapsed())
            },
            || -> Result<(f64, Duration, Duration, bool)> {
                let t = Instant::now();
                let objective = problem.objective_with_partial_u(u, theta, dl_du)?;
                check_scalar("objective L", objective)?;
                check_finite("dL/du", dl_du)?;
                match problem.objective_partial_theta(u, theta, dl_dtheta)? {
                    Partial::Written => {
                        *dl_dtheta_zero = false;
                        check_finite("dL/dtheta", dl_dtheta)?;
                    }
                    Partial::Zero => {
                        if !*dl_dtheta_zero {
                            dl_dtheta.fill(0.0);
                            *dl_dtheta_zero = true;
                        }
                    }
                }
                let partials = t.elapsed();
                let t = Instant::now();
                // the fused solve's λ stands when its ∂L/∂u (at u = 0, left in λ) is this one
                let same =
                    |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                let use_fused = fused_lambda && same(dl_du, lambda);
                if use_fused {
                    lambda.copy_from_slice(&fused[dl_du.len()..]);
                } else {
                    solver.solve_transpose_scaled_into(dl_du, -1.0, lambda)?;
                }
                check_finite("adjoint lambda", lambda)?;
                Ok((objective, partials, t.elapsed(), use_fused))
            },
        );
        let fill_time = filled?;
        let (objective, partials, adjoint_time, lambda_fused) = adjoint?;
        self.lambda_fused = lambda_fused;
        self.timings.assemble = assemble + fill_time + partials;
        self.timings.adjoint_solve = adjoint_time;

        // 4. gradient: (∂L/∂θ)ᵀ + (∂f/∂θ)ᵀ λ
        let t = Instant::now();
        let base = (!self.dl_dtheta_zero).then_some(&self.dl_dtheta[..]);
        match &self.dfdtheta_runs {
            Some(runs) => {
                runs.mul_transpose_add(&self.dfdtheta, &self.lambda, base, &mut self.gradient)
            }
            None => mul_transpose_add_into(&self.dfdtheta, &self.lambda, base, &mut self.gradient),
        }
        check_finite("gradient dL/dtheta", &self.gradient)?;
        self.timings.gradient = t.elapsed();
        self.timings.total = start.elapsed();
        self.objective = objective;
        self.has_state = true;
        Ok(objective)
    }

    /// Solves `(∂f/∂u) x = rhs` in place with the factorization of the last evaluation (for
    /// forward sensitivities, or any further right-hand side).
    ///
    /// # Errors
    /// When no successful evaluation has factorized `∂f/∂u` yet.
    pub fn solve_state_system(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solver.solve_in_place(rhs)
    }

    /// Solves `(∂f/∂u)ᵀ x = rhs` in place with the factorization of the last evaluation.
    ///
    /// # Errors
    /// When no successful evaluation has factorized `∂f/∂u` yet.
    pub fn solve_adjoint_system(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solver.solve_transpose_in_place(rhs)
    }

    /// `(dL/dθ)ᵀ ∈ ℝ^{n_θ}` from the last evaluation.
    pub fn gradient(&self) -> &[f64] {
        &self.gradient
    }
    /// The state `u(θ) ∈ ℝ^{n_u}`.
    pub fn u(&self) -> &[f64] {
        &self.u
    }
    /// The adjoint `λ ∈ ℝ^{n_u}`, solving `(∂f/∂u)ᵀ λ = −(∂L/∂u)ᵀ`.
    pub fn lambda(&self) -> &[f64] {
        &self.lambda
    }
    /// `L(u, θ)`.
    pub fn objective(&self) -> f64 {
        self.objective
    }
    /// `(∂L/∂u)ᵀ ∈ ℝ^{n_u}`.
    pub fn dl_du(&self) -> &[f64] {
        &self.dl_du
    }
    /// `(∂L/∂θ)ᵀ ∈ ℝ^{n_θ}`.
    pub fn dl_dtheta(&self) -> &[f64] {
        &self.dl_dtheta
    }
    /// The assembled `∂f/∂u` (CSC, n_u × n_u).
    pub fn dfdu(&self) -> &CsMat<f64> {
        &self.dfdu
    }
    /// The assembled `∂f/∂θ` (CSC, n_u × n_θ).
    pub fn dfdtheta(&self) -> &CsMat<f64> {
        &self.dfdtheta
    }
    /// Whether the last evaluation's `λ` came from the fused solve `∂f/∂u [u λ] = [b
    /// −(∂L/∂u)ᵀ]` (one pass over the factor for both; see
    /// [`Objective::objective_partial_u_depends_on_u`](crate::problem::Objective::objective_partial_u_depends_on_u))
    /// rather than from an adjoint solve of its own.
    pub fn adjoint_was_fused(&self) -> bool {
        self.lambda_fused
    }
    /// The solver in use (`solver().name()` says which).
    pub fn solver(&self) -> &Solver {
        &self.solver
    }
    /// Timings of the last evaluation.
    pub fn timings(&self) -> &Timings {
        &self.timings
    }
    /// Iterations of the last evaluation's state solve (Newton's, for a
    /// [`crate::Derived`] model), or `None` for a problem whose state solve does not iterate.
    pub fn state_iterations(&self) -> Option<usize> {
        self.state_iterations
    }
    /// `‖dL/dθ‖₂`, computed without overflow ([`crate::sparse::norm2`]).
    pub fn gradient_norm(&self) -> f64 {
        crate::sparse::norm2(&self.gradient)
    }
}

/// One-shot gradient: `(L, (dL/dθ)ᵀ)` at `θ` with an automatically chosen solver.
///
/// # Errors
/// As [`AdjointWorkspace::new`] and [`AdjointWorkspace::evaluate`].
pub fn gradient<P: AdjointProblem + ?Sized>(problem: &P, theta: &[f64]) -> Result<(f64, Vec<f64>)> {
    let mut ws = AdjointWorkspace::new(problem, SolverKind::Auto)?;
    let objective = ws.evaluate(problem, theta)?;
    Ok((objective, ws.gradient))
}

/// The engine's side of [`JacobianSolve`], lent to the state solve.
struct Factorizer<'a, P: ?Sized> {
    problem: &'a P,
    theta: &'a [f64],
    dfdu: &'a mut CsMat<f64>,
    solver: &'a mut Solver,
    factored: bool,
    assemble: Duration,
    factor: Duration,
    warm: bool,
    iterations: Option<usize>,
    factored_u: Option<&'a mut [f64]>,
    /// The workspace's `fused` (empty when the problem's hints do not allow fusing).
    fused: &'a mut [f64],
    /// Receives `(∂L/∂u)ᵀ` at `u = 0` for the fused solve (the workspace's `λ`).
    guess: &'a mut [f64],
    /// `fused[n_u..]` holds `λ` for the current factorization.
    fused_lambda: bool,
}

/// Whether the problem's hints allow the fused state and adjoint solve: `∂f/∂u` and `∂L/∂u`
/// both independent of `u`.
fn fusable<P: AdjointProblem + ?Sized>(problem: &P) -> bool {
    !problem.dfdu_depends_on_u() && !problem.objective_partial_u_depends_on_u()
}

impl<P: AdjointProblem + ?Sized> Factorizer<'_, P> {
    /// The first solve after a factorization, when allowed: `∂f/∂u [x λ] = [rhs −(∂L/∂u)ᵀ]`
    /// in one pass over the factor (`∂f/∂u` symmetric, so `λ` solves the adjoint system),
    /// `x` left in `fused[..n_u]`. `false` (nothing done) when not allowed, or when `∂L/∂u`
    /// cannot be taken at `u = 0`: the adjoint is then solved alone.
    fn solve_fused(&mut self, rhs: &[f64]) -> Result<bool> {
        if self.fused.is_empty() || self.fused_lambda || !self.solver.is_symmetric() {
            return Ok(false);
        }
        assert_eq!(
            rhs.len(),
            self.guess.len(),
            "state solve: right-hand side of another length than n_u"
        );
        let (b, c) = self.fused.split_at_mut(rhs.len());
        b.fill(0.0);
        let taken = self
            .problem
            .objective_with_partial_u(b, self.theta, self.guess)
            .is_ok();
        if !taken || self.guess.iter().any(|g| !g.is_finite()) {
            return Ok(false);
        }
        b.copy_from_slice(rhs);
        for (ci, &g) in c.iter_mut().zip(self.guess.iter()) {
            *ci = -g;
        }
        if self.solver.solve_columns_in_place(self.fused).is_err() {
            // the state is solved alone, and the adjoint after it, each naming its own failure
            return Ok(false);
        }
        self.fused_lambda = true;
        Ok(true)
    }

    fn check_factored(&self, what: &str) -> Result<()> {
        if self.factored {
            Ok(())
        } else {
            Err(Error::invalid(
                "state solve",
                format!("{what} called before factor_at"),
            ))
        }
    }
}

impl<P: AdjointProblem + ?Sized> JacobianSolve for Factorizer<'_, P> {
    fn factor_at(&mut self, u: &[f64]) -> Result<()> {
        self.factored = false;
        self.fused_lambda = false;
        let t = Instant::now();
        self.problem
            .fill_dfdu(u, self.theta, self.dfdu.data_mut())?;
        self.assemble += t.elapsed();
        let t = Instant::now();
        self.solver.factor(self.dfdu, "df/du")?;
        self.factor += t.elapsed();
        self.factored = true;
        if let Some(at) = self.factored_u.as_deref_mut() {
            at.copy_from_slice(u);
        }
        Ok(())
    }

    fn previous_state(&self) -> bool {
        self.warm
    }

    fn jacobian(&self) -> Option<&CsMat<f64>> {
        self.factored.then_some(&*self.dfdu)
    }

    fn set_state_iterations(&mut self, iterations: usize) {
        self.iterations = Some(iterations);
    }

    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.check_factored("solve_in_place")?;
        if self.solve_fused(rhs)? {
            rhs.copy_from_slice(&self.fused[..rhs.len()]);
            return Ok(());
        }
        self.solver.solve_in_place(rhs)
    }

    fn solve_into(&mut self, rhs: &[f64], x: &mut [f64]) -> Result<()> {
        self.check_factored("solve_into")?;
        assert_eq!(
            rhs.len(),
            x.len(),
            "solve_into: x of another length than rhs"
        );
        if self.solve_fused(rhs)? {
            x.copy_from_slice(&self.fused[..rhs.len()]);
            return Ok(());
        }
        self.solver.solve_scaled_into(rhs, 1.0, x)
    }
}
