//! Fuzzing in the suite: the Matrix Market reader, the network-file reader and the readers of
//! an export's `problem.json` get arbitrary and mutated bytes (a fixed seed, a few seconds in
//! all). Every input must give `Ok` or a typed error: no panic, no input slower than 1 s, none
//! allocating more than 1 GB at once (a tracking allocator watches the peak).
//!
//! A longer run: `ADJOINT_FUZZ_CASES=200000 cargo test --release --test fuzz_readers`
//! (optionally `ADJOINT_FUZZ_SEED=…` for another sequence).

use adjoint::mtx::read_matrix_from;
use adjoint::problems::network::{Network, NetworkFile};
use rand::{Rng, RngExt, SeedableRng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Tracking;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

const MAX_BYTES: usize = 1 << 30;
const MAX_TIME: Duration = Duration::from_secs(1);

const MTX_CORPUS: [&str; 6] = [
    "%%MatrixMarket matrix coordinate real general\n% a comment\n3 3 4\n1 1 1.5\n2 2 -2\n3 1 4e-3\n3 3 1\n",
    "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n2 1 -1\n3 3 2\n",
    "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 1\n",
    "%%MatrixMarket matrix coordinate integer skew-symmetric\n3 3 1\n2 1 7\n",
    "%%MatrixMarket matrix array real general\n3 1\n1.0\n-2.5\n3e10\n",
    "%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n",
];

const NETWORK_CORPUS: [&str; 2] = [
    r#"{"input": 3, "activation": "tanh", "y": 0.5, "regularization": 0.01,
        "layers": [{"size": 4, "inputs": [0], "group": 0},
                   {"size": 4, "inputs": [1], "group": 1, "residual": 1},
                   {"size": 4, "inputs": [2], "group": 1},
                   {"size": 1, "inputs": [3, 0], "group": 2}]}"#,
    r#"{"input": 2, "layers": [{"size": 2, "inputs": [0], "group": 0}, {"size": 1, "inputs": [1, 0], "group": 1}], "y": [1.0]}"#,
];

const MLP_JSON: &str = r#"{"kind": "mlp", "layers": [3, 2, 1], "y": 0.5, "activation": "tanh", "regularization": 0.0, "n_state": 3, "n_params": 11}"#;

/// Tokens a mutation may splice in: the values that break careless readers.
const NASTY: [&str; 14] = [
    "18446744073709551615",
    "18446744073709551616",
    "4000000000",
    "1000000000000",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "1.5",
    "%%MatrixMarket",
    "\n",
    "\u{0}\u{ff}",
];

fn mutate(rng: &mut impl Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.random_range(1..6) {
        let len = v.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..6) {
            0 if len > 0 => v[at] = rng.random(),
            1 => {
                let k = rng.random_range(1..8);
                let bytes: Vec<u8> = (0..k).map(|_| rng.random()).collect();
                v.splice(at..at, bytes);
            }
            2 if len > 0 => {
                let end = (at + rng.random_range(1..16)).min(len);
                v.drain(at..end);
            }
            3 if len > 0 => {
                let end = (at + rng.random_range(1..32)).min(len);
                let piece = v[at..end].to_vec();
                v.splice(at..at, piece);
            }
            4 => {
                // replace the number under `at` (or insert) with a nasty token
                let tok = NASTY[rng.random_range(0..NASTY.len())].as_bytes();
                let (mut a, mut b) = (at, at);
                while a > 0 && v[a - 1].is_ascii_alphanumeric() {
                    a -= 1;
                }
                while b < len && v[b].is_ascii_alphanumeric() {
                    b += 1;
                }
                v.splice(a..b, tok.iter().copied());
            }
            _ => {}
        }
    }
    v
}

fn cases() -> usize {
    std::env::var("ADJOINT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

fn rng() -> rand_chacha::ChaCha8Rng {
    let seed = std::env::var("ADJOINT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261201);
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

/// Runs `f` on `input` and checks time and peak memory; panics propagate (the test fails).
fn bounded(what: &str, input: &[u8], f: impl FnOnce(&[u8])) {
    PEAK.store(CURRENT.load(Ordering::Relaxed), Ordering::Relaxed);
    let base = CURRENT.load(Ordering::Relaxed);
    let t = Instant::now();
    f(input);
    let elapsed = t.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let shown = String::from_utf8_lossy(&input[..input.len().min(200)]).into_owned();
    assert!(elapsed < MAX_TIME, "{what}: {elapsed:?} on {shown:?}");
    assert!(peak < MAX_BYTES, "{what}: {peak} bytes on {shown:?}");
}

// One test per reader; the tracking allocator's peak is per thread-unsafe global state, so the
// readers run one after another inside one test.
#[test]
fn readers_survive_arbitrary_and_mutated_bytes() {
    let mut rng = rng();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // files a problem.json reader needs beside it
    adjoint::mtx::write_vector(dir.join("theta.mtx"), &[0.1; 11], "").unwrap();
    adjoint::mtx::write_vector(dir.join("u0.mtx"), &[0.2; 3], "").unwrap();
    adjoint::mtx::write_vector(dir.join("c.mtx"), &[1.0; 3], "").unwrap();
    adjoint::mtx::write_vector(dir.join("b.mtx"), &[1.0; 3], "").unwrap();
    let n = cases();
    for k in 0..n {
        // Matrix Market: mutated corpus files, and sometimes pure noise
        let input = if k % 10 == 0 {
            let len = rng.random_range(0..256);
            (0..len).map(|_| rng.random()).collect()
        } else {
            mutate(&mut rng, MTX_CORPUS[k % MTX_CORPUS.len()].as_bytes())
        };
        bounded("Matrix Market reader", &input, |b| {
            if let Ok(m) = read_matrix_from(std::io::Cursor::new(b), Path::new("fuzz.mtx")) {
                let csc = m.to_csc();
                assert_eq!(csc.shape(), (m.rows, m.cols));
                let _ = adjoint::inspect::structure_report(&csc, Default::default());
            }
        });
        // network files: through the reader and, when it accepts, the builder
        let input = mutate(
            &mut rng,
            NETWORK_CORPUS[k % NETWORK_CORPUS.len()].as_bytes(),
        );
        std::fs::write(dir.join("net.json"), &input).unwrap();
        bounded("network file", &input, |_| {
            if let Ok(file) = NetworkFile::read(&dir.join("net.json")) {
                let _ = Network::random(&file, 0);
            }
        });
        // problem.json of an export, read by each --from reader
        let seed = match k % 3 {
            0 => MLP_JSON,
            1 => NETWORK_CORPUS[0],
            _ => r#"{"kind": "tridiagonal", "n": 3}"#,
        };
        let input = mutate(&mut rng, seed.as_bytes());
        std::fs::write(dir.join("problem.json"), &input).unwrap();
        bounded("problem.json", &input, |_| {
            let _ = adjoint::io::read_mlp(dir);
            let _ = adjoint::io::read_network(dir);
            let _ = adjoint::io::read_tridiagonal(dir);
        });
    }
}
