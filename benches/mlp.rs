//! Gradient of one sample for the seed's network sizes, float64:
//! `fast` (dense blocks, [`MlpGradient`]), `forward` (the forward pass alone, for the
//! cheap-gradient bound), and `explicit` (the generic engine with `L` and `Mᵀ` refilled in
//! place, DAG-checked triangular sweep).
//!
//! `cargo bench --bench mlp`

use adjoint::problems::mlp::fast::MlpGradient;
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::{AdjointWorkspace, SolverKind};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn network(c: &mut Criterion, layers: &[usize]) {
    let name: Vec<String> = layers.iter().map(|n| n.to_string()).collect();
    let name = format!("mlp_{}", name.join("_"));
    let (mlp, theta) =
        Mlp::random(layers, Activation::ExpNeg, Target::Scalar(3.0), 0.0, 0).unwrap();
    let mut fast = MlpGradient::new(&mlp);
    let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
    ws.evaluate(&mlp, &theta).unwrap();
    let mut group = c.benchmark_group(name);
    group.sample_size(if mlp.layout().n_params() > 1_000_000 {
        20
    } else {
        50
    });
    group.bench_function("fast", |b| {
        b.iter(|| black_box(fast.evaluate(&mlp, black_box(&theta)).unwrap()))
    });
    group.bench_function("forward", |b| {
        b.iter(|| black_box(fast.forward(&mlp, black_box(&theta)).unwrap()))
    });
    group.bench_function("explicit", |b| {
        b.iter(|| black_box(ws.evaluate(&mlp, black_box(&theta)).unwrap()))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    network(c, &[50, 40, 30, 20, 10, 1]);
    network(c, &[784, 512, 512, 256, 1]);
    network(c, &[2048, 2048, 2048, 1]);
}

criterion_group!(all, benches);
criterion_main!(all);
