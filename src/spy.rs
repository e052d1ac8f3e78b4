//! Spy plots: where the stored entries of a sparse matrix are, as SVG, PNG or text.
//!
//! Entries are binned into a [`DensityGrid`] of at most `max_side × max_side` cells (one cell
//! per entry position for small matrices): memory is bounded by the grid, never by the number
//! of entries. A cell is drawn black when it holds entries of a small matrix, and in shades of
//! gray by density (log scale) when cells aggregate many positions. Block boundaries (layer
//! offsets) are drawn as red lines. No text is drawn, so no font is needed (PNG and SVG render
//! on machines without system fonts).

#[cfg(feature = "plot")]
use crate::mtx::{write_atomic, write_atomic_by_name};
use crate::{Error, Result};
#[cfg(feature = "plot")]
use plotters::prelude::*;
use sprs::CsMat;
use std::path::Path;

/// Largest number of columns of a text spy.
pub const MAX_TEXT_COLS: usize = 80;

/// Entry counts of a matrix binned on a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityGrid {
    /// Matrix rows.
    pub rows: usize,
    /// Matrix columns.
    pub cols: usize,
    /// Grid rows (≤ `max_side`).
    pub grid_rows: usize,
    /// Grid columns (≤ `max_side`).
    pub grid_cols: usize,
    /// `counts[gr * grid_cols + gc]`: stored entries in that cell.
    pub counts: Vec<u32>,
}

impl DensityGrid {
    /// Bins the stored entries of `m` (any storage) on a grid of at most `max_side` cells per
    /// side, keeping one cell per position when the matrix is small enough.
    ///
    /// # Complexity
    /// `O(nnz)` time, `O(max_side²)` memory.
    pub fn new(m: &CsMat<f64>, max_side: usize) -> Self {
        let (rows, cols) = m.shape();
        let max_side = max_side.max(1);
        let grid_rows = rows.clamp(1, max_side);
        let grid_cols = cols.clamp(1, max_side);
        let mut counts = vec![0u32; grid_rows * grid_cols];
        for (_, (i, j)) in m.iter() {
            let gr = (i as u128 * grid_rows as u128 / rows.max(1) as u128) as usize;
            let gc = (j as u128 * grid_cols as u128 / cols.max(1) as u128) as usize;
            let c = &mut counts[gr * grid_cols + gc];
            *c = c.saturating_add(1);
        }
        DensityGrid {
            rows,
            cols,
            grid_rows,
            grid_cols,
            counts,
        }
    }

    /// Whether each cell stands for exactly one matrix position.
    pub fn exact(&self) -> bool {
        self.grid_rows == self.rows && self.grid_cols == self.cols
    }

    /// Gray level of a cell: 0 (black) … 255 (white, empty).
    #[cfg(feature = "plot")]
    fn shade(&self, count: u32, max: u32) -> u8 {
        if count == 0 {
            255
        } else if self.exact() || max <= 1 {
            0
        } else {
            let t = (count as f64).ln_1p() / (max as f64).ln_1p();
            (200.0 * (1.0 - t)) as u8
        }
    }
}

pub use crate::inspect::Blocks;

/// The exact text spy `| x . x |` of a matrix with at most [`MAX_TEXT_COLS`] columns (and
/// 10 000 rows).
///
/// # Errors
/// [`Error::Invalid`] for a larger matrix: it is refused rather than printed.
pub fn text_spy(m: &CsMat<f64>) -> Result<String> {
    crate::inspect::pattern_text(m).ok_or_else(|| {
        Error::invalid(
            "text spy",
            format!(
                "the matrix is {}×{}; a text spy shows at most {MAX_TEXT_COLS} columns and 10000 rows \
                 (write an image instead: --spy out.svg or --spy out.png)",
                m.rows(),
                m.cols()
            ),
        )
    })
}

/// Image geometry: `scale` pixels per grid cell and a margin.
#[cfg(feature = "plot")]
struct Geometry {
    scale: u32,
    margin: u32,
    width: u32,
    height: u32,
}

#[cfg(feature = "plot")]
fn geometry(g: &DensityGrid, target: u32) -> Geometry {
    let side = g.grid_rows.max(g.grid_cols) as u32;
    let scale = (target / side.max(1)).max(1);
    let margin = 8;
    Geometry {
        scale,
        margin,
        width: g.grid_cols as u32 * scale + 2 * margin,
        height: g.grid_rows as u32 * scale + 2 * margin,
    }
}

/// Pixel coordinate of matrix row/column offset `o` along a side of `n` positions and `cells`
/// grid cells.
#[cfg(feature = "plot")]
fn at(o: usize, n: usize, cells: usize, geo: &Geometry) -> i32 {
    (geo.margin as u128 + o as u128 * cells as u128 * geo.scale as u128 / n.max(1) as u128) as i32
}

#[cfg(feature = "plot")]
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    g: &DensityGrid,
    blocks: Blocks,
    geo: &Geometry,
) -> std::result::Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    root.fill(&WHITE).map_err(e)?;
    let max = g.counts.iter().copied().max().unwrap_or(0);
    let s = geo.scale as i32;
    let m = geo.margin as i32;
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
            let (x0, y0) = (m + start as i32 * s, m + gr as i32 * s);
            let (x1, y1) = (m + gc as i32 * s, y0 + s);
            root.draw(&Rectangle::new(
                [(x0, y0), (x1, y1)],
                RGBColor(shade, shade, shade).filled(),
            ))
            .map_err(e)?;
        }
    }
    let (w, h) = (m + g.grid_cols as i32 * s, m + g.grid_rows as i32 * s);
    let red = RGBColor(220, 30, 30);
    // one line per pixel position at most: thousands of block boundaries on a few hundred
    // pixels would only repeat lines (and bloat an SVG)
    let positions = |off: &[usize], n: usize, cells: usize| {
        let mut p: Vec<i32> = off[1..off.len().saturating_sub(1)]
            .iter()
            .map(|&o| at(o, n, cells, geo))
            .collect();
        p.dedup();
        p
    };
    if let Some(rows) = blocks.rows {
        for y in positions(rows, g.rows, g.grid_rows) {
            root.draw(&PathElement::new(vec![(m, y), (w, y)], red))
                .map_err(e)?;
        }
    }
    if let Some(cols) = blocks.cols {
        for x in positions(cols, g.cols, g.grid_cols) {
            root.draw(&PathElement::new(vec![(x, m), (x, h)], red))
                .map_err(e)?;
        }
    }
    root.draw(&Rectangle::new([(m, m), (w, h)], BLACK.stroke_width(1)))
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// Grid cells per side of an image spy.
pub const IMAGE_CELLS: usize = 600;

/// Checks that `path` can take a spy plot: a `.svg` or `.png` name in an existing folder.
///
/// # Errors
/// [`Error::Invalid`] for another extension; [`Error::Io`] when the folder does not exist.
pub fn check_spy_path(path: &Path) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(ext.as_deref(), Some("svg") | Some("png")) {
        return Err(Error::invalid(
            "spy path",
            format!(
                "{}: unknown image type (use a .svg or .png file name)",
                path.display()
            ),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    crate::folder::check_parent(path)?;
    if !dir.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "the folder does not exist"),
        ));
    }
    Ok(())
}

/// Writes a spy plot of `m` to `path` (`.svg` or `.png`), atomically (feature `plot`).
///
/// # Errors
/// [`Error::Invalid`] for another extension; [`Error::Io`] naming the path when the folder
/// does not exist or cannot be written.
#[cfg(feature = "plot")]
pub fn write_spy(m: &CsMat<f64>, path: &Path, blocks: Blocks) -> Result<()> {
    check_spy_path(path)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let grid = DensityGrid::new(m, IMAGE_CELLS);
    let geo = geometry(&grid, 800);
    if ext.as_deref() == Some("svg") {
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (geo.width, geo.height)).into_drawing_area();
            draw(root, &grid, blocks, &geo).map_err(|e| Error::invalid("spy plot", e))?;
        }
        write_atomic(path, svg.as_bytes())
    } else {
        // plotters writes the PNG by file name
        write_atomic_by_name(path, |tmp| {
            let root = BitMapBackend::new(tmp, (geo.width, geo.height)).into_drawing_area();
            draw(root, &grid, blocks, &geo)
        })
    }
}
