//! A nested dissection of the unknowns, given by the problem: a fill-reducing elimination
//! order whose top level splits the unknowns into two parts and a separator.
//!
//! In the order `[A, B, S]` with no entry of `∂f/∂u` between `A` and `B`,
//!
//! ```text
//!         ┌ K_AA   0    K_AS ┐
//!     K = │  0    K_BB  K_BS │
//!         └ K_SA  K_SB  K_SS ┘
//! ```
//!
//! and the two parts can be eliminated independently ([`crate::solve::SplitCholesky`] does so
//! on two threads). Within `A`, `B` and `S` the order is the problem's too (for a mesh, the
//! recursive bisection of each part by its own separators, which for a 2-D grid of `n`
//! unknowns gives `O(n log n)` fill and `O(n^1.5)` factorization work, the optimum up to
//! constants).
//!
//! A problem offers one through [`crate::Jacobians::dfdu_dissection`]; the MBB beam builds it
//! from its mesh ([`crate::problems::topopt::MbbBeam`]).

use crate::{Error, Result};
use std::ops::Range;

/// An elimination order `[A, B, S]` of `0..n` with its top-level split (see the module
/// documentation).
///
/// # Example
/// ```
/// use adjoint::solve::Dissection;
/// // a path 0 − 1 − 2: the middle unknown separates the ends
/// let d = Dissection::new(vec![0, 2, 1], 1, 1)?;
/// assert_eq!(d.separator(), 2..3);
/// assert!(Dissection::new(vec![0, 0, 1], 1, 1).is_err()); // not a permutation
/// # Ok::<(), adjoint::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dissection {
    order: Vec<usize>,
    first: usize,
    second: usize,
}

impl Dissection {
    /// `order[k]` is the unknown eliminated `k`-th: the `first` unknowns of part `A`, then
    /// the `second` of part `B`, then the separator.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `order` is not a permutation of `0..order.len()` or the parts
    /// do not fit in it.
    pub fn new(order: Vec<usize>, first: usize, second: usize) -> Result<Self> {
        let n = order.len();
        inverse_permutation(&order, n)?;
        if first.checked_add(second).is_none_or(|s| s > n) {
            return Err(Error::invalid(
                "dissection",
                format!("parts of {first} and {second} unknowns do not fit in {n}"),
            ));
        }
        Ok(Dissection {
            order,
            first,
            second,
        })
    }

    /// The elimination order (`order[k]` = the unknown eliminated `k`-th).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The number of unknowns.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are no unknowns.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Positions of part `A` in [`order`](Self::order).
    pub fn first(&self) -> Range<usize> {
        0..self.first
    }

    /// Positions of part `B`.
    pub fn second(&self) -> Range<usize> {
        self.first..self.first + self.second
    }

    /// Positions of the separator `S`.
    pub fn separator(&self) -> Range<usize> {
        self.first + self.second..self.order.len()
    }
}

/// `inverse[order[k]] = k`, checking that `order` is a permutation of `0..n`.
pub(crate) fn inverse_permutation(order: &[usize], n: usize) -> Result<Vec<usize>> {
    if order.len() != n {
        return Err(Error::invalid(
            "ordering",
            format!("{} entries for {n} unknowns", order.len()),
        ));
    }
    let mut inverse = vec![usize::MAX; n];
    for (k, &i) in order.iter().enumerate() {
        if i >= n || inverse[i] != usize::MAX {
            return Err(Error::invalid(
                "ordering",
                format!("entry {k} ({i}) is out of range or repeated: not a permutation"),
            ));
        }
        inverse[i] = k;
    }
    Ok(inverse)
}
