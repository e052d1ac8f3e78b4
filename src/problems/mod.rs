//! Built-in problems.
//!
//! - [`tridiagonal`]: the seed's first example, `L = (cᵀu)²` subject to `A(θ)u = b` with a
//!   symmetric tridiagonal `A(θ)`.
//! - [`linear`]: the general parametrized linear constraint `A(θ) = A₀ + Σ_k θ_k E_k` of
//!   which the tridiagonal problem is an instance.

pub mod linear;
pub mod mlp;
pub mod network;
pub mod tridiagonal;

/// The seed's objective `L = (cᵀu)²`, shared by the linear-constraint problems.
pub(crate) mod squared_output {
    use num_dual::DualNum;

    /// `(cᵀu)²`.
    pub fn value(c: &[f64], u: &[f64]) -> f64 {
        let cu = crate::kernels::dot(c, u);
        cu * cu
    }

    /// `(∂L/∂u)ᵀ = 2 (cᵀu) c`, into `out`.
    pub fn partial_u(c: &[f64], u: &[f64], out: &mut [f64]) {
        let cu = crate::kernels::dot(c, u);
        out.iter_mut().zip(c).for_each(|(g, c)| *g = 2.0 * cu * c);
    }

    /// `(cᵀu)²`, and `2 (cᵀu) c` into `out`, with one product `cᵀu`.
    pub fn value_and_partial_u(c: &[f64], u: &[f64], out: &mut [f64]) -> f64 {
        let cu = crate::kernels::dot(c, u);
        out.iter_mut().zip(c).for_each(|(g, c)| *g = 2.0 * cu * c);
        cu * cu
    }

    /// `(cᵀu)²` on dual numbers.
    pub fn dual<D: DualNum<Primitive = f64> + Copy>(c: &[f64], u: &[D]) -> D {
        let cu = u.iter().zip(c).fold(D::zero(), |s, (&ui, &ci)| s + ui * ci);
        cu * cu
    }
}
