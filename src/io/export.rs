//! Export folders: everything about one evaluation, in files other tools read.
//!
//! | file            | content                                   | format                       |
//! |-----------------|-------------------------------------------|------------------------------|
//! | `dfdu.mtx`      | `∂f/∂u`, n_u × n_u                        | coordinate real general      |
//! | `dfdtheta.mtx`  | `∂f/∂θ`, n_u × n_θ                        | coordinate real general      |
//! | `u.mtx`         | the state `u`                             | array real general, n_u × 1  |
//! | `theta.mtx`     | the parameters `θ`                        | array, n_θ × 1               |
//! | `lambda.mtx`    | the adjoint `λ`                           | array, n_u × 1               |
//! | `gradient.mtx`  | `(dL/dθ)ᵀ`                                | array, n_θ × 1               |
//! | `dLdu.mtx`      | `(∂L/∂u)ᵀ`                                | array, n_u × 1               |
//! | `dLdtheta.mtx`  | `(∂L/∂θ)ᵀ`                                | array, n_θ × 1               |
//! | inputs          | problem data, e.g. `c.mtx`, `b.mtx`       | array, n × 1                 |
//! | `problem.json`  | kind, sizes, parameters, objective, solver | JSON                         |
//! | `dfdu.svg/.png`, `dfdtheta.svg/.png` | spy plots (block boundaries when known; feature `plot`) | images |
//! | `summary.md`    | what the folder holds, the structure reports | Markdown                 |
//!
//! Matrix Market files are 1-based and hold every value in its shortest round-trip decimal
//! form, so `scipy.io.mmread`, `MatrixMarket.jl` and MATLAB read back the exact `f64`s. The
//! folder is written as a whole (see [`crate::folder`]): a reader sees the earlier export or
//! the new one, never a mix, and the hidden marker file `.adjoint-export` identifies it.

use crate::folder::FolderWriter;
use crate::inspect::{report_text, structure_report, Blocks};
use crate::mtx::{write_atomic, write_matrix, write_vector};
#[cfg(feature = "plot")]
use crate::spy::write_spy;
use crate::{AdjointWorkspace, Error, Result};
use std::path::{Path, PathBuf};

/// Makes sure `dir` is a folder that can be written into (creating it and its parents).
///
/// # Errors
/// [`Error::Io`] when `dir` exists and is not a folder, or cannot be created.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::io(
            dir,
            std::io::Error::other("exists and is not a folder"),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// What an export folder holds besides the evaluation itself.
#[derive(Debug, Clone, Copy)]
pub struct ExportSpec<'a> {
    /// Input vectors, written as `name.mtx` (e.g. `c`, `b`, `u0`).
    pub inputs: &'a [(&'a str, &'a [f64])],
    /// Further matrices, written as `name.mtx` (e.g. a network's `D` and `K`).
    pub matrices: &'a [(&'a str, &'a sprs::CsMat<f64>)],
    /// The content of `problem.json`.
    pub problem: &'a serde_json::Value,
    /// Block offsets of `u` (rows of both Jacobians, columns of `∂f/∂u`), if any.
    pub u_offsets: Option<&'a [usize]>,
    /// Block offsets of `θ` (columns of `∂f/∂θ`), if any.
    pub theta_offsets: Option<&'a [usize]>,
    /// What a block of `θ` is called in the reports: `"params of layer"` for a chain,
    /// `"group"` for a network with parameter groups.
    pub theta_block_name: &'a str,
    /// What a block of `u` is called: `"layer"` (numbered from 1), or `"step"` for the time
    /// steps of an ODE (numbered from 1).
    pub u_block_name: &'a str,
}

/// The pieces of an evaluation an export writes: from an [`AdjointWorkspace`] (`From`), or
/// assembled by a caller with its own evaluation (the explicit mode of
/// [`crate::problems::ode::OdeWorkspace`]).
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'a> {
    /// `∂f/∂u`.
    pub dfdu: &'a sprs::CsMat<f64>,
    /// `∂f/∂θ`.
    pub dfdtheta: &'a sprs::CsMat<f64>,
    /// The state.
    pub u: &'a [f64],
    /// The adjoint.
    pub lambda: &'a [f64],
    /// The gradient.
    pub gradient: &'a [f64],
    /// `(∂L/∂u)ᵀ`.
    pub dl_du: &'a [f64],
    /// `(∂L/∂θ)ᵀ`.
    pub dl_dtheta: &'a [f64],
    /// `L`.
    pub objective: f64,
    /// The solver's name.
    pub solver: &'a str,
}

impl<'a> From<&'a AdjointWorkspace> for Evaluation<'a> {
    fn from(ws: &'a AdjointWorkspace) -> Self {
        Evaluation {
            dfdu: ws.dfdu(),
            dfdtheta: ws.dfdtheta(),
            u: ws.u(),
            lambda: ws.lambda(),
            gradient: ws.gradient(),
            dl_du: ws.dl_du(),
            dl_dtheta: ws.dl_dtheta(),
            objective: ws.objective(),
            solver: ws.solver().name(),
        }
    }
}

/// Writes the export folder of an evaluation: the matrices and vectors of `ws` (which must
/// have been evaluated at `theta`), the inputs and further matrices of `spec`,
/// `problem.json`, spy plots `dfdu.svg`, `dfdu.png`, `dfdtheta.svg`, `dfdtheta.png` (feature `plot`; block
/// boundaries drawn when offsets are known), and `summary.md` with the structure reports.
/// Returns the paths written.
///
/// The folder is replaced as a whole ([`crate::folder`]): it is written next to `dir` and
/// renamed into place when complete, replacing an earlier export; an existing folder that is
/// neither empty nor an earlier export is refused.
///
/// # Errors
/// [`Error::Io`] naming the first path that could not be written, or a `dir` that may not be
/// replaced; nothing of a failed export is left (the earlier export, if any, stays as it was).
pub fn export_evaluation(
    dir: &Path,
    ws: &AdjointWorkspace,
    theta: &[f64],
    spec: &ExportSpec,
) -> Result<Vec<PathBuf>> {
    export_parts(dir, &Evaluation::from(ws), theta, spec)
}

/// [`export_evaluation`] from the pieces of an evaluation.
///
/// # Errors
/// As [`export_evaluation`].
pub fn export_parts(
    dir: &Path,
    ws: &Evaluation,
    theta: &[f64],
    spec: &ExportSpec,
) -> Result<Vec<PathBuf>> {
    // what the export needs beyond the evaluation: the structure reports of summary.md
    // (the DAG check's graph of ∂f/∂u: nodes, edges and search stacks) and the spy grids
    let (n, nnz_u, nnz_t) = (ws.u.len(), ws.dfdu.nnz(), ws.dfdtheta.nnz());
    crate::resources::ensure_memory(
        &format!("the export to {}", dir.display()),
        120.0 * (n + nnz_u) as f64 + 40.0 * nnz_t as f64,
    )?;
    let folder = FolderWriter::begin(dir)?;
    let tmp = folder.path().to_path_buf();
    let mut names = Vec::new();
    let mut write_files = || -> Result<()> {
        let mut path = |name: &str| {
            names.push(name.to_string());
            tmp.join(name)
        };
        write_matrix(
            path("dfdu.mtx"),
            ws.dfdu,
            " df/du: Jacobian of the constraint f(u, theta) = 0 with respect to u",
        )?;
        write_matrix(
            path("dfdtheta.mtx"),
            ws.dfdtheta,
            " df/dtheta: Jacobian of f with respect to theta",
        )?;
        write_vector(path("u.mtx"), ws.u, " u: the state, f(u, theta) = 0")?;
        write_vector(path("theta.mtx"), theta, " theta: the parameters")?;
        write_vector(
            path("lambda.mtx"),
            ws.lambda,
            " lambda: the adjoint, (df/du)^T lambda = -(dL/du)^T",
        )?;
        write_vector(
            path("gradient.mtx"),
            ws.gradient,
            " gradient: (dL/dtheta)^T = (partial L / partial theta)^T + (df/dtheta)^T lambda",
        )?;
        write_vector(
            path("dLdu.mtx"),
            ws.dl_du,
            " dLdu: (partial L / partial u)^T",
        )?;
        write_vector(
            path("dLdtheta.mtx"),
            ws.dl_dtheta,
            " dLdtheta: (partial L / partial theta)^T",
        )?;
        for (name, v) in spec.inputs {
            write_vector(
                path(&format!("{name}.mtx")),
                v,
                &format!(" {name}: problem input"),
            )?;
        }
        for (name, m) in spec.matrices {
            write_matrix(path(&format!("{name}.mtx")), m, &format!(" {name}"))?;
        }
        let mut json = serde_json::to_string_pretty(spec.problem)
            .map_err(|e| Error::invalid("problem.json", e.to_string()))?;
        json.push('\n');
        write_atomic(path("problem.json"), json.as_bytes())?;

        let dfdu_blocks = Blocks {
            rows: spec.u_offsets,
            cols: spec.u_offsets,
            row_name: spec.u_offsets.map(|_| spec.u_block_name),
            col_name: spec.u_offsets.map(|_| spec.u_block_name),
        };
        let dfdtheta_blocks = Blocks {
            rows: spec.u_offsets,
            cols: spec.theta_offsets,
            row_name: spec.u_offsets.map(|_| spec.u_block_name),
            col_name: spec.theta_offsets.map(|_| spec.theta_block_name),
        };
        // spy plots need the `plot` feature (a library built without it exports no pictures)
        #[cfg(feature = "plot")]
        for ext in ["svg", "png"] {
            write_spy(ws.dfdu, "∂f/∂u", &path(&format!("dfdu.{ext}")), dfdu_blocks)?;
            write_spy(
                ws.dfdtheta,
                "∂f/∂θ",
                &path(&format!("dfdtheta.{ext}")),
                dfdtheta_blocks,
            )?;
        }
        let summary = summary_markdown(ws, spec, dfdu_blocks, dfdtheta_blocks);
        write_atomic(path("summary.md"), summary.as_bytes())?;
        Ok(())
    };
    // a failure names the file as the user will look for it, not the temporary folder
    write_files().map_err(|e| at_final_path(e, &tmp, dir))?;
    let written = names.iter().map(|n| folder.final_path(n)).collect();
    folder.commit()?;
    Ok(written)
}

/// An [`Error::Io`] about a file in the temporary folder `tmp`, renamed to the file in `dir`
/// (the operating system's error kept, the temporary names dropped).
fn at_final_path(e: Error, tmp: &Path, dir: &Path) -> Error {
    match e {
        Error::Io { path, source } if path.starts_with(tmp) => {
            let file = path
                .strip_prefix(tmp)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let source = match source.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(source.kind(), source.kind().to_string()),
            };
            Error::Io {
                path: dir.join(file),
                source,
            }
        }
        e => e,
    }
}

/// The `summary.md` of an export: what the folder holds and the structure of both Jacobians.
fn summary_markdown(ws: &Evaluation, spec: &ExportSpec, dfdu: Blocks, dfdtheta: Blocks) -> String {
    let kind = spec
        .problem
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("problem");
    let mut s = format!("# Export: {kind}\n\n");
    s.push_str(&format!(
        "min L(u, theta) s.t. f(u, theta) = 0 with n_u = {}, n_theta = {}; L = {:e}, ||dL/dtheta|| = {:e}, solver {}.\n\n",
        ws.u.len(),
        ws.gradient.len(),
        ws.objective,
        crate::sparse::norm2(ws.gradient),
        ws.solver
    ));
    s.push_str("The adjoint solves (df/du)^T lambda = -(dL/du)^T; the gradient is dL/dtheta = dL/dtheta(partial) + lambda^T df/dtheta.\n\n");
    for (name, m, blocks) in [("dfdu", ws.dfdu, dfdu), ("dfdtheta", ws.dfdtheta, dfdtheta)] {
        s.push_str(&format!("## {name}.mtx\n\n"));
        // the picture exists only when the library draws them (feature `plot`)
        if cfg!(feature = "plot") {
            s.push_str(&format!("![{name}]({name}.svg)\n\n"));
        }
        s.push_str("```text\n");
        s.push_str(&report_text(&structure_report(m, blocks)));
        s.push_str("```\n\n");
    }
    s.push_str("Load in Python with `scipy.io.mmread(\"dfdu.mtx\")`, in Julia with `MatrixMarket.mmread(\"dfdu.mtx\")`, in MATLAB with `mmread('dfdu.mtx')`.\n");
    s
}
