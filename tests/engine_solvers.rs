//! Solver selection inside the engine: a DAG-structured constraint goes to the triangular
//! sweep, a symmetric one to LDLᵀ, a forced solver that does not apply is a typed error; the
//! gradients agree with forward-mode dual numbers either way.

mod common;

use adjoint::problems::linear::ParamLinear;
use adjoint::{AdjointWorkspace, Error, SolverKind};
use common::{assert_close, dual_gradient};
use num_dual::Dual64;
use sprs::{CsMat, TriMat};

/// `A(θ) = 2I + Σ_k θ_k E_k` with strictly lower `E_k` (a DAG), n = 6, 3 parameters.
fn lower_problem() -> (ParamLinear, Vec<(usize, usize, usize, f64)>) {
    let n = 6;
    let mut a0 = TriMat::new((n, n));
    for i in 0..n {
        a0.add_triplet(i, i, 2.0);
    }
    // (k, row, col, value)
    let entries = vec![
        (0, 1, 0, 1.0),
        (0, 3, 2, -0.5),
        (1, 5, 1, 2.0),
        (1, 4, 0, 0.25),
        (2, 5, 3, -1.0),
        (2, 2, 1, 0.5),
    ];
    let mut terms: Vec<TriMat<f64>> = (0..3).map(|_| TriMat::new((n, n))).collect();
    for &(k, i, j, v) in &entries {
        terms[k].add_triplet(i, j, v);
    }
    let terms: Vec<CsMat<f64>> = terms.iter().map(|t| t.to_csc()).collect();
    let b = vec![1.0, -2.0, 0.5, 3.0, 1.5, -1.0];
    let c = vec![0.3, 0.1, -0.7, 1.0, 0.2, 0.9];
    (
        ParamLinear::new(&a0.to_csc(), &terms, b, c).unwrap(),
        entries,
    )
}

fn dense_objective(entries: &[(usize, usize, usize, f64)], theta: &[Dual64]) -> Dual64 {
    let n = 6;
    let mut a = nalgebra::DMatrix::<Dual64>::zeros(n, n);
    for i in 0..n {
        a[(i, i)] = Dual64::from(2.0);
    }
    for &(k, i, j, v) in entries {
        a[(i, j)] += theta[k] * v;
    }
    let b = [1.0, -2.0, 0.5, 3.0, 1.5, -1.0].map(Dual64::from);
    let c = [0.3, 0.1, -0.7, 1.0, 0.2, 0.9];
    let u = a
        .lu()
        .solve(&nalgebra::DVector::from_row_slice(&b))
        .unwrap();
    let cu = u
        .iter()
        .zip(c)
        .fold(Dual64::from(0.0), |s, (&ui, ci)| s + ui * ci);
    cu * cu
}

#[test]
fn a_dag_constraint_uses_the_triangular_sweep_and_its_gradient_is_right() {
    let (p, entries) = lower_problem();
    let theta = [0.7, -0.3, 1.2];
    for kind in [SolverKind::Auto, SolverKind::Triangular] {
        let mut ws = AdjointWorkspace::new(&p, kind).unwrap();
        assert_eq!(ws.solver().name(), "triangular");
        ws.evaluate(&p, &theta).unwrap();
        let reference = dual_gradient(|t| dense_objective(&entries, t), &theta);
        assert_close(ws.gradient(), &reference, 1e-12, "triangular adjoint");
    }
}

#[test]
fn forcing_a_solver_that_does_not_apply_is_a_typed_error() {
    let (p, _) = lower_problem();
    match AdjointWorkspace::new(&p, SolverKind::Ldlt) {
        Err(Error::SolverNotApplicable { solver, reason }) => {
            assert_eq!(solver, "ldlt");
            assert!(reason.contains("not structurally symmetric"), "{reason}");
        }
        other => panic!("expected SolverNotApplicable, got {other:?}"),
    }
    let (tri, _) = adjoint::problems::tridiagonal::Tridiagonal::random(5, 0).unwrap();
    match AdjointWorkspace::new(&tri, SolverKind::Triangular) {
        Err(Error::SolverNotApplicable { solver, reason }) => {
            assert_eq!(solver, "triangular");
            assert!(reason.contains("cycle"), "{reason}");
        }
        other => panic!("expected SolverNotApplicable, got {other:?}"),
    }
}

/// A(θ) with a 3-cycle 0 → 1 → 2 → 0 plus θ-dependent entries: neither a DAG nor symmetric.
fn cyclic_problem() -> (ParamLinear, impl Fn(&[Dual64]) -> Dual64) {
    let n = 3;
    let base = [
        (0, 0, 2.0),
        (1, 1, 2.0),
        (2, 2, 2.0),
        (1, 0, 1.0),
        (2, 1, 1.0),
        (0, 2, 1.0),
    ];
    let terms = [
        vec![(0, 0, 1.0), (0, 1, 0.5)],
        vec![(2, 0, -1.0), (1, 1, 0.3)],
    ];
    let mut a0 = TriMat::new((n, n));
    for (i, j, v) in base {
        a0.add_triplet(i, j, v);
    }
    let es: Vec<CsMat<f64>> = terms
        .iter()
        .map(|t| {
            let mut e = TriMat::new((n, n));
            for &(i, j, v) in t {
                e.add_triplet(i, j, v);
            }
            e.to_csc()
        })
        .collect();
    let b = vec![1.0, -1.0, 0.5];
    let c = vec![0.2, 0.7, -0.4];
    let p = ParamLinear::new(&a0.to_csc(), &es, b.clone(), c.clone()).unwrap();
    let f = move |theta: &[Dual64]| {
        let mut a = nalgebra::DMatrix::<Dual64>::zeros(n, n);
        for (i, j, v) in base {
            a[(i, j)] += Dual64::from(v);
        }
        for (k, t) in terms.iter().enumerate() {
            for &(i, j, v) in t {
                a[(i, j)] += theta[k] * v;
            }
        }
        let bb = nalgebra::DVector::from_iterator(n, b.iter().map(|&x| Dual64::from(x)));
        let u = a.lu().solve(&bb).unwrap();
        let cu = u
            .iter()
            .zip(&c)
            .fold(Dual64::from(0.0), |s, (&ui, &ci)| s + ui * ci);
        cu * cu
    };
    (p, f)
}

#[test]
fn a_matrix_that_is_neither_dag_nor_symmetric_goes_to_lu() {
    let (p, f) = cyclic_problem();
    let theta = [0.4, 0.9];
    for kind in [SolverKind::Auto, SolverKind::Lu] {
        let mut ws = AdjointWorkspace::new(&p, kind).unwrap();
        assert_eq!(ws.solver().name(), "lu");
        ws.evaluate(&p, &theta).unwrap();
        assert_close(
            ws.gradient(),
            &dual_gradient(&f, &theta),
            1e-12,
            "LU adjoint",
        );
    }
    assert!(matches!(
        AdjointWorkspace::new(&p, SolverKind::Triangular),
        Err(Error::SolverNotApplicable { .. })
    ));
}

#[test]
fn lu_also_solves_the_symmetric_and_dag_problems() {
    let (p, entries) = lower_problem();
    let theta = [0.7, -0.3, 1.2];
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Lu).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    let reference = dual_gradient(|t| dense_objective(&entries, t), &theta);
    assert_close(ws.gradient(), &reference, 1e-12, "LU on a DAG");
    let (tri, theta) = adjoint::problems::tridiagonal::Tridiagonal::random(30, 4).unwrap();
    let mut a = AdjointWorkspace::new(&tri, SolverKind::Lu).unwrap();
    let mut b = AdjointWorkspace::new(&tri, SolverKind::Ldlt).unwrap();
    a.evaluate(&tri, &theta).unwrap();
    b.evaluate(&tri, &theta).unwrap();
    assert_close(a.gradient(), b.gradient(), 1e-9, "LU vs LDLᵀ");
}

#[test]
fn auto_switches_from_ldlt_to_lu_when_values_are_not_symmetric() {
    // symmetric pattern (tridiagonal), asymmetric values through one term
    let n = 4;
    let mut a0 = TriMat::new((n, n));
    for i in 0..n {
        a0.add_triplet(i, i, 3.0);
        if i + 1 < n {
            a0.add_triplet(i, i + 1, 1.0);
            a0.add_triplet(i + 1, i, 1.0);
        }
    }
    let mut e = TriMat::new((n, n));
    e.add_triplet(0, 1, 1.0); // only the upper entry moves with θ
    let p = ParamLinear::new(
        &a0.to_csc(),
        &[e.to_csc()],
        vec![1.0; n],
        vec![1.0, 0.0, 0.0, 1.0],
    )
    .unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    assert_eq!(ws.solver().name(), "ldlt");
    ws.evaluate(&p, &[0.0]).unwrap(); // symmetric at θ = 0
    assert_eq!(ws.solver().name(), "ldlt");
    let g0 = ws.gradient()[0];
    ws.evaluate(&p, &[0.5]).unwrap(); // asymmetric
    assert_eq!(ws.solver().name(), "lu");
    let fd = {
        let l = |t: f64| {
            let mut w = AdjointWorkspace::new(&p, SolverKind::Lu).unwrap();
            w.evaluate(&p, &[t]).unwrap()
        };
        (l(0.5 + 1e-6) - l(0.5 - 1e-6)) / 2e-6
    };
    assert!(
        (ws.gradient()[0] - fd).abs() < 1e-6 * fd.abs().max(1.0),
        "{} vs {fd}",
        ws.gradient()[0]
    );
    assert!(g0.is_finite());
    // forced LDLᵀ reports the asymmetry instead
    let mut forced = AdjointWorkspace::new(&p, SolverKind::Ldlt).unwrap();
    assert!(matches!(
        forced.evaluate(&p, &[0.5]),
        Err(Error::NotSymmetric { .. })
    ));
}

#[test]
fn a_numerically_singular_matrix_is_an_error_for_every_solver() {
    // A(θ) = θ_0 E: singular at θ = 0
    let n = 3;
    let mut e = TriMat::new((n, n));
    for (i, j) in [(0, 0), (1, 1), (2, 2), (1, 0), (0, 2)] {
        e.add_triplet(i, j, 1.0);
    }
    let zero: CsMat<f64> = TriMat::new((n, n)).to_csc();
    let p = ParamLinear::new(&zero, &[e.to_csc()], vec![1.0; n], vec![1.0; n]).unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Lu).unwrap();
    let err = ws.evaluate(&p, &[0.0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SingularPivot { .. } | Error::NumericallySingular { .. }
        ),
        "{err:?}"
    );
    ws.evaluate(&p, &[1.0]).unwrap();
}

/// One options type reaches every knob from the workspace: kind, ordering and pivot
/// tolerance; a `SolverKind` alone still works.
#[test]
fn solver_options_reach_ordering_and_pivot_tolerance() {
    use adjoint::problems::tridiagonal::Tridiagonal;
    use adjoint::solve::{Ordering, SolverOptions};
    let (p, mut theta) = Tridiagonal::random(40, 3).unwrap();
    theta[..40].iter_mut().for_each(|d| *d += 3.0);
    let mut base = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    base.evaluate(&p, &theta).unwrap();
    for ordering in [
        Ordering::Natural,
        Ordering::Amd,
        Ordering::ReverseCuthillMcKee,
    ] {
        let o = SolverOptions::from(SolverKind::Ldlt).ordering(ordering);
        let mut ws = AdjointWorkspace::new(&p, o).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        assert_eq!(ws.solver().name(), "ldlt");
        assert_close(
            ws.gradient(),
            base.gradient(),
            1e-12,
            &format!("{ordering:?}"),
        );
    }
    // a tolerance of 0.5 calls this well-conditioned matrix singular (its pivots differ by
    // more than 2×), for every solver
    for kind in [SolverKind::Ldlt, SolverKind::Lu] {
        let o = SolverOptions::from(kind).pivot_tolerance(0.99);
        let mut ws = AdjointWorkspace::new(&p, o).unwrap();
        let e = ws.evaluate(&p, &theta).unwrap_err();
        assert!(e.to_string().contains("singular"), "{kind:?}: {e}");
    }
    for bad in [-1e-3, 1.0, f64::NAN] {
        let o = SolverOptions::default().pivot_tolerance(bad);
        assert!(AdjointWorkspace::new(&p, o).is_err(), "{bad}");
    }
}
