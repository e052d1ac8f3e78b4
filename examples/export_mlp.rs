//! The seed's network as an equality constraint: assemble L and Mᵀ = D K, check the DAG
//! property block by block, export everything (with D and K) and say how to load it.
//!
//! `cargo run --release --example export_mlp [OUT_DIR]`

use adjoint::dag::check_dag;
use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::{AdjointWorkspace, SolverKind};
use std::path::PathBuf;

fn main() -> adjoint::Result<()> {
    let out: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "out/mlp".into())
        .into();
    let (mlp, theta) = Mlp::random(
        &[50, 40, 30, 20, 10, 1],
        Activation::ExpNeg,
        Target::Scalar(3.0),
        0.0,
        0,
    )?;
    let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto)?;
    let objective = ws.evaluate(&mlp, &theta)?;
    let report = check_dag(ws.dfdu().view(), Some(mlp.layout().u_offsets()))?;
    println!(
        "L = {objective:.6e}; ∂f/∂u is {}×{} with {} entries, a DAG with {} levels (solver: {})",
        ws.dfdu().rows(),
        ws.dfdu().cols(),
        ws.dfdu().nnz(),
        report.levels,
        ws.solver().name()
    );
    if let Some(blocks) = &report.blocks {
        println!(
            "block dependencies {:?}, diagonal blocks {:?}",
            blocks.edges, blocks.diagonal
        );
    }
    let d = mlp.assemble_d(ws.u());
    let k = mlp.assemble_k(ws.u());
    let mut problem_json = adjoint::io::mlp_json(&mlp);
    problem_json["seed"] = 0.into();
    let spec = ExportSpec {
        inputs: &[("u0", mlp.u0())],
        matrices: &[("D", &d), ("K", &k)],
        problem: &problem_json,
        u_offsets: Some(mlp.layout().u_offsets()),
        theta_offsets: Some(mlp.layout().theta_offsets()),
        theta_block_name: "params of layer",
        u_block_name: "layer",
    };
    let files = export_evaluation(&out, &ws, &theta, &spec)?;
    println!("wrote {} files to {}", files.len(), out.display());
    println!("\nPython:  import scipy.io as sio; L = sio.mmread('{}/dfdu.mtx'); Mt = sio.mmread('{0}/D.mtx') @ sio.mmread('{0}/K.mtx')", out.display());
    println!(
        "Julia:   using MatrixMarket; L = MatrixMarket.mmread(\"{}/dfdu.mtx\")",
        out.display()
    );
    println!(
        "Check:   adjoint inspect {}/dfdu.mtx --blocks 40,30,20,10,1 --require-dag",
        out.display()
    );
    Ok(())
}
