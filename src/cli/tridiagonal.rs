//! `adjoint tridiagonal`.

use super::report::{median_timings, shape_json, timings_json, timings_text};
use super::TridiagonalArgs;
use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, SolverKind};
use anyhow::Context;
use serde_json::json;

/// Where the inputs came from.
pub enum Source {
    Random { seed: u64 },
    Folder(std::path::PathBuf),
}

pub fn run(args: &TridiagonalArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.export {
        // refuse an unusable target before any work
        adjoint::folder::check_target(dir)
            .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    let solver: SolverKind = args.solver.parse()?;
    if args.from.is_none() {
        // about 300 bytes per unknown: inputs, both Jacobians, the factorization, the vectors
        super::report::ensure_memory(&format!("--n {}", args.n), 300.0 * args.n as f64)?;
    }
    let (problem, theta, source) = match &args.from {
        Some(dir) => {
            let (p, t) = adjoint::io::read_tridiagonal(dir)?;
            (p, t, Source::Folder(dir.clone()))
        }
        None => {
            let (p, t) = Tridiagonal::random(args.n, args.seed)?;
            (p, t, Source::Random { seed: args.seed })
        }
    };
    let n = problem.n();
    let mut ws = AdjointWorkspace::new(&problem, solver)?;
    let mut timings = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        ws.evaluate(&problem, &theta)?;
        timings.push(*ws.timings());
    }
    let t = median_timings(&timings);
    let (seed_json, source_text) = match &source {
        Source::Random { seed } => (json!(seed), format!("random inputs, seed {seed}")),
        Source::Folder(d) => (json!(null), format!("inputs from {}", d.display())),
    };
    let problem_json = json!({
        "kind": "tridiagonal",
        "n": n,
        "n_state": n,
        "n_params": 2 * n - 1,
        "seed": seed_json,
        "objective": "L = (c^T u)^2",
        "constraint": "A(theta) u = b, A symmetric tridiagonal, theta = [diagonal (n); off-diagonal (n-1)]",
        "solver": ws.solver().name(),
        "objective_value": ws.objective(),
        "gradient_norm": ws.gradient_norm(),
    });
    if let Some(dir) = &args.export {
        export_evaluation(
            dir,
            &ws,
            &theta,
            &ExportSpec {
                inputs: &[("c", problem.c()), ("b", problem.b())],
                matrices: &[],
                problem: &problem_json,
                u_offsets: None,
                theta_offsets: None,
                theta_block_name: "params of layer",
                u_block_name: "layer",
            },
        )
        .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    if args.json {
        let out = json!({
            "problem": "tridiagonal",
            "n_state": n,
            "n_params": 2 * n - 1,
            "seed": seed_json,
            "objective": ws.objective(),
            "gradient_norm": ws.gradient_norm(),
            "solver": ws.solver().name(),
            "solver_fallback": ws.solver().fallback(),
            "dfdu": shape_json(ws.dfdu()),
            "dfdtheta": shape_json(ws.dfdtheta()),
            "repeat": args.repeat,
            "timings_ms": timings_json(&t),
            "export": args.export.as_ref().map(|d| d.display().to_string()),
        });
        println!("{out}");
        return Ok(());
    }
    println!("tridiagonal: min (cᵀu)² subject to A(θ)u = b, n = {n} ({source_text})");
    println!(
        "  state u: {n}, parameters θ: {} (diagonal {n}, off-diagonal {})",
        2 * n - 1,
        n - 1
    );
    println!(
        "  ∂f/∂u = A(θ): {}×{}, {} stored entries",
        ws.dfdu().rows(),
        ws.dfdu().cols(),
        ws.dfdu().nnz()
    );
    println!(
        "  ∂f/∂θ: {}×{}, {} stored entries",
        ws.dfdtheta().rows(),
        ws.dfdtheta().cols(),
        ws.dfdtheta().nnz()
    );
    match ws.solver().fallback() {
        None => println!("  solver: {}", ws.solver().name()),
        Some(why) => println!("  solver: {} (auto: {why})", ws.solver().name()),
    }
    println!("  objective L = {:.12e}", ws.objective());
    println!("  ‖dL/dθ‖₂ = {:.12e}", ws.gradient_norm());
    println!("  {}", timings_text(&t, args.repeat));
    if let Some(dir) = &args.export {
        println!("  exported to {}", dir.display());
    }
    Ok(())
}
