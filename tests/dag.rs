//! The DAG checker and the triangular sweeps: property tests over random layered DAGs with
//! permuted labels, injected back edges, block views, and the same answers from sprs and
//! nalgebra-sparse inputs.

mod common;

use adjoint::dag::DagPattern;
use adjoint::dag::{check_dag, view_nalgebra_csc, view_nalgebra_csr, BlockDiagonal};
use adjoint::solve::Factorization;
use adjoint::solve::TriangularSolver;
use adjoint::Error;
use common::assert_close;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

/// A random layered DAG: `sizes` layers, each unknown depending on a few of the earlier
/// layers' unknowns; labels permuted by `perm`. Returns the matrix and the edges (j → i) in
/// original (permuted) labels.
fn layered_dag(sizes: &[usize], seed: u64, unit: bool, permute: bool) -> (CsMat<f64>, Vec<usize>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n: usize = sizes.iter().sum();
    let mut perm: Vec<usize> = (0..n).collect();
    if permute {
        for k in (1..n).rev() {
            perm.swap(k, rng.random_range(0..=k));
        }
    }
    let mut t = TriMat::new((n, n));
    let mut start = 0;
    for (l, &size) in sizes.iter().enumerate() {
        for i in start..start + size {
            let d = if unit { 1.0 } else { 1.0 + rng.random::<f64>() };
            t.add_triplet(perm[i], perm[i], d);
            if l > 0 {
                for j in 0..start {
                    if rng.random::<f64>() < 0.3 {
                        t.add_triplet(perm[i], perm[j], rng.random::<f64>() - 0.5);
                    }
                }
            }
        }
        start += size;
    }
    (t.to_csc(), perm)
}

fn dense(m: &CsMat<f64>) -> nalgebra::DMatrix<f64> {
    let mut a = nalgebra::DMatrix::zeros(m.rows(), m.cols());
    for (&v, (i, j)) in m.iter() {
        a[(i, j)] += v;
    }
    a
}

proptest! {
    // fixed seed: CI runs the same cases every time (raise `cases` locally to explore)
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: proptest::test_runner::RngSeed::Fixed(20261126), ..ProptestConfig::default() })]

    #[test]
    fn random_layered_dags_pass_and_sweeps_match_dense_lu(
        sizes in proptest::collection::vec(1usize..8, 1..6),
        seed in 0u64..1000,
        unit in any::<bool>(),
    ) {
        let (m, _) = layered_dag(&sizes, seed, unit, true);
        let n = m.rows();
        let report = check_dag(m.view(), None).unwrap();
        let order = report.order.to_vec();
        let mut pos = vec![0; n];
        for (k, &v) in order.iter().enumerate() { pos[v] = k; }
        for (_, (i, j)) in m.iter() {
            if i != j { prop_assert!(pos[j] < pos[i], "edge {j} → {i} against the order"); }
        }
        prop_assert!(report.levels <= sizes.len());
        let mut s = TriangularSolver::new(DagPattern::check(m.view()).unwrap()).unwrap();
        s.factor(&m, "J").unwrap();
        prop_assert_eq!(s.unit_diagonal(), unit);
        let r: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - 5.0).collect();
        let a = dense(&m);
        let rv = nalgebra::DVector::from_column_slice(&r);
        let mut x = r.clone();
        s.solve_transpose_in_place(&mut x).unwrap();
        let reference = a.transpose().lu().solve(&rv).unwrap();
        assert_close(&x, reference.as_slice(), 1e-12, "Jᵀx = r");
        let mut y = r.clone();
        s.solve_in_place(&mut y).unwrap();
        let reference = a.lu().solve(&rv).unwrap();
        assert_close(&y, reference.as_slice(), 1e-12, "Jx = r");
    }

    #[test]
    fn one_injected_back_edge_is_reported_as_a_cycle_through_it(
        sizes in proptest::collection::vec(1usize..6, 2..6),
        seed in 0u64..1000,
        pick in any::<proptest::sample::Index>(),
    ) {
        let (m, _) = layered_dag(&sizes, seed, false, true);
        let edges: Vec<(usize, usize)> = m.iter().filter(|(_, (i, j))| i != j).map(|(_, (i, j))| (i, j)).collect();
        prop_assume!(!edges.is_empty());
        // reverse an existing dependency: (i, j) stored means j → i; add (j, i): i → j
        let (i, j) = edges[pick.index(edges.len())];
        let mut t = TriMat::new(m.shape());
        for (&v, (r, c)) in m.iter() { t.add_triplet(r, c, v); }
        t.add_triplet(j, i, 1.0);
        let m2: CsMat<f64> = t.to_csc();
        match check_dag(m2.view(), None) {
            Err(Error::Cycle { nodes, .. }) => {
                let k = nodes.len();
                let has_edge = (0..k).any(|a| nodes[a] == i && nodes[(a + 1) % k] == j);
                prop_assert!(has_edge, "cycle {nodes:?} does not use the injected edge {i} → {j}");
                // and every consecutive pair is a real edge
                for a in 0..k {
                    let (from, to) = (nodes[a], nodes[(a + 1) % k]);
                    prop_assert!(m2.get(to, from).is_some(), "{from} → {to} is not an edge");
                }
            }
            other => prop_assert!(false, "expected a cycle, got {other:?}"),
        }
    }
}

#[test]
fn sprs_and_nalgebra_inputs_give_the_same_report() {
    let (m, _) = layered_dag(&[3, 4, 2, 5], 17, true, true);
    let csc = check_dag(m.view(), None).unwrap();
    let csr_m = m.to_csr();
    let csr = check_dag(csr_m.view(), None).unwrap();
    let (indptr, indices, data) = m.clone().into_raw_storage();
    let na_csc =
        nalgebra_sparse::CscMatrix::try_from_csc_data(m.rows(), m.cols(), indptr, indices, data)
            .unwrap();
    let na_csr = nalgebra_sparse::CsrMatrix::from(&na_csc);
    let from_na_csc = check_dag(view_nalgebra_csc(&na_csc).unwrap(), None).unwrap();
    let from_na_csr = check_dag(view_nalgebra_csr(&na_csr).unwrap(), None).unwrap();
    for other in [&csr, &from_na_csc, &from_na_csr] {
        assert_eq!(other.levels, csc.levels);
        assert_eq!(other.edges, csc.edges);
        assert_eq!(other.lower_triangular, csc.lower_triangular);
    }
    // the same cycle is found from every storage
    let mut t = TriMat::new((3, 3));
    for (i, j) in [(0, 0), (1, 1), (2, 2), (1, 0), (2, 1), (0, 2)] {
        t.add_triplet(i, j, 1.0);
    }
    let c: CsMat<f64> = t.to_csc();
    let e1 = check_dag(c.view(), None).unwrap_err().to_string();
    let c_csr = c.to_csr();
    let e2 = check_dag(c_csr.view(), None).unwrap_err().to_string();
    assert_eq!(e1, e2);
    assert!(e1.contains("0 → 1 → 2 → 0"), "{e1}");
}

fn network_like(identity: bool) -> CsMat<f64> {
    // blocks of sizes 2, 3, 1: identity diagonal blocks, dense sub-diagonal blocks
    let off = [0, 2, 5, 6];
    let mut t = TriMat::new((6, 6));
    for i in 0..6 {
        t.add_triplet(i, i, 1.0);
    }
    for b in 1..3 {
        for i in off[b]..off[b + 1] {
            for j in off[b - 1]..off[b] {
                t.add_triplet(i, j, -0.5);
            }
        }
    }
    if !identity {
        t.add_triplet(3, 2, 0.25); // inside diagonal block 1
    }
    t.to_csc()
}

#[test]
fn block_view_names_identity_blocks_and_the_first_offender() {
    let m = network_like(true);
    let r = check_dag(m.view(), Some(&[0, 2, 5, 6])).unwrap();
    assert!(r.lower_triangular && r.order.is_natural());
    assert_eq!(r.levels, 3);
    let b = r.blocks.unwrap();
    assert_eq!(b.edges, vec![(0, 1), (1, 2)]);
    assert!(b.block_lower_triangular);
    assert_eq!(b.diagonal, BlockDiagonal::Identity);
    let m = network_like(false);
    let b = check_dag(m.view(), Some(&[0, 2, 5, 6]))
        .unwrap()
        .blocks
        .unwrap();
    assert_eq!(
        b.diagonal,
        BlockDiagonal::NotIdentity {
            block: 1,
            row: 3,
            col: 2,
            value: 0.25
        }
    );
    // bad offsets are an error, not a panic
    assert!(matches!(
        check_dag(m.view(), Some(&[0, 2, 9])),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        check_dag(m.view(), Some(&[1, 6])),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn cycles_are_reported_in_block_terms_too() {
    let mut t = TriMat::new((4, 4));
    for i in 0..4 {
        t.add_triplet(i, i, 1.0);
    }
    t.add_triplet(2, 0, 1.0); // 0 → 2 (block 0 → block 1)
    t.add_triplet(1, 3, 1.0); // 3 → 1 (block 1 → block 0)
    t.add_triplet(3, 2, 1.0); // 2 → 3
    t.add_triplet(0, 1, 1.0); // 1 → 0
    let m: CsMat<f64> = t.to_csc();
    let e = check_dag(m.view(), Some(&[0, 2, 4])).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("0 → 2 → 3 → 1 → 0"), "{text}");
    assert!(text.contains("blocks 0 → 1 → 0"), "{text}");
}

#[test]
fn a_self_loop_is_the_diagonal_not_a_cycle_and_non_square_is_an_error() {
    let mut t = TriMat::new((2, 2));
    t.add_triplet(0, 0, 5.0);
    t.add_triplet(1, 1, 5.0);
    let m: CsMat<f64> = t.to_csc();
    assert!(check_dag(m.view(), None).is_ok());
    let r: CsMat<f64> = TriMat::<f64>::new((2, 3)).to_csc();
    assert!(matches!(
        check_dag(r.view(), None),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn a_chain_has_n_levels_and_a_zero_or_missing_diagonal_is_singular() {
    let n = 50;
    let mut t = TriMat::new((n, n));
    for i in 0..n {
        t.add_triplet(i, i, 2.0);
        if i > 0 {
            t.add_triplet(i - 1, i, 1.0); // upper: i depends on … reversed chain
        }
    }
    let mut m: CsMat<f64> = t.to_csc();
    let r = check_dag(m.view(), None).unwrap();
    assert_eq!(r.levels, n);
    assert!(!r.lower_triangular);
    assert_eq!(r.order.to_vec(), (0..n).rev().collect::<Vec<_>>());
    let mut s = TriangularSolver::new(DagPattern::check(m.view()).unwrap()).unwrap();
    let k = m.nnz_index(7, 7).unwrap().0;
    m.data_mut()[k] = 0.0;
    assert!(matches!(
        s.factor(&m, "J"),
        Err(Error::SingularPivot { index: 7, .. })
    ));
    let mut x = vec![1.0; n];
    assert!(s.solve_transpose_in_place(&mut x).is_err());
    // a diagonal entry that is not stored at all
    let mut t = TriMat::new((2, 2));
    t.add_triplet(0, 0, 1.0);
    t.add_triplet(1, 0, 1.0);
    let m: CsMat<f64> = t.to_csc();
    assert!(matches!(
        TriangularSolver::new(DagPattern::check(m.view()).unwrap()),
        Err(Error::SingularPivot { index: 1, .. })
    ));
}

#[test]
fn non_finite_entries_in_natural_order_are_found_by_the_factor() {
    // lower triangular in natural order: the factor's one O(nnz) pass (the scale of the pivot
    // rule) finds every non-finite entry, off the diagonal too
    let n = 6;
    let mut t = TriMat::new((n, n));
    for i in 0..n {
        t.add_triplet(i, i, 2.0);
        if i > 0 {
            t.add_triplet(i, i - 1, -1.0);
        }
        if i > 2 {
            t.add_triplet(i, i - 3, 0.5);
        }
    }
    let good: CsMat<f64> = t.to_csc();
    let r = check_dag(good.view(), None).unwrap();
    assert!(r.lower_triangular);
    let mut s = TriangularSolver::new(DagPattern::check(good.view()).unwrap()).unwrap();
    for (row, col, value) in [
        (4, 3, f64::NAN),
        (5, 2, f64::INFINITY),
        (1, 0, f64::NEG_INFINITY),
    ] {
        let mut m = good.clone();
        *m.get_mut(row, col).unwrap() = value;
        match s.factor(&m, "J") {
            Err(Error::NonFiniteEntry { row: r, col: c, .. }) => assert_eq!((r, c), (row, col)),
            other => panic!("expected NonFiniteEntry at ({row}, {col}), got {other:?}"),
        }
        // and no solve runs on the rejected values
        let mut x = vec![1.0; n];
        assert!(s.solve_in_place(&mut x).is_err());
    }
    // a non-finite diagonal entry only divides: the factor itself reports it
    let mut m = good.clone();
    *m.get_mut(3, 3).unwrap() = f64::INFINITY;
    assert!(matches!(
        s.factor(&m, "J"),
        Err(Error::NonFiniteEntry { row: 3, col: 3, .. })
    ));
    s.factor(&good, "J").unwrap();
    let mut x = vec![1.0; n];
    s.solve_in_place(&mut x).unwrap();
    assert!(x.iter().all(|v| v.is_finite()));
}

/// One identity-block rule (`adjoint::blocks`): a diagonal block with explicit zeros off its
/// diagonal is an identity for the DAG check and for the structure report alike; a stored
/// nonzero or a missing diagonal entry makes it not one, for both.
#[test]
fn one_identity_block_rule_for_the_dag_check_and_the_report() {
    use adjoint::inspect::{structure_report, BlockClass, Blocks};
    let offsets = [0, 2, 4];
    let build = |extra: f64, drop_diagonal: bool| {
        let mut t = sprs::TriMat::new((4, 4));
        for i in 0..4 {
            if !(drop_diagonal && i == 3) {
                t.add_triplet(i, i, 1.0);
            }
        }
        t.add_triplet(0, 1, 0.0); // an explicit zero inside block 0
        t.add_triplet(3, 2, extra); // inside block 1
        t.add_triplet(2, 0, 5.0); // block 0 → block 1
        let m: sprs::CsMat<f64> = t.to_csc();
        m
    };
    for (extra, drop_diagonal, identity) in
        [(0.0, false, true), (0.5, false, false), (0.0, true, false)]
    {
        let m = build(extra, drop_diagonal);
        let dag = check_dag(m.view(), Some(&offsets)).unwrap();
        let blocks = dag.blocks.unwrap();
        assert!(blocks.identity[0], "block 0 holds an explicit zero only");
        assert_eq!(
            blocks.identity[1], identity,
            "extra {extra}, drop {drop_diagonal}"
        );
        let r = structure_report(&m, Blocks::square(&offsets));
        let class = |b: (usize, usize)| r.blocks.iter().find(|x| x.block == b).unwrap().class;
        assert_eq!(class((0, 0)), BlockClass::Identity);
        assert_eq!(class((1, 1)) == BlockClass::Identity, identity);
    }
}
