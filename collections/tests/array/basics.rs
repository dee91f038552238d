//! Elementwise operations, fusion and reductions against plain ndarray.

use dagwood_collections::array::{set_tile_elements, where_, Array, ArrayError, Complex64};
use dagwood_runtime::Scheduler;
use ndarray::{ArrayD, Axis, IxDyn, Zip};
use proptest::prelude::*;

/// A shape of 1–3 axes (lengths 0..9) with a chunk size per axis.
fn shape_and_chunks() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    proptest::collection::vec(0usize..9, 1..=3).prop_flat_map(|shape| {
        let chunks: Vec<_> = shape.iter().map(|&n| 1..=n.max(1)).collect();
        (Just(shape), chunks)
    })
}

fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s % 2001) as f64 - 1000.0) / 100.0
    })
}

fn ints(shape: &[usize], seed: u64) -> ArrayD<i64> {
    data(shape, seed).mapv(|v| (v * 3.0).round() as i64)
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && Zip::from(a).and(b).all(|&x, &y| {
            x == y
                || (x.is_nan() && y.is_nan())
                || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fused_expressions_match_ndarray((shape, chunk) in shape_and_chunks(), seed in any::<u64>(), tile in 1usize..40) {
        set_tile_elements(tile);
        let (a, b) = (data(&shape, seed), data(&shape, seed ^ 1));
        let (x, y) = (Array::from_array(&a, &chunk).unwrap(), Array::from_array(&b, &chunk).unwrap());
        let got = ((&x + &y) * 2.0 - &x / (y.abs() + 1.0)).mapv(|v: f64| v.tanh()).compute().unwrap();
        let want = (&a + &b).mapv(|v| v * 2.0) - &a / b.mapv(|v| v.abs() + 1.0);
        prop_assert!(close(&got, &want.mapv(f64::tanh)));
        // Comparisons, boolean logic and where_.
        let mask = x.greater(0.0) & !y.less_equal(&x) | x.equal(0.0);
        let got = where_(&mask, &x, -1.0).unwrap().compute().unwrap();
        let want = Zip::from(&a).and(&b).map_collect(|&p, &q| if (p > 0.0 && q > p) || p == 0.0 { p } else { -1.0 });
        prop_assert_eq!(got, want);
        set_tile_elements(0);
    }

    #[test]
    fn broadcasting_and_mixed_chunks((shape, chunk) in shape_and_chunks(), seed in any::<u64>(), other_chunk in 1usize..5) {
        let a = data(&shape, seed);
        // A row shaped like the last axis, and a column-like array with 1s elsewhere.
        let last = *shape.last().unwrap_or(&1);
        let row = data(&[last], seed ^ 7);
        let mut col_shape = vec![1; shape.len()];
        col_shape[0] = shape[0];
        let col = data(&col_shape, seed ^ 9);
        let x = Array::from_array(&a, &chunk).unwrap();
        let r = Array::from_array(&row, &[other_chunk]).unwrap();
        let c = Array::from_array(&col, &vec![other_chunk; shape.len()]).unwrap();
        let got = (&x * &r + &c).compute().unwrap();
        let want = &(&a * &row) + &col;
        prop_assert!(close(&got, &want));
        // Differently chunked operands of the same shape are rechunked.
        let x2 = Array::from_array(&a, &vec![other_chunk; shape.len()]).unwrap();
        prop_assert!(close(&(&x - &x2).compute().unwrap(), &ArrayD::zeros(IxDyn(&shape))));
    }

    #[test]
    fn reductions_match_ndarray((shape, chunk) in shape_and_chunks(), seed in any::<u64>(), split in 2usize..5) {
        let a = ints(&shape, seed);
        let f = a.mapv(|v| v as f64 / 7.0);
        let x = Array::from_array(&a, &chunk).unwrap();
        let xf = Array::from_array(&f, &chunk).unwrap();
        let r = x.split_every(split);
        prop_assert_eq!(r.sum().unwrap().compute().unwrap(), a.sum());
        prop_assert_eq!(x.count_nonzero().unwrap().compute().unwrap(), a.iter().filter(|&&v| v != 0).count());
        prop_assert_eq!(x.any().unwrap().compute().unwrap(), a.iter().any(|&v| v != 0));
        prop_assert_eq!(x.all().unwrap().compute().unwrap(), a.iter().all(|&v| v != 0));
        if !a.is_empty() {
            let min = *a.iter().min().unwrap();
            let max = *a.iter().max().unwrap();
            prop_assert_eq!(r.min().unwrap().compute().unwrap(), min);
            prop_assert_eq!(r.max().unwrap().compute().unwrap(), max);
            prop_assert_eq!(r.argmin().unwrap().compute().unwrap(), a.iter().position(|&v| v == min).unwrap());
            prop_assert_eq!(r.argmax().unwrap().compute().unwrap(), a.iter().position(|&v| v == max).unwrap());
            let mean = f.mean().unwrap();
            prop_assert!((xf.mean().unwrap().compute().unwrap() - mean).abs() < 1e-9);
            for ddof in [0.0, 1.0] {
                if (a.len() as f64) > ddof {
                    let var = f.var(ddof);
                    prop_assert!((xf.split_every(split).var(ddof).unwrap().compute().unwrap() - var).abs() < 1e-9 * (1.0 + var));
                    prop_assert!((xf.std(ddof).unwrap().compute().unwrap() - var.sqrt()).abs() < 1e-9 * (1.0 + var));
                }
            }
        } else {
            prop_assert!(x.min().unwrap().compute().is_err());
        }
        for (axis, &len) in shape.iter().enumerate() {
            prop_assert_eq!(r.sum_axis(axis).unwrap().compute().unwrap(), a.sum_axis(Axis(axis)));
            prop_assert_eq!(x.count_nonzero_axis(axis).unwrap().compute().unwrap(),
                a.map_axis(Axis(axis), |l| l.iter().filter(|&&v| v != 0).count() as i64));
            if len > 0 {
                prop_assert!(close(&xf.mean_axis(axis).unwrap().compute().unwrap(), &f.mean_axis(Axis(axis)).unwrap()));
                prop_assert!(close(&xf.var_axis(axis, 0.0).unwrap().compute().unwrap(), &f.var_axis(Axis(axis), 0.0)));
                prop_assert_eq!(r.min_axis(axis).unwrap().compute().unwrap(),
                    a.map_axis(Axis(axis), |l| *l.iter().min().unwrap()));
                prop_assert_eq!(r.argmax_axis(axis).unwrap().compute().unwrap(),
                    a.map_axis(Axis(axis), |l| {
                        let m = *l.iter().max().unwrap();
                        l.iter().position(|&v| v == m).unwrap() as i64
                    }));
            }
        }
    }
}

#[test]
fn fusion_makes_one_task_per_block() {
    let x = Array::<f64>::from_array(&data(&[40, 30], 1), &[10, 10]).unwrap(); // 12 blocks
    let chain = |x: &Array<f64>| ((x + 1.0) * 2.0).sqrt().ln();
    let fused = chain(&x);
    // 12 input blocks + 12 fused tasks.
    assert_eq!(fused.task_count().unwrap(), 24);
    let unfused = ((&x + 1.0).materialize().unwrap() * 2.0)
        .materialize()
        .unwrap()
        .sqrt()
        .materialize()
        .unwrap()
        .ln();
    assert_eq!(unfused.task_count().unwrap(), 12 * 5);
    assert!(close(
        &fused.compute().unwrap(),
        &unfused.compute().unwrap()
    ));
    // The reduction's per-block step runs inside the fused task: 12 inputs,
    // 12 block reductions, a tree of 2 + 1 merges and the finishing task.
    // (An array already cut into tasks, like `fused` above, is read from
    // those tasks instead, so computing both together shares the work.)
    let total = chain(&x).split_every(8).sum().unwrap();
    assert_eq!(
        dagwood_runtime::Plan::new(&total).task_count(),
        12 + 12 + 3 + 1
    );
}

#[test]
fn shared_subexpressions_are_evaluated_once_per_tile() {
    // z = z*z + c twenty times would be 2^20 evaluations without sharing.
    let c = Array::<f64>::linspace(-0.5, 0.25, 1000, 100)
        .unwrap()
        .to_complex();
    let mut z = c.clone();
    for _ in 0..20 {
        z = &z * &z + &c;
    }
    let out = z.norm_sqr().compute().unwrap();
    let cs = ndarray::Array1::linspace(-0.5, 0.25, 1000).mapv(|v| Complex64::new(v, 0.0));
    let mut zs = cs.clone();
    for _ in 0..20 {
        zs = &zs * &zs + &cs;
    }
    assert!(close(&out, &zs.mapv(|z| z.norm_sqr()).into_dyn()));
}

#[test]
fn shape_errors_are_deferred_from_operators_and_name_the_shapes() {
    let x = Array::<f64>::ones(&[3, 4], &[2, 2]).unwrap();
    let y = Array::<f64>::ones(&[5], &[2]).unwrap();
    let z = (&x + &y) * 2.0;
    let err = z.compute().unwrap_err();
    assert!(matches!(err, ArrayError::ShapeMismatch { .. }));
    assert_eq!(err.to_string(), "shape mismatch in add: [3, 4] vs [5]");
    assert!(z.check().is_err());
    assert!(z.sum().is_err());
    let err = x.sum_axis(2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "axis 2 is out of range for an array of 2 dimensions (shape [3, 4])"
    );
    let err = x.zip_with(&y, |a, b| a + b).unwrap_err();
    assert!(err.to_string().contains("[3, 4] vs [5]"));
    assert!(x.split_every(1).sum().is_err());
    assert!(Array::<f64>::ones(&[3], &[2, 2]).is_err());
}

#[test]
fn task_failures_name_the_block() {
    let x = Array::<f64>::ones(&[4, 4], &[2, 2]).unwrap();
    let y = x
        .map_blocks(|b, idx| {
            if idx == [1, 0] {
                panic!("bad block")
            } else {
                b.clone()
            }
        })
        .unwrap();
    let err = y.compute_with(&Scheduler::Sync).unwrap_err().to_string();
    assert!(
        err.contains("map_blocks") && err.contains(", 1, 0)") && err.contains("bad block"),
        "{err}"
    );
}

#[test]
fn complex_and_integer_elements() {
    let z = Array::from_fn(&[4, 3], &[2, 2], |i| {
        Complex64::new(i[0] as f64, i[1] as f64)
    })
    .unwrap();
    let got = (&z * &z.conj()).re().compute().unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| (i[0] * i[0] + i[1] * i[1]) as f64);
    assert_eq!(got, want);
    let n = Array::<i32>::arange(0, 10, 1, 3).unwrap();
    assert_eq!((&n * 2 + 1).sum().unwrap().compute().unwrap(), 100);
    assert_eq!(n.less(5).count_nonzero().unwrap().compute().unwrap(), 5);
    assert_eq!(
        (2.0 - Array::<f64>::ones(&[2], &[1]).unwrap())
            .compute()
            .unwrap()
            .sum(),
        2.0
    );
}

#[test]
fn persist_keeps_results() {
    let x = Array::<f64>::linspace(0.0, 1.0, 101, 10).unwrap();
    let y = (&x * 3.0).persist().unwrap();
    assert_eq!(y.task_count().unwrap(), 11);
    assert!((y.sum().unwrap().compute().unwrap() - 151.5).abs() < 1e-9);
    assert!(y.to_dot().unwrap().starts_with("digraph"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn unary_math_and_complex_ops_match_ndarray((shape, chunk) in shape_and_chunks(), seed in any::<u64>()) {
        let a = data(&shape, seed);
        let x = Array::from_array(&a, &chunk).unwrap();
        let pos = x.abs() + 0.5;
        let pa = a.mapv(|v| v.abs() + 0.5);
        let cases: Vec<(Array<f64>, ArrayD<f64>)> = vec![
            (pos.sqrt(), pa.mapv(f64::sqrt)),
            (pos.ln(), pa.mapv(f64::ln)),
            (pos.log10(), pa.mapv(f64::log10)),
            ((&x / 10.0).exp(), a.mapv(|v| (v / 10.0).exp())),
            (x.sin(), a.mapv(f64::sin)),
            (x.cos(), a.mapv(f64::cos)),
            (x.tan(), a.mapv(f64::tan)),
            (x.floor(), a.mapv(f64::floor)),
            (x.ceil(), a.mapv(f64::ceil)),
            (x.powi(3), a.mapv(|v| v.powi(3))),
            (pos.powf(1.5), pa.mapv(|v| v.powf(1.5))),
            (-&x, a.mapv(|v| -v)),
            (
                x.maximum(0.5).minimum(&pos),
                Zip::from(&a).and(&pa).map_collect(|&v, &p| v.max(0.5).min(p)),
            ),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            prop_assert!(close(&got.compute().unwrap(), &want), "case {}", i);
        }
        // Complex: z = x + i·(x/2).
        let z = x.zip_with(&x, |re, im| Complex64::new(re, im / 2.0)).unwrap();
        let za = a.mapv(|v| Complex64::new(v, v / 2.0));
        let w = (&z * &z + z.conj()).exp() / (z.norm().to_complex() + 1.0);
        let wa = ndarray::Zip::from(&za).map_collect(|&z| (z * z + z.conj()).exp() / Complex64::new(z.norm() + 1.0, 0.0));
        let got = w.compute().unwrap();
        prop_assert!(ndarray::Zip::from(&got).and(&wa).all(|g, e| (g - e).norm() <= 1e-9 * (1.0 + e.norm())));
        prop_assert!(close(&z.norm_sqr().compute().unwrap(), &za.mapv(|z| z.norm_sqr())));
        prop_assert!(close(&z.im().compute().unwrap(), &a.mapv(|v| v / 2.0)));
    }

    #[test]
    fn creation_functions_match_ndarray(n in 0usize..40, chunk in 1usize..9, start in -5i32..5, step in 1i32..4) {
        let got = Array::<i32>::arange(start, start + n as i32, step, chunk).unwrap().compute().unwrap();
        let want: Vec<i32> = (start..start + n as i32).step_by(step as usize).collect();
        prop_assert_eq!(got.as_slice().unwrap(), &want[..]);
        let got = Array::<f64>::linspace(-1.0, 2.0, n, chunk).unwrap().compute().unwrap();
        let want = ndarray::Array1::linspace(-1.0, 2.0, n).into_dyn();
        prop_assert!(close(&got, &want));
        let shape = [n % 7, n % 5 + 1];
        prop_assert_eq!(Array::<i64>::full(&shape, &[chunk, chunk], 7).unwrap().compute().unwrap(), ArrayD::from_elem(IxDyn(&shape), 7));
        prop_assert_eq!(Array::<bool>::zeros(&shape, &[chunk, 0]).unwrap().compute().unwrap(), ArrayD::from_elem(IxDyn(&shape), false));
        let f = Array::from_fn(&shape, &[chunk, chunk], |i| (i[0] * 100 + i[1]) as i64).unwrap();
        prop_assert_eq!(f.compute().unwrap(), ArrayD::from_shape_fn(IxDyn(&shape), |i| (i[0] * 100 + i[1]) as i64));
    }
}

#[test]
fn broadcasting_a_pending_generator_repeats_it() {
    // A same-rank (1, 4) generator broadcast over (3, 4) must repeat row 0,
    // not see the output's row indices.
    let row = Array::from_fn(&[1, 4], &[1, 2], |i| (i[0] * 10 + i[1]) as i64).unwrap();
    let grid = Array::<i64>::zeros(&[3, 4], &[2, 2]).unwrap();
    let got = (&grid + &row).compute().unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| i[1] as i64);
    assert_eq!(got, want);
    let col = Array::from_fn(&[3, 1], &[3, 1], |i| i[0] as i64).unwrap();
    assert_eq!(
        (&row + &col).compute().unwrap(),
        ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] + i[1]) as i64)
    );
}
