//! The stiffness matrix's values by gathering: `K = Σ_e E(x_e) KE_e`, entry by entry.
//!
//! Every stored entry `s` of `K` (on the free dofs) is the sum of at most four element
//! contributions,
//!
//! ```text
//!     K_s = Σ_{(e, ab) ∈ C_s} E(x_e) KE[a][b],
//! ```
//!
//! `C_s` listing each element `e` holding both dofs of `s`, with the local pair `ab` they are
//! in its `KE`, in increasing `e`. The lists are computed once with the pattern; a fill then
//! writes every entry once, without the zeroing and scattered read-modify-writes of the
//! element-by-element assembly, and splits into two independent halves across threads. The
//! sums run in increasing `e`, so they round exactly as the element loop would.

use crate::parallel::{join_if, PARALLEL_THRESHOLD};
use crate::{Error, Result};

/// Bits of a contribution that hold the local pair `8a + b`.
const PAIR_BITS: u32 = 6;

/// The per-entry contribution lists `C_s` of `K` (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StiffnessGather {
    /// `C_s` is `contributions[ptr[s]..ptr[s + 1]]` (fewer than `64 · 2²⁶ = 2³²` in all).
    ptr: Vec<u32>,
    /// `e << 6 | (8a + b)`, sorted by `e` within each entry.
    contributions: Vec<u32>,
}

impl StiffnessGather {
    /// The lists for elements whose `slots[e][8a + b]` give the entry of `K` (`None` for a
    /// fixed dof) among `nnz` entries.
    ///
    /// # Errors
    /// [`Error::Invalid`] for more than `2²⁶` elements (a contribution's element index must
    /// fit its 26 bits).
    pub(crate) fn new(
        n_elements: usize,
        nnz: usize,
        slots: impl Fn(usize) -> [Option<usize>; 64],
    ) -> Result<Self> {
        if n_elements >= 1 << (32 - PAIR_BITS) {
            return Err(Error::invalid(
                "mesh",
                format!("{n_elements} elements is too large (at most 2²⁶ − 1)"),
            ));
        }
        // a counting sort by entry, elements in increasing order
        let mut ptr = vec![0u32; nnz + 1];
        for e in 0..n_elements {
            for s in slots(e).into_iter().flatten() {
                ptr[s + 1] += 1;
            }
        }
        for s in 0..nnz {
            ptr[s + 1] += ptr[s];
        }
        let mut next = ptr[..nnz].to_vec();
        let mut contributions = vec![0u32; ptr[nnz] as usize];
        for e in 0..n_elements {
            for (pair, slot) in slots(e).into_iter().enumerate() {
                if let Some(s) = slot {
                    contributions[next[s] as usize] = (e as u32) << PAIR_BITS | pair as u32;
                    next[s] += 1;
                }
            }
        }
        Ok(StiffnessGather { ptr, contributions })
    }

    /// `values[s] = Σ_{C_s} moduli[e] · ke[8a + b]` for every entry, on two threads from
    /// [`PARALLEL_THRESHOLD`] entries.
    pub(crate) fn fill(&self, moduli: &[f64], ke: &[f64; 64], values: &mut [f64]) {
        let nnz = values.len();
        assert_eq!(nnz + 1, self.ptr.len(), "K's values of another length");
        // the halves carry equal numbers of contributions
        let half_work = (self.contributions.len() / 2) as u32;
        let mid = self.ptr.partition_point(|&p| p < half_work).min(nnz);
        let (lo, hi) = values.split_at_mut(mid);
        join_if(
            nnz >= PARALLEL_THRESHOLD,
            || self.fill_range(0, moduli, ke, lo),
            || self.fill_range(mid, moduli, ke, hi),
        );
    }

    /// The entries `start..start + values.len()`.
    fn fill_range(&self, start: usize, moduli: &[f64], ke: &[f64; 64], values: &mut [f64]) {
        let ptr = &self.ptr[start..=start + values.len()];
        for (v, w) in values.iter_mut().zip(ptr.windows(2)) {
            *v = self.contributions[w[0] as usize..w[1] as usize]
                .iter()
                .fold(0.0, |sum, &c| {
                    let pair = (c & ((1 << PAIR_BITS) - 1)) as usize;
                    sum + moduli[(c >> PAIR_BITS) as usize] * ke[pair]
                });
        }
    }
}
