//! Block substitution for `∂f/∂u` whose **block** graph is a DAG
//! ([`check_block_dag`]): the stacked steps of a time integration, where each step's unknowns
//! are coupled among themselves (an implicit step) but a step depends only on earlier ones.
//!
//! With blocks `b` in a topological order of the block graph and `J_bb` the diagonal blocks,
//!
//! ```text
//!   J x = r   (state):    for b in order:          x_b = J_bb⁻¹ r_b;       r_c −= J_cb x_b  (c ≠ b)
//!   Jᵀ λ = r  (adjoint):  for b in reverse order:  λ_b = J_bb⁻ᵀ (r_b − Σ_{c ≠ b} J_cbᵀ λ_c)
//! ```
//!
//! Only the diagonal blocks are factorized:
//!
//! - a block that is exactly an identity (stored diagonal of ones, nothing else but stored
//!   zeros: an explicit Euler step) is skipped — no factorization, no division;
//! - a block of at most [`DENSE_BLOCK`] unknowns gets a dense `LU` with partial pivoting,
//!   stored side by side with the others in one array;
//! - a larger block gets this crate's [`Solver`] (with [`SolverKind::Auto`]: the banded
//!   `LDLᵀ` for a tridiagonal block, Cholesky for another symmetric one, else `LU`). Blocks
//!   with the same pattern share one symbolic analysis: it is done once, and each block's
//!   solver starts as a copy of it.
//!
//! Off the diagonal blocks the sweep reads the caller's CSC columns as they are: the adjoint
//! sweep forms `r_j − Σ_{i ∉ b} J_ij λ_i` for each column `j` of block `b` in storage order,
//! then solves the block. The singularity rule of [`crate::solve`] is applied block by block
//! (its pivots scale with the block), and pivots are reported in the matrix's numbering.
//!
//! # Example
//! ```
//! use adjoint::solve::{BlockTriangularSolver, Factorization};
//! // blocks {0, 1} and {2, 3}; block 1 depends on block 0 through J_20 = 1
//! let mut t = sprs::TriMat::new((4, 4));
//! for (i, j, v) in [(0, 0, 2.0), (0, 1, 1.0), (1, 0, 1.0), (1, 1, 3.0),
//!                   (2, 2, 1.0), (3, 3, 1.0), (2, 0, 1.0)] {
//!     t.add_triplet(i, j, v);
//! }
//! let a: sprs::CsMat<f64> = t.to_csc();
//! let mut s = BlockTriangularSolver::analyze(&adjoint::sparse::pattern_of(&a), &[0, 2, 4])?;
//! s.factor(&a, "J")?;
//! assert_eq!(s.identity_blocks(), 1); // block 1 is an identity: skipped
//! let mut x = vec![3.0, 4.0, 2.0, 0.0];  // J x = r with x = (1, 1, 1, 0)
//! s.solve_in_place(&mut x)?;
//! assert!((x[0] - 1.0).abs() < 1e-15 && (x[1] - 1.0).abs() < 1e-15 && x[2] == 1.0 && x[3] == 0.0);
//! # Ok::<(), adjoint::Error>(())
//! ```

use super::dense::{lu_factor, lu_solve, lu_solve_transpose};
use super::{Factorization, Solver, SolverKind, SolverOptions};
use crate::blocks::identity_entry;
use crate::dag::{check_block_dag, BlockDag};
use crate::{Error, Result};
use sprs::{CsMat, CsStructure};
use std::collections::HashMap;

/// Diagonal blocks of at most this many unknowns are factorized densely.
pub const DENSE_BLOCK: usize = 32;

/// One distinct pattern of diagonal block, analyzed once.
#[derive(Debug, Clone)]
struct Template {
    /// The block's pattern in local indices, with a value array the sparse kernel factors.
    local: CsMat<f64>,
    /// `(row, col)` in local indices of each stored entry, in local CSC order.
    positions: Vec<(u32, u32)>,
    /// Whether every diagonal entry is stored (else the block cannot be an identity).
    full_diagonal: bool,
    /// The analyzed sparse solver, for blocks above [`DENSE_BLOCK`].
    solver: Option<Solver>,
}

/// How a diagonal block was factorized.
#[derive(Debug, Clone)]
enum Factor {
    /// Not factorized yet (or the last factorization failed).
    None,
    /// Exactly an identity: skipped.
    Identity,
    /// Dense `LU` at `dense[at..at + n²]`, pivots at `piv[p..p + n]`.
    Dense { at: usize, p: usize },
    /// This crate's sparse solver, a copy of the template's analysis.
    Sparse(Box<Solver>),
}

/// A block of the sweep.
#[derive(Debug, Clone)]
struct Block {
    start: usize,
    len: usize,
    template: usize,
    /// `slots[s..s + nnz]`: the storage index in the caller's matrix of each entry of the
    /// block's local pattern, in local CSC order.
    s: usize,
    /// Where a dense block's `LU` and pivots are stored.
    at: usize,
    p: usize,
}

/// Substitution over the blocks of a block-DAG matrix, factorizing only its diagonal blocks
/// (see the module documentation).
#[derive(Debug, Clone)]
pub struct BlockTriangularSolver {
    n: usize,
    dag: BlockDag,
    blocks: Vec<Block>,
    templates: Vec<Template>,
    slots: Vec<usize>,
    /// Block of each row.
    row_block: Vec<u32>,
    /// The caller's pattern (column pointers from 0) and the values of the last factor.
    indptr: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
    factors: Vec<Factor>,
    dense: Vec<f64>,
    piv: Vec<u32>,
    options: SolverOptions,
    valid: bool,
    identity_blocks: usize,
}

impl BlockTriangularSolver {
    /// Checks that the block graph of `pattern` under `offsets` is acyclic and analyzes each
    /// distinct diagonal-block pattern once (default solver options for the large blocks).
    ///
    /// # Errors
    /// [`Error::Cycle`] (blocks named) when the block graph has a cycle; [`Error::Shape`],
    /// [`Error::Invalid`] for a non-square pattern or bad offsets; what the block solver's
    /// analysis reports.
    pub fn analyze(pattern: &CsStructure, offsets: &[usize]) -> Result<Self> {
        Self::analyze_with(pattern, offsets, SolverOptions::default())
    }

    /// As [`analyze`](Self::analyze), with the ordering, banded kernel and pivot tolerance of
    /// `options` for the diagonal blocks (its `kind` is ignored: blocks use
    /// [`SolverKind::Auto`]).
    ///
    /// # Errors
    /// As [`analyze`](Self::analyze).
    pub fn analyze_with(
        pattern: &CsStructure,
        offsets: &[usize],
        options: SolverOptions,
    ) -> Result<Self> {
        let pattern = super::square_csc(pattern, "block-triangular pattern")?;
        let dag = check_block_dag(pattern.view(), offsets)?;
        let n = pattern.rows();
        let row_block: Vec<u32> = (0..dag.n_blocks())
            .flat_map(|b| std::iter::repeat_n(b as u32, offsets[b + 1] - offsets[b]))
            .collect();
        let indptr: Vec<usize> = pattern.indptr().raw_storage().to_vec();
        let indices = pattern.indices().to_vec();
        let options = SolverOptions {
            kind: SolverKind::Auto,
            ..options
        };
        let mut templates: Vec<Template> = Vec::new();
        let mut by_pattern: HashMap<(usize, Vec<(u32, u32)>), usize> = HashMap::new();
        let mut blocks = Vec::with_capacity(dag.n_blocks());
        let mut slots = Vec::new();
        let (mut dense_len, mut piv_len) = (0usize, 0usize);
        for b in 0..dag.n_blocks() {
            let (start, end) = (offsets[b], offsets[b + 1]);
            let len = end - start;
            let s = slots.len();
            let mut positions = Vec::new();
            for j in start..end {
                for (k, &i) in indices
                    .iter()
                    .enumerate()
                    .take(indptr[j + 1])
                    .skip(indptr[j])
                {
                    if (start..end).contains(&i) {
                        positions.push(((i - start) as u32, (j - start) as u32));
                        slots.push(k);
                    }
                }
            }
            let key = (len, positions);
            let template = match by_pattern.get(&key) {
                Some(&t) => t,
                None => {
                    let t = templates.len();
                    templates.push(Template::new(len, &key.1, options)?);
                    by_pattern.insert(key, t);
                    t
                }
            };
            let (at, p) = (dense_len, piv_len);
            if len <= DENSE_BLOCK {
                dense_len += len * len;
                piv_len += len;
            }
            blocks.push(Block {
                start,
                len,
                template,
                s,
                at,
                p,
            });
        }
        Ok(BlockTriangularSolver {
            n,
            factors: vec![Factor::None; blocks.len()],
            dag,
            blocks,
            templates,
            slots,
            row_block,
            values: vec![0.0; indices.len()],
            indptr,
            indices,
            dense: vec![0.0; dense_len],
            piv: vec![0; piv_len],
            options,
            valid: false,
            identity_blocks: 0,
        })
    }

    /// The block DAG checked at analysis (its block order is the sweep's).
    pub fn block_dag(&self) -> &BlockDag {
        &self.dag
    }

    /// The number of distinct diagonal-block patterns (symbolic analyses).
    pub fn distinct_patterns(&self) -> usize {
        self.templates.len()
    }

    /// How many diagonal blocks the last factorization found to be exact identities.
    pub fn identity_blocks(&self) -> usize {
        self.identity_blocks
    }

    fn factor_blocks(&mut self, what: &str) -> Result<()> {
        self.identity_blocks = 0;
        for b in 0..self.blocks.len() {
            self.factor_block(b, what)?;
        }
        Ok(())
    }

    /// Factorizes diagonal block `b` from the copied values.
    fn factor_block(&mut self, b: usize, what: &str) -> Result<()> {
        let block = &self.blocks[b];
        let template = &mut self.templates[block.template];
        let nnz = template.positions.len();
        let slots = &self.slots[block.s..block.s + nnz];
        let identity = template.full_diagonal
            && template
                .positions
                .iter()
                .zip(slots)
                .all(|(&(i, j), &k)| identity_entry(i == j, self.values[k]));
        if identity {
            self.factors[b] = Factor::Identity;
            self.identity_blocks += 1;
            return Ok(());
        }
        let (at, p) = (block.at, block.p);
        let remap = |e: Error| remap_error(e, block.start, b, what);
        if block.len <= DENSE_BLOCK {
            let n = block.len;
            let a = &mut self.dense[at..at + n * n];
            a.fill(0.0);
            for (&(i, j), &k) in template.positions.iter().zip(slots) {
                a[i as usize + j as usize * n] = self.values[k];
            }
            let piv = &mut self.piv[p..p + n];
            lu_factor(a, n, piv);
            if let Some((k, pivot, tolerance)) =
                super::singular_pivot(|k| a[k + k * n], n, self.options.pivot_tolerance)
            {
                return Err(remap(Error::SingularPivot {
                    what: what.into(),
                    index: k,
                    pivot,
                    tolerance,
                }));
            }
            self.factors[b] = Factor::Dense { at, p };
        } else {
            for (v, &k) in template.local.data_mut().iter_mut().zip(slots) {
                *v = self.values[k];
            }
            let mut solver = match std::mem::replace(&mut self.factors[b], Factor::None) {
                Factor::Sparse(s) => s,
                _ => Box::new(template.solver.clone().expect("analyzed sparse template")),
            };
            solver.factor(&template.local, what).map_err(remap)?;
            if solver.fallback().is_some()
                && template
                    .solver
                    .as_ref()
                    .is_some_and(|t| t.fallback().is_none())
            {
                // the pattern looked symmetric, the values were not: later blocks of
                // this pattern start from LU
                template.solver = Some((*solver).clone());
            }
            self.factors[b] = Factor::Sparse(solver);
        }
        Ok(())
    }

    /// Starts a factorization made in pieces ([`factor_columns`](Self::factor_columns)),
    /// e.g. while the matrix is still being assembled: no solve until
    /// [`end_factor`](Self::end_factor).
    pub(crate) fn begin_factor(&mut self) {
        self.valid = false;
        self.identity_blocks = 0;
    }

    /// Checks and copies the values of the columns of blocks `blocks` from `data` (the whole
    /// matrix's values, in the analyzed pattern's order; only those columns are read) and
    /// factorizes those diagonal blocks. Factorizing every block once this way and then
    /// calling [`end_factor`](Self::end_factor) gives exactly what
    /// [`Factorization::factor`] gives.
    ///
    /// # Errors
    /// As [`Factorization::factor`].
    pub(crate) fn factor_columns(
        &mut self,
        data: &[f64],
        blocks: std::ops::Range<usize>,
        what: &str,
    ) -> Result<()> {
        let off = self.dag.offsets();
        let (c0, c1) = (off[blocks.start], off[blocks.end]);
        let (k0, k1) = (self.indptr[c0], self.indptr[c1]);
        if let Some(k) = (k0..k1).find(|&k| !data[k].is_finite()) {
            let col = (c0..c1)
                .find(|&c| self.indptr[c + 1] > k)
                .expect("k lies in these columns");
            return Err(Error::NonFiniteEntry {
                what: what.into(),
                row: self.indices[k],
                col,
                value: data[k],
            });
        }
        self.values[k0..k1].copy_from_slice(&data[k0..k1]);
        for b in blocks {
            self.factor_block(b, what)?;
        }
        Ok(())
    }

    /// Ends a factorization made in pieces: solves are possible again.
    pub(crate) fn end_factor(&mut self) {
        self.valid = true;
    }

    fn solve_block(&mut self, b: usize, x: &mut [f64], transpose: bool) -> Result<()> {
        let block = &self.blocks[b];
        let seg = &mut x[block.start..block.start + block.len];
        match &mut self.factors[b] {
            Factor::None => unreachable!("solve before factor is caught by `valid`"),
            Factor::Identity => Ok(()),
            Factor::Dense { at, p } => {
                let n = block.len;
                let (a, piv) = (&self.dense[*at..*at + n * n], &self.piv[*p..*p + n]);
                if transpose {
                    lu_solve_transpose(a, n, piv, seg);
                } else {
                    lu_solve(a, n, piv, seg);
                }
                Ok(())
            }
            Factor::Sparse(s) => {
                let r = if transpose {
                    s.solve_transpose_in_place(seg)
                } else {
                    s.solve_in_place(seg)
                };
                r.map_err(|e| remap_error(e, block.start, b, "block"))
            }
        }
    }

    fn check_valid(&self) -> Result<()> {
        if self.valid {
            Ok(())
        } else {
            Err(Error::invalid(
                "block-triangular solve",
                "no successful factorization to solve with",
            ))
        }
    }

    fn check_solution(x: &[f64]) -> Result<()> {
        super::check_solution("block-triangular solve", x, x.len())
    }
}

impl Template {
    fn new(len: usize, positions: &[(u32, u32)], options: SolverOptions) -> Result<Self> {
        let mut tri = sprs::TriMat::new((len, len));
        for &(i, j) in positions {
            tri.add_triplet(i as usize, j as usize, 0.0);
        }
        let local: CsMat<f64> = tri.to_csc();
        debug_assert_eq!(local.nnz(), positions.len());
        let mut diagonal = vec![false; len];
        for &(i, j) in positions {
            if i == j {
                diagonal[i as usize] = true;
            }
        }
        let solver = if len > DENSE_BLOCK {
            Some(Solver::analyze(
                &crate::sparse::pattern_of(&local),
                options,
            )?)
        } else {
            None
        };
        Ok(Template {
            local,
            positions: positions.to_vec(),
            full_diagonal: diagonal.iter().all(|&d| d),
            solver,
        })
    }
}

/// A block's error in the matrix's numbering: a pivot index shifted by the block's start.
fn remap_error(e: Error, start: usize, block: usize, what: &str) -> Error {
    match e {
        Error::SingularPivot {
            index,
            pivot,
            tolerance,
            ..
        } => Error::SingularPivot {
            what: format!("{what} (diagonal block {block})"),
            index: start + index,
            pivot,
            tolerance,
        },
        Error::NumericallySingular { index, .. } => Error::NumericallySingular {
            what: format!("{what} (diagonal block {block})"),
            index: start + index,
        },
        e => e,
    }
}

impl Factorization for BlockTriangularSolver {
    /// `"block-triangular"`.
    fn name(&self) -> &'static str {
        "block-triangular"
    }

    fn dim(&self) -> usize {
        self.n
    }

    /// Checks the values finite, copies them, and factorizes every diagonal block that is not
    /// an identity.
    ///
    /// # Errors
    /// [`Error::NonFiniteEntry`]; [`Error::SingularPivot`] for a singular diagonal block,
    /// at its row in the matrix's numbering.
    fn factor(&mut self, a: &CsMat<f64>, what: &str) -> Result<()> {
        assert!(
            a.shape() == (self.n, self.n) && a.nnz() == self.indices.len() && a.is_csc(),
            "BlockTriangularSolver::factor: matrix of another pattern"
        );
        debug_assert_eq!(a.indices(), &self.indices[..], "matrix of another pattern");
        self.valid = false;
        crate::sparse::finite_max_abs_copy(what, a, Some(&mut self.values))?;
        self.factor_blocks(what)?;
        self.valid = true;
        Ok(())
    }

    fn set_pivot_tolerance(&mut self, tol: f64) {
        self.options.pivot_tolerance = tol;
        for t in &mut self.templates {
            if let Some(s) = &mut t.solver {
                s.set_pivot_tolerance(tol);
            }
        }
        for f in &mut self.factors {
            if let Factor::Sparse(s) = f {
                s.set_pivot_tolerance(tol);
            }
        }
    }

    fn solve_in_place(&mut self, x: &mut [f64]) -> Result<()> {
        self.check_valid()?;
        assert_eq!(x.len(), self.n, "right-hand side of another size");
        for o in 0..self.blocks.len() {
            let b = self.dag.order()[o];
            self.solve_block(b, x, false)?;
            let block = &self.blocks[b];
            for j in block.start..block.start + block.len {
                let xj = x[j];
                for k in self.indptr[j]..self.indptr[j + 1] {
                    let i = self.indices[k];
                    if self.row_block[i] as usize != b {
                        x[i] -= self.values[k] * xj;
                    }
                }
            }
        }
        Self::check_solution(x)
    }

    fn solve_transpose_in_place(&mut self, x: &mut [f64]) -> Result<()> {
        self.check_valid()?;
        assert_eq!(x.len(), self.n, "right-hand side of another size");
        for o in (0..self.blocks.len()).rev() {
            let b = self.dag.order()[o];
            let block = &self.blocks[b];
            for j in block.start..block.start + block.len {
                let mut s = x[j];
                for k in self.indptr[j]..self.indptr[j + 1] {
                    let i = self.indices[k];
                    if self.row_block[i] as usize != b {
                        s -= self.values[k] * x[i];
                    }
                }
                x[j] = s;
            }
            self.solve_block(b, x, true)?;
        }
        Self::check_solution(x)
    }
}
