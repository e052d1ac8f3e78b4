//! The density / sensitivity filter of the 88-line code.
//!
//! ```text
//!     H_ij = max(0, r_min − dist(i, j)),    Hs_i = Σ_j H_ij
//! ```
//!
//! between element centres, with `j` over the elements within `⌈r_min⌉ − 1` rows and columns
//! of `i`. Stored row by row (`H` is symmetric, so rows are also columns).

/// The filter matrix `H` (compressed rows) and its row sums `Hs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    indptr: Vec<usize>,
    indices: Vec<usize>,
    weights: Vec<f64>,
    row_sums: Vec<f64>,
}

impl Filter {
    /// The filter of radius `rmin` on an `nelx × nely` mesh (element `e = ex·nely + ey`).
    pub fn new(nelx: usize, nely: usize, rmin: f64) -> Filter {
        let reach = (rmin.ceil() as usize).saturating_sub(1);
        let n = nelx * nely;
        let mut indptr = Vec::with_capacity(n + 1);
        let side = 2 * reach + 1;
        let mut indices = Vec::with_capacity(n * side * side);
        let mut weights = Vec::with_capacity(n * side * side);
        let mut row_sums = Vec::with_capacity(n);
        indptr.push(0);
        for i1 in 0..nelx {
            for j1 in 0..nely {
                let mut sum = 0.0;
                for i2 in i1.saturating_sub(reach)..(i1 + reach + 1).min(nelx) {
                    for j2 in j1.saturating_sub(reach)..(j1 + reach + 1).min(nely) {
                        let (di, dj) = (i1 as f64 - i2 as f64, j1 as f64 - j2 as f64);
                        let w = (rmin - (di * di + dj * dj).sqrt()).max(0.0);
                        if w > 0.0 {
                            indices.push(i2 * nely + j2);
                            weights.push(w);
                            sum += w;
                        }
                    }
                }
                row_sums.push(sum);
                indptr.push(indices.len());
            }
        }
        Filter {
            indptr,
            indices,
            weights,
            row_sums,
        }
    }

    /// `Hs`, the row sums.
    pub fn row_sums(&self) -> &[f64] {
        &self.row_sums
    }

    /// Stored weights (the filter's memory is `nnz` weights and indices).
    pub fn nnz(&self) -> usize {
        self.weights.len()
    }

    /// `out = H v`.
    pub fn apply(&self, v: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            let range = self.indptr[i]..self.indptr[i + 1];
            *o = self.indices[range.clone()]
                .iter()
                .zip(&self.weights[range])
                .map(|(&j, &w)| w * v[j])
                .sum();
        }
    }
}
