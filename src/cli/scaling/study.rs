//! The scaling study: the adjoint gradient against the methods it replaces (the CLI's side:
//! timing loops and plots are not part of the library).
//!
//! Forming `du/dθ` costs `O(n_u n_θ)`; so do forward-mode dual numbers (one pass per
//! parameter) and finite differences (two evaluations per parameter). The adjoint gradient
//! costs one extra linear solve. [`study`] times all four on growing problems — the
//! tridiagonal problem (`n_θ = 2n − 1`) and networks `[w, w, w, 1]` of growing width — each
//! method until one evaluation exceeds a time budget, and [`fit_slope`] fits the exponent `p`
//! of `time ∝ n_θ^p` on a log-log scale: about 1 for the adjoint on the tridiagonal problem,
//! about 2 for the others.

use adjoint::check::forward_sensitivity_gradient;
use adjoint::problems::mlp::{Activation, Mlp, Target};
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::{AdjointWorkspace, Error, Result, SolverKind};
use num_dual::{Dual64, DualNum};
use plotters::prelude::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// A gradient method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The adjoint method (one state solve, one adjoint solve).
    Adjoint,
    /// `du/dθ = −(∂f/∂u)⁻¹ ∂f/∂θ`, one solve per parameter.
    ForwardSensitivity,
    /// Forward-mode dual numbers, one pass per parameter.
    DualNumbers,
    /// Central finite differences, two evaluations per parameter.
    FiniteDifferences,
}

impl Method {
    /// All methods.
    pub const ALL: [Method; 4] = [
        Method::Adjoint,
        Method::ForwardSensitivity,
        Method::DualNumbers,
        Method::FiniteDifferences,
    ];
    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Adjoint => "adjoint",
            Method::ForwardSensitivity => "forward sensitivities",
            Method::DualNumbers => "dual numbers",
            Method::FiniteDifferences => "finite differences",
        }
    }
}

/// One timed gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `"tridiagonal"` or `"network"`.
    pub family: &'static str,
    /// The method.
    pub method: Method,
    /// `n` (tridiagonal) or the width `w` (network).
    pub size: usize,
    /// `n_θ`.
    pub n_params: usize,
    /// Seconds for one gradient (mean over repetitions for fast ones).
    pub seconds: f64,
}

/// `L(θ)` of the tridiagonal problem on any dual type, by `LDLᵀ` recurrences without
/// pivoting (the same factorization the engine uses for this matrix).
fn tridiagonal_objective<D: DualNum<Primitive = f64> + Copy>(p: &Tridiagonal, theta: &[D]) -> D {
    let n = p.n();
    let (diag, off) = theta.split_at(n);
    let mut d: Vec<D> = Vec::with_capacity(n);
    let mut y: Vec<D> = Vec::with_capacity(n);
    for i in 0..n {
        let b = D::from(p.b()[i]);
        if i == 0 {
            d.push(diag[0]);
            y.push(b);
        } else {
            let l = off[i - 1] / d[i - 1];
            d.push(diag[i] - l * off[i - 1]);
            y.push(b - l * y[i - 1]);
        }
    }
    let mut u = vec![D::zero(); n];
    for i in (0..n).rev() {
        let next = if i + 1 < n {
            off[i] * u[i + 1]
        } else {
            D::zero()
        };
        u[i] = (y[i] - next) / d[i];
    }
    let cu = u
        .iter()
        .zip(p.c())
        .fold(D::zero(), |s, (&ui, &ci)| s + ui * ci);
    cu * cu
}

/// Seconds per call of `f`, repeated until at least 20 ms have passed (one call when slow).
fn time(mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    let mut calls = 0u32;
    loop {
        f()?;
        calls += 1;
        let e = start.elapsed();
        if e >= Duration::from_millis(20) {
            return Ok(e.as_secs_f64() / calls as f64);
        }
    }
}

fn gradient_time(
    method: Method,
    objective: &dyn Fn(&[f64]) -> f64,
    dual: &dyn Fn(&[Dual64]) -> Dual64,
    ws: &mut AdjointWorkspace,
    adjoint: &mut dyn FnMut(&mut AdjointWorkspace) -> Result<f64>,
    theta: &[f64],
) -> Result<f64> {
    if matches!(method, Method::Adjoint | Method::ForwardSensitivity) {
        // one untimed evaluation first: the workspace's buffers are touched for the first
        // time there (page faults), which is set-up, not the cost of a gradient
        adjoint(ws)?;
    }
    match method {
        Method::Adjoint => time(|| adjoint(ws).map(|_| ())),
        Method::ForwardSensitivity => time(|| {
            adjoint(ws)?;
            forward_sensitivity_gradient(ws).map(|_| ())
        }),
        Method::DualNumbers => time(|| {
            let mut x: Vec<Dual64> = theta.iter().map(|&t| Dual64::from(t)).collect();
            for k in 0..theta.len() {
                x[k] = Dual64::new(theta[k], 1.0);
                std::hint::black_box(dual(&x).eps);
                x[k] = Dual64::from(theta[k]);
            }
            Ok(())
        }),
        Method::FiniteDifferences => time(|| {
            let mut x = theta.to_vec();
            for k in 0..theta.len() {
                let h = 1e-6 * theta[k].abs().max(1.0);
                x[k] = theta[k] + h;
                let a = objective(&x);
                x[k] = theta[k] - h;
                let b = objective(&x);
                x[k] = theta[k];
                std::hint::black_box((a - b) / (2.0 * h));
            }
            Ok(())
        }),
    }
}

/// One family: for each method, sizes double from `sizes.start()` until one gradient takes
/// longer than `budget` or the size passes `sizes.end()`.
#[allow(clippy::too_many_arguments)]
fn sweep<P: adjoint::AdjointProblem>(
    family: &'static str,
    sizes: std::ops::RangeInclusive<usize>,
    budget: Duration,
    build: impl Fn(usize) -> Result<(P, Vec<f64>)>,
    objective: fn(&P, &[f64]) -> f64,
    dual: fn(&P, &[Dual64]) -> Dual64,
    on_sample: &mut impl FnMut(&Sample),
    samples: &mut Vec<Sample>,
) -> Result<()> {
    for method in Method::ALL {
        let mut size = *sizes.start();
        while size <= *sizes.end() {
            let (p, theta) = build(size)?;
            let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto)?;
            let seconds = gradient_time(
                method,
                &|t| objective(&p, t),
                &|t| dual(&p, t),
                &mut ws,
                &mut |w| w.evaluate(&p, &theta),
                &theta,
            )?;
            let s = Sample {
                family,
                method,
                size,
                n_params: theta.len(),
                seconds,
            };
            on_sample(&s);
            samples.push(s);
            if seconds > budget.as_secs_f64() {
                break;
            }
            size *= 2;
        }
    }
    Ok(())
}

/// Runs the study: for each family and method, sizes double until one gradient takes longer
/// than `budget` (or the size cap is reached). `on_sample` sees each sample as it comes.
///
/// # Errors
/// [`Error::Invalid`] for a zero budget; whatever an evaluation reports.
pub fn study(budget: Duration, mut on_sample: impl FnMut(&Sample)) -> Result<Vec<Sample>> {
    if budget.is_zero() {
        return Err(Error::invalid("budget", "the time budget must be positive"));
    }
    let mut samples = Vec::new();
    sweep(
        "tridiagonal",
        16..=1 << 22,
        budget,
        |n| Tridiagonal::random(n, 0),
        tridiagonal_objective::<f64>,
        tridiagonal_objective::<Dual64>,
        &mut on_sample,
        &mut samples,
    )?;
    sweep(
        "network",
        4..=1 << 12,
        budget,
        |w| Mlp::random(&[w, w, w, 1], Activation::Tanh, Target::Scalar(0.5), 0.0, 0),
        |p, t| p.objective_dual::<f64>(t),
        |p, t| p.objective_dual(t),
        &mut on_sample,
        &mut samples,
    )?;
    Ok(samples)
}

/// Least-squares slope of `log(seconds)` against `log(n_θ)` over the samples of one family
/// and method that took at least `min_seconds` (smaller ones measure overhead, not scaling).
/// `None` with fewer than two such samples.
pub fn fit_slope(
    samples: &[Sample],
    family: &str,
    method: Method,
    min_seconds: f64,
) -> Option<f64> {
    let pts: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.family == family && s.method == method && s.seconds >= min_seconds)
        .map(|s| ((s.n_params as f64).ln(), s.seconds.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Log-log plot geometry: decades `x0..x1`, `y0..y1` mapped into the frame.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    w: i32,
    h: i32,
    left: i32,
    right: i32,
    top: i32,
    bottom: i32,
}

impl Frame {
    fn px(&self, x: f64) -> i32 {
        self.left
            + ((x - self.x0) / (self.x1 - self.x0) * (self.w - self.left - self.right) as f64)
                as i32
    }
    fn py(&self, y: f64) -> i32 {
        self.h
            - self.bottom
            - ((y - self.y0) / (self.y1 - self.y0) * (self.h - self.top - self.bottom) as f64)
                as i32
    }
}

/// Axes, grid, curves, tick labels, axis labels, title and legend: the same picture on every
/// backend (text in the library's embedded font).
fn draw_plot<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    f: &Frame,
    pts: &[&Sample],
    samples: &[Sample],
    family: &str,
) -> std::result::Result<(), String> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    adjoint::font::register();
    let font = |size: f64, h: HPos, v: VPos| {
        (adjoint::font::FAMILY, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(h, v))
    };
    root.fill(&WHITE).map_err(e)?;
    let grid = RGBColor(225, 225, 225);
    let (plot_right, plot_bottom) = (f.w - f.right, f.h - f.bottom);
    for d in (f.x0 as i32)..=(f.x1 as i32) {
        let x = f.px(d as f64);
        root.draw(&PathElement::new(vec![(x, f.top), (x, plot_bottom)], grid))
            .map_err(e)?;
        root.draw(&Text::new(
            format!("1e{d}"),
            (x, plot_bottom + 6),
            font(13.0, HPos::Center, VPos::Top),
        ))
        .map_err(e)?;
    }
    for d in (f.y0 as i32)..=(f.y1 as i32) {
        let y = f.py(d as f64);
        root.draw(&PathElement::new(vec![(f.left, y), (plot_right, y)], grid))
            .map_err(e)?;
        root.draw(&Text::new(
            format!("1e{d}"),
            (f.left - 8, y),
            font(13.0, HPos::Right, VPos::Center),
        ))
        .map_err(e)?;
    }
    root.draw(&Rectangle::new(
        [(f.left, f.top), (plot_right, plot_bottom)],
        BLACK.stroke_width(1),
    ))
    .map_err(e)?;
    for (m, color) in Method::ALL.iter().zip(COLORS) {
        let line: Vec<(i32, i32)> = pts
            .iter()
            .filter(|s| s.method == *m)
            .map(|s| (f.px((s.n_params as f64).log10()), f.py(s.seconds.log10())))
            .collect();
        root.draw(&PathElement::new(line.clone(), color.stroke_width(2)))
            .map_err(e)?;
        for p in line {
            root.draw(&Circle::new(p, 3, color.filled())).map_err(e)?;
        }
    }
    let centre = (f.left + plot_right) / 2;
    root.draw(&Text::new(
        format!("{family}: gradient cost, log-log"),
        (centre, 8),
        font(16.0, HPos::Center, VPos::Top),
    ))
    .map_err(e)?;
    root.draw(&Text::new(
        "number of parameters n_θ",
        (centre, f.h - 8),
        font(13.0, HPos::Center, VPos::Bottom),
    ))
    .map_err(e)?;
    root.draw(&Text::new(
        "seconds per gradient",
        (f.left, f.top - 6),
        font(13.0, HPos::Left, VPos::Bottom),
    ))
    .map_err(e)?;
    // the legend, inside the picture's right margin (sized for the longest entry)
    for (k, (m, c)) in Method::ALL.iter().zip(COLORS).enumerate() {
        let y = f.top + 12 + 24 * k as i32;
        let slope =
            fit_slope(samples, family, *m, 1e-4).map_or("—".to_string(), |p| format!("{p:.2}"));
        let x = plot_right + 14;
        root.draw(&Rectangle::new([(x, y - 6), (x + 12, y + 6)], c.filled()))
            .map_err(e)?;
        root.draw(&Text::new(
            format!("{} (slope {slope})", m.name()),
            (x + 18, y),
            font(13.0, HPos::Left, VPos::Center),
        ))
        .map_err(e)?;
    }
    root.present().map_err(e)
}

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Width of the legend column right of the plot: the longest entry
/// ("forward sensitivities (slope 2.06)") in 13-pixel DejaVu Sans, with room to spare.
const LEGEND_WIDTH: i32 = 280;

/// Writes the log-log plot of one family to `path`: `.svg` or `.png`, the same picture (axes,
/// tick labels, legend with fitted slopes).
///
/// # Errors
/// [`Error::Invalid`] for another extension or no samples; [`Error::Io`] naming the path.
pub fn write_plot(samples: &[Sample], family: &str, path: &Path) -> Result<()> {
    let pts: Vec<&Sample> = samples.iter().filter(|s| s.family == family).collect();
    if pts.is_empty() {
        return Err(Error::invalid("plot", format!("no samples for {family}")));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let (w, h) = (880u32, 500u32);
    let (x0, x1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), s| {
        (
            a.min((s.n_params as f64).log10()),
            b.max((s.n_params as f64).log10()),
        )
    });
    let (y0, y1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), s| {
        (a.min(s.seconds.log10()), b.max(s.seconds.log10()))
    });
    let (x0, x1, y0, y1) = (
        x0.floor(),
        x1.ceil().max(x0.floor() + 1.0),
        y0.floor(),
        y1.ceil().max(y0.floor() + 1.0),
    );
    let f = Frame {
        x0,
        x1,
        y0,
        y1,
        w: w as i32,
        h: h as i32,
        left: 70,
        right: LEGEND_WIDTH,
        top: 50,
        bottom: 50,
    };
    match ext {
        "svg" => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                draw_plot(root, &f, &pts, samples, family)
                    .map_err(|e| Error::invalid("plot", e))?;
            }
            adjoint::mtx::write_atomic(path, svg.as_bytes())
        }
        "png" => {
            // plotters writes the PNG by file name
            adjoint::mtx::write_atomic_by_name(path, |tmp| {
                let root = BitMapBackend::new(tmp, (w, h)).into_drawing_area();
                draw_plot(root, &f, &pts, samples, family)
            })
        }
        _ => Err(Error::invalid(
            "plot path",
            format!("{}: use a .svg or .png file name", path.display()),
        )),
    }
}

// The study's own tests (moved from tests/scaling.rs with the study).
#[cfg(test)]
mod tests {
    use super::*;

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
        // the PNG has the same text: dark pixels in the legend's text column (right of the
        // colour boxes) and in the title band, which hold nothing else
        let decoder = png::Decoder::new(std::fs::File::open(dir.path().join("s.png")).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut px = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut px).unwrap();
        let (w, ch) = (info.width as usize, info.color_type.samples());
        let dark = |x0: usize, x1: usize, y0: usize, y1: usize| {
            (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| px[(y * w + x) * ch] < 100)
                .count()
        };
        let legend_x = w - LEGEND_WIDTH as usize + 30;
        assert!(dark(legend_x, w, 40, 160) > 200, "legend text in the PNG");
        assert!(dark(0, w, 0, 30) > 50, "title in the PNG");
        // the legend stays inside the picture: its longest entry ends before the edge
        let right_edge = dark(w - 6, w, 0, info.height as usize);
        assert_eq!(right_edge, 0, "nothing drawn at the right edge");
        assert!(write_plot(&samples, "tridiagonal", &dir.path().join("s.gif")).is_err());
        assert!(write_plot(&samples, "nothing", &dir.path().join("n.svg")).is_err());
        assert!(study(Duration::ZERO, |_| {}).is_err());
    }
}
