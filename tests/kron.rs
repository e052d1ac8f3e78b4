//! The lazy `[u; 1]ᵀ ⊗ I_n` against sprs' explicit Kronecker product and a dense reference.

mod common;

use adjoint::structured::kron::RowKron;
use common::assert_close;
use sprs::{CsMat, TriMat};

fn dense_reference(u: &[f64], n: usize) -> nalgebra::DMatrix<f64> {
    // [u; 1]ᵀ ⊗ I_n entry by entry: block c is [u; 1]_c · I_n
    let m = u.len() + 1;
    let mut k = nalgebra::DMatrix::zeros(n, m * n);
    for c in 0..m {
        let a = if c < u.len() { u[c] } else { 1.0 };
        for r in 0..n {
            k[(r, c * n + r)] = a;
        }
    }
    k
}

#[test]
fn apply_transpose_and_assembly_match_explicit_products() {
    for (u, n) in [
        (vec![0.5, -2.0, 3.0], 2usize),
        (vec![], 3),
        (vec![1.5], 1),
        (vec![0.0, 4.0, -1.0, 2.0], 5),
    ] {
        let k = RowKron::new(&u, n);
        let (rows, cols) = k.shape();
        assert_eq!((rows, cols), (n, (u.len() + 1) * n));
        // sprs' kronecker_product of the row [u; 1]ᵀ and I_n
        let mut row = TriMat::new((1, u.len() + 1));
        for (c, &a) in u.iter().chain(std::iter::once(&1.0)).enumerate() {
            row.add_triplet(0, c, a);
        }
        let row: CsMat<f64> = row.to_csr();
        let eye: CsMat<f64> = CsMat::eye(n);
        let sprs_k = sprs::kronecker_product(row.view(), eye.view()).to_csc();
        let assembled = k.to_csc();
        assert_eq!(
            assembled.to_dense(),
            sprs_k.to_dense(),
            "u = {u:?}, n = {n}"
        );
        let dense = dense_reference(&u, n);
        let x: Vec<f64> = (0..cols).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut y = vec![0.0; rows];
        k.apply(&x, &mut y);
        assert_close(
            &y,
            (&dense * nalgebra::DVector::from_column_slice(&x)).as_slice(),
            1e-15,
            "K x",
        );
        let yv: Vec<f64> = (0..rows).map(|i| i as f64 - 0.5).collect();
        let mut xt = vec![0.0; cols];
        k.apply_transpose(&yv, &mut xt);
        assert_close(
            &xt,
            (dense.transpose() * nalgebra::DVector::from_column_slice(&yv)).as_slice(),
            1e-15,
            "Kᵀ y",
        );
    }
}
