//! The dense kernels of the network fast path, from faer: `y ← y + W x`, `y = Wᵀ δ` and the
//! rank-one gradient block `G = α W − δ xᵀ`, with `W` (`rows × cols`) column-major as it is
//! stored in `θ`.
//!
//! faer's matrix-vector kernels (explicit SIMD, register-blocked) measured 1.3–1.9× faster than
//! the hand-written column `axpy` sweep on this machine, and its rank-one update plus `Wᵀδ`
//! 1.7–2.2× faster than the fused hand-written column loop (`cargo bench --bench mlp`, see the
//! README). Above [`SPLIT_THRESHOLD`] weights a layer is split in two fixed halves on two
//! threads (one thread computes the same bits); below, threads cost more than they save. A
//! pass with split layers enters rayon's pool once ([`crate::parallel::in_pool`]), so its
//! joins are cheap steals rather than wake-ups of a parked caller.

use crate::parallel::join_if;
use faer::{Accum, MatMut, MatRef, Par};

/// Whether a layer of this many weights is split in two halves on two threads. The halves
/// are fixed by the size alone, so one thread and two compute bit-identical results.
fn split(entries: usize) -> bool {
    entries >= 1 << 16
}

/// Whether any layer of `layout` is split (then a pass enters the thread pool once).
pub(crate) fn splits(layout: &super::Layout) -> bool {
    (0..layout.n_layers()).any(|l| split(layout.weight_range(l).len()))
}

/// `y ← y + W x` for `W` stored column-major with `y.len()` rows.
///
/// With a `scratch` of at least `y.len()` entries and a layer above [`SPLIT_THRESHOLD`], split
/// in halves by columns, `y ← (y + W_a x_a) + W_b x_b`, the second product going to
/// `scratch` (a split by rows ran faer's kernel on strided half-columns at half speed).
/// Without one, one product on the calling thread.
///
/// # Panics
/// When `w.len() != y.len() · x.len()` or the scratch is short (a programming error).
pub(crate) fn gemv_add(w: &[f64], x: &[f64], y: &mut [f64], scratch: Option<&mut [f64]>) {
    let (rows, cols) = (y.len(), x.len());
    assert_eq!(w.len(), rows * cols, "gemv_add: W of another shape");
    let product = |w: &[f64], x: &[f64], y: &mut [f64], accum: Accum| {
        let n = x.len();
        if n == 0 {
            if accum == Accum::Replace {
                y.fill(0.0);
            }
            return;
        }
        let wm = MatRef::from_column_major_slice(w, rows, n);
        let xm = MatRef::from_column_major_slice(x, n, 1);
        let ym = MatMut::from_column_major_slice_mut(y, rows, 1);
        faer::linalg::matmul::matmul(ym, accum, wm, xm, 1.0, Par::Seq);
    };
    let scratch = match scratch {
        Some(s) if split(w.len()) => &mut s[..rows],
        _ => return product(w, x, y, Accum::Add),
    };
    let half = cols / 2;
    let (wa, wb) = w.split_at(half * rows);
    let (xa, xb) = x.split_at(half);
    join_if(
        true,
        || product(wa, xa, y, Accum::Add),
        || product(wb, xb, scratch, Accum::Replace),
    );
    y.iter_mut().zip(&*scratch).for_each(|(y, s)| *y += s);
}

/// One layer of the backward pass: `G = α W − δ xᵀ` (`α = 2ρ`; `W` is not read for it when
/// `α = 0`) and, when `y` is given, `y = Wᵀ δ`; all column-major with `δ.len()` rows.
///
/// Both products split `W` by columns, so one join serves both: each half writes its columns
/// of `G` and its entries of `y`.
///
/// # Panics
/// When the lengths do not fit (a programming error).
pub(crate) fn backward_layer(
    alpha: f64,
    w: &[f64],
    delta: &[f64],
    x: &[f64],
    g: &mut [f64],
    y: Option<&mut [f64]>,
) {
    let (rows, cols) = (delta.len(), x.len());
    assert!(
        g.len() == rows * cols && w.len() == g.len() && y.as_ref().is_none_or(|y| y.len() == cols),
        "backward_layer: shapes"
    );
    let dm = MatRef::from_column_major_slice(delta, rows, 1);
    let parallel = split(g.len());
    let half = if parallel { cols / 2 } else { cols };
    let (gl, gr) = g.split_at_mut(half * rows);
    let (wl, wr) = w.split_at(half * rows);
    let (xl, xr) = x.split_at(half);
    let (yl, yr) = match y {
        Some(y) => {
            let (a, b) = y.split_at_mut(half);
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    let part = |w: &[f64], x: &[f64], g: &mut [f64], y: Option<&mut [f64]>| {
        let n = x.len();
        if n == 0 {
            return;
        }
        let accum = if alpha == 0.0 {
            Accum::Replace
        } else {
            g.iter_mut().zip(w).for_each(|(g, &w)| *g = alpha * w);
            Accum::Add
        };
        let xm = MatRef::from_column_major_slice(x, 1, n);
        let gm = MatMut::from_column_major_slice_mut(g, rows, n);
        faer::linalg::matmul::matmul(gm, accum, dm, xm, -1.0, Par::Seq);
        if let Some(y) = y {
            let wm = MatRef::from_column_major_slice(w, rows, n);
            let ym = MatMut::from_column_major_slice_mut(y, n, 1);
            faer::linalg::matmul::matmul(ym, Accum::Replace, wm.transpose(), dm, 1.0, Par::Seq);
        }
    };
    join_if(parallel, || part(wl, xl, gl, yl), || part(wr, xr, gr, yr));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the plain loops, on shapes around faer's blocking sizes and the threshold.
    #[test]
    fn kernels_agree_with_plain_loops() {
        for (rows, cols) in [(1, 1), (3, 7), (17, 5), (64, 64), (513, 300), (1024, 1024)] {
            let w: Vec<f64> = (0..rows * cols)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 64.0)
                .collect();
            let x: Vec<f64> = (0..cols).map(|i| (i % 9) as f64 / 4.0 - 1.0).collect();
            let d: Vec<f64> = (0..rows).map(|i| (i % 5) as f64 / 2.0 - 1.0).collect();
            let close = |a: &[f64], b: &[f64], what: &str| {
                for (k, (p, q)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (p - q).abs() <= 1e-12 * (1.0 + q.abs()),
                        "{what} {rows}×{cols} [{k}]: {p} vs {q}"
                    );
                }
            };
            let mut y = vec![0.5; rows];
            let mut scratch = vec![f64::NAN; rows];
            gemv_add(&w, &x, &mut y, Some(&mut scratch));
            let mut y1 = vec![0.5; rows];
            gemv_add(&w, &x, &mut y1, None);
            close(&y1, &y, "W x unsplit");
            let want: Vec<f64> = (0..rows)
                .map(|i| 0.5 + (0..cols).map(|j| w[j * rows + i] * x[j]).sum::<f64>())
                .collect();
            close(&y, &want, "W x");
            let want_t: Vec<f64> = (0..cols)
                .map(|j| (0..rows).map(|i| w[j * rows + i] * d[i]).sum::<f64>())
                .collect();
            for alpha in [0.0, 0.3] {
                let mut g = vec![f64::NAN; rows * cols];
                let mut yt = vec![f64::NAN; cols];
                backward_layer(alpha, &w, &d, &x, &mut g, Some(&mut yt));
                close(&yt, &want_t, "Wᵀ δ");
                let mut g_only = vec![f64::NAN; rows * cols];
                backward_layer(alpha, &w, &d, &x, &mut g_only, None);
                assert_eq!(g, g_only, "G without Wᵀδ");
                let want: Vec<f64> = (0..rows * cols)
                    .map(|k| alpha * w[k] - d[k % rows] * x[k / rows])
                    .collect();
                close(&g, &want, "α W − δ xᵀ");
            }
        }
    }
}
