//! Time-dependent problems: the discrete adjoint of time stepping.
//!
//! An ODE `dx/dt = g(t, x, θ)`, `x(0) = x_0(θ)`, on a grid `0 = t_0 < t_1 < … < t_K`
//! (`h_k = t_k − t_{k−1}`) is discretized first and then differentiated. The unknowns are the
//! stacked states `u = [x_1; …; x_K]` (`n_u = K n`), and block `k` of the constraint is
//!
//! ```text
//!     f_k(u, θ) = x_k − x_{k−1} − h_k G_k,    G_k = w g(t_k, x_k, θ) + (1 − w) g(t_{k−1}, x_{k−1}, θ)
//! ```
//!
//! with `w = 0` (explicit Euler), `1` (implicit Euler) or `½` (Crank–Nicolson, [`Scheme`]).
//! The objective is `L = Σ_{k=1..K} h_k l(t_k, x_k, θ) + Φ(x_K, θ)`. So `∂f/∂u` is block
//! lower bidiagonal,
//!
//! ```text
//!     ∂f_k/∂x_k     =  I − w h_k ∂g/∂x(t_k, x_k)              (diagonal blocks)
//!     ∂f_k/∂x_{k−1} = −I − (1 − w) h_k ∂g/∂x(t_{k−1}, x_{k−1})  (sub-diagonal blocks)
//! ```
//!
//! a DAG at the level of time steps: with explicit Euler the diagonal blocks are identities
//! (a residual network, backpropagation again); otherwise the adjoint sweep
//!
//! ```text
//!     (∂f_k/∂x_k)ᵀ λ_k = −(∂L/∂x_k)ᵀ − (∂f_{k+1}/∂x_k)ᵀ λ_{k+1},     k = K, K−1, …, 1
//!     dL/dθ = ∂L/∂θ + Σ_k λ_kᵀ ∂f_k/∂θ
//! ```
//!
//! factorizes only them ([`BlockTriangularSolver`](crate::solve::BlockTriangularSolver)).
//!
//! - [`OdeModel`]: the ODE written once over [`Scalar`]: `g`, `x_0(θ)`, `l`
//!   and an optional `Φ`. Their Jacobians are derived (sparsity detection, coloring,
//!   compressed dual numbers).
//! - [`OdeProblem`]: the stacked problem. It implements the engine's traits (with
//!   [`Jacobians::dfdu_blocks`](crate::Jacobians::dfdu_blocks) giving the steps, so
//!   [`SolverKind::Auto`](crate::SolverKind::Auto) picks the block-triangular solver); its
//!   state solve is a **time march**, one Newton solve per implicit step.
//! - [`OdeWorkspace`]: the gradient in the **explicit** mode (every block held: inspectable,
//!   exportable) or the **checkpointed** mode (binomial checkpointing, memory `O(s n)`),
//!   which agree bit for bit.
//! - [`builtin`]: Lotka–Volterra, the heat equation, Robertson's stiff kinetics.
//!
//! # Example
//! ```
//! use adjoint::problems::ode::{builtin::LotkaVolterra, Mode, OdeProblem, OdeWorkspace, Scheme, TimeGrid};
//! # fn main() -> adjoint::Result<()> {
//! let grid = TimeGrid::uniform(100, 1.0)?;
//! let p = OdeProblem::new(LotkaVolterra, Scheme::ImplicitEuler, grid)?;
//! let theta = [1.5, 1.0, 3.0, 1.0];
//! let mut explicit = OdeWorkspace::new(&p, Mode::Explicit)?;
//! let mut checkpointed = OdeWorkspace::new(&p, Mode::Checkpointed { checkpoints: 4 })?;
//! let l = explicit.evaluate(&p, &theta)?;
//! assert_eq!(checkpointed.evaluate(&p, &theta)?, l);
//! assert_eq!(checkpointed.gradient(), explicit.gradient()); // bit for bit
//! assert!(checkpointed.stats().peak_state_memory_bytes < explicit.stats().peak_state_memory_bytes);
//! # Ok(()) }
//! ```

pub mod builtin;
mod grid;
mod small;
mod stacked;
mod step;
mod workspace;

pub use grid::{Scheme, TimeGrid};
pub use workspace::{Mode, OdeStats, OdeWorkspace};

use crate::{Result, Scalar};
use stacked::Stacked;
use std::sync::{Arc, Mutex};
use step::{Kernels, StepWork};

/// An ODE `dx/dt = g(t, x, θ)`, `x(0) = x_0(θ)`, with the objective's running cost `l` and
/// optional terminal cost `Φ`, written once over [`Scalar`]. Every function must write all
/// of its outputs (they arrive filled with zeros) and be deterministic; branching on values
/// is refused by sparsity detection, as for [`Model`](crate::Model).
pub trait OdeModel: Send + Sync {
    /// `n`: the size of the state `x`.
    fn n_state(&self) -> usize;
    /// `n_θ`: the number of parameters.
    fn n_params(&self) -> usize;
    /// Writes `g(t, x, θ) = dx/dt` into `dxdt` (length `n`).
    fn rhs<T: Scalar>(&self, t: f64, x: &[T], theta: &[T], dxdt: &mut [T]);
    /// Writes the initial state `x_0(θ)` into `x0`.
    fn initial_state<T: Scalar>(&self, theta: &[T], x0: &mut [T]);
    /// The running cost `l(t, x, θ)` of `L = Σ_k h_k l(t_k, x_k, θ) + Φ(x_K, θ)`.
    fn running_cost<T: Scalar>(&self, t: f64, x: &[T], theta: &[T]) -> T;
    /// The terminal cost `Φ(x_K, θ)`, or `None` (the default) for none.
    fn terminal_cost<T: Scalar>(&self, x: &[T], theta: &[T]) -> Option<T> {
        let _ = (x, theta);
        None
    }
    /// The pattern of a hand-written `∂g/∂x` (n × n, CSC), or `None` (the default) to have it
    /// derived. A hand-written Jacobian is checked once against the derived one (pattern and
    /// values at a random point) when the problem is built.
    fn jacobian_x_pattern(&self) -> Option<sprs::CsStructure> {
        None
    }
    /// Writes the hand-written `∂g/∂x(t, x, θ)` in the storage order of
    /// [`jacobian_x_pattern`](Self::jacobian_x_pattern) (`values` arrives zeroed). Called only
    /// when that pattern is given.
    fn jacobian_x(&self, t: f64, x: &[f64], theta: &[f64], values: &mut [f64]) {
        let _ = (t, x, theta, values);
    }
    /// The pattern of a hand-written `∂g/∂θ` (n × n_θ, CSC), or `None` (the default).
    fn jacobian_theta_pattern(&self) -> Option<sprs::CsStructure> {
        None
    }
    /// Writes the hand-written `∂g/∂θ(t, x, θ)` in the storage order of
    /// [`jacobian_theta_pattern`](Self::jacobian_theta_pattern).
    fn jacobian_theta(&self, t: f64, x: &[f64], theta: &[f64], values: &mut [f64]) {
        let _ = (t, x, theta, values);
    }
    /// Rejects parameters the model cannot use, with [`Error::model`](crate::Error::model).
    ///
    /// # Errors
    /// The model's own.
    fn check_params(&self, theta: &[f64]) -> Result<()> {
        let _ = theta;
        Ok(())
    }
}

/// The stacked time-stepping problem of an [`OdeModel`] on a grid with a scheme (see the
/// module documentation).
pub struct OdeProblem<M> {
    kernels: Kernels<M>,
    grid: TimeGrid,
    scheme: Scheme,
    /// Laid out on first use: the checkpointed mode never needs it.
    stacked: std::sync::OnceLock<Stacked>,
    work: Mutex<StepWork>,
}

impl<M> std::fmt::Debug for OdeProblem<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OdeProblem")
            .field("n", &self.kernels.n)
            .field("n_params", &self.kernels.n_t)
            .field("steps", &self.grid.steps())
            .field("scheme", &self.scheme)
            .finish()
    }
}

impl<M: OdeModel> OdeProblem<M> {
    /// Detects the patterns of `g`'s Jacobians (once) and lays out the stacked patterns.
    ///
    /// # Errors
    /// [`Error::Invalid`](crate::Error::Invalid) for `n = 0`;
    /// [`Error::ValueDuringDetection`](crate::Error::ValueDuringDetection) for a model that
    /// branches on values. The stacked matrices are laid out later, when first needed
    /// ([`prepare_stacked`](Self::prepare_stacked)).
    pub fn new(model: M, scheme: Scheme, grid: TimeGrid) -> Result<Self> {
        let kernels = Kernels::new(Arc::new(model), scheme.weight())?;
        let work = Mutex::new(StepWork::new(&kernels)?);
        Ok(OdeProblem {
            kernels,
            grid,
            scheme,
            stacked: std::sync::OnceLock::new(),
            work,
        })
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.kernels.ode
    }
    /// The time grid.
    pub fn grid(&self) -> &TimeGrid {
        &self.grid
    }
    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// `n`, the size of one step's state.
    pub fn n(&self) -> usize {
        self.kernels.n
    }
    /// The number of steps `K`.
    pub fn steps(&self) -> usize {
        self.grid.steps()
    }
    /// The block offsets of `∂f/∂u`: `[0, n, 2n, …, K n]`, block `k − 1` holding step `k`.
    pub fn block_offsets(&self) -> Vec<usize> {
        (0..=self.grid.steps())
            .map(|k| k * self.kernels.n)
            .collect()
    }
    /// Labels of the blocks for reports and pictures: `step 1`, …, `step K`.
    pub fn block_labels(&self) -> Vec<String> {
        (1..=self.grid.steps())
            .map(|k| format!("step {k}"))
            .collect()
    }
    /// Lays out the stacked patterns of `∂f/∂u` and `∂f/∂θ` (once; the explicit mode and the
    /// engine's traits need them, the checkpointed mode does not), checking first that they
    /// fit in memory.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`](crate::Error::OutOfMemory) for a grid whose stacked matrices
    /// this process cannot hold.
    pub fn prepare_stacked(&self) -> Result<()> {
        self.stacked_checked().map(|_| ())
    }

    fn stacked_checked(&self) -> Result<&Stacked> {
        if let Some(s) = self.stacked.get() {
            return Ok(s);
        }
        let s = Stacked::new(&self.kernels, self.grid.steps())?;
        Ok(self.stacked.get_or_init(|| s))
    }

    /// The stacked patterns, for the engine's traits (whose pattern methods cannot fail).
    ///
    /// # Panics
    /// When they do not fit in memory and [`prepare_stacked`](Self::prepare_stacked) was not
    /// called first to report it as an error.
    fn stacked(&self) -> &Stacked {
        match self.stacked_checked() {
            Ok(s) => s,
            Err(e) => panic!("OdeProblem: {e} (call prepare_stacked first for a typed error)"),
        }
    }

    /// Whether `g` is linear in `x` (Newton then factorizes once per step).
    pub fn is_linear(&self) -> bool {
        self.kernels.linear
    }

    /// The time march: `x_0 = x_0(θ)`, then each step in turn (one Newton solve per implicit
    /// step, warm-started from `x_{k−1}`), writing `x_1 … x_K` into `u` and returning the
    /// Newton iterations of all steps.
    ///
    /// # Errors
    /// [`Error::TimeStep`](crate::Error::TimeStep) naming the step that failed; a bad `θ`.
    pub fn march(&self, theta: &[f64], u: &mut [f64]) -> Result<usize> {
        self.check_theta(theta)?;
        let n = self.kernels.n;
        let mut w = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let mut x0 = vec![0.0; n];
        self.kernels.x0(theta, &mut x0);
        crate::error::check_finite("initial state x0", &x0)?;
        let mut iterations = 0;
        for k in 1..=self.grid.steps() {
            let (done, rest) = u.split_at_mut((k - 1) * n);
            let prev = if k == 1 {
                &x0[..]
            } else {
                &done[(k - 2) * n..]
            };
            iterations += step::advance(
                &self.kernels,
                &self.grid,
                k,
                theta,
                prev,
                &mut rest[..n],
                &mut w,
            )?;
        }
        Ok(iterations)
    }

    fn check_theta(&self, theta: &[f64]) -> Result<()> {
        crate::error::check_vector("theta", theta, self.kernels.n_t)?;
        self.kernels.ode.check_params(theta)
    }
}
