//! The general sparse LU backend (faer) against dense LU, for A x = r and Aᵀ x = r.

mod common;

use adjoint::solve::Factorization;
use adjoint::solve::LuSolver;
use adjoint::Error;
use common::assert_close;
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};

fn pattern(m: &CsMat<f64>) -> sprs::CsStructure {
    sprs::CsStructure::new_csc(
        m.shape(),
        m.indptr().to_proper().into_owned(),
        m.indices().to_vec(),
        vec![(); m.nnz()],
    )
}

fn random_nonsymmetric(n: usize, seed: u64) -> CsMat<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut t = TriMat::new((n, n));
    for i in 0..n {
        // a small diagonal forces pivoting on some rows
        t.add_triplet(
            i,
            i,
            if i % 4 == 0 {
                1e-3
            } else {
                3.0 + rng.random::<f64>()
            },
        );
        for j in 0..n {
            if i != j && rng.random::<f64>() < 0.15 {
                t.add_triplet(i, j, rng.random::<f64>() - 0.5);
            }
        }
    }
    t.to_csc()
}

#[test]
fn solves_and_transposed_solves_match_dense_lu() {
    for (n, seed) in [(1, 0), (2, 1), (17, 2), (90, 3)] {
        let a = random_nonsymmetric(n, seed);
        let mut s = LuSolver::analyze(&pattern(&a)).unwrap();
        let mut d = nalgebra::DMatrix::<f64>::zeros(n, n);
        for (&v, (i, j)) in a.iter() {
            d[(i, j)] = v;
        }
        let r: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).cos()).collect();
        let rv = nalgebra::DVector::from_column_slice(&r);
        for scale in [1.0, -2.5] {
            let mut a2 = a.clone();
            a2.data_mut().iter_mut().for_each(|v| *v *= scale);
            let d2 = &d * scale;
            s.factor(&a2, "A").unwrap();
            let mut x = r.clone();
            s.solve_in_place(&mut x).unwrap();
            assert_close(
                &x,
                d2.clone().lu().solve(&rv).unwrap().as_slice(),
                1e-12,
                "A x = r",
            );
            let mut y = r.clone();
            s.solve_transpose_in_place(&mut y).unwrap();
            assert_close(
                &y,
                d2.transpose().lu().solve(&rv).unwrap().as_slice(),
                1e-12,
                "Aᵀ x = r",
            );
        }
    }
}

#[test]
fn structurally_singular_and_unfactored_are_errors() {
    let mut t = TriMat::new((3, 3));
    t.add_triplet(0, 0, 1.0);
    t.add_triplet(1, 0, 1.0);
    t.add_triplet(2, 2, 1.0);
    t.add_triplet(1, 2, 1.0);
    let a: CsMat<f64> = t.to_csc(); // column 1 is empty
    let mut s = LuSolver::analyze(&pattern(&a)).unwrap();
    let mut x = vec![1.0; 3];
    assert!(s.solve_in_place(&mut x).is_err(), "no factorization yet");
    let err = s.factor(&a, "A").unwrap_err();
    assert!(
        matches!(
            err,
            Error::SingularPivot { .. } | Error::NumericallySingular { .. }
        ),
        "{err:?}"
    );
    let mut nan = a.clone();
    nan.data_mut()[0] = f64::NAN;
    assert!(matches!(
        s.factor(&nan, "A"),
        Err(Error::NonFiniteEntry { row: 0, col: 0, .. })
    ));
    let r: CsMat<f64> = TriMat::<f64>::new((2, 3)).to_csc();
    assert!(matches!(
        LuSolver::analyze(&pattern(&r)),
        Err(Error::Shape { .. })
    ));
}
