//! The block-triangular solver against LU on random block DAGs (property test: random block
//! sizes on both sides of the dense/sparse threshold, identity blocks, permuted block labels),
//! the block-level DAG check, and `Auto`'s choice.

use adjoint::dag::{check_block_dag, dag_level, DagLevel};
use adjoint::solve::block_triangular::DENSE_BLOCK;
use adjoint::solve::{BlockTriangularSolver, Factorization, Solver, SolverKind};
use adjoint::sparse::pattern_of;
use adjoint::Error;
use proptest::prelude::*;
use rand::{seq::SliceRandom, RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

/// Kinds of diagonal block.
#[derive(Debug, Clone, Copy)]
enum Diag {
    Identity,
    Dense,
    /// Symmetric tridiagonal, diagonally dominant (the banded kernel for large blocks).
    Tridiagonal,
    /// Sparse nonsymmetric with a cycle through every unknown.
    Cyclic,
}

/// A random block DAG: blocks `sizes`, labels in a random topological order, and the offsets.
fn random_block_dag(
    sizes: &[usize],
    kinds: &[Diag],
    seed: u64,
) -> (CsMat<f64>, Vec<usize>, Vec<usize>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut off = vec![0];
    for s in sizes {
        off.push(off.last().unwrap() + s);
    }
    let n = *off.last().unwrap();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.shuffle(&mut rng);
    let mut t = TriMat::new((n, n));
    for (b, kind) in kinds.iter().enumerate() {
        let (s, m) = (off[b], sizes[b]);
        for i in 0..m {
            match kind {
                Diag::Identity => t.add_triplet(s + i, s + i, 1.0),
                Diag::Dense => {
                    for j in 0..m {
                        let v = rng.random::<f64>() - 0.5 + if i == j { 2.0 } else { 0.0 };
                        t.add_triplet(s + i, s + j, v);
                    }
                }
                Diag::Tridiagonal => {
                    t.add_triplet(s + i, s + i, 3.0 + rng.random::<f64>());
                    if i + 1 < m {
                        let v = rng.random::<f64>() - 0.5;
                        t.add_triplet(s + i, s + i + 1, v);
                        t.add_triplet(s + i + 1, s + i, v);
                    }
                }
                Diag::Cyclic => {
                    t.add_triplet(s + i, s + i, 2.0 + rng.random::<f64>());
                    t.add_triplet(s + i, s + (i + 1) % m.max(1), rng.random::<f64>() - 0.5);
                }
            }
        }
    }
    // edges from earlier to later blocks of the order only
    for a in 0..order.len() {
        for c in a + 1..order.len() {
            if rng.random::<f64>() < 0.5 {
                let (from, to) = (order[a], order[c]);
                for _ in 0..3 {
                    let i = off[to] + rng.random_range(0..sizes[to]);
                    let j = off[from] + rng.random_range(0..sizes[from]);
                    t.add_triplet(i, j, rng.random::<f64>() - 0.5);
                }
            }
        }
    }
    (t.to_csc(), off, order)
}

fn lu_solve(a: &CsMat<f64>, r: &[f64], transpose: bool) -> Vec<f64> {
    let mut s = Solver::analyze(&pattern_of(a), SolverKind::Lu).unwrap();
    s.factor(a, "A").unwrap();
    let mut x = r.to_vec();
    if transpose {
        s.solve_transpose_in_place(&mut x).unwrap();
    } else {
        s.solve_in_place(&mut x).unwrap();
    }
    x
}

fn kind_strategy() -> impl Strategy<Value = Diag> {
    prop_oneof![
        Just(Diag::Identity),
        Just(Diag::Dense),
        Just(Diag::Tridiagonal),
        Just(Diag::Cyclic)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn agrees_with_lu_on_random_block_dags(
        blocks in prop::collection::vec((1usize..=DENSE_BLOCK + 12, kind_strategy()), 1..7),
        seed in 0u64..1_000_000,
    ) {
        let sizes: Vec<usize> = blocks.iter().map(|b| b.0).collect();
        let kinds: Vec<Diag> = blocks.iter().map(|b| b.1).collect();
        let (a, off, _) = random_block_dag(&sizes, &kinds, seed);
        let mut s = BlockTriangularSolver::analyze(&pattern_of(&a), &off).unwrap();
        s.factor(&a, "A").unwrap();
        let identities = kinds.iter().filter(|k| matches!(k, Diag::Identity)).count();
        prop_assert_eq!(s.identity_blocks(), identities);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 1);
        let r: Vec<f64> = (0..a.rows()).map(|_| rng.random::<f64>() - 0.5).collect();
        for transpose in [false, true] {
            let want = lu_solve(&a, &r, transpose);
            let mut x = r.clone();
            if transpose {
                s.solve_transpose_in_place(&mut x).unwrap();
            } else {
                s.solve_in_place(&mut x).unwrap();
            }
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (k, (xi, wi)) in x.iter().zip(&want).enumerate() {
                prop_assert!((xi - wi).abs() <= 1e-10 * scale, "transpose {transpose}, x[{k}] = {xi} vs LU {wi}");
            }
        }
    }
}

#[test]
fn blocks_with_the_same_pattern_share_one_analysis() {
    let sizes = [40, 40, 40, 3, 3];
    let kinds = [Diag::Tridiagonal; 5];
    let (a, off, _) = random_block_dag(&sizes, &kinds, 3);
    let s = BlockTriangularSolver::analyze(&pattern_of(&a), &off).unwrap();
    assert_eq!(s.distinct_patterns(), 2);
}

#[test]
fn the_block_order_is_reported_and_cycles_name_blocks() {
    let sizes = [2, 3, 2, 4];
    let kinds = [Diag::Dense, Diag::Cyclic, Diag::Dense, Diag::Cyclic];
    let (a, off, order) = random_block_dag(&sizes, &kinds, 11);
    let dag = check_block_dag(a.view(), &off).unwrap();
    // every edge goes forward in the reported order
    let pos: Vec<usize> = (0..4)
        .map(|b| dag.order().iter().position(|&o| o == b).unwrap())
        .collect();
    assert!(dag.edges().iter().all(|&(f, t)| pos[f] < pos[t]));
    assert_eq!(dag.order().len(), order.len());
    assert_eq!(dag_level(a.view(), Some(&off)).unwrap(), DagLevel::Blocks);
    assert_eq!(dag_level(a.view(), None).unwrap(), DagLevel::None);
    // a back edge between two blocks makes a block cycle
    let mut t = TriMat::new((4, 4));
    for (i, j) in [(0, 0), (1, 1), (2, 2), (3, 3), (2, 0), (0, 3)] {
        t.add_triplet(i, j, 1.0);
    }
    let c: CsMat<f64> = t.to_csc();
    match check_block_dag(c.view(), &[0, 2, 4]) {
        Err(Error::Cycle { blocks, .. }) => assert_eq!(blocks, vec![0, 1]),
        other => panic!("expected a block cycle, got {other:?}"),
    }
    // entry-level DAG: reported as such
    assert_eq!(
        dag_level(c.view(), Some(&[0, 1, 2, 3, 4])).unwrap(),
        DagLevel::Entries
    );
}

#[test]
fn auto_chooses_block_triangular_only_with_block_offsets() {
    let sizes = [5, 5, 5];
    let kinds = [Diag::Cyclic; 3];
    let (a, off, _) = random_block_dag(&sizes, &kinds, 5);
    let p = pattern_of(&a);
    let with = Solver::analyze_blocks(&p, SolverKind::Auto, Some(&off)).unwrap();
    assert_eq!(with.name(), "block-triangular");
    let without = Solver::analyze_blocks(&p, SolverKind::Auto, None).unwrap();
    assert_eq!(without.name(), "lu");
    match Solver::analyze_blocks(&p, SolverKind::BlockTriangular, None) {
        Err(Error::SolverNotApplicable { solver, .. }) => assert_eq!(solver, "block-triangular"),
        other => panic!("expected not applicable, got {other:?}"),
    }
}

#[test]
fn a_singular_diagonal_block_is_reported_in_the_matrix_numbering() {
    for m in [3, DENSE_BLOCK + 5] {
        // block 1 (rows m..2m) has a zero row
        let mut t = TriMat::new((2 * m, 2 * m));
        for i in 0..m {
            t.add_triplet(i, i, 1.0);
            t.add_triplet(i, (i + 1) % m, 0.5);
            t.add_triplet(m + i, m + i, if i == 1 { 0.0 } else { 2.0 });
            t.add_triplet(m + i, m + (i + 2) % m, if i == 1 { 0.0 } else { 0.25 });
            t.add_triplet(m + i, i, 1.0);
        }
        let a: CsMat<f64> = t.to_csc();
        let mut s = BlockTriangularSolver::analyze(&pattern_of(&a), &[0, m, 2 * m]).unwrap();
        match s.factor(&a, "J") {
            Err(Error::SingularPivot { index, what, .. }) => {
                assert!(index >= m && index < 2 * m, "m = {m}: index {index}");
                assert!(what.contains("diagonal block 1"), "{what}");
            }
            other => panic!("m = {m}: expected a singular pivot, got {other:?}"),
        }
        let mut x = vec![1.0; 2 * m];
        assert!(s.solve_transpose_in_place(&mut x).is_err());
    }
}
