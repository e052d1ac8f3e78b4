//! The solvers' shared shape: one `Factorization` trait, factorizations that own what they
//! factored (no matrix at solve time), a DAG guarantee tied to its pattern, and clones that
//! keep their factors — for every backend `Solver` can choose.

mod common;

use adjoint::dag::{check_dag, BlockDiagonal, DagPattern};
use adjoint::solve::{Factorization, Solver, SolverKind, SolverOptions, TriangularSolver};
use adjoint::sparse::pattern_of;
use common::assert_close;
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

/// A matrix for each kernel: (kernel, matrix). All are well conditioned.
fn one_per_kernel(n: usize, seed: u64) -> Vec<(&'static str, SolverKind, CsMat<f64>)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut v = move || 0.5 + rng.random::<f64>();
    let build = |entries: &mut dyn FnMut(&mut TriMat<f64>)| -> CsMat<f64> {
        let mut t = TriMat::new((n, n));
        entries(&mut t);
        t.to_csc()
    };
    let tridiagonal = build(&mut |t| {
        for i in 0..n {
            t.add_triplet(i, i, 4.0);
            if i + 1 < n {
                t.add_triplet(i + 1, i, -1.0);
                t.add_triplet(i, i + 1, -1.0);
            }
        }
    });
    let mut w: Vec<f64> = (0..4 * n).map(|_| v()).collect();
    let mut take = move || w.pop().unwrap();
    // symmetric with a wider band: sprs-ldl
    let symmetric = build(&mut |t| {
        for i in 0..n {
            t.add_triplet(i, i, 8.0);
            if i + 3 < n {
                let s = take();
                t.add_triplet(i + 3, i, s);
                t.add_triplet(i, i + 3, s);
            }
        }
    });
    // a DAG in a permuted order (upper and lower entries): the reordered triangular sweep
    let dag = build(&mut |t| {
        for i in 0..n {
            t.add_triplet(i, i, 2.0);
            if i + 1 < n {
                t.add_triplet(i, i + 1, 0.7); // i depends on i + 1
            }
        }
    });
    // lower triangular: the natural-order sweep
    let lower = build(&mut |t| {
        for i in 0..n {
            t.add_triplet(i, i, 1.5);
            if i > 1 {
                t.add_triplet(i, i - 2, -0.4);
            }
        }
    });
    // a cycle and asymmetric: LU
    let general = build(&mut |t| {
        for i in 0..n {
            t.add_triplet(i, i, 5.0);
            t.add_triplet((i + 1) % n, i, 1.0);
            t.add_triplet(i, (i + 2) % n, -0.5);
        }
    });
    vec![
        ("banded", SolverKind::Auto, tridiagonal),
        ("sprs-ldl", SolverKind::Ldlt, symmetric.clone()),
        // symmetric and diagonally dominant, so positive definite
        ("faer-cholesky", SolverKind::Cholesky, symmetric),
        ("triangular", SolverKind::Auto, dag),
        ("triangular", SolverKind::Auto, lower),
        ("faer-lu", SolverKind::Auto, general),
    ]
}

fn dense_solve(a: &CsMat<f64>, b: &[f64], transpose: bool) -> Vec<f64> {
    let mut d = nalgebra::DMatrix::zeros(a.rows(), a.cols());
    for (&v, (i, j)) in a.iter() {
        d[(i, j)] = v;
    }
    if transpose {
        d = d.transpose();
    }
    d.lu()
        .solve(&nalgebra::DVector::from_column_slice(b))
        .unwrap()
        .as_slice()
        .to_vec()
}

#[test]
fn every_kernel_solves_without_the_matrix_and_clones_keep_the_factors() {
    for (n, seed) in [(7, 1), (64, 2), (500, 3)] {
        for (kernel, kind, a) in one_per_kernel(n, seed) {
            let mut s = Solver::analyze(&pattern_of(&a), kind).unwrap();
            assert_eq!(s.kernel(), kernel, "n = {n}");
            assert_eq!(s.dim(), n);
            s.factor(&a, "A").unwrap();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.31).cos()).collect();
            let (x_ref, y_ref) = (dense_solve(&a, &b, false), dense_solve(&a, &b, true));

            // the factorization owns its values: overwrite the caller's matrix, solve anyway
            let mut scratch = a.clone();
            scratch.data_mut().fill(f64::NAN);
            drop(scratch);
            let mut x = b.clone();
            s.solve_in_place(&mut x).unwrap();
            assert_close(&x, &x_ref, 1e-12, &format!("{kernel} A x = b"));
            let mut y = vec![0.0; n];
            s.solve_transpose_scaled_into(&b, -2.0, &mut y).unwrap();
            let y_expected: Vec<f64> = y_ref.iter().map(|v| -2.0 * v).collect();
            assert_close(&y, &y_expected, 1e-12, &format!("{kernel} Aᵀ y = −2b"));

            // a clone keeps the factors: it solves at once, with the same numbers
            let mut c = s.clone();
            let mut xc = b.clone();
            c.solve_in_place(&mut xc).unwrap();
            assert_eq!(xc, x, "{kernel}: clone solves like the original");
            // and they are independent: refactoring the clone leaves the original alone
            let mut a2 = a.clone();
            a2.data_mut().iter_mut().for_each(|v| *v *= 2.0);
            c.factor(&a2, "2A").unwrap();
            let (mut x2, mut x1) = (b.clone(), b.clone());
            c.solve_in_place(&mut x2).unwrap();
            s.solve_in_place(&mut x1).unwrap();
            assert_eq!(x1, x, "{kernel}: original unchanged");
            let half: Vec<f64> = x.iter().map(|v| v / 2.0).collect();
            assert_close(&x2, &half, 1e-13, &format!("{kernel}: clone has 2A"));
        }
    }
}

#[test]
fn the_triangular_solver_keeps_the_values_it_checked() {
    let a = one_per_kernel(40, 5).remove(4).2; // lower triangular: natural order
    let dag = DagPattern::check(pattern_of(&a).view()).unwrap();
    assert!(dag.order().is_natural());
    let mut s = TriangularSolver::new(dag).unwrap();
    s.factor(&a, "L").unwrap();
    let b = vec![1.0; 40];
    let reference = dense_solve(&a, &b, true);
    let mut before = b.clone();
    s.solve_transpose_in_place(&mut before).unwrap();
    // the caller reuses its matrix for something else; the solver is not affected
    let mut a = a;
    a.data_mut().iter_mut().for_each(|v| *v = -*v);
    let mut after = b.clone();
    s.solve_transpose_in_place(&mut after).unwrap();
    assert_eq!(before, after);
    assert_close(&after, &reference, 1e-13, "Lᵀ x = b");
}

#[test]
fn dag_checks_read_patterns_without_values() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for n in [2, 10, 300] {
        // a random DAG in a random labelling, with values
        let perm: Vec<usize> = {
            let mut p: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                p.swap(i, rng.random_range(0..=i));
            }
            p
        };
        let mut t = TriMat::new((n, n));
        for i in 0..n {
            t.add_triplet(perm[i], perm[i], 1.0);
            for _ in 0..3 {
                if i > 0 {
                    let j = rng.random_range(0..i);
                    t.add_triplet(perm[i], perm[j], rng.random::<f64>());
                }
            }
        }
        let m: CsMat<f64> = t.to_csc();
        let pattern = pattern_of(&m);
        let offsets = [0, n / 2, n];
        let with_values = check_dag(m.view(), Some(&offsets)).unwrap();
        let bare = check_dag(pattern.view(), Some(&offsets)).unwrap();
        assert_eq!(bare.order, with_values.order);
        assert_eq!(
            (bare.levels, bare.edges, bare.nnz),
            (with_values.levels, with_values.edges, with_values.nnz)
        );
        let (b, v) = (bare.blocks.unwrap(), with_values.blocks.unwrap());
        assert_eq!(b.edges, v.edges);
        // values decide identity blocks; a bare pattern cannot
        assert_eq!(b.diagonal, BlockDiagonal::Unknown);
        assert!(b.identity.iter().all(|&id| !id));
        // CSR input: the same check, and the kept pattern is CSC
        let csr = m.to_csr();
        let dag = DagPattern::check(csr.view()).unwrap();
        assert_eq!(dag.order(), &with_values.order);
        assert!(dag.pattern().is_csc());
        assert_eq!(dag.pattern().indices(), pattern.indices());
    }
}

#[test]
fn options_reach_every_backend() {
    // the pivot tolerance set through the options is the one the chosen kernel applies
    for (kernel, kind, a) in one_per_kernel(12, 4) {
        let strict = SolverOptions::from(kind).pivot_tolerance(0.99);
        let mut s = Solver::analyze(&pattern_of(&a), strict).unwrap();
        assert_eq!(s.kernel(), kernel);
        // diagonals differ by less than 100×, pivots too: all of them fail a 0.99 rule
        // except where every pivot is equal (the lower-triangular matrix's 1.5s)
        let r = s.factor(&a, "A");
        let equal_pivots = a.diag().data().iter().all(|&d| d == a.diag().data()[0]);
        if kernel == "triangular" && equal_pivots {
            assert!(r.is_ok());
        } else {
            assert!(
                matches!(r, Err(adjoint::Error::SingularPivot { .. })),
                "{kernel}: {r:?}"
            );
        }
    }
}
