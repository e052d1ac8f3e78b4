//! `adjoint mlp`: the network as an equality constraint, gradient by either path, training.

use super::report::{median_timings, ms, shape_json, timings_json, timings_text};
use super::MlpArgs;
use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::problems::mlp::fast::MlpGradient;
use adjoint::problems::mlp::train::{gradient_descent, GradientPath, TrainReport};
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::{AdjointWorkspace, SolverKind, Timings};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// `"50,40,30"` → `[50, 40, 30]`, with one clear error for garbage.
fn parse_layers(s: &str) -> anyhow::Result<Vec<usize>> {
    s.split(',')
        .map(|p| {
            p.trim().parse::<usize>().map_err(|_| {
                anyhow::anyhow!("invalid --layers {s:?}: {:?} is not a layer size", p.trim())
            })
        })
        .collect()
}

/// `"3.0"` → a scalar target, `"0.5,1,2"` → a vector.
fn parse_target(s: &str) -> anyhow::Result<Target> {
    let values: Vec<f64> = s
        .split(',')
        .map(|p| {
            p.trim().parse::<f64>().map_err(|_| {
                anyhow::anyhow!("invalid --target {s:?}: {:?} is not a number", p.trim())
            })
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        bail!("invalid --target: {v} is not finite");
    }
    Ok(if values.len() == 1 {
        Target::Scalar(values[0])
    } else {
        Target::Vector(values)
    })
}

fn build(args: &MlpArgs) -> anyhow::Result<(Mlp, Vec<f64>, serde_json::Value)> {
    match &args.from {
        Some(dir) => {
            let (mlp, theta) = adjoint::io::read_mlp(dir)?;
            Ok((mlp, theta, json!(null)))
        }
        None => {
            let layers = parse_layers(&args.layers)?;
            // θ, the gradient, ∂f/∂θ (value + index) and L: about 60 bytes per parameter
            let n_params: f64 = layers
                .windows(2)
                .map(|w| (w[1] as f64) * (w[0] as f64 + 1.0))
                .sum();
            super::report::ensure_memory(&format!("--layers {}", args.layers), 60.0 * n_params)?;
            let activation: Activation = args.activation.parse()?;
            let target = parse_target(&args.target)?;
            let outputs = layers.last().copied().unwrap_or(0);
            if let Target::Vector(v) = &target {
                if v.len() != outputs {
                    return Err(super::Usage(format!(
                        "invalid --target: {} values for {outputs} outputs (--layers {})",
                        v.len(),
                        args.layers
                    ))
                    .into());
                }
            }
            let (mlp, theta) = Mlp::random(&layers, activation, target, args.reg, args.seed)?;
            Ok((mlp, theta, json!(args.seed)))
        }
    }
}

fn train(
    args: &MlpArgs,
    mlp: &Mlp,
    theta: &mut [f64],
    path: GradientPath,
) -> anyhow::Result<Option<TrainReport>> {
    if args.train == 0 {
        return Ok(None);
    }
    let visible = !args.json && std::io::stdout().is_terminal();
    let bar = if visible {
        ProgressBar::new(args.train as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("training {bar:40} {pos}/{len} L = {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = gradient_descent(mlp, theta, args.lr, args.train, path, |k, l| {
        if k % 16 == 0 || k + 1 == args.train {
            bar.set_position(k as u64 + 1);
            bar.set_message(format!("{l:.6e}"));
        }
    })?;
    bar.finish_and_clear();
    Ok(Some(report))
}

/// Timings of one fast-path evaluation: the forward pass is the state solve; the backward
/// sweep (adjoint and gradient fused) is reported as `adjoint_solve`.
fn fast_timings(g: &mut MlpGradient, mlp: &Mlp, theta: &[f64]) -> anyhow::Result<Timings> {
    let t = Instant::now();
    g.forward(mlp, theta)?;
    let forward = t.elapsed();
    let t = Instant::now();
    g.evaluate(mlp, theta)?;
    let total = t.elapsed();
    Ok(Timings {
        state_solve: forward,
        assemble: Duration::ZERO,
        factor: Duration::ZERO,
        adjoint_solve: total.saturating_sub(forward),
        gradient: Duration::ZERO,
        total,
    })
}

pub fn run(args: &MlpArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.export {
        // refuse an unusable target before any work
        adjoint::folder::check_target(dir)
            .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    let path: GradientPath = args.path.parse()?;
    let (mlp, mut theta, seed) = build(args)?;
    let train_report = train(args, &mlp, &mut theta, path)?;

    // The explicit engine always runs once: it owns the matrices that are reported/exported.
    let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto)?;
    ws.evaluate(&mlp, &theta)?;
    let mut fast = MlpGradient::new(&mlp);
    let mut timings = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        match path {
            GradientPath::Explicit => {
                ws.evaluate(&mlp, &theta)?;
                timings.push(*ws.timings());
            }
            GradientPath::Fast => timings.push(fast_timings(&mut fast, &mlp, &theta)?),
        }
    }
    let t = median_timings(&timings);
    let (objective, gradient_norm) = match path {
        GradientPath::Explicit => (ws.objective(), ws.gradient_norm()),
        GradientPath::Fast => (fast.objective(), fast.gradient_norm()),
    };
    let lay = mlp.layout();
    let out = &ws.u()[lay.state_range(lay.n_layers() - 1)];
    let output_error = adjoint::sparse::distance2(out, mlp.y());
    let path_name = match path {
        GradientPath::Fast => "fast",
        GradientPath::Explicit => "explicit",
    };
    let solver = match path {
        GradientPath::Fast => "block back-substitution",
        GradientPath::Explicit => ws.solver().name(),
    };

    if let Some(dir) = &args.export {
        let mut problem_json = adjoint::io::mlp_json(&mlp);
        problem_json["seed"] = seed.clone();
        problem_json["objective_value"] = json!(ws.objective());
        problem_json["gradient_norm"] = json!(ws.gradient_norm());
        problem_json["solver"] = json!(ws.solver().name());
        let d = mlp.assemble_d(ws.u());
        let k = mlp.assemble_k(ws.u());
        let spec = ExportSpec {
            inputs: &[("u0", mlp.u0())],
            matrices: &[("D", &d), ("K", &k)],
            problem: &problem_json,
            u_offsets: Some(lay.u_offsets()),
            theta_offsets: Some(lay.theta_offsets()),
            theta_block_name: "params of layer",
            u_block_name: "layer",
        };
        export_evaluation(dir, &ws, &theta, &spec)
            .with_context(|| format!("export to {} failed", dir.display()))?;
    }

    if args.json {
        let mut out_json = json!({
            "problem": "mlp",
            "layers": lay.layers(),
            "activation": mlp.activation().name(),
            "y": mlp.target().to_json(),
            "regularization": mlp.regularization(),
            "seed": seed,
            "n_state": lay.n_state(),
            "n_params": lay.n_params(),
            "objective": objective,
            "gradient_norm": gradient_norm,
            "output": out,
            "output_error": output_error,
            "path": path_name,
            "solver": solver,
            "dfdu": shape_json(ws.dfdu()),
            "dfdtheta": shape_json(ws.dfdtheta()),
            "repeat": args.repeat,
            "timings_ms": timings_json(&t),
            "export": args.export.as_ref().map(|d| d.display().to_string()),
        });
        if let Some(r) = train_report {
            out_json["train"] = json!({
                "iterations": r.iterations,
                "objective": r.objective,
                "output_error": r.output_error,
                "gradient_norm": r.gradient_norm,
                "learning_rate": args.lr,
            });
        }
        println!("{out_json}");
        return Ok(());
    }

    let layers: Vec<String> = lay.layers().iter().map(|n| n.to_string()).collect();
    println!(
        "mlp: layers {} ({}), L = ‖u_N − y‖² + {}‖θ‖², y = {}",
        layers.join("-"),
        mlp.activation(),
        super::report::num(mlp.regularization()),
        mlp.target().to_json()
    );
    println!(
        "  state u: {}, parameters θ: {}",
        lay.n_state(),
        lay.n_params()
    );
    println!(
        "  ∂f/∂u = L: {}×{}, {} stored entries (identity diagonal blocks); ∂f/∂θ = −Mᵀ: {}×{}, {} stored entries",
        ws.dfdu().rows(),
        ws.dfdu().cols(),
        ws.dfdu().nnz(),
        ws.dfdtheta().rows(),
        ws.dfdtheta().cols(),
        ws.dfdtheta().nnz()
    );
    if let Some(r) = train_report {
        println!(
            "  trained {} iterations (η = {}): L = {:.6e}, |u_N − y| = {:.3e}, ‖∇L‖₂ = {:.3e}",
            r.iterations, args.lr, r.objective, r.output_error, r.gradient_norm
        );
    }
    println!("  path {path_name} ({solver}): L = {objective:.12e}, ‖dL/dθ‖₂ = {gradient_norm:.6e}");
    println!("  output u_N = {:?}, |u_N − y| = {output_error:.3e}", out);
    println!("  {}", timings_text(&t, args.repeat));
    if path == GradientPath::Fast {
        println!("  (fast path: state solve = forward pass, adjoint solve = backward sweep with the gradient; {:.3} ms)", ms(t.total));
    }
    if let Some(dir) = &args.export {
        println!("  exported to {}", dir.display());
    }
    Ok(())
}
