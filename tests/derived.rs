//! Your own problem in one function: a `Model` written once, everything else derived.
//! Derived gradients against central finite differences and forward sensitivities; the
//! colorings against their bounds; Newton's stopping rule; typed failures.

mod common;

use adjoint::check::forward_sensitivity_gradient;
use adjoint::{AdjointWorkspace, Derived, Error, Model, Scalar, SolverKind};
use common::assert_close;
use rand::{RngExt, SeedableRng};

/// The README's story, verbatim: −u'' + θ u³ = 1 on (0, 1), L = h Σ u².
struct ReactionDiffusion {
    n: usize,
}

impl Model for ReactionDiffusion {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.n
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let h = 1.0 / (self.n as f64 + 1.0);
        for i in 0..self.n {
            let left = if i > 0 { u[i - 1] } else { T::zero() };
            let right = if i + 1 < self.n { u[i + 1] } else { T::zero() };
            f[i] = (u[i] * 2.0 - left - right) / (h * h) + theta[i] * u[i].powi(3) - 1.0;
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        let h = 1.0 / (self.n as f64 + 1.0);
        u.iter().fold(T::zero(), |s, &x| s + x * x) * h
    }
}

/// 2-D Bratu-type problem on an m × m grid: −Δu − θ eᵘ = 0 (5-point stencil), zero boundary;
/// L = h² Σ (u − 0.1)² + 0.01 Σ θ² (an objective that reads θ).
struct Bratu {
    m: usize,
}

impl Model for Bratu {
    fn n_state(&self) -> usize {
        self.m * self.m
    }
    fn n_params(&self) -> usize {
        self.m * self.m
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let m = self.m;
        let h = 1.0 / (m as f64 + 1.0);
        let at = |i: isize, j: isize| {
            if i < 0 || j < 0 || i >= m as isize || j >= m as isize {
                T::zero()
            } else {
                u[i as usize * m + j as usize]
            }
        };
        for i in 0..m as isize {
            for j in 0..m as isize {
                let k = i as usize * m + j as usize;
                let lap = (u[k] * 4.0 - at(i - 1, j) - at(i + 1, j) - at(i, j - 1) - at(i, j + 1))
                    / (h * h);
                f[k] = lap - theta[k] * u[k].exp();
            }
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        let h = 1.0 / (self.m as f64 + 1.0);
        let misfit = u.iter().fold(T::zero(), |s, &x| s + (x - 0.1) * (x - 0.1)) * (h * h);
        theta.iter().fold(misfit, |s, &t| s + t * t * 0.01)
    }
}

/// `L(θ)` by a fresh workspace (no warm start), for finite differences.
fn objective_at<M: Model + Sync>(p: &Derived<M>, theta: &[f64]) -> f64 {
    let mut ws = AdjointWorkspace::new(p, SolverKind::Auto).unwrap();
    ws.evaluate(p, theta).unwrap()
}

fn central_differences<M: Model + Sync>(p: &Derived<M>, theta: &[f64], h: f64) -> Vec<f64> {
    (0..theta.len())
        .map(|k| {
            let mut t = theta.to_vec();
            let step = h * theta[k].abs().max(1.0);
            t[k] = theta[k] + step;
            let lp = objective_at(p, &t);
            t[k] = theta[k] - step;
            let lm = objective_at(p, &t);
            (lp - lm) / (2.0 * step)
        })
        .collect()
}

fn random_theta(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| lo + (hi - lo) * rng.random::<f64>())
        .collect()
}

#[test]
fn the_readme_story_runs_as_written() {
    let problem = Derived::new(ReactionDiffusion { n: 1000 }).unwrap();
    let mut ws = AdjointWorkspace::new(&problem, SolverKind::Auto).unwrap();
    let theta = vec![1.0; 1000];
    let l = ws.evaluate(&problem, &theta).unwrap();
    let norm = ws.gradient().iter().map(|g| g * g).sum::<f64>().sqrt();
    let c = problem.coloring();
    assert_eq!(
        format!("{c:?}"),
        "Coloring { dfdu: 3, dfdtheta: 1, dfdu_bound: 3, dfdtheta_bound: 1 }"
    );
    // L ≈ ∫ (x(1 − x)/2)² = 1/120 for θ = 0; θ = 1 lowers it slightly
    assert!(l > 0.0081 && l < 1.0 / 120.0, "{l}");
    assert!(norm.is_finite() && norm > 0.0);
    assert!(ws.state_iterations().unwrap() <= 8);
    assert_eq!(ws.solver().name(), "ldlt");
}

#[test]
fn reaction_diffusion_gradients_match_finite_differences_and_sensitivities() {
    for (n, seed) in [(5, 1), (12, 2), (40, 3)] {
        let p = Derived::new(ReactionDiffusion { n }).unwrap();
        let theta = random_theta(n, seed, 0.5, 20.0);
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        let fd = central_differences(&p, &theta, 1e-5);
        assert_close(
            ws.gradient(),
            &fd,
            1e-6,
            &format!("n = {n}: vs finite differences"),
        );
        let fs = forward_sensitivity_gradient(&mut ws).unwrap();
        assert_close(
            ws.gradient(),
            &fs,
            1e-12,
            &format!("n = {n}: vs forward sensitivities"),
        );
    }
}

#[test]
fn bratu_on_a_grid_uses_five_colors_and_its_gradient_is_right() {
    for m in [3, 4, 7, 20] {
        let p = Derived::new(Bratu { m }).unwrap();
        let c = p.coloring();
        assert_eq!((c.dfdu, c.dfdu_bound), (5, 5), "m = {m}: {c:?}");
        assert_eq!((c.dfdtheta, c.dfdtheta_bound), (1, 1), "m = {m}");
        assert_eq!(p.dl_dtheta_pattern().len(), m * m);
        assert!(!p.is_linear_in_u());
    }
    for (m, seed) in [(3, 4), (6, 5)] {
        let p = Derived::new(Bratu { m }).unwrap();
        let theta = random_theta(m * m, seed, 0.5, 2.0);
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        let fd = central_differences(&p, &theta, 1e-5);
        assert_close(
            ws.gradient(),
            &fd,
            1e-6,
            &format!("m = {m}: vs finite differences"),
        );
        let fs = forward_sensitivity_gradient(&mut ws).unwrap();
        assert_close(
            ws.gradient(),
            &fs,
            1e-12,
            &format!("m = {m}: vs forward sensitivities"),
        );
    }
}

/// f_i = u_i + max(u_{i+1}, θ_i)·0.1 − |u_{i−1}|·0.05 − 1: value-dependent branches through
/// `max` and `abs`, whose patterns must cover both branches.
#[derive(Debug)]
struct Branchy {
    n: usize,
    use_value: bool,
}

impl Model for Branchy {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.n
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let n = self.n;
        for i in 0..n {
            let next = if i + 1 < n { u[i + 1] } else { T::zero() };
            let prev = if i > 0 { u[i - 1] } else { T::zero() };
            let mut fi = u[i] + next.max(theta[i]) * 0.1 - prev.abs() * 0.05 - 1.0;
            if self.use_value && u[i].value() > 10.0 {
                fi += u[i] * 0.0;
            }
            f[i] = fi;
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        u.iter().zip(theta).fold(T::zero(), |s, (&x, &t)| s + x * t)
    }
}

#[test]
fn branches_get_the_union_of_their_patterns_and_value_is_refused() {
    let n = 6;
    let p = Derived::new(Branchy {
        n,
        use_value: false,
    })
    .unwrap();
    // row i depends on u_{i−1}, u_i, u_{i+1} and θ_i: both branches of max and abs
    let dfdu = p.dfdu_structure();
    for (j, col) in dfdu.outer_iterator().enumerate() {
        let rows: Vec<usize> = col.iter().map(|(i, _)| i).collect();
        let expected: Vec<usize> = (j.saturating_sub(1)..(j + 2).min(n)).collect();
        assert_eq!(rows, expected, "column {j}");
    }
    assert_eq!(p.dfdtheta_structure().nnz(), n);
    assert!(!p.is_linear_in_u());
    // its gradient, with θ on either side of the max branch
    for (seed, lo, hi) in [(1, 0.0, 0.5), (2, 1.5, 3.0), (3, 0.0, 3.0)] {
        let theta = random_theta(n, seed, lo, hi);
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        let fd = central_differences(&p, &theta, 1e-6);
        assert_close(ws.gradient(), &fd, 1e-6, "branchy vs finite differences");
    }
    // value() during detection: a typed error that points to the known-pattern route
    let e = Derived::new(Branchy { n, use_value: true }).unwrap_err();
    assert!(matches!(e, Error::ValueDuringDetection { .. }), "{e}");
    assert!(e.to_string().contains("Derived::with_patterns"), "{e}");
    // the known-pattern route: the detected patterns of the branch-free twin are accepted…
    let patterns = adjoint::Patterns {
        dfdu: p.dfdu_structure().clone(),
        dfdtheta: p.dfdtheta_structure().clone(),
        linear_in_u: false,
    };
    let q = Derived::with_patterns(Branchy { n, use_value: true }, patterns.clone()).unwrap();
    let theta = random_theta(n, 4, 0.0, 3.0);
    let (mut a, mut b) = (
        AdjointWorkspace::new(&p, SolverKind::Auto).unwrap(),
        AdjointWorkspace::new(&q, SolverKind::Auto).unwrap(),
    );
    a.evaluate(&p, &theta).unwrap();
    b.evaluate(&q, &theta).unwrap();
    assert_eq!(a.gradient(), b.gradient());
    // …and a pattern missing an entry is caught at the random point
    let diagonal =
        sprs::CsStructure::new_csc((n, n), (0..=n).collect(), (0..n).collect(), vec![(); n]);
    let e = Derived::with_patterns(
        Branchy { n, use_value: true },
        adjoint::Patterns {
            dfdu: diagonal,
            ..patterns
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("df/du pattern"), "{e}");
}

/// u_i² + θ_i = 0 with θ > 0: no real solution.
struct NoSolution(usize);

impl Model for NoSolution {
    fn n_state(&self) -> usize {
        self.0
    }
    fn n_params(&self) -> usize {
        self.0
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        for i in 0..self.0 {
            f[i] = u[i] * u[i] + theta[i];
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        u[0]
    }
    fn initial_state(&self, _theta: &[f64], u: &mut [f64]) {
        u.fill(1.0);
    }
    fn check_params(&self, theta: &[f64]) -> adjoint::Result<()> {
        match theta.iter().position(|&t| t == 0.0) {
            Some(k) => Err(Error::model(format!("θ[{k}] = 0 makes the root double"))),
            None => Ok(()),
        }
    }
}

#[test]
fn a_model_without_a_solution_does_not_converge() {
    let p = Derived::new(NoSolution(3)).unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    match ws.evaluate(&p, &[1.0, 2.0, 3.0]) {
        Err(Error::NotConverged {
            iterations,
            residual,
        }) => {
            assert!(iterations >= 1);
            assert!(residual >= 1.0, "{residual}");
        }
        other => panic!("expected NotConverged, got {other:?}"),
    }
    // the model's own check, with its own error
    let e = ws.evaluate(&p, &[1.0, 0.0, 3.0]).unwrap_err();
    assert!(matches!(e, Error::Model { .. }));
    assert_eq!(e.to_string(), "model: θ[1] = 0 makes the root double");
}

/// The stopping rule holds at the workspace's state: ‖f(u)‖∞ ≤ 64 ε ‖ |J| |u| + |f(0)| ‖∞.
fn assert_stops(p: &Derived<ReactionDiffusion>, ws: &AdjointWorkspace, theta: &[f64]) {
    let n = theta.len();
    let u = ws.u().to_vec();
    let mut f = vec![0.0; n];
    p.model().residual(&u, theta, &mut f);
    let mut scale: Vec<f64> = vec![1.0; n]; // |f(0)| = 1
    for (j, col) in ws.dfdu().outer_iterator().enumerate() {
        for (i, v) in col.iter() {
            scale[i] += v.abs() * u[j].abs();
        }
    }
    let tol = 64.0 * f64::EPSILON * scale.iter().fold(0.0f64, |m, x| m.max(*x));
    let res = f.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(res <= tol, "n = {n}: ‖f‖ = {res:e} > {tol:e}");
}

#[test]
fn newton_stops_by_the_relative_rule_from_n_10_to_a_million() {
    for n in [10, 1000, 100_000, 1_000_000] {
        let p = Derived::new(ReactionDiffusion { n }).unwrap();
        let theta = vec![50.0; n];
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        let steps = ws.state_iterations().unwrap();
        assert!(steps <= 8, "n = {n}: {steps} Newton steps");
        assert_stops(&p, &ws, &theta);
        // a warm start at the same θ takes no step and changes nothing
        let before: Vec<u64> = ws.gradient().iter().map(|g| g.to_bits()).collect();
        ws.evaluate(&p, &theta).unwrap();
        assert_eq!(ws.state_iterations(), Some(0), "n = {n}");
        let after: Vec<u64> = ws.gradient().iter().map(|g| g.to_bits()).collect();
        assert!(
            before == after,
            "n = {n}: a warm start changed the gradient"
        );
        // a nearby θ: a warm start needs few steps and agrees with a cold start within the
        // stopping tolerance
        let theta2 = vec![51.0; n];
        ws.evaluate(&p, &theta2).unwrap();
        assert!(ws.state_iterations().unwrap() <= 3, "n = {n}");
        // warm and cold starts may differ only within the stopping rule
        assert_stops(&p, &ws, &theta2);
        let mut cold = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        cold.evaluate(&p, &theta2).unwrap();
        assert_stops(&p, &cold, &theta2);
    }
}

/// A model with a random sparse pattern: f_i = u_i + Σ_{j ∈ S_i} a_ij sin(u_j) θ_{k(i,j)}.
struct RandomPattern {
    n: usize,
    n_t: usize,
    terms: Vec<Vec<(usize, usize, f64)>>,
}

impl Model for RandomPattern {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.n_t
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        for i in 0..self.n {
            f[i] = self.terms[i]
                .iter()
                .fold(u[i] * 3.0, |s, &(j, k, a)| s + u[j].sin() * theta[k] * a);
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        u.iter().fold(T::zero(), |s, &x| s + x * x) + theta[0]
    }
}

#[test]
fn compressed_jacobians_equal_column_by_column_ones_on_random_patterns() {
    use adjoint::derived::coloring::is_structurally_orthogonal;
    use adjoint::derived::dual::Dual;
    use adjoint::Jacobians;
    let mut several_chunks = 0;
    for seed in 0..40u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(1..30);
        let n_t = rng.random_range(1..12);
        // every fourth pattern dense enough for more colors than one evaluation carries
        let per_row = if seed % 4 == 0 { 14 } else { 5 };
        let terms = (0..n)
            .map(|_| {
                (0..rng.random_range(0..per_row))
                    .map(|_| {
                        (
                            rng.random_range(0..n),
                            rng.random_range(0..n_t),
                            rng.random::<f64>() - 0.5,
                        )
                    })
                    .collect()
            })
            .collect();
        let model = RandomPattern { n, n_t, terms };
        let p = Derived::new(model).unwrap();
        let u: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
        let t: Vec<f64> = (0..n_t).map(|_| rng.random::<f64>()).collect();
        for wrt_theta in [false, true] {
            let pattern = if wrt_theta {
                p.dfdtheta_structure()
            } else {
                p.dfdu_structure()
            };
            let colors = p.column_colors(wrt_theta);
            assert!(is_structurally_orthogonal(pattern, colors), "seed {seed}");
            let bound = if wrt_theta {
                p.coloring().dfdtheta_bound
            } else {
                p.coloring().dfdu_bound
            };
            let used = if wrt_theta {
                p.coloring().dfdtheta
            } else {
                p.coloring().dfdu
            };
            assert!(used >= bound);
            several_chunks += usize::from(used > adjoint::derived::MAX_WIDTH);
            // a first fill elsewhere: the second reuses the seeded buffers
            let mut values = vec![0.0; pattern.nnz()];
            let (u2, t2): (Vec<f64>, Vec<f64>) = (
                u.iter().map(|x| x + 1.0).collect(),
                t.iter().map(|x| x * 2.0).collect(),
            );
            for (u, t) in [(&u2, &t2), (&u, &t)] {
                if wrt_theta {
                    p.fill_dfdtheta(u, t, &mut values).unwrap();
                } else {
                    p.fill_dfdu(u, t, &mut values).unwrap();
                }
            }
            // one dual pass per column, uncompressed
            let cols = if wrt_theta { n_t } else { n };
            let mut k = 0;
            for j in 0..cols {
                let du: Vec<Dual<1>> = u
                    .iter()
                    .enumerate()
                    .map(|(c, &x)| Dual {
                        re: x,
                        eps: [if !wrt_theta && c == j { 1.0 } else { 0.0 }],
                    })
                    .collect();
                let dt: Vec<Dual<1>> = t
                    .iter()
                    .enumerate()
                    .map(|(c, &x)| Dual {
                        re: x,
                        eps: [if wrt_theta && c == j { 1.0 } else { 0.0 }],
                    })
                    .collect();
                let mut f = vec![Dual::<1>::constant(0.0); n];
                p.model().residual(&du, &dt, &mut f);
                let stored: Vec<usize> = pattern
                    .outer_view(j)
                    .unwrap()
                    .iter()
                    .map(|(i, _)| i)
                    .collect();
                for (i, fi) in f.iter().enumerate() {
                    if stored.contains(&i) {
                        assert_eq!(
                            values[k].to_bits(),
                            fi.eps[0].to_bits(),
                            "seed {seed} ({i}, {j})"
                        );
                        k += 1;
                    } else {
                        assert_eq!(
                            fi.eps[0], 0.0,
                            "seed {seed}: ({i}, {j}) outside the pattern"
                        );
                    }
                }
            }
            assert_eq!(k, pattern.nnz());
        }
    }
    assert!(several_chunks > 0, "some patterns need several evaluations");
}

#[test]
fn banded_patterns_reach_their_bounds() {
    use adjoint::derived::coloring::color_columns;
    for (l, u) in [(0, 0), (1, 1), (2, 1), (0, 3), (4, 4)] {
        let n: usize = 50;
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        for j in 0..n {
            for i in j.saturating_sub(u)..(j + l + 1).min(n) {
                indices.push(i);
            }
            indptr.push(indices.len());
        }
        let nnz = indices.len();
        let p = sprs::CsStructure::new_csc((n, n), indptr, indices, vec![(); nnz]);
        let c = color_columns(&p);
        assert_eq!(c.n_colors, l + u + 1, "band ({l}, {u})");
        assert_eq!(c.bound, l + u + 1);
    }
}

/// Every stored entry of the compressed Jacobians against num-dual's `Dual64`, one column at
/// a time — a forward mode independent of this crate's `Dual`.
fn assert_matches_num_dual<M: Model + Sync>(p: &Derived<M>, u: &[f64], t: &[f64], what: &str) {
    use adjoint::Jacobians;
    use num_dual::Dual64;
    let (n_u, n_t) = (u.len(), t.len());
    for wrt_theta in [false, true] {
        let pattern = if wrt_theta {
            p.dfdtheta_structure()
        } else {
            p.dfdu_structure()
        };
        let mut values = vec![0.0; pattern.nnz()];
        if wrt_theta {
            p.fill_dfdtheta(u, t, &mut values).unwrap();
        } else {
            p.fill_dfdu(u, t, &mut values).unwrap();
        }
        let mut k = 0;
        for j in 0..if wrt_theta { n_t } else { n_u } {
            let seed = |v: &[f64], on: bool| -> Vec<Dual64> {
                v.iter()
                    .enumerate()
                    .map(|(c, &x)| Dual64::new(x, if on && c == j { 1.0 } else { 0.0 }))
                    .collect()
            };
            let (du, dt) = (seed(u, !wrt_theta), seed(t, wrt_theta));
            let mut f = vec![Dual64::from(0.0); n_u];
            p.model().residual(&du, &dt, &mut f);
            for (i, _) in pattern.outer_view(j).unwrap().iter() {
                let (a, b) = (values[k], f[i].eps);
                assert!(
                    (a - b).abs() <= 1e-14 * b.abs().max(1e-300),
                    "{what}: ({i}, {j}) compressed {a:e}, num-dual {b:e}"
                );
                k += 1;
            }
            // and nothing outside the pattern
            let stored: Vec<usize> = pattern
                .outer_view(j)
                .unwrap()
                .iter()
                .map(|(i, _)| i)
                .collect();
            for (i, fi) in f.iter().enumerate() {
                if !stored.contains(&i) {
                    assert_eq!(fi.eps, 0.0, "{what}: ({i}, {j}) outside the pattern");
                }
            }
        }
    }
}

#[test]
fn compressed_jacobians_match_an_independent_forward_mode() {
    for m in [3, 5] {
        let p = Derived::new(Bratu { m }).unwrap();
        let u = random_theta(m * m, 7, -0.5, 0.5);
        let t = random_theta(m * m, 8, 0.5, 2.0);
        assert_matches_num_dual(&p, &u, &t, &format!("Bratu {m}×{m}"));
    }
    for n in [1, 2, 17] {
        let p = Derived::new(ReactionDiffusion { n }).unwrap();
        let u = random_theta(n, 9, 0.0, 1.0);
        let t = random_theta(n, 10, 0.5, 20.0);
        assert_matches_num_dual(&p, &u, &t, &format!("reaction–diffusion n = {n}"));
    }
}

#[test]
fn the_taped_objective_partials_match_an_independent_forward_mode() {
    use adjoint::{Objective, Partial};
    use num_dual::Dual64;
    let m = 4;
    let p = Derived::new(Bratu { m }).unwrap();
    let n = m * m;
    let u = random_theta(n, 11, -0.5, 0.5);
    let t = random_theta(n, 12, 0.5, 2.0);
    let mut gu = vec![0.0; n];
    let l = p.objective_with_partial_u(&u, &t, &mut gu).unwrap();
    let mut gt = vec![0.0; n];
    assert_eq!(
        p.objective_partial_theta(&u, &t, &mut gt).unwrap(),
        Partial::Written
    );
    assert_eq!(l, p.model().objective(&u, &t));
    for (wrt_theta, g) in [(false, &gu), (true, &gt)] {
        for (j, &gj) in g.iter().enumerate() {
            let seed = |v: &[f64], on: bool| -> Vec<Dual64> {
                v.iter()
                    .enumerate()
                    .map(|(c, &x)| Dual64::new(x, if on && c == j { 1.0 } else { 0.0 }))
                    .collect()
            };
            let d = p
                .model()
                .objective(&seed(&u, !wrt_theta), &seed(&t, wrt_theta));
            assert!(
                (gj - d.eps).abs() <= 1e-14 * d.eps.abs().max(1e-300),
                "{j}: {gj} vs {}",
                d.eps
            );
        }
    }
    // an objective that does not read θ reports ∂L/∂θ = 0 without evaluating anything
    let q = Derived::new(ReactionDiffusion { n: 5 }).unwrap();
    assert!(q.dl_dtheta_pattern().is_empty());
    let mut g = vec![7.0; 5];
    assert_eq!(
        q.objective_partial_theta(&[0.1; 5], &[1.0; 5], &mut g)
            .unwrap(),
        Partial::Zero
    );
}

/// The reaction–diffusion Jacobians written by hand (the fast path a user may add), with an
/// optional mistake: a missing sub-diagonal entry.
struct HandJacobians {
    n: usize,
    drop_entry: bool,
}

impl adjoint::Problem for HandJacobians {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.n
    }
}

impl adjoint::Jacobians for HandJacobians {
    fn dfdu_pattern(&self) -> sprs::CsStructure {
        let n = self.n;
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        for j in 0..n {
            for i in j.saturating_sub(1)..(j + 2).min(n) {
                if !(self.drop_entry && j == 1 && i == 2) {
                    indices.push(i);
                }
            }
            indptr.push(indices.len());
        }
        let nnz = indices.len();
        sprs::CsStructure::new_csc((n, n), indptr, indices, vec![(); nnz])
    }
    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> adjoint::Result<()> {
        let n = self.n;
        let h = 1.0 / (n as f64 + 1.0);
        let mut k = 0;
        for j in 0..n {
            for i in j.saturating_sub(1)..(j + 2).min(n) {
                if self.drop_entry && j == 1 && i == 2 {
                    continue;
                }
                values[k] = if i == j {
                    2.0 / (h * h) + 3.0 * theta[i] * u[i] * u[i]
                } else {
                    -1.0 / (h * h)
                };
                k += 1;
            }
        }
        Ok(())
    }
    fn dfdtheta_pattern(&self) -> sprs::CsStructure {
        let n = self.n;
        sprs::CsStructure::new_csc((n, n), (0..=n).collect(), (0..n).collect(), vec![(); n])
    }
    fn fill_dfdtheta(&self, u: &[f64], _theta: &[f64], values: &mut [f64]) -> adjoint::Result<()> {
        for (v, x) in values.iter_mut().zip(u) {
            *v = x * x * x;
        }
        Ok(())
    }
    fn dfdu_depends_on_u(&self) -> bool {
        true
    }
}

/// `L = h Σ u²` by hand: `(∂L/∂u)ᵀ = 2h u`, `∂L/∂θ = 0`.
impl adjoint::Objective for HandJacobians {
    fn objective(&self, u: &[f64], _theta: &[f64]) -> adjoint::Result<f64> {
        let h = 1.0 / (self.n as f64 + 1.0);
        Ok(u.iter().map(|x| x * x).sum::<f64>() * h)
    }
    fn objective_partial_u(&self, u: &[f64], _t: &[f64], g: &mut [f64]) -> adjoint::Result<()> {
        let h = 1.0 / (self.n as f64 + 1.0);
        g.iter_mut().zip(u).for_each(|(g, x)| *g = 2.0 * h * x);
        Ok(())
    }
    fn objective_partial_theta(
        &self,
        _u: &[f64],
        _t: &[f64],
        _g: &mut [f64],
    ) -> adjoint::Result<adjoint::Partial> {
        Ok(adjoint::Partial::Zero)
    }
}

#[test]
fn hand_written_jacobians_are_checked_against_the_derived_ones() {
    use adjoint::check::compare_with_derived;
    for n in [1, 2, 50] {
        let derived = Derived::new(ReactionDiffusion { n }).unwrap();
        let u = random_theta(n, 13, 0.0, 0.2);
        let t = random_theta(n, 14, 0.5, 20.0);
        let hand = HandJacobians {
            n,
            drop_entry: false,
        };
        let c = compare_with_derived(&hand, &derived, &u, &t).unwrap();
        assert!(c.passes(1e-14), "n = {n}: {c:?}");
        if n > 2 {
            let wrong = HandJacobians {
                n,
                drop_entry: true,
            };
            let c = compare_with_derived(&wrong, &derived, &u, &t).unwrap();
            assert!(!c.dfdu_same_pattern && c.dfdtheta_same_pattern, "{c:?}");
            assert!(!c.passes(1e-14));
            // NaN values never match (not even each other): a NaN is never a pass
            let mut t_bad = t.clone();
            t_bad[1] = f64::NAN;
            let c = compare_with_derived(&hand, &derived, &u, &t_bad).unwrap();
            assert!(!c.passes(1e-14), "θ₁ = NaN: {c:?}");
        }
    }
}

/// f = ln(u + 1) − θ: undefined below u = −1, where Newton's first step from 0 lands for
/// θ = −2; L = u.
struct Logarithm;

impl Model for Logarithm {
    fn n_state(&self) -> usize {
        1
    }
    fn n_params(&self) -> usize {
        1
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        f[0] = (u[0] + 1.0).ln() - theta[0];
    }
    fn objective<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        u[0]
    }
}

/// f = ln u − θ (undefined at u = 0), started at u = 1; written with `+=` into f.
struct LogFromOne;

impl Model for LogFromOne {
    fn n_state(&self) -> usize {
        2
    }
    fn n_params(&self) -> usize {
        2
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        for i in 0..2 {
            f[i] += u[i].ln();
            f[i] -= theta[i];
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        u[0] + u[1] * 2.0
    }
    fn initial_state(&self, _theta: &[f64], u: &mut [f64]) {
        u.fill(1.0);
    }
}

#[test]
fn newton_backtracks_from_undefined_points_and_models_may_be_undefined_at_zero() {
    let p = Derived::new(Logarithm).unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &[-2.0]).unwrap();
    let u = (-2.0f64).exp() - 1.0;
    assert!((ws.u()[0] - u).abs() < 1e-14, "{}", ws.u()[0]);
    // u = e^θ − 1: dL/dθ = e^θ
    assert!((ws.gradient()[0] - (-2.0f64).exp()).abs() < 1e-12);
    let q = Derived::new(LogFromOne).unwrap();
    let mut ws = AdjointWorkspace::new(&q, SolverKind::Auto).unwrap();
    // accumulating into f works because f holds zeros on entry, for every number type
    for _ in 0..3 {
        ws.evaluate(&q, &[0.5, -1.0]).unwrap();
        assert!((ws.u()[0] - 0.5f64.exp()).abs() < 1e-14);
        assert!((ws.gradient()[1] - 2.0 * (-1.0f64).exp()).abs() < 1e-12);
    }
}

/// The seed's tridiagonal constraint A(θ)u = b written as a model: linear in u.
struct TridiagonalModel {
    c: Vec<f64>,
    b: Vec<f64>,
}

impl Model for TridiagonalModel {
    fn n_state(&self) -> usize {
        self.c.len()
    }
    fn n_params(&self) -> usize {
        2 * self.c.len() - 1
    }
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let n = self.c.len();
        for i in 0..n {
            let mut s = theta[i] * u[i];
            if i > 0 {
                s += theta[n + i - 1] * u[i - 1];
            }
            if i + 1 < n {
                s += theta[n + i] * u[i + 1];
            }
            f[i] = s - self.b[i];
        }
    }
    fn objective<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
        let cu = u
            .iter()
            .zip(&self.c)
            .fold(T::zero(), |s, (&x, &c)| s + x * c);
        cu * cu
    }
}

#[test]
fn a_linear_model_matches_the_built_in_in_one_newton_step() {
    use adjoint::problems::tridiagonal::Tridiagonal;
    for (n, seed) in [(1, 1), (7, 2), (300, 3)] {
        let (tri, theta) = Tridiagonal::random(n, seed).unwrap();
        let model = TridiagonalModel {
            c: tri.c().to_vec(),
            b: tri.b().to_vec(),
        };
        let p = Derived::new(model).unwrap();
        assert!(p.is_linear_in_u());
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        let mut reference = AdjointWorkspace::new(&tri, SolverKind::Auto).unwrap();
        reference.evaluate(&tri, &theta).unwrap();
        assert_close(
            ws.gradient(),
            reference.gradient(),
            1e-10,
            "derived vs built-in",
        );
        // hand-written fills of the built-in against the derived ones
        let c = adjoint::check::compare_with_derived(&tri, &p, ws.u(), &theta).unwrap();
        assert!(c.passes(1e-14), "{c:?}");
        assert_eq!(ws.state_iterations(), Some(1));
    }
}

#[test]
fn one_problem_evaluated_on_several_threads_at_once() {
    use rayon::prelude::*;
    let n = 600_000; // above the two-thread split of the fills
    let p = Derived::new(ReactionDiffusion { n }).unwrap();
    let thetas: Vec<Vec<f64>> = (0..4).map(|k| vec![1.0 + k as f64; n]).collect();
    let sequential: Vec<f64> = thetas
        .iter()
        .map(|t| {
            AdjointWorkspace::new(&p, SolverKind::Auto)
                .unwrap()
                .evaluate(&p, t)
                .unwrap()
        })
        .collect();
    let parallel: Vec<f64> = thetas
        .par_iter()
        .map(|t| {
            AdjointWorkspace::new(&p, SolverKind::Auto)
                .unwrap()
                .evaluate(&p, t)
                .unwrap()
        })
        .collect();
    assert_eq!(sequential, parallel);
}
