//! Small sparse-matrix utilities shared by the problems and solvers.
//!
//! A CSC matrix `m × n` stores, for each column `j`, the rows `indices[indptr[j]..indptr[j+1]]`
//! (sorted) and the values `data[indptr[j]..indptr[j+1]]`:
//!
//! ```text
//!         | a . c |        indptr  = [0, 2, 3, 4]
//!     A = | b . . |        indices = [0, 1, 2, 0]
//!         | . d . |        data    = [a, b, d, c]
//! ```

mod column_runs;

pub(crate) use column_runs::ColumnRuns;

use crate::{Error, Result};
use sprs::{CsMat, CsStructure};

/// A pattern built from a list of `(row, col)` positions, with the storage slot of each.
///
/// Duplicated positions share one slot. This is how a problem fills its Jacobian values in
/// place: it computes the slots once, then writes `values[slot[e]] += v_e` for every position
/// `e` on each evaluation.
///
/// # Example
/// ```
/// use adjoint::sparse::SlotMap;
/// // the pattern of [[x, x], [., x]] listed row by row
/// let map = SlotMap::new(2, 2, &[(0, 0), (0, 1), (1, 1)]).unwrap();
/// assert_eq!(map.pattern().nnz(), 3);
/// assert_eq!(map.slots(), &[0, 1, 2]); // column 0: (0,0); column 1: (0,1), (1,1)
/// ```
#[derive(Debug, Clone)]
pub struct SlotMap {
    pattern: CsStructure,
    slots: Vec<usize>,
}

impl SlotMap {
    /// Builds the CSC pattern of a `rows × cols` matrix with entries at `positions`.
    ///
    /// # Errors
    /// [`Error::Shape`] when a position is outside the matrix.
    ///
    /// # Complexity
    /// `O(cols + k log k)` for `k` positions.
    pub fn new(rows: usize, cols: usize, positions: &[(usize, usize)]) -> Result<Self> {
        if let Some(&(i, j)) = positions.iter().find(|&&(i, j)| i >= rows || j >= cols) {
            return Err(Error::Shape {
                what: "pattern position".into(),
                expected: format!("inside {rows}×{cols}"),
                found: format!("({i}, {j})"),
            });
        }
        let mut order: Vec<usize> = (0..positions.len()).collect();
        order.sort_unstable_by_key(|&e| (positions[e].1, positions[e].0));
        let mut indptr = vec![0usize; cols + 1];
        let mut indices = Vec::with_capacity(positions.len());
        let mut slots = vec![0usize; positions.len()];
        let mut last: Option<(usize, usize)> = None;
        for &e in &order {
            let (i, j) = positions[e];
            if last != Some((i, j)) {
                indices.push(i);
                indptr[j + 1] += 1;
                last = Some((i, j));
            }
            slots[e] = indices.len() - 1;
        }
        for j in 0..cols {
            indptr[j + 1] += indptr[j];
        }
        let nnz = indices.len();
        let pattern = CsStructure::new_csc((rows, cols), indptr, indices, vec![(); nnz]);
        Ok(SlotMap { pattern, slots })
    }

    /// The CSC pattern.
    pub fn pattern(&self) -> &CsStructure {
        &self.pattern
    }

    /// `slots()[e]` is the storage index of `positions[e]`.
    pub fn slots(&self) -> &[usize] {
        &self.slots
    }
}

/// A CSC matrix with the given pattern and all stored values zero.
///
/// # Errors
/// [`Error::Invalid`] when the pattern is stored CSR.
pub fn zeros_like(pattern: &CsStructure, what: &str) -> Result<CsMat<f64>> {
    if !pattern.is_csc() {
        return Err(Error::invalid(what, "the pattern must be stored CSC"));
    }
    Ok(CsMat::new_csc(
        pattern.shape(),
        pattern.indptr().to_proper().into_owned(),
        pattern.indices().to_vec(),
        vec![0.0; pattern.nnz()],
    ))
}

/// A CSC matrix with the given pattern and all stored values zero, reusing the pattern's
/// index arrays (no copy of the structure).
///
/// # Errors
/// [`Error::Invalid`] when the pattern is stored CSR.
pub fn zeros_from(pattern: CsStructure, what: &str) -> Result<CsMat<f64>> {
    if !pattern.is_csc() {
        return Err(Error::invalid(what, "the pattern must be stored CSC"));
    }
    let shape = pattern.shape();
    let nnz = pattern.nnz();
    let offset = pattern.indptr().raw_storage()[0];
    let (mut indptr, indices, _) = pattern.into_raw_storage();
    if offset != 0 {
        indptr.iter_mut().for_each(|p| *p -= offset);
    }
    Ok(CsMat::new_csc(shape, indptr, indices, vec![0.0; nnz]))
}

/// The pattern of a CSC matrix (its structure without the values), for the solvers'
/// `analyze` and [`crate::Jacobians`] patterns.
///
/// # Panics
/// When `a` is not CSC (a programming error).
#[track_caller]
pub fn pattern_of(a: &CsMat<f64>) -> CsStructure {
    assert!(a.is_csc(), "pattern_of expects CSC storage");
    CsStructure::new_csc(
        a.shape(),
        a.indptr().to_proper().into_owned(),
        a.indices().to_vec(),
        vec![(); a.nnz()],
    )
}

/// Checks that every stored value is finite; the error names the first bad entry.
pub fn check_matrix_finite(what: &str, m: &CsMat<f64>) -> Result<()> {
    if !m.data().iter().fold(false, |bad, v| bad | !v.is_finite()) {
        return Ok(());
    }
    for (&value, (row, col)) in m.iter() {
        if !value.is_finite() {
            return Err(Error::NonFiniteEntry {
                what: what.to_string(),
                row,
                col,
                value,
            });
        }
    }
    Ok(())
}

/// `‖v‖₂` without overflow or underflow: scaled by `m = max|v_k|` as `m · √(Σ (v_k/m)²)`,
/// so a vector of entries near 10³⁰⁰ has a finite norm (the naive sum of squares is `inf`).
/// NaN when an entry is NaN; `inf` only when the norm itself exceeds `f64::MAX`.
pub fn norm2(v: &[f64]) -> f64 {
    let m = v.iter().fold(
        0.0f64,
        |m, x| if x.is_nan() { f64::NAN } else { m.max(x.abs()) },
    );
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    let inv = 1.0 / m;
    m * v.iter().map(|x| (x * inv) * (x * inv)).sum::<f64>().sqrt()
}

/// `‖a − b‖₂` without overflow (see [`norm2`]).
pub fn distance2(a: &[f64], b: &[f64]) -> f64 {
    let m = a.iter().zip(b).fold(0.0f64, |m, (x, y)| {
        if (x - y).is_nan() {
            f64::NAN
        } else {
            m.max((x - y).abs())
        }
    });
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    let inv = 1.0 / m;
    m * a
        .iter()
        .zip(b)
        .map(|(x, y)| ((x - y) * inv) * ((x - y) * inv))
        .sum::<f64>()
        .sqrt()
}

/// `max_ij |a_ij|` over the stored values, or the first non-finite entry as an
/// [`Error::NonFiniteEntry`]: the scale of the pivot rule every solver shares
/// (`|pivot| ≤ tol · max_ij |a_ij|`, see [`crate::solve`]).
///
/// Branch-free reductions over lanes of 8 (they vectorize; a running max would not), in two
/// halves on two threads above [`crate::parallel::PARALLEL_THRESHOLD`] values.
pub(crate) fn finite_max_abs(what: &str, a: &CsMat<f64>) -> Result<f64> {
    finite_max_abs_copy(what, a, None)
}

/// [`finite_max_abs`], copying the values into `copy` in the same pass (a solver that keeps
/// what it factored reads the matrix once). `copy` is written even when an error is returned.
///
/// # Panics
/// When `copy` is not of length `nnz` (a programming error).
pub(crate) fn finite_max_abs_copy(
    what: &str,
    a: &CsMat<f64>,
    copy: Option<&mut [f64]>,
) -> Result<f64> {
    fn lanes(data: &[f64], copy: Option<&mut [f64]>) -> (f64, bool) {
        let mut lanes = [0.0f64; 8];
        let mut bad = false;
        let mut reduce = |c: &[f64]| {
            for k in 0..8 {
                lanes[k] = lanes[k].max(c[k].abs());
                bad |= !c[k].is_finite();
            }
        };
        let chunks = data.chunks_exact(8);
        let rest = chunks.remainder();
        match copy {
            None => chunks.for_each(&mut reduce),
            Some(dst) => {
                let (body, tail) = dst.split_at_mut(data.len() - rest.len());
                for (c, d) in chunks.zip(body.chunks_exact_mut(8)) {
                    reduce(c);
                    d.copy_from_slice(c);
                }
                tail.copy_from_slice(rest);
            }
        }
        for v in rest {
            lanes[0] = lanes[0].max(v.abs());
            bad |= !v.is_finite();
        }
        (lanes.iter().fold(0.0f64, |m, &l| m.max(l)), bad)
    }
    let data = a.data();
    let half = data.len() / 2;
    let (x, y) = data.split_at(half);
    let (cx, cy) = match copy {
        None => (None, None),
        Some(dst) => {
            assert_eq!(dst.len(), data.len(), "copy of another length");
            let (cx, cy) = dst.split_at_mut(half);
            (Some(cx), Some(cy))
        }
    };
    let ((mx, bx), (my, by)) = crate::parallel::join_if(
        data.len() >= crate::parallel::PARALLEL_THRESHOLD,
        || lanes(x, cx),
        || lanes(y, cy),
    );
    if bx || by {
        check_matrix_finite(what, a)?;
    }
    Ok(mx.max(my))
}

/// `y ← base + Mᵀ x` for a CSC `m`: `y_j = base_j + Σ_i m_ij x_i`, one pass over the stored
/// entries (`base = None` means zero).
///
/// # Panics
/// When `x.len() != rows`, `y.len() != cols` or `base` is not of length `cols` (a programming
/// error).
#[track_caller]
pub fn mul_transpose_add_into(m: &CsMat<f64>, x: &[f64], base: Option<&[f64]>, y: &mut [f64]) {
    assert!(m.is_csc(), "mul_transpose_into expects CSC storage");
    assert_eq!(x.len(), m.rows());
    assert_eq!(y.len(), m.cols());
    let (ptr, indices, data) = m.view().into_raw_storage();
    let off = ptr[0];
    let column = |w: &[usize]| {
        let (s, e) = (w[0] - off, w[1] - off);
        indices[s..e]
            .iter()
            .zip(&data[s..e])
            .map(|(&i, &v)| v * x[i])
            .sum::<f64>()
    };
    match base {
        Some(base) => {
            assert_eq!(base.len(), m.cols());
            for ((yj, w), bj) in y.iter_mut().zip(ptr.windows(2)).zip(base) {
                *yj = bj + column(w);
            }
        }
        None => {
            for (yj, w) in y.iter_mut().zip(ptr.windows(2)) {
                *yj = column(w);
            }
        }
    }
}

/// `y ← Mᵀ x` for a CSC `m`: `y_j = Σ_i m_ij x_i`, one pass over the stored entries.
///
/// # Panics
/// When `x.len() != rows` or `y.len() != cols` (a programming error).
#[track_caller]
pub fn mul_transpose_into(m: &CsMat<f64>, x: &[f64], y: &mut [f64]) {
    mul_transpose_add_into(m, x, None, y)
}

/// The first stored entry `(row, col, k)` of a square CSC matrix whose mirror `(col, row)` is
/// not stored, or for which `same(k, mirror)` is false; `None` when the matrix is symmetric in
/// that sense. One pass over the entries with one cursor per column (`cursor`, length n).
///
/// Columns are visited in order; for an entry `(i, j)` with `i > j` its mirror `(j, i)` must be
/// the next not yet matched entry above the diagonal in column `i`, because the mirrors of
/// column `i`'s upper entries are met in increasing `j`.
pub(crate) fn symmetry_sweep<N>(
    a: &CsMat<N>,
    cursor: &mut [usize],
    same: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize, usize)> {
    let ptr = a.indptr();
    let ptr = ptr.raw_storage();
    let off = ptr[0];
    let idx = a.indices();
    for (j, c) in cursor.iter_mut().enumerate() {
        *c = ptr[j] - off;
    }
    for j in 0..a.cols() {
        for k in ptr[j] - off..ptr[j + 1] - off {
            let i = idx[k];
            if i <= j {
                continue;
            }
            let m = cursor[i];
            if m >= ptr[i + 1] - off || idx[m] != j || !same(k, m) {
                return Some((i, j, k));
            }
            cursor[i] += 1;
        }
        let c = cursor[j];
        if c < ptr[j + 1] - off && idx[c] < j {
            return Some((idx[c], j, c));
        }
    }
    None
}

/// `(pattern symmetric, values symmetric)` of a square CSC matrix, in `O(nnz)` time and
/// `O(n)` memory (no transposed copy).
pub fn symmetry(a: &CsMat<f64>) -> (bool, bool) {
    if a.rows() != a.cols() || !a.is_csc() {
        return (false, false);
    }
    let mut cursor = vec![0usize; a.cols()];
    let pattern = symmetry_sweep(a, &mut cursor, |_, _| true).is_none();
    let data = a.data();
    let values = pattern && symmetry_sweep(a, &mut cursor, |k, m| data[k] == data[m]).is_none();
    (pattern, values)
}
