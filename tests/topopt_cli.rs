//! `adjoint topopt`: JSON keys and their meaning, the export folder, exit codes.

use std::process::Command;

fn adjoint(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_adjoint"))
        .args(args)
        .output()
        .expect("run adjoint")
}

#[test]
fn json_reports_one_entry_per_iteration() {
    let out = adjoint(&["topopt", "--nelx", "30", "--nely", "10", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let k = j["iterations"].as_u64().unwrap() as usize;
    assert!(k > 5);
    for key in ["compliance", "volume", "change"] {
        assert_eq!(j[key].as_array().unwrap().len(), k, "{key}");
    }
    let c: Vec<f64> = j["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(c.iter().all(|v| v.is_finite() && *v > 0.0));
    assert!(
        c[k - 1] < c[0],
        "the design improves: {} → {}",
        c[0],
        c[k - 1]
    );
    let last_change = j["change"][k - 1].as_f64().unwrap();
    assert!(last_change <= 0.01);
    let last_volume = j["volume"][k - 1].as_f64().unwrap();
    assert!((last_volume - 0.5).abs() < 2e-3, "{last_volume}");
    assert_eq!(j["n_elements"], 300);
    assert_eq!(j["n_params"], 300);
    assert_eq!(j["n_dofs"], 2 * 31 * 11);
    assert_eq!(j["n_state"], 2 * 31 * 11 - 12);
    assert!(j["seconds_per_iteration"].as_f64().unwrap() > 0.0);
    for key in [
        "assemble",
        "factor",
        "solve",
        "sensitivity",
        "filter",
        "update",
        "total",
    ] {
        assert!(j["timings_ms"][key].as_f64().is_some(), "timings_ms.{key}");
    }
    assert!(j["solver"].as_str().is_some());
    // --maxit stops early
    let out = adjoint(&[
        "topopt", "--nelx", "30", "--nely", "10", "--maxit", "3", "--json",
    ]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["iterations"], 3);
}

#[test]
fn the_export_describes_the_final_design() {
    let dir = std::env::temp_dir().join(format!("adjoint-topopt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = adjoint(&[
        "topopt",
        "--nelx",
        "8",
        "--nely",
        "4",
        "--export",
        dir.to_str().unwrap(),
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
        "density.mtx",
        "density.png",
        "problem.json",
        "summary.md",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let k = adjoint::mtx::read_matrix(dir.join("dfdu.mtx")).unwrap();
    let n_free = 2 * 9 * 5 - 6;
    assert_eq!((k.rows, k.cols), (n_free, n_free));
    // the export's K is the library's K at the exported densities
    let theta_now = adjoint::mtx::read_vector(dir.join("theta.mtx")).unwrap();
    let beam = adjoint::problems::topopt::MbbBeam::new(8, 4, 3.0).unwrap();
    let mut ws = adjoint::AdjointWorkspace::new(&beam, adjoint::SolverKind::Auto).unwrap();
    ws.evaluate(&beam, &theta_now).unwrap();
    let kk = ws.dfdu();
    for &(r, c, v) in &k.entries {
        let want = kk.get(r, c).copied().unwrap_or(0.0);
        assert!(
            (v - want).abs() <= 1e-12 * want.abs().max(1e-9),
            "K[{r}, {c}]"
        );
    }
    let theta = adjoint::mtx::read_vector(dir.join("theta.mtx")).unwrap();
    let density = adjoint::mtx::read_vector(dir.join("density.mtx")).unwrap();
    assert_eq!(theta, density);
    assert_eq!(density.len(), 32);
    let u = adjoint::mtx::read_vector(dir.join("u.mtx")).unwrap();
    let lambda = adjoint::mtx::read_vector(dir.join("lambda.mtx")).unwrap();
    for (l, v) in lambda.iter().zip(&u) {
        assert!((l + v).abs() <= 1e-9 * v.abs().max(1.0));
    }
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("problem.json")).unwrap()).unwrap();
    assert_eq!(p["kind"], "topopt");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    for args in [
        &["--nelx", "0"][..],
        &["--nely", "0"],
        &["--volfrac", "0"],
        &["--volfrac", "1.01"],
        &["--volfrac", "nan"],
        &["--rmin", "0"],
        &["--rmin", "-1"],
        &["--penal", "0.9"],
        &["--ft", "3"],
        &["--maxit", "0"],
    ] {
        let mut all = vec!["topopt"];
        all.extend_from_slice(args);
        let out = adjoint(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
    // a mesh too large for memory is refused before any work, exit 1
    let out = adjoint(&["topopt", "--nelx", "200000", "--nely", "100000"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("memory"), "{err}");
}

#[test]
fn the_picture_is_a_png_or_an_svg() {
    let dir = std::env::temp_dir().join(format!("adjoint-topopt-pic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("beam.png");
    let svg = dir.join("beam.svg");
    for p in [&png, &svg] {
        let out = adjoint(&[
            "topopt",
            "--nelx",
            "12",
            "--nely",
            "4",
            "--picture",
            p.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("<svg") && text.contains("MBB beam 12 × 4"),
        "{text:.200}"
    );
    // another extension is an unusable argument
    let out = adjoint(&[
        "topopt",
        "--picture",
        dir.join("beam.jpg").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
