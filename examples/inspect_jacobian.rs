//! Read any Matrix Market file and report its structure: shape, symmetry, bandwidth, the DAG
//! verdict (levels, or the cycle), and a text picture when it is small.
//!
//! `cargo run --release --example inspect_jacobian -- FILE.mtx`

use adjoint::inspect::{pattern_text, structure_report};
use adjoint::mtx::read_matrix;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: inspect_jacobian FILE.mtx");
        return ExitCode::from(2);
    };
    let m = match read_matrix(&path) {
        Ok(m) => m.to_csc(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let r = structure_report(&m, None);
    println!(
        "{path}: {}×{}, {} entries, density {:.2e}",
        r.shape.0, r.shape.1, r.nnz, r.density
    );
    println!(
        "bandwidth lower {} / upper {}, symmetric {}, unit diagonal {}",
        r.lower_bandwidth, r.upper_bandwidth, r.symmetric, r.unit_diagonal
    );
    match &r.dag {
        Some(Ok(d)) => println!(
            "DAG with {} levels (lower triangular as stored: {})",
            d.levels, d.lower_triangular
        ),
        Some(Err(e)) => println!("not a DAG: {e}"),
        None => println!("not square"),
    }
    if let Some(p) = pattern_text(&m) {
        print!("{p}");
    }
    ExitCode::SUCCESS
}
