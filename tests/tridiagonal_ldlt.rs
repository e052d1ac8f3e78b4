//! The banded `LDLᵀ` kernel that `Solver` uses for the tridiagonal pattern: the same
//! solutions as sprs-ldl and as an independent pivoting tridiagonal solve (LAPACK's `dgtsv`
//! algorithm), and the same typed errors (non-finite entry, asymmetry, small pivot). The
//! kernel is chosen by `SolverOptions::banded`, apart from the ordering.

mod common;

use adjoint::solve::{Factorization, LdltSolver, Ordering, Solver, SolverKind, SolverOptions};
use adjoint::Error;
use common::{assert_close, gtsv};
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

/// `LDLᵀ` through `Solver`, which gives the tridiagonal pattern the banded kernel.
fn ldlt(p: &sprs::CsStructure) -> Solver {
    Solver::analyze(p, SolverKind::Ldlt).unwrap()
}

fn is_tridiagonal_pattern(p: &sprs::CsStructure) -> bool {
    ldlt(p).kernel() == "banded"
}

fn pattern(m: &CsMat<f64>) -> sprs::CsStructure {
    sprs::CsStructure::new_csc(
        m.shape(),
        m.indptr().to_proper().into_owned(),
        m.indices().to_vec(),
        vec![(); m.nnz()],
    )
}

/// `(diagonal, off-diagonal)` of a random symmetric tridiagonal matrix; every third diagonal
/// entry negative when `indefinite`.
fn random_bands(n: usize, seed: u64, indefinite: bool) -> (Vec<f64>, Vec<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let diag = (0..n)
        .map(|i| {
            let sign = if indefinite && i % 3 == 1 { -1.0 } else { 1.0 };
            sign * (2.5 + rng.random::<f64>())
        })
        .collect();
    let off = (0..n - 1).map(|_| rng.random::<f64>() - 0.5).collect();
    (diag, off)
}

fn assemble(diag: &[f64], off: &[f64]) -> CsMat<f64> {
    let n = diag.len();
    let mut t = TriMat::new((n, n));
    for (i, &d) in diag.iter().enumerate() {
        t.add_triplet(i, i, d);
    }
    for (k, &s) in off.iter().enumerate() {
        t.add_triplet(k + 1, k, s);
        t.add_triplet(k, k + 1, s);
    }
    t.to_csc()
}

#[test]
fn kernel_agrees_with_sprs_ldl_and_a_pivoting_tridiagonal_solve() {
    for (n, seed, indefinite) in [
        (2, 0, false),
        (3, 1, true),
        (10, 2, false),
        (1000, 3, true),
        (1000, 4, false),
    ] {
        let (diag, off) = random_bands(n, seed, indefinite);
        let a = assemble(&diag, &off);
        let p = pattern(&a);
        assert!(is_tridiagonal_pattern(&p));
        let mut banded = ldlt(&p);
        // without the banded kernel the same pattern goes through sprs-ldl
        let mut general =
            Solver::analyze(&p, SolverOptions::from(SolverKind::Ldlt).banded(false)).unwrap();
        assert_eq!((banded.kernel(), general.kernel()), ("banded", "sprs-ldl"));
        assert_eq!((banded.name(), general.name()), ("ldlt", "ldlt"));
        // the kernel is chosen apart from the ordering
        for ordering in [
            Ordering::Natural,
            Ordering::Amd,
            Ordering::ReverseCuthillMcKee,
        ] {
            let o = SolverOptions::from(SolverKind::Auto).ordering(ordering);
            assert_eq!(Solver::analyze(&p, o).unwrap().kernel(), "banded");
        }
        banded.factor(&a, "A").unwrap();
        general.factor(&a, "A").unwrap();

        let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() + 0.5).collect();
        let reference = gtsv(&off, &diag, &off, &b);
        let mut x = b.clone();
        banded.solve_in_place(&mut x).unwrap();
        assert_close(&x, &reference, 1e-12, "banded LDLᵀ vs dgtsv");
        let mut y = b.clone();
        general.solve_in_place(&mut y).unwrap();
        assert_close(&x, &y, 1e-13, "banded LDLᵀ vs sprs-ldl");

        // x = A⁻¹(α b), b untouched
        let mut z = vec![f64::NAN; n];
        banded.solve_scaled_into(&b, -2.0, &mut z).unwrap();
        let expected: Vec<f64> = x.iter().map(|v| -2.0 * v).collect();
        assert_close(&z, &expected, 1e-15, "scaled solve");
        let mut w = vec![f64::NAN; n];
        general.solve_scaled_into(&b, -2.0, &mut w).unwrap();
        assert_close(&w, &expected, 1e-13, "scaled solve (sprs-ldl)");
    }
}

#[test]
fn only_the_full_tridiagonal_pattern_takes_the_kernel() {
    // a missing off-diagonal pair: still symmetric, solved by sprs-ldl, same answer
    let (diag, mut off) = random_bands(8, 7, false);
    off[3] = 0.0;
    let mut t = TriMat::new((8, 8));
    for (i, &d) in diag.iter().enumerate() {
        t.add_triplet(i, i, d);
    }
    for (k, &s) in off.iter().enumerate().filter(|&(k, _)| k != 3) {
        t.add_triplet(k + 1, k, s);
        t.add_triplet(k, k + 1, s);
    }
    let a: CsMat<f64> = t.to_csc();
    assert!(!is_tridiagonal_pattern(&pattern(&a)));
    let mut s = ldlt(&pattern(&a));
    assert_eq!(s.kernel(), "sprs-ldl");
    s.factor(&a, "A").unwrap();
    let b = vec![1.0; 8];
    let mut x = b.clone();
    s.solve_in_place(&mut x).unwrap();
    assert_close(
        &x,
        &gtsv(&off, &diag, &off, &b),
        1e-13,
        "gapped tridiagonal",
    );
    // a diagonal matrix, and the 1×1 case, are not tridiagonal patterns either
    let eye: CsMat<f64> = CsMat::eye(4);
    assert!(!is_tridiagonal_pattern(&pattern(&eye)));
    assert!(!is_tridiagonal_pattern(&pattern(&CsMat::eye(1))));
}

#[test]
fn non_finite_values_are_reported_at_their_position() {
    let (diag, off) = random_bands(6, 9, false);
    let base = assemble(&diag, &off);
    let mut s = ldlt(&pattern(&base));
    assert_eq!(s.kernel(), "banded");
    for (row, col, value) in [
        (0, 0, f64::NAN),
        (3, 2, f64::INFINITY),
        (2, 3, f64::NEG_INFINITY),
        (5, 5, f64::NAN),
    ] {
        let mut a = base.clone();
        *a.get_mut(row, col).unwrap() = value;
        match s.factor(&a, "A") {
            Err(Error::NonFiniteEntry { row: r, col: c, .. }) => {
                assert_eq!((r, c), (row, col), "value {value}")
            }
            other => panic!("expected NonFiniteEntry at ({row}, {col}), got {other:?}"),
        }
        let mut x = vec![1.0; 6];
        assert!(s.solve_in_place(&mut x).is_err(), "no solve after an error");
    }
    s.factor(&base, "A").unwrap();
}

#[test]
fn asymmetric_values_are_reported_with_both_entries() {
    let (diag, off) = random_bands(5, 11, false);
    let mut a = assemble(&diag, &off);
    *a.get_mut(2, 3).unwrap() += 1e-9;
    let mut s = ldlt(&pattern(&a));
    match s.factor(&a, "A") {
        Err(Error::NotSymmetric {
            row,
            col,
            value,
            mirror,
            ..
        }) => {
            assert_eq!((row, col), (3, 2));
            assert_eq!((value, mirror), (off[2], off[2] + 1e-9));
        }
        other => panic!("expected NotSymmetric, got {other:?}"),
    }
}

#[test]
fn zero_and_tiny_pivots_name_the_same_index_as_sprs_ldl() {
    // d_3 = a_3 − (s_2/d_2)·s_2 is exactly zero when a_3 = (s_2/d_2)·s_2 computed the same
    // way (the kernel's recurrence; sprs-ldl computes the same products here)
    let (mut diag, off) = random_bands(7, 13, false);
    let mut d = diag[0];
    for k in 0..2 {
        d = diag[k + 1] - (off[k] / d) * off[k];
    }
    diag[3] = (off[2] / d) * off[2];
    let a = assemble(&diag, &off);
    let p = pattern(&a);
    let mut banded = ldlt(&p);
    let mut general = LdltSolver::analyze_with_permutation(&p, None).unwrap();
    for s in [&mut banded as &mut dyn Factorization, &mut general] {
        match s.factor(&a, "A") {
            Err(Error::SingularPivot {
                index, tolerance, ..
            }) => {
                assert_eq!(index, 3);
                assert!(tolerance >= 0.0); // 0 when sprs-ldl itself stops at the exact zero
            }
            other => panic!("expected SingularPivot at 3, got {other:?}"),
        }
    }
    // a pivot 1e-17 relative to the largest entry is below the default tolerance (1e-14)
    let mut diag2 = vec![1.0; 4];
    diag2[2] = 1e-17;
    let a2 = assemble(&diag2, &[0.0; 3]);
    let mut s = ldlt(&pattern(&a2));
    assert!(matches!(
        s.factor(&a2, "A"),
        Err(Error::SingularPivot { index: 2, .. })
    ));
    // after the errors the same analysis factors a good matrix
    let (diag3, off3) = random_bands(4, 1, true);
    s.factor(&assemble(&diag3, &off3), "A").unwrap();
}
