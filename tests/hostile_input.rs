//! Hostile and misleading input: memory bounded by what a file really holds, inputs read once
//! (pipes work), and messages that name the right culprit.

use adjoint::mtx::{read_matrix_from, read_vector};
use adjoint::Error;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn parse(text: &[u8]) -> adjoint::Result<adjoint::mtx::MtxMatrix> {
    read_matrix_from(std::io::Cursor::new(text), Path::new("t.mtx"))
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Peak resident memory of a finished child, in KiB, from GNU time's `%M` if available.
fn rss_kib(args: &[&str], dir: &Path) -> Option<(u64, Output)> {
    let o = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let kib = err.lines().last()?.trim().parse().ok()?;
    Some((kib, o))
}

#[test]
fn claimed_sizes_are_not_allocated() {
    // 4·10⁹ × 4·10⁹ with one entry: refused with the memory it would need
    let e =
        parse(b"%%MatrixMarket matrix coordinate real general\n4000000000 4000000000 1\n1 1 1\n")
            .unwrap_err();
    match &e {
        Error::OutOfMemory { needed, .. } => assert!(*needed >= 1.28e11, "{e}"),
        other => panic!("expected OutOfMemory, got {other}"),
    }
    assert!(e.to_string().contains("GB of memory"));
    // 10¹² entries declared, one present: truncated, after reading what is there
    let e = parse(b"%%MatrixMarket matrix coordinate real general\n2 2 1000000000000\n1 1 1\n")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("truncated file: 1 entries of the 1000000000000"),
        "{e}"
    );
    // sizes that overflow usize are an error, not a panic inside sprs
    for line in [
        "2 18446744073709551615 1",
        "18446744073709551615 2 1",
        "2 18446744073709551616 1",
    ] {
        let text = format!("%%MatrixMarket matrix coordinate real general\n{line}\n1 1 1\n");
        assert!(
            matches!(parse(text.as_bytes()), Err(Error::Parse { line: 2, .. })),
            "{line}"
        );
    }
    // array files too: the claim is checked before any value is read
    let e =
        parse(b"%%MatrixMarket matrix array real general\n4000000000 4000000000\n1\n").unwrap_err();
    assert!(
        matches!(e, Error::OutOfMemory { .. } | Error::Parse { .. }),
        "{e}"
    );
}

#[test]
fn a_60_byte_claim_runs_in_a_few_megabytes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("claim.mtx"),
        "%%MatrixMarket matrix coordinate real general\n3 3 1000000000000\n1 1 1\n",
    )
    .unwrap();
    let Some((kib, o)) = rss_kib(&["inspect", "claim.mtx"], d) else {
        return; // no GNU time here: the library test above covers the logic
    };
    assert_eq!(o.status.code(), Some(1));
    assert!(kib < 100_000, "peak RSS {kib} KiB for a 60-byte file");
}

#[test]
fn lines_are_bounded() {
    let mut text = b"%%MatrixMarket matrix coordinate real general\n2 2 1\n".to_vec();
    text.extend(std::iter::repeat_n(b'1', 2 << 20));
    let e = parse(&text).unwrap_err();
    assert!(e.to_string().contains("longer than 1 MiB"), "{e}");
    // /dev/zero: no line break ever
    if Path::new("/dev/zero").exists() {
        let o = run_in(Path::new("."), &["inspect", "/dev/zero"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("longer than 1 MiB"));
    }
    // bytes that are not text
    let e = parse(b"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 \xff\n").unwrap_err();
    assert!(e.to_string().contains("UTF-8"), "{e}");
}

#[test]
fn fields_mean_what_they_say() {
    let e =
        parse(b"%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 1.5\n").unwrap_err();
    assert!(matches!(e, Error::Parse { line: 3, .. }), "{e}");
    assert!(e.to_string().contains("not an integer"));
    let m = parse(b"%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 1 -3\n").unwrap();
    assert_eq!(m.entries, vec![(0, 0, -3.0)]);
    // a pattern vector has no values
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("theta.mtx");
    std::fs::write(
        &p,
        "%%MatrixMarket matrix coordinate pattern general\n3 1 2\n1 1\n3 1\n",
    )
    .unwrap();
    let e = read_vector(&p).unwrap_err();
    assert!(e.to_string().contains("pattern"), "{e}");
}

#[test]
fn inputs_are_read_once_so_pipes_work() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let text = "%%MatrixMarket matrix coordinate real general\n3 3 4\n1 1 1\n2 2 1\n3 3 1\n3 1 2\n";
    for args in [
        vec!["inspect", "/dev/stdin"],
        vec!["inspect", "/dev/stdin", "--blocks", "1,2"],
        vec!["inspect", "/dev/stdin", "--require-dag"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_adjoint"))
            .args(&args)
            .current_dir(d)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("shape 3×3, 4 stored entries"), "{out}");
        assert!(out.contains("DAG: yes"), "{out}");
    }
}

#[test]
fn messages_name_the_culprit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert!(run_in(d, &["tridiagonal", "--n", "5", "--export", "ex"])
        .status
        .success());
    // c.mtx made short: c.mtx is named, not b.mtx
    let c = adjoint::mtx::read_vector(d.join("ex/c.mtx")).unwrap();
    std::fs::create_dir(d.join("short")).unwrap();
    for f in ["b.mtx", "theta.mtx"] {
        std::fs::copy(d.join("ex").join(f), d.join("short").join(f)).unwrap();
    }
    adjoint::mtx::write_vector(d.join("short/c.mtx"), &c[..4], "").unwrap();
    let o = run_in(d, &["tridiagonal", "--from", "short"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("c.mtx") && !err.contains("b.mtx"), "{err}");
    // a problem.json of another kind
    let o = run_in(d, &["mlp", "--from", "ex"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("kind \"tridiagonal\""), "{err}");
    // an unreadable problem.json, files that disagree in size
    std::fs::create_dir(d.join("broken")).unwrap();
    for e in std::fs::read_dir(d.join("ex")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.join("broken").join(e.file_name())).unwrap();
    }
    std::fs::write(d.join("broken/problem.json"), "{\"kind\": ").unwrap();
    let o = run_in(d, &["inspect", "broken"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("problem.json"));
    std::fs::copy(d.join("ex/problem.json"), d.join("broken/problem.json")).unwrap();
    adjoint::mtx::write_vector(d.join("broken/lambda.mtx"), &[1.0; 4], "").unwrap();
    let o = run_in(d, &["inspect", "broken"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("disagree on n_u") && err.contains("lambda.mtx"),
        "{err}"
    );
    // --require-dag on a folder without dfdu.mtx
    std::fs::remove_file(d.join("broken/dfdu.mtx")).unwrap();
    std::fs::copy(d.join("ex/lambda.mtx"), d.join("broken/lambda.mtx")).unwrap();
    let o = run_in(d, &["inspect", "broken", "--require-dag"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no dfdu.mtx"));
    // a network file without y or activation: the defaults are shown
    std::fs::write(
        d.join("net.json"),
        r#"{"input": 2, "layers": [{"size": 1, "inputs": [0], "group": 0}]}"#,
    )
    .unwrap();
    let o = run_in(d, &["mlp", "--network", "net.json"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("defaults (not in the file): activation"),
        "{out}"
    );
    assert!(out.contains("y = 0"), "{out}");
    // no Debug formatting in any error
    for args in [
        vec!["inspect", "ex/dfdu.mtx", "--spy", "ex/u.mtx/x.png"],
        vec!["inspect", "ex/dfdu.mtx", "--spy", "nowhere/x.png"],
    ] {
        let err = String::from_utf8_lossy(&run_in(d, &args).stderr).into_owned();
        assert!(
            !err.contains("Error(") && !err.contains("Custom {"),
            "{err}"
        );
    }
}

#[cfg(unix)]
#[test]
fn the_memory_guard_respects_the_address_space_limit() {
    let tmp = tempfile::tempdir().unwrap();
    // 2 GB of address space: --n 10⁷ (≈ 3 GB) is refused with one line, not an abort
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000 && exec \"$0\" tridiagonal --n 10000000")
        .arg(env!("CARGO_BIN_EXE_adjoint"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("address-space limit"), "{err}");
}

#[test]
fn block_tables_are_bounded_by_the_nonzero_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // a ring of 60,000 nodes cut into 60,000 blocks: a 3.6·10⁹-block grid
    let n = 60_000;
    let mut t = sprs::TriMat::new((n, n));
    for i in 0..n {
        t.add_triplet(i, i, 1.0);
        t.add_triplet((i + 1) % n, i, 0.5);
    }
    let m: sprs::CsMat<f64> = t.to_csc();
    adjoint::mtx::write_matrix(d.join("ring.mtx"), &m, "").unwrap();
    let blocks = vec!["1"; n].join(",");
    let t0 = std::time::Instant::now();
    let o = run_in(d, &["inspect", "ring.mtx", "--blocks", &blocks]);
    assert!(t0.elapsed().as_secs() < 20);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.len() < 200_000, "{} bytes of report", out.len());
    assert!(
        out.contains("more blocks not listed"),
        "{}",
        &out[..2000.min(out.len())]
    );
    // a deep network's export: summary.md stays small
    let layers: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"size": 1, "inputs": [{i}], "group": {i}}}"#))
        .collect();
    std::fs::write(
        d.join("deep.json"),
        format!(r#"{{"input": 1, "layers": [{}]}}"#, layers.join(",")),
    )
    .unwrap();
    let o = run_in(d, &["mlp", "--network", "deep.json", "--export", "deep"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = std::fs::metadata(d.join("deep/summary.md")).unwrap().len();
    assert!(summary < 200_000, "summary.md has {summary} bytes");
}

#[test]
fn norms_do_not_overflow() {
    use adjoint::sparse::{distance2, norm2};
    assert_eq!(norm2(&[3e300, 4e300]), 5e300);
    assert_eq!(norm2(&[3e-300, 4e-300]), 5e-300);
    assert_eq!(norm2(&[]), 0.0);
    assert!(norm2(&[1.0, f64::NAN]).is_nan());
    assert_eq!(distance2(&[1e300, 0.0], &[-2e300, 4e300]), 5e300);
    let o = run_in(Path::new("."), &["mlp", "--reg", "1e300", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["gradient_norm"].as_f64().unwrap().is_finite(), "{v}");
}

#[test]
fn export_folders_are_checked_for_every_vector() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert!(run_in(d, &["tridiagonal", "--n", "5", "--export", "ex"])
        .status
        .success());
    assert!(run_in(d, &["mlp", "--layers", "3,2,1", "--export", "mx"])
        .status
        .success());
    // c.mtx of the wrong length, u0.mtx of the wrong length
    adjoint::mtx::write_vector(d.join("ex/c.mtx"), &[1.0; 4], "").unwrap();
    adjoint::mtx::write_vector(d.join("mx/u0.mtx"), &[1.0; 4], "").unwrap();
    for (dir, file) in [("ex", "c.mtx"), ("mx", "u0.mtx")] {
        let o = run_in(d, &["inspect", dir]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{dir}: {err}");
        assert!(err.contains(file) && err.contains("disagree"), "{err}");
    }
    // problem.json that is not an object: refused by --from
    for text in ["[]", "3", "\"tridiagonal\""] {
        std::fs::write(d.join("ex/problem.json"), text).unwrap();
        let o = run_in(d, &["tridiagonal", "--from", "ex"]);
        assert_eq!(o.status.code(), Some(1), "{text}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("problem.json"));
    }
    // an invalid value in problem.json names the file
    let text = std::fs::read_to_string(d.join("mx/problem.json")).unwrap();
    std::fs::write(
        d.join("mx/problem.json"),
        text.replace("\"exp_neg\"", "\"relu\""),
    )
    .unwrap();
    let o = run_in(d, &["mlp", "--from", "mx"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("problem.json") && err.contains("relu"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn special_files_in_a_folder_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert!(run_in(d, &["tridiagonal", "--n", "5", "--export", "ex"])
        .status
        .success());
    let made = Command::new("mkfifo").arg(d.join("ex/fifo.mtx")).status();
    if !made.is_ok_and(|s| s.success()) {
        return;
    }
    let t0 = std::time::Instant::now();
    let o = run_in(d, &["inspect", "ex"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(t0.elapsed().as_secs() < 10);
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_banner() {
    let m =
        parse("\u{feff}%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 2\n".as_bytes())
            .unwrap();
    assert_eq!(m.entries, vec![(0, 0, 2.0)]);
}

#[cfg(unix)]
#[test]
fn an_export_beyond_the_memory_limit_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 500000 && exec \"$0\" tridiagonal --n 1000000 --export X")
        .arg(env!("CARGO_BIN_EXE_adjoint"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("memory"), "{err}");
    // nothing left behind
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[cfg(unix)]
#[test]
fn symlinked_files_in_a_folder_are_read_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert!(run_in(d, &["tridiagonal", "--n", "5", "--export", "ex"])
        .status
        .success());
    adjoint::mtx::write_vector(d.join("short.mtx"), &[1.0; 4], "").unwrap();
    std::fs::remove_file(d.join("ex/c.mtx")).unwrap();
    std::os::unix::fs::symlink(d.join("short.mtx"), d.join("ex/c.mtx")).unwrap();
    let o = run_in(d, &["inspect", "ex"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("c.mtx"), "{err}");
    // and messages name the symmetry as the banner does
    let e = parse(b"%%MatrixMarket matrix coordinate real skew-symmetric\n2 3 0\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("a skew-symmetric matrix must be square"),
        "{e}"
    );
}
