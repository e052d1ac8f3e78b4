//! The LDLᵀ backend: solves against a dense LU, and every failure mode sprs-ldl leaves to us
//! (asymmetry, NaN, zero and tiny pivots) is a typed error, never a panic.

mod common;

use adjoint::solve::Factorization;
use adjoint::solve::{LdltSolver, Ordering};
use adjoint::Error;
use common::assert_close;
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

fn pattern(m: &CsMat<f64>) -> sprs::CsStructure {
    sprs::CsStructure::new_csc(
        m.shape(),
        m.indptr().to_proper().into_owned(),
        m.indices().to_vec(),
        vec![(); m.nnz()],
    )
}

fn dense_solve(m: &CsMat<f64>, b: &[f64]) -> Vec<f64> {
    let n = m.rows();
    let mut a = nalgebra::DMatrix::<f64>::zeros(n, n);
    for (&v, (i, j)) in m.iter() {
        a[(i, j)] += v;
    }
    a.lu()
        .solve(&nalgebra::DVector::from_column_slice(b))
        .unwrap()
        .as_slice()
        .to_vec()
}

/// A random sparse symmetric matrix with a dominant diagonal (optionally indefinite).
fn random_symmetric(n: usize, density: f64, seed: u64, indefinite: bool) -> CsMat<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut t = TriMat::new((n, n));
    for i in 0..n {
        let sign = if indefinite && i % 3 == 0 { -1.0 } else { 1.0 };
        t.add_triplet(
            i,
            i,
            sign * (n as f64 * density + 2.0 + rng.random::<f64>()),
        );
        for j in 0..i {
            if rng.random::<f64>() < density {
                let v = rng.random::<f64>() - 0.5;
                t.add_triplet(i, j, v);
                t.add_triplet(j, i, v);
            }
        }
    }
    t.to_csc()
}

#[test]
fn solves_match_a_dense_lu_for_every_ordering() {
    for (n, seed, indefinite) in [(1, 0, false), (2, 1, true), (30, 2, false), (120, 3, true)] {
        let a = random_symmetric(n, 0.08, seed, indefinite);
        let b: Vec<f64> = (0..n).map(|i| (i as f64).sin() + 1.0).collect();
        let reference = dense_solve(&a, &b);
        for ordering in [
            Ordering::Auto,
            Ordering::Natural,
            Ordering::ReverseCuthillMcKee,
        ] {
            let mut s = LdltSolver::analyze(&pattern(&a), ordering).unwrap();
            s.factor(&a, "A").unwrap();
            let mut x = b.clone();
            s.solve_in_place(&mut x).unwrap();
            assert_close(&x, &reference, 1e-12, &format!("n={n} {ordering:?}"));
        }
    }
}

#[test]
fn refactoring_new_values_on_the_same_pattern_reuses_the_analysis() {
    let a1 = random_symmetric(80, 0.1, 4, false);
    let mut a2 = a1.clone();
    a2.data_mut().iter_mut().for_each(|v| *v *= 1.5);
    let mut s = LdltSolver::analyze(&pattern(&a1), Ordering::ReverseCuthillMcKee).unwrap();
    let b = vec![1.0; 80];
    for a in [&a1, &a2, &a1] {
        s.factor(a, "A").unwrap();
        let mut x = b.clone();
        s.solve_in_place(&mut x).unwrap();
        assert_close(&x, &dense_solve(a, &b), 1e-12, "refactor");
    }
}

#[test]
fn asymmetric_values_are_reported_with_their_position() {
    let mut t = TriMat::new((3, 3));
    for (i, j, v) in [
        (0, 0, 2.0),
        (1, 1, 2.0),
        (2, 2, 2.0),
        (2, 0, 1.0),
        (0, 2, 1.5),
    ] {
        t.add_triplet(i, j, v);
    }
    let a: CsMat<f64> = t.to_csc();
    let mut s = LdltSolver::analyze(&pattern(&a), Ordering::Auto).unwrap();
    match s.factor(&a, "A") {
        Err(Error::NotSymmetric {
            row,
            col,
            value,
            mirror,
            ..
        }) => {
            assert_eq!((row, col, value, mirror), (2, 0, 1.0, 1.5));
        }
        other => panic!("expected NotSymmetric, got {other:?}"),
    }
}

#[test]
fn asymmetric_pattern_is_reported_at_analysis() {
    let mut t = TriMat::new((3, 3));
    for (i, j) in [(0, 0), (1, 1), (2, 2), (2, 1)] {
        t.add_triplet(i, j, 1.0);
    }
    let a: CsMat<f64> = t.to_csc();
    match LdltSolver::analyze(&pattern(&a), Ordering::Auto) {
        Err(Error::PatternNotSymmetric { row, col, .. }) => assert_eq!((row, col), (2, 1)),
        other => panic!("expected PatternNotSymmetric, got {other:?}"),
    }
}

#[test]
fn nan_and_infinity_are_reported_with_their_position() {
    let mut a = random_symmetric(10, 0.2, 5, false);
    let mut s = LdltSolver::analyze(&pattern(&a), Ordering::Auto).unwrap();
    let k = a.nnz() / 2;
    let (row, col) = a.iter().nth(k).map(|(_, rc)| rc).unwrap();
    a.data_mut()[k] = f64::NAN;
    match s.factor(&a, "A") {
        Err(Error::NonFiniteEntry { row: r, col: c, .. }) => assert_eq!((r, c), (row, col)),
        other => panic!("expected NonFiniteEntry, got {other:?}"),
    }
    a.data_mut()[k] = f64::INFINITY;
    assert!(matches!(
        s.factor(&a, "A"),
        Err(Error::NonFiniteEntry { .. })
    ));
}

#[test]
fn zero_and_tiny_pivots_are_errors_naming_the_index() {
    // [[0, 1], [1, 0]] is nonsingular but has no LDLᵀ without pivoting.
    let mut t = TriMat::new((2, 2));
    t.add_triplet(0, 1, 1.0);
    t.add_triplet(1, 0, 1.0);
    t.add_triplet(0, 0, 0.0);
    t.add_triplet(1, 1, 0.0);
    let a: CsMat<f64> = t.to_csc();
    let mut s = LdltSolver::analyze(&pattern(&a), Ordering::Natural).unwrap();
    match s.factor(&a, "A") {
        Err(Error::SingularPivot { index, .. }) => assert_eq!(index, 0),
        other => panic!("expected SingularPivot, got {other:?}"),
    }
    let mut x = vec![1.0, 1.0];
    assert!(
        s.solve_in_place(&mut x).is_err(),
        "no solve after a failed factorization"
    );

    // a pivot of 1e-17 relative to the largest entry passes sprs-ldl but not us
    let mut t = TriMat::new((3, 3));
    for (i, j, v) in [
        (0, 0, 1.0),
        (1, 1, 1.0),
        (0, 1, 1.0),
        (1, 0, 1.0),
        (2, 2, 1.0),
    ] {
        t.add_triplet(i, j, v);
    }
    let mut a: CsMat<f64> = t.to_csc();
    let k11 = a.nnz_index(1, 1).unwrap().0;
    a.data_mut()[k11] = 1.0 + 1e-17; // 1 + 1e-17 == 1: exact zero
    let mut s = LdltSolver::analyze(&pattern(&a), Ordering::Natural).unwrap();
    assert!(matches!(
        s.factor(&a, "A"),
        Err(Error::SingularPivot { index: 1, .. })
    ));
    a.data_mut()[k11] = 1.0 + 4e-16;
    match s.factor(&a, "A") {
        Err(Error::SingularPivot { index, pivot, .. }) => {
            assert_eq!(index, 1);
            assert!(pivot.abs() < 1e-15 && pivot != 0.0);
        }
        other => panic!("expected SingularPivot for a tiny pivot, got {other:?}"),
    }
    // after the error, a good matrix factors again on the same analysis
    a.data_mut()[k11] = 3.0;
    s.factor(&a, "A").unwrap();
}

#[test]
fn singular_pivot_index_is_in_the_callers_numbering_under_a_permutation() {
    // zero the 4th diagonal of a diagonal matrix under a reversing permutation
    let n = 6;
    let mut t = TriMat::new((n, n));
    for i in 0..n {
        t.add_triplet(i, i, if i == 3 { 0.0 } else { 1.0 });
    }
    let a: CsMat<f64> = t.to_csc();
    let perm: Vec<usize> = (0..n).rev().collect();
    let mut s = LdltSolver::analyze_with_permutation(&pattern(&a), Some(perm)).unwrap();
    assert!(matches!(
        s.factor(&a, "A"),
        Err(Error::SingularPivot { index: 3, .. })
    ));
}

#[test]
fn a_bad_permutation_is_an_error() {
    let a = random_symmetric(4, 0.5, 1, false);
    for perm in [vec![0, 1, 2], vec![0, 1, 1, 3], vec![0, 1, 2, 9]] {
        assert!(matches!(
            LdltSolver::analyze_with_permutation(&pattern(&a), Some(perm)),
            Err(Error::Invalid { .. })
        ));
    }
}

#[test]
fn non_square_input_is_an_error() {
    let a: CsMat<f64> = TriMat::<f64>::new((2, 3)).to_csc();
    assert!(matches!(
        LdltSolver::analyze(&pattern(&a), Ordering::Auto),
        Err(Error::Shape { .. })
    ));
    let e: CsMat<f64> = TriMat::<f64>::new((0, 0)).to_csc();
    assert!(LdltSolver::analyze(&pattern(&e), Ordering::Auto).is_err());
}

/// The 5-point Laplacian on a k × k grid.
fn grid_laplacian(k: usize) -> CsMat<f64> {
    let n = k * k;
    let mut t = TriMat::new((n, n));
    for x in 0..k {
        for y in 0..k {
            let i = x * k + y;
            t.add_triplet(i, i, 4.0);
            if x + 1 < k {
                t.add_triplet(i, i + k, -1.0);
                t.add_triplet(i + k, i, -1.0);
            }
            if y + 1 < k {
                t.add_triplet(i, i + 1, -1.0);
                t.add_triplet(i + 1, i, -1.0);
            }
        }
    }
    t.to_csc()
}

#[test]
fn auto_ordering_picks_the_sparsest_factor_and_amd_beats_natural_on_a_grid() {
    let a = grid_laplacian(20);
    let p = pattern(&a);
    let nnz = |o: Ordering| LdltSolver::analyze(&p, o).unwrap().factor_nnz();
    let (natural, rcm, amd, auto) = (
        nnz(Ordering::Natural),
        nnz(Ordering::ReverseCuthillMcKee),
        nnz(Ordering::Amd),
        nnz(Ordering::Auto),
    );
    assert!(
        amd < natural && rcm < natural,
        "natural {natural}, rcm {rcm}, amd {amd}"
    );
    assert_eq!(auto, natural.min(rcm).min(amd));
    let b: Vec<f64> = (0..400).map(|i| (i % 7) as f64).collect();
    let mut s = LdltSolver::analyze(&p, Ordering::Amd).unwrap();
    s.factor(&a, "A").unwrap();
    let mut x = b.clone();
    s.solve_in_place(&mut x).unwrap();
    assert_close(&x, &dense_solve(&a, &b), 1e-12, "AMD-ordered solve");
}
