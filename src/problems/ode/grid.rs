//! Time-stepping schemes ([`Scheme`]) and time grids ([`TimeGrid`]).

use crate::{Error, Result};

/// How step `k` approximates `∫ g dt` over `[t_{k−1}, t_k]`: the constraint block is
/// `f_k = x_k − x_{k−1} − h_k G_k` with
///
/// ```text
///     explicit-euler:  G_k = g(t_{k−1}, x_{k−1}, θ)                        (w = 0)
///     implicit-euler:  G_k = g(t_k, x_k, θ)                                (w = 1)
///     crank-nicolson:  G_k = (g(t_{k−1}, x_{k−1}, θ) + g(t_k, x_k, θ)) / 2  (w = ½)
/// ```
///
/// i.e. `G_k = w g(t_k, x_k, θ) + (1 − w) g(t_{k−1}, x_{k−1}, θ)` with the weight
/// [`Scheme::weight`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Forward Euler: every diagonal block is the identity (a residual network).
    ExplicitEuler,
    /// Backward Euler.
    #[default]
    ImplicitEuler,
    /// The trapezoidal rule.
    CrankNicolson,
}

impl Scheme {
    /// The weight `w` of the new point: 0, 1 or ½.
    pub fn weight(self) -> f64 {
        match self {
            Scheme::ExplicitEuler => 0.0,
            Scheme::ImplicitEuler => 1.0,
            Scheme::CrankNicolson => 0.5,
        }
    }

    /// `"explicit-euler"`, `"implicit-euler"` or `"crank-nicolson"`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::ExplicitEuler => "explicit-euler",
            Scheme::ImplicitEuler => "implicit-euler",
            Scheme::CrankNicolson => "crank-nicolson",
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scheme {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "explicit-euler" => Ok(Scheme::ExplicitEuler),
            "implicit-euler" => Ok(Scheme::ImplicitEuler),
            "crank-nicolson" => Ok(Scheme::CrankNicolson),
            _ => Err(Error::invalid(
                "scheme",
                format!(
                    "unknown scheme {s:?} (expected implicit-euler, explicit-euler or crank-nicolson)"
                ),
            )),
        }
    }
}

/// The times `0 = t_0 < t_1 < … < t_K` of a time integration, with steps `h_k = t_k − t_{k−1}`.
///
/// # Example
/// ```
/// use adjoint::problems::ode::TimeGrid;
/// let g = TimeGrid::geometric(10, 1.0, 1e-3)?;
/// assert_eq!(g.steps(), 10);
/// assert_eq!(g.h(1), 1e-3);
/// assert!((g.t_end() - 1.0).abs() < 1e-15);
/// // h_k = h_1 r^{k−1}
/// let r = g.h(2) / g.h(1);
/// assert!((g.h(10) / g.h(9) - r).abs() < 1e-9 * r);
/// # Ok::<(), adjoint::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TimeGrid {
    times: Vec<f64>,
}

impl TimeGrid {
    /// `K` equal steps on `[0, T]`: `t_k = k T / K`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for `K = 0` or a `T` that is not finite and positive.
    pub fn uniform(steps: usize, t_end: f64) -> Result<Self> {
        check_steps_and_end(steps, t_end)?;
        let times = (0..=steps)
            .map(|k| t_end * (k as f64 / steps as f64))
            .collect();
        Self::from_times(times)
    }

    /// `K` steps growing geometrically: `h_1 = first`, `h_k = h_1 r^{k−1}`, with the ratio `r`
    /// chosen so that `Σ h_k = T` (found by bisection to the last bit; `r < 1` when
    /// `K h_1 > T`). The last time is set to `T` exactly.
    ///
    /// # Errors
    /// [`Error::Invalid`] for `K = 0`, a non-positive `T` or `first`, or `first ≥ T` with
    /// more than one step.
    pub fn geometric(steps: usize, t_end: f64, first: f64) -> Result<Self> {
        check_steps_and_end(steps, t_end)?;
        if !(first.is_finite() && first > 0.0) {
            return Err(Error::invalid(
                "first step",
                format!("must be finite and positive, got {first}"),
            ));
        }
        if steps == 1 {
            return Self::from_times(vec![0.0, t_end]);
        }
        if first >= t_end {
            return Err(Error::invalid(
                "first step",
                format!("{first} must be smaller than the end time {t_end} for {steps} steps"),
            ));
        }
        // S(r) = h_1 Σ_{k<K} r^k increases with r: S(0) = h_1 < T, S(r) → ∞
        let total = |r: f64| -> f64 {
            let (mut s, mut h) = (0.0, first);
            for _ in 0..steps {
                s += h;
                h *= r;
                if !s.is_finite() {
                    return f64::INFINITY;
                }
            }
            s
        };
        let (mut lo, mut hi) = (0.0f64, 2.0f64);
        while total(hi) < t_end {
            hi *= 2.0;
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if total(mid) < t_end {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let r = 0.5 * (lo + hi);
        let mut times = Vec::with_capacity(steps + 1);
        let (mut t, mut h) = (0.0, first);
        times.push(0.0);
        for _ in 0..steps {
            t += h;
            h *= r;
            times.push(t);
        }
        times[steps] = t_end;
        if times.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::invalid(
                "first step",
                format!(
                    "{first} is too large for {steps} geometric steps on [0, {t_end}]: the later \
                     steps shrink below the resolution of t"
                ),
            ));
        }
        Self::from_times(times)
    }

    /// Any grid: `times[0] = 0` and strictly increasing finite times.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the first time that breaks the rule, or for fewer than two
    /// times.
    pub fn from_times(times: Vec<f64>) -> Result<Self> {
        if times.len() < 2 {
            return Err(Error::invalid(
                "time grid",
                format!("needs at least two times (one step), got {}", times.len()),
            ));
        }
        if times[0] != 0.0 {
            return Err(Error::invalid(
                "time grid",
                format!("must start at t_0 = 0, got {}", times[0]),
            ));
        }
        for k in 1..times.len() {
            if !(times[k].is_finite() && times[k] > times[k - 1]) {
                return Err(Error::invalid(
                    "time grid",
                    format!(
                        "t_{k} = {} must be finite and greater than t_{} = {}",
                        times[k],
                        k - 1,
                        times[k - 1]
                    ),
                ));
            }
        }
        Ok(TimeGrid { times })
    }

    /// The number of steps `K`.
    pub fn steps(&self) -> usize {
        self.times.len() - 1
    }
    /// `t_k`, `k = 0 … K`.
    pub fn t(&self, k: usize) -> f64 {
        self.times[k]
    }
    /// `h_k = t_k − t_{k−1}`, `k = 1 … K`.
    pub fn h(&self, k: usize) -> f64 {
        self.times[k] - self.times[k - 1]
    }
    /// `T = t_K`.
    pub fn t_end(&self) -> f64 {
        self.times[self.steps()]
    }
    /// All times `t_0 … t_K`.
    pub fn times(&self) -> &[f64] {
        &self.times
    }
}

fn check_steps_and_end(steps: usize, t_end: f64) -> Result<()> {
    if steps == 0 {
        return Err(Error::invalid("steps", "must be at least 1"));
    }
    if !(t_end.is_finite() && t_end > 0.0) {
        return Err(Error::invalid(
            "end time",
            format!("must be finite and positive, got {t_end}"),
        ));
    }
    Ok(())
}
