//! `adjoint ode`: JSON keys and their meaning, the two modes, the exports, `--from`, exit codes.

use std::process::Command;

fn adjoint(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .output()
        .expect("run adjoint")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = adjoint(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn json_keys_and_the_two_modes_agree_bit_for_bit() {
    for problem in ["lotka-volterra", "heat", "robertson"] {
        for scheme in ["implicit-euler", "explicit-euler", "crank-nicolson"] {
            if problem == "robertson" && scheme == "explicit-euler" {
                continue; // unstable on this grid, as it should be
            }
            let base = [
                "ode", problem, "--scheme", scheme, "--steps", "80", "--json",
            ];
            let e = json(&base);
            let mut with = base.to_vec();
            with.extend(["--checkpoints", "3"]);
            let c = json(&with);
            assert_eq!(e["scheme"], scheme);
            assert_eq!(e["steps"], 80);
            assert_eq!(e["checkpoints"], 0);
            assert_eq!(e["recomputed_steps"], 0);
            assert_eq!(c["checkpoints"], 3);
            assert_eq!(
                (e["mode"].as_str(), c["mode"].as_str()),
                (Some("explicit"), Some("checkpointed"))
            );
            let solver = if scheme == "explicit-euler" {
                "triangular"
            } else {
                "block-triangular"
            };
            assert_eq!(
                (e["solver"].as_str(), c["solver"].as_str()),
                (Some(solver), Some(solver))
            );
            assert!(c["recomputed_steps"].as_u64().unwrap() > 0);
            assert!(c["peak_state_memory_bytes"].as_u64() < e["peak_state_memory_bytes"].as_u64());
            assert_eq!(e["newton_iterations"], c["newton_iterations"]);
            if scheme == "explicit-euler" {
                assert_eq!(e["newton_iterations"], 0);
            }
            let (ge, gc) = (floats(&e["gradient"]), floats(&c["gradient"]));
            assert!(
                ge.iter().zip(&gc).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{problem} {scheme}"
            );
            assert_eq!(
                e["objective"].as_f64().unwrap().to_bits(),
                c["objective"].as_f64().unwrap().to_bits()
            );
            for key in [
                "state_solve",
                "assemble",
                "factor",
                "adjoint_solve",
                "gradient",
                "total",
            ] {
                assert!(e["timings_ms"][key].as_f64().is_some(), "timings_ms.{key}");
            }
            assert_eq!(
                e["n_state"].as_u64().unwrap(),
                80 * e["n"].as_u64().unwrap()
            );
        }
    }
}

#[test]
fn exports_round_trip_through_from() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("explicit");
    let out = adjoint(&[
        "ode",
        "lotka-volterra",
        "--steps",
        "30",
        "--theta",
        "1.4,0.9,3.1,1.05",
        "--export",
        ex.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "dfdu.mtx",
        "dfdtheta.mtx",
        "u.mtx",
        "lambda.mtx",
        "gradient.mtx",
        "theta.mtx",
        "problem.json",
        "summary.md",
    ] {
        assert!(ex.join(f).exists(), "{f}");
    }
    let summary = std::fs::read_to_string(ex.join("summary.md")).unwrap();
    assert!(
        summary.contains("step 1") && summary.contains("step 30"),
        "{summary}"
    );
    let dfdu = adjoint::mtx::read_matrix(ex.join("dfdu.mtx")).unwrap();
    assert_eq!((dfdu.rows, dfdu.cols), (60, 60));
    let g = adjoint::mtx::read_vector(ex.join("gradient.mtx")).unwrap();
    // --from reads theta.mtx only and gives the same gradient
    let j = json(&[
        "ode",
        "lotka-volterra",
        "--steps",
        "30",
        "--from",
        ex.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(floats(&j["gradient"]), g);
    // the checkpointed export holds no matrices, and says so
    let cp = dir.path().join("checkpointed");
    let out = adjoint(&[
        "ode",
        "lotka-volterra",
        "--steps",
        "30",
        "--checkpoints",
        "2",
        "--export",
        cp.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("matrices are not held"));
    assert!(
        cp.join("gradient.mtx").exists()
            && cp.join("theta.mtx").exists()
            && cp.join("summary.md").exists()
    );
    assert!(!cp.join("dfdu.mtx").exists());
}

#[test]
fn bad_arguments_exit_2_and_bad_data_exit_1() {
    for args in [
        vec!["ode", "lotka-volterra", "--n", "5"],
        vec!["ode", "robertson", "--theta", "1,2"],
        vec!["ode", "heat", "--steps", "0"],
        vec!["ode", "heat", "--checkpoints", "0"],
        vec!["ode", "heat", "--scheme", "rk4"],
        vec!["ode", "heat", "--t-end", "-1"],
        vec!["ode", "pendulum"],
        vec!["ode", "lotka-volterra", "--theta", "1,1,1,1", "--from", "x"],
        vec![
            "ode",
            "robertson",
            "--grid",
            "geometric",
            "--first",
            "1e9",
            "--t-end",
            "1",
        ],
    ] {
        let out = adjoint(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().count(),
            1,
            "{args:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    adjoint::mtx::write_vector(dir.path().join("theta.mtx"), &[1.0, 2.0], "").unwrap();
    let neg = tempfile::tempdir().unwrap();
    adjoint::mtx::write_vector(neg.path().join("theta.mtx"), &[1.0, -2.0], "").unwrap();
    for args in [
        vec![
            "ode",
            "lotka-volterra",
            "--from",
            dir.path().to_str().unwrap(),
        ],
        // a negative conductivity
        vec!["ode", "heat", "--n", "1", "--theta", "1,-1"],
        // explicit Euler blows up on the stiff problem: a named step, not a NaN
        vec![
            "ode",
            "robertson",
            "--scheme",
            "explicit-euler",
            "--steps",
            "100",
        ],
    ] {
        let out = adjoint(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn inspect_accepts_a_block_dag_and_says_at_which_level() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("rob");
    assert!(adjoint(&[
        "ode",
        "robertson",
        "--steps",
        "6",
        "--export",
        ex.to_str().unwrap()
    ])
    .status
    .success());
    // the folder's recorded step offsets make it a DAG of blocks
    let out = adjoint(&["inspect", ex.to_str().unwrap(), "--require-dag"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("DAG at the level of blocks"));
    let file = ex.join("dfdu.mtx");
    let out = adjoint(&[
        "inspect",
        file.to_str().unwrap(),
        "--blocks",
        "3,3,3,3,3,3",
        "--require-dag",
    ]);
    assert!(out.status.success());
    // without blocks the entry graph has cycles: refused
    let out = adjoint(&["inspect", file.to_str().unwrap(), "--require-dag"]);
    assert_eq!(out.status.code(), Some(1));
    // explicit Euler: a DAG entry by entry
    let ee = dir.path().join("ee");
    assert!(adjoint(&[
        "ode",
        "lotka-volterra",
        "--scheme",
        "explicit-euler",
        "--steps",
        "6",
        "--export",
        ee.to_str().unwrap()
    ])
    .status
    .success());
    let out = adjoint(&["inspect", ee.to_str().unwrap(), "--require-dag"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("DAG at the level of entries"));
}
