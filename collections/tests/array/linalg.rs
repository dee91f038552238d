//! TSQR and the SVD built on it, against the defining identities and dense
//! nalgebra factorisations of the same matrices.

use std::collections::HashMap;

use dagwood_collections::array::{linalg, Array, ArrayError, Chunks};
use nalgebra::DMatrix;
use ndarray::{Array2, Ix1, Ix2};
use proptest::prelude::*;

/// Deterministic pseudo-random entries in [-1, 1) (xorshift), so the
/// matrices have full rank and distinct singular values.
fn random(m: usize, n: usize, seed: u64) -> Array2<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_simple_fn((m, n), || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}

fn blocked(a: &Array2<f64>, rows: Vec<usize>) -> Array<f64> {
    let x = Array::from_array(a, &[a.nrows(), a.ncols()]).unwrap();
    let chunks = Chunks::from_sizes(a.shape(), vec![rows, vec![a.ncols()]]).unwrap();
    x.rechunk_to(&chunks).unwrap()
}

fn two_d(x: &Array<f64>) -> Array2<f64> {
    x.compute().unwrap().into_dimensionality::<Ix2>().unwrap()
}

fn max_abs(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Asserts ‖got − want‖_max ≤ tol · max(1, ‖want‖_max).
fn assert_close(got: &Array2<f64>, want: &Array2<f64>, tol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    let scale = max_abs(want).max(1.0);
    let err = max_abs(&(got - want));
    assert!(
        err <= tol * scale,
        "{what}: error {err:e} over scale {scale}"
    );
}

fn assert_orthonormal(q: &Array2<f64>, what: &str) {
    let n = q.ncols();
    assert_close(&q.t().dot(q), &Array2::eye(n), 1e-9, what);
}

fn to_dmatrix(a: &Array2<f64>) -> DMatrix<f64> {
    DMatrix::from_row_iterator(a.nrows(), a.ncols(), a.iter().copied())
}

/// Checks TSQR of `a` in row chunks `rows`, against the identities and a
/// dense QR with R's diagonal made non-negative.
fn check_tsqr(a: &Array2<f64>, rows: Vec<usize>) {
    let x = blocked(a, rows);
    let (q, r) = linalg::tsqr(&x).unwrap();
    assert_eq!(q.chunks(), x.chunks());
    assert_eq!(r.shape(), &[a.ncols(), a.ncols()]);
    // Q·R through the blocked product as well as densely.
    let qr_blocked = two_d(&q.dot(&r).unwrap());
    let (qd, rd) = (two_d(&q), two_d(&r));
    assert_orthonormal(&qd, "QᵀQ = I");
    assert_close(&qd.dot(&rd), a, 1e-9, "Q·R = A");
    assert_close(&qr_blocked, a, 1e-9, "blocked Q·R = A");
    for ((i, j), &v) in rd.indexed_iter() {
        if i > j {
            assert_eq!(v, 0.0, "R[{i}, {j}] below the diagonal");
        }
        if i == j {
            assert!(v >= 0.0, "R[{i}, {i}] = {v} is negative");
        }
    }
    let dense = to_dmatrix(a).qr().r();
    let signs: Vec<f64> = (0..a.ncols())
        .map(|k| if dense[(k, k)] < 0.0 { -1.0 } else { 1.0 })
        .collect();
    let dense_r = Array2::from_shape_fn(rd.dim(), |(i, j)| signs[i] * dense[(i, j)]);
    assert_close(&rd, &dense_r, 1e-9, "R = dense R");
}

/// The test's own copy of `svd`'s sign rule: the largest-magnitude entry of
/// each right singular vector positive.
fn normalised_dense_svd(a: &Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let svd = to_dmatrix(a).svd(false, true);
    let vt = svd.v_t.unwrap();
    let n = a.ncols();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| svd.singular_values[j].total_cmp(&svd.singular_values[i]));
    let s = order.iter().map(|&k| svd.singular_values[k]).collect();
    let vt = Array2::from_shape_fn((n, n), |(k, j)| {
        let row = vt.row(order[k]);
        let big = row
            .iter()
            .fold(0.0f64, |m: f64, &v| if v.abs() > m.abs() { v } else { m });
        big.signum() * row[j]
    });
    (s, vt)
}

fn check_svd(a: &Array2<f64>, rows: Vec<usize>) {
    let x = blocked(a, rows);
    let (u, s, vt) = linalg::svd(&x).unwrap();
    let n = a.ncols();
    assert_eq!(u.chunks(), x.chunks());
    assert_eq!((s.shape(), vt.shape()), (&[n][..], &[n, n][..]));
    let (ud, vtd) = (two_d(&u), two_d(&vt));
    let sd = s.compute().unwrap().into_dimensionality::<Ix1>().unwrap();
    assert!(
        sd.windows(2).into_iter().all(|w| w[0] >= w[1]),
        "not descending: {sd}"
    );
    assert_orthonormal(&ud, "UᵀU = I");
    assert_orthonormal(&vtd.t().to_owned(), "Vt Vtᵀ = I");
    let rebuilt = (&ud * &sd.view().insert_axis(ndarray::Axis(0))).dot(&vtd);
    assert_close(&rebuilt, a, 1e-9, "U·diag(S)·Vt = A");

    let (dense_s, dense_vt) = normalised_dense_svd(a);
    let top = dense_s[0].max(1.0);
    for (k, (&got, want)) in sd.iter().zip(&dense_s).enumerate() {
        assert!(
            (got - want).abs() <= 1e-9 * top,
            "S[{k}] = {got} vs dense {want}"
        );
    }
    assert_close(&vtd, &dense_vt, 1e-8, "Vt = dense Vt (same sign rule)");
}

fn regular(m: usize, chunk: usize) -> Vec<usize> {
    let mut v = vec![chunk; m / chunk];
    if !m.is_multiple_of(chunk) {
        v.push(m % chunk);
    }
    v
}

#[test]
fn tsqr_1000x5_in_chunks_of_100() {
    check_tsqr(&random(1000, 5, 1), regular(1000, 100));
}

#[test]
fn tsqr_257x3_ragged() {
    check_tsqr(&random(257, 3, 2), regular(257, 100));
}

#[test]
fn tsqr_64x64_single_block() {
    check_tsqr(&random(64, 64, 3), vec![64]);
}

#[test]
fn tsqr_several_tree_levels() {
    // 250 row blocks: levels of 32, 4 and 1 above the leaves.
    check_tsqr(&random(2000, 4, 4), regular(2000, 8));
}

#[test]
fn tsqr_irregular_and_minimal_blocks() {
    // Blocks exactly as tall as the matrix is wide, mixed with others.
    check_tsqr(&random(40, 3, 5), vec![3, 7, 3, 3, 11, 4, 3, 6]);
    check_tsqr(&random(9, 1, 6), vec![1; 9]);
}

#[test]
fn tsqr_tree_tasks_take_at_most_eight_inputs() {
    let x = blocked(&random(800, 2, 7), regular(800, 10));
    let (q, r) = linalg::tsqr(&x).unwrap();
    for dot in [q.to_dot().unwrap(), r.to_dot().unwrap()] {
        let mut inputs: HashMap<&str, usize> = HashMap::new();
        for line in dot.lines() {
            if let Some((_, to)) = line.trim().trim_end_matches(';').split_once(" -> ") {
                *inputs.entry(to).or_default() += 1;
            }
        }
        assert!(
            inputs.values().all(|&k| k <= 8),
            "a task has more than 8 inputs"
        );
    }
}

#[test]
fn tsqr_of_fused_expression() {
    let x = Array::from_fn(&[120, 4], &[30, 4], |i| {
        ((i[0] * 31 + i[1] * 17) % 23) as f64
    })
    .unwrap();
    let y = (&x * 0.5 - 1.0).mapv(|v| v * v);
    let (q, r) = linalg::tsqr(&y).unwrap();
    assert_close(&two_d(&q).dot(&two_d(&r)), &two_d(&y), 1e-9, "Q·R = A");
}

#[test]
fn svd_1000x5_in_chunks_of_100() {
    check_svd(&random(1000, 5, 11), regular(1000, 100));
}

#[test]
fn svd_257x3_ragged() {
    check_svd(&random(257, 3, 12), regular(257, 100));
}

#[test]
fn svd_64x64_single_block() {
    check_svd(&random(64, 64, 13), vec![64]);
}

#[test]
fn svd_several_tree_levels_and_one_column() {
    check_svd(&random(2000, 4, 14), regular(2000, 8));
    check_svd(&random(30, 1, 15), regular(30, 4));
}

#[test]
fn svd_of_rank_deficient_matrix() {
    // Rank 1: an outer product.
    let u = random(200, 1, 16);
    let v = random(1, 4, 17);
    let a = u.dot(&v);
    let x = blocked(&a, regular(200, 50));
    let (uu, s, vt) = linalg::svd(&x).unwrap();
    let s = s.compute().unwrap();
    assert!(s[1] <= 1e-10 * s[0], "S = {s}");
    let (ud, vtd) = (two_d(&uu), two_d(&vt));
    assert_orthonormal(&ud, "UᵀU = I");
    let sd = s.into_dimensionality::<Ix1>().unwrap();
    let rebuilt = (&ud * &sd.view().insert_axis(ndarray::Axis(0))).dot(&vtd);
    assert_close(&rebuilt, &a, 1e-9, "U·diag(S)·Vt = A");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn tsqr_and_svd_over_random_chunkings(
        n in 1..6usize,
        extra in 0..60usize,
        cuts in proptest::collection::vec(any::<bool>(), 80),
        seed in any::<u64>(),
    ) {
        let m = n + extra;
        // Chunks of at least n rows: cut wherever asked once a block is n tall.
        let mut rows = Vec::new();
        let mut run = 0;
        for i in 0..m {
            run += 1;
            if run >= n && cuts[i % cuts.len()] && m - (i + 1) >= n {
                rows.push(run);
                run = 0;
            }
        }
        rows.push(run);
        let a = random(m, n, seed);
        check_tsqr(&a, rows.clone());
        check_svd(&a, rows);
    }
}

fn bad_chunks_reason(err: ArrayError) -> String {
    match err {
        ArrayError::BadChunks { shape, reason } => format!("{shape:?}: {reason}"),
        other => panic!("expected BadChunks, got {other:?}"),
    }
}

#[test]
fn more_than_one_column_chunk_is_refused() {
    let x = Array::<f64>::ones(&[100, 6], &[20, 3]).unwrap();
    let msg = bad_chunks_reason(linalg::tsqr(&x).unwrap_err());
    assert!(
        msg.contains("[100, 6]") && msg.contains("[3, 3]") && msg.contains("rechunk"),
        "{msg}"
    );
    assert!(matches!(linalg::svd(&x), Err(ArrayError::BadChunks { .. })));
    // The advice works.
    assert!(linalg::tsqr(&x.rechunk(&[20, 0]).unwrap()).is_ok());
}

#[test]
fn a_row_block_shorter_than_the_width_is_refused_with_advice() {
    // 101 rows in chunks of 50: the last block has 1 row, fewer than 3 columns.
    let x = Array::<f64>::ones(&[101, 3], &[50, 3]).unwrap();
    let msg = bad_chunks_reason(linalg::tsqr(&x).unwrap_err());
    assert!(
        msg.contains("[101, 3]") && msg.contains("[50, 50, 1]"),
        "{msg}"
    );
    assert!(msg.contains("row block 2 has 1"), "{msg}");
    assert!(
        msg.contains("[50, 51]"),
        "suggests merging the short block: {msg}"
    );
    let fixed = x
        .rechunk_to(&Chunks::from_sizes(&[101, 3], vec![vec![50, 51], vec![3]]).unwrap())
        .unwrap();
    assert!(linalg::svd(&fixed).is_ok());

    // A short block in the middle, where a regular chunking does.
    let y = blocked(&random(100, 6, 8), vec![50, 2, 48]);
    let msg = bad_chunks_reason(linalg::svd(&y).unwrap_err());
    assert!(
        msg.contains("row block 1 has 2") && msg.contains("a.rechunk(&[50, 0])"),
        "{msg}"
    );
    assert!(linalg::svd(&y.rechunk(&[50, 0]).unwrap()).is_ok());

    // Many small blocks: the advice is summarised rather than listed.
    let z = Array::<f64>::ones(&[1000, 6], &[2, 6]).unwrap();
    let msg = bad_chunks_reason(linalg::tsqr(&z).unwrap_err());
    assert!(
        msg.contains("(500 chunks)") && msg.contains("165 blocks of 6 then one of 10"),
        "{msg}"
    );
}

#[test]
fn wrong_ranks_and_shapes_are_refused_naming_the_shape() {
    let v = Array::<f64>::ones(&[10], &[5]).unwrap();
    let err = linalg::tsqr(&v).unwrap_err().to_string();
    assert!(err.contains("2-D") && err.contains("[10]"), "{err}");
    let c = Array::<f64>::ones(&[4, 3, 2], &[2, 3, 2]).unwrap();
    assert!(linalg::svd(&c)
        .unwrap_err()
        .to_string()
        .contains("[4, 3, 2]"));
    let wide = Array::<f64>::ones(&[3, 5], &[3, 5]).unwrap();
    let err = linalg::tsqr(&wide).unwrap_err().to_string();
    assert!(err.contains("tall") && err.contains("[3, 5]"), "{err}");
    let empty = Array::<f64>::ones(&[0, 3], &[0, 3]).unwrap();
    assert!(linalg::tsqr(&empty)
        .unwrap_err()
        .to_string()
        .contains("[0, 3]"));
    let no_cols = Array::<f64>::ones(&[4, 0], &[2, 0]).unwrap();
    assert!(linalg::svd(&no_cols)
        .unwrap_err()
        .to_string()
        .contains("[4, 0]"));
}

#[test]
fn deferred_operator_errors_surface() {
    let x = Array::<f64>::ones(&[10, 2], &[5, 2]).unwrap();
    let bad = &x + &Array::<f64>::ones(&[3], &[3]).unwrap();
    assert!(matches!(
        linalg::tsqr(&bad),
        Err(ArrayError::ShapeMismatch { .. })
    ));
}

#[test]
fn non_finite_input_fails_svd_at_compute_without_panicking() {
    let mut a = random(50, 3, 21);
    a[[7, 1]] = f64::NAN;
    let x = blocked(&a, regular(50, 10));
    let (_, s, _) = linalg::svd(&x).unwrap();
    let err = s.compute().unwrap_err().to_string();
    assert!(err.contains("NaN"), "{err}");
    // TSQR itself just propagates the NaN.
    let (_, r) = linalg::tsqr(&x).unwrap();
    let r = r.compute().unwrap();
    assert!(r.iter().any(|v| v.is_nan()));
}
