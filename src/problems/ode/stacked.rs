//! The stacked matrices `∂f/∂u` (`K n × K n`, block lower bidiagonal) and `∂f/∂θ`
//! (`K n × n_θ`) of the time-stepping problem, their patterns laid out once, and the engine's
//! traits for [`OdeProblem`].
//!
//! Column `(k − 1) n + j` of `∂f/∂u` (unknown `j` of `x_k`) holds column `j` of `D_k` (rows of
//! block `k`) followed by column `j` of `S_{k+1}` (rows of block `k + 1`). Column `p` of
//! `∂f/∂θ` holds, block after block, column `p` of `∂f_k/∂θ`: the pattern of `∂g/∂θ` for
//! `k ≥ 2`, and for `k = 1` its union with that of `S_1 ∂x_0/∂θ`.

use super::step::{dl_dx_block, Kernels};
use super::{OdeModel, OdeProblem};
use crate::problem::{JacobianSolve, Jacobians, Objective, Partial, Problem, Residual, StateSolve};
use crate::sparse::SlotMap;
use crate::Result;
use sprs::CsStructure;

/// Buffers of one `∂f/∂θ` fill.
struct ThetaScratch {
    ta: Vec<f64>,
    tb: Vec<f64>,
    jvals: Vec<f64>,
    svals: Vec<f64>,
    x0t: Vec<f64>,
    zeros: Vec<f64>,
}

/// The stacked patterns and where block 1 of `∂f/∂θ` stores its entries.
#[derive(Debug)]
pub(crate) struct Stacked {
    pub dfdu: CsStructure,
    pub dfdtheta: CsStructure,
    /// Block 1 of `∂f/∂θ`: its pattern (n × n_θ), the slot of each `∂g/∂θ` entry in it, and
    /// of each product term `(i, r, p)` of `S_1 ∂x_0/∂θ`.
    p1: CsStructure,
    p1_from_t: Vec<usize>,
    /// `(slot in p1, index into S_1's values, index into ∂x_0/∂θ's values)`.
    p1_products: Vec<(usize, usize, usize)>,
}

impl Stacked {
    pub fn new<M: OdeModel>(k: &Kernels<M>, steps: usize) -> Result<Self> {
        let (n, n_t) = (k.n, k.n_t);
        let (d, s) = (&k.d.pattern, &k.s.pattern);
        let nnz_u = steps as f64 * (d.nnz() + s.nnz()) as f64;
        let nnz_t = steps as f64 * k.tp.nnz() as f64 + (n * n_t) as f64;
        crate::resources::ensure_memory(
            "the stacked df/du and df/dtheta",
            16.0 * (nnz_u + nnz_t) + 8.0 * 8.0 * (steps * n) as f64,
        )?;
        // ∂f/∂u
        let mut indptr = Vec::with_capacity(steps * n + 1);
        let mut indices = Vec::with_capacity(nnz_u as usize);
        indptr.push(0);
        for b in 0..steps {
            for j in 0..n {
                indices.extend(
                    d.outer_view(j)
                        .into_iter()
                        .flat_map(|c| c.indices().to_vec())
                        .map(|i| b * n + i),
                );
                if b + 1 < steps {
                    indices.extend(
                        s.outer_view(j)
                            .into_iter()
                            .flat_map(|c| c.indices().to_vec())
                            .map(|i| (b + 1) * n + i),
                    );
                }
                indptr.push(indices.len());
            }
        }
        let nnz = indices.len();
        let dfdu = CsStructure::new_csc((steps * n, steps * n), indptr, indices, vec![(); nnz]);
        // block 1 of ∂f/∂θ: ∂g/∂θ's pattern and the product S_1 ∂x_0/∂θ
        let mut positions: Vec<(usize, usize)> = k.tp.iter().map(|(_, (i, p))| (i, p)).collect();
        let n_from_t = positions.len();
        let mut terms = Vec::new();
        let sp = s.indptr();
        for (e, (_, (r, p))) in k.x0p.iter().enumerate() {
            let start = sp.index(r) - sp.index(0);
            for (o, &i) in s
                .outer_view(r)
                .map(|c| c.indices().to_vec())
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                positions.push((i, p));
                terms.push((start + o, e));
            }
        }
        let map = SlotMap::new(n, n_t, &positions)?;
        let p1 = map.pattern().clone();
        let p1_from_t = map.slots()[..n_from_t].to_vec();
        let p1_products = terms
            .iter()
            .zip(&map.slots()[n_from_t..])
            .map(|(&(si, xi), &slot)| (slot, si, xi))
            .collect();
        // ∂f/∂θ: column p = block 1's column p, then ∂g/∂θ's column p for each later block
        let mut indptr = Vec::with_capacity(n_t + 1);
        let mut indices = Vec::new();
        indptr.push(0);
        for p in 0..n_t {
            indices.extend(
                p1.outer_view(p)
                    .map(|c| c.indices().to_vec())
                    .unwrap_or_default(),
            );
            let col: Vec<usize> =
                k.tp.outer_view(p)
                    .map(|c| c.indices().to_vec())
                    .unwrap_or_default();
            for b in 1..steps {
                indices.extend(col.iter().map(|&i| b * n + i));
            }
            indptr.push(indices.len());
        }
        let nnz = indices.len();
        let dfdtheta = CsStructure::new_csc((steps * n, n_t), indptr, indices, vec![(); nnz]);
        Ok(Stacked {
            dfdu,
            dfdtheta,
            p1,
            p1_from_t,
            p1_products,
        })
    }
}

impl<M: OdeModel> OdeProblem<M> {
    /// `x_k` (`k = 0 … K`) from the stacked `u`, with `x_0` in `x0`.
    fn state<'a>(&self, u: &'a [f64], x0: &'a [f64], k: usize) -> &'a [f64] {
        let n = self.kernels.n;
        if k == 0 {
            x0
        } else {
            &u[(k - 1) * n..k * n]
        }
    }

    fn x0_of(&self, theta: &[f64]) -> Vec<f64> {
        let mut x0 = vec![0.0; self.kernels.n];
        self.kernels.x0(theta, &mut x0);
        x0
    }

    /// Copies the values of block `step` of the stacked `∂f/∂θ` (`data`) into `out` in the
    /// order of `∂g/∂θ`'s pattern; `false` (nothing copied) for block 1 when it also holds
    /// `S_1 ∂x_0/∂θ`.
    pub(crate) fn step_theta_values(&self, data: &[f64], step: usize, out: &mut [f64]) -> bool {
        let (tp, st) = (&self.kernels.tp, self.stacked());
        if step == 1 && !st.p1_products.is_empty() {
            return false;
        }
        let tptr = |p: usize| tp.indptr().index(p) - tp.indptr().index(0);
        let p1ptr = |p: usize| st.p1.indptr().index(p) - st.p1.indptr().index(0);
        let colptr = |p: usize| st.dfdtheta.indptr().index(p) - st.dfdtheta.indptr().index(0);
        for p in 0..self.kernels.n_t {
            let (t0, t1) = (tptr(p), tptr(p + 1));
            // block 1 without products has exactly ∂g/∂θ's pattern
            let at = colptr(p)
                + if step == 1 {
                    0
                } else {
                    (p1ptr(p + 1) - p1ptr(p)) + (step - 2) * (t1 - t0)
                };
            out[t0..t1].copy_from_slice(&data[at..at + t1 - t0]);
        }
        true
    }

    /// Where the column block of step `b` starts in the values of the stacked `∂f/∂u`.
    pub(crate) fn dfdu_block_start(&self, b: usize) -> usize {
        let k = &self.kernels;
        (b - 1) * (k.d.pattern.nnz() + k.s.pattern.nnz())
    }

    /// The values of the column blocks of steps `range` of the stacked `∂f/∂u` (`values`
    /// from [`dfdu_block_start`](Self::dfdu_block_start) of the first), from the states of
    /// those steps, `xs = [x_{range.start}; …]`.
    pub(crate) fn fill_dfdu_steps(
        &self,
        xs: &[f64],
        theta: &[f64],
        range: std::ops::Range<usize>,
        values: &mut [f64],
    ) -> Result<()> {
        let (k, n, steps) = (&self.kernels, self.kernels.n, self.grid.steps());
        let mut jvals = vec![0.0; k.jp.nnz()];
        let mut dvals = vec![0.0; k.d.pattern.nnz()];
        let mut svals = vec![0.0; k.s.pattern.nnz()];
        let (d, s) = (&k.d.pattern, &k.s.pattern);
        let (dp, sp) = (d.indptr(), s.indptr());
        let mut at = 0;
        let first = range.start;
        for b in range {
            let x = &xs[(b - first) * n..(b - first + 1) * n];
            k.jac_x(self.grid.t(b), x, theta, &mut jvals)?;
            k.d.fill(&jvals, k.d_coef(self.grid.h(b)), &mut dvals);
            if b < steps {
                k.s.fill(&jvals, k.s_coef(self.grid.h(b + 1)), &mut svals);
            }
            for j in 0..n {
                let (d0, d1) = (dp.index(j) - dp.index(0), dp.index(j + 1) - dp.index(0));
                values[at..at + d1 - d0].copy_from_slice(&dvals[d0..d1]);
                at += d1 - d0;
                if b < steps {
                    let (s0, s1) = (sp.index(j) - sp.index(0), sp.index(j + 1) - sp.index(0));
                    values[at..at + s1 - s0].copy_from_slice(&svals[s0..s1]);
                    at += s1 - s0;
                }
            }
        }
        debug_assert_eq!(at, values.len());
        Ok(())
    }

    /// The entries of steps `range` in the values of the stacked `∂f/∂θ` (`values` holds
    /// all of them; the others are left alone), from `xs = [x_{range.start − 1}; x_{range.start}; …]`.
    pub(crate) fn fill_dfdtheta_steps(
        &self,
        xs: &[f64],
        theta: &[f64],
        range: std::ops::Range<usize>,
        values: &mut [f64],
    ) -> Result<()> {
        let k = &self.kernels;
        let (n, first) = (k.n, range.start);
        let state = |b: usize| &xs[(b + 1 - first) * n..(b + 2 - first) * n];
        // its own scratch: it runs beside fill_dfdu, which holds the shared work
        let mut w = ThetaScratch {
            ta: vec![0.0; k.tp.nnz()],
            tb: vec![0.0; k.tp.nnz()],
            jvals: vec![0.0; k.jp.nnz()],
            svals: vec![0.0; k.s.pattern.nnz()],
            x0t: vec![0.0; k.x0p.nnz()],
            zeros: vec![0.0; k.n],
        };
        let w = &mut w;
        let st = self.stacked();
        let (tp, p1) = (&k.tp, &st.p1);
        let tptr = |p: usize| tp.indptr().index(p) - tp.indptr().index(0);
        let p1ptr = |p: usize| p1.indptr().index(p) - p1.indptr().index(0);
        let colptr = |p: usize| st.dfdtheta.indptr().index(p) - st.dfdtheta.indptr().index(0);
        let mut block1 = vec![0.0; p1.nnz()];
        for b in range {
            let (h, t, tprev) = (self.grid.h(b), self.grid.t(b), self.grid.t(b - 1));
            let (xp, x) = (state(b - 1), state(b));
            if k.w != 0.0 {
                k.jac_theta(t, x, theta, &mut w.ta)?;
            }
            if k.w != 1.0 {
                k.jac_theta(tprev, xp, theta, &mut w.tb)?;
            }
            if b == 1 {
                for (e, &slot) in st.p1_from_t.iter().enumerate() {
                    block1[slot] += k.p_value(h, w.ta[e], w.tb[e]);
                }
                if !st.p1_products.is_empty() {
                    k.jac_x(tprev, xp, theta, &mut w.jvals)?;
                    k.s.fill(&w.jvals, k.s_coef(h), &mut w.svals);
                    k.x0_theta(theta, &w.zeros, &mut w.x0t)?;
                    for &(slot, si, xi) in &st.p1_products {
                        block1[slot] += w.svals[si] * w.x0t[xi];
                    }
                }
                for p in 0..k.n_t {
                    let len = p1ptr(p + 1) - p1ptr(p);
                    values[colptr(p)..colptr(p) + len]
                        .copy_from_slice(&block1[p1ptr(p)..p1ptr(p + 1)]);
                }
                continue;
            }
            for p in 0..k.n_t {
                let (t0, t1) = (tptr(p), tptr(p + 1));
                let at = colptr(p) + (p1ptr(p + 1) - p1ptr(p)) + (b - 2) * (t1 - t0);
                for e in t0..t1 {
                    values[at + e - t0] = k.p_value(h, w.ta[e], w.tb[e]);
                }
            }
        }
        Ok(())
    }
}

impl<M: OdeModel> Problem for OdeProblem<M> {
    fn n_state(&self) -> usize {
        self.grid.steps() * self.kernels.n
    }
    fn n_params(&self) -> usize {
        self.kernels.n_t
    }
}

impl<M: OdeModel> Residual for OdeProblem<M> {
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()> {
        let (n, k, w) = (self.kernels.n, &self.kernels, self.kernels.w);
        let x0 = self.x0_of(theta);
        let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
        for s in 1..=self.grid.steps() {
            let (xp, x) = (self.state(u, &x0, s - 1), self.state(u, &x0, s));
            let h = self.grid.h(s);
            k.g(self.grid.t(s), x, theta, &mut a);
            k.g(self.grid.t(s - 1), xp, theta, &mut b);
            for i in 0..n {
                f[(s - 1) * n + i] = x[i] - xp[i] - h * (w * a[i] + (1.0 - w) * b[i]);
            }
        }
        Ok(())
    }
}

impl<M: OdeModel> Objective for OdeProblem<M> {
    /// `Σ_{k=1..K} h_k l(t_k, x_k, θ) + Φ(x_K, θ)`, summed in increasing `k`.
    fn objective(&self, u: &[f64], theta: &[f64]) -> Result<f64> {
        let x0 = self.x0_of(theta);
        let mut sum = 0.0;
        for s in 1..=self.grid.steps() {
            sum += self.grid.h(s)
                * self
                    .kernels
                    .cost(self.grid.t(s), self.state(u, &x0, s), theta);
        }
        Ok(sum
            + self
                .kernels
                .terminal(self.state(u, &x0, self.grid.steps()), theta))
    }

    fn objective_partial_u(&self, u: &[f64], theta: &[f64], dl_du: &mut [f64]) -> Result<()> {
        let n = self.kernels.n;
        let mut scratch = vec![0.0; n];
        let x0 = self.x0_of(theta);
        for s in 1..=self.grid.steps() {
            let x = self.state(u, &x0, s);
            dl_dx_block(
                &self.kernels,
                &self.grid,
                s,
                theta,
                x,
                &mut dl_du[(s - 1) * n..s * n],
                &mut scratch,
            )?;
        }
        Ok(())
    }

    fn objective_partial_theta(
        &self,
        u: &[f64],
        theta: &[f64],
        out: &mut [f64],
    ) -> Result<Partial> {
        let x0 = self.x0_of(theta);
        let mut scratch = vec![0.0; self.kernels.n_t];
        let mut written = false;
        out.fill(0.0);
        let last = self.state(u, &x0, self.grid.steps());
        if self.kernels.has_terminal
            && self.kernels.terminal_theta(last, theta, &mut scratch)? == Partial::Written
        {
            out.copy_from_slice(&scratch);
            written = true;
        }
        for s in (1..=self.grid.steps()).rev() {
            let x = self.state(u, &x0, s);
            if self
                .kernels
                .cost_theta(self.grid.t(s), x, theta, &mut scratch)?
                == Partial::Written
            {
                let h = self.grid.h(s);
                out.iter_mut().zip(&scratch).for_each(|(o, &l)| *o += h * l);
                written = true;
            }
        }
        Ok(if written {
            Partial::Written
        } else {
            Partial::Zero
        })
    }
}

impl<M: OdeModel> Jacobians for OdeProblem<M> {
    fn dfdu_pattern(&self) -> CsStructure {
        self.stacked().dfdu.clone()
    }

    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        self.fill_dfdu_steps(u, theta, 1..self.grid.steps() + 1, values)
    }

    fn dfdtheta_pattern(&self) -> CsStructure {
        self.stacked().dfdtheta.clone()
    }

    fn fill_dfdtheta(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        let mut xs = self.x0_of(theta);
        xs.extend_from_slice(u);
        self.fill_dfdtheta_steps(&xs, theta, 1..self.grid.steps() + 1, values)
    }

    fn dfdu_depends_on_u(&self) -> bool {
        !self.kernels.linear
    }

    fn dfdu_blocks(&self) -> Option<Vec<usize>> {
        Some(self.block_offsets())
    }
}

impl<M: OdeModel> StateSolve for OdeProblem<M> {
    /// The time march ([`OdeProblem::march`]); the Newton iterations of all steps are
    /// reported as the state iterations.
    fn solve_state(
        &self,
        theta: &[f64],
        jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        let iterations = self.march(theta, u)?;
        jacobian.set_state_iterations(iterations);
        Ok(())
    }
}
