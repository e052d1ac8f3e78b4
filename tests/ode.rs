//! Time stepping: the discrete adjoint against dual numbers (an independent march written
//! here on num-dual types), central differences, forward sensitivities and the independent
//! reference cases; the explicit and checkpointed modes bit for bit; the engine's
//! block-triangular path.

mod common;

use adjoint::problems::ode::builtin::{Heat, LotkaVolterra, Robertson};
use adjoint::problems::ode::{Mode, OdeModel, OdeProblem, OdeWorkspace, Scheme, TimeGrid};
use adjoint::{AdjointWorkspace, SolverKind};
use common::{assert_close, central_differences, data, dual_gradient};
use num_dual::Dual64;

const SCHEMES: [Scheme; 3] = [
    Scheme::ExplicitEuler,
    Scheme::ImplicitEuler,
    Scheme::CrankNicolson,
];

fn gradient<M: OdeModel>(
    p: &OdeProblem<M>,
    theta: &[f64],
    mode: Mode,
) -> (f64, Vec<f64>, OdeWorkspace) {
    let mut ws = OdeWorkspace::new(p, mode).unwrap();
    let l = ws.evaluate(p, theta).unwrap();
    (l, ws.gradient().to_vec(), ws)
}

fn objective<M: OdeModel + Clone>(
    model: &M,
    scheme: Scheme,
    grid: &TimeGrid,
    theta: &[f64],
) -> f64 {
    let p = OdeProblem::new(model.clone(), scheme, grid.clone()).unwrap();
    OdeWorkspace::new(&p, Mode::Checkpointed { checkpoints: 1 })
        .unwrap()
        .evaluate(&p, theta)
        .unwrap()
}

/// Lotka–Volterra marched on dual numbers, independently of the library: each implicit step
/// by a chord iteration (real Jacobian, dual residual) run to a fixed point in both parts.
fn lv_dual(scheme: Scheme, grid: &TimeGrid, th: &[Dual64]) -> Dual64 {
    let w = scheme.weight();
    let g = |x: [Dual64; 2]| -> [Dual64; 2] {
        let p = x[0] * x[1];
        [th[0] * x[0] - th[1] * p, th[3] * p - th[2] * x[1]]
    };
    let mut x = [Dual64::from(1.0), Dual64::from(1.0)];
    let mut sum = Dual64::from(0.0);
    for k in 1..=grid.steps() {
        let h = grid.h(k);
        let gp = g(x);
        let mut y = x;
        for _ in 0..200 {
            let gy = g(y);
            let f = [
                y[0] - x[0] - (gy[0] * w + gp[0] * (1.0 - w)) * h,
                y[1] - x[1] - (gy[1] * w + gp[1] * (1.0 - w)) * h,
            ];
            // J = I − w h ∂g/∂x at y (real parts)
            let (a, b, c, d) = (th[0].re, th[1].re, th[2].re, th[3].re);
            let (y0, y1) = (y[0].re, y[1].re);
            let j = [
                [1.0 - w * h * (a - b * y1), w * h * b * y0],
                [-w * h * d * y1, 1.0 - w * h * (d * y0 - c)],
            ];
            let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
            let dy0 = (f[0] * j[1][1] - f[1] * j[0][1]) / det;
            let dy1 = (f[1] * j[0][0] - f[0] * j[1][0]) / det;
            let done = dy0.re.abs() + dy1.re.abs() + dy0.eps.abs() + dy1.eps.abs() == 0.0;
            y = [y[0] - dy0, y[1] - dy1];
            if done {
                break;
            }
        }
        x = y;
        sum += (x[0] + x[1]) * h;
    }
    sum
}

#[test]
fn lotka_volterra_against_dual_numbers_every_scheme() {
    let theta = LotkaVolterra::DEFAULT_THETA;
    for scheme in SCHEMES {
        for (steps, t_end) in [(20, 1.0), (60, 2.0)] {
            let grid = TimeGrid::uniform(steps, t_end).unwrap();
            let p = OdeProblem::new(LotkaVolterra, scheme, grid.clone()).unwrap();
            let (l, g, _) = gradient(&p, &theta, Mode::Explicit);
            let want = dual_gradient(|t| lv_dual(scheme, &grid, t), &theta);
            let lw = lv_dual(scheme, &grid, &theta.map(Dual64::from)).re;
            assert!(
                (l - lw).abs() <= 1e-13 * lw.abs(),
                "{scheme}: L {l} vs {lw}"
            );
            assert_close(&g, &want, 1e-11, &format!("{scheme}, K = {steps}"));
        }
    }
}

#[test]
fn every_scheme_against_central_differences() {
    let heat = Heat { n: 7 };
    let theta_heat: Vec<f64> = (0..8).map(|i| 0.5 + 0.1 * i as f64).collect();
    for scheme in SCHEMES {
        let grid = TimeGrid::uniform(30, 0.02).unwrap();
        let p = OdeProblem::new(heat, scheme, grid.clone()).unwrap();
        let (_, g, _) = gradient(&p, &theta_heat, Mode::Explicit);
        let fd = central_differences(|t| objective(&heat, scheme, &grid, t), &theta_heat, 1e-5);
        assert_close(&g, &fd, 1e-7, &format!("heat {scheme}"));

        let grid = TimeGrid::geometric(40, 10.0, 1e-4).unwrap();
        let theta = [0.04, 1e4, 3e7];
        if scheme != Scheme::ExplicitEuler {
            let p = OdeProblem::new(Robertson, scheme, grid.clone()).unwrap();
            let (_, g, _) = gradient(&p, &theta, Mode::Explicit);
            let fd = central_differences(|t| objective(&Robertson, scheme, &grid, t), &theta, 1e-6);
            for (a, b) in g.iter().zip(&fd) {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1e-12),
                    "robertson {scheme}: {g:?} vs {fd:?}"
                );
            }
        }
    }
}

#[test]
fn checkpointed_and_explicit_agree_bit_for_bit() {
    let cases: Vec<(Scheme, usize)> = SCHEMES
        .iter()
        .flat_map(|&s| [(s, 1), (s, 2), (s, 3), (s, 7), (s, 200)])
        .collect();
    for (scheme, checkpoints) in cases {
        let grid = TimeGrid::uniform(57, 3.0).unwrap();
        let p = OdeProblem::new(LotkaVolterra, scheme, grid).unwrap();
        let theta = [1.4, 0.9, 3.1, 1.05];
        let (le, ge, we) = gradient(&p, &theta, Mode::Explicit);
        let (lc, gc, wc) = gradient(&p, &theta, Mode::Checkpointed { checkpoints });
        assert_eq!(
            le.to_bits(),
            lc.to_bits(),
            "{scheme} s = {checkpoints}: objective"
        );
        for (a, b) in ge.iter().zip(&gc) {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{scheme} s = {checkpoints}: {ge:?} vs {gc:?}"
            );
        }
        assert_eq!(we.stats().newton_iterations, wc.stats().newton_iterations);
        let s = checkpoints.min(57);
        assert_eq!(wc.stats().checkpoints, s);
        assert!(wc.stats().peak_state_memory_bytes <= 8 * 2 * (s + 3));
        assert_eq!(we.solver_name(), wc.solver_name());
        if checkpoints < 57 {
            assert!(wc.stats().recomputed_steps > 0);
        } else {
            assert_eq!(
                wc.stats().recomputed_steps,
                0,
                "every state held: nothing recomputed"
            );
        }
    }
    // a larger state with a sparse diagonal block (heat: the banded kernel)
    for scheme in SCHEMES {
        let grid = TimeGrid::uniform(40, 0.01).unwrap();
        let heat = Heat { n: 50 };
        let p = OdeProblem::new(heat, scheme, grid).unwrap();
        let theta: Vec<f64> = (0..51).map(|i| 1.0 + 0.01 * i as f64).collect();
        let (_, ge, _) = gradient(&p, &theta, Mode::Explicit);
        let (_, gc, _) = gradient(&p, &theta, Mode::Checkpointed { checkpoints: 5 });
        assert!(
            ge.iter().zip(&gc).all(|(a, b)| a.to_bits() == b.to_bits()),
            "heat {scheme}"
        );
    }
}

#[test]
fn the_binomial_schedule_bounds_memory_and_counts_recomputations() {
    let grid = TimeGrid::uniform(1000, 10.0).unwrap();
    let p = OdeProblem::new(LotkaVolterra, Scheme::ImplicitEuler, grid).unwrap();
    let theta = LotkaVolterra::DEFAULT_THETA;
    let (_, _, e) = gradient(&p, &theta, Mode::Explicit);
    let (_, _, c) = gradient(&p, &theta, Mode::Checkpointed { checkpoints: 10 });
    let (e, c) = (e.stats(), c.stats());
    assert_eq!(e.peak_state_memory_bytes, 8 * 2 * 1001);
    assert!(c.peak_state_memory_bytes <= 8 * 2 * 13);
    // each step computed at most 5 times: C(9 + 5, 10) = 2002 ≥ 1000 steps with 9 free slots
    assert!(c.recomputed_steps <= 4 * 1000, "{c:?}");
    assert!(c.recomputed_steps >= 1000, "{c:?}");
}

#[test]
fn the_engine_picks_block_triangular_and_agrees() {
    for scheme in SCHEMES {
        let grid = TimeGrid::uniform(50, 2.0).unwrap();
        let p = OdeProblem::new(LotkaVolterra, scheme, grid).unwrap();
        let theta = LotkaVolterra::DEFAULT_THETA;
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        let l = ws.evaluate(&p, &theta).unwrap();
        let expected = if scheme == Scheme::ExplicitEuler {
            "triangular"
        } else {
            "block-triangular"
        };
        assert_eq!(ws.solver().name(), expected, "{scheme}");
        let (lo, g, own) = gradient(&p, &theta, Mode::Explicit);
        assert!((l - lo).abs() <= 1e-14 * lo.abs());
        assert_close(
            ws.gradient(),
            &g,
            1e-12,
            &format!("engine vs OdeWorkspace, {scheme}"),
        );
        // λ of the stacked sweep is the engine's (same solver, same right-hand side)
        if scheme != Scheme::ExplicitEuler {
            assert_eq!(ws.lambda(), own.lambda().unwrap());
        }
        // forward sensitivities: an independent route to the same gradient
        let fs = adjoint::check::forward_sensitivity_gradient(&mut ws).unwrap();
        assert_close(&fs, &g, 1e-10, &format!("forward sensitivities, {scheme}"));
        assert_eq!(ws.state_iterations(), Some(own.stats().newton_iterations));
    }
}

#[test]
fn explicit_euler_has_identity_diagonal_blocks() {
    let grid = TimeGrid::uniform(30, 1.0).unwrap();
    let p = OdeProblem::new(LotkaVolterra, Scheme::ExplicitEuler, grid).unwrap();
    let (_, _, ws) = gradient(&p, &LotkaVolterra::DEFAULT_THETA, Mode::Explicit);
    assert_eq!(ws.solver_name(), "triangular");
    assert_eq!(ws.stats().newton_iterations, 0);
    let dag = adjoint::dag::check_dag(ws.dfdu().unwrap().view(), Some(&p.block_offsets())).unwrap();
    assert!(dag.lower_triangular);
}

fn reference_theta(problem: &str, json: &serde_json::Value) -> Vec<f64> {
    if let Some(t) = json.get("theta") {
        return t
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
    }
    match problem {
        "lotka-volterra" => LotkaVolterra::DEFAULT_THETA.to_vec(),
        "robertson" => Robertson::DEFAULT_THETA.to_vec(),
        "heat" => vec![1.0; json["n"].as_u64().unwrap() as usize + 1],
        _ => unreachable!(),
    }
}

fn reference_case<M: OdeModel>(model: M, dir: &str, json: &serde_json::Value) {
    let scheme: Scheme = json["scheme"].as_str().unwrap().parse().unwrap();
    let steps = json["steps"].as_u64().unwrap() as usize;
    let t_end = json["t_end"].as_f64().unwrap();
    let grid = match json["grid"].as_str().unwrap() {
        "uniform" => TimeGrid::uniform(steps, t_end).unwrap(),
        _ => TimeGrid::geometric(steps, t_end, json["first"].as_f64().unwrap()).unwrap(),
    };
    let theta = reference_theta(json["problem"].as_str().unwrap(), json);
    let p = OdeProblem::new(model, scheme, grid).unwrap();
    let (l, g, _) = gradient(&p, &theta, Mode::Explicit);
    let want = adjoint::mtx::read_vector(data(&format!("ode/{dir}/gradient.mtx"))).unwrap();
    let lw = json["objective"].as_f64().unwrap();
    assert!(
        (l - lw).abs() <= 1e-9 * lw.abs(),
        "{dir}: objective {l} vs {lw}"
    );
    // entries that vanish by symmetry (heat's middle interface) are rounding noise in both:
    // compared against the gradient's size
    let floor = 1e-12 * want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, (a, b)) in g.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-7 * b.abs().max(floor),
            "{dir}: dL/dθ[{k}] = {a} vs {b}"
        );
    }
}

#[test]
fn independent_reference_cases() {
    let dirs = [
        "ode-heat-cn-n20-K40",
        "ode-lotka-volterra-cn-K150",
        "ode-lotka-volterra-ee-K300",
        "ode-lotka-volterra-ie-K200",
        "ode-robertson-ie-geometric-K2000",
    ];
    for dir in dirs {
        let text = std::fs::read_to_string(data(&format!("ode/{dir}/problem.json"))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        match json["problem"].as_str().unwrap() {
            "lotka-volterra" => reference_case(LotkaVolterra, dir, &json),
            "robertson" => reference_case(Robertson, dir, &json),
            "heat" => reference_case(
                Heat {
                    n: json["n"].as_u64().unwrap() as usize,
                },
                dir,
                &json,
            ),
            other => panic!("unknown problem {other}"),
        }
    }
}

/// SUNDIALS' CVODES adjoint example `cvsRoberts_ASAi_dns`: `G = ∫₀^{4e7} y₃ dt = 3.9983e7`,
/// `dG/dp = (7.6842e5, −3.0691, 5.1145e-4)`; implicit Euler on the geometric grid with
/// `K = 10⁵` steps agrees to 1e-3 in every component (and to 1e-5 with an independent
/// implementation of exactly this discretization: `(7.68435e5, −3.06915, 5.11527e-4)`).
#[test]
fn robertson_matches_cvodes_adjoint_example() {
    let grid = TimeGrid::geometric(100_000, 4e7, 1e-6).unwrap();
    let p = OdeProblem::new(Robertson, Scheme::ImplicitEuler, grid).unwrap();
    let (l, g, _) = gradient(
        &p,
        &Robertson::DEFAULT_THETA,
        Mode::Checkpointed { checkpoints: 20 },
    );
    assert!((l - 3.9983e7).abs() <= 1e-3 * 3.9983e7, "G = {l}");
    for (k, (a, b)) in g.iter().zip([7.6842e5, -3.0691, 5.1145e-4]).enumerate() {
        assert!(
            (a - b).abs() <= 1e-3 * b.abs(),
            "dG/dp[{k}] = {a} vs CVODES {b}"
        );
    }
    for (k, (a, b)) in g.iter().zip([7.68435e5, -3.06915, 5.11527e-4]).enumerate() {
        assert!((a - b).abs() <= 2e-5 * b.abs(), "dG/dp[{k}] = {a} vs {b}");
    }
}

/// `dx/dt = tanh(W x + b)`, `θ = [vec(W) (columns stacked); b]`, `Φ = ‖x_K − y‖²`, no running
/// cost: with explicit Euler and `h = 1`, `x_k = x_{k−1} + tanh(W x_{k−1} + b)` is a residual
/// network whose layers share one parameter group.
#[derive(Clone)]
struct TanhResidual {
    n: usize,
    x0: Vec<f64>,
    y: f64,
}

impl OdeModel for TanhResidual {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.n * self.n + self.n
    }
    fn rhs<T: adjoint::Scalar>(&self, _t: f64, x: &[T], th: &[T], dx: &mut [T]) {
        let n = self.n;
        for i in 0..n {
            let mut z = th[n * n + i];
            for j in 0..n {
                z += th[i + j * n] * x[j];
            }
            dx[i] = z.tanh();
        }
    }
    fn initial_state<T: adjoint::Scalar>(&self, _theta: &[T], x0: &mut [T]) {
        for (x, &v) in x0.iter_mut().zip(&self.x0) {
            *x = T::from_f64(v);
        }
    }
    fn running_cost<T: adjoint::Scalar>(&self, _t: f64, _x: &[T], _theta: &[T]) -> T {
        T::zero()
    }
    fn terminal_cost<T: adjoint::Scalar>(&self, x: &[T], _theta: &[T]) -> Option<T> {
        Some(
            x.iter()
                .fold(T::zero(), |s, &v| s + (v - self.y) * (v - self.y)),
        )
    }
}

#[test]
fn explicit_euler_is_the_equivalent_residual_network() {
    use adjoint::problems::mlp::{Activation, Target};
    use adjoint::problems::network::{LayerSpec, Network};
    use rand::{RngExt, SeedableRng};
    for (n, steps, seed) in [(3, 4, 1u64), (5, 12, 2), (8, 30, 3)] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let x0: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
        let theta: Vec<f64> = (0..n * n + n)
            .map(|_| 0.6 * (rng.random::<f64>() - 0.5))
            .collect();
        let model = TanhResidual {
            n,
            x0: x0.clone(),
            y: 0.3,
        };
        let grid = TimeGrid::uniform(steps, steps as f64).unwrap(); // h = 1
        let ode = OdeProblem::new(model, Scheme::ExplicitEuler, grid).unwrap();
        let (l, g, ws) = gradient(&ode, &theta, Mode::Explicit);
        let layers: Vec<LayerSpec> = (1..=steps)
            .map(|k| LayerSpec {
                size: n,
                inputs: vec![k - 1],
                group: 0,
                residual: Some(k - 1),
            })
            .collect();
        let net = Network::new(n, layers, Activation::Tanh, x0, Target::Scalar(0.3), 0.0).unwrap();
        let mut nws = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
        let ln = nws.evaluate(&net, &theta).unwrap();
        assert!(
            (l - ln).abs() <= 1e-13 * ln.abs(),
            "n = {n}: L {l} vs network {ln}"
        );
        assert_close(
            &g,
            nws.gradient(),
            1e-12,
            &format!("n = {n}, K = {steps}: gradient vs network"),
        );
        // the same states: u of the network is [x_1; …; x_K]
        assert_close(ws.u().unwrap(), nws.u(), 1e-14, "states");
        // and the same ∂f/∂u, entry for entry (both I minus the layers' Jacobians)
        let (a, b) = (ws.dfdu().unwrap(), nws.dfdu());
        assert_eq!(a.shape(), b.shape());
        let dense = |m: &sprs::CsMat<f64>| m.to_dense();
        let (da, db) = (dense(a), dense(b));
        for (x, y) in da.iter().zip(db.iter()) {
            assert!(
                (x - y).abs() <= 1e-14 * (1.0 + y.abs()),
                "df/du differs: {x} vs {y}"
            );
        }
    }
}

/// Heat without its hand-written Jacobians (everything derived), and with a wrong one.
#[derive(Clone, Copy)]
struct HeatDerived(Heat, bool);

impl OdeModel for HeatDerived {
    fn n_state(&self) -> usize {
        self.0.n_state()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn rhs<T: adjoint::Scalar>(&self, t: f64, x: &[T], th: &[T], dx: &mut [T]) {
        self.0.rhs(t, x, th, dx)
    }
    fn initial_state<T: adjoint::Scalar>(&self, th: &[T], x0: &mut [T]) {
        self.0.initial_state(th, x0)
    }
    fn running_cost<T: adjoint::Scalar>(&self, t: f64, x: &[T], th: &[T]) -> T {
        self.0.running_cost(t, x, th)
    }
    fn jacobian_x_pattern(&self) -> Option<sprs::CsStructure> {
        self.1.then(|| self.0.jacobian_x_pattern().unwrap())
    }
    fn jacobian_x(&self, t: f64, x: &[f64], th: &[f64], values: &mut [f64]) {
        self.0.jacobian_x(t, x, th, values);
        values[1] *= 1.0 + 1e-9; // the wrong one
    }
}

#[test]
fn hand_written_jacobians_agree_with_derived_ones_and_wrong_ones_are_refused() {
    for scheme in SCHEMES {
        let grid = TimeGrid::uniform(25, 0.01).unwrap();
        let theta: Vec<f64> = (0..31).map(|i| 1.0 + 0.02 * i as f64).collect();
        let hand = OdeProblem::new(Heat { n: 30 }, scheme, grid.clone()).unwrap();
        let derived =
            OdeProblem::new(HeatDerived(Heat { n: 30 }, false), scheme, grid.clone()).unwrap();
        let (lh, gh, _) = gradient(&hand, &theta, Mode::Explicit);
        let (ld, gd, _) = gradient(&derived, &theta, Mode::Explicit);
        assert!((lh - ld).abs() <= 1e-14 * ld.abs());
        assert_close(
            &gh,
            &gd,
            1e-12,
            &format!("heat {scheme}: hand-written vs derived"),
        );
        match OdeProblem::new(HeatDerived(Heat { n: 30 }, true), scheme, grid) {
            Err(adjoint::Error::Invalid { what, message }) => {
                assert!(
                    what.contains("dg/dx") && message.contains("by hand"),
                    "{what}: {message}"
                )
            }
            other => panic!("expected a refused hand-written Jacobian, got {other:?}"),
        }
    }
}

/// Above 2¹² unknowns the explicit mode assembles beside the march, on a second thread: still bit for bit
/// the checkpointed mode's gradient.
#[test]
fn the_parallel_explicit_mode_agrees_bit_for_bit() {
    let grid = TimeGrid::uniform(40_000, 10.0).unwrap();
    for scheme in [Scheme::ImplicitEuler, Scheme::CrankNicolson] {
        let p = OdeProblem::new(LotkaVolterra, scheme, grid.clone()).unwrap();
        assert!(p.steps() * p.n() >= 1 << 12);
        let theta = LotkaVolterra::DEFAULT_THETA;
        let (le, ge, _) = gradient(&p, &theta, Mode::Explicit);
        let (lc, gc, _) = gradient(&p, &theta, Mode::Checkpointed { checkpoints: 12 });
        assert_eq!(le.to_bits(), lc.to_bits());
        assert!(
            ge.iter().zip(&gc).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{scheme}: {ge:?} vs {gc:?}"
        );
    }
}

/// `dx/dt = θ x`: implicit Euler's step `(1 − hθ) x_k = x_{k−1}` is singular at `θ = 1/h`.
#[derive(Clone, Copy)]
struct Linear;

impl OdeModel for Linear {
    fn n_state(&self) -> usize {
        1
    }
    fn n_params(&self) -> usize {
        1
    }
    fn rhs<T: adjoint::Scalar>(&self, _t: f64, x: &[T], th: &[T], dx: &mut [T]) {
        dx[0] = th[0] * x[0];
    }
    fn initial_state<T: adjoint::Scalar>(&self, _th: &[T], x0: &mut [T]) {
        x0[0] = T::one();
    }
    fn running_cost<T: adjoint::Scalar>(&self, _t: f64, x: &[T], _th: &[T]) -> T {
        x[0] * x[0]
    }
}

#[test]
fn a_singular_step_is_a_typed_error_in_every_mode() {
    // 5000 steps: above the pipeline threshold of the explicit mode
    let grid = TimeGrid::uniform(5000, 5.0).unwrap(); // h = 1e-3
    let p = OdeProblem::new(Linear, Scheme::ImplicitEuler, grid).unwrap();
    for mode in [Mode::Explicit, Mode::Checkpointed { checkpoints: 4 }] {
        let mut ws = OdeWorkspace::new(&p, mode).unwrap();
        match ws.evaluate(&p, &[1000.0]) {
            Err(adjoint::Error::TimeStep { step, .. }) => assert_eq!(step, 1, "{mode:?}"),
            other => panic!("{mode:?}: expected a failed time step, got {other:?}"),
        }
        assert!(ws.objective().is_nan());
        // and the workspace still works afterwards: L = Σ h x_k² with x_k = (1 − h)^{−k}
        let l = ws.evaluate(&p, &[1.0]).unwrap();
        let want: f64 = (1..=5000)
            .map(|k| 1e-3 * (1.0 - 1e-3f64).powi(-2 * k))
            .sum();
        assert!((l - want).abs() <= 1e-9 * want, "{mode:?}: {l} vs {want}");
    }
}
