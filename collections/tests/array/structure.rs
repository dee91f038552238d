//! Transposing, slicing, concatenating and stacking, against plain ndarray.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use dagwood_collections::array::{concatenate, stack, Array, ArrayError, Chunks};
use dagwood_runtime::delayed;
use ndarray::{s, ArrayD, Axis, IxDyn, SliceInfoElem};
use proptest::prelude::*;

const FULL: SliceInfoElem = SliceInfoElem::Slice {
    start: 0,
    end: None,
    step: 1,
};

/// An array to build: its shape, chunk sizes per axis, and whether to make it
/// as a pending fused expression (`from_fn`, regular chunks) or from literal blocks.
#[derive(Clone, Debug)]
struct Spec {
    shape: Vec<usize>,
    sizes: Vec<Vec<usize>>,
    lazy: bool,
}

fn regular(n: usize, c: usize) -> Vec<usize> {
    Chunks::regular(&[n], &[c]).unwrap().sizes(0).to_vec()
}

/// Chunk sizes cutting `n` after each position whose flag is set.
fn cut(n: usize, cuts: &[bool]) -> Vec<usize> {
    if n == 0 {
        return vec![0];
    }
    let mut sizes = vec![1];
    for &c in cuts {
        if c {
            sizes.push(1);
        } else if let Some(last) = sizes.last_mut() {
            *last += 1;
        }
    }
    sizes
}

/// Regular chunks (ragged last one), 1-element chunks, or arbitrary cuts.
fn chunking(n: usize) -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        (1..=n.max(1)).prop_map(move |c| regular(n, c)),
        Just(regular(n, 1)),
        proptest::collection::vec(any::<bool>(), n.saturating_sub(1))
            .prop_map(move |cuts| cut(n, &cuts)),
    ]
}

fn spec_for(shape: Vec<usize>) -> impl Strategy<Value = Spec> {
    let per_axis: Vec<_> = shape.iter().map(|&n| chunking(n)).collect();
    (Just(shape), per_axis, any::<bool>()).prop_map(|(shape, sizes, lazy)| Spec {
        shape,
        sizes,
        lazy,
    })
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..12, 1..=3)
}

fn spec() -> impl Strategy<Value = Spec> {
    shape().prop_flat_map(spec_for)
}

/// Distinct values, so that any misplaced element shows.
fn data(shape: &[usize], base: i64) -> ArrayD<i64> {
    let mut next = base;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        next += 1;
        next
    })
}

fn build(spec: &Spec, a: &ArrayD<i64>) -> Array<i64> {
    if spec.lazy {
        let chunk: Vec<usize> = spec.sizes.iter().map(|s| s[0]).collect();
        let a = Arc::new(a.clone());
        return Array::from_fn(&spec.shape, &chunk, move |i| a[i]).unwrap();
    }
    let chunks = Chunks::from_sizes(&spec.shape, spec.sizes.clone()).unwrap();
    let blocks = chunks
        .indices()
        .map(|idx| {
            let (off, shape) = (chunks.block_offset(&idx), chunks.block_shape(&idx));
            let info: Vec<SliceInfoElem> = off
                .iter()
                .zip(&shape)
                .map(|(&o, &n)| SliceInfoElem::from(o..o + n))
                .collect();
            delayed(a.slice(info.as_slice()).to_owned())
        })
        .collect();
    Array::from_blocks(&spec.shape, chunks, blocks).unwrap()
}

/// The result's chunks must be a valid partition (no empty chunk on a non-empty axis).
fn assert_valid_chunks(x: &Array<i64>) {
    assert!(
        Chunks::from_sizes(x.shape(), x.chunks().all().to_vec()).is_ok(),
        "{x:?}"
    );
}

/// An in-range slice element for an axis of length `n`.
fn elem(n: usize) -> BoxedStrategy<SliceInfoElem> {
    let n = n as isize;
    let range = (
        -n..=n,
        prop::option::of(-n..=n),
        prop_oneof![-4isize..=-1, 1isize..=4],
    )
        .prop_map(|(start, end, step)| SliceInfoElem::Slice { start, end, step });
    if n == 0 {
        prop_oneof![Just(FULL), range].boxed()
    } else {
        prop_oneof![
            Just(FULL),
            (-n..n).prop_map(SliceInfoElem::Index),
            range.clone(),
            range
        ]
        .boxed()
    }
}

/// Any slice element: bounds and indices far out of range, zero and extreme steps.
fn wild_elem(n: usize) -> BoxedStrategy<SliceInfoElem> {
    let w = 2 * n as isize + 2;
    let big = prop_oneof![-w..=w, Just(isize::MIN), Just(isize::MAX)];
    let step = prop_oneof![-5isize..=5, Just(isize::MIN), Just(isize::MAX)];
    prop_oneof![
        Just(FULL),
        Just(SliceInfoElem::NewAxis),
        big.clone().prop_map(SliceInfoElem::Index),
        (big.clone(), prop::option::of(big), step)
            .prop_map(|(start, end, step)| SliceInfoElem::Slice { start, end, step }),
    ]
    .boxed()
}

/// A slice with one element per axis (some left out at the end) and a few `NewAxis`.
fn slice_for(shape: &[usize]) -> impl Strategy<Value = Vec<SliceInfoElem>> {
    let elems: Vec<_> = shape.iter().map(|&n| elem(n)).collect();
    let nd = shape.len();
    (elems, 0..=nd, proptest::collection::vec(0u8..5, nd + 1)).prop_map(|(mut elems, keep, new)| {
        elems.truncate(keep);
        for (at, &flag) in new.iter().enumerate().rev() {
            if flag == 0 && at <= elems.len() {
                elems.insert(at, SliceInfoElem::NewAxis);
            }
        }
        elems
    })
}

/// ndarray needs every axis named; ours takes the missing trailing ones whole.
fn padded(info: &[SliceInfoElem], ndim: usize) -> Vec<SliceInfoElem> {
    let used = info.iter().filter(|e| !e.is_new_axis()).count();
    let mut out = info.to_vec();
    out.extend(std::iter::repeat_n(FULL, ndim.saturating_sub(used)));
    out
}

fn permutation() -> impl Strategy<Value = (Spec, Vec<usize>)> {
    spec().prop_flat_map(|s| {
        let axes: Vec<usize> = (0..s.shape.len()).collect();
        (Just(s), Just(axes).prop_shuffle())
    })
}

/// Inputs to concatenate along `axis`: equal shapes except on the axis, each chunked its own way.
fn concat_inputs() -> impl Strategy<Value = (usize, Vec<Spec>)> {
    shape()
        .prop_flat_map(|base| {
            let nd = base.len();
            (
                Just(base),
                0..nd,
                proptest::collection::vec(0usize..6, 1..=3),
            )
        })
        .prop_flat_map(|(base, axis, lens)| {
            let specs: Vec<_> = lens
                .iter()
                .map(|&l| {
                    let mut s = base.clone();
                    s[axis] = l;
                    spec_for(s)
                })
                .collect();
            (Just(axis), specs)
        })
}

/// Inputs to stack along `axis`: one shape, each chunked its own way.
fn stack_inputs() -> impl Strategy<Value = (usize, Vec<Spec>)> {
    (shape(), 1usize..=3).prop_flat_map(|(base, k)| {
        let nd = base.len();
        let specs: Vec<_> = (0..k).map(|_| spec_for(base.clone())).collect();
        (0..=nd, specs)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn slices_match_ndarray((spec, info) in spec().prop_flat_map(|s| {
        let info = slice_for(&s.shape);
        (Just(s), info)
    })) {
        let a = data(&spec.shape, 0);
        let x = build(&spec, &a);
        let y = x.slice(info.as_slice()).unwrap();
        let want = a.slice(padded(&info, a.ndim()).as_slice()).to_owned();
        prop_assert_eq!(y.shape(), want.shape());
        assert_valid_chunks(&y);
        prop_assert_eq!(y.compute().unwrap(), want);
    }

    #[test]
    fn wild_slices_fail_exactly_when_ndarray_panics(
        (spec, info) in spec().prop_flat_map(|s| {
            let elems: Vec<_> = s.shape.iter().map(|&n| wild_elem(n)).collect();
            let extra = proptest::collection::vec(wild_elem(3), 0..=1);
            (Just(s), elems, extra)
        }).prop_map(|(s, mut elems, extra)| {
            elems.extend(extra);
            (s, elems)
        })
    ) {
        let a = data(&spec.shape, 0);
        let x = build(&spec, &a);
        let got = x.slice(info.as_slice());
        let want = catch_unwind(AssertUnwindSafe(|| a.slice(padded(&info, a.ndim()).as_slice()).to_owned()));
        match (got, want) {
            (Ok(y), Ok(want)) => {
                assert_valid_chunks(&y);
                prop_assert_eq!(y.compute().unwrap(), want);
            }
            (Err(e), Err(_)) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("s!["), "{}", msg);
                prop_assert!(msg.contains(&format!("{:?}", spec.shape)), "{}", msg);
            }
            (Ok(y), Err(_)) => prop_assert!(false, "ndarray panics on {:?} but we gave {:?}", info, y),
            (Err(e), Ok(_)) => prop_assert!(false, "ndarray accepts {:?} but we failed: {}", info, e),
        }
    }

    #[test]
    fn slices_compose(spec in spec(), step in 1isize..4) {
        // A slice of a slice (pieces of pieces) is still one task per block over the right elements.
        let a = data(&spec.shape, 0);
        let x = build(&spec, &a);
        let y = x.slice([SliceInfoElem::Slice { start: 0, end: None, step: -step }]).unwrap();
        let z = y.slice([SliceInfoElem::Slice { start: 0, end: None, step: -1 }]).unwrap();
        let want = a.slice_axis(Axis(0), ndarray::Slice::new(0, None, -step)).slice_axis(Axis(0), ndarray::Slice::new(0, None, -1)).to_owned();
        prop_assert_eq!(z.compute().unwrap(), want);
    }

    #[test]
    fn permutations_match_ndarray((spec, axes) in permutation()) {
        let a = data(&spec.shape, 0);
        let x = build(&spec, &a);
        let y = x.permuted_axes(&axes).unwrap();
        let want = a.clone().permuted_axes(axes.as_slice());
        prop_assert_eq!(y.shape(), want.shape());
        for (k, &src) in axes.iter().enumerate() {
            prop_assert_eq!(y.chunks().sizes(k), x.chunks().sizes(src));
        }
        let got = y.compute().unwrap();
        prop_assert!(got.is_standard_layout());
        prop_assert_eq!(got, want);
        prop_assert_eq!(x.t().compute().unwrap(), a.t());
        prop_assert_eq!(x.t().t().compute().unwrap(), a);
    }

    #[test]
    fn concatenate_matches_ndarray((axis, specs) in concat_inputs()) {
        let datas: Vec<ArrayD<i64>> = specs.iter().enumerate().map(|(i, s)| data(&s.shape, 1000 * i as i64)).collect();
        let xs: Vec<Array<i64>> = specs.iter().zip(&datas).map(|(s, a)| build(s, a)).collect();
        let refs: Vec<&Array<i64>> = xs.iter().collect();
        let c = concatenate(&refs, axis).unwrap();
        let views: Vec<_> = datas.iter().map(|a| a.view()).collect();
        let want = ndarray::concatenate(Axis(axis), &views).unwrap();
        prop_assert_eq!(c.shape(), want.shape());
        assert_valid_chunks(&c);
        // Along the axis: the non-empty inputs' chunks in turn; elsewhere: the first input's.
        let joined: Vec<usize> = xs.iter().filter(|x| x.shape()[axis] > 0).flat_map(|x| x.chunks().sizes(axis).to_vec()).collect();
        if !joined.is_empty() {
            prop_assert_eq!(c.chunks().sizes(axis), joined.as_slice());
        }
        for k in (0..c.ndim()).filter(|&k| k != axis) {
            prop_assert_eq!(c.chunks().sizes(k), xs[0].chunks().sizes(k));
        }
        prop_assert_eq!(c.compute().unwrap(), want);
    }

    #[test]
    fn stack_matches_ndarray((axis, specs) in stack_inputs()) {
        let datas: Vec<ArrayD<i64>> = specs.iter().enumerate().map(|(i, s)| data(&s.shape, 1000 * i as i64)).collect();
        let xs: Vec<Array<i64>> = specs.iter().zip(&datas).map(|(s, a)| build(s, a)).collect();
        let refs: Vec<&Array<i64>> = xs.iter().collect();
        let st = stack(&refs, axis).unwrap();
        let views: Vec<_> = datas.iter().map(|a| a.view()).collect();
        let want = ndarray::stack(Axis(axis), &views).unwrap();
        prop_assert_eq!(st.shape(), want.shape());
        assert_valid_chunks(&st);
        let ones = vec![1; xs.len()];
        prop_assert_eq!(st.chunks().sizes(axis), ones.as_slice());
        prop_assert_eq!(st.compute().unwrap(), want);
    }
}

fn grid(shape: &[usize], chunk: &[usize]) -> (ArrayD<i64>, Array<i64>) {
    let a = data(shape, 0);
    let x = Array::from_array(&a, chunk).unwrap();
    (a, x)
}

#[test]
fn slice_chunks_follow_source_chunks() {
    let (a, x) = grid(&[10, 7], &[4, 3]);
    // Rows 1..9: 1..4 | 4..8 | 8..9; columns reversed by 2: 6 | 4 | 2, 0,
    // whose small pieces are joined up to the source's 3 columns: 6, 4 | 2, 0.
    let y = x.slice(s![1..9, ..;-2]).unwrap();
    assert_eq!(y.chunks().all(), &[vec![3, 4, 1], vec![2, 2]]);
    assert_eq!(y.compute().unwrap(), a.slice(s![1..9, ..;-2]).into_dyn());
    // An index drops its axis; NewAxis adds one of length 1.
    let z = x.slice(s![-3, ndarray::NewAxis, 2..]).unwrap();
    assert_eq!(z.shape(), &[1, 5]);
    assert_eq!(z.chunks().all(), &[vec![1], vec![1, 3, 1]]);
    assert_eq!(
        z.compute().unwrap(),
        a.slice(s![-3, ndarray::NewAxis, 2..]).into_dyn()
    );
    // Empty selections keep one empty chunk.
    // (An end before the start is an empty range, as in ndarray.)
    let backwards = SliceInfoElem::Slice {
        start: 3,
        end: Some(1),
        step: 1,
    };
    let e = x.slice([SliceInfoElem::from(5..5), backwards]).unwrap();
    assert_eq!(e.chunks().all(), &[vec![0], vec![0]]);
    assert_eq!(e.compute().unwrap().shape(), &[0, 0]);
    // Reversing 1-element blocks reuses each block whole, but in the other order.
    let (b, v) = grid(&[4, 2], &[1, 2]);
    assert_eq!(
        v.slice(s![..;-1, ..]).unwrap().compute().unwrap(),
        b.slice(s![..;-1, ..]).into_dyn()
    );
    // Fewer indices than axes: the rest are taken whole.
    assert_eq!(
        x.slice(s![2]).unwrap().compute().unwrap(),
        a.slice(s![2, ..]).into_dyn()
    );
}

#[test]
fn slice_reuses_whole_blocks_and_skips_identity() {
    let (_, x) = grid(&[8, 8], &[4, 4]);
    let keys = |x: &Array<i64>| -> Vec<String> {
        x.to_delayed()
            .unwrap()
            .iter()
            .map(|d| d.key().to_string())
            .collect()
    };
    let right = x.slice(s![.., 4..]).unwrap();
    let src = keys(&x);
    assert_eq!(keys(&right), vec![src[1].clone(), src[3].clone()]);
    let same = x.slice(s![.., ..]).unwrap();
    assert_eq!(keys(&same), src);
    // A slice inside one block needs that block only.
    let inner = x.slice(s![5..7, 1..3]).unwrap();
    assert_eq!(inner.num_blocks(), 1);
    assert_eq!(inner.chunks().all(), &[vec![2], vec![2]]);
}

#[test]
fn slice_errors_name_the_slice_and_shape() {
    let (_, x) = grid(&[4, 5], &[2, 2]);
    let e = x.slice(s![4, ..]).unwrap_err();
    assert!(matches!(e, ArrayError::OutOfRange { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "index 4 on axis 0 of slice s![4, ..] out of range for shape [4, 5]"
    );
    let e = x.slice(s![.., -6]).unwrap_err();
    assert!(matches!(e, ArrayError::OutOfRange { .. }), "{e}");
    let e = x.slice(s![..6, ..]).unwrap_err();
    assert!(
        matches!(e, ArrayError::OutOfRange { .. }) && e.to_string().contains("end 6"),
        "{e}"
    );
    let e = x.slice(s![-5.., ..]).unwrap_err();
    assert!(
        matches!(e, ArrayError::OutOfRange { .. }) && e.to_string().contains("start -5"),
        "{e}"
    );
    let e = x
        .slice([
            SliceInfoElem::Slice {
                start: 0,
                end: None,
                step: 0,
            },
            FULL,
        ])
        .unwrap_err();
    assert!(matches!(e, ArrayError::Invalid(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "slice s![..;0, ..]: step 0 on axis 0 (shape [4, 5])"
    );
    let e = x.slice(s![.., .., 1]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "slice s![.., .., 1]: 3 indices for an array of 2 dimensions (shape [4, 5])"
    );
    let e = x.slice([SliceInfoElem::Index(isize::MIN)]).unwrap_err();
    assert!(matches!(e, ArrayError::OutOfRange { .. }), "{e}");
}

#[test]
fn permutation_errors_name_axes_and_shape() {
    let (_, x) = grid(&[2, 3, 4], &[1, 2, 3]);
    let e = x.permuted_axes(&[0, 1]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "permuted_axes([0, 1]): 2 axes given for an array of 3 dimensions (shape [2, 3, 4])"
    );
    let e = x.permuted_axes(&[0, 3, 1]).unwrap_err();
    assert!(
        matches!(
            e,
            ArrayError::BadAxis {
                axis: 3,
                ndim: 3,
                ..
            }
        ),
        "{e}"
    );
    let e = x.permuted_axes(&[2, 2, 0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "permuted_axes([2, 2, 0]): axis 2 is listed twice (shape [2, 3, 4])"
    );
}

#[test]
fn concatenate_and_stack_errors_name_all_shapes() {
    let (_, a) = grid(&[2, 3], &[1, 1]);
    let (_, b) = grid(&[2, 4], &[1, 1]);
    let (_, c) = grid(&[2], &[1]);
    let e = concatenate(&[&a, &b, &a], 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "shape mismatch in concatenate along axis 0: shapes [[2, 3], [2, 4], [2, 3]] must agree on every other axis"
    );
    assert!(concatenate(&[&a, &b], 1).is_ok());
    assert!(concatenate(&[&a, &c], 1)
        .unwrap_err()
        .to_string()
        .contains("[[2, 3], [2]]"));
    let e = concatenate(&[&a, &b], 2).unwrap_err();
    assert!(
        matches!(
            e,
            ArrayError::BadAxis {
                axis: 2,
                ndim: 2,
                ..
            }
        ),
        "{e}"
    );
    assert!(concatenate::<i64>(&[], 0).is_err());
    let e = stack(&[&a, &a, &b], 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "shape mismatch in stack along axis 0: shapes [[2, 3], [2, 3], [2, 4]] must all be equal"
    );
    let e = stack(&[&a, &a], 3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "stack along axis 3: the result has 3 dimensions (inputs of shape [2, 3])"
    );
    assert!(stack::<i64>(&[], 0).is_err());
}

#[test]
fn the_same_array_twice() {
    let (a, x) = grid(&[3, 4], &[2, 3]);
    let c = concatenate(&[&x, &x.t().t(), &x], 1).unwrap();
    let want = ndarray::concatenate(Axis(1), &[a.view(), a.view(), a.view()]).unwrap();
    assert_eq!(c.compute().unwrap(), want);
    let st = stack(&[&x, &x], 2).unwrap();
    assert_eq!(
        st.compute().unwrap(),
        ndarray::stack(Axis(2), &[a.view(), a.view()]).unwrap()
    );
}

#[test]
fn deferred_operator_errors_surface() {
    let (_, a) = grid(&[2, 3], &[1, 1]);
    let (_, b) = grid(&[3, 2], &[1, 1]);
    let bad = &a + &b;
    assert!(matches!(
        bad.t().check(),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert_eq!(bad.t().shape(), &[3, 2]);
    assert!(bad.slice(s![.., 0]).is_err());
    assert!(bad.permuted_axes(&[1, 0]).is_err());
    assert!(concatenate(&[&a, &bad], 0).is_err());
    assert!(stack(&[&bad, &a], 0).is_err());
}

#[test]
fn wrong_blocks_fail_the_computation_without_panicking() {
    // A user-made block of the wrong shape: the tasks report it instead of ndarray panicking.
    let chunks = Chunks::from_sizes(&[4, 2], vec![vec![2, 2], vec![2]]).unwrap();
    let blocks = vec![
        delayed(ArrayD::<i64>::zeros(IxDyn(&[2, 2]))),
        delayed(ArrayD::<i64>::zeros(IxDyn(&[1, 2]))),
    ];
    let x = Array::from_blocks(&[4, 2], chunks, blocks).unwrap();
    assert!(x.slice(s![3, ..]).unwrap().compute().is_err());
    assert!(x.t().compute().is_err());
    assert!(stack(&[&x, &x], 0).unwrap().compute().is_err());
}

#[test]
fn structure_ops_on_zero_and_one_dimensional_arrays() {
    let a = ArrayD::from_elem(IxDyn(&[]), 7i64);
    let x = Array::from_array(&a, &[]).unwrap();
    assert_eq!(x.t().compute().unwrap(), a);
    assert_eq!(x.slice(s![]).unwrap().compute().unwrap(), a);
    let y = x.slice([SliceInfoElem::NewAxis]).unwrap();
    assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[7]);
    assert_eq!(
        stack(&[&x, &x], 0)
            .unwrap()
            .compute()
            .unwrap()
            .as_slice()
            .unwrap(),
        &[7, 7]
    );
    assert!(concatenate(&[&x, &x], 0).is_err());
    let v = Array::<i64>::arange(0, 10, 1, 3).unwrap();
    assert_eq!(v.t().compute().unwrap(), v.compute().unwrap());
    assert_eq!(
        v.slice(s![..;-3])
            .unwrap()
            .compute()
            .unwrap()
            .as_slice()
            .unwrap(),
        &[9, 6, 3, 0]
    );
}
