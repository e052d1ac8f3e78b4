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

/// Builds the [`StructureReport`] of `m` (any storage), with optional block offsets for the
/// DAG check.
///
/// # Complexity
/// `O(nnz)` plus one transposed copy for the symmetry test and the DAG check's graph.
pub fn structure_report(m: &CsMat<f64>, offsets: Option<&[usize]>) -> StructureReport {
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
    let (symmetric_pattern, symmetric) = if square {
        let a = m.to_csc();
        let t = m.transpose_view().to_csc();
        let same_pattern = a.indptr() == t.indptr() && a.indices() == t.indices();
        (same_pattern, same_pattern && a.data() == t.data())
    } else {
        (false, false)
    };
    let dag = square.then(|| crate::dag::check_dag(m.view(), offsets));
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
    }
}
