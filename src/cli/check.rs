//! `adjoint check tridiagonal|mlp`: partials against dual numbers (or finite differences),
//! the Taylor test, and forward sensitivities against the adjoint.

use super::{CheckArgs, CheckOpts, CheckTarget};
use adjoint::check::{
    check_partials, check_partials_fd, compare_with_derived, forward_sensitivity_gradient,
    taylor_test, PartialsReport,
};
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointProblem, AdjointWorkspace, AsModel, Derived, Residual, SolverKind};
use anyhow::{bail, Context};
use serde_json::json;

/// Largest `n_u + n_θ` the column-by-column check accepts (each column costs one residual
/// evaluation, so the check is quadratic in the problem size).
const MAX_COLUMNS: usize = 200_000;

/// Largest relative difference between the hand-written Jacobians and objective partials
/// and those derived from the model (both are exact to rounding; the tests hold 1e-14).
const DERIVED_TOLERANCE: f64 = 1e-12;

fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    let d = adjoint::sparse::distance2(a, b);
    let s = adjoint::sparse::norm2(b);
    if s == 0.0 {
        d
    } else {
        d / s
    }
}

fn run_checks<P: AdjointProblem + Residual + AsModel>(
    name: &str,
    p: &P,
    theta: &[f64],
    opts: &CheckOpts,
) -> anyhow::Result<()> {
    let columns = p.n_state() + p.n_params();
    if columns > MAX_COLUMNS {
        bail!(
            "{name} is too large to check column by column: n_u + n_θ = {columns} evaluations of the residual \
             (at most {MAX_COLUMNS}); check a smaller instance of the same problem"
        );
    }
    let t = std::time::Instant::now();
    let partials: PartialsReport = match opts.fd_step {
        Some(h) => check_partials_fd(p, theta, h)?,
        None => check_partials(p, theta)?,
    };
    // a fixed, platform-independent direction, scaled to θ (a step of 1 on θ ≈ 10¹⁵⁰ would
    // change nothing)
    let delta: Vec<f64> = (0..theta.len())
        .map(|k| (((k * 7919) % 17) as f64 / 8.0 - 1.0) * theta[k].abs().max(1.0))
        .collect();
    let taylor = taylor_test(p, theta, &delta, opts.taylor_h, 5)
        .with_context(|| format!("Taylor test from h = {}", opts.taylor_h))?;
    let mut ws = AdjointWorkspace::new(p, SolverKind::Auto)?;
    ws.evaluate(p, theta)?;
    let sensitivity = rel_diff(&forward_sensitivity_gradient(&mut ws)?, ws.gradient());
    // the hand-written fast path against the Jacobians derived from the problem's model
    let derived = compare_with_derived(p, &Derived::new(p.model())?, ws.u(), theta)?;
    let derived_ok = derived.passes(DERIVED_TOLERANCE);
    let elapsed = t.elapsed().as_secs_f64();
    let ok = partials.passes() && taylor.passes() && sensitivity <= 1e-10 && derived_ok;
    if opts.json {
        let entry = |m: &adjoint::check::Mismatch| json!({"row": m.row, "col": m.col, "assembled": m.assembled, "reference": m.reference, "error": m.error});
        let part = |c: &adjoint::check::ComparedPart| {
            json!({
                "max_error": c.max_error,
                "worst": c.worst.iter().map(entry).collect::<Vec<_>>(),
                "missing": c.missing.iter().map(entry).collect::<Vec<_>>(),
                "passes": c.passes(partials.tolerance),
            })
        };
        println!(
            "{}",
            json!({
                "problem": name,
                "n_state": ws.u().len(),
                "n_params": theta.len(),
                "partials": {
                    "reference": match partials.reference { adjoint::check::Reference::Dual => "dual".to_string(), adjoint::check::Reference::FiniteDifferences(h) => format!("fd:{h}") },
                    "tolerance": partials.tolerance,
                    "dfdu": part(&partials.dfdu), "dfdtheta": part(&partials.dfdtheta),
                    "dLdu": part(&partials.dl_du), "dLdtheta": part(&partials.dl_dtheta),
                    "passes": partials.passes(),
                },
                "taylor": {"steps": taylor.steps, "remainders": taylor.remainders, "orders": taylor.orders, "passes": taylor.passes()},
                "forward_sensitivity_relative_difference": sensitivity,
                "derived": {
                    "same_patterns": derived.dfdu_same_pattern && derived.dfdtheta_same_pattern,
                    "dfdu_difference": derived.dfdu_difference,
                    "dfdtheta_difference": derived.dfdtheta_difference,
                    "objective_difference": derived.objective_difference,
                    "tolerance": DERIVED_TOLERANCE,
                    "passes": derived_ok,
                },
                "passes": ok,
                "seconds": elapsed,
            })
        );
    } else {
        println!(
            "check {name}: n_u = {}, n_θ = {}",
            ws.u().len(),
            theta.len()
        );
        print!(
            "{}",
            partials
                .to_text()
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        );
        let orders: Vec<String> = taylor.orders.iter().map(|o| format!("{o:.3}")).collect();
        println!(
            "  Taylor test (h = {:e} … {:e}): orders {} — {}",
            taylor.steps[0],
            taylor.steps[taylor.steps.len() - 1],
            orders.join(", "),
            if taylor.passes() {
                "ok (≈ 2)"
            } else {
                "FAILED (a correct gradient gives ≈ 2)"
            }
        );
        println!(
            "  forward sensitivities du/dθ = −(∂f/∂u)⁻¹ ∂f/∂θ vs adjoint: relative difference {sensitivity:.1e} — {}",
            if sensitivity <= 1e-10 { "ok" } else { "FAILED" }
        );
        let worst = derived
            .dfdu_difference
            .max(derived.dfdtheta_difference)
            .max(derived.objective_difference);
        println!(
            "  hand-written vs derived from the model: {}, max relative difference {worst:.1e} — {}",
            if derived.dfdu_same_pattern && derived.dfdtheta_same_pattern {
                "patterns identical"
            } else {
                "patterns DIFFER"
            },
            if derived_ok { "ok" } else { "FAILED" }
        );
        println!(
            "  {} in {elapsed:.3} s",
            if ok {
                "all checks passed"
            } else {
                "checks FAILED"
            }
        );
    }
    if !ok {
        bail!("check of {name} failed (see the report above)");
    }
    Ok(())
}

pub fn run(args: &CheckArgs) -> anyhow::Result<()> {
    match &args.target {
        CheckTarget::Tridiagonal {
            n,
            seed,
            from,
            opts,
        } => {
            let (p, theta) = match from {
                Some(dir) => adjoint::io::read_tridiagonal(dir)?,
                None => Tridiagonal::random(*n, *seed)?,
            };
            run_checks("tridiagonal", &p, &theta, opts)
        }
        CheckTarget::Mlp {
            layers,
            activation,
            target,
            reg,
            seed,
            from,
            opts,
        } => {
            let (mlp, theta) = match from {
                Some(dir) => adjoint::io::read_mlp(dir)?,
                None => {
                    let layers: Vec<usize> = layers
                        .split(',')
                        .map(|s| {
                            s.trim().parse().map_err(|_| {
                                anyhow::anyhow!(
                                    "invalid --layers {layers:?}: {s:?} is not a layer size"
                                )
                            })
                        })
                        .collect::<anyhow::Result<_>>()?;
                    let activation: Activation = activation.parse()?;
                    let y: f64 = target.parse().map_err(|_| {
                        anyhow::anyhow!("invalid --target {target:?}: not a number")
                    })?;
                    Mlp::random(&layers, activation, Target::Scalar(y), *reg, *seed)?
                }
            };
            run_checks("mlp", &mlp, &theta, opts)
        }
    }
}
