//! Every built-in problem is written once as a `Model`: its hand-written Jacobians and
//! objective partials (the fast path) have exactly the detected patterns and agree with the
//! derived values to 1e-14 relative, and the derived problem gives the same gradient.

mod common;

use adjoint::check::{check_partials, compare_with_derived};
use adjoint::problems::linear::ParamLinear;
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::network::{
    dense_skip_layers, residual_layers, shared_weight_layers, LayerSpec, Network, NetworkFile,
};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointProblem, AdjointWorkspace, AsModel, Derived, SolverKind};
use common::assert_close;
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

/// Compares the fast path with the derived Jacobians at the problem's state, and the
/// gradients of both routes.
fn verify<P: AdjointProblem + AsModel>(p: &P, theta: &[f64], what: &str) {
    let mut ws = AdjointWorkspace::new(p, SolverKind::Auto).unwrap();
    ws.evaluate(p, theta).unwrap();
    let derived = Derived::new(p.model()).unwrap();
    let c = compare_with_derived(p, &derived, ws.u(), theta).unwrap();
    assert!(c.passes(1e-14), "{what}: {c:?}");
    let mut dws = AdjointWorkspace::new(&derived, SolverKind::Auto).unwrap();
    dws.evaluate(&derived, theta).unwrap();
    assert_close(dws.u(), ws.u(), 1e-12, &format!("{what}: state"));
    assert_close(
        dws.gradient(),
        ws.gradient(),
        1e-10,
        &format!("{what}: gradient"),
    );
    // and the dual-number check runs through the same model
    let r = check_partials(p, theta).unwrap();
    assert!(r.passes(), "{what}: {}", r.to_text());
}

#[test]
fn tridiagonal() {
    for (n, seed) in [(1, 0), (2, 1), (3, 2), (40, 3), (1000, 4)] {
        let (p, theta) = Tridiagonal::random(n, seed).unwrap();
        verify(&p, &theta, &format!("tridiagonal n = {n}"));
    }
}

fn random_linear(n: usize, terms: usize, seed: u64) -> (ParamLinear, Vec<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut a0 = TriMat::new((n, n));
    for i in 0..n {
        a0.add_triplet(i, i, 4.0 + rng.random::<f64>());
        if i > 0 {
            // an explicit zero stays in the pattern
            a0.add_triplet(i, i - 1, if i % 3 == 0 { 0.0 } else { -0.5 });
        }
    }
    let es: Vec<CsMat<f64>> = (0..terms)
        .map(|_| {
            let mut e = TriMat::new((n, n));
            for _ in 0..3 {
                let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
                e.add_triplet(i, j, rng.random::<f64>() - 0.5);
            }
            e.to_csc()
        })
        .collect();
    let b: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
    let c: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
    let theta: Vec<f64> = (0..terms).map(|_| rng.random::<f64>()).collect();
    (ParamLinear::new(&a0.to_csc(), &es, b, c).unwrap(), theta)
}

#[test]
fn param_linear() {
    for (n, terms, seed) in [(1, 1, 0), (5, 4, 1), (30, 20, 2), (200, 50, 3)] {
        let (p, theta) = random_linear(n, terms, seed);
        verify(&p, &theta, &format!("param-linear n = {n}, seed {seed}"));
    }
    let (p, theta) = Tridiagonal::random(25, 9).unwrap();
    let q = ParamLinear::tridiagonal(p.c().to_vec(), p.b().to_vec()).unwrap();
    verify(&q, &theta, "param-linear tridiagonal");
}

#[test]
fn mlp() {
    for (layers, act, target, rho, seed) in [
        (vec![1, 1], Activation::ExpNeg, Target::Scalar(0.5), 0.0, 0),
        (
            vec![3, 4, 2],
            Activation::Tanh,
            Target::Vector(vec![0.1, -0.2]),
            0.0,
            1,
        ),
        (
            vec![4, 5, 5, 1],
            Activation::Sigmoid,
            Target::Scalar(1.0),
            0.3,
            2,
        ),
        (
            vec![6, 8, 3],
            Activation::Identity,
            Target::Scalar(-1.0),
            1e-3,
            3,
        ),
        (
            vec![10, 12, 9, 4],
            Activation::ExpNeg,
            Target::Scalar(0.0),
            0.0,
            4,
        ),
    ] {
        let (p, mut theta) = Mlp::random(&layers, act, target, rho, seed).unwrap();
        // weights of order one, so σ' is far from constant
        theta.iter_mut().for_each(|t| *t *= 30.0);
        verify(&p, &theta, &format!("mlp {layers:?} {act}"));
    }
}

fn network(
    input: usize,
    layers: Vec<LayerSpec>,
    act: &str,
    rho: f64,
    seed: u64,
) -> (Network, Vec<f64>) {
    let file = NetworkFile {
        input,
        layers,
        activation: Some(act.into()),
        y: Some(serde_json::json!(0.3)),
        regularization: Some(rho),
    };
    let (net, mut theta) = Network::random(&file, seed).unwrap();
    theta.iter_mut().for_each(|t| *t *= 30.0);
    (net, theta)
}

#[test]
fn networks() {
    let cases = [
        (3, residual_layers(4, 3), "tanh", 0.0),
        (3, shared_weight_layers(5, 4), "sigmoid", 0.1),
        (2, dense_skip_layers(3, 4), "exp_neg", 0.0),
        (4, residual_layers(6, 2), "identity", 0.01),
        // a residual from u₀ and a layer reading a source twice
        (
            3,
            vec![
                LayerSpec {
                    size: 3,
                    inputs: vec![0],
                    group: 0,
                    residual: Some(0),
                },
                LayerSpec {
                    size: 2,
                    inputs: vec![1, 0, 1],
                    group: 1,
                    residual: None,
                },
            ],
            "tanh",
            0.0,
        ),
    ];
    for (k, (input, layers, act, rho)) in cases.into_iter().enumerate() {
        let (net, theta) = network(input, layers, act, rho, k as u64);
        verify(&net, &theta, &format!("network case {k} ({act})"));
    }
}
