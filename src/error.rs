//! The library's error type.
//!
//! # Policy
//!
//! Anything that depends on user data (sizes, values, files, paths, the structure of a matrix)
//! returns an [`Error`]; it never panics. A panic inside the library is a bug, except where a
//! function documents a `# Panics` section for a *programming* error (for example a workspace
//! used with a problem of another size), as the `sprs` guidelines do.
//!
//! Every variant names what is wrong and where: the row and column of a matrix entry, the index
//! of a pivot (in the caller's original numbering, not a permuted one), the path and line of a
//! file.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong on user data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A vector or matrix has the wrong size.
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// What was being checked, e.g. `"theta"` or `"df/du"`.
        what: String,
        /// The size that was required.
        expected: String,
        /// The size that was given.
        found: String,
    },

    /// A vector holds a NaN or an infinity.
    #[error("{what}[{index}] is not finite ({value})")]
    NonFinite {
        /// The vector, e.g. `"theta"`.
        what: String,
        /// 0-based index of the first bad entry.
        index: usize,
        /// The offending value.
        value: f64,
    },

    /// A computed scalar (an objective) overflowed or became NaN.
    #[error("{what} is not finite ({value})")]
    NonFiniteScalar {
        /// The quantity, e.g. `"objective L"`.
        what: String,
        /// The offending value.
        value: f64,
    },

    /// An iteration (gradient descent) produced non-finite values.
    #[error("training diverged at iteration {iteration}: {source}")]
    Diverged {
        /// 0-based iteration whose evaluation or step failed.
        iteration: usize,
        /// What became non-finite.
        #[source]
        source: Box<Error>,
    },

    /// A matrix holds a NaN or an infinity.
    #[error("{what}: entry ({row}, {col}) is not finite ({value})")]
    NonFiniteEntry {
        /// The matrix, e.g. `"df/du"`.
        what: String,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// The offending value.
        value: f64,
    },

    /// A matrix that must be symmetric is not.
    #[error(
        "{what} is not symmetric: entry ({row}, {col}) = {value} but ({col}, {row}) = {mirror}"
    )]
    NotSymmetric {
        /// The matrix.
        what: String,
        /// 0-based row of the first asymmetric entry.
        row: usize,
        /// 0-based column of the first asymmetric entry.
        col: usize,
        /// Value at `(row, col)`.
        value: f64,
        /// Value at `(col, row)` (0 when not stored).
        mirror: f64,
    },

    /// A pattern that must be symmetric is not.
    #[error(
        "{what} is not structurally symmetric: ({row}, {col}) is stored but ({col}, {row}) is not"
    )]
    PatternNotSymmetric {
        /// The matrix.
        what: String,
        /// 0-based row of the stored entry.
        row: usize,
        /// 0-based column of the stored entry.
        col: usize,
    },

    /// A factorization or substitution met a zero (or numerically negligible) pivot.
    #[error("{what} is singular: pivot {pivot:e} at row/column {index} (tolerance {tolerance:e})")]
    SingularPivot {
        /// The matrix.
        what: String,
        /// 0-based row/column of the pivot, in the matrix's own numbering.
        index: usize,
        /// The pivot value.
        pivot: f64,
        /// The tolerance it fell below.
        tolerance: f64,
    },

    /// A factorization succeeded but its solve produced a non-finite value: the matrix is
    /// numerically singular (or too ill-conditioned for `f64`).
    #[error(
        "{what} is numerically singular: the solve produced a non-finite value at index {index}"
    )]
    NumericallySingular {
        /// The matrix.
        what: String,
        /// First index of the solution that is not finite.
        index: usize,
    },

    /// `∂f/∂u` has a cycle: the computation is not a DAG.
    #[error(
        "{what} is not a DAG, it has a cycle: {}{}",
        format_cycle(nodes),
        format_blocks(blocks)
    )]
    Cycle {
        /// The matrix or network.
        what: String,
        /// The nodes of one cycle, in order; the first node is repeated at the end when printed.
        nodes: Vec<usize>,
        /// The same cycle in block terms (empty when no blocks were given).
        blocks: Vec<usize>,
    },

    /// A time step of an ODE integration failed (its Newton solve, a singular block, a
    /// non-finite state).
    #[error("time step {step} (t = {}): {source}", short_number(*time))]
    TimeStep {
        /// The step `k` (1-based: from `t_{k−1}` to `t_k`).
        step: usize,
        /// `t_k`.
        time: f64,
        /// What went wrong.
        source: Box<Error>,
    },

    /// A forced solver cannot handle the matrix.
    #[error("solver {solver} does not apply: {reason}")]
    SolverNotApplicable {
        /// The solver that was asked for.
        solver: String,
        /// Why it does not apply.
        reason: String,
    },

    /// A value is outside its allowed range (e.g. a size of zero, a negative step).
    #[error("invalid {what}: {message}")]
    Invalid {
        /// The parameter.
        what: String,
        /// What is wrong with it.
        message: String,
    },

    /// A model's own failure ([`Error::model`]).
    #[error("model: {message}")]
    Model {
        /// What the model reported.
        message: String,
    },

    /// Newton's method for the state did not converge.
    #[error(
        "the state solve did not converge: ‖f(u, θ)‖∞ = {residual:e} after {iterations} Newton iterations"
    )]
    NotConverged {
        /// Newton iterations taken.
        iterations: usize,
        /// `‖f(u, θ)‖∞` at the last iterate.
        residual: f64,
    },

    /// A model called `Scalar::value` during sparsity detection: its pattern would depend on
    /// a branch, which detection cannot follow.
    #[error(
        "{what} calls Scalar::value during sparsity detection, so its pattern could depend on a branch; \
         hand in the patterns with Derived::with_patterns instead"
    )]
    ValueDuringDetection {
        /// `"the residual"` or `"the objective"`.
        what: String,
    },

    /// A task needs more memory than this process may use ([`crate::resources`]).
    #[error(
        "{what} needs about {} of memory, but only {} are available ({limit})",
        bytes(*needed),
        bytes(*available)
    )]
    OutOfMemory {
        /// What needs the memory (a flag, a file).
        what: String,
        /// Estimated bytes needed.
        needed: f64,
        /// Bytes available.
        available: f64,
        /// Which limit applies.
        limit: String,
    },

    /// A file could not be parsed.
    #[error("{}{}: {message}", path.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the problem is the file as a whole; then not printed).
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
}

/// Longest cycle printed in full; a longer one is shown as its first nodes, `…`, its length.
const CYCLE_PRINT_LIMIT: usize = 20;

fn format_cycle(nodes: &[usize]) -> String {
    if nodes.len() > CYCLE_PRINT_LIMIT {
        let head: Vec<String> = nodes[..CYCLE_PRINT_LIMIT]
            .iter()
            .map(|n| n.to_string())
            .collect();
        return format!("{} → … (length {})", head.join(" → "), nodes.len());
    }
    let mut s: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    if let Some(first) = nodes.first() {
        s.push(first.to_string());
    }
    s.join(" → ")
}

/// `1.23 GB`, `456 MB`: three significant digits, so two different sizes never print alike
/// unless they are within 1 %.
fn bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.3} GB", b / 1e9)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

/// `x` as Rust prints it, or in scientific notation when that is long (`1e300`, not 301 digits).
fn short_number(x: f64) -> String {
    let s = format!("{x}");
    if s.len() > 12 {
        format!("{x:e}")
    } else {
        s
    }
}

fn format_blocks(blocks: &[usize]) -> String {
    if blocks.is_empty() {
        String::new()
    } else {
        format!(" (blocks {})", format_cycle(blocks))
    }
}

impl Error {
    /// The error a [`crate::Model`] returns for its own failures (e.g. from
    /// [`crate::Model::check_params`]).
    pub fn model(message: impl Into<String>) -> Self {
        Error::Model {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Shape`] with element counts.
    pub(crate) fn length(what: impl Into<String>, expected: usize, found: usize) -> Self {
        Error::Shape {
            what: what.into(),
            expected: format!("length {expected}"),
            found: format!("length {found}"),
        }
    }

    /// [`Error::Invalid`]: `what` (a parameter or input) is unusable because of `message`.
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Checks that `v` has length `n` and only finite entries.
pub(crate) fn check_vector(what: &str, v: &[f64], n: usize) -> Result<()> {
    if v.len() != n {
        return Err(Error::length(what, n, v.len()));
    }
    check_finite(what, v)
}

/// Checks that a computed scalar is finite.
pub(crate) fn check_scalar(what: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::NonFiniteScalar {
            what: what.to_string(),
            value,
        })
    }
}

/// Checks that every entry of `v` is finite.
pub(crate) fn check_finite(what: &str, v: &[f64]) -> Result<()> {
    // A branch-free OR-reduction first (it vectorizes; `position` would not), in two halves
    // on two threads for long vectors.
    let any_bad = |v: &[f64]| v.iter().fold(false, |bad, x| bad | !x.is_finite());
    let (a, b) = v.split_at(v.len() / 2);
    let (bad_a, bad_b) = crate::parallel::join_if(
        v.len() >= crate::parallel::PARALLEL_THRESHOLD,
        || any_bad(a),
        || any_bad(b),
    );
    if !(bad_a || bad_b) {
        return Ok(());
    }
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite {
            what: what.to_string(),
            index,
            value: v[index],
        }),
    }
}
