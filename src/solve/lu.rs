//! General sparse `LU` (faer) for `∂f/∂u` that is neither a DAG nor symmetric.
//!
//! With row and column permutations `P`, `Q` chosen by faer (COLAMD for fill, partial pivoting
//! for stability), `P A Q = L U`; the state solve is `A x = r` and the adjoint solve
//! `Aᵀ λ = r` uses the same factors transposed, `λ = Pᵀ L⁻ᵀ U⁻ᵀ Qᵀ r` — no transposed copy
//! of `A` is formed.
//!
//! The symbolic analysis is done once per pattern; each [`LuSolver::factor`] refills the
//! numeric factors in place, with workspaces allocated once. faer returns `Ok` for a
//! numerically singular matrix, so every solve checks its result and reports
//! [`Error::NumericallySingular`].

use crate::sparse::check_matrix_finite;
use crate::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::sparse::linalg::lu::{factorize_symbolic_lu, LuRef, NumericLu, SymbolicLu};
use faer::sparse::linalg::LuError;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};
use sprs::{CsMat, CsStructure};

/// A reusable sparse `LU` factorization of a square matrix with a fixed pattern.
pub struct LuSolver {
    n: usize,
    nnz: usize,
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
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
    /// A clone shares the symbolic analysis and starts without numeric factors.
    fn clone(&self) -> Self {
        LuSolver {
            n: self.n,
            nnz: self.nnz,
            symbolic: self.symbolic.clone(),
            numeric: NumericLu::new(),
            factor_mem: MemBuffer::new(
                self.symbolic
                    .factorize_numeric_lu_scratch::<f64>(Par::Seq, Default::default()),
            ),
            solve_mem: MemBuffer::new(self.solve_req()),
            valid: false,
        }
    }
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
        let (rows, cols) = pattern.shape();
        if rows != cols || !pattern.is_csc() || rows == 0 {
            return Err(Error::Shape {
                what: "LU matrix".into(),
                expected: "square non-empty CSC".into(),
                found: format!("{rows}×{cols} {:?}", pattern.storage()),
            });
        }
        let owned;
        let pattern = if pattern.indptr().raw_storage()[0] == 0 {
            pattern
        } else {
            owned = CsStructure::new_csc(
                pattern.shape(),
                pattern.indptr().to_proper().into_owned(),
                pattern.indices().to_vec(),
                vec![(); pattern.nnz()],
            );
            &owned
        };
        let symbolic = factorize_symbolic_lu(faer_pattern(pattern), Default::default())
            .map_err(|e| Error::invalid("LU analysis", format!("{e:?}")))?;
        let factor_mem = MemBuffer::new(
            symbolic.factorize_numeric_lu_scratch::<f64>(Par::Seq, Default::default()),
        );
        let mut s = LuSolver {
            n: rows,
            nnz: pattern.nnz(),
            symbolic,
            numeric: NumericLu::new(),
            factor_mem,
            solve_mem: MemBuffer::new(faer::dyn_stack::StackReq::EMPTY),
            valid: false,
        };
        s.solve_mem = MemBuffer::new(s.solve_req());
        Ok(s)
    }

    fn solve_req(&self) -> faer::dyn_stack::StackReq {
        self.symbolic
            .solve_in_place_scratch::<f64>(1, Par::Seq)
            .or(self
                .symbolic
                .solve_transpose_in_place_scratch::<f64>(1, Par::Seq))
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values).
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::SingularPivot`] for a structurally singular matrix.
    ///
    /// # Panics
    /// When `a` does not have the analyzed size and number of entries (a programming error).
    #[track_caller]
    pub fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        assert_eq!(a.rows(), self.n, "LuSolver::factor: matrix of another size");
        assert_eq!(
            a.nnz(),
            self.nnz,
            "LuSolver::factor: matrix of another pattern"
        );
        self.valid = false;
        check_matrix_finite(what, a)?;
        let (indptr, indices, _) = a.view().into_raw_storage();
        let symbolic = SymbolicSparseColMatRef::new_checked(self.n, self.n, indptr, None, indices);
        let mat = SparseColMatRef::new(symbolic, a.data());
        let stack = MemStack::new(&mut self.factor_mem);
        match self.symbolic.factorize_numeric_lu(
            &mut self.numeric,
            mat,
            Par::Seq,
            stack,
            Default::default(),
        ) {
            Ok(_) => {
                self.valid = true;
                Ok(())
            }
            Err(LuError::SymbolicSingular { index }) => Err(Error::SingularPivot {
                what: what.to_string(),
                index,
                pivot: 0.0,
                tolerance: 0.0,
            }),
            Err(LuError::Generic(e)) => Err(Error::invalid(
                what,
                format!("LU factorization failed: {e:?}"),
            )),
        }
    }

    fn solve(&mut self, rhs: &mut [f64], transpose: bool) -> Result<()> {
        assert_eq!(rhs.len(), self.n, "LuSolver: wrong right-hand side length");
        if !self.valid {
            return Err(Error::invalid(
                "LU solve",
                "no successful factorization to solve with",
            ));
        }
        let lu = LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let n = self.n;
        let x = MatMut::from_column_major_slice_mut(rhs, n, 1);
        let stack = MemStack::new(&mut self.solve_mem);
        if transpose {
            lu.solve_transpose_in_place_with_conj(Conj::No, x, Par::Seq, stack);
        } else {
            lu.solve_in_place_with_conj(Conj::No, x, Par::Seq, stack);
        }
        match rhs.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(index) => Err(Error::NumericallySingular {
                what: "df/du".into(),
                index,
            }),
        }
    }

    /// Solves `A x = rhs` in place.
    ///
    /// # Errors
    /// No factorization; [`Error::NumericallySingular`] when the result is not finite.
    pub fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve(rhs, false)
    }

    /// Solves `Aᵀ x = rhs` in place with the same factors.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    pub fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve(rhs, true)
    }
}
