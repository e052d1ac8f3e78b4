//! The hand-written Jacobians (the fast path): positions of `∂f/∂u` and `∂f/∂θ` in the
//! order their fills write them, and the fills.

use super::Network;
use crate::problem::{Jacobians, Problem};
use crate::Result;
use sprs::CsStructure;

impl Network {
    pub(super) fn dfdu_positions(&self) -> Vec<(usize, usize)> {
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

    pub(super) fn dfdtheta_positions(&self) -> Vec<(usize, usize)> {
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
}

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
