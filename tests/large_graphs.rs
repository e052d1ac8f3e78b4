//! Graph walks at the sizes users bring: no recursion per node anywhere (a recursive cycle
//! search overflowed the main thread's stack near 10⁵ nodes).

use adjoint::dag::check_dag;
use adjoint::solve::Factorization;
use adjoint::solve::{Solver, SolverKind};
use adjoint::sparse::pattern_of;
use adjoint::Error;
use sprs::{CsMat, TriMat};
use std::process::Command;

/// `n × n` with a unit diagonal and `(i + 1 mod n, i)`: the single ring 0 → 1 → … → n−1 → 0.
fn ring(n: usize) -> CsMat<f64> {
    let mut t = TriMat::with_capacity((n, n), 2 * n);
    for i in 0..n {
        t.add_triplet(i, i, 1.0);
        t.add_triplet((i + 1) % n, i, 0.5);
    }
    t.to_csc()
}

/// The symmetric tridiagonal pattern of size n.
fn tridiagonal(n: usize) -> CsMat<f64> {
    let mut t = TriMat::with_capacity((n, n), 3 * n);
    for i in 0..n {
        t.add_triplet(i, i, 4.0);
        if i + 1 < n {
            t.add_triplet(i + 1, i, -1.0);
            t.add_triplet(i, i + 1, -1.0);
        }
    }
    t.to_csc()
}

/// Every consecutive pair of `nodes` (and the last back to the first) is an edge `j → i`,
/// i.e. a stored `(i, j)`, and no node repeats.
fn assert_valid_cycle(m: &CsMat<f64>, nodes: &[usize]) {
    assert!(nodes.len() >= 2, "{nodes:?}");
    let k = nodes.len();
    for a in 0..k {
        let (from, to) = (nodes[a], nodes[(a + 1) % k]);
        assert!(m.get(to, from).is_some(), "{from} → {to} is not an edge");
    }
    let mut seen = vec![false; m.rows()];
    for &v in nodes {
        assert!(!seen[v], "node {v} repeats");
        seen[v] = true;
    }
}

#[test]
fn a_ring_of_a_million_nodes_is_one_reported_cycle() {
    let n = 1_000_000;
    let m = ring(n);
    match check_dag(m.view(), None) {
        Err(e @ Error::Cycle { .. }) => {
            let text = e.to_string();
            let Error::Cycle { nodes, .. } = e else {
                unreachable!()
            };
            assert_eq!(nodes.len(), n);
            assert_valid_cycle(&m, &nodes);
            // printed as its first 20 nodes, `…` and its length
            assert!(
                text.contains("0 → 1 → 2 → 3 → 4 → 5 → 6 → 7 → 8 → 9 → 10 → 11 → 12 → 13 → 14 → 15 → 16 → 17 → 18 → 19 → … (length 1000000)"),
                "{text}"
            );
            assert!(text.len() < 300, "{text}");
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn the_million_tridiagonal_pattern_has_a_two_cycle() {
    let m = tridiagonal(1_000_000);
    match check_dag(m.view(), None) {
        Err(Error::Cycle { nodes, .. }) => {
            assert_valid_cycle(&m, &nodes);
            assert_eq!(nodes, vec![0, 1]);
        }
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn forced_and_automatic_solvers_on_large_cyclic_patterns() {
    // a forced triangular solver on a large cyclic pattern is a clean refusal
    let m = tridiagonal(200_000);
    match Solver::analyze(&pattern_of(&m), SolverKind::Triangular) {
        Err(Error::SolverNotApplicable { solver, reason }) => {
            assert_eq!(solver, "triangular");
            assert!(reason.contains("cycle: 0 → 1 → 0"), "{reason}");
        }
        other => panic!("expected SolverNotApplicable, got {other:?}"),
    }
    // neither symmetric nor a DAG: Auto walks the graph and takes LU
    let m = ring(100_000);
    let mut s = Solver::analyze(&pattern_of(&m), SolverKind::Auto).unwrap();
    assert_eq!(s.name(), "lu");
    s.factor(&m, "ring").unwrap();
    let mut x = vec![1.0; m.rows()];
    s.solve_transpose_in_place(&mut x).unwrap();
    // (I + 0.5 P)ᵀ x = 1 has the solution x = 1/1.5 everywhere
    assert!(x.iter().all(|v| (v - 1.0 / 1.5).abs() < 1e-12));
}

#[test]
fn exporting_a_million_unknowns_writes_the_whole_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let o = Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(["tridiagonal", "--n", "1000000", "--export"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for name in [
        "dfdu.mtx",
        "dfdtheta.mtx",
        "u.mtx",
        "theta.mtx",
        "lambda.mtx",
        "gradient.mtx",
        "dLdu.mtx",
        "dLdtheta.mtx",
        "c.mtx",
        "b.mtx",
        "problem.json",
        "dfdu.svg",
        "dfdu.png",
        "dfdtheta.svg",
        "dfdtheta.png",
        "summary.md",
    ] {
        let meta = std::fs::metadata(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(meta.len() > 0, "{name} is empty");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("cycle"), "{summary}");
    let dfdu = std::fs::read_to_string(out.join("dfdu.mtx")).unwrap();
    assert!(dfdu.contains("\n1000000 1000000 2999998\n"));
}
