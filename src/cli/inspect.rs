//! `adjoint inspect FILE.mtx`: the structure of a sparse matrix and the DAG verdict.

use super::InspectArgs;
use adjoint::dag::BlockDiagonal;
use adjoint::inspect::{pattern_text, structure_report};
use adjoint::mtx::read_matrix;

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Block sizes "50,40,30" to offsets [0, 50, 90, 120].
fn offsets(sizes: &str, n: usize) -> anyhow::Result<Vec<usize>> {
    let mut off = vec![0usize];
    for s in sizes.split(',') {
        let k: usize = s
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("invalid --blocks: {s:?} is not a block size"))?;
        if k == 0 {
            anyhow::bail!("invalid --blocks: a block size must be at least 1");
        }
        off.push(off.last().copied().unwrap_or(0) + k);
    }
    if off.last() != Some(&n) {
        anyhow::bail!(
            "invalid --blocks: the sizes add up to {}, but the matrix has {n} rows",
            off.last().copied().unwrap_or(0)
        );
    }
    Ok(off)
}

pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    let m = read_matrix(&args.file)?.to_csc();
    let (rows, cols) = m.shape();
    let off = match &args.blocks {
        Some(b) => Some(offsets(b, rows)?),
        None => None,
    };
    let r = structure_report(&m, off.as_deref());
    println!("{}", args.file.display());
    println!(
        "  shape {rows}×{cols}, {} stored entries, density {:.3e}",
        r.nnz, r.density
    );
    println!(
        "  bandwidth: lower {}, upper {}",
        r.lower_bandwidth, r.upper_bandwidth
    );
    println!(
        "  symmetric: {} (pattern: {}); lower triangular: {}; upper triangular: {}; unit diagonal: {}",
        yes(r.symmetric),
        yes(r.symmetric_pattern),
        yes(r.lower_triangular()),
        yes(r.upper_triangular()),
        yes(r.unit_diagonal)
    );
    let dag_error = match &r.dag {
        None => {
            println!("  DAG: not applicable (the matrix is not square)");
            Some("the matrix is not square".to_string())
        }
        Some(Ok(d)) => {
            let how = if d.lower_triangular {
                "lower triangular in the natural order".to_string()
            } else {
                "triangular after a symmetric permutation".to_string()
            };
            println!(
                "  DAG: yes, {} levels, {} dependency edges, {how}",
                d.levels, d.edges
            );
            if let Some(b) = &d.blocks {
                println!(
                    "  blocks: {} (offsets {:?})",
                    b.offsets.len() - 1,
                    b.offsets
                );
                let edges: Vec<String> = b.edges.iter().map(|(f, t)| format!("{f}→{t}")).collect();
                println!(
                    "    block dependencies: {}",
                    if edges.is_empty() {
                        "none".into()
                    } else {
                        edges.join(", ")
                    }
                );
                println!(
                    "    block lower triangular: {}",
                    yes(b.block_lower_triangular)
                );
                match b.diagonal {
                    BlockDiagonal::Identity => println!("    diagonal blocks: all identity"),
                    BlockDiagonal::NotIdentity {
                        block,
                        row,
                        col,
                        value,
                    } => {
                        let not: Vec<String> = b
                            .identity
                            .iter()
                            .enumerate()
                            .filter(|(_, &id)| !id)
                            .map(|(k, _)| k.to_string())
                            .collect();
                        println!(
                            "    diagonal blocks: not identity: {}; first offender block {block}, entry ({row}, {col}) = {value}",
                            not.join(", ")
                        )
                    }
                }
            }
            None
        }
        Some(Err(e)) => {
            println!("  DAG: no, {e}");
            Some(e.to_string())
        }
    };
    if let Some(p) = pattern_text(&m).filter(|_| rows <= 40) {
        println!("  pattern:");
        for line in p.lines() {
            println!("    {line}");
        }
    }
    if args.require_dag {
        if let Some(e) = dag_error {
            anyhow::bail!("{}: {e}", args.file.display());
        }
    }
    Ok(())
}
