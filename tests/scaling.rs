//! The scaling study: slopes are fitted correctly, a short study covers every method and
//! family, and the plots are written.

use adjoint::scaling::{fit_slope, study, write_plot, Method, Sample};
use std::time::Duration;

#[test]
fn fitted_slopes_recover_known_exponents() {
    let samples: Vec<Sample> = [100usize, 200, 400, 800]
        .iter()
        .flat_map(|&n| {
            [
                Sample {
                    family: "f",
                    method: Method::Adjoint,
                    size: n,
                    n_params: n,
                    seconds: 1e-3 * n as f64,
                },
                Sample {
                    family: "f",
                    method: Method::DualNumbers,
                    size: n,
                    n_params: n,
                    seconds: 1e-6 * (n * n) as f64,
                },
            ]
        })
        .collect();
    assert!((fit_slope(&samples, "f", Method::Adjoint, 0.0).unwrap() - 1.0).abs() < 1e-12);
    assert!((fit_slope(&samples, "f", Method::DualNumbers, 0.0).unwrap() - 2.0).abs() < 1e-12);
    assert_eq!(
        fit_slope(&samples, "f", Method::FiniteDifferences, 0.0),
        None
    );
    assert_eq!(fit_slope(&samples, "f", Method::Adjoint, 10.0), None);
}

#[test]
fn a_short_study_covers_every_method_and_writes_plots() {
    let mut seen = 0;
    let samples = study(Duration::from_millis(2), |_| seen += 1).unwrap();
    assert_eq!(seen, samples.len());
    for family in ["tridiagonal", "network"] {
        for m in Method::ALL {
            let n = samples
                .iter()
                .filter(|s| s.family == family && s.method == m)
                .count();
            assert!(n >= 2, "{family} {m:?}: {n} samples");
        }
    }
    // the adjoint reaches larger problems than the O(n_u n_θ) methods within one budget
    let largest = |m| {
        samples
            .iter()
            .filter(|s| s.family == "tridiagonal" && s.method == m)
            .map(|s| s.n_params)
            .max()
            .unwrap()
    };
    assert!(largest(Method::Adjoint) > largest(Method::ForwardSensitivity));
    let dir = tempfile::tempdir().unwrap();
    for ext in ["svg", "png"] {
        let p = dir.path().join(format!("s.{ext}"));
        write_plot(&samples, "tridiagonal", &p).unwrap();
        assert!(std::fs::metadata(&p).unwrap().len() > 100);
    }
    let svg = std::fs::read_to_string(dir.path().join("s.svg")).unwrap();
    assert!(svg.contains("slope") && svg.contains("adjoint"));
    assert!(write_plot(&samples, "tridiagonal", &dir.path().join("s.gif")).is_err());
    assert!(write_plot(&samples, "nothing", &dir.path().join("n.svg")).is_err());
    assert!(study(Duration::ZERO, |_| {}).is_err());
}
