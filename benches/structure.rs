//! Structure report + PNG spy of a matrix with 10⁷ entries already in memory (a random DAG
//! of 10⁶ unknowns with permuted labels, so the DAG check has to build its graph).
//! Target: ≤ 2 s and ≤ 300 MB of extra memory together. The peak memory is measured once,
//! before the timing, from the process's high-water mark, and printed.
//!
//! `cargo bench --bench structure`

use adjoint::inspect::{structure_report, Blocks};
use adjoint::spy::write_spy;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{RngExt, SeedableRng};
use sprs::CsMat;

fn random_dag(n: usize, per_row: usize, seed: u64) -> CsMat<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    for k in (1..n).rev() {
        perm.swap(k, rng.random_range(0..=k));
    }
    let mut t = sprs::TriMat::with_capacity((n, n), n * (per_row + 1));
    for i in 0..n {
        t.add_triplet(perm[i], perm[i], 1.0);
        if i > 0 {
            for _ in 0..per_row {
                t.add_triplet(perm[i], perm[rng.random_range(0..i)], rng.random::<f64>());
            }
        }
    }
    t.to_csc()
}

/// Peak resident memory so far, in MB (Linux).
fn high_water_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resident memory now, in MB (Linux).
fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn report_and_spy(m: &CsMat<f64>, png: &std::path::Path) {
    let r = structure_report(m, Blocks::default());
    assert!(matches!(r.dag, Some(Ok(_))));
    write_spy(m, "m", png, Blocks::default()).unwrap();
}

fn benches(c: &mut Criterion) {
    let m = random_dag(1_000_000, 9, 3);
    eprintln!("matrix: {}×{}, {} entries", m.rows(), m.cols(), m.nnz());
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("spy.png");
    // the matrix is built: reset the high-water mark (Linux: `echo 5 > /proc/self/clear_refs`)
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = resident_mb();
    let hwm_before = high_water_mb();
    let t = std::time::Instant::now();
    report_and_spy(&m, &png);
    let elapsed = t.elapsed();
    let extra = high_water_mb() - before.max(0.0);
    eprintln!(
        "report + PNG spy once: {:.2} s, peak extra memory ≈ {:.0} MB (resident before {:.0} MB, high-water before {:.0} MB)",
        elapsed.as_secs_f64(),
        extra,
        before,
        hwm_before
    );
    let mut group = c.benchmark_group("structure_1e7");
    group.sample_size(10);
    group.bench_function("report_and_png_spy", |b| {
        b.iter(|| report_and_spy(&m, &png))
    });
    group.finish();
}

criterion_group!(all, benches);
criterion_main!(all);
