//! Argument definitions and dispatch.

mod check;
mod demo;
mod inspect;
mod mlp;
mod network;
mod ode;
mod parse;
mod report;
mod scaling;
mod topopt;
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
    /// A layered network as f(u, θ) = u − Φ(u, θ) = 0: gradient by backpropagation-as-adjoint.
    Mlp(MlpArgs),
    /// Verify a problem: assembled partials vs dual numbers (or finite differences), the
    /// Taylor test, forward sensitivities vs the adjoint. Exits non-zero when a check fails.
    Check(CheckArgs),
    /// Scaling study: adjoint vs forward sensitivities, dual numbers and finite differences.
    Scaling(ScalingArgs),
    /// Structure of a sparse matrix (Matrix Market), or of every matrix in an export folder:
    /// shape, symmetry, bandwidth, triangularity, DAG check, blocks, spy plots.
    Inspect(InspectArgs),
    /// Compliance topology optimization of the MBB beam (the 88-line code of Andreassen et
    /// al. 2011), gradients by the adjoint of K(x)u = F.
    Topopt(TopoptArgs),
    /// Time stepping of an ODE (explicit/implicit Euler, Crank–Nicolson) as one stacked
    /// constraint: the gradient by the block-triangular adjoint sweep, optionally with
    /// binomial checkpointing.
    Ode(OdeArgs),
}

/// Options of `adjoint ode`.
#[derive(Debug, Args)]
pub struct OdeArgs {
    /// The problem: lotka-volterra, heat or robertson.
    #[arg(value_parser = ["lotka-volterra", "heat", "robertson"])]
    pub problem: String,
    /// Scheme: implicit-euler, explicit-euler or crank-nicolson.
    #[arg(long, default_value = "implicit-euler", value_parser = parse::scheme)]
    pub scheme: String,
    /// Number of steps K (default 1000, 100 for heat, 10⁴ for robertson).
    #[arg(long, value_name = "K", value_parser = parse::positive)]
    pub steps: Option<usize>,
    /// End time T (default 10, 0.1 for heat, 4e7 for robertson).
    #[arg(long = "t-end", value_name = "T", value_parser = parse::positive_number)]
    pub t_end: Option<f64>,
    /// Grid: uniform, or geometric (h_1 = --first, growing to reach T; robertson's default).
    #[arg(long, value_parser = ["uniform", "geometric"])]
    pub grid: Option<String>,
    /// First step of the geometric grid (default 1e-6; geometric grids only).
    #[arg(long, value_name = "H", value_parser = parse::positive_number)]
    pub first: Option<f64>,
    /// Parameters θ, comma-separated (default: the problem's).
    #[arg(long, conflicts_with = "from", allow_hyphen_values = true, value_parser = parse::numbers)]
    pub theta: Option<String>,
    /// Interior nodes of the heat rod (heat only; default 100).
    #[arg(long, value_parser = parse::positive)]
    pub n: Option<usize>,
    /// Checkpointed mode with S ≥ 1 stored states (binomial checkpointing); without it every
    /// step is held (the explicit mode).
    #[arg(long, value_name = "S", value_parser = parse::positive)]
    pub checkpoints: Option<usize>,
    /// Read θ from DIR/theta.mtx (e.g. an export).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Export to this folder (the explicit mode: matrices with step blocks, vectors, pictures;
    /// the checkpointed mode: θ, the gradient, problem.json and the summary).
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Evaluate this many times and report median timings.
    #[arg(long, value_name = "R", default_value_t = 1, value_parser = parse::repeat)]
    pub repeat: usize,
}

/// Options of `adjoint topopt`.
#[derive(Debug, Args)]
pub struct TopoptArgs {
    /// Elements in x.
    #[arg(long, default_value_t = 60, value_parser = parse::positive)]
    pub nelx: usize,
    /// Elements in y.
    #[arg(long, default_value_t = 20, value_parser = parse::positive)]
    pub nely: usize,
    /// Volume fraction, in (0, 1].
    #[arg(long, default_value_t = 0.5, value_parser = parse::volfrac)]
    pub volfrac: f64,
    /// Penalization p ≥ 1 in E(x) = Emin + xᵖ(E0 − Emin).
    #[arg(long, default_value_t = 3.0, value_parser = parse::penal)]
    pub penal: f64,
    /// Filter radius (element widths), > 0.
    #[arg(long, default_value_t = 2.4, value_parser = parse::positive_number)]
    pub rmin: f64,
    /// Filter: 1 = sensitivity, 2 = density.
    #[arg(long, default_value_t = 1, value_parser = parse::ft)]
    pub ft: u32,
    /// Iteration limit.
    #[arg(long, default_value_t = 1000, value_parser = parse::positive)]
    pub maxit: usize,
    /// Export the final design's matrices and vectors to this folder.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Write the final density (black = solid) to this .png or .svg file.
    #[arg(long, value_name = "FILE", value_parser = parse::picture)]
    pub picture: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Solver: auto (Cholesky here), cholesky, ldlt or lu.
    #[arg(long, default_value = "auto", value_parser = parse::solver)]
    pub solver: String,
}

/// Options of `adjoint mlp`.
#[derive(Debug, Args)]
pub struct MlpArgs {
    /// Layer sizes n_0,n_1,…,n_N (n_0 is the input size).
    #[arg(long, default_value = "50,40,30,20,10,1", conflicts_with = "from", value_parser = parse::layers)]
    pub layers: String,
    /// Activation: exp-neg (the seed's exp(−x)), tanh, sigmoid or identity.
    #[arg(long, default_value = "exp-neg", conflicts_with = "from", value_parser = parse::activation)]
    pub activation: String,
    /// Target y: one number (broadcast to every output) or a comma-separated vector.
    #[arg(
        long,
        default_value = "3.0",
        conflicts_with = "from",
        allow_hyphen_values = true,
        value_parser = parse::target
    )]
    pub target: String,
    /// Regularization ρ ≥ 0 in L = ‖u_N − y‖² + ρ‖θ‖².
    #[arg(
        long,
        default_value_t = 0.0,
        conflicts_with = "from",
        allow_hyphen_values = true,
        value_parser = parse::non_negative
    )]
    pub reg: f64,
    /// Seed of the initialization (every W, b and u_0 drawn as 0.01·N(0,1)).
    #[arg(long, default_value_t = 0, conflicts_with = "from")]
    pub seed: u64,
    /// Read problem.json, theta.mtx and u0.mtx from this folder instead (e.g. an export).
    #[arg(long, value_name = "DIR")]
    pub from: Option<std::path::PathBuf>,
    /// Run this many gradient-descent steps θ ← θ − η∇L first.
    #[arg(long, value_name = "ITERS", default_value_t = 0, value_parser = parse::train)]
    pub train: usize,
    /// Learning rate η ≥ 0.
    #[arg(long, default_value_t = 0.001, allow_hyphen_values = true, value_parser = parse::non_negative)]
    pub lr: f64,
    /// Gradient path: fast (dense blocks) or explicit (assembled L, Mᵀ and the triangular sweep).
    #[arg(long, default_value = "fast", value_parser = parse::gradient_path)]
    pub path: String,
    /// Whether --path was given on the command line (set after parsing).
    #[arg(skip)]
    pub path_given: bool,
    /// A network file (JSON: input, layers with inputs/group/residual, activation, y,
    /// regularization) for skip, residual and shared-weight networks.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "layers", "activation", "target", "reg"])]
    pub network: Option<std::path::PathBuf>,
    /// Write the matrices, vectors, D, K and problem.json to this folder.
    #[arg(long, value_name = "DIR")]
    pub export: Option<std::path::PathBuf>,
    /// Print one JSON object on stdout instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Evaluate the gradient K times at the final θ (1 ≤ K ≤ 10⁶); timings are medians.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = parse::repeat)]
    pub repeat: usize,
}

/// Options of `adjoint scaling`.
#[derive(Debug, Args)]
pub struct ScalingArgs {
    /// Each method's sweep stops after the first gradient that takes longer than this
    /// (seconds, 0.001 … 3600).
    #[arg(long, default_value_t = 0.25, allow_hyphen_values = true, value_parser = parse::budget)]
    pub budget: f64,
    /// Folder for the plots scaling-tridiagonal.svg/png and scaling-network.svg/png.
    #[arg(long, value_name = "DIR", default_value = "scaling")]
    pub out: PathBuf,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `adjoint check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(subcommand)]
    pub target: CheckTarget,
}

/// What `adjoint check` verifies.
#[derive(Debug, Subcommand)]
pub enum CheckTarget {
    /// The seed's tridiagonal problem.
    Tridiagonal {
        /// Problem size n.
        #[arg(long, default_value_t = 10, conflicts_with = "from", value_parser = parse::positive)]
        n: usize,
        /// Seed of the random inputs.
        #[arg(long, default_value_t = 0, conflicts_with = "from")]
        seed: u64,
        /// Read c.mtx, b.mtx, theta.mtx from this folder instead.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        #[command(flatten)]
        opts: CheckOpts,
    },
    /// A network.
    Mlp {
        /// Layer sizes n_0,…,n_N.
        #[arg(long, default_value = "50,40,30,20,10,1", conflicts_with = "from", value_parser = parse::layers)]
        layers: String,
        /// Activation: exp-neg, tanh, sigmoid or identity.
        #[arg(long, default_value = "exp-neg", conflicts_with = "from", value_parser = parse::activation)]
        activation: String,
        /// Target y (a number).
        #[arg(
            long,
            default_value = "3.0",
            conflicts_with = "from",
            allow_hyphen_values = true,
            value_parser = parse::scalar_target
        )]
        target: String,
        /// Regularization ρ ≥ 0.
        #[arg(
            long,
            default_value_t = 0.0,
            conflicts_with = "from",
            allow_hyphen_values = true,
            value_parser = parse::non_negative
        )]
        reg: f64,
        /// Seed of the initialization.
        #[arg(long, default_value_t = 0, conflicts_with = "from")]
        seed: u64,
        /// Read problem.json, theta.mtx, u0.mtx from this folder instead.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        #[command(flatten)]
        opts: CheckOpts,
    },
}

/// Options shared by the checks.
#[derive(Debug, Args)]
pub struct CheckOpts {
    /// Compare against central finite differences with this relative step (1e-12 ≤ H ≤ 0.1)
    /// instead of dual numbers.
    #[arg(long, value_name = "H", allow_hyphen_values = true, value_parser = parse::fd_step)]
    pub fd_step: Option<f64>,
    /// First step of the Taylor test, 0 < H ≤ 1 (then halved four times).
    #[arg(
        long,
        value_name = "H",
        default_value_t = 1e-2,
        allow_hyphen_values = true,
        value_parser = parse::taylor_h
    )]
    pub taylor_h: f64,
    /// Print one JSON object on stdout instead of the report.
    #[arg(long)]
    pub json: bool,
}

/// Options of `adjoint inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Matrix Market file (coordinate general/symmetric/pattern, or array), or an export
    /// folder (every matrix in it is reported).
    pub file: PathBuf,
    /// Block sizes along the rows (and the columns of a square matrix), e.g. layer sizes
    /// `50,40,30`; they must add up to the number of rows.
    #[arg(long, value_name = "SIZES", value_parser = parse::blocks, allow_hyphen_values = true)]
    pub blocks: Option<String>,
    /// Block sizes along the columns, when they differ from the rows' (e.g. ∂f/∂θ); needs
    /// --blocks.
    #[arg(long, value_name = "SIZES", value_parser = parse::blocks, requires = "blocks", allow_hyphen_values = true)]
    pub col_blocks: Option<String>,
    /// Write a spy plot to this .svg or .png file (a density grid for large matrices).
    #[arg(long, value_name = "FILE", value_parser = parse::spy)]
    pub spy: Option<PathBuf>,
    /// Print the text spy `| x . x |` (refused beyond 80 columns).
    #[arg(long)]
    pub text: bool,
    /// Exit with an error when the matrix is not a DAG.
    #[arg(long)]
    pub require_dag: bool,
}

/// Options of `adjoint tridiagonal`.
#[derive(Debug, Args)]
pub struct TridiagonalArgs {
    /// Problem size n (θ has 2n − 1 entries).
    #[arg(long, default_value_t = 1000, conflicts_with = "from", value_parser = parse::positive)]
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
    /// Evaluate the gradient K times at the same θ (1 ≤ K ≤ 10⁶); timings are medians.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = parse::repeat)]
    pub repeat: usize,
    /// Linear solver for ∂f/∂u: auto, triangular, ldlt, cholesky or lu.
    #[arg(long, default_value = "auto", value_parser = parse::solver)]
    pub solver: String,
}

/// A command line that is unusable before any file is read, found after parsing (a check
/// across flags): the binary exits with status 2, as for clap's own errors.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => demo::run(),
        Some(Command::Tridiagonal(args)) => tridiagonal::run(&args),
        Some(Command::Inspect(args)) => inspect::run(&args),
        Some(Command::Mlp(mut args)) => {
            args.path_given = std::env::args().any(|a| a == "--path" || a.starts_with("--path="));
            let exported_network = args.from.as_ref().filter(|dir| {
                adjoint::resources::read_text(&dir.join("problem.json"))
                    .ok()
                    .flatten()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .is_some_and(|j| j.get("kind").and_then(|k| k.as_str()) == Some("network"))
            });
            match (args.network.clone(), exported_network.cloned()) {
                (Some(file), _) => network::run(&args, network::Source::File(&file)),
                (None, Some(dir)) => network::run(&args, network::Source::Export(&dir)),
                (None, None) => mlp::run(&args),
            }
        }
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Scaling(args)) => scaling::run(&args),
        Some(Command::Topopt(args)) => topopt::run(&args),
        Some(Command::Ode(args)) => ode::run(&args),
    }
}
