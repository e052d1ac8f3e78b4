//! Snapshots (insta, top-level `snapshots/`) of assembled matrices and of a tiny export.
//!
//! Review changes with `cargo insta review`, or accept them with
//! `INSTA_UPDATE=always cargo test --test snapshots`.

use adjoint::export::{export_evaluation, ExportSpec};
use adjoint::inspect::{pattern_text, triplets_text};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, SolverKind};

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

/// n = 5 with hand-picked inputs: diagonal 4..8, off-diagonal 1..4, b = 1..5, c = 1.
fn tridiagonal_5() -> (Tridiagonal, Vec<f64>, AdjointWorkspace) {
    let p = Tridiagonal::new(vec![1.0; 5], vec![1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let theta = vec![4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0];
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    (p, theta, ws)
}

fn matrix_report(title: &str, m: &sprs::CsMat<f64>) -> String {
    format!(
        "{title}: {}×{}, {} stored entries\n{}\n{}",
        m.rows(),
        m.cols(),
        m.nnz(),
        pattern_text(m).unwrap(),
        triplets_text(m)
    )
}

#[test]
fn tridiagonal_n5_dfdu() {
    let (_, _, ws) = tridiagonal_5();
    snapshot!(
        "tridiagonal_n5_dfdu",
        matrix_report("df/du = A(theta)", ws.dfdu())
    );
}

#[test]
fn tridiagonal_n5_dfdtheta() {
    let (_, _, ws) = tridiagonal_5();
    snapshot!(
        "tridiagonal_n5_dfdtheta",
        matrix_report("df/dtheta", ws.dfdtheta())
    );
}

#[test]
fn tridiagonal_n2_export_bytes() {
    let p = Tridiagonal::new(vec![1.0, -0.5], vec![0.25, 2.0]).unwrap();
    let theta = vec![2.0, 3.0, 0.5];
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let problem = serde_json::json!({"kind": "tridiagonal", "n": 2, "n_state": 2, "n_params": 3});
    let spec = ExportSpec {
        inputs: &[("c", p.c()), ("b", p.b())],
        matrices: &[],
        problem: &problem,
        u_offsets: None,
        theta_offsets: None,
        theta_block_name: "params of layer",
        u_block_name: "layer",
    };
    let written = export_evaluation(dir.path(), &ws, &theta, &spec).unwrap();
    let mut all = String::new();
    for path in written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mtx" || e == "json"))
    {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        all.push_str(&format!(
            "==> {name} <==\n{}",
            std::fs::read_to_string(path).unwrap()
        ));
    }
    snapshot!("tridiagonal_n2_export", all);
}

/// The 2-3-2 network with hand-picked θ_k = (−1)^k (k + 1)/10, u_0 = [0.5, −0.25], exp_neg.
fn network_232() -> (adjoint::problems::mlp::Mlp, Vec<f64>, AdjointWorkspace) {
    use adjoint::problems::mlp::{Activation, Mlp, Target};
    let mlp = Mlp::new(
        &[2, 3, 2],
        Activation::ExpNeg,
        vec![0.5, -0.25],
        Target::Scalar(0.5),
        0.0,
    )
    .unwrap();
    let theta: Vec<f64> = (0..17)
        .map(|k| if k % 2 == 0 { 1.0 } else { -1.0 } * (k + 1) as f64 / 10.0)
        .collect();
    let mut ws = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
    ws.evaluate(&mlp, &theta).unwrap();
    (mlp, theta, ws)
}

#[test]
fn network_232_l() {
    let (_, _, ws) = network_232();
    snapshot!("mlp_2_3_2_L", matrix_report("df/du = L", ws.dfdu()));
}

#[test]
fn network_232_mt() {
    let (mlp, _, ws) = network_232();
    snapshot!(
        "mlp_2_3_2_Mt",
        matrix_report("M^T = D K", &mlp.assemble_mt(ws.u()))
    );
}

#[test]
fn network_232_d() {
    let (mlp, _, ws) = network_232();
    snapshot!("mlp_2_3_2_D", matrix_report("D", &mlp.assemble_d(ws.u())));
}

fn report_and_spy(title: &str, m: &sprs::CsMat<f64>, blocks: adjoint::inspect::Blocks) -> String {
    use adjoint::inspect::{report_text, structure_report};
    format!(
        "{title}\n{}\n{}",
        report_text(&structure_report(m, blocks)),
        adjoint::spy::text_spy(m).unwrap()
    )
}

#[test]
fn tridiagonal_n5_report_and_text_spy() {
    let (_, _, ws) = tridiagonal_5();
    let text = format!(
        "{}\n{}",
        report_and_spy("df/du", ws.dfdu(), Default::default()),
        report_and_spy("df/dtheta", ws.dfdtheta(), Default::default())
    );
    snapshot!("tridiagonal_n5_reports", text);
}

#[test]
fn network_232_reports_and_text_spies() {
    use adjoint::inspect::Blocks;
    let (mlp, _, ws) = network_232();
    let lay = mlp.layout();
    let text = format!(
        "{}\n{}\n{}",
        report_and_spy("L = df/du", ws.dfdu(), Blocks::square(lay.u_offsets())),
        report_and_spy(
            "M^T",
            &mlp.assemble_mt(ws.u()),
            Blocks {
                rows: Some(lay.u_offsets()),
                cols: Some(lay.theta_offsets()),
                row_name: None,
                col_name: None,
            }
        ),
        report_and_spy(
            "D",
            &mlp.assemble_d(ws.u()),
            Blocks::square(lay.u_offsets())
        ),
    );
    snapshot!("mlp_2_3_2_reports", text);
}

fn network_snapshot(name: &str, layers: Vec<adjoint::problems::network::LayerSpec>) {
    use adjoint::problems::network::{Network, NetworkFile};
    let file = NetworkFile {
        input: 2,
        layers,
        activation: Some("tanh".into()),
        y: Some(serde_json::json!(0.5)),
        regularization: Some(0.0),
    };
    let (net, _) = Network::random(&file, 0).unwrap();
    // hand-picked θ so the snapshot does not depend on the random stream
    let theta: Vec<f64> = (0..adjoint::Problem::n_params(&net))
        .map(|k| ((k % 7) as f64 - 3.0) / 10.0)
        .collect();
    let mut ws = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
    ws.evaluate(&net, &theta).unwrap();
    let text = format!(
        "{}\n{}",
        matrix_report("df/du", ws.dfdu()),
        matrix_report("df/dtheta", ws.dfdtheta())
    );
    snapshot!(name, text);
}

#[test]
fn residual_network_4_layers() {
    network_snapshot(
        "network_residual_4",
        adjoint::problems::network::residual_layers(2, 3),
    );
}

#[test]
fn shared_weight_network_3_steps() {
    network_snapshot(
        "network_shared_3",
        adjoint::problems::network::shared_weight_layers(2, 3),
    );
}

/// The MBB beam on a 2×1 mesh (9 free dofs) at densities (1, 0.5): K and ∂f/∂θ as assembled.
fn mbb_2x1() -> AdjointWorkspace {
    let beam = adjoint::problems::topopt::MbbBeam::new(2, 1, 3.0).unwrap();
    let mut ws = AdjointWorkspace::new(&beam, SolverKind::Auto).unwrap();
    ws.evaluate(&beam, &[1.0, 0.5]).unwrap();
    ws
}

#[test]
fn topopt_2x1_dfdu() {
    snapshot!(
        "topopt_2x1_dfdu",
        matrix_report("df/du = K(x)", mbb_2x1().dfdu())
    );
}

/// `∂f/∂θ` at a fixed `u = (1, 2, …, 9)/10` rather than the solved one, so the snapshot holds
/// no rounding noise from a solve.
#[test]
fn topopt_2x1_dfdtheta() {
    use adjoint::Jacobians;
    let beam = adjoint::problems::topopt::MbbBeam::new(2, 1, 3.0).unwrap();
    let u: Vec<f64> = (1..=9).map(|i| i as f64 / 10.0).collect();
    let pattern = beam.dfdtheta_pattern();
    let mut values = vec![0.0; pattern.nnz()];
    beam.fill_dfdtheta(&u, &[1.0, 0.5], &mut values).unwrap();
    let (indptr, indices, _) = pattern.into_raw_storage();
    let m = sprs::CsMat::new_csc((9, 2), indptr, indices, values);
    snapshot!(
        "topopt_2x1_dfdtheta",
        matrix_report("df/dtheta at u = (1..9)/10", &m)
    );
}

/// Lotka–Volterra, Crank–Nicolson, three steps on the grid 0, 0.5, 1, 2, with `∂f/∂u` and
/// `∂f/∂θ` at fixed states `u = (1, …, 6)/4` (no Newton rounding in the snapshot): the block
/// bidiagonal structure with its `step k` blocks.
#[test]
fn ode_lotka_volterra_cn_3_steps() {
    use adjoint::inspect::Blocks;
    use adjoint::problems::ode::builtin::LotkaVolterra;
    use adjoint::problems::ode::{OdeProblem, Scheme, TimeGrid};
    use adjoint::Jacobians;
    let grid = TimeGrid::from_times(vec![0.0, 0.5, 1.0, 2.0]).unwrap();
    let p = OdeProblem::new(LotkaVolterra, Scheme::CrankNicolson, grid).unwrap();
    let u: Vec<f64> = (1..=6).map(|i| i as f64 / 4.0).collect();
    let theta = LotkaVolterra::DEFAULT_THETA;
    let matrix = |pattern: sprs::CsStructure, shape, fill: &dyn Fn(&mut [f64])| {
        let mut values = vec![0.0; pattern.nnz()];
        fill(&mut values);
        let (indptr, indices, _) = pattern.into_raw_storage();
        sprs::CsMat::new_csc(shape, indptr, indices, values)
    };
    let dfdu = matrix(p.dfdu_pattern(), (6, 6), &|v| {
        p.fill_dfdu(&u, &theta, v).unwrap()
    });
    let dfdtheta = matrix(p.dfdtheta_pattern(), (6, 4), &|v| {
        p.fill_dfdtheta(&u, &theta, v).unwrap()
    });
    let off = p.block_offsets();
    let blocks = Blocks {
        rows: Some(&off),
        cols: Some(&off),
        row_name: Some("step"),
        col_name: Some("step"),
    };
    let theta_blocks = Blocks {
        rows: Some(&off),
        cols: None,
        row_name: Some("step"),
        col_name: None,
    };
    let text = format!(
        "{}\n{}\n{}\n{}",
        matrix_report("df/du at u = (1..6)/4", &dfdu),
        report_and_spy("df/du structure", &dfdu, blocks),
        matrix_report("df/dtheta at u = (1..6)/4", &dfdtheta),
        report_and_spy("df/dtheta structure", &dfdtheta, theta_blocks),
    );
    snapshot!("ode_lotka_volterra_cn_3_steps", text);
}
