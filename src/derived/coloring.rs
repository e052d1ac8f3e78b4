//! Column coloring of a sparse Jacobian: groups of structurally orthogonal columns.
//!
//! Columns `j` and `k` conflict when some row stores both (`J_ij ≠ 0 ≠ J_ik`); a coloring
//! gives conflicting columns different colors, so the sum of the columns of one color,
//! `J s_c` with `s_c = Σ_{color(j) = c} e_j`, holds each of their entries in a row of its own:
//!
//! ```text
//!     J_ij = (J s_{color(j)})_i        for every stored (i, j).
//! ```
//!
//! This is a partial distance-2 coloring of the bipartite row–column graph (Gebremedhin,
//! Manne and Pothen, "What color is your Jacobian?", SIAM Review 47, 2005). Every row's
//! columns need distinct colors, so the most entries in a row is a lower bound. The greedy
//! algorithm colors the columns in some order, each with the smallest color none of its
//! conflicting columns has; the order matters (natural order uses 7 colors on the 5-point
//! Laplacian, whose bound is 5), so [`color_columns`] tries the natural order first, and when
//! it misses the bound also a saturation order (DSATUR: next the column whose conflicts
//! already show the most colors) and the reverse order, and keeps the fewest colors.

use sprs::CsStructure;
use std::collections::BinaryHeap;

/// A column coloring of one sparse matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnColoring {
    /// `colors[j]`: the color of column `j`, `0 … n_colors − 1`.
    pub colors: Vec<u32>,
    /// Number of colors.
    pub n_colors: usize,
    /// The most stored entries in a row: a lower bound on `n_colors`.
    pub bound: usize,
}

/// Row-wise view of a CSC pattern: `cols[ptr[i]..ptr[i+1]]` are the columns of row `i`.
struct Rows {
    ptr: Vec<usize>,
    cols: Vec<u32>,
}

fn rows_of(p: &CsStructure) -> Rows {
    let (n_rows, _) = p.shape();
    let mut count = vec![0usize; n_rows + 1];
    for &i in p.indices() {
        count[i + 1] += 1;
    }
    for i in 0..n_rows {
        count[i + 1] += count[i];
    }
    let mut next = count.clone();
    let mut cols = vec![0u32; p.nnz()];
    for (j, col) in p.outer_iterator().enumerate() {
        for (i, _) in col.iter() {
            cols[next[i]] = j as u32;
            next[i] += 1;
        }
    }
    Rows { ptr: count, cols }
}

/// Greedy coloring of the columns of `p` (CSC, any shape) in the given order.
fn greedy(p: &CsStructure, rows: &Rows, order: impl Iterator<Item = usize>) -> Vec<u32> {
    let n = p.cols();
    let mut colors = vec![u32::MAX; n];
    // forbidden[c] == j + 1: color c is taken by a conflict of column j
    let mut forbidden: Vec<usize> = Vec::new();
    let (indptr, indices) = (p.indptr(), p.indices());
    for j in order {
        let stamp = j + 1;
        let (start, end) = (indptr.index(j), indptr.index(j + 1));
        for &i in &indices[start - indptr.index(0)..end - indptr.index(0)] {
            for &k in &rows.cols[rows.ptr[i]..rows.ptr[i + 1]] {
                let c = colors[k as usize];
                if c != u32::MAX {
                    if forbidden.len() <= c as usize {
                        forbidden.resize(c as usize + 1, 0);
                    }
                    forbidden[c as usize] = stamp;
                }
            }
        }
        let c = forbidden
            .iter()
            .position(|&s| s != stamp)
            .unwrap_or(forbidden.len());
        colors[j] = c as u32;
    }
    colors
}

/// DSATUR order: repeatedly the uncolored column with the most distinct colors among its
/// conflicts (ties: more conflicts, then the smaller index), colored greedily. Gives up
/// (returns `None`) beyond 64 colors, where its bookkeeping would grow.
fn dsatur(p: &CsStructure, rows: &Rows) -> Option<Vec<u32>> {
    let n = p.cols();
    let (indptr, indices) = (p.indptr(), p.indices());
    let base = indptr.index(0);
    let col_rows = |j: usize| &indices[indptr.index(j) - base..indptr.index(j + 1) - base];
    let degree: Vec<usize> = (0..n)
        .map(|j| {
            col_rows(j)
                .iter()
                .map(|&i| rows.ptr[i + 1] - rows.ptr[i])
                .sum()
        })
        .collect();
    let mut seen = vec![0u64; n]; // bit c: a conflict has color c
    let mut colors = vec![u32::MAX; n];
    let mut heap: BinaryHeap<(u32, usize, std::cmp::Reverse<usize>)> = (0..n)
        .map(|j| (0, degree[j], std::cmp::Reverse(j)))
        .collect();
    while let Some((sat, _, std::cmp::Reverse(j))) = heap.pop() {
        if colors[j] != u32::MAX || sat != seen[j].count_ones() {
            continue;
        }
        let c = (!seen[j]).trailing_zeros();
        if c >= 64 {
            return None;
        }
        colors[j] = c;
        for &i in col_rows(j) {
            for &k in &rows.cols[rows.ptr[i]..rows.ptr[i + 1]] {
                let k = k as usize;
                if colors[k] == u32::MAX && seen[k] & (1 << c) == 0 {
                    seen[k] |= 1 << c;
                    heap.push((seen[k].count_ones(), degree[k], std::cmp::Reverse(k)));
                }
            }
        }
    }
    Some(colors)
}

fn count(colors: &[u32]) -> usize {
    colors.iter().map(|&c| c as usize + 1).max().unwrap_or(0)
}

/// Colors the columns of `p` (see the module documentation).
///
/// # Complexity
/// `O(Σ_j Σ_{i ∈ col j} nnz(row i))` for the greedy pass; the other orders (only when the
/// first misses the bound) add a `log n` factor for the saturation queue.
pub fn color_columns(p: &CsStructure) -> ColumnColoring {
    let rows = rows_of(p);
    let bound = (0..p.rows())
        .map(|i| rows.ptr[i + 1] - rows.ptr[i])
        .max()
        .unwrap_or(0);
    let mut best = greedy(p, &rows, 0..p.cols());
    if count(&best) > bound {
        let mut candidates = vec![greedy(p, &rows, (0..p.cols()).rev())];
        candidates.extend(dsatur(p, &rows));
        for c in candidates {
            if count(&c) < count(&best) {
                best = c;
            }
        }
    }
    let n_colors = count(&best);
    ColumnColoring {
        colors: best,
        n_colors,
        bound,
    }
}

/// Whether no two columns of one color share a row (the property decompression relies on).
pub fn is_structurally_orthogonal(p: &CsStructure, colors: &[u32]) -> bool {
    let rows = rows_of(p);
    let mut seen: Vec<u32> = Vec::new();
    (0..p.rows()).all(|i| {
        seen.clear();
        seen.extend(
            rows.cols[rows.ptr[i]..rows.ptr[i + 1]]
                .iter()
                .map(|&j| colors[j as usize]),
        );
        seen.sort_unstable();
        seen.windows(2).all(|w| w[0] != w[1])
    })
}
