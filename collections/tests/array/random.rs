//! Seeded random arrays: reproducibility, independence of blocks, and the
//! distributions' moments.

use dagwood_collections::array::{Array, ArrayError};
use dagwood_runtime::Scheduler;
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

fn mean_std(a: &ArrayD<f64>) -> (f64, f64) {
    let n = a.len() as f64;
    let mean = a.sum() / n;
    let var = a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The block at `idx` of `a`, cut by `x`'s chunks.
fn block_of<T: Clone>(
    a: &ArrayD<T>,
    x: &Array<impl dagwood_collections::array::Element>,
    idx: &[usize],
) -> ArrayD<T> {
    let (off, shape) = (x.chunks().block_offset(idx), x.chunks().block_shape(idx));
    let info: Vec<SliceInfoElem> = off
        .iter()
        .zip(&shape)
        .map(|(&o, &n)| SliceInfoElem::Slice {
            start: o as isize,
            end: Some((o + n) as isize),
            step: 1,
        })
        .collect();
    a.slice(info.as_slice()).to_owned()
}

#[test]
fn same_seed_same_array_whatever_the_scheduler() {
    let make = || Array::<f64>::random_normal(&[300, 200], &[64, 50], 0.0, 1.0, 123).unwrap();
    let x = make();
    let sync = x.compute_with(&Scheduler::Sync).unwrap();
    let threads = x.compute_with(&Scheduler::threads(3).unwrap()).unwrap();
    assert_eq!(sync, threads);
    // A separately built graph with the same parameters, on another scheduler.
    let again = make()
        .compute_with(&Scheduler::threads(2).unwrap())
        .unwrap();
    assert_eq!(sync, again);
    // Re-running one graph redraws the same values.
    assert_eq!(
        x.compute_with(&Scheduler::threads(3).unwrap()).unwrap(),
        sync
    );

    let u = || Array::<f32>::random_uniform(&[77, 33], &[10, 7], -3.0, 5.0, 9).unwrap();
    assert_eq!(
        u().compute_with(&Scheduler::Sync).unwrap(),
        u().compute_with(&Scheduler::threads(3).unwrap()).unwrap()
    );
}

#[test]
fn one_task_per_block() {
    let x = Array::<f64>::random_uniform(&[100, 30], &[25, 10], 0.0, 1.0, 1).unwrap();
    assert_eq!(x.num_blocks(), 12);
    assert_eq!(x.task_count().unwrap(), 12);
}

#[test]
fn different_seeds_differ() {
    let a = Array::<f64>::random_normal(&[50, 40], &[20, 20], 0.0, 1.0, 1)
        .unwrap()
        .compute()
        .unwrap();
    let b = Array::<f64>::random_normal(&[50, 40], &[20, 20], 0.0, 1.0, 2)
        .unwrap()
        .compute()
        .unwrap();
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert_eq!(same, 0, "seeds 1 and 2 share {same} values");

    let a = Array::<f64>::random_uniform(&[1000], &[100], 0.0, 1.0, 0)
        .unwrap()
        .compute()
        .unwrap();
    let b = Array::<f64>::random_uniform(&[1000], &[100], 0.0, 1.0, u64::MAX)
        .unwrap()
        .compute()
        .unwrap();
    assert_ne!(a, b);
}

#[test]
fn normal_moments_of_a_million_samples() {
    let (mean, std) = (3.0, 2.0);
    let x = Array::<f64>::random_normal(&[1000, 1000], &[250, 500], mean, std, 2024).unwrap();
    let a = x.compute().unwrap();
    let (m, s) = mean_std(&a);
    // Standard errors: std/sqrt(n) = 0.002 for the mean, about std/sqrt(2n) = 0.0014 for the std.
    assert!((m - mean).abs() < 0.01, "sample mean {m}");
    assert!((s - std).abs() < 0.01, "sample std {s}");
    // Tails: about 4.55% beyond two standard deviations.
    let beyond =
        a.iter().filter(|&&v| (v - mean).abs() > 2.0 * std).count() as f64 / a.len() as f64;
    assert!(
        (beyond - 0.0455).abs() < 0.002,
        "fraction beyond 2 std: {beyond}"
    );

    let x = Array::<f32>::random_normal(&[400, 500], &[100, 100], -1.0, 0.5, 5).unwrap();
    let a = x.compute().unwrap().mapv(f64::from);
    let (m, s) = mean_std(&a);
    assert!((m + 1.0).abs() < 0.01, "f32 sample mean {m}");
    assert!((s - 0.5).abs() < 0.01, "f32 sample std {s}");
}

#[test]
fn normal_with_zero_std_is_constant() {
    let a = Array::<f64>::random_normal(&[10, 10], &[3, 3], 4.5, 0.0, 3)
        .unwrap()
        .compute()
        .unwrap();
    assert!(a.iter().all(|&v| v == 4.5));
}

#[test]
fn uniform_stays_in_its_half_open_interval() {
    let (low, high) = (-2.5, 7.0);
    let a = Array::<f64>::random_uniform(&[500, 400], &[128, 128], low, high, 11)
        .unwrap()
        .compute()
        .unwrap();
    assert!(a.iter().all(|&v| (low..high).contains(&v)));
    let (m, s) = mean_std(&a);
    let width: f64 = high - low;
    assert!((m - (low + high) / 2.0).abs() < 0.03, "sample mean {m}");
    assert!((s - width / 12f64.sqrt()).abs() < 0.02, "sample std {s}");
    // Spread over the whole interval.
    let min = a.iter().copied().fold(f64::INFINITY, f64::min);
    let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(
        min < low + 0.01 && max > high - 0.01,
        "range [{min}, {max}]"
    );

    // A range only a few f32 steps wide: rounding to f32 would often give
    // `high`, which must never appear.
    let (low, high) = (1.0f32, 1.0f32 + 4.0 * f32::EPSILON);
    let a = Array::<f32>::random_uniform(&[20_000], &[3000], low, high, 4)
        .unwrap()
        .compute()
        .unwrap();
    assert!(a.iter().all(|&v| v >= low && v < high));
    let distinct: std::collections::BTreeSet<u32> = a.iter().map(|v| v.to_bits()).collect();
    assert_eq!(
        distinct.len(),
        4,
        "all four representable values below high appear"
    );
}

#[test]
fn blocks_differ_from_each_other() {
    let x = Array::<f64>::random_normal(&[100, 100], &[10, 10], 0.0, 1.0, 77).unwrap();
    let a = x.compute().unwrap();
    let blocks: Vec<ArrayD<f64>> = x
        .chunks()
        .indices()
        .map(|idx| block_of(&a, &x, &idx))
        .collect();
    assert_eq!(blocks.len(), 100);
    for i in 0..blocks.len() {
        for j in i + 1..blocks.len() {
            assert_ne!(blocks[i], blocks[j], "blocks {i} and {j} are equal");
        }
    }
    // No two blocks start with the same value either (streams are not shifted copies).
    let firsts: std::collections::BTreeSet<u64> =
        blocks.iter().map(|b| b[[0, 0]].to_bits()).collect();
    assert_eq!(firsts.len(), blocks.len());
}

#[test]
fn chunks_choose_the_streams() {
    // Same seed, other chunks: same distribution, other values (as in Dask).
    let a = Array::<f64>::random_uniform(&[100], &[10], 0.0, 1.0, 5)
        .unwrap()
        .compute()
        .unwrap();
    let b = Array::<f64>::random_uniform(&[100], &[20], 0.0, 1.0, 5)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(
        a.slice(ndarray::s![..10]),
        b.slice(ndarray::s![..10]),
        "block 0 has the same stream"
    );
    assert_ne!(a.slice(ndarray::s![10..20]), b.slice(ndarray::s![10..20]));
}

#[test]
fn shapes_without_elements_and_scalars() {
    let e = Array::<f64>::random_normal(&[0, 5], &[2, 2], 0.0, 1.0, 1)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(e.shape(), &[0, 5]);
    let s = Array::<f64>::random_uniform(&[], &[], 0.0, 1.0, 1)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(s.shape(), &[] as &[usize]);
    assert!((0.0..1.0).contains(&s[IxDyn(&[])]));
    let whole = Array::<f32>::random_uniform(&[7, 3], &[0, 0], 0.0, 1.0, 1).unwrap();
    assert_eq!(whole.num_blocks(), 1);
}

fn invalid_message<T>(r: Result<T, ArrayError>) -> String {
    match r {
        Err(ArrayError::Invalid(m)) => m,
        Err(e) => panic!("expected ArrayError::Invalid, got {e:?}"),
        Ok(_) => panic!("expected ArrayError::Invalid, got Ok"),
    }
}

#[test]
fn bad_parameters_are_named() {
    let m = invalid_message(Array::<f64>::random_normal(&[4], &[2], 0.0, -1.0, 0));
    assert!(m.contains("std = -1"), "{m}");
    let m = invalid_message(Array::<f64>::random_normal(&[4], &[2], f64::NAN, 1.0, 0));
    assert!(m.contains("mean = NaN"), "{m}");
    let m = invalid_message(Array::<f32>::random_normal(
        &[4],
        &[2],
        0.0,
        f32::INFINITY,
        0,
    ));
    assert!(m.contains("std = inf"), "{m}");
    let m = invalid_message(Array::<f64>::random_uniform(&[4], &[2], 2.0, 1.0, 0));
    assert!(m.contains("low = 2") && m.contains("high = 1"), "{m}");
    let m = invalid_message(Array::<f64>::random_uniform(&[4], &[2], 1.0, 1.0, 0));
    assert!(m.contains("low = 1") && m.contains("high = 1"), "{m}");
    let m = invalid_message(Array::<f64>::random_uniform(&[4], &[2], f64::NAN, 1.0, 0));
    assert!(m.contains("low = NaN"), "{m}");
    let m = invalid_message(Array::<f64>::random_uniform(
        &[4],
        &[2],
        -f64::MAX,
        f64::MAX,
        0,
    ));
    assert!(m.contains("finite width"), "{m}");
    // Bad chunks are the usual chunk error.
    assert!(matches!(
        Array::<f64>::random_normal(&[4, 4], &[2], 0.0, 1.0, 0),
        Err(ArrayError::BadChunks { .. })
    ));
}
