//! Argument definitions and dispatch.

mod demo;
mod inspect;
mod report;
mod tridiagonal;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The adjoint method made explicit: assemble sparse Jacobians, solve the adjoint, export.
///
/// Without a command, runs a demo of the seed document's problems.
#[derive(Debug, Parser)]
#[command(name = "adjoint", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// min (cᵀu)² subject to A(θ)u = b with A(θ) symmetric tridiagonal.
    Tridiagonal(TridiagonalArgs),
    /// Structure of a sparse matrix (Matrix Market): shape, symmetry, triangularity, DAG check.
    Inspect(InspectArgs),
}

/// Options of `adjoint inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Matrix Market file (coordinate general/symmetric/pattern, or array).
    pub file: PathBuf,
    /// Block sizes along the diagonal, e.g. layer sizes `50,40,30` (they must add up to n).
    #[arg(long, value_name = "SIZES")]
    pub blocks: Option<String>,
    /// Exit with an error when the matrix is not a DAG.
    #[arg(long)]
    pub require_dag: bool,
}

/// Options of `adjoint tridiagonal`.
#[derive(Debug, Args)]
pub struct TridiagonalArgs {
    /// Problem size n (θ has 2n − 1 entries).
    #[arg(long, default_value_t = 1000, conflicts_with = "from")]
    pub n: usize,
    /// Seed of the random inputs c, b, θ (uniform in [0, 1), drawn in that order).
    #[arg(long, default_value_t = 0, conflicts_with = "from")]
    pub seed: u64,
    /// Read c.mtx, b.mtx and theta.mtx from this folder instead (e.g. an export).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Write the matrices, vectors and problem.json to this folder.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Evaluate the gradient K times at the same θ; timings are medians.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub repeat: usize,
    /// Linear solver for ∂f/∂u: auto, triangular, ldlt or lu.
    #[arg(long, default_value = "auto")]
    pub solver: String,
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => demo::run(),
        Some(Command::Tridiagonal(args)) => tridiagonal::run(&args),
        Some(Command::Inspect(args)) => inspect::run(&args),
    }
}
