//! Compiled kernels (`kernel::vectorize`) against the tile interpreter
//! (`Array` operators) and plain ndarray, over random expressions, shapes,
//! broadcasts, chunkings and tile sizes.

use dagwood_collections::array::kernel::{self, vectorize, Lanes};
use dagwood_collections::array::{set_tile_elements, where_, Array, Complex64};
use ndarray::{ArrayD, IxDyn, Zip};
use proptest::prelude::*;

fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s % 2001) as f64 - 1000.0) / 100.0
    })
}

/// Equal, NaN equal to NaN (both paths compute the same formulas in the
/// same order, so they agree bit for bit).
fn same(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && Zip::from(a)
            .and(b)
            .all(|&x, &y| x == y || (x.is_nan() && y.is_nan()))
}

/// A random real expression over three inputs.
#[derive(Clone, Debug)]
enum E {
    In(usize),
    Const(f64),
    Add(Box<E>, Box<E>),
    Sub(Box<E>, Box<E>),
    Mul(Box<E>, Box<E>),
    Div(Box<E>, Box<E>),
    Neg(Box<E>),
    SqrtAbs(Box<E>),
    Max(Box<E>, Box<E>),
    Where(Box<E>, Box<E>, Box<E>),
}

fn expr() -> impl Strategy<Value = E> {
    let leaf = prop_oneof![
        (0usize..3).prop_map(E::In),
        (-4i32..5).prop_map(|c| E::Const(c as f64 * 0.75)),
    ];
    leaf.prop_recursive(4, 24, 3, |e| {
        prop_oneof![
            (e.clone(), e.clone()).prop_map(|(a, b)| E::Add(a.into(), b.into())),
            (e.clone(), e.clone()).prop_map(|(a, b)| E::Sub(a.into(), b.into())),
            (e.clone(), e.clone()).prop_map(|(a, b)| E::Mul(a.into(), b.into())),
            (e.clone(), e.clone()).prop_map(|(a, b)| E::Div(a.into(), b.into())),
            e.clone().prop_map(|a| E::Neg(a.into())),
            e.clone().prop_map(|a| E::SqrtAbs(a.into())),
            (e.clone(), e.clone()).prop_map(|(a, b)| E::Max(a.into(), b.into())),
            (e.clone(), e.clone(), e).prop_map(|(c, a, b)| E::Where(c.into(), a.into(), b.into())),
        ]
    })
}

/// The expression on plain values (the reference, applied through ndarray).
fn scalar(e: &E, x: [f64; 3]) -> f64 {
    match e {
        E::In(i) => x[*i],
        E::Const(c) => *c,
        E::Add(a, b) => scalar(a, x) + scalar(b, x),
        E::Sub(a, b) => scalar(a, x) - scalar(b, x),
        E::Mul(a, b) => scalar(a, x) * scalar(b, x),
        E::Div(a, b) => scalar(a, x) / scalar(b, x),
        E::Neg(a) => -scalar(a, x),
        E::SqrtAbs(a) => scalar(a, x).abs().sqrt(),
        E::Max(a, b) => {
            let (p, q) = (scalar(a, x), scalar(b, x));
            if q > p {
                q
            } else {
                p
            }
        }
        E::Where(c, a, b) => {
            if scalar(c, x) > 0.0 {
                scalar(a, x)
            } else {
                scalar(b, x)
            }
        }
    }
}

/// The expression on lanes (inside a compiled kernel).
fn lanes(e: &E, x: [Lanes<f64>; 3]) -> Lanes<f64> {
    match e {
        E::In(i) => x[*i],
        E::Const(c) => Lanes::splat(*c),
        E::Add(a, b) => lanes(a, x) + lanes(b, x),
        E::Sub(a, b) => lanes(a, x) - lanes(b, x),
        E::Mul(a, b) => lanes(a, x) * lanes(b, x),
        E::Div(a, b) => lanes(a, x) / lanes(b, x),
        E::Neg(a) => -lanes(a, x),
        E::SqrtAbs(a) => lanes(a, x).abs().sqrt(),
        E::Max(a, b) => lanes(a, x).maximum(lanes(b, x)),
        E::Where(c, a, b) => kernel::where_(lanes(c, x).greater(0.0), lanes(a, x), lanes(b, x)),
    }
}

/// The expression as `Array` operators (the tile interpreter).
fn arrays(e: &E, x: &[Array<f64>; 3]) -> Array<f64> {
    match e {
        E::In(i) => x[*i].clone(),
        // A constant broadcast from a 1-element array, like a NumPy scalar array.
        E::Const(c) => Array::full(&[1], &[1], *c).unwrap(),
        E::Add(a, b) => arrays(a, x) + arrays(b, x),
        E::Sub(a, b) => arrays(a, x) - arrays(b, x),
        E::Mul(a, b) => arrays(a, x) * arrays(b, x),
        E::Div(a, b) => arrays(a, x) / arrays(b, x),
        E::Neg(a) => -arrays(a, x),
        E::SqrtAbs(a) => arrays(a, x).abs().sqrt(),
        E::Max(a, b) => arrays(a, x).maximum(arrays(b, x)),
        E::Where(c, a, b) => {
            where_(&arrays(c, x).greater(0.0), arrays(a, x), arrays(b, x)).unwrap()
        }
    }
}

/// A shape of 1–3 axes and, per input, a broadcastable variant of it (some
/// axes set to 1, some leading axes dropped) with a chunk size per axis.
#[allow(clippy::type_complexity)]
fn shapes() -> impl Strategy<Value = (Vec<usize>, Vec<(Vec<usize>, Vec<usize>)>)> {
    proptest::collection::vec(0usize..11, 1..=3).prop_flat_map(|shape| {
        let nd = shape.len();
        let input = (
            proptest::collection::vec(any::<bool>(), nd),
            0..nd,
            proptest::collection::vec(1usize..12, nd),
        )
            .prop_map({
                let shape = shape.clone();
                move |(ones, drop, chunk)| {
                    let s: Vec<usize> = shape
                        .iter()
                        .zip(&ones)
                        .map(|(&n, &one)| if one { 1 } else { n })
                        .collect();
                    (s[drop..].to_vec(), chunk[drop..].to_vec())
                }
            });
        (Just(shape), proptest::collection::vec(input, 3))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn kernels_match_the_interpreter_and_ndarray(
        e in expr(),
        (shape, inputs) in shapes(),
        seed in any::<u64>(),
        tile in 1usize..50,
    ) {
        set_tile_elements(tile);
        // The first input has the full shape, so the output's shape is `shape`.
        let mut inputs = inputs;
        inputs[0].0 = shape.clone();
        inputs[0].1 = shape.iter().map(|&n| 1 + n / 2).collect();
        let nd: Vec<ArrayD<f64>> = inputs.iter().enumerate().map(|(k, (s, _))| data(s, seed ^ k as u64)).collect();
        let xs: [Array<f64>; 3] = std::array::from_fn(|k| Array::from_array(&nd[k], &inputs[k].1).unwrap());

        let e2 = e.clone();
        let compiled = vectorize((&xs[0], &xs[1], &xs[2]), move |(a, b, c)| lanes(&e2, [a, b, c]))
            .unwrap()
            .compute()
            .unwrap();
        let interpreted = arrays(&e, &xs).compute();
        let b1 = nd[1].broadcast(IxDyn(&shape)).unwrap();
        let b2 = nd[2].broadcast(IxDyn(&shape)).unwrap();
        let want = Zip::from(&nd[0]).and(&b1).and(&b2).map_collect(|&p, &q, &r| scalar(&e, [p, q, r]));
        set_tile_elements(0);
        prop_assert!(same(&compiled, &want), "compiled {compiled:?} vs ndarray {want:?}");
        // The interpreter's output may have broadcast up from constants only
        // when the expression reads no input: compare where shapes agree.
        if let Ok(got) = interpreted {
            if got.shape() == want.shape() {
                prop_assert!(same(&got, &want), "interpreted {got:?} vs ndarray {want:?}");
            }
        }
    }

    #[test]
    fn fractal_kernel_matches_interpreter_and_loop(
        rows in 1usize..40,
        cols in 1usize..40,
        chunk_r in 1usize..16,
        chunk_c in 1usize..16,
        tile in 1usize..64,
    ) {
        set_tile_elements(tile);
        let re = |j: usize| -1.5 + j as f64 * 1.5 / (cols.max(2) - 1) as f64;
        let im = |i: usize| -1.0 + i as f64 / (rows.max(2) - 1) as f64;
        let xr = ArrayD::from_shape_fn(IxDyn(&[1, cols]), |i| Complex64::new(re(i[1]), 0.0));
        let yi = ArrayD::from_shape_fn(IxDyn(&[rows, 1]), |i| Complex64::new(0.0, im(i[0])));
        let x = Array::from_array(&xr, &[1, chunk_c]).unwrap();
        let y = Array::from_array(&yi, &[chunk_r, 1]).unwrap();
        let compiled = vectorize((&x, &y), |(x, y)| {
            let c = x + y;
            let (mut z, mut out) = (c, Lanes::splat(0i32));
            for it in 0..20 {
                z = z * z + c;
                let d = z.norm_sqr().greater(4.0);
                out = kernel::where_(d & out.equal(0), it, out);
                z = kernel::where_(d, Complex64::new(2.0, 0.0), z);
            }
            out
        }).unwrap().compute().unwrap();
        let mut z = &x + &y;
        let c = z.clone();
        let mut out = Array::<i32>::zeros(&[rows, cols], &[chunk_r, chunk_c]).unwrap();
        for it in 0..20 {
            z = &z * &z + &c;
            let d = z.norm_sqr().greater(4.0);
            out = where_(&(&d & out.equal(0)), it, &out).unwrap();
            z = where_(&d, Complex64::new(2.0, 0.0), &z).unwrap();
        }
        let interpreted = out.compute().unwrap();
        set_tile_elements(0);
        let want = ArrayD::from_shape_fn(IxDyn(&[rows, cols]), |i| {
            let c = Complex64::new(re(i[1]), im(i[0]));
            let (mut z, mut out) = (c, 0);
            for it in 0..20 {
                z = z * z + c;
                let d = z.norm_sqr() > 4.0;
                if d && out == 0 { out = it; }
                if d { z = Complex64::new(2.0, 0.0); }
            }
            out
        });
        prop_assert_eq!(&compiled, &want);
        prop_assert_eq!(&interpreted, &want);
    }

    #[test]
    fn complex_lanes_match_num_complex(len in 0usize..30, chunk in 1usize..9, seed in any::<u64>()) {
        let re = data(&[len], seed);
        let im = data(&[len], seed ^ 5);
        let z: ArrayD<Complex64> = Zip::from(&re).and(&im).map_collect(|&r, &i| Complex64::new(r, i));
        let w: ArrayD<Complex64> = z.mapv(|v| v * 0.5 + Complex64::new(0.25, -1.0));
        let (a, b) = (Array::from_array(&z, &[chunk]).unwrap(), Array::from_array(&w, &[chunk]).unwrap());
        let got = vectorize((&a, &b), |(a, b)| {
            let s = (a * b - a / b + a * 2.0 - b / 3.0 + 1.5) * Complex64::new(0.0, 1.0);
            let t = kernel::where_(s.norm_sqr().greater(a.norm()), s.conj(), -s);
            (t + Lanes::from_parts(a.im(), b.re())).sqrt()
        }).unwrap().compute().unwrap();
        let want = Zip::from(&z).and(&w).map_collect(|&a, &b| {
            let s = (a * b - a / b + a * 2.0 - b / 3.0 + 1.5) * Complex64::new(0.0, 1.0);
            let t = if s.norm_sqr() > a.norm() { s.conj() } else { -s };
            (t + Complex64::new(a.im, b.re)).sqrt()
        });
        let bits = |v: &ArrayD<Complex64>| v.iter().map(|c| (c.re.to_bits(), c.im.to_bits())).collect::<Vec<_>>();
        prop_assert_eq!(bits(&got), bits(&want));
    }

    #[test]
    fn integer_kernels_and_padding(len in 1usize..40, chunk in 1usize..13, tile in 1usize..20, seed in any::<u64>()) {
        // Integer division by the input: the lanes past a tile's end repeat a
        // real element, never a zero, so no division by zero can panic.
        set_tile_elements(tile);
        let v = data(&[len], seed).mapv(|x| (x.abs() as i64).max(1));
        let x = Array::from_array(&v, &[chunk]).unwrap();
        let got = vectorize(&x, |x| 1000i64 / x + x % 7).unwrap().compute().unwrap();
        set_tile_elements(0);
        prop_assert_eq!(got, v.mapv(|x| 1000 / x + x % 7));
    }
}

#[test]
fn kernels_fuse_with_operators_and_reductions() {
    let a = data(&[30, 20], 3);
    let x = Array::from_array(&a, &[10, 10]).unwrap(); // 6 blocks
                                                       // A pending expression as input, the kernel's result feeding an operator
                                                       // and a reduction: all one task per block.
    let y = vectorize(&(&x * 2.0), |v| (v + 1.0).abs().sqrt()).unwrap() - 1.0;
    assert_eq!(y.task_count().unwrap(), 6 + 6);
    let want = a.mapv(|v| (v * 2.0 + 1.0).abs().sqrt() - 1.0);
    assert!(same(&y.compute().unwrap(), &want));
    let total = y.sum().unwrap().compute().unwrap();
    assert!((total - want.sum()).abs() < 1e-9);
}

#[test]
fn kernel_shape_errors_name_the_shapes() {
    let a = Array::<f64>::ones(&[4, 3], &[2, 2]).unwrap();
    let b = Array::<f64>::ones(&[4, 2], &[2, 2]).unwrap();
    let err = vectorize((&a, &b), |(a, b)| a + b).unwrap_err().to_string();
    assert!(err.contains("[4, 3]") && err.contains("[4, 2]"), "{err}");
    // A deferred operator error surfaces from vectorize.
    let bad = &a + &b;
    assert!(vectorize(&bad, |v| v * 2.0).is_err());
}

#[test]
fn mask_and_bool_kernels() {
    let a = data(&[50], 11);
    let x = Array::from_array(&a, &[7]).unwrap();
    let m = vectorize(&x, |v| v.greater(0.0) & !v.greater(5.0) | v.equal(0.0)).unwrap();
    let want = a.mapv(|v| (v > 0.0 && v <= 5.0) || v == 0.0);
    assert_eq!(m.compute().unwrap(), want);
    let n = vectorize((&x, &m), |(v, m)| {
        kernel::where_(m, v.map(|f| f.floor()), 0.0)
    })
    .unwrap();
    let want2 = Zip::from(&a)
        .and(&want)
        .map_collect(|&v, &m| if m { v.floor() } else { 0.0 });
    assert_eq!(n.compute().unwrap(), want2);
}
