//! Spy plots and structure reports: images are written (and only whole), large matrices are
//! binned into a bounded grid, a huge text spy is refused, bad paths are clear errors.

use adjoint::inspect::{structure_report, BlockClass, Blocks};
use adjoint::spy::{text_spy, write_spy, DensityGrid};
use adjoint::Error;
use sprs::{CsMat, TriMat};

fn diagonal(n: usize) -> CsMat<f64> {
    CsMat::new_csc((n, n), (0..=n).collect(), (0..n).collect(), vec![1.0; n])
}

#[test]
fn svg_and_png_are_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = TriMat::new((30, 50));
    for k in 0..30 {
        t.add_triplet(k, k, 1.0);
        t.add_triplet(k, 49 - k, 2.0);
    }
    let m: CsMat<f64> = t.to_csc();
    let blocks = Blocks {
        rows: Some(&[0, 10, 30]),
        cols: Some(&[0, 25, 50]),
        row_name: None,
        col_name: None,
    };
    let svg = dir.path().join("m.svg");
    let png = dir.path().join("m.png");
    write_spy(&m, "m", &svg, blocks).unwrap();
    write_spy(&m, "m", &png, blocks).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
        "{}",
        &text[..60]
    );
    assert!(
        text.matches("<rect").count() >= 60,
        "one rectangle per entry at least"
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "temporary files left: {names:?}");
}

#[test]
fn bad_spy_paths_are_clear_errors_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let m = diagonal(5);
    match write_spy(
        &m,
        "m",
        &dir.path().join("missing/m.png"),
        Blocks::default(),
    ) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("missing/m.png"), "{e}"),
        other => panic!("{other:?}"),
    }
    match write_spy(&m, "m", &dir.path().join("m.jpg"), Blocks::default()) {
        Err(e @ Error::Invalid { .. }) => assert!(e.to_string().contains(".svg or .png"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn large_matrices_are_binned_and_huge_text_spies_refused() {
    let n = 1_000_000;
    let m = diagonal(n);
    let g = DensityGrid::new(&m, 600);
    assert_eq!((g.grid_rows, g.grid_cols), (600, 600));
    assert!(!g.exact());
    assert_eq!(g.counts.iter().map(|&c| c as usize).sum::<usize>(), n);
    assert_eq!(
        g.counts.iter().filter(|&&c| c > 0).count(),
        600,
        "the diagonal stays a diagonal"
    );
    match text_spy(&m) {
        Err(e @ Error::Invalid { .. }) => {
            assert!(e.to_string().contains("at most 80 columns"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    write_spy(&m, "big", &dir.path().join("big.png"), Blocks::default()).unwrap();
    // a small matrix keeps one cell per position
    let small = DensityGrid::new(&diagonal(7), 600);
    assert!(small.exact());
}

#[test]
fn structure_report_classes_and_bandwidths() {
    let mut t = TriMat::new((6, 6));
    for i in 0..6 {
        t.add_triplet(i, i, if i < 2 { 1.0 } else { 3.0 });
    }
    for i in 2..4 {
        for j in 0..2 {
            t.add_triplet(i, j, 0.5);
        }
    }
    t.add_triplet(5, 2, 1.0);
    let m: CsMat<f64> = t.to_csc();
    let r = structure_report(&m, Blocks::square(&[0, 2, 4, 6]));
    assert_eq!((r.lower_bandwidth, r.upper_bandwidth), (3, 0));
    assert!(r.lower_triangular() && !r.unit_diagonal && !r.symmetric);
    let class = |bi, bj| r.blocks.iter().find(|b| b.block == (bi, bj)).unwrap().class;
    assert_eq!(class(0, 0), BlockClass::Identity);
    assert_eq!(class(1, 0), BlockClass::Dense);
    assert_eq!(class(1, 1), BlockClass::Diagonal);
    assert_eq!(class(2, 1), BlockClass::Sparse);
    assert_eq!(class(0, 1), BlockClass::Zero);
    // CSR input gives the same report
    let csr = m.to_csr();
    let r2 = structure_report(&csr, Blocks::square(&[0, 2, 4, 6]));
    assert_eq!(r2.blocks, r.blocks);
    assert_eq!(r2.symmetric_pattern, r.symmetric_pattern);
}

/// `(width, height, RGB or RGBA bytes, channels)` of a PNG.
fn decode_png(path: &std::path::Path) -> (usize, usize, Vec<u8>, usize) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    (info.width as usize, info.height as usize, buf, channels)
}

#[test]
fn pictures_carry_a_title_ticks_and_block_labels() {
    let dir = tempfile::tempdir().unwrap();
    let n = 30;
    let mut t = TriMat::new((n, n));
    for k in 0..n {
        t.add_triplet(k, k, 1.0);
        if k > 0 {
            t.add_triplet(k, k - 1, 1.0);
        }
    }
    let m: CsMat<f64> = t.to_csc();
    let offsets = [0, 10, 20, 30];
    let blocks = Blocks {
        rows: Some(&offsets),
        cols: Some(&offsets),
        row_name: Some("layer"),
        col_name: Some("layer"),
    };
    let svg = dir.path().join("l.svg");
    write_spy(&m, "∂f/∂u", &svg, blocks).unwrap();
    let text: String = std::fs::read_to_string(&svg)
        .unwrap()
        .lines()
        .map(str::trim)
        .collect();
    assert!(text.contains("∂f/∂u: 30 × 30, nz = 59"), "title");
    for label in ["layer 1", "layer 2", "layer 3", ">25<", ">0<"] {
        assert!(text.contains(label), "{label} missing");
    }
    // the PNG draws the same text with the embedded font: dark pixels in the title band and
    // in the tick column left of the plot, which hold nothing but text
    let png = dir.path().join("l.png");
    write_spy(&m, "∂f/∂u", &png, blocks).unwrap();
    let (w, h, px, ch) = decode_png(&png);
    let dark = |x0: usize, x1: usize, y0: usize, y1: usize| {
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| px[(y * w + x) * ch] < 128)
            .count()
    };
    assert!(w > 400 && h > 400);
    assert!(dark(0, w, 0, 30) > 50, "the title is drawn");
    assert!(dark(0, 55, 40, h - 40) > 50, "the row ticks are labelled");
    assert!(dark(0, w, h - 22, h) > 20, "the column ticks are labelled");
    // without blocks or a name: no labels, the shape still titled
    let plain = dir.path().join("p.svg");
    write_spy(&m, "", &plain, Blocks::default()).unwrap();
    let text = std::fs::read_to_string(&plain).unwrap();
    assert!(text.contains("30 × 30, nz = 59") && !text.contains("layer"));
}
