//! `adjoint` with no arguments: the seed document's problems at its sizes, with checks.

use adjoint::dag::{check_dag, BlockDiagonal};
use adjoint::problems::mlp::fast::MlpGradient;
use adjoint::problems::mlp::train::{gradient_descent, GradientPath};
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::tridiagonal::{closed_form_gradient, Tridiagonal};
use adjoint::{AdjointWorkspace, SolverKind};

pub fn run() -> anyhow::Result<()> {
    println!("adjoint: the adjoint method, made explicit");
    println!("For min L(u,θ) s.t. f(u,θ) = 0: solve (∂f/∂u)ᵀλ = −(∂L/∂u)ᵀ, then dL/dθ = ∂L/∂θ + λᵀ∂f/∂θ.");
    println!();
    tridiagonal()?;
    println!();
    network()?;
    println!();
    println!(
        "More: `adjoint tridiagonal --help`, `adjoint mlp --help`, `adjoint inspect out/dfdu.mtx`,"
    );
    println!("      `adjoint tridiagonal --export out/` (Matrix Market files for Python, Julia, MATLAB).");
    Ok(())
}

fn tridiagonal() -> anyhow::Result<()> {
    let n = 1000;
    let (problem, theta) = Tridiagonal::random(n, 0)?;
    let mut ws = AdjointWorkspace::new(&problem, SolverKind::Auto)?;
    let objective = ws.evaluate(&problem, &theta)?;
    println!("1. The seed's linearly constrained problem (n = {n}, seed 0)");
    println!(
        "   L = (cᵀu)², A(θ)u = b, A(θ) symmetric tridiagonal, θ ∈ ℝ^{}",
        2 * n - 1
    );
    println!(
        "   ∂f/∂u = A(θ): {}×{} with {} entries; ∂f/∂θ: {}×{} with {} entries",
        n,
        n,
        ws.dfdu().nnz(),
        n,
        2 * n - 1,
        ws.dfdtheta().nnz()
    );
    println!(
        "   solver {}: L = {objective:.10e}, ‖dL/dθ‖₂ = {:.10e}",
        ws.solver().name(),
        ws.gradient_norm()
    );

    // The seed's closed form λ_i u_i, λ_k u_{k+1} + λ_{k+1} u_k from the same u and λ.
    let closed = closed_form_gradient(ws.u(), ws.lambda());
    let diff = max_rel_diff(ws.gradient(), &closed);
    println!("   matches the seed's closed-form gradient: max relative difference {diff:.1e}");

    // Central finite differences on a few entries, each with a fresh state solve.
    let h = 1e-6;
    let mut worst: f64 = 0.0;
    for &k in &[0, n / 2, n, 2 * n - 2] {
        let mut tp = theta.clone();
        tp[k] += h;
        let lp = objective_at(&problem, &tp)?;
        tp[k] -= 2.0 * h;
        let lm = objective_at(&problem, &tp)?;
        let fd = (lp - lm) / (2.0 * h);
        let g = ws.gradient()[k];
        worst = worst.max((fd - g).abs() / g.abs().max(1e-12));
    }
    println!("   central finite differences (h = 1e-6) on θ_0, θ_{}, θ_{n}, θ_{}: worst relative difference {worst:.1e}", n / 2, 2 * n - 2);
    Ok(())
}

fn objective_at(problem: &Tridiagonal, theta: &[f64]) -> anyhow::Result<f64> {
    let mut ws = AdjointWorkspace::new(problem, SolverKind::Auto)?;
    Ok(ws.evaluate(problem, theta)?)
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    let scale = b
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

fn network() -> anyhow::Result<()> {
    let layers = [50, 40, 30, 20, 10, 1];
    let (mlp, mut theta) = Mlp::random(&layers, Activation::ExpNeg, Target::Scalar(3.0), 0.0, 0)?;
    let lay = mlp.layout();
    println!("2. Backpropagation as the adjoint method: the seed's network 50-40-30-20-10-1, h(x) = exp(−x)");
    println!(
        "   f(u,θ) = u − Φ(u,θ), n_u = {}, n_θ = {}, y = 3, init 0.01·N(0,1) (seed 0)",
        lay.n_state(),
        lay.n_params()
    );
    let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto)?;
    ws.evaluate(&mlp, &theta)?;
    let report = check_dag(ws.dfdu().view(), Some(lay.u_offsets()))?;
    let identity = matches!(
        report.blocks.as_ref().map(|b| &b.diagonal),
        Some(BlockDiagonal::Identity)
    );
    println!(
        "   ∂f/∂u = L: {}×{}, {} entries; DAG: yes, {} levels, lower triangular: {}, identity diagonal blocks: {}",
        lay.n_state(), lay.n_state(), ws.dfdu().nnz(), report.levels, report.lower_triangular, identity
    );
    println!(
        "   ∂f/∂θ = −Mᵀ = −D·blkdiag([u_(i−1); 1]ᵀ ⊗ I): {} entries (one per parameter)",
        ws.dfdtheta().nnz()
    );
    let mut fast = MlpGradient::new(&mlp);
    fast.evaluate(&mlp, &theta)?;
    println!(
        "   explicit engine ({}) and fast path agree: relative difference {:.1e}",
        ws.solver().name(),
        max_rel_diff(fast.gradient(), ws.gradient())
    );
    let k = 3999;
    let h = 1e-5;
    let mut tp = theta.clone();
    tp[k] += h;
    let lp = mlp.objective_dual::<f64>(&tp);
    tp[k] -= 2.0 * h;
    let lm = mlp.objective_dual::<f64>(&tp);
    println!(
        "   the seed's finite-difference check of entry 4000: {:.6e} vs adjoint {:.6e}",
        (lp - lm) / (2.0 * h),
        fast.gradient()[k]
    );
    let t = std::time::Instant::now();
    let r = gradient_descent(&mlp, &mut theta, 0.001, 1000, GradientPath::Fast, |_, _| {})?;
    println!(
        "   the seed's experiment, 1000 steps of η = 0.001 in {:.0} ms: |u_N − 3| = {:.1e}, ‖∇L‖₂ = {:.1e}",
        t.elapsed().as_secs_f64() * 1e3,
        r.output_error,
        r.gradient_norm
    );
    Ok(())
}
