//! The DAG property at the level of blocks: [`check_block_dag`].
//!
//! With block offsets `[0, n_1, n_1 + n_2, …, n]` splitting the unknowns (and equations) of a
//! square matrix `J` into blocks, the **block graph** has a node per block and an edge
//! `c → b` whenever block row `b` stores an entry in block column `c ≠ b`. The entry graph of
//! [`check_dag`](super::check_dag) may have cycles *inside* diagonal blocks (an implicit time
//! step couples all unknowns of its step), yet the block graph be acyclic: then `J` is block
//! lower triangular up to a symmetric permutation of whole blocks, and
//!
//! ```text
//!   J x = r:    for b in block order:          J_bb x_b = r_b − Σ_{c ≠ b} J_bc x_c
//!   Jᵀ λ = r:   for b in reverse block order:  J_bbᵀ λ_b = r_b − Σ_{c ≠ b} J_cbᵀ λ_c
//! ```
//!
//! factorizing only the diagonal blocks
//! ([`BlockTriangularSolver`](crate::solve::BlockTriangularSolver)).
//!
//! # Example
//! ```
//! use adjoint::dag::{check_block_dag, check_dag};
//! // two 2×2 blocks, each a cycle 0 ↔ 1 and 2 ↔ 3, block 1 depending on block 0
//! let mut t = sprs::TriMat::new((4, 4));
//! for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (2, 0)] {
//!     t.add_triplet(i, j, 1.0);
//! }
//! let m: sprs::CsMat<f64> = t.to_csc();
//! assert!(check_dag(m.view(), None).is_err()); // not a DAG entry by entry…
//! let blocks = check_block_dag(m.view(), &[0, 2, 4]).unwrap();
//! assert_eq!(blocks.order(), &[0, 1]); // …but a DAG of blocks
//! assert!(blocks.is_natural());
//! assert_eq!(blocks.edges(), &[(0, 1)]);
//! ```

use super::{find_cycle, square, Entry};
use crate::blocks::{block_of, check_offsets};
use crate::{Error, Result};
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use sprs::CsMatView;

/// A square pattern whose block graph is acyclic, with a topological order of its blocks.
/// Only [`check_block_dag`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDag {
    offsets: Vec<usize>,
    order: Vec<usize>,
    edges: Vec<(usize, usize)>,
    natural: bool,
}

impl BlockDag {
    /// The block offsets `[0, n_1, …, n]`.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }
    /// The number of blocks.
    pub fn n_blocks(&self) -> usize {
        self.offsets.len() - 1
    }
    /// A topological order of the blocks: every block after those it depends on.
    pub fn order(&self) -> &[usize] {
        &self.order
    }
    /// The block-level edges `(from, to)`, sorted: block `to` has an equation depending on an
    /// unknown of block `from`.
    pub fn edges(&self) -> &[(usize, usize)] {
        &self.edges
    }
    /// Whether the blocks in their given order are already topological (block lower
    /// triangular).
    pub fn is_natural(&self) -> bool {
        self.natural
    }
}

/// Checks that the block graph of the square matrix `m` (any value type: only the pattern is
/// read) under `offsets` is acyclic, and returns a block order.
///
/// # Errors
/// [`Error::Shape`] for a non-square matrix; [`Error::Invalid`] for offsets that do not
/// increase strictly from 0 to `n`; [`Error::Cycle`] naming the blocks of one cycle of the
/// block graph, in order.
pub fn check_block_dag<T: Entry>(m: CsMatView<'_, T>, offsets: &[usize]) -> Result<BlockDag> {
    let n = square(m.shape())?;
    check_offsets(offsets, n)?;
    let n_blocks = offsets.len() - 1;
    let row_block: Vec<usize> = (0..n_blocks)
        .flat_map(|b| std::iter::repeat_n(b, offsets[b + 1] - offsets[b]))
        .collect();
    let mut edges: Vec<(usize, usize)> = m
        .iter()
        .map(|(_, (i, j))| (row_block[j], row_block[i]))
        .filter(|(from, to)| from != to)
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let natural = edges.iter().all(|&(from, to)| from < to);
    let order: Vec<usize> = if natural {
        (0..n_blocks).collect()
    } else {
        let mut g = DiGraph::<(), ()>::with_capacity(n_blocks, edges.len());
        for _ in 0..n_blocks {
            g.add_node(());
        }
        for &(from, to) in &edges {
            g.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
        }
        match toposort(&g, None) {
            Ok(nodes) => nodes.into_iter().map(|v| v.index()).collect(),
            Err(_) => {
                let blocks = find_cycle(&g);
                return Err(Error::Cycle {
                    what: "df/du at the level of blocks (0-based block indices)".into(),
                    nodes: blocks.iter().map(|&b| offsets[b]).collect(),
                    blocks,
                });
            }
        }
    };
    debug_assert!(order.iter().all(|&b| block_of(offsets, offsets[b]) == b));
    Ok(BlockDag {
        offsets: offsets.to_vec(),
        order,
        edges,
        natural,
    })
}

/// At which level a square matrix is a DAG, if at any ([`dag_level`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DagLevel {
    /// Entry by entry: the triangular sweep applies, no factorization.
    Entries,
    /// Only block by block: the block-triangular solver applies, factorizing diagonal blocks.
    Blocks,
    /// Neither (or no blocks were given and the entry graph has a cycle).
    None,
}

impl DagLevel {
    /// `"entries"`, `"blocks"` or `"none"`.
    pub fn name(self) -> &'static str {
        match self {
            DagLevel::Entries => "entries",
            DagLevel::Blocks => "blocks",
            DagLevel::None => "none",
        }
    }
}

/// The finest level at which `m` is a DAG: its entries, else its blocks under `offsets`.
///
/// # Errors
/// [`Error::Shape`] or [`Error::Invalid`] as [`check_block_dag`] (a cycle is not an error
/// here: it is [`DagLevel::None`]).
pub fn dag_level<T: Entry>(m: CsMatView<'_, T>, offsets: Option<&[usize]>) -> Result<DagLevel> {
    match super::check_dag(m, offsets) {
        Ok(_) => return Ok(DagLevel::Entries),
        Err(Error::Cycle { .. }) => {}
        Err(e) => return Err(e),
    }
    let Some(off) = offsets else {
        return Ok(DagLevel::None);
    };
    match check_block_dag(m, off) {
        Ok(_) => Ok(DagLevel::Blocks),
        Err(Error::Cycle { .. }) => Ok(DagLevel::None),
        Err(e) => Err(e),
    }
}
