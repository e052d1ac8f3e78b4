//! Readers of export folders (and of hand-made folders with the same files): each returns
//! the problem and `θ`, so `--from DIR` reruns an export bit for bit.

use super::check_kind;
use crate::mtx::read_vector;
use crate::problem::Problem;
use crate::problems::mlp::{Activation, Layout, Mlp, Target};
use crate::problems::network::{Network, NetworkFile};
use crate::problems::tridiagonal::Tridiagonal;
use crate::{Error, Result};
use std::path::Path;

/// Reads `c.mtx`, `b.mtx` and `theta.mtx` (coordinate or array Matrix Market vectors)
/// from `dir`, e.g. an export folder. Returns the problem and `θ`.
///
/// # Errors
/// [`Error::Io`] / [`Error::Parse`] for missing or malformed files; [`Error::Shape`] when
/// `b` does not have the length of `c` or `θ` not `2n − 1`; [`Error::NonFinite`].
pub fn read_tridiagonal(dir: &Path) -> Result<(Tridiagonal, Vec<f64>)> {
    check_kind(dir, "tridiagonal")?;
    let c = read_vector(dir.join("c.mtx"))?;
    let b = read_vector(dir.join("b.mtx"))?;
    let theta = read_vector(dir.join("theta.mtx"))?;
    // n as each file implies it (θ holds 2n − 1): the file that disagrees with the other
    // two is the one named; when all three differ, c.mtx sets n
    let theta_n = (theta.len() % 2 == 1).then_some(theta.len().div_ceil(2));
    let n = if b.len() == c.len() || Some(c.len()) == theta_n {
        c.len()
    } else if Some(b.len()) == theta_n {
        b.len()
    } else {
        c.len()
    };
    if n == 0 {
        return Err(Error::invalid(
            "n",
            format!("{} is empty", dir.join("c.mtx").display()),
        ));
    }
    for (name, len, expected) in [
        ("c.mtx", c.len(), n),
        ("b.mtx", b.len(), n),
        ("theta.mtx", theta.len(), 2 * n - 1),
    ] {
        if len != expected {
            let what = dir.join(name).display().to_string();
            return Err(Error::length(what, expected, len));
        }
    }
    crate::error::check_finite("theta", &theta)?;
    Ok((Tridiagonal::new(c, b)?, theta))
}

/// Reads a network from a folder (e.g. an export): `problem.json` with keys `layers`,
/// `y` (a number or an array), `activation` and `regularization`, plus `theta.mtx` and
/// `u0.mtx` (coordinate or array Matrix Market vectors). Returns the problem and `θ`.
///
/// # Errors
/// [`Error::Io`] / [`Error::Parse`] for missing or malformed files (a missing or mistyped
/// key is named), [`Error::Shape`] when `θ` or `u_0` has the wrong length, and whatever
/// [`Mlp::new`] rejects.
pub fn read_mlp(dir: &Path) -> Result<(Mlp, Vec<f64>)> {
    check_kind(dir, "mlp")?;
    let path = dir.join("problem.json");
    let text = crate::resources::read_required_text(&path)?;
    let parse = |message: String| Error::Parse {
        path: path.clone(),
        line: 0,
        message,
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Parse {
        path: path.clone(),
        line: e.line(),
        message: e.to_string(),
    })?;
    let key = |k: &str| {
        json.get(k)
            .ok_or_else(|| parse(format!("missing key {k:?}")))
    };
    let layers: Vec<usize> = key("layers")?
        .as_array()
        .and_then(|a| {
            a.iter()
                .map(|v| v.as_u64().map(|n| n as usize))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| parse("\"layers\" must be an array of non-negative integers".into()))?;
    let target = Target::from_json(key("y")?).map_err(|e| parse(e.to_string()))?;
    let activation: Activation = key("activation")?
        .as_str()
        .ok_or_else(|| parse("\"activation\" must be a string".into()))?
        .parse()
        .map_err(|e: Error| parse(e.to_string()))?;
    let rho = key("regularization")?
        .as_f64()
        .ok_or_else(|| parse("\"regularization\" must be a number".into()))?;
    let layout = Layout::new(&layers).map_err(|e| parse(e.to_string()))?;
    let theta = read_vector(dir.join("theta.mtx"))?;
    if theta.len() != layout.n_params() {
        let what = dir.join("theta.mtx").display().to_string();
        return Err(Error::length(what, layout.n_params(), theta.len()));
    }
    crate::error::check_finite("theta", &theta)?;
    let u0 = read_vector(dir.join("u0.mtx"))?;
    if u0.len() != layers[0] {
        return Err(Error::length(
            dir.join("u0.mtx").display().to_string(),
            layers[0],
            u0.len(),
        ));
    }
    // what problem.json says must fit together (y's length, ρ): named with the file
    let mlp = Mlp::new(&layers, activation, u0, target, rho).map_err(|e| match e {
        Error::Shape { .. } | Error::Invalid { .. } | Error::NonFinite { .. } => {
            parse(e.to_string())
        }
        e => e,
    })?;
    Ok((mlp, theta))
}

/// Reads an exported network (`problem.json` in the network file format, plus
/// `theta.mtx` and `u0.mtx`). Returns the problem and `θ`.
///
/// # Errors
/// [`Error::Io`] / [`Error::Parse`] for missing or malformed files, [`Error::Shape`] for
/// vectors of the wrong length, and whatever [`Network::new`] rejects.
pub fn read_network(dir: &Path) -> Result<(Network, Vec<f64>)> {
    check_kind(dir, "network")?;
    let path = dir.join("problem.json");
    let file = NetworkFile::read(&path)?;
    // problem.json first (sizes, connections, target), then θ, then u₀
    crate::resources::ensure_memory("the network", file.estimated_bytes())?;
    let mut net = Network::from_file(&file, vec![0.0; file.input])?;
    let theta = read_vector(dir.join("theta.mtx"))?;
    if theta.len() != net.n_params() {
        return Err(Error::length(
            dir.join("theta.mtx").display().to_string(),
            net.n_params(),
            theta.len(),
        ));
    }
    crate::error::check_finite("theta", &theta)?;
    let u0 = read_vector(dir.join("u0.mtx"))?;
    crate::error::check_vector(&dir.join("u0.mtx").display().to_string(), &u0, file.input)?;
    net.replace_input(u0);
    Ok((net, theta))
}
