//! # adjoint — the adjoint method, made explicit
//!
//! For a problem
//!
//! ```text
//!     min_θ L(u, θ)   subject to   f(u, θ) = 0,      u ∈ ℝ^{n_u}, θ ∈ ℝ^{n_θ},
//! ```
//!
//! the adjoint method assembles the sparse Jacobians `∂f/∂u` (n_u × n_u) and `∂f/∂θ`
//! (n_u × n_θ), solves one linear system for the adjoint `λ ∈ ℝ^{n_u}`,
//!
//! ```text
//!     (∂f/∂u)ᵀ λ = −(∂L/∂u)ᵀ,
//! ```
//!
//! and forms the gradient without ever computing the n_u × n_θ sensitivity `du/dθ`:
//!
//! ```text
//!     dL/dθ = ∂L/∂θ + λᵀ ∂f/∂θ.
//! ```
//!
//! Backpropagation is the special case `f(u, θ) = u − Φ(u, θ)` of a layered network, where
//! `∂f/∂u` is block lower triangular with identity diagonal blocks.
//!
//! ## Map of the crate
//! - [`derived`]: your own problem in one function — a [`Model`] written once over [`Scalar`];
//!   [`Derived`] detects its patterns, colors its Jacobians, evaluates them by compressed
//!   forward mode, solves the state by Newton's method and the objective's partials by
//!   reverse mode.
//! - [`problem`]: the traits the engine uses (sizes, residual, objective, sparse partials
//!   with their patterns, state solve), for hand-written problems.
//! - [`adjoint`]: the generic gradient and its reusable [`AdjointWorkspace`];
//!   [`descent`]: gradient descent for any problem with a gradient.
//! - [`solve`]: the linear solvers for `∂f/∂u` (sparse `LDLᵀ` with a banded kernel for the
//!   tridiagonal pattern, triangular sweeps for DAGs, `LU`), chosen by [`SolverKind`].
//! - [`problems`]: built-in problems — the seed's tridiagonal problem, general parametrized
//!   linear constraints ([`problems::linear::ParamLinear`]), the seed's layered network
//!   ([`problems::mlp::Mlp`], with its dense fast path) and general layered networks
//!   ([`problems::network::Network`]); each is also a [`Model`] ([`AsModel`]).
//! - [`objectives`]: objectives as types, shared by the built-ins.
//! - [`mtx`]: Matrix Market reading and writing; [`io`]: export folders (writing them, their
//!   `problem.json` schema, reading them back); [`folder`]: folders replaced as a whole.
//! - [`inspect`]: readable text forms of sparse matrices (patterns, triplets).
//! - [`check`]: verification (partials against dual numbers or finite differences, the
//!   Taylor test, forward sensitivities).
//! - [`dag`]: the DAG check of `∂f/∂u`; [`spy`]: spy plots; [`structured`]: lazy operators.
//! - [`sparse`] (patterns, slots, `Mᵀx` kernels), [`rng`]: utilities;
//!   [`thresholds`]: the sizes above which the hot paths stream their stores or split their
//!   passes over two threads.
//!
//! ## Example
//! ```
//! use adjoint::problems::tridiagonal::Tridiagonal;
//! # fn main() -> adjoint::Result<()> {
//! let (problem, theta) = Tridiagonal::random(1000, 0)?;
//! let (objective, gradient) = adjoint::gradient(&problem, &theta)?;
//! assert_eq!(gradient.len(), 1999);
//! # let _ = objective;
//! # Ok(()) }
//! ```

pub mod adjoint;
pub mod blocks;
pub mod check;
pub mod dag;
pub mod derived;
pub mod descent;
pub mod error;
pub mod folder;
pub mod io;
/// Export folders (the same module as [`io::export`]).
pub use io::export;
#[cfg(feature = "plot")]
pub mod font;
pub mod inspect;
pub(crate) mod kernels;
pub mod mtx;
pub mod objectives;
pub(crate) mod parallel;
pub mod problem;
pub mod problems;
pub mod resources;
pub mod rng;
pub mod solve;
pub mod sparse;
pub mod spy;
pub mod structured;
mod tempfs;

/// Sizes at which the hot paths change strategy, public so that tests and benchmarks can run
/// above them (a path that only starts above a threshold is tested above it).
pub mod thresholds {
    /// Outputs of at least this many `f64`s (8 MiB) are written with non-temporal stores.
    pub use crate::kernels::STREAMING_THRESHOLD;
    /// Passes over at least this many `f64`s (4 MiB) are split across two threads (rayon's
    /// pool; `RAYON_NUM_THREADS=1` makes every evaluation sequential, bit for bit the same).
    pub use crate::parallel::PARALLEL_THRESHOLD;
    /// From this many elements the MBB beam's element loops (moduli, `∂f/∂θ`) run on two
    /// threads.
    pub use crate::problems::topopt::PARALLEL_ELEMENTS;
    /// From this many unknowns a Cholesky with the problem's nested dissection factorizes
    /// and solves its two parts on two threads ([`crate::solve::SplitCholesky`]).
    pub use crate::solve::split_cholesky::SPLIT_THRESHOLD;
}

pub use crate::adjoint::{gradient, AdjointWorkspace, Timings};
pub use crate::derived::{scalar::Scalar, AsModel, Coloring, Derived, Model, Patterns};
pub use crate::error::{Error, Result};
pub use crate::problem::{
    AdjointProblem, JacobianSolve, Jacobians, Objective, Partial, Problem, Residual, StateSolve,
};
pub use crate::solve::{Factorization, Solver, SolverKind, SolverOptions};
