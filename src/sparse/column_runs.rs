//! A plan for the gradient product `y = base + Mᵀx` over a CSC matrix with regular columns.
//!
//! The adjoint gradient `(dL/dθ)ᵀ = (∂L/∂θ)ᵀ + (∂f/∂θ)ᵀ λ` is one pass over `∂f/∂θ`, and for
//! large problems that pass is bound by memory traffic: every byte of `indptr` and `indices`
//! read costs as much as a byte of values. The matrices this library builds are regular:
//!
//! - a network's `∂f/∂θ = −Mᵀ` has one entry per column, and within the block of a weight
//!   column `W_l[:, c]` (or of `b_l`) the row is the column's position plus an offset;
//! - the tridiagonal problem's `∂f/∂θ` is `n` columns of one entry at rows `0, 1, …` and
//!   `n − 1` columns of two entries at rows `(k, k+1)`.
//!
//! [`ColumnRuns`] cuts the columns into [`Segment`]s of consecutive columns with the same number
//! `c` of entries. In a *shifted* segment each column's rows are the previous column's plus
//! one (a band, as in the two examples), so with `r_t` the rows of its first column
//!
//! ```text
//!     y_j = base_j + Σ_{t<c} v[c·j + t] · x[r_t + j]
//! ```
//!
//! reads neither `indptr` nor `indices`: only the values and contiguous stretches of `x`.
//! Other segments keep their row indices (as `u32`, half the bytes of `usize`), still without
//! `indptr`. Matrices too irregular for that (more than one segment per 16 columns) get no plan
//! and use [`mul_transpose_add_into`](super::mul_transpose_add_into).

use crate::kernels::{fill_with_mode, STREAMING_THRESHOLD};
use crate::parallel::{join_if, PARALLEL_THRESHOLD};
use sprs::CsMat;

/// Most entries per column for which shifted segments are formed (and kernels unrolled).
const MAX_SHIFTED: usize = 4;
/// Shortest shifted segment worth its own kernel call; shorter ones join a listed segment.
const MIN_SHIFTED: usize = 8;

/// Consecutive columns with the same number of entries (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Entries per column.
    pub count: usize,
    /// Number of columns.
    pub len: usize,
    /// For a shifted segment, the rows of its first column (the first `count` are used);
    /// `None` when the rows are listed.
    pub first_rows: Option<[u32; MAX_SHIFTED]>,
}

/// The segments of a CSC matrix's columns, a plan for `base + Mᵀx` (see the module doc).
///
/// For example (`tests.rs`, `the_documented_example`): columns 0..3 holding rows 0..3 one
/// each, then column 3 holding rows {0, 2}, give the runs `[(1, 3), (2, 1)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnRuns {
    segments: Vec<Segment>,
    /// Row indices of the listed segments, in column order.
    listed_rows: Vec<u32>,
    /// The segments with their offsets, cut in two halves of about equal work (columns plus
    /// entries); the second half starts at `pieces[half]`, column `split`.
    pieces: Vec<Piece>,
    half: usize,
    split: usize,
    shape: (usize, usize),
    nnz: usize,
}

/// A segment (or part of one) with where its columns, values and listed rows start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    segment: Segment,
    col: usize,
    entry: usize,
    listed: usize,
}

impl ColumnRuns {
    /// The plan for a CSC matrix, or `None` when it is not CSC, when a row index does not fit
    /// in `u32`, or when it would need more than one segment per 16 columns (plus four).
    pub fn new(m: &CsMat<f64>) -> Option<Self> {
        if !m.is_csc() || u32::try_from(m.rows()).is_err() {
            return None;
        }
        let limit = m.cols() / 16 + 4;
        let indptr = m.indptr();
        let indptr = indptr.raw_storage();
        let base = indptr[0];
        let indices = m.indices();
        let column = |j: usize| &indices[indptr[j] - base..indptr[j + 1] - base];
        // column j continues a shifted stretch ending at column j − 1
        let continues = |j: usize| {
            let (prev, cur) = (column(j - 1), column(j));
            !cur.is_empty()
                && cur.len() == prev.len()
                && cur.len() <= MAX_SHIFTED
                && cur.iter().zip(prev).all(|(&r, &p)| r == p + 1)
        };

        let mut plan = ColumnRuns {
            segments: Vec::new(),
            listed_rows: Vec::new(),
            pieces: Vec::new(),
            half: 0,
            split: 0,
            shape: m.shape(),
            nnz: m.nnz(),
        };
        let mut start = 0;
        while start < m.cols() {
            let mut end = start + 1;
            while end < m.cols() && continues(end) {
                end += 1;
            }
            let first = column(start);
            if end - start >= MIN_SHIFTED {
                let mut rows = [0u32; MAX_SHIFTED];
                for (r, &i) in rows.iter_mut().zip(first) {
                    *r = i as u32; // i < rows ≤ u32::MAX
                }
                plan.segments.push(Segment {
                    count: first.len(),
                    len: end - start,
                    first_rows: Some(rows),
                });
            } else {
                // too short to shift: list the columns one by one, merging equal counts
                for j in start..end {
                    let rows = column(j);
                    plan.listed_rows.extend(rows.iter().map(|&i| i as u32));
                    match plan.segments.last_mut() {
                        Some(s) if s.first_rows.is_none() && s.count == rows.len() => s.len += 1,
                        _ => plan.segments.push(Segment {
                            count: rows.len(),
                            len: 1,
                            first_rows: None,
                        }),
                    }
                }
            }
            if plan.segments.len() > limit {
                return None;
            }
            start = end;
        }
        plan.cut_in_halves();
        Some(plan)
    }

    /// Fills `pieces`, `half` and `split`: the segments in order, the one that straddles half
    /// of the work (one unit per column and per entry) cut in two.
    fn cut_in_halves(&mut self) {
        let total = self.shape.1 + self.nnz;
        let (mut col, mut entry, mut listed) = (0, 0, 0);
        self.half = usize::MAX;
        for s in &self.segments {
            let piece = Piece {
                segment: *s,
                col,
                entry,
                listed,
            };
            let work_before = col + entry;
            let work = s.len * (1 + s.count);
            if self.half == usize::MAX && 2 * (work_before + work) >= total {
                // the halfway point falls in this segment: cut after `k` columns
                let k = ((total / 2).saturating_sub(work_before) / (1 + s.count)).min(s.len);
                let (mut a, mut b) = (piece, piece);
                a.segment.len = k;
                b.segment.len = s.len - k;
                b.col += k;
                b.entry += k * s.count;
                match &mut b.segment.first_rows {
                    Some(rows) => rows.iter_mut().for_each(|r| *r += k as u32),
                    None => b.listed += k * s.count,
                }
                if k > 0 {
                    self.pieces.push(a);
                }
                self.half = self.pieces.len();
                self.split = b.col;
                if b.segment.len > 0 {
                    self.pieces.push(b);
                }
            } else {
                self.pieces.push(piece);
            }
            col += s.len;
            entry += s.len * s.count;
            if s.first_rows.is_none() {
                listed += s.len * s.count;
            }
        }
        if self.half == usize::MAX {
            // no columns at all
            (self.half, self.split) = (self.pieces.len(), self.shape.1);
        }
    }

    /// The segments, in column order.
    #[cfg(test)]
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// `(entries per column, number of columns)` of consecutive segments merged by count.
    #[cfg(test)]
    pub fn runs(&self) -> Vec<(usize, usize)> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for s in &self.segments {
            match runs.last_mut() {
                Some((c, len)) if *c == s.count => *len += s.len,
                _ => runs.push((s.count, s.len)),
            }
        }
        runs
    }

    /// Number of columns in shifted segments (whose row indices are never read).
    #[cfg(test)]
    pub fn shifted_columns(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| s.first_rows.is_some())
            .map(|s| s.len)
            .sum()
    }

    /// `y ← base + Mᵀ x`, as [`mul_transpose_add_into`](super::mul_transpose_add_into), for
    /// the matrix the plan was made from (same pattern, any values). Outputs larger than the
    /// caches are written with streaming stores.
    ///
    /// # Panics
    /// When `m` does not have the plan's shape and number of entries, or on mismatched lengths
    /// (programming errors).
    #[track_caller]
    pub fn mul_transpose_add(
        &self,
        m: &CsMat<f64>,
        x: &[f64],
        base: Option<&[f64]>,
        y: &mut [f64],
    ) {
        assert!(
            m.is_csc() && m.shape() == self.shape && m.nnz() == self.nnz,
            "ColumnRuns used with a matrix of another pattern"
        );
        assert_eq!(x.len(), m.rows());
        assert_eq!(y.len(), m.cols());
        if let Some(b) = base {
            assert_eq!(b.len(), m.cols());
        }
        let (data, cols) = (m.data(), m.cols());
        let stream = cols >= STREAMING_THRESHOLD;
        let (first, second) = self.pieces.split_at(self.half);
        let (y_first, y_second) = y.split_at_mut(self.split);
        let run = |pieces: &[Piece], y: &mut [f64], col0: usize| {
            for p in pieces {
                let (c, len) = (p.segment.count, p.segment.len);
                let y = &mut y[p.col - col0..][..len];
                let base = base.map(|b| &b[p.col..p.col + len]);
                let val = &data[p.entry..p.entry + c * len];
                match p.segment.first_rows {
                    Some(first) => match c {
                        1 => shifted::<1>(first, val, x, base, y, stream),
                        2 => shifted::<2>(first, val, x, base, y, stream),
                        3 => shifted::<3>(first, val, x, base, y, stream),
                        _ => shifted::<4>(first, val, x, base, y, stream),
                    },
                    None => {
                        let idx = &self.listed_rows[p.listed..p.listed + c * len];
                        match c {
                            1 => listed::<1>(idx, val, x, base, y, stream),
                            2 => listed::<2>(idx, val, x, base, y, stream),
                            3 => listed::<3>(idx, val, x, base, y, stream),
                            4 => listed::<4>(idx, val, x, base, y, stream),
                            _ => fill_with_mode(y, stream, |j| {
                                let k = c * j;
                                let dot = idx[k..k + c]
                                    .iter()
                                    .zip(&val[k..k + c])
                                    .map(|(&i, &v)| v * x[i as usize])
                                    .sum::<f64>();
                                base.map_or(0.0, |b| b[j]) + dot
                            }),
                        }
                    }
                }
            }
        };
        join_if(
            cols + self.nnz >= PARALLEL_THRESHOLD,
            || run(first, y_first, 0),
            || run(second, y_second, self.split),
        );
    }
}

/// A shifted segment of `C` entries per column: `y_j = base_j + Σ_t v[Cj+t] x[r_t + j]`.
#[inline(always)]
fn shifted<const C: usize>(
    first: [u32; MAX_SHIFTED],
    val: &[f64],
    x: &[f64],
    base: Option<&[f64]>,
    y: &mut [f64],
    stream: bool,
) {
    let len = y.len();
    // x[r_t .. r_t + len] for each t: contiguous, bounds checked once here
    let xs: [&[f64]; C] = std::array::from_fn(|t| &x[first[t] as usize..][..len]);
    let val = val.as_chunks::<C>().0;
    let column = |j: usize| {
        let mut s = 0.0;
        for t in 0..C {
            s += val[j][t] * xs[t][j];
        }
        s
    };
    match base {
        Some(b) => fill_with_mode(y, stream, |j| b[j] + column(j)),
        None => fill_with_mode(y, stream, column),
    }
}

/// A listed segment of `C` entries per column: `y_j = base_j + Σ_t v[Cj+t] x[idx[Cj+t]]`.
#[inline(always)]
fn listed<const C: usize>(
    idx: &[u32],
    val: &[f64],
    x: &[f64],
    base: Option<&[f64]>,
    y: &mut [f64],
    stream: bool,
) {
    let (idx, val) = (idx.as_chunks::<C>().0, val.as_chunks::<C>().0);
    let column = |j: usize| {
        let mut s = 0.0;
        for t in 0..C {
            s += val[j][t] * x[idx[j][t] as usize];
        }
        s
    };
    match base {
        Some(b) => fill_with_mode(y, stream, |j| b[j] + column(j)),
        None => fill_with_mode(y, stream, column),
    }
}

#[cfg(test)]
mod tests;
