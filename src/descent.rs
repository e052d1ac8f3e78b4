//! Gradient descent `θ ← θ − η ∇L(θ)` for any problem with a gradient.
//!
//! [`Gradient`] is what descent needs: `L(θ)` and `∇L(θ)` at a point. [`EngineGradient`]
//! provides it for any [`AdjointProblem`] through the engine (one [`AdjointWorkspace`], its
//! symbolic analysis reused by every step); the network's dense fast path
//! ([`MlpGradient`](crate::problems::mlp::fast::MlpGradient)) provides it too. Both
//! `adjoint mlp` paths and `adjoint mlp --network` train with [`gradient_descent`].
//!
//! # Example
//! ```
//! use adjoint::descent::{gradient_descent, EngineGradient};
//! use adjoint::problems::tridiagonal::Tridiagonal;
//! # fn main() -> adjoint::Result<()> {
//! let (p, mut theta) = Tridiagonal::random(20, 0)?;
//! theta[..20].iter_mut().for_each(|d| *d += 4.0); // diagonally dominant
//! let mut g = EngineGradient::new(&p)?;
//! let first = g.workspace_mut().evaluate(&p, &theta)?;
//! let report = gradient_descent(&mut g, &mut theta, 1e-2, 20, |_, _| {})?;
//! assert!(report.objective < first);
//! # Ok(()) }
//! ```

use crate::{AdjointProblem, AdjointWorkspace, Error, Result, SolverKind};

/// `L(θ)` and `∇L(θ)` at a point: what gradient descent needs.
pub trait Gradient {
    /// Evaluates `L(θ)` and its gradient (read with [`gradient`](Self::gradient)).
    ///
    /// # Errors
    /// Whatever the evaluation reports.
    fn evaluate(&mut self, theta: &[f64]) -> Result<f64>;
    /// `∇L` at the last evaluated `θ`.
    fn gradient(&self) -> &[f64];
}

/// The engine's gradient of an [`AdjointProblem`]: a workspace bound to its problem.
#[derive(Debug)]
pub struct EngineGradient<'a, P> {
    problem: &'a P,
    ws: AdjointWorkspace,
}

impl<'a, P: AdjointProblem> EngineGradient<'a, P> {
    /// A workspace for `problem` (patterns and symbolic analysis, once) with
    /// [`SolverKind::Auto`].
    ///
    /// # Errors
    /// As [`AdjointWorkspace::new`].
    pub fn new(problem: &'a P) -> Result<Self> {
        Ok(EngineGradient {
            problem,
            ws: AdjointWorkspace::new(problem, SolverKind::Auto)?,
        })
    }

    /// The workspace: the state, adjoint, Jacobians and timings of the last evaluation.
    pub fn workspace(&self) -> &AdjointWorkspace {
        &self.ws
    }

    /// The workspace, mutably (e.g. to evaluate the problem at another `θ`).
    pub fn workspace_mut(&mut self) -> &mut AdjointWorkspace {
        &mut self.ws
    }
}

impl<P: AdjointProblem> Gradient for EngineGradient<'_, P> {
    fn evaluate(&mut self, theta: &[f64]) -> Result<f64> {
        self.ws.evaluate(self.problem, theta)
    }
    fn gradient(&self) -> &[f64] {
        self.ws.gradient()
    }
}

/// Where a descent ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DescentReport {
    /// Steps taken.
    pub iterations: usize,
    /// `L` at the final `θ` (one evaluation after the last step).
    pub objective: f64,
    /// `‖∇L‖₂` at the final `θ`.
    pub gradient_norm: f64,
}

/// The error of evaluation `iteration` of a descent: a non-finite value, or a `∂f/∂u` that
/// became numerically singular, after at least one step (`iteration ≥ 1`) is a divergence
/// ([`Error::Diverged`]), not bad input; any other error is returned as it is.
pub fn diverged_at(iteration: usize, e: Error) -> Error {
    match e {
        Error::NonFinite { .. }
        | Error::NonFiniteScalar { .. }
        | Error::NonFiniteEntry { .. }
        | Error::SingularPivot { .. }
        | Error::NumericallySingular { .. }
            if iteration > 0 =>
        {
            Error::Diverged {
                iteration,
                source: Box::new(e),
            }
        }
        e => e,
    }
}

/// Runs `iterations` steps of `θ ← θ − η ∇L` from `theta` (updated in place), calling
/// `on_step(k, L_k)` after each gradient evaluation, then evaluates once more at the final
/// `θ` (so `g` holds its state and gradient).
///
/// # Errors
/// [`Error::Invalid`] for a negative or non-finite `η`; [`Error::Diverged`] naming the
/// iteration `k ≥ 1` whose evaluation met a non-finite `θ`, state, objective or gradient
/// after the steps before it; whatever else the gradient reports.
pub fn gradient_descent<G: Gradient + ?Sized>(
    g: &mut G,
    theta: &mut [f64],
    lr: f64,
    iterations: usize,
    mut on_step: impl FnMut(usize, f64),
) -> Result<DescentReport> {
    if !(lr >= 0.0 && lr.is_finite()) {
        return Err(Error::invalid(
            "learning rate",
            format!("η must be finite and ≥ 0, got {lr}"),
        ));
    }
    let diverged = |k: usize| move |e: Error| diverged_at(k, e);
    for k in 0..iterations {
        let l = g.evaluate(theta).map_err(diverged(k))?;
        for (t, d) in theta.iter_mut().zip(g.gradient()) {
            *t -= lr * d;
        }
        on_step(k, l);
    }
    let objective = g.evaluate(theta).map_err(diverged(iterations))?;
    Ok(DescentReport {
        iterations,
        objective,
        gradient_norm: crate::sparse::norm2(g.gradient()),
    })
}
