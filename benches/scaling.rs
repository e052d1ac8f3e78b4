//! Adjoint gradient against forward sensitivities (and, for a network, dual numbers and
//! finite differences) at two sizes each: the criterion counterpart of `adjoint scaling`.
//!
//! `cargo bench --bench scaling`

use adjoint::check::forward_sensitivity_gradient;
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, SolverKind};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use num_dual::Dual64;
use std::hint::black_box;

fn tridiagonal(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling_tridiagonal");
    g.sample_size(20);
    for n in [256usize, 1024] {
        let (p, theta) = Tridiagonal::random(n, 0).unwrap();
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        g.bench_with_input(BenchmarkId::new("adjoint", n), &n, |b, _| {
            b.iter(|| black_box(ws.evaluate(&p, &theta).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("forward_sensitivities", n), &n, |b, _| {
            b.iter(|| {
                ws.evaluate(&p, &theta).unwrap();
                black_box(forward_sensitivity_gradient(&mut ws).unwrap())
            })
        });
    }
    g.finish();
}

fn network(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling_network");
    g.sample_size(10);
    for w in [16usize, 32] {
        let (mlp, theta) =
            Mlp::random(&[w, w, w, 1], Activation::Tanh, Target::Scalar(0.5), 0.0, 0).unwrap();
        let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
        g.bench_with_input(BenchmarkId::new("adjoint", w), &w, |b, _| {
            b.iter(|| black_box(ws.evaluate(&mlp, &theta).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("forward_sensitivities", w), &w, |b, _| {
            b.iter(|| {
                ws.evaluate(&mlp, &theta).unwrap();
                black_box(forward_sensitivity_gradient(&mut ws).unwrap())
            })
        });
        g.bench_with_input(BenchmarkId::new("dual_numbers", w), &w, |b, _| {
            b.iter(|| {
                let mut x: Vec<Dual64> = theta.iter().map(|&t| Dual64::from(t)).collect();
                for k in 0..theta.len() {
                    x[k] = Dual64::new(theta[k], 1.0);
                    black_box(mlp.objective_dual(&x).eps);
                    x[k] = Dual64::from(theta[k]);
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("finite_differences", w), &w, |b, _| {
            b.iter(|| {
                let mut x = theta.clone();
                for k in 0..theta.len() {
                    x[k] = theta[k] + 1e-6;
                    let a = mlp.objective_dual::<f64>(&x);
                    x[k] = theta[k] - 1e-6;
                    let c = mlp.objective_dual::<f64>(&x);
                    x[k] = theta[k];
                    black_box((a - c) / 2e-6);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(all, tridiagonal, network);
criterion_main!(all);
