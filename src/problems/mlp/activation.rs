//! Element-wise activations `σ` with their derivatives.
//!
//! Each built-in activation has a derivative that is a function of its *output*:
//!
//! | name       | σ(z)              | σ'(z) in terms of y = σ(z) |
//! |------------|-------------------|----------------------------|
//! | `exp_neg`  | exp(−z) (the seed's h) | −y                    |
//! | `tanh`     | tanh(z)           | 1 − y²                     |
//! | `sigmoid`  | 1 / (1 + exp(−z)) | y (1 − y)                  |
//! | `identity` | z                 | 1                          |
//!
//! so `D_i = diag(σ'(W_i u_{i−1} + b_i))` is read off the state `u_i` alone: assembling the
//! Jacobians at a given `(u, θ)` needs no matrix-vector product.

use crate::Scalar;
use crate::{Error, Result};
use std::fmt;

/// An element-wise activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// `exp(−z)`, the seed's `h`.
    #[default]
    ExpNeg,
    /// `tanh(z)`.
    Tanh,
    /// `1 / (1 + exp(−z))`.
    Sigmoid,
    /// `z`.
    Identity,
}

impl Activation {
    /// All activations, in documentation order.
    pub const ALL: [Activation; 4] = [
        Activation::ExpNeg,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Identity,
    ];

    /// `σ(z)`.
    #[inline]
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Activation::ExpNeg => (-z).exp(),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Activation::Identity => z,
        }
    }

    /// `σ'(z)` written with `y = σ(z)`.
    #[inline]
    pub fn derivative_from_output(self, y: f64) -> f64 {
        match self {
            Activation::ExpNeg => -y,
            Activation::Tanh => 1.0 - y * y,
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Identity => 1.0,
        }
    }

    /// `σ` on any [`Scalar`] (the models' residuals; dual numbers for checks).
    pub fn apply_scalar<T: Scalar>(self, z: T) -> T {
        match self {
            Activation::ExpNeg => (-z).exp(),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => ((-z).exp() + 1.0).recip(),
            Activation::Identity => z,
        }
    }

    /// The name used in `problem.json`: `exp_neg`, `tanh`, `sigmoid`, `identity`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::ExpNeg => "exp_neg",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Identity => "identity",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Activation {
    type Err = Error;
    /// Accepts `exp_neg` or `exp-neg`, `tanh`, `sigmoid`, `identity`.
    fn from_str(s: &str) -> Result<Self> {
        match s.replace('-', "_").as_str() {
            "exp_neg" => Ok(Activation::ExpNeg),
            "tanh" => Ok(Activation::Tanh),
            "sigmoid" => Ok(Activation::Sigmoid),
            "identity" => Ok(Activation::Identity),
            _ => Err(Error::invalid(
                "activation",
                format!("unknown activation {s:?} (expected exp-neg, tanh, sigmoid or identity)"),
            )),
        }
    }
}
