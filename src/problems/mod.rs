//! Built-in problems.
//!
//! - [`tridiagonal`]: the seed's first example, `L = (cᵀu)²` subject to `A(θ)u = b` with a
//!   symmetric tridiagonal `A(θ)`.
//! - [`linear`]: the general parametrized linear constraint `A(θ) = A₀ + Σ_k θ_k E_k` of
//!   which the tridiagonal problem is an instance.
//! - [`mlp`]: the seed's layered network `u_{l+1} = σ(W_l u_l + b_l)`, `L = ‖u_N − y‖² + ρ‖θ‖²`,
//!   with its dense fast path.
//! - [`network`]: general layered networks (skip connections, residual layers, shared weights).
//! - [`ode`]: time stepping (explicit and implicit Euler, Crank–Nicolson) of an ODE written
//!   once, with its block-triangular adjoint sweep and binomial checkpointing.
//! - [`topopt`]: compliance topology optimization of the MBB beam, `L = Fᵀu` subject to
//!   `K(x)u = F` (2-D elasticity), with the 88-line code's optimality-criteria loop.
//!
//! Each has its residual and objective written once as a [`Model`](crate::Model) (its
//! `model()`, or [`AsModel`](crate::AsModel) in generic code), the objective from
//! [`objectives`](crate::objectives), and hand-written Jacobians as the fast path; the tests
//! check that the hand-written patterns are exactly the detected ones and the values agree to
//! `1e-14` relative ([`check::compare_with_derived`](crate::check::compare_with_derived)).

pub mod linear;
pub mod mlp;
pub mod network;
pub mod ode;
pub mod topopt;
pub mod tridiagonal;
