//! The density picture of a design (PNG or SVG): grey levels, black = solid, the beam as it
//! lies (nely rows top to bottom × nelx columns), one or more pixels per element, with a
//! title line (mesh, compliance, volume).
//!
//! Meshes wider than [`MAX_CELLS`] elements are drawn in blocks of `f × f` elements (their mean
//! density), so a 1200 × 400 design stays a picture of a few hundred kilobytes.

use crate::mtx::{write_atomic, write_atomic_by_name};
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// At most this many cells along the longer side.
pub const MAX_CELLS: usize = 800;
const TITLE: u32 = 30;
const MARGIN: u32 = 10;

/// Writes the density picture of `x` (element order `e = ex·nely + ey`, `ey` from the top) to
/// `path` (`.png` or `.svg`), atomically, titled `title`.
///
/// # Errors
/// [`Error::Invalid`] for another extension or `x` of the wrong length; [`Error::Io`] naming
/// the path when it cannot be written.
pub fn write_density(x: &[f64], nelx: usize, nely: usize, title: &str, path: &Path) -> Result<()> {
    if x.len() != nelx * nely || x.is_empty() {
        return Err(Error::invalid(
            "density",
            format!("{} values for a {nelx} × {nely} mesh", x.len()),
        ));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("png" | "svg")) {
        return Err(Error::invalid(
            "picture",
            format!(
                "{}: the picture must be a .png or .svg file",
                path.display()
            ),
        ));
    }
    // f × f elements per cell
    let f = nelx.max(nely).div_ceil(MAX_CELLS).max(1);
    let (gw, gh) = (nelx.div_ceil(f), nely.div_ceil(f));
    let mut cells = vec![(0.0_f64, 0u32); gw * gh];
    for ex in 0..nelx {
        for ey in 0..nely {
            let c = &mut cells[(ey / f) * gw + ex / f];
            c.0 += x[ex * nely + ey];
            c.1 += 1;
        }
    }
    let scale = (MAX_CELLS / gw).clamp(1, 20) as u32;
    let width = (gw as u32 * scale + 2 * MARGIN).max(360);
    let height = gh as u32 * scale + TITLE + MARGIN;
    let draw = |root: DrawingArea<_, plotters::coord::Shift>| -> std::result::Result<(), String> {
        draw_cells(root, &cells, gw, scale, title)
    };
    if ext.as_deref() == Some("svg") {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
            draw(root).map_err(|e| Error::invalid("density picture", e))?;
        }
        write_atomic(path, svg.as_bytes())
    } else {
        write_atomic_by_name(path, |tmp| {
            let root = BitMapBackend::new(tmp, (width, height)).into_drawing_area();
            draw_cells(root, &cells, gw, scale, title)
        })
    }
}

fn draw_cells<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    cells: &[(f64, u32)],
    gw: usize,
    scale: u32,
    title: &str,
) -> std::result::Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    crate::font::register();
    root.fill(&WHITE).map_err(e)?;
    root.draw(&Text::new(
        title.to_string(),
        (MARGIN as i32, 8),
        (crate::font::FAMILY, 16.0).into_font().color(&BLACK),
    ))
    .map_err(e)?;
    let s = scale as i32;
    let (x0, y0) = (MARGIN as i32, TITLE as i32);
    for (k, &(sum, n)) in cells.iter().enumerate() {
        let density = (sum / n.max(1) as f64).clamp(0.0, 1.0);
        let grey = (255.0 * (1.0 - density)).round() as u8;
        if grey == 255 {
            continue;
        }
        let (cx, cy) = ((k % gw) as i32, (k / gw) as i32);
        root.draw(&Rectangle::new(
            [
                (x0 + cx * s, y0 + cy * s),
                (x0 + (cx + 1) * s, y0 + (cy + 1) * s),
            ],
            RGBColor(grey, grey, grey).filled(),
        ))
        .map_err(e)?;
    }
    root.present().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Above `MAX_CELLS` elements the picture is drawn in blocks: 2000 × 3 elements become
    /// 667 × 1 cells (f = 3), one rectangle each for a solid design.
    #[test]
    fn large_meshes_are_drawn_in_blocks() {
        let dir = std::env::temp_dir().join(format!("adjoint-density-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.svg");
        write_density(&vec![1.0; 6000], 2000, 3, "big", &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        // the background is a rect too
        assert_eq!(svg.matches("<rect").count(), 667 + 1);
        assert!(write_density(&[1.0; 5], 2, 3, "short", &path).is_err());
        assert!(write_density(&[1.0; 6], 2, 3, "jpg", &dir.join("x.jpg")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
