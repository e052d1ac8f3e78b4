//! Read any Matrix Market file, report its structure (shape, symmetry, bandwidth, the DAG
//! verdict: levels or the cycle), print a text spy when it is small, and write a spy plot.
//!
//! `cargo run --release --example inspect_jacobian -- FILE.mtx [SPY.svg|SPY.png]`

use adjoint::inspect::{report_text, structure_report, Blocks};
use adjoint::mtx::read_matrix;
use adjoint::spy::{text_spy, write_spy};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: inspect_jacobian FILE.mtx [SPY.svg|SPY.png]");
        return ExitCode::from(2);
    };
    let m = match read_matrix(&path) {
        Ok(m) => m.to_csc(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{path}");
    print!("{}", report_text(&structure_report(&m, Blocks::default())));
    match text_spy(&m) {
        Ok(p) => print!("{p}"),
        Err(e) => println!("({e})"),
    }
    let spy = std::env::args()
        .nth(2)
        .unwrap_or_else(|| format!("{path}.svg"));
    let name = Path::new(&path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match write_spy(&m, &name, Path::new(&spy), Blocks::default()) {
        Ok(()) => println!("spy plot: {spy}"),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
