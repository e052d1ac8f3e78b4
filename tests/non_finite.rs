//! Results that overflow or become NaN are typed errors naming what and where, on every path;
//! the CLI exits 1 and writes no export.

use adjoint::problems::mlp::fast::MlpGradient;
use adjoint::problems::mlp::train::{gradient_descent, GradientPath};
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, Error, SolverKind};
use std::process::Command;

fn is_objective_overflow(e: &Error) -> bool {
    matches!(e, Error::NonFiniteScalar { what, value } if what == "objective L" && value.is_infinite())
}

#[test]
fn a_huge_objective_vector_is_an_overflow_error_with_every_solver() {
    let (p, theta) = Tridiagonal::random(50, 3).unwrap();
    let huge = Tridiagonal::new(vec![1e300; 50], p.b().to_vec()).unwrap();
    for kind in [SolverKind::Auto, SolverKind::Ldlt, SolverKind::Lu] {
        let mut ws = AdjointWorkspace::new(&huge, kind).unwrap();
        let e = ws.evaluate(&huge, &theta).unwrap_err();
        assert!(is_objective_overflow(&e), "{kind}: {e}");
        assert!(ws.objective().is_nan());
        assert!(e.to_string().contains("objective L is not finite (inf)"));
    }
    // the same problem with moderate c is fine: the check does not fire on good input
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    assert!(ws.evaluate(&p, &theta).unwrap().is_finite());
}

#[test]
fn network_overflows_are_errors_on_both_paths() {
    let layers = [4, 3, 2];
    for (target, rho) in [(Target::Scalar(1e300), 0.0), (Target::Scalar(1.0), 1e308)] {
        let (mlp, theta) = Mlp::random(&layers, Activation::Tanh, target.clone(), rho, 1).unwrap();
        let mut fast = MlpGradient::new(&mlp);
        let e = fast.evaluate(&mlp, &theta).unwrap_err();
        assert!(
            matches!(e, Error::NonFiniteScalar { .. } | Error::NonFinite { .. }),
            "{e}"
        );
        let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
        let e = ws.evaluate(&mlp, &theta).unwrap_err();
        assert!(
            matches!(e, Error::NonFiniteScalar { .. } | Error::NonFinite { .. }),
            "{e}"
        );
    }
}

#[test]
fn a_diverging_descent_names_its_iteration() {
    let (mlp, theta0) = Mlp::random(
        &[5, 4, 1],
        Activation::Identity,
        Target::Scalar(3.0),
        0.0,
        2,
    )
    .unwrap();
    for path in [GradientPath::Fast, GradientPath::Explicit] {
        let mut theta = theta0.clone();
        let e = gradient_descent(&mlp, &mut theta, 1e8, 200, path, |_, _| {}).unwrap_err();
        match &e {
            Error::Diverged { iteration, .. } => assert!(*iteration >= 1, "{e}"),
            other => panic!("{path:?}: expected Diverged, got {other}"),
        }
        assert!(e.to_string().starts_with("training diverged at iteration"));
        // a sane rate does not diverge
        let mut theta = theta0.clone();
        gradient_descent(&mlp, &mut theta, 1e-3, 20, path, |_, _| {}).unwrap();
    }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_exits_1_and_exports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("out");
    let e = export.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["mlp", "--target", "1e300", "--export", e],
            "objective L is not finite",
        ),
        (vec!["mlp", "--reg", "1e308", "--export", e], "not finite"),
        (
            vec!["mlp", "--train", "100", "--lr", "1e6", "--export", e],
            "diverged at iteration",
        ),
        (
            vec![
                "mlp", "--train", "100", "--lr", "1e6", "--path", "explicit", "--export", e,
            ],
            "diverged at iteration",
        ),
    ] {
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains("NaN"));
        assert!(!export.exists(), "{args:?} left an export");
    }
}

#[test]
fn a_vanishing_diagonal_gets_one_verdict_from_every_solver() {
    for n in [5, 6, 51, 52] {
        let (p, mut theta) = Tridiagonal::random(n, 7).unwrap();
        theta[..n].iter_mut().for_each(|t| *t = 1e-300);
        let results: Vec<_> = [SolverKind::Auto, SolverKind::Ldlt, SolverKind::Lu]
            .into_iter()
            .map(|kind| {
                let mut ws = AdjointWorkspace::new(&p, kind).unwrap();
                ws.evaluate(&p, &theta).map(|_| ws.gradient().to_vec())
            })
            .collect();
        // Auto (LDLᵀ, falling back to LU on a small pivot) answers exactly when LU does; a
        // forced LDLᵀ, which cannot pivot, may refuse with a typed pivot error; whoever
        // answers gives finite values that agree
        assert_eq!(
            results[0].is_ok(),
            results[2].is_ok(),
            "n = {n}: {results:?}"
        );
        if let Err(e) = &results[1] {
            assert!(matches!(e, Error::SingularPivot { .. }), "n = {n}: {e}");
        }
        let answers: Vec<&Vec<f64>> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        for g in &answers {
            assert!(g.iter().all(|x| x.is_finite()));
            for (x, y) in g.iter().zip(answers[0]) {
                assert!(
                    (x - y).abs() <= 1e-8 * x.abs().max(1.0),
                    "n = {n}: {x} vs {y}"
                );
            }
        }
    }
}

/// The fast path checks θ through the pre-activations, not by a pass over θ: a NaN or an
/// infinity anywhere in θ — also in a column whose input is exactly zero, and with an
/// activation that maps `+∞` to a finite value — is still the error naming `theta[i]`.
/// Layers below and above the split threshold (64 and 300·300 weights).
#[test]
fn a_non_finite_theta_is_found_by_the_fast_path_at_every_position() {
    for layers in [vec![8, 8, 3, 1], vec![300, 300, 2]] {
        let (mlp0, theta) =
            Mlp::random(&layers, Activation::ExpNeg, Target::Scalar(3.0), 0.0, 4).unwrap();
        // a zero input entry: W_0's column 2 meets x = 0
        let mut u0 = mlp0.u0().to_vec();
        u0[2] = 0.0;
        let mlp = Mlp::new(&layers, Activation::ExpNeg, u0, Target::Scalar(3.0), 0.0).unwrap();
        let lay = mlp.layout();
        let rows = layers[1];
        let in_zero_column = lay.weight_range(0).start + 2 * rows + 1;
        let last = lay.n_params() - 1;
        let second_layer = lay.weight_range(1).start + 5;
        let bias = lay.bias_range(0).start;
        let mut fast = MlpGradient::new(&mlp);
        for index in [in_zero_column, second_layer, bias, last, 0] {
            for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                let mut t = theta.clone();
                t[index] = bad;
                for e in [
                    fast.evaluate(&mlp, &t).unwrap_err(),
                    fast.forward(&mlp, &t).unwrap_err(),
                ] {
                    match e {
                        Error::NonFinite { what, index: i, .. } => {
                            assert_eq!((what.as_str(), i), ("theta", index), "{layers:?} {bad}")
                        }
                        other => panic!("{layers:?} theta[{index}] = {bad}: {other}"),
                    }
                }
            }
        }
        // and the same θ, repaired, evaluates
        assert!(fast.evaluate(&mlp, &theta).unwrap().is_finite());
    }
}

/// A gradient entry −δ_r x_c that overflows with ρ = 0 (every factor finite) is still caught:
/// the fast path skips its n_θ-long check only when max|δ|·max|x| is finite.
#[test]
fn an_overflowing_gradient_product_is_caught_without_regularization() {
    let layers = [3, 2, 1];
    let (_, theta) =
        Mlp::random(&layers, Activation::Identity, Target::Scalar(0.0), 0.0, 5).unwrap();
    // θ = 0 but W_2 = 1, input (1e300, 1, 1), target 1e150: u_1 = u_2 = 0, δ_2 = 2e150,
    // δ_1 = W_2ᵀ δ_2 = 2e150, so dL/dW_1[0, 0] = −δ_1 x_0 = −2e150 · 1e300 overflows
    let mlp = Mlp::new(
        &layers,
        Activation::Identity,
        vec![1e300, 1.0, 1.0],
        Target::Scalar(1e150),
        0.0,
    )
    .unwrap();
    let mut t = vec![0.0; theta.len()];
    t[mlp.layout().weight_range(1)].fill(1.0);
    let mut fast = MlpGradient::new(&mlp);
    let e = fast.evaluate(&mlp, &t).unwrap_err();
    match e {
        Error::NonFinite { what, value, .. } => {
            assert_eq!(what, "gradient dL/dtheta");
            assert!(value.is_infinite());
        }
        other => panic!("{other}"),
    }
}
