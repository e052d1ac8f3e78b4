//! Compliance topology optimization of the MBB beam: a PDE-constrained problem at scale.
//!
//! The algorithm of Andreassen, Clausen, Schevenels, Lazarov and Sigmund, "Efficient topology
//! optimization in MATLAB using 88 lines of code" (Struct. Multidisc. Optim. 43:1–16, 2011),
//! with the adjoint written out. On an `nelx × nely` mesh of unit Q4 plane-stress elements
//! ([`mesh`]) with physical densities `θ = x ∈ (0, 1]^{n_e}`,
//!
//! ```text
//!     E(x_e) = E_min + x_eᵖ (E_0 − E_min),     K(x) = Σ_e E(x_e) KE_e      (E_0 = 1, E_min = 1e-9)
//!     f(u, x) = K(x) u − F = 0                 on the free dofs
//!     L(u, x) = Fᵀ u                            (the compliance)
//! ```
//!
//! The explicit partials:
//!
//! - `∂f/∂u = K(x)`: symmetric positive definite with supports; its pattern (the mesh's dof
//!   adjacency on the free dofs) is computed once, and with it the element contributions
//!   to each entry, so that a fill gathers `K_s = Σ_e E(x_e) KE[a][b]` entry by entry.
//! - `∂f/∂θ`: column `e` is `p x_e^{p−1} (E_0 − E_min) KE u_e` on the element's free dofs (at
//!   most 8 entries).
//! - `(∂L/∂u)ᵀ = F`, `∂L/∂θ = 0`.
//!
//! So the adjoint `K λ = −F` gives `λ = −u` (the problem is self-adjoint; the engine computes
//! it, a test checks it) and the gradient is the classic sensitivity
//! `dL/dx_e = λ_eᵀ ∂K/∂x_e u_e = −p x_e^{p−1} (E_0 − E_min) u_eᵀ KE u_e`.
//! [`optimize`] runs the paper's optimality-criteria loop around it.

mod assembly;
pub mod filter;
pub mod mesh;
pub mod optimizer;
pub mod ordering;
#[cfg(feature = "plot")]
pub mod picture;

pub use filter::Filter;
pub use optimizer::{optimize, FilterKind, Iteration, OcOptions, PhaseTimes, TopOptResult};

use crate::derived::{AsModel, Model};
use crate::error::check_vector;
use crate::objectives::{Functional, LinearFunctional};
use crate::parallel::join_if;
use crate::problem::{JacobianSolve, Jacobians, Problem, Residual, StateSolve};
use crate::{Error, Result, Scalar};
use sprs::CsStructure;

/// Young's modulus of solid material.
pub const E0: f64 = 1.0;
/// Young's modulus of void (keeps `K` positive definite).
pub const EMIN: f64 = 1e-9;
/// Poisson's ratio.
pub const NU: f64 = 0.3;

/// No slot: a fixed dof.
const FIXED: usize = usize::MAX;

/// From this many elements the element loops of an evaluation (the moduli `E(x_e)`, the
/// columns of `∂f/∂θ`) run in two halves on two threads.
pub const PARALLEL_ELEMENTS: usize = 1 << 14;

/// The MBB half-beam's compliance `Fᵀu` subject to `K(x)u = F` (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct MbbBeam {
    nelx: usize,
    nely: usize,
    penal: f64,
    ke: [[f64; 8]; 8],
    /// Per element, its 8 dofs as free-dof indices (`FIXED` for a support).
    edof: Vec<[usize; 8]>,
    /// Free-dof index of every dof (`FIXED` for a support).
    free_index: Vec<usize>,
    /// The contributions `E(x_e) KE[a][b]` to each of `K`'s entries ([`assembly`]).
    gather: assembly::StiffnessGather,
    k_pattern: CsStructure,
    /// Per element, the local dofs `a` of its free dofs sorted by free index (the rows of
    /// its column of `∂f/∂θ`, in storage order).
    column_rows: Vec<Vec<u8>>,
    dfdtheta_pattern: CsStructure,
    objective: LinearFunctional,
}

impl MbbBeam {
    /// The MBB beam on an `nelx × nely` mesh with penalization `penal` (`p`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for `nelx` or `nely` zero, a mesh whose dof count overflows, or
    /// `penal` not finite or below 1.
    pub fn new(nelx: usize, nely: usize, penal: f64) -> Result<Self> {
        if nelx == 0 || nely == 0 {
            return Err(Error::invalid(
                "mesh",
                format!("nelx and nely must be at least 1, got {nelx} × {nely}"),
            ));
        }
        if !(penal.is_finite() && penal >= 1.0) {
            return Err(Error::invalid(
                "penal",
                format!("the penalization p must be a finite number ≥ 1, got {penal}"),
            ));
        }
        let n_dofs = (nelx + 1)
            .checked_mul(nely + 1)
            .and_then(|n| n.checked_mul(2))
            .filter(|&n| n < u32::MAX as usize)
            .ok_or_else(|| {
                Error::invalid("mesh", format!("{nelx} × {nely} elements is too large"))
            })?;
        let fixed = mesh::mbb_fixed_dofs(nelx, nely);
        let mut free_index = vec![0; n_dofs];
        for &d in &fixed {
            free_index[d] = FIXED;
        }
        let mut next = 0;
        for f in free_index.iter_mut().filter(|f| **f != FIXED) {
            *f = next;
            next += 1;
        }
        let n_free = next;
        let n_el = nelx * nely;
        let mut edof = Vec::with_capacity(n_el);
        for ex in 0..nelx {
            for ey in 0..nely {
                let d = mesh::element_dofs(nely, ex, ey);
                edof.push(d.map(|g| free_index[g]));
            }
        }
        let k_pattern = stiffness_pattern(&edof, n_free);
        let gather = stiffness_gather(&edof, &k_pattern)?;
        let (column_rows, dfdtheta_pattern) = dfdtheta_pattern(&edof, n_free);
        let mut load = vec![0.0; n_free];
        load[free_index[mesh::MBB_LOAD_DOF]] = -1.0;
        Ok(MbbBeam {
            nelx,
            nely,
            penal,
            ke: mesh::element_stiffness(NU),
            edof,
            free_index,
            gather,
            k_pattern,
            column_rows,
            dfdtheta_pattern,
            objective: LinearFunctional::new(load),
        })
    }

    /// Elements in x.
    pub fn nelx(&self) -> usize {
        self.nelx
    }
    /// Elements in y.
    pub fn nely(&self) -> usize {
        self.nely
    }
    /// Number of elements `n_e = nelx · nely` (= `n_θ`).
    pub fn n_elements(&self) -> usize {
        self.nelx * self.nely
    }
    /// Number of dofs, supports included: `2 (nelx+1)(nely+1)`.
    pub fn n_dofs(&self) -> usize {
        self.free_index.len()
    }
    /// Number of free dofs (`n_u`, the size of `K`).
    pub fn n_state_dofs(&self) -> usize {
        self.objective.c().len()
    }
    /// The penalization `p`.
    pub fn penal(&self) -> f64 {
        self.penal
    }
    /// The element stiffness `KE` (unit modulus).
    pub fn element_stiffness(&self) -> &[[f64; 8]; 8] {
        &self.ke
    }
    /// The load `F` on the free dofs (the objective's `c` in `L = cᵀu`).
    pub fn load(&self) -> &[f64] {
        self.objective.c()
    }
    /// The objective `L = Fᵀu`.
    pub fn functional(&self) -> &LinearFunctional {
        &self.objective
    }
    /// Element `e`'s dofs as free-dof indices, `None` for a support, in `KE`'s order.
    pub fn element_free_dofs(&self, e: usize) -> [Option<usize>; 8] {
        self.edof[e].map(|d| (d != FIXED).then_some(d))
    }

    /// `E(x_e) = E_min + x_eᵖ (E_0 − E_min)`.
    pub fn modulus(&self, x: f64) -> f64 {
        EMIN + x.powf(self.penal) * (E0 - EMIN)
    }

    /// `dE/dx_e = p x_e^{p−1} (E_0 − E_min)`.
    pub fn modulus_derivative(&self, x: f64) -> f64 {
        self.penal * x.powf(self.penal - 1.0) * (E0 - EMIN)
    }

    /// `u_e`: element `e`'s displacements from the free-dof vector `u` (0 at supports).
    pub fn element_displacements(&self, e: usize, u: &[f64]) -> [f64; 8] {
        self.edof[e].map(|d| if d == FIXED { 0.0 } else { u[d] })
    }

    /// `u_eᵀ KE u_e` for every element: the classic sensitivity is
    /// `−p x_e^{p−1}(E_0 − E_min)` times it, the element's compliance `E(x_e)` times it.
    pub fn element_energies(&self, u: &[f64], out: &mut [f64]) {
        for (e, o) in out.iter_mut().enumerate() {
            let ue = self.element_displacements(e, u);
            *o = quadratic(&self.ke, &ue);
        }
    }

    /// Checks that `x` is a density vector: `n_e` finite values in `[0, 1]`.
    fn check_densities(&self, x: &[f64]) -> Result<()> {
        check_vector("theta", x, self.n_elements())?;
        if let Some(e) = x.iter().position(|&v| !(0.0..=1.0).contains(&v)) {
            return Err(Error::invalid(
                format!("theta[{e}]"),
                format!("a density must lie in [0, 1], got {}", x[e]),
            ));
        }
        Ok(())
    }
}

impl MbbBeam {
    /// The columns `elements` of `∂f/∂θ` into `values` (their stored entries, in order).
    fn fill_dfdtheta_columns(
        &self,
        elements: std::ops::Range<usize>,
        u: &[f64],
        theta: &[f64],
        values: &mut [f64],
    ) {
        let mut k = 0;
        for e in elements {
            let scale = self.modulus_derivative(theta[e]);
            let ue = self.element_displacements(e, u);
            for &a in &self.column_rows[e] {
                let ku: f64 = self.ke[a as usize]
                    .iter()
                    .zip(&ue)
                    .map(|(kk, v)| kk * v)
                    .sum();
                values[k] = scale * ku;
                k += 1;
            }
        }
    }
}

/// `vᵀ KE v`.
fn quadratic(ke: &[[f64; 8]; 8], v: &[f64; 8]) -> f64 {
    ke.iter()
        .zip(v)
        .map(|(row, &va)| va * row.iter().zip(v).map(|(k, vb)| k * vb).sum::<f64>())
        .sum()
}

/// `K`'s pattern on the free dofs (CSC, sorted rows).
fn stiffness_pattern(edof: &[[usize; 8]], n: usize) -> CsStructure {
    // the dof graph: column c holds the free dofs sharing an element with c
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); n];
    for dofs in edof {
        for &c in dofs.iter().filter(|&&c| c != FIXED) {
            columns[c].extend(dofs.iter().copied().filter(|&r| r != FIXED));
        }
    }
    let mut indptr = Vec::with_capacity(n + 1);
    let mut indices = Vec::new();
    indptr.push(0);
    for col in &mut columns {
        col.sort_unstable();
        col.dedup();
        indices.extend_from_slice(col);
        indptr.push(indices.len());
    }
    let nnz = indices.len();
    CsStructure::new_csc((n, n), indptr, indices, vec![(); nnz])
}

/// The gather lists of `K`: element `e`'s `KE[a][b]` goes to the entry (row `edof[e][a]`,
/// column `edof[e][b]`) when both dofs are free.
fn stiffness_gather(
    edof: &[[usize; 8]],
    pattern: &CsStructure,
) -> Result<assembly::StiffnessGather> {
    let (indptr, indices) = (pattern.indptr(), pattern.indices());
    let slot = |r: usize, c: usize| {
        let range = indptr.index(c)..indptr.index(c + 1);
        range.start + indices[range].binary_search(&r).expect("row in its column")
    };
    assembly::StiffnessGather::new(edof.len(), pattern.nnz(), |e| {
        let dofs = &edof[e];
        let mut s = [None; 64];
        for (a, &r) in dofs.iter().enumerate() {
            for (b, &c) in dofs.iter().enumerate() {
                if r != FIXED && c != FIXED {
                    s[8 * a + b] = Some(slot(r, c));
                }
            }
        }
        s
    })
}

/// `∂f/∂θ`'s pattern (n_free × n_e, column e = element e's free dofs, sorted) and, per
/// element, the local dof of each stored row.
fn dfdtheta_pattern(edof: &[[usize; 8]], n: usize) -> (Vec<Vec<u8>>, CsStructure) {
    let mut indptr = Vec::with_capacity(edof.len() + 1);
    let mut indices = Vec::with_capacity(8 * edof.len());
    let mut rows = Vec::with_capacity(edof.len());
    indptr.push(0);
    for dofs in edof {
        let mut local: Vec<u8> = (0..8u8).filter(|&a| dofs[a as usize] != FIXED).collect();
        local.sort_by_key(|&a| dofs[a as usize]);
        indices.extend(local.iter().map(|&a| dofs[a as usize]));
        indptr.push(indices.len());
        rows.push(local);
    }
    let nnz = indices.len();
    (
        rows,
        CsStructure::new_csc((n, edof.len()), indptr, indices, vec![(); nnz]),
    )
}

impl Problem for MbbBeam {
    fn n_state(&self) -> usize {
        self.objective.c().len()
    }
    fn n_params(&self) -> usize {
        self.n_elements()
    }
}

impl Residual for MbbBeam {
    /// `f = K(x) u − F`.
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()> {
        self.check_densities(theta)?;
        check_vector("u", u, self.n_state())?;
        for (fi, b) in f.iter_mut().zip(self.load()) {
            *fi = -b;
        }
        for (e, dofs) in self.edof.iter().enumerate() {
            let modulus = self.modulus(theta[e]);
            let ue = self.element_displacements(e, u);
            for (a, &r) in dofs.iter().enumerate() {
                if r != FIXED {
                    let ku: f64 = self.ke[a].iter().zip(&ue).map(|(k, v)| k * v).sum();
                    f[r] += modulus * ku;
                }
            }
        }
        Ok(())
    }
}

impl Jacobians for MbbBeam {
    fn dfdu_pattern(&self) -> CsStructure {
        self.k_pattern.clone()
    }

    /// `K(x) = Σ_e E(x_e) KE`, gathered entry by entry: `K_s = Σ E(x_e) KE[a][b]` over the
    /// elements holding both dofs of entry `s`, on two threads for a large `K`.
    fn fill_dfdu(&self, _u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        self.check_densities(theta)?;
        let mut moduli = vec![0.0; theta.len()];
        let mid = theta.len() / 2;
        let (lo, hi) = moduli.split_at_mut(mid);
        let fill = |x: &[f64], m: &mut [f64]| {
            for (m, &x) in m.iter_mut().zip(x) {
                *m = self.modulus(x);
            }
        };
        join_if(
            theta.len() >= PARALLEL_ELEMENTS,
            || fill(&theta[..mid], lo),
            || fill(&theta[mid..], hi),
        );
        let ke: [f64; 64] = std::array::from_fn(|k| self.ke[k / 8][k % 8]);
        self.gather.fill(&moduli, &ke, values);
        Ok(())
    }

    fn dfdtheta_pattern(&self) -> CsStructure {
        self.dfdtheta_pattern.clone()
    }

    /// Column `e`: `p x_e^{p−1} (E_0 − E_min) (KE u_e)` on the element's free dofs (the
    /// elements in two halves on two threads from [`PARALLEL_ELEMENTS`]).
    fn fill_dfdtheta(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        let n = self.n_elements();
        let mid = n / 2;
        let (lo, hi) = values.split_at_mut(self.dfdtheta_pattern.indptr().index(mid));
        join_if(
            n >= PARALLEL_ELEMENTS,
            || self.fill_dfdtheta_columns(0..mid, u, theta, lo),
            || self.fill_dfdtheta_columns(mid..n, u, theta, hi),
        );
        Ok(())
    }

    fn dfdu_depends_on_u(&self) -> bool {
        false
    }

    /// The nested dissection of the node grid ([`ordering`]).
    fn dfdu_dissection(&self) -> Option<crate::solve::Dissection> {
        ordering::nested_dissection(self.nelx, self.nely, &self.free_index)
    }
}

crate::objectives::objective_via_functional!(MbbBeam, functional);

impl StateSolve for MbbBeam {
    /// `u = K(x)⁻¹ F`, with the engine's factorization of `∂f/∂u = K(x)`.
    fn solve_state(
        &self,
        theta: &[f64],
        jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        self.check_densities(theta)?;
        jacobian.factor_at(u)?;
        jacobian.solve_into(self.load(), u)
    }
}

/// [`MbbBeam`] as a [`Model`]: the residual `K(x)u − F` written once over [`Scalar`].
#[derive(Debug, Clone, Copy)]
pub struct MbbBeamModel<'a>(&'a MbbBeam);

impl MbbBeam {
    /// The residual and objective written once (for derived Jacobians and dual numbers).
    pub fn model(&self) -> MbbBeamModel<'_> {
        MbbBeamModel(self)
    }
}

impl Model for MbbBeamModel<'_> {
    fn n_state(&self) -> usize {
        self.0.n_state()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }

    /// `f_r = Σ_e E(x_e) Σ_b KE[a][b] u_e[b] − F_r` over the elements holding free dof `r`.
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
        let p = self.0;
        for (fi, &b) in f.iter_mut().zip(p.load()) {
            *fi = T::from_f64(-b);
        }
        for (e, dofs) in p.edof.iter().enumerate() {
            let modulus = T::from_f64(EMIN) + theta[e].powf(p.penal) * T::from_f64(E0 - EMIN);
            for (a, &r) in dofs.iter().enumerate() {
                if r == FIXED {
                    continue;
                }
                let mut ku = T::zero();
                for (b, &c) in dofs.iter().enumerate() {
                    if c != FIXED {
                        ku += u[c] * T::from_f64(p.ke[a][b]);
                    }
                }
                f[r] += modulus * ku;
            }
        }
    }

    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T {
        self.0.objective.eval(u, theta)
    }
}

impl AsModel for MbbBeam {
    type Model<'a> = MbbBeamModel<'a>;
    fn model(&self) -> MbbBeamModel<'_> {
        MbbBeam::model(self)
    }
}
