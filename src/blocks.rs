//! Block offsets and the identity-block rule, shared by the DAG check ([`crate::dag`]) and
//! the structure report ([`crate::inspect`]), so both agree on what a block and an identity
//! block are.
//!
//! - **Offsets** `[0, n_1, n_1 + n_2, …, n]` increase strictly from 0 to `n`
//!   ([`check_offsets`]).
//! - **Identity block**: a square diagonal block whose diagonal entries are all stored and
//!   exactly 1, and whose other stored entries are exactly 0 (explicit zeros in the pattern do
//!   not make a block sparse: a network's `∂f/∂u` keeps entries that are zero for some `θ`).

use crate::{Error, Result};

/// Checks block offsets of a side of length `n`: they start at 0, end at `n` and increase
/// strictly.
///
/// # Errors
/// [`Error::Invalid`] naming the offsets.
pub fn check_offsets(off: &[usize], n: usize) -> Result<()> {
    if off.first() != Some(&0) || off.last() != Some(&n) || off.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::invalid(
            "block offsets",
            format!("{off:?} must increase strictly from 0 to n = {n}"),
        ));
    }
    Ok(())
}

/// The block holding index `i` (offsets already checked).
pub(crate) fn block_of(off: &[usize], i: usize) -> usize {
    off.partition_point(|&o| o <= i) - 1
}

/// Whether a stored entry of a diagonal block agrees with an identity: exactly 1 on the
/// block's diagonal, exactly 0 elsewhere.
pub(crate) fn identity_entry(on_diagonal: bool, v: f64) -> bool {
    if on_diagonal {
        v == 1.0
    } else {
        v == 0.0
    }
}
