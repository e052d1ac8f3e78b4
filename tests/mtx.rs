//! Matrix Market reading and writing: exact round trips, every supported header, a second
//! reader (nalgebra-sparse) on our files, and clear errors on bad files.

use adjoint::mtx::{self, read_matrix, read_vector, write_matrix, write_vector};
use adjoint::Error;
use rand::{RngExt, SeedableRng};
use sprs::{CsMat, TriMat};
use std::path::Path;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn awkward_values(n: usize) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut v: Vec<f64> = (0..n)
        .map(|_| (rng.random::<f64>() - 0.5) * 10f64.powi(rng.random_range(-300..300)))
        .collect();
    v.extend([
        0.1,
        1.0 / 3.0,
        -0.0,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        1e22,
        123456789.0,
    ]);
    v
}

#[test]
fn vectors_and_matrices_round_trip_bit_for_bit() {
    let dir = tmp();
    let v = awkward_values(500);
    write_vector(dir.path().join("v.mtx"), &v, " test").unwrap();
    let back = read_vector(dir.path().join("v.mtx")).unwrap();
    assert_eq!(v.len(), back.len());
    for (a, b) in v.iter().zip(&back) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} read back as {b}");
    }
    let mut t = TriMat::new((40, 7));
    for (k, &x) in v.iter().take(100).enumerate() {
        if x != 0.0 {
            t.add_triplet((k * 13) % 40, (k * 5) % 7, x);
        }
    }
    let m: CsMat<f64> = t.to_csc();
    write_matrix(dir.path().join("m.mtx"), &m, "").unwrap();
    let back = read_matrix(dir.path().join("m.mtx")).unwrap().to_csc();
    assert_eq!(back.shape(), m.shape());
    assert_eq!(back.indptr(), m.indptr());
    assert_eq!(back.indices(), m.indices());
    let bits = |m: &CsMat<f64>| m.data().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back), bits(&m));
}

#[test]
fn a_second_reader_parses_our_files() {
    let dir = tmp();
    let mut t = TriMat::new((5, 4));
    t.add_triplet(0, 0, 1.5);
    t.add_triplet(4, 3, -2.25e-7);
    t.add_triplet(2, 1, 1.0 / 3.0);
    let m: CsMat<f64> = t.to_csc();
    let path = dir.path().join("m.mtx");
    write_matrix(&path, &m, " comment").unwrap();
    let coo = nalgebra_sparse::io::load_coo_from_matrix_market_file::<f64, _>(&path).unwrap();
    assert_eq!((coo.nrows(), coo.ncols(), coo.nnz()), (5, 4, 3));
    for (i, j, v) in coo.triplet_iter() {
        assert_eq!(m.get(i, j).copied(), Some(*v));
    }
    let vpath = dir.path().join("v.mtx");
    let v = vec![1.0, -0.0, 2.5e300];
    write_vector(&vpath, &v, "").unwrap();
    let coo = nalgebra_sparse::io::load_coo_from_matrix_market_file::<f64, _>(&vpath).unwrap();
    assert_eq!((coo.nrows(), coo.ncols()), (3, 1));
    let dense = nalgebra::DMatrix::from(&coo);
    assert_eq!(dense.as_slice(), &v[..]);
}

fn parse(text: &str) -> adjoint::Result<mtx::MtxMatrix> {
    mtx::read_matrix_from(text.as_bytes(), Path::new("test.mtx"))
}

#[test]
fn reads_every_supported_header() {
    let m = parse(
        "%%MatrixMarket matrix coordinate real symmetric\n% c\n3 3 3\n1 1 2\n3 1 -1\n2 2 4\n",
    )
    .unwrap();
    let a = m.to_csc();
    assert_eq!(a.get(0, 2), Some(&-1.0));
    assert_eq!(a.get(2, 0), Some(&-1.0));
    assert_eq!(a.nnz(), 4);
    let m = parse("%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1\n").unwrap();
    assert_eq!(m.to_csc().get(0, 1), Some(&1.0));
    let m = parse("%%MatrixMarket matrix coordinate integer general\n2 2 1\n2 2 7\n").unwrap();
    assert_eq!(m.to_csc().get(1, 1), Some(&7.0));
    let m = parse("%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 3\n").unwrap();
    assert_eq!(m.to_csc().get(0, 1), Some(&-3.0));
    // array, column-major, as scipy.io.mmwrite writes a dense array
    let m = parse("%%MatrixMarket matrix array real general\n%\n2 2\n1\n2\n3\n4\n").unwrap();
    let a = m.to_csc();
    assert_eq!((a.get(1, 0), a.get(0, 1)), (Some(&2.0), Some(&3.0)));
    let m = parse("%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n").unwrap();
    let a = m.to_csc();
    assert_eq!(
        (a.get(1, 0), a.get(0, 1), a.get(1, 1)),
        (Some(&2.0), Some(&2.0), Some(&3.0))
    );
    // vectors as 1×n rows or n×1 columns, coordinate or array
    let dir = tmp();
    std::fs::write(
        dir.path().join("r.mtx"),
        "%%MatrixMarket matrix coordinate real general\n1 3 2\n1 1 5\n1 3 6\n",
    )
    .unwrap();
    assert_eq!(
        read_vector(dir.path().join("r.mtx")).unwrap(),
        vec![5.0, 0.0, 6.0]
    );
}

fn parse_error(text: &str) -> (usize, String) {
    match parse(text) {
        Err(Error::Parse { line, message, .. }) => (line, message),
        other => panic!("expected a parse error for {text:?}, got {other:?}"),
    }
}

#[test]
fn bad_files_are_errors_naming_the_line() {
    let (line, msg) = parse_error("hello\n1 1 1\n");
    assert_eq!(line, 1);
    assert!(msg.contains("not a Matrix Market file"), "{msg}");
    let (_, msg) = parse_error("");
    assert!(msg.contains("empty"), "{msg}");
    let (_, msg) =
        parse_error("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n");
    assert!(msg.contains("complex"), "{msg}");
    let (_, msg) =
        parse_error("%%MatrixMarket matrix coordinate quaternion general\n1 1 1\n1 1 1\n");
    assert!(msg.contains("quaternion"), "{msg}");
    let (line, msg) =
        parse_error("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n3 1 1\n");
    assert_eq!(line, 4);
    assert!(msg.contains("out of range"), "{msg}");
    let (line, msg) =
        parse_error("%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 2 1\n");
    assert!(msg.contains("truncated"), "{msg} at {line}");
    let (line, _) = parse_error("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 abc\n");
    assert_eq!(line, 3);
    let (line, msg) =
        parse_error("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n");
    assert_eq!(line, 3);
    assert!(msg.contains("not finite"), "{msg}");
    let (line, _) = parse_error("%%MatrixMarket matrix coordinate real general\n2 x 1\n1 1 1\n");
    assert_eq!(line, 2);
    let (line, msg) = parse_error("%%MatrixMarket matrix array real general\n2 1\n1\n2\n3\n");
    assert_eq!(line, 5);
    assert!(msg.contains("more entries"), "{msg}");
    let (_, msg) = parse_error("%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 2 1\n");
    assert!(msg.contains("above the diagonal"), "{msg}");
    // a missing file is an I/O error naming the path
    match read_matrix("/nonexistent/x.mtx") {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("/nonexistent/x.mtx")),
        other => panic!("{other:?}"),
    }
    // a matrix where a vector is expected
    let dir = tmp();
    std::fs::write(
        dir.path().join("m.mtx"),
        "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
    )
    .unwrap();
    assert!(matches!(
        read_vector(dir.path().join("m.mtx")),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn failed_writes_leave_no_file_behind() {
    let dir = tmp();
    // the target is an existing folder
    let target = dir.path().join("folder.mtx");
    std::fs::create_dir(&target).unwrap();
    assert!(matches!(
        write_vector(&target, &[1.0], ""),
        Err(Error::Io { .. })
    ));
    // the parent does not exist
    let missing = dir.path().join("missing/v.mtx");
    assert!(matches!(
        write_vector(&missing, &[1.0], ""),
        Err(Error::Io { .. })
    ));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("folder.mtx")],
        "temporary files left behind"
    );
}
