//! The README's exit-code table, row by row: 2 for a command line that is unusable before any
//! file is read, 1 for failures that depend on files, data or resources; always one line on
//! stderr, never a panic.

use std::path::Path;
use std::process::{Command, Output};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

#[track_caller]
fn assert_exit(dir: &Path, args: &[&str], code: i32, needle: &str) {
    let o = run_in(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
}

/// A folder with a 3×3 matrix, a cyclic 2×2, an export, and a plain file.
fn fixtures() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("m.mtx"),
        "%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1\n2 2 1\n3 3 1\n",
    )
    .unwrap();
    std::fs::write(
        p.join("cycle.mtx"),
        "%%MatrixMarket matrix coordinate real general\n2 2 4\n1 1 1\n2 2 1\n1 2 1\n2 1 1\n",
    )
    .unwrap();
    std::fs::write(
        p.join("bad.mtx"),
        "%%MatrixMarket matrix coordinate real general\n2 2\n",
    )
    .unwrap();
    std::fs::write(p.join("afile"), "x").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("ex", p.join("link")).unwrap();
    let o = run_in(p, &["tridiagonal", "--n", "5", "--export", "ex"]);
    assert!(o.status.success());
    // the export with θ = 0: A(θ) = 0 is singular
    std::fs::create_dir(p.join("zero")).unwrap();
    for f in ["c.mtx", "b.mtx", "problem.json"] {
        std::fs::copy(p.join("ex").join(f), p.join("zero").join(f)).unwrap();
    }
    adjoint::mtx::write_vector(p.join("zero/theta.mtx"), &[0.0; 9], "").unwrap();
    std::fs::create_dir(p.join("tiny")).unwrap();
    for f in ["b.mtx", "theta.mtx", "problem.json"] {
        std::fs::copy(p.join("ex").join(f), p.join("tiny").join(f)).unwrap();
    }
    adjoint::mtx::write_vector(p.join("tiny/c.mtx"), &[1e-200; 5], "").unwrap();
    d
}

#[test]
fn status_2_unusable_command_lines() {
    let d = fixtures();
    let p = d.path();
    for (args, needle) in [
        (vec!["tridiagonal", "--n", "0"], "--n"),
        (vec!["tridiagonal", "--bogus"], "--bogus"),
        (vec!["mlp", "--layers", "3,,1"], "--layers"),
        (vec!["mlp", "--lr", "nan"], "--lr"),
        (vec!["mlp", "--reg", "-1"], "--reg"),
        (vec!["tridiagonal", "--repeat", "0"], "--repeat"),
        (vec!["tridiagonal", "--repeat", "1000001"], "--repeat"),
        (vec!["mlp", "--activation", "relu"], "relu"),
        (vec!["tridiagonal", "--solver", "qr"], "qr"),
        (vec!["check", "tridiagonal", "--fd-step", "0"], "--fd-step"),
        (
            vec!["check", "tridiagonal", "--fd-step", "1e10"],
            "--fd-step",
        ),
        (
            vec!["check", "tridiagonal", "--taylor-h", "-0.01"],
            "--taylor-h",
        ),
        (vec!["scaling", "--budget", "0"], "--budget"),
        (vec!["scaling", "--budget", "3601"], "--budget"),
        (vec!["inspect", "m.mtx", "--blocks", "2,-1"], "--blocks"),
        (
            vec!["inspect", "m.mtx", "--blocks", "18446744073709551615,4"],
            "add up",
        ),
        (vec!["inspect", "m.mtx", "--spy", "a.jpg"], "--spy"),
        (vec!["inspect", "m.mtx", "--col-blocks", "3"], "--blocks"),
        (vec!["scaling", "--budget", "1e-10"], "--budget"),
        (vec!["check", "mlp", "--target", "1,2"], "--target"),
        (vec!["mlp", "--train", "2000000000"], "--train"),
        // checks across flags, still before any file is read
        (vec!["mlp", "--target", "1,2"], "--target"),
        (
            vec!["mlp", "--network", "missing.json", "--path", "fast"],
            "--path fast",
        ),
        // unusable even though the file does not exist: nothing is read first
        (vec!["inspect", "missing.mtx", "--spy", "a.jpg"], "--spy"),
    ] {
        assert_exit(p, &args, 2, needle);
    }
}

#[cfg(unix)]
#[test]
fn status_1_when_stdout_cannot_be_written_or_memory_runs_out() {
    let d = fixtures();
    let p = d.path();
    for args in [
        "tridiagonal --n 5",
        "mlp --json",
        "check mlp --layers 3,2,1",
    ] {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {args} > /dev/full"))
            .arg(env!("CARGO_BIN_EXE_adjoint"))
            .current_dir(p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("cannot write the output"), "{err}");
    }
    // an estimate that misses real usage still ends in one line, exit 1 (not an abort)
    let layers: Vec<String> = (0..200_000)
        .map(|i| format!(r#"{{"size": 1, "inputs": [{i}], "group": {i}}}"#))
        .collect();
    std::fs::write(
        p.join("deep.json"),
        format!(r#"{{"input": 1, "layers": [{}]}}"#, layers.join(",")),
    )
    .unwrap();
    for limit in [60_000, 150_000] {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v {limit} && exec \"$0\" mlp --network deep.json"
            ))
            .arg(env!("CARGO_BIN_EXE_adjoint"))
            .current_dir(p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "ulimit {limit}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("memory"), "{err}");
    }
}

#[test]
fn status_1_files_data_and_resources() {
    let d = fixtures();
    let p = d.path();
    for (args, needle) in [
        // a missing or malformed file
        (vec!["inspect", "missing.mtx"], "missing.mtx"),
        (vec!["inspect", "bad.mtx"], "bad.mtx:2"),
        (vec!["tridiagonal", "--from", "nowhere"], "nowhere"),
        // a singular or cyclic matrix for a forced solver
        (
            vec!["tridiagonal", "--from", "ex", "--solver", "triangular"],
            "cycle",
        ),
        (vec!["inspect", "cycle.mtx", "--require-dag"], "cycle"),
        // block sizes that do not add up to the matrix
        (vec!["inspect", "m.mtx", "--blocks", "1,1"], "add up to 2"),
        // an unwritable path, a parent that is a file
        (
            vec!["tridiagonal", "--n", "5", "--export", "afile/out"],
            "is a file",
        ),
        (
            vec!["inspect", "m.mtx", "--spy", "afile/a.svg"],
            "is a file",
        ),
        // not enough memory
        (vec!["tridiagonal", "--n", "100000000000"], "memory"),
        // a JSON input without end
        (vec!["mlp", "--network", "/dev/zero"], "larger than 64 MiB"),
        // an output folder under a file, found before the study runs
        (vec!["scaling", "--out", "afile/sub"], "is a file"),
        // an export target that is a link
        (
            vec!["tridiagonal", "--n", "5", "--export", "link"],
            "symbolic link",
        ),
        // a non-finite result
        (vec!["mlp", "--target", "1e300"], "not finite"),
        // a singular matrix for a forced solver
        (
            vec!["tridiagonal", "--from", "zero", "--solver", "ldlt"],
            "singular",
        ),
        // an export folder that is not an earlier export
        (
            vec!["tridiagonal", "--n", "5", "--export", "."],
            "not an export",
        ),
        // a failed check: with c ≈ 1e-200 the objective (cᵀu)² underflows to 0, so the Taylor
        // test sees no remainder at all (orders NaN) and must fail, not pass
        (
            vec!["check", "tridiagonal", "--from", "tiny"],
            "check of tridiagonal failed",
        ),
    ] {
        assert_exit(p, &args, 1, needle);
    }
}
