//! `reshape` and the merging of small chunks after strided slices, against
//! ndarray over many shapes and chunkings.

use dagwood_collections::array::Array;
use ndarray::{ArrayD, IxDyn, SliceInfoElem};
use proptest::prelude::*;

fn factor(n: usize, parts: &[usize]) -> Vec<usize> {
    // A shape of `n` elements built from `parts` (each a divisor choice).
    let mut rest = n;
    let mut shape = Vec::new();
    for &p in parts {
        let d = (1..=rest.max(1))
            .filter(|d| rest.is_multiple_of(*d))
            .nth(p % 4)
            .unwrap_or(1);
        shape.push(d);
        rest /= d.max(1);
    }
    shape.push(rest);
    shape
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reshape_matches_ndarray(
        n in 0usize..60,
        from in proptest::collection::vec(0usize..4, 0..3),
        to in proptest::collection::vec(0usize..4, 0..3),
        chunk in proptest::collection::vec(1usize..7, 3),
    ) {
        let a_shape = factor(n, &from);
        let b_shape = factor(n, &to);
        let a = ArrayD::from_shape_fn(IxDyn(&a_shape), |i| (0..a_shape.len()).fold(0i64, |acc, k| acc * 100 + i[k] as i64));
        let x = Array::from_array(&a, &chunk[..a_shape.len()]).unwrap();
        let y = x.reshape(&b_shape).unwrap();
        prop_assert_eq!(y.shape(), &b_shape[..]);
        let want = a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(&b_shape)).unwrap();
        prop_assert_eq!(y.compute().unwrap(), want);
    }

    #[test]
    fn strided_slices_merge_small_chunks(
        len in 1usize..80,
        cols in 1usize..6,
        chunk in 1usize..20,
        step in 1isize..8,
        reverse in any::<bool>(),
    ) {
        let a = ArrayD::from_shape_fn(IxDyn(&[len, cols]), |i| (i[0] * 10 + i[1]) as i32);
        let x = Array::from_array(&a, &[chunk, cols]).unwrap();
        let step = if reverse { -step } else { step };
        let info = [SliceInfoElem::Slice { start: 0, end: None, step }];
        let y = x.slice(info).unwrap();
        let want = a.slice(ndarray::s![..;step, ..]).to_owned().into_dyn();
        prop_assert_eq!(y.compute().unwrap(), want);
        // No two neighbouring blocks could be joined within the source's chunk size.
        let sizes = y.chunks().sizes(0);
        prop_assert!(sizes.windows(2).all(|w| w[0] + w[1] > chunk), "{:?} (chunk {})", sizes, chunk);
    }
}

#[test]
fn reshape_errors_name_both_shapes() {
    let x = Array::<f64>::ones(&[4, 6], &[2, 3]).unwrap();
    let err = x.reshape(&[5, 5]).unwrap_err().to_string();
    assert!(err.contains("[4, 6]") && err.contains("[5, 5]"), "{err}");
    assert_eq!(
        x.reshape(&[3, 8])
            .unwrap()
            .sum()
            .unwrap()
            .compute()
            .unwrap(),
        24.0
    );
    // A strided slice of 250-row blocks keeps blocks of about 250 rows.
    let big = Array::<f64>::zeros(&[1000, 4], &[250, 4]).unwrap();
    let every10 = big.slice(ndarray::s![..;10, ..]).unwrap();
    assert_eq!(every10.chunks().sizes(0), &[100]);
}
