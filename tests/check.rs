//! The verification toolkit: partials checks find a single wrong entry and a missing pattern
//! entry; the Taylor test separates right from wrong gradients; forward sensitivities agree
//! with the adjoint.

use adjoint::check::{
    check_partials, check_partials_fd, forward_sensitivity_gradient, taylor_test, Reference,
};
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{
    AdjointWorkspace, Error, JacobianSolve, Jacobians, Objective, Partial, Problem, Residual,
    SolverKind, StateSolve,
};
use sprs::CsStructure;

#[test]
fn built_in_problems_pass_both_checks() {
    for n in [1, 2, 10] {
        let (p, theta) = Tridiagonal::random(n, 4).unwrap();
        let r = check_partials(&p, &theta).unwrap();
        assert!(r.passes(), "{}", r.to_text());
        assert_eq!(r.reference, Reference::Dual);
        let r = check_partials_fd(&p, &theta, 1e-6).unwrap();
        assert!(r.passes(), "{}", r.to_text());
    }
    for rho in [0.0, 0.2] {
        let (mlp, theta) = Mlp::random(
            &[4, 3, 5, 2],
            Activation::Sigmoid,
            Target::Vector(vec![0.1, 0.9]),
            rho,
            2,
        )
        .unwrap();
        let theta: Vec<f64> = theta.iter().map(|t| t * 50.0).collect();
        let r = check_partials(&mlp, &theta).unwrap();
        assert!(r.passes(), "{}", r.to_text());
        let r = check_partials_fd(&mlp, &theta, 1e-6).unwrap();
        assert!(r.passes(), "{}", r.to_text());
    }
}

/// The tridiagonal problem with one assembled entry of ∂f/∂u off by 0.5, or one entry
/// (row 2, column 1) left out of the pattern.
struct Broken {
    inner: Tridiagonal,
    drop_entry: bool,
}

impl Problem for Broken {
    fn n_state(&self) -> usize {
        self.inner.n_state()
    }
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
}
impl Residual for Broken {
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> adjoint::Result<()> {
        self.inner.residual(u, theta, f)
    }
}
impl Objective for Broken {
    fn objective(&self, u: &[f64], theta: &[f64]) -> adjoint::Result<f64> {
        self.inner.objective(u, theta)
    }
    fn objective_partial_u(&self, u: &[f64], theta: &[f64], g: &mut [f64]) -> adjoint::Result<()> {
        self.inner.objective_partial_u(u, theta, g)
    }
    fn objective_partial_theta(
        &self,
        u: &[f64],
        theta: &[f64],
        g: &mut [f64],
    ) -> adjoint::Result<Partial> {
        self.inner.objective_partial_theta(u, theta, g)
    }
}
impl Broken {
    /// Storage index of (2, 1) in the full tridiagonal pattern: column 1 holds rows 0, 1, 2.
    const SLOT: usize = 4;
}
impl Jacobians for Broken {
    fn dfdu_pattern(&self) -> CsStructure {
        let full = self.inner.dfdu_pattern();
        if !self.drop_entry {
            return full;
        }
        let mut t = sprs::TriMat::new(full.shape());
        for (_, (i, j)) in full.iter() {
            if (i, j) != (2, 1) {
                t.add_triplet(i, j, 1.0);
            }
        }
        let m: sprs::CsMat<f64> = t.to_csc();
        CsStructure::new_csc(
            m.shape(),
            m.indptr().to_proper().into_owned(),
            m.indices().to_vec(),
            vec![(); m.nnz()],
        )
    }
    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> adjoint::Result<()> {
        let mut full = vec![0.0; self.inner.dfdu_pattern().nnz()];
        self.inner.fill_dfdu(u, theta, &mut full)?;
        if self.drop_entry {
            full.remove(Self::SLOT);
        } else {
            full[Self::SLOT] += 0.5;
        }
        values.copy_from_slice(&full);
        Ok(())
    }
    fn dfdtheta_pattern(&self) -> CsStructure {
        self.inner.dfdtheta_pattern()
    }
    fn fill_dfdtheta(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> adjoint::Result<()> {
        self.inner.fill_dfdtheta(u, theta, values)
    }
    fn dfdu_depends_on_u(&self) -> bool {
        false
    }
}
impl StateSolve for Broken {
    /// The true state (so only the Jacobian is wrong).
    fn solve_state(
        &self,
        theta: &[f64],
        _j: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> adjoint::Result<()> {
        let mut ws = AdjointWorkspace::new(&self.inner, SolverKind::Lu)?;
        ws.evaluate(&self.inner, theta)?;
        u.copy_from_slice(ws.u());
        Ok(())
    }
}
impl adjoint::AsModel for Broken {
    type Model<'a> = adjoint::problems::tridiagonal::TridiagonalModel<'a>;
    fn model(&self) -> Self::Model<'_> {
        self.inner.model()
    }
}

#[test]
fn a_single_wrong_entry_is_found() {
    let (inner, theta) = Tridiagonal::random(6, 1).unwrap();
    let p = Broken {
        inner,
        drop_entry: false,
    };
    for r in [
        check_partials(&p, &theta).unwrap(),
        check_partials_fd(&p, &theta, 1e-6).unwrap(),
    ] {
        assert!(!r.passes());
        let worst = &r.dfdu.worst[0];
        assert_eq!((worst.row, worst.col), (2, 1), "{}", r.to_text());
        assert!((worst.assembled - worst.reference - 0.5).abs() < 1e-6);
        assert!(
            r.dfdu.worst.iter().skip(1).all(|m| m.error < 1e-6),
            "only one entry is wrong: {}",
            r.to_text()
        );
        assert!(r.dfdtheta.passes(r.tolerance) && r.dl_du.passes(r.tolerance));
        assert!(r.to_text().contains("FAILED"));
    }
}

#[test]
fn a_missing_pattern_entry_is_found() {
    let (inner, theta) = Tridiagonal::random(6, 2).unwrap();
    let p = Broken {
        inner,
        drop_entry: true,
    };
    // the broken pattern is not symmetric: the engine uses LU
    let r = check_partials(&p, &theta).unwrap();
    assert!(!r.passes());
    assert_eq!(r.dfdu.missing.len(), 1, "{}", r.to_text());
    assert_eq!((r.dfdu.missing[0].row, r.dfdu.missing[0].col), (2, 1));
    assert_eq!(r.dfdu.missing[0].reference, theta[6 + 1]);
}

#[test]
fn taylor_test_orders() {
    let (p, theta) = Tridiagonal::random(30, 5).unwrap();
    let delta: Vec<f64> = (0..theta.len())
        .map(|k| ((k * 7) % 5) as f64 / 5.0 - 0.4)
        .collect();
    let r = taylor_test(&p, &theta, &delta, 1e-2, 5).unwrap();
    assert!(r.passes(), "orders {:?}", r.orders);
    assert!((r.min_order() - 2.0).abs() < 0.2, "orders {:?}", r.orders);
    let (mlp, th) = Mlp::random(&[5, 4, 1], Activation::Tanh, Target::Scalar(2.0), 0.1, 1).unwrap();
    let d: Vec<f64> = (0..th.len()).map(|k| (k as f64).sin()).collect();
    let r = taylor_test(&mlp, &th, &d, 1e-1, 5).unwrap();
    assert!(r.passes(), "orders {:?}", r.orders);
    // a wrong Jacobian gives a wrong gradient: first order only
    let (inner, theta) = Tridiagonal::random(6, 1).unwrap();
    let broken = Broken {
        inner,
        drop_entry: false,
    };
    let delta = vec![1.0; theta.len()];
    let r = taylor_test(&broken, &theta, &delta, 1e-2, 5).unwrap();
    assert!(!r.passes() && r.min_order() < 1.3, "orders {:?}", r.orders);
}

#[test]
fn forward_sensitivities_agree_with_the_adjoint() {
    let (p, theta) = Tridiagonal::random(50, 8).unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    let fs = forward_sensitivity_gradient(&mut ws).unwrap();
    let rel = |a: &[f64], b: &[f64]| {
        let d: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt();
        d / b.iter().map(|y| y * y).sum::<f64>().sqrt()
    };
    assert!(
        rel(&fs, ws.gradient()) < 1e-10,
        "{}",
        rel(&fs, ws.gradient())
    );
    for rho in [0.0, 0.3] {
        let (mlp, th) = Mlp::random(
            &[6, 5, 3, 2],
            Activation::ExpNeg,
            Target::Scalar(1.0),
            rho,
            3,
        )
        .unwrap();
        let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
        ws.evaluate(&mlp, &th).unwrap();
        let fs = forward_sensitivity_gradient(&mut ws).unwrap();
        assert!(
            rel(&fs, ws.gradient()) < 1e-10,
            "{}",
            rel(&fs, ws.gradient())
        );
    }
}

#[test]
fn bad_steps_are_errors() {
    let (p, theta) = Tridiagonal::random(4, 0).unwrap();
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(check_partials_fd(&p, &theta, h), Err(Error::Invalid { .. })),
            "h = {h}"
        );
        assert!(
            matches!(
                taylor_test(&p, &theta, &[1.0; 7], h, 4),
                Err(Error::Invalid { .. })
            ),
            "h = {h}"
        );
    }
    assert!(taylor_test(&p, &theta, &[1.0; 7], 1e-3, 1).is_err());
    assert!(taylor_test(&p, &theta, &[1.0; 3], 1e-3, 4).is_err());
    assert!(taylor_test(&p, &theta, &[f64::NAN; 7], 1e-3, 4).is_err());
}

#[test]
fn checks_cannot_pass_vacuously() {
    let (p, theta) = Tridiagonal::random(8, 2).unwrap();
    // steps outside [1e-12, 1e-1] are refused: at 1e-20 the reference would be all zeros
    for h in [1e-20, 1e-13, 0.2, 1e10, 0.0, -1e-6, f64::NAN] {
        assert!(
            matches!(check_partials_fd(&p, &theta, h), Err(Error::Invalid { .. })),
            "h = {h}"
        );
    }
    // at both ends of the range the tolerance stays bounded, and a wrong Jacobian still fails
    let broken = Broken {
        inner: Tridiagonal::random(8, 2).unwrap().0,
        drop_entry: false,
    };
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    let l = ws.evaluate(&p, &theta).unwrap();
    let inf = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = 1f64.max(l.abs()).max(inf(ws.u())).max(inf(&theta));
    for h in [1e-12, 1e-1] {
        let r = check_partials_fd(&p, &theta, h).unwrap();
        assert!(r.tolerance <= 1e-2 * scale, "h = {h}: {}", r.tolerance);
        let r = check_partials_fd(&broken, &theta, h).unwrap();
        assert!(
            !r.passes(),
            "h = {h}: a wrong entry passed: {}",
            r.to_text()
        );
    }
    // the Taylor test: a zero direction and steps outside (0, 1] are refused
    let zero = vec![0.0; theta.len()];
    assert!(matches!(
        taylor_test(&p, &theta, &zero, 1e-2, 5),
        Err(Error::Invalid { .. })
    ));
    let delta = vec![1.0; theta.len()];
    for h in [0.0, -0.01, 1.5, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                taylor_test(&p, &theta, &delta, h, 5),
                Err(Error::Invalid { .. })
            ),
            "h = {h}"
        );
    }
    // a NaN order fails (and is reported as the minimum)
    let r = adjoint::check::TaylorReport {
        steps: vec![1e-2, 5e-3, 2.5e-3],
        remainders: vec![1e-4, 0.0, 0.0],
        orders: vec![f64::INFINITY, f64::NAN],
    };
    assert!(!r.passes());
    assert!(r.min_order().is_nan());
    let r = adjoint::check::TaylorReport {
        orders: vec![2.0, 1.79],
        ..r
    };
    assert!(!r.passes());
}
