//! The collections computed through the runtime's generic entry points:
//! `compute_all` and a futures client's `compute`, checked against each
//! collection's own `compute`.

use std::sync::Arc;

use dagwood_collections::array::Array;
use dagwood_collections::bag::Bag;
use dagwood_collections::dataframe::arrow_array::{ArrayRef, Int64Array};
use dagwood_collections::dataframe::{col, DataFrame};
use dagwood_runtime::client::Client;
use dagwood_runtime::{compute_all, Error};

fn frame() -> DataFrame {
    let a: ArrayRef = Arc::new(Int64Array::from((0..100).collect::<Vec<i64>>()));
    DataFrame::from_arrays([("a", a)], 7)
        .unwrap()
        .filter(col("a").gt(10))
        .unwrap()
}

#[test]
fn compute_all_takes_collections() {
    let x = Array::<f64>::linspace(0.0, 1.0, 101, 10).unwrap();
    let y = (&x * 2.0).t();
    let b = Bag::range(50, 4).unwrap().map(|i: u64| i * i);
    let df = frame();
    let (gx, gy, gb, gdf) = compute_all((&x, &y, &b, &df)).unwrap();
    assert_eq!(gx, x.compute().unwrap());
    assert_eq!(gy, y.compute().unwrap());
    assert_eq!(gb, b.compute().unwrap());
    assert_eq!(gdf, df.compute().unwrap());
    assert_eq!(gdf.num_rows(), 89);
}

#[test]
fn a_client_computes_collections() {
    let client = Client::with_threads(2).unwrap();
    let x = Array::<f64>::ones(&[30, 20], &[7, 6]).unwrap();
    let total = (&x + 1.0).sum().unwrap();
    let df = frame();
    let fx = client.compute(x.clone());
    let ft = client.compute(total.clone());
    let fdf = client.compute(df.clone());
    let fb = client.compute(Bag::from_sequence(vec!["a", "b"], 2).unwrap());
    assert_eq!(fx.result().unwrap(), x.compute().unwrap());
    assert_eq!(ft.result().unwrap(), 1200.0);
    assert_eq!(fdf.result().unwrap(), df.compute().unwrap());
    assert_eq!(fb.result().unwrap(), vec!["a", "b"]);
}

#[test]
fn a_broken_array_is_an_error_not_a_panic() {
    let a = Array::<f64>::ones(&[4], &[2]).unwrap();
    let b = Array::<f64>::ones(&[5], &[2]).unwrap();
    let bad = &a + &b; // shapes that do not broadcast: the error is deferred
    let err = compute_all((&bad, &a)).unwrap_err();
    assert!(matches!(err, Error::Collection(_)), "{err}");
    assert!(
        err.to_string().contains('4') && err.to_string().contains('5'),
        "{err}"
    );
    let client = Client::with_threads(1).unwrap();
    let f = client.compute(bad.clone());
    assert!(f.result().is_err());
}
