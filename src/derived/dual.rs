//! Forward-mode dual numbers with `N` directions: `x = x₀ + Σ_d x_d ε_d`, `ε_d ε_e = 0`.
//!
//! One evaluation of `f` on duals seeded with `N` directions `s_1 … s_N` gives `f(x₀)` and the
//! `N` directional derivatives `J s_d`. With the columns of a Jacobian grouped into
//! structurally orthogonal colors ([`super::coloring`]) and `s_d` the sum of the unit vectors
//! of color `d`, every stored entry `J_ij` is read back from `(J s_{color(j)})_i`: a whole
//! sparse Jacobian costs `⌈colors / N⌉` evaluations.
//!
//! Written here rather than taken from `num-dual` (which the tests use as an independent
//! reference): the derivative part is a plain `[f64; N]` that the compiler keeps in registers
//! and vectorizes, with no optional storage to test on every operation, and the type
//! implements [`Scalar`] directly.

use super::scalar::Scalar;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A dual number with `N` derivative directions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<const N: usize> {
    /// The value `x₀`.
    pub re: f64,
    /// The derivatives `x_1 … x_N`.
    pub eps: [f64; N],
}

impl<const N: usize> Dual<N> {
    /// A constant (all derivatives 0).
    #[inline]
    pub fn constant(re: f64) -> Self {
        Dual { re, eps: [0.0; N] }
    }

    /// `self` with derivatives scaled by `d`: the chain rule for a function with `f'(x₀) = d`.
    #[inline]
    fn chain(self, re: f64, d: f64) -> Self {
        let mut eps = self.eps;
        for e in &mut eps {
            *e *= d;
        }
        Dual { re, eps }
    }
}

impl<const N: usize> Add for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        let mut eps = self.eps;
        for (e, b) in eps.iter_mut().zip(o.eps) {
            *e += b;
        }
        Dual {
            re: self.re + o.re,
            eps,
        }
    }
}

impl<const N: usize> Sub for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        let mut eps = self.eps;
        for (e, b) in eps.iter_mut().zip(o.eps) {
            *e -= b;
        }
        Dual {
            re: self.re - o.re,
            eps,
        }
    }
}

impl<const N: usize> Mul for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        let mut eps = [0.0; N];
        for ((e, a), b) in eps.iter_mut().zip(self.eps).zip(o.eps) {
            *e = a * o.re + b * self.re;
        }
        Dual {
            re: self.re * o.re,
            eps,
        }
    }
}

impl<const N: usize> Div for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.re;
        let q = self.re * inv;
        let mut eps = [0.0; N];
        for ((e, a), b) in eps.iter_mut().zip(self.eps).zip(o.eps) {
            *e = (a - q * b) * inv;
        }
        Dual { re: q, eps }
    }
}

impl<const N: usize> Neg for Dual<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.chain(-self.re, -1.0)
    }
}

impl<const N: usize> Add<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(self, c: f64) -> Self {
        Dual {
            re: self.re + c,
            eps: self.eps,
        }
    }
}

impl<const N: usize> Sub<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(self, c: f64) -> Self {
        Dual {
            re: self.re - c,
            eps: self.eps,
        }
    }
}

impl<const N: usize> Mul<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, c: f64) -> Self {
        self.chain(self.re * c, c)
    }
}

impl<const N: usize> Div<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, c: f64) -> Self {
        let inv = 1.0 / c;
        self.chain(self.re * inv, inv)
    }
}

macro_rules! assign {
    ($tr:ident, $m:ident, $op:ident) => {
        impl<const N: usize> $tr for Dual<N> {
            #[inline]
            fn $m(&mut self, o: Self) {
                *self = (*self).$op(o);
            }
        }
    };
}
assign!(AddAssign, add_assign, add);
assign!(SubAssign, sub_assign, sub);
assign!(MulAssign, mul_assign, mul);
assign!(DivAssign, div_assign, div);

impl<const N: usize> Scalar for Dual<N> {
    #[inline]
    fn zero() -> Self {
        Self::constant(0.0)
    }
    #[inline]
    fn one() -> Self {
        Self::constant(1.0)
    }
    #[inline]
    fn from_f64(c: f64) -> Self {
        Self::constant(c)
    }
    #[inline]
    fn value(self) -> f64 {
        self.re
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        match n {
            0 => Self::constant(1.0),
            1 => self,
            // the value as f64 computes it (xⁿ⁻¹·x would give NaN for x = 0, n < 0)
            _ => {
                let d = match n.checked_sub(1) {
                    Some(m) => self.re.powi(m),
                    None => self.re.powf(n as f64 - 1.0),
                };
                self.chain(self.re.powi(n), n as f64 * d)
            }
        }
    }
    #[inline]
    fn powf(self, p: f64) -> Self {
        if p == 0.0 {
            return Self::constant(1.0);
        }
        self.chain(self.re.powf(p), p * self.re.powf(p - 1.0))
    }
    #[inline]
    fn sqrt(self) -> Self {
        let s = self.re.sqrt();
        self.chain(s, 0.5 / s)
    }
    #[inline]
    fn exp(self) -> Self {
        let e = self.re.exp();
        self.chain(e, e)
    }
    #[inline]
    fn ln(self) -> Self {
        self.chain(self.re.ln(), 1.0 / self.re)
    }
    #[inline]
    fn sin(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(s, c)
    }
    #[inline]
    fn cos(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(c, -s)
    }
    #[inline]
    fn tanh(self) -> Self {
        let t = self.re.tanh();
        self.chain(t, 1.0 - t * t)
    }
    #[inline]
    fn recip(self) -> Self {
        let r = 1.0 / self.re;
        self.chain(r, -r * r)
    }
    #[inline]
    fn abs(self) -> Self {
        let s = if self.re > 0.0 {
            1.0
        } else if self.re < 0.0 {
            -1.0
        } else {
            0.0
        };
        self.chain(self.re.abs(), s)
    }
    #[inline]
    fn max(self, other: Self) -> Self {
        if other.re > self.re {
            other
        } else {
            self
        }
    }
    #[inline]
    fn min(self, other: Self) -> Self {
        if other.re < self.re {
            other
        } else {
            self
        }
    }
}
