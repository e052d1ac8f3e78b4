//! Parametrized linear constraints `f(u, θ) = A(θ) u − b` with `A(θ) = A₀ + Σ_k θ_k E_k`.
//!
//! With sparse `A₀` and `E_k` (n × n), the partials are
//!
//! ```text
//!     ∂f/∂u = A(θ)                       n × n,   pattern = ∪ pattern(A₀), pattern(E_k)
//!     ∂f/∂θ = [E_0 u | E_1 u | … ]        n × n_θ, column k has the rows stored in E_k
//! ```
//!
//! and the objective is `L = (cᵀu)²`, as in the seed. Both patterns and the slot of every
//! entry of `A₀` and `E_k` in them are computed once ([`SlotMap`]); each evaluation only
//! scatters values. [`ParamLinear::tridiagonal`] builds the seed's problem this way;
//! [`Tridiagonal`](super::tridiagonal::Tridiagonal) is the same problem without index arrays.

use crate::derived::{AsModel, Model};
use crate::error::check_vector;
use crate::objectives::{Functional, SquaredLinear};
use crate::problem::{JacobianSolve, Jacobians, Problem, Residual, StateSolve};
use crate::sparse::SlotMap;
use crate::{Error, Result, Scalar};
use sprs::{CsMat, CsStructure};

/// `min (cᵀu)²` subject to `(A₀ + Σ_k θ_k E_k) u = b`.
#[derive(Debug, Clone)]
pub struct ParamLinear {
    n: usize,
    /// Entries of A₀ then of E_0, E_1, …: `(row, col, value)`.
    entries: Vec<(usize, usize, f64)>,
    /// Entries of E_k are `entries[term_ptr[k]..term_ptr[k+1]]`; A₀'s are before `term_ptr[0]`.
    term_ptr: Vec<usize>,
    a_slots: SlotMap,
    dtheta_slots: SlotMap,
    b: Vec<f64>,
    objective: SquaredLinear,
}

fn triplets(m: &CsMat<f64>, what: &str, n: usize) -> Result<Vec<(usize, usize, f64)>> {
    if m.shape() != (n, n) {
        return Err(Error::Shape {
            what: what.to_string(),
            expected: format!("{n}×{n}"),
            found: format!("{}×{}", m.rows(), m.cols()),
        });
    }
    crate::sparse::check_matrix_finite(what, m)?;
    Ok(m.iter().map(|(&v, (i, j))| (i, j, v)).collect())
}

impl ParamLinear {
    /// The problem with `A(θ) = a0 + Σ_k θ_k terms[k]`, right-hand side `b` and objective
    /// vector `c`.
    ///
    /// # Errors
    /// [`Error::Shape`] for matrices that are not n × n or vectors not of length n;
    /// [`Error::NonFinite`] / [`Error::NonFiniteEntry`] for NaN or infinite values;
    /// [`Error::Invalid`] for n = 0.
    pub fn new(a0: &CsMat<f64>, terms: &[CsMat<f64>], b: Vec<f64>, c: Vec<f64>) -> Result<Self> {
        let n = b.len();
        if n == 0 {
            return Err(Error::invalid("n", "the problem size must be at least 1"));
        }
        check_vector("b", &b, n)?;
        check_vector("c", &c, n)?;
        let mut entries = triplets(a0, "A0", n)?;
        let mut term_ptr = Vec::with_capacity(terms.len() + 1);
        for (k, e) in terms.iter().enumerate() {
            term_ptr.push(entries.len());
            entries.extend(triplets(e, &format!("E_{k}"), n)?);
        }
        term_ptr.push(entries.len());
        let positions: Vec<(usize, usize)> = entries.iter().map(|&(i, j, _)| (i, j)).collect();
        let a_slots = SlotMap::new(n, n, &positions)?;
        let mut dtheta_positions = Vec::with_capacity(entries.len() - term_ptr[0]);
        for k in 0..terms.len() {
            for &(i, _, _) in &entries[term_ptr[k]..term_ptr[k + 1]] {
                dtheta_positions.push((i, k));
            }
        }
        let dtheta_slots = SlotMap::new(n, terms.len(), &dtheta_positions)?;
        Ok(ParamLinear {
            n,
            entries,
            term_ptr,
            a_slots,
            dtheta_slots,
            b,
            objective: SquaredLinear::new(c),
        })
    }

    /// The seed's tridiagonal problem: `A₀ = 0`, `E_i = e_i e_iᵀ` (i < n) and
    /// `E_{n+k} = e_k e_{k+1}ᵀ + e_{k+1} e_kᵀ` (k < n − 1).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn tridiagonal(c: Vec<f64>, b: Vec<f64>) -> Result<Self> {
        let n = b.len();
        let mut terms = Vec::with_capacity(2 * n.max(1) - 1);
        for i in 0..n {
            let mut t = sprs::TriMat::new((n, n));
            t.add_triplet(i, i, 1.0);
            terms.push(t.to_csc());
        }
        for k in 0..n.saturating_sub(1) {
            let mut t = sprs::TriMat::new((n, n));
            t.add_triplet(k, k + 1, 1.0);
            t.add_triplet(k + 1, k, 1.0);
            terms.push(t.to_csc());
        }
        ParamLinear::new(&CsMat::zero((n, n)).to_csc(), &terms, b, c)
    }

    fn term(&self, k: usize) -> &[(usize, usize, f64)] {
        &self.entries[self.term_ptr[k]..self.term_ptr[k + 1]]
    }

    /// The objective `L = (cᵀu)²`.
    pub fn functional(&self) -> &SquaredLinear {
        &self.objective
    }

    /// The problem as a [`Model`] (residual and objective written once).
    pub fn model(&self) -> ParamLinearModel<'_> {
        ParamLinearModel(self)
    }
}

impl Problem for ParamLinear {
    fn n_state(&self) -> usize {
        self.n
    }
    fn n_params(&self) -> usize {
        self.term_ptr.len() - 1
    }
}

impl Residual for ParamLinear {
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()> {
        check_vector("u", u, self.n)?;
        check_vector("theta", theta, self.n_params())?;
        self.model().residual(u, theta, f);
        Ok(())
    }
}

crate::objectives::objective_via_functional!(ParamLinear, functional);

impl Jacobians for ParamLinear {
    fn dfdu_pattern(&self) -> CsStructure {
        self.a_slots.pattern().clone()
    }

    fn fill_dfdu(&self, _u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        values.fill(0.0);
        let slots = self.a_slots.slots();
        let a0 = self.term_ptr[0];
        for (&(_, _, v), &s) in self.entries[..a0].iter().zip(slots) {
            values[s] += v;
        }
        for (k, &t) in theta.iter().enumerate() {
            let range = self.term_ptr[k]..self.term_ptr[k + 1];
            for (&(_, _, v), &s) in self.entries[range.clone()].iter().zip(&slots[range]) {
                values[s] += t * v;
            }
        }
        Ok(())
    }

    fn dfdtheta_pattern(&self) -> CsStructure {
        self.dtheta_slots.pattern().clone()
    }

    /// Column k is `E_k u`.
    fn fill_dfdtheta(&self, u: &[f64], _theta: &[f64], values: &mut [f64]) -> Result<()> {
        values.fill(0.0);
        let a0 = self.term_ptr[0];
        for (&(_, j, v), &s) in self.entries[a0..].iter().zip(self.dtheta_slots.slots()) {
            values[s] += v * u[j];
        }
        Ok(())
    }

    fn dfdu_depends_on_u(&self) -> bool {
        false
    }
}

impl StateSolve for ParamLinear {
    fn solve_state(
        &self,
        _theta: &[f64],
        jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        jacobian.factor_at(u)?;
        jacobian.solve_into(&self.b, u)
    }
}

/// [`ParamLinear`] as a [`Model`] (from [`ParamLinear::model`]).
#[derive(Debug, Clone, Copy)]
pub struct ParamLinearModel<'a>(&'a ParamLinear);

impl Model for ParamLinearModel<'_> {
    fn n_state(&self) -> usize {
        self.0.n
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }

    /// `f = A₀u + Σ_k θ_k E_k u − b`, entry by entry.
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let p = self.0;
        for (fi, &bi) in f.iter_mut().zip(&p.b) {
            *fi = T::from_f64(-bi);
        }
        for &(i, j, v) in &p.entries[..p.term_ptr[0]] {
            f[i] += u[j] * v;
        }
        for (k, &t) in theta.iter().enumerate() {
            for &(i, j, v) in p.term(k) {
                f[i] += t * u[j] * v;
            }
        }
    }

    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        self.0.objective.eval(u, theta)
    }
}

impl AsModel for ParamLinear {
    type Model<'a> = ParamLinearModel<'a>;
    fn model(&self) -> ParamLinearModel<'_> {
        ParamLinear::model(self)
    }
}
