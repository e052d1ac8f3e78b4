//! `LDLᵀ` of a symmetric tridiagonal matrix: the banded kernel [`super::Solver`] uses when
//! `∂f/∂u` has exactly the tridiagonal pattern (unless [`super::SolverOptions::banded`] is
//! off).
//!
//! For `A` with diagonal `a_k` and off-diagonal `s_k = a_{k+1,k} = a_{k,k+1}` (n × n), the
//! factorization has no fill and no symbolic structure beyond `n`:
//!
//! ```text
//!     A = L D Lᵀ,   D = diag(d_0, …, d_{n−1}),   L = I + Σ_k l_k e_{k+1} e_kᵀ,
//!
//!     d_0 = a_0,    l_k = s_k / d_k,    d_{k+1} = a_{k+1} − l_k s_k       (k = 0 … n−2)
//! ```
//!
//! (LAPACK's `dpttrf`, without its positive-definiteness requirement: pivots of either sign are
//! accepted as long as `|d_k| > tol · max_j |d_j|`, the rule of [`crate::solve`].) A solve `A x = r` is one forward and one
//! backward recurrence,
//!
//! ```text
//!     y_0 = r_0,          y_{k+1} = r_{k+1} − l_k y_k
//!     x_{n−1} = y_{n−1}/d_{n−1},   x_k = y_k / d_k − l_k x_{k+1}
//! ```
//!
//! and, `A` being symmetric, the same factors solve the adjoint system `Aᵀλ = r`.
//!
//! The kernel reads the values of the CSC matrix in place: for the tridiagonal pattern,
//! column `j` stores rows `j−1, j, j+1`, so the values are the triplets
//! `(a_j, s_j, s_j)` = `(a_{jj}, a_{j+1,j}, a_{j,j+1})` at offsets `3j, 3j+1, 3j+2`, then
//! `a_{n−1}` at `3n − 3`. The checks that `sprs-ldl` lacks (finite values, exact symmetry
//! `a_{j+1,j} = a_{j,j+1}`, pivot size) are fused into the factorization loop.

use super::Factorization;
use crate::kernels::{StreamingStores, STREAMING_THRESHOLD};
use crate::sparse::check_matrix_finite;
use crate::{Error, Result};
use sprs::{CsMat, CsStructure};

/// Whether `pattern` is exactly the full symmetric tridiagonal CSC pattern of its size
/// (column `j` holds rows `j−1, j, j+1`, clipped to the matrix), which
/// [`TridiagonalLdlt`] requires.
pub(crate) fn is_tridiagonal_pattern(pattern: &CsStructure) -> bool {
    let (n, cols) = pattern.shape();
    if n != cols || !pattern.is_csc() || n < 2 || pattern.nnz() != 3 * n - 2 {
        return false;
    }
    let indptr = pattern.indptr();
    let indices = pattern.indices();
    let base = indptr.index(0);
    (0..n).all(|j| {
        let (lo, hi) = (j.saturating_sub(1), (j + 2).min(n));
        let (start, end) = (indptr.index(j) - base, indptr.index(j + 1) - base);
        end - start == hi - lo && indices[start..end].iter().copied().eq(lo..hi)
    })
}

/// The `LDLᵀ` factors of a symmetric tridiagonal matrix (n ≥ 2), refilled in place for new
/// values. Cloning keeps the factors.
#[derive(Debug, Clone)]
pub(crate) struct TridiagonalLdlt {
    n: usize,
    pivot_tolerance: f64,
    /// `1 / d_k`, k = 0 … n−1.
    inv_d: Vec<f64>,
    /// `l_k`, k = 0 … n−2.
    l: Vec<f64>,
    valid: bool,
}

impl TridiagonalLdlt {
    /// Storage for an n × n matrix with the pattern checked by [`is_tridiagonal_pattern`].
    ///
    /// # Errors
    /// [`Error::Invalid`] when the pattern is not the tridiagonal one.
    pub(crate) fn analyze(pattern: &CsStructure) -> Result<Self> {
        if !is_tridiagonal_pattern(pattern) {
            return Err(Error::invalid(
                "tridiagonal LDLᵀ",
                "the pattern is not the full symmetric tridiagonal pattern (n ≥ 2)",
            ));
        }
        let n = pattern.rows();
        Ok(TridiagonalLdlt {
            n,
            pivot_tolerance: super::DEFAULT_PIVOT_TOLERANCE,
            inv_d: vec![0.0; n],
            l: vec![0.0; n - 1],
            valid: false,
        })
    }
}

impl Factorization for TridiagonalLdlt {
    fn name(&self) -> &'static str {
        "ldlt"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values).
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`] for a NaN or infinite value; [`Error::NotSymmetric`] when
    /// `a_{k+1,k} ≠ a_{k,k+1}`; [`Error::SingularPivot`] when `|d_k| ≤ tol · max_j |d_j|`
    /// (the first such `k`).
    ///
    /// # Panics
    /// When `a` does not have the analyzed size and number of entries (a programming error).
    #[track_caller]
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        let (n, pivot_tolerance) = (self.n, self.pivot_tolerance);
        assert!(
            a.rows() == n && a.nnz() == 3 * n - 2,
            "TridiagonalLdlt::factor: matrix of another pattern"
        );
        self.valid = false;
        let v = a.data();
        // One pass: the recurrence (serial, latency-bound) with the independent reductions
        // riding along; a wrong value is located afterwards, off the fast path.
        let (mut bad, mut asymmetric, mut nan_pivot) = (false, false, false);
        let (mut min_pivot, mut max_pivot) = (f64::INFINITY, 0.0f64);
        let mut d = v[0];
        let stream = n >= STREAMING_THRESHOLD;
        let streaming = StreamingStores::new();
        for (k, (inv, l)) in self.inv_d.iter_mut().zip(self.l.iter_mut()).enumerate() {
            let (a, s, t, next) = (v[3 * k], v[3 * k + 1], v[3 * k + 2], v[3 * k + 3]);
            bad |= !(a.is_finite() & s.is_finite() & t.is_finite());
            asymmetric |= s != t;
            min_pivot = min_pivot.min(d.abs());
            max_pivot = max_pivot.max(d.abs());
            nan_pivot |= d.is_nan();
            // the chain d_k → d_{k+1} is a division, a product and a subtraction; 1/d_k is
            // computed beside it (the divider is pipelined). `l_k s_k` instead of `s_k²/d_k`:
            // no square of a huge entry overflows (the update is scale-invariant).
            let lk = s / d;
            if stream {
                streaming.store(inv, 1.0 / d);
                streaming.store(l, lk);
            } else {
                *inv = 1.0 / d;
                *l = lk;
            }
            d = next - lk * s;
        }
        drop(streaming); // the fence
        let last = v[3 * n - 3];
        bad |= !last.is_finite();
        min_pivot = min_pivot.min(d.abs());
        max_pivot = max_pivot.max(d.abs());
        nan_pivot |= d.is_nan();
        self.inv_d[n - 1] = 1.0 / d;

        if bad {
            check_matrix_finite(what, a)?;
        }
        if asymmetric {
            let k = (0..n - 1)
                .find(|&k| v[3 * k + 1] != v[3 * k + 2])
                .unwrap_or(0);
            return Err(Error::NotSymmetric {
                what: what.to_string(),
                row: k + 1,
                col: k,
                value: v[3 * k + 1],
                mirror: v[3 * k + 2],
            });
        }
        if nan_pivot || min_pivot <= pivot_tolerance * max_pivot {
            // off the fast path: redo the recurrence to find the pivot the rule names
            let mut pivots = Vec::with_capacity(n);
            let mut d = v[0];
            for k in 0..n {
                pivots.push(d);
                if k + 1 < n {
                    let s = v[3 * k + 1];
                    d = v[3 * k + 3] - (s / d) * s;
                }
            }
            if let Some((index, pivot, tolerance)) =
                super::singular_pivot(|k| pivots[k], n, pivot_tolerance)
            {
                return Err(Error::SingularPivot {
                    what: what.to_string(),
                    index,
                    pivot,
                    tolerance,
                });
            }
        }
        self.valid = true;
        Ok(())
    }

    /// Solves `A x = rhs` (equivalently `Aᵀ x = rhs`) in place: one forward and one backward
    /// recurrence. Allocates nothing.
    ///
    /// # Errors
    /// [`Error::Invalid`] when no successful factorization is available.
    ///
    /// # Panics
    /// When `rhs.len() != n` (a programming error).
    #[track_caller]
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        assert_eq!(rhs.len(), self.n, "TridiagonalLdlt::solve_in_place: length");
        self.check_valid()?;
        let mut y = rhs[0];
        for (x, &l) in rhs[1..].iter_mut().zip(&self.l) {
            y = *x - l * y;
            *x = y;
        }
        self.backward(rhs);
        Ok(())
    }

    /// `x = A⁻¹ (α r)` without modifying `r`: the forward recurrence reads `r` and writes
    /// `x`, so no copy of the right-hand side is made. Allocates nothing.
    ///
    /// # Errors
    /// [`Error::Invalid`] when no successful factorization is available.
    ///
    /// # Panics
    /// When `r` or `x` does not have length `n` (a programming error).
    #[track_caller]
    fn solve_scaled_into(&mut self, r: &[f64], alpha: f64, x: &mut [f64]) -> Result<()> {
        assert!(
            r.len() == self.n && x.len() == self.n,
            "TridiagonalLdlt::solve_scaled_into: length"
        );
        self.check_valid()?;
        let mut y = alpha * r[0];
        x[0] = y;
        for ((xk, &rk), &l) in x[1..].iter_mut().zip(&r[1..]).zip(&self.l) {
            y = alpha * rk - l * y;
            *xk = y;
        }
        self.backward(x);
        Ok(())
    }

    /// `Aᵀ = A`: the same solve.
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve_in_place(rhs)
    }

    /// `Aᵀ = A`: the same solve, without a copy of `r`.
    fn solve_transpose_scaled_into(&mut self, r: &[f64], alpha: f64, x: &mut [f64]) -> Result<()> {
        self.solve_scaled_into(r, alpha, x)
    }
}

impl TridiagonalLdlt {
    fn check_valid(&self) -> Result<()> {
        if self.valid {
            Ok(())
        } else {
            Err(Error::invalid(
                "LDLᵀ solve",
                "no successful factorization to solve with",
            ))
        }
    }

    /// `x ← D⁻¹ L⁻ᵀ x`: `x_{n−1} = y_{n−1}/d_{n−1}`, `x_k = y_k/d_k − l_k x_{k+1}`.
    fn backward(&self, x: &mut [f64]) {
        let n = self.n;
        let mut next = x[n - 1] * self.inv_d[n - 1];
        x[n - 1] = next;
        for ((xk, &inv), &l) in x[..n - 1].iter_mut().zip(&self.inv_d).zip(&self.l).rev() {
            next = *xk * inv - l * next;
            *xk = next;
        }
    }
}
