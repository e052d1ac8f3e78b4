//! `ColumnRuns`, the `indptr`-free plan for `Mᵀx` used by the gradient step, against the
//! plain column loop and a dense product, including outputs large enough for streaming stores.

use adjoint::kernels::STREAMING_THRESHOLD;
use adjoint::sparse::{mul_transpose_add_into, ColumnRuns};
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
