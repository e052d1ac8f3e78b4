//! Matrix Market files: reading (coordinate and array) and atomic writing.
//!
//! The format (NIST, <https://math.nist.gov/MatrixMarket/formats.html>) is a banner line
//!
//! ```text
//! %%MatrixMarket matrix <format> <field> <symmetry>
//! ```
//!
//! then `%` comment lines, a size line, and the entries. This module reads
//!
//! - `coordinate` with field `real`, `integer` or `pattern` (values 1) and symmetry `general`,
//!   `symmetric` or `skew-symmetric` (the other triangle is filled in);
//! - `array` (column-major dense) with field `real` or `integer`, symmetry `general` or
//!   `symmetric` (lower triangle stored), as `scipy.io.mmwrite` writes a dense array;
//!
//! and every failure is an [`Error::Parse`] naming the file and the line.
//!
//! It writes sparse matrices as `coordinate real general` (1-based, in CSC order) and vectors
//! as `array real general` n × 1, with each value in Rust's shortest representation that
//! reads back to the same `f64` bit for bit. Writes are atomic: the file is written to a
//! temporary file in the same folder and renamed over the target only when complete.

use crate::{Error, Result};
use sprs::{CsMat, TriMat};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// How the entries are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `(i, j, v)` lines.
    Coordinate,
    /// All values, column-major.
    Array,
}

/// The value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Floating point.
    Real,
    /// Integers (read as `f64`).
    Integer,
    /// No values: every stored entry is 1.
    Pattern,
}

/// Which entries are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symmetry {
    /// All.
    General,
    /// The lower triangle; `a_ji = a_ij`.
    Symmetric,
    /// The strict lower triangle; `a_ji = −a_ij`.
    SkewSymmetric,
}

impl Symmetry {
    /// The banner's word: `general`, `symmetric`, `skew-symmetric`.
    pub fn name(self) -> &'static str {
        match self {
            Symmetry::General => "general",
            Symmetry::Symmetric => "symmetric",
            Symmetry::SkewSymmetric => "skew-symmetric",
        }
    }
}

/// The banner of a Matrix Market file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Coordinate or array.
    pub format: Format,
    /// Real, integer or pattern.
    pub field: Field,
    /// General, symmetric or skew-symmetric.
    pub symmetry: Symmetry,
}

/// A matrix read from a file, as expanded triplets (the other triangle filled in for
/// symmetric files; array files list every position, zeros included).
#[derive(Debug, Clone)]
pub struct MtxMatrix {
    /// What the banner said.
    pub header: Header,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `(row, col, value)`, 0-based, in file order (mirrors follow their entry).
    pub entries: Vec<(usize, usize, f64)>,
}

impl MtxMatrix {
    /// The matrix in CSC storage; duplicate entries are summed, and the zeros of an array
    /// (dense) file are not stored.
    pub fn to_csc(&self) -> CsMat<f64> {
        let dense = self.header.format == Format::Array;
        let mut t = TriMat::with_capacity((self.rows, self.cols), self.entries.len());
        for &(i, j, v) in &self.entries {
            if !(dense && v == 0.0) {
                t.add_triplet(i, j, v);
            }
        }
        t.to_csc()
    }
}

fn parse_err(path: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// Reads a Matrix Market file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Parse`] (with the line) for a missing
/// or unsupported banner, a bad size line, a malformed or out-of-range entry, a non-finite
/// value, or too few / too many entries.
pub fn read_matrix(path: impl AsRef<Path>) -> Result<MtxMatrix> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_matrix_from(BufReader::new(file), path)
}

/// Reads a Matrix Market matrix from any reader; `path` is only used in error messages.
///
/// # Errors
/// As [`read_matrix`].
pub fn read_matrix_from(reader: impl BufRead, path: &Path) -> Result<MtxMatrix> {
    let mut lines = Lines::new(reader, path);
    let header = read_banner(&mut lines)?;
    let (size_line, rows, cols, declared) = read_size_line(&mut lines, header)?;
    check_claimed_size(path, size_line, rows, cols, header)?;
    // grown by what the file really holds, never reserved by its claim
    let mut entries = Vec::with_capacity(declared.min(1 << 12));
    let mut count = 0usize;
    let mut position = ArrayPosition::new(header.symmetry);
    while let Some((n, line)) = lines.next("an entry")? {
        let line = line.trim();
        if line.is_empty() || line.starts_with('%') {
            continue;
        }
        if count == declared {
            return Err(parse_err(
                path,
                n,
                format!("more entries than the {declared} declared"),
            ));
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let at = Located {
            path,
            line: n,
            header,
        };
        let (i, j, v) = match header.format {
            Format::Coordinate => at.coordinate_entry(&fields, rows, cols)?,
            Format::Array => {
                let v = at.array_value(&fields)?;
                let (i, j) = position.next(rows);
                (i, j, v)
            }
        };
        count += 1;
        at.push_entry(&mut entries, i, j, v)?;
    }
    if count < declared {
        return Err(parse_err(
            path,
            lines.last + 1,
            format!("truncated file: {count} entries of the {declared} declared"),
        ));
    }
    Ok(MtxMatrix {
        header,
        rows,
        cols,
        entries,
    })
}

/// Numbered lines of a Matrix Market file, each at most [`MAX_LINE_BYTES`].
struct Lines<'p, R> {
    reader: R,
    path: &'p Path,
    buf: Vec<u8>,
    /// The number of the last line read (1-based; 0 before the first).
    last: usize,
}

impl<'p, R: BufRead> Lines<'p, R> {
    fn new(reader: R, path: &'p Path) -> Self {
        Lines {
            reader,
            path,
            buf: Vec::new(),
            last: 0,
        }
    }

    /// The next line and its number; `what` names the expected content in errors.
    fn next(&mut self, what: &str) -> Result<Option<(usize, String)>> {
        let n = self.last + 1;
        match read_bounded_line(&mut self.reader, &mut self.buf) {
            Ok(None) => Ok(None),
            Ok(Some(l)) => {
                self.last = n;
                Ok(Some((n, l)))
            }
            Err(m) => Err(parse_err(self.path, n, format!("cannot read {what}: {m}"))),
        }
    }
}

/// The header reader: the `%%MatrixMarket` banner on line 1 (a UTF-8 byte-order mark, which
/// some editors write, is not part of it).
fn read_banner<R: BufRead>(lines: &mut Lines<'_, R>) -> Result<Header> {
    let path = lines.path;
    let (_, banner) = lines
        .next("the banner")?
        .ok_or_else(|| parse_err(path, 1, "empty file, expected a %%MatrixMarket banner"))?;
    let banner = banner.strip_prefix('\u{feff}').unwrap_or(&banner);
    parse_banner(banner).map_err(|m| parse_err(path, 1, m))
}

/// The size line (the first that is neither a comment nor blank): `rows cols entries` for
/// coordinate files, `rows cols` for array files, whose entry count follows from the
/// symmetry. Returns the line number, the sizes and the number of entries declared.
fn read_size_line<R: BufRead>(
    lines: &mut Lines<'_, R>,
    header: Header,
) -> Result<(usize, usize, usize, usize)> {
    let path = lines.path;
    let (n, size_line) = loop {
        match lines.next("the size line")? {
            None => {
                return Err(parse_err(
                    path,
                    lines.last + 1,
                    "truncated file: no size line",
                ))
            }
            Some((_, l)) if l.trim().is_empty() || l.starts_with('%') => continue,
            Some(x) => break x,
        }
    };
    let sizes: Vec<&str> = size_line.split_whitespace().collect();
    let parse_size = |s: &str| -> Result<usize> {
        s.parse::<usize>()
            .map_err(|_| parse_err(path, n, format!("bad size {s:?} on the size line")))
    };
    let (rows, cols, declared) = match (header.format, sizes.as_slice()) {
        (Format::Coordinate, [r, c, nnz]) => (parse_size(r)?, parse_size(c)?, parse_size(nnz)?),
        (Format::Array, [r, c]) => {
            let (r, c) = (parse_size(r)?, parse_size(c)?);
            let count = match header.symmetry {
                Symmetry::General => r.checked_mul(c),
                Symmetry::Symmetric => r.checked_mul(r + 1).map(|x| x / 2),
                Symmetry::SkewSymmetric => r.checked_mul(r.saturating_sub(1)).map(|x| x / 2),
            };
            let count = count.ok_or_else(|| parse_err(path, n, "matrix too large"))?;
            (r, c, count)
        }
        (Format::Coordinate, _) => {
            return Err(parse_err(
                path,
                n,
                "expected `rows cols entries` on the size line",
            ))
        }
        (Format::Array, _) => {
            return Err(parse_err(path, n, "expected `rows cols` on the size line"))
        }
    };
    if header.symmetry != Symmetry::General && rows != cols {
        return Err(parse_err(
            path,
            n,
            format!(
                "a {} matrix must be square, found {rows}×{cols}",
                header.symmetry.name()
            ),
        ));
    }
    Ok((n, rows, cols, declared))
}

/// Where an entry line is, for its readers and their errors.
struct Located<'a> {
    path: &'a Path,
    line: usize,
    header: Header,
}

impl Located<'_> {
    fn err(&self, message: impl Into<String>) -> Error {
        parse_err(self.path, self.line, message)
    }

    /// A finite value, an integer when the field says so.
    fn value(&self, s: &str) -> Result<f64> {
        let v: f64 = s
            .parse()
            .map_err(|_| self.err(format!("bad value {s:?}")))?;
        if !v.is_finite() {
            return Err(self.err(format!("value {s} is not finite")));
        }
        if self.header.field == Field::Integer && v.fract() != 0.0 {
            return Err(self.err(format!(
                "value {s} is not an integer, but the field is `integer`"
            )));
        }
        Ok(v)
    }

    /// The coordinate reader: `row col value` (1-based indices in range; `row col` for a
    /// pattern file, whose value is 1), as a 0-based triplet.
    fn coordinate_entry(
        &self,
        fields: &[&str],
        rows: usize,
        cols: usize,
    ) -> Result<(usize, usize, f64)> {
        let expected = if self.header.field == Field::Pattern {
            2
        } else {
            3
        };
        if fields.len() != expected {
            return Err(self.err(format!(
                "expected {expected} fields, found {}",
                fields.len()
            )));
        }
        let index = |s: &str, max: usize, what: &str| -> Result<usize> {
            let k: usize = s
                .parse()
                .map_err(|_| self.err(format!("bad {what} index {s:?}")))?;
            if k == 0 || k > max {
                return Err(self.err(format!("{what} index {k} out of range 1..={max}")));
            }
            Ok(k - 1)
        };
        let i = index(fields[0], rows, "row")?;
        let j = index(fields[1], cols, "column")?;
        let v = if self.header.field == Field::Pattern {
            1.0
        } else {
            self.value(fields[2])?
        };
        Ok((i, j, v))
    }

    /// The array reader: one value per line (its position comes from [`ArrayPosition`]).
    fn array_value(&self, fields: &[&str]) -> Result<f64> {
        if fields.len() != 1 {
            return Err(self.err(format!("expected 1 value, found {} fields", fields.len())));
        }
        self.value(fields[0])
    }

    /// Stores `(i, j, v)` and, for a symmetric or skew-symmetric file, its mirror; such files
    /// hold the lower triangle only (and no diagonal when skew).
    fn push_entry(
        &self,
        entries: &mut Vec<(usize, usize, f64)>,
        i: usize,
        j: usize,
        v: f64,
    ) -> Result<()> {
        let symmetry = self.header.symmetry;
        if symmetry != Symmetry::General && j > i {
            return Err(self.err(format!(
                "entry ({}, {}) is above the diagonal of a {} file",
                i + 1,
                j + 1,
                symmetry.name()
            )));
        }
        if symmetry == Symmetry::SkewSymmetric && i == j {
            return Err(self.err("a skew-symmetric file cannot store a diagonal entry"));
        }
        entries.push((i, j, v));
        if i != j {
            match symmetry {
                Symmetry::General => {}
                Symmetry::Symmetric => entries.push((j, i, v)),
                Symmetry::SkewSymmetric => entries.push((j, i, -v)),
            }
        }
        Ok(())
    }
}

/// The position of the next value of an array file: column-major, from the diagonal down for
/// a symmetric file and from below it for a skew-symmetric one.
struct ArrayPosition {
    i: usize,
    j: usize,
    symmetry: Symmetry,
}

impl ArrayPosition {
    fn new(symmetry: Symmetry) -> Self {
        let i = usize::from(symmetry == Symmetry::SkewSymmetric);
        ArrayPosition { i, j: 0, symmetry }
    }

    /// This value's `(row, col)`; advances to the next.
    fn next(&mut self, rows: usize) -> (usize, usize) {
        let at = (self.i, self.j);
        self.i += 1;
        if self.i == rows {
            self.j += 1;
            self.i = match self.symmetry {
                Symmetry::General => 0,
                Symmetry::Symmetric => self.j,
                Symmetry::SkewSymmetric => self.j + 1,
            };
        }
        at
    }
}

/// Longest line the reader accepts (1 MiB): a file without line breaks (`/dev/zero`) is an
/// error after that much, not an unbounded allocation.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The next line (without `\n` / `\r\n`), `None` at the end; an error message for a line
/// longer than [`MAX_LINE_BYTES`], a read error, or bytes that are not UTF-8.
fn read_bounded_line<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::result::Result<Option<String>, String> {
    buf.clear();
    let limit = MAX_LINE_BYTES as u64 + 1;
    let n = std::io::Read::take(&mut *reader, limit)
        .read_until(b'\n', buf)
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    } else if n as u64 == limit {
        return Err(format!(
            "the line is longer than {} MiB",
            MAX_LINE_BYTES >> 20
        ));
    }
    String::from_utf8(std::mem::take(buf))
        .map(Some)
        .map_err(|_| "the line is not UTF-8 text".to_string())
}

/// Refuses a size line whose matrix could not be held: sizes whose index arrays overflow
/// `usize`, or need more memory than this process may use (the CSC column pointers and the
/// per-row and per-column arrays of a structure report, about 16 bytes per row and column).
fn check_claimed_size(
    path: &Path,
    line: usize,
    rows: usize,
    cols: usize,
    header: Header,
) -> Result<()> {
    const MAX_DIM: usize = (isize::MAX as usize) / 16;
    if rows > MAX_DIM || cols > MAX_DIM {
        return Err(parse_err(
            path,
            line,
            format!(
                "a {rows}×{cols} matrix is too large to index (at most {MAX_DIM} rows and columns)"
            ),
        ));
    }
    let mut bytes = 16.0 * (rows as f64 + cols as f64 + 2.0);
    if header.format == Format::Array {
        // every position is listed; the file holds them, but refuse before reading them
        bytes += 24.0 * rows as f64 * cols as f64;
    }
    crate::resources::ensure_memory(
        &format!("{}: a {rows}×{cols} matrix", path.display()),
        bytes,
    )
}

fn parse_banner(banner: &str) -> std::result::Result<Header, String> {
    let words: Vec<String> = banner
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    if words.first().map(String::as_str) != Some("%%matrixmarket") {
        return Err(
            "not a Matrix Market file: the first line must start with %%MatrixMarket".into(),
        );
    }
    if words.len() != 5 || words[1] != "matrix" {
        return Err(format!(
            "expected `%%MatrixMarket matrix <format> <field> <symmetry>`, found {banner:?}"
        ));
    }
    let format = match words[2].as_str() {
        "coordinate" => Format::Coordinate,
        "array" => Format::Array,
        f => {
            return Err(format!(
                "unknown format {f:?} (expected coordinate or array)"
            ))
        }
    };
    let field = match words[3].as_str() {
        "real" | "double" => Field::Real,
        "integer" => Field::Integer,
        "pattern" if format == Format::Coordinate => Field::Pattern,
        "complex" => return Err("complex matrices are not supported".into()),
        f => {
            return Err(format!(
                "unsupported field {f:?} (expected real, integer or pattern)"
            ))
        }
    };
    let symmetry = match words[4].as_str() {
        "general" => Symmetry::General,
        "symmetric" => Symmetry::Symmetric,
        "skew-symmetric" => Symmetry::SkewSymmetric,
        s => {
            return Err(format!(
                "unsupported symmetry {s:?} (expected general, symmetric or skew-symmetric)"
            ))
        }
    };
    Ok(Header {
        format,
        field,
        symmetry,
    })
}

/// Reads a vector: an `n × 1` or `1 × n` matrix in either format.
///
/// # Errors
/// As [`read_matrix`], plus [`Error::Shape`] when the matrix is not a single row or column,
/// and [`Error::Parse`] for a `pattern` file (it has no values).
pub fn read_vector(path: impl AsRef<Path>) -> Result<Vec<f64>> {
    let path = path.as_ref();
    let m = read_matrix(path)?;
    if m.header.field == Field::Pattern {
        return Err(parse_err(
            path,
            1,
            "a `pattern` file has no values; a vector needs `real` or `integer`",
        ));
    }
    let n = match (m.rows, m.cols) {
        (n, 1) | (1, n) => n,
        (r, c) => {
            return Err(Error::Shape {
                what: path.display().to_string(),
                expected: "a vector (n×1 or 1×n)".into(),
                found: format!("{r}×{c}"),
            })
        }
    };
    let mut v = vec![0.0; n];
    if m.header.format == Format::Array {
        // every position once: assign, so that -0.0 survives
        for (i, j, x) in m.entries {
            v[i.max(j)] = x;
        }
    } else {
        for (i, j, x) in m.entries {
            v[i.max(j)] += x;
        }
    }
    Ok(v)
}

/// The text of a sparse matrix as `coordinate real general`, entries in CSC order, values in
/// shortest round-trip form. `comment` lines (without `%`) follow the banner.
pub fn matrix_to_string(m: &CsMat<f64>, comment: &str) -> String {
    let mut s = String::with_capacity(32 * m.nnz() + 128);
    s.push_str("%%MatrixMarket matrix coordinate real general\n");
    push_comment(&mut s, comment);
    let _ = writeln!(s, "{} {} {}", m.rows(), m.cols(), m.nnz());
    let csc = if m.is_csc() { None } else { Some(m.to_csc()) };
    let m = csc.as_ref().unwrap_or(m);
    for (j, col) in m.outer_iterator().enumerate() {
        for (i, v) in col.iter() {
            let _ = writeln!(s, "{} {} {:e}", i + 1, j + 1, v);
        }
    }
    s
}

/// The text of a vector as an `array real general` n × 1 matrix (as `scipy.io.mmwrite`
/// writes a dense column), values in shortest round-trip form.
pub fn vector_to_string(v: &[f64], comment: &str) -> String {
    let mut s = String::with_capacity(24 * v.len() + 128);
    s.push_str("%%MatrixMarket matrix array real general\n");
    push_comment(&mut s, comment);
    let _ = writeln!(s, "{} 1", v.len());
    for x in v {
        let _ = writeln!(s, "{x:e}");
    }
    s
}

fn push_comment(s: &mut String, comment: &str) {
    for line in comment.lines() {
        s.push('%');
        s.push_str(line);
        s.push('\n');
    }
}

/// Writes a file atomically by streaming it: `fill` writes into a buffered temporary file in
/// the same folder, which is renamed over `path` when complete (no copy of the content is
/// held in memory). On failure nothing is left at `path` (nor a temporary file).
///
/// # Errors
/// [`Error::Io`] naming `path` (or its folder).
pub fn write_atomic_with(
    path: impl AsRef<Path>,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let (file, tmp) = temp_file_next_to(path, ".tmp")?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    fill(&mut w).map_err(|e| Error::io(path, e))?;
    let file = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    drop(file);
    tmp.persist(path).map_err(|e| Error::io(path, e))
}

/// A new temporary file `.{name}.…{suffix}` in `path`'s folder, for an atomic write of
/// `path` (refused when `path` is a folder or its parent is a file).
fn temp_file_next_to(
    path: &Path,
    suffix: &str,
) -> Result<(std::fs::File, crate::tempfs::TempPath)> {
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if path.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::other("is a folder, not a file"),
        ));
    }
    crate::folder::check_parent(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::tempfs::new_file_in(&dir, &format!(".{name}."), suffix).map_err(|e| Error::io(path, e))
}

/// Writes `path` atomically through a writer that needs a file name (an image encoder, say):
/// `write` gets the name of a new temporary file next to `path` and fills it; the file is
/// then renamed over `path`. On failure nothing is left at `path` (nor a temporary file).
///
/// # Errors
/// [`Error::Io`] naming `path`, with the message `write` returned.
pub fn write_atomic_by_name<E: std::fmt::Display>(
    path: impl AsRef<Path>,
    write: impl FnOnce(&Path) -> std::result::Result<(), E>,
) -> Result<()> {
    let path = path.as_ref();
    // the temporary name keeps the extension: encoders choose the format by it
    let suffix = match path.extension() {
        Some(e) => format!(".tmp.{}", e.to_string_lossy()),
        None => ".tmp".to_string(),
    };
    let (file, tmp) = temp_file_next_to(path, &suffix)?;
    drop(file);
    write(tmp.path()).map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
    tmp.persist(path).map_err(|e| Error::io(path, e))
}

/// Writes `contents` to `path` atomically: to a temporary file in the same folder first, then
/// renamed over `path`. On failure nothing is left at `path` (nor a temporary file).
///
/// # Errors
/// [`Error::Io`] naming `path` (or its folder).
pub fn write_atomic(path: impl AsRef<Path>, contents: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(contents))
}

/// Writes a sparse matrix (see [`matrix_to_string`]) atomically.
///
/// # Errors
/// [`Error::Io`] naming the path.
pub fn write_matrix(path: impl AsRef<Path>, m: &CsMat<f64>, comment: &str) -> Result<()> {
    let csc = if m.is_csc() { None } else { Some(m.to_csc()) };
    let m = csc.as_ref().unwrap_or(m);
    write_atomic_with(path, |w| {
        w.write_all(b"%%MatrixMarket matrix coordinate real general\n")?;
        write_comment(w, comment)?;
        writeln!(w, "{} {} {}", m.rows(), m.cols(), m.nnz())?;
        for (j, col) in m.outer_iterator().enumerate() {
            for (i, v) in col.iter() {
                writeln!(w, "{} {} {:e}", i + 1, j + 1, v)?;
            }
        }
        Ok(())
    })
}

fn write_comment(w: &mut dyn Write, comment: &str) -> std::io::Result<()> {
    for line in comment.lines() {
        writeln!(w, "%{line}")?;
    }
    Ok(())
}

/// Writes a vector (see [`vector_to_string`]) atomically.
///
/// # Errors
/// [`Error::Io`] naming the path.
pub fn write_vector(path: impl AsRef<Path>, v: &[f64], comment: &str) -> Result<()> {
    write_atomic_with(path, |w| {
        w.write_all(b"%%MatrixMarket matrix array real general\n")?;
        write_comment(w, comment)?;
        writeln!(w, "{} 1", v.len())?;
        for x in v {
            writeln!(w, "{x:e}")?;
        }
        Ok(())
    })
}
