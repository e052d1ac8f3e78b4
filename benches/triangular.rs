//! The triangular adjoint sweep against one sparse mat-vec with the same matrix.
//!
//! - a random DAG with 10⁶ unknowns and about 10⁷ entries, labels randomly permuted (so the
//!   sweep follows a non-trivial topological order);
//! - the `L = ∂f/∂u` of a 784-512-512-256-1 network (identity diagonal blocks, dense
//!   sub-diagonal blocks), in its natural (lower triangular) order.
//!
//! Reported: `sweep` (`Lᵀλ = r`), `spmv_t` (`y = Lᵀx`, the same column-dot access pattern) and
//! `spmv` (`y = L x`, sprs' CSC kernel into a preallocated vector). Target: sweep ≤ 1.5× spmv.
//!
//! `cargo bench --bench triangular`

use adjoint::dag::DagPattern;
use adjoint::solve::Factorization;
use adjoint::solve::TriangularSolver;
use adjoint::sparse::mul_transpose_into;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{RngExt, SeedableRng};
use sprs::CsMat;
use std::hint::black_box;

/// Random DAG: unknown i depends on `per_row` random earlier unknowns; labels permuted.
fn random_dag(n: usize, per_row: usize, seed: u64) -> CsMat<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    for k in (1..n).rev() {
        perm.swap(k, rng.random_range(0..=k));
    }
    let mut t = sprs::TriMat::with_capacity((n, n), n * (per_row + 1));
    for i in 0..n {
        t.add_triplet(perm[i], perm[i], 1.0 + rng.random::<f64>());
        if i > 0 {
            for _ in 0..per_row {
                let j = rng.random_range(0..i);
                t.add_triplet(perm[i], perm[j], rng.random::<f64>() - 0.5);
            }
        }
    }
    t.to_csc()
}

/// The block pattern of a network's L with random sub-diagonal values.
fn network_l(layers: &[usize], seed: u64) -> CsMat<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let sizes = &layers[1..];
    let n: usize = sizes.iter().sum();
    let mut t = sprs::TriMat::with_capacity(
        (n, n),
        n + sizes.windows(2).map(|w| w[0] * w[1]).sum::<usize>(),
    );
    let mut start = 0;
    for (k, &size) in sizes.iter().enumerate() {
        for i in start..start + size {
            t.add_triplet(i, i, 1.0);
        }
        if k > 0 {
            let prev = start - sizes[k - 1];
            for i in start..start + size {
                for j in prev..start {
                    t.add_triplet(i, j, 0.01 * (rng.random::<f64>() - 0.5));
                }
            }
        }
        start += size;
    }
    t.to_csc()
}

fn compare(c: &mut Criterion, name: &str, m: &CsMat<f64>) {
    let n = m.rows();
    let mut solver = TriangularSolver::new(DagPattern::check(m.view()).unwrap()).unwrap();
    solver.factor(m, "L").unwrap();
    let r: Vec<f64> = (0..n).map(|i| ((i % 13) as f64 - 6.0) * 1e-3).collect();
    let mut x = r.clone();
    let mut y = vec![0.0; n];
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    group.bench_function("sweep", |b| {
        b.iter(|| {
            x.copy_from_slice(&r);
            solver.solve_transpose_in_place(&mut x).unwrap();
            black_box(&x);
        })
    });
    group.bench_function("spmv_t", |b| {
        b.iter(|| {
            x.copy_from_slice(&r);
            mul_transpose_into(m, &x, &mut y);
            black_box(&y);
        })
    });
    group.bench_function("spmv", |b| {
        b.iter(|| {
            x.copy_from_slice(&r);
            y.iter_mut().for_each(|v| *v = 0.0);
            sprs::prod::mul_acc_mat_vec_csc(m.view(), &x[..], &mut y[..]);
            black_box(&y);
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let dag = random_dag(1_000_000, 9, 1);
    compare(c, "random_dag_1e6", &dag);
    drop(dag);
    let l = network_l(&[784, 512, 512, 256, 1], 2);
    compare(c, "mlp_784_512_512_256_1_L", &l);
}

criterion_group!(all, benches);
criterion_main!(all);
