//! The fast paths tested where they run: above 2¹⁹ entries passes split over two threads
//! (the tridiagonal fill, the concurrent ∂f/∂θ fill, the gradient product, the checks) and
//! above 2²⁰ stores stream past the caches (the banded factorization, the network's weight
//! gradients). Results must equal a one-thread run bit for bit, and an independent closed form.

mod common;

use adjoint::problems::mlp::fast::MlpGradient;
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, SolverKind};
use common::{assert_close, gtsv};
use rand::{RngExt, SeedableRng};

const STREAMING: usize = 1 << 20;

fn one_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(f)
}

fn two_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(f)
}

/// Everything an evaluation produces, for bitwise comparison.
fn outputs(ws: &AdjointWorkspace, l: f64) -> (u64, Vec<u64>, Vec<u64>, Vec<u64>) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    (
        l.to_bits(),
        bits(ws.u()),
        bits(ws.lambda()),
        bits(ws.gradient()),
    )
}

#[test]
fn tridiagonal_above_both_thresholds() {
    let n = STREAMING + 1;
    // a diagonally dominant instance: well conditioned, so the closed form can be tight
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let c: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
    let b: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    let mut theta: Vec<f64> = (0..n).map(|_| 3.0 + rng.random::<f64>()).collect();
    theta.extend((0..n - 1).map(|_| rng.random::<f64>() - 0.5));
    let p = Tridiagonal::new(c.clone(), b.clone()).unwrap();
    let run = || {
        let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
        let l = ws.evaluate(&p, &theta).unwrap();
        // a second evaluation reuses every buffer
        let l2 = ws.evaluate(&p, &theta).unwrap();
        assert_eq!(l.to_bits(), l2.to_bits());
        outputs(&ws, l)
    };
    let two = two_threads(run);
    let one = one_thread(run);
    assert!(two == one, "two threads and one differ");

    // closed form (the seed's formula) on an independent solve with pivoting (dgtsv)
    let (diag, off) = theta.split_at(n);
    let u = gtsv(off, diag, off, &b);
    let cu: f64 = c.iter().zip(&u).map(|(a, b)| a * b).sum();
    let rhs: Vec<f64> = c.iter().map(|ci| -2.0 * cu * ci).collect();
    let lambda = gtsv(off, diag, off, &rhs);
    let mut grad: Vec<f64> = (0..n).map(|i| lambda[i] * u[i]).collect();
    grad.extend((0..n - 1).map(|k| lambda[k + 1] * u[k] + lambda[k] * u[k + 1]));
    let from_bits = |v: &[u64]| v.iter().map(|&x| f64::from_bits(x)).collect::<Vec<_>>();
    assert_close(&from_bits(&two.1), &u, 1e-12, "u vs dgtsv");
    assert_close(&from_bits(&two.2), &lambda, 1e-12, "λ vs dgtsv");
    assert_close(
        &from_bits(&two.3),
        &grad,
        1e-12,
        "gradient vs the seed's formula",
    );
    assert!((f64::from_bits(two.0) - cu * cu).abs() <= 1e-12 * cu * cu);
}

/// Dense backpropagation for a two-layer network, written out by hand.
fn dense_backprop(mlp: &Mlp, theta: &[f64], act: Activation) -> (f64, Vec<f64>) {
    let sizes = mlp.layout().layers().to_vec();
    let (n0, n1, n2) = (sizes[0], sizes[1], sizes[2]);
    let w1 = &theta[..n1 * n0];
    let b1 = &theta[n1 * n0..n1 * n0 + n1];
    let o2 = n1 * n0 + n1;
    let w2 = &theta[o2..o2 + n2 * n1];
    let b2 = &theta[o2 + n2 * n1..];
    let u0 = mlp.u0();
    // column-major W: W[r, c] = w[c * rows + r]
    let u1: Vec<f64> = (0..n1)
        .map(|r| act.apply((0..n0).fold(b1[r], |s, c| s + w1[c * n1 + r] * u0[c])))
        .collect();
    let u2: Vec<f64> = (0..n2)
        .map(|r| act.apply((0..n1).fold(b2[r], |s, c| s + w2[c * n2 + r] * u1[c])))
        .collect();
    let y = mlp.y();
    let l: f64 = u2.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    let d2: Vec<f64> = (0..n2)
        .map(|r| 2.0 * (u2[r] - y[r]) * act.derivative_from_output(u2[r]))
        .collect();
    let d1: Vec<f64> = (0..n1)
        .map(|c| {
            (0..n2).map(|r| w2[c * n2 + r] * d2[r]).sum::<f64>() * act.derivative_from_output(u1[c])
        })
        .collect();
    let mut g = Vec::with_capacity(theta.len());
    for &x in u0 {
        g.extend(d1.iter().map(|d| d * x));
    }
    g.extend(&d1);
    for &x in &u1 {
        g.extend(d2.iter().map(|d| d * x));
    }
    g.extend(&d2);
    (l, g)
}

#[test]
fn a_network_above_both_thresholds() {
    // ∂f/∂θ of 1024-1024-1 has 1024·1025 + 1025 > 2²⁰ entries; W_1 has 2²⁰ (streaming stores)
    let act = Activation::Tanh;
    let (mlp, theta) = Mlp::random(&[1024, 1024, 1], act, Target::Scalar(0.5), 0.0, 9).unwrap();
    let run = || {
        let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
        let l = ws.evaluate(&mlp, &theta).unwrap();
        assert!(ws.dfdtheta().nnz() > STREAMING);
        let mut fast = MlpGradient::new(&mlp);
        let lf = fast.evaluate(&mlp, &theta).unwrap();
        (
            outputs(&ws, l),
            lf.to_bits(),
            fast.gradient()
                .iter()
                .map(|g| g.to_bits())
                .collect::<Vec<_>>(),
        )
    };
    let two = two_threads(run);
    let one = one_thread(run);
    assert!(two == one, "two threads and one differ");
    let (l, g) = dense_backprop(&mlp, &theta, act);
    let explicit: Vec<f64> = two.0 .3.iter().map(|&x| f64::from_bits(x)).collect();
    let fast: Vec<f64> = two.2.iter().map(|&x| f64::from_bits(x)).collect();
    assert_close(&explicit, &g, 1e-12, "explicit engine vs dense backprop");
    assert_close(&fast, &g, 1e-12, "fast path vs dense backprop");
    assert!((f64::from_bits(two.1) - l).abs() <= 1e-13 * l.max(1.0));
}

/// The hand-written tridiagonal fills above the streaming and two-thread thresholds (n = 2²⁰ + 1:
/// 3n − 2 values) against the Jacobians derived from the model: same patterns, values equal
/// to 1e-14 relative (the objective's long sum to 1e-12).
#[test]
fn tridiagonal_fast_fills_above_the_thresholds_match_the_derived_ones() {
    use adjoint::check::compare_with_derived;
    let n = (1 << 20) + 1;
    assert!(3 * n - 2 >= adjoint::thresholds::STREAMING_THRESHOLD);
    assert!(3 * n - 2 >= adjoint::thresholds::PARALLEL_THRESHOLD);
    let (p, theta) = adjoint::problems::tridiagonal::Tridiagonal::random(n, 11).unwrap();
    let derived = adjoint::Derived::new(p.model()).unwrap();
    let u: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64 * 0.1).collect();
    let c = compare_with_derived(&p, &derived, &u, &theta).unwrap();
    assert!(c.dfdu_same_pattern && c.dfdtheta_same_pattern, "{c:?}");
    assert!(
        c.dfdu_difference <= 1e-14 && c.dfdtheta_difference <= 1e-14,
        "{c:?}"
    );
    // L = (cᵀu)² sums 10⁶ terms in another order (eight partial sums against the tape's
    // one): rounding of order n·ε, not 1e-14
    assert!(c.objective_difference <= 1e-12, "{c:?}");
}

/// The MBB beam's fills above `PARALLEL_ELEMENTS` elements and `PARALLEL_THRESHOLD` entries of
/// `K` (the gather by halves, the moduli and `∂f/∂θ` by halves): the same bits on one thread
/// and on two, and the whole evaluation too. (`tests/topopt.rs` checks the fills against the
/// element loops.)
#[test]
fn mbb_beam_fills_above_the_thresholds_match_one_thread() {
    use adjoint::problem::Jacobians;
    use adjoint::problems::topopt::MbbBeam;
    use adjoint::thresholds::{PARALLEL_ELEMENTS, PARALLEL_THRESHOLD};
    let beam = MbbBeam::new(300, 100, 3.0).unwrap();
    let (kp, tp) = (beam.dfdu_pattern(), beam.dfdtheta_pattern());
    assert!(beam.n_elements() >= PARALLEL_ELEMENTS && kp.nnz() >= PARALLEL_THRESHOLD);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let x: Vec<f64> = (0..beam.n_elements())
        .map(|_| rng.random_range(0.05..1.0))
        .collect();
    let u: Vec<f64> = (0..beam.n_state_dofs())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let fills = || {
        let mut k = vec![0.0; kp.nnz()];
        let mut t = vec![0.0; tp.nnz()];
        beam.fill_dfdu(&u, &x, &mut k).unwrap();
        beam.fill_dfdtheta(&u, &x, &mut t).unwrap();
        let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
        (bits(&k), bits(&t))
    };
    assert_eq!(one_thread(fills), two_threads(fills));
    let evaluate = || {
        let mut ws = AdjointWorkspace::new(&beam, SolverKind::Auto).unwrap();
        let l = ws.evaluate(&beam, &x).unwrap();
        assert!(ws.adjoint_was_fused());
        outputs(&ws, l)
    };
    assert_eq!(one_thread(evaluate), two_threads(evaluate));
}
