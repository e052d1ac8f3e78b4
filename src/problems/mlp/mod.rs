//! A layered network as an equality constraint: backpropagation as the adjoint method.
//!
//! Layer sizes `[n_0, n_1, …, n_N]` (`n_0` the input size), an activation `σ`, and
//!
//! ```text
//!     u_i = Φ_i(u_{i−1}, θ_i) = σ(W_i u_{i−1} + b_i),    W_i ∈ ℝ^{n_i × n_{i−1}},  i = 1…N
//! ```
//!
//! stacked as `f(u, θ) = u − Φ(u, θ) = 0` with `u = [u_1; …; u_N] ∈ ℝ^{n_u}`,
//! `n_u = n_1 + … + n_N`. The objective is `L = ‖u_N − y‖² + ρ‖θ‖²` (`y` a number broadcast to
//! all outputs, or a vector; `ρ ≥ 0` is the seed's `λR(θ)` with `R = ‖θ‖²`).
//!
//! # Parameter layout (as in the seed)
//! `θ = [vec(W_1); b_1; vec(W_2); b_2; …; vec(W_N); b_N]`, `vec` stacking columns
//! (column-major), so `W_i[r, c]` is `θ[off_i + c·n_i + r]` and `b_i[r]` is
//! `θ[off_i + n_i n_{i−1} + r]`; [`Layout`] gives the offsets. In code, layers are numbered
//! from 0: layer `l` is the seed's layer `i = l + 1`.
//!
//! # The explicit matrices
//! With `D_i = diag(σ'(W_i u_{i−1} + b_i))` and `D = blkdiag(D_1, …, D_N)`:
//!
//! ```text
//!     ∂f/∂u = L:   n_u × n_u, identity diagonal blocks, block (i, i−1) = −D_i W_i
//!                  stored entries: n_u + Σ_{i≥2} n_i n_{i−1}
//!     ∂f/∂θ = −Mᵀ, Mᵀ = D K,  K = blkdiag([u_{i−1}; 1]ᵀ ⊗ I_{n_i})
//!                  n_u × n_θ, exactly one stored entry per column: n_θ entries
//!     (∂L/∂u)ᵀ = [0; …; 0; 2(u_N − y)],    (∂L/∂θ)ᵀ = 2ρθ
//! ```
//!
//! `L` is lower triangular with a unit diagonal, so the engine's DAG check passes and the
//! adjoint `Lᵀλ = −(∂L/∂u)ᵀ` is one back-substitution without a single division; the gradient
//! is `dL/dθ = 2ρθ − λᵀ D K`. That is backpropagation. [`fast::MlpGradient`] computes the same
//! gradient with dense blocks and outer products, never forming a sparse matrix.

pub mod activation;
mod dense;
pub mod fast;
pub mod train;

pub use activation::Activation;

use crate::derived::{AsModel, Model};
use crate::error::check_vector;
use crate::objectives::{Functional, OutputMisfit};
use crate::problem::{JacobianSolve, Jacobians, Problem, Residual, StateSolve};
use crate::structured::kron::RowKron;
use crate::{Error, Result, Scalar};
use rand_distr::{Distribution, StandardNormal};
use sprs::{CsMat, CsStructure};

/// Sizes and offsets of a network's state and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    layers: Vec<usize>,
    /// `u_offsets[l]` is where `u_{l+1}` starts in `u`; the last entry is `n_u`.
    u_offsets: Vec<usize>,
    /// `theta_offsets[l]` is where layer `l`'s `vec(W)` starts; the last entry is `n_θ`.
    theta_offsets: Vec<usize>,
}

impl Layout {
    /// The layout of layer sizes `[n_0, …, n_N]`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for fewer than two sizes, a size of zero, or sizes whose state or
    /// parameter count overflows `usize`.
    pub fn new(layers: &[usize]) -> Result<Self> {
        if layers.len() < 2 {
            return Err(Error::invalid(
                "layers",
                format!("need an input size and at least one layer, got {layers:?}"),
            ));
        }
        if let Some(k) = layers.iter().position(|&n| n == 0) {
            return Err(Error::invalid(
                "layers",
                format!("layer {k} has size 0 in {layers:?}"),
            ));
        }
        let mut u_offsets = vec![0usize];
        let mut theta_offsets = vec![0usize];
        let too_large = || {
            Error::invalid(
                "layers",
                format!("the sizes {layers:?} give more state or parameters than can be indexed"),
            )
        };
        for w in layers.windows(2) {
            let u = u_offsets[u_offsets.len() - 1]
                .checked_add(w[1])
                .ok_or_else(too_large)?;
            let t = w[0]
                .checked_add(1)
                .and_then(|c| c.checked_mul(w[1]))
                .and_then(|p| p.checked_add(theta_offsets[theta_offsets.len() - 1]))
                .ok_or_else(too_large)?;
            u_offsets.push(u);
            theta_offsets.push(t);
        }
        Ok(Layout {
            layers: layers.to_vec(),
            u_offsets,
            theta_offsets,
        })
    }

    /// `[n_0, …, n_N]`.
    pub fn layers(&self) -> &[usize] {
        &self.layers
    }
    /// `N`, the number of layers (not counting the input).
    pub fn n_layers(&self) -> usize {
        self.layers.len() - 1
    }
    /// `n_u = n_1 + … + n_N`.
    pub fn n_state(&self) -> usize {
        *self.u_offsets.last().unwrap()
    }
    /// `n_θ = Σ n_i (n_{i−1} + 1)`.
    pub fn n_params(&self) -> usize {
        *self.theta_offsets.last().unwrap()
    }
    /// Block offsets of `u`: `[0, n_1, n_1 + n_2, …, n_u]`.
    pub fn u_offsets(&self) -> &[usize] {
        &self.u_offsets
    }
    /// Block offsets of `θ`: `[0, n_1(n_0+1), …, n_θ]`.
    pub fn theta_offsets(&self) -> &[usize] {
        &self.theta_offsets
    }
    /// `(rows, cols) = (n_{l+1}, n_l)` of layer `l`'s weight matrix.
    pub fn weight_shape(&self, l: usize) -> (usize, usize) {
        (self.layers[l + 1], self.layers[l])
    }
    /// The range of `vec(W)` of layer `l` in `θ`.
    pub fn weight_range(&self, l: usize) -> std::ops::Range<usize> {
        let (r, c) = self.weight_shape(l);
        self.theta_offsets[l]..self.theta_offsets[l] + r * c
    }
    /// The range of `b` of layer `l` in `θ`.
    pub fn bias_range(&self, l: usize) -> std::ops::Range<usize> {
        let end = self.theta_offsets[l + 1];
        end - self.layers[l + 1]..end
    }
    /// The range of `u_{l+1}` (layer `l`'s output) in `u`.
    pub fn state_range(&self, l: usize) -> std::ops::Range<usize> {
        self.u_offsets[l]..self.u_offsets[l + 1]
    }
    /// Layer `l`'s weights as a column-major matrix view.
    #[cfg(feature = "nalgebra")]
    pub fn weights<'a>(&self, theta: &'a [f64], l: usize) -> nalgebra::DMatrixView<'a, f64> {
        let (r, c) = self.weight_shape(l);
        nalgebra::DMatrixView::from_slice(&theta[self.weight_range(l)], r, c)
    }
}

/// The target `y`: one number for every output, or one per output.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `y` broadcast to all outputs.
    Scalar(f64),
    /// One value per output.
    Vector(Vec<f64>),
}

impl Target {
    /// From JSON: a number or an array of numbers (the `y` of `problem.json` and of network
    /// files).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `y` for anything else.
    pub fn from_json(v: &serde_json::Value) -> Result<Self> {
        let bad = || Error::invalid("y", "must be a number or an array of numbers");
        match v {
            serde_json::Value::Number(n) => Ok(Target::Scalar(n.as_f64().unwrap_or(f64::NAN))),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|v| v.as_f64())
                .collect::<Option<Vec<_>>>()
                .map(Target::Vector)
                .ok_or_else(bad),
            _ => Err(bad()),
        }
    }

    /// `y` for `n_out` outputs: a scalar broadcast, a vector checked.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a non-finite scalar; [`Error::Shape`] / [`Error::NonFinite`]
    /// for a vector of the wrong length or with non-finite entries.
    pub fn resolve(&self, n_out: usize) -> Result<Vec<f64>> {
        match self {
            Target::Scalar(y) if y.is_finite() => Ok(vec![*y; n_out]),
            Target::Scalar(y) => Err(Error::invalid(
                "target",
                format!("y must be finite, got {y}"),
            )),
            Target::Vector(v) => {
                check_vector("y", v, n_out)?;
                Ok(v.clone())
            }
        }
    }

    /// As JSON: a number or an array.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Target::Scalar(y) => serde_json::json!(y),
            Target::Vector(v) => serde_json::json!(v),
        }
    }
}

/// Checks the regularization weight `ρ` of a network objective: finite and `≥ 0`.
///
/// # Errors
/// [`Error::Invalid`] naming `regularization`.
pub fn check_regularization(rho: f64) -> Result<()> {
    if rho >= 0.0 && rho.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            "regularization",
            format!("ρ must be finite and ≥ 0, got {rho}"),
        ))
    }
}

/// `min ‖u_N − y‖² + ρ‖θ‖²` subject to `u = Φ(u, θ)` (see the module documentation).
#[derive(Debug, Clone)]
pub struct Mlp {
    layout: Layout,
    activation: Activation,
    u0: Vec<f64>,
    target: Target,
    objective: OutputMisfit,
}

impl Mlp {
    /// A network with input `u0`, target `y` and regularization `ρ`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for bad layer sizes, `ρ < 0` or a non-finite `ρ`/`y`;
    /// [`Error::Shape`] when `u0` or a vector `y` has the wrong length.
    pub fn new(
        layers: &[usize],
        activation: Activation,
        u0: Vec<f64>,
        target: Target,
        rho: f64,
    ) -> Result<Self> {
        let layout = Layout::new(layers)?;
        check_vector("u0", &u0, layers[0])?;
        check_regularization(rho)?;
        let y = target.resolve(*layers.last().unwrap())?;
        let start = layout.state_range(layout.n_layers() - 1).start;
        Ok(Mlp {
            layout,
            activation,
            u0,
            target,
            objective: OutputMisfit::new(start, y, rho),
        })
    }

    /// The seed's initialization: every `W_i`, then every `b_i`, then `u_0`, drawn as
    /// `0.01·N(0, 1)` (matrices column by column) from [`crate::rng::generator`]`(seed)`.
    /// Returns the problem and `θ`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn random(
        layers: &[usize],
        activation: Activation,
        target: Target,
        rho: f64,
        seed: u64,
    ) -> Result<(Self, Vec<f64>)> {
        let layout = Layout::new(layers)?;
        let mut rng = crate::rng::generator(seed);
        let mut normal =
            || 0.01 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
        let mut theta = vec![0.0; layout.n_params()];
        for l in 0..layout.n_layers() {
            theta[layout.weight_range(l)]
                .iter_mut()
                .for_each(|w| *w = normal());
        }
        for l in 0..layout.n_layers() {
            theta[layout.bias_range(l)]
                .iter_mut()
                .for_each(|b| *b = normal());
        }
        let u0: Vec<f64> = (0..layers[0]).map(|_| normal()).collect();
        Ok((Mlp::new(layers, activation, u0, target, rho)?, theta))
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// The activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }
    /// The input `u_0`.
    pub fn u0(&self) -> &[f64] {
        &self.u0
    }
    /// The target as given.
    pub fn target(&self) -> &Target {
        &self.target
    }
    /// The target broadcast to `n_N` values.
    pub fn y(&self) -> &[f64] {
        self.objective.y()
    }
    /// `ρ`.
    pub fn regularization(&self) -> f64 {
        self.objective.regularization()
    }

    /// The objective `‖u_N − y‖² + ρ‖θ‖²`.
    pub fn functional(&self) -> &OutputMisfit {
        &self.objective
    }

    /// The problem as a [`Model`] (residual and objective written once).
    pub fn model(&self) -> MlpModel<'_> {
        MlpModel(self)
    }

    /// The same network as a general [`Network`](super::network::Network): a plain chain
    /// (layer `i` reads layer `i − 1` and has its own parameter group), with the same
    /// constraint, objective, `u` and `θ` layouts (`tests/network.rs` holds them equal to
    /// 1e-14).
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] for a network this process cannot hold twice.
    pub fn to_network(&self) -> Result<super::network::Network> {
        let sizes = self.layout.layers();
        let layers = (1..sizes.len())
            .map(|i| super::network::LayerSpec {
                size: sizes[i],
                inputs: vec![i - 1],
                group: i - 1,
                residual: None,
            })
            .collect();
        super::network::Network::new(
            sizes[0],
            layers,
            self.activation,
            self.u0.clone(),
            self.target.clone(),
            self.objective.regularization(),
        )
    }

    /// The input of layer `l` within `u`: `u_0` for `l = 0`, else `u_l`.
    fn layer_input<'a>(&'a self, u: &'a [f64], l: usize) -> &'a [f64] {
        if l == 0 {
            &self.u0
        } else {
            &u[self.layout.state_range(l - 1)]
        }
    }

    /// The forward pass: `u_{l+1} = σ(W_l u_l + b_l)` for every layer, into `u` (length `n_u`).
    ///
    /// # Panics
    /// When `θ` or `u` have the wrong length (a programming error).
    #[track_caller]
    pub fn forward(&self, theta: &[f64], u: &mut [f64]) {
        let _ = self.forward_checked(theta, u, None);
    }

    /// [`forward`](Self::forward), reporting the first layer whose pre-activation
    /// `z = W_l x_l + b_l` is not finite: `Some((l, i, z_i))`.
    ///
    /// Every product `W_l[i, c]·x_l[c]` enters `z_l[i]` (`∞·0` is NaN), so with a finite input
    /// a finite `z_l` proves that the weights and biases of layer `l` are finite: the fast path
    /// checks `θ` through the `n_u` pre-activations instead of reading all `n_θ` values again
    /// (a test puts an infinity next to a zero input). With a `scratch` as long as the widest
    /// layer, large layers run in two halves (see `dense::gemv_add`).
    #[track_caller]
    pub(crate) fn forward_checked(
        &self,
        theta: &[f64],
        u: &mut [f64],
        mut scratch: Option<&mut [f64]>,
    ) -> Option<(usize, usize, f64)> {
        assert_eq!(
            theta.len(),
            self.layout.n_params(),
            "Mlp::forward: θ of the wrong length"
        );
        assert_eq!(
            u.len(),
            self.layout.n_state(),
            "Mlp::forward: u of the wrong length"
        );
        let mut bad = None;
        for l in 0..self.layout.n_layers() {
            let (done, rest) = u.split_at_mut(self.layout.u_offsets[l]);
            let out = &mut rest[..self.layout.layers[l + 1]];
            // z = b + W x (faer's matrix-vector kernel), then σ
            out.copy_from_slice(&theta[self.layout.bias_range(l)]);
            let x = if l == 0 {
                &self.u0[..]
            } else {
                &done[self.layout.state_range(l - 1)]
            };
            dense::gemv_add(
                &theta[self.layout.weight_range(l)],
                x,
                out,
                scratch.as_deref_mut(),
            );
            let finite = out.iter().fold(true, |ok, z| ok & z.is_finite());
            if !finite && bad.is_none() {
                let i = out.iter().position(|z| !z.is_finite()).unwrap_or(0);
                bad = Some((l, i, out[i]));
            }
            out.iter_mut().for_each(|z| *z = self.activation.apply(*z));
        }
        bad
    }

    /// `L(θ)` on any [`Scalar`], from scratch (forward pass included): the reduced
    /// objective, the reference for forward-mode checks (with num-dual's `Dual64`).
    pub fn objective_dual<T: Scalar>(&self, theta: &[T]) -> T {
        let mut u = vec![T::zero(); self.layout.n_state()];
        let model = self.model();
        for l in 0..self.layout.n_layers() {
            let (done, rest) = u.split_at_mut(self.layout.u_offsets[l]);
            let out = &mut rest[..self.layout.layers[l + 1]];
            model.layer(theta, done, l, out);
            out.iter_mut()
                .for_each(|z| *z = self.activation.apply_scalar(*z));
        }
        self.objective.eval(&u, theta)
    }

    /// `D = diag(σ'(W_i u_{i−1} + b_i))` (n_u × n_u) at the state `u`.
    pub fn assemble_d(&self, u: &[f64]) -> CsMat<f64> {
        let n = self.layout.n_state();
        let d: Vec<f64> = u
            .iter()
            .map(|&y| self.activation.derivative_from_output(y))
            .collect();
        CsMat::new_csc((n, n), (0..=n).collect(), (0..n).collect(), d)
    }

    /// `K = blkdiag([u_{i−1}; 1]ᵀ ⊗ I_{n_i})` (n_u × n_θ) at the state `u`, assembled from
    /// the lazy [`RowKron`] blocks.
    pub fn assemble_k(&self, u: &[f64]) -> CsMat<f64> {
        let (n_u, n_t) = (self.layout.n_state(), self.layout.n_params());
        let mut indices = Vec::with_capacity(n_t);
        let mut data = Vec::with_capacity(n_t);
        for l in 0..self.layout.n_layers() {
            let block = RowKron::new(self.layer_input(u, l), self.layout.layers[l + 1]).to_csc();
            let row0 = self.layout.u_offsets[l];
            indices.extend(block.indices().iter().map(|&r| r + row0));
            data.extend_from_slice(block.data());
        }
        CsMat::new_csc((n_u, n_t), (0..=n_t).collect(), indices, data)
    }

    /// `Mᵀ = D K` (n_u × n_θ).
    pub fn assemble_mt(&self, u: &[f64]) -> CsMat<f64> {
        &self.assemble_d(u) * &self.assemble_k(u)
    }
}

impl Problem for Mlp {
    fn n_state(&self) -> usize {
        self.layout.n_state()
    }
    fn n_params(&self) -> usize {
        self.layout.n_params()
    }
}

impl StateSolve for Mlp {
    /// The forward pass; `∂f/∂u` is not needed (the constraint is explicit in `u`).
    fn solve_state(
        &self,
        theta: &[f64],
        _jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        self.forward(theta, u);
        Ok(())
    }
}

impl Residual for Mlp {
    /// `f_l = u_{l+1} − σ(W_l x_l + b_l)` with `x_l` taken from the given `u` (or `u_0`).
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()> {
        check_vector("u", u, self.layout.n_state())?;
        check_vector("theta", theta, self.layout.n_params())?;
        self.model().residual(u, theta, f);
        Ok(())
    }
}

crate::objectives::objective_via_functional!(Mlp, functional);

impl Jacobians for Mlp {
    /// Column `j` of block `l` holds the diagonal and, below it, all rows of block `l + 1`.
    fn dfdu_pattern(&self) -> CsStructure {
        let lay = &self.layout;
        let n = lay.n_state();
        let mut indptr = Vec::with_capacity(n + 1);
        let mut indices = Vec::new();
        indptr.push(0);
        for l in 0..lay.n_layers() {
            let below = (l + 1 < lay.n_layers()).then(|| lay.state_range(l + 1));
            for j in lay.state_range(l) {
                indices.push(j);
                if let Some(r) = &below {
                    indices.extend(r.clone());
                }
                indptr.push(indices.len());
            }
        }
        let nnz = indices.len();
        CsStructure::new_csc((n, n), indptr, indices, vec![(); nnz])
    }

    /// `1` on the diagonal; block (l+1, l) is `−D_{l+1} W_{l+1}`, column by column.
    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        let lay = &self.layout;
        let act = self.activation;
        let mut k = 0;
        for l in 0..lay.n_layers() {
            if l + 1 == lay.n_layers() {
                values[k..k + lay.layers[l + 1]].fill(1.0);
                k += lay.layers[l + 1];
                continue;
            }
            let rows = lay.layers[l + 2];
            let d_next = &u[lay.state_range(l + 1)];
            for col in theta[lay.weight_range(l + 1)].chunks_exact(rows) {
                values[k] = 1.0;
                for ((v, w), &y) in values[k + 1..k + 1 + rows].iter_mut().zip(col).zip(d_next) {
                    *v = -act.derivative_from_output(y) * w;
                }
                k += 1 + rows;
            }
        }
        Ok(())
    }

    /// One entry per parameter: `W_l[r, c]` at row `r` of block `l`, `b_l[r]` likewise.
    fn dfdtheta_pattern(&self) -> CsStructure {
        let lay = &self.layout;
        let n_t = lay.n_params();
        let mut indices = Vec::with_capacity(n_t);
        for l in 0..lay.n_layers() {
            let rows = lay.state_range(l);
            for _ in 0..lay.layers[l] + 1 {
                indices.extend(rows.clone());
            }
        }
        CsStructure::new_csc(
            (lay.n_state(), n_t),
            (0..=n_t).collect(),
            indices,
            vec![(); n_t],
        )
    }

    /// `−Mᵀ = −D K`: `−σ'_r · [x_l; 1]_c` for `W_l[r, c]` (and `c = n_l` for `b_l[r]`).
    fn fill_dfdtheta(&self, u: &[f64], _theta: &[f64], values: &mut [f64]) -> Result<()> {
        let streaming = crate::kernels::StreamingStores::new();
        let lay = &self.layout;
        let act = self.activation;
        for l in 0..lay.n_layers() {
            let out = &u[lay.state_range(l)];
            let x = self.layer_input(u, l);
            let rows = out.len();
            let block = &mut values[lay.theta_offsets[l]..lay.theta_offsets[l + 1]];
            // the bias column is −σ'; every weight column c is that column times x_c
            let (weights, bias) = block.split_at_mut(block.len() - rows);
            for (v, &y) in bias.iter_mut().zip(out) {
                *v = -act.derivative_from_output(y);
            }
            let stream = weights.len() >= crate::kernels::STREAMING_THRESHOLD;
            for (col, &xc) in weights.chunks_exact_mut(rows).zip(x) {
                if stream {
                    streaming.store_scaled(col, bias, xc);
                } else {
                    for (v, &b) in col.iter_mut().zip(&*bias) {
                        *v = b * xc;
                    }
                }
            }
        }
        Ok(())
    }

    fn dfdu_depends_on_u(&self) -> bool {
        true
    }
}

/// [`Mlp`] as a [`Model`] (from [`Mlp::model`]).
#[derive(Debug, Clone, Copy)]
pub struct MlpModel<'a>(&'a Mlp);

impl MlpModel<'_> {
    /// `out ← W_l x_l + b_l`, with `x_l = u_0` for `l = 0` and the block `l − 1` of `u`
    /// otherwise (`u` may end before block `l`).
    fn layer<T: Scalar>(&self, theta: &[T], u: &[T], l: usize, out: &mut [T]) {
        let lay = &self.0.layout;
        let (rows, _) = lay.weight_shape(l);
        out.copy_from_slice(&theta[lay.bias_range(l)]);
        let weights = theta[lay.weight_range(l)].chunks_exact(rows);
        if l == 0 {
            for (col, &xc) in weights.zip(&self.0.u0) {
                for (o, &w) in out.iter_mut().zip(col) {
                    *o += w * xc;
                }
            }
        } else {
            for (col, &xc) in weights.zip(&u[lay.state_range(l - 1)]) {
                for (o, &w) in out.iter_mut().zip(col) {
                    *o += w * xc;
                }
            }
        }
    }
}

impl Model for MlpModel<'_> {
    fn n_state(&self) -> usize {
        self.0.layout.n_state()
    }
    fn n_params(&self) -> usize {
        self.0.layout.n_params()
    }

    /// `f_l = u_{l+1} − σ(W_l x_l + b_l)`, `x_l` from `u` (or `u_0`).
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let lay = &self.0.layout;
        for l in 0..lay.n_layers() {
            let range = lay.state_range(l);
            let out = &mut f[range.clone()];
            self.layer(theta, u, l, out);
            for (fi, &ui) in out.iter_mut().zip(&u[range]) {
                *fi = ui - self.0.activation.apply_scalar(*fi);
            }
        }
    }

    /// `‖u_N − y‖² + ρ‖θ‖²` with `u_N` read from `u`.
    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        self.0.objective.eval(u, theta)
    }

    /// The forward pass (so Newton starts at the solution).
    fn initial_state(&self, theta: &[f64], u: &mut [f64]) {
        self.0.forward(theta, u);
    }
}

impl AsModel for Mlp {
    type Model<'a> = MlpModel<'a>;
    fn model(&self) -> MlpModel<'_> {
        Mlp::model(self)
    }
}
