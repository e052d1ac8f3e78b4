//! Linear solvers for `∂f/∂u`: the state solve `(∂f/∂u) x = r` and the adjoint solve
//! `(∂f/∂u)ᵀ λ = r`.
//!
//! | solver                     | applies when `∂f/∂u` is        | adjoint solve                        |
//! |----------------------------|--------------------------------|--------------------------------------|
//! | [`SolverKind::Triangular`] | a DAG (triangular up to a permutation) | one reverse-topological sweep, no factorization |
//! | [`SolverKind::Ldlt`]       | symmetric                      | `P A Pᵀ = L D Lᵀ`, then `Aᵀ = A` (banded kernel for the tridiagonal pattern) |
//! | [`SolverKind::Cholesky`]   | symmetric positive definite    | `P A Pᵀ = L Lᵀ` (faer, supernodal), then `Aᵀ = A` |
//! | [`SolverKind::BlockTriangular`] | a DAG of blocks (given block offsets) | one reverse sweep over the blocks, factorizing the diagonal blocks |
//! | [`SolverKind::Lu`]         | any square, nonsingular        | `P A Q = L U`, then `Uᵀ Lᵀ` solves     |
//!
//! Every solver implements one trait, [`Factorization`]: `factor` a matrix of the analyzed
//! pattern (the factorization owns what it computed — no matrix is passed at solve time), then
//! solve with it, directly or transposed; the scaled and out-of-place variants are provided
//! methods. [`Solver`] is the one a workspace uses: it chooses among the others and implements
//! the same trait.
//!
//! [`SolverKind::Auto`] inspects the pattern once: a symmetric pattern with off-diagonal
//! entries (never a DAG) goes to `LDLᵀ`, a DAG to the triangular sweep (no factorization), a
//! matrix whose entry graph has cycles but whose block graph (under the problem's block offsets)
//! is a DAG to the block-triangular sweep, the rest to `LU`. The exact tridiagonal pattern gets a banded `LDLᵀ` kernel under either `Auto`
//! or `Ldlt` — a choice of its own ([`SolverOptions::banded`]), apart from the fill-reducing
//! [`Ordering`] of the general sparse `LDLᵀ`. If `Auto` chose `LDLᵀ` from the pattern and the values turn out asymmetric,
//! it switches to `LU` on the spot. The choice is reported by [`Solver::name`]; a forced
//! solver that does not fit is an [`Error::SolverNotApplicable`]. Every solver separates the
//! symbolic analysis (done once per pattern) from the numeric factorization (done for each new
//! `θ`), and solves in preallocated buffers.
//!
//! # When a matrix is singular: one rule for every solver
//!
//! A pivot `p_k` — `d_k` of `LDLᵀ`, the diagonal entry `J_kk` a triangular sweep divides by,
//! `u_kk` of `LU`'s `U` — is singular when
//!
//! ```text
//!     |p_k| ≤ tol · max_j |p_j|          tol = DEFAULT_PIVOT_TOLERANCE = 1e-14
//! ```
//!
//! (a zero or NaN pivot too), reported as [`Error::SingularPivot`] with `k` in the matrix's
//! own numbering — the first zero or NaN pivot, or else the smallest one. The pivots of a triangular factor `T` bound its condition number from
//! below, `κ(T) ≥ max_j |t_jj| / min_j |t_jj|`, so the rule says: the factorization shows
//! `κ ≥ 1/tol`. It is scale-invariant — multiplying `A` by any power of two changes no
//! verdict, and no factorization squares an entry (a matrix with entries near `10³⁰⁰` is
//! factored as well as one near 1) — and a unit triangular matrix (a network's `L`) is never
//! called singular, however large its other entries. A solve whose result still overflows is
//! an [`Error::NumericallySingular`].
//!
//! `LDLᵀ` does not pivot, so it can meet a zero pivot on a nonsingular indefinite matrix
//! (`[[0, 1], [1, 0]]`). Under [`SolverKind::Auto`] such a pivot, like asymmetric values,
//! makes the solver switch to `LU` for this and every later factorization, and
//! [`Solver::fallback`] says why; a forced `Ldlt` reports the pivot.

pub mod block_triangular;
pub mod cholesky;
pub(crate) mod dense;
pub mod dissection;
pub mod ldlt;
pub mod lu;
mod options;
mod solver;
pub mod split_cholesky;
mod supernodal_solve;
pub mod triangular;
pub(crate) mod tridiagonal;

use crate::{Error, Result};
use sprs::{CsMat, CsStructure};
use std::fmt;

pub use block_triangular::BlockTriangularSolver;
pub use cholesky::CholeskySolver;
pub use dissection::Dissection;
pub use ldlt::{LdltSolver, Ordering};
pub use lu::LuSolver;
pub use options::SolverOptions;
pub use solver::{Solver, StructureHints};
pub use split_cholesky::SplitCholesky;
pub use triangular::TriangularSolver;

/// A factorization of square matrices of one analyzed pattern: refilled by
/// [`factor`](Self::factor) for new values, then used for any number of solves with the
/// matrix or its transpose. It owns what it factored, so the solves take no matrix.
///
/// Implementors provide the four core operations; the scaled and out-of-place solves are
/// provided methods (overridden where a kernel avoids the copy of the right-hand side).
///
/// # Example
/// ```
/// use adjoint::solve::{Factorization, Solver, SolverKind};
/// let mut t = sprs::TriMat::new((2, 2));
/// for (i, j, v) in [(0, 0, 4.0), (1, 0, 1.0), (0, 1, 1.0), (1, 1, 3.0)] { t.add_triplet(i, j, v); }
/// let a: sprs::CsMat<f64> = t.to_csc();
/// let mut s = Solver::analyze(&adjoint::sparse::pattern_of(&a), SolverKind::Auto)?;
/// s.factor(&a, "A")?;
/// let mut x = [0.0; 2];
/// s.solve_scaled_into(&[5.0, 4.0], 2.0, &mut x)?; // A x = 2 (5, 4)
/// assert!((x[0] - 2.0).abs() < 1e-15 && (x[1] - 2.0).abs() < 1e-15);
/// # Ok::<(), adjoint::Error>(())
/// ```
pub trait Factorization {
    /// The name reported in outputs (`"ldlt"`, `"triangular"`, `"lu"`).
    fn name(&self) -> &'static str;

    /// The order `n` of the matrices factored.
    fn dim(&self) -> usize;

    /// Numeric factorization of `a`, a matrix with the analyzed pattern and new values,
    /// reusing the symbolic analysis. After an error no solve is possible until a later
    /// `factor` succeeds.
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`], [`Error::SingularPivot`] (the rule of [`crate::solve`]),
    /// [`Error::NotSymmetric`] for the symmetric solvers.
    ///
    /// # Panics
    /// When `a` does not have the analyzed size and number of entries (a programming error).
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()>;

    /// Sets `tol` of the singularity rule `|p_k| ≤ tol · max_j |p_j|` for later
    /// factorizations.
    fn set_pivot_tolerance(&mut self, tol: f64);

    /// Solves `A x = rhs` in place with the last factorization.
    ///
    /// # Errors
    /// When no successful factorization is available; [`Error::NumericallySingular`] when
    /// the result overflows.
    ///
    /// # Panics
    /// When `rhs.len() != n` (a programming error).
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()>;

    /// Solves `Aᵀ x = rhs` in place with the same factors.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    ///
    /// # Panics
    /// As [`solve_in_place`](Self::solve_in_place).
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()>;

    /// Solves `A X = B` in place for the columns of `b`: column-major, `n` rows, `k =
    /// b.len() / n` columns. The Cholesky solvers read their factor once for all the columns
    /// ([`CholeskySolver`]) or once per two ([`SplitCholesky`]), reading it being most of a
    /// solve's cost; the default solves them one after the other.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place) (the index named is a row).
    ///
    /// # Panics
    /// When `b` is empty or its length not a multiple of `n` (a programming error).
    fn solve_columns_in_place(&mut self, b: &mut [f64]) -> Result<()> {
        let n = self.dim();
        assert!(
            !b.is_empty() && b.len().is_multiple_of(n),
            "solve_columns_in_place: {} values are not columns of length {n}",
            b.len()
        );
        b.chunks_exact_mut(n)
            .try_for_each(|column| self.solve_in_place(column))
    }

    /// `x = A⁻¹ (α r)`, leaving `r` untouched.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    ///
    /// # Panics
    /// When `r` or `x` does not have length `n`.
    fn solve_scaled_into(&mut self, r: &[f64], alpha: f64, x: &mut [f64]) -> Result<()> {
        scale_into(r, alpha, x);
        self.solve_in_place(x)
    }

    /// `x = A⁻ᵀ (α r)`, leaving `r` untouched.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    ///
    /// # Panics
    /// When `r` or `x` does not have length `n`.
    fn solve_transpose_scaled_into(&mut self, r: &[f64], alpha: f64, x: &mut [f64]) -> Result<()> {
        scale_into(r, alpha, x);
        self.solve_transpose_in_place(x)
    }
}

/// The end-of-solve check: [`Error::NumericallySingular`] naming `what` and the row of the
/// first value of `x` (columns of `n` rows) that overflowed or became NaN.
pub(crate) fn check_solution(what: &str, x: &[f64], n: usize) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NumericallySingular {
            what: what.into(),
            index: index % n,
        }),
    }
}

/// `x = α r`.
#[track_caller]
pub(crate) fn scale_into(r: &[f64], alpha: f64, x: &mut [f64]) {
    assert_eq!(
        r.len(),
        x.len(),
        "right-hand side and solution lengths differ"
    );
    if alpha == 1.0 {
        x.copy_from_slice(r);
    } else {
        x.iter_mut().zip(r).for_each(|(x, r)| *x = alpha * r);
    }
}

/// Default relative pivot tolerance `tol` of the singularity rule shared by every solver:
/// a pivot with `|p_k| ≤ tol · max_j |p_j|` is singular.
pub const DEFAULT_PIVOT_TOLERANCE: f64 = 1e-14;

/// The singularity rule every solver applies to its pivots `p_0 … p_{n−1}` (see the module
/// documentation): `None` when none is singular; otherwise the pivot to report, with the
/// tolerance — the first zero or NaN pivot (exact singularity; the pivots after it are
/// meaningless), else the smallest, if `|p_min| ≤ tol · max_j |p_j|` over the finite pivots.
pub(crate) fn singular_pivot(
    pivot: impl Fn(usize) -> f64,
    n: usize,
    tol: f64,
) -> Option<(usize, f64, f64)> {
    let mut largest = 0.0f64;
    let mut smallest = (usize::MAX, f64::INFINITY);
    for k in 0..n {
        let p = pivot(k);
        if p == 0.0 || p.is_nan() {
            let finite_max = (0..k).fold(0.0f64, |m, j| m.max(pivot(j).abs()));
            return Some((k, p, tol * finite_max));
        }
        let a = p.abs();
        if a.is_finite() {
            largest = largest.max(a);
        }
        if a < smallest.1 {
            smallest = (k, a);
        }
    }
    let tolerance = tol * largest;
    (n > 0 && smallest.1 <= tolerance).then(|| (smallest.0, pivot(smallest.0), tolerance))
}
/// Which linear solver to use for `∂f/∂u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SolverKind {
    /// Pick from the structure of `∂f/∂u`.
    #[default]
    Auto,
    /// Sparse `LDLᵀ` (symmetric `∂f/∂u` only).
    Ldlt,
    /// Substitution in topological order (`∂f/∂u` must be a DAG).
    Triangular,
    /// General sparse `LU` with partial pivoting (faer).
    Lu,
    /// Sparse Cholesky `LLᵀ` (faer, supernodal, AMD ordering): symmetric positive definite
    /// `∂f/∂u` only.
    Cholesky,
    /// Block substitution ([`BlockTriangularSolver`]): the block graph of `∂f/∂u` under the
    /// problem's block offsets ([`crate::Jacobians::dfdu_blocks`]) must be a DAG; only the
    /// diagonal blocks are factorized.
    BlockTriangular,
}

impl fmt::Display for SolverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SolverKind::Auto => "auto",
            SolverKind::Ldlt => "ldlt",
            SolverKind::Triangular => "triangular",
            SolverKind::Lu => "lu",
            SolverKind::Cholesky => "cholesky",
            SolverKind::BlockTriangular => "block-triangular",
        })
    }
}

impl std::str::FromStr for SolverKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(SolverKind::Auto),
            "ldlt" => Ok(SolverKind::Ldlt),
            "triangular" => Ok(SolverKind::Triangular),
            "lu" => Ok(SolverKind::Lu),
            "cholesky" => Ok(SolverKind::Cholesky),
            "block-triangular" => Ok(SolverKind::BlockTriangular),
            _ => Err(Error::invalid(
                "solver",
                format!(
                    "unknown solver {s:?} (expected auto, triangular, block-triangular, ldlt, \
                     cholesky or lu)"
                ),
            )),
        }
    }
}

/// The pattern a solver analyzes: square, CSC and non-empty (else [`Error::Shape`] naming
/// `what`), with an `indptr` starting at 0 (a view into a larger matrix is copied).
pub(crate) fn square_csc<'a>(
    pattern: &'a CsStructure,
    what: &str,
) -> Result<std::borrow::Cow<'a, CsStructure>> {
    let (rows, cols) = pattern.shape();
    if rows != cols || !pattern.is_csc() || rows == 0 {
        return Err(Error::Shape {
            what: what.into(),
            expected: "square non-empty CSC".into(),
            found: format!("{rows}×{cols} {:?}", pattern.storage()),
        });
    }
    if pattern.indptr().raw_storage()[0] == 0 {
        return Ok(std::borrow::Cow::Borrowed(pattern));
    }
    Ok(std::borrow::Cow::Owned(CsStructure::new_csc(
        pattern.shape(),
        pattern.indptr().to_proper().into_owned(),
        pattern.indices().to_vec(),
        vec![(); pattern.nnz()],
    )))
}

/// Checks that the pattern of a CSC matrix is symmetric, in `O(nnz)` with `n` cursors.
///
/// Columns are visited in order; for an entry `(i, j)` with `i > j`, its mirror `(j, i)` must
/// be the next not yet matched entry above the diagonal in column `i`, because the mirrors of
/// column `i`'s upper entries are met in increasing `j`.
pub(crate) fn check_pattern_symmetric(
    pattern: &CsStructure,
    cursor: &mut [usize],
    what: &str,
) -> Result<()> {
    match crate::sparse::symmetry_sweep(pattern, cursor, |_, _| true) {
        None => Ok(()),
        Some((row, col, _)) => Err(Error::PatternNotSymmetric {
            what: what.into(),
            row,
            col,
        }),
    }
}

/// Checks `a_ij == a_ji` exactly for every stored entry of a pattern-symmetric matrix.
pub(crate) fn check_values_symmetric(
    a: &CsMat<f64>,
    cursor: &mut [usize],
    what: &str,
) -> Result<()> {
    let data = a.data();
    match crate::sparse::symmetry_sweep(a, cursor, |k, m| data[k] == data[m]) {
        None => Ok(()),
        Some((row, col, k)) => Err(Error::NotSymmetric {
            what: what.to_string(),
            row,
            col,
            value: data[k],
            mirror: a.get(col, row).copied().unwrap_or(0.0),
        }),
    }
}
