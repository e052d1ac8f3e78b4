//! One rule for "singular" in every solver, `|p_k| ≤ tol · max_j |p_j|` over the pivots, and
//! no overflow in the tests themselves: scaling a matrix by a power of two changes no verdict
//! and scales the solution exactly; unit triangular matrices are never singular.

use adjoint::dag::DagPattern;
use adjoint::solve::Factorization;
use adjoint::solve::{LdltSolver, LuSolver, Ordering, Solver, SolverKind, TriangularSolver};
use adjoint::sparse::pattern_of;
use adjoint::Error;
use sprs::{CsMat, TriMat};

fn csc(n: usize, entries: &[(usize, usize, f64)]) -> CsMat<f64> {
    let mut t = TriMat::new((n, n));
    for &(i, j, v) in entries {
        t.add_triplet(i, j, v);
    }
    t.to_csc()
}

fn scaled(m: &CsMat<f64>, s: f64) -> CsMat<f64> {
    m.map(|v| v * s)
}

/// A well-conditioned 5×5 symmetric tridiagonal (diagonal 4, off-diagonal −1, one asymmetric
/// diagonal so the pivots differ).
fn tridiagonal5() -> CsMat<f64> {
    let mut e = Vec::new();
    for i in 0..5 {
        e.push((i, i, 4.0 + i as f64 * 0.25));
        if i + 1 < 5 {
            e.push((i + 1, i, -1.0));
            e.push((i, i + 1, -1.0));
        }
    }
    csc(5, &e)
}

/// Solves `A x = b` with every solver that applies, by name.
fn solve_all(a: &CsMat<f64>, b: &[f64]) -> Vec<(&'static str, adjoint::Result<Vec<f64>>)> {
    let p = pattern_of(a);
    let mut out = Vec::new();
    let mut run = |name: &'static str, f: &mut dyn FnMut(&mut [f64]) -> adjoint::Result<()>| {
        let mut x = b.to_vec();
        out.push((name, f(&mut x).map(|()| x)));
    };
    for (name, ordering) in [
        ("ldlt banded", Ordering::Auto),
        ("ldlt natural", Ordering::Natural),
        ("ldlt amd", Ordering::Amd),
    ] {
        run(name, &mut |x| {
            let mut s = LdltSolver::analyze(&p, ordering)?;
            s.factor(a, "A")?;
            s.solve_in_place(x)
        });
    }
    run("lu", &mut |x| {
        let mut s = LuSolver::analyze(&p)?;
        s.factor(a, "A")?;
        s.solve_in_place(x)
    });
    out
}

#[test]
fn entries_near_1e200_factor_like_entries_near_1() {
    let a = tridiagonal5();
    let b = [1.0, -2.0, 0.5, 3.0, 1.0];
    // 2^665 ≈ 1.3·10²⁰⁰: exact scaling, so the solution must scale exactly too
    let s = 2f64.powi(665);
    let big = scaled(&a, s);
    let reference = solve_all(&a, &b);
    for ((name, x), (_, x_big)) in reference.into_iter().zip(solve_all(&big, &b)) {
        let x = x.unwrap_or_else(|e| panic!("{name} on A: {e}"));
        let x_big = x_big.unwrap_or_else(|e| panic!("{name} on 2^665 A: {e}"));
        for (u, v) in x.iter().zip(&x_big) {
            assert_eq!(*u, v * s, "{name}: the solution does not scale exactly");
        }
    }
    // and the same at the other end of the range
    let tiny = scaled(&a, 2f64.powi(-1000));
    for (name, x) in solve_all(&tiny, &b) {
        let x = x.unwrap_or_else(|e| panic!("{name} on 2^-1000 A: {e}"));
        assert!(x.iter().all(|v| v.is_finite()), "{name}: {x:?}");
    }
}

#[test]
fn every_solver_calls_a_nearly_singular_matrix_singular() {
    // [[1, 1], [1, 1 + 2^-50]]: the pivots are 1 and 2^-50 ≈ 8.9e-16 ≤ 1e-14 · 1
    let a = csc(
        2,
        &[
            (0, 0, 1.0),
            (1, 0, 1.0),
            (0, 1, 1.0),
            (1, 1, 1.0 + 2f64.powi(-50)),
        ],
    );
    for (name, x) in solve_all(&a, &[1.0, 1.0]) {
        match x {
            Err(Error::SingularPivot {
                index, tolerance, ..
            }) => {
                assert_eq!(tolerance, 1e-14, "{name}");
                assert!(index < 2, "{name}");
            }
            other => panic!("{name}: expected SingularPivot, got {other:?}"),
        }
    }
    // scaled by 2^600, the same verdict
    let big = scaled(&a, 2f64.powi(600));
    for (name, x) in solve_all(&big, &[1.0, 1.0]) {
        assert!(
            matches!(x, Err(Error::SingularPivot { .. })),
            "{name}: {x:?}"
        );
    }
    // a pivot just above the tolerance is accepted by all
    let ok = csc(
        2,
        &[
            (0, 0, 1.0),
            (1, 0, 1.0),
            (0, 1, 1.0),
            (1, 1, 1.0 + 2f64.powi(-40)),
        ],
    );
    for (name, x) in solve_all(&ok, &[1.0, 1.0]) {
        assert!(x.is_ok(), "{name}: {x:?}");
    }
}

#[test]
fn the_triangular_sweep_follows_the_same_rule() {
    let l = |d: f64| {
        csc(
            3,
            &[
                (0, 0, 1.0),
                (1, 0, 2.0),
                (1, 1, d),
                (2, 1, 1.0),
                (2, 2, 1.0),
            ],
        )
    };
    let check = |m: &CsMat<f64>| -> adjoint::Result<()> {
        let mut s = TriangularSolver::new(DagPattern::check(m.view())?)?;
        s.factor(m, "L")
    };
    // 1e-14 · max |l_kk| = 1e-14
    match check(&l(0.5e-14)) {
        Err(Error::SingularPivot {
            index, tolerance, ..
        }) => {
            assert_eq!(index, 1);
            assert_eq!(tolerance, 1e-14);
        }
        other => panic!("expected SingularPivot, got {other:?}"),
    }
    check(&l(2e-14)).unwrap();
    check(&l(0.0)).unwrap_err();
    // scale-invariant: everything tiny is fine, everything huge keeps the verdict
    check(&scaled(&l(0.5), 2f64.powi(-1000))).unwrap();
    assert!(matches!(
        check(&scaled(&l(0.5e-14), 2f64.powi(900))),
        Err(Error::SingularPivot { index: 1, .. })
    ));
    // a unit triangular matrix is never singular, however large its other entries (a
    // network's L with huge weights)
    let unit = csc(
        3,
        &[
            (0, 0, 1.0),
            (1, 0, 1e200),
            (1, 1, 1.0),
            (2, 1, -1e250),
            (2, 2, 1.0),
        ],
    );
    check(&unit).unwrap();
}

#[test]
fn auto_switches_to_lu_when_a_symmetric_solver_meets_a_zero_pivot() {
    let a = csc(2, &[(1, 0, 1.0), (0, 1, 1.0)]);
    // a symmetric pattern: Cholesky, which this indefinite matrix defeats
    let mut auto = Solver::analyze(&pattern_of(&a), SolverKind::Auto).unwrap();
    assert_eq!(auto.name(), "cholesky");
    assert_eq!(auto.fallback(), None);
    auto.factor(&a, "A").unwrap();
    assert_eq!(auto.name(), "lu");
    let why = auto.fallback().expect("the switch is reported");
    assert!(why.contains("pivot") && why.contains("LU"), "{why}");
    let mut x = vec![2.0, 3.0];
    auto.solve_in_place(&mut x).unwrap();
    assert_eq!(x, vec![3.0, 2.0]);
    // a forced LDLᵀ reports the pivot instead
    let mut ldlt = Solver::analyze(&pattern_of(&a), SolverKind::Ldlt).unwrap();
    assert!(matches!(
        ldlt.factor(&a, "A"),
        Err(Error::SingularPivot { index: 0, .. })
    ));
    // a matrix singular for LU too is reported as singular, not solved
    let s = csc(2, &[(0, 0, 1.0), (1, 0, 1.0), (0, 1, 1.0), (1, 1, 1.0)]);
    let mut auto = Solver::analyze(&pattern_of(&s), SolverKind::Auto).unwrap();
    assert!(matches!(
        auto.factor(&s, "A"),
        Err(Error::SingularPivot { .. })
    ));
}
