//! The structured fast path: backpropagation with dense blocks and outer products.
//!
//! The same adjoint as the explicit engine, written out per block. With `x_l` the input of
//! layer `l` (`u_0` or the previous output), `d_l = σ'(W_l x_l + b_l)` and
//! `λ = [λ_1; …; λ_N]` solving `Lᵀ λ = −(∂L/∂u)ᵀ`:
//!
//! ```text
//!     λ_N     = −2 (u_N − y)
//!     δ_l     = d_l ∘ λ_l                       (D_l λ_l)
//!     λ_{l−1} = W_lᵀ δ_l                        (block back-substitution, Lᵀ has −W_lᵀ D_l above the diagonal)
//!     dL/dW_l = 2ρ W_l − δ_l x_lᵀ,   dL/db_l = 2ρ b_l − δ_l      (−λᵀ D K, one outer product per layer)
//! ```
//!
//! [`MlpGradient`] keeps every buffer between calls: [`MlpGradient::evaluate`] allocates
//! nothing.

use super::dense::{self, backward_layer};
use super::Mlp;
use crate::error::check_vector;
use crate::Result;

/// Reusable buffers of the fast gradient.
#[derive(Debug, Clone)]
pub struct MlpGradient {
    u: Vec<f64>,
    lambda: Vec<f64>,
    delta: Vec<f64>,
    gradient: Vec<f64>,
    objective: f64,
}

impl MlpGradient {
    /// Buffers for `mlp`'s sizes.
    pub fn new(mlp: &Mlp) -> Self {
        let lay = mlp.layout();
        let widest = lay.layers().iter().copied().max().unwrap_or(0);
        MlpGradient {
            u: vec![0.0; lay.n_state()],
            lambda: vec![0.0; lay.n_state()],
            delta: vec![0.0; widest],
            gradient: vec![0.0; lay.n_params()],
            objective: f64::NAN,
        }
    }

    /// Forward pass and `L` only (for timing the cheap-gradient bound).
    ///
    /// # Errors
    /// [`crate::Error::Shape`] / [`crate::Error::NonFinite`] for a bad `θ`.
    pub fn forward(&mut self, mlp: &Mlp, theta: &[f64]) -> Result<f64> {
        let parallel = dense::splits(mlp.layout());
        crate::parallel::in_pool(parallel, || self.forward_on_thread(mlp, theta))
    }

    fn forward_on_thread(&mut self, mlp: &Mlp, theta: &[f64]) -> Result<f64> {
        let n = mlp.layout().n_params();
        if theta.len() != n {
            return Err(crate::Error::length("theta", n, theta.len()));
        }
        // (δ is free during the forward pass: it holds the split products' second halves)
        // θ is checked through the pre-activations (see `Mlp::forward_checked`); only on a
        // non-finite one is θ scanned, to name the bad entry.
        if let Some((l, i, z)) = mlp.forward_checked(theta, &mut self.u, Some(&mut self.delta)) {
            check_vector("theta", theta, n)?;
            return Err(crate::Error::NonFinite {
                what: format!("pre-activation W x + b of layer {}", l + 1),
                index: i,
                value: z,
            });
        }
        self.objective = crate::error::check_scalar(
            "objective L",
            crate::Objective::objective(mlp, &self.u, theta)?,
        )?;
        Ok(self.objective)
    }

    /// `L` and its gradient at `θ` (then available from [`gradient`](Self::gradient)).
    ///
    /// # Errors
    /// [`crate::Error::Shape`] / [`crate::Error::NonFinite`] for a bad `θ`.
    ///
    /// # Panics
    /// When used with a network of other sizes than the one it was made for.
    pub fn evaluate(&mut self, mlp: &Mlp, theta: &[f64]) -> Result<f64> {
        let parallel = dense::splits(mlp.layout());
        crate::parallel::in_pool(parallel, || self.evaluate_on_thread(mlp, theta))
    }

    fn evaluate_on_thread(&mut self, mlp: &Mlp, theta: &[f64]) -> Result<f64> {
        self.forward_on_thread(mlp, theta)?;
        // max |δ_l| · max |x_l| over the layers: when it is finite (and ρ = 0), so is every
        // entry −δ_r x_c of the gradient (rounding is monotone), and the n_θ-long check of
        // the gradient is not needed.
        let mut bound = 0.0_f64;
        let lay = mlp.layout();
        let act = mlp.activation();
        let rho2 = 2.0 * mlp.regularization();
        let n_layers = lay.n_layers();
        // λ_N = −2(u_N − y)
        let last = lay.state_range(n_layers - 1);
        for ((l, o), y) in self.lambda[last.clone()]
            .iter_mut()
            .zip(&self.u[last])
            .zip(mlp.y())
        {
            *l = -2.0 * (o - y);
        }
        for l in (0..n_layers).rev() {
            let rows = lay.layers()[l + 1];
            let out = lay.state_range(l);
            let delta = &mut self.delta[..rows];
            for ((dl, &lam), &y) in delta
                .iter_mut()
                .zip(&self.lambda[out.clone()])
                .zip(&self.u[out])
            {
                *dl = act.derivative_from_output(y) * lam;
            }
            let delta = &self.delta[..rows];
            let x: &[f64] = if l == 0 {
                mlp.u0()
            } else {
                &self.u[lay.state_range(l - 1)]
            };
            let w = &theta[lay.weight_range(l)];
            let gw = &mut self.gradient[lay.weight_range(l)];
            let layer_bound = max_abs(delta) * max_abs(x);
            bound = if layer_bound.is_nan() {
                f64::NAN
            } else {
                bound.max(layer_bound)
            };
            // the outer product dL/dW_l = 2ρ W_l − δ xᵀ and the back-substitution
            // λ_{l−1} = W_lᵀ δ, two faer kernels over the same column halves
            let (before, _) = self.lambda.split_at_mut(lay.state_range(l).start);
            let back = (l > 0).then(|| &mut before[lay.state_range(l - 1)]);
            backward_layer(rho2, w, delta, x, gw, back);
            let b = lay.bias_range(l);
            for ((g, &d), &bv) in self.gradient[b.clone()]
                .iter_mut()
                .zip(delta)
                .zip(&theta[b])
            {
                *g = rho2 * bv - d;
            }
        }
        crate::error::check_finite("adjoint lambda", &self.lambda)?;
        if rho2 != 0.0 || !bound.is_finite() {
            crate::error::check_finite("gradient dL/dtheta", &self.gradient)?;
        }
        Ok(self.objective)
    }

    /// `(dL/dθ)ᵀ` from the last [`evaluate`](Self::evaluate).
    pub fn gradient(&self) -> &[f64] {
        &self.gradient
    }
    /// The state `u = [u_1; …; u_N]`.
    pub fn u(&self) -> &[f64] {
        &self.u
    }
    /// The adjoint `λ` (solving `Lᵀλ = −(∂L/∂u)ᵀ`).
    pub fn lambda(&self) -> &[f64] {
        &self.lambda
    }
    /// `L` from the last evaluation.
    pub fn objective(&self) -> f64 {
        self.objective
    }
    /// `‖dL/dθ‖₂`.
    pub fn gradient_norm(&self) -> f64 {
        crate::sparse::norm2(&self.gradient)
    }
}

/// `max |v_i|`, NaN when `v` holds one.
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m: f64, x| {
        if x.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(x.abs())
        }
    })
}
