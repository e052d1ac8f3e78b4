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

#[test]
fn a_matrix_that_is_neither_dag_nor_symmetric_is_reported_by_auto() {
    // a 3-cycle with a diagonal: 0 → 1 → 2 → 0
    let n = 3;
    let mut a0 = TriMat::new((n, n));
    for (i, j, v) in [
        (0, 0, 2.0),
        (1, 1, 2.0),
        (2, 2, 2.0),
        (1, 0, 1.0),
        (2, 1, 1.0),
        (0, 2, 1.0),
    ] {
        a0.add_triplet(i, j, v);
    }
    let mut e = TriMat::new((n, n));
    e.add_triplet(0, 0, 1.0);
    let p = ParamLinear::new(&a0.to_csc(), &[e.to_csc()], vec![1.0; 3], vec![1.0; 3]).unwrap();
    match AdjointWorkspace::new(&p, SolverKind::Auto) {
        Err(e @ Error::SolverNotApplicable { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("0 → 1 → 2 → 0") && text.contains("symmetric"),
                "{text}"
            );
        }
        other => panic!("expected SolverNotApplicable, got {other:?}"),
    }
}
