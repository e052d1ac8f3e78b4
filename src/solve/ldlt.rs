//! Sparse `LDLᵀ` for symmetric `∂f/∂u`, on top of `sprs-ldl`, with the checks it lacks.
//!
//! For a symmetric `A` (n × n) and a fill-reducing permutation `P`,
//!
//! ```text
//!     P A Pᵀ = L D Lᵀ,   L unit lower triangular, D diagonal,
//! ```
//!
//! and `A x = r` is solved as `x = Pᵀ L⁻ᵀ D⁻¹ L⁻¹ P r`. Because `Aᵀ = A`, the same factors
//! solve the adjoint system `Aᵀ λ = r`.
//!
//! `sprs-ldl` panics on a non-symmetric or NaN input and accepts any pivot that is not exactly
//! `0.0`. This wrapper therefore checks, on every factorization and in `O(nnz)`:
//! finiteness (→ [`Error::NonFiniteEntry`]), exact symmetry of the values (→
//! [`Error::NotSymmetric`], one sweep with a cursor per column), and after factorizing, every pivot
//! `|d_k| ≤ tol · max_j |d_j|` (→ [`Error::SingularPivot`], with `k` mapped back to the
//! caller's numbering; the rule of [`crate::solve`]). There is no pivoting: an indefinite matrix whose leading minors vanish
//! is reported as singular even when it is not.
//!
//! The symbolic analysis (ordering, elimination tree, column counts) is done once per pattern;
//! [`LdltSolver::factor`] refills the numbers with `LdlNumeric::update`, and the solves work in
//! a preallocated buffer.
//!
//! The exact tridiagonal pattern has a banded kernel of its own, chosen by
//! [`super::Solver`] (see [`super::SolverOptions::banded`]), not by the ordering.

use super::Factorization;
use crate::sparse::finite_max_abs;
use crate::{Error, Result};
use sprs::{CsMat, CsStructure, SymmetryCheck};
use sprs_ldl::{LdlNumeric, LdlSymbolic};

/// Fill-reducing ordering used by [`LdltSolver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ordering {
    /// The natural order when it causes no fill; otherwise whichever of AMD and reverse
    /// Cuthill–McKee gives the factor with fewer entries (the symbolic analyses are computed
    /// once, at analysis time).
    #[default]
    Auto,
    /// No permutation (best for banded matrices already in band order).
    Natural,
    /// Reverse Cuthill–McKee (sprs), the `sprs-ldl` default.
    ReverseCuthillMcKee,
    /// Approximate minimum degree (faer's AMD), passed to sprs-ldl as a permutation.
    Amd,
}

/// The AMD ordering of a square symmetric CSC pattern, `perm[new] = old`.
///
/// # Errors
/// [`Error::Invalid`] when faer's AMD fails (index overflow, out of memory).
pub(crate) fn amd_permutation(pattern: &CsStructure) -> Result<Vec<usize>> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    let n = pattern.rows();
    let (indptr, indices, _) = pattern.view().into_raw_storage();
    let owned_ptr;
    let indptr = if indptr.first() == Some(&0) {
        indptr
    } else {
        owned_ptr = pattern.indptr().to_proper().into_owned();
        &owned_ptr[..]
    };
    let a = faer::sparse::SymbolicSparseColMatRef::new_checked(n, n, indptr, None, indices);
    let mut perm = vec![0usize; n];
    let mut perm_inv = vec![0usize; n];
    let mut mem = MemBuffer::new(faer::sparse::linalg::amd::order_scratch::<usize>(
        n,
        pattern.nnz(),
    ));
    faer::sparse::linalg::amd::order(
        &mut perm,
        &mut perm_inv,
        a,
        Default::default(),
        MemStack::new(&mut mem),
    )
    .map_err(|e| Error::invalid("AMD ordering", format!("{e}")))?;
    Ok(perm)
}

use super::DEFAULT_PIVOT_TOLERANCE;

/// The symbolic analysis, or the numeric factors built on it (which own it).
#[derive(Debug, Clone)]
enum Factors {
    Symbolic(LdlSymbolic<usize>),
    Numeric(LdlNumeric<f64, usize>),
    /// A failed first factorization consumed the analysis; it is redone from the next matrix.
    Lost,
    /// `n = 1`, which `sprs-ldl` does not handle: `D = [a_00]`, `L` empty.
    Scalar(f64),
}

/// A reusable sparse `LDLᵀ` factorization of a symmetric matrix with a fixed pattern.
/// Cloning keeps the factors.
#[derive(Debug, Clone)]
pub struct LdltSolver {
    n: usize,
    nnz: usize,
    /// `perm[new] = old`; `None` for the natural order.
    perm: Option<Vec<usize>>,
    factors: Factors,
    /// Whether `factors` hold a successful factorization of the last matrix.
    valid: bool,
    /// Solve buffer, and cursors for the symmetry check.
    work: Vec<f64>,
    cursor: Vec<usize>,
    pivot_tolerance: f64,
}

impl LdltSolver {
    /// Symbolic analysis of a square, structurally symmetric CSC pattern.
    ///
    /// # Errors
    /// [`Error::Shape`] if not square or not CSC; [`Error::PatternNotSymmetric`] if the pattern
    /// is not symmetric (naming an entry whose mirror is not stored).
    ///
    /// # Complexity
    /// `O(nnz)` for the symmetry check, plus the ordering and the elimination tree.
    pub fn analyze(pattern: &CsStructure, ordering: Ordering) -> Result<Self> {
        check_square_csc(pattern)?;
        let rcm = || {
            sprs::linalg::reverse_cuthill_mckee(pattern.view())
                .perm
                .vec()
        };
        match ordering {
            Ordering::Natural => Self::analyze_with_permutation(pattern, None),
            Ordering::ReverseCuthillMcKee => Self::analyze_with_permutation(pattern, Some(rcm())),
            Ordering::Amd => {
                // symmetry first: AMD works on A + Aᵀ and would hide an asymmetric pattern
                let mut cursor = vec![0; pattern.rows()];
                super::check_pattern_symmetric(pattern, &mut cursor, "LDLᵀ matrix")?;
                Self::analyze_with_permutation(pattern, Some(amd_permutation(pattern)?))
            }
            Ordering::Auto => {
                let natural = Self::analyze_with_permutation(pattern, None)?;
                let strictly_lower = pattern.iter().filter(|(_, (i, j))| i > j).count();
                if natural.factor_nnz() == strictly_lower {
                    return Ok(natural); // no fill at all: nothing to gain from reordering
                }
                let mut best = natural;
                for perm in [amd_permutation(pattern)?, rcm()] {
                    let candidate = Self::analyze_with_permutation(pattern, Some(perm))?;
                    if candidate.factor_nnz() < best.factor_nnz() {
                        best = candidate;
                    }
                }
                Ok(best)
            }
        }
    }

    /// Symbolic analysis with a caller-supplied permutation `perm[new] = old` (e.g. AMD);
    /// `None` is the natural order.
    ///
    /// # Errors
    /// As [`analyze`](Self::analyze), plus [`Error::Invalid`] when `perm` is not a permutation
    /// of `0..n`.
    pub fn analyze_with_permutation(
        pattern: &CsStructure,
        perm: Option<Vec<usize>>,
    ) -> Result<Self> {
        check_square_csc(pattern)?;
        let n = pattern.rows();
        if let Some(p) = &perm {
            let mut seen = vec![false; n];
            if p.len() != n
                || p.iter()
                    .any(|&q| q >= n || std::mem::replace(&mut seen[q], true))
            {
                return Err(Error::invalid(
                    "permutation",
                    format!("not a permutation of 0..{n}"),
                ));
            }
        }
        let perm = perm.filter(|p| !p.iter().enumerate().all(|(i, &q)| i == q));
        if n == 0 {
            return Err(Error::invalid("LDLᵀ matrix", "the matrix is empty (0×0)"));
        }
        let mut cursor = vec![0; n];
        super::check_pattern_symmetric(pattern, &mut cursor, "LDLᵀ matrix")?;
        if n == 1 {
            return Ok(LdltSolver {
                n,
                nnz: pattern.nnz(),
                work: Vec::new(),
                perm: None,
                factors: Factors::Scalar(0.0),
                valid: false,
                cursor,
                pivot_tolerance: DEFAULT_PIVOT_TOLERANCE,
            });
        }
        let sprs_perm = match &perm {
            Some(p) => sprs::PermOwned::new(p.clone()),
            None => sprs::PermOwned::identity(n),
        };
        // The pattern was checked symmetric above, so sprs-ldl's own (panicking) check is off.
        let symbolic =
            LdlSymbolic::new_perm(pattern.view(), sprs_perm, SymmetryCheck::DontCheckSymmetry);
        Ok(LdltSolver {
            n,
            nnz: pattern.nnz(),
            work: if perm.is_some() {
                vec![0.0; n]
            } else {
                Vec::new()
            },
            perm,
            factors: Factors::Symbolic(symbolic),
            valid: false,
            cursor,
            pivot_tolerance: DEFAULT_PIVOT_TOLERANCE,
        })
    }

    /// The permutation `perm[new] = old` of the factorization (`None`: natural order).
    pub fn permutation(&self) -> Option<&[usize]> {
        self.perm.as_deref()
    }

    /// The original index of pivot `k`.
    fn original_index(&self, k: usize) -> usize {
        self.perm.as_ref().map_or(k, |p| p[k])
    }

    /// Number of stored entries of the factor `L` (strictly lower part).
    pub fn factor_nnz(&self) -> usize {
        match &self.factors {
            Factors::Symbolic(s) => s.nnz(),
            Factors::Numeric(n) => n.nnz(),
            Factors::Lost | Factors::Scalar(_) => 0,
        }
    }
}

impl Factorization for LdltSolver {
    fn name(&self) -> &'static str {
        "ldlt"
    }

    fn dim(&self) -> usize {
        self.n
    }

    /// A pivot with `|d_k| ≤ tol · max_j |d_j|` is an error.
    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
    }

    /// Numeric factorization of `a`, which must have the analyzed pattern.
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`], [`Error::NotSymmetric`], [`Error::SingularPivot`] (with the
    /// index in `a`'s own numbering).
    ///
    /// # Panics
    /// When `a` does not have the analyzed size and number of entries (a programming error).
    #[track_caller]
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        assert_eq!(
            a.rows(),
            self.n,
            "LdltSolver::factor: matrix of another size"
        );
        assert_eq!(
            a.nnz(),
            self.nnz,
            "LdltSolver::factor: matrix of another pattern"
        );
        finite_max_abs(what, a)?;
        super::check_values_symmetric(a, &mut self.cursor, what)?;
        self.valid = false;
        let factors = std::mem::replace(&mut self.factors, Factors::Lost);
        let (factors, result) = match factors {
            Factors::Scalar(_) => {
                // 1×1: the pattern is either [a] or empty (a structurally zero matrix).
                let d = a.data().first().copied().unwrap_or(0.0);
                (Factors::Scalar(d), Ok(()))
            }
            Factors::Numeric(mut numeric) => {
                let r = numeric.update(a.view());
                (Factors::Numeric(numeric), r)
            }
            Factors::Symbolic(symbolic) => match symbolic.factor(a.view()) {
                Ok(numeric) => (Factors::Numeric(numeric), Ok(())),
                Err(e) => (Factors::Lost, Err(e)),
            },
            Factors::Lost => {
                let perm = match &self.perm {
                    Some(p) => sprs::PermOwned::new(p.clone()),
                    None => sprs::PermOwned::identity(self.n),
                };
                let symbolic =
                    LdlSymbolic::new_perm(a.view(), perm, SymmetryCheck::DontCheckSymmetry);
                match symbolic.factor(a.view()) {
                    Ok(numeric) => (Factors::Numeric(numeric), Ok(())),
                    Err(e) => (Factors::Lost, Err(e)),
                }
            }
        };
        self.factors = factors;
        // the rule of crate::solve
        let tol = self.pivot_tolerance;
        let (index, pivot, tolerance) = match (&result, &self.factors) {
            (Ok(()), Factors::Scalar(d)) => match super::singular_pivot(|_| *d, 1, tol) {
                None => {
                    self.valid = true;
                    return Ok(());
                }
                Some(found) => found,
            },
            (Ok(()), Factors::Numeric(numeric)) => {
                let d = numeric.d();
                match super::singular_pivot(|k| d[k], d.len(), tol) {
                    None => {
                        self.valid = true;
                        return Ok(());
                    }
                    Some(found) => found,
                }
            }
            (Err(sprs::errors::LinalgError::SingularMatrix(info)), _) => (info.index, 0.0, 0.0),
            (Err(e), _) => {
                return Err(Error::invalid(
                    what,
                    format!("LDLᵀ factorization failed: {e}"),
                ));
            }
            (Ok(()), _) => unreachable!("a successful factorization leaves numeric factors"),
        };
        Err(Error::SingularPivot {
            what: what.to_string(),
            index: self.original_index(index),
            pivot,
            tolerance,
        })
    }

    /// Solves `A x = rhs` in place (and so also `Aᵀ x = rhs`). Allocates nothing.
    ///
    /// # Errors
    /// [`Error::Invalid`] when no successful factorization is available.
    ///
    /// # Panics
    /// When `rhs.len() != n` (a programming error).
    #[track_caller]
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        assert_eq!(
            rhs.len(),
            self.n,
            "LdltSolver::solve_in_place: wrong length"
        );
        let numeric = match &self.factors {
            Factors::Scalar(d) if self.valid => {
                rhs[0] /= d;
                return Ok(());
            }
            Factors::Numeric(numeric) if self.valid => numeric,
            _ => {
                return Err(Error::invalid(
                    "LDLᵀ solve",
                    "no successful factorization to solve with",
                ))
            }
        };
        let l = numeric.l();
        let d = numeric.d();
        match &self.perm {
            None => unit_ldlt_solve(&l, d, rhs),
            Some(perm) => {
                let w = &mut self.work;
                for (wk, &p) in w.iter_mut().zip(perm) {
                    *wk = rhs[p];
                }
                unit_ldlt_solve(&l, d, w);
                for (&wk, &p) in w.iter().zip(perm) {
                    rhs[p] = wk;
                }
            }
        }
        Ok(())
    }

    /// `Aᵀ = A`: the same solve.
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve_in_place(rhs)
    }
}

/// `x ← L⁻ᵀ D⁻¹ L⁻¹ x` for a unit lower triangular CSC `L` (diagonal not stored).
///
/// The same substitutions as `sprs_ldl::ldl_lsolve` / `ldl_ltsolve`, on raw slices: one pass
/// over the entries of `L` each way.
fn unit_ldlt_solve(l: &sprs::CsMatView<f64>, d: &[f64], x: &mut [f64]) {
    let ptr = l.indptr();
    let ptr = ptr.raw_storage();
    let (idx, val) = (l.indices(), l.data());
    let n = x.len();
    // L y = x: column sweep
    for j in 0..n {
        let xj = x[j];
        if xj != 0.0 {
            for k in ptr[j]..ptr[j + 1] {
                x[idx[k]] -= val[k] * xj;
            }
        }
    }
    for (xi, di) in x.iter_mut().zip(d) {
        *xi /= di;
    }
    // Lᵀ z = y: row sweep over the columns of L
    for j in (0..n).rev() {
        let mut s = x[j];
        for k in ptr[j]..ptr[j + 1] {
            s -= val[k] * x[idx[k]];
        }
        x[j] = s;
    }
}

fn check_square_csc(pattern: &CsStructure) -> Result<()> {
    let (rows, cols) = pattern.shape();
    if rows != cols || !pattern.is_csc() {
        return Err(Error::Shape {
            what: "LDLᵀ matrix".into(),
            expected: "square CSC".into(),
            found: format!("{rows}×{cols} {:?}", pattern.storage()),
        });
    }
    Ok(())
}
