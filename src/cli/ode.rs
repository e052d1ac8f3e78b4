//! `adjoint ode`.

use super::report::{median_timings, shape_json, timings_json, timings_text};
use super::{OdeArgs, Usage};
use adjoint::export::{export_parts, Evaluation, ExportSpec};
use adjoint::problems::ode::builtin::{Heat, LotkaVolterra, Robertson};
use adjoint::problems::ode::{Mode, OdeModel, OdeProblem, OdeWorkspace, Scheme, TimeGrid};
use adjoint::{Objective, Partial};
use anyhow::Context;
use serde_json::json;

pub fn run(args: &OdeArgs) -> anyhow::Result<()> {
    let heat = args.problem == "heat";
    if args.n.is_some() && !heat {
        return Err(Usage(format!("--n applies to heat only, not {}", args.problem)).into());
    }
    if let Some(dir) = &args.export {
        adjoint::folder::check_target(dir)
            .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    match args.problem.as_str() {
        "lotka-volterra" => run_model(
            args,
            LotkaVolterra,
            &LotkaVolterra::DEFAULT_THETA,
            1000,
            10.0,
            "uniform",
        ),
        "robertson" => run_model(
            args,
            Robertson,
            &Robertson::DEFAULT_THETA,
            10_000,
            4e7,
            "geometric",
        ),
        _ => {
            let n = args.n.unwrap_or(100);
            // states, both stacked Jacobians and their copies in the solver: about 400 bytes
            // per unknown of the stacked problem in the explicit mode
            let steps = args.steps.unwrap_or(100);
            let per = if args.checkpoints.is_some() {
                100.0
            } else {
                400.0 * steps as f64
            };
            super::report::ensure_memory(&format!("--n {n} --steps {steps}"), per * n as f64)?;
            run_model(args, Heat { n }, &vec![1.0; n + 1], 100, 0.1, "uniform")
        }
    }
}

fn run_model<M: OdeModel>(
    args: &OdeArgs,
    model: M,
    default_theta: &[f64],
    default_steps: usize,
    default_t_end: f64,
    default_grid: &str,
) -> anyhow::Result<()> {
    let scheme: Scheme = args.scheme.parse()?;
    let steps = args.steps.unwrap_or(default_steps);
    let t_end = args.t_end.unwrap_or(default_t_end);
    let grid_name = args.grid.as_deref().unwrap_or(default_grid);
    let n_params = model.n_params();
    let theta: Vec<f64> = match (&args.theta, &args.from) {
        (Some(list), _) => {
            let t: Vec<f64> = list
                .split(',')
                .map(|v| v.trim().parse().expect("checked by clap"))
                .collect();
            if t.len() != n_params {
                return Err(Usage(format!(
                    "--theta has {} values, {} takes {n_params}",
                    t.len(),
                    args.problem
                ))
                .into());
            }
            t
        }
        (None, Some(dir)) => {
            let t = adjoint::mtx::read_vector(dir.join("theta.mtx"))?;
            if t.len() != n_params {
                anyhow::bail!(
                    "{}: theta has {} entries, {} takes {n_params}",
                    dir.join("theta.mtx").display(),
                    t.len(),
                    args.problem
                );
            }
            t
        }
        (None, None) => default_theta.to_vec(),
    };
    if args.first.is_some() && grid_name != "geometric" {
        return Err(Usage(format!(
            "--first applies to a geometric grid only (this run's grid is {grid_name})"
        ))
        .into());
    }
    let first = args.first.unwrap_or(1e-6);
    let grid = match grid_name {
        "geometric" => TimeGrid::geometric(steps, t_end, first),
        _ => TimeGrid::uniform(steps, t_end),
    }
    .map_err(|e| Usage(e.to_string()))?;
    let n = model.n_state();
    let problem = OdeProblem::new(model, scheme, grid)?;
    let mode = match args.checkpoints {
        None => Mode::Explicit,
        Some(checkpoints) => Mode::Checkpointed { checkpoints },
    };
    let mut ws = OdeWorkspace::new(&problem, mode)?;
    let mut timings = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        ws.evaluate(&problem, &theta)?;
        timings.push(*ws.timings());
    }
    let t = median_timings(&timings);
    let stats = *ws.stats();
    let gradient_norm = adjoint::sparse::norm2(ws.gradient());
    let n_state = steps * n;
    let problem_json = json!({
        "kind": "ode",
        "problem": args.problem,
        "scheme": scheme.name(),
        "grid": grid_name,
        "steps": steps,
        "t_end": t_end,
        "first": (grid_name == "geometric").then_some(first),
        "n_per_step": n,
        "n_state": n_state,
        "n_params": n_params,
        "theta": theta,
        "u_offsets": problem.block_offsets(),
        "objective": "L = sum_k h_k l(t_k, x_k, theta) + Phi(x_K, theta)",
        "constraint": "f_k = x_k - x_{k-1} - h_k (w g(t_k, x_k) + (1 - w) g(t_{k-1}, x_{k-1})), u = [x_1; ...; x_K]",
        "solver": ws.solver_name(),
        "mode": if args.checkpoints.is_some() { "checkpointed" } else { "explicit" },
        "checkpoints": stats.checkpoints,
        "objective_value": ws.objective(),
        "gradient_norm": gradient_norm,
    });
    let mut export_note = None;
    if let Some(dir) = &args.export {
        match (ws.dfdu(), ws.dfdtheta(), ws.u(), ws.lambda(), ws.dl_du()) {
            (Some(dfdu), Some(dfdtheta), Some(u), Some(lambda), Some(dl_du)) => {
                let mut dl_dtheta = vec![0.0; n_params];
                if problem.objective_partial_theta(u, &theta, &mut dl_dtheta)? == Partial::Zero {
                    dl_dtheta.fill(0.0);
                }
                let offsets = problem.block_offsets();
                export_parts(
                    dir,
                    &Evaluation {
                        dfdu,
                        dfdtheta,
                        u,
                        lambda,
                        gradient: ws.gradient(),
                        dl_du,
                        dl_dtheta: &dl_dtheta,
                        objective: ws.objective(),
                        solver: ws.solver_name(),
                    },
                    &theta,
                    &ExportSpec {
                        inputs: &[],
                        matrices: &[],
                        problem: &problem_json,
                        u_offsets: Some(&offsets),
                        theta_offsets: None,
                        theta_block_name: "params",
                        u_block_name: "step",
                    },
                )
                .with_context(|| format!("export to {} failed", dir.display()))?;
            }
            _ => {
                export_checkpointed(dir, &theta, ws.gradient(), &problem_json, &stats)
                    .with_context(|| format!("export to {} failed", dir.display()))?;
                export_note = Some("checkpointed mode: θ, the gradient, problem.json and summary.md only (the matrices are not held)");
            }
        }
    }
    if args.json {
        let out = json!({
            "problem": args.problem,
            "mode": if args.checkpoints.is_some() { "checkpointed" } else { "explicit" },
            "export_holds_matrices": args.export.as_ref().map(|_| export_note.is_none()),
            "scheme": scheme.name(),
            "grid": grid_name,
            "steps": steps,
            "t_end": t_end,
            "n": n,
            "n_state": n_state,
            "n_params": n_params,
            "objective": ws.objective(),
            "gradient": ws.gradient(),
            "gradient_norm": gradient_norm,
            "solver": ws.solver_name(),
            "newton_iterations": stats.newton_iterations,
            "checkpoints": stats.checkpoints,
            "recomputed_steps": stats.recomputed_steps,
            "peak_state_memory_bytes": stats.peak_state_memory_bytes,
            "dfdu": ws.dfdu().map(shape_json),
            "dfdtheta": ws.dfdtheta().map(shape_json),
            "repeat": args.repeat,
            "timings_ms": timings_json(&t),
            "export": args.export.as_ref().map(|d| d.display().to_string()),
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "ode {}: {} on a {grid_name} grid, K = {steps} step{} on [0, {}], n = {n} per step",
        args.problem,
        scheme.name(),
        if steps == 1 { "" } else { "s" },
        super::report::num(t_end)
    );
    println!("  state u = [x_1; …; x_K]: {n_state}, parameters θ: {n_params}");
    match (ws.dfdu(), ws.dfdtheta()) {
        (Some(a), Some(b)) => {
            println!(
                "  ∂f/∂u: {}×{}, {} stored entries, {steps} diagonal block{}",
                a.rows(),
                a.cols(),
                a.nnz(),
                if steps == 1 { "" } else { "s" }
            );
            println!(
                "  ∂f/∂θ: {}×{}, {} stored entries",
                b.rows(),
                b.cols(),
                b.nnz()
            );
        }
        _ => println!(
            "  checkpointed: {} stored states, {} steps recomputed",
            stats.checkpoints, stats.recomputed_steps
        ),
    }
    println!(
        "  solver: {}, Newton iterations: {}",
        ws.solver_name(),
        stats.newton_iterations
    );
    println!(
        "  peak state memory: {} bytes",
        stats.peak_state_memory_bytes
    );
    println!("  objective L = {:.12e}", ws.objective());
    if n_params <= 8 {
        let g: Vec<String> = ws.gradient().iter().map(|g| format!("{g:.10e}")).collect();
        println!("  dL/dθ = ({})", g.join(", "));
    }
    println!("  ‖dL/dθ‖₂ = {gradient_norm:.12e}");
    println!("  {}", timings_text(&t, args.repeat));
    if let Some(dir) = &args.export {
        match export_note {
            Some(note) => println!("  exported to {} ({note})", dir.display()),
            None => println!("  exported to {}", dir.display()),
        }
    }
    Ok(())
}

/// The export of the checkpointed mode: θ, the gradient, problem.json and summary.md.
fn export_checkpointed(
    dir: &std::path::Path,
    theta: &[f64],
    gradient: &[f64],
    problem: &serde_json::Value,
    stats: &adjoint::problems::ode::OdeStats,
) -> adjoint::Result<()> {
    let folder = adjoint::folder::FolderWriter::begin(dir)?;
    let tmp = folder.path().to_path_buf();
    adjoint::mtx::write_vector(tmp.join("theta.mtx"), theta, " theta: the parameters")?;
    adjoint::mtx::write_vector(
        tmp.join("gradient.mtx"),
        gradient,
        " gradient: (dL/dtheta)^T by the checkpointed adjoint sweep",
    )?;
    let mut text = serde_json::to_string_pretty(problem).expect("JSON value");
    text.push('\n');
    adjoint::mtx::write_atomic(tmp.join("problem.json"), text.as_bytes())?;
    let summary = format!(
        "# Export: ode (checkpointed mode)\n\n\
         The checkpointed mode had {} checkpoint slots and three working states ({} bytes of \
         states at most) and recomputed {} steps; it does not hold the matrices, so this folder \
         has theta.mtx, gradient.mtx and problem.json only. Run without --checkpoints for \
         dfdu.mtx, dfdtheta.mtx, u, lambda and the spy plots.\n",
        stats.checkpoints, stats.peak_state_memory_bytes, stats.recomputed_steps
    );
    adjoint::mtx::write_atomic(tmp.join("summary.md"), summary.as_bytes())?;
    folder.commit()
}
