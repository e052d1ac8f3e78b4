//! [`Scalar`]: the number type a [`Model`](super::Model) is written in.
//!
//! A model's residual and objective are written once, generically over `T: Scalar`, and the
//! library runs them on several number types:
//!
//! | type | what it computes |
//! |---|---|
//! | `f64` | values: the residual for Newton's method, the objective |
//! | [`Dual<N>`](super::dual::Dual) | forward mode with `N` directions: compressed Jacobian columns |
//! | [`Tracer`](super::tracer::Tracer) | sparsity detection: which inputs each output depends on |
//! | [`Adjoint`](super::tape::Adjoint) | reverse mode on a tape: `∂L/∂u`, `∂L/∂θ` in one sweep |
//!
//! Every operation a model may use is a method of this one trait (none comes from a second
//! trait, so no call is ambiguous with `use adjoint::Scalar` in scope). Code that must branch
//! on a value calls [`Scalar::value`]; sparsity detection cannot see through such a branch and
//! refuses it (see [`Derived::new`](super::Derived::new)).

use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// The number type of a model: `f64`, forward-mode duals, the sparsity tracer and the reverse-
/// mode tape variable all implement it.
///
/// Arithmetic: `+ − × ÷` between two values and with an `f64` on the right, compound
/// assignment, negation. Functions: `powi`, `powf`, `sqrt`, `exp`, `ln`, `sin`, `cos`, `tanh`,
/// `recip`, `abs`, `max`, `min`. For sparsity detection `abs`, `max` and `min` depend on both
/// branches (`max(a, b)` on everything `a` and `b` depend on), so a detected pattern holds for
/// every input.
pub trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// `0`.
    fn zero() -> Self;
    /// `1`.
    fn one() -> Self;
    /// The constant `c` (no derivative, no dependency).
    fn from_f64(c: f64) -> Self;
    /// The primal value, for code that must branch on it. Sparsity detection cannot follow a
    /// branch: calling this during [`Derived::new`](super::Derived::new) makes it fail with
    /// [`crate::Error::ValueDuringDetection`].
    fn value(self) -> f64;
    /// `xⁿ` for an integer `n`.
    fn powi(self, n: i32) -> Self;
    /// `xᵖ` for a real `p`.
    fn powf(self, p: f64) -> Self;
    /// `√x`.
    fn sqrt(self) -> Self;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// `ln x`.
    fn ln(self) -> Self;
    /// `sin x`.
    fn sin(self) -> Self;
    /// `cos x`.
    fn cos(self) -> Self;
    /// `tanh x`.
    fn tanh(self) -> Self;
    /// `1/x`.
    fn recip(self) -> Self;
    /// `|x|` (derivative `sign(x)`, 0 at 0).
    fn abs(self) -> Self;
    /// The larger of the two (the derivative of the larger; of `self` on a tie).
    fn max(self, other: Self) -> Self;
    /// The smaller of the two (the derivative of the smaller; of `self` on a tie).
    fn min(self, other: Self) -> Self;
}

impl Scalar for f64 {
    #[inline]
    fn zero() -> Self {
        0.0
    }
    #[inline]
    fn one() -> Self {
        1.0
    }
    #[inline]
    fn from_f64(c: f64) -> Self {
        c
    }
    #[inline]
    fn value(self) -> f64 {
        self
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    #[inline]
    fn powf(self, p: f64) -> Self {
        f64::powf(self, p)
    }
    #[inline]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline]
    fn sin(self) -> Self {
        f64::sin(self)
    }
    #[inline]
    fn cos(self) -> Self {
        f64::cos(self)
    }
    #[inline]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    #[inline]
    fn recip(self) -> Self {
        f64::recip(self)
    }
    #[inline]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline]
    fn max(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }
    #[inline]
    fn min(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }
}

/// `num-dual`'s first-order dual number, so that models can also be differentiated by an
/// implementation independent of this crate's own [`Dual`](super::dual::Dual) (the tests do).
impl Scalar for num_dual::Dual64 {
    fn zero() -> Self {
        num_dual::Dual64::from(0.0)
    }
    fn one() -> Self {
        num_dual::Dual64::from(1.0)
    }
    fn from_f64(c: f64) -> Self {
        num_dual::Dual64::from(c)
    }
    fn value(self) -> f64 {
        self.re
    }
    fn powi(self, n: i32) -> Self {
        num_dual::DualNum::powi(&self, n)
    }
    fn powf(self, p: f64) -> Self {
        num_dual::DualNum::powf(&self, p)
    }
    fn sqrt(self) -> Self {
        num_dual::DualNum::sqrt(&self)
    }
    fn exp(self) -> Self {
        num_dual::DualNum::exp(&self)
    }
    fn ln(self) -> Self {
        num_dual::DualNum::ln(&self)
    }
    fn sin(self) -> Self {
        num_dual::DualNum::sin(&self)
    }
    fn cos(self) -> Self {
        num_dual::DualNum::cos(&self)
    }
    fn tanh(self) -> Self {
        num_dual::DualNum::tanh(&self)
    }
    fn recip(self) -> Self {
        num_dual::DualNum::recip(&self)
    }
    fn abs(self) -> Self {
        if self.re < 0.0 {
            -self
        } else if self.re > 0.0 {
            self
        } else {
            num_dual::Dual64::new(0.0, 0.0)
        }
    }
    fn max(self, other: Self) -> Self {
        if other.re > self.re {
            other
        } else {
            self
        }
    }
    fn min(self, other: Self) -> Self {
        if other.re < self.re {
            other
        } else {
            self
        }
    }
}
