//! The block picture of a small residual network: which layers feed which, the identity
//! diagonal blocks, the residual connections folded into the sub-diagonal blocks, and the
//! block-diagonal ∂f/∂θ (one parameter group per layer).
//!
//! `cargo run --release --example resnet_structure [OUT_DIR]`

use adjoint::dag::check_dag;
use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::inspect::{report_text, structure_report, Blocks};
use adjoint::problems::network::{residual_layers, Network, NetworkFile};
use adjoint::spy::text_spy;
use adjoint::{AdjointWorkspace, SolverKind};
use std::path::PathBuf;

fn main() -> adjoint::Result<()> {
    let out: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "out/resnet".into())
        .into();
    // u_1 = σ(W_0 u_0 + b_0); u_i = u_{i−1} + σ(W_i u_{i−1} + b_i), i = 2…4; read-out u_5
    let file = NetworkFile {
        input: 3,
        layers: residual_layers(4, 4),
        activation: Some("tanh".into()),
        y: Some(serde_json::json!(1.0)),
        regularization: Some(0.0),
    };
    let (net, theta) = Network::random(&file, 0)?;
    let mut ws = AdjointWorkspace::new(&net, SolverKind::Auto)?;
    ws.evaluate(&net, &theta)?;
    let dag = check_dag(ws.dfdu().view(), Some(net.u_offsets()))?;
    println!(
        "residual network: {} layers, n_u = {}, n_θ = {}, solver {}",
        net.layers().len(),
        ws.u().len(),
        theta.len(),
        ws.solver().name()
    );
    println!(
        "DAG: {} levels; layer dependencies (block → block): {:?}\n",
        dag.levels,
        dag.blocks.map(|b| b.edges).unwrap_or_default()
    );
    println!("∂f/∂u (blocks = layers):");
    let layers = Blocks {
        row_name: Some("layer"),
        col_name: Some("layer"),
        ..Blocks::square(net.u_offsets())
    };
    print!("{}", report_text(&structure_report(ws.dfdu(), layers)));
    print!("{}", text_spy(ws.dfdu())?);
    println!("\n∂f/∂θ (row blocks = layers, column blocks = parameter groups):");
    let blocks = Blocks {
        rows: Some(net.u_offsets()),
        cols: Some(net.theta_offsets()),
        row_name: Some("layer"),
        col_name: Some("group"),
    };
    print!("{}", report_text(&structure_report(ws.dfdtheta(), blocks)));
    let problem = adjoint::io::network_json(&net);
    let spec = ExportSpec {
        inputs: &[("u0", net.u0())],
        matrices: &[],
        problem: &problem,
        u_offsets: Some(net.u_offsets()),
        theta_offsets: Some(net.theta_offsets()),
        theta_block_name: "group",
        u_block_name: "layer",
    };
    export_evaluation(&out, &ws, &theta, &spec)?;
    println!(
        "\nexported with spy plots to {} (see summary.md)",
        out.display()
    );
    Ok(())
}
