//! `adjoint inspect FILE.mtx | DIR`: the structure of sparse matrices and the DAG verdict.

use super::InspectArgs;
use adjoint::inspect::{report_text, structure_report, Blocks};
use adjoint::mtx::read_matrix;
use adjoint::spy::{text_spy, write_spy};
use anyhow::bail;
use sprs::CsMat;
use std::path::{Path, PathBuf};

/// Block sizes "50,40,30" to offsets [0, 50, 90, 120].
fn offsets(flag: &str, sizes: &str, n: usize) -> anyhow::Result<Vec<usize>> {
    let mut off = vec![0usize];
    for s in sizes.split(',') {
        let k: usize = s
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("invalid {flag}: {s:?} is not a block size"))?;
        if k == 0 {
            bail!("invalid {flag}: a block size must be at least 1");
        }
        off.push(off.last().copied().unwrap_or(0) + k);
    }
    if off.last() != Some(&n) {
        bail!(
            "invalid {flag}: the sizes add up to {}, but the matrix has {n} along that side",
            off.last().copied().unwrap_or(0)
        );
    }
    Ok(off)
}

/// `[0, 4, 8]`, or its first entries and the count for a long list.
fn shown_list(v: &[usize]) -> String {
    if v.len() <= 8 {
        format!("{v:?}")
    } else {
        format!(
            "[{}, … ({} entries)]",
            v[..4]
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            v.len()
        )
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Reports one matrix; returns the DAG error text when it is square and not a DAG.
fn inspect_matrix(
    path: &Path,
    m: &CsMat<f64>,
    blocks: Blocks,
    args: &InspectArgs,
) -> anyhow::Result<Option<String>> {
    let text = if args.text { Some(text_spy(m)?) } else { None };
    let r = structure_report(m, blocks);
    println!("{}", path.display());
    print!("{}", indent(&report_text(&r)));
    if let Some(text) = text {
        println!("  pattern:");
        print!("{}", indent(&text));
    } else if m.rows() <= 40 && m.cols() <= 80 {
        if let Ok(p) = text_spy(m) {
            println!("  pattern:");
            print!("{}", indent(&p));
        }
    }
    if let Some(spy) = &args.spy {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        write_spy(m, &name, spy, blocks)?;
        println!("  spy plot written to {}", spy.display());
    }
    // the verdict at the finest level: entries, else blocks (the report printed which)
    Ok(match (&r.dag, &r.block_dag) {
        (None, _) => Some("the matrix is not square".into()),
        (Some(Ok(_)), _) => {
            println!("  DAG at the level of entries");
            None
        }
        (Some(Err(_)), Some(Ok(_))) => {
            println!("  DAG at the level of blocks (not of entries)");
            None
        }
        (Some(Err(e)), Some(Err(be))) => Some(format!("{e}; {be}")),
        (Some(Err(e)), None) => Some(e.to_string()),
    })
}

/// An export's `problem.json`, if the folder has one: a file that exists but cannot be read
/// or is not a JSON object is an error, never silently ignored.
fn read_problem_json(dir: &Path) -> anyhow::Result<Option<serde_json::Value>> {
    let path = dir.join("problem.json");
    let Some(text) = adjoint::resources::read_text(&path)? else {
        return Ok(None);
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| adjoint::Error::Parse {
            path: path.clone(),
            line: e.line(),
            message: e.to_string(),
        })?;
    if !json.is_object() {
        bail!("{}: expected a JSON object", path.display());
    }
    Ok(Some(json))
}

/// Offsets recorded in an export's problem.json (an error when present but malformed).
fn recorded_offsets(
    json: Option<&serde_json::Value>,
    dir: &Path,
    key: &str,
) -> anyhow::Result<Option<Vec<usize>>> {
    let Some(v) = json.and_then(|j| j.get(key)) else {
        return Ok(None);
    };
    v.as_array()
        .and_then(|a| {
            a.iter()
                .map(|v| v.as_u64().and_then(|x| usize::try_from(x).ok()))
                .collect::<Option<Vec<usize>>>()
        })
        .map(Some)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: {key:?} must be an array of non-negative integers",
                dir.join("problem.json").display()
            )
        })
}

/// The sizes every file of an export must agree on: `n_u` (rows of everything, the state and
/// the adjoint) and `n_θ` (columns of ∂f/∂θ and K, θ, the gradient, ∂L/∂θ).
#[derive(Default)]
struct Sizes {
    n_u: Option<(usize, String)>,
    n_theta: Option<(usize, String)>,
    /// The network input's size (u0.mtx).
    n_in: Option<(usize, String)>,
}

impl Sizes {
    /// Records `value` for one size, or says where two files (or problem.json) disagree.
    fn agree(
        slot: &mut Option<(usize, String)>,
        what: &str,
        value: usize,
        source: String,
    ) -> anyhow::Result<()> {
        match slot {
            None => *slot = Some((value, source)),
            Some((v, first)) if *v != value => bail!(
                "the folder's files disagree on {what}: {first} says {v}, {source} says {value}"
            ),
            _ => {}
        }
        Ok(())
    }

    fn check(&mut self, name: &str, rows: usize, cols: usize) -> anyhow::Result<()> {
        let src = |side: &str| format!("{name} ({side})");
        let vector = |n: usize, slot: &mut Option<(usize, String)>, what: &str| {
            Self::agree(slot, what, n, format!("{name} (length)"))
        };
        match name {
            "dfdu.mtx" | "D.mtx" => {
                Self::agree(&mut self.n_u, "n_u", rows, src("rows"))?;
                Self::agree(&mut self.n_u, "n_u", cols, src("columns"))
            }
            "dfdtheta.mtx" | "K.mtx" => {
                Self::agree(&mut self.n_u, "n_u", rows, src("rows"))?;
                Self::agree(&mut self.n_theta, "n_θ", cols, src("columns"))
            }
            "u.mtx" | "lambda.mtx" | "dLdu.mtx" | "c.mtx" | "b.mtx" => {
                vector(rows.max(cols), &mut self.n_u, "n_u")
            }
            "u0.mtx" => vector(rows.max(cols), &mut self.n_in, "the input size"),
            "theta.mtx" | "gradient.mtx" | "dLdtheta.mtx" => {
                vector(rows.max(cols), &mut self.n_theta, "n_θ")
            }
            _ => Ok(()),
        }
    }
}

fn inspect_dir(dir: &Path, args: &InspectArgs) -> anyhow::Result<()> {
    if args.spy.is_some() || args.blocks.is_some() || args.col_blocks.is_some() {
        bail!(
            "--spy, --blocks and --col-blocks apply to one file, not to the folder {}",
            dir.display()
        );
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        // regular files only (links followed): a FIFO or device named *.mtx would block or
        // never end
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .filter(|p| p.extension().is_some_and(|e| e == "mtx"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no .mtx files in this folder", dir.display());
    }
    let problem = read_problem_json(dir)?;
    let u_off = recorded_offsets(problem.as_ref(), dir, "u_offsets")?;
    let t_off = recorded_offsets(problem.as_ref(), dir, "theta_offsets")?;
    let kind = problem
        .as_ref()
        .and_then(|j| j.get("kind").and_then(|k| k.as_str()).map(String::from));
    let theta_name = if kind.as_deref() == Some("network") {
        "group"
    } else {
        "params of layer"
    };
    // every file read once; sizes checked against each other and problem.json first
    let mut sizes = Sizes::default();
    let declared = |key: &str| {
        problem
            .as_ref()
            .and_then(|j| j.get(key))
            .and_then(|v| v.as_u64())
            .and_then(|v| usize::try_from(v).ok())
    };
    if let Some(n) = declared("n_state") {
        sizes.n_u = Some((n, "problem.json (n_state)".into()));
    }
    if let Some(n) = declared("n_params") {
        sizes.n_theta = Some((n, "problem.json (n_params)".into()));
    }
    if let Some(n) = declared("n") {
        Sizes::agree(&mut sizes.n_u, "n_u", n, "problem.json (n)".into())
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    }
    let input = declared("input").or_else(|| {
        problem
            .as_ref()
            .and_then(|j| j.get("layers")?.get(0)?.as_u64())
            .and_then(|v| usize::try_from(v).ok())
    });
    if let Some(n) = input {
        sizes.n_in = Some((n, "problem.json (the input size)".into()));
    }
    // recorded block offsets must increase from 0 to the sizes they split
    for (key, off, n) in [
        ("u_offsets", &u_off, sizes.n_u.as_ref().map(|s| s.0)),
        ("theta_offsets", &t_off, sizes.n_theta.as_ref().map(|s| s.0)),
    ] {
        let Some(off) = off else { continue };
        // the one rule (adjoint::blocks), against the size when it is known
        let end = n.unwrap_or_else(|| off.last().copied().unwrap_or(0));
        if adjoint::blocks::check_offsets(off, end).is_err() {
            bail!(
                "{}: {key} {} must increase from 0 to {}",
                dir.join("problem.json").display(),
                shown_list(off),
                n.map_or("the size".to_string(), |n| n.to_string())
            );
        }
    }
    let mut matrices = Vec::new();
    let mut vectors = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let m = read_matrix(f)?;
        sizes
            .check(&name, m.rows, m.cols)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        if m.cols == 1 || m.rows == 1 {
            vectors.push(format!("{name} ({}×{})", m.rows, m.cols));
        } else {
            matrices.push((f, name, m.to_csc()));
        }
    }
    let mut dfdu_error = None;
    let mut has_dfdu = false;
    for (f, name, m) in &matrices {
        let block_name = if kind.as_deref() == Some("ode") {
            "step"
        } else {
            "layer"
        };
        let layer = u_off.as_ref().map(|_| block_name);
        let blocks = match name.as_str() {
            "dfdu.mtx" | "D.mtx" => Blocks {
                rows: u_off.as_deref(),
                cols: u_off.as_deref(),
                row_name: layer,
                col_name: layer,
            },
            "dfdtheta.mtx" | "K.mtx" => Blocks {
                rows: u_off.as_deref(),
                cols: t_off.as_deref(),
                row_name: layer,
                col_name: t_off.as_ref().map(|_| theta_name),
            },
            _ => Blocks::default(),
        };
        let err = inspect_matrix(f, m, blocks, args)?;
        if name == "dfdu.mtx" {
            has_dfdu = true;
            dfdu_error = err;
        }
        println!();
    }
    if !vectors.is_empty() {
        println!("vectors: {}", vectors.join(", "));
    }
    if args.require_dag {
        if !has_dfdu {
            bail!("--require-dag: {} has no dfdu.mtx to check", dir.display());
        }
        if let Some(e) = dfdu_error {
            bail!("{}: {e}", dir.join("dfdu.mtx").display());
        }
    }
    Ok(())
}

pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    if args.file.is_dir() {
        return inspect_dir(&args.file, args);
    }
    if let Some(spy) = &args.spy {
        adjoint::spy::check_spy_path(spy)?;
    }
    // read once (a pipe or /dev/stdin can only be read once)
    let m = read_matrix(&args.file)?;
    let rows = match &args.blocks {
        Some(b) => Some(offsets("--blocks", b, m.rows)?),
        None => None,
    };
    if rows.is_some() && args.col_blocks.is_none() && m.rows != m.cols {
        bail!(
            "--blocks on a {}×{} matrix needs --col-blocks for its columns",
            m.rows,
            m.cols
        );
    }
    let cols = match (&args.col_blocks, &rows) {
        (Some(c), _) => Some(offsets("--col-blocks", c, m.cols)?),
        (None, Some(r)) if m.rows == m.cols => Some(r.clone()),
        _ => None,
    };
    let csc = m.to_csc();
    drop(m);
    let blocks = Blocks {
        rows: rows.as_deref(),
        cols: cols.as_deref(),
        row_name: None,
        col_name: None,
    };
    let dag_error = inspect_matrix(&args.file, &csc, blocks, args)?;
    if args.require_dag {
        if let Some(e) = dag_error {
            bail!("{}: {e}", args.file.display());
        }
    }
    Ok(())
}
