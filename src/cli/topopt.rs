//! `adjoint topopt`: the MBB beam of the 88-line code.

use super::report::{ms, shape_json};
use super::TopoptArgs;
use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::problems::topopt::{optimize, FilterKind, MbbBeam, OcOptions, PhaseTimes};
use adjoint::{AdjointWorkspace, SolverKind};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::time::Duration;

/// Bytes per dof, a generous bound: K and ∂f/∂θ with their patterns, the factor's fill under
/// a fill-reducing ordering, the vectors and the filter.
const BYTES_PER_DOF: f64 = 2500.0;

pub fn run(args: &TopoptArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.export {
        adjoint::folder::check_target(dir)
            .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    let solver: SolverKind = args.solver.parse()?;
    let dofs = 2.0 * (args.nelx as f64 + 1.0) * (args.nely as f64 + 1.0);
    super::report::ensure_memory(
        &format!("--nelx {} --nely {}", args.nelx, args.nely),
        BYTES_PER_DOF * dofs,
    )?;
    let beam = MbbBeam::new(args.nelx, args.nely, args.penal)?;
    let options = OcOptions {
        volfrac: args.volfrac,
        rmin: args.rmin,
        filter: FilterKind::from_ft(args.ft)?,
        maxit: args.maxit,
        solver: solver.into(),
    };
    let visible = !args.json && std::io::stdout().is_terminal();
    let bar = if visible {
        ProgressBar::new(args.maxit as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix("topopt");
    let result = optimize(&beam, &options, |it| {
        bar.set_position(it.index as u64 + 1);
        bar.set_message(format!(
            "it {:4}  c = {:.4}  vol = {:.3}  ch = {:.3}",
            it.index + 1,
            it.compliance,
            it.volume,
            it.change
        ));
    });
    bar.finish_and_clear();
    let result = result?;
    anyhow::ensure!(
        result.compliance().is_finite(),
        "the compliance is not finite ({})",
        result.compliance()
    );

    let median = |f: fn(&PhaseTimes) -> Duration| {
        let mut v: Vec<Duration> = result.times.iter().map(f).collect();
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    let timings = json!({
        "assemble": ms(median(|t| t.assemble)),
        "factor": ms(median(|t| t.factor)),
        "solve": ms(median(|t| t.solve)),
        "sensitivity": ms(median(|t| t.sensitivity)),
        "filter": ms(median(|t| t.filter)),
        "update": ms(median(|t| t.update)),
        "total": ms(median(|t| t.total)),
    });

    // the final design, evaluated once more for the export
    let mut ws = AdjointWorkspace::new(&beam, solver)?;
    if let Some(dir) = &args.export {
        ws.evaluate(&beam, &result.x_phys)?;
        let problem_json = json!({
            "kind": "topopt",
            "problem": "mbb-beam",
            "nelx": args.nelx,
            "nely": args.nely,
            "volfrac": args.volfrac,
            "penal": args.penal,
            "rmin": args.rmin,
            "ft": args.ft,
            "n_dofs": beam.n_dofs(),
            "n_state": beam.n_state_dofs(),
            "n_elements": beam.n_elements(),
            "n_params": beam.n_elements(),
            "objective": "L = F^T u (compliance)",
            "constraint": "K(x) u = F on the free dofs, E(x) = Emin + x^p (E0 - Emin)",
            "solver": ws.solver().name(),
            "objective_value": ws.objective(),
            "gradient_norm": ws.gradient_norm(),
        });
        export_evaluation(
            dir,
            &ws,
            &result.x_phys,
            &ExportSpec {
                inputs: &[("density", &result.x_phys), ("F", beam.load())],
                matrices: &[],
                problem: &problem_json,
                u_offsets: None,
                theta_offsets: None,
                theta_block_name: "element",
                u_block_name: "layer",
            },
        )
        .with_context(|| format!("export to {} failed", dir.display()))?;
        write_picture(
            &beam,
            &result.x_phys,
            ws.objective(),
            &dir.join("density.png"),
        )
        .with_context(|| format!("export to {} failed", dir.display()))?;
    }
    if let Some(path) = &args.picture {
        write_picture(&beam, &result.x_phys, result.compliance(), path)?;
    }

    if args.json {
        let out = json!({
            "problem": "topopt",
            "compliance": result.history.iter().map(|i| i.compliance).collect::<Vec<_>>(),
            "volume": result.history.iter().map(|i| i.volume).collect::<Vec<_>>(),
            "change": result.history.iter().map(|i| i.change).collect::<Vec<_>>(),
            "iterations": result.iterations(),
            "seconds_per_iteration": result.seconds_per_iteration(),
            "setup_seconds": result.setup.as_secs_f64(),
            "solver": result.solver,
            "n_dofs": beam.n_dofs(),
            "n_state": beam.n_state_dofs(),
            "n_elements": beam.n_elements(),
            "n_params": beam.n_elements(),
            "timings_ms": timings,
            "dfdu": args.export.as_ref().map(|_| shape_json(ws.dfdu())),
            "export": args.export.as_ref().map(|d| d.display().to_string()),
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "topopt: MBB beam {} × {} (volfrac {}, p = {}, rmin = {}, ft = {})",
        args.nelx, args.nely, args.volfrac, args.penal, args.rmin, args.ft
    );
    println!(
        "  dofs {} ({} free), elements {}, solver {}",
        beam.n_dofs(),
        beam.n_state_dofs(),
        beam.n_elements(),
        result.solver
    );
    let last = result.history.last().expect("at least one iteration");
    println!(
        "  {} iterations: compliance {:.4}, volume {:.4}, change {:.4}",
        result.iterations(),
        last.compliance,
        last.volume,
        last.change
    );
    println!(
        "  {:.2} ms per iteration (median: assemble {:.2}, factor {:.2}, solve {:.2}, sensitivity {:.2}, filter {:.2}, update {:.2})",
        1e3 * result.seconds_per_iteration(),
        ms(median(|t| t.assemble)),
        ms(median(|t| t.factor)),
        ms(median(|t| t.solve)),
        ms(median(|t| t.sensitivity)),
        ms(median(|t| t.filter)),
        ms(median(|t| t.update)),
    );
    if let Some(dir) = &args.export {
        println!("  exported to {}", dir.display());
    }
    if let Some(path) = &args.picture {
        println!("  density picture: {}", path.display());
    }
    Ok(())
}

fn write_picture(
    beam: &MbbBeam,
    x: &[f64],
    compliance: f64,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let volume = x.iter().sum::<f64>() / x.len() as f64;
    let title = format!(
        "MBB beam {} × {}: compliance {:.4}, volume {:.3}",
        beam.nelx(),
        beam.nely(),
        compliance,
        volume
    );
    adjoint::problems::topopt::picture::write_density(x, beam.nelx(), beam.nely(), &title, path)?;
    Ok(())
}
