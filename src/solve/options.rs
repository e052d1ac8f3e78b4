//! [`SolverOptions`]: everything that configures the solver of `∂f/∂u`, in one type.

use super::{Ordering, SolverKind, DEFAULT_PIVOT_TOLERANCE};
use crate::{Error, Result};

/// Everything that configures the solver of `∂f/∂u`, in one place: which solver, the
/// fill-reducing ordering of the general sparse `LDLᵀ`, whether the exact tridiagonal
/// pattern gets the banded kernel, and the singularity rule's pivot tolerance.
/// [`SolverKind`] converts into it (with the defaults for the rest), so
/// `AdjointWorkspace::new(&p, SolverKind::Auto)` and
/// `AdjointWorkspace::new(&p, SolverOptions::from(SolverKind::Ldlt).ordering(Ordering::Amd))`
/// both compile.
///
/// # Example
/// ```
/// use adjoint::solve::{Ordering, SolverKind, SolverOptions};
/// let o = SolverOptions::from(SolverKind::Ldlt)
///     .ordering(Ordering::Amd)
///     .banded(false)
///     .pivot_tolerance(1e-12);
/// assert_eq!((o.kind, o.ordering, o.banded, o.pivot_tolerance), (SolverKind::Ldlt, Ordering::Amd, false, 1e-12));
/// assert_eq!(SolverOptions::default(), SolverOptions::from(SolverKind::Auto));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverOptions {
    /// Which solver ([`SolverKind::Auto`] chooses from the pattern).
    pub kind: SolverKind,
    /// The fill-reducing ordering of the general sparse `LDLᵀ` (sprs-ldl).
    pub ordering: Ordering,
    /// Whether `LDLᵀ` (forced, or chosen by `Auto`) uses the banded kernel on the exact
    /// tridiagonal pattern (default `true`: no fill and no symbolic structure, one fused pass);
    /// `false` sends that pattern through sprs-ldl with [`ordering`](Self::ordering) like any
    /// other.
    pub banded: bool,
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
            banded: true,
            pivot_tolerance: DEFAULT_PIVOT_TOLERANCE,
        }
    }
}

impl SolverOptions {
    /// With another `LDLᵀ` ordering.
    pub fn ordering(self, ordering: Ordering) -> Self {
        SolverOptions { ordering, ..self }
    }

    /// With or without the banded kernel for the tridiagonal pattern.
    pub fn banded(self, banded: bool) -> Self {
        SolverOptions { banded, ..self }
    }

    /// With another pivot tolerance.
    pub fn pivot_tolerance(self, pivot_tolerance: f64) -> Self {
        SolverOptions {
            pivot_tolerance,
            ..self
        }
    }

    pub(super) fn check(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.pivot_tolerance) {
            return Err(Error::invalid(
                "pivot tolerance",
                format!("must be in [0, 1), got {}", self.pivot_tolerance),
            ));
        }
        Ok(())
    }
}
