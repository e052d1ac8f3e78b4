//! The forward pass: on `f64` in place (the state solve) and on any [`Scalar`] (the
//! model's residual and the reduced objective for checks), in the same order.

use super::Network;
use crate::Scalar;

impl Network {
    /// The forward pass on any number type, into `u`.
    /// `z_i = W_g [x_{j_1}; …] + b_g` for layer `i`, inputs read from `u` (or `u_0`).
    pub(super) fn affine_generic<T: Scalar>(
        &self,
        theta: &[T],
        u0: &[T],
        u: &[T],
        i: usize,
    ) -> Vec<T> {
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
    pub(super) fn forward_into(&self, theta: &[f64], u: &mut [f64]) {
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
    pub(super) fn forward_generic<T: Scalar>(&self, theta: &[T], u: &mut [T]) {
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
}
