//! `adjoint inspect FILE.mtx | DIR`: the structure of sparse matrices and the DAG verdict.

use super::InspectArgs;
use adjoint::inspect::{report_text, structure_report, Blocks};
use adjoint::mtx::read_matrix;
use adjoint::spy::{text_spy, write_spy};
use anyhow::bail;
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

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Reports one file; returns the DAG error text when it is square and not a DAG.
fn inspect_file(path: &Path, blocks: Blocks, args: &InspectArgs) -> anyhow::Result<Option<String>> {
    if let Some(spy) = &args.spy {
        adjoint::spy::check_spy_path(spy)?;
    }
    let m = read_matrix(path)?.to_csc();
    let text = if args.text { Some(text_spy(&m)?) } else { None };
    let r = structure_report(&m, blocks);
    println!("{}", path.display());
    print!("{}", indent(&report_text(&r)));
    if let Some(text) = text {
        println!("  pattern:");
        print!("{}", indent(&text));
    } else if m.rows() <= 40 && m.cols() <= 80 {
        if let Ok(p) = text_spy(&m) {
            println!("  pattern:");
            print!("{}", indent(&p));
        }
    }
    if let Some(spy) = &args.spy {
        write_spy(&m, spy, blocks)?;
        println!("  spy plot written to {}", spy.display());
    }
    Ok(match &r.dag {
        Some(Err(e)) => Some(e.to_string()),
        None => Some("the matrix is not square".into()),
        Some(Ok(_)) => None,
    })
}

/// Offsets recorded in an export's problem.json.
fn recorded_offsets(dir: &Path, key: &str) -> Option<Vec<usize>> {
    let text = std::fs::read_to_string(dir.join("problem.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get(key)?
        .as_array()?
        .iter()
        .map(|v| v.as_u64().map(|x| x as usize))
        .collect()
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
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mtx"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no .mtx files in this folder", dir.display());
    }
    let u_off = recorded_offsets(dir, "u_offsets");
    let t_off = recorded_offsets(dir, "theta_offsets");
    let kind = std::fs::read_to_string(dir.join("problem.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|j| j.get("kind").and_then(|k| k.as_str()).map(String::from));
    let theta_name = if kind.as_deref() == Some("network") {
        "group"
    } else {
        "params of layer"
    };
    let mut vectors = Vec::new();
    let mut dfdu_error = None;
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let m = read_matrix(f)?;
        if m.cols == 1 || m.rows == 1 {
            vectors.push(format!("{name} ({}×{})", m.rows, m.cols));
            continue;
        }
        let layer = u_off.as_ref().map(|_| "layer");
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
        let err = inspect_file(f, blocks, args)?;
        if name == "dfdu.mtx" {
            dfdu_error = err;
        }
        println!();
    }
    if !vectors.is_empty() {
        println!("vectors: {}", vectors.join(", "));
    }
    if args.require_dag {
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
    // read once for the sizes the block flags must add up to
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
    drop(m);
    let blocks = Blocks {
        rows: rows.as_deref(),
        cols: cols.as_deref(),
        row_name: None,
        col_name: None,
    };
    let dag_error = inspect_file(&args.file, blocks, args)?;
    if args.require_dag {
        if let Some(e) = dag_error {
            bail!("{}: {e}", args.file.display());
        }
    }
    Ok(())
}
