//! Your own problem in one function: a [`Model`] written once over [`Scalar`], and
//! [`Derived`], which derives everything the adjoint engine needs from it.
//!
//! From the residual `f(u, θ)` and the objective `L(u, θ)` alone, [`Derived::new`]
//!
//! 1. **detects the sparsity patterns** of `∂f/∂u`, `∂f/∂θ`, `∂L/∂u` and `∂L/∂θ` by running the
//!    model once on [`tracer::Tracer`]s, which carry dependency sets — patterns valid for every
//!    `(u, θ)`, and whether `f` is linear in `u`;
//! 2. **colors the columns** of both Jacobians into structurally orthogonal groups
//!    ([`coloring`]): `c` colors let `⌈c/N⌉` evaluations on `N`-direction duals recover every
//!    entry;
//!
//! and then, at each evaluation, [`Derived`] implements the engine's traits:
//!
//! - the state by **Newton's method** ([`newton`]) with the engine's factorization, warm-started
//!   from the previous state, with a stopping rule relative to the size of the residual's terms;
//! - `∂f/∂u` and `∂f/∂θ` by **compressed forward mode** ([`dual::Dual`]), decompressed straight
//!   into the engine's CSC value arrays (no allocation per evaluation);
//! - `L`, `∂L/∂u` and `∂L/∂θ` by **reverse mode** ([`tape`]): one taped evaluation of `L`.
//!
//! # Example
//! ```
//! use adjoint::{AdjointWorkspace, Derived, Model, Scalar, SolverKind};
//!
//! /// u_i² + θ_i u_i − 1 = 0 (one equation per unknown), L = Σ u_i.
//! struct Quadratic(usize);
//!
//! impl Model for Quadratic {
//!     fn n_state(&self) -> usize { self.0 }
//!     fn n_params(&self) -> usize { self.0 }
//!     fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]) {
//!         for i in 0..self.0 {
//!             f[i] = u[i] * u[i] + theta[i] * u[i] - 1.0;
//!         }
//!     }
//!     fn objective<T: Scalar>(&self, u: &[T], _theta: &[T]) -> T {
//!         u.iter().fold(T::zero(), |s, &x| s + x)
//!     }
//!     fn initial_state(&self, _theta: &[f64], u: &mut [f64]) {
//!         u.fill(1.0); // the positive root
//!     }
//! }
//!
//! # fn main() -> adjoint::Result<()> {
//! let problem = Derived::new(Quadratic(4))?;
//! assert_eq!(problem.coloring().dfdu, 1); // a diagonal Jacobian: one color
//! let mut ws = AdjointWorkspace::new(&problem, SolverKind::Auto)?;
//! let theta = [0.0, 1.0, 2.0, 3.0];
//! ws.evaluate(&problem, &theta)?;
//! // u_i = (−θ_i + √(θ_i² + 4))/2 and dL/dθ_i = du_i/dθ_i = −u_i / (2u_i + θ_i)
//! for (i, &t) in theta.iter().enumerate() {
//!     let u = (-t + (t * t + 4.0f64).sqrt()) / 2.0;
//!     assert!((ws.u()[i] - u).abs() < 1e-14);
//!     assert!((ws.gradient()[i] + u / (2.0 * u + t)).abs() < 1e-12);
//! }
//! # Ok(()) }
//! ```

pub mod coloring;
pub mod dual;
pub mod newton;
pub mod scalar;
pub mod tape;
pub mod tracer;

use crate::problem::{JacobianSolve, Jacobians, Objective, Partial, Problem, Residual, StateSolve};
use crate::{Error, Result};
use coloring::{color_columns, ColumnColoring};
use dual::Dual;
use newton::NewtonWork;
use scalar::Scalar;
use sprs::CsStructure;
use std::sync::Mutex;
use tape::{Adjoint, Tape};
use tracer::Tracer;

/// A problem `min L(u, θ) s.t. f(u, θ) = 0` written once, generically over the number type.
///
/// Everything else — patterns, Jacobians, the state solve, the objective's partials — is
/// derived by [`Derived`]. The residual gets `f` filled with zeros and must write every
/// `f[i]`; both functions must be deterministic.
pub trait Model {
    /// `n_u`: the number of state variables (and of equations).
    fn n_state(&self) -> usize;
    /// `n_θ`: the number of parameters.
    fn n_params(&self) -> usize;
    /// Writes `f(u, θ)` into `f` (length `n_u`).
    fn residual<T: Scalar>(&self, u: &[T], theta: &[T], f: &mut [T]);
    /// `L(u, θ)`.
    fn objective<T: Scalar>(&self, u: &[T], theta: &[T]) -> T;
    /// Newton's first start for `θ` (used once per workspace; later solves start from the
    /// previous state). Zeros by default.
    fn initial_state(&self, theta: &[f64], u: &mut [f64]) {
        let _ = theta;
        u.fill(0.0);
    }
    /// Rejects parameters the model cannot use (e.g. a negative conductivity), with
    /// [`Error::model`]. Accepts everything by default.
    ///
    /// # Errors
    /// The model's own.
    fn check_params(&self, theta: &[f64]) -> Result<()> {
        let _ = theta;
        Ok(())
    }
}

/// A problem that can be written as a [`Model`]: the built-in problems, whose residual and
/// objective are written once as a model while their hand-written Jacobians stay as the fast
/// path. Generic tools (the verification toolkit, [`Derived`]) reach the model through it.
pub trait AsModel {
    /// The model type, borrowing the problem.
    type Model<'a>: Model + Sync
    where
        Self: 'a;
    /// The problem's residual and objective as a [`Model`].
    fn model(&self) -> Self::Model<'_>;
}

/// The column colorings of a [`Derived`] problem: how many compressed evaluations its
/// Jacobians cost, against the lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coloring {
    /// Colors of `∂f/∂u`.
    pub dfdu: usize,
    /// Colors of `∂f/∂θ`.
    pub dfdtheta: usize,
    /// The most nonzeros in a row of `∂f/∂u` (no coloring can use fewer colors).
    pub dfdu_bound: usize,
    /// The most nonzeros in a row of `∂f/∂θ`.
    pub dfdtheta_bound: usize,
}

/// Patterns a user knows, handed to [`Derived::with_patterns`] instead of detection.
#[derive(Debug, Clone)]
pub struct Patterns {
    /// The pattern of `∂f/∂u` (n_u × n_u, CSC).
    pub dfdu: CsStructure,
    /// The pattern of `∂f/∂θ` (n_u × n_θ, CSC).
    pub dfdtheta: CsStructure,
    /// Whether `f` is linear in `u` (then one factorization serves the state and adjoint).
    pub linear_in_u: bool,
}

/// How the compressed evaluations of one Jacobian are seeded and read back.
#[derive(Debug, Clone)]
struct Plan {
    coloring: ColumnColoring,
    /// Directions per evaluation: the number of colors, at most [`MAX_WIDTH`].
    width: usize,
    /// Evaluations: `⌈colors / width⌉`.
    chunks: usize,
    /// Row of every stored entry, in CSC order (`u32`: half the traffic of `usize`).
    rows: Vec<u32>,
    /// Column pointers of the pattern (0-based).
    indptr: Vec<usize>,
}

/// Most directions one dual evaluation carries; more colors take several evaluations.
pub const MAX_WIDTH: usize = 8;

impl Plan {
    fn new(pattern: &CsStructure) -> Self {
        let coloring = color_columns(pattern);
        let width = coloring.n_colors.clamp(1, MAX_WIDTH);
        let chunks = coloring.n_colors.div_ceil(width).max(1);
        let base = pattern.indptr().index(0);
        let indptr = (0..=pattern.cols())
            .map(|j| pattern.indptr().index(j) - base)
            .collect();
        let rows = pattern.indices().iter().map(|&i| i as u32).collect();
        Plan {
            coloring,
            width,
            chunks,
            rows,
            indptr,
        }
    }
}

/// Dual-number buffers of one Jacobian's compressed evaluations.
#[derive(Debug)]
struct DualBuf<const N: usize> {
    u: Vec<Dual<N>>,
    t: Vec<Dual<N>>,
    f: Vec<Dual<N>>,
    /// Whether `u` and `t` hold the seeds of the only chunk: then an evaluation rewrites
    /// just the values (the directions depend on the coloring alone).
    seeded: bool,
}

impl<const N: usize> DualBuf<N> {
    fn new(n_u: usize, n_t: usize) -> Self {
        DualBuf {
            u: vec![Dual::constant(0.0); n_u],
            t: vec![Dual::constant(0.0); n_t],
            f: vec![Dual::constant(0.0); n_u],
            seeded: false,
        }
    }

    /// `values` of the Jacobian with respect to `u` (or `θ` when `wrt_theta`), one residual
    /// evaluation per chunk of colors. Seeding and decompression are memory-bound passes,
    /// split over two threads for large problems; the model runs on the calling thread.
    fn fill<M: Model>(
        &mut self,
        model: &M,
        plan: &Plan,
        wrt_theta: bool,
        u: &[f64],
        theta: &[f64],
        values: &mut [f64],
    ) {
        let colors = &plan.coloring.colors;
        for chunk in 0..plan.chunks {
            let seed = |x: &mut [Dual<N>], v: &[f64], seeded: bool, first: usize| {
                for (j, (d, &v)) in x.iter_mut().zip(v).enumerate() {
                    *d = Dual::constant(v);
                    if seeded {
                        let c = colors[first + j] as usize;
                        if c / N == chunk {
                            d.eps[c % N] = 1.0;
                        }
                    }
                }
            };
            let halves = |x: &mut [Dual<N>], v: &[f64], seeded: bool| {
                let mid = x.len() / 2;
                let (xa, xb) = x.split_at_mut(mid);
                let (va, vb) = v.split_at(mid);
                join_if(
                    x_len_large(mid),
                    || seed(xa, va, seeded, 0),
                    || seed(xb, vb, seeded, mid),
                );
            };
            if self.seeded {
                // one chunk, seeded before: only the values change
                let values = |x: &mut [Dual<N>], v: &[f64]| {
                    x.iter_mut().zip(v).for_each(|(d, &v)| d.re = v);
                };
                in_halves(&mut self.u, u, values);
                in_halves(&mut self.t, theta, values);
            } else {
                halves(&mut self.u, u, !wrt_theta);
                halves(&mut self.t, theta, wrt_theta);
                self.seeded = plan.chunks == 1;
            }
            // the model writes every f[i]; it gets zeros, as the tracer did
            in_halves(&mut self.f, &[], |x, _| x.fill(Dual::constant(0.0)));
            model.residual(&self.u, &self.t, &mut self.f);
            // decompression in CSC order: entry (i, j) is (J s_c)_i for the color c of column j
            let f = &self.f;
            let read = |cols: std::ops::Range<usize>, out: &mut [f64], offset: usize| {
                for j in cols {
                    let c = colors[j] as usize;
                    if c / N != chunk {
                        continue;
                    }
                    let d = c % N;
                    let (start, end) = (plan.indptr[j], plan.indptr[j + 1]);
                    for (v, &i) in out[start - offset..end - offset]
                        .iter_mut()
                        .zip(&plan.rows[start..end])
                    {
                        *v = f[i as usize].eps[d];
                    }
                }
            };
            let n_cols = plan.indptr.len() - 1;
            let mid_col = n_cols / 2;
            let split = plan.indptr[mid_col];
            let (va, vb) = values.split_at_mut(split);
            join_if(
                x_len_large(values_len(plan)),
                || read(0..mid_col, va, 0),
                || read(mid_col..n_cols, vb, split),
            );
        }
    }
}

/// `op` on both halves of `x` (and the matching halves of `v`, which is `x`'s length or
/// empty), on two threads when `x` is large.
fn in_halves<D: Send, F: Fn(&mut [D], &[f64]) + Sync>(x: &mut [D], v: &[f64], op: F) {
    let mid = x.len() / 2;
    let (xa, xb) = x.split_at_mut(mid);
    let (va, vb) = if v.is_empty() {
        (v, v)
    } else {
        v.split_at(mid)
    };
    join_if(x_len_large(mid), || op(xa, va), || op(xb, vb));
}

fn values_len(plan: &Plan) -> usize {
    plan.rows.len()
}

/// Whether a pass over this many entries is worth two threads.
fn x_len_large(n: usize) -> bool {
    n >= crate::parallel::PARALLEL_THRESHOLD / 2
}

use crate::parallel::join_if;

macro_rules! buffers {
    ($($w:literal => $v:ident),*) => {
        /// The dual buffers of one Jacobian, at the width its coloring needs.
        #[derive(Debug)]
        enum Buffers {
            $($v(DualBuf<$w>),)*
        }

        impl Buffers {
            fn new(width: usize, n_u: usize, n_t: usize) -> Self {
                match width {
                    $($w => Buffers::$v(DualBuf::new(n_u, n_t)),)*
                    _ => unreachable!("widths are 1 ..= MAX_WIDTH"),
                }
            }

            fn fill<M: Model>(
                &mut self,
                model: &M,
                plan: &Plan,
                wrt_theta: bool,
                u: &[f64],
                theta: &[f64],
                values: &mut [f64],
            ) {
                match self {
                    $(Buffers::$v(b) => b.fill(model, plan, wrt_theta, u, theta, values),)*
                }
            }
        }
    };
}

buffers!(1 => W1, 2 => W2, 3 => W3, 4 => W4, 5 => W5, 6 => W6, 7 => W7, 8 => W8);

/// The reverse-mode buffers of the objective.
#[derive(Debug, Default)]
struct ObjectiveWork {
    tape: Tape,
    inputs: Vec<Adjoint>,
}

/// A [`Model`] with everything the adjoint engine needs derived from it: detected patterns,
/// colorings, compressed Jacobians, Newton's method and reverse-mode objective partials.
/// Implements [`crate::AdjointProblem`]; use it with [`crate::AdjointWorkspace`].
#[derive(Debug)]
pub struct Derived<M> {
    model: M,
    n_u: usize,
    n_t: usize,
    dfdu: CsStructure,
    dfdtheta: CsStructure,
    dfdu_plan: Plan,
    dfdtheta_plan: Plan,
    dl_du_pattern: Vec<usize>,
    dl_dtheta_pattern: Vec<usize>,
    linear_in_u: bool,
    jac_u: Mutex<Buffers>,
    jac_t: Mutex<Buffers>,
    newton: Mutex<NewtonWork>,
    objective: Mutex<ObjectiveWork>,
}

/// A CSC pattern from the sorted column indices of each row.
fn pattern_from_rows(rows: &[Vec<u32>], n_cols: usize, offset: u32) -> CsStructure {
    let n_rows = rows.len();
    let mut count = vec![0usize; n_cols + 1];
    for r in rows {
        for &c in r
            .iter()
            .filter(|&&c| c >= offset && ((c - offset) as usize) < n_cols)
        {
            count[(c - offset) as usize + 1] += 1;
        }
    }
    for j in 0..n_cols {
        count[j + 1] += count[j];
    }
    let mut next = count.clone();
    let mut indices = vec![0usize; count[n_cols]];
    for (i, r) in rows.iter().enumerate() {
        for &c in r
            .iter()
            .filter(|&&c| c >= offset && ((c - offset) as usize) < n_cols)
        {
            let j = (c - offset) as usize;
            indices[next[j]] = i;
            next[j] += 1;
        }
    }
    let nnz = indices.len();
    CsStructure::new_csc((n_rows, n_cols), count, indices, vec![(); nnz])
}

/// Runs `f` on the buffers in `m`, or — when another evaluation of the same problem holds them
/// (several workspaces evaluating one `Derived` on several threads) — on fresh ones made by
/// `make`: evaluations never wait for each other, and a thread that rayon lets run another
/// evaluation while it waits inside a fill can never deadlock on its own lock. Only such
/// concurrent use allocates.
fn with_buffers<T, R>(m: &Mutex<T>, make: impl FnOnce() -> T, f: impl FnOnce(&mut T) -> R) -> R {
    match m.try_lock() {
        Ok(mut guard) => f(&mut guard),
        // a panic in a model while holding the buffers leaves them valid to overwrite
        Err(std::sync::TryLockError::Poisoned(p)) => f(&mut p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => f(&mut make()),
    }
}

impl<M: Model> Derived<M> {
    /// Detects the patterns of `model` and colors its Jacobians (once).
    ///
    /// # Errors
    /// [`Error::Invalid`] for `n_u = 0`; [`Error::ValueDuringDetection`] when the model calls
    /// [`Scalar::value`] (its pattern would depend on a branch: hand in the patterns with
    /// [`Derived::with_patterns`] instead); [`Error::OutOfMemory`] for sizes this process
    /// cannot hold.
    pub fn new(model: M) -> Result<Self> {
        let (n_u, n_t) = (model.n_state(), model.n_params());
        Self::check_sizes(n_u, n_t)?;
        let traced = tracer::trace(n_u, n_t, |u, t| {
            let mut f = vec![<Tracer as Scalar>::zero(); n_u];
            model.residual(u, t, &mut f);
            f
        })
        .map_err(|()| Error::ValueDuringDetection {
            what: "the residual".into(),
        })?;
        let dfdu = pattern_from_rows(&traced.rows, n_u, 0);
        let dfdtheta = pattern_from_rows(&traced.rows, n_t, n_u as u32);
        Self::build(
            model,
            Patterns {
                dfdu,
                dfdtheta,
                linear_in_u: !traced.nonlinear_in_u,
            },
        )
    }

    /// Uses patterns the caller knows instead of detecting them (for a model whose code
    /// branches on values). They are checked at a random point: `J v` from one extra
    /// forward-mode evaluation in a random direction `v` must equal the compressed Jacobian
    /// times `v`, which fails (almost surely) when an entry is missing from a pattern.
    ///
    /// # Errors
    /// [`Error::Shape`] for patterns of the wrong size; [`Error::Invalid`] when the check
    /// finds an entry outside a pattern.
    pub fn with_patterns(model: M, patterns: Patterns) -> Result<Self> {
        let (n_u, n_t) = (model.n_state(), model.n_params());
        Self::check_sizes(n_u, n_t)?;
        for (what, shape, expected) in [
            ("df/du pattern", patterns.dfdu.shape(), (n_u, n_u)),
            ("df/dtheta pattern", patterns.dfdtheta.shape(), (n_u, n_t)),
        ] {
            if shape != expected || !patterns.dfdu.is_csc() || !patterns.dfdtheta.is_csc() {
                return Err(Error::Shape {
                    what: what.into(),
                    expected: format!("{}×{} CSC", expected.0, expected.1),
                    found: format!("{}×{}", shape.0, shape.1),
                });
            }
        }
        let derived = Self::build(model, patterns)?;
        derived.check_patterns_at_random_point()?;
        Ok(derived)
    }

    fn check_sizes(n_u: usize, n_t: usize) -> Result<()> {
        if n_u == 0 {
            return Err(Error::invalid("model", "n_state must be at least 1"));
        }
        // the dual buffers dominate: (n_u + n_θ + n_u) numbers of up to 9 f64 per Jacobian
        let bytes = 8.0 * 9.0 * 2.0 * (2.0 * n_u as f64 + n_t as f64) + 200.0 * (n_u + n_t) as f64;
        crate::resources::ensure_memory("the model", bytes)
    }

    fn build(model: M, patterns: Patterns) -> Result<Self> {
        let (n_u, n_t) = (model.n_state(), model.n_params());
        // the objective's patterns, by one traced evaluation
        let traced = tracer::trace(n_u, n_t, |u, t| vec![model.objective(u, t)]).map_err(|()| {
            Error::ValueDuringDetection {
                what: "the objective".into(),
            }
        })?;
        let deps = &traced.rows[0];
        let dl_du_pattern = deps
            .iter()
            .filter(|&&k| (k as usize) < n_u)
            .map(|&k| k as usize)
            .collect();
        let dl_dtheta_pattern = deps
            .iter()
            .filter(|&&k| (k as usize) >= n_u)
            .map(|&k| k as usize - n_u)
            .collect();
        let dfdu_plan = Plan::new(&patterns.dfdu);
        let dfdtheta_plan = Plan::new(&patterns.dfdtheta);
        Ok(Derived {
            jac_u: Mutex::new(Buffers::new(dfdu_plan.width, n_u, n_t)),
            jac_t: Mutex::new(Buffers::new(dfdtheta_plan.width, n_u, n_t)),
            newton: Mutex::new(NewtonWork::new(n_u)),
            objective: Mutex::new(ObjectiveWork::default()),
            model,
            n_u,
            n_t,
            dfdu: patterns.dfdu,
            dfdtheta: patterns.dfdtheta,
            dfdu_plan,
            dfdtheta_plan,
            dl_du_pattern,
            dl_dtheta_pattern,
            linear_in_u: patterns.linear_in_u,
        })
    }

    /// `J v` by one dual evaluation against the compressed Jacobian times `v`, for both
    /// Jacobians, at a random point.
    fn check_patterns_at_random_point(&self) -> Result<()> {
        use rand::RngExt;
        let mut rng = crate::rng::generator(0x5eed);
        let u: Vec<f64> = (0..self.n_u).map(|_| rng.random::<f64>() + 0.5).collect();
        let t: Vec<f64> = (0..self.n_t).map(|_| rng.random::<f64>() + 0.5).collect();
        for wrt_theta in [false, true] {
            let (pattern, n) = if wrt_theta {
                (&self.dfdtheta, self.n_t)
            } else {
                (&self.dfdu, self.n_u)
            };
            let v: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
            let mut values = vec![0.0; pattern.nnz()];
            if wrt_theta {
                self.fill_dfdtheta(&u, &t, &mut values)?;
            } else {
                self.fill_dfdu(&u, &t, &mut values)?;
            }
            let mut jv = vec![0.0; self.n_u];
            let base = pattern.indptr().index(0);
            for (j, col) in pattern.outer_iterator().enumerate() {
                let start = pattern.indptr().index(j) - base;
                for (k, (i, _)) in col.iter().enumerate() {
                    jv[i] += values[start + k] * v[j];
                }
            }
            // the directional derivative, exactly, from one dual evaluation
            let du: Vec<Dual<1>> = u
                .iter()
                .enumerate()
                .map(|(j, &x)| Dual {
                    re: x,
                    eps: [if wrt_theta { 0.0 } else { v[j] }],
                })
                .collect();
            let dt: Vec<Dual<1>> = t
                .iter()
                .enumerate()
                .map(|(j, &x)| Dual {
                    re: x,
                    eps: [if wrt_theta { v[j] } else { 0.0 }],
                })
                .collect();
            let mut f = vec![Dual::<1>::constant(0.0); self.n_u];
            self.model.residual(&du, &dt, &mut f);
            for (i, (a, b)) in jv.iter().zip(&f).enumerate() {
                let b = b.eps[0];
                if (a - b).abs() > 1e-8 * (1.0 + a.abs().max(b.abs())) {
                    return Err(Error::invalid(
                        if wrt_theta { "df/dtheta pattern" } else { "df/du pattern" },
                        format!(
                            "row {i} depends on an entry the pattern does not hold (J·v = {b:e}, the pattern gives {a:e})"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The values of both Jacobians at `(u, θ)` (CSC storage order of
    /// [`dfdu_structure`](Self::dfdu_structure) and [`dfdtheta_structure`](Self::dfdtheta_structure)),
    /// the two compressed evaluations on two threads. The engine does the same through
    /// [`Jacobians`], with `∂f/∂θ` filled while the adjoint solve runs.
    ///
    /// # Errors
    /// As [`Jacobians::fill_dfdu`] (none today).
    ///
    /// # Panics
    /// When the slices do not have the patterns' lengths (a programming error).
    pub fn fill_jacobians(
        &self,
        u: &[f64],
        theta: &[f64],
        dfdu: &mut [f64],
        dfdtheta: &mut [f64],
    ) -> Result<()>
    where
        M: Sync,
    {
        assert_eq!(dfdu.len(), self.dfdu.nnz(), "fill_jacobians: df/du length");
        assert_eq!(
            dfdtheta.len(),
            self.dfdtheta.nnz(),
            "fill_jacobians: df/dθ length"
        );
        let (a, b) = rayon::join(
            || self.fill_dfdu(u, theta, dfdu),
            || self.fill_dfdtheta(u, theta, dfdtheta),
        );
        a.and(b)
    }

    /// The colorings: colors used for `∂f/∂u` and `∂f/∂θ`, and their lower bounds.
    pub fn coloring(&self) -> Coloring {
        Coloring {
            dfdu: self.dfdu_plan.coloring.n_colors,
            dfdtheta: self.dfdtheta_plan.coloring.n_colors,
            dfdu_bound: self.dfdu_plan.coloring.bound,
            dfdtheta_bound: self.dfdtheta_plan.coloring.bound,
        }
    }

    /// The column colors of `∂f/∂u` (`wrt_theta = false`) or `∂f/∂θ`.
    pub fn column_colors(&self, wrt_theta: bool) -> &[u32] {
        if wrt_theta {
            &self.dfdtheta_plan.coloring.colors
        } else {
            &self.dfdu_plan.coloring.colors
        }
    }

    /// The detected (or given) pattern of `∂f/∂u`.
    pub fn dfdu_structure(&self) -> &CsStructure {
        &self.dfdu
    }

    /// The detected (or given) pattern of `∂f/∂θ`.
    pub fn dfdtheta_structure(&self) -> &CsStructure {
        &self.dfdtheta
    }

    /// The entries of `∂L/∂u` that can be nonzero.
    pub fn dl_du_pattern(&self) -> &[usize] {
        &self.dl_du_pattern
    }

    /// The entries of `∂L/∂θ` that can be nonzero (empty: the objective does not read `θ`).
    pub fn dl_dtheta_pattern(&self) -> &[usize] {
        &self.dl_dtheta_pattern
    }

    /// Whether the residual is linear in `u` (detected: no product of two `u`-dependent
    /// values, no division by one, no nonlinear function of one).
    pub fn is_linear_in_u(&self) -> bool {
        self.linear_in_u
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// One reverse-mode evaluation of `L` at `(u, θ)`; `read` gets `L` and
    /// `[∂L/∂u; ∂L/∂θ]`.
    fn taped<R>(&self, u: &[f64], theta: &[f64], read: impl FnOnce(f64, &[f64]) -> R) -> R {
        let n_u = self.n_u;
        with_buffers(&self.objective, ObjectiveWork::default, |w| {
            w.tape.gradient(
                &[u, theta],
                &mut w.inputs,
                |x| self.model.objective(&x[..n_u], &x[n_u..]),
                read,
            )
        })
    }
}

impl<M: Model> Problem for Derived<M> {
    fn n_state(&self) -> usize {
        self.n_u
    }
    fn n_params(&self) -> usize {
        self.n_t
    }
}

impl<M: Model> Residual for Derived<M> {
    fn residual(&self, u: &[f64], theta: &[f64], f: &mut [f64]) -> Result<()> {
        crate::error::check_vector("u", u, self.n_u)?;
        crate::error::check_vector("theta", theta, self.n_t)?;
        f.fill(0.0);
        self.model.residual(u, theta, f);
        Ok(())
    }
}

impl<M: Model> Objective for Derived<M> {
    fn objective(&self, u: &[f64], theta: &[f64]) -> Result<f64> {
        Ok(self.model.objective(u, theta))
    }

    fn objective_partial_u(&self, u: &[f64], theta: &[f64], dl_du: &mut [f64]) -> Result<()> {
        self.objective_with_partial_u(u, theta, dl_du).map(|_| ())
    }

    /// One taped evaluation: `L` and `∂L/∂u` together.
    fn objective_with_partial_u(&self, u: &[f64], theta: &[f64], dl_du: &mut [f64]) -> Result<f64> {
        Ok(self.taped(u, theta, |value, grad| {
            dl_du.copy_from_slice(&grad[..self.n_u]);
            value
        }))
    }

    fn objective_partial_theta(
        &self,
        u: &[f64],
        theta: &[f64],
        dl_dtheta: &mut [f64],
    ) -> Result<Partial> {
        if self.dl_dtheta_pattern.is_empty() {
            return Ok(Partial::Zero);
        }
        self.taped(u, theta, |_, grad| {
            dl_dtheta.copy_from_slice(&grad[self.n_u..]);
        });
        Ok(Partial::Written)
    }
}

impl<M: Model> Jacobians for Derived<M> {
    fn dfdu_pattern(&self) -> CsStructure {
        self.dfdu.clone()
    }

    /// Compressed forward mode: `⌈colors / width⌉` residual evaluations on duals.
    fn fill_dfdu(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        with_buffers(
            &self.jac_u,
            || Buffers::new(self.dfdu_plan.width, self.n_u, self.n_t),
            |b| b.fill(&self.model, &self.dfdu_plan, false, u, theta, values),
        );
        Ok(())
    }

    fn dfdtheta_pattern(&self) -> CsStructure {
        self.dfdtheta.clone()
    }

    fn fill_dfdtheta(&self, u: &[f64], theta: &[f64], values: &mut [f64]) -> Result<()> {
        with_buffers(
            &self.jac_t,
            || Buffers::new(self.dfdtheta_plan.width, self.n_u, self.n_t),
            |b| b.fill(&self.model, &self.dfdtheta_plan, true, u, theta, values),
        );
        Ok(())
    }

    fn dfdu_depends_on_u(&self) -> bool {
        !self.linear_in_u
    }
}

impl<M: Model> StateSolve for Derived<M> {
    /// Newton's method ([`newton`]), warm-started from the previous evaluation's state.
    fn solve_state(
        &self,
        theta: &[f64],
        jacobian: &mut dyn JacobianSolve,
        u: &mut [f64],
    ) -> Result<()> {
        self.model.check_params(theta)?;
        if !jacobian.previous_state() {
            self.model.initial_state(theta, u);
            crate::error::check_finite("initial state u", u)?;
        }
        let steps = with_buffers(
            &self.newton,
            || NewtonWork::new(self.n_u),
            |w| {
                newton::solve(jacobian, u, w, self.linear_in_u, |x, f| {
                    f.fill(0.0);
                    self.model.residual(x, theta, f)
                })
            },
        )?;
        jacobian.set_state_iterations(steps);
        Ok(())
    }
}
