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

/// Implements [`Objective`](crate::problem::Objective) as the seed's `L = (cᵀu)²` for a type
/// with a field `c: Vec<f64>` (the linear-constraint problems).
macro_rules! squared_output_objective {
    ($problem:ty) => {
        impl $crate::problem::Objective for $problem {
            fn objective(&self, u: &[f64], _theta: &[f64]) -> $crate::Result<f64> {
                Ok($crate::problems::squared_output::value(&self.c, u))
            }

            /// `(∂L/∂u)ᵀ = 2 (cᵀu) c`.
            fn objective_partial_u(
                &self,
                u: &[f64],
                _theta: &[f64],
                dl_du: &mut [f64],
            ) -> $crate::Result<()> {
                $crate::problems::squared_output::partial_u(&self.c, u, dl_du);
                Ok(())
            }

            fn objective_with_partial_u(
                &self,
                u: &[f64],
                _theta: &[f64],
                dl_du: &mut [f64],
            ) -> $crate::Result<f64> {
                Ok($crate::problems::squared_output::value_and_partial_u(
                    &self.c, u, dl_du,
                ))
            }

            /// `∂L/∂θ = 0`: `L` depends on `θ` only through `u`.
            fn objective_partial_theta(
                &self,
                _u: &[f64],
                _theta: &[f64],
                _dl_dtheta: &mut [f64],
            ) -> $crate::Result<$crate::problem::Partial> {
                Ok($crate::problem::Partial::Zero)
            }
        }
    };
}
pub(crate) use squared_output_objective;

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
