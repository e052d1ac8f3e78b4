//! Spy pictures (SVG and PNG) a person reads without the README: a title with the matrix's
//! name, shape and `nz = …`; ticks with row and column indices (from 0) on the left and
//! bottom; block boundaries in red, labelled (`layer 2`, `group 0`) on the right and top when
//! the blocks are known and there is room for the text.

use super::{check_spy_path, Blocks, DensityGrid, IMAGE_CELLS};
use crate::inspect::block_label;
use crate::mtx::{write_atomic, write_atomic_by_name};
use crate::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use sprs::CsMat;
use std::path::Path;

/// Pixels: `scale` per grid cell; the plot area starts at `(left, top)`.
struct Geometry {
    scale: u32,
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

const TITLE: u32 = 34;
/// Room for block labels above the plot (column blocks) and right of it (row blocks).
const LABELS: u32 = 22;
const ROW_TICKS: u32 = 64;
const COL_TICKS: u32 = 30;
/// Labels closer than this (pixels) are left out.
const MIN_LABEL_GAP: i32 = 60;

fn geometry(g: &DensityGrid, target: u32, blocks: Blocks) -> Geometry {
    let side = g.grid_rows.max(g.grid_cols) as u32;
    let scale = (target / side.max(1)).max(1);
    let right = if blocks.rows.is_some() { 90 } else { 24 };
    let top = TITLE + if blocks.cols.is_some() { LABELS } else { 6 };
    let plot_w = g.grid_cols as u32 * scale;
    let plot_h = g.grid_rows as u32 * scale;
    Geometry {
        scale,
        left: ROW_TICKS,
        top,
        // wide enough for the title over a narrow matrix
        width: (ROW_TICKS + plot_w + right).max(420),
        height: top + plot_h + COL_TICKS,
    }
}

/// Pixel offset (from the plot's origin) of matrix row/column offset `o` along a side of `n`
/// positions and `cells` grid cells.
fn at(o: usize, n: usize, cells: usize, scale: u32) -> i32 {
    (o as u128 * cells as u128 * scale as u128 / n.max(1) as u128) as i32
}

/// Tick positions `0, s, 2s, …` with `s` in {1, 2, 5}·10ᵏ giving at most about 8 ticks.
fn ticks(n: usize) -> Vec<usize> {
    let mut step = 1usize;
    'search: for k in 0..20u32 {
        for m in [1usize, 2, 5] {
            let s = m.saturating_mul(10usize.saturating_pow(k));
            if n.div_ceil(s.max(1)) <= 8 {
                step = s;
                break 'search;
            }
        }
    }
    (0..n).step_by(step.max(1)).collect()
}

/// The title: `name: rows × cols, nz = nnz` (the name is left out when empty).
fn title(name: &str, m: &CsMat<f64>) -> String {
    let body = format!("{} × {}, nz = {}", m.rows(), m.cols(), m.nnz());
    if name.is_empty() {
        body
    } else {
        format!("{name}: {body}")
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    g: &DensityGrid,
    heading: &str,
    blocks: Blocks,
    geo: &Geometry,
) -> std::result::Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    crate::font::register();
    let font = |size: f64| (crate::font::FAMILY, size).into_font().color(&BLACK);
    root.fill(&WHITE).map_err(e)?;
    let max = g.counts.iter().copied().max().unwrap_or(0);
    let s = geo.scale as i32;
    let (x0, y0) = (geo.left as i32, geo.top as i32);
    for gr in 0..g.grid_rows {
        // merge runs of equal shade into one rectangle
        let row = &g.counts[gr * g.grid_cols..(gr + 1) * g.grid_cols];
        let mut gc = 0;
        while gc < g.grid_cols {
            let shade = g.shade(row[gc], max);
            let start = gc;
            while gc < g.grid_cols && g.shade(row[gc], max) == shade {
                gc += 1;
            }
            if shade == 255 {
                continue;
            }
            let (xa, ya) = (x0 + start as i32 * s, y0 + gr as i32 * s);
            let (xb, yb) = (x0 + gc as i32 * s, ya + s);
            root.draw(&Rectangle::new(
                [(xa, ya), (xb, yb)],
                RGBColor(shade, shade, shade).filled(),
            ))
            .map_err(e)?;
        }
    }
    let (x1, y1) = (x0 + g.grid_cols as i32 * s, y0 + g.grid_rows as i32 * s);
    let red = RGBColor(220, 30, 30);
    // title, centred over the picture
    root.draw(&Text::new(
        heading.to_string(),
        (geo.width as i32 / 2, 8),
        font(18.0).pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(e)?;
    // ticks: rows on the left, columns at the bottom, each at the start of its row/column
    let half = |n: usize, cells: usize| (s * cells as i32 / n.max(1) as i32 / 2).max(0);
    let row_half = half(g.rows, g.grid_rows);
    for t in ticks(g.rows) {
        let y = y0 + at(t, g.rows, g.grid_rows, geo.scale) + row_half;
        root.draw(&PathElement::new(vec![(x0 - 5, y), (x0, y)], BLACK))
            .map_err(e)?;
        root.draw(&Text::new(
            t.to_string(),
            (x0 - 8, y),
            font(13.0).pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(e)?;
    }
    let col_half = half(g.cols, g.grid_cols);
    for t in ticks(g.cols) {
        let x = x0 + at(t, g.cols, g.grid_cols, geo.scale) + col_half;
        root.draw(&PathElement::new(vec![(x, y1), (x, y1 + 5)], BLACK))
            .map_err(e)?;
        root.draw(&Text::new(
            t.to_string(),
            (x, y1 + 8),
            font(13.0).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(e)?;
    }
    // block boundaries: one line per pixel position at most (thousands of boundaries on a few
    // hundred pixels would only repeat lines and bloat an SVG); labels where there is room
    let spans = |off: &[usize], n: usize, cells: usize| -> Vec<(i32, i32)> {
        off.windows(2)
            .map(|w| (at(w[0], n, cells, geo.scale), at(w[1], n, cells, geo.scale)))
            .collect()
    };
    if let Some(rows) = blocks.rows {
        let mut last = i32::MIN;
        for (k, (a, b)) in spans(rows, g.rows, g.grid_rows).into_iter().enumerate() {
            if k > 0 && a != last {
                root.draw(&PathElement::new(vec![(x0, y0 + a), (x1, y0 + a)], red))
                    .map_err(e)?;
            }
            last = a;
            if b - a >= 16 {
                root.draw(&Text::new(
                    block_label(blocks.row_name, k),
                    (x1 + 6, y0 + (a + b) / 2),
                    font(13.0)
                        .color(&red)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(e)?;
            }
        }
    }
    if let Some(cols) = blocks.cols {
        let mut last = i32::MIN;
        for (k, (a, b)) in spans(cols, g.cols, g.grid_cols).into_iter().enumerate() {
            if k > 0 && a != last {
                root.draw(&PathElement::new(vec![(x0 + a, y0), (x0 + a, y1)], red))
                    .map_err(e)?;
            }
            last = a;
            if b - a >= MIN_LABEL_GAP {
                root.draw(&Text::new(
                    block_label(blocks.col_name, k),
                    (x0 + (a + b) / 2, y0 - 4),
                    font(13.0)
                        .color(&red)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                ))
                .map_err(e)?;
            }
        }
    }
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], BLACK.stroke_width(1)))
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// Writes a spy picture of `m`, titled `name` (e.g. `∂f/∂u`; empty for none), to `path`
/// (`.svg` or `.png`), atomically.
///
/// # Errors
/// [`Error::Invalid`] for another extension; [`Error::Io`] naming the path when the folder
/// does not exist or cannot be written.
pub fn write_spy(m: &CsMat<f64>, name: &str, path: &Path, blocks: Blocks) -> Result<()> {
    check_spy_path(path)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let grid = DensityGrid::new(m, IMAGE_CELLS);
    let geo = geometry(&grid, 800, blocks);
    let heading = title(name, m);
    if ext.as_deref() == Some("svg") {
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (geo.width, geo.height)).into_drawing_area();
            draw(root, &grid, &heading, blocks, &geo).map_err(|e| Error::invalid("spy plot", e))?;
        }
        write_atomic(path, svg.as_bytes())
    } else {
        // plotters writes the PNG by file name
        write_atomic_by_name(path, |tmp| {
            let root = BitMapBackend::new(tmp, (geo.width, geo.height)).into_drawing_area();
            draw(root, &grid, &heading, blocks, &geo)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_few() {
        assert_eq!(ticks(5), vec![0, 1, 2, 3, 4]);
        assert_eq!(ticks(30), vec![0, 5, 10, 15, 20, 25]);
        assert_eq!(ticks(1_000_000).len(), 5);
        assert_eq!(ticks(1_000_000)[1], 200_000);
        assert!(ticks(0).is_empty());
    }
}
