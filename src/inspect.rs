//! Readable text forms of sparse matrices, for terminals and snapshot tests.
//!
//! ```text
//! pattern_text:                 triplets_text:
//! | x x . |                     (0, 0) = 2
//! | x x x |                     (0, 1) = -1
//! | . x x |                     ...
//! ```

use sprs::CsMat;
use std::fmt::Write as _;

/// Largest number of columns [`pattern_text`] draws.
pub const MAX_PATTERN_COLS: usize = 80;

/// One line per row, `x` for a stored entry and `.` otherwise: `| x . x |`.
/// Returns `None` for matrices wider than [`MAX_PATTERN_COLS`] or taller than 10 000 rows.
pub fn pattern_text(m: &CsMat<f64>) -> Option<String> {
    let (rows, cols) = m.shape();
    if cols > MAX_PATTERN_COLS || rows > 10_000 {
        return None;
    }
    let mut grid = vec![vec!['.'; cols]; rows];
    for (_, (i, j)) in m.iter() {
        grid[i][j] = 'x';
    }
    let mut s = String::new();
    for row in grid {
        s.push('|');
        for c in row {
            s.push(' ');
            s.push(c);
        }
        s.push_str(" |\n");
    }
    Some(s)
}

/// Every stored entry as `(i, j) = v`, sorted by row then column, values in shortest
/// round-trip form.
pub fn triplets_text(m: &CsMat<f64>) -> String {
    let mut t: Vec<(usize, usize, f64)> = m.iter().map(|(&v, (i, j))| (i, j, v)).collect();
    t.sort_by_key(|&(i, j, _)| (i, j));
    let mut s = String::with_capacity(24 * t.len());
    for (i, j, v) in t {
        let _ = writeln!(s, "({i}, {j}) = {v}");
    }
    s
}

/// Block offsets along the rows and the columns of a matrix (`[0, …, n]` each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Blocks<'a> {
    /// Row offsets.
    pub rows: Option<&'a [usize]>,
    /// Column offsets.
    pub cols: Option<&'a [usize]>,
    /// What a row block is, for the block table (e.g. `"layer"`: blocks are then numbered
    /// from 1, as the seed numbers layers; any other name numbers from 0).
    pub row_name: Option<&'a str>,
    /// What a column block is (e.g. `"group"` for a network's parameter groups).
    pub col_name: Option<&'a str>,
}

impl<'a> Blocks<'a> {
    /// The same offsets on both sides (a square matrix such as `∂f/∂u`).
    pub fn square(offsets: &'a [usize]) -> Self {
        Blocks {
            rows: Some(offsets),
            cols: Some(offsets),
            row_name: None,
            col_name: None,
        }
    }
}

/// What a block of a block-partitioned matrix looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockClass {
    /// No stored entry.
    Zero,
    /// Square, ones on the diagonal, nothing else stored.
    Identity,
    /// Square, only diagonal entries stored.
    Diagonal,
    /// Every position stored.
    Dense,
    /// Anything else.
    Sparse,
}

impl BlockClass {
    /// Lower-case name: `zero`, `identity`, `diagonal`, `dense`, `sparse`.
    pub fn name(self) -> &'static str {
        match self {
            BlockClass::Zero => "zero",
            BlockClass::Identity => "identity",
            BlockClass::Diagonal => "diagonal",
            BlockClass::Dense => "dense",
            BlockClass::Sparse => "sparse",
        }
    }
}

/// One block of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockInfo {
    /// Block row and column.
    pub block: (usize, usize),
    /// Its size.
    pub shape: (usize, usize),
    /// Stored entries in it.
    pub nnz: usize,
    /// Its class.
    pub class: BlockClass,
}

/// A structure report of a sparse matrix: what `adjoint inspect` prints.
#[derive(Debug)]
pub struct StructureReport {
    /// `(rows, cols)`.
    pub shape: (usize, usize),
    /// Stored entries.
    pub nnz: usize,
    /// `nnz / (rows · cols)`.
    pub density: f64,
    /// Largest `i − j` over stored entries (0 when none below the diagonal).
    pub lower_bandwidth: usize,
    /// Largest `j − i` over stored entries.
    pub upper_bandwidth: usize,
    /// Whether the pattern equals its transpose.
    pub symmetric_pattern: bool,
    /// Whether the values equal their transpose exactly.
    pub symmetric: bool,
    /// Every diagonal entry is stored and equals 1.
    pub unit_diagonal: bool,
    /// The DAG check (square matrices only): its report or the cycle.
    pub dag: Option<Result<crate::dag::DagReport, crate::Error>>,
    /// When the entry graph has a cycle and square blocks were given: the block-level check
    /// ([`crate::dag::check_block_dag`]), the block order or the block cycle.
    pub block_dag: Option<Result<crate::dag::BlockDag, crate::Error>>,
    /// The block table, row-major, when both row and column offsets were given.
    pub blocks: Vec<BlockInfo>,
    /// Blocks left out of [`blocks`](Self::blocks): with more than [`FULL_BLOCK_TABLE`]
    /// blocks only the nonzero ones are listed, at most [`MAX_LISTED_BLOCKS`] of them.
    pub omitted_blocks: usize,
    /// Names of the row and column blocks, for the table.
    pub block_names: (Option<String>, Option<String>),
}

impl StructureReport {
    /// Whether the natural order is lower triangular.
    pub fn lower_triangular(&self) -> bool {
        self.upper_bandwidth == 0
    }
    /// Whether the natural order is upper triangular.
    pub fn upper_triangular(&self) -> bool {
        self.lower_bandwidth == 0
    }
}

/// Builds the [`StructureReport`] of `m` (any storage). Row offsets (when the matrix is square
/// and they equal the column offsets) also go to the DAG check's block view.
///
/// # Complexity
/// `O(nnz)` time; `O(n)` extra memory for the symmetry test (no transposed copy), the DAG
/// check's petgraph graph (`O(n + nnz)`, skipped when the matrix is lower triangular as
/// stored), and the block table.
pub fn structure_report(m: &CsMat<f64>, blocks: Blocks) -> StructureReport {
    let owned;
    let m = if m.is_csc() {
        m
    } else {
        owned = m.to_csc();
        &owned
    };
    let (rows, cols) = m.shape();
    let (mut lower, mut upper) = (0usize, 0usize);
    let mut diag_ones = 0usize;
    let mut diag_other = false;
    for (&v, (i, j)) in m.iter() {
        lower = lower.max(i.saturating_sub(j));
        upper = upper.max(j.saturating_sub(i));
        if i == j {
            if v == 1.0 {
                diag_ones += 1;
            } else {
                diag_other = true;
            }
        }
    }
    let square = rows == cols;
    let (symmetric_pattern, symmetric) = crate::sparse::symmetry(m);
    let dag_offsets = match (blocks.rows, blocks.cols) {
        (Some(r), Some(c)) if r == c => Some(r),
        (Some(r), None) => Some(r),
        _ => None,
    };
    let dag = square.then(|| crate::dag::check_dag(m.view(), dag_offsets));
    let block_dag = match (&dag, blocks.rows, blocks.cols) {
        (Some(Err(crate::Error::Cycle { .. })), Some(r), Some(c)) if r == c => {
            Some(crate::dag::check_block_dag(m.view(), r))
        }
        _ => None,
    };
    let (table, omitted_blocks) = match (blocks.rows, blocks.cols) {
        (Some(r), Some(c))
            if crate::blocks::check_offsets(r, rows).is_ok()
                && crate::blocks::check_offsets(c, cols).is_ok() =>
        {
            block_table(m, r, c)
        }
        _ => (Vec::new(), 0),
    };
    StructureReport {
        shape: (rows, cols),
        nnz: m.nnz(),
        density: if rows * cols == 0 {
            0.0
        } else {
            m.nnz() as f64 / (rows as f64 * cols as f64)
        },
        lower_bandwidth: lower,
        upper_bandwidth: upper,
        symmetric_pattern,
        symmetric,
        unit_diagonal: square && !diag_other && diag_ones == rows,
        dag,
        block_dag,
        blocks: table,
        omitted_blocks,
        block_names: (
            blocks.row_name.map(String::from),
            blocks.col_name.map(String::from),
        ),
    }
}

/// Block grids up to this many blocks are listed whole, zero blocks included.
pub const FULL_BLOCK_TABLE: usize = 400;

/// Most blocks listed in a larger grid (its nonzero blocks, in order).
pub const MAX_LISTED_BLOCKS: usize = 400;

/// The block table and how many blocks it leaves out. Memory is bounded by the nonzero blocks
/// (at most `nnz`), never by the `rows × cols` grid, which can be huge.
fn block_table(m: &CsMat<f64>, r: &[usize], c: &[usize]) -> (Vec<BlockInfo>, usize) {
    let (nbr, nbc) = (r.len() - 1, c.len() - 1);
    #[derive(Clone, Default)]
    struct Acc {
        nnz: usize,
        on_diagonal: usize,
        ones_on_diagonal: usize,
        /// Stored entries that an identity would not have ([`crate::blocks`]'s rule).
        not_identity: usize,
    }
    let mut acc: std::collections::BTreeMap<(usize, usize), Acc> = Default::default();
    for (&v, (i, j)) in m.iter() {
        let (bi, bj) = (crate::blocks::block_of(r, i), crate::blocks::block_of(c, j));
        let a = acc.entry((bi, bj)).or_default();
        a.nnz += 1;
        let on_diagonal = i - r[bi] == j - c[bj];
        if on_diagonal {
            a.on_diagonal += 1;
            if v == 1.0 {
                a.ones_on_diagonal += 1;
            }
        }
        if !crate::blocks::identity_entry(on_diagonal, v) {
            a.not_identity += 1;
        }
    }
    let total = nbr as f64 * nbc as f64;
    let keys: Vec<(usize, usize)> = if total <= FULL_BLOCK_TABLE as f64 {
        (0..nbr)
            .flat_map(|bi| (0..nbc).map(move |bj| (bi, bj)))
            .collect()
    } else {
        acc.keys().copied().take(MAX_LISTED_BLOCKS).collect()
    };
    let omitted = (total - keys.len() as f64) as usize;
    let zero = Acc::default();
    let mut out = Vec::with_capacity(keys.len());
    for (bi, bj) in keys {
        {
            let a = acc.get(&(bi, bj)).unwrap_or(&zero);
            let shape = (r[bi + 1] - r[bi], c[bj + 1] - c[bj]);
            let class = if a.nnz == 0 {
                BlockClass::Zero
            } else if shape.0 == shape.1 && a.ones_on_diagonal == shape.0 && a.not_identity == 0 {
                // every diagonal entry stored and 1, everything else stored exactly 0
                BlockClass::Identity
            } else if shape.0 == shape.1 && a.on_diagonal == a.nnz {
                BlockClass::Diagonal
            } else if a.nnz == shape.0 * shape.1 {
                BlockClass::Dense
            } else {
                BlockClass::Sparse
            };
            out.push(BlockInfo {
                block: (bi, bj),
                shape,
                nnz: a.nnz,
                class,
            });
        }
    }
    (out, omitted)
}

/// `"layer 3"` for block 2 of layers (numbered from 1, as the seed numbers layers; so are time
/// steps, `"step 3"`), `"group 2"`
/// for other names (numbered from 0), the bare index without a name.
pub(crate) fn block_label(name: Option<&str>, k: usize) -> String {
    match name {
        Some(n) if n.contains("layer") || n == "step" => format!("{n} {}", k + 1),
        Some(n) => format!("{n} {k}"),
        None => k.to_string(),
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The report as readable text (what `adjoint inspect` prints, and what `summary.md` holds).
pub fn report_text(r: &StructureReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "shape {}×{}, {} stored entries, density {:.3e}",
        r.shape.0, r.shape.1, r.nnz, r.density
    );
    let _ = writeln!(
        s,
        "bandwidth: lower {}, upper {}",
        r.lower_bandwidth, r.upper_bandwidth
    );
    let _ = writeln!(
        s,
        "symmetric: {} (pattern: {}); lower triangular: {}; upper triangular: {}; unit diagonal: {}",
        yes(r.symmetric),
        yes(r.symmetric_pattern),
        yes(r.lower_triangular()),
        yes(r.upper_triangular()),
        yes(r.unit_diagonal)
    );
    match &r.dag {
        None => {
            let _ = writeln!(s, "DAG: not applicable (the matrix is not square)");
        }
        Some(Ok(d)) => {
            let how = if d.lower_triangular {
                "lower triangular in the natural order"
            } else {
                "triangular after a symmetric permutation"
            };
            let _ = writeln!(
                s,
                "DAG: yes, {} levels, {} dependency edges, {how}",
                d.levels, d.edges
            );
            if let Some(b) = &d.blocks {
                let name = r.block_names.0.as_deref();
                let edges = capped(
                    b.edges.iter().map(|&(f, t)| {
                        format!("{}→{}", block_label(name, f), block_label(name, t))
                    }),
                    ", ",
                );
                let _ = writeln!(
                    s,
                    "block dependencies: {}; block lower triangular: {}",
                    if edges.is_empty() {
                        "none".to_string()
                    } else {
                        edges
                    },
                    yes(b.block_lower_triangular)
                );
                match b.diagonal {
                    crate::dag::BlockDiagonal::Identity => {
                        let _ = writeln!(s, "diagonal blocks: all identity");
                    }
                    crate::dag::BlockDiagonal::Unknown => {
                        let _ = writeln!(s, "diagonal blocks: a pattern without values");
                    }
                    crate::dag::BlockDiagonal::NotIdentity {
                        block,
                        row,
                        col,
                        value,
                    } => {
                        let not: Vec<String> = b
                            .identity
                            .iter()
                            .enumerate()
                            .filter(|(_, &id)| !id)
                            .map(|(k, _)| k.to_string())
                            .collect();
                        let _ = writeln!(
                            s,
                            "diagonal blocks: not identity: {}; first offender {}, entry ({row}, {col}) = {value}",
                            capped(not.into_iter(), ", "),
                            if name.is_some() { block_label(name, block) } else { format!("block {block}") }
                        );
                    }
                }
            }
        }
        Some(Err(e)) => {
            let _ = writeln!(s, "DAG: no, {e}");
        }
    }
    match &r.block_dag {
        Some(Ok(b)) => {
            let order = if b.is_natural() {
                "in the given order".to_string()
            } else {
                format!("in the order {:?}", b.order())
            };
            let plural =
                |k: usize, word: &str| format!("{k} {word}{}", if k == 1 { "" } else { "s" });
            let _ = writeln!(
                s,
                "DAG of blocks: yes, {}, {}, block lower triangular {order} \
                 (the block-triangular solver applies)",
                plural(b.n_blocks(), "block"),
                plural(b.edges().len(), "block edge")
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(s, "DAG of blocks: no, {e}");
        }
        None => {}
    }
    if !r.blocks.is_empty() {
        let _ = writeln!(s, "blocks:");
        let label = |name: &Option<String>, k: usize| block_label(name.as_deref(), k);
        let width = r
            .blocks
            .iter()
            .map(|b| {
                label(&r.block_names.0, b.block.0).len()
                    + label(&r.block_names.1, b.block.1).len()
                    + 4
            })
            .max()
            .unwrap_or(7)
            .max(7);
        let _ = writeln!(
            s,
            "  {:>width$} {:>11} {:>9}  class",
            "block", "shape", "nnz"
        );
        for b in &r.blocks {
            let _ = writeln!(
                s,
                "  {:>width$} {:>11} {:>9}  {}",
                format!(
                    "({}, {})",
                    label(&r.block_names.0, b.block.0),
                    label(&r.block_names.1, b.block.1)
                ),
                format!("{}×{}", b.shape.0, b.shape.1),
                b.nnz,
                b.class.name()
            );
        }
        if r.omitted_blocks > 0 {
            let _ = writeln!(
                s,
                "  … {} more blocks not listed (zero blocks, and nonzero ones beyond the first {MAX_LISTED_BLOCKS})",
                r.omitted_blocks
            );
        }
    }
    s
}

/// At most [`MAX_LISTED_ITEMS`] items joined by `sep`, then `… (N in all)`.
fn capped(items: impl ExactSizeIterator<Item = String>, sep: &str) -> String {
    let n = items.len();
    let shown: Vec<String> = items.take(MAX_LISTED_ITEMS).collect();
    if n > MAX_LISTED_ITEMS {
        format!("{}{sep}… ({n} in all)", shown.join(sep))
    } else {
        shown.join(sep)
    }
}

/// Most block dependencies or non-identity blocks named on one line.
pub const MAX_LISTED_ITEMS: usize = 50;
