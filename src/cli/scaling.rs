//! `adjoint scaling`: the adjoint gradient against forward sensitivities, dual numbers and
//! finite differences, on growing problems; a table, fitted slopes, log-log plots.

use super::ScalingArgs;
use adjoint::export::prepare_dir;
mod study;

use serde_json::json;
use std::time::Duration;
use study::{fit_slope, study, write_plot, Method};

pub fn run(args: &ScalingArgs) -> anyhow::Result<()> {
    // refuse an unusable --out before the study; create it only when the plots are written
    if args.out.exists() && !args.out.is_dir() {
        anyhow::bail!("{}: exists and is not a folder", args.out.display());
    }
    adjoint::folder::check_parent(&args.out)?;
    let t = std::time::Instant::now();
    if !args.json {
        println!(
            "{:<12} {:<22} {:>8} {:>10} {:>12}",
            "family", "method", "size", "n_θ", "seconds"
        );
    }
    let samples = study(Duration::from_secs_f64(args.budget), |s| {
        if !args.json {
            println!(
                "{:<12} {:<22} {:>8} {:>10} {:>12.3e}",
                s.family,
                s.method.name(),
                s.size,
                s.n_params,
                s.seconds
            );
        }
    })?;
    let mut slopes = Vec::new();
    prepare_dir(&args.out)?;
    for family in ["tridiagonal", "network"] {
        for m in Method::ALL {
            slopes.push((family, m, fit_slope(&samples, family, m, 1e-4)));
        }
        for ext in ["svg", "png"] {
            write_plot(
                &samples,
                family,
                &args.out.join(format!("scaling-{family}.{ext}")),
            )?;
        }
    }
    if args.json {
        let rows: Vec<_> = samples
            .iter()
            .map(|s| json!({"family": s.family, "method": s.method.name(), "size": s.size, "n_params": s.n_params, "seconds": s.seconds}))
            .collect();
        let fits: Vec<_> = slopes
            .iter()
            .map(|(f, m, p)| json!({"family": f, "method": m.name(), "slope": p}))
            .collect();
        println!(
            "{}",
            json!({"samples": rows, "slopes": fits, "budget_seconds": args.budget, "seconds": t.elapsed().as_secs_f64()})
        );
        return Ok(());
    }
    println!("\nfitted slopes of log(time) against log(n_θ) (samples ≥ 0.1 ms):");
    for (family, m, p) in &slopes {
        println!(
            "  {family:<12} {:<22} {}",
            m.name(),
            p.map_or("—".into(), |p| format!("{p:.2}"))
        );
    }
    println!(
        "plots: {}/scaling-tridiagonal.svg|png, {}/scaling-network.svg|png ({:.0} s in all)",
        args.out.display(),
        args.out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
