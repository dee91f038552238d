//! DataFrame column operations against the same computation done directly
//! on the rows, over random data with nulls and random partitionings
//! (including empty partitions), on both schedulers; and the error cases.

use crate::common;

use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::DataType;
use dagwood_collections::dataframe::{col, lit, DataFrame, DataFrameError};
use dagwood_runtime::Scheduler;
use proptest::prelude::*;

fn schedulers() -> [Scheduler; 2] {
    static THREADS: OnceLock<Scheduler> = OnceLock::new();
    let threads = THREADS.get_or_init(|| Scheduler::threads(3).expect("a pool of 3 threads"));
    [Scheduler::Sync, threads.clone()]
}

/// One row of the test table.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    a: Option<i64>,
    b: Option<f64>,
    s: Option<String>,
    i: i32,
}

fn row() -> impl Strategy<Value = Row> {
    (
        proptest::option::weighted(0.8, -50i64..50),
        proptest::option::weighted(0.8, -100.0f64..100.0),
        proptest::option::weighted(0.8, "[a-dx]{0,4}"),
        1i32..20,
    )
        .prop_map(|(a, b, s, i)| Row { a, b, s, i })
}

/// Rows and cut points (sorted, possibly equal: empty partitions).
fn table() -> impl Strategy<Value = (Vec<Row>, Vec<usize>)> {
    proptest::collection::vec(row(), 0..120).prop_flat_map(|rows| {
        let n = rows.len();
        (Just(rows), proptest::collection::vec(0..=n, 0..6)).prop_map(|(rows, mut cuts)| {
            cuts.sort_unstable();
            (rows, cuts)
        })
    })
}

fn batch(rows: &[Row]) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "a",
            Arc::new(rows.iter().map(|r| r.a).collect::<Int64Array>()) as ArrayRef,
        ),
        (
            "b",
            Arc::new(rows.iter().map(|r| r.b).collect::<Float64Array>()) as ArrayRef,
        ),
        (
            "s",
            Arc::new(rows.iter().map(|r| r.s.as_deref()).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "i",
            Arc::new(rows.iter().map(|r| Some(r.i)).collect::<Int32Array>()) as ArrayRef,
        ),
    ])
    .expect("a valid batch")
}

fn frame(rows: &[Row], cuts: &[usize]) -> DataFrame {
    common::cut_at(&batch(rows), cuts)
}

fn rows_of(b: &RecordBatch) -> Vec<Row> {
    let a = b
        .column_by_name("a")
        .expect("a")
        .as_primitive::<Int64Type>();
    let f = b
        .column_by_name("b")
        .expect("b")
        .as_primitive::<Float64Type>();
    let s = b.column_by_name("s").expect("s").as_string::<i32>();
    let i = b
        .column_by_name("i")
        .expect("i")
        .as_primitive::<Int32Type>();
    (0..b.num_rows())
        .map(|k| Row {
            a: a.is_valid(k).then(|| a.value(k)),
            b: f.is_valid(k).then(|| f.value(k)),
            s: s.is_valid(k).then(|| s.value(k).to_owned()),
            i: i.value(k),
        })
        .collect()
}

fn f64s(a: &dyn Array) -> Vec<Option<f64>> {
    let a = a.as_primitive::<Float64Type>();
    (0..a.len())
        .map(|k| a.is_valid(k).then(|| a.value(k)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn compute_select_and_len((rows, cuts) in table()) {
        let df = frame(&rows, &cuts);
        prop_assert_eq!(df.npartitions(), cuts.len() + 1);
        for s in schedulers() {
            prop_assert_eq!(rows_of(&df.compute_with(&s).unwrap()), rows.clone());
            let picked = df.select(["s", "a"]).unwrap().compute_with(&s).unwrap();
            let whole = batch(&rows);
            prop_assert_eq!(picked.schema_ref().field(0).name().as_str(), "s");
            prop_assert_eq!(picked.column(1).as_ref(), whole.column(0).as_ref());
        }
        prop_assert_eq!(df.len().compute().unwrap(), rows.len());
    }

    #[test]
    fn arithmetic_follows_pandas_types((rows, cuts) in table()) {
        let df = frame(&rows, &cuts)
            .with_column("c", col("a") * 2 + col("b"))
            .unwrap()
            .with_column("q", col("a") / col("i"))
            .unwrap()
            .with_column("m", col("i") % 3 - lit(1))
            .unwrap();
        prop_assert_eq!(df.schema().field_with_name("c").unwrap().data_type(), &DataType::Float64);
        prop_assert_eq!(df.schema().field_with_name("q").unwrap().data_type(), &DataType::Float64);
        prop_assert_eq!(df.schema().field_with_name("m").unwrap().data_type(), &DataType::Int64);
        let out = df.compute().unwrap();
        let c: Vec<Option<f64>> = rows.iter().map(|r| Some(r.a? as f64 * 2.0 + r.b?)).collect();
        let q: Vec<Option<f64>> = rows.iter().map(|r| Some(r.a? as f64 / f64::from(r.i))).collect();
        let m: Vec<i64> = rows.iter().map(|r| i64::from(r.i % 3) - 1).collect();
        prop_assert_eq!(f64s(out.column(4).as_ref()), c);
        prop_assert_eq!(f64s(out.column(5).as_ref()), q);
        prop_assert_eq!(out.column(6).as_ref(), &Int64Array::from(m) as &dyn Array);
    }

    #[test]
    fn filters_and_head((rows, cuts) in table(), t in -50i64..50, n in 0usize..40) {
        let df = frame(&rows, &cuts);
        let kept = df
            .filter(col("a").gt(lit(t)) & col("s").is_not_null())
            .unwrap();
        let want: Vec<Row> = rows
            .iter()
            .filter(|r| r.a.is_some_and(|a| a > t) && r.s.is_some())
            .cloned()
            .collect();
        for s in schedulers() {
            prop_assert_eq!(rows_of(&kept.compute_with(&s).unwrap()), want.clone());
        }
        prop_assert_eq!(kept.len().compute().unwrap(), want.len());
        let head = kept.head(n).unwrap();
        prop_assert_eq!(rows_of(&head), want.iter().take(n).cloned().collect::<Vec<_>>());

        let text = df
            .filter(col("s").contains("x") | col("s").starts_with("ab"))
            .unwrap()
            .compute()
            .unwrap();
        let want: Vec<Row> = rows
            .iter()
            .filter(|r| r.s.as_deref().is_some_and(|s| s.contains('x') || s.starts_with("ab")))
            .cloned()
            .collect();
        prop_assert_eq!(rows_of(&text), want);
    }

    #[test]
    fn nulls_filled_and_dropped((rows, cuts) in table()) {
        let df = frame(&rows, &cuts);
        let filled = df.fillna_columns([("a", 0)]).unwrap().fillna("?").unwrap().compute().unwrap();
        let want: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                a: Some(r.a.unwrap_or(0)),
                s: Some(r.s.clone().unwrap_or_else(|| "?".into())),
                ..r.clone()
            })
            .collect();
        prop_assert_eq!(rows_of(&filled), want);

        let dropped = df.dropna().unwrap().compute().unwrap();
        let want: Vec<Row> = rows
            .iter()
            .filter(|r| r.a.is_some() && r.b.is_some() && r.s.is_some())
            .cloned()
            .collect();
        prop_assert_eq!(rows_of(&dropped), want);

        let dropped_b = df.dropna_subset(["b"]).unwrap().len().compute().unwrap();
        prop_assert_eq!(dropped_b, rows.iter().filter(|r| r.b.is_some()).count());
    }

    #[test]
    fn rename_drop_assign_chain((rows, cuts) in table()) {
        // A chain of projections: each sees the columns the one before made.
        let df = frame(&rows, &cuts)
            .rename([("a", "alpha")])
            .unwrap()
            .assign([("beta", col("alpha").fill_null(7) + 1), ("alpha", col("i").cast(DataType::Int64))])
            .unwrap()
            .drop(["b", "s"])
            .unwrap()
            .filter(col("beta").gt_eq(lit(0)))
            .unwrap()
            .select(["beta", "alpha"])
            .unwrap();
        prop_assert_eq!(df.columns(), vec!["beta", "alpha"]);
        let out = df.compute().unwrap();
        let kept: Vec<&Row> = rows.iter().filter(|r| r.a.unwrap_or(7) + 1 >= 0).collect();
        let beta: Vec<i64> = kept.iter().map(|r| r.a.unwrap_or(7) + 1).collect();
        let alpha: Vec<i64> = kept.iter().map(|r| i64::from(r.i)).collect();
        prop_assert_eq!(out.column(0).as_ref(), &Int64Array::from(beta) as &dyn Array);
        prop_assert_eq!(out.column(1).as_ref(), &Int64Array::from(alpha) as &dyn Array);
    }
}

#[test]
fn errors_name_columns_and_expressions() {
    let df = frame(&[], &[]);
    match df.select(["a", "nope"]) {
        Err(DataFrameError::UnknownColumn { name, available }) => {
            assert_eq!(name, "nope");
            assert_eq!(available, "a, b, s, i");
        }
        other => panic!("expected an unknown column error, got {other:?}"),
    }
    let e = df.with_column("z", col("s") + 1).unwrap_err().to_string();
    assert!(e.contains("(s + 1)") && e.contains("Utf8"), "{e}");
    let e = df.filter(col("a") * 2).unwrap_err().to_string();
    assert!(e.contains("boolean"), "{e}");
    let e = df.filter(col("zz").is_null()).unwrap_err().to_string();
    assert!(e.contains("\"zz\""), "{e}");
    let e = df.select(["a", "a"]).unwrap_err().to_string();
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn a_failing_cast_is_an_error_naming_the_task() {
    let rows: Vec<Row> = ["1", "2", "three"]
        .iter()
        .map(|s| Row {
            a: None,
            b: None,
            s: Some((*s).into()),
            i: 1,
        })
        .collect();
    let df = frame(&rows, &[1])
        .with_column("n", col("s").cast(DataType::Int64))
        .unwrap();
    let err = df.compute().unwrap_err();
    let msg = format!("{err}");
    assert!(msg.contains("partition"), "{msg}");
    let chain = format!("{:?}", err);
    assert!(chain.contains("three"), "{chain}");
}

#[test]
fn map_partitions_checks_the_schema() {
    let rows: Vec<Row> = (0..10)
        .map(|k| Row {
            a: Some(k),
            b: None,
            s: None,
            i: 1,
        })
        .collect();
    let df = frame(&rows, &[3, 3, 7]);
    let schema = df.schema().clone();
    let reversed = df.map_partitions(
        |b: RecordBatch| {
            let idx = arrow_array::UInt32Array::from_iter_values((0..b.num_rows() as u32).rev());
            Ok(arrow_select::take::take_record_batch(&b, &idx)?)
        },
        schema,
    );
    let got: Vec<i64> = rows_of(&reversed.compute().unwrap())
        .iter()
        .map(|r| r.a.unwrap())
        .collect();
    assert_eq!(got, vec![2, 1, 0, 6, 5, 4, 3, 9, 8, 7]);

    let wrong = df.map_partitions(|b: RecordBatch| Ok(b.project(&[0])?), df.schema().clone());
    let msg = format!("{:?}", wrong.compute().unwrap_err());
    assert!(msg.contains("map_partitions result of partition"), "{msg}");
}

#[test]
fn from_batches_refuses_mixed_schemas() {
    let a = batch(&[]);
    let b = a.project(&[1, 0]).unwrap();
    let e = DataFrame::from_batches(vec![a, b], None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("batch 1"), "{e}");
}
