//! Build the seed's tridiagonal problem, check the adjoint equation, export every matrix and
//! vector for Python, Julia or MATLAB, and say how to load them.
//!
//! `cargo run --release --example export_tridiagonal [OUT_DIR]`

use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, SolverKind};
use std::path::PathBuf;

fn main() -> adjoint::Result<()> {
    let out: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "out/tridiagonal".into())
        .into();
    let (problem, theta) = Tridiagonal::random(100, 0)?;
    let mut ws = AdjointWorkspace::new(&problem, SolverKind::Auto)?;
    let objective = ws.evaluate(&problem, &theta)?;

    // (∂f/∂u)ᵀ λ + (∂L/∂u)ᵀ should vanish
    let mut residual = ws.dl_du().to_vec();
    for (&v, (i, j)) in ws.dfdu().iter() {
        residual[j] += v * ws.lambda()[i];
    }
    let worst = residual.iter().fold(0.0f64, |m, r| m.max(r.abs()));
    println!(
        "n = 100, L = {objective:.6e}, solver {}, adjoint residual {worst:.1e}",
        ws.solver().name()
    );

    let problem_json = serde_json::json!({"kind": "tridiagonal", "n": 100, "n_state": 100, "n_params": 199, "seed": 0});
    let spec = ExportSpec {
        inputs: &[("c", problem.c()), ("b", problem.b())],
        matrices: &[],
        problem: &problem_json,
        u_offsets: None,
        theta_offsets: None,
        theta_block_name: "params of layer",
        u_block_name: "layer",
    };
    let files = export_evaluation(&out, &ws, &theta, &spec)?;
    println!("wrote {} files to {}:", files.len(), out.display());
    for f in &files {
        println!("  {}", f.display());
    }
    println!(
        "\nPython:  import scipy.io as sio; J = sio.mmread('{}/dfdu.mtx').tocsc()",
        out.display()
    );
    println!(
        "Julia:   using MatrixMarket; J = MatrixMarket.mmread(\"{}/dfdu.mtx\")",
        out.display()
    );
    println!("MATLAB:  J = mmread('{}/dfdu.mtx');", out.display());
    Ok(())
}
