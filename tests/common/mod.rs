//! Shared test helpers: independent reference implementations and tolerance checks.
//!
//! Nothing here calls the library's solvers: the references must be able to disagree.
#![allow(dead_code)]

use num_dual::{Dual64, DualNum};
use std::path::{Path, PathBuf};

/// Path of a file under `tests/data`.
pub fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// Normwise relative difference `‖a − b‖₂ / ‖b‖₂` (absolute when `b = 0`).
pub fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let s: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    if s == 0.0 {
        d
    } else {
        d / s
    }
}

/// Asserts `‖a − b‖ ≤ rtol ‖b‖` and, on failure, names the worst entry.
#[track_caller]
pub fn assert_close(a: &[f64], b: &[f64], rtol: f64, what: &str) {
    let r = rel_diff(a, b);
    if r.is_nan() || r > rtol {
        let (k, _) = a
            .iter()
            .zip(b)
            .enumerate()
            .map(|(k, (x, y))| (k, (x - y).abs()))
            .fold((0, -1.0), |m, x| if x.1 > m.1 { x } else { m });
        panic!(
            "{what}: relative difference {r:e} > {rtol:e}; worst entry {k}: {} vs {}",
            a[k], b[k]
        );
    }
}

/// LAPACK `dgtsv` (tridiagonal solve with partial pivoting), generic over dual numbers.
/// `dl`, `du` sub/super-diagonals (length n−1), `d` diagonal, `b` right-hand side.
pub fn gtsv<D: DualNum<Primitive = f64> + Copy>(dl: &[D], d: &[D], du: &[D], b: &[D]) -> Vec<D> {
    let n = d.len();
    let (mut dl, mut d, mut du, mut b) = (dl.to_vec(), d.to_vec(), du.to_vec(), b.to_vec());
    for i in 0..n.saturating_sub(1) {
        if d[i].abs() >= dl[i].abs() {
            let fact = dl[i] / d[i];
            d[i + 1] -= fact * du[i];
            let bi = b[i];
            b[i + 1] -= fact * bi;
            dl[i] = D::zero();
        } else {
            let fact = d[i] / dl[i];
            d[i] = dl[i];
            let temp = d[i + 1];
            d[i + 1] = du[i] - fact * temp;
            if i + 2 < n {
                dl[i] = du[i + 1];
                du[i + 1] = -fact * dl[i];
            } else {
                dl[i] = D::zero();
            }
            du[i] = temp;
            let temp = b[i];
            b[i] = b[i + 1];
            b[i + 1] = temp - fact * b[i + 1];
        }
    }
    let mut x = b;
    x[n - 1] /= d[n - 1];
    if n > 1 {
        x[n - 2] = (x[n - 2] - du[n - 2] * x[n - 1]) / d[n - 2];
    }
    for i in (0..n.saturating_sub(2)).rev() {
        x[i] = (x[i] - du[i] * x[i + 1] - dl[i] * x[i + 2]) / d[i];
    }
    x
}

/// The seed's objective `(cᵀ A(θ)⁻¹ b)²`, computed independently of the library.
pub fn tridiagonal_objective<D: DualNum<Primitive = f64> + Copy>(
    c: &[f64],
    b: &[f64],
    theta: &[D],
) -> D {
    let n = c.len();
    let (diag, off) = theta.split_at(n);
    let bd: Vec<D> = b.iter().map(|&x| D::from(x)).collect();
    let u = gtsv(off, diag, off, &bd);
    let cu = u.iter().zip(c).fold(D::zero(), |s, (&ui, &ci)| s + ui * ci);
    cu * cu
}

/// Forward-mode gradient: one dual-number pass per parameter.
pub fn dual_gradient(f: impl Fn(&[Dual64]) -> Dual64, theta: &[f64]) -> Vec<f64> {
    let mut x: Vec<Dual64> = theta.iter().map(|&t| Dual64::from(t)).collect();
    (0..theta.len())
        .map(|k| {
            x[k] = Dual64::new(theta[k], 1.0);
            let g = f(&x).eps;
            x[k] = Dual64::from(theta[k]);
            g
        })
        .collect()
}

/// Central finite differences `(f(θ + h e_k) − f(θ − h e_k)) / 2h`, `h = step·max(1, |θ_k|)`.
pub fn central_differences(f: impl Fn(&[f64]) -> f64, theta: &[f64], step: f64) -> Vec<f64> {
    let mut x = theta.to_vec();
    (0..theta.len())
        .map(|k| {
            let h = step * theta[k].abs().max(1.0);
            x[k] = theta[k] + h;
            let fp = f(&x);
            x[k] = theta[k] - h;
            let fm = f(&x);
            x[k] = theta[k];
            (fp - fm) / (2.0 * h)
        })
        .collect()
}

/// The MBB beam's stiffness `K(x)` on the free dofs, assembled by the beam (`fill_dfdu`).
pub fn stiffness(beam: &adjoint::problems::topopt::MbbBeam, x: &[f64]) -> sprs::CsMat<f64> {
    use adjoint::problem::Jacobians;
    let pattern = beam.dfdu_pattern();
    let mut values = vec![0.0; pattern.nnz()];
    beam.fill_dfdu(&[], x, &mut values).unwrap();
    sprs::CsMat::new_csc(
        pattern.shape(),
        pattern.indptr().to_proper().into_owned(),
        pattern.indices().to_vec(),
        values,
    )
}
