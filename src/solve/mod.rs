//! Linear solvers for `∂f/∂u`: the state solve `(∂f/∂u) x = r` and the adjoint solve
//! `(∂f/∂u)ᵀ λ = r`.
//!
//! | solver                 | applies when `∂f/∂u` is | adjoint solve                          |
//! |------------------------|-------------------------|----------------------------------------|
//! | [`SolverKind::Ldlt`]   | symmetric               | `P A Pᵀ = L D Lᵀ`, then `Aᵀ = A`         |
//!
//! [`SolverKind::Auto`] inspects the pattern once and picks; the choice is reported by
//! [`Solver::name`]. Every solver separates the symbolic analysis (done once per pattern) from
//! the numeric factorization (done for each new `θ`), and solves in preallocated buffers.

pub mod ldlt;

use crate::{Error, Result};
use sprs::{CsMat, CsStructure};
use std::fmt;

pub use ldlt::{LdltSolver, Ordering};

/// Which linear solver to use for `∂f/∂u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SolverKind {
    /// Pick from the structure of `∂f/∂u`.
    #[default]
    Auto,
    /// Sparse `LDLᵀ` (symmetric `∂f/∂u` only).
    Ldlt,
}

impl fmt::Display for SolverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SolverKind::Auto => "auto",
            SolverKind::Ldlt => "ldlt",
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
    Ldlt(LdltSolver),
}

impl Solver {
    /// Chooses (for [`SolverKind::Auto`]) and analyzes a solver for `pattern`.
    ///
    /// # Errors
    /// [`Error::SolverNotApplicable`] when the forced or the only possible solver does not fit
    /// the pattern.
    pub fn analyze(pattern: &CsStructure, kind: SolverKind) -> Result<Self> {
        match kind {
            SolverKind::Auto | SolverKind::Ldlt => {
                LdltSolver::analyze(pattern, Ordering::default())
                    .map(Solver::Ldlt)
                    .map_err(|e| Error::SolverNotApplicable {
                        solver: "ldlt".into(),
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// The solver's name as reported in outputs (`"ldlt"`).
    pub fn name(&self) -> &'static str {
        match self {
            Solver::Ldlt(_) => "ldlt",
        }
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values).
    ///
    /// # Errors
    /// See the solver's own `factor`.
    pub fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        match self {
            Solver::Ldlt(s) => s.factor(a, what),
        }
    }

    /// Solves `A x = rhs` in place.
    ///
    /// # Errors
    /// When no factorization is available.
    pub fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        match self {
            Solver::Ldlt(s) => s.solve_in_place(rhs),
        }
    }

    /// Solves `Aᵀ x = rhs` in place.
    ///
    /// # Errors
    /// When no factorization is available.
    pub fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        match self {
            // A is symmetric.
            Solver::Ldlt(s) => s.solve_in_place(rhs),
        }
    }
}
