//! The traits a user implements to describe a problem.
//!
//! A problem is
//!
//! ```text
//!     min_θ  L(u, θ)          L : ℝ^{n_u} × ℝ^{n_θ} → ℝ
//!     s.t.   f(u, θ) = 0      f : ℝ^{n_u} × ℝ^{n_θ} → ℝ^{n_u}
//! ```
//!
//! where the constraint defines the state `u(θ)` implicitly. Each capability is a small trait,
//! and the algorithms state as bounds the ones they need:
//!
//! | trait          | provides                                                              |
//! |----------------|-----------------------------------------------------------------------|
//! | [`Problem`]    | the sizes `n_u` and `n_θ`                                             |
//! | [`Residual`]   | `f(u, θ)` (used by checks, not by the gradient)                       |
//! | [`Objective`]  | `L(u, θ)`, `(∂L/∂u)ᵀ ∈ ℝ^{n_u}`, `(∂L/∂θ)ᵀ ∈ ℝ^{n_θ}`                 |
//! | [`Jacobians`]  | the sparse `∂f/∂u` (n_u × n_u) and `∂f/∂θ` (n_u × n_θ): pattern + values |
//! | [`StateSolve`] | the state `u(θ)` with `f(u(θ), θ) = 0`                                 |
//!
//! [`AdjointProblem`] is all of them except `Residual`; it is implemented automatically.
//!
//! # Patterns and values
//!
//! The sparsity pattern of a Jacobian is asked for **once** ([`Jacobians::dfdu_pattern`]), as a
//! CSC [`sprs::CsStructure`]. For each new `(u, θ)` the engine hands the problem the value array
//! of that pattern to refill in place ([`Jacobians::fill_dfdu`]), in CSC storage order: entry
//! `k` of `values` belongs to row `pattern.indices()[k]` of the column `j` with
//! `indptr[j] ≤ k < indptr[j+1]`. Nothing is reallocated between evaluations, so symbolic
//! factorizations computed on the pattern stay valid. [`crate::sparse::SlotMap`] turns a list
//! of `(row, col)` positions into such a pattern and tells where each position is stored.

use crate::Result;
use sprs::CsStructure;

/// Sizes of a problem `min L(u,θ) s.t. f(u,θ) = 0`.
pub trait Problem {
    /// `n_u`: the number of state variables, which is also the number of equations in `f`.
    fn n_state(&self) -> usize;
    /// `n_θ`: the number of parameters.
    fn n_params(&self) -> usize;
}

/// The constraint residual `f(u, θ) ∈ ℝ^{n_u}`.
pub trait Residual: Problem {
    /// Writes `f(u, θ)` into `f` (length `n_u`).
    ///
    /// # Errors
    /// Whatever the problem finds wrong with `u` or `θ`.
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()>;
}

/// The objective `L(u, θ)` and its partial derivatives.
pub trait Objective: Problem {
    /// `L(u, θ)`.
    ///
    /// # Errors
    /// Whatever the problem finds wrong with `u` or `θ`.
    fn objective(&self, u: &[f64], theta: &[f64]) -> Result<f64>;

    /// Writes the partial gradient `(∂L/∂u)ᵀ` (length `n_u`), overwriting the slice.
    ///
    /// # Errors
    /// Whatever the problem finds wrong with `u` or `θ`.
    fn objective_partial_u(&self, u: &[f64], theta: &[f64], dl_du: &mut [f64]) -> Result<()>;

    /// `L(u, θ)` and `(∂L/∂u)ᵀ` in one call (what the engine uses). The default calls
    /// [`objective`](Self::objective) and [`objective_partial_u`](Self::objective_partial_u);
    /// a problem may override it to share their work (one pass over `u` instead of two).
    ///
    /// # Errors
    /// As the two methods.
    fn objective_with_partial_u(&self, u: &[f64], theta: &[f64], dl_du: &mut [f64]) -> Result<f64> {
        let value = self.objective(u, theta)?;
        self.objective_partial_u(u, theta, dl_du)?;
        Ok(value)
    }

    /// Writes the partial gradient `(∂L/∂θ)ᵀ` (length `n_θ`) and returns
    /// [`Partial::Written`], or leaves the slice alone and returns [`Partial::Zero`] when
    /// `∂L/∂θ = 0` at this point (the engine then skips it: for a network without
    /// regularization that saves two passes over `n_θ` numbers).
    ///
    /// # Errors
    /// Whatever the problem finds wrong with `u` or `θ`.
    fn objective_partial_theta(
        &self,
        u: &[f64],
        theta: &[f64],
        dl_dtheta: &mut [f64],
    ) -> Result<Partial>;

    /// Whether `∂L/∂u` depends on `u` (`true` by default). When it does not (`L = cᵀu`, the
    /// compliance), `∂f/∂u` does not depend on `u` either and the solver is symmetric, the
    /// engine solves the state and the adjoint system together, `∂f/∂u [u λ] = [b −(∂L/∂u)ᵀ]`,
    /// in one pass over the factor. The engine checks the claim: `∂L/∂u` is taken at `u = 0`
    /// for the fused solve and again at the state, and the adjoint is solved alone when they
    /// differ.
    fn objective_partial_u_depends_on_u(&self) -> bool {
        true
    }
}

/// What [`Objective::objective_partial_theta`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partial {
    /// The values were written.
    Written,
    /// `∂L/∂θ` is zero; nothing was written.
    Zero,
}

/// The explicit sparse Jacobians of the constraint: pattern once, values per evaluation.
pub trait Jacobians: Problem {
    /// The pattern of `∂f/∂u` (n_u × n_u, CSC). Entries that may become zero for some `θ`
    /// must still be in it.
    fn dfdu_pattern(&self) -> CsStructure;

    /// Writes the values of `∂f/∂u` at `(u, θ)` in the storage order of
    /// [`dfdu_pattern`](Self::dfdu_pattern).
    ///
    /// # Errors
    /// Whatever the problem finds wrong with `u` or `θ`.
    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()>;

    /// The pattern of `∂f/∂θ` (n_u × n_θ, CSC).
    fn dfdtheta_pattern(&self) -> CsStructure;

    /// Writes the values of `∂f/∂θ` at `(u, θ)` in the storage order of
    /// [`dfdtheta_pattern`](Self::dfdtheta_pattern).
    ///
    /// # Errors
    /// Whatever the problem finds wrong with `u` or `θ`.
    fn fill_dfdtheta(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()>;

    /// Whether `∂f/∂u` depends on `u`. When it does not (a constraint linear in `u`), a
    /// factorization made during the state solve is reused for the adjoint solve.
    fn dfdu_depends_on_u(&self) -> bool;

    /// Block offsets `[0, n_1, n_1 + n_2, …, n_u]` of `∂f/∂u`, when the problem has a block
    /// structure (the time steps of an ODE): with them [`crate::SolverKind::Auto`] can choose
    /// the block-triangular solver, and reports show the blocks. `None` by default.
    fn dfdu_blocks(&self) -> Option<Vec<usize>> {
        None
    }

    /// A nested dissection of the unknowns of `∂f/∂u` (for a mesh, from its geometry), when
    /// the problem has one: Cholesky then eliminates in its order, and factorizes its two
    /// parts on two threads ([`crate::solve::SplitCholesky`]). `None` by default (faer's
    /// minimum degree ordering).
    fn dfdu_dissection(&self) -> Option<crate::solve::Dissection> {
        None
    }
}

/// Access to `∂f/∂u` and its factorization, lent to [`StateSolve::solve_state`].
///
/// A linear constraint `f = A(θ)u − b` solves its state with it (`factor_at` then
/// `solve_in_place`), so the factorization is shared with the adjoint solve; a Newton method
/// would call both once per iteration; an explicit forward pass ignores it.
pub trait JacobianSolve {
    /// Assembles `∂f/∂u` at `(u, θ)` and factorizes it, reusing the symbolic analysis.
    ///
    /// # Errors
    /// Non-finite or asymmetric values (for LDLᵀ), a zero pivot, a problem error.
    fn factor_at(&mut self, u: &[f64]) -> Result<()>;

    /// Solves `(∂f/∂u) x = rhs` in place with the last factorization.
    ///
    /// # Errors
    /// When nothing was factorized yet, or the solver meets a zero pivot.
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()>;

    /// Writes `x = (∂f/∂u)⁻¹ rhs`, leaving `rhs` untouched (the default copies, then solves in
    /// place; the engine's implementation avoids the copy where the solver allows).
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    fn solve_into(&mut self, rhs: &[f64], x: &mut [f64]) -> Result<()> {
        x.copy_from_slice(rhs);
        self.solve_in_place(x)
    }

    /// Whether `u` holds, on entry to [`StateSolve::solve_state`], the state of the previous
    /// successful evaluation (a warm start for an iterative solve). `false` by default and on
    /// a workspace's first evaluation.
    fn previous_state(&self) -> bool {
        false
    }

    /// The matrix `∂f/∂u` of the last [`factor_at`](Self::factor_at), if the implementation
    /// can lend it (the engine's does): for stopping rules relative to `|∂f/∂u| |u|`.
    fn jacobian(&self) -> Option<&sprs::CsMat<f64>> {
        None
    }

    /// Reports the iterations an iterative state solve took (the engine shows them as
    /// [`crate::AdjointWorkspace::state_iterations`]). Ignored by default.
    fn set_state_iterations(&mut self, iterations: usize) {
        let _ = iterations;
    }
}

/// The state solve `θ ↦ u(θ)` with `f(u(θ), θ) = 0`.
pub trait StateSolve: Problem {
    /// Writes `u(θ)` into `u` (length `n_u`). On entry `u` holds the previous evaluation's
    /// state when [`JacobianSolve::previous_state`] says so (a warm start), and is otherwise
    /// unspecified.
    ///
    /// # Errors
    /// Whatever prevents solving, e.g. a singular `∂f/∂u`.
    fn solve_state(
        &self,
        theta: &[f64],
        jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()>;
}

/// Everything the adjoint engine needs; implemented for every type with the four traits.
///
/// `Sync` because an evaluation shares the problem between two threads: `∂f/∂θ` is filled on
/// one while the adjoint solve runs on the other (above [`crate::thresholds::PARALLEL_THRESHOLD`]).
pub trait AdjointProblem: Objective + Jacobians + StateSolve + Sync {}

impl<T: Objective + Jacobians + StateSolve + Sync> AdjointProblem for T {}
