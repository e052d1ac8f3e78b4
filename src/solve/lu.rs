//! General sparse `LU` (faer) for `∂f/∂u` that is neither a DAG nor symmetric.
//!
//! With row and column permutations `P`, `Q` chosen by faer (COLAMD for fill, partial pivoting
//! for stability), `P A Q = L U`; the state solve is `A x = r` and the adjoint solve
//! `Aᵀ λ = r` uses the same factors transposed, `λ = Pᵀ L⁻ᵀ U⁻ᵀ Qᵀ r` — no transposed copy
//! of `A` is formed.
//!
//! The symbolic analysis is done once per pattern; each [`LuSolver::factor`] refills the
//! numeric factors in place, with workspaces allocated once. The factorization is faer's
//! simplicial (left-looking) one, called directly so that `U`'s diagonal can be read: faer
//! returns `Ok` for a numerically singular matrix, so [`LuSolver::factor`] applies the rule
//! every solver of this crate shares (see [`crate::solve`]),
//!
//! ```text
//!     singular  ⇔  |u_kk| ≤ tol · max_j |u_jj|      (tol = 1e-14 by default)
//! ```
//!
//! reported as [`Error::SingularPivot`] at the original column of the pivot, and every solve
//! still checks its result ([`Error::NumericallySingular`]).

use super::Factorization;
use crate::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::perm::PermRef;
use faer::sparse::linalg::lu::simplicial::{
    factorize_simplicial_numeric_lu, factorize_simplicial_numeric_lu_scratch, SimplicialLu,
};
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuSymbolicParams, SymbolicLu};
use faer::sparse::linalg::{LuError, SupernodalThreshold};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};
use sprs::{CsMat, CsStructure};

/// A reusable sparse `LU` factorization of a square matrix with a fixed pattern.
pub struct LuSolver {
    n: usize,
    nnz: usize,
    symbolic: SymbolicLu<usize>,
    numeric: SimplicialLu<usize, f64>,
    row_perm: Vec<usize>,
    row_perm_inv: Vec<usize>,
    pivot_tolerance: f64,
    factor_mem: MemBuffer,
    solve_mem: MemBuffer,
    valid: bool,
}

impl std::fmt::Debug for LuSolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LuSolver")
            .field("n", &self.n)
            .field("nnz", &self.nnz)
            .field("valid", &self.valid)
            .finish_non_exhaustive()
    }
}

impl Clone for LuSolver {
    /// A clone keeps the symbolic analysis and the numeric factors (as every solver of this
    /// crate does); only the scratch memory is fresh.
    fn clone(&self) -> Self {
        LuSolver {
            n: self.n,
            nnz: self.nnz,
            symbolic: self.symbolic.clone(),
            numeric: self.numeric.clone(),
            row_perm: self.row_perm.clone(),
            row_perm_inv: self.row_perm_inv.clone(),
            pivot_tolerance: self.pivot_tolerance,
            factor_mem: MemBuffer::new(factor_req(self.n)),
            solve_mem: MemBuffer::new(self.solve_req()),
            valid: self.valid,
        }
    }
}

fn factor_req(n: usize) -> faer::dyn_stack::StackReq {
    factorize_simplicial_numeric_lu_scratch::<usize, f64>(n, n)
}

fn faer_pattern(a: &CsStructure) -> SymbolicSparseColMatRef<'_, usize> {
    let (indptr, indices, _) = a.view().into_raw_storage();
    SymbolicSparseColMatRef::new_checked(a.rows(), a.cols(), indptr, None, indices)
}

impl LuSolver {
    /// Symbolic analysis of a square CSC pattern.
    ///
    /// # Errors
    /// [`Error::Shape`] if not square or not CSC, or empty; [`Error::Invalid`] when faer's
    /// analysis fails (out of memory).
    pub fn analyze(pattern: &CsStructure) -> Result<Self> {
        let pattern = super::square_csc(pattern, "LU matrix")?;
        let pattern = &*pattern;
        let rows = pattern.rows();
        let params = LuSymbolicParams {
            supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SIMPLICIAL,
            ..Default::default()
        };
        let symbolic = factorize_symbolic_lu(faer_pattern(pattern), params)
            .map_err(|e| Error::invalid("LU analysis", format!("{e}")))?;
        let mut s = LuSolver {
            n: rows,
            nnz: pattern.nnz(),
            symbolic,
            numeric: SimplicialLu::new(),
            row_perm: vec![0; rows],
            row_perm_inv: vec![0; rows],
            pivot_tolerance: super::DEFAULT_PIVOT_TOLERANCE,
            factor_mem: MemBuffer::new(factor_req(rows)),
            solve_mem: MemBuffer::new(faer::dyn_stack::StackReq::EMPTY),
            valid: false,
        };
        s.solve_mem = MemBuffer::new(s.solve_req());
        Ok(s)
    }

    fn solve_req(&self) -> faer::dyn_stack::StackReq {
        use faer::sparse::linalg::lu::simplicial;
        simplicial::solve_in_place_scratch::<usize, f64>(self.n, 1, Par::Seq).or(
            simplicial::solve_transpose_in_place_scratch::<usize, f64>(self.n, 1, Par::Seq),
        )
    }

    fn solve(&mut self, rhs: &mut [f64], transpose: bool) -> Result<()> {
        assert_eq!(rhs.len(), self.n, "LuSolver: wrong right-hand side length");
        if !self.valid {
            return Err(Error::invalid(
                "LU solve",
                "no successful factorization to solve with",
            ));
        }
        let n = self.n;
        let row_perm = PermRef::new_checked(&self.row_perm, &self.row_perm_inv, n);
        let col_perm = self.symbolic.col_perm();
        let x = MatMut::from_column_major_slice_mut(rhs, n, 1);
        let stack = MemStack::new(&mut self.solve_mem);
        if transpose {
            self.numeric.solve_transpose_in_place_with_conj(
                row_perm,
                col_perm,
                Conj::No,
                x,
                Par::Seq,
                stack,
            );
        } else {
            self.numeric
                .solve_in_place_with_conj(row_perm, col_perm, Conj::No, x, Par::Seq, stack);
        }
        super::check_solution("df/du", rhs, rhs.len())
    }
}

impl Factorization for LuSolver {
    fn name(&self) -> &'static str {
        "lu"
    }

    fn dim(&self) -> usize {
        self.n
    }

    /// A pivot with `|u_kk| ≤ tol · max_j |u_jj|` is an error.
    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values).
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::SingularPivot`] for a structurally singular matrix
    /// or a pivot `|u_kk| ≤ tol · max_j |u_jj|` (at the pivot's original column).
    ///
    /// # Panics
    /// When `a` does not have the analyzed size and number of entries (a programming error).
    #[track_caller]
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        assert_eq!(a.rows(), self.n, "LuSolver::factor: matrix of another size");
        assert_eq!(
            a.nnz(),
            self.nnz,
            "LuSolver::factor: matrix of another pattern"
        );
        self.valid = false;
        crate::sparse::finite_max_abs(what, a)?;
        let (indptr, indices, _) = a.view().into_raw_storage();
        let symbolic = SymbolicSparseColMatRef::new_checked(self.n, self.n, indptr, None, indices);
        let mat = SparseColMatRef::new(symbolic, a.data());
        let stack = MemStack::new(&mut self.factor_mem);
        let col_perm = self.symbolic.col_perm();
        let singular = |index: usize, pivot: f64, tolerance: f64| Error::SingularPivot {
            what: what.to_string(),
            index,
            pivot,
            tolerance,
        };
        match factorize_simplicial_numeric_lu(
            &mut self.row_perm,
            &mut self.row_perm_inv,
            &mut self.numeric,
            mat,
            col_perm,
            stack,
        ) {
            Ok(()) => {}
            Err(LuError::SymbolicSingular { index }) => {
                return Err(singular(col_perm.arrays().0[index], 0.0, 0.0))
            }
            Err(LuError::Generic(e)) => {
                return Err(Error::invalid(
                    what,
                    format!("LU factorization failed: {e}"),
                ))
            }
        }
        // U's diagonal: faer stores the pivot of column k last in that column.
        let u = self.numeric.u_factor_unsorted();
        let (ptr, val) = (u.col_ptr(), u.val());
        if let Some((k, pivot, tolerance)) =
            super::singular_pivot(|k| val[ptr[k + 1] - 1], self.n, self.pivot_tolerance)
        {
            return Err(singular(col_perm.arrays().0[k], pivot, tolerance));
        }
        self.valid = true;
        Ok(())
    }

    /// Solves `A x = rhs` in place.
    ///
    /// # Errors
    /// No factorization; [`Error::NumericallySingular`] when the result is not finite.
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve(rhs, false)
    }

    /// Solves `Aᵀ x = rhs` in place with the same factors.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve(rhs, true)
    }
}
