//! The derived-Jacobian path on the reaction–diffusion model of the README's "Your own
//! problem" (−u'' + θu³ = 1, L = h Σ u²):
//!
//! - `jacobians/N`: the values of ∂f/∂u (3 colors: one 3-direction dual evaluation) and ∂f/∂θ
//!   (1 color), decompressed into CSC arrays, the two evaluations on two threads
//!   (`jacobians_one_thread/N`: one after the other) — against `tridiagonal_fills/N`, the
//!   hand-written fills of both Jacobians of the built-in tridiagonal problem (its ∂f/∂u has
//!   the same pattern);
//! - `residual_dual3/N`, `residual_dual1/N`: the model's residual alone on 3- and 1-direction
//!   duals (the two evaluations `jacobians/N` runs, without seeding and decompression): the
//!   part of the cost that is the user's function;
//! - `objective_gradient/N`: `L` and `∂L/∂u` by one taped reverse-mode evaluation;
//! - `detect/N`: sparsity detection and coloring (`Derived::new`);
//! - `gradient/N`: a whole derived gradient with a warm start (Newton, fills,
//!   factorizations, solves), at the same θ as the previous evaluation.
//!
//! `cargo bench --bench derived`

use adjoint::derived::dual::Dual;
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, Derived, Jacobians, Model, Objective, Scalar, SolverKind};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

struct ReactionDiffusion {
    n: usize,
}

impl Model for ReactionDiffusion {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.n
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let h = 1.0 / (self.n as f64 + 1.0);
        for i in 0..self.n {
            let left = if i > 0 { u[i - 1] } else { T::zero() };
            let right = if i + 1 < self.n { u[i + 1] } else { T::zero() };
            f[i] = (u[i] * 2.0 - left - right) / (h * h) + theta[i] * u[i].powi(3) - 1.0;
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        let h = 1.0 / (self.n as f64 + 1.0);
        u.iter().fold(T::zero(), |s, &x| s + x * x) * h
    }
}

fn jacobians(c: &mut Criterion) {
    let mut group = c.benchmark_group("derived");
    group.sample_size(20);
    for n in [100_000usize, 1_000_000] {
        let p = Derived::new(ReactionDiffusion { n }).unwrap();
        let theta = vec![1.0; n];
        let u: Vec<f64> = (0..n).map(|i| 0.1 + 1e-7 * i as f64).collect();
        let mut du = vec![0.0; p.dfdu_structure().nnz()];
        let mut dt = vec![0.0; p.dfdtheta_structure().nnz()];
        group.bench_with_input(BenchmarkId::new("jacobians", n), &n, |b, _| {
            b.iter(|| {
                p.fill_jacobians(black_box(&u), &theta, &mut du, &mut dt)
                    .unwrap();
            })
        });
        group.bench_with_input(BenchmarkId::new("jacobians_one_thread", n), &n, |b, _| {
            b.iter(|| {
                p.fill_dfdu(black_box(&u), &theta, &mut du).unwrap();
                p.fill_dfdtheta(black_box(&u), &theta, &mut dt).unwrap();
            })
        });
        let (tri, tri_theta) = Tridiagonal::random(n, 0).unwrap();
        let mut tu = vec![0.0; tri.dfdu_pattern().nnz()];
        let mut tt = vec![0.0; tri.dfdtheta_pattern().nnz()];
        group.bench_with_input(BenchmarkId::new("tridiagonal_fills", n), &n, |b, _| {
            b.iter(|| {
                tri.fill_dfdu(black_box(&u), &tri_theta, &mut tu).unwrap();
                tri.fill_dfdtheta(black_box(&u), &tri_theta, &mut tt)
                    .unwrap();
            })
        });
        fn duals<const W: usize>(v: &[f64]) -> Vec<Dual<W>> {
            v.iter().map(|&x| Dual::constant(x)).collect()
        }
        let (u3, t3, mut f3) = (duals::<3>(&u), duals::<3>(&theta), duals::<3>(&u));
        let model = p.model();
        group.bench_with_input(BenchmarkId::new("residual_dual3", n), &n, |b, _| {
            b.iter(|| model.residual(black_box(&u3), &t3, &mut f3))
        });
        let (u1, t1, mut f1) = (duals::<1>(&u), duals::<1>(&theta), duals::<1>(&u));
        group.bench_with_input(BenchmarkId::new("residual_dual1", n), &n, |b, _| {
            b.iter(|| model.residual(black_box(&u1), &t1, &mut f1))
        });
        let mut g = vec![0.0; n];
        group.bench_with_input(BenchmarkId::new("objective_gradient", n), &n, |b, _| {
            b.iter(|| black_box(p.objective_with_partial_u(black_box(&u), &theta, &mut g)))
        });
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        group.bench_with_input(BenchmarkId::new("gradient", n), &n, |b, _| {
            b.iter(|| black_box(ws.evaluate(&p, black_box(&theta)).unwrap()))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("derived_detect");
    group.sample_size(10);
    for n in [100_000usize, 1_000_000] {
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| black_box(Derived::new(ReactionDiffusion { n }).unwrap().coloring()))
        });
    }
    group.finish();
}

criterion_group!(benches, jacobians);
criterion_main!(benches);
