//! `adjoint mlp --network FILE.json`: general layered networks (skip connections, residual
//! connections, shared parameter groups) through the explicit engine.

use super::report::{median_timings, shape_json, timings_json, timings_text};
use super::MlpArgs;
use adjoint::descent::{gradient_descent, EngineGradient};
use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::problems::network::{Network, NetworkFile};
use anyhow::Context;
use serde_json::json;
use std::path::Path;

/// Where the network comes from.
pub enum Source<'a> {
    /// A network file (random θ and u_0 from `--seed`).
    File(&'a Path),
    /// An export folder (its problem.json, theta.mtx and u0.mtx).
    Export(&'a Path),
}

impl Source<'_> {
    fn display(&self) -> String {
        match self {
            Source::File(p) | Source::Export(p) => p.display().to_string(),
        }
    }
}

pub fn run(args: &MlpArgs, path: Source) -> anyhow::Result<()> {
    if let Some(dir) = &args.export {
        // refuse an unusable target before any work
        adjoint::folder::check_target(dir)
            .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    if args.path == "fast" && args.path_given {
        let message = "--path fast handles plain layer chains only; a network uses the explicit engine (--path explicit)";
        return Err(match path {
            // the command line alone says so
            Source::File(_) => super::Usage(message.into()).into(),
            // an export folder's problem.json says so
            Source::Export(dir) => anyhow::anyhow!("{}: {message}", dir.display()),
        });
    }
    let mut defaults = Vec::new();
    let (net, mut theta) = match path {
        Source::File(path) => {
            let file = NetworkFile::read(path)?;
            super::report::ensure_memory(&path.display().to_string(), file.estimated_bytes())?;
            // keys left out take defaults: say so in the report
            for (key, missing) in [
                ("activation", file.activation.is_none()),
                ("y", file.y.is_none()),
                ("regularization", file.regularization.is_none()),
            ] {
                if missing {
                    defaults.push(key);
                }
            }
            Network::random(&file, args.seed).map_err(|e| match e {
                adjoint::Error::OutOfMemory { .. } => anyhow::Error::from(e),
                e => anyhow::anyhow!("{}: {e}", path.display()),
            })?
        }
        Source::Export(dir) => adjoint::io::read_network(dir)?,
    };
    let mut engine = EngineGradient::new(&net)?;
    if args.train > 0 {
        gradient_descent(&mut engine, &mut theta, args.lr, args.train, |_, _| {})?;
    }
    let ws = engine.workspace_mut();
    let mut timings = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        ws.evaluate(&net, &theta)
            .map_err(|e| adjoint::descent::diverged_at(args.train, e))?;
        timings.push(*ws.timings());
    }
    let t = median_timings(&timings);
    if let Some(dir) = &args.export {
        let mut problem_json = adjoint::io::network_json(&net);
        problem_json["seed"] = json!(args.seed);
        let spec = ExportSpec {
            inputs: &[("u0", net.u0())],
            matrices: &[],
            problem: &problem_json,
            u_offsets: Some(net.u_offsets()),
            theta_offsets: Some(net.theta_offsets()),
            theta_block_name: "group",
            u_block_name: "layer",
        };
        export_evaluation(dir, ws, &theta, &spec)
            .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    if args.json {
        let mut out = json!({
            "problem": "network",
            "layers": net.layers().len(),
            "n_state": ws.u().len(),
            "n_params": theta.len(),
            "objective": ws.objective(),
            "gradient_norm": ws.gradient_norm(),
            "path": "explicit",
            "solver": ws.solver().name(),
            "dfdu": shape_json(ws.dfdu()),
            "dfdtheta": shape_json(ws.dfdtheta()),
            "repeat": args.repeat,
            "timings_ms": timings_json(&t),
            "export": args.export.as_ref().map(|d| d.display().to_string()),
            "defaults": defaults,
        });
        if args.train > 0 {
            out["train"] = json!({"iterations": args.train, "objective": ws.objective(), "gradient_norm": ws.gradient_norm()});
        }
        println!("{out}");
        return Ok(());
    }
    println!(
        "network {}: {} layers, n_u = {}, n_θ = {}",
        path.display(),
        net.layers().len(),
        ws.u().len(),
        theta.len()
    );
    println!(
        "  ∂f/∂u: {} stored entries, solver {}; ∂f/∂θ: {} stored entries",
        ws.dfdu().nnz(),
        ws.solver().name(),
        ws.dfdtheta().nnz()
    );
    if !defaults.is_empty() {
        let j = adjoint::io::network_json(&net);
        let shown: Vec<String> = defaults
            .iter()
            .map(|k| format!("{k} = {}", j.get(*k).cloned().unwrap_or_default()))
            .collect();
        println!("  defaults (not in the file): {}", shown.join(", "));
    }
    if args.train > 0 {
        println!("  trained {} iterations (η = {})", args.train, args.lr);
    }
    println!(
        "  L = {:.12e}, ‖dL/dθ‖₂ = {:.6e}",
        ws.objective(),
        ws.gradient_norm()
    );
    println!("  {}", timings_text(&t, args.repeat));
    if let Some(dir) = &args.export {
        println!("  exported to {}", dir.display());
    }
    Ok(())
}
