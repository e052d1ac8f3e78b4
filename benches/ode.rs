//! The gradient of a time-stepping problem (march, assembly, block-triangular sweep,
//! accumulation): Lotka–Volterra with implicit Euler at K = 10⁴ and 10⁵ (cost linear in K;
//! beside `python3 benches/peers/ode_peers.py` for JAX), and the heat equation with n = 1000,
//! K = 1000, Crank–Nicolson (10⁶ unknowns), in the explicit and the checkpointed mode.
//!
//! `cargo bench --bench ode`

use adjoint::problems::ode::builtin::{Heat, LotkaVolterra};
use adjoint::problems::ode::{Mode, OdeModel, OdeProblem, OdeWorkspace, Scheme, TimeGrid};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

fn run<M: OdeModel>(
    c: &mut Criterion,
    name: &str,
    p: &OdeProblem<M>,
    theta: &[f64],
    modes: &[Mode],
) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    for &mode in modes {
        let mut ws = OdeWorkspace::new(p, mode).unwrap();
        ws.evaluate(p, theta).unwrap();
        let label = match mode {
            Mode::Explicit => "explicit".to_string(),
            Mode::Checkpointed { checkpoints } => format!("checkpoints_{checkpoints}"),
        };
        group.bench_function(label, |b| {
            b.iter(|| black_box(ws.evaluate(p, black_box(theta)).unwrap()))
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    for steps in [10_000, 100_000] {
        let grid = TimeGrid::uniform(steps, 10.0).unwrap();
        let p = OdeProblem::new(LotkaVolterra, Scheme::ImplicitEuler, grid).unwrap();
        run(
            c,
            &format!("lotka_volterra_ie_K{steps}"),
            &p,
            &LotkaVolterra::DEFAULT_THETA,
            &[Mode::Explicit],
        );
    }
    let grid = TimeGrid::uniform(1000, 0.1).unwrap();
    let p = OdeProblem::new(Heat { n: 1000 }, Scheme::CrankNicolson, grid).unwrap();
    run(
        c,
        "heat_cn_n1000_K1000",
        &p,
        &vec![1.0; 1001],
        &[Mode::Explicit, Mode::Checkpointed { checkpoints: 10 }],
    );
}

criterion_group!(all, benches);
criterion_main!(all);
