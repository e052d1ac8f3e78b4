//! Layer lists of the classic architectures: residual, unrolled recurrent, densely connected.

use super::LayerSpec;

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
