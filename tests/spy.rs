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
    write_spy(&m, &svg, blocks).unwrap();
    write_spy(&m, &png, blocks).unwrap();
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
    match write_spy(&m, &dir.path().join("missing/m.png"), Blocks::default()) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("missing/m.png"), "{e}"),
        other => panic!("{other:?}"),
    }
    match write_spy(&m, &dir.path().join("m.jpg"), Blocks::default()) {
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
    write_spy(&m, &dir.path().join("big.png"), Blocks::default()).unwrap();
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
