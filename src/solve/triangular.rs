//! Substitution for `∂f/∂u` whose graph is a DAG: no factorization, `O(nnz)` per solve.
//!
//! With `J = ∂f/∂u` stored CSC and a [`TopologicalOrder`] (every unknown after those it
//! depends on), both systems are solved by one sweep over the stored entries:
//!
//! ```text
//!   J x = r   (state):    for j in order:          x_j = r_j / J_jj;   r_i −= J_ij x_j  (i ≠ j in column j)
//!   Jᵀ λ = r  (adjoint):  for j in reverse order:  λ_j = (r_j − Σ_{i≠j} J_ij λ_i) / J_jj
//! ```
//!
//! The adjoint sweep reads column `j` as a dot product, so it touches each stored entry once,
//! as `Jᵀ x` does. When every diagonal entry is exactly 1 (a network's `L = I − L̃`) the
//! unit-diagonal variant is used, which never divides.
//!
//! Memory layout: when the natural order is topological (the matrix is lower triangular, as a
//! network's `L`), the solver keeps no copy and sweeps the caller's matrix. Otherwise it keeps
//! the columns in sweep order — the pattern once, the values refreshed by
//! [`TriangularSolver::factor`] with one contiguous copy per column — so that a sweep streams
//! through memory like a mat-vec instead of jumping to a random column at every step.

use crate::dag::TopologicalOrder;
use crate::{Error, Result};
use sprs::{CsMat, CsStructure};

/// Columns of `J` stored in sweep order, diagonal kept apart.
#[derive(Debug, Clone)]
struct Reordered {
    /// `ptr[k]..ptr[k+1]` are the off-diagonal entries of the `k`-th column of the sweep.
    ptr: Vec<usize>,
    /// Their row indices, in the caller's numbering.
    idx: Vec<usize>,
    /// Their values, refreshed by `factor`.
    val: Vec<f64>,
    /// Diagonal value at each sweep position, refreshed by `factor`.
    dval: Vec<f64>,
    /// `cols[k]`: the caller's column at sweep position `k` (the topological order).
    cols: Vec<usize>,
    /// `src[k]`: start of that column in the caller's storage.
    src: Vec<usize>,
    /// `dpos[k]`: offset of the diagonal entry within that column.
    dpos: Vec<usize>,
}

/// Reusable substitution solver for one pattern and one topological order.
#[derive(Debug, Clone)]
pub struct TriangularSolver {
    order: TopologicalOrder,
    n: usize,
    nnz: usize,
    /// The reordered copy (non-natural order only).
    layout: Option<Reordered>,
    /// Natural order: storage index of each column's diagonal entry in the caller's matrix.
    diag_slot: Vec<usize>,
    unit: bool,
    valid: bool,
    pivot_tolerance: f64,
}

/// `Σ v_e x_{i_e}` over one run of entries.
#[inline(always)]
fn dot(idx: &[usize], val: &[f64], x: &[f64]) -> f64 {
    idx.iter().zip(val).map(|(&i, &v)| v * x[i]).sum()
}

/// `x_{i_e} −= v_e · a` over one run of entries.
#[inline(always)]
fn axpy(idx: &[usize], val: &[f64], a: f64, x: &mut [f64]) {
    for (&i, &v) in idx.iter().zip(val) {
        x[i] -= v * a;
    }
}

impl Reordered {
    fn transpose(&self, unit: bool, x: &mut [f64]) {
        for k in (0..self.cols.len()).rev() {
            let j = self.cols[k];
            let r = self.ptr[k]..self.ptr[k + 1];
            let s = x[j] - dot(&self.idx[r.clone()], &self.val[r], x);
            x[j] = if unit { s } else { s / self.dval[k] };
        }
    }

    fn forward(&self, unit: bool, x: &mut [f64]) {
        for k in 0..self.cols.len() {
            let j = self.cols[k];
            let xj = if unit { x[j] } else { x[j] / self.dval[k] };
            x[j] = xj;
            if xj != 0.0 {
                let r = self.ptr[k]..self.ptr[k + 1];
                axpy(&self.idx[r.clone()], &self.val[r], xj, x);
            }
        }
    }
}

/// Natural order on the caller's CSC arrays, diagonal at `diag[j]` inside column `j`.
fn natural_transpose(
    ptr: &[usize],
    idx: &[usize],
    val: &[f64],
    diag: &[usize],
    unit: bool,
    x: &mut [f64],
) {
    for j in (0..diag.len()).rev() {
        let d = diag[j];
        let (before, after) = (ptr[j]..d, d + 1..ptr[j + 1]);
        let s = x[j]
            - dot(&idx[before.clone()], &val[before], x)
            - dot(&idx[after.clone()], &val[after], x);
        x[j] = if unit { s } else { s / val[d] };
    }
}

fn natural_forward(
    ptr: &[usize],
    idx: &[usize],
    val: &[f64],
    diag: &[usize],
    unit: bool,
    x: &mut [f64],
) {
    for j in 0..diag.len() {
        let d = diag[j];
        let xj = if unit { x[j] } else { x[j] / val[d] };
        x[j] = xj;
        if xj != 0.0 {
            for r in [ptr[j]..d, d + 1..ptr[j + 1]] {
                axpy(&idx[r.clone()], &val[r], xj, x);
            }
        }
    }
}

fn missing_diagonal(j: usize) -> Error {
    Error::SingularPivot {
        what: "df/du".into(),
        index: j,
        pivot: 0.0,
        tolerance: 0.0,
    }
}

impl TriangularSolver {
    /// Prepares the sweeps for `pattern` (CSC, square) in `order`.
    ///
    /// # Errors
    /// [`Error::Shape`] when the pattern is not square CSC or not of the order's size;
    /// [`Error::SingularPivot`] when a diagonal entry is not stored (structurally zero).
    pub fn new(pattern: &CsStructure, order: TopologicalOrder) -> Result<Self> {
        let (rows, cols) = pattern.shape();
        if rows != cols || !pattern.is_csc() || rows != order.len() {
            return Err(Error::Shape {
                what: "triangular solve".into(),
                expected: format!("square CSC {}×{}", order.len(), order.len()),
                found: format!("{rows}×{cols} {:?}", pattern.storage()),
            });
        }
        let (ptr, idx, _) = pattern.view().into_raw_storage();
        let off = ptr[0];
        let diag_in = |j: usize| -> Result<usize> {
            let start = ptr[j] - off;
            idx[start..ptr[j + 1] - off]
                .binary_search(&j)
                .map(|k| start + k)
                .map_err(|_| missing_diagonal(j))
        };
        let mut solver = TriangularSolver {
            pivot_tolerance: super::DEFAULT_PIVOT_TOLERANCE,
            n: cols,
            nnz: pattern.nnz(),
            layout: None,
            diag_slot: Vec::new(),
            unit: false,
            valid: false,
            order,
        };
        match solver.order.as_slice() {
            None => solver.diag_slot = (0..cols).map(diag_in).collect::<Result<Vec<_>>>()?,
            Some(sweep) => {
                let off_diagonal = pattern.nnz().saturating_sub(cols);
                let mut r = Reordered {
                    ptr: Vec::with_capacity(cols + 1),
                    idx: Vec::with_capacity(off_diagonal),
                    val: vec![0.0; off_diagonal],
                    dval: vec![0.0; cols],
                    cols: sweep.to_vec(),
                    src: Vec::with_capacity(cols),
                    dpos: Vec::with_capacity(cols),
                };
                r.ptr.push(0);
                for &j in sweep {
                    let d = diag_in(j)?;
                    let (start, end) = (ptr[j] - off, ptr[j + 1] - off);
                    r.src.push(start);
                    r.dpos.push(d - start);
                    r.idx.extend_from_slice(&idx[start..d]);
                    r.idx.extend_from_slice(&idx[d + 1..end]);
                    r.ptr.push(r.idx.len());
                }
                solver.layout = Some(r);
            }
        }
        Ok(solver)
    }

    /// Checks the values of `a` (finite; no diagonal entry `|a_jj| ≤ tol · max_k |a_kk|`,
    /// the rule every solver shares, see [`crate::solve`]), notes whether the diagonal is
    /// exactly the identity, and (for a non-natural order) refreshes the reordered values.
    /// Nothing is factorized; one `O(nnz)` pass (two threads for large matrices) finds any
    /// non-finite entry.
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::SingularPivot`] for a diagonal entry at or below
    /// the tolerance (zero included).
    ///
    /// # Panics
    /// When `a` does not have the prepared pattern size (a programming error).
    #[track_caller]
    pub fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        assert_eq!(
            a.nnz(),
            self.nnz,
            "TriangularSolver::factor: matrix of another pattern"
        );
        assert_eq!(
            a.rows(),
            self.n,
            "TriangularSolver::factor: matrix of another size"
        );
        self.valid = false;
        crate::sparse::finite_max_abs(what, a)?;
        let data = a.data();
        let diagonal = |k: usize| -> (usize, f64) {
            match &self.layout {
                None => (k, data[self.diag_slot[k]]),
                Some(r) => (r.cols[k], data[r.src[k] + r.dpos[k]]),
            }
        };
        // the rule of crate::solve, on the diagonal entries
        if let Some((k, pivot, tolerance)) =
            super::singular_pivot(|k| diagonal(k).1, self.n, self.pivot_tolerance)
        {
            return Err(Error::SingularPivot {
                what: what.to_string(),
                index: diagonal(k).0,
                pivot,
                tolerance,
            });
        }
        let unit = (0..self.n).all(|k| diagonal(k).1 == 1.0);
        if let Some(r) = &mut self.layout {
            for k in 0..self.n {
                let (s, d) = (r.src[k], r.dpos[k]);
                let (p, q) = (r.ptr[k], r.ptr[k + 1]);
                r.val[p..p + d].copy_from_slice(&data[s..s + d]);
                r.val[p + d..q].copy_from_slice(&data[s + d + 1..s + 1 + (q - p)]);
                r.dval[k] = data[s + d];
            }
        }
        self.unit = unit;
        self.valid = true;
        Ok(())
    }

    /// Sets the relative pivot tolerance: a diagonal entry with `|a_jj| ≤ tol · max_k |a_kk|`
    /// is an error.
    pub fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
    }

    /// Whether the last checked matrix has a unit diagonal (no divisions in the sweeps).
    pub fn unit_diagonal(&self) -> bool {
        self.unit
    }

    /// The topological order used.
    pub fn order(&self) -> &TopologicalOrder {
        &self.order
    }

    fn check_ready(&self, a: &CsMat<f64>, rhs: &[f64]) -> Result<()> {
        if !self.valid {
            return Err(Error::invalid(
                "triangular solve",
                "no successfully checked matrix to solve with",
            ));
        }
        assert_eq!(rhs.len(), self.n, "wrong right-hand side length");
        assert_eq!(a.nnz(), self.nnz, "matrix of another pattern");
        Ok(())
    }

    /// Solves `Aᵀ x = rhs` in place by the reverse-topological sweep. Allocates nothing.
    ///
    /// # Errors
    /// When [`factor`](Self::factor) did not succeed on this matrix.
    ///
    /// # Panics
    /// When `a` or `rhs` have the wrong size (a programming error).
    #[track_caller]
    pub fn solve_transpose_in_place(&self, a: &CsMat<f64>, rhs: &mut [f64]) -> Result<()> {
        self.check_ready(a, rhs)?;
        match &self.layout {
            Some(r) => r.transpose(self.unit, rhs),
            None => {
                let (ptr, idx, val) = a.view().into_raw_storage();
                assert_eq!(ptr[0], 0, "matrix views with an offset are not supported");
                natural_transpose(ptr, idx, val, &self.diag_slot, self.unit, rhs);
            }
        }
        Ok(())
    }

    /// Solves `A x = rhs` in place by the topological sweep. Allocates nothing.
    ///
    /// # Errors
    /// When [`factor`](Self::factor) did not succeed on this matrix.
    ///
    /// # Panics
    /// When `a` or `rhs` have the wrong size (a programming error).
    #[track_caller]
    pub fn solve_in_place(&self, a: &CsMat<f64>, rhs: &mut [f64]) -> Result<()> {
        self.check_ready(a, rhs)?;
        match &self.layout {
            Some(r) => r.forward(self.unit, rhs),
            None => {
                let (ptr, idx, val) = a.view().into_raw_storage();
                assert_eq!(ptr[0], 0, "matrix views with an offset are not supported");
                natural_forward(ptr, idx, val, &self.diag_slot, self.unit, rhs);
            }
        }
        Ok(())
    }
}
