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

mod builders;
mod file;
mod forward;
mod jacobians;
mod model;

pub use builders::{dense_skip_layers, residual_layers, shared_weight_layers};
pub use file::{LayerSpec, NetworkFile};
pub use model::NetworkModel;

use super::mlp::{Activation, Target};
use crate::derived::Model;
use crate::error::check_vector;
use crate::objectives::{Functional, OutputMisfit};
use crate::problem::{JacobianSolve, Problem, Residual, StateSolve};
use crate::sparse::SlotMap;
use crate::{Error, Result, Scalar};

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
        crate::resources::ensure_memory("the network", file::estimated_bytes(input, &layers))?;
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
        let mut rng = crate::rng::generator(seed);
        let mut normal =
            || 0.01 * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng);
        // θ is drawn before u₀ (the seed's order); n_θ is known once the layers are checked
        // (and the sizes are known to fit in memory before anything is allocated)
        crate::resources::ensure_memory("the network", file.estimated_bytes())?;
        let net = Network::from_file(file, vec![0.0; file.input])?;
        let theta: Vec<f64> = (0..net.n_params()).map(|_| normal()).collect();
        let u0: Vec<f64> = (0..file.input).map(|_| normal()).collect();
        Ok((Network { u0, ..net }, theta))
    }

    /// The network a file describes, with input `u0` (activation `exp_neg` and target 0 when
    /// the file leaves them out, no regularization).
    ///
    /// # Errors
    /// As [`new`](Self::new), plus unknown activations and malformed targets.
    pub fn from_file(file: &NetworkFile, u0: Vec<f64>) -> Result<Self> {
        let activation: Activation = file.activation.as_deref().unwrap_or("exp_neg").parse()?;
        let target = match &file.y {
            None => Target::Scalar(0.0),
            Some(v) => Target::from_json(v)?,
        };
        crate::resources::ensure_memory("the network", file.estimated_bytes())?;
        Network::new(
            file.input,
            file.layers.clone(),
            activation,
            u0,
            target,
            file.regularization.unwrap_or(0.0),
        )
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
    /// Replaces `u_0` by a vector already checked (length, finiteness) by the caller.
    pub(crate) fn replace_input(&mut self, u0: Vec<f64>) {
        debug_assert_eq!(u0.len(), self.input);
        self.u0 = u0;
    }
    /// The size of the input `u_0`.
    pub fn input_size(&self) -> usize {
        self.input
    }
    /// The target `y` as given.
    pub fn target(&self) -> &Target {
        &self.target
    }
    /// The activation `σ`.
    pub fn activation(&self) -> Activation {
        self.activation
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

    /// The input `u_0`.
    pub fn u0(&self) -> &[f64] {
        &self.u0
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
