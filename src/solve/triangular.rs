//! Substitution for `∂f/∂u` whose graph is a DAG: no factorization, `O(nnz)` per solve.
//!
//! With `J = ∂f/∂u` stored CSC and a [`DagPattern`] (the pattern of `J` checked to be a DAG,
//! with a topological order: every unknown after those it depends on), both systems are solved by one sweep over the stored entries:
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
//! The solver owns what it solves with: [`Factorization::factor`] checks the values of `J` and
//! copies them, so the solves take no matrix. When the natural order is topological (the
//! matrix is lower triangular, as a network's `L`) the copy is the caller's CSC arrays as they
//! are. Otherwise the columns are kept in sweep order — the pattern once, the values refreshed
//! with one contiguous copy per column — so that a sweep streams through memory like a mat-vec
//! instead of jumping to a random column at every step.

use super::Factorization;
use crate::dag::{DagPattern, TopologicalOrder};
use crate::{Error, Result};
use sprs::CsMat;

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

/// The caller's CSC arrays, for the natural order.
#[derive(Debug, Clone)]
struct Natural {
    /// Storage index of each column's diagonal entry.
    diag_slot: Vec<usize>,
    /// The values of the last checked matrix, in the pattern's storage order.
    val: Vec<f64>,
}

#[derive(Debug, Clone)]
enum Layout {
    Natural(Natural),
    Reordered(Reordered),
}

/// Reusable substitution solver for one checked DAG pattern. Cloning keeps the values of the
/// last checked matrix (as every solver of this crate keeps its factors).
#[derive(Debug, Clone)]
pub struct TriangularSolver {
    dag: DagPattern,
    layout: Layout,
    unit: bool,
    valid: bool,
    pivot_tolerance: f64,
}

/// `Σ v_e x_{i_e}` over one run of entries.
#[inline(always)]
pub(crate) fn dot(idx: &[usize], val: &[f64], x: &[f64]) -> f64 {
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
    /// Prepares the sweeps for a checked DAG pattern.
    ///
    /// # Errors
    /// [`Error::SingularPivot`] when a diagonal entry is not stored (structurally zero).
    ///
    /// # Example
    /// ```
    /// use adjoint::dag::DagPattern;
    /// use adjoint::solve::{Factorization, TriangularSolver};
    /// // J = [[2, 0, 0], [0, 1, 3], [1, 0, 1]]: 0 → 2 → 1
    /// let mut t = sprs::TriMat::new((3, 3));
    /// for (i, j, v) in [(0, 0, 2.0), (1, 1, 1.0), (2, 2, 1.0), (2, 0, 1.0), (1, 2, 3.0)] {
    ///     t.add_triplet(i, j, v);
    /// }
    /// let j: sprs::CsMat<f64> = t.to_csc();
    /// let mut s = TriangularSolver::new(DagPattern::check(j.view())?)?;
    /// s.factor(&j, "J")?;
    /// let mut x = vec![2.0, 4.0, 2.0];
    /// s.solve_in_place(&mut x)?; // J x = (2, 4, 2)
    /// assert_eq!(x, vec![1.0, 1.0, 1.0]);
    /// # Ok::<(), adjoint::Error>(())
    /// ```
    pub fn new(dag: DagPattern) -> Result<Self> {
        let pattern = dag.pattern();
        let cols = pattern.cols();
        let (ptr, idx, _) = pattern.view().into_raw_storage();
        let diag_in = |j: usize| -> Result<usize> {
            let start = ptr[j];
            idx[start..ptr[j + 1]]
                .binary_search(&j)
                .map(|k| start + k)
                .map_err(|_| missing_diagonal(j))
        };
        let layout = match dag.order().as_slice() {
            None => Layout::Natural(Natural {
                diag_slot: (0..cols).map(diag_in).collect::<Result<Vec<_>>>()?,
                val: vec![0.0; pattern.nnz()],
            }),
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
                    let (start, end) = (ptr[j], ptr[j + 1]);
                    r.src.push(start);
                    r.dpos.push(d - start);
                    r.idx.extend_from_slice(&idx[start..d]);
                    r.idx.extend_from_slice(&idx[d + 1..end]);
                    r.ptr.push(r.idx.len());
                }
                Layout::Reordered(r)
            }
        };
        Ok(TriangularSolver {
            dag,
            layout,
            unit: false,
            valid: false,
            pivot_tolerance: super::DEFAULT_PIVOT_TOLERANCE,
        })
    }

    /// Whether the last checked matrix has a unit diagonal (no divisions in the sweeps).
    pub fn unit_diagonal(&self) -> bool {
        self.unit
    }

    /// The topological order used.
    pub fn order(&self) -> &TopologicalOrder {
        self.dag.order()
    }

    /// The checked pattern and its order.
    pub fn dag(&self) -> &DagPattern {
        &self.dag
    }

    fn check_ready(&self, rhs: &[f64]) -> Result<()> {
        if !self.valid {
            return Err(Error::invalid(
                "triangular solve",
                "no successfully checked matrix to solve with",
            ));
        }
        assert_eq!(rhs.len(), self.dag.len(), "wrong right-hand side length");
        Ok(())
    }
}

impl Factorization for TriangularSolver {
    fn name(&self) -> &'static str {
        "triangular"
    }

    fn dim(&self) -> usize {
        self.dag.len()
    }

    /// Checks the values of `a` (finite; no diagonal entry `|a_jj| ≤ tol · max_k |a_kk|`,
    /// the rule every solver shares, see [`crate::solve`]), notes whether the diagonal is
    /// exactly the identity, and copies the values (in sweep order for a non-natural order).
    /// Nothing is factorized; one `O(nnz)` pass (two threads for large matrices) finds any
    /// non-finite entry.
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::SingularPivot`] for a diagonal entry at or below
    /// the tolerance (zero included).
    ///
    /// # Panics
    /// When `a` does not have the checked pattern's size and number of entries (a programming
    /// error).
    #[track_caller]
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        let pattern = self.dag.pattern();
        assert!(
            a.shape() == pattern.shape() && a.nnz() == pattern.nnz() && a.is_csc(),
            "TriangularSolver::factor: matrix of another pattern"
        );
        debug_assert_eq!(a.indices(), pattern.indices(), "matrix of another pattern");
        self.valid = false;
        // one pass: the finiteness check copies the values of the natural layout on the way
        let copy = match &mut self.layout {
            Layout::Natural(l) => Some(&mut l.val[..]),
            Layout::Reordered(_) => None,
        };
        crate::sparse::finite_max_abs_copy(what, a, copy)?;
        let data = a.data();
        let n = self.dag.len();
        let diagonal = |k: usize| -> (usize, f64) {
            match &self.layout {
                Layout::Natural(l) => (k, data[l.diag_slot[k]]),
                Layout::Reordered(r) => (r.cols[k], data[r.src[k] + r.dpos[k]]),
            }
        };
        // the rule of crate::solve, on the diagonal entries
        if let Some((k, pivot, tolerance)) =
            super::singular_pivot(|k| diagonal(k).1, n, self.pivot_tolerance)
        {
            return Err(Error::SingularPivot {
                what: what.to_string(),
                index: diagonal(k).0,
                pivot,
                tolerance,
            });
        }
        let unit = (0..n).all(|k| diagonal(k).1 == 1.0);
        match &mut self.layout {
            Layout::Natural(_) => {} // copied by the check
            Layout::Reordered(r) => {
                for k in 0..n {
                    let (s, d) = (r.src[k], r.dpos[k]);
                    let (p, q) = (r.ptr[k], r.ptr[k + 1]);
                    r.val[p..p + d].copy_from_slice(&data[s..s + d]);
                    r.val[p + d..q].copy_from_slice(&data[s + d + 1..s + 1 + (q - p)]);
                    r.dval[k] = data[s + d];
                }
            }
        }
        self.unit = unit;
        self.valid = true;
        Ok(())
    }

    /// A diagonal entry with `|a_jj| ≤ tol · max_k |a_kk|` is an error.
    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
    }

    /// `A x = rhs` by the topological sweep. Allocates nothing.
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.check_ready(rhs)?;
        match &self.layout {
            Layout::Reordered(r) => r.forward(self.unit, rhs),
            Layout::Natural(l) => {
                let (ptr, idx, _) = self.dag.pattern().view().into_raw_storage();
                natural_forward(ptr, idx, &l.val, &l.diag_slot, self.unit, rhs);
            }
        }
        Ok(())
    }

    /// `Aᵀ x = rhs` by the reverse-topological sweep. Allocates nothing.
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.check_ready(rhs)?;
        match &self.layout {
            Layout::Reordered(r) => r.transpose(self.unit, rhs),
            Layout::Natural(l) => {
                let (ptr, idx, _) = self.dag.pattern().view().into_raw_storage();
                natural_transpose(ptr, idx, &l.val, &l.diag_slot, self.unit, rhs);
            }
        }
        Ok(())
    }
}
