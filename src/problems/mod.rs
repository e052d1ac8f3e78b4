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
