//! General networks (skip, residual, shared weights) against a dense reference written here
//! from the file format's definition alone — it shares nothing with the library's forward
//! pass or residual: `u_i = σ(W_g [x_{j_1}; x_{j_2}; …] + b_g) (+ u_r)`, `W_g` column-major at
//! the group's offset in θ followed by `b_g`, `L = ‖u_N − y‖² + ρ‖θ‖²`. The engine's objective
//! must equal it and its gradient must equal the reference's forward-mode derivative.

use adjoint::problems::network::{
    dense_skip_layers, residual_layers, shared_weight_layers, LayerSpec, Network, NetworkFile,
};
use adjoint::{AdjointWorkspace, SolverKind};
use num_dual::{Dual64, DualNum};

fn sigma<D: DualNum<Primitive = f64> + Copy>(name: &str, z: D) -> D {
    match name {
        "tanh" => z.tanh(),
        "sigmoid" => (D::one() + (-z).exp()).recip(),
        "exp_neg" => (-z).exp(),
        "identity" => z,
        _ => unreachable!(),
    }
}

/// The dense reference: `L(θ)` with the layers evaluated in file order.
fn reference<D: DualNum<Primitive = f64> + Copy>(
    input: usize,
    layers: &[LayerSpec],
    act: &str,
    y: f64,
    rho: f64,
    u0: &[f64],
    theta: &[D],
) -> D {
    let size = |j: usize| if j == 0 { input } else { layers[j - 1].size };
    // group shapes from their first layer, offsets in group order
    let n_groups = layers.iter().map(|l| l.group).max().unwrap() + 1;
    let mut shape = vec![(0, 0); n_groups];
    for l in layers.iter().rev() {
        shape[l.group] = (l.size, l.inputs.iter().map(|&j| size(j)).sum::<usize>());
    }
    let mut offset = vec![0usize; n_groups + 1];
    for g in 0..n_groups {
        offset[g + 1] = offset[g] + shape[g].0 * shape[g].1 + shape[g].0;
    }
    assert_eq!(offset[n_groups], theta.len());
    let mut values: Vec<Vec<D>> = vec![u0.iter().map(|&v| D::from(v)).collect()];
    for l in layers {
        let x: Vec<D> = l.inputs.iter().flat_map(|&j| values[j].clone()).collect();
        let (rows, cols) = shape[l.group];
        assert_eq!(x.len(), cols);
        let w = &theta[offset[l.group]..offset[l.group] + rows * cols];
        let b = &theta[offset[l.group] + rows * cols..offset[l.group + 1]];
        let out: Vec<D> = (0..rows)
            .map(|r| {
                let mut z = b[r];
                for (c, &xc) in x.iter().enumerate() {
                    z += w[c * rows + r] * xc;
                }
                let mut v = sigma(act, z);
                if let Some(src) = l.residual {
                    v += values[src][r];
                }
                v
            })
            .collect();
        values.push(out);
    }
    let misfit = values
        .last()
        .unwrap()
        .iter()
        .fold(D::zero(), |s, &o| s + (o - y) * (o - y));
    misfit + theta.iter().fold(D::zero(), |s, &t| s + t * t) * rho
}

fn check(input: usize, layers: Vec<LayerSpec>, act: &str, rho: f64, seed: u64) {
    let y = 0.4;
    let file = NetworkFile {
        input,
        layers: layers.clone(),
        activation: Some(act.into()),
        y: Some(serde_json::json!(y)),
        regularization: Some(rho),
    };
    let (net, mut theta) = Network::random(&file, seed).unwrap();
    theta.iter_mut().for_each(|t| *t *= 40.0);
    let mut ws = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
    let l = ws.evaluate(&net, &theta).unwrap();
    let r = reference::<f64>(input, &layers, act, y, rho, net.u0(), &theta);
    assert!(
        (l - r).abs() <= 1e-12 * r.abs().max(1.0),
        "{act}: L {l} vs {r}"
    );
    for k in 0..theta.len() {
        let t: Vec<Dual64> = theta
            .iter()
            .enumerate()
            .map(|(i, &v)| Dual64::new(v, if i == k { 1.0 } else { 0.0 }))
            .collect();
        let d = reference(input, &layers, act, y, rho, net.u0(), &t).eps;
        let g = ws.gradient()[k];
        assert!(
            (g - d).abs() <= 1e-10 * d.abs().max(1.0),
            "{act}, seed {seed}: dL/dθ_{k} = {g}, reference {d}"
        );
    }
}

#[test]
fn residual_networks() {
    check(3, residual_layers(4, 3), "tanh", 0.0, 1);
    check(2, residual_layers(3, 2), "sigmoid", 0.05, 2);
}

#[test]
fn shared_weight_networks() {
    check(3, shared_weight_layers(4, 3), "tanh", 0.0, 3);
    check(4, shared_weight_layers(3, 4), "exp_neg", 0.01, 4);
}

#[test]
fn dense_skip_networks() {
    check(2, dense_skip_layers(3, 3), "sigmoid", 0.0, 5);
    check(3, dense_skip_layers(2, 4), "identity", 0.1, 6);
}

#[test]
fn residual_from_the_input_and_a_source_read_twice() {
    let layers = vec![
        LayerSpec {
            size: 3,
            inputs: vec![0],
            group: 0,
            residual: Some(0),
        },
        LayerSpec {
            size: 2,
            inputs: vec![1, 0, 1],
            group: 1,
            residual: None,
        },
    ];
    check(3, layers, "tanh", 0.0, 7);
}
