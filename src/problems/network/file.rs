//! The network file format (`adjoint mlp --network FILE`, and `problem.json` of a network
//! export): layers, activation, target, regularization; its reader and memory estimate.

use crate::{Error, Result};
use serde::Deserialize;

/// One layer of a [`Network`](super::Network) description.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// Output size `n_i`.
    pub size: usize,
    /// Inputs, concatenated in this order: 0 is `u_0`, `k ≥ 1` is layer `k` (1-based).
    pub inputs: Vec<usize>,
    /// Parameter group (0-based); layers sharing a group share `W` and `b`.
    pub group: usize,
    /// Residual source: `u_i = u_r + σ(…)` (1-based layer, or 0 for `u_0`), same size.
    #[serde(default)]
    pub residual: Option<usize>,
}

/// The JSON form of a network file (`adjoint mlp --network FILE`).
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkFile {
    /// Size of `u_0`.
    pub input: usize,
    /// The layers, in any order that respects the connections.
    pub layers: Vec<LayerSpec>,
    /// `exp_neg`, `tanh`, `sigmoid` or `identity` (default `exp_neg`).
    #[serde(default)]
    pub activation: Option<String>,
    /// Target: a number or an array (default 0).
    #[serde(default)]
    pub y: Option<serde_json::Value>,
    /// `ρ ≥ 0` (default 0).
    #[serde(default)]
    pub regularization: Option<f64>,
}

/// Keys an exported `problem.json` adds to the network file format (accepted when reading).
const EXPORT_KEYS: [&str; 11] = [
    "kind",
    "n_state",
    "n_params",
    "u_offsets",
    "theta_offsets",
    "seed",
    "objective_value",
    "gradient_norm",
    "solver",
    "objective",
    "theta_layout",
];

impl NetworkFile {
    /// Reads a network file; unknown keys are errors (a misspelt key would otherwise be
    /// ignored silently), except the ones an export adds.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path; [`Error::Parse`] with the line for malformed JSON,
    /// missing fields or unknown keys.
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let text = crate::resources::read_required_text(path)?;
        let parse = |line: usize, message: String| Error::Parse {
            path: path.to_path_buf(),
            line,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| parse(e.line(), e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| parse(0, "expected a JSON object".into()))?;
        let known = ["input", "layers", "activation", "y", "regularization"];
        if let Some(k) = object
            .keys()
            .find(|k| !known.contains(&k.as_str()) && !EXPORT_KEYS.contains(&k.as_str()))
        {
            return Err(parse(
                0,
                format!("unknown key {k:?} (expected {})", known.join(", ")),
            ));
        }
        serde_json::from_value(value).map_err(|e| parse(0, e.to_string()))
    }

    /// A rough size of everything a network of this description allocates, in bytes (for a
    /// memory check before building it).
    pub fn estimated_bytes(&self) -> f64 {
        estimated_bytes(self.input, &self.layers)
    }
}

/// About 100 bytes per parameter and state entry (θ, both Jacobians with their index
/// arrays, the solver, the vectors) and 2.5 kB per layer; computed in `f64`, so no size can
/// overflow it.
pub(super) fn estimated_bytes(input: usize, layers: &[LayerSpec]) -> f64 {
    let size = |j: usize| {
        if j == 0 {
            input as f64
        } else {
            layers.get(j - 1).map_or(0.0, |l| l.size as f64)
        }
    };
    let params: f64 = layers
        .iter()
        .map(|l| l.size as f64 * (l.inputs.iter().map(|&j| size(j)).sum::<f64>() + 1.0))
        .sum();
    let state: f64 = layers.iter().map(|l| l.size as f64).sum();
    // plus the bookkeeping of each layer (its specification, offsets, block patterns, the
    // layer-level DAG check, the block tables of a report): about 2.5 kB
    100.0 * (params + state + input as f64) + 2500.0 * layers.len() as f64
}
