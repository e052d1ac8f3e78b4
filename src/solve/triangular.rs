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
//! unit-diagonal variant is used, which never divides. The solver keeps no copy of `J`: it
//! solves with the matrix it is given, after [`TriangularSolver::factor`] has checked it.

use crate::dag::TopologicalOrder;
use crate::{Error, Result};
use sprs::{CsMat, CsStructure};

/// Reusable substitution solver for one pattern and one topological order.
#[derive(Debug, Clone)]
pub struct TriangularSolver {
    order: TopologicalOrder,
    /// Storage index of the diagonal entry of each column.
    diag_slot: Vec<usize>,
    nnz: usize,
    unit: bool,
    valid: bool,
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
        let ptr = pattern.indptr();
        let ptr = ptr.raw_storage();
        let off = ptr[0];
        let idx = pattern.indices();
        let mut diag_slot = Vec::with_capacity(cols);
        for j in 0..cols {
            let col = &idx[ptr[j] - off..ptr[j + 1] - off];
            match col.binary_search(&j) {
                Ok(k) => diag_slot.push(ptr[j] - off + k),
                Err(_) => {
                    return Err(Error::SingularPivot {
                        what: "df/du".into(),
                        index: j,
                        pivot: 0.0,
                        tolerance: 0.0,
                    })
                }
            }
        }
        Ok(TriangularSolver {
            order,
            diag_slot,
            nnz: pattern.nnz(),
            unit: false,
            valid: false,
        })
    }

    /// Checks the values of `a` (finite, nonzero diagonal) and notes whether the diagonal is
    /// exactly the identity. Nothing is factorized or copied.
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::SingularPivot`] for a zero diagonal entry.
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
        self.valid = false;
        crate::sparse::check_matrix_finite(what, a)?;
        let data = a.data();
        let mut unit = true;
        for (j, &k) in self.diag_slot.iter().enumerate() {
            let d = data[k];
            if d == 0.0 {
                return Err(Error::SingularPivot {
                    what: what.to_string(),
                    index: j,
                    pivot: d,
                    tolerance: 0.0,
                });
            }
            unit &= d == 1.0;
        }
        self.unit = unit;
        self.valid = true;
        Ok(())
    }

    /// Whether the last checked matrix has a unit diagonal (no divisions in the sweeps).
    pub fn unit_diagonal(&self) -> bool {
        self.unit
    }

    /// The topological order used.
    pub fn order(&self) -> &TopologicalOrder {
        &self.order
    }

    fn ready(&self) -> Result<()> {
        if self.valid {
            Ok(())
        } else {
            Err(Error::invalid(
                "triangular solve",
                "no successfully checked matrix to solve with",
            ))
        }
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
        self.ready()?;
        assert_eq!(
            rhs.len(),
            self.diag_slot.len(),
            "wrong right-hand side length"
        );
        assert_eq!(a.nnz(), self.nnz, "matrix of another pattern");
        let ptr = a.indptr();
        let ptr = ptr.raw_storage();
        let off = ptr[0];
        let (idx, val) = (a.indices(), a.data());
        let sweep = |j: usize, x: &mut [f64]| {
            let d = self.diag_slot[j];
            let mut s = x[j];
            for k in ptr[j] - off..d {
                s -= val[k] * x[idx[k]];
            }
            for k in d + 1..ptr[j + 1] - off {
                s -= val[k] * x[idx[k]];
            }
            x[j] = if self.unit { s } else { s / val[d] };
        };
        match self.order.as_slice() {
            None => (0..rhs.len()).rev().for_each(|j| sweep(j, rhs)),
            Some(order) => order.iter().rev().for_each(|&j| sweep(j, rhs)),
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
        self.ready()?;
        assert_eq!(
            rhs.len(),
            self.diag_slot.len(),
            "wrong right-hand side length"
        );
        assert_eq!(a.nnz(), self.nnz, "matrix of another pattern");
        let ptr = a.indptr();
        let ptr = ptr.raw_storage();
        let off = ptr[0];
        let (idx, val) = (a.indices(), a.data());
        let sweep = |j: usize, x: &mut [f64]| {
            let d = self.diag_slot[j];
            let xj = if self.unit { x[j] } else { x[j] / val[d] };
            x[j] = xj;
            if xj != 0.0 {
                for k in (ptr[j] - off..d).chain(d + 1..ptr[j + 1] - off) {
                    x[idx[k]] -= val[k] * xj;
                }
            }
        };
        match self.order.as_slice() {
            None => (0..rhs.len()).for_each(|j| sweep(j, rhs)),
            Some(order) => order.iter().for_each(|&j| sweep(j, rhs)),
        }
        Ok(())
    }
}
