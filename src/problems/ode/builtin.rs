//! The built-in ODEs of `adjoint ode`.

use super::OdeModel;
use crate::{Error, Result, Scalar};

/// Lotka–Volterra: `x = (prey, predator)`, `g = (a x₁ − b x₁x₂, d x₁x₂ − c x₂)`,
/// `θ = (a, b, c, d)` (default `(1.5, 1, 3, 1)`), `x_0 = (1, 1)`, `l = x₁ + x₂`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LotkaVolterra;

impl LotkaVolterra {
    /// `(a, b, c, d) = (1.5, 1, 3, 1)`.
    pub const DEFAULT_THETA: [f64; 4] = [1.5, 1.0, 3.0, 1.0];
}

impl OdeModel for LotkaVolterra {
    fn n_state(&self) -> usize {
        2
    }
    fn n_params(&self) -> usize {
        4
    }
    fn rhs<T: Scalar>(&self, _t: f64, x: &[T], th: &[T], dx: &mut [T]) {
        let p = x[0] * x[1];
        dx[0] = th[0] * x[0] - th[1] * p;
        dx[1] = th[3] * p - th[2] * x[1];
    }
    fn initial_state<T: Scalar>(&self, _theta: &[T], x0: &mut [T]) {
        x0[0] = T::one();
        x0[1] = T::one();
    }
    fn running_cost<T: Scalar>(&self, _t: f64, x: &[T], _theta: &[T]) -> T {
        x[0] + x[1]
    }
}

/// The heat equation on a rod: temperatures `v_1 … v_n` at the nodes `i Δy`, `Δy = 1/(n+1)`,
/// zero at both ends; `θ_0 … θ_n` the conductivities of the `n + 1` interfaces (default 1),
///
/// ```text
///     g_i = (θ_i (v_{i+1} − v_i) − θ_{i−1} (v_i − v_{i−1})) / Δy²,   v_0 = v_{n+1} = 0
/// ```
///
/// `v_i(0) = sin(π i Δy)`, `l = Δy Σ_i v_i²`. Its Jacobians are hand-written (checked
/// against the derived ones when a problem is built).
#[derive(Debug, Clone, Copy)]
pub struct Heat {
    /// The number of interior nodes.
    pub n: usize,
}

impl OdeModel for Heat {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.n + 1
    }
    fn rhs<T: Scalar>(&self, _t: f64, v: &[T], th: &[T], dv: &mut [T]) {
        let n = self.n;
        let inv = ((n + 1) as f64).powi(2);
        for i in 0..n {
            // node i + 1 of the rod: interfaces i (left) and i + 1 (right)
            let left = if i == 0 { v[i] } else { v[i] - v[i - 1] };
            let right = if i + 1 == n { -v[i] } else { v[i + 1] - v[i] };
            dv[i] = (th[i + 1] * right - th[i] * left) * inv;
        }
    }
    fn initial_state<T: Scalar>(&self, _theta: &[T], v0: &mut [T]) {
        let dy = 1.0 / (self.n + 1) as f64;
        for (i, v) in v0.iter_mut().enumerate() {
            *v = T::from_f64((std::f64::consts::PI * (i + 1) as f64 * dy).sin());
        }
    }
    fn running_cost<T: Scalar>(&self, _t: f64, v: &[T], _theta: &[T]) -> T {
        let dy = 1.0 / (self.n + 1) as f64;
        v.iter().fold(T::zero(), |s, &x| s + x * x) * dy
    }
    /// Tridiagonal: column `j` holds `θ_j/Δy²` (row `j − 1`), `−(θ_j + θ_{j+1})/Δy²` (row
    /// `j`) and `θ_{j+1}/Δy²` (row `j + 1`).
    fn jacobian_x_pattern(&self) -> Option<sprs::CsStructure> {
        let n = self.n;
        let mut indptr = vec![0];
        let mut indices = Vec::with_capacity(3 * n);
        for j in 0..n {
            indices.extend((j.saturating_sub(1)..(j + 2).min(n)).collect::<Vec<_>>());
            indptr.push(indices.len());
        }
        let nnz = indices.len();
        Some(sprs::CsStructure::new_csc(
            (n, n),
            indptr,
            indices,
            vec![(); nnz],
        ))
    }
    fn jacobian_x(&self, _t: f64, _v: &[f64], th: &[f64], values: &mut [f64]) {
        let n = self.n;
        let inv = ((n + 1) as f64).powi(2);
        let mut k = 0;
        for j in 0..n {
            if j > 0 {
                values[k] = th[j] * inv;
                k += 1;
            }
            values[k] = -(th[j + 1] + th[j]) * inv;
            k += 1;
            if j + 1 < n {
                values[k] = th[j + 1] * inv;
                k += 1;
            }
        }
    }
    /// Column `p` (interface `p`, between nodes `p` and `p + 1` of the rod) holds
    /// `±(v_p − v_{p−1})/Δy²` in rows `p − 1` and `p` (with `v_{−1} = v_n = 0` in 0-based
    /// node indices).
    fn jacobian_theta_pattern(&self) -> Option<sprs::CsStructure> {
        let n = self.n;
        let mut indptr = vec![0];
        let mut indices = Vec::with_capacity(2 * n);
        for p in 0..=n {
            if p > 0 {
                indices.push(p - 1);
            }
            if p < n {
                indices.push(p);
            }
            indptr.push(indices.len());
        }
        let nnz = indices.len();
        Some(sprs::CsStructure::new_csc(
            (n, n + 1),
            indptr,
            indices,
            vec![(); nnz],
        ))
    }
    fn jacobian_theta(&self, _t: f64, v: &[f64], _th: &[f64], values: &mut [f64]) {
        let n = self.n;
        let inv = ((n + 1) as f64).powi(2);
        let at = |i: usize| if i < n { v[i] } else { 0.0 };
        let mut k = 0;
        for p in 0..=n {
            let jump = at(p) - if p == 0 { 0.0 } else { v[p - 1] };
            if p > 0 {
                values[k] = jump * inv;
                k += 1;
            }
            if p < n {
                values[k] = -jump * inv;
                k += 1;
            }
        }
    }
    fn check_params(&self, theta: &[f64]) -> Result<()> {
        match theta.iter().position(|&c| c < 0.0) {
            Some(i) => Err(Error::model(format!(
                "conductivity theta[{i}] = {} is negative",
                theta[i]
            ))),
            None => Ok(()),
        }
    }
}

/// Robertson's stiff chemical kinetics:
/// `g = (−p₁y₁ + p₂y₂y₃, p₁y₁ − p₂y₂y₃ − p₃y₂², p₃y₂²)`, `θ = p` (default
/// `(0.04, 1e4, 3e7)`), `y_0 = (1, 0, 0)`, `l = y₃`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Robertson;

impl Robertson {
    /// `(p₁, p₂, p₃) = (0.04, 1e4, 3e7)`.
    pub const DEFAULT_THETA: [f64; 3] = [0.04, 1e4, 3e7];
}

impl OdeModel for Robertson {
    fn n_state(&self) -> usize {
        3
    }
    fn n_params(&self) -> usize {
        3
    }
    fn rhs<T: Scalar>(&self, _t: f64, y: &[T], p: &[T], dy: &mut [T]) {
        let r1 = p[0] * y[0];
        let r2 = p[1] * y[1] * y[2];
        let r3 = p[2] * y[1] * y[1];
        dy[0] = r2 - r1;
        dy[1] = r1 - r2 - r3;
        dy[2] = r3;
    }
    fn initial_state<T: Scalar>(&self, _theta: &[T], y0: &mut [T]) {
        y0[0] = T::one();
        y0[1] = T::zero();
        y0[2] = T::zero();
    }
    fn running_cost<T: Scalar>(&self, _t: f64, y: &[T], _theta: &[T]) -> T {
        y[2]
    }
}
