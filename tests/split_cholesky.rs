//! The two-thread Cholesky over the MBB beam's nested dissection (`SplitCholesky`), above and
//! below `SPLIT_THRESHOLD`, against faer's sequential Cholesky.

mod common;

use adjoint::problem::Jacobians;
use adjoint::problems::topopt::MbbBeam;
use adjoint::solve::{CholeskySolver, Dissection, Factorization, SplitCholesky};
use adjoint::thresholds::SPLIT_THRESHOLD;
use adjoint::{AdjointWorkspace, Error, Solver, SolverKind};
use sprs::CsMat;

fn stiffness(beam: &MbbBeam, seed: usize) -> CsMat<f64> {
    let x: Vec<f64> = (0..beam.n_elements())
        .map(|e| 0.05 + 0.9 * (((e + seed) * 7919) % 101) as f64 / 101.0)
        .collect();
    common::stiffness(beam, &x)
}

#[test]
fn split_solves_like_the_sequential_cholesky() {
    // 150 × 50 is above the threshold, 12 × 5 far below it
    for (nelx, nely, seed) in [(150, 50, 1), (12, 5, 2), (41, 97, 3)] {
        let beam = MbbBeam::new(nelx, nely, 3.0).unwrap();
        let k = stiffness(&beam, seed);
        let pattern = beam.dfdu_pattern();
        let dissection = beam.dfdu_dissection().unwrap();
        let mut split = SplitCholesky::analyze(&pattern, &dissection).unwrap();
        let mut plain = CholeskySolver::analyze(&pattern).unwrap();
        split.factor(&k, "K").unwrap();
        plain.factor(&k, "K").unwrap();
        let n = k.rows();
        let b: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 - 8.0).collect();
        let (mut x, mut y) = (b.clone(), b.clone());
        split.solve_in_place(&mut x).unwrap();
        plain.solve_in_place(&mut y).unwrap();
        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = x
            .iter()
            .zip(&y)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff <= 1e-9 * scale, "{nelx}×{nely}: {diff} vs {scale}");
        // a second factorization with other values reuses the analysis
        let k2 = stiffness(&beam, seed + 10);
        split.factor(&k2, "K").unwrap();
        let mut x2 = b.clone();
        split.solve_in_place(&mut x2).unwrap();
        let mut r = vec![0.0; n];
        sprs::prod::mul_acc_mat_vec_csc(k2.view(), &x2, &mut r);
        let res = r
            .iter()
            .zip(&b)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(res < 1e-6, "{nelx}×{nely}: residual {res}");
    }
}

#[test]
fn the_workspace_splits_above_the_threshold_only() {
    let big = MbbBeam::new(150, 50, 3.0).unwrap();
    assert!(big.n_state_dofs() >= SPLIT_THRESHOLD);
    let small = MbbBeam::new(60, 20, 3.0).unwrap();
    assert!(small.n_state_dofs() < SPLIT_THRESHOLD);
    for (beam, kernel) in [(&big, "faer-cholesky-split"), (&small, "faer-cholesky")] {
        let ws = AdjointWorkspace::new(beam, SolverKind::Auto).unwrap();
        assert_eq!(ws.solver().name(), "cholesky");
        assert_eq!(ws.solver().kernel(), kernel);
    }
}

#[test]
fn the_same_bits_on_one_thread_and_on_two() {
    let beam = MbbBeam::new(150, 50, 3.0).unwrap();
    let x = vec![0.4; beam.n_elements()];
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut ws = AdjointWorkspace::new(&beam, SolverKind::Cholesky).unwrap();
            let c = ws.evaluate(&beam, &x).unwrap();
            (c, ws.gradient().to_vec())
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn a_singular_matrix_is_a_typed_error_with_its_index() {
    // no supports: K is singular, whichever part holds the zero pivot
    let beam = MbbBeam::new(150, 50, 3.0).unwrap();
    let mut k = stiffness(&beam, 4);
    let pattern = beam.dfdu_pattern();
    let d = beam.dfdu_dissection().unwrap();
    let mut split = SplitCholesky::analyze(&pattern, &d).unwrap();
    // zero a separator unknown's row and column (a singular, still symmetric matrix)
    let s = d.order()[d.separator().start];
    let (indptr, indices) = (k.indptr().to_proper().into_owned(), k.indices().to_vec());
    let data = k.data_mut();
    for c in 0..pattern.rows() {
        for slot in indptr[c]..indptr[c + 1] {
            if c == s || indices[slot] == s {
                data[slot] = 0.0;
            }
        }
    }
    match split.factor(&k, "K") {
        Err(Error::SingularPivot { index, .. }) => assert_eq!(index, s),
        other => panic!("expected a singular pivot, got {other:?}"),
    }
    let mut x = vec![1.0; pattern.rows()];
    assert!(split.solve_in_place(&mut x).is_err());
}

#[test]
fn a_value_not_finite_or_not_symmetric_is_named_like_the_sequential_check() {
    // one bad entry in the first part, the second part, the separator: the parts check their
    // own entries on their threads, and the error names the entry as one whole-matrix check
    let beam = MbbBeam::new(150, 50, 3.0).unwrap();
    let good = stiffness(&beam, 5);
    let pattern = beam.dfdu_pattern();
    let d = beam.dfdu_dissection().unwrap();
    let mut split = SplitCholesky::analyze(&pattern, &d).unwrap();
    let (indptr, indices) = (
        good.indptr().to_proper().into_owned(),
        good.indices().to_vec(),
    );
    let off_diagonal_in = |c: usize| {
        (indptr[c]..indptr[c + 1])
            .find(|&s| indices[s] != c)
            .unwrap()
    };
    for c in [
        d.order()[d.first().start + 7],
        d.order()[d.second().end - 3],
        d.order()[d.separator().start + 1],
    ] {
        let slot = off_diagonal_in(c);
        let r = indices[slot];
        for bad in [f64::NAN, f64::INFINITY, 1.5] {
            let mut k = good.clone();
            k.data_mut()[slot] += bad;
            match (split.factor(&k, "K"), bad.is_finite()) {
                (Err(Error::NonFiniteEntry { row, col, .. }), false)
                | (Err(Error::NotSymmetric { row, col, .. }), true) => {
                    assert!(
                        (row, col) == (r, c) || (row, col) == (c, r),
                        "({row}, {col}) for ({r}, {c})"
                    )
                }
                (other, _) => panic!("{bad} at ({r}, {c}): got {other:?}"),
            }
            let mut x = vec![1.0; pattern.rows()];
            assert!(split.solve_in_place(&mut x).is_err());
        }
        // and the good matrix factorizes again afterwards
        split.factor(&good, "K").unwrap();
    }
}

#[test]
fn a_dissection_that_does_not_fit_is_refused() {
    let beam = MbbBeam::new(150, 50, 3.0).unwrap();
    let pattern = beam.dfdu_pattern();
    let n = pattern.rows();
    // natural order split in three: the parts touch
    let natural = Dissection::new((0..n).collect(), n / 3, n / 3).unwrap();
    let e = SplitCholesky::analyze(&pattern, &natural).unwrap_err();
    assert!(e.to_string().contains("joins its two parts"), "{e}");
    let short = Dissection::new((0..10).collect(), 3, 3).unwrap();
    assert!(SplitCholesky::analyze(&pattern, &short).is_err());
    assert!(Dissection::new(vec![0, 1, 1], 1, 1).is_err());
    assert!(Dissection::new(vec![0, 1, 2], 2, 2).is_err());
    // through the solver: Cholesky forced with a bad hint is not applicable
    let hints = adjoint::solve::StructureHints {
        blocks: None,
        dissection: Some(&natural),
    };
    assert!(Solver::analyze_with(&pattern, SolverKind::Cholesky, hints).is_err());
}
