//! Objectives as types, shared by every built-in problem.
//!
//! An objective `L(u, θ)` is written once, generically over [`Scalar`]
//! ([`Functional::eval`]), which is its definition: [`Derived`](crate::Derived) differentiates
//! it by reverse mode and the verification toolkit by dual numbers. Its hand-written partials
//! ([`Functional::partial_u`], [`Functional::partial_theta`]) are the fast path the engine
//! calls; tests check them against the derived ones
//! ([`check::compare_with_derived`](crate::check::compare_with_derived)).
//!
//! | type | `L(u, θ)` | `(∂L/∂u)ᵀ` | `(∂L/∂θ)ᵀ` |
//! |---|---|---|---|
//! | [`LinearFunctional`] | `cᵀu` | `c` | `0` |
//! | [`SquaredLinear`] | `(cᵀu)²` | `2 (cᵀu) c` | `0` |
//! | [`OutputMisfit`] | `‖u[s..] − y‖² + ρ‖θ‖²` | `[0; 2 (u[s..] − y)]` | `2ρθ` (`0` for ρ = 0) |
//!
//! # Example
//! ```
//! use adjoint::objectives::{Functional, SquaredLinear};
//!
//! let l = SquaredLinear::new(vec![1.0, 2.0]);
//! let u = [3.0, 4.0];
//! assert_eq!(l.eval(&u, &[]), 121.0); // (3 + 8)²
//! let mut g = [0.0; 2];
//! l.partial_u(&u, &[], &mut g);
//! assert_eq!(g, [22.0, 44.0]); // 2 · 11 · c
//! ```

use crate::derived::scalar::Scalar;
use crate::problem::Partial;

/// A scalar objective `L(u, θ)`: its definition on any [`Scalar`] and its hand-written
/// partials on `f64`.
pub trait Functional {
    /// `L(u, θ)` on any number type: the definition, from which the partials are derived.
    fn eval<T: Scalar>(&self, u: &[T], theta: &[T]) -> T;

    /// `L(u, θ)` on `f64` (the engine's path; by default [`eval`](Self::eval)).
    fn value(&self, u: &[f64], theta: &[f64]) -> f64 {
        self.eval(u, theta)
    }

    /// Writes `(∂L/∂u)ᵀ` (length `n_u`), overwriting `out`.
    fn partial_u(&self, u: &[f64], theta: &[f64], out: &mut [f64]);

    /// `L` and `(∂L/∂u)ᵀ` in one call (by default [`value`](Self::value) then
    /// [`partial_u`](Self::partial_u)).
    fn value_and_partial_u(&self, u: &[f64], theta: &[f64], out: &mut [f64]) -> f64 {
        self.partial_u(u, theta, out);
        self.value(u, theta)
    }

    /// Writes `(∂L/∂θ)ᵀ` and returns [`Partial::Written`], or returns [`Partial::Zero`]
    /// without writing when it vanishes.
    fn partial_theta(&self, u: &[f64], theta: &[f64], out: &mut [f64]) -> Partial;

    /// Whether `∂L/∂u` depends on `u` (`true` by default; see
    /// [`Objective::objective_partial_u_depends_on_u`](crate::problem::Objective::objective_partial_u_depends_on_u)).
    fn partial_u_depends_on_u(&self) -> bool {
        true
    }
}

/// A linear functional `L = cᵀu` (the compliance `Fᵀu` of topology optimization).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearFunctional {
    c: Vec<f64>,
}

impl LinearFunctional {
    /// `L = cᵀu`.
    pub fn new(c: Vec<f64>) -> Self {
        LinearFunctional { c }
    }

    /// The vector `c`.
    pub fn c(&self) -> &[f64] {
        &self.c
    }
}

impl Functional for LinearFunctional {
    fn eval<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        u.iter()
            .zip(&self.c)
            .fold(T::zero(), |s, (&ui, &ci)| s + ui * ci)
    }

    /// `cᵀu` with the library's dot product kernel.
    fn value(&self, u: &[f64], _theta: &[f64]) -> f64 {
        crate::kernels::dot(&self.c, u)
    }

    /// `(∂L/∂u)ᵀ = c`.
    fn partial_u(&self, _u: &[f64], _theta: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&self.c);
    }

    /// `∂L/∂θ = 0`.
    fn partial_theta(&self, _u: &[f64], _theta: &[f64], _out: &mut [f64]) -> Partial {
        Partial::Zero
    }

    /// `c` is constant.
    fn partial_u_depends_on_u(&self) -> bool {
        false
    }
}

/// The seed's objective `L = (cᵀu)²` (the linear-constraint problems).
#[derive(Debug, Clone, PartialEq)]
pub struct SquaredLinear {
    c: Vec<f64>,
}

impl SquaredLinear {
    /// `L = (cᵀu)²`.
    pub fn new(c: Vec<f64>) -> Self {
        SquaredLinear { c }
    }

    /// The vector `c`.
    pub fn c(&self) -> &[f64] {
        &self.c
    }
}

impl Functional for SquaredLinear {
    fn eval<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        let cu = u
            .iter()
            .zip(&self.c)
            .fold(T::zero(), |s, (&ui, &ci)| s + ui * ci);
        cu * cu
    }

    /// `(cᵀu)²` with the library's dot product kernel.
    fn value(&self, u: &[f64], _theta: &[f64]) -> f64 {
        let cu = crate::kernels::dot(&self.c, u);
        cu * cu
    }

    /// `(∂L/∂u)ᵀ = 2 (cᵀu) c`.
    fn partial_u(&self, u: &[f64], theta: &[f64], out: &mut [f64]) {
        self.value_and_partial_u(u, theta, out);
    }

    /// One product `cᵀu` for both.
    fn value_and_partial_u(&self, u: &[f64], _theta: &[f64], out: &mut [f64]) -> f64 {
        let cu = crate::kernels::dot(&self.c, u);
        out.iter_mut()
            .zip(&self.c)
            .for_each(|(g, c)| *g = 2.0 * cu * c);
        cu * cu
    }

    /// `∂L/∂θ = 0`: `L` depends on `θ` only through `u`.
    fn partial_theta(&self, _u: &[f64], _theta: &[f64], _out: &mut [f64]) -> Partial {
        Partial::Zero
    }
}

/// An output misfit with optional regularization, `L = ‖u[s..] − y‖² + ρ‖θ‖²`: the networks'
/// objective, where `u[s..]` is the last layer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputMisfit {
    start: usize,
    y: Vec<f64>,
    rho: f64,
}

impl OutputMisfit {
    /// `‖u[start..start + y.len()] − y‖² + ρ‖θ‖²` (`ρ = 0`: no regularization term at all).
    pub fn new(start: usize, y: Vec<f64>, rho: f64) -> Self {
        OutputMisfit { start, y, rho }
    }

    /// The target `y`.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// `ρ`.
    pub fn regularization(&self) -> f64 {
        self.rho
    }

    fn output<'a, T>(&self, u: &'a [T]) -> &'a [T] {
        &u[self.start..self.start + self.y.len()]
    }
}

impl Functional for OutputMisfit {
    fn eval<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        let mut s = T::zero();
        for (&o, &y) in self.output(u).iter().zip(&self.y) {
            let d = o - y;
            s += d * d;
        }
        if self.rho != 0.0 {
            let reg = theta.iter().fold(T::zero(), |r, &t| r + t * t);
            s += reg * self.rho;
        }
        s
    }

    /// `(∂L/∂u)ᵀ = [0; …; 0; 2 (u[s..] − y); 0 …]`.
    fn partial_u(&self, u: &[f64], _theta: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        let range = self.start..self.start + self.y.len();
        for ((g, o), y) in out[range].iter_mut().zip(self.output(u)).zip(&self.y) {
            *g = 2.0 * (o - y);
        }
    }

    /// `(∂L/∂θ)ᵀ = 2ρθ`, zero without regularization.
    fn partial_theta(&self, _u: &[f64], theta: &[f64], out: &mut [f64]) -> Partial {
        if self.rho == 0.0 {
            return Partial::Zero;
        }
        let r2 = 2.0 * self.rho;
        for (g, t) in out.iter_mut().zip(theta) {
            *g = r2 * t;
        }
        Partial::Written
    }
}

/// Implements [`Objective`](crate::problem::Objective) for a problem by delegating to the
/// [`Functional`] that `$get` (a method of the problem) returns.
macro_rules! objective_via_functional {
    ($problem:ty, $get:ident) => {
        impl $crate::problem::Objective for $problem {
            fn objective(&self, u: &[f64], theta: &[f64]) -> $crate::Result<f64> {
                Ok($crate::objectives::Functional::value(self.$get(), u, theta))
            }

            fn objective_partial_u(
                &self,
                u: &[f64],
                theta: &[f64],
                dl_du: &mut [f64],
            ) -> $crate::Result<()> {
                $crate::objectives::Functional::partial_u(self.$get(), u, theta, dl_du);
                Ok(())
            }

            fn objective_with_partial_u(
                &self,
                u: &[f64],
                theta: &[f64],
                dl_du: &mut [f64],
            ) -> $crate::Result<f64> {
                Ok($crate::objectives::Functional::value_and_partial_u(
                    self.$get(),
                    u,
                    theta,
                    dl_du,
                ))
            }

            fn objective_partial_theta(
                &self,
                u: &[f64],
                theta: &[f64],
                dl_dtheta: &mut [f64],
            ) -> $crate::Result<$crate::problem::Partial> {
                Ok($crate::objectives::Functional::partial_theta(
                    self.$get(),
                    u,
                    theta,
                    dl_dtheta,
                ))
            }

            fn objective_partial_u_depends_on_u(&self) -> bool {
                $crate::objectives::Functional::partial_u_depends_on_u(self.$get())
            }
        }
    };
}
pub(crate) use objective_via_functional;
