//! `adjoint` with no arguments: the seed document's problems at its sizes, with checks.

use adjoint::problems::tridiagonal::{closed_form_gradient, Tridiagonal};
use adjoint::{AdjointWorkspace, SolverKind};

pub fn run() -> anyhow::Result<()> {
    println!("adjoint: the adjoint method, made explicit");
    println!("For min L(u,θ) s.t. f(u,θ) = 0: solve (∂f/∂u)ᵀλ = −(∂L/∂u)ᵀ, then dL/dθ = ∂L/∂θ + λᵀ∂f/∂θ.");
    println!();
    tridiagonal()?;
    println!();
    println!("More: `adjoint tridiagonal --help`, `adjoint tridiagonal --n 1000000 --repeat 10`,");
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
