//! General layered networks: any earlier layer as input, skip and residual connections,
//! parameter groups shared between layers.
//!
//! The seed writes the constraint of a network whose layer `i` may read every earlier layer,
//! `u_i = Φ_i(u_1, …, u_{i−1}, θ; u_0)`. Here a layer is
//!
//! ```text
//!     u_i = σ(W_g [u_{j_1}; …; u_{j_m}] + b_g)  (+ u_r for a residual connection)
//! ```
//!
//! with inputs `j_k` (0 is the network input `u_0`, `k ≥ 1` is layer `k`, numbered from 1)
//! and a parameter group `g = (W_g, b_g)` that several layers may share (an unrolled recurrent
//! cell). `θ` stacks the groups: `[vec(W_0); b_0; vec(W_1); b_1; …]`, columns stacked.
//!
//! The explicit partials follow the connections:
//!
//! ```text
//!     ∂f/∂u: identity diagonal blocks; block (i, j) = −D_i W_g[:, columns of input j]
//!            for each input j ≥ 1, and −I for the residual source r
//!     ∂f/∂θ: block (i, g) = −D_i ([x_i; 1]ᵀ ⊗ I) for each layer i using group g —
//!            several blocks in one column block when g is shared (no longer block diagonal)
//! ```
//!
//! with `D_i = diag(σ'(z_i))` read off `u_i − u_r`. Before any arithmetic,
//! [`Network::new`] checks with petgraph that the connections form a DAG; a connection to a
//! later layer or to itself is rejected with the cycle named in layer terms.

use super::mlp::{Activation, Target};
use crate::derived::{AsModel, Model};
use crate::error::check_vector;
use crate::objectives::{Functional, OutputMisfit};
use crate::problem::{JacobianSolve, Jacobians, Problem, Residual, StateSolve};
use crate::sparse::SlotMap;
use crate::{Error, Result, Scalar};
use serde::Deserialize;
use sprs::CsStructure;

/// One layer of a [`Network`] description.
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
fn estimated_bytes(input: usize, layers: &[LayerSpec]) -> f64 {
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

/// A general layered network problem (see the module documentation).
#[derive(Debug, Clone)]
pub struct Network {
    input: usize,
    layers: Vec<LayerSpec>,
    activation: Activation,
    /// `(rows, cols)` of each group's `W`.
    groups: Vec<(usize, usize)>,
    /// Start of each group in `θ` (`W` then `b`); last entry `n_θ`.
    theta_offsets: Vec<usize>,
    /// Start of each layer in `u`; last entry `n_u`.
    u_offsets: Vec<usize>,
    /// Layers in an order where every input comes first (0-based indices).
    order: Vec<usize>,
    u0: Vec<f64>,
    target: Target,
    objective: OutputMisfit,
    dfdu: SlotMap,
    dfdtheta: SlotMap,
}

impl Network {
    /// Checks the description and builds the patterns.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a size of zero, an unknown input, inconsistent group shapes, a
    /// residual of another size; [`Error::Cycle`] (in layer numbers, 1-based) when a layer
    /// reads itself or a later layer in a cycle; [`Error::Shape`] for `u_0` or `y`;
    /// [`Error::OutOfMemory`] for sizes this process cannot hold.
    pub fn new(
        input: usize,
        layers: Vec<LayerSpec>,
        activation: Activation,
        u0: Vec<f64>,
        target: Target,
        rho: f64,
    ) -> Result<Self> {
        if input == 0 || layers.is_empty() {
            return Err(Error::invalid(
                "network",
                "needs an input size ≥ 1 and at least one layer",
            ));
        }
        crate::resources::ensure_memory("the network", estimated_bytes(input, &layers))?;
        check_vector("u0", &u0, input)?;
        super::mlp::check_regularization(rho)?;
        let n_layers = layers.len();
        let size_of = |j: usize| if j == 0 { input } else { layers[j - 1].size };
        for (i, l) in layers.iter().enumerate() {
            let name = format!("layer {}", i + 1);
            if l.size == 0 {
                return Err(Error::invalid(&name, "size 0"));
            }
            if l.inputs.is_empty() {
                return Err(Error::invalid(&name, "has no inputs"));
            }
            if let Some(&j) = l
                .inputs
                .iter()
                .chain(l.residual.iter())
                .find(|&&j| j > n_layers)
            {
                return Err(Error::invalid(
                    &name,
                    format!("reads layer {j}, but there are {n_layers} layers"),
                ));
            }
            if l.group >= n_layers {
                return Err(Error::invalid(
                    &name,
                    format!(
                        "uses group {}, but {n_layers} layers can use at most groups 0..{}",
                        l.group,
                        n_layers - 1
                    ),
                ));
            }
            if let Some(r) = l.residual {
                if size_of(r) != l.size {
                    return Err(Error::invalid(
                        &name,
                        format!(
                            "residual source {r} has size {}, not {}",
                            size_of(r),
                            l.size
                        ),
                    ));
                }
            }
        }
        // The DAG check, in layer terms, before any arithmetic: node 0 is u_0, node k is
        // layer k, and layer i reading j is the entry (i, j) of a layer-level ∂f/∂u.
        let mut t = sprs::TriMat::new((n_layers + 1, n_layers + 1));
        for k in 0..=n_layers {
            t.add_triplet(k, k, 1.0);
        }
        for (i, l) in layers.iter().enumerate() {
            for &j in l.inputs.iter().chain(l.residual.iter()) {
                t.add_triplet(i + 1, j, 1.0);
                if j == i + 1 {
                    return Err(Error::Cycle {
                        what: "network (layers, 1-based)".into(),
                        nodes: vec![j],
                        blocks: Vec::new(),
                    });
                }
            }
        }
        let graph: sprs::CsMat<f64> = t.to_csc();
        let order: Vec<usize> = match crate::dag::check_dag(graph.view(), None) {
            Ok(report) => report
                .order
                .to_vec()
                .into_iter()
                .filter(|&v| v > 0)
                .map(|v| v - 1)
                .collect(),
            Err(Error::Cycle { nodes, .. }) => {
                return Err(Error::Cycle {
                    what: "network (layers, 1-based)".into(),
                    nodes,
                    blocks: Vec::new(),
                })
            }
            Err(e) => return Err(e),
        };
        // group shapes: (rows, Σ input sizes), the same for every layer using the group
        let n_groups = layers.iter().map(|l| l.group + 1).max().unwrap_or(0);
        let mut groups: Vec<Option<(usize, usize)>> = vec![None; n_groups];
        for (i, l) in layers.iter().enumerate() {
            let shape = (l.size, l.inputs.iter().map(|&j| size_of(j)).sum());
            match groups[l.group] {
                None => groups[l.group] = Some(shape),
                Some(s) if s != shape => {
                    return Err(Error::invalid(
                        format!("layer {}", i + 1),
                        format!(
                            "uses group {} with W of {}×{}, but the group's W is {}×{}",
                            l.group, shape.0, shape.1, s.0, s.1
                        ),
                    ))
                }
                _ => {}
            }
        }
        let groups: Vec<(usize, usize)> = groups
            .into_iter()
            .enumerate()
            .map(|(k, s)| {
                s.ok_or_else(|| {
                    Error::invalid(
                        "network",
                        format!("parameter group {k} is used by no layer"),
                    )
                })
            })
            .collect::<Result<_>>()?;
        let mut theta_offsets = vec![0];
        for &(r, c) in &groups {
            theta_offsets.push(theta_offsets.last().unwrap() + r * c + r);
        }
        let mut u_offsets = vec![0];
        for l in &layers {
            u_offsets.push(u_offsets.last().unwrap() + l.size);
        }
        let y = target.resolve(layers.last().unwrap().size)?;
        let mut net = Network {
            input,
            layers,
            activation,
            groups,
            theta_offsets,
            order,
            objective: OutputMisfit::new(u_offsets[n_layers - 1], y, rho),
            u_offsets,
            u0,
            target,
            dfdu: SlotMap::new(0, 0, &[])?,
            dfdtheta: SlotMap::new(0, 0, &[])?,
        };
        let (pu, pt) = (net.dfdu_positions(), net.dfdtheta_positions());
        net.dfdu = SlotMap::new(net.n_state(), net.n_state(), &pu)?;
        net.dfdtheta = SlotMap::new(net.n_state(), net.n_params(), &pt)?;
        Ok(net)
    }

    /// A network from its file form, with `θ` and `u_0` drawn as `0.01·N(0,1)` (groups in
    /// order, then `u_0`) from [`crate::rng::generator`]`(seed)`.
    ///
    /// # Errors
    /// As [`new`](Self::new), plus unknown activations and malformed targets.
    pub fn random(file: &NetworkFile, seed: u64) -> Result<(Self, Vec<f64>)> {
        use rand_distr::{Distribution, StandardNormal};
        let activation: Activation = file.activation.as_deref().unwrap_or("exp_neg").parse()?;
        let target = match &file.y {
            None => Target::Scalar(0.0),
            Some(v) => Target::from_json(v)?,
        };
        let mut rng = crate::rng::generator(seed);
        let mut normal =
            || 0.01 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
        crate::resources::ensure_memory("the network", file.estimated_bytes())?;
        let probe = Network::new(
            file.input,
            file.layers.clone(),
            activation,
            vec![0.0; file.input],
            target.clone(),
            file.regularization.unwrap_or(0.0),
        )?;
        let theta: Vec<f64> = (0..probe.n_params()).map(|_| normal()).collect();
        let u0: Vec<f64> = (0..file.input).map(|_| normal()).collect();
        Ok((Network { u0, ..probe }, theta))
    }

    /// Layer `i` (0-based) reads these `(source, offset in the concatenated input)`.
    fn inputs_of(&self, i: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut off = 0;
        self.layers[i].inputs.iter().map(move |&j| {
            let o = off;
            off += self.size_of(j);
            (j, o)
        })
    }

    fn size_of(&self, j: usize) -> usize {
        if j == 0 {
            self.input
        } else {
            self.layers[j - 1].size
        }
    }

    /// The slice of `u` (or `u_0`) holding source `j` (0 = `u_0`, k ≥ 1 = layer k).
    fn source<'a, T>(&self, u0: &'a [T], u: &'a [T], j: usize) -> &'a [T] {
        if j == 0 {
            u0
        } else {
            &u[self.u_offsets[j - 1]..self.u_offsets[j]]
        }
    }

    /// Block offsets of `u` by layer.
    pub fn u_offsets(&self) -> &[usize] {
        &self.u_offsets
    }
    /// Block offsets of `θ` by parameter group.
    pub fn theta_offsets(&self) -> &[usize] {
        &self.theta_offsets
    }
    /// The layers.
    pub fn layers(&self) -> &[LayerSpec] {
        &self.layers
    }

    fn dfdu_positions(&self) -> Vec<(usize, usize)> {
        let mut pos: Vec<(usize, usize)> = (0..self.n_state()).map(|k| (k, k)).collect();
        for (i, l) in self.layers.iter().enumerate() {
            let rows = self.u_offsets[i]..self.u_offsets[i + 1];
            for (j, _) in self.inputs_of(i).filter(|&(j, _)| j > 0) {
                for c in self.u_offsets[j - 1]..self.u_offsets[j] {
                    pos.extend(rows.clone().map(|r| (r, c)));
                }
            }
            if let Some(r) = l.residual.filter(|&r| r > 0) {
                pos.extend(rows.clone().zip(self.u_offsets[r - 1]..self.u_offsets[r]));
            }
        }
        pos
    }

    fn dfdtheta_positions(&self) -> Vec<(usize, usize)> {
        let mut pos = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let (rows, cols) = self.groups[l.group];
            let t0 = self.theta_offsets[l.group];
            for c in 0..=cols {
                for r in 0..rows {
                    pos.push((self.u_offsets[i] + r, t0 + c * rows + r));
                }
            }
        }
        pos
    }

    /// `σ'(z_i)` from the state: `σ(z_i) = u_i − u_r`.
    fn derivative(&self, u: &[f64], i: usize, r: usize) -> f64 {
        let k = self.u_offsets[i] + r;
        let s = match self.layers[i].residual {
            Some(src) => u[k] - self.source(&self.u0, u, src)[r],
            None => u[k],
        };
        self.activation.derivative_from_output(s)
    }

    /// The forward pass on any number type, into `u`.
    /// `z_i = W_g [x_{j_1}; …] + b_g` for layer `i`, inputs read from `u` (or `u_0`).
    fn affine_generic<T: Scalar>(&self, theta: &[T], u0: &[T], u: &[T], i: usize) -> Vec<T> {
        let (rows, cols) = self.groups[self.layers[i].group];
        let t0 = self.theta_offsets[self.layers[i].group];
        let mut z: Vec<T> = theta[t0 + rows * cols..t0 + rows * (cols + 1)].to_vec();
        for (j, off) in self.inputs_of(i) {
            for (c, &xc) in self.source(u0, u, j).iter().enumerate() {
                let col = &theta[t0 + (off + c) * rows..t0 + (off + c + 1) * rows];
                for (zr, &w) in z.iter_mut().zip(col) {
                    *zr += w * xc;
                }
            }
        }
        z
    }

    /// The forward pass on `f64`, in place and allocation-free: each layer's affine map is
    /// accumulated in its own slot of `u` (a layer never reads itself), in exactly the order
    /// of [`Self::forward_generic`], so both give the same bits.
    fn forward_into(&self, theta: &[f64], u: &mut [f64]) {
        for &i in &self.order {
            let l = &self.layers[i];
            let (rows, _) = self.groups[l.group];
            let t0 = self.theta_offsets[l.group];
            let start = self.u_offsets[i];
            let bias = t0 + rows * self.groups[l.group].1;
            u[start..start + rows].copy_from_slice(&theta[bias..bias + rows]);
            for (j, off) in self.inputs_of(i) {
                for c in 0..self.size_of(j) {
                    let xc = if j == 0 {
                        self.u0[c]
                    } else {
                        u[self.u_offsets[j - 1] + c]
                    };
                    let col = &theta[t0 + (off + c) * rows..t0 + (off + c + 1) * rows];
                    for (r, &w) in col.iter().enumerate() {
                        u[start + r] += w * xc;
                    }
                }
            }
            for r in 0..rows {
                let mut v = self.activation.apply(u[start + r]);
                if let Some(src) = l.residual {
                    v += if src == 0 {
                        self.u0[r]
                    } else {
                        u[self.u_offsets[src - 1] + r]
                    };
                }
                u[start + r] = v;
            }
        }
    }

    /// The forward pass on any number type, into `u`, in the layers' topological order.
    fn forward_generic<T: Scalar>(&self, theta: &[T], u: &mut [T]) {
        let u0: Vec<T> = self.u0.iter().map(|&v| T::from_f64(v)).collect();
        for &i in &self.order {
            let z = self.affine_generic(theta, &u0, u, i);
            for (r, zr) in z.into_iter().enumerate() {
                let mut v = self.activation.apply_scalar(zr);
                if let Some(src) = self.layers[i].residual {
                    v += self.source(&u0, u, src)[r];
                }
                u[self.u_offsets[i] + r] = v;
            }
        }
    }

    /// `L(θ)` on any [`Scalar`], from scratch (forward pass included): the reduced
    /// objective, the reference for forward-mode checks (with num-dual's `Dual64`).
    pub fn objective_dual<T: Scalar>(&self, theta: &[T]) -> T {
        let mut u = vec![T::zero(); self.n_state()];
        self.forward_generic(theta, &mut u);
        self.objective.eval(&u, theta)
    }

    /// The objective `‖u_N − y‖² + ρ‖θ‖²`.
    pub fn functional(&self) -> &OutputMisfit {
        &self.objective
    }

    /// The problem as a [`Model`] (residual and objective written once).
    pub fn model(&self) -> NetworkModel<'_> {
        NetworkModel(self)
    }

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

    /// The input `u_0`.
    pub fn u0(&self) -> &[f64] {
        &self.u0
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
        let (probe, _) = Network::random(&file, 0)?;
        let theta = crate::mtx::read_vector(dir.join("theta.mtx"))?;
        if theta.len() != probe.n_params() {
            return Err(Error::length(
                dir.join("theta.mtx").display().to_string(),
                probe.n_params(),
                theta.len(),
            ));
        }
        crate::error::check_finite("theta", &theta)?;
        let u0 = crate::mtx::read_vector(dir.join("u0.mtx"))?;
        check_vector(&dir.join("u0.mtx").display().to_string(), &u0, file.input)?;
        Ok((Network { u0, ..probe }, theta))
    }
}

impl Problem for Network {
    fn n_state(&self) -> usize {
        *self.u_offsets.last().unwrap()
    }
    fn n_params(&self) -> usize {
        *self.theta_offsets.last().unwrap()
    }
}

impl StateSolve for Network {
    /// The forward pass in the topological order of the layers.
    fn solve_state(
        &self,
        theta: &[f64],
        _jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        self.forward_into(theta, u);
        Ok(())
    }
}

impl Residual for Network {
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()> {
        check_vector("u", u, self.n_state())?;
        check_vector("theta", theta, self.n_params())?;
        self.model().residual(u, theta, f);
        Ok(())
    }
}

crate::objectives::objective_via_functional!(Network, functional);

impl Jacobians for Network {
    fn dfdu_pattern(&self) -> CsStructure {
        self.dfdu.pattern().clone()
    }

    /// Positions in the order of `dfdu_positions`: the diagonal, then per layer the input
    /// blocks (column by column) and the residual identity.
    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        values.fill(0.0);
        let slots = self.dfdu.slots();
        let mut e = 0;
        for _ in 0..self.n_state() {
            values[slots[e]] += 1.0;
            e += 1;
        }
        for (i, l) in self.layers.iter().enumerate() {
            let (rows, _) = self.groups[l.group];
            let t0 = self.theta_offsets[l.group];
            for (j, off) in self.inputs_of(i).filter(|&(j, _)| j > 0) {
                for c in 0..self.size_of(j) {
                    let col = &theta[t0 + (off + c) * rows..t0 + (off + c + 1) * rows];
                    for (r, &w) in col.iter().enumerate() {
                        values[slots[e]] -= self.derivative(u, i, r) * w;
                        e += 1;
                    }
                }
            }
            if l.residual.is_some_and(|r| r > 0) {
                for _ in 0..l.size {
                    values[slots[e]] -= 1.0;
                    e += 1;
                }
            }
        }
        Ok(())
    }

    fn dfdtheta_pattern(&self) -> CsStructure {
        self.dfdtheta.pattern().clone()
    }

    fn fill_dfdtheta(&self, u: &[f64], _theta: &[f64], values: &mut [f64]) -> Result<()> {
        values.fill(0.0);
        let slots = self.dfdtheta.slots();
        let mut e = 0;
        for (i, l) in self.layers.iter().enumerate() {
            let (rows, _) = self.groups[l.group];
            // columns: every input entry x_c, then the bias (x = 1)
            let inputs = self
                .inputs_of(i)
                .flat_map(|(j, _)| self.source(&self.u0, u, j).iter().copied());
            for xc in inputs.chain(std::iter::once(1.0)) {
                for r in 0..rows {
                    values[slots[e]] -= self.derivative(u, i, r) * xc;
                    e += 1;
                }
            }
        }
        Ok(())
    }

    fn dfdu_depends_on_u(&self) -> bool {
        true
    }
}

/// [`Network`] as a [`Model`] (from [`Network::model`]).
#[derive(Debug, Clone, Copy)]
pub struct NetworkModel<'a>(&'a Network);

impl Model for NetworkModel<'_> {
    fn n_state(&self) -> usize {
        self.0.n_state()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }

    /// `f_i = u_i − σ(W_g x_i + b_g) − u_r`, inputs read from `u`.
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let net = self.0;
        let u0: Vec<T> = net.u0.iter().map(|&v| T::from_f64(v)).collect();
        for (i, l) in net.layers.iter().enumerate() {
            let z = net.affine_generic(theta, &u0, u, i);
            for (r, zr) in z.into_iter().enumerate() {
                let k = net.u_offsets[i] + r;
                let mut v = u[k] - net.activation.apply_scalar(zr);
                if let Some(src) = l.residual {
                    v -= net.source(&u0, u, src)[r];
                }
                f[k] = v;
            }
        }
    }

    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        self.0.objective.eval(u, theta)
    }

    /// The forward pass (so Newton starts at the solution).
    fn initial_state(&self, theta: &[f64], u: &mut [f64]) {
        self.0.forward_into(theta, u);
    }
}

impl AsModel for Network {
    type Model<'a> = NetworkModel<'a>;
    fn model(&self) -> NetworkModel<'_> {
        Network::model(self)
    }
}

/// A residual network of `depth` layers of width `width` after an input layer:
/// `u_1 = σ(W_0 u_0 + b_0)`, `u_i = u_{i−1} + σ(W_i u_{i−1} + b_i)` for `i ≥ 2`, then a
/// linear read-out of size 1.
pub fn residual_layers(width: usize, depth: usize) -> Vec<LayerSpec> {
    let mut layers = vec![LayerSpec {
        size: width,
        inputs: vec![0],
        group: 0,
        residual: None,
    }];
    for i in 2..=depth {
        layers.push(LayerSpec {
            size: width,
            inputs: vec![i - 1],
            group: i - 1,
            residual: Some(i - 1),
        });
    }
    layers.push(LayerSpec {
        size: 1,
        inputs: vec![depth],
        group: depth,
        residual: None,
    });
    layers
}

/// An unrolled recurrent cell: `u_1 = σ(W_in u_0 + b)`, then `steps − 1` layers
/// `u_i = σ(W_h u_{i−1} + b_h)` sharing one group, and a read-out.
pub fn shared_weight_layers(width: usize, steps: usize) -> Vec<LayerSpec> {
    let mut layers = vec![LayerSpec {
        size: width,
        inputs: vec![0],
        group: 0,
        residual: None,
    }];
    for i in 2..=steps {
        layers.push(LayerSpec {
            size: width,
            inputs: vec![i - 1],
            group: 1,
            residual: None,
        });
    }
    layers.push(LayerSpec {
        size: 1,
        inputs: vec![steps],
        group: 2,
        residual: None,
    });
    layers
}

/// A densely connected network: layer `i` reads `u_0` and every earlier layer
/// (`u_i = σ(W_i [u_0; u_1; …; u_{i−1}] + b_i)`), then a read-out of size 1 reading all.
pub fn dense_skip_layers(width: usize, depth: usize) -> Vec<LayerSpec> {
    let mut layers: Vec<LayerSpec> = (1..=depth)
        .map(|i| LayerSpec {
            size: width,
            inputs: (0..i).collect(),
            group: i - 1,
            residual: None,
        })
        .collect();
    layers.push(LayerSpec {
        size: 1,
        inputs: (0..=depth).collect(),
        group: depth,
        residual: None,
    });
    layers
}
