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
//! [`check_dag`] reads only the pattern (any value type: `CsStructure` patterns need no array
//! of ones) and returns a [`DagReport`] with a [`TopologicalOrder`]. [`DagPattern`] ties the
//! guarantee to its pattern: it owns the checked pattern together with its order, only
//! [`DagPattern::check`] makes one, and the triangular solver takes nothing else — an order
//! computed for another matrix cannot reach it. On a cycle it returns
//! [`Error::Cycle`] listing every node of one cycle in order (`3 → 7 → 5 → 3`), and, when block
//! offsets are given, the same cycle in block terms.

mod blocks;
pub use blocks::{check_block_dag, dag_level, BlockDag, DagLevel};

use crate::{Error, Result};
use petgraph::algo::{kosaraju_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use sprs::{CsMatView, CsStructure};
use std::collections::VecDeque;

/// What the DAG check can read from a stored entry: its number, or nothing for a bare
/// pattern (`()`, the value type of [`sprs::CsStructure`]). Only the identity check of the
/// diagonal blocks reads values; the DAG property itself depends on the pattern alone.
pub trait Entry: Copy {
    /// The entry as a number, `None` for a pattern.
    fn value(&self) -> Option<f64>;
}

impl Entry for f64 {
    fn value(&self) -> Option<f64> {
        Some(*self)
    }
}

impl Entry for () {
    fn value(&self) -> Option<f64> {
        None
    }
}

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
    /// A bare pattern was checked: no values, so no block is known to be an identity.
    Unknown,
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
    /// A topological order of the checked pattern (the triangular solver takes a
    /// [`DagPattern`], which keeps this order together with its pattern).
    pub order: TopologicalOrder,
}

/// The dependency graph of a square sparse matrix: node per unknown, edge `j → i` per stored
/// off-diagonal `(i, j)`.
///
/// # Errors
/// [`Error::Shape`] when the matrix is not square.
pub fn dependency_graph<T: Copy>(m: CsMatView<'_, T>) -> Result<DiGraph<(), ()>> {
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

pub(super) fn square((rows, cols): (usize, usize)) -> Result<usize> {
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
/// * `m` — the square matrix `∂f/∂u` (any storage, any value type: only the pattern matters,
///   and the values only for the identity check of the diagonal blocks; a `CsStructure`'s
///   `view()` checks a bare pattern).
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
/// // the same check on the bare pattern
/// assert_eq!(check_dag(adjoint::sparse::pattern_of(&m).view(), None).unwrap().order, report.order);
/// ```
pub fn check_dag<T: Entry>(m: CsMatView<'_, T>, offsets: Option<&[usize]>) -> Result<DagReport> {
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

/// A square pattern checked to be a DAG, owned together with a topological order of it:
/// the guarantee the triangular solver needs, tied to the pattern it was checked on. Only
/// [`DagPattern::check`] makes one, so an order computed for another matrix of the same size
/// cannot reach a solver.
///
/// The pattern is kept in CSC storage with its indices as given (a CSR input is converted).
///
/// # Example
/// ```
/// use adjoint::dag::DagPattern;
/// let mut t = sprs::TriMat::new((3, 3));
/// for (i, j) in [(0, 0), (1, 1), (2, 2), (2, 0), (1, 2)] { t.add_triplet(i, j, 1.0); }
/// let m: sprs::CsMat<f64> = t.to_csc();
/// let pattern = adjoint::sparse::pattern_of(&m); // no values
/// let dag = DagPattern::check(pattern.view()).unwrap();
/// assert_eq!(dag.order().to_vec(), vec![0, 2, 1]);
/// assert_eq!(dag.pattern().nnz(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct DagPattern {
    pattern: CsStructure,
    report: DagReport,
}

impl DagPattern {
    /// Checks the pattern of `m` (any value type) with [`check_dag`] and keeps it with the
    /// order found.
    ///
    /// # Errors
    /// As [`check_dag`]: [`Error::Cycle`], [`Error::Shape`].
    pub fn check<T: Entry>(m: CsMatView<'_, T>) -> Result<Self> {
        let report = check_dag(m, None)?;
        let pattern = if m.is_csc() {
            let (ptr, idx, _) = m.structure_view().into_raw_storage();
            let base = ptr.first().copied().unwrap_or(0);
            CsStructure::new_csc(
                m.shape(),
                ptr.iter().map(|p| p - base).collect(),
                idx.to_vec(),
                vec![(); m.nnz()],
            )
        } else {
            m.map(|_| ()).to_csc()
        };
        Ok(DagPattern { pattern, report })
    }

    /// The checked pattern (CSC).
    pub fn pattern(&self) -> &CsStructure {
        &self.pattern
    }

    /// A topological order of [`pattern`](Self::pattern).
    pub fn order(&self) -> &TopologicalOrder {
        &self.report.order
    }

    /// What the check found (levels, edges, …).
    pub fn report(&self) -> &DagReport {
        &self.report
    }

    /// The number of unknowns.
    pub fn len(&self) -> usize {
        self.report.n
    }

    /// Whether there are no unknowns.
    pub fn is_empty(&self) -> bool {
        self.report.n == 0
    }
}

/// Longest-path levels in topological order: `level(i) = 1 + max level(j)` over `j → i`.
fn count_levels<T: Copy>(m: CsMatView<'_, T>, order: &TopologicalOrder) -> usize {
    let n = order.len();
    if n == 0 {
        return 0;
    }
    // columns are visited in topological order: a CSR view is converted, as a bare pattern
    let converted = (!m.is_csc()).then(|| m.map(|_| ()).to_csc());
    let pattern = m.structure_view();
    let csc = converted.as_ref().map(|c| c.view()).unwrap_or(pattern);
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
pub(super) fn find_cycle(g: &DiGraph<(), ()>) -> Vec<usize> {
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

fn block_report<T: Entry>(m: CsMatView<'_, T>, off: &[usize]) -> BlockReport {
    let mut edges = std::collections::BTreeSet::new();
    let mut diagonal = BlockDiagonal::Identity;
    let mut identity = vec![true; off.len() - 1];
    let mut diag_seen = vec![false; *off.last().unwrap_or(&0)];
    let mut unknown = false;
    for (e, (i, j)) in m.iter() {
        let (bi, bj) = (block_of(off, i), block_of(off, j));
        if bi != bj {
            edges.insert((bj, bi));
            continue;
        }
        let Some(v) = e.value() else {
            unknown = true;
            continue;
        };
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
    if unknown {
        diagonal = BlockDiagonal::Unknown;
        identity.fill(false);
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
        BlockDiagonal::Unknown => false,
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
