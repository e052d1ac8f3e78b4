//! Forward and back substitution with faer's supernodal Cholesky factor, one or two
//! right-hand sides per pass.
//!
//! A supernode `s` holds the columns `c₀..c₀+w` of `L` as one dense column-major block of
//! `h = w + |P_s|` rows: the `w × w` lower triangle on the diagonal, then the rows `P_s` below
//! it. With `x` one or two columns,
//!
//! ```text
//!     L y = b:   for s = 1, …, for j = 0..w:   y_j = b_j / ℓ_jj;   b_i −= ℓ_ij y_j  (i > j in s, i ∈ P_s)
//!     Lᵀ x = y:  for s = …, 1, for j = w−1..0: x_j = (y_j − Σ_{i > j in s, i ∈ P_s} ℓ_ij x_i) / ℓ_jj
//! ```
//!
//! reading each stored entry of `L` once per pass, for both columns. Written by hand because
//! faer's substitution makes two dense calls per supernode (a triangular solve and a matrix
//! product into a temporary): on a 2-D mesh's factor most supernodes are a few columns wide,
//! and the calls' fixed cost adds to the reading of `L`. On the MBB beam at 300×100 (60 700
//! unknowns, two parts of about 2 140 supernodes, [`crate::solve::SplitCholesky`]) a solve
//! took 7.7 ms against faer's 9.1 ms for one right-hand side and 12.4 ms against 13.9 ms for
//! two (medians of alternating runs on this project's 2-core machine). The row indices are
//! read as `u32` (half of faer's `usize` traffic).

use faer::sparse::linalg::cholesky::supernodal::SymbolicSupernodalCholesky;

/// One supernode: columns `c0..c0 + w`, its `h × w` block of values (column-major), the
/// rows `P_s` below its diagonal block.
struct Supernode<'a> {
    c0: usize,
    w: usize,
    h: usize,
    pattern: &'a [u32],
    block: &'a [f64],
}

/// The supernodes of the factor, in elimination order.
fn supernodes<'a>(
    s: &'a SymbolicSupernodalCholesky<usize>,
    rows: &'a [u32],
    values: &'a [f64],
) -> impl DoubleEndedIterator<Item = Supernode<'a>> + 'a {
    let (begin, end) = (s.supernode_begin(), s.supernode_end());
    let (row_ptr, val_ptr) = (s.col_ptr_for_row_idx(), s.col_ptr_for_val());
    (0..s.n_supernodes()).map(move |sn| {
        let (c0, w) = (begin[sn], end[sn] - begin[sn]);
        let block = &values[val_ptr[sn]..val_ptr[sn + 1]];
        let h = block.len() / w;
        Supernode {
            c0,
            w,
            h,
            pattern: &rows[row_ptr[sn]..][..h - w],
            block,
        }
    })
}

/// `L y = b` in place for `K` right-hand sides, interleaved: `x[K·i + c]` is row `i` of
/// column `c` (so that a row's `K` values share a cache line).
pub(crate) fn forward<const K: usize>(
    s: &SymbolicSupernodalCholesky<usize>,
    rows: &[u32],
    values: &[f64],
    x: &mut [f64],
) {
    let (x, _) = x.as_chunks_mut::<K>();
    for Supernode {
        c0,
        w,
        h,
        pattern,
        block,
    } in supernodes(s, rows, values)
    {
        for (j, col) in block.chunks_exact(h).enumerate() {
            let y: [f64; K] = std::array::from_fn(|c| x[c0 + j][c] / col[j]);
            x[c0 + j] = y;
            for (xi, &l) in x[c0 + j + 1..c0 + w].iter_mut().zip(&col[j + 1..w]) {
                for c in 0..K {
                    xi[c] -= l * y[c];
                }
            }
            for (&l, &r) in col[w..].iter().zip(pattern) {
                let xr = &mut x[r as usize];
                for c in 0..K {
                    xr[c] -= l * y[c];
                }
            }
        }
    }
}

/// `Lᵀ x = y` in place for `K` interleaved right-hand sides (see [`forward`]).
pub(crate) fn backward<const K: usize>(
    s: &SymbolicSupernodalCholesky<usize>,
    rows: &[u32],
    values: &[f64],
    x: &mut [f64],
) {
    let (x, _) = x.as_chunks_mut::<K>();
    for Supernode {
        c0,
        w,
        h,
        pattern,
        block,
    } in supernodes(s, rows, values).rev()
    {
        for (j, col) in block.chunks_exact(h).enumerate().rev() {
            // two partial sums per right-hand side: the additions do not all wait on one
            // another
            let mut acc = [[0.0; K]; 2];
            let below = col[w..].chunks_exact(2).zip(pattern.chunks_exact(2));
            for (l, r) in below {
                let (x0, x1) = (&x[r[0] as usize], &x[r[1] as usize]);
                for c in 0..K {
                    acc[0][c] += l[0] * x0[c];
                    acc[1][c] += l[1] * x1[c];
                }
            }
            if pattern.len() % 2 == 1 {
                let (l, r) = (col[h - 1], pattern[pattern.len() - 1]);
                for c in 0..K {
                    acc[0][c] += l * x[r as usize][c];
                }
            }
            for (xi, &l) in x[c0 + j + 1..c0 + w].iter().zip(&col[j + 1..w]) {
                for c in 0..K {
                    acc[1][c] += l * xi[c];
                }
            }
            let xj = &mut x[c0 + j];
            for c in 0..K {
                xj[c] = (xj[c] - (acc[0][c] + acc[1][c])) / col[j];
            }
        }
    }
}
