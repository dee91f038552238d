//! `.npy` files: round trips, files laid out by hand, errors, and a large
//! array streamed through a file block by block.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dagwood_collections::array::{Array, ArrayError, Complex64, Element};
use dagwood_collections::FileError;
use dagwood_runtime::{compute_all_with, Scheduler};
use ndarray::{ArrayD, Dimension, IxDyn};
use proptest::prelude::*;

/// A directory removed when dropped (the crate has no tempfile dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dagwood-npy-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// NumPy's bytes for a header dict: magic, version, length, the dict padded
/// with spaces to a 64-byte boundary, newline.
fn npy_bytes(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    let len = (prefix + dict.len() + 1).div_ceil(64) * 64 - prefix;
    let mut out = b"\x93NUMPY".to_vec();
    out.push(version);
    out.push(0);
    if version == 1 {
        out.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(prefix + len - 1, b' ');
    out.push(b'\n');
    out.extend_from_slice(data);
    out
}

fn format_reason<T: std::fmt::Debug>(r: Result<T, ArrayError>, path: &Path) -> String {
    match r {
        Err(ArrayError::Format { path: p, reason }) => {
            assert_eq!(p, path);
            reason
        }
        other => panic!("expected ArrayError::Format, got {other:?}"),
    }
}

fn roundtrip<T: Element>(
    dir: &TempDir,
    data: &ArrayD<T>,
    write_chunk: &[usize],
    read_chunk: &[usize],
) {
    let path = dir.path(&format!("{}.npy", T::DTYPE));
    let x = Array::from_array(data, write_chunk).unwrap();
    x.to_npy(&path).unwrap();
    let y = Array::<T>::from_npy(&path, read_chunk).unwrap();
    assert_eq!(y.shape(), data.shape());
    assert_eq!(
        y.num_blocks(),
        y.task_count().unwrap(),
        "one task per block"
    );
    assert_eq!(
        &y.compute().unwrap(),
        data,
        "{} shape {:?}",
        T::DTYPE,
        data.shape()
    );
}

/// A shape of up to 3 axes (some empty) with a write and a read chunking.
fn layout() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    prop::collection::vec(0usize..6, 0..=3).prop_flat_map(|shape| {
        let nd = shape.len();
        (
            Just(shape),
            prop::collection::vec(0usize..4, nd),
            prop::collection::vec(0usize..4, nd),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn every_dtype_round_trips((shape, wc, rc) in layout(), seed in any::<u64>()) {
        let dir = TempDir::new("prop");
        let n = |i: &[usize]| -> u64 {
            i.iter().fold(seed, |h, &k| h.rotate_left(13) ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        };
        let sh = IxDyn(&shape);
        roundtrip(&dir, &ArrayD::from_shape_fn(sh.clone(), |i| n(i.slice()) as f32 / 7.0), &wc, &rc);
        roundtrip(&dir, &ArrayD::from_shape_fn(sh.clone(), |i| f64::from_bits(n(i.slice()) >> 2)), &wc, &rc);
        roundtrip(&dir, &ArrayD::from_shape_fn(sh.clone(), |i| n(i.slice()) as i32), &wc, &rc);
        roundtrip(&dir, &ArrayD::from_shape_fn(sh.clone(), |i| n(i.slice()) as i64), &wc, &rc);
        roundtrip(&dir, &ArrayD::from_shape_fn(sh.clone(), |i| n(i.slice()) % 3 == 0), &wc, &rc);
        roundtrip(
            &dir,
            &ArrayD::from_shape_fn(sh, |i| Complex64::new(n(i.slice()) as f64, -(n(i.slice()) as f64) / 3.0)),
            &wc,
            &rc,
        );
    }
}

#[test]
fn special_float_values_keep_their_bits() {
    let dir = TempDir::new("special");
    let path = dir.path("f.npy");
    let vals = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE / 2.0,
        f64::MAX,
    ];
    let a = ArrayD::from_shape_vec(IxDyn(&[7]), vals.to_vec()).unwrap();
    Array::from_array(&a, &[3]).unwrap().to_npy(&path).unwrap();
    let b = Array::<f64>::from_npy(&path, &[2])
        .unwrap()
        .compute()
        .unwrap();
    let bits = |x: &ArrayD<f64>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
}

#[test]
fn writes_exactly_what_numpy_writes() {
    // np.save(p, np.arange(6, dtype='<i4').reshape(2, 3)): a 118-byte dict
    // ('v' as the length byte), so the data starts at byte 128.
    let dir = TempDir::new("numpy-bytes");
    let path = dir.path("a.npy");
    let x = Array::<i32>::from_fn(&[2, 3], &[1, 2], |i| (i[0] * 3 + i[1]) as i32).unwrap();
    x.to_npy(&path).unwrap();
    let data: Vec<u8> = (0..6i32).flat_map(i32::to_le_bytes).collect();
    let expected = npy_bytes(
        1,
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
        &data,
    );
    assert_eq!(&expected[8..10], b"v\x00");
    let written = std::fs::read(&path).unwrap();
    assert_eq!(written, expected);

    // One-element tuples keep their comma; scalars have an empty shape.
    let v = Array::<f64>::from_fn(&[4], &[3], |i| i[0] as f64).unwrap();
    v.to_npy(&path).unwrap();
    let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()[10..128]).into_owned();
    assert!(text.contains("'shape': (4,), "), "{text}");
    let s = Array::<bool>::full(&[], &[], true).unwrap();
    s.to_npy(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&bytes)
        .contains("'descr': '|b1', 'fortran_order': False, 'shape': ()"));
    assert_eq!(bytes.len(), 128 + 1);
    assert_eq!(bytes[128], 1);
}

#[test]
fn reads_files_laid_out_by_hand() {
    let dir = TempDir::new("by-hand");
    let path = dir.path("h.npy");
    let data: Vec<u8> = (0..6i32).flat_map(i32::to_le_bytes).collect();
    let expected = ArrayD::from_shape_vec(IxDyn(&[2, 3]), (0..6).collect::<Vec<i32>>()).unwrap();
    let dicts = [
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }",
        // Keys in another order, double quotes, no trailing commas, odd spacing.
        "{ \"shape\" : ( 2 , 3 ) , \"fortran_order\":False,\"descr\":\"<i4\" }",
        // Python 2 long integers.
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }",
    ];
    for version in [1, 2, 3] {
        for dict in dicts {
            std::fs::write(&path, npy_bytes(version, dict, &data)).unwrap();
            for chunk in [[0, 0], [1, 2], [2, 1]] {
                let x = Array::<i32>::from_npy(&path, &chunk).unwrap();
                assert_eq!(
                    x.compute().unwrap(),
                    expected,
                    "version {version}, {dict}, chunk {chunk:?}"
                );
            }
        }
    }

    // Headers need not be padded to 64 bytes (old NumPy used 16).
    let mut raw = b"\x93NUMPY\x01\x00".to_vec();
    let dict = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n";
    raw.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    raw.extend_from_slice(dict);
    for v in [1.5f64, -2.0, 1e300] {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&path, &raw).unwrap();
    let x = Array::<f64>::from_npy(&path, &[2])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(x.as_slice().unwrap(), &[1.5, -2.0, 1e300]);

    // complex128 and bool laid out by hand; any non-zero byte is true.
    let mut c = Vec::new();
    for (re, im) in [(1.0f64, 2.0f64), (-3.0, 0.5)] {
        c.extend_from_slice(&re.to_le_bytes());
        c.extend_from_slice(&im.to_le_bytes());
    }
    std::fs::write(
        &path,
        npy_bytes(
            1,
            "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }",
            &c,
        ),
    )
    .unwrap();
    let z = Array::<Complex64>::from_npy(&path, &[1])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(
        z.as_slice().unwrap(),
        &[Complex64::new(1.0, 2.0), Complex64::new(-3.0, 0.5)]
    );
    std::fs::write(
        &path,
        npy_bytes(
            1,
            "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }",
            &[0, 1, 2, 0],
        ),
    )
    .unwrap();
    let b = Array::<bool>::from_npy(&path, &[1, 1])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(b.as_slice().unwrap(), &[false, true, true, false]);

    // Bytes after the data are ignored, as NumPy does.
    let mut long = npy_bytes(1, dicts[0], &data);
    long.extend_from_slice(&[0xff; 5]);
    std::fs::write(&path, long).unwrap();
    assert_eq!(
        Array::<i32>::from_npy(&path, &[1, 1])
            .unwrap()
            .compute()
            .unwrap(),
        expected
    );
}

#[test]
fn bad_files_name_the_path_and_the_problem() {
    let dir = TempDir::new("errors");
    let path = dir.path("bad.npy");
    let i4 = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
    let data: Vec<u8> = (0..6i32).flat_map(i32::to_le_bytes).collect();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PK\x03\x04 not numpy at all".to_vec(), "not a .npy file"),
        (b"\x93NU".to_vec(), "truncated"),
        (npy_bytes(1, i4, &data)[..40].to_vec(), "truncated"),
        (npy_bytes(1, i4, &data[..23]), "truncated"),
        (npy_bytes(1, i4, &[]), "needs 24 bytes"),
        (
            {
                let mut b = npy_bytes(1, i4, &data);
                b[6] = 4;
                b
            },
            "version 4.0",
        ),
        (
            npy_bytes(
                1,
                "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
                &data,
            ),
            "Fortran order",
        ),
        (
            npy_bytes(
                1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                &data,
            ),
            "'<f8'",
        ),
        (
            npy_bytes(
                1,
                "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3), }",
                &data,
            ),
            "'>i4'",
        ),
        (
            npy_bytes(
                1,
                "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }",
                &data,
            ),
            "structured",
        ),
        (
            npy_bytes(1, "{'descr': '<i4', 'shape': (2, 3), }", &data),
            "'fortran_order'",
        ),
        (
            npy_bytes(
                1,
                "{'descr': '<i4', 'fortran_order': False, 'shape': (2, x), }",
                &data,
            ),
            "dimension",
        ),
        (
            npy_bytes(
                1,
                "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3)",
                &data,
            ),
            "header",
        ),
        (
            npy_bytes(
                1,
                "{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                &data,
            ),
            "too large",
        ),
        (
            npy_bytes(
                1,
                "{'descr': '<i4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                &data,
            ),
            "too large",
        ),
    ];
    for (bytes, want) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let reason = format_reason(Array::<i32>::from_npy(&path, &[1, 1]), &path);
        assert!(reason.contains(want), "expected {want:?} in {reason:?}");
        // The Display form names the file too.
        let shown = Array::<i32>::from_npy(&path, &[1, 1])
            .unwrap_err()
            .to_string();
        assert!(shown.contains(&*path.to_string_lossy()), "{shown}");
    }

    // The dtype error names both types.
    std::fs::write(&path, npy_bytes(1, i4, &data)).unwrap();
    let reason = format_reason(Array::<f64>::from_npy(&path, &[1, 1]), &path);
    assert!(
        reason.contains("'<i4'") && reason.contains("f64"),
        "{reason}"
    );

    // A chunk shape of the wrong rank is a chunk error.
    assert!(matches!(
        Array::<i32>::from_npy(&path, &[1]),
        Err(ArrayError::BadChunks { .. })
    ));

    // A missing file is an I/O error naming it.
    let missing = dir.path("missing.npy");
    match Array::<i32>::from_npy(&missing, &[1]) {
        Err(ArrayError::File(FileError::Io { path, source })) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected FileError::Io, got {other:?}"),
    }
}

#[test]
fn write_failures_are_io_errors_naming_the_file() {
    let dir = TempDir::new("write-errors");
    let path = dir.path("no/such/dir/x.npy");
    let x = Array::<f64>::ones(&[10], &[3]).unwrap();
    match x.to_npy(&path) {
        Err(ArrayError::File(FileError::Io { path: p, source })) => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected FileError::Io, got {other:?}"),
    }
    // Deferred errors of the array come first.
    let bad = &x + &Array::<f64>::ones(&[4], &[2]).unwrap();
    assert!(matches!(
        bad.to_npy(dir.path("y.npy")),
        Err(ArrayError::ShapeMismatch { .. })
    ));
}

#[test]
fn schedulers_write_the_same_bytes() {
    let dir = TempDir::new("schedulers");
    let (a, b) = (dir.path("a.npy"), dir.path("b.npy"));
    let x = Array::<f64>::random_normal(&[97, 61], &[10, 7], 0.0, 1.0, 3).unwrap();
    x.to_npy_with(&a, &Scheduler::Sync).unwrap();
    x.to_npy_with(&b, &Scheduler::threads(3).unwrap()).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // Rewriting a file replaces it, including a longer one.
    Array::<f64>::zeros(&[1000], &[100])
        .unwrap()
        .to_npy(&a)
        .unwrap();
    x.to_npy(&a).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn file_to_file_through_an_expression() {
    let dir = TempDir::new("pipeline");
    let (src, dst) = (dir.path("src.npy"), dir.path("dst.npy"));
    let x = Array::<f64>::from_fn(&[40, 30], &[7, 30], |i| (i[0] * 30 + i[1]) as f64).unwrap();
    x.to_npy(&src).unwrap();
    let y = Array::<f64>::from_npy(&src, &[16, 8]).unwrap();
    ((&y * 2.0 + 1.0).sqrt()).to_npy(&dst).unwrap();
    let got = Array::<f64>::from_npy(&dst, &[0, 0])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(got, x.compute().unwrap().mapv(|v| (v * 2.0 + 1.0).sqrt()));
}

fn entries(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_array_read_from_a_file_can_be_written_back_to_it() {
    let dir = TempDir::new("in-place");
    let path = dir.path("a.npy");
    let x = Array::<i64>::from_fn(&[30, 20], &[7, 20], |i| (i[0] * 20 + i[1]) as i64).unwrap();
    x.to_npy(&path).unwrap();
    let y = Array::<i64>::from_npy(&path, &[8, 8]).unwrap();
    (&y * 3 + 1).to_npy(&path).unwrap();
    let got = Array::<i64>::from_npy(&path, &[0, 0])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(got, x.compute().unwrap().mapv(|v| v * 3 + 1));
    assert_eq!(
        entries(&dir),
        vec!["a.npy".to_string()],
        "no temporary file left"
    );
}

#[test]
fn a_failed_write_leaves_the_old_file_alone() {
    let dir = TempDir::new("failed");
    let path = dir.path("a.npy");
    let x = Array::<f64>::ones(&[12, 12], &[5, 5]).unwrap();
    x.to_npy(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // A block task that fails (its block has the wrong shape).
    let bad = x
        .map_blocks(|b, idx| {
            if idx == [2, 1] {
                ArrayD::zeros(IxDyn(&[1]))
            } else {
                b.clone()
            }
        })
        .unwrap();
    match bad.to_npy(&path) {
        Err(ArrayError::Compute(e)) => assert!(e.to_string().contains("map_blocks"), "{e}"),
        other => panic!("expected a compute error, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        entries(&dir),
        vec!["a.npy".to_string()],
        "no temporary file left"
    );
}

/// 200 MB of `f64` written from an expression and read back, block by block
/// both ways: the whole array is never in memory.
#[test]
fn a_200_mb_array_streams_through_a_file() {
    let dir = TempDir::new("large");
    let path = dir.path("large.npy");
    let (rows, cols) = (5000usize, 5000usize);
    let start = Instant::now();
    let x = Array::<f64>::zeros(&[rows, cols], &[500, 5000]).unwrap()
        + Array::<f64>::from_fn(&[rows, cols], &[500, 5000], move |i| {
            (i[0] * cols + i[1]) as f64
        })
        .unwrap();
    x.to_npy(&path).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert_eq!(len, 128 + (rows * cols * 8) as u64);
    let written = start.elapsed();

    // Read with other chunks (runs shorter than rows), check each block in
    // its own task, keep only the verdicts.
    let y = Array::<f64>::from_npy(&path, &[1250, 1000]).unwrap();
    let chunks = y.chunks().clone();
    let verdicts: Vec<_> = y
        .to_delayed()
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(flat, block)| {
            let off = chunks.block_offset(&chunks.unravel(flat));
            block.map("check", move |b: &ArrayD<f64>| {
                // Row by row over the raw slice: per-element multi-indices
                // would dominate the test's time in a debug build.
                let width = b.shape()[1];
                b.as_slice().is_some_and(|s| {
                    s.chunks(width).enumerate().all(|(r, row)| {
                        let first = (off[0] + r) * cols + off[1];
                        row.iter().zip(first..).all(|(&v, want)| v == want as f64)
                    })
                })
            })
        })
        .collect();
    let ok = compute_all_with(&verdicts, &Scheduler::current()).unwrap();
    assert_eq!(ok.len(), 20);
    assert!(
        ok.iter().all(|&b| b),
        "blocks that differ: {:?}",
        ok.iter().positions_false()
    );
    eprintln!(
        "200 MB: written in {written:?}, read and checked in {:?}",
        start.elapsed() - written
    );
}

trait PositionsFalse {
    fn positions_false(self) -> Vec<usize>;
}

impl<'a, I: Iterator<Item = &'a bool>> PositionsFalse for I {
    fn positions_false(self) -> Vec<usize> {
        self.enumerate()
            .filter(|(_, &b)| !b)
            .map(|(i, _)| i)
            .collect()
    }
}
