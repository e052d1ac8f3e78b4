//! The `adjoint` binary end to end: outputs, exports read back, and bad input (one line on
//! stderr, non-zero exit, no panic, no partial file).

use std::path::Path;
use std::process::{Command, Output};

fn adjoint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure: non-zero exit, exactly one line on stderr that contains `needle`.
#[track_caller]
fn assert_fails_with(args: &[&str], needle: &str) {
    let o = adjoint(args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded: {}", stdout(&o));
    assert_ne!(o.status.code(), Some(101), "{args:?} panicked: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
    assert!(
        err.contains(needle),
        "{args:?}: {err:?} does not mention {needle:?}"
    );
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = adjoint(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("one JSON object")
}

#[test]
fn no_arguments_runs_the_demo() {
    let o = adjoint(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("n = 1000"), "{out}");
    assert!(out.contains("closed-form"), "{out}");
}

#[test]
fn json_output_has_the_documented_keys() {
    let v = json(&[
        "tridiagonal",
        "--n",
        "20",
        "--seed",
        "3",
        "--json",
        "--repeat",
        "3",
    ]);
    for key in [
        "problem",
        "n_state",
        "n_params",
        "objective",
        "gradient_norm",
        "solver",
        "dfdu",
        "dfdtheta",
        "timings_ms",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["problem"], "tridiagonal");
    assert_eq!(v["n_state"], 20);
    assert_eq!(v["n_params"], 39);
    assert_eq!(v["solver"], "ldlt");
    assert_eq!(
        v["dfdu"],
        serde_json::json!({"rows": 20, "cols": 20, "nnz": 58})
    );
    assert_eq!(
        v["dfdtheta"],
        serde_json::json!({"rows": 20, "cols": 39, "nnz": 58})
    );
    for key in ["assemble", "factor", "adjoint_solve", "gradient", "total"] {
        assert!(
            v["timings_ms"][key].as_f64().unwrap() >= 0.0,
            "timings_ms.{key}"
        );
    }
    assert!(
        v["timings_ms"]["total"].as_f64().unwrap() >= v["timings_ms"]["factor"].as_f64().unwrap()
    );
}

#[test]
fn human_output_reports_sizes_solver_and_timings() {
    let o = adjoint(&["tridiagonal", "--n", "10"]);
    let out = stdout(&o);
    for needle in [
        "n = 10",
        "28 stored entries",
        "ldlt",
        "objective",
        "‖dL/dθ‖₂",
        "total",
    ] {
        assert!(out.contains(needle), "{needle:?} missing in {out}");
    }
}

#[test]
fn export_then_from_gives_bit_identical_gradients() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    let a = json(&[
        "tridiagonal",
        "--n",
        "300",
        "--seed",
        "5",
        "--export",
        first.to_str().unwrap(),
        "--json",
    ]);
    for f in [
        "dfdu.mtx",
        "dfdtheta.mtx",
        "u.mtx",
        "theta.mtx",
        "lambda.mtx",
        "gradient.mtx",
        "dLdu.mtx",
        "dLdtheta.mtx",
        "c.mtx",
        "b.mtx",
        "problem.json",
    ] {
        assert!(first.join(f).is_file(), "{f} not exported");
    }
    let b = json(&[
        "tridiagonal",
        "--from",
        first.to_str().unwrap(),
        "--export",
        second.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(a["objective"], b["objective"]);
    assert_eq!(a["gradient_norm"], b["gradient_norm"]);
    let g1 = std::fs::read(first.join("gradient.mtx")).unwrap();
    let g2 = std::fs::read(second.join("gradient.mtx")).unwrap();
    assert_eq!(g1, g2, "gradients differ after re-import");
    let problem: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("problem.json")).unwrap()).unwrap();
    assert_eq!(problem["kind"], "tridiagonal");
    assert_eq!(problem["n_state"], 300);
    assert_eq!(problem["n_params"], 599);
}

#[test]
fn from_reads_the_reference_cases_in_array_format() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tridiagonal-n7");
    let v = json(&["tridiagonal", "--from", dir.to_str().unwrap(), "--json"]);
    assert_eq!(v["n_state"], 7);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn vector(values: &[&str]) -> String {
    format!(
        "%%MatrixMarket matrix array real general\n{} 1\n{}\n",
        values.len(),
        values.join("\n")
    )
}

#[test]
fn bad_sizes_are_one_line_errors() {
    assert_fails_with(&["tridiagonal", "--n", "0"], "at least 1");
    assert_fails_with(&["tridiagonal", "--n", "-3"], "error");
    assert_fails_with(&["tridiagonal", "--n", "abc"], "invalid value");
    assert_fails_with(&["tridiagonal", "--repeat", "0"], "repeat");
    assert_fails_with(&["tridiagonal", "--solver", "magic"], "unknown solver");
    assert_fails_with(&["frobnicate"], "error");
    assert_fails_with(&["tridiagonal", "--n", "1000000000000"], "GB of memory");
    assert_fails_with(&["mlp", "--layers", "1000000,1000000,1"], "GB of memory");
    assert_fails_with(
        &["check", "tridiagonal", "--n", "1000000"],
        "too large to check",
    );
}

#[test]
fn bad_input_folders_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    assert_fails_with(&["tridiagonal", "--from", ds], "c.mtx");
    write(d, "c.mtx", &vector(&["1", "2", "3"]));
    write(d, "b.mtx", &vector(&["1", "2", "3"]));
    write(d, "theta.mtx", &vector(&["1", "2", "3", "4"]));
    assert_fails_with(
        &["tridiagonal", "--from", ds],
        "theta.mtx: expected length 5, found length 4",
    );
    write(d, "b.mtx", &vector(&["1", "2"]));
    assert_fails_with(&["tridiagonal", "--from", ds], "b.mtx: expected length 3");
    write(
        d,
        "b.mtx",
        "%%MatrixMarket matrix array real general\n3 1\n1\n2\n",
    );
    assert_fails_with(&["tridiagonal", "--from", ds], "truncated");
    write(d, "b.mtx", "not a matrix\n");
    assert_fails_with(&["tridiagonal", "--from", ds], "not a Matrix Market file");
    write(d, "b.mtx", &vector(&["1", "NaN", "3"]));
    assert_fails_with(&["tridiagonal", "--from", ds], "not finite");
    write(d, "b.mtx", &vector(&["1", "2", "3"]));
    write(d, "theta.mtx", &vector(&["1", "inf", "3", "4", "5"]));
    assert_fails_with(&["tridiagonal", "--from", ds], "not finite");
    // a singular A: zero diagonal, zero off-diagonal
    write(d, "theta.mtx", &vector(&["1", "0", "1", "0", "0"]));
    assert_fails_with(&["tridiagonal", "--from", ds], "singular");
    assert_fails_with(
        &["tridiagonal", "--from", ds, "--n", "4"],
        "cannot be used with",
    );
}

#[test]
fn unwritable_exports_fail_cleanly_and_leave_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    assert_fails_with(
        &[
            "tridiagonal",
            "--n",
            "5",
            "--export",
            file.to_str().unwrap(),
        ],
        "not a folder",
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    let below_file = file.join("sub");
    assert_fails_with(
        &[
            "tridiagonal",
            "--n",
            "5",
            "--export",
            below_file.to_str().unwrap(),
        ],
        "a-file",
    );
    // a folder that cannot be written into (skipped when running as root, which can write anyway)
    let ro = dir.path().join("read-only");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), "x").is_err() {
        assert_fails_with(
            &["tridiagonal", "--n", "5", "--export", ro.to_str().unwrap()],
            "dfdu.mtx",
        );
        assert_eq!(
            std::fs::read_dir(&ro).unwrap().count(),
            0,
            "partial files left"
        );
    }
    // an existing file in the way of one export file: that file fails, nothing partial remains
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(blocked.join("u.mtx")).unwrap();
    assert_fails_with(
        &[
            "tridiagonal",
            "--n",
            "5",
            "--export",
            blocked.to_str().unwrap(),
        ],
        "u.mtx",
    );
    let names: Vec<String> = std::fs::read_dir(&blocked)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "temporary files left: {names:?}"
    );
}

fn write_mtx(dir: &Path, name: &str, n: usize, entries: &[(usize, usize, f64)]) -> String {
    let mut s = format!(
        "%%MatrixMarket matrix coordinate real general\n{n} {n} {}\n",
        entries.len()
    );
    for (i, j, v) in entries {
        s.push_str(&format!("{} {} {v}\n", i + 1, j + 1));
    }
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn inspect_reports_dag_levels_blocks_and_cycles() {
    let dir = tempfile::tempdir().unwrap();
    // blocks 2, 2: identity diagonal blocks, block (1, 0) dense: a two-layer network's L
    let mut e: Vec<(usize, usize, f64)> = (0..4).map(|i| (i, i, 1.0)).collect();
    e.extend([(2, 0, -0.5), (2, 1, 0.25), (3, 0, 1.0), (3, 1, -1.0)]);
    let dag = write_mtx(dir.path(), "L.mtx", 4, &e);
    let o = adjoint(&["inspect", &dag, "--blocks", "2,2", "--require-dag"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "shape 4×4",
        "8 stored entries",
        "DAG: yes, 2 levels",
        "lower triangular: yes",
        "0→1",
        "all identity",
    ] {
        assert!(out.contains(needle), "{needle:?} missing in {out}");
    }
    // a permuted DAG: not triangular as stored, but a DAG
    let p = write_mtx(
        dir.path(),
        "P.mtx",
        3,
        &[
            (0, 0, 1.0),
            (1, 1, 1.0),
            (2, 2, 1.0),
            (0, 2, 3.0),
            (2, 1, 3.0),
        ],
    );
    let out = stdout(&adjoint(&["inspect", &p]));
    assert!(
        out.contains("DAG: yes, 3 levels") && out.contains("after a symmetric permutation"),
        "{out}"
    );
    // a cycle: reported, and an error with --require-dag
    let c = write_mtx(
        dir.path(),
        "C.mtx",
        3,
        &[(0, 0, 1.0), (1, 0, 1.0), (2, 1, 1.0), (0, 2, 1.0)],
    );
    let out = stdout(&adjoint(&["inspect", &c]));
    assert!(out.contains("0 → 1 → 2 → 0"), "{out}");
    assert_fails_with(&["inspect", &c, "--require-dag"], "cycle: 0 → 1 → 2 → 0");
    assert_fails_with(&["inspect", &c, "--blocks", "1,1"], "add up to 2");
    assert_fails_with(&["inspect", &c, "--blocks", "1,x,1"], "not a block size");
}

#[test]
fn inspect_reads_symmetric_pattern_and_array_files_and_names_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let sym = dir.path().join("s.mtx");
    std::fs::write(
        &sym,
        "%%MatrixMarket matrix coordinate real symmetric\n3 3 4\n1 1 2\n2 1 1\n2 2 2\n3 3 2\n",
    )
    .unwrap();
    let out = stdout(&adjoint(&["inspect", sym.to_str().unwrap()]));
    assert!(
        out.contains("symmetric: yes") && out.contains("5 stored entries"),
        "{out}"
    );
    let pat = dir.path().join("p.mtx");
    std::fs::write(
        &pat,
        "%%MatrixMarket matrix coordinate pattern general\n2 2 3\n1 1\n2 1\n2 2\n",
    )
    .unwrap();
    let out = stdout(&adjoint(&["inspect", pat.to_str().unwrap()]));
    assert!(
        out.contains("unit diagonal: yes") && out.contains("DAG: yes"),
        "{out}"
    );
    let arr = dir.path().join("a.mtx");
    std::fs::write(
        &arr,
        "%%MatrixMarket matrix array real general\n2 2\n1\n0\n0\n1\n",
    )
    .unwrap();
    let out = stdout(&adjoint(&["inspect", arr.to_str().unwrap()]));
    assert!(out.contains("2 stored entries"), "{out}");
    let bad = dir.path().join("bad.mtx");
    std::fs::write(
        &bad,
        "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n1 3 1\n",
    )
    .unwrap();
    assert_fails_with(
        &["inspect", bad.to_str().unwrap()],
        "bad.mtx:4: column index 3 out of range",
    );
    assert_fails_with(&["inspect", "/nonexistent.mtx"], "No such file");
}

#[test]
fn mlp_json_train_export_and_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let v = json(&[
        "mlp",
        "--layers",
        "4,3,2",
        "--activation",
        "tanh",
        "--target",
        "0.5,-0.5",
        "--reg",
        "0.01",
        "--train",
        "20",
        "--lr",
        "0.1",
        "--json",
        "--export",
        out.to_str().unwrap(),
    ]);
    for key in [
        "problem",
        "n_state",
        "n_params",
        "objective",
        "gradient_norm",
        "solver",
        "dfdu",
        "dfdtheta",
        "timings_ms",
        "train",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["problem"], "mlp");
    assert_eq!(v["n_state"], 5);
    assert_eq!(v["n_params"], 3 * 5 + 2 * 4);
    assert_eq!(
        v["dfdu"],
        serde_json::json!({"rows": 5, "cols": 5, "nnz": 5 + 6})
    );
    assert_eq!(v["dfdtheta"]["nnz"], 23);
    for key in ["iterations", "objective", "output_error", "gradient_norm"] {
        assert!(v["train"].get(key).is_some(), "missing train.{key}");
    }
    assert_eq!(v["train"]["iterations"], 20);
    for f in [
        "dfdu.mtx",
        "dfdtheta.mtx",
        "u.mtx",
        "theta.mtx",
        "lambda.mtx",
        "gradient.mtx",
        "dLdu.mtx",
        "dLdtheta.mtx",
        "u0.mtx",
        "D.mtx",
        "K.mtx",
        "problem.json",
    ] {
        assert!(out.join(f).is_file(), "{f} not exported");
    }
    let p: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("problem.json")).unwrap()).unwrap();
    assert_eq!(p["layers"], serde_json::json!([4, 3, 2]));
    assert_eq!(p["y"], serde_json::json!([0.5, -0.5]));
    assert_eq!(p["activation"], "tanh");
    assert_eq!(p["regularization"], 0.01);
    assert_eq!(p["u_offsets"], serde_json::json!([0, 3, 5]));
    assert_eq!(p["theta_offsets"], serde_json::json!([0, 15, 23]));
    // re-import the trained network: the same objective and gradient, bit for bit
    let again = dir.path().join("again");
    let w = json(&[
        "mlp",
        "--from",
        out.to_str().unwrap(),
        "--json",
        "--path",
        "explicit",
        "--export",
        again.to_str().unwrap(),
    ]);
    assert_eq!(w["objective"], v["objective"]);
    assert_eq!(
        std::fs::read(out.join("gradient.mtx")).unwrap(),
        std::fs::read(again.join("gradient.mtx")).unwrap()
    );
    // the exported L is a DAG with identity diagonal blocks
    let o = adjoint(&[
        "inspect",
        out.join("dfdu.mtx").to_str().unwrap(),
        "--blocks",
        "3,2",
        "--require-dag",
    ]);
    assert!(
        o.status.success() && stdout(&o).contains("all identity"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn mlp_human_output_and_both_paths() {
    for path in ["fast", "explicit"] {
        let o = adjoint(&["mlp", "--layers", "5,4,1", "--train", "5", "--path", path]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        for needle in [
            "layers 5-4-1",
            "trained 5 iterations",
            "|u_N − y|",
            "‖dL/dθ‖₂",
            path,
        ] {
            assert!(out.contains(needle), "{needle:?} missing in {out}");
        }
    }
}

#[test]
fn mlp_bad_input_is_one_line() {
    assert_fails_with(&["mlp", "--layers", "5,0,1"], "size 0");
    assert_fails_with(&["mlp", "--layers", "5"], "at least one layer");
    assert_fails_with(&["mlp", "--layers", "5,x,1"], "not a layer size");
    assert_fails_with(&["mlp", "--layers", "5,-2,1"], "not a layer size");
    assert_fails_with(&["mlp", "--activation", "relu"], "unknown activation");
    assert_fails_with(&["mlp", "--reg", "-1"], "--reg");
    assert_fails_with(&["mlp", "--lr", "-0.1", "--train", "3"], "--lr");
    assert_fails_with(&["mlp", "--target", "NaN"], "not finite");
    assert_fails_with(&["mlp", "--target", "abc"], "not a number");
    assert_fails_with(
        &["mlp", "--layers", "3,2", "--target", "1,2,3"],
        "3 values for 2 outputs",
    );
    assert_fails_with(&["mlp", "--path", "slow"], "unknown path");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    std::fs::write(
        d.join("problem.json"),
        r#"{"layers": [2, 1], "y": 1.0, "activation": "tanh"}"#,
    )
    .unwrap();
    assert_fails_with(&["mlp", "--from", ds], "missing key \"regularization\"");
    std::fs::write(
        d.join("problem.json"),
        r#"{"layers": [2, 1], "y": 1.0, "activation": "tanh", "regularization": 0}"#,
    )
    .unwrap();
    write(d, "theta.mtx", &vector(&["1", "2"]));
    write(d, "u0.mtx", &vector(&["1", "2"]));
    assert_fails_with(
        &["mlp", "--from", ds],
        "theta.mtx: expected length 3, found length 2",
    );
    write(d, "theta.mtx", &vector(&["1", "2", "3"]));
    write(d, "u0.mtx", &vector(&["1"]));
    assert_fails_with(&["mlp", "--from", ds], "u0.mtx: expected length 2");
    std::fs::write(d.join("problem.json"), "{not json").unwrap();
    assert_fails_with(&["mlp", "--from", ds], "problem.json");
}

#[test]
fn inspect_an_export_folder_and_write_spies() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let o = adjoint(&[
        "mlp",
        "--layers",
        "4,3,2",
        "--export",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "dfdu.svg",
        "dfdu.png",
        "dfdtheta.svg",
        "dfdtheta.png",
        "summary.md",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("identity") && summary.contains("dense"),
        "{summary}"
    );
    let o = adjoint(&["inspect", out.to_str().unwrap(), "--require-dag"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for needle in [
        "dfdu.mtx",
        "dfdtheta.mtx",
        "D.mtx",
        "K.mtx",
        "all identity",
        "vectors:",
        "gradient.mtx",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in {text}");
    }
    // spies from the command line, and their bad paths
    let spy = dir.path().join("l.png");
    let o = adjoint(&[
        "inspect",
        out.join("dfdu.mtx").to_str().unwrap(),
        "--blocks",
        "3,2",
        "--spy",
        spy.to_str().unwrap(),
    ]);
    assert!(o.status.success() && spy.is_file(), "{}", stderr(&o));
    let theta_spy = dir.path().join("t.svg");
    let o = adjoint(&[
        "inspect",
        out.join("dfdtheta.mtx").to_str().unwrap(),
        "--blocks",
        "3,2",
        "--col-blocks",
        "15,8",
        "--spy",
        theta_spy.to_str().unwrap(),
    ]);
    assert!(o.status.success() && theta_spy.is_file(), "{}", stderr(&o));
    let f = out.join("dfdu.mtx");
    let f = f.to_str().unwrap();
    assert_fails_with(
        &[
            "inspect",
            f,
            "--spy",
            dir.path().join("nope/x.png").to_str().unwrap(),
        ],
        "nope/x.png",
    );
    assert_fails_with(
        &[
            "inspect",
            f,
            "--spy",
            dir.path().join("x.gif").to_str().unwrap(),
        ],
        ".svg or .png",
    );
    assert_fails_with(
        &["inspect", out.to_str().unwrap(), "--spy", "x.svg"],
        "apply to one file",
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_fails_with(&["inspect", empty.to_str().unwrap()], "no .mtx files");
}

#[test]
fn a_huge_text_spy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1_000_000;
    let mut s = format!("%%MatrixMarket matrix coordinate real general\n{n} {n} 2\n");
    s.push_str(&format!("1 1 1\n{n} {n} 1\n"));
    let p = dir.path().join("huge.mtx");
    std::fs::write(&p, s).unwrap();
    assert_fails_with(
        &["inspect", p.to_str().unwrap(), "--text"],
        "at most 80 columns",
    );
    let o = adjoint(&["inspect", p.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "without --text the report prints: {}",
        stderr(&o)
    );
}

#[test]
fn check_command_passes_on_built_in_problems_and_rejects_bad_steps() {
    for args in [
        vec!["check", "tridiagonal", "--n", "12"],
        vec!["check", "tridiagonal", "--n", "5", "--fd-step", "1e-6"],
        vec![
            "check",
            "mlp",
            "--layers",
            "6,5,2",
            "--activation",
            "tanh",
            "--reg",
            "0.1",
        ],
        vec!["check", "mlp"],
    ] {
        let o = adjoint(&args);
        assert!(o.status.success(), "{args:?}: {}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("all checks passed") && out.contains("Taylor test"),
            "{out}"
        );
    }
    let v = json(&["check", "mlp", "--layers", "3,2,1", "--json"]);
    assert_eq!(v["passes"], true);
    assert_eq!(v["partials"]["reference"], "dual");
    assert!(v["taylor"]["orders"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| (o.as_f64().unwrap() - 2.0).abs() < 0.3));
    assert_fails_with(&["check", "tridiagonal", "--fd-step", "0"], "--fd-step");
    assert_fails_with(&["check", "tridiagonal", "--fd-step", "NaN"], "--fd-step");
    assert_fails_with(&["check", "tridiagonal", "--taylor-h", "-1"], "taylor-h");
    assert_fails_with(&["check", "mlp", "--layers", "3,0,1"], "size 0");
}

#[test]
fn scaling_command_writes_plots_and_rejects_bad_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sc");
    let v = json(&[
        "scaling",
        "--budget",
        "0.002",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(v["samples"].as_array().unwrap().len() >= 16);
    assert_eq!(v["slopes"].as_array().unwrap().len(), 8);
    for f in [
        "scaling-tridiagonal.svg",
        "scaling-tridiagonal.png",
        "scaling-network.svg",
        "scaling-network.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert_fails_with(&["scaling", "--budget", "0"], "budget");
    assert_fails_with(&["scaling", "--budget", "-1"], "budget");
}

#[test]
fn mlp_accepts_a_network_file() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.json");
    std::fs::write(
        &net,
        r#"{"input": 3, "activation": "tanh", "y": 0.5, "regularization": 0.01,
            "layers": [{"size": 4, "inputs": [0], "group": 0},
                       {"size": 4, "inputs": [1], "group": 1, "residual": 1},
                       {"size": 4, "inputs": [2], "group": 1},
                       {"size": 1, "inputs": [3, 0], "group": 2}]}"#,
    )
    .unwrap();
    let out = dir.path().join("export");
    let v = json(&[
        "mlp",
        "--network",
        net.to_str().unwrap(),
        "--train",
        "5",
        "--lr",
        "0.1",
        "--json",
        "--export",
        out.to_str().unwrap(),
    ]);
    assert_eq!(v["problem"], "network");
    assert_eq!(v["solver"], "triangular");
    assert_eq!(v["n_params"], 16 + 20 + 8);
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("(layer 3, group 1)") && summary.contains("(layer 2, group 1)"),
        "{summary}"
    );
    let o = adjoint(&["inspect", out.to_str().unwrap(), "--require-dag"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // a cycle in the description is rejected in layer terms
    std::fs::write(&net, r#"{"input": 2, "layers": [{"size": 2, "inputs": [0, 2], "group": 0}, {"size": 2, "inputs": [1], "group": 1}]}"#).unwrap();
    assert_fails_with(
        &["mlp", "--network", net.to_str().unwrap()],
        "cycle: 1 → 2 → 1",
    );
    std::fs::write(&net, r#"{"input": 2, "layers": [{"size": 2}]}"#).unwrap();
    assert_fails_with(
        &["mlp", "--network", net.to_str().unwrap()],
        "missing field",
    );
    assert_fails_with(
        &["mlp", "--network", net.to_str().unwrap(), "--path", "fast"],
        "explicit",
    );
    assert_fails_with(
        &[
            "mlp",
            "--network",
            dir.path().join("none.json").to_str().unwrap(),
        ],
        "none.json",
    );
}

#[test]
fn every_solver_can_be_forced_and_a_misfit_is_one_line() {
    for (solver, expect) in [("ldlt", "ldlt"), ("lu", "lu"), ("auto", "ldlt")] {
        let v = json(&["tridiagonal", "--n", "30", "--solver", solver, "--json"]);
        assert_eq!(v["solver"], expect);
    }
    assert_fails_with(
        &["tridiagonal", "--n", "30", "--solver", "triangular"],
        "solver triangular does not apply",
    );
    let v = json(&[
        "tridiagonal",
        "--n",
        "1",
        "--solver",
        "triangular",
        "--json",
    ]);
    assert_eq!(v["solver"], "triangular");
}

#[test]
fn network_exports_read_back_and_bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.json");
    std::fs::write(
        &net,
        r#"{"input": 2, "activation": "sigmoid", "y": [0.2, 0.4],
            "layers": [{"size": 3, "inputs": [0], "group": 0},
                       {"size": 2, "inputs": [1, 0], "group": 1}]}"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let a = json(&[
        "mlp",
        "--network",
        net.to_str().unwrap(),
        "--train",
        "3",
        "--lr",
        "0.5",
        "--json",
        "--export",
        out.to_str().unwrap(),
    ]);
    let b = json(&["mlp", "--from", out.to_str().unwrap(), "--json"]);
    assert_eq!(
        a["objective"], b["objective"],
        "re-import of a network export"
    );
    assert_eq!(b["problem"], "network");
    std::fs::write(
        &net,
        r#"{"input": 2, "activaton": "tanh", "layers": [{"size": 1, "inputs": [0], "group": 0}]}"#,
    )
    .unwrap();
    assert_fails_with(
        &["mlp", "--network", net.to_str().unwrap()],
        "unknown key \"activaton\"",
    );
    std::fs::write(
        &net,
        r#"{"input": 2, "layers": [{"size": 1, "inputs": [0], "group": 99999999999}]}"#,
    )
    .unwrap();
    assert_fails_with(
        &["mlp", "--network", net.to_str().unwrap()],
        "group 99999999999",
    );
    std::fs::write(
        &net,
        r#"{"input": 2, "layers": [{"size": 99999999999, "inputs": [0], "group": 0}]}"#,
    )
    .unwrap();
    assert_fails_with(&["mlp", "--network", net.to_str().unwrap()], "GB of memory");
    std::fs::write(
        &net,
        r#"{"input": 2, "layers": [{"size": 1, "inputs": [0], "group": 0, "extra": 1}]}"#,
    )
    .unwrap();
    assert_fails_with(
        &["mlp", "--network", net.to_str().unwrap()],
        "unknown field",
    );
    let trunc = dir.path().join("t.mtx");
    std::fs::write(
        &trunc,
        "%%MatrixMarket matrix coordinate real general\n3 3 4\n1 1 1\n2 2 1\n",
    )
    .unwrap();
    assert_fails_with(
        &["inspect", trunc.to_str().unwrap()],
        "t.mtx:5: truncated file",
    );
}
