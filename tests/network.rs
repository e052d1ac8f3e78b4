//! General layered networks: residual, dense-skip and shared-weight graphs; the DAG check
//! rejects cycles in layer terms; gradients against dual numbers and finite differences.

mod common;

use adjoint::check::check_partials;
use adjoint::dag::check_dag;
use adjoint::problems::mlp::{Activation, Target};
use adjoint::problems::network::{
    residual_layers, shared_weight_layers, LayerSpec, Network, NetworkFile,
};
use adjoint::{AdjointWorkspace, Error, SolverKind};
use common::{assert_close, central_differences, dual_gradient};
use num_dual::Dual64;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};

fn file(input: usize, layers: Vec<LayerSpec>, activation: &str, rho: f64) -> NetworkFile {
    NetworkFile {
        input,
        layers,
        activation: Some(activation.into()),
        y: Some(serde_json::json!(0.7)),
        regularization: Some(rho),
    }
}

fn verify(net: &Network, theta: &[f64], what: &str) {
    let mut ws = AdjointWorkspace::new(net, SolverKind::Auto).unwrap();
    ws.evaluate(net, theta).unwrap();
    assert_eq!(ws.solver().name(), "triangular", "{what}");
    let dual = dual_gradient(|t: &[Dual64]| net.objective_dual(t), theta);
    assert_close(
        ws.gradient(),
        &dual,
        1e-10,
        &format!("{what}: vs dual numbers"),
    );
    let fd = central_differences(|t| net.objective_dual::<f64>(t), theta, 1e-6);
    assert_close(
        ws.gradient(),
        &fd,
        1e-5,
        &format!("{what}: vs finite differences"),
    );
    let partials = check_partials(net, theta).unwrap();
    assert!(partials.passes(), "{what}: {}", partials.to_text());
}

fn scaled(theta: Vec<f64>, s: f64) -> Vec<f64> {
    theta.into_iter().map(|t| t * s).collect()
}

#[test]
fn residual_dense_skip_and_shared_weight_networks() {
    let (net, theta) = Network::random(&file(3, residual_layers(4, 4), "tanh", 0.1), 1).unwrap();
    verify(&net, &scaled(theta, 40.0), "residual");
    let dense = vec![
        LayerSpec {
            size: 3,
            inputs: vec![0],
            group: 0,
            residual: None,
        },
        LayerSpec {
            size: 4,
            inputs: vec![0, 1],
            group: 1,
            residual: None,
        },
        LayerSpec {
            size: 2,
            inputs: vec![1, 2, 0],
            group: 2,
            residual: None,
        },
    ];
    let (net, theta) = Network::random(&file(2, dense, "sigmoid", 0.0), 2).unwrap();
    verify(&net, &scaled(theta, 60.0), "dense skip");
    let (net, theta) =
        Network::random(&file(3, shared_weight_layers(4, 3), "tanh", 0.0), 3).unwrap();
    verify(&net, &scaled(theta.clone(), 40.0), "shared weights");
    // shared weights make ∂f/∂θ not block diagonal: group 1's columns have rows in layers 2 and 3
    let (l1, l3) = (net.u_offsets()[1], net.u_offsets()[3]);
    let mut ws = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
    ws.evaluate(&net, &theta).unwrap();
    let t = net.theta_offsets();
    let rows_of_group_1: std::collections::BTreeSet<usize> = ws
        .dfdtheta()
        .iter()
        .filter(|(_, (_, c))| (t[1]..t[2]).contains(c))
        .map(|(_, (r, _))| r)
        .collect();
    assert_eq!(rows_of_group_1, (l1..l3).collect());
}

#[test]
fn layers_in_any_order_are_sorted_by_the_dag_check() {
    // layer 1 reads layer 2, which reads the input: a DAG, declared out of order
    let layers = vec![
        LayerSpec {
            size: 2,
            inputs: vec![2],
            group: 0,
            residual: None,
        },
        LayerSpec {
            size: 3,
            inputs: vec![0],
            group: 1,
            residual: None,
        },
    ];
    let f = file(2, layers, "tanh", 0.0);
    let (net, theta) = Network::random(&f, 4).unwrap();
    // the output is the last layer declared (layer 2 here)
    verify(&net, &scaled(theta.clone(), 50.0), "out of order");
    let mut ws = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
    ws.evaluate(&net, &theta).unwrap();
    assert!(!check_dag(ws.dfdu().view(), None).unwrap().lower_triangular);
}

#[test]
fn cycles_are_rejected_in_layer_terms_before_any_arithmetic() {
    let cyclic = vec![
        LayerSpec {
            size: 2,
            inputs: vec![0, 3],
            group: 0,
            residual: None,
        },
        LayerSpec {
            size: 2,
            inputs: vec![1],
            group: 1,
            residual: None,
        },
        LayerSpec {
            size: 2,
            inputs: vec![2],
            group: 2,
            residual: None,
        },
    ];
    match Network::random(&file(2, cyclic, "tanh", 0.0), 0) {
        Err(e @ Error::Cycle { .. }) => assert!(e.to_string().contains("1 → 2 → 3 → 1"), "{e}"),
        other => panic!("{other:?}"),
    }
    let self_loop = vec![LayerSpec {
        size: 2,
        inputs: vec![1],
        group: 0,
        residual: None,
    }];
    match Network::random(&file(2, self_loop, "tanh", 0.0), 0) {
        Err(e @ Error::Cycle { .. }) => assert!(e.to_string().contains("1 → 1"), "{e}"),
        other => panic!("{other:?}"),
    }
    let bad_group = vec![
        LayerSpec {
            size: 2,
            inputs: vec![0],
            group: 0,
            residual: None,
        },
        LayerSpec {
            size: 3,
            inputs: vec![1],
            group: 0,
            residual: None,
        },
    ];
    assert!(matches!(
        Network::random(&file(2, bad_group, "tanh", 0.0), 0),
        Err(Error::Invalid { .. })
    ));
    let unknown = vec![LayerSpec {
        size: 2,
        inputs: vec![5],
        group: 0,
        residual: None,
    }];
    assert!(matches!(
        Network::random(&file(2, unknown, "tanh", 0.0), 0),
        Err(Error::Invalid { .. })
    ));
    let bad_residual = vec![LayerSpec {
        size: 3,
        inputs: vec![0],
        group: 0,
        residual: Some(0),
    }];
    assert!(matches!(
        Network::random(&file(2, bad_residual, "tanh", 0.0), 0),
        Err(Error::Invalid { .. })
    ));
}

proptest! {
    // fixed seed: CI runs the same cases every time
    #![proptest_config(ProptestConfig { cases: 24, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]
    #[test]
    fn random_layer_graphs(seed in 0u64..10_000, n_layers in 1usize..6, act in 0usize..4) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let width = 3;
        let mut layers: Vec<LayerSpec> = Vec::new();
        for i in 1..=n_layers {
            // inputs: a random non-empty subset of the earlier layers and u_0
            let mut inputs: Vec<usize> = (0..i).filter(|_| rng.random::<f64>() < 0.5).collect();
            if inputs.is_empty() { inputs.push(i - 1); }
            let residual = (i > 1 && rng.random::<f64>() < 0.4).then(|| rng.random_range(1..i));
            // share a group with an earlier layer of the same input width when possible
            let cols = inputs.len() * width - if inputs.contains(&0) { width - 2 } else { 0 };
            let share = layers.iter().enumerate().find(|(k, l)| {
                let c = l.inputs.len() * width - if l.inputs.contains(&0) { width - 2 } else { 0 };
                c == cols && rng.random::<f64>() < 0.5 && *k < i
            }).map(|(_, l)| l.group);
            let group = share.unwrap_or_else(|| layers.iter().map(|l| l.group + 1).max().unwrap_or(0));
            layers.push(LayerSpec { size: width, inputs, group, residual });
        }
        let act = ["exp_neg", "tanh", "sigmoid", "identity"][act];
        let (net, theta) = Network::random(&file(2, layers, act, 0.05), seed).unwrap();
        let scale = if act == "exp_neg" { 10.0 } else { 40.0 };
        verify(&net, &scaled(theta, scale), "random graph");
    }
}

#[test]
fn a_plain_chain_matches_the_mlp_problem() {
    use adjoint::problems::mlp::Mlp;
    let layers = vec![
        LayerSpec {
            size: 4,
            inputs: vec![0],
            group: 0,
            residual: None,
        },
        LayerSpec {
            size: 2,
            inputs: vec![1],
            group: 1,
            residual: None,
        },
    ];
    let (net, theta) = Network::random(&file(3, layers, "tanh", 0.0), 5).unwrap();
    let mlp = Mlp::new(
        &[3, 4, 2],
        Activation::Tanh,
        net.u0().to_vec(),
        Target::Scalar(0.7),
        0.0,
    )
    .unwrap();
    let mut a = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
    let mut b = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
    a.evaluate(&net, &theta).unwrap();
    b.evaluate(&mlp, &theta).unwrap();
    assert_close(a.gradient(), b.gradient(), 1e-14, "chain network vs mlp");
}

#[test]
fn an_mlp_is_a_chain_network() {
    use adjoint::problems::mlp::Mlp;
    for (layers, act, rho, seed) in [
        (vec![3, 4, 2], Activation::Tanh, 0.0, 1),
        (vec![5, 6, 6, 1], Activation::Sigmoid, 0.2, 2),
        (vec![2, 3, 3, 3, 2], Activation::ExpNeg, 0.0, 3),
        (vec![4, 1], Activation::Identity, 0.5, 4),
    ] {
        let (mlp, mut theta) = Mlp::random(&layers, act, Target::Scalar(0.6), rho, seed).unwrap();
        theta.iter_mut().for_each(|t| *t *= 30.0);
        let net = mlp.to_network().unwrap();
        let mut a = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
        let mut b = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
        let (la, lb) = (
            a.evaluate(&mlp, &theta).unwrap(),
            b.evaluate(&net, &theta).unwrap(),
        );
        let what = format!("{layers:?} {act}");
        assert!(
            (la - lb).abs() <= 1e-14 * la.abs().max(1.0),
            "{what}: {la} vs {lb}"
        );
        assert_close(a.u(), b.u(), 1e-14, &what);
        assert_close(a.gradient(), b.gradient(), 1e-14, &what);
        for (ma, mb) in [(a.dfdu(), b.dfdu()), (a.dfdtheta(), b.dfdtheta())] {
            assert_eq!(ma.indptr(), mb.indptr(), "{what}");
            assert_eq!(ma.indices(), mb.indices(), "{what}");
            assert_close(ma.data(), mb.data(), 1e-14, &what);
        }
    }
}
