//! Export folders are replaced as a whole and never eat a user's files: failed, killed and
//! concurrent exports leave either the earlier export or a complete new one, and no temporary
//! files; foreign folders are refused; files get the usual mode.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn adjoint_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn n_state(dir: &Path) -> u64 {
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("problem.json")).unwrap()).unwrap();
    j["n_state"].as_u64().unwrap()
}

/// The export in `dir` is complete and self-consistent: every file, sizes agreeing.
fn assert_complete(dir: &Path) {
    let n = n_state(dir);
    for name in [
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
        "dfdu.svg",
        "dfdu.png",
        "dfdtheta.svg",
        "dfdtheta.png",
        "summary.md",
        ".adjoint-export",
    ] {
        assert!(
            dir.join(name).is_file(),
            "{name} missing in {}",
            dir.display()
        );
    }
    let u = adjoint::mtx::read_vector(dir.join("u.mtx")).unwrap();
    assert_eq!(u.len() as u64, n);
    let m = adjoint::mtx::read_matrix(dir.join("dfdu.mtx")).unwrap();
    assert_eq!((m.rows as u64, m.cols as u64), (n, n));
    // inspect agrees that the folder is consistent
    let o = adjoint_in(dir, &["inspect", "."]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Names in `parent` that are not `keep`: temporary siblings left behind.
fn leftovers(parent: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn an_earlier_export_is_replaced_and_nothing_is_left_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for n in ["5", "8", "3"] {
        let o = adjoint_in(d, &["tridiagonal", "--n", n, "--export", "out"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_complete(&d.join("out"));
        assert_eq!(n_state(&d.join("out")).to_string(), n);
        assert_eq!(leftovers(d, &["out"]), Vec::<String>::new());
    }
    // an export written before the marker existed is still recognized
    std::fs::remove_file(d.join("out/.adjoint-export")).unwrap();
    let o = adjoint_in(d, &["tridiagonal", "--n", "4", "--export", "out"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(n_state(&d.join("out")), 4);
}

#[test]
fn folders_that_are_not_exports_are_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir(d.join("results")).unwrap();
    std::fs::write(d.join("results/data.csv"), "1,2").unwrap();
    for target in [".", "results"] {
        let o = adjoint_in(d, &["tridiagonal", "--n", "5", "--export", target]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not an export of adjoint"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1);
    }
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("results/data.csv")).unwrap(),
        "1,2"
    );
    // an export that a user added a file to is not replaced either
    let o = adjoint_in(d, &["tridiagonal", "--n", "5", "--export", "out"]);
    assert!(o.status.success());
    std::fs::write(d.join("out/my-notes.txt"), "keep").unwrap();
    let o = adjoint_in(d, &["tridiagonal", "--n", "6", "--export", "out"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(n_state(&d.join("out")), 5);
    assert!(d.join("out/my-notes.txt").exists());
    // a parent that is a file
    let o = adjoint_in(d, &["tridiagonal", "--n", "5", "--export", "notes.txt/out"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a file"));
    // an empty folder is fine
    std::fs::create_dir(d.join("empty")).unwrap();
    let o = adjoint_in(d, &["tridiagonal", "--n", "5", "--export", "empty"]);
    assert!(o.status.success());
    assert_complete(&d.join("empty"));
}

#[cfg(unix)]
#[test]
fn every_file_gets_the_mode_the_umask_allows() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for (umask, file_mode, dir_mode) in [("022", 0o644, 0o755), ("027", 0o640, 0o750)] {
        let out = format!("out{umask}");
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask} && exec \"$0\" tridiagonal --n 5 --export {out}"
            ))
            .arg(env!("CARGO_BIN_EXE_adjoint"))
            .current_dir(d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let dir = d.join(&out);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), dir_mode, "folder");
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            assert_eq!(mode(&p), file_mode, "{}", p.display());
        }
    }
}

#[test]
fn a_killed_export_leaves_the_earlier_one_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let o = adjoint_in(d, &["tridiagonal", "--n", "5", "--export", "out"]);
    assert!(o.status.success());
    for signal in ["TERM", "INT", "KILL"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_adjoint"))
            .args(["tridiagonal", "--n", "1000000", "--export", "out"])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(600));
        Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap();
        // either the earlier export or (had it finished) the new one, complete either way
        assert_complete(&d.join("out"));
    }
    // the next export next to it removes what the killed runs left
    let o = adjoint_in(d, &["tridiagonal", "--n", "7", "--export", "out"]);
    assert!(o.status.success());
    assert_eq!(n_state(&d.join("out")), 7);
    assert_eq!(leftovers(d, &["out"]), Vec::<String>::new());
}

#[test]
fn concurrent_exports_leave_one_complete_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let children: Vec<_> = ["20000", "30000", "40000", "50000"]
        .iter()
        .map(|n| {
            Command::new(env!("CARGO_BIN_EXE_adjoint"))
                .args(["tridiagonal", "--n", n, "--export", "out"])
                .current_dir(d)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_complete(&d.join("out"));
    assert_eq!(leftovers(d, &["out"]), Vec::<String>::new());
}

#[test]
fn a_folder_made_during_an_export_is_left_untouched() {
    use adjoint::folder::FolderWriter;
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("out");
    let w = FolderWriter::begin(&target).unwrap();
    std::fs::write(w.path().join("problem.json"), "{\"kind\": \"tridiagonal\"}").unwrap();
    // while the export is being written, someone makes the folder with their own file
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "mine").unwrap();
    let e = w.commit().unwrap_err();
    assert!(e.to_string().contains("left untouched"), "{e}");
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(leftovers(tmp.path(), &["out"]), Vec::<String>::new());
}
