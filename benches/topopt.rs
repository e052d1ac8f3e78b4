//! One adjoint evaluation of the MBB beam (assemble K and ∂f/∂θ, factorize, state and adjoint
//! solves, gradient) at the densities of the optimizer's start, by solver:
//! faer's supernodal Cholesky (what `Auto` picks) against sprs-ldl's `LDLᵀ`.
//!
//! `cargo bench --bench topopt`

use adjoint::problems::topopt::MbbBeam;
use adjoint::{AdjointWorkspace, SolverKind};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn beam(c: &mut Criterion, nelx: usize, nely: usize) {
    let problem = MbbBeam::new(nelx, nely, 3.0).unwrap();
    let x = vec![0.5; problem.n_elements()];
    let mut group = c.benchmark_group(format!("topopt_{nelx}x{nely}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for kind in [SolverKind::Cholesky, SolverKind::Ldlt] {
        let mut ws = AdjointWorkspace::new(&problem, kind).unwrap();
        ws.evaluate(&problem, &x).unwrap();
        group.bench_function(kind.to_string(), |b| {
            b.iter(|| black_box(ws.evaluate(&problem, black_box(&x)).unwrap()))
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    beam(c, 60, 20);
    beam(c, 150, 50);
    beam(c, 300, 100);
}

criterion_group!(all, benches);
criterion_main!(all);
