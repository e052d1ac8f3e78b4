//! Gradient descent `θ ← θ − η ∇L` on a network, with either gradient path (the generic
//! [`crate::descent::gradient_descent`] behind both).

use super::fast::MlpGradient;
use super::Mlp;
pub use crate::descent::diverged_at;
use crate::descent::{EngineGradient, Gradient};
use crate::{Error, Result};

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

/// Either path behind one [`Gradient`].
enum Engine<'a> {
    Fast(&'a Mlp, MlpGradient),
    Explicit(Box<EngineGradient<'a, Mlp>>),
}

impl<'a> Engine<'a> {
    fn new(mlp: &'a Mlp, path: GradientPath) -> Result<Self> {
        Ok(match path {
            GradientPath::Fast => Engine::Fast(mlp, MlpGradient::new(mlp)),
            GradientPath::Explicit => Engine::Explicit(Box::new(EngineGradient::new(mlp)?)),
        })
    }
    fn u(&self) -> &[f64] {
        match self {
            Engine::Fast(_, g) => g.u(),
            Engine::Explicit(e) => e.workspace().u(),
        }
    }
}

impl Gradient for Engine<'_> {
    fn evaluate(&mut self, theta: &[f64]) -> Result<f64> {
        match self {
            Engine::Fast(mlp, g) => g.evaluate(mlp, theta),
            Engine::Explicit(e) => e.evaluate(theta),
        }
    }
    fn gradient(&self) -> &[f64] {
        match self {
            Engine::Fast(_, g) => g.gradient(),
            Engine::Explicit(e) => e.gradient(),
        }
    }
}

/// [`crate::descent::gradient_descent`] on a network with either gradient path, reporting
/// the output error too.
///
/// # Errors
/// As [`crate::descent::gradient_descent`].
pub fn gradient_descent(
    mlp: &Mlp,
    theta: &mut [f64],
    lr: f64,
    iterations: usize,
    path: GradientPath,
    on_step: impl FnMut(usize, f64),
) -> Result<TrainReport> {
    let mut engine = Engine::new(mlp, path)?;
    let r = crate::descent::gradient_descent(&mut engine, theta, lr, iterations, on_step)?;
    let out = &engine.u()[mlp.layout().state_range(mlp.layout().n_layers() - 1)];
    Ok(TrainReport {
        iterations: r.iterations,
        objective: r.objective,
        output_error: crate::sparse::distance2(out, mlp.y()),
        gradient_norm: r.gradient_norm,
    })
}
