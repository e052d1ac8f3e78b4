//! `total` of one adjoint gradient evaluation of the seed's tridiagonal problem: state solve,
//! assembly, factorization, adjoint solve and gradient, with the workspace (patterns and
//! symbolic factorization) reused between evaluations, as in an optimization loop.
//!
//! `cargo bench --bench tridiagonal`

use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, SolverKind};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn total(c: &mut Criterion) {
    let mut group = c.benchmark_group("tridiagonal_total");
    group.sample_size(20);
    for n in [100_000usize, 1_000_000] {
        let (problem, theta) = Tridiagonal::random(n, 0).unwrap();
        let mut ws = AdjointWorkspace::new(&problem, SolverKind::Auto).unwrap();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(ws.evaluate(&problem, black_box(&theta)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, total);
criterion_main!(benches);
