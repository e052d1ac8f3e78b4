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
use faer::perm::PermRef;
use faer::sparse::linalg::cholesky::supernodal::SupernodalLltRef;
use faer::sparse::linalg::cholesky::{
    factorize_symbolic_cholesky, CholeskySymbolicParams, LltRef, SymbolicCholesky,
    SymbolicCholeskyRaw, SymmetricOrdering,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par, Side};
use sprs::{CsMat, CsStructure};
use std::sync::Arc;

/// The fill-reducing ordering of a [`CholeskySolver`]'s analysis.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FillOrdering<'a> {
    /// faer's approximate minimum degree.
    Amd,
    /// A given elimination order (`order[k]` = the original index eliminated `k`-th).
    Custom(&'a [usize]),
    /// The matrix's own order, always supernodal: the factor's trailing columns are then the
    /// matrix's trailing unknowns ([`CholeskySolver::trailing_factor`]).
    IdentitySupernodal,
}

/// A reusable sparse Cholesky factorization of a symmetric matrix with a fixed pattern.
pub struct CholeskySolver {
    n: usize,
    nnz: usize,
    symbolic: Arc<SymbolicCholesky<usize>>,
    l_values: Vec<f64>,
    cursor: Vec<usize>,
    pivot_tolerance: f64,
    /// `max_k ℓ_kk²` of the last factorization.
    largest_pivot: f64,
    factor_mem: MemBuffer,
    solve_mem: MemBuffer,
    /// The right-hand sides `solve_mem` holds scratch for.
    columns: usize,
    /// The supernodal factor's row indices as `u32` (for [`super::supernodal_solve`]; empty
    /// for a simplicial factor).
    rows32: Arc<Vec<u32>>,
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
            largest_pivot: self.largest_pivot,
            factor_mem: touched(factor_req(&self.symbolic)),
            solve_mem: MemBuffer::new(solve_req(&self.symbolic, self.columns)),
            columns: self.columns,
            rows32: Arc::clone(&self.rows32),
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

fn solve_req(s: &SymbolicCholesky<usize>, columns: usize) -> faer::dyn_stack::StackReq {
    s.solve_in_place_scratch::<f64>(columns, Par::Seq)
}

impl CholeskySolver {
    /// Symbolic analysis (AMD ordering, supernodes) of a square CSC pattern that is
    /// symmetric.
    ///
    /// # Errors
    /// [`Error::Shape`] if not square, not CSC or empty; [`Error::PatternNotSymmetric`];
    /// [`Error::Invalid`] when faer's analysis fails (out of memory).
    pub fn analyze(pattern: &CsStructure) -> Result<Self> {
        Self::analyze_ordered(pattern, FillOrdering::Amd)
    }

    /// As [`analyze`](Self::analyze), with the fill-reducing order given (`order[k]` = the
    /// original index eliminated `k`-th), e.g. a nested dissection of the problem's mesh
    /// ([`crate::solve::Dissection::order`]).
    ///
    /// # Errors
    /// As [`analyze`](Self::analyze); [`Error::Invalid`] when `order` is not a permutation
    /// of `0..n`.
    pub fn analyze_with_order(pattern: &CsStructure, order: &[usize]) -> Result<Self> {
        Self::analyze_ordered(pattern, FillOrdering::Custom(order))
    }

    /// The analysis under `ordering`.
    pub(crate) fn analyze_ordered(
        pattern: &CsStructure,
        ordering: FillOrdering<'_>,
    ) -> Result<Self> {
        let pattern = super::square_csc(pattern, "Cholesky matrix")?;
        let pattern = &*pattern;
        let rows = pattern.rows();
        let mut cursor = vec![0; rows];
        super::check_pattern_symmetric(pattern, &mut cursor, "Cholesky matrix")?;
        let (indptr, indices, _) = pattern.view().into_raw_storage();
        let a = SymbolicSparseColMatRef::new_checked(rows, rows, indptr, None, indices);
        let inverse;
        let (ordering, params) = match ordering {
            FillOrdering::Amd => (SymmetricOrdering::Amd, CholeskySymbolicParams::default()),
            FillOrdering::Custom(order) => {
                inverse = super::dissection::inverse_permutation(order, rows)?;
                (
                    SymmetricOrdering::Custom(PermRef::new_checked(order, &inverse, rows)),
                    CholeskySymbolicParams::default(),
                )
            }
            FillOrdering::IdentitySupernodal => (
                SymmetricOrdering::Identity,
                CholeskySymbolicParams {
                    supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SUPERNODAL,
                    ..Default::default()
                },
            ),
        };
        let symbolic = factorize_symbolic_cholesky(a, Side::Lower, ordering, params)
            .map_err(|e| Error::invalid("Cholesky analysis", format!("{e:?}")))?;
        let rows32 = match symbolic.raw() {
            SymbolicCholeskyRaw::Supernodal(s) if rows <= u32::MAX as usize => {
                s.row_idx().iter().map(|&r| r as u32).collect()
            }
            _ => Vec::new(),
        };
        // written, not only allocated (`vec![0.0; n]` maps zero pages lazily): the page faults
        // of the factor's storage belong to the analysis, not to the first factorization
        let mut l_values = Vec::with_capacity(symbolic.len_val());
        l_values.resize(symbolic.len_val(), 0.0);
        Ok(CholeskySolver {
            n: rows,
            nnz: pattern.nnz(),
            factor_mem: touched(factor_req(&symbolic)),
            // two right-hand sides from the start: the engine's fused state and adjoint solve
            // then allocates nothing
            solve_mem: MemBuffer::new(solve_req(&symbolic, 2)),
            columns: 2,
            rows32: Arc::new(rows32),
            symbolic: Arc::new(symbolic),
            l_values,
            cursor,
            pivot_tolerance: super::DEFAULT_PIVOT_TOLERANCE,
            largest_pivot: 0.0,
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
        self.factor_checked(a, what)
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
        self.solve_columns_in_place(rhs)
    }

    /// Solves `A X = B` in place, all columns in one pass over the factor (the scratch for
    /// `k` columns is allocated once, at the first such call).
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    fn solve_columns_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        assert!(
            !rhs.is_empty() && rhs.len().is_multiple_of(self.n),
            "CholeskySolver: right-hand sides of another length"
        );
        if !self.valid {
            return Err(Error::invalid(
                "Cholesky solve",
                "no successful factorization to solve with",
            ));
        }
        let k = rhs.len() / self.n;
        if k > self.columns {
            self.reserve_columns(k);
        }
        let x = MatMut::from_column_major_slice_mut(rhs, self.n, k);
        let stack = MemStack::new(&mut self.solve_mem);
        LltRef::new(&self.symbolic, &self.l_values).solve_in_place_with_conj(
            Conj::No,
            x,
            Par::Seq,
            stack,
        );
        super::check_solution("df/du", rhs, self.n)
    }

    /// `Aᵀ = A`: the same solve.
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve_in_place(rhs)
    }
}

impl CholeskySolver {
    /// The numeric factorization of `a`, whose values the caller has checked (finite,
    /// symmetric), then the pivot check.
    pub(crate) fn factor_checked(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        self.valid = false;
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
        self.largest_pivot = largest;
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

    /// Forward substitution `L y = x` in place, in the factor's (permuted) order, for one
    /// right-hand side or two interleaved (`x[2i + c]`), in one pass over `L`
    /// ([`super::supernodal_solve`]).
    ///
    /// # Panics
    /// Unless the analysis was [`FillOrdering::IdentitySupernodal`], or for another length
    /// than `n` or `2n` (programming errors).
    pub(crate) fn l_solve_in_place(&mut self, x: &mut [f64]) {
        let SymbolicCholeskyRaw::Supernodal(s) = self.symbolic.raw() else {
            panic!("CholeskySolver::l_solve_in_place: not supernodal");
        };
        assert!(x.len() == self.n || x.len() == 2 * self.n);
        match x.len() / self.n {
            1 => super::supernodal_solve::forward::<1>(s, &self.rows32, &self.l_values, x),
            2 => super::supernodal_solve::forward::<2>(s, &self.rows32, &self.l_values, x),
            k => panic!("CholeskySolver::l_solve_in_place: {k} right-hand sides"),
        }
    }

    /// Back substitution `Lᵀ y = x` in place (see [`l_solve_in_place`](Self::l_solve_in_place)).
    pub(crate) fn lt_solve_in_place(&mut self, x: &mut [f64]) {
        let SymbolicCholeskyRaw::Supernodal(s) = self.symbolic.raw() else {
            panic!("CholeskySolver::lt_solve_in_place: not supernodal");
        };
        assert!(x.len() == self.n || x.len() == 2 * self.n);
        match x.len() / self.n {
            1 => super::supernodal_solve::backward::<1>(s, &self.rows32, &self.l_values, x),
            2 => super::supernodal_solve::backward::<2>(s, &self.rows32, &self.l_values, x),
            k => panic!("CholeskySolver::lt_solve_in_place: {k} right-hand sides"),
        }
    }

    /// `max_k ℓ_kk²` of the last factorization.
    pub(crate) fn largest_pivot(&self) -> f64 {
        self.largest_pivot
    }

    /// Makes the solve scratch hold `columns` right-hand sides at once.
    pub(crate) fn reserve_columns(&mut self, columns: usize) {
        self.columns = self.columns.max(columns);
        let req = self
            .symbolic
            .solve_in_place_scratch::<f64>(columns, Par::Seq);
        if self.solve_mem.len() < req.unaligned_bytes_required() {
            self.solve_mem = MemBuffer::new(req);
        }
    }

    /// The trailing `m × m` block of `L` (its last `m` rows and columns, lower triangular),
    /// written column-major into `out`.
    ///
    /// # Panics
    /// Unless the analysis was [`FillOrdering::IdentitySupernodal`].
    pub(crate) fn trailing_factor(&self, m: usize, out: &mut [f64]) {
        let SymbolicCholeskyRaw::Supernodal(s) = self.symbolic.raw() else {
            panic!("CholeskySolver::trailing_factor: not supernodal");
        };
        assert_eq!(out.len(), m * m, "trailing_factor: wrong output size");
        let first = self.n - m;
        out.fill(0.0);
        let l = SupernodalLltRef::new(s, &self.l_values);
        for sn in 0..s.n_supernodes() {
            let node = l.supernode(sn);
            let (start, val) = (node.start(), node.val());
            let cols = val.ncols();
            if start + cols <= first {
                continue;
            }
            for jj in first.saturating_sub(start)..cols {
                let j = start + jj - first;
                for ii in jj..cols {
                    out[j * m + start + ii - first] = val[(ii, jj)];
                }
                for (idx, &row) in node.pattern().iter().enumerate() {
                    out[j * m + row - first] = val[(cols + idx, jj)];
                }
            }
        }
    }
}
