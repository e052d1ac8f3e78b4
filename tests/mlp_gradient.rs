//! The network's gradient, two ways (explicit engine and structured fast path), checked
//! against forward-mode dual numbers, central finite differences, and PyTorch reference
//! cases; the explicit matrices' structure; the seed's training experiment.

mod common;

use adjoint::dag::{check_dag, BlockDiagonal};
use adjoint::mtx::read_vector;
use adjoint::problems::mlp::fast::MlpGradient;
use adjoint::problems::mlp::train::{gradient_descent, GradientPath};
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::{AdjointWorkspace, SolverKind};
use common::{assert_close, central_differences, data, dual_gradient, rel_diff};
use num_dual::Dual64;
use proptest::prelude::*;

fn explicit(mlp: &Mlp, theta: &[f64]) -> AdjointWorkspace {
    let mut ws = AdjointWorkspace::new(mlp, SolverKind::Auto).unwrap();
    ws.evaluate(mlp, theta).unwrap();
    ws
}

fn fast(mlp: &Mlp, theta: &[f64]) -> MlpGradient {
    let mut g = MlpGradient::new(mlp);
    g.evaluate(mlp, theta).unwrap();
    g
}

#[test]
fn reference_cases_from_pytorch() {
    for name in [
        "mlp-3-3-2-sigmoid",
        "mlp-4-3-2-exp_neg",
        "mlp-5-4-3-1-tanh-reg",
        "mlp-6-4-1-identity",
    ] {
        let dir = data(name);
        let (mlp, theta) = adjoint::io::read_mlp(&dir).unwrap();
        let reference = read_vector(dir.join("gradient.mtx")).unwrap();
        assert_close(
            explicit(&mlp, &theta).gradient(),
            &reference,
            1e-10,
            &format!("{name} explicit"),
        );
        assert_close(
            fast(&mlp, &theta).gradient(),
            &reference,
            1e-10,
            &format!("{name} fast"),
        );
    }
}

fn check_against_references(
    layers: &[usize],
    activation: Activation,
    target: Target,
    rho: f64,
    seed: u64,
) {
    // larger weights than the seed's 0.01 scale, so every layer matters in the check (less
    // for exp(−x), which would overflow through deep layers)
    let (mlp, theta0) = Mlp::random(layers, activation, target, rho, seed).unwrap();
    let scale = if activation == Activation::ExpNeg {
        15.0
    } else {
        60.0
    };
    let theta: Vec<f64> = theta0.iter().map(|t| t * scale).collect();
    let what = format!("{layers:?} {activation} ρ={rho} seed={seed}");
    let ws = explicit(&mlp, &theta);
    let g = fast(&mlp, &theta);
    assert!(
        rel_diff(g.gradient(), ws.gradient()) <= 1e-12,
        "{what}: fast vs explicit {}",
        rel_diff(g.gradient(), ws.gradient())
    );
    assert_eq!(ws.solver().name(), "triangular", "{what}");
    let dual = dual_gradient(|t: &[Dual64]| mlp.objective_dual(t), &theta);
    assert_close(ws.gradient(), &dual, 1e-10, &format!("{what} vs dual"));
    let fd = central_differences(|t| mlp.objective_dual::<f64>(t), &theta, 1e-6);
    assert_close(
        ws.gradient(),
        &fd,
        1e-5,
        &format!("{what} vs finite differences"),
    );
    assert!(
        (ws.objective() - mlp.objective_dual::<f64>(&theta)).abs()
            <= 1e-12 * ws.objective().abs().max(1.0)
    );
}

#[test]
fn every_activation_with_and_without_regularization_scalar_and_vector_outputs() {
    for activation in Activation::ALL {
        for rho in [0.0, 0.3] {
            check_against_references(&[3, 4, 1], activation, Target::Scalar(0.7), rho, 1);
            check_against_references(
                &[2, 3, 4, 3],
                activation,
                Target::Vector(vec![0.5, -1.0, 2.0]),
                rho,
                2,
            );
        }
    }
}

proptest! {
    // fixed seed: CI runs the same cases every time (raise `cases` locally to explore)
    #![proptest_config(ProptestConfig { cases: 24, rng_seed: proptest::test_runner::RngSeed::Fixed(20261126), ..ProptestConfig::default() })]
    #[test]
    fn random_layer_sizes(
        layers in proptest::collection::vec(1usize..6, 2..6),
        act in 0usize..4,
        rho in prop_oneof![Just(0.0), 0.0f64..1.0],
        seed in 0u64..1000,
        vector in any::<bool>(),
    ) {
        let n_out = *layers.last().unwrap();
        let target = if vector { Target::Vector((0..n_out).map(|k| k as f64 * 0.3 - 0.2).collect()) } else { Target::Scalar(1.5) };
        check_against_references(&layers, Activation::ALL[act], target, rho, seed);
    }
}

#[test]
fn explicit_matrices_have_the_documented_structure() {
    let layers = [4, 3, 5, 2];
    let (mlp, theta) = Mlp::random(&layers, Activation::Tanh, Target::Scalar(1.0), 0.0, 3).unwrap();
    let ws = explicit(&mlp, &theta);
    let (n_u, n_t) = (3 + 5 + 2, 3 * 5 + 5 * 4 + 2 * 6);
    assert_eq!(ws.dfdu().shape(), (n_u, n_u));
    assert_eq!(ws.dfdu().nnz(), n_u + 5 * 3 + 2 * 5);
    assert_eq!(ws.dfdtheta().shape(), (n_u, n_t));
    assert_eq!(ws.dfdtheta().nnz(), n_t);
    // the DAG check passes, natural order, identity diagonal blocks, layer-to-layer blocks
    let report = check_dag(ws.dfdu().view(), Some(mlp.layout().u_offsets())).unwrap();
    assert!(report.lower_triangular);
    assert_eq!(report.levels, 3);
    let blocks = report.blocks.unwrap();
    assert_eq!(blocks.diagonal, BlockDiagonal::Identity);
    assert_eq!(blocks.edges, vec![(0, 1), (1, 2)]);
    // Mᵀ = D K and ∂f/∂θ = −Mᵀ
    let mt = mlp.assemble_mt(ws.u());
    let dk = &mlp.assemble_d(ws.u()) * &mlp.assemble_k(ws.u());
    assert_eq!(mt.to_dense(), dk.to_dense());
    let minus: Vec<f64> = ws.dfdtheta().to_dense().iter().map(|v| -v).collect();
    let mt_dense: Vec<f64> = mt.to_dense().iter().copied().collect();
    assert_close(&minus, &mt_dense, 0.0, "df/dθ = −Mᵀ");
    // block (i, i−1) of L is −D_i W_i
    let lay = mlp.layout();
    let w = lay.weights(&theta, 1);
    let d = mlp.assemble_d(ws.u());
    for r in 0..5 {
        for c in 0..3 {
            let i = lay.u_offsets()[1] + r;
            let expected = -d.get(i, i).unwrap() * w[(r, c)];
            assert_eq!(ws.dfdu().get(i, c).copied(), Some(expected));
        }
    }
}

#[test]
fn the_seeds_experiment_converges() {
    // layers 50,40,30,20,10,1, exp_neg, y = 3, η = 0.001, 1000 iterations, 0.01·N(0,1) init
    let (mlp, mut theta) = Mlp::random(
        &[50, 40, 30, 20, 10, 1],
        Activation::ExpNeg,
        Target::Scalar(3.0),
        0.0,
        0,
    )
    .unwrap();
    assert_eq!(theta.len(), 4111);
    // the seed's finite-difference check of entry 4000 (1-based) at the initial θ
    let g = fast(&mlp, &theta);
    let k = 3999;
    let h = 1e-5;
    let mut tp = theta.clone();
    tp[k] += h;
    let lp = mlp.objective_dual::<f64>(&tp);
    tp[k] -= 2.0 * h;
    let lm = mlp.objective_dual::<f64>(&tp);
    assert!(
        ((lp - lm) / (2.0 * h) - g.gradient()[k]).abs() < 1e-6,
        "entry 4000"
    );
    let report =
        gradient_descent(&mlp, &mut theta, 0.001, 1000, GradientPath::Fast, |_, _| {}).unwrap();
    assert!(
        report.output_error <= 1e-8,
        "|u_N − 3| = {}",
        report.output_error
    );
    assert!(
        report.gradient_norm <= 1e-10,
        "‖∇L‖ = {}",
        report.gradient_norm
    );
}

#[test]
fn explicit_and_fast_training_agree() {
    let (mlp, theta) = Mlp::random(
        &[5, 4, 3, 1],
        Activation::Sigmoid,
        Target::Scalar(0.9),
        0.01,
        4,
    )
    .unwrap();
    let (mut a, mut b) = (theta.clone(), theta);
    let ra = gradient_descent(&mlp, &mut a, 0.05, 50, GradientPath::Fast, |_, _| {}).unwrap();
    let rb = gradient_descent(&mlp, &mut b, 0.05, 50, GradientPath::Explicit, |_, _| {}).unwrap();
    assert_close(&a, &b, 1e-12, "θ after training");
    assert!((ra.objective - rb.objective).abs() <= 1e-12 * ra.objective.abs());
}

#[test]
fn large_layers_written_with_streaming_stores_agree_with_the_explicit_engine() {
    // a 1100 × 1024 weight matrix is above the streaming threshold (2²⁰ entries)
    for rho in [0.0, 0.01] {
        let (mlp, theta) = Mlp::random(
            &[1024, 1100, 3],
            Activation::Tanh,
            Target::Scalar(0.2),
            rho,
            9,
        )
        .unwrap();
        let theta: Vec<f64> = theta.iter().map(|t| t * 5.0).collect();
        let ws = explicit(&mlp, &theta);
        let g = fast(&mlp, &theta);
        assert!(
            rel_diff(g.gradient(), ws.gradient()) <= 1e-12,
            "ρ = {rho}: {}",
            rel_diff(g.gradient(), ws.gradient())
        );
    }
}
