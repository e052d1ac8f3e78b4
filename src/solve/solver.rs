//! [`Solver`]: the solver a workspace uses, chosen from the pattern of `∂f/∂u` once.

use super::block_triangular::BlockTriangularSolver;
use super::cholesky::CholeskySolver;
use super::dissection::Dissection;
use super::ldlt::LdltSolver;
use super::lu::LuSolver;
use super::split_cholesky::{SplitCholesky, SPLIT_THRESHOLD};
use super::triangular::TriangularSolver;
use super::tridiagonal::{is_tridiagonal_pattern, TridiagonalLdlt};
use super::{Factorization, SolverKind, SolverOptions};
use crate::dag::DagPattern;
use crate::{Error, Result};
use sprs::{CsMat, CsStructure};

/// A solver for one fixed pattern of `∂f/∂u`, chosen and analyzed once; a
/// [`Factorization`] like the solvers it chooses from. Cloning keeps the factors (every
/// solver of this crate does).
///
/// # Example
/// ```
/// use adjoint::solve::{Factorization, Solver, SolverKind};
/// // a lower triangular matrix: Auto picks the triangular sweep
/// let mut t = sprs::TriMat::new((2, 2));
/// for (i, j, v) in [(0, 0, 1.0), (1, 0, 2.0), (1, 1, 1.0)] { t.add_triplet(i, j, v); }
/// let a: sprs::CsMat<f64> = t.to_csc();
/// let mut s = Solver::analyze(&adjoint::sparse::pattern_of(&a), SolverKind::Auto)?;
/// assert_eq!(s.name(), "triangular");
/// s.factor(&a, "A")?;
/// let mut x = vec![1.0, 0.0];
/// s.solve_transpose_in_place(&mut x)?; // Aᵀ x = (1, 0): x = (1, 0)
/// assert_eq!(x, vec![1.0, 0.0]);
/// # Ok::<(), adjoint::Error>(())
/// ```
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
enum Backend {
    Ldlt(Box<LdltSolver>),
    Banded(Box<TridiagonalLdlt>),
    Triangular(Box<TriangularSolver>),
    Lu(Box<LuSolver>),
    Cholesky(Box<CholeskySolver>),
    SplitCholesky(Box<SplitCholesky>),
    BlockTriangular(Box<BlockTriangularSolver>),
}

impl Backend {
    fn get(&mut self) -> &mut dyn Factorization {
        match self {
            Backend::Ldlt(s) => &mut **s,
            Backend::Banded(s) => &mut **s,
            Backend::Triangular(s) => &mut **s,
            Backend::Lu(s) => &mut **s,
            Backend::Cholesky(s) => &mut **s,
            Backend::SplitCholesky(s) => &mut **s,
            Backend::BlockTriangular(s) => &mut **s,
        }
    }

    fn get_ref(&self) -> &dyn Factorization {
        match self {
            Backend::Ldlt(s) => &**s,
            Backend::Banded(s) => &**s,
            Backend::Triangular(s) => &**s,
            Backend::Lu(s) => &**s,
            Backend::Cholesky(s) => &**s,
            Backend::SplitCholesky(s) => &**s,
            Backend::BlockTriangular(s) => &**s,
        }
    }

    /// A solver that needs symmetric values and does not pivot (`LDLᵀ`, Cholesky): under
    /// `Auto`, it falls back to `LU`.
    fn is_symmetric(&self) -> bool {
        matches!(
            self,
            Backend::Ldlt(_)
                | Backend::Banded(_)
                | Backend::Cholesky(_)
                | Backend::SplitCholesky(_)
        )
    }
}

fn not_applicable(solver: &str, e: Error) -> Error {
    Error::SolverNotApplicable {
        solver: solver.into(),
        reason: e.to_string(),
    }
}

fn triangular_for(pattern: &CsStructure) -> Result<Backend> {
    let dag = DagPattern::check(pattern.view())?;
    Ok(Backend::Triangular(Box::new(TriangularSolver::new(dag)?)))
}

/// What a problem knows of the structure of `∂f/∂u` beyond its pattern
/// ([`crate::Jacobians::dfdu_blocks`], [`crate::Jacobians::dfdu_dissection`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct StructureHints<'a> {
    /// Block offsets `[0, n_1, …, n_u]`.
    pub blocks: Option<&'a [usize]>,
    /// A nested dissection of the unknowns.
    pub dissection: Option<&'a Dissection>,
}

/// Whether a dissection has two non-empty parts and a separator.
fn splits(d: &Dissection) -> bool {
    !(d.first().is_empty() || d.second().is_empty() || d.separator().is_empty())
}

impl Solver {
    /// Chooses (for [`SolverKind::Auto`]) and analyzes a solver for `pattern` with the given
    /// options (a [`SolverKind`] alone means the defaults for the rest).
    ///
    /// # Errors
    /// [`Error::SolverNotApplicable`] when the forced solver does not fit the pattern;
    /// [`Error::Invalid`] for a pivot tolerance outside `[0, 1)`.
    pub fn analyze(pattern: &CsStructure, options: impl Into<SolverOptions>) -> Result<Self> {
        Self::analyze_blocks(pattern, options, None)
    }

    /// As [`analyze`](Self::analyze), with the block offsets of `∂f/∂u` when the problem has
    /// them ([`crate::Jacobians::dfdu_blocks`]): [`SolverKind::BlockTriangular`] needs them,
    /// and [`SolverKind::Auto`] chooses it when the entry graph has a cycle but the block graph
    /// is a DAG.
    ///
    /// # Errors
    /// As [`analyze`](Self::analyze); a forced block-triangular solver without offsets, or on a
    /// block graph with a cycle, is [`Error::SolverNotApplicable`].
    pub fn analyze_blocks(
        pattern: &CsStructure,
        options: impl Into<SolverOptions>,
        blocks: Option<&[usize]>,
    ) -> Result<Self> {
        Self::analyze_with(
            pattern,
            options,
            StructureHints {
                blocks,
                dissection: None,
            },
        )
    }

    /// As [`analyze`](Self::analyze), with what the problem knows of the structure of
    /// `∂f/∂u` ([`StructureHints`]): block offsets for [`SolverKind::BlockTriangular`], and a
    /// nested dissection that Cholesky uses as its ordering — and, from
    /// [`SPLIT_THRESHOLD`] unknowns, to factorize and solve its two parts on two threads
    /// ([`SplitCholesky`]).
    ///
    /// # Errors
    /// As [`analyze_blocks`](Self::analyze_blocks); a dissection that does not fit the
    /// pattern makes Cholesky not applicable.
    pub fn analyze_with(
        pattern: &CsStructure,
        options: impl Into<SolverOptions>,
        hints: StructureHints<'_>,
    ) -> Result<Self> {
        let StructureHints { blocks, dissection } = hints;
        let options = options.into();
        options.check()?;
        let kind = options.kind;
        let ldlt = || -> Result<Backend> {
            if options.banded && is_tridiagonal_pattern(pattern) {
                return Ok(Backend::Banded(Box::new(TridiagonalLdlt::analyze(
                    pattern,
                )?)));
            }
            LdltSolver::analyze(pattern, options.ordering).map(|s| Backend::Ldlt(Box::new(s)))
        };
        let lu = || LuSolver::analyze(pattern).map(|s| Backend::Lu(Box::new(s)));
        let cholesky = || match dissection {
            Some(d) if pattern.rows() >= SPLIT_THRESHOLD && splits(d) => {
                SplitCholesky::analyze(pattern, d).map(|s| Backend::SplitCholesky(Box::new(s)))
            }
            Some(d) => CholeskySolver::analyze_with_order(pattern, d.order())
                .map(|s| Backend::Cholesky(Box::new(s))),
            None => CholeskySolver::analyze(pattern).map(|s| Backend::Cholesky(Box::new(s))),
        };
        let block_triangular = || match blocks {
            None => Err(Error::invalid(
                "block offsets",
                "the problem gives none (Jacobians::dfdu_blocks)",
            )),
            Some(off) => BlockTriangularSolver::analyze_with(pattern, off, options)
                .map(|s| Backend::BlockTriangular(Box::new(s))),
        };
        let backend = match kind {
            SolverKind::Triangular => {
                triangular_for(pattern).map_err(|e| not_applicable("triangular", e))?
            }
            SolverKind::Ldlt => ldlt().map_err(|e| not_applicable("ldlt", e))?,
            SolverKind::Lu => lu().map_err(|e| not_applicable("lu", e))?,
            SolverKind::Cholesky => cholesky().map_err(|e| not_applicable("cholesky", e))?,
            SolverKind::BlockTriangular => {
                block_triangular().map_err(|e| not_applicable("block-triangular", e))?
            }
            SolverKind::Auto => {
                // a symmetric pattern: the banded kernel for the tridiagonal one, else
                // Cholesky (measured faster than sprs-ldl from 2.5k unknowns up on the
                // topology-optimization matrices, README), falling back to LU on values that
                // are not symmetric positive definite
                let off_diagonal = pattern.iter().any(|(_, (i, j))| i != j);
                let symmetric = if !off_diagonal {
                    None
                } else if options.banded && is_tridiagonal_pattern(pattern) {
                    ldlt().ok()
                } else {
                    cholesky().ok()
                };
                match symmetric {
                    Some(b) => b,
                    None => match triangular_for(pattern) {
                        Ok(t) => t,
                        Err(_) => match block_triangular() {
                            Ok(b) => b,
                            Err(_) => lu().map_err(|e| not_applicable("auto", e))?,
                        },
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
        solver
            .backend
            .get()
            .set_pivot_tolerance(solver.pivot_tolerance);
        Ok(solver)
    }

    /// Whether the solver needs symmetric values (LDLᵀ, Cholesky; not after a fallback to
    /// LU): after a successful factorization `Aᵀ = A`, and a transposed solve is a solve.
    pub(crate) fn is_symmetric(&self) -> bool {
        self.backend.is_symmetric()
    }

    /// The solver's name as reported in outputs: `"ldlt"`, `"cholesky"`, `"triangular"`,
    /// `"block-triangular"` or `"lu"` (the
    /// same as [`Factorization::name`], without the trait in scope).
    pub fn name(&self) -> &'static str {
        self.backend.get_ref().name()
    }

    /// The kernel in use, finer than [`name`](Factorization::name): `"banded"` (the
    /// tridiagonal `LDLᵀ` kernel), `"sprs-ldl"`, `"triangular"` or `"faer-lu"`.
    pub fn kernel(&self) -> &'static str {
        match self.backend {
            Backend::Ldlt(_) => "sprs-ldl",
            Backend::Banded(_) => "banded",
            Backend::Triangular(_) => "triangular",
            Backend::Lu(_) => "faer-lu",
            Backend::Cholesky(_) => "faer-cholesky",
            Backend::SplitCholesky(_) => "faer-cholesky-split",
            Backend::BlockTriangular(_) => "block-triangular",
        }
    }

    /// Why [`SolverKind::Auto`] switched from the solver it chose from the pattern to `LU`
    /// (asymmetric values, or a pivot `LDLᵀ` could not take), or `None` when it did not.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }
}

impl Factorization for Solver {
    /// `"ldlt"`, `"triangular"` or `"lu"`.
    fn name(&self) -> &'static str {
        Solver::name(self)
    }

    fn dim(&self) -> usize {
        self.backend.get_ref().dim()
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values); for the
    /// triangular solver only the checks and a copy of the values. Under
    /// [`SolverKind::Auto`], `LDLᵀ` meeting asymmetric values or a pivot it cannot take
    /// switches to `LU` for this and every later factorization ([`Solver::fallback`]).
    ///
    /// # Errors
    /// See the backend's own `factor`.
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        match self.backend.get().factor(a, what) {
            Err(e @ (Error::NotSymmetric { .. } | Error::SingularPivot { .. }))
                if self.requested == SolverKind::Auto && self.backend.is_symmetric() =>
            {
                // chosen from a symmetric pattern, but the values are not symmetric, or LDLᵀ
                // (which does not pivot) met a small pivot: LU, which pivots, instead
                let from = match self.backend {
                    Backend::Cholesky(_) | Backend::SplitCholesky(_) => "Cholesky",
                    _ => "LDLᵀ",
                };
                let lu = LuSolver::analyze(&crate::sparse::pattern_of(a))?;
                self.backend = Backend::Lu(Box::new(lu));
                self.backend.get().set_pivot_tolerance(self.pivot_tolerance);
                self.fallback = Some(format!("{from} gave up ({e}); switched to LU"));
                self.factor(a, what)
            }
            r => r,
        }
    }

    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
        self.backend.get().set_pivot_tolerance(tol);
    }

    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.backend.get().solve_in_place(rhs)
    }

    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.backend.get().solve_transpose_in_place(rhs)
    }

    fn solve_columns_in_place(&mut self, b: &mut [f64]) -> Result<()> {
        self.backend.get().solve_columns_in_place(b)
    }

    fn solve_scaled_into(&mut self, r: &[f64], alpha: f64, x: &mut [f64]) -> Result<()> {
        self.backend.get().solve_scaled_into(r, alpha, x)
    }

    fn solve_transpose_scaled_into(&mut self, r: &[f64], alpha: f64, x: &mut [f64]) -> Result<()> {
        self.backend.get().solve_transpose_scaled_into(r, alpha, x)
    }
}
