//! A residual network of 8 layers of width 256 against a plain chain with the same number of
//! parameters, both through the explicit engine. Target: residual ≤ 2× plain.
//!
//! `cargo bench --bench network`

use adjoint::problems::network::{residual_layers, LayerSpec, Network, NetworkFile};
use adjoint::{AdjointWorkspace, SolverKind};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion, name: &str, layers: Vec<LayerSpec>) {
    let file = NetworkFile {
        input: 256,
        layers,
        activation: Some("tanh".into()),
        y: Some(serde_json::json!(1.0)),
        regularization: Some(0.0),
    };
    let (net, theta) = Network::random(&file, 0).unwrap();
    let mut ws = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
    ws.evaluate(&net, &theta).unwrap();
    eprintln!("{name}: n_θ = {}", theta.len());
    c.bench_function(name, |b| {
        b.iter(|| black_box(ws.evaluate(&net, black_box(&theta)).unwrap()))
    });
}

fn benches(c: &mut Criterion) {
    let residual = residual_layers(256, 8);
    // the same layers without the residual connections: identical parameter count
    let plain: Vec<LayerSpec> = residual
        .iter()
        .cloned()
        .map(|l| LayerSpec {
            residual: None,
            ..l
        })
        .collect();
    bench(c, "network_residual_8x256", residual);
    bench(c, "network_plain_8x256", plain);
}

criterion_group!(all, benches);
criterion_main!(all);
