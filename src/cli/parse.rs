//! Value parsers for the command line: every flag whose value can be judged without reading a
//! file is validated here, by clap, so that an unusable command line exits with status 2
//! before anything is read or computed (see the README's exit-code table).
//!
//! Each parser returns the value in the type the commands use; list-valued flags stay strings
//! (their meaning — e.g. whether block sizes add up — may depend on a file).

use adjoint::problems::mlp::train::GradientPath;
use adjoint::problems::mlp::Activation;
use adjoint::SolverKind;
use std::path::PathBuf;

/// Most evaluations `--repeat` accepts.
pub const MAX_REPEAT: usize = 1_000_000;
/// Longest `scaling --budget` in seconds.
pub const MAX_BUDGET: f64 = 3600.0;
use adjoint::check::FD_STEP_RANGE;

fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim()
        .parse::<T>()
        .map_err(|_| format!("{s:?} is not {what}"))
}

/// An integer ≥ 1 (`--n`).
pub fn positive(s: &str) -> Result<usize, String> {
    match number::<usize>(s, "a whole number")? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// `--repeat`: 1 ..= 10⁶.
pub fn repeat(s: &str) -> Result<usize, String> {
    match positive(s)? {
        k if k > MAX_REPEAT => Err(format!("at most {MAX_REPEAT} repeats")),
        k => Ok(k),
    }
}

/// A finite number ≥ 0 (`--lr`, `--reg`).
pub fn non_negative(s: &str) -> Result<f64, String> {
    let v = number::<f64>(s, "a number")?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("must be finite and ≥ 0, got {v}"))
    }
}

/// `--fd-step`: a relative step in [1e-12, 1e-1].
pub fn fd_step(s: &str) -> Result<f64, String> {
    let v = number::<f64>(s, "a number")?;
    let (lo, hi) = FD_STEP_RANGE;
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "the relative step must lie in [{lo:e}, {hi:e}], got {v:e}"
        ))
    }
}

/// `--taylor-h`: a first step in (0, 1].
pub fn taylor_h(s: &str) -> Result<f64, String> {
    let v = number::<f64>(s, "a number")?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("the first step must lie in (0, 1], got {v}"))
    }
}

/// Shortest `scaling --budget` in seconds (one gradient of the smallest size takes longer).
pub const MIN_BUDGET: f64 = 1e-3;

/// `--budget`: seconds in [1e-3, 3600].
pub fn budget(s: &str) -> Result<f64, String> {
    let v = number::<f64>(s, "a number of seconds")?;
    if (MIN_BUDGET..=MAX_BUDGET).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "must be a number of seconds in [{MIN_BUDGET}, {MAX_BUDGET}], got {v}"
        ))
    }
}

/// Most `--train` iterations.
pub const MAX_TRAIN: usize = 1_000_000_000;

/// `--train`: 0 ..= 10⁹ iterations.
pub fn train(s: &str) -> Result<usize, String> {
    match number::<usize>(s, "a whole number")? {
        k if k > MAX_TRAIN => Err(format!("at most {MAX_TRAIN} iterations")),
        k => Ok(k),
    }
}

/// A comma-separated list of whole numbers ≥ 1 whose sum fits (`--layers`, `--blocks`).
fn sizes(s: &str, what: &str) -> Result<Vec<usize>, String> {
    let sizes = s
        .split(',')
        .map(|p| match p.trim().parse::<usize>() {
            Ok(0) => Err(format!("{what} 0 in {s:?}: sizes must be at least 1")),
            Ok(k) => Ok(k),
            Err(_) => Err(format!("{:?} is not a {what} in {s:?}", p.trim())),
        })
        .collect::<Result<Vec<usize>, String>>()?;
    sizes
        .iter()
        .try_fold(0usize, |sum, &k| sum.checked_add(k))
        .ok_or_else(|| format!("the sizes {s:?} add up to more than {}", usize::MAX))?;
    Ok(sizes)
}

/// `--layers n_0,…,n_N`: at least an input size and one layer.
pub fn layers(s: &str) -> Result<String, String> {
    if sizes(s, "layer size")?.len() < 2 {
        return Err("need an input size and at least one layer, e.g. 3,2,1".into());
    }
    Ok(s.to_string())
}

/// `--blocks` / `--col-blocks`: sizes ≥ 1 (whether they add up depends on the matrix).
pub fn blocks(s: &str) -> Result<String, String> {
    sizes(s, "block size")?;
    Ok(s.to_string())
}

/// `--target`: one finite number or a comma-separated vector of them.
pub fn target(s: &str) -> Result<String, String> {
    for p in s.split(',') {
        let v = number::<f64>(p, "a number")?;
        if !v.is_finite() {
            return Err(format!("{v} is not finite"));
        }
    }
    Ok(s.to_string())
}

/// `check mlp --target`: one finite number.
pub fn scalar_target(s: &str) -> Result<String, String> {
    let v = number::<f64>(s, "a number (check mlp takes one target value)")?;
    if !v.is_finite() {
        return Err(format!("{v} is not finite"));
    }
    Ok(s.to_string())
}

/// `--activation`.
pub fn activation(s: &str) -> Result<String, String> {
    s.parse::<Activation>().map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

/// `--solver`.
pub fn solver(s: &str) -> Result<String, String> {
    s.parse::<SolverKind>().map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

/// `--path`.
pub fn gradient_path(s: &str) -> Result<String, String> {
    s.parse::<GradientPath>().map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

/// `--spy FILE`: a `.svg` or `.png` name (whether its folder exists is checked when used).
pub fn spy(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") | Some("png") => Ok(path),
        _ => Err(format!(
            "{s}: unknown image type (use a .svg or .png file name)"
        )),
    }
}

/// `--volfrac`: a number in (0, 1].
pub fn volfrac(s: &str) -> Result<f64, String> {
    let v = number::<f64>(s, "a number")?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("must lie in (0, 1], got {v}"))
    }
}

/// `--rmin`: a finite number > 0.
pub fn positive_number(s: &str) -> Result<f64, String> {
    let v = number::<f64>(s, "a number")?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("must be a finite number > 0, got {v}"))
    }
}

/// `--penal`: a finite number ≥ 1.
pub fn penal(s: &str) -> Result<f64, String> {
    let v = number::<f64>(s, "a number")?;
    if v.is_finite() && v >= 1.0 {
        Ok(v)
    } else {
        Err(format!("must be a finite number ≥ 1, got {v}"))
    }
}

/// `--ft`: 1 (sensitivity filter) or 2 (density filter).
pub fn ft(s: &str) -> Result<u32, String> {
    match number::<u32>(s, "1 or 2")? {
        k @ (1 | 2) => Ok(k),
        k => Err(format!("must be 1 (sensitivity) or 2 (density), got {k}")),
    }
}

/// `--picture`: a path ending in `.png` or `.svg`.
pub fn picture(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
    {
        Some(e) if e == "png" || e == "svg" => Ok(p),
        _ => Err("must end in .png or .svg".into()),
    }
}

/// `--scheme`.
pub fn scheme(s: &str) -> Result<String, String> {
    s.parse::<adjoint::problems::ode::Scheme>()
        .map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

/// A comma-separated list of finite numbers (`--theta`).
pub fn numbers(s: &str) -> Result<String, String> {
    for part in s.split(',') {
        let v = number::<f64>(part, "a number")?;
        if !v.is_finite() {
            return Err(format!("{part:?} is not finite"));
        }
    }
    Ok(s.to_string())
}
