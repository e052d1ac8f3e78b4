//! The `problem.json` schema of export folders: what each problem kind writes, and the
//! `kind` check that keeps `--from` from reading one problem's files as another's.

use crate::problem::Problem;
use crate::problems::mlp::Mlp;
use crate::problems::network::Network;
use crate::{Error, Result};
use std::path::Path;

/// Checks that the `problem.json` of `dir`, if it has one, describes a problem of `kind`
/// (its `"kind"` key), so that `--from` never reads one problem's files as another's.
///
/// # Errors
/// [`Error::Io`] when `problem.json` exists but cannot be read; [`Error::Parse`] when it is
/// not a JSON object or its `kind` is another (a file without `kind`, written by hand, is
/// accepted).
pub fn check_kind(dir: &Path, kind: &str) -> Result<()> {
    let path = dir.join("problem.json");
    let Some(text) = crate::resources::read_text(&path)? else {
        return Ok(());
    };
    let parse = |line: usize, message: String| Error::Parse {
        path: path.clone(),
        line,
        message,
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| parse(e.line(), e.to_string()))?;
    if !json.is_object() {
        return Err(parse(0, "expected a JSON object".into()));
    }
    match json.get("kind") {
        // a hand-written file may leave it out
        None => Ok(()),
        Some(serde_json::Value::String(k)) if k == kind => Ok(()),
        Some(other) => Err(parse(
            0,
            format!("this folder holds a problem of kind {other}, not {kind:?}"),
        )),
    }
}

/// The `problem.json` of an MLP export: kind, sizes, layers, y, activation, regularization,
/// offsets, and the layout of θ in words.
pub fn mlp_json(mlp: &Mlp) -> serde_json::Value {
    serde_json::json!({
        "kind": "mlp",
        "layers": mlp.layout().layers(),
        "y": mlp.target().to_json(),
        "activation": mlp.activation().name(),
        "regularization": mlp.regularization(),
        "n_state": mlp.layout().n_state(),
        "n_params": mlp.layout().n_params(),
        "u_offsets": mlp.layout().u_offsets(),
        "theta_offsets": mlp.layout().theta_offsets(),
        "theta_layout": "[vec(W_1); b_1; ...; vec(W_N); b_N], vec stacks columns, W_i is n_i x n_{i-1}",
        "objective": "L = ||u_N - y||^2 + regularization * ||theta||^2",
    })
}

/// The `problem.json` of a network export: the network file format (`input`, `layers`, `y`,
/// `activation`, `regularization`) plus `kind: "network"`, sizes and block offsets.
pub fn network_json(net: &Network) -> serde_json::Value {
    let layers: Vec<_> = net
        .layers()
        .iter()
        .map(|l| serde_json::json!({"size": l.size, "inputs": l.inputs, "group": l.group, "residual": l.residual}))
        .collect();
    serde_json::json!({
        "kind": "network",
        "input": net.input_size(),
        "layers": layers,
        "y": net.target().to_json(),
        "activation": net.activation().name(),
        "regularization": net.functional().regularization(),
        "n_state": net.n_state(),
        "n_params": net.n_params(),
        "u_offsets": net.u_offsets(),
        "theta_offsets": net.theta_offsets(),
    })
}
