//! The lazy Kronecker product `K = [u; 1]ᵀ ⊗ I_n` (n × (m+1)n for `u ∈ ℝᵐ`).
//!
//! For a layer `Φ(θ) = σ(W u + b)` with `θ = [vec(W); b]` (columns of `W` stacked),
//! `∂(W u + b)/∂θ = [u; 1]ᵀ ⊗ I_n`. It is applied with the identity
//!
//! ```text
//!     (A ⊗ B) v = vec(B · mat(v) · Aᵀ)      with A = [u; 1]ᵀ (1 × (m+1)), B = I_n,
//! ```
//!
//! so `K x = mat(x) [u; 1]` (an n × (m+1) matrix times a vector) and
//! `Kᵀ y = vec(y [u; 1]ᵀ)` (an outer product); neither forms the n × (m+1)n matrix, whose
//! explicit CSC form ([`RowKron::to_csc`]) has one entry per column: `(r, c·n + r) = [u; 1]_c`.

use sprs::CsMat;

/// `[u; 1]ᵀ ⊗ I_n`, stored as `u` and `n`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowKron {
    u: Vec<f64>,
    n: usize,
}

impl RowKron {
    /// The operator `[u; 1]ᵀ ⊗ I_n`.
    pub fn new(u: &[f64], n: usize) -> Self {
        RowKron { u: u.to_vec(), n }
    }

    /// `(rows, cols) = (n, (m+1)·n)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.n, (self.u.len() + 1) * self.n)
    }

    /// `[u; 1]_c`.
    #[inline]
    fn coef(&self, c: usize) -> f64 {
        self.u.get(c).copied().unwrap_or(1.0)
    }

    /// `y ← K x = mat(x) [u; 1]`.
    ///
    /// # Panics
    /// When the lengths do not match the shape (a programming error).
    #[track_caller]
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(
            x.len(),
            self.shape().1,
            "RowKron::apply: x has the wrong length"
        );
        assert_eq!(y.len(), self.n, "RowKron::apply: y has the wrong length");
        y.fill(0.0);
        for (c, block) in x.chunks_exact(self.n).enumerate() {
            let a = self.coef(c);
            for (yi, xi) in y.iter_mut().zip(block) {
                *yi += a * xi;
            }
        }
    }

    /// `x ← Kᵀ y = vec(y [u; 1]ᵀ)`.
    ///
    /// # Panics
    /// When the lengths do not match the shape (a programming error).
    #[track_caller]
    pub fn apply_transpose(&self, y: &[f64], x: &mut [f64]) {
        assert_eq!(
            y.len(),
            self.n,
            "RowKron::apply_transpose: y has the wrong length"
        );
        assert_eq!(
            x.len(),
            self.shape().1,
            "RowKron::apply_transpose: x has the wrong length"
        );
        for (c, block) in x.chunks_exact_mut(self.n).enumerate() {
            let a = self.coef(c);
            for (xi, yi) in block.iter_mut().zip(y) {
                *xi = a * yi;
            }
        }
    }

    /// The explicit sparse matrix: column `c·n + r` holds `[u; 1]_c` at row `r` (stored even
    /// when zero, so the pattern does not depend on `u`).
    pub fn to_csc(&self) -> CsMat<f64> {
        let (rows, cols) = self.shape();
        let indptr: Vec<usize> = (0..=cols).collect();
        let indices: Vec<usize> = (0..cols).map(|k| k % self.n).collect();
        let data: Vec<f64> = (0..cols).map(|k| self.coef(k / self.n)).collect();
        CsMat::new_csc((rows, cols), indptr, indices, data)
    }
}
