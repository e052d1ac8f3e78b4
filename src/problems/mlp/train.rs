//! Gradient descent `θ ← θ − η ∇L` on a network, with either gradient path.

use super::fast::MlpGradient;
use super::Mlp;
use crate::{AdjointWorkspace, Error, Result, SolverKind};

/// Which implementation computes the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GradientPath {
    /// [`MlpGradient`]: dense blocks, outer products.
    #[default]
    Fast,
    /// The generic engine: explicit `L` and `Mᵀ`, DAG check, triangular sweep.
    Explicit,
}

impl std::str::FromStr for GradientPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fast" => Ok(GradientPath::Fast),
            "explicit" => Ok(GradientPath::Explicit),
            _ => Err(Error::invalid(
                "path",
                format!("unknown path {s:?} (expected fast or explicit)"),
            )),
        }
    }
}

/// Where training ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainReport {
    /// Gradient steps taken.
    pub iterations: usize,
    /// `L` at the final `θ`.
    pub objective: f64,
    /// `‖u_N − y‖₂` at the final `θ` (`|u_N − y|` for one output).
    pub output_error: f64,
    /// `‖∇L‖₂` at the final `θ`.
    pub gradient_norm: f64,
}

/// Either path behind one interface.
enum Engine {
    Fast(MlpGradient),
    Explicit(Box<AdjointWorkspace>),
}

impl Engine {
    fn new(mlp: &Mlp, path: GradientPath) -> Result<Self> {
        Ok(match path {
            GradientPath::Fast => Engine::Fast(MlpGradient::new(mlp)),
            GradientPath::Explicit => {
                Engine::Explicit(Box::new(AdjointWorkspace::new(mlp, SolverKind::Auto)?))
            }
        })
    }
    fn evaluate(&mut self, mlp: &Mlp, theta: &[f64]) -> Result<f64> {
        match self {
            Engine::Fast(g) => g.evaluate(mlp, theta),
            Engine::Explicit(w) => w.evaluate(mlp, theta),
        }
    }
    fn gradient(&self) -> &[f64] {
        match self {
            Engine::Fast(g) => g.gradient(),
            Engine::Explicit(w) => w.gradient(),
        }
    }
    fn u(&self) -> &[f64] {
        match self {
            Engine::Fast(g) => g.u(),
            Engine::Explicit(w) => w.u(),
        }
    }
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
/// `on_step(k, L_k)` after each gradient evaluation, and reports the final state.
///
/// # Errors
/// [`Error::Invalid`] for a negative or non-finite `η`; [`Error::Diverged`] naming the
/// iteration `k ≥ 1` whose evaluation met a non-finite `θ`, state, objective or gradient after
/// the steps before it; whatever else the gradient reports.
pub fn gradient_descent(
    mlp: &Mlp,
    theta: &mut [f64],
    lr: f64,
    iterations: usize,
    path: GradientPath,
    mut on_step: impl FnMut(usize, f64),
) -> Result<TrainReport> {
    if !(lr >= 0.0 && lr.is_finite()) {
        return Err(Error::invalid(
            "learning rate",
            format!("η must be finite and ≥ 0, got {lr}"),
        ));
    }
    let mut engine = Engine::new(mlp, path)?;
    let diverged = |k: usize| move |e: Error| diverged_at(k, e);
    for k in 0..iterations {
        let l = engine.evaluate(mlp, theta).map_err(diverged(k))?;
        for (t, g) in theta.iter_mut().zip(engine.gradient()) {
            *t -= lr * g;
        }
        on_step(k, l);
    }
    let objective = engine.evaluate(mlp, theta).map_err(diverged(iterations))?;
    let out = &engine.u()[mlp.layout().state_range(mlp.layout().n_layers() - 1)];
    let output_error = crate::sparse::distance2(out, mlp.y());
    let gradient_norm = crate::sparse::norm2(engine.gradient());
    Ok(TrainReport {
        iterations,
        objective,
        output_error,
        gradient_norm,
    })
}
