//! The DAG property of `∂f/∂u`, checked with petgraph.
//!
//! Equation `i` of `f(u, θ) = 0` depends on unknown `j` exactly when `(∂f/∂u)_{ij}` is stored.
//! Reading the matrix as a graph with an edge `j → i` for every stored **off-diagonal** entry
//! `(i, j)` (the diagonal is each unknown's own equation, not an edge), the computation is a
//! directed acyclic graph exactly when some symmetric permutation `P` makes `P (∂f/∂u) Pᵀ`
//! lower triangular — and then the adjoint system `(∂f/∂u)ᵀ λ = r` is solved by one sweep of
//! substitution in reverse topological order, with no factorization:
//!
//! ```text
//!     λ_j = ( r_j − Σ_{i ≠ j} (∂f/∂u)_{ij} λ_i ) / (∂f/∂u)_{jj},     j in reverse topological order
//! ```
//!
//! and with no division at all when the diagonal is the identity (a network's `L = I − L̃`).
//!
//! [`check_dag`] returns a [`DagReport`] carrying a [`TopologicalOrder`]: a type that only the
//! check can create, which the triangular solver requires. On a cycle it returns
//! [`Error::Cycle`] listing every node of one cycle in order (`3 → 7 → 5 → 3`), and, when block
//! offsets are given, the same cycle in block terms.

use crate::{Error, Result};
use petgraph::algo::{kosaraju_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use sprs::CsMatView;
use std::collections::VecDeque;

/// A topological order of the unknowns of a square sparse matrix: every unknown comes after
/// all unknowns its equation depends on. Only [`check_dag`] creates one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologicalOrder {
    /// `order[k]` is the `k`-th unknown; `None` when the natural order `0, 1, …, n−1` is one.
    order: Option<Vec<usize>>,
    n: usize,
}

impl TopologicalOrder {
    /// The number of unknowns.
    pub fn len(&self) -> usize {
        self.n
    }
    /// Whether there are no unknowns.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Whether the natural order already is topological (the matrix is lower triangular).
    pub fn is_natural(&self) -> bool {
        self.order.is_none()
    }
    /// The order as explicit indices (allocates for the natural order).
    pub fn to_vec(&self) -> Vec<usize> {
        self.order.clone().unwrap_or_else(|| (0..self.n).collect())
    }
    /// The order as a slice, `None` for the natural order.
    pub fn as_slice(&self) -> Option<&[usize]> {
        self.order.as_deref()
    }
}

/// Whether each diagonal block is exactly an identity, or the first place where one is not.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockDiagonal {
    /// Every diagonal block has a stored diagonal of ones and nothing else but stored zeros.
    Identity,
    /// Block `block` is not an identity at entry `(row, col)` (global indices), which holds
    /// `value` (0 when the needed diagonal entry is not stored).
    NotIdentity {
        /// 0-based block index.
        block: usize,
        /// Global row.
        row: usize,
        /// Global column.
        col: usize,
        /// The offending value.
        value: f64,
    },
}

/// The block view of a DAG check.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockReport {
    /// Block offsets `[0, n_1, n_1 + n_2, …, n]`.
    pub offsets: Vec<usize>,
    /// Block-level edges `(from, to)`: block `to` has an equation depending on block `from`.
    pub edges: Vec<(usize, usize)>,
    /// Whether the block-level graph is lower triangular in the given block order.
    pub block_lower_triangular: bool,
    /// Identity check of the diagonal blocks: the first offender.
    pub diagonal: BlockDiagonal,
    /// `identity[b]`: whether diagonal block `b` is exactly an identity.
    pub identity: Vec<bool>,
}

/// What [`check_dag`] found for an acyclic matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct DagReport {
    /// Number of unknowns.
    pub n: usize,
    /// Stored entries.
    pub nnz: usize,
    /// Stored off-diagonal entries (edges).
    pub edges: usize,
    /// Whether the natural order is already lower triangular.
    pub lower_triangular: bool,
    /// Number of levels: the longest dependency path has `levels − 1` edges; unknowns of one
    /// level are independent of each other.
    pub levels: usize,
    /// The block view, when offsets were given.
    pub blocks: Option<BlockReport>,
    /// A topological order, for [`crate::solve::TriangularSolver`].
    pub order: TopologicalOrder,
}

/// The dependency graph of a square sparse matrix: node per unknown, edge `j → i` per stored
/// off-diagonal `(i, j)`.
///
/// # Errors
/// [`Error::Shape`] when the matrix is not square.
pub fn dependency_graph(m: CsMatView<'_, f64>) -> Result<DiGraph<(), ()>> {
    let n = square(m.shape())?;
    let mut g = DiGraph::with_capacity(n, m.nnz());
    for _ in 0..n {
        g.add_node(());
    }
    for (_, (i, j)) in m.iter() {
        if i != j {
            g.add_edge(NodeIndex::new(j), NodeIndex::new(i), ());
        }
    }
    Ok(g)
}

fn square((rows, cols): (usize, usize)) -> Result<usize> {
    if rows != cols {
        return Err(Error::Shape {
            what: "df/du".into(),
            expected: "a square matrix".into(),
            found: format!("{rows}×{cols}"),
        });
    }
    Ok(rows)
}

/// Checks that `m` (CSC or CSR) is a DAG; see the module documentation.
///
/// # Arguments
/// * `m` — the square matrix `∂f/∂u` (any storage; only the pattern matters).
/// * `offsets` — optional block offsets `[0, …, n]` (e.g. layer boundaries).
///
/// # Returns
/// A [`DagReport`] with a [`TopologicalOrder`].
///
/// # Errors
/// [`Error::Cycle`] naming one cycle; [`Error::Shape`] for a non-square matrix;
/// [`Error::Invalid`] for offsets that do not start at 0, end at `n` and increase.
///
/// # Complexity
/// `O(n + nnz)` time; the petgraph graph takes `O(n + nnz)` memory. When the natural order is
/// already lower triangular no graph is built at all.
///
/// # Example
/// ```
/// use adjoint::dag::check_dag;
/// let mut t = sprs::TriMat::new((3, 3));
/// for (i, j) in [(0, 0), (1, 1), (2, 2), (2, 0), (1, 2)] { t.add_triplet(i, j, 1.0); }
/// let m: sprs::CsMat<f64> = t.to_csc();
/// let report = check_dag(m.view(), None).unwrap();
/// assert!(!report.lower_triangular);           // (1, 2) is above the diagonal…
/// assert_eq!(report.order.to_vec(), vec![0, 2, 1]); // …but 0 → 2 → 1 is a DAG
/// assert_eq!(report.levels, 3);
/// ```
pub fn check_dag(m: CsMatView<'_, f64>, offsets: Option<&[usize]>) -> Result<DagReport> {
    let n = square(m.shape())?;
    if let Some(off) = offsets {
        check_offsets(off, n)?;
    }
    let lower_triangular = m.iter().all(|(_, (i, j))| i >= j);
    let edges = m.iter().filter(|(_, (i, j))| i != j).count();
    let order = if lower_triangular {
        TopologicalOrder { order: None, n }
    } else {
        let g = dependency_graph(m)?;
        match toposort(&g, None) {
            Ok(nodes) => TopologicalOrder {
                order: Some(nodes.into_iter().map(|v| v.index()).collect()),
                n,
            },
            Err(_) => {
                let nodes = find_cycle(&g);
                let blocks = offsets
                    .map(|off| block_cycle(&nodes, off))
                    .unwrap_or_default();
                return Err(Error::Cycle {
                    what: "df/du (0-based indices)".into(),
                    nodes,
                    blocks,
                });
            }
        }
    };
    let levels = count_levels(m, &order);
    let blocks = offsets.map(|off| block_report(m, off));
    Ok(DagReport {
        n,
        nnz: m.nnz(),
        edges,
        lower_triangular,
        levels,
        blocks,
        order,
    })
}

use crate::blocks::{block_of, check_offsets, identity_entry};

/// Longest-path levels in topological order: `level(i) = 1 + max level(j)` over `j → i`.
fn count_levels(m: CsMatView<'_, f64>, order: &TopologicalOrder) -> usize {
    let n = order.len();
    if n == 0 {
        return 0;
    }
    let csc = if m.is_csc() { None } else { Some(m.to_csc()) };
    let csc = csc.as_ref().map(|c| c.view()).unwrap_or(m);
    let mut level = vec![0usize; n];
    let mut visit = |j: usize| {
        let lj = level[j];
        if let Some(col) = csc.outer_view(j) {
            for (i, _) in col.iter() {
                if i != j && level[i] < lj + 1 {
                    level[i] = lj + 1;
                }
            }
        }
    };
    match order.as_slice() {
        None => (0..n).for_each(&mut visit),
        Some(o) => o.iter().for_each(|&j| visit(j)),
    }
    level.into_iter().max().unwrap_or(0) + 1
}

/// One cycle, in edge order, of a graph known to have one.
///
/// Iterative throughout (petgraph's `kosaraju_scc` walks with explicit stacks; its
/// `tarjan_scc` recurses once per node and overflows the stack near 10⁵ nodes): the
/// strongly connected components, then a breadth-first search inside the nontrivial component
/// holding the smallest node, from that node back to itself — the shortest cycle through it.
fn find_cycle(g: &DiGraph<(), ()>) -> Vec<usize> {
    let scc = kosaraju_scc(g)
        .into_iter()
        .filter(|c| c.len() > 1)
        .min_by_key(|c| c.iter().map(|v| v.index()).min())
        .expect("a graph that failed toposort without self-loops has a cycle of length ≥ 2");
    let mut in_scc = vec![false; g.node_count()];
    for v in &scc {
        in_scc[v.index()] = true;
    }
    let start = *scc.iter().min_by_key(|v| v.index()).expect("non-empty");
    let mut parent = vec![usize::MAX; g.node_count()];
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in g.neighbors(v) {
            if w == start {
                let mut cycle = vec![v.index()];
                let mut x = v.index();
                while x != start.index() {
                    x = parent[x];
                    cycle.push(x);
                }
                cycle.reverse();
                return cycle;
            }
            if in_scc[w.index()] && parent[w.index()] == usize::MAX {
                parent[w.index()] = v.index();
                queue.push_back(w);
            }
        }
    }
    unreachable!("a strongly connected component with two nodes has a cycle through each")
}

/// A node cycle in block terms, consecutive repeats merged.
fn block_cycle(nodes: &[usize], off: &[usize]) -> Vec<usize> {
    let mut b: Vec<usize> = nodes.iter().map(|&i| block_of(off, i)).collect();
    b.dedup();
    while b.len() > 1 && b.first() == b.last() {
        b.pop();
    }
    b
}

fn block_report(m: CsMatView<'_, f64>, off: &[usize]) -> BlockReport {
    let mut edges = std::collections::BTreeSet::new();
    let mut diagonal = BlockDiagonal::Identity;
    let mut identity = vec![true; off.len() - 1];
    let mut diag_seen = vec![false; *off.last().unwrap_or(&0)];
    for (&v, (i, j)) in m.iter() {
        let (bi, bj) = (block_of(off, i), block_of(off, j));
        if bi != bj {
            edges.insert((bj, bi));
            continue;
        }
        let ok = identity_entry(i == j, v);
        if i == j {
            diag_seen[i] = true;
        }
        if !ok {
            identity[bi] = false;
            note_first(&mut diagonal, bi, i, j, v);
        }
    }
    for (i, _) in diag_seen.iter().enumerate().filter(|(_, &s)| !s) {
        let b = block_of(off, i);
        identity[b] = false;
        note_first(&mut diagonal, b, i, i, 0.0);
    }
    let edges: Vec<(usize, usize)> = edges.into_iter().collect();
    let block_lower_triangular = edges.iter().all(|&(from, to)| from < to);
    BlockReport {
        offsets: off.to_vec(),
        edges,
        block_lower_triangular,
        diagonal,
        identity,
    }
}

/// Keeps the offending entry that comes first (by block, then row, then column).
fn note_first(current: &mut BlockDiagonal, block: usize, row: usize, col: usize, value: f64) {
    let better = match current {
        BlockDiagonal::Identity => true,
        BlockDiagonal::NotIdentity {
            block: b,
            row: r,
            col: c,
            ..
        } => (block, row, col) < (*b, *r, *c),
    };
    if better {
        *current = BlockDiagonal::NotIdentity {
            block,
            row,
            col,
            value,
        };
    }
}

/// A zero-copy sprs view of a nalgebra-sparse CSC matrix (raw parts, never densified).
///
/// # Errors
/// [`Error::Invalid`] if the parts do not form a valid sprs matrix (they always do for a valid
/// nalgebra-sparse matrix).
#[cfg(feature = "nalgebra")]
pub fn view_nalgebra_csc(m: &nalgebra_sparse::CscMatrix<f64>) -> Result<CsMatView<'_, f64>> {
    let (offsets, indices, values) = m.csc_data();
    CsMatView::try_new_csc((m.nrows(), m.ncols()), offsets, indices, values)
        .map_err(|(_, _, _, e)| Error::invalid("nalgebra-sparse CSC matrix", e.to_string()))
}

/// A zero-copy sprs view of a nalgebra-sparse CSR matrix.
///
/// # Errors
/// As [`view_nalgebra_csc`].
#[cfg(feature = "nalgebra")]
pub fn view_nalgebra_csr(m: &nalgebra_sparse::CsrMatrix<f64>) -> Result<CsMatView<'_, f64>> {
    let (offsets, indices, values) = m.csr_data();
    CsMatView::try_new((m.nrows(), m.ncols()), offsets, indices, values)
        .map_err(|(_, _, _, e)| Error::invalid("nalgebra-sparse CSR matrix", e.to_string()))
}
