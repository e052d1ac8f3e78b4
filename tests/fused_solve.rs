//! The fused state and adjoint solve: `∂f/∂u [u λ] = [b −(∂L/∂u)ᵀ]` in one pass over the
//! factor, taken when `∂f/∂u` and `∂L/∂u` do not depend on `u` and the solver is symmetric.
//! It must give what the two solves give, on both Cholesky kernels, and a problem that claims
//! a constant `∂L/∂u` wrongly must still get its own gradient.

mod common;

use adjoint::problem::{JacobianSolve, Jacobians, Objective, Partial, Problem, StateSolve};
use adjoint::problems::linear::ParamLinear;
use adjoint::problems::topopt::MbbBeam;
use adjoint::solve::{CholeskySolver, Factorization, SplitCholesky};
use adjoint::{AdjointWorkspace, Result, Solver, SolverKind};
use sprs::{CsMat, CsStructure};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `inner` with `∂L/∂u` declared dependent on `u` or not, everything else delegated; counts
/// the calls for `∂L/∂u`.
struct Hinted<P> {
    inner: P,
    depends_on_u: bool,
    partial_u_calls: AtomicUsize,
}

fn hinted<P>(inner: P, depends_on_u: bool) -> Hinted<P> {
    Hinted {
        inner,
        depends_on_u,
        partial_u_calls: AtomicUsize::new(0),
    }
}

impl<P: Problem> Problem for Hinted<P> {
    fn n_state(&self) -> usize {
        self.inner.n_state()
    }
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
}

impl<P: Objective> Objective for Hinted<P> {
    fn objective(&self, u: &[f64], theta: &[f64]) -> Result<f64> {
        self.inner.objective(u, theta)
    }
    fn objective_partial_u(&self, u: &[f64], theta: &[f64], dl_du: &mut [f64]) -> Result<()> {
        self.partial_u_calls.fetch_add(1, Ordering::Relaxed);
        self.inner.objective_partial_u(u, theta, dl_du)
    }
    fn objective_partial_theta(
        &self,
        u: &[f64],
        theta: &[f64],
        dl_dtheta: &mut [f64],
    ) -> Result<Partial> {
        self.inner.objective_partial_theta(u, theta, dl_dtheta)
    }
    fn objective_partial_u_depends_on_u(&self) -> bool {
        self.depends_on_u
    }
}

impl<P: Jacobians> Jacobians for Hinted<P> {
    fn dfdu_pattern(&self) -> CsStructure {
        self.inner.dfdu_pattern()
    }
    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        self.inner.fill_dfdu(u, theta, values)
    }
    fn dfdtheta_pattern(&self) -> CsStructure {
        self.inner.dfdtheta_pattern()
    }
    fn fill_dfdtheta(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        self.inner.fill_dfdtheta(u, theta, values)
    }
    fn dfdu_depends_on_u(&self) -> bool {
        self.inner.dfdu_depends_on_u()
    }
    fn dfdu_dissection(&self) -> Option<adjoint::solve::Dissection> {
        self.inner.dfdu_dissection()
    }
}

impl<P: StateSolve> StateSolve for Hinted<P> {
    fn solve_state(
        &self,
        theta: &[f64],
        jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        self.inner.solve_state(theta, jacobian, u)
    }
}

fn densities(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            0.05 + 0.95 * (s >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

#[test]
fn the_fused_adjoint_is_the_adjoint_solved_alone() {
    // 6 × 3 and 60 × 20: one sequential Cholesky; 100 × 45 (9292 dofs): the split one
    for (nelx, nely, seed, kernel) in [
        (6, 3, 1, "faer-cholesky"),
        (60, 20, 2, "faer-cholesky"),
        (100, 45, 3, "faer-cholesky-split"),
    ] {
        let beam = MbbBeam::new(nelx, nely, 3.0).unwrap();
        assert!(!beam.objective_partial_u_depends_on_u());
        let x = densities(beam.n_elements(), seed);
        let mut fused = AdjointWorkspace::new(&beam, SolverKind::Auto).unwrap();
        assert_eq!(fused.solver().kernel(), kernel);
        let alone_problem = hinted(beam.clone(), true);
        let mut alone = AdjointWorkspace::new(&alone_problem, SolverKind::Auto).unwrap();
        // twice: the second evaluation reuses the analysis and the fused buffers
        for round in 0..2 {
            let x: Vec<f64> = x.iter().map(|v| v * (1.0 - 0.3 * round as f64)).collect();
            let lf = fused.evaluate(&beam, &x).unwrap();
            let la = alone.evaluate(&alone_problem, &x).unwrap();
            assert!((lf - la).abs() <= 1e-12 * la.abs(), "{lf} vs {la}");
            let what = format!("{nelx}×{nely} round {round}");
            assert!(fused.adjoint_was_fused(), "{what}");
            assert!(!alone.adjoint_was_fused(), "{what}");
            assert!(max_rel(fused.u(), alone.u()) < 1e-12, "{what}: u");
            assert!(max_rel(fused.lambda(), alone.lambda()) < 1e-12, "{what}: λ");
            assert!(
                max_rel(fused.gradient(), alone.gradient()) < 1e-11,
                "{what}: gradient"
            );
            // self-adjoint: λ = −u
            let minus_u: Vec<f64> = fused.u().iter().map(|v| -v).collect();
            assert!(max_rel(fused.lambda(), &minus_u) < 1e-12, "{what}: λ = −u");
        }
    }
}

#[test]
fn a_wrong_claim_of_a_constant_objective_partial_is_caught() {
    // L = (cᵀu)² has ∂L/∂u = 2(cᵀu)c: at u = 0 it is zero, at the state it is not
    for n in [5, 40, 300] {
        let c: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
        let inner = ParamLinear::tridiagonal(c, b).unwrap();
        let mut theta = vec![4.0; n];
        theta.extend((1..n).map(|k| 0.5 + 0.1 * (k % 4) as f64));
        let honest = hinted(inner.clone(), true);
        let claims = hinted(inner, false);
        let mut a = AdjointWorkspace::new(&honest, SolverKind::Auto).unwrap();
        let mut b = AdjointWorkspace::new(&claims, SolverKind::Auto).unwrap();
        let la = a.evaluate(&honest, &theta).unwrap();
        let lb = b.evaluate(&claims, &theta).unwrap();
        assert!(la > 0.0);
        assert_eq!(la.to_bits(), lb.to_bits());
        assert!(!a.adjoint_was_fused() && !b.adjoint_was_fused());
        // the claim was acted on (∂L/∂u taken at u = 0 for a fused solve) and then caught
        assert_eq!(honest.partial_u_calls.load(Ordering::Relaxed), 1);
        assert_eq!(claims.partial_u_calls.load(Ordering::Relaxed), 2);
        assert_eq!(a.lambda(), b.lambda(), "n = {n}");
        assert_eq!(a.gradient(), b.gradient(), "n = {n}");
    }
}

fn stiffness(beam: &MbbBeam) -> CsMat<f64> {
    common::stiffness(beam, &densities(beam.n_elements(), 7))
}

/// `solve_columns_in_place` on three columns (for the split kernel: a pass of two, then one)
/// against three single solves.
fn columns_like_single_solves(f: &mut dyn Factorization, k: &CsMat<f64>, tol: f64) {
    f.factor(k, "K").unwrap();
    let n = k.rows();
    let b: Vec<f64> = (0..3 * n).map(|i| ((i * 31) % 17) as f64 - 8.0).collect();
    let mut x = b.clone();
    f.solve_columns_in_place(&mut x).unwrap();
    for (j, col) in b.chunks_exact(n).enumerate() {
        let mut y = col.to_vec();
        f.solve_in_place(&mut y).unwrap();
        let d = max_rel(&x[j * n..(j + 1) * n], &y);
        assert!(d <= tol, "{} column {j}: {d}", f.name());
    }
}

#[test]
fn several_columns_solve_like_one_at_a_time() {
    let big = MbbBeam::new(100, 45, 3.0).unwrap();
    let k = stiffness(&big);
    let pattern = big.dfdu_pattern();
    let dissection = big.dfdu_dissection().unwrap();
    let mut split = SplitCholesky::analyze(&pattern, &dissection).unwrap();
    columns_like_single_solves(&mut split, &k, 1e-12);
    let mut plain = CholeskySolver::analyze(&pattern).unwrap();
    columns_like_single_solves(&mut plain, &k, 1e-12);
    // the trait's default: one column after the other, the same bits
    let small = stiffness(&MbbBeam::new(12, 5, 3.0).unwrap());
    let mut ldlt = Solver::analyze(&adjoint::sparse::pattern_of(&small), SolverKind::Ldlt).unwrap();
    columns_like_single_solves(&mut ldlt, &small, 0.0);
}

#[test]
fn several_columns_before_a_factorization_are_an_error() {
    let beam = MbbBeam::new(100, 45, 3.0).unwrap();
    let pattern = beam.dfdu_pattern();
    let dissection = beam.dfdu_dissection().unwrap();
    let mut split = SplitCholesky::analyze(&pattern, &dissection).unwrap();
    let mut b = vec![1.0; 2 * pattern.rows()];
    assert!(split.solve_columns_in_place(&mut b).is_err());
    let mut plain = CholeskySolver::analyze(&pattern).unwrap();
    assert!(plain.solve_columns_in_place(&mut b).is_err());
}
