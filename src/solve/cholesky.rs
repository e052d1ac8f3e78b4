//! Sparse Cholesky `A = P L Lᵀ Pᵀ` (faer) for symmetric positive definite `∂f/∂u`.
//!
//! The stiffness matrices of topology optimization are symmetric positive definite with up to
//! 10⁶ unknowns; for them faer's supernodal Cholesky (AMD ordering, dense BLAS-3 blocks per
//! supernode) is much faster than the simplicial `LDLᵀ` of sprs-ldl (see the README). The
//! symbolic analysis (ordering, elimination tree, supernodes) is done once in
//! [`CholeskySolver::analyze`] and shared by every numeric factorization and every clone.
//!
//! Checks, as the other solvers: finite values, symmetric values (faer reads only the lower
//! triangle, so an asymmetric matrix would be factorized silently as another one), and every
//! pivot `d_k = ℓ_kk²` above `tol · max_j d_j`; a pivot that is not positive (the matrix is
//! not positive definite, or singular) is [`Error::SingularPivot`].

use super::Factorization;
use crate::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::LltRegularization;
use faer::linalg::solvers::LltError;
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, LltRef, SymbolicCholesky,
    SymbolicCholeskyRaw, SymmetricOrdering,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};
use sprs::{CsMat, CsStructure};
use std::sync::Arc;

/// A reusable sparse Cholesky factorization of a symmetric matrix with a fixed pattern.
pub struct CholeskySolver {
    n: usize,
    nnz: usize,
    symbolic: Arc<SymbolicCholesky<usize>>,
    l_values: Vec<f64>,
    cursor: Vec<usize>,
    pivot_tolerance: f64,
    factor_mem: MemBuffer,
    solve_mem: MemBuffer,
    valid: bool,
}

impl std::fmt::Debug for CholeskySolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CholeskySolver")
            .field("n", &self.n)
            .field("nnz", &self.nnz)
            .field("factor_nnz", &self.l_values.len())
            .field("valid", &self.valid)
            .finish_non_exhaustive()
    }
}

impl Clone for CholeskySolver {
    /// A clone shares the symbolic analysis and copies the numeric factor.
    fn clone(&self) -> Self {
        CholeskySolver {
            n: self.n,
            nnz: self.nnz,
            symbolic: Arc::clone(&self.symbolic),
            l_values: self.l_values.clone(),
            cursor: self.cursor.clone(),
            pivot_tolerance: self.pivot_tolerance,
            factor_mem: touched(factor_req(&self.symbolic)),
            solve_mem: MemBuffer::new(solve_req(&self.symbolic)),
            valid: self.valid,
        }
    }
}

/// A scratch buffer whose pages are already mapped (written once), so that the first
/// factorization does not pay their page faults.
fn touched(req: faer::dyn_stack::StackReq) -> MemBuffer {
    let mut buf = MemBuffer::new(req);
    buf.iter_mut()
        .for_each(|b| *b = std::mem::MaybeUninit::new(0));
    buf
}

fn factor_req(s: &SymbolicCholesky<usize>) -> faer::dyn_stack::StackReq {
    s.factorize_numeric_llt_scratch::<f64>(Par::Seq, Default::default())
}

fn solve_req(s: &SymbolicCholesky<usize>) -> faer::dyn_stack::StackReq {
    s.solve_in_place_scratch::<f64>(1, Par::Seq)
}

impl CholeskySolver {
    /// Symbolic analysis (AMD ordering, supernodes) of a square CSC pattern that is
    /// symmetric.
    ///
    /// # Errors
    /// [`Error::Shape`] if not square, not CSC or empty; [`Error::PatternNotSymmetric`];
    /// [`Error::Invalid`] when faer's analysis fails (out of memory).
    pub fn analyze(pattern: &CsStructure) -> Result<Self> {
        let pattern = super::square_csc(pattern, "Cholesky matrix")?;
        let pattern = &*pattern;
        let rows = pattern.rows();
        let mut cursor = vec![0; rows];
        super::check_pattern_symmetric(pattern, &mut cursor, "Cholesky matrix")?;
        let (indptr, indices, _) = pattern.view().into_raw_storage();
        let a = SymbolicSparseColMatRef::new_checked(rows, rows, indptr, None, indices);
        let symbolic = factorize_symbolic_cholesky(
            a,
            Side::Lower,
            SymmetricOrdering::Amd,
            CholeskySymbolicParams::default(),
        )
        .map_err(|e| Error::invalid("Cholesky analysis", format!("{e:?}")))?;
        // written, not only allocated (`vec![0.0; n]` maps zero pages lazily): the page faults
        // of the factor's storage belong to the analysis, not to the first factorization
        let mut l_values = Vec::with_capacity(symbolic.len_val());
        l_values.resize(symbolic.len_val(), 0.0);
        Ok(CholeskySolver {
            n: rows,
            nnz: pattern.nnz(),
            factor_mem: touched(factor_req(&symbolic)),
            solve_mem: MemBuffer::new(solve_req(&symbolic)),
            symbolic: Arc::new(symbolic),
            l_values,
            cursor,
            pivot_tolerance: super::DEFAULT_PIVOT_TOLERANCE,
            valid: false,
        })
    }

    /// Stored entries of the factor `L` (its fill under the AMD ordering).
    pub fn factor_nnz(&self) -> usize {
        self.l_values.len()
    }

    /// Whether faer chose its supernodal (rather than simplicial) factorization.
    pub fn is_supernodal(&self) -> bool {
        matches!(self.symbolic.raw(), SymbolicCholeskyRaw::Supernodal(_))
    }

    /// `ℓ_kk` for every `k` of the permuted matrix, passed to `f(k, ℓ_kk)`.
    fn for_each_diagonal(&self, mut f: impl FnMut(usize, f64)) {
        match self.symbolic.raw() {
            SymbolicCholeskyRaw::Simplicial(s) => {
                // column k of L starts with its diagonal
                let ptr = s.col_ptr();
                for (k, &start) in ptr[..self.n].iter().enumerate() {
                    f(k, self.l_values[start]);
                }
            }
            SymbolicCholeskyRaw::Supernodal(s) => {
                use faer::sparse::linalg::cholesky::supernodal::SupernodalLltRef;
                let l = SupernodalLltRef::new(s, &self.l_values);
                for sn in 0..s.n_supernodes() {
                    let node = l.supernode(sn);
                    let val = node.val();
                    for j in 0..val.ncols() {
                        f(node.start() + j, val[(j, j)]);
                    }
                }
            }
        }
    }

    /// The original index of permuted index `k`.
    fn original(&self, k: usize) -> usize {
        match self.symbolic.perm() {
            Some(p) => p.arrays().0[k],
            None => k,
        }
    }
}

impl Factorization for CholeskySolver {
    fn name(&self) -> &'static str {
        "cholesky"
    }

    fn dim(&self) -> usize {
        self.n
    }

    /// A pivot `d_k = ℓ_kk² ≤ tol · max_j d_j` is an error.
    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values).
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::NotSymmetric`]; [`Error::SingularPivot`] for a
    /// pivot that is not positive (not positive definite) or below the tolerance.
    ///
    /// # Panics
    /// When `a` does not have the analyzed size and number of entries (a programming error).
    #[track_caller]
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        assert_eq!(
            a.rows(),
            self.n,
            "CholeskySolver::factor: matrix of another size"
        );
        assert_eq!(
            a.nnz(),
            self.nnz,
            "CholeskySolver::factor: matrix of another pattern"
        );
        self.valid = false;
        crate::sparse::finite_max_abs(what, a)?;
        super::check_values_symmetric(a, &mut self.cursor, what)?;
        let data = a.data();
        let (indptr, indices, _) = a.view().into_raw_storage();
        let pattern = SymbolicSparseColMatRef::new_checked(self.n, self.n, indptr, None, indices);
        let mat = SparseColMatRef::new(pattern, data);
        let stack = MemStack::new(&mut self.factor_mem);
        let symbolic = Arc::clone(&self.symbolic);
        match symbolic.factorize_numeric_llt(
            &mut self.l_values,
            mat,
            Side::Lower,
            LltRegularization::default(),
            Par::Seq,
            stack,
            Default::default(),
        ) {
            Ok(_) => {}
            Err(LltError::NonPositivePivot { index }) => {
                return Err(Error::SingularPivot {
                    what: what.to_string(),
                    index: self.original(index),
                    pivot: f64::NAN,
                    tolerance: 0.0,
                })
            }
        }
        let mut largest = 0.0f64;
        let mut smallest = (0usize, f64::INFINITY);
        self.for_each_diagonal(|k, l| {
            let d = l * l;
            largest = largest.max(d);
            if d < smallest.1 {
                smallest = (k, d);
            }
        });
        let tolerance = self.pivot_tolerance * largest;
        if smallest.1.is_nan() || smallest.1 <= tolerance {
            return Err(Error::SingularPivot {
                what: what.to_string(),
                index: self.original(smallest.0),
                pivot: smallest.1,
                tolerance,
            });
        }
        self.valid = true;
        Ok(())
    }

    /// Solves `A x = rhs` in place.
    ///
    /// # Errors
    /// No factorization; [`Error::NumericallySingular`] when the result is not finite.
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        assert_eq!(
            rhs.len(),
            self.n,
            "CholeskySolver: wrong right-hand side length"
        );
        if !self.valid {
            return Err(Error::invalid(
                "Cholesky solve",
                "no successful factorization to solve with",
            ));
        }
        let x = MatMut::from_column_major_slice_mut(rhs, self.n, 1);
        let stack = MemStack::new(&mut self.solve_mem);
        LltRef::new(&self.symbolic, &self.l_values).solve_in_place_with_conj(
            Conj::No,
            x,
            Par::Seq,
            stack,
        );
        match rhs.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(index) => Err(Error::NumericallySingular {
                what: "df/du".into(),
                index,
            }),
        }
    }

    /// `Aᵀ = A`: the same solve.
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve_in_place(rhs)
    }
}
