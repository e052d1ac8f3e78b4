//! [`OdeWorkspace`]: the gradient of a time-stepping problem in the explicit or the
//! checkpointed mode.
//!
//! **Explicit mode**: the march keeps every state `x_0 … x_K`; the stacked `∂f/∂u` and
//! `∂f/∂θ` are assembled and held (for inspection and export), `λ` comes from one
//! [`BlockTriangularSolver`] sweep over the stacked `∂f/∂u` (its analysis done once per
//! workspace), and the gradient is accumulated step by step, `k = K … 1`.
//!
//! **Checkpointed mode** (binomial checkpointing in the manner of Griewank and Walther's
//! *revolve*): the march keeps at most `s` states (the first is `x_0`); reversing a range
//! of steps `(a, b]` from the state `x_a`, with `c` more slots free, advances to a split point
//! `m`, stores `x_m`, reverses `(m, b]` with `c − 1` slots, then `(a, m]` with `c`. With no slot
//! free, each step of the range is recomputed from `x_a`. The split puts `min(l − 1, β(c − 1, t))`
//! steps on the right, where `t` is the least number of times a step may be computed such that
//! `β(c, t) ≥ l` for this recursion's capacity `β(c, t) = C(c + t, c + 1)` (`β(0, t) = t`,
//! `β(c, t) = β(c − 1, t) + β(c, t − 1)`). A step's end state is kept for the step before it
//! (`x_{k−1}` of step `k` is `x_k` of step `k − 1`), so with `s ≥ K` nothing is recomputed.
//! States held: the slots in use plus three working states, `O(s n)` instead of `O(K n)`. [`OdeStats::recomputed_steps`] counts the steps
//! computed more than once.
//!
//! Both modes compute every step's blocks with the same kernels from the same states, solve
//! each diagonal block with the same [`BlockTriangularSolver`] kernel after forming
//! `r_j − Σ_i (S_{k+1})_{ij} λ_{k+1,i}` in the same order, and accumulate
//! `h_k ∂l/∂θ + (∂f_k/∂θ)ᵀ λ_k` for `k = K … 1`: their gradients agree bit for bit.

use super::step::{accumulate, advance, dl_dx_block, reverse, StepWork};
use super::{OdeModel, OdeProblem};
use crate::adjoint::Timings;
#[allow(unused_imports)]
use crate::problem::Objective as _;
use crate::problem::{Jacobians, Partial, Problem};
use crate::solve::{BlockTriangularSolver, Factorization, Solver, SolverKind};
use crate::{Error, Result};

/// Stacked problems of at least this many unknowns assemble `∂f/∂u`, `∂f/∂θ` and `(∂L/∂u)ᵀ`
/// beside the march, on a second thread (unless rayon is held to one, `RAYON_NUM_THREADS=1`),
/// in chunks of [`PIPELINE_CHUNK`] steps; the values do not depend on which thread made them.
const PIPELINE_STEPS: usize = 1 << 12;
const PIPELINE_CHUNK: usize = 512;

use sprs::CsMat;
use std::time::Instant;

/// Receives each finished chunk of the march: its first step `b0`, `x_{b0−1}` and the
/// chunk's states.
type ChunkSink<'a> = dyn FnMut(usize, &[f64], &[f64]) -> Result<()> + 'a;

/// How an [`OdeWorkspace`] stores the trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every state and every block held: `O(K n)` memory, inspectable and exportable.
    Explicit,
    /// Binomial checkpointing with this many stored states (at least 1: `x_0`).
    Checkpointed {
        /// `s ≥ 1`.
        checkpoints: usize,
    },
}

/// What the last evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OdeStats {
    /// Newton iterations of the forward march (each step's first computation).
    pub newton_iterations: usize,
    /// Steps computed again during the backward sweep (0 in the explicit mode).
    pub recomputed_steps: usize,
    /// The most bytes of stored states (`x_k` and checkpoints) held at any moment.
    pub peak_state_memory_bytes: usize,
    /// The checkpoint slots of the mode: the `s` asked for, at most `K` (0 in the explicit
    /// mode).
    pub checkpoints: usize,
}

/// Reusable state of the gradient of one [`OdeProblem`] (see the module documentation).
#[derive(Debug)]
pub struct OdeWorkspace {
    mode: Mode,
    explicit_euler: bool,
    n: usize,
    steps: usize,
    work: StepWork,
    /// Explicit: `x_1 … x_K` (the engine's `u`). Checkpointed: the slots, `s n`.
    states: Vec<f64>,
    x0: Vec<f64>,
    explicit: Option<Explicit>,
    /// Checkpointed: `λ_{k+1}` and `λ_k`, two working states.
    lambda_next: Vec<f64>,
    lambda_k: Vec<f64>,
    cur: Vec<f64>,
    nxt: Vec<f64>,
    spare: Vec<f64>,
    /// Which state `nxt` holds, when it is one the sweep will need next.
    held: Option<usize>,
    gradient: Vec<f64>,
    objective: f64,
    stats: OdeStats,
    timings: Timings,
    /// Checkpointed bookkeeping.
    computed: usize,
    first_new: usize,
    sum: f64,
    terminal: f64,
    max_slots: usize,
}

/// What the explicit mode holds.
#[derive(Debug)]
struct Explicit {
    dfdu: CsMat<f64>,
    dfdtheta: CsMat<f64>,
    solver: Sweep,
    dl_du: Vec<f64>,
    lambda: Vec<f64>,
}

/// The sweep over the stacked `∂f/∂u`: triangular for explicit Euler (identity diagonal
/// blocks: the stacked matrix is unit lower triangular), block-triangular otherwise — its
/// diagonal blocks factorized chunk by chunk as the assembly finishes them.
#[derive(Debug)]
enum Sweep {
    Triangular(Solver),
    Blocks(Box<BlockTriangularSolver>),
}

impl Sweep {
    fn name(&self) -> &'static str {
        match self {
            Sweep::Triangular(s) => s.name(),
            Sweep::Blocks(s) => s.name(),
        }
    }
}

impl OdeWorkspace {
    /// Allocates the buffers of `mode` (and for the explicit mode the stacked matrices, with
    /// the block-triangular analysis of `∂f/∂u`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for `checkpoints = 0`; [`Error::OutOfMemory`].
    pub fn new<M: OdeModel>(p: &OdeProblem<M>, mode: Mode) -> Result<Self> {
        let (n, steps) = (p.n(), p.steps());
        let explicit = match mode {
            Mode::Explicit => {
                p.prepare_stacked()?;
                crate::resources::ensure_memory(
                    "the states of every step",
                    8.0 * 4.0 * (steps * n) as f64,
                )?;
                let dfdu = crate::sparse::zeros_from(p.dfdu_pattern(), "df/du")?;
                let pattern = p.dfdu_pattern();
                let solver = if p.kernels.w == 0.0 {
                    Sweep::Triangular(Solver::analyze(&pattern, SolverKind::Triangular)?)
                } else {
                    let offsets = p.block_offsets();
                    Sweep::Blocks(Box::new(BlockTriangularSolver::analyze(
                        &pattern, &offsets,
                    )?))
                };
                Some(Explicit {
                    dfdtheta: crate::sparse::zeros_from(p.dfdtheta_pattern(), "df/dtheta")?,
                    dfdu,
                    solver,
                    dl_du: vec![0.0; steps * n],
                    lambda: vec![0.0; steps * n],
                })
            }
            Mode::Checkpointed { checkpoints: 0 } => {
                return Err(Error::invalid(
                    "checkpoints",
                    "must be at least 1 (the initial state)",
                ))
            }
            Mode::Checkpointed { .. } => None,
        };
        let slots = match mode {
            Mode::Explicit => steps * n,
            Mode::Checkpointed { checkpoints } => checkpoints.min(steps) * n,
        };
        Ok(OdeWorkspace {
            mode,
            explicit_euler: p.kernels.w == 0.0,
            n,
            steps,
            work: StepWork::new(&p.kernels)?,
            states: vec![0.0; slots],
            x0: vec![0.0; n],
            explicit,
            lambda_next: vec![0.0; n],
            lambda_k: vec![0.0; n],
            cur: vec![0.0; n],
            nxt: vec![0.0; n],
            spare: vec![0.0; n],
            held: None,
            gradient: vec![0.0; p.n_params()],
            objective: f64::NAN,
            stats: OdeStats::default(),
            timings: Timings::default(),
            computed: 0,
            first_new: 1,
            sum: 0.0,
            terminal: 0.0,
            max_slots: 0,
        })
    }

    /// `L(u(θ), θ)` and its gradient at `θ` (then read by the accessors).
    ///
    /// # Errors
    /// A bad `θ`; [`Error::TimeStep`] naming a step whose Newton solve or block failed; a
    /// non-finite objective or gradient.
    ///
    /// # Panics
    /// With a problem of other sizes than the workspace was made for.
    pub fn evaluate<M: OdeModel>(&mut self, p: &OdeProblem<M>, theta: &[f64]) -> Result<f64> {
        assert_eq!(
            (p.n(), p.steps()),
            (self.n, self.steps),
            "OdeWorkspace used with another problem"
        );
        let start = Instant::now();
        self.objective = f64::NAN;
        self.timings = Timings::default();
        p.check_theta(theta)?;
        p.kernels.x0(theta, &mut self.x0);
        crate::error::check_finite("initial state x0", &self.x0)?;
        let objective = match self.mode {
            Mode::Explicit => self.explicit(p, theta)?,
            Mode::Checkpointed { checkpoints } => self.checkpointed(p, theta, checkpoints)?,
        };
        crate::error::check_scalar("objective L", objective)?;
        crate::error::check_finite("gradient dL/dtheta", &self.gradient)?;
        self.timings.total = start.elapsed();
        self.objective = objective;
        Ok(objective)
    }

    fn explicit<M: OdeModel>(&mut self, p: &OdeProblem<M>, theta: &[f64]) -> Result<f64> {
        let (n, steps, k, grid) = (self.n, self.steps, &p.kernels, &p.grid);
        let t = Instant::now();
        let Explicit {
            dfdu,
            dfdtheta,
            solver,
            dl_du,
            lambda,
        } = self.explicit.as_mut().expect("explicit mode");
        let (states, x0, work) = (&mut self.states, &self.x0, &mut self.work);
        // The march, and beside it (on a second thread for large problems) the assembly of
        // each finished chunk of steps: ∂f/∂u's column blocks and (∂L/∂u)ᵀ need x_b, ∂f/∂θ's
        // rows x_{b−1} and x_b. `with_prev = [x_{b0−1}; x_{b0}; …]`.
        let assemble = |b0: usize,
                        with_prev: &[f64],
                        dfdu: &mut [f64],
                        dl: &mut [f64],
                        dfdtheta: &mut [f64],
                        sweep: &mut Sweep|
         -> Result<std::time::Duration> {
            let xs = &with_prev[n..];
            let b1 = b0 + xs.len() / n;
            let (start, end) = (
                p.dfdu_block_start(b0),
                p.dfdu_block_start(b1).min(dfdu.len()),
            );
            p.fill_dfdu_steps(xs, theta, b0..b1, &mut dfdu[start..end])?;
            p.fill_dfdtheta_steps(with_prev, theta, b0..b1, dfdtheta)?;
            let mut scratch = vec![0.0; n];
            for b in b0..b1 {
                let x = &xs[(b - b0) * n..(b - b0 + 1) * n];
                dl_dx_block(
                    k,
                    grid,
                    b,
                    theta,
                    x,
                    &mut dl[(b - 1) * n..b * n],
                    &mut scratch,
                )?;
            }
            // the chunk's diagonal blocks (block b − 1 holds step b)
            let t = Instant::now();
            if let Sweep::Blocks(s) = sweep {
                s.factor_columns(dfdu, b0 - 1..b1 - 1, "df/du")
                    .map_err(|err| at_step(err, n, grid))?;
            }
            Ok(t.elapsed())
        };
        let mut march = |send: &mut ChunkSink<'_>| -> Result<(usize, f64)> {
            let (mut iterations, mut sum) = (0, 0.0);
            let mut b0 = 1;
            for s in 1..=steps {
                let (done, rest) = states.split_at_mut((s - 1) * n);
                let prev = if s == 1 {
                    &x0[..]
                } else {
                    &done[(s - 2) * n..]
                };
                let x = &mut rest[..n];
                iterations += advance(k, grid, s, theta, prev, x, work)?;
                sum += grid.h(s) * k.cost(grid.t(s), x, theta);
                if s - b0 + 1 == PIPELINE_CHUNK || s == steps {
                    let prev = if b0 == 1 {
                        &x0[..]
                    } else {
                        &states[(b0 - 2) * n..(b0 - 1) * n]
                    };
                    send(b0, prev, &states[(b0 - 1) * n..s * n])?;
                    b0 = s + 1;
                }
            }
            Ok((iterations, sum))
        };
        let pipelined = steps * n >= PIPELINE_STEPS && rayon::current_num_threads() > 1;
        let dfdu_values = dfdu.data_mut();
        let dfdtheta_values = dfdtheta.data_mut();
        if let Sweep::Blocks(s) = solver {
            s.begin_factor();
        }
        type Busy = (std::time::Duration, std::time::Duration);
        let (iterations, sum, (assemble_time, factor_time)) = if pipelined {
            std::thread::scope(|scope| -> Result<(usize, f64, Busy)> {
                let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<f64>)>(8);
                let dl = &mut dl_du[..];
                let sweep = &mut *solver;
                let consumer = scope.spawn(move || -> Result<Busy> {
                    let mut busy = (std::time::Duration::ZERO, std::time::Duration::ZERO);
                    for (b0, xs) in rx {
                        let t = Instant::now();
                        let f = assemble(b0, &xs, dfdu_values, dl, dfdtheta_values, sweep)?;
                        busy.0 += t.elapsed().saturating_sub(f);
                        busy.1 += f;
                    }
                    Ok(busy)
                });
                let marched = march(&mut |b0, prev, xs| {
                    let mut chunk = Vec::with_capacity(prev.len() + xs.len());
                    chunk.extend_from_slice(prev);
                    chunk.extend_from_slice(xs);
                    // a consumer that stopped has an error to report: it is joined below
                    let _ = tx.send((b0, chunk));
                    Ok(())
                });
                drop(tx);
                let assembled = consumer.join().expect("the assembly thread does not panic");
                let (iterations, sum) = marched?;
                Ok((iterations, sum, assembled?))
            })?
        } else {
            let mut busy = (std::time::Duration::ZERO, std::time::Duration::ZERO);
            let dl = &mut dl_du[..];
            let sweep = &mut *solver;
            let mut chunk = Vec::new();
            let (iterations, sum) = march(&mut |b0, prev, xs| {
                let t = Instant::now();
                chunk.clear();
                chunk.extend_from_slice(prev);
                chunk.extend_from_slice(xs);
                let f = assemble(b0, &chunk, dfdu_values, dl, dfdtheta_values, sweep)?;
                busy.0 += t.elapsed().saturating_sub(f);
                busy.1 += f;
                Ok(())
            })?;
            (iterations, sum, busy)
        };
        let u = &self.states[..];
        let objective = sum + k.terminal(&u[(steps - 1) * n..], theta);
        self.timings.state_solve = t.elapsed().saturating_sub(if pipelined {
            std::time::Duration::ZERO
        } else {
            assemble_time + factor_time
        });
        let t = Instant::now();
        match solver {
            Sweep::Triangular(s) => s
                .factor(dfdu, "df/du")
                .map_err(|err| at_step(err, n, grid))?,
            Sweep::Blocks(s) => s.end_factor(),
        }
        let factor = factor_time + t.elapsed();
        let t = Instant::now();
        match solver {
            Sweep::Triangular(s) => s.solve_transpose_scaled_into(dl_du, -1.0, lambda)?,
            Sweep::Blocks(s) => s.solve_transpose_scaled_into(dl_du, -1.0, lambda)?,
        }
        let (assemble, adjoint) = (assemble_time, t.elapsed());
        self.timings.assemble = assemble;
        self.timings.factor = factor;
        self.timings.adjoint_solve = adjoint;
        let t = Instant::now();
        start_gradient(p, theta, &u[(steps - 1) * n..], &mut self.gradient)?;
        let e = self.explicit.as_ref().expect("explicit mode");
        let mut pv = vec![0.0; p.kernels.tp.nnz()];
        for s in (1..=steps).rev() {
            let x = &u[(s - 1) * n..s * n];
            let prev = if s == 1 {
                &self.x0[..]
            } else {
                &u[(s - 2) * n..(s - 1) * n]
            };
            let held = p.step_theta_values(e.dfdtheta.data(), s, &mut pv);
            accumulate(
                k,
                grid,
                s,
                theta,
                prev,
                x,
                &e.lambda[(s - 1) * n..s * n],
                &mut self.gradient,
                held.then_some(&pv[..]),
                &mut self.work,
            )?;
        }
        self.timings.gradient = t.elapsed();
        self.stats = OdeStats {
            newton_iterations: iterations,
            recomputed_steps: 0,
            peak_state_memory_bytes: 8 * (steps + 1) * n,
            checkpoints: 0,
        };
        Ok(objective)
    }

    fn checkpointed<M: OdeModel>(
        &mut self,
        p: &OdeProblem<M>,
        theta: &[f64],
        checkpoints: usize,
    ) -> Result<f64> {
        let n = self.n;
        self.computed = 0;
        self.first_new = 1;
        self.sum = 0.0;
        self.max_slots = 1;
        self.stats = OdeStats::default();
        self.states[..n].copy_from_slice(&self.x0);
        let slots = checkpoints.min(self.steps);
        self.held = None;
        self.reverse_range(p, theta, 0, self.steps, 0, slots - 1)?;
        self.stats.recomputed_steps = self.computed - self.steps;
        self.stats.checkpoints = slots;
        // the slots in use at most, and the three working states
        self.stats.peak_state_memory_bytes = 8 * n * (self.max_slots + 3);
        Ok(self.sum + self.terminal)
    }

    /// Step `s` from `cur = x_{s−1}` into `nxt` (or into `spare`), with the bookkeeping of
    /// first computations.
    fn advance_one<M: OdeModel>(
        &mut self,
        p: &OdeProblem<M>,
        theta: &[f64],
        s: usize,
        into_nxt: bool,
    ) -> Result<()> {
        let t = Instant::now();
        let slot = if into_nxt {
            &mut self.nxt
        } else {
            &mut self.spare
        };
        let mut out = std::mem::take(slot);
        let result = advance(
            &p.kernels,
            &p.grid,
            s,
            theta,
            &self.cur,
            &mut out,
            &mut self.work,
        );
        if let Ok(iterations) = result {
            self.computed += 1;
            if s == self.first_new {
                self.first_new += 1;
                self.stats.newton_iterations += iterations;
                self.sum += p.grid.h(s) * p.kernels.cost(p.grid.t(s), &out, theta);
            }
        }
        *(if into_nxt {
            &mut self.nxt
        } else {
            &mut self.spare
        }) = out;
        self.timings.state_solve += t.elapsed();
        result.map(|_| ())
    }

    /// `cur = x_b` from `cur = x_a` (through `spare`; `nxt` is left alone).
    fn advance_to<M: OdeModel>(
        &mut self,
        p: &OdeProblem<M>,
        theta: &[f64],
        a: usize,
        b: usize,
    ) -> Result<()> {
        for s in a + 1..=b {
            self.advance_one(p, theta, s, false)?;
            std::mem::swap(&mut self.cur, &mut self.spare);
        }
        Ok(())
    }

    /// Reverses steps `a + 1 … b` from `x_a` in slot `slot`, with `free` more slots.
    fn reverse_range<M: OdeModel>(
        &mut self,
        p: &OdeProblem<M>,
        theta: &[f64],
        a: usize,
        b: usize,
        slot: usize,
        free: usize,
    ) -> Result<()> {
        let n = self.n;
        let l = b - a;
        if l == 1 || free == 0 {
            for s in (a + 1..=b).rev() {
                self.cur
                    .copy_from_slice(&self.states[slot * n..(slot + 1) * n]);
                self.advance_to(p, theta, a, s - 1)?;
                // x_s is at hand when step s + 1 was just reversed: its x_{s}
                if self.held != Some(s) {
                    self.advance_one(p, theta, s, true)?;
                }
                self.reverse_step(p, theta, s)?;
                std::mem::swap(&mut self.cur, &mut self.nxt);
                self.held = Some(s - 1);
            }
            return Ok(());
        }
        let m = b - right_part(l, free);
        self.cur
            .copy_from_slice(&self.states[slot * n..(slot + 1) * n]);
        self.advance_to(p, theta, a, m)?;
        self.states[(slot + 1) * n..(slot + 2) * n].copy_from_slice(&self.cur);
        self.max_slots = self.max_slots.max(slot + 2);
        self.reverse_range(p, theta, m, b, slot + 1, free - 1)?;
        self.reverse_range(p, theta, a, m, slot, free)
    }

    /// The adjoint step `s` with `cur = x_{s−1}`, `nxt = x_s`, `lambda_next = λ_{s+1}`.
    fn reverse_step<M: OdeModel>(
        &mut self,
        p: &OdeProblem<M>,
        theta: &[f64],
        s: usize,
    ) -> Result<()> {
        let (k, grid) = (&p.kernels, &p.grid);
        let t = Instant::now();
        let next = (s < self.steps).then_some(&self.lambda_next[..]);
        reverse(
            k,
            grid,
            s,
            theta,
            &self.nxt,
            next,
            &mut self.lambda_k,
            &mut self.work,
        )?;
        self.timings.adjoint_solve += t.elapsed();
        let t = Instant::now();
        if s == self.steps {
            self.terminal = k.terminal(&self.nxt, theta);
            start_gradient(p, theta, &self.nxt, &mut self.gradient)?;
        }
        accumulate(
            k,
            grid,
            s,
            theta,
            &self.cur,
            &self.nxt,
            &self.lambda_k,
            &mut self.gradient,
            None,
            &mut self.work,
        )?;
        std::mem::swap(&mut self.lambda_next, &mut self.lambda_k);
        self.timings.gradient += t.elapsed();
        Ok(())
    }

    /// `(dL/dθ)ᵀ` of the last evaluation.
    pub fn gradient(&self) -> &[f64] {
        &self.gradient
    }
    /// `L` of the last evaluation (NaN after an error).
    pub fn objective(&self) -> f64 {
        self.objective
    }
    /// What the last evaluation did.
    pub fn stats(&self) -> &OdeStats {
        &self.stats
    }
    /// Timings of the last evaluation's phases (in the checkpointed mode `state_solve`
    /// counts every forward step, recomputations included).
    pub fn timings(&self) -> &Timings {
        &self.timings
    }
    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// Explicit mode: the states `u = [x_1; …; x_K]`.
    pub fn u(&self) -> Option<&[f64]> {
        self.explicit.as_ref().map(|_| &self.states[..])
    }
    /// Explicit mode: the adjoint `λ = [λ_1; …; λ_K]`.
    pub fn lambda(&self) -> Option<&[f64]> {
        self.explicit.as_ref().map(|e| &e.lambda[..])
    }
    /// Explicit mode: `(∂L/∂u)ᵀ`.
    pub fn dl_du(&self) -> Option<&[f64]> {
        self.explicit.as_ref().map(|e| &e.dl_du[..])
    }
    /// Explicit mode: the stacked `∂f/∂u`.
    pub fn dfdu(&self) -> Option<&CsMat<f64>> {
        self.explicit.as_ref().map(|e| &e.dfdu)
    }
    /// Explicit mode: the stacked `∂f/∂θ`.
    pub fn dfdtheta(&self) -> Option<&CsMat<f64>> {
        self.explicit.as_ref().map(|e| &e.dfdtheta)
    }
    /// The solver's name: `"triangular"` for explicit Euler (identity diagonal blocks: the
    /// stacked `∂f/∂u` is lower triangular, no division), `"block-triangular"` otherwise — the
    /// stacked sweep, or the same kernel step by step in the checkpointed mode.
    pub fn solver_name(&self) -> &'static str {
        match &self.explicit {
            Some(e) => e.solver.name(),
            None if self.explicit_euler => "triangular",
            None => "block-triangular",
        }
    }
}

/// `β(c, t)`: the most steps the recursion reverses with `c` free slots when each step is
/// computed at most `t` times (saturating).
fn capacity(c: usize, t: usize) -> usize {
    // C(c + t, c + 1)
    if t == 0 {
        return 0;
    }
    let (n, k) = (c + t, (c + 1).min(t - 1));
    let mut r: u128 = 1;
    for i in 0..k {
        r = r * (n - i) as u128 / (i + 1) as u128;
        if r > usize::MAX as u128 {
            return usize::MAX;
        }
    }
    r as usize
}

/// Steps on the right of the split of a range of `l ≥ 2` steps with `c ≥ 1` free slots.
fn right_part(l: usize, c: usize) -> usize {
    let mut t = 1;
    while capacity(c, t) < l {
        t += 1;
    }
    (l - 1).min(capacity(c - 1, t)).max(1)
}

/// `grad = ∂Φ/∂θ(x_K)` (or zeros): where both modes start the accumulation.
fn start_gradient<M: OdeModel>(
    p: &OdeProblem<M>,
    theta: &[f64],
    last: &[f64],
    gradient: &mut [f64],
) -> Result<()> {
    gradient.fill(0.0);
    if p.kernels.has_terminal {
        let mut scratch = vec![0.0; gradient.len()];
        if p.kernels.terminal_theta(last, theta, &mut scratch)? == Partial::Written {
            gradient.copy_from_slice(&scratch);
        }
    }
    Ok(())
}

fn at_step(e: Error, n: usize, grid: &super::TimeGrid) -> Error {
    if let Error::SingularPivot { index, .. } = &e {
        let step = index / n + 1;
        return Error::TimeStep {
            step,
            time: grid.t(step),
            source: Box::new(e),
        };
    }
    e
}
