//! Collections and `Delayed` handles as values of a `graph!`: whatever lazy
//! values reach the output are computed in the graph's run, together, so
//! results over one collection share its reads (Dask's `dask.compute(m, s)`).

#![cfg(all(feature = "array", feature = "bag", feature = "dataframe"))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use dagwood::array::{Array, Chunks};
use dagwood::bag::Bag;
use dagwood::dataframe::DataFrame;
use dagwood::prelude::*;
use ndarray::{ArrayD, IxDyn};

/// A 6 x 4 array in 2 x 2 blocks (six blocks) whose block loads are counted.
fn counted_array(reads: &Arc<AtomicUsize>) -> Array<f64> {
    let shape = [6, 4];
    let chunks = Chunks::regular(&shape, &[2, 2]).expect("chunks");
    let mut blocks = Vec::new();
    for bi in 0..3 {
        for bj in 0..2 {
            let reads = reads.clone();
            blocks.push(delayed(()).map("load-block", move |_: &()| {
                reads.fetch_add(1, Ordering::SeqCst);
                ArrayD::from_shape_fn(IxDyn(&[2, 2]), |ix| {
                    ((bi * 2 + ix[0]) * 4 + bj * 2 + ix[1]) as f64
                })
            }));
        }
    }
    Array::from_blocks(&shape, chunks, blocks).expect("an array of its blocks")
}

fn plain() -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(&[6, 4]), |ix| (ix[0] * 4 + ix[1]) as f64)
}

#[test]
fn two_reductions_of_an_array_share_one_read_of_each_block() {
    for s in [Scheduler::Sync, Scheduler::threads(2).unwrap()] {
        let reads = Arc::new(AtomicUsize::new(0));
        let g = graph! {
            let x = counted_array(&reads);
            let m = x.mean()?;
            let sd = x.std(0.0)?;
            (m, sd)
        };
        let (m, sd) = g.compute_with(&s).unwrap();
        let want = plain();
        assert!((m - want.mean().unwrap()).abs() < 1e-12);
        assert!((sd - want.std(0.0)).abs() < 1e-12);
        assert_eq!(reads.load(Ordering::SeqCst), 6, "each block read once");
    }
    // Computed one by one, the blocks are read twice: the graph is what shares them.
    let reads = Arc::new(AtomicUsize::new(0));
    let x = counted_array(&reads);
    x.mean().unwrap().compute().unwrap();
    x.std(0.0).unwrap().compute().unwrap();
    assert_eq!(reads.load(Ordering::SeqCst), 12);
}

#[test]
fn an_array_output_is_computed_to_an_ndarray() {
    let reads = Arc::new(AtomicUsize::new(0));
    let g = graph! {
        let x = counted_array(&reads);
        let y = &x * 2.0;
        let total = y.sum()?;
        (y, total)
    };
    let (y, total) = g.compute().unwrap();
    assert_eq!(y, plain() * 2.0);
    assert_eq!(total, plain().sum() * 2.0);
    assert_eq!(reads.load(Ordering::SeqCst), 6);
}

#[test]
fn a_bag_and_its_count_share_the_partitions() {
    let reads = Arc::new(AtomicUsize::new(0));
    let parts: Vec<Delayed<Vec<i64>>> = (0..4)
        .map(|p| {
            let reads = reads.clone();
            delayed(()).map("part", move |_: &()| {
                reads.fetch_add(1, Ordering::SeqCst);
                (p * 10..p * 10 + 10).collect()
            })
        })
        .collect();
    let g = graph! {
        let b = Bag::from_delayed(parts);
        let n = b.count()?;
        let total = b.sum()?;
        let evens = b.filter(|x| x % 2 == 0);
        (n, total, evens)
    };
    let (n, total, evens) = g.compute().unwrap();
    assert_eq!((n, total), (40, (0..40).sum::<i64>()));
    assert_eq!(evens, (0..40).filter(|x| x % 2 == 0).collect::<Vec<_>>());
    assert_eq!(reads.load(Ordering::SeqCst), 4);
}

#[test]
fn a_dataframe_and_its_length_share_the_partitions() {
    let reads = Arc::new(AtomicUsize::new(0));
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)]));
    let parts: Vec<Delayed<RecordBatch>> = (0..3)
        .map(|p| {
            let (reads, schema) = (reads.clone(), schema.clone());
            delayed(()).map("batch", move |_: &()| {
                reads.fetch_add(1, Ordering::SeqCst);
                let xs: Vec<f64> = (0..5).map(|i| (p * 5 + i) as f64).collect();
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Float64Array::from(xs))])
                    .expect("a batch")
            })
        })
        .collect();
    let g = graph! {
        let df = DataFrame::from_delayed(parts, schema.clone());
        let n = df.len();
        (n, df)
    };
    let (n, batch) = g.compute().unwrap();
    assert_eq!((n, batch.num_rows()), (15, 15));
    assert_eq!(reads.load(Ordering::SeqCst), 3);
}

#[delayed]
fn expensive(x: i64) -> i64 {
    x * 100
}

#[test]
fn delayed_handles_in_the_output_are_computed_together() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let base = delayed(3).map("count", |v: &i64| {
            RUNS.fetch_add(1, Ordering::SeqCst);
            *v
        });
        let a = expensive::lazy(&base);
        let b = base.map("plus", |v: &i64| v + 1);
        (a, b)
    };
    assert_eq!(g.compute().unwrap(), (300, 4));
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failing_lazy_value_fails_the_graph_with_its_own_key() {
    let g = graph! {
        let n = delayed("x1".to_string());
        let parsed = {
            let mut b = dagwood::TaskBuilder::new("parse-it");
            let s = b.input(&n);
            b.build_result(move |args| Ok(s.get(args)?.parse::<i64>()))
        };
        parsed
    };
    let err = g.compute().unwrap_err();
    assert_eq!(err.key().map(|k| k.name()), Some("parse-it"), "{err}");
}

#[test]
fn plain_outputs_are_returned_as_they_are() {
    let g = graph! {
        let v = vec![1, 2, 3];
        let n = v.len();
        (v, n)
    };
    assert_eq!(g.compute().unwrap(), (vec![1, 2, 3], 3));
}
