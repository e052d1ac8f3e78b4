//! Sparse Cholesky on two threads: the two parts of a [`Dissection`] are factorized at the
//! same time, and their separator is joined by a small dense Schur complement.
//!
//! faer's supernodal Cholesky runs its supernodes one after the other. Under a dissection
//! `[A, B, S]` (no entry between `A` and `B`) the principal submatrices
//!
//! ```text
//!     M_A = K[A∪S, A∪S] = ┌ K_AA  K_AS ┐ = ┌ L_A   0  ┐ ┌ L_Aᵀ  W_A  ┐      (X = A, B)
//!                         └ K_SA  K_SS ┘   └ W_Aᵀ T_A ┘ └  0    T_Aᵀ ┘
//! ```
//!
//! are symmetric positive definite when `K` is, and are factorized independently, each by
//! faer with `S` kept last (so `T_X T_Xᵀ = K_SS − W_Xᵀ W_X`). The Cholesky factor of `K` in
//! the order `[A, B, S]` is then
//!
//! ```text
//!     L = ┌ L_A    0     0  ┐        L_S L_Sᵀ = S = T_A T_Aᵀ + T_B T_Bᵀ − K_SS
//!         │  0    L_B    0  │                     (= K_SS − W_AᵀW_A − W_BᵀW_B),
//!         └ W_Aᵀ  W_Bᵀ  L_S ┘
//! ```
//!
//! with the dense `S` (`|S|` unknowns: 2·(nely+1) for the MBB beam) factorized on the
//! calling thread. `K x = b` is solved without forming `W_X`: per part, in parallel, the
//! forward substitution of `M_X`'s factor on `[b_X; 0]` leaves `z_X = −T_X⁻¹ W_Xᵀ y_X` in the
//! separator rows; then `x_S = S⁻¹ (b_S + T_A z_A + T_B z_B)`; then per part the back
//! substitution on `[y_X; T_Xᵀ x_S]` returns `[x_X; x_S]`. Every part does exactly one forward
//! and one back substitution of its factor, as one sparse solve would.
//!
//! The arithmetic does not depend on the number of threads: with one the two parts run one
//! after the other, bit for bit the same. The pivots checked are those of `L_A`, `L_B` and
//! `L_S` (the pivots of `L`), under the crate's rule: non-positive, or `ℓ_kk² ≤ tol · max ℓ²`.

use super::cholesky::{CholeskySolver, FillOrdering};
use super::dissection::{inverse_permutation, Dissection};
use super::Factorization;
use crate::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{
    cholesky_in_place, cholesky_in_place_scratch, LltRegularization,
};
use faer::linalg::matmul::triangular::{matmul, BlockStructure};
use faer::linalg::solvers::LltError;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::reborrow::ReborrowMut;
use faer::{Accum, MatMut, MatRef, Par};
use sprs::{CsMat, CsStructure};

/// From this many unknowns [`crate::Solver`] factorizes a matrix with a dissection by parts
/// (below it, one sequential factorization in the dissection's order costs less than the
/// separator's dense block).
pub const SPLIT_THRESHOLD: usize = 1 << 13;

/// Right-hand sides solved in one pass (the engine's state and adjoint solves, fused): each
/// pass reads the factor once, and reading it is most of a solve's cost.
const COLUMNS: usize = 2;

/// One part `X` of the dissection with the separator: `M_X = K[X∪S, X∪S]` and its factor.
#[derive(Debug, Clone)]
struct Part {
    /// Original index of each unknown of `M_X` (`X` in the dissection's order, then `S`).
    unknowns: Vec<usize>,
    /// `M_X`, its values gathered from `K` at every factorization.
    matrix: CsMat<f64>,
    /// The slot in `K`'s values of each stored entry of `M_X`.
    gather: Vec<usize>,
    /// `(slot of (i, j), slot of (j, i))` in `M_X`'s values for each stored entry below the
    /// diagonal: the symmetry check. Every entry of `K` lies in `M_A` or `M_B` (none joins
    /// `A` and `B`), so the parts' checks together cover `K`.
    mirrors: Vec<(u32, u32)>,
    solver: CholeskySolver,
    /// `T_X`, the trailing `|S| × |S|` block of `M_X`'s factor (column-major, lower).
    trailing: Vec<f64>,
    /// Up to [`COLUMNS`] right-hand sides in `M_X`'s order, interleaved (row `i` of column
    /// `c` at `k·i + c` for `k` columns).
    work: Vec<f64>,
    /// `T_X z_X` of each right-hand side (column-major, `|S|` rows).
    tz: Vec<f64>,
}

/// Cholesky `K = L Lᵀ` of a symmetric positive definite matrix split by a [`Dissection`],
/// the two parts factorized and solved on two threads (see the module documentation).
#[derive(Debug, Clone)]
pub struct SplitCholesky {
    n: usize,
    nnz: usize,
    parts: [Part; 2],
    /// Original index of each separator unknown.
    separator: Vec<usize>,
    /// `(slot in K's values, index in the dense |S|×|S| matrix)` of `K_SS`'s lower entries.
    kss: Vec<(usize, usize)>,
    /// `S`, then its factor `L_S` (column-major, lower).
    schur: Vec<f64>,
    /// The separator's right-hand side.
    rhs_s: Vec<f64>,
    cursor: Vec<usize>,
    pivot_tolerance: f64,
    valid: bool,
}

impl SplitCholesky {
    /// Symbolic analysis of the symmetric `pattern` under `dissection`: both parts (with the
    /// separator) analyzed by faer in the dissection's order.
    ///
    /// # Errors
    /// As [`CholeskySolver::analyze`]; [`Error::Invalid`] when the dissection does not fit the
    /// pattern (another size, an entry joining its two parts, an empty part or separator).
    pub fn analyze(pattern: &CsStructure, dissection: &Dissection) -> Result<Self> {
        let pattern = super::square_csc(pattern, "Cholesky matrix")?;
        let pattern = &*pattern;
        let n = pattern.rows();
        let mut cursor = vec![0; n];
        super::check_pattern_symmetric(pattern, &mut cursor, "Cholesky matrix")?;
        if dissection.len() != n {
            return Err(Error::invalid(
                "dissection",
                format!("{} unknowns for a {n}×{n} matrix", dissection.len()),
            ));
        }
        let order = dissection.order();
        let position = inverse_permutation(order, n)?;
        let ranges = [
            dissection.first(),
            dissection.second(),
            dissection.separator(),
        ];
        if let Some(empty) = ranges.iter().position(|r| r.is_empty()) {
            return Err(Error::invalid(
                "dissection",
                format!(
                    "its {} is empty",
                    ["first part", "second part", "separator"][empty]
                ),
            ));
        }
        let part_of = |i: usize| {
            ranges
                .iter()
                .position(|r| r.contains(&position[i]))
                .unwrap()
        };
        for (_, (r, c)) in pattern.iter() {
            if part_of(r) + part_of(c) == 1 {
                return Err(Error::invalid(
                    "dissection",
                    format!("entry ({r}, {c}) of the matrix joins its two parts"),
                ));
            }
        }
        let separator: Vec<usize> = order[ranges[2].clone()].to_vec();
        let ns = separator.len();
        let (indptr, indices, _) = pattern.view().into_raw_storage();
        let part = |x: usize| -> Result<Part> {
            let unknowns: Vec<usize> = order[ranges[x].clone()]
                .iter()
                .chain(&separator)
                .copied()
                .collect();
            let m = unknowns.len();
            let nx = m - ns;
            // local index of an original unknown of X ∪ S
            let local = |i: usize| match part_of(i) {
                2 => Some(nx + position[i] - ranges[2].start),
                p if p == x => Some(position[i] - ranges[x].start),
                _ => None,
            };
            let mut ptr = Vec::with_capacity(m + 1);
            let mut rows = Vec::new();
            let mut gather = Vec::new();
            let mut column = Vec::new();
            ptr.push(0);
            for &c in &unknowns {
                column.clear();
                let range = indptr[c]..indptr[c + 1];
                for (slot, &r) in range.clone().zip(&indices[range]) {
                    if let Some(l) = local(r) {
                        column.push((l, slot));
                    }
                }
                column.sort_unstable();
                rows.extend(column.iter().map(|&(l, _)| l));
                gather.extend(column.iter().map(|&(_, s)| s));
                ptr.push(rows.len());
            }
            let nnz = rows.len();
            let matrix = CsMat::new_csc((m, m), ptr, rows, vec![0.0; nnz]);
            let mirrors = lower_mirrors(&matrix)?;
            let solver = CholeskySolver::analyze_ordered(
                &crate::sparse::pattern_of(&matrix),
                FillOrdering::IdentitySupernodal,
            )?;
            Ok(Part {
                unknowns,
                matrix,
                gather,
                mirrors,
                solver,
                trailing: vec![0.0; ns * ns],
                work: vec![0.0; m * COLUMNS],
                tz: vec![0.0; ns * COLUMNS],
            })
        };
        let (a, b) = crate::parallel::join_if(true, || part(0), || part(1));
        let mut kss = Vec::new();
        for (js, &c) in separator.iter().enumerate() {
            let range = indptr[c]..indptr[c + 1];
            for (slot, &r) in range.clone().zip(&indices[range]) {
                if part_of(r) == 2 {
                    let is = position[r] - ranges[2].start;
                    if is >= js {
                        kss.push((slot, js * ns + is));
                    }
                }
            }
        }
        Ok(SplitCholesky {
            n,
            nnz: pattern.nnz(),
            parts: [a?, b?],
            separator,
            kss,
            schur: vec![0.0; ns * ns],
            rhs_s: vec![0.0; ns * COLUMNS],
            cursor,
            pivot_tolerance: super::DEFAULT_PIVOT_TOLERANCE,
            valid: false,
        })
    }

    /// Stored entries of the two parts' factors and of the dense separator block.
    pub fn factor_nnz(&self) -> usize {
        let ns = self.separator.len();
        self.parts
            .iter()
            .map(|p| p.solver.factor_nnz())
            .sum::<usize>()
            + ns * (ns + 1) / 2
    }

    /// The number of separator unknowns `|S|`.
    pub fn separator_len(&self) -> usize {
        self.separator.len()
    }
}

/// `(slot of (i, j), slot of (j, i))` for every stored entry `i > j` of `m`, whose pattern is
/// symmetric with sorted columns.
fn lower_mirrors(m: &CsMat<f64>) -> Result<Vec<(u32, u32)>> {
    let (indptr, indices, _) = m.view().into_raw_storage();
    let too_many = || Error::invalid("Cholesky matrix", "more than 2³² stored entries in a part");
    u32::try_from(indices.len()).map_err(|_| too_many())?;
    let mut upper = indptr[..m.cols()].to_vec();
    let mut mirrors = Vec::with_capacity(indices.len() / 2);
    for j in 0..m.cols() {
        for k in indptr[j]..indptr[j + 1] {
            let i = indices[k];
            if i > j {
                // entries (j, i) of column i are met in increasing j: the cursor finds them
                while indices[upper[i]] < j {
                    upper[i] += 1;
                }
                debug_assert_eq!(indices[upper[i]], j);
                mirrors.push((k as u32, upper[i] as u32));
            }
        }
    }
    Ok(mirrors)
}

impl Part {
    /// Gathers `M_X` from `K`'s values; `false` when one is not finite or differs from its
    /// mirror.
    fn gather(&mut self, values: &[f64]) -> bool {
        let data = self.matrix.data_mut();
        let mut finite = true;
        for (d, &s) in data.iter_mut().zip(&self.gather) {
            *d = values[s];
            finite &= d.is_finite();
        }
        finite
            && self
                .mirrors
                .iter()
                .all(|&(k, m)| data[k as usize] == data[m as usize])
    }

    /// Factorizes the gathered `M_X` and extracts `T_X`.
    fn factor(&mut self, ns: usize, tol: f64, what: &str) -> Result<()> {
        self.solver.set_pivot_tolerance(tol);
        self.solver
            .factor_checked(&self.matrix, what)
            .map_err(|e| match e {
                Error::SingularPivot {
                    what,
                    index,
                    pivot,
                    tolerance,
                } => Error::SingularPivot {
                    what,
                    index: self.unknowns[index],
                    pivot,
                    tolerance,
                },
                e => e,
            })?;
        self.solver.trailing_factor(ns, &mut self.trailing);
        Ok(())
    }

    /// Forward substitution on `[b_X; 0]` for the `k` columns of `rhs` (each of length `n`):
    /// leaves `T_X z_X` in `tz`.
    fn forward(&mut self, rhs: &[f64], k: usize, ns: usize) {
        let m = self.unknowns.len();
        let nx = m - ns;
        let n = rhs.len() / k;
        // `work` holds the k right-hand sides interleaved: row i of column c at k·i + c
        for (c, b) in rhs.chunks_exact(n).enumerate() {
            for (w, &i) in self.work[c..k * nx]
                .iter_mut()
                .step_by(k)
                .zip(&self.unknowns)
            {
                *w = b[i];
            }
        }
        self.work[k * nx..k * m].fill(0.0);
        self.solver.l_solve_in_place(&mut self.work[..k * m]);
        let t = MatRef::from_column_major_slice(&self.trailing, ns, ns);
        let z = MatRef::from_row_major_slice(&self.work[k * nx..k * m], ns, k);
        matmul(
            MatMut::from_column_major_slice_mut(&mut self.tz[..ns * k], ns, k),
            BlockStructure::Rectangular,
            Accum::Replace,
            t,
            BlockStructure::TriangularLower,
            z,
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
    }

    /// Back substitution on `[y_X; T_Xᵀ x_S]` for `k` columns (`x_s`: `|S| × k`): `work`
    /// begins with `x_X` (interleaved as in [`forward`](Self::forward)).
    fn backward(&mut self, x_s: &[f64], k: usize, ns: usize) {
        let m = self.unknowns.len();
        let nx = m - ns;
        let t = MatRef::from_column_major_slice(&self.trailing, ns, ns);
        matmul(
            MatMut::from_row_major_slice_mut(&mut self.work[k * nx..k * m], ns, k),
            BlockStructure::Rectangular,
            Accum::Replace,
            t.transpose(),
            BlockStructure::TriangularUpper,
            MatRef::from_column_major_slice(x_s, ns, k),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        self.solver.lt_solve_in_place(&mut self.work[..k * m]);
    }
}

impl SplitCholesky {
    /// Solves `K X = B` in place for `k ≤ COLUMNS` columns of `b` (column-major).
    fn solve_block(&mut self, b: &mut [f64], k: usize) {
        let n = self.n;
        let ns = self.separator.len();
        {
            let [pa, pb] = &mut self.parts;
            let rhs: &[f64] = b;
            crate::parallel::join_if(true, || pa.forward(rhs, k, ns), || pb.forward(rhs, k, ns));
        }
        // x_S = S⁻¹ (b_S + T_A z_A + T_B z_B)
        let [pa, pb] = &self.parts;
        for c in 0..k {
            let col = &b[c * n..(c + 1) * n];
            let rhs_s = &mut self.rhs_s[c * ns..(c + 1) * ns];
            let (ta, tb) = (&pa.tz[c * ns..], &pb.tz[c * ns..]);
            for (j, (r, &i)) in rhs_s.iter_mut().zip(&self.separator).enumerate() {
                *r = col[i] + ta[j] + tb[j];
            }
        }
        let l = MatRef::from_column_major_slice(&self.schur, ns, ns);
        let mut c = MatMut::from_column_major_slice_mut(&mut self.rhs_s[..ns * k], ns, k);
        solve_lower_triangular_in_place(l, c.rb_mut(), Par::Seq);
        solve_upper_triangular_in_place(l.transpose(), c.rb_mut(), Par::Seq);
        {
            let [pa, pb] = &mut self.parts;
            let x_s: &[f64] = &self.rhs_s[..ns * k];
            crate::parallel::join_if(true, || pa.backward(x_s, k, ns), || pb.backward(x_s, k, ns));
        }
        for (c, col) in b.chunks_exact_mut(n).enumerate() {
            for p in &self.parts {
                let nx = p.unknowns.len() - ns;
                let x = p.work[c..k * nx].iter().step_by(k);
                for (&i, &v) in p.unknowns[..nx].iter().zip(x) {
                    col[i] = v;
                }
            }
            for (&i, &v) in self.separator.iter().zip(&self.rhs_s[c * ns..]) {
                col[i] = v;
            }
        }
    }

    fn check_ready(&self, len: usize) -> Result<()> {
        assert!(
            len > 0 && len.is_multiple_of(self.n),
            "SplitCholesky: right-hand sides of another length"
        );
        if self.valid {
            Ok(())
        } else {
            Err(Error::invalid(
                "Cholesky solve",
                "no successful factorization to solve with",
            ))
        }
    }
}

impl Factorization for SplitCholesky {
    fn name(&self) -> &'static str {
        "cholesky"
    }

    fn dim(&self) -> usize {
        self.n
    }

    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.pivot_tolerance = tol;
    }

    /// Numeric factorization of `a` (the analyzed pattern with new values): the two parts on
    /// two threads, then the separator.
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::NotSymmetric`]; [`Error::SingularPivot`] for a
    /// pivot that is not positive (not positive definite, or singular) or below the
    /// tolerance, with its original index.
    ///
    /// # Panics
    /// When `a` does not have the analyzed size and number of entries (a programming error).
    #[track_caller]
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        assert_eq!(
            a.rows(),
            self.n,
            "SplitCholesky::factor: matrix of another size"
        );
        assert_eq!(
            a.nnz(),
            self.nnz,
            "SplitCholesky::factor: matrix of another pattern"
        );
        self.valid = false;
        let ns = self.separator.len();
        let tol = self.pivot_tolerance;
        let values = a.data();
        let [pa, pb] = &mut self.parts;
        let (ra, rb) = crate::parallel::join_if(
            true,
            || pa.gather(values).then(|| pa.factor(ns, tol, what)),
            || pb.gather(values).then(|| pb.factor(ns, tol, what)),
        );
        let (Some(ra), Some(rb)) = (ra, rb) else {
            // a part saw a value that is not finite or not symmetric: the whole-matrix checks
            // name the first in column order
            crate::sparse::finite_max_abs(what, a)?;
            super::check_values_symmetric(a, &mut self.cursor, what)?;
            unreachable!("SplitCholesky: a part's value check disagrees with the matrix's");
        };
        ra?;
        rb?;
        // S = T_A T_Aᵀ + T_B T_Bᵀ − K_SS (lower triangle)
        self.schur.fill(0.0);
        for &(slot, k) in &self.kss {
            self.schur[k] = -values[slot];
        }
        let mut s = MatMut::from_column_major_slice_mut(&mut self.schur, ns, ns);
        for p in &self.parts {
            let t = MatRef::from_column_major_slice(&p.trailing, ns, ns);
            matmul(
                s.rb_mut(),
                BlockStructure::TriangularLower,
                Accum::Add,
                t,
                BlockStructure::TriangularLower,
                t.transpose(),
                BlockStructure::TriangularUpper,
                1.0,
                Par::Seq,
            );
        }
        let mut mem = MemBuffer::new(cholesky_in_place_scratch::<f64>(
            ns,
            Par::Seq,
            Default::default(),
        ));
        let separator = &self.separator;
        let singular = |index: usize, pivot: f64, tolerance: f64| Error::SingularPivot {
            what: what.to_string(),
            index: separator[index],
            pivot,
            tolerance,
        };
        if let Err(LltError::NonPositivePivot { index }) = cholesky_in_place(
            s.rb_mut(),
            LltRegularization::default(),
            Par::Seq,
            MemStack::new(&mut mem),
            Default::default(),
        ) {
            return Err(singular(index, f64::NAN, 0.0));
        }
        let largest = self
            .parts
            .iter()
            .map(|p| p.solver.largest_pivot())
            .chain((0..ns).map(|k| s[(k, k)] * s[(k, k)]))
            .fold(0.0, f64::max);
        let tolerance = tol * largest;
        if let Some(k) = (0..ns).find(|&k| {
            let d = s[(k, k)] * s[(k, k)];
            d.is_nan() || d <= tolerance
        }) {
            return Err(singular(k, s[(k, k)] * s[(k, k)], tolerance));
        }
        self.valid = true;
        Ok(())
    }

    /// Solves `K x = rhs` in place (see the module documentation).
    ///
    /// # Errors
    /// No factorization; [`Error::NumericallySingular`] when the result is not finite.
    fn solve_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        assert_eq!(
            rhs.len(),
            self.n,
            "SplitCholesky: wrong right-hand side length"
        );
        self.solve_columns_in_place(rhs)
    }

    /// Solves `K X = B` in place, two columns per pass over the factor.
    ///
    /// # Errors
    /// As [`solve_in_place`](Self::solve_in_place).
    fn solve_columns_in_place(&mut self, b: &mut [f64]) -> Result<()> {
        self.check_ready(b.len())?;
        for block in b.chunks_mut(COLUMNS * self.n) {
            let k = block.len() / self.n;
            self.solve_block(block, k);
        }
        super::check_solution("df/du", b, self.n)
    }

    /// `Kᵀ = K`: the same solve.
    fn solve_transpose_in_place(&mut self, rhs: &mut [f64]) -> Result<()> {
        self.solve_in_place(rhs)
    }
}
