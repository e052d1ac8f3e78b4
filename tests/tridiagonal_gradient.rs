//! The engine's gradient for the seed's tridiagonal problem, checked three independent ways:
//! the seed's closed form (with an independent LAPACK-style solve), forward-mode dual numbers,
//! and central finite differences; plus the reference cases computed outside this project.

#![allow(clippy::needless_range_loop)] // index-by-index checks read like the issue text

mod common;

use adjoint::mtx::read_vector;
use adjoint::problems::linear::ParamLinear;
use adjoint::problems::tridiagonal::{closed_form_gradient, Tridiagonal};
use adjoint::{AdjointWorkspace, Jacobians, Residual, SolverKind};
use common::*;
use num_dual::Dual64;

const SIZES: [usize; 5] = [1, 2, 3, 10, 1000];
const SEEDS: [u64; 3] = [0, 1, 7];

fn engine(problem: &Tridiagonal, theta: &[f64]) -> AdjointWorkspace {
    let mut ws = AdjointWorkspace::new(problem, SolverKind::Auto).unwrap();
    ws.evaluate(problem, theta).unwrap();
    ws
}

#[test]
fn gradient_matches_the_seeds_closed_form() {
    for n in SIZES {
        for seed in SEEDS {
            let (p, theta) = Tridiagonal::random(n, seed).unwrap();
            let ws = engine(&p, &theta);
            // u and λ from an independent pivoting solve, then the seed's formula.
            let (diag, off) = theta.split_at(n);
            let u = gtsv(off, diag, off, p.b());
            let cu: f64 = u.iter().zip(p.c()).map(|(a, b)| a * b).sum();
            let rhs: Vec<f64> = p.c().iter().map(|c| -2.0 * cu * c).collect();
            let lambda = gtsv(off, diag, off, &rhs);
            let closed = closed_form_gradient(&u, &lambda);
            assert_close(ws.gradient(), &closed, 1e-9, &format!("n={n} seed={seed}"));
            // and from the engine's own u and λ it is the same arithmetic
            let own = closed_form_gradient(ws.u(), ws.lambda());
            assert_close(
                ws.gradient(),
                &own,
                1e-14,
                &format!("own n={n} seed={seed}"),
            );
        }
    }
}

#[test]
fn gradient_matches_forward_mode_dual_numbers() {
    for n in SIZES {
        for seed in SEEDS {
            let (p, theta) = Tridiagonal::random(n, seed).unwrap();
            let ws = engine(&p, &theta);
            let reference = dual_gradient(
                |t: &[Dual64]| tridiagonal_objective(p.c(), p.b(), t),
                &theta,
            );
            assert_close(
                ws.gradient(),
                &reference,
                1e-9,
                &format!("n={n} seed={seed}"),
            );
            let l = tridiagonal_objective(p.c(), p.b(), &theta);
            assert!((ws.objective() - l).abs() <= 1e-9 * l.abs());
        }
    }
}

#[test]
fn gradient_matches_central_finite_differences() {
    for n in SIZES {
        for seed in SEEDS {
            let (p, theta) = Tridiagonal::random(n, seed).unwrap();
            let ws = engine(&p, &theta);
            let fd = central_differences(|t| tridiagonal_objective(p.c(), p.b(), t), &theta, 1e-6);
            assert_close(ws.gradient(), &fd, 1e-5, &format!("n={n} seed={seed}"));
        }
    }
}

fn read_case(name: &str) -> (Tridiagonal, Vec<f64>, Vec<f64>) {
    let dir = data(name);
    let (p, theta) = adjoint::io::read_tridiagonal(&dir).unwrap();
    let g = read_vector(dir.join("gradient.mtx")).unwrap();
    (p, theta, g)
}

#[test]
fn gradient_matches_independent_reference_cases() {
    for name in ["tridiagonal-n7", "tridiagonal-n200"] {
        let (p, theta, reference) = read_case(name);
        let ws = engine(&p, &theta);
        assert_close(ws.gradient(), &reference, 1e-10, name);
    }
}

#[test]
fn adjoint_equation_and_state_equation_hold() {
    let (p, theta) = Tridiagonal::random(50, 3).unwrap();
    let ws = engine(&p, &theta);
    // f(u, θ) = 0
    let mut f = vec![0.0; 50];
    p.residual(ws.u(), &theta, &mut f).unwrap();
    assert!(f.iter().all(|x| x.abs() < 1e-9), "residual {f:?}");
    // (∂f/∂u)ᵀ λ = −(∂L/∂u)ᵀ
    let a = ws.dfdu();
    let mut r = vec![0.0; 50];
    for (&v, (i, j)) in a.iter() {
        r[j] += v * ws.lambda()[i];
    }
    let minus: Vec<f64> = ws.dl_du().iter().map(|g| -g).collect();
    assert_close(&r, &minus, 1e-10, "adjoint equation");
}

#[test]
fn dfdtheta_has_the_documented_entries() {
    for n in [1usize, 2, 5, 10] {
        let (p, theta) = Tridiagonal::random(n, 11).unwrap();
        let ws = engine(&p, &theta);
        let m = ws.dfdtheta();
        let u = ws.u();
        assert_eq!(m.shape(), (n, 2 * n - 1));
        assert_eq!(m.nnz(), 3 * n - 2);
        for i in 0..n {
            assert_eq!(m.get(i, i).copied(), Some(u[i]));
        }
        for k in 0..n - 1 {
            assert_eq!(m.get(k, n + k).copied(), Some(u[k + 1]));
            assert_eq!(m.get(k + 1, n + k).copied(), Some(u[k]));
        }
        let a = ws.dfdu();
        assert_eq!(a.nnz(), 3 * n - 2);
        for i in 0..n {
            assert_eq!(a.get(i, i).copied(), Some(theta[i]));
        }
        for k in 0..n - 1 {
            assert_eq!(a.get(k, k + 1).copied(), Some(theta[n + k]));
            assert_eq!(a.get(k + 1, k).copied(), Some(theta[n + k]));
        }
    }
}

#[test]
fn general_parametrized_linear_constraint_gives_the_same_problem() {
    for n in [1usize, 2, 7, 40] {
        let (p, theta) = Tridiagonal::random(n, 5).unwrap();
        let general = ParamLinear::tridiagonal(p.c().to_vec(), p.b().to_vec()).unwrap();
        let ws = engine(&p, &theta);
        let mut wg = AdjointWorkspace::new(&general, SolverKind::Auto).unwrap();
        wg.evaluate(&general, &theta).unwrap();
        assert_eq!(general.dfdu_pattern().indices(), p.dfdu_pattern().indices());
        assert_eq!(
            general.dfdtheta_pattern().indices(),
            p.dfdtheta_pattern().indices()
        );
        assert_eq!(wg.dfdu().data(), ws.dfdu().data());
        assert_eq!(wg.dfdtheta().data(), ws.dfdtheta().data());
        assert_close(
            wg.gradient(),
            ws.gradient(),
            1e-14,
            "ParamLinear vs Tridiagonal",
        );
        // and its gradient is right on its own: dual numbers
        let reference = dual_gradient(
            |t: &[Dual64]| tridiagonal_objective(p.c(), p.b(), t),
            &theta,
        );
        assert_close(wg.gradient(), &reference, 1e-9, "ParamLinear vs dual");
    }
}

#[test]
fn general_parametrized_constraint_with_a0_and_dense_terms() {
    // A(θ) = A0 + θ0 E0 + θ1 E1 with a nonzero A0 and a term touching several entries.
    let n = 4;
    let mut a0 = sprs::TriMat::new((n, n));
    for i in 0..n {
        a0.add_triplet(i, i, 4.0);
    }
    let mut e0 = sprs::TriMat::new((n, n));
    e0.add_triplet(0, 3, 1.0);
    e0.add_triplet(3, 0, 1.0);
    e0.add_triplet(1, 1, 2.0);
    let mut e1 = sprs::TriMat::new((n, n));
    e1.add_triplet(2, 2, -1.0);
    e1.add_triplet(1, 2, 0.5);
    e1.add_triplet(2, 1, 0.5);
    let b = vec![1.0, 2.0, 3.0, 4.0];
    let c = vec![0.5, -1.0, 2.0, 1.0];
    let p = ParamLinear::new(
        &a0.to_csc(),
        &[e0.to_csc(), e1.to_csc()],
        b.clone(),
        c.clone(),
    )
    .unwrap();
    let theta = [0.3, 0.7];
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    // dense reference with nalgebra LU in dual numbers
    let f = |t: &[Dual64]| {
        let mut a = nalgebra::DMatrix::<Dual64>::zeros(n, n);
        for i in 0..n {
            a[(i, i)] = Dual64::from(4.0);
        }
        a[(0, 3)] += t[0];
        a[(3, 0)] += t[0];
        a[(1, 1)] += t[0] * 2.0;
        a[(2, 2)] -= t[1];
        a[(1, 2)] += t[1] * 0.5;
        a[(2, 1)] += t[1] * 0.5;
        let bb = nalgebra::DVector::from_iterator(n, b.iter().map(|&x| Dual64::from(x)));
        let u = a.lu().solve(&bb).unwrap();
        let cu = u
            .iter()
            .zip(&c)
            .fold(Dual64::from(0.0), |s, (&ui, &ci)| s + ui * ci);
        cu * cu
    };
    let reference = dual_gradient(f, &theta);
    assert_close(ws.gradient(), &reference, 1e-12, "A0 + Σθ_k E_k");
}

#[test]
fn workspace_reuse_gives_the_same_numbers_as_a_fresh_workspace() {
    let (p, theta1) = Tridiagonal::random(300, 1).unwrap();
    let (_, theta2) = Tridiagonal::random(300, 2).unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &theta1).unwrap();
    let first = ws.gradient().to_vec();
    ws.evaluate(&p, &theta2).unwrap();
    assert_eq!(ws.gradient(), engine(&p, &theta2).gradient());
    ws.evaluate(&p, &theta1).unwrap();
    assert_eq!(ws.gradient(), &first[..]);
}
