//! `ColumnRuns`, the `indptr`-free plan for `Mᵀx` used by the gradient step, against the
//! plain column loop and a dense product, including outputs large enough for streaming stores.

use super::ColumnRuns;
use crate::sparse::mul_transpose_add_into;
use crate::thresholds::STREAMING_THRESHOLD;
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

/// `rows × Σ len` matrix with runs of `(count, len)` columns; rows drawn at random (distinct
/// within a column).
fn matrix_with_runs(rows: usize, runs: &[(usize, usize)], seed: u64) -> CsMat<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let cols = runs.iter().map(|r| r.1).sum();
    let mut t = TriMat::new((rows, cols));
    let mut j = 0;
    for &(count, len) in runs {
        for _ in 0..len {
            let first = rng.random_range(0..rows);
            for t_ in 0..count {
                t.add_triplet((first + 7 * t_) % rows, j, rng.random::<f64>() - 0.5);
            }
            j += 1;
        }
    }
    t.to_csc()
}

fn dense_mul_transpose(m: &CsMat<f64>, x: &[f64], base: Option<&[f64]>) -> Vec<f64> {
    let mut y = base.map_or(vec![0.0; m.cols()], <[f64]>::to_vec);
    for (&v, (i, j)) in m.iter() {
        y[j] += v * x[i];
    }
    y
}

#[test]
fn runs_match_the_column_loop_and_a_dense_product() {
    let cases: [&[(usize, usize)]; 4] = [
        &[(1, 40)],
        &[(1, 30), (2, 29)],
        &[(0, 3), (3, 50), (4, 20), (6, 17), (2, 1), (0, 5)],
        &[(5, 64), (1, 64)],
    ];
    for (seed, runs) in cases.iter().enumerate() {
        let m = matrix_with_runs(23, runs, seed as u64);
        let plan = ColumnRuns::new(&m).expect("few runs");
        assert_eq!(plan.runs(), *runs);
        let x: Vec<f64> = (0..23).map(|i| (i as f64).cos()).collect();
        let base: Vec<f64> = (0..m.cols()).map(|j| j as f64 * 0.1).collect();
        for b in [None, Some(&base[..])] {
            let mut y = vec![f64::NAN; m.cols()];
            plan.mul_transpose_add(&m, &x, b, &mut y);
            let mut z = vec![f64::NAN; m.cols()];
            mul_transpose_add_into(&m, &x, b, &mut z);
            let reference = dense_mul_transpose(&m, &x, b);
            for j in 0..m.cols() {
                assert!((y[j] - reference[j]).abs() <= 1e-14, "column {j}: {y:?}");
                assert!((z[j] - reference[j]).abs() <= 1e-14, "column {j}");
            }
        }
    }
}

/// Values `1, 2, 3, …` on a pattern.
fn with_values(p: sprs::CsStructure) -> CsMat<f64> {
    let n = p.nnz();
    let (shape, (indptr, indices, _)) = (p.shape(), p.into_raw_storage());
    CsMat::new_csc(shape, indptr, indices, (1..=n).map(|v| v as f64).collect())
}

#[test]
fn banded_columns_form_shifted_segments_that_read_no_indices() {
    use crate::problems::tridiagonal::dfdtheta_pattern;
    for n in [1, 2, 9, 40] {
        let m = with_values(dfdtheta_pattern(n));
        let plan = ColumnRuns::new(&m).unwrap();
        let expected_shifted = if n >= 9 { 2 * n - 1 } else { 0 };
        assert_eq!(plan.shifted_columns(), expected_shifted, "n = {n}");
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
        let mut y = vec![f64::NAN; 2 * n - 1];
        plan.mul_transpose_add(&m, &x, None, &mut y);
        let reference = dense_mul_transpose(&m, &x, None);
        assert_eq!(y.len(), reference.len());
        for (a, b) in y.iter().zip(&reference) {
            assert!((a - b).abs() <= 1e-14 * b.abs().max(1.0));
        }
    }
    // a band interrupted by a gap and a short stretch: shifted, listed, shifted
    let mut t = TriMat::new((30, 30));
    for j in 0..30 {
        let row = match j {
            0..=11 => j,       // shifted
            12..=14 => 29 - j, // listed (going down)
            _ => j - 10,       // shifted again
        };
        t.add_triplet(row, j, 1.0 + j as f64);
        if j >= 15 {
            t.add_triplet(row + 3, j, -(j as f64));
        }
    }
    let m: CsMat<f64> = t.to_csc();
    let plan = ColumnRuns::new(&m).unwrap();
    let kinds: Vec<(usize, usize, bool)> = plan
        .segments()
        .iter()
        .map(|s| (s.count, s.len, s.first_rows.is_some()))
        .collect();
    assert_eq!(kinds, vec![(1, 12, true), (1, 3, false), (2, 15, true)]);
    let x: Vec<f64> = (0..30).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let base: Vec<f64> = (0..30).map(|j| j as f64).collect();
    let mut y = vec![0.0; 30];
    plan.mul_transpose_add(&m, &x, Some(&base), &mut y);
    for (a, b) in y.iter().zip(dense_mul_transpose(&m, &x, Some(&base))) {
        assert!((a - b).abs() <= 1e-14 * b.abs(), "{a} vs {b}");
    }
}

#[test]
fn irregular_patterns_get_no_plan() {
    // alternating 1, 2, 1, 2, … entries: one run per column
    let runs: Vec<(usize, usize)> = (0..64).map(|j| (1 + j % 2, 1)).collect();
    let m = matrix_with_runs(10, &runs, 3);
    assert!(ColumnRuns::new(&m).is_none());
    assert!(ColumnRuns::new(&m.to_csr()).is_none(), "CSR storage");
}

#[test]
fn streaming_outputs_are_exact() {
    // more columns than the streaming threshold, odd count so the tail is exercised
    let len = STREAMING_THRESHOLD / 2 + 3;
    let m = matrix_with_runs(1000, &[(1, len), (2, len)], 5);
    let plan = ColumnRuns::new(&m).unwrap();
    let x: Vec<f64> = (0..1000).map(|i| 1.0 + i as f64).collect();
    let mut y = vec![f64::NAN; m.cols()];
    plan.mul_transpose_add(&m, &x, None, &mut y);
    let mut z = vec![0.0; m.cols()];
    mul_transpose_add_into(&m, &x, None, &mut z);
    assert_eq!(y, z);
    let base = vec![0.5; m.cols()];
    plan.mul_transpose_add(&m, &x, Some(&base), &mut y);
    mul_transpose_add_into(&m, &x, Some(&base), &mut z);
    assert_eq!(y, z);
}

#[test]
fn long_runs_of_empty_columns_write_the_base() {
    // 12 empty columns between two bands (a parameter that enters only L gives one)
    let mut t = TriMat::new((10, 32));
    for j in 0..10 {
        t.add_triplet(j, j, 1.0 + j as f64);
        t.add_triplet(j, 22 + j, 2.0);
    }
    let m: CsMat<f64> = t.to_csc();
    let plan = ColumnRuns::new(&m).unwrap();
    assert_eq!(plan.runs(), vec![(1, 10), (0, 12), (1, 10)]);
    assert!(plan
        .segments()
        .iter()
        .all(|s| s.count > 0 || s.first_rows.is_none()));
    let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
    let base: Vec<f64> = (0..32).map(|j| -(j as f64)).collect();
    for b in [None, Some(&base[..])] {
        let mut y = vec![f64::NAN; 32];
        plan.mul_transpose_add(&m, &x, b, &mut y);
        assert_eq!(y, dense_mul_transpose(&m, &x, b));
    }
}

#[test]
fn the_documented_example() {
    // columns 0..3 hold rows 0..3 (shifted), column 3 rows {0, 2} (listed)
    let mut t = TriMat::new((3, 4));
    for (i, j, v) in [
        (0, 0, 1.0),
        (1, 1, 2.0),
        (2, 2, 3.0),
        (0, 3, 4.0),
        (2, 3, 5.0),
    ] {
        t.add_triplet(i, j, v);
    }
    let m: CsMat<f64> = t.to_csc();
    let plan = ColumnRuns::new(&m).unwrap();
    assert_eq!(plan.runs(), vec![(1, 3), (2, 1)]);
    let mut y = [0.0; 4];
    plan.mul_transpose_add(&m, &[10.0, 100.0, 1000.0], None, &mut y);
    assert_eq!(y, [10.0, 200.0, 3000.0, 5040.0]);
}
