//! A network's export folder: `problem.json` (the network file format plus the export's
//! keys) written by [`Network::to_json`] and read back with `theta.mtx` and `u0.mtx` by
//! [`Network::from_dir`].

use super::{Network, NetworkFile};
use crate::error::check_vector;
use crate::problem::Problem;
use crate::{Error, Result};

impl Network {
    /// `problem.json` content.
    pub fn to_json(&self) -> serde_json::Value {
        let layers: Vec<_> = self
            .layers
            .iter()
            .map(|l| serde_json::json!({"size": l.size, "inputs": l.inputs, "group": l.group, "residual": l.residual}))
            .collect();
        serde_json::json!({
            "kind": "network",
            "input": self.input,
            "layers": layers,
            "y": self.target.to_json(),
            "activation": self.activation.name(),
            "regularization": self.objective.regularization(),
            "n_state": self.n_state(),
            "n_params": self.n_params(),
            "u_offsets": self.u_offsets,
            "theta_offsets": self.theta_offsets,
        })
    }

    /// Reads an exported network (`problem.json` in the network file format, plus
    /// `theta.mtx` and `u0.mtx`). Returns the problem and `θ`.
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Parse`] for missing or malformed files, [`Error::Shape`] for
    /// vectors of the wrong length, and whatever [`new`](Self::new) rejects.
    pub fn from_dir(dir: &std::path::Path) -> Result<(Self, Vec<f64>)> {
        crate::export::check_kind(dir, "network")?;
        let path = dir.join("problem.json");
        let file = NetworkFile::read(&path)?;
        let u0 = crate::mtx::read_vector(dir.join("u0.mtx"))?;
        check_vector(&dir.join("u0.mtx").display().to_string(), &u0, file.input)?;
        let net = Network::from_file(&file, u0)?;
        let theta = crate::mtx::read_vector(dir.join("theta.mtx"))?;
        if theta.len() != net.n_params() {
            return Err(Error::length(
                dir.join("theta.mtx").display().to_string(),
                net.n_params(),
                theta.len(),
            ));
        }
        crate::error::check_finite("theta", &theta)?;
        Ok((net, theta))
    }
}
