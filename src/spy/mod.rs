//! Spy plots: where the stored entries of a sparse matrix are, as SVG, PNG or text.
//!
//! Entries are binned into a [`DensityGrid`] of at most `max_side × max_side` cells (one cell
//! per entry position for small matrices): memory is bounded by the grid, never by the number
//! of entries. A cell is drawn black when it holds entries of a small matrix, and in shades of
//! gray by density (log scale) when cells aggregate many positions. Block boundaries (layer
//! offsets) are drawn as red lines, labelled (`layer 2`) when there is room. Pictures
//! ([`write_spy`], feature `plot`, in `picture.rs`) carry a title (name, shape and
//! `nz = …`, as MATLAB's `spy` prints it) and axis ticks with row and column indices (from 0),
//! in the embedded font ([`crate::font`]), so PNGs read the same everywhere.

#[cfg(feature = "plot")]
mod picture;
#[cfg(feature = "plot")]
pub use picture::write_spy;

use crate::{Error, Result};
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
    pub(crate) fn shade(&self, count: u32, max: u32) -> u8 {
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
