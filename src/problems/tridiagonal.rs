//! The seed's first example: a symmetric tridiagonal constraint.
//!
//! ```text
//!     L(u, θ) = (cᵀu)²,        f(u, θ) = A(θ) u − b = 0,        u, b, c ∈ ℝⁿ, θ ∈ ℝ^{2n−1}
//!
//!            | θ_0      θ_n                              |
//!            | θ_n      θ_1      θ_{n+1}                 |
//!     A(θ) = |          θ_{n+1}  ⋱        ⋱              |      (0-based: θ = [diag; off-diag])
//!            |                   ⋱        θ_{n−2} θ_{2n−2}|
//!            |                            θ_{2n−2} θ_{n−1}|
//! ```
//!
//! The partials, all explicit and sparse:
//!
//! - `∂f/∂u = A(θ)`: n × n, `3n − 2` entries, symmetric (solved by `LDLᵀ`).
//! - `∂f/∂θ`: n × (2n − 1), `3n − 2` entries. Column `i < n` is `∂A/∂θ_i · u = u_i e_i`;
//!   column `n + k` (k = 0..n−2) is `u_{k+1} e_k + u_k e_{k+1}`.
//! - `(∂L/∂u)ᵀ = 2 (cᵀu) c`, `∂L/∂θ = 0`.
//!
//! So the adjoint solves `A(θ) λ = −2 (cᵀu) c` (A is symmetric) and the gradient is
//!
//! ```text
//!     dL/dθ_i     = λ_i u_i                          (i < n)
//!     dL/dθ_{n+k} = λ_k u_{k+1} + λ_{k+1} u_k         (k < n − 1)
//! ```
//!
//! exactly the seed's formula. [`closed_form_gradient`] writes it out directly; the engine
//! obtains it from the matrices.
//!
//! This type is the tridiagonal instance of [`ParamLinear`](super::linear::ParamLinear) with
//! `A₀ = 0`, `E_i = e_i e_iᵀ` and `E_{n+k} = e_k e_{k+1}ᵀ + e_{k+1} e_kᵀ`, specialised so that
//! no per-entry index arrays are stored (it runs at n = 10⁶ in a few tens of megabytes).

use crate::derived::{AsModel, Model};
use crate::error::check_vector;
use crate::kernels::{fill_with, StreamingStores, STREAMING_THRESHOLD};
use crate::objectives::{Functional, SquaredLinear};
use crate::parallel::{join_if, PARALLEL_THRESHOLD};
use crate::problem::{JacobianSolve, Jacobians, Problem, Residual, StateSolve};
use crate::rng::{generator, uniform};
use crate::{Error, Result, Scalar};
use sprs::CsStructure;

/// `min (cᵀu)²` subject to `A(θ) u = b`, `A(θ)` symmetric tridiagonal (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Tridiagonal {
    objective: SquaredLinear,
    b: Vec<f64>,
}

impl Tridiagonal {
    /// A problem of size `n = c.len() = b.len()`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `n = 0`; [`Error::Shape`] when the lengths differ;
    /// [`Error::NonFinite`] for NaN or infinite entries.
    pub fn new(c: Vec<f64>, b: Vec<f64>) -> Result<Self> {
        if c.is_empty() {
            return Err(Error::invalid("n", "the problem size must be at least 1"));
        }
        check_vector("c", &c, c.len())?;
        check_vector("b", &b, c.len())?;
        Ok(Tridiagonal {
            objective: SquaredLinear::new(c),
            b,
        })
    }

    /// The seed's random instance: `c`, `b`, `θ` (drawn in that order) uniform in `[0, 1)`
    /// from [`crate::rng::generator`]`(seed)`. Returns the problem and `θ`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `n = 0`.
    pub fn random(n: usize, seed: u64) -> Result<(Self, Vec<f64>)> {
        if n == 0 {
            return Err(Error::invalid("n", "the problem size must be at least 1"));
        }
        let mut rng = generator(seed);
        let c = uniform(&mut rng, n);
        let b = uniform(&mut rng, n);
        let theta = uniform(&mut rng, 2 * n - 1);
        Ok((
            Tridiagonal {
                objective: SquaredLinear::new(c),
                b,
            },
            theta,
        ))
    }

    /// The size `n`.
    pub fn n(&self) -> usize {
        self.b.len()
    }
    /// The objective vector `c`.
    pub fn c(&self) -> &[f64] {
        self.objective.c()
    }
    /// The objective `L = (cᵀu)²`.
    pub fn functional(&self) -> &SquaredLinear {
        &self.objective
    }
    /// The problem as a [`Model`]: its residual and objective written once, generically, from
    /// which [`Derived`](crate::Derived) derives what the hand-written fills compute.
    pub fn model(&self) -> TridiagonalModel<'_> {
        TridiagonalModel(self)
    }
    /// The right-hand side `b`.
    pub fn b(&self) -> &[f64] {
        &self.b
    }
}

/// CSC pattern of a symmetric tridiagonal n × n matrix: column j holds rows j−1, j, j+1.
pub fn tridiagonal_pattern(n: usize) -> CsStructure {
    let mut indptr = Vec::with_capacity(n + 1);
    let mut indices = Vec::with_capacity(3 * n);
    indptr.push(0);
    for j in 0..n {
        indices.extend(j.saturating_sub(1)..(j + 2).min(n));
        indptr.push(indices.len());
    }
    let nnz = indices.len();
    CsStructure::new_csc((n, n), indptr, indices, vec![(); nnz])
}

/// CSC pattern of `∂f/∂θ` (n × (2n−1)): column i < n holds row i; column n+k rows k, k+1.
pub fn dfdtheta_pattern(n: usize) -> CsStructure {
    let mut indptr = Vec::with_capacity(2 * n);
    let mut indices = Vec::with_capacity(3 * n);
    indptr.push(0);
    for i in 0..n {
        indices.push(i);
        indptr.push(indices.len());
    }
    for k in 0..n.saturating_sub(1) {
        indices.push(k);
        indices.push(k + 1);
        indptr.push(indices.len());
    }
    let nnz = indices.len();
    CsStructure::new_csc((n, 2 * n - 1), indptr, indices, vec![(); nnz])
}

/// The seed's closed-form gradient `λ_i u_i`, `λ_k u_{k+1} + λ_{k+1} u_k`, written out
/// without any matrix: `u` solves `A(θ)u = b` and `λ` solves `A(θ)λ = −2(cᵀu)c`.
pub fn closed_form_gradient(u: &[f64], lambda: &[f64]) -> Vec<f64> {
    let n = u.len();
    let mut g = Vec::with_capacity(2 * n - 1);
    g.extend((0..n).map(|i| lambda[i] * u[i]));
    g.extend((0..n - 1).map(|k| lambda[k] * u[k + 1] + lambda[k + 1] * u[k]));
    g
}

impl Problem for Tridiagonal {
    fn n_state(&self) -> usize {
        self.n()
    }
    fn n_params(&self) -> usize {
        2 * self.n() - 1
    }
}

impl Residual for Tridiagonal {
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()> {
        let n = self.n();
        check_vector("u", u, n)?;
        check_vector("theta", theta, 2 * n - 1)?;
        self.model().residual(u, theta, f);
        Ok(())
    }
}

crate::objectives::objective_via_functional!(Tridiagonal, functional);

impl Jacobians for Tridiagonal {
    fn dfdu_pattern(&self) -> CsStructure {
        tridiagonal_pattern(self.n())
    }

    /// Column j: `θ_{n+j−1}` (row j−1), `θ_j` (row j), `θ_{n+j}` (row j+1).
    fn fill_dfdu(&self, _u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        let n = self.n();
        let (diag, off) = theta.split_at(n);
        let stream = values.len() >= STREAMING_THRESHOLD;
        // columns [0, h) are values[..3h − 1] (column 0 has two entries): two halves, two
        // threads for large n
        let h = n / 2;
        if h >= 1 && values.len() >= PARALLEL_THRESHOLD {
            let (first, second) = values.split_at_mut(3 * h - 1);
            join_if(
                true,
                || fill_columns(first, diag, off, 0..h, stream),
                || fill_columns(second, diag, off, h..n, stream),
            );
        } else {
            fill_columns(values, diag, off, 0..n, stream);
        }
        Ok(())
    }

    fn dfdtheta_pattern(&self) -> CsStructure {
        dfdtheta_pattern(self.n())
    }

    /// Column i < n: `u_i`; column n+k: `u_{k+1}` (row k), `u_k` (row k+1).
    fn fill_dfdtheta(&self, u: &[f64], _theta: &[f64], values: &mut [f64]) -> Result<()> {
        let (diag, off) = values.split_at_mut(self.n());
        fill_with(diag, |i| u[i]);
        fill_with(off, |e| u[e / 2 + 1 - e % 2]);
        Ok(())
    }

    fn dfdu_depends_on_u(&self) -> bool {
        false
    }
}

/// Writes the values of columns `cols` of `A(θ)` (storage order: `off[j−1]`, `diag[j]`,
/// `off[j]`, clipped at the borders) into `out`, which starts at the first of them.
fn fill_columns(
    out: &mut [f64],
    diag: &[f64],
    off: &[f64],
    cols: std::ops::Range<usize>,
    stream: bool,
) {
    let n = diag.len();
    let streaming = StreamingStores::new();
    let mut slots = out.iter_mut();
    let mut put = |x: f64| {
        let v = slots.next().expect("values sized by the pattern");
        if stream {
            streaming.store(v, x)
        } else {
            *v = x
        }
    };
    for j in cols {
        if j > 0 {
            put(off[j - 1]);
        }
        put(diag[j]);
        if j + 1 < n {
            put(off[j]);
        }
    }
}

impl StateSolve for Tridiagonal {
    /// `u = A(θ)⁻¹ b`, with the engine's factorization of `∂f/∂u = A(θ)`.
    fn solve_state(
        &self,
        _theta: &[f64],
        jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        jacobian.factor_at(u)?;
        jacobian.solve_into(&self.b, u)
    }
}

/// [`Tridiagonal`] as a [`Model`] (from [`Tridiagonal::model`]).
#[derive(Debug, Clone, Copy)]
pub struct TridiagonalModel<'a>(&'a Tridiagonal);

impl Model for TridiagonalModel<'_> {
    fn n_state(&self) -> usize {
        self.0.n()
    }
    fn n_params(&self) -> usize {
        2 * self.0.n() - 1
    }

    /// `f_i = θ_i u_i + θ_{n+i−1} u_{i−1} + θ_{n+i} u_{i+1} − b_i`.
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let n = self.0.n();
        for i in 0..n {
            let mut s = theta[i] * u[i];
            if i > 0 {
                s += theta[n + i - 1] * u[i - 1];
            }
            if i + 1 < n {
                s += theta[n + i] * u[i + 1];
            }
            f[i] = s - self.0.b[i];
        }
    }

    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        self.0.objective.eval(u, theta)
    }
}

impl AsModel for Tridiagonal {
    type Model<'a> = TridiagonalModel<'a>;
    fn model(&self) -> TridiagonalModel<'_> {
        Tridiagonal::model(self)
    }
}
