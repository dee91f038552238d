//! `Array::dot` against ndarray's `dot`, over shapes, ranks and chunkings
//! (ragged, one-element and mismatched inner chunks).

use std::collections::HashMap;

use dagwood_collections::array::{Array, ArrayError, Chunks, Complex64, Number};
use ndarray::{ArrayD, Ix1, Ix2, IxDyn};
use proptest::prelude::*;

/// An arbitrary partition of `len` into chunks (one empty chunk for length 0).
fn partition(len: usize) -> BoxedStrategy<Vec<usize>> {
    if len == 0 {
        return Just(vec![0]).boxed();
    }
    proptest::collection::vec(any::<bool>(), len - 1)
        .prop_map(move |cuts| {
            let mut sizes = Vec::new();
            let mut run = 1;
            for cut in cuts {
                if cut {
                    sizes.push(run);
                    run = 0;
                }
                run += 1;
            }
            sizes.push(run);
            sizes
        })
        .boxed()
}

/// An array of `data` cut into exactly `sizes` per axis.
fn chunked<T: Number>(data: &ArrayD<T>, sizes: Vec<Vec<usize>>) -> Array<T> {
    let whole: Vec<usize> = data.shape().to_vec();
    let x = Array::from_array(data, &whole).unwrap();
    x.rechunk_to(&Chunks::from_sizes(data.shape(), sizes).unwrap())
        .unwrap()
}

/// ndarray's product for operands of one or two dimensions.
fn dense_dot<T: Number + ndarray::LinalgScalar>(a: &ArrayD<T>, b: &ArrayD<T>) -> ArrayD<T> {
    match (a.ndim(), b.ndim()) {
        (2, 2) => {
            let (a, b) = (
                a.view().into_dimensionality::<Ix2>().unwrap(),
                b.view().into_dimensionality::<Ix2>().unwrap(),
            );
            a.dot(&b).into_dyn()
        }
        (2, 1) => {
            let (a, b) = (
                a.view().into_dimensionality::<Ix2>().unwrap(),
                b.view().into_dimensionality::<Ix1>().unwrap(),
            );
            a.dot(&b).into_dyn()
        }
        (1, 2) => {
            let (a, b) = (
                a.view().into_dimensionality::<Ix1>().unwrap(),
                b.view().into_dimensionality::<Ix2>().unwrap(),
            );
            a.dot(&b).into_dyn()
        }
        (1, 1) => {
            let (a, b) = (
                a.view().into_dimensionality::<Ix1>().unwrap(),
                b.view().into_dimensionality::<Ix1>().unwrap(),
            );
            ArrayD::from_elem(IxDyn(&[]), a.dot(&b))
        }
        other => panic!("no dense product for ranks {other:?}"),
    }
}

/// One random case: operand ranks, shapes, chunkings (A's column chunks and
/// B's row chunks drawn independently) and integer-valued data.
#[derive(Debug, Clone)]
struct Case {
    a_shape: Vec<usize>,
    b_shape: Vec<usize>,
    a_chunks: Vec<Vec<usize>>,
    b_chunks: Vec<Vec<usize>>,
    a_data: Vec<i64>,
    b_data: Vec<i64>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..8usize,
        0..8usize,
        0..8usize,
        any::<bool>(),
        any::<bool>(),
        0..6u8,
    )
        .prop_flat_map(|(m, k, n, a_vec, b_vec, _)| {
            let a_shape = if a_vec { vec![k] } else { vec![m, k] };
            let b_shape = if b_vec { vec![k] } else { vec![k, n] };
            let a_chunks: Vec<_> = a_shape.iter().map(|&l| partition(l)).collect();
            let b_chunks: Vec<_> = b_shape.iter().map(|&l| partition(l)).collect();
            let (la, lb) = (
                a_shape.iter().product::<usize>(),
                b_shape.iter().product::<usize>(),
            );
            (
                Just(a_shape),
                Just(b_shape),
                a_chunks,
                b_chunks,
                proptest::collection::vec(-20i64..20, la),
                proptest::collection::vec(-20i64..20, lb),
            )
        })
        .prop_map(
            |(a_shape, b_shape, a_chunks, b_chunks, a_data, b_data)| Case {
                a_shape,
                b_shape,
                a_chunks,
                b_chunks,
                a_data,
                b_data,
            },
        )
}

impl Case {
    fn operands<T: Number>(&self, f: impl Fn(i64) -> T) -> (ArrayD<T>, ArrayD<T>) {
        let a = ArrayD::from_shape_vec(
            IxDyn(&self.a_shape),
            self.a_data.iter().map(|&v| f(v)).collect(),
        )
        .unwrap();
        let b = ArrayD::from_shape_vec(
            IxDyn(&self.b_shape),
            self.b_data.iter().map(|&v| f(v)).collect(),
        )
        .unwrap();
        (a, b)
    }

    /// The blocked product next to ndarray's, after checking shape and chunks.
    fn run<T: Number + ndarray::LinalgScalar>(
        &self,
        f: impl Fn(i64) -> T,
    ) -> (ArrayD<T>, ArrayD<T>) {
        let (a, b) = self.operands(f);
        let x = chunked(&a, self.a_chunks.clone());
        let y = chunked(&b, self.b_chunks.clone());
        let z = x.dot(&y).unwrap();
        let expected = dense_dot(&a, &b);
        assert_eq!(z.shape(), expected.shape());
        // Rows chunked like A's rows, columns like B's columns.
        let mut want = Vec::new();
        if self.a_shape.len() == 2 {
            want.push(self.a_chunks[0].clone());
        }
        if self.b_shape.len() == 2 {
            want.push(self.b_chunks[1].clone());
        }
        assert_eq!(z.chunks().all(), want.as_slice());
        (z.compute().unwrap(), expected)
    }
}

/// Floating-point data: each integer plus a fraction, so sums really round.
fn frac(v: i64) -> f64 {
    v as f64 + (v as f64 * 0.37).sin()
}

fn close(got: &ArrayD<f64>, want: &ArrayD<f64>, scale: f64) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-12 * scale, "{g} vs {w}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn i64_matches_ndarray_exactly(c in case()) {
        let (got, want) = c.run(|v| v);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn f64_matches_ndarray(c in case()) {
        let (got, want) = c.run(frac);
        let k = c.b_shape[0] as f64;
        close(&got, &want, 1.0 + k * 25.0 * 25.0);
    }

    #[test]
    fn complex_matches_ndarray(c in case()) {
        let (got, want) = c.run(|v| Complex64::new(frac(v), frac(3 - v)));
        let k = c.b_shape[0] as f64;
        prop_assert_eq!(got.shape(), want.shape());
        for (g, w) in got.iter().zip(&want) {
            prop_assert!((g - w).norm() <= 1e-12 * (1.0 + k * 2.0 * 625.0), "{} vs {}", g, w);
        }
    }
}

#[test]
fn many_inner_blocks_sum_in_a_tree() {
    // 64 inner blocks: no task may take more than 8 inputs.
    let a = ArrayD::from_shape_fn(IxDyn(&[3, 64]), |i| (i[0] * 64 + i[1]) as i64 % 13 - 6);
    let b = ArrayD::from_shape_fn(IxDyn(&[64, 2]), |i| (i[0] * 2 + i[1]) as i64 % 7 - 3);
    let x = Array::from_array(&a, &[3, 1]).unwrap();
    let y = Array::from_array(&b, &[1, 2]).unwrap();
    let z = x.dot(&y).unwrap();
    assert_eq!(z.compute().unwrap(), dense_dot(&a, &b));

    let dot = z.to_dot().unwrap();
    let mut inputs: HashMap<&str, usize> = HashMap::new();
    for line in dot.lines() {
        if let Some((_, to)) = line.trim().trim_end_matches(';').split_once(" -> ") {
            *inputs.entry(to).or_default() += 1;
        }
    }
    let widest = inputs.values().copied().max().unwrap_or(0);
    // 64 partial products summed 8 at a time, then the 8 partial sums.
    assert_eq!(widest, 8, "widest task has {widest} inputs:\n{dot}");
}

#[test]
fn inner_chunks_of_b_follow_a() {
    let a = ArrayD::from_shape_fn(IxDyn(&[6, 10]), |i| (i[0] + i[1]) as f64);
    let b = ArrayD::from_shape_fn(IxDyn(&[10, 4]), |i| (i[0] * i[1]) as f64);
    let x = Array::from_array(&a, &[4, 3]).unwrap();
    let y = Array::from_array(&b, &[7, 3]).unwrap();
    let z = x.dot(&y).unwrap();
    assert_eq!(z.chunks().sizes(0), &[4, 2]);
    assert_eq!(z.chunks().sizes(1), &[3, 1]);
    assert_eq!(z.compute().unwrap(), dense_dot(&a, &b));
}

#[test]
fn fused_inputs_and_chained_products() {
    let x = Array::from_fn(&[5, 4], &[2, 3], |i| (i[0] as f64) - (i[1] as f64)).unwrap();
    let y = (&x * 2.0 + 1.0).mapv(|v| v * v);
    let xt = Array::from_fn(&[4, 5], &[3, 2], |i| (i[1] as f64) - (i[0] as f64)).unwrap();
    // (y · xtᵀ-ish) · x: a product feeding another product.
    let z = y.dot(&xt).unwrap().dot(&x).unwrap();
    let (yd, xtd, xd) = (
        y.compute().unwrap(),
        xt.compute().unwrap(),
        x.compute().unwrap(),
    );
    let want = dense_dot(&dense_dot(&yd, &xtd), &xd);
    close(&z.compute().unwrap(), &want, 1e4);
}

#[test]
fn inner_product_of_vectors_is_zero_dimensional() {
    let v = Array::<i64>::arange(0, 10, 1, 3).unwrap();
    let w = Array::<i64>::arange(0, 10, 1, 4).unwrap();
    let d = v.dot(&w).unwrap();
    assert_eq!(d.shape(), &[] as &[usize]);
    assert_eq!(
        d.compute().unwrap()[IxDyn(&[])],
        (0..10).map(|i| i * i).sum::<i64>()
    );
}

#[test]
fn empty_inner_axis_gives_zeros() {
    let x = Array::<f64>::ones(&[3, 0], &[2, 0]).unwrap();
    let y = Array::<f64>::ones(&[0, 4], &[0, 3]).unwrap();
    let z = x.dot(&y).unwrap();
    assert_eq!(z.compute().unwrap(), ArrayD::<f64>::zeros(IxDyn(&[3, 4])));
}

#[test]
fn shapes_that_do_not_contract_name_both() {
    let x = Array::<f64>::ones(&[3, 4], &[2, 2]).unwrap();
    let y = Array::<f64>::ones(&[5, 2], &[2, 2]).unwrap();
    match x.dot(&y) {
        Err(ArrayError::ShapeMismatch { op, left, right }) => {
            assert_eq!(op, "dot");
            assert_eq!(left, vec![3, 4]);
            assert_eq!(right, vec![5, 2]);
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    let v = Array::<f64>::ones(&[3], &[2]).unwrap();
    let err = x.dot(&v).unwrap_err().to_string();
    assert!(err.contains("[3, 4]") && err.contains("[3]"), "{err}");
}

#[test]
fn other_ranks_are_refused_naming_the_shape() {
    let x = Array::<f64>::ones(&[2, 3, 4], &[1, 3, 4]).unwrap();
    let y = Array::<f64>::ones(&[4, 2], &[2, 2]).unwrap();
    let err = x.dot(&y).unwrap_err();
    assert!(matches!(err, ArrayError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("[2, 3, 4]"), "{err}");
    let err = y.dot(&x).unwrap_err().to_string();
    assert!(err.contains("[2, 3, 4]"), "{err}");
}

#[test]
fn a_deferred_operator_error_surfaces() {
    let x = Array::<f64>::ones(&[3, 4], &[2, 2]).unwrap();
    let bad = &x + &Array::<f64>::ones(&[5], &[5]).unwrap();
    assert!(matches!(bad.dot(&x), Err(ArrayError::ShapeMismatch { .. })));
    assert!(matches!(x.dot(&bad), Err(ArrayError::ShapeMismatch { .. })));
}
