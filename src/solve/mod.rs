//! Linear solvers for `∂f/∂u`: the state solve `(∂f/∂u) x = r` and the adjoint solve
//! `(∂f/∂u)ᵀ λ = r`.
//!
//! | solver                     | applies when `∂f/∂u` is        | adjoint solve                        |
//! |----------------------------|--------------------------------|--------------------------------------|
//! | [`SolverKind::Triangular`] | a DAG (triangular up to a permutation) | one reverse-topological sweep, no factorization |
//! | [`SolverKind::Ldlt`]       | symmetric                      | `P A Pᵀ = L D Lᵀ`, then `Aᵀ = A`       |
//!
//! [`SolverKind::Auto`] inspects the pattern once and picks in that order (a DAG first: it
//! needs no factorization); the choice is reported by [`Solver::name`]. A matrix that is
//! neither has no solver yet (a general sparse LU is planned) and gets
//! [`Error::SolverNotApplicable`]. Every solver separates the symbolic analysis (done once per pattern) from
//! the numeric factorization (done for each new `θ`), and solves in preallocated buffers.

pub mod ldlt;
pub mod triangular;

use crate::dag::check_dag;
use crate::{Error, Result};
use sprs::{CsMat, CsStructure};
use std::fmt;

pub use ldlt::{LdltSolver, Ordering};
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
}

impl fmt::Display for SolverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SolverKind::Auto => "auto",
            SolverKind::Ldlt => "ldlt",
            SolverKind::Triangular => "triangular",
        })
    }
}

impl std::str::FromStr for SolverKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(SolverKind::Auto),
            "ldlt" => Ok(SolverKind::Ldlt),
            _ => Err(Error::invalid(
                "solver",
                format!("unknown solver {s:?} (expected auto or ldlt)"),
            )),
        }
    }
}

/// A solver for one fixed pattern of `∂f/∂u`, chosen and analyzed once.
#[derive(Debug, Clone)]
pub enum Solver {
    /// Sparse `LDLᵀ`.
    Ldlt(Box<LdltSolver>),
    /// Topological substitution.
    Triangular(TriangularSolver),
}

fn not_applicable(solver: &str, e: Error) -> Error {
    Error::SolverNotApplicable {
        solver: solver.into(),
        reason: e.to_string(),
    }
}

impl Solver {
    /// Chooses (for [`SolverKind::Auto`]) and analyzes a solver for `pattern`.
    ///
    /// # Errors
    /// [`Error::SolverNotApplicable`] when the forced solver does not fit the pattern, or (for
    /// `Auto`) when `∂f/∂u` is neither a DAG nor symmetric.
    pub fn analyze(pattern: &CsStructure, kind: SolverKind) -> Result<Self> {
        let dag = || {
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
        };
        let ldlt = || LdltSolver::analyze(pattern, Ordering::default()).map(Box::new);
        match kind {
            SolverKind::Triangular => dag()
                .map(Solver::Triangular)
                .map_err(|e| not_applicable("triangular", e)),
            SolverKind::Ldlt => ldlt()
                .map(Solver::Ldlt)
                .map_err(|e| not_applicable("ldlt", e)),
            // A symmetric pattern with an off-diagonal entry has 2-cycles, so it is never a
            // DAG: try LDLᵀ first then, and the DAG check only for the rest.
            SolverKind::Auto => {
                let symmetric_error = if pattern.iter().any(|(_, (i, j))| i != j) {
                    match ldlt() {
                        Ok(s) => return Ok(Solver::Ldlt(s)),
                        Err(e) => Some(e),
                    }
                } else {
                    None
                };
                let dag_error = match dag() {
                    Ok(t) => return Ok(Solver::Triangular(t)),
                    Err(e) => e,
                };
                let ldlt_error = match symmetric_error {
                    Some(e) => e,
                    // diagonal pattern without a full diagonal: LDLᵀ reports the zero pivot
                    None => {
                        return ldlt()
                            .map(Solver::Ldlt)
                            .map_err(|e| not_applicable("auto", e))
                    }
                };
                Err(Error::SolverNotApplicable {
                    solver: "auto".into(),
                    reason: format!(
                        "df/du is neither a DAG ({dag_error}) nor symmetric ({ldlt_error}); \
                         a general sparse LU is not available yet"
                    ),
                })
            }
        }
    }

    /// The solver's name as reported in outputs (`"ldlt"`, `"triangular"`).
    pub fn name(&self) -> &'static str {
        match self {
            Solver::Ldlt(_) => "ldlt",
            Solver::Triangular(_) => "triangular",
        }
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values); for the
    /// triangular solver only the checks.
    ///
    /// # Errors
    /// See the solver's own `factor`.
    pub fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        match self {
            Solver::Ldlt(s) => s.factor(a, what),
            Solver::Triangular(s) => s.factor(a, what),
        }
    }

    /// Solves `A x = rhs` in place; `a` is the matrix last passed to [`factor`](Self::factor).
    ///
    /// # Errors
    /// When no factorization is available.
    pub fn solve_in_place(&mut self, a: &CsMat<f64>, rhs: &mut [f64]) -> Result<()> {
        match self {
            Solver::Ldlt(s) => s.solve_in_place(rhs),
            Solver::Triangular(s) => s.solve_in_place(a, rhs),
        }
    }

    /// Solves `Aᵀ x = rhs` in place; `a` is the matrix last passed to [`factor`](Self::factor).
    ///
    /// # Errors
    /// When no factorization is available.
    pub fn solve_transpose_in_place(&mut self, a: &CsMat<f64>, rhs: &mut [f64]) -> Result<()> {
        match self {
            // A is symmetric.
            Solver::Ldlt(s) => s.solve_in_place(rhs),
            Solver::Triangular(s) => s.solve_transpose_in_place(a, rhs),
        }
    }
}
