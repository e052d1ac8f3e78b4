//! The network as a [`Model`]: its residual and objective written once, generically.

use super::Network;
use crate::derived::{AsModel, Model};
use crate::objectives::Functional;
use crate::problem::Problem;
use crate::Scalar;

/// [`Network`] as a [`Model`] (from [`Network::model`]).
#[derive(Debug, Clone, Copy)]
pub struct NetworkModel<'a>(pub(super) &'a Network);

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
