//! Dense `LU` with partial pivoting for the small diagonal blocks of the block-triangular
//! solver (a time step of a few species): at these sizes a sparse factorization's set-up costs
//! more than the `n³/3` flops. Written by hand because the blocks live side by side in one
//! array (no allocation per block) and must be solved transposed in place; faer's dense `LU`
//! owns its storage.
//!
//! Column-major `a[i + j n]`; `P A = L U` with `L` unit lower triangular and `U` upper, both
//! overwriting `a`, and `P` the row swaps `piv[k]` (LAPACK's convention: row `k` was swapped
//! with row `piv[k] ≥ k` at step `k`).
//!
//! ```text
//!     A x = b:    b ← P b,  L y = b,  U x = y
//!     Aᵀ x = b:   Uᵀ y = b,  Lᵀ z = y,  x = Pᵀ z
//! ```

/// Factorizes the `n × n` column-major `a` in place; the pivots `u_kk` are left on the
/// diagonal. A zero pivot (a column with nothing left to eliminate) is kept, and the caller
/// applies the singularity rule to the diagonal.
pub(crate) fn lu_factor(a: &mut [f64], n: usize, piv: &mut [u32]) {
    debug_assert!(a.len() == n * n && piv.len() == n);
    for k in 0..n {
        let mut p = k;
        let mut best = a[k + k * n].abs();
        for i in k + 1..n {
            let v = a[i + k * n].abs();
            // NaN is taken as the pivot, so that it reaches the singularity rule
            if v > best || v.is_nan() {
                best = v;
                p = i;
                if v.is_nan() {
                    break;
                }
            }
        }
        piv[k] = p as u32;
        if p != k {
            for j in 0..n {
                a.swap(k + j * n, p + j * n);
            }
        }
        let d = a[k + k * n];
        if d == 0.0 || d.is_nan() {
            continue;
        }
        let inv = 1.0 / d;
        for v in &mut a[k * n + k + 1..(k + 1) * n] {
            *v *= inv;
        }
        // columns right of k, minus column k's multipliers times their row-k entry
        let (left, right) = a.split_at_mut((k + 1) * n);
        let lk = &left[k * n + k + 1..(k + 1) * n];
        for col in right.chunks_exact_mut(n) {
            let akj = col[k];
            if akj != 0.0 {
                for (v, &l) in col[k + 1..].iter_mut().zip(lk) {
                    *v -= l * akj;
                }
            }
        }
    }
}

/// `x ← A⁻¹ x` with the factors of [`lu_factor`].
pub(crate) fn lu_solve(a: &[f64], n: usize, piv: &[u32], x: &mut [f64]) {
    for (k, &p) in piv.iter().enumerate() {
        x.swap(k, p as usize);
    }
    for (j, col) in a.chunks_exact(n).enumerate() {
        let (head, tail) = x.split_at_mut(j + 1);
        let xj = head[j];
        for (v, &l) in tail.iter_mut().zip(&col[j + 1..]) {
            *v -= l * xj;
        }
    }
    for (j, col) in a.chunks_exact(n).enumerate().rev() {
        let (head, tail) = x.split_at_mut(j);
        tail[0] /= col[j];
        let xj = tail[0];
        for (v, &u) in head.iter_mut().zip(&col[..j]) {
            *v -= u * xj;
        }
    }
}

/// `x ← A⁻ᵀ x` with the factors of [`lu_factor`].
pub(crate) fn lu_solve_transpose(a: &[f64], n: usize, piv: &[u32], x: &mut [f64]) {
    // Uᵀ y = x: column j of U is row j of Uᵀ
    for (j, col) in a.chunks_exact(n).enumerate() {
        let (head, tail) = x.split_at_mut(j);
        let mut s = tail[0];
        for (&u, &xi) in col[..j].iter().zip(head.iter()) {
            s -= u * xi;
        }
        tail[0] = s / col[j];
    }
    // Lᵀ z = y
    for (j, col) in a.chunks_exact(n).enumerate().rev() {
        let (head, tail) = x.split_at_mut(j + 1);
        let mut s = head[j];
        for (&l, &xi) in col[j + 1..].iter().zip(tail.iter()) {
            s -= l * xi;
        }
        head[j] = s;
    }
    for k in (0..n).rev() {
        x.swap(k, piv[k] as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matvec(a: &[f64], n: usize, x: &[f64], transpose: bool) -> Vec<f64> {
        let mut y = vec![0.0; n];
        for i in 0..n {
            for j in 0..n {
                let v = if transpose {
                    a[j + i * n]
                } else {
                    a[i + j * n]
                };
                y[i] += v * x[j];
            }
        }
        y
    }

    #[test]
    fn solves_match_the_matrix_and_its_transpose() {
        let mut rng = crate::rng::generator(7);
        use rand::RngExt;
        for n in [1, 2, 3, 5, 8, 17] {
            let a: Vec<f64> = (0..n * n).map(|_| rng.random::<f64>() - 0.5).collect();
            let x: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
            let mut lu = a.clone();
            let mut piv = vec![0u32; n];
            lu_factor(&mut lu, n, &mut piv);
            for transpose in [false, true] {
                let mut b = matvec(&a, n, &x, transpose);
                if transpose {
                    lu_solve_transpose(&lu, n, &piv, &mut b);
                } else {
                    lu_solve(&lu, n, &piv, &mut b);
                }
                for (bi, xi) in b.iter().zip(&x) {
                    assert!((bi - xi).abs() < 1e-10, "n = {n}: {bi} vs {xi}");
                }
            }
        }
    }

    #[test]
    fn a_zero_leading_entry_is_pivoted_away() {
        // [[0, 1], [1, 0]]: no pivot-free factorization exists
        let mut a = vec![0.0, 1.0, 1.0, 0.0];
        let mut piv = [0u32; 2];
        lu_factor(&mut a, 2, &mut piv);
        assert_eq!(piv, [1, 1]);
        let mut x = vec![2.0, 3.0];
        lu_solve(&a, 2, &piv, &mut x);
        assert_eq!(x, vec![3.0, 2.0]);
    }
}
