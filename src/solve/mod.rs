//! Linear solvers for `∂f/∂u`: the state solve `(∂f/∂u) x = r` and the adjoint solve
//! `(∂f/∂u)ᵀ λ = r`.
//!
//! | solver                     | applies when `∂f/∂u` is        | adjoint solve                        |
//! |----------------------------|--------------------------------|--------------------------------------|
//! | [`SolverKind::Triangular`] | a DAG (triangular up to a permutation) | one reverse-topological sweep, no factorization |
//! | [`SolverKind::Ldlt`]       | symmetric                      | `P A Pᵀ = L D Lᵀ`, then `Aᵀ = A` (banded kernel for the tridiagonal pattern) |
//! | [`SolverKind::Lu`]         | any square, nonsingular        | `P A Q = L U`, then `Uᵀ Lᵀ` solves     |
//!
//! [`SolverKind::Auto`] inspects the pattern once: a symmetric pattern with off-diagonal
//! entries (never a DAG) goes to `LDLᵀ`, a DAG to the triangular sweep (no factorization), the
//! rest to `LU`. If `Auto` chose `LDLᵀ` from the pattern and the values turn out asymmetric,
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

pub mod ldlt;
pub mod lu;
pub mod triangular;
pub mod tridiagonal;

use crate::dag::check_dag;
use crate::{Error, Result};
use sprs::{CsMat, CsStructure};
use std::fmt;

pub use ldlt::{amd_permutation, LdltSolver, Ordering};

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
pub use lu::LuSolver;
pub use triangular::TriangularSolver;

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
}

impl fmt::Display for SolverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SolverKind::Auto => "auto",
            SolverKind::Ldlt => "ldlt",
            SolverKind::Triangular => "triangular",
            SolverKind::Lu => "lu",
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
            _ => Err(Error::invalid(
                "solver",
                format!("unknown solver {s:?} (expected auto, triangular, ldlt or lu)"),
            )),
        }
    }
}

/// Everything that configures the solver of `∂f/∂u`, in one place: which solver, the
/// fill-reducing ordering of `LDLᵀ`, and the singularity rule's pivot tolerance.
/// [`SolverKind`] converts into it (with the default ordering and tolerance), so
/// `AdjointWorkspace::new(&p, SolverKind::Auto)` and
/// `AdjointWorkspace::new(&p, SolverOptions::from(SolverKind::Ldlt).ordering(Ordering::Amd))`
/// both compile.
///
/// # Example
/// ```
/// use adjoint::solve::{Ordering, SolverKind, SolverOptions};
/// let o = SolverOptions::from(SolverKind::Ldlt)
///     .ordering(Ordering::Amd)
///     .pivot_tolerance(1e-12);
/// assert_eq!((o.kind, o.ordering, o.pivot_tolerance), (SolverKind::Ldlt, Ordering::Amd, 1e-12));
/// assert_eq!(SolverOptions::default(), SolverOptions::from(SolverKind::Auto));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverOptions {
    /// Which solver ([`SolverKind::Auto`] chooses from the pattern).
    pub kind: SolverKind,
    /// The ordering of `LDLᵀ` (when `LDLᵀ` is used; the banded kernel serves the exact
    /// tridiagonal pattern under [`Ordering::Auto`]).
    pub ordering: Ordering,
    /// `tol` of the singularity rule `|p_k| ≤ tol · max_j |p_j|`, in `[0, 1)`.
    pub pivot_tolerance: f64,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverKind::Auto.into()
    }
}

impl From<SolverKind> for SolverOptions {
    fn from(kind: SolverKind) -> Self {
        SolverOptions {
            kind,
            ordering: Ordering::default(),
            pivot_tolerance: DEFAULT_PIVOT_TOLERANCE,
        }
    }
}

impl SolverOptions {
    /// With another `LDLᵀ` ordering.
    pub fn ordering(self, ordering: Ordering) -> Self {
        SolverOptions { ordering, ..self }
    }

    /// With another pivot tolerance.
    pub fn pivot_tolerance(self, pivot_tolerance: f64) -> Self {
        SolverOptions {
            pivot_tolerance,
            ..self
        }
    }

    fn check(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.pivot_tolerance) {
            return Err(Error::invalid(
                "pivot tolerance",
                format!("must be in [0, 1), got {}", self.pivot_tolerance),
            ));
        }
        Ok(())
    }
}

/// A solver for one fixed pattern of `∂f/∂u`, chosen and analyzed once.
#[derive(Debug, Clone)]
pub struct Solver {
    backend: Backend,
    requested: SolverKind,
    pivot_tolerance: f64,
    /// Why `Auto` left the solver it first chose, if it did.
    fallback: Option<String>,
}

/// The analyzed solver behind a [`Solver`].
#[derive(Debug, Clone)]
pub enum Backend {
    /// Sparse `LDLᵀ`.
    Ldlt(Box<LdltSolver>),
    /// Topological substitution.
    Triangular(Box<TriangularSolver>),
    /// General sparse `LU`.
    Lu(Box<LuSolver>),
}

fn not_applicable(solver: &str, e: Error) -> Error {
    Error::SolverNotApplicable {
        solver: solver.into(),
        reason: e.to_string(),
    }
}

fn triangular_for(pattern: &CsStructure) -> Result<TriangularSolver> {
    // the check only reads the pattern; a transient array of ones stands for values
    let ones = vec![1.0f64; pattern.nnz()];
    let indptr = pattern.indptr();
    let view = sprs::CsMatView::try_new_csc(
        pattern.shape(),
        indptr.raw_storage(),
        pattern.indices(),
        &ones[..],
    )
    .map_err(|(_, _, _, e)| Error::invalid("df/du pattern", e.to_string()))?;
    let report = check_dag(view, None)?;
    TriangularSolver::new(pattern, report.order)
}

impl Solver {
    /// Chooses (for [`SolverKind::Auto`]) and analyzes a solver for `pattern` with the given
    /// options (a [`SolverKind`] alone means the default ordering and tolerance).
    ///
    /// # Errors
    /// [`Error::SolverNotApplicable`] when the forced solver does not fit the pattern;
    /// [`Error::Invalid`] for a pivot tolerance outside `[0, 1)`.
    pub fn analyze(pattern: &CsStructure, options: impl Into<SolverOptions>) -> Result<Self> {
        let options = options.into();
        options.check()?;
        let kind = options.kind;
        let ldlt =
            || LdltSolver::analyze(pattern, options.ordering).map(|s| Backend::Ldlt(Box::new(s)));
        let lu = || LuSolver::analyze(pattern).map(|s| Backend::Lu(Box::new(s)));
        let backend = match kind {
            SolverKind::Triangular => triangular_for(pattern)
                .map(|t| Backend::Triangular(Box::new(t)))
                .map_err(|e| not_applicable("triangular", e))?,
            SolverKind::Ldlt => ldlt().map_err(|e| not_applicable("ldlt", e))?,
            SolverKind::Lu => lu().map_err(|e| not_applicable("lu", e))?,
            SolverKind::Auto => {
                let off_diagonal = pattern.iter().any(|(_, (i, j))| i != j);
                let symmetric = if off_diagonal { ldlt().ok() } else { None };
                match symmetric {
                    Some(b) => b,
                    None => match triangular_for(pattern) {
                        Ok(t) => Backend::Triangular(Box::new(t)),
                        Err(_) => lu().map_err(|e| not_applicable("auto", e))?,
                    },
                }
            }
        };
        let mut solver = Solver {
            backend,
            requested: kind,
            pivot_tolerance: options.pivot_tolerance,
            fallback: None,
        };
        solver.apply_pivot_tolerance();
        Ok(solver)
    }

    /// Hands the tolerance to the analyzed backend.
    fn apply_pivot_tolerance(&mut self) {
        let tol = self.pivot_tolerance;
        match &mut self.backend {
            Backend::Ldlt(s) => s.set_pivot_tolerance(tol),
            Backend::Triangular(s) => s.set_pivot_tolerance(tol),
            Backend::Lu(s) => s.set_pivot_tolerance(tol),
        }
    }

    /// The solver's name as reported in outputs: `"ldlt"`, `"triangular"` or `"lu"`.
    pub fn name(&self) -> &'static str {
        match self.backend {
            Backend::Ldlt(_) => "ldlt",
            Backend::Triangular(_) => "triangular",
            Backend::Lu(_) => "lu",
        }
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values); for the
    /// triangular solver only the checks.
    ///
    /// # Errors
    /// See the backend's own `factor`.
    pub fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        let result = match &mut self.backend {
            Backend::Ldlt(s) => s.factor(a, what),
            Backend::Triangular(s) => s.factor(a, what),
            Backend::Lu(s) => s.factor(a, what),
        };
        match result {
            Err(e @ (Error::NotSymmetric { .. } | Error::SingularPivot { .. }))
                if self.requested == SolverKind::Auto
                    && matches!(self.backend, Backend::Ldlt(_)) =>
            {
                // chosen from a symmetric pattern, but the values are not symmetric, or LDLᵀ
                // (which does not pivot) met a small pivot: LU, which pivots, instead
                self.backend =
                    Backend::Lu(Box::new(LuSolver::analyze(&crate::sparse::pattern_of(a))?));
                self.apply_pivot_tolerance();
                self.fallback = Some(format!("LDLᵀ gave up ({e}); switched to LU"));
                self.factor(a, what)
            }
            r => r,
        }
    }

    /// Why [`SolverKind::Auto`] switched from the solver it chose from the pattern to `LU`
    /// (asymmetric values, or a pivot `LDLᵀ` could not take), or `None` when it did not.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Solves `A x = rhs` in place; `a` is the matrix last passed to [`factor`](Self::factor).
    ///
    /// # Errors
    /// When no factorization is available, or the solve meets a singularity.
    pub fn solve_in_place(&mut self, a: &CsMat<f64>, rhs: &mut [f64]) -> Result<()> {
        match &mut self.backend {
            Backend::Ldlt(s) => s.solve_in_place(rhs),
            Backend::Triangular(s) => s.solve_in_place(a, rhs),
            Backend::Lu(s) => s.solve_in_place(rhs),
        }
    }

    /// `x = A⁻¹ (α r)`, leaving `r` untouched (no copy of `r` where the backend allows).
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    pub fn solve_scaled_into(
        &mut self,
        a: &CsMat<f64>,
        r: &[f64],
        alpha: f64,
        x: &mut [f64],
    ) -> Result<()> {
        self.scaled_into(a, r, alpha, x, false)
    }

    /// `x = A⁻ᵀ (α r)`, leaving `r` untouched (no copy of `r` where the backend allows).
    ///
    /// # Errors
    /// As [`solve_transpose_in_place`](Self::solve_transpose_in_place).
    pub fn solve_transpose_scaled_into(
        &mut self,
        a: &CsMat<f64>,
        r: &[f64],
        alpha: f64,
        x: &mut [f64],
    ) -> Result<()> {
        self.scaled_into(a, r, alpha, x, true)
    }

    fn scaled_into(
        &mut self,
        a: &CsMat<f64>,
        r: &[f64],
        alpha: f64,
        x: &mut [f64],
        transpose: bool,
    ) -> Result<()> {
        match &mut self.backend {
            // A is symmetric: the same solve either way, without a copy of r
            Backend::Ldlt(s) => s.solve_scaled_into(r, alpha, x),
            _ => {
                ldlt::scale_into(r, alpha, x);
                if transpose {
                    self.solve_transpose_in_place(a, x)
                } else {
                    self.solve_in_place(a, x)
                }
            }
        }
    }

    /// Solves `Aᵀ x = rhs` in place; `a` is the matrix last passed to [`factor`](Self::factor).
    ///
    /// # Errors
    /// When no factorization is available, or the solve meets a singularity.
    pub fn solve_transpose_in_place(&mut self, a: &CsMat<f64>, rhs: &mut [f64]) -> Result<()> {
        match &mut self.backend {
            // A is symmetric.
            Backend::Ldlt(s) => s.solve_in_place(rhs),
            Backend::Triangular(s) => s.solve_transpose_in_place(a, rhs),
            Backend::Lu(s) => s.solve_transpose_in_place(rhs),
        }
    }
}
