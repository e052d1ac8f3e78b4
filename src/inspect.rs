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
