//! DataFrame aggregations against the same computation done directly on
//! the rows (plain Rust over the whole table), over random data with nulls
//! and random partitionings (including empty partitions) and tree fan-ins;
//! results must not depend on the partitioning. Then types, NaN, the
//! approximate percentiles' bound, task keys, and the error cases.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, UInt64Array, UInt8Array,
};
use arrow_schema::DataType;
use dagwood_collections::dataframe::{Agg, DataFrame, DataFrameError, ReadCsv, Scalar};
use proptest::prelude::*;

/// One row of the test table: two keys with few values, two values.
#[derive(Clone, Debug)]
struct Row {
    k: Option<String>,
    j: Option<i64>,
    a: Option<i64>,
    x: Option<f64>,
}

fn row() -> impl Strategy<Value = Row> {
    (
        proptest::option::weighted(0.85, "[abc]{1,2}"),
        proptest::option::weighted(0.85, 0i64..3),
        proptest::option::weighted(0.8, -1000i64..1000),
        proptest::option::weighted(0.8, -100.0f64..100.0),
    )
        .prop_map(|(k, j, a, x)| Row { k, j, a, x })
}

/// Rows, cut points (sorted, possibly equal: empty partitions) and a fan-in.
fn table() -> impl Strategy<Value = (Vec<Row>, Vec<usize>, usize)> {
    proptest::collection::vec(row(), 0..80).prop_flat_map(|rows| {
        let n = rows.len();
        (
            Just(rows),
            proptest::collection::vec(0..=n, 0..7),
            2usize..6,
        )
            .prop_map(|(rows, mut cuts, split_every)| {
                cuts.sort_unstable();
                (rows, cuts, split_every)
            })
    })
}

fn batch(rows: &[Row]) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "k",
            Arc::new(rows.iter().map(|r| r.k.as_deref()).collect::<StringArray>()) as ArrayRef,
        ),
        (
            "j",
            Arc::new(rows.iter().map(|r| r.j).collect::<Int64Array>()) as ArrayRef,
        ),
        (
            "a",
            Arc::new(rows.iter().map(|r| r.a).collect::<Int64Array>()) as ArrayRef,
        ),
        (
            "x",
            Arc::new(rows.iter().map(|r| r.x).collect::<Float64Array>()) as ArrayRef,
        ),
    ])
    .expect("a valid batch")
}

fn frame(rows: &[Row], cuts: &[usize]) -> DataFrame {
    common::cut_at(&batch(rows), cuts)
}

/// Direct statistics of some values.
#[derive(Clone, Debug, Default, PartialEq)]
struct Stats {
    sum: f64,
    count: i64,
    mean: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    var: Option<f64>,
    nunique: i64,
    median: Option<f64>,
}

fn stats<T: Copy + Into<f64>>(values: &[Option<T>]) -> Stats {
    let xs: Vec<f64> = values.iter().flatten().map(|&v| v.into()).collect();
    let n = xs.len();
    let sum: f64 = xs.iter().sum();
    let mean = (n > 0).then(|| sum / n as f64);
    let var = (n > 1).then(|| {
        let m = sum / n as f64;
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64
    });
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    let distinct: BTreeSet<u64> = xs.iter().map(|x| x.to_bits()).collect();
    Stats {
        sum,
        count: n as i64,
        mean,
        min: sorted.first().copied(),
        max: sorted.last().copied(),
        var,
        nunique: distinct.len() as i64,
        median: percentile(&sorted, 0.5),
    }
}

/// pandas' linear-interpolation percentile of sorted values.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - h.floor()) * (sorted[hi] - sorted[lo]))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn close_opt(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (Some(a), Some(b)) => close(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Element `i` of a numeric column as `f64` (`None` for null).
fn f64_at(column: &ArrayRef, i: usize) -> Option<f64> {
    Scalar::from_array(column.as_ref(), i)
        .expect("a scalar")
        .as_f64()
}

fn i64_at(column: &ArrayRef, i: usize) -> Option<i64> {
    Scalar::from_array(column.as_ref(), i)
        .expect("a scalar")
        .as_i64()
}

/// The column names of a batch.
fn names(b: &RecordBatch) -> Vec<String> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn named<'a>(b: &'a RecordBatch, name: &str) -> &'a ArrayRef {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The aggregations every comparison runs on column `c`, named `c_<fn>`.
fn all_aggs(c: &str) -> Vec<Agg> {
    vec![
        Agg::sum(c).alias(format!("{c}_sum")),
        Agg::mean(c).alias(format!("{c}_mean")),
        Agg::count(c).alias(format!("{c}_count")),
        Agg::min(c).alias(format!("{c}_min")),
        Agg::max(c).alias(format!("{c}_max")),
        Agg::var(c).alias(format!("{c}_var")),
        Agg::std(c).alias(format!("{c}_std")),
        Agg::nunique(c).alias(format!("{c}_nunique")),
        Agg::median(c).alias(format!("{c}_median")),
    ]
}

/// Checks row `i` of `out` against `want` for the columns of `all_aggs(c)`.
fn check_stats(out: &RecordBatch, i: usize, c: &str, want: &Stats) -> Result<(), TestCaseError> {
    let col = |f: &str| named(out, &format!("{c}_{f}"));
    prop_assert!(
        close(f64_at(col("sum"), i).unwrap_or(f64::NAN), want.sum),
        "{c} sum"
    );
    prop_assert_eq!(i64_at(col("count"), i), Some(want.count), "{} count", c);
    prop_assert!(close_opt(f64_at(col("mean"), i), want.mean), "{c} mean");
    prop_assert_eq!(f64_at(col("min"), i), want.min, "{} min", c);
    prop_assert_eq!(f64_at(col("max"), i), want.max, "{} max", c);
    prop_assert!(close_opt(f64_at(col("var"), i), want.var), "{c} var");
    prop_assert!(
        close_opt(f64_at(col("std"), i), want.var.map(f64::sqrt)),
        "{c} std"
    );
    prop_assert_eq!(
        i64_at(col("nunique"), i),
        Some(want.nunique),
        "{} nunique",
        c
    );
    prop_assert!(
        close_opt(f64_at(col("median"), i), want.median),
        "{c} median"
    );
    Ok(())
}

/// Rows grouped by a key function (rows whose key is `None` dropped).
fn grouped<K: Ord>(rows: &[Row], key: impl Fn(&Row) -> Option<K>) -> BTreeMap<K, Vec<Row>> {
    let mut groups: BTreeMap<K, Vec<Row>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = key(r) {
            groups.entry(k).or_default().push(r.clone());
        }
    }
    groups
}

fn a_values(rows: &[Row]) -> Vec<Option<i32>> {
    // `a` fits in i32 (the strategy's range), which converts to f64 exactly.
    rows.iter().map(|r| r.a.map(|v| v as i32)).collect()
}

fn x_values(rows: &[Row]) -> Vec<Option<f64>> {
    rows.iter().map(|r| r.x).collect()
}

/// Batches equal up to float rounding (same schema, rows, nulls).
fn same_batch(a: &RecordBatch, b: &RecordBatch) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.schema(), b.schema());
    prop_assert_eq!(a.num_rows(), b.num_rows());
    for (ca, cb) in a.columns().iter().zip(b.columns()) {
        if ca.data_type() == &DataType::Float64 {
            for i in 0..ca.len() {
                prop_assert!(
                    close_opt(f64_at(ca, i), f64_at(cb, i)),
                    "{:?} vs {:?}",
                    ca,
                    cb
                );
            }
        } else {
            prop_assert_eq!(ca.as_ref(), cb.as_ref());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn whole_frame_aggregations_match_direct((rows, cuts, split_every) in table()) {
        let df = frame(&rows, &cuts);
        let mut aggs = all_aggs("a");
        aggs.extend(all_aggs("x"));
        aggs.extend([
            Agg::size(),
            Agg::count("k").alias("k_count"),
            Agg::nunique("k").alias("k_nunique"),
            Agg::min("k").alias("k_min"),
            Agg::max("k").alias("k_max"),
        ]);
        let out = df.split_every(split_every).agg(aggs.clone()).unwrap().compute().unwrap();
        prop_assert_eq!(out.num_rows(), 1);
        check_stats(&out, 0, "a", &stats(&a_values(&rows)))?;
        check_stats(&out, 0, "x", &stats(&x_values(&rows)))?;
        prop_assert_eq!(i64_at(named(&out, "size"), 0), Some(rows.len() as i64));
        let keys: Vec<&str> = rows.iter().filter_map(|r| r.k.as_deref()).collect();
        let distinct: BTreeSet<&str> = keys.iter().copied().collect();
        prop_assert_eq!(i64_at(named(&out, "k_count"), 0), Some(keys.len() as i64));
        prop_assert_eq!(i64_at(named(&out, "k_nunique"), 0), Some(distinct.len() as i64));
        let k_min = Scalar::from_array(named(&out, "k_min").as_ref(), 0).unwrap();
        let k_max = Scalar::from_array(named(&out, "k_max").as_ref(), 0).unwrap();
        prop_assert_eq!(k_min, Scalar::from(distinct.first().copied()));
        prop_assert_eq!(k_max, Scalar::from(distinct.last().copied()));
        // Types as documented.
        prop_assert_eq!(named(&out, "a_sum").data_type(), &DataType::Int64);
        prop_assert_eq!(named(&out, "a_min").data_type(), &DataType::Int64);
        prop_assert_eq!(named(&out, "a_mean").data_type(), &DataType::Float64);
        prop_assert_eq!(named(&out, "x_nunique").data_type(), &DataType::Int64);

        // Independent of the partitioning and the fan-in.
        let one = frame(&rows, &[]).agg(aggs).unwrap().compute().unwrap();
        same_batch(&out, &one)?;

        // `reduce` and the per-column shortcuts agree with `agg`.
        let mean = df.split_every(split_every).reduce(Agg::mean("x")).unwrap().compute().unwrap();
        prop_assert!(close_opt(mean.as_f64(), stats(&x_values(&rows)).mean));
        let sums = df.split_every(split_every).sum().unwrap().compute().unwrap();
        prop_assert_eq!(names(&sums), vec!["j", "a", "x"]);
        prop_assert_eq!(i64_at(named(&sums, "a"), 0), i64_at(named(&out, "a_sum"), 0));
        let counts = df.count().unwrap().compute().unwrap();
        prop_assert_eq!(counts.num_columns(), 4);
        prop_assert_eq!(i64_at(named(&counts, "k"), 0), Some(keys.len() as i64));
    }

    #[test]
    fn groupby_one_string_key_matches_direct((rows, cuts, split_every) in table()) {
        let df = frame(&rows, &cuts);
        let mut aggs = all_aggs("a");
        aggs.extend(all_aggs("x"));
        aggs.push(Agg::size());
        let out = df.groupby(["k"]).unwrap().split_every(split_every).agg(aggs.clone()).unwrap();
        prop_assert_eq!(out.npartitions(), 1);
        let out = out.compute().unwrap();
        let want = grouped(&rows, |r| r.k.clone());
        prop_assert_eq!(out.num_rows(), want.len());
        let keys = out.column(0).as_string::<i32>();
        for (i, (k, group)) in want.iter().enumerate() {
            prop_assert_eq!(keys.value(i), k.as_str());
            check_stats(&out, i, "a", &stats(&a_values(group)))?;
            check_stats(&out, i, "x", &stats(&x_values(group)))?;
            prop_assert_eq!(i64_at(named(&out, "size"), i), Some(group.len() as i64));
        }
        let one = frame(&rows, &[]).groupby(["k"]).unwrap().agg(aggs).unwrap().compute().unwrap();
        same_batch(&out, &one)?;
    }

    #[test]
    fn groupby_int_key_matches_direct((rows, cuts, split_every) in table()) {
        let df = frame(&rows, &cuts);
        let out = df.groupby(["j"]).unwrap().split_every(split_every).agg(all_aggs("x")).unwrap().compute().unwrap();
        let want = grouped(&rows, |r| r.j);
        prop_assert_eq!(out.num_rows(), want.len());
        for (i, (k, group)) in want.iter().enumerate() {
            prop_assert_eq!(i64_at(out.column(0), i), Some(*k));
            check_stats(&out, i, "x", &stats(&x_values(group)))?;
        }
        // The shortcut over every non-key column that applies.
        let means = df.groupby(["j"]).unwrap().split_every(split_every).mean().unwrap().compute().unwrap();
        prop_assert_eq!(names(&means), vec!["j", "a", "x"]);
        for (i, group) in want.values().enumerate() {
            prop_assert!(close_opt(f64_at(named(&means, "a"), i), stats(&a_values(group)).mean));
        }
    }

    #[test]
    fn groupby_two_keys_matches_direct((rows, cuts, split_every) in table()) {
        let df = frame(&rows, &cuts);
        let aggs = [Agg::sum("a"), Agg::mean("x"), Agg::nunique("a").alias("distinct"), Agg::size()];
        let out = df.groupby(["k", "j"]).unwrap().split_every(split_every).agg(aggs).unwrap().compute().unwrap();
        let want = grouped(&rows, |r| Some((r.k.clone()?, r.j?)));
        prop_assert_eq!(out.num_rows(), want.len());
        let keys = out.column(0).as_string::<i32>();
        for (i, ((k, j), group)) in want.iter().enumerate() {
            prop_assert_eq!(keys.value(i), k.as_str());
            prop_assert_eq!(i64_at(out.column(1), i), Some(*j));
            let a = stats(&a_values(group));
            prop_assert_eq!(i64_at(named(&out, "a"), i), Some(a.sum as i64));
            prop_assert!(close_opt(f64_at(named(&out, "x"), i), stats(&x_values(group)).mean));
            prop_assert_eq!(i64_at(named(&out, "distinct"), i), Some(a.nunique));
            prop_assert_eq!(i64_at(named(&out, "size"), i), Some(group.len() as i64));
        }
    }

    #[test]
    fn split_out_partitions_the_groups((rows, cuts, split_every) in table(), n in 1usize..4) {
        let df = frame(&rows, &cuts);
        let g = df.groupby(["k", "j"]).unwrap();
        let aggs = [Agg::sum("a"), Agg::max("x")];
        let split = g.split_every(split_every).split_out(n).agg(aggs.clone()).unwrap();
        prop_assert_eq!(split.npartitions(), n);
        // Each part sorted; together, the rows of the one-partition result.
        let parts: Vec<RecordBatch> = split.to_delayed().iter().map(|p| p.compute().unwrap()).collect();
        let mut rows_split: Vec<(String, i64, Option<i64>, Option<f64>)> = Vec::new();
        for p in &parts {
            let mut previous: Option<(String, i64)> = None;
            for i in 0..p.num_rows() {
                let key = (p.column(0).as_string::<i32>().value(i).to_owned(), i64_at(p.column(1), i).unwrap_or_default());
                prop_assert!(previous.as_ref().is_none_or(|prev| prev < &key));
                previous = Some(key.clone());
                rows_split.push((key.0, key.1, i64_at(p.column(2), i), f64_at(p.column(3), i)));
            }
        }
        rows_split.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let whole = g.agg(aggs).unwrap().compute().unwrap();
        prop_assert_eq!(rows_split.len(), whole.num_rows());
        for (i, r) in rows_split.iter().enumerate() {
            prop_assert_eq!(r.0.as_str(), whole.column(0).as_string::<i32>().value(i));
            prop_assert_eq!(Some(r.1), i64_at(whole.column(1), i));
            prop_assert_eq!(r.2, i64_at(whole.column(2), i));
            prop_assert_eq!(r.3, f64_at(whole.column(3), i));
        }
    }

    #[test]
    fn describe_matches_direct((rows, cuts, split_every) in table()) {
        let df = frame(&rows, &cuts);
        let d = df.split_every(split_every).describe().unwrap().compute().unwrap();
        prop_assert_eq!(names(&d), vec!["statistic", "j", "a", "x"]);
        let names = d.column(0).as_string::<i32>();
        let expected = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];
        for (i, s) in expected.iter().enumerate() {
            prop_assert_eq!(names.value(i), *s);
        }
        let x = x_values(&rows);
        let st = stats(&x);
        let mut sorted: Vec<f64> = x.iter().flatten().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let want = [
            Some(st.count as f64),
            st.mean,
            st.var.map(f64::sqrt),
            st.min,
            percentile(&sorted, 0.25),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.75),
            st.max,
        ];
        let got = named(&d, "x");
        for (i, w) in want.iter().enumerate() {
            prop_assert!(close_opt(f64_at(got, i), *w), "{}: {:?} vs {:?}", expected[i], f64_at(got, i), w);
        }
    }

    #[test]
    fn value_counts_match_direct((rows, cuts, split_every) in table()) {
        let df = frame(&rows, &cuts);
        let vc = df.split_every(split_every).value_counts("k").unwrap();
        prop_assert_eq!(vc.npartitions(), 1);
        let vc = vc.compute().unwrap();
        let mut want: Vec<(i64, String)> = grouped(&rows, |r| r.k.clone())
            .into_iter()
            .map(|(k, g)| (-(g.len() as i64), k))
            .collect();
        want.sort();
        prop_assert_eq!(vc.num_rows(), want.len());
        prop_assert_eq!(&names(&vc)[1], "count");
        for (i, (minus_n, k)) in want.iter().enumerate() {
            prop_assert_eq!(vc.column(0).as_string::<i32>().value(i), k.as_str());
            prop_assert_eq!(vc.column(1).as_primitive::<Int64Type>().value(i), -minus_n);
        }
    }
}

fn small() -> DataFrame {
    DataFrame::from_arrays(
        [
            (
                "name",
                Arc::new(StringArray::from(vec!["a", "b", "a"])) as ArrayRef,
            ),
            (
                "x",
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef,
            ),
            ("d", Arc::new(Date32Array::from(vec![3, 1, 2])) as ArrayRef),
        ],
        2,
    )
    .unwrap()
}

#[test]
fn errors_are_found_when_building() {
    let df = small();
    let e = df.agg([Agg::sum("nope")]).unwrap_err();
    assert!(
        matches!(&e, DataFrameError::UnknownColumn { name, .. } if name == "nope"),
        "{e}"
    );
    let e = df
        .groupby(["name"])
        .unwrap()
        .agg([Agg::mean("nope")])
        .unwrap_err();
    assert!(matches!(e, DataFrameError::UnknownColumn { .. }));
    assert!(matches!(
        df.groupby(["nope"]),
        Err(DataFrameError::UnknownColumn { .. })
    ));

    let e = df.agg([Agg::sum("name")]).unwrap_err();
    assert!(matches!(e, DataFrameError::Type { .. }));
    let message = e.to_string();
    assert!(
        message.contains("\"name\"") && message.contains("Utf8"),
        "{message}"
    );
    let e = df
        .groupby(["x"])
        .unwrap()
        .agg([Agg::std("name")])
        .unwrap_err();
    assert!(matches!(e, DataFrameError::Type { .. }), "{e}");
    assert!(df
        .agg([Agg::mean("d")])
        .unwrap_err()
        .to_string()
        .contains("Date32"));

    let e = df.agg([Agg::sum("x"), Agg::max("x")]).unwrap_err();
    assert!(
        e.to_string().contains("\"x\"") && e.to_string().contains(".alias"),
        "{e}"
    );
    let e = df
        .groupby(["name"])
        .unwrap()
        .agg([Agg::count("x").alias("name")])
        .unwrap_err();
    assert!(e.to_string().contains("key"), "{e}");
    assert!(df.agg([Agg::sum("x"), Agg::max("x").alias("top")]).is_ok());

    assert!(df.split_every(1).agg([Agg::size()]).is_err());
    assert!(df.groupby(["name"]).unwrap().split_out(0).size().is_err());
    assert!(df.reduce(Agg::quantile("x", -0.1)).is_err());
    // A date is not a Scalar: reduce says to use agg.
    let e = df.reduce(Agg::min("d")).unwrap_err();
    assert!(e.to_string().contains("agg"), "{e}");
    let e = df.value_counts("nope").unwrap_err();
    assert!(matches!(e, DataFrameError::UnknownColumn { .. }));
}

#[test]
fn output_types_follow_the_input() {
    let df = DataFrame::from_arrays(
        [
            (
                "i",
                Arc::new(Int32Array::from(vec![i32::MAX, 1])) as ArrayRef,
            ),
            ("u", Arc::new(UInt8Array::from(vec![200, 100])) as ArrayRef),
            ("d", Arc::new(Date32Array::from(vec![3, 1])) as ArrayRef),
            (
                "b",
                Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef,
            ),
        ],
        2,
    )
    .unwrap();
    let out = df
        .agg([
            Agg::sum("i"),
            Agg::sum("u"),
            Agg::min("d"),
            Agg::max("b"),
            Agg::min("b").alias("b_min"),
        ])
        .unwrap()
        .compute()
        .unwrap();
    // Summed in the widest type of the family: no overflow here.
    assert_eq!(
        out.column(0).as_ref(),
        &Int64Array::from(vec![i64::from(i32::MAX) + 1])
    );
    assert_eq!(out.column(1).as_ref(), &UInt64Array::from(vec![300]));
    assert_eq!(out.column(2).as_ref(), &Date32Array::from(vec![1]));
    assert_eq!(out.column(3).as_ref(), &BooleanArray::from(vec![true]));
    assert_eq!(out.column(4).as_ref(), &BooleanArray::from(vec![false]));

    // Int64 sums wrap around.
    let big = DataFrame::from_arrays(
        [(
            "a",
            Arc::new(Int64Array::from(vec![i64::MAX, 1])) as ArrayRef,
        )],
        2,
    )
    .unwrap();
    assert_eq!(
        big.reduce(Agg::sum("a")).unwrap().compute().unwrap(),
        Scalar::Int64(i64::MIN)
    );
}

#[test]
fn empty_and_all_null_columns_follow_pandas() {
    let df = DataFrame::from_arrays(
        [(
            "x",
            Arc::new(Float64Array::from(vec![None, None])) as ArrayRef,
        )],
        2,
    )
    .unwrap();
    let aggs = [
        Agg::sum("x"),
        Agg::mean("x").alias("mean"),
        Agg::min("x").alias("min"),
        Agg::std("x").alias("std"),
        Agg::count("x").alias("count"),
        Agg::size(),
    ];
    let out = df.agg(aggs.clone()).unwrap().compute().unwrap();
    assert_eq!(f64_at(out.column(0), 0), Some(0.0));
    for c in 1..4 {
        assert!(out.column(c).is_null(0));
    }
    assert_eq!(i64_at(out.column(4), 0), Some(0));
    assert_eq!(i64_at(out.column(5), 0), Some(2));

    // No partitions at all: still one row.
    let schema = df.schema().clone();
    let none = DataFrame::from_batches(vec![], Some(schema)).unwrap();
    let out = none.agg(aggs).unwrap().compute().unwrap();
    assert_eq!(out.num_rows(), 1);
    assert_eq!(i64_at(out.column(5), 0), Some(0));
    let grouped = none
        .groupby(["x"])
        .unwrap()
        .size()
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(grouped.num_rows(), 0);
}

#[test]
fn nan_is_a_value() {
    let df = DataFrame::from_arrays(
        [
            (
                "x",
                Arc::new(Float64Array::from(vec![1.0, f64::NAN, -0.0, 0.0, f64::NAN])) as ArrayRef,
            ),
            (
                "y",
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0, 5.0])) as ArrayRef,
            ),
        ],
        3,
    )
    .unwrap();
    let out = df
        .agg([
            Agg::mean("x"),
            Agg::max("x").alias("max"),
            Agg::min("x").alias("min"),
            Agg::nunique("x").alias("n"),
        ])
        .unwrap()
        .compute()
        .unwrap();
    assert!(f64_at(out.column(0), 0).is_some_and(f64::is_nan));
    assert!(f64_at(out.column(1), 0).is_some_and(f64::is_nan));
    assert_eq!(f64_at(out.column(2), 0), Some(-0.0));
    // 1, NaN and zero.
    assert_eq!(i64_at(out.column(3), 0), Some(3));
    // NaN keys form one group; -0.0 and 0.0 another.
    let g = df.groupby(["x"]).unwrap().sum().unwrap().compute().unwrap();
    assert_eq!(g.num_rows(), 3);
    assert_eq!(
        g.column(1).as_ref(),
        &Float64Array::from(vec![7.0, 1.0, 7.0])
    );
}

#[test]
fn percentiles_of_large_partitions_are_within_the_bound() {
    // 3 partitions of 20000 values each: summarised (more than 4096 each).
    let n = 60_000usize;
    let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64).collect();
    let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(values)) as ArrayRef)], 3)
        .unwrap();
    let d = df.describe().unwrap().compute().unwrap();
    let x = d.column(1).as_primitive::<Float64Type>();
    // The values are 0..n: the exact q percentile is q·(n−1).
    let bound = 3.0 * (20_000f64 / 4096.0).ceil() / 2.0 + 1.0;
    for (row, q) in [(4, 0.25), (5, 0.5), (6, 0.75)] {
        let exact = q * (n - 1) as f64;
        assert!(
            (x.value(row) - exact).abs() <= bound,
            "{q}: {} vs {exact}",
            x.value(row)
        );
    }
    assert_eq!(x.value(3), 0.0);
    assert_eq!(x.value(7), (n - 1) as f64);
}

#[test]
fn task_keys_name_the_operation() {
    let x = Arc::new(Float64Array::from(vec![1.0; 10])) as ArrayRef;
    let df = DataFrame::from_arrays([("name", x.clone()), ("x", x)], 5).unwrap();
    let total = df.split_every(2).agg([Agg::sum("x")]).unwrap();
    let root = total.key().to_string();
    assert!(root.starts_with("agg-"), "{root}");
    let dot = total.to_dot();
    assert!(
        dot.contains("agg-chunk-") && dot.contains("agg-combine-"),
        "{dot}"
    );
    let by = df.groupby(["name"]).unwrap().agg([Agg::sum("x")]).unwrap();
    let first = by.to_delayed()[0].key().to_string();
    assert!(first.starts_with("(\"groupby-agg-"), "{first}");
}

#[test]
fn aggregations_read_only_the_columns_they_need() {
    // Column "bad" is declared Int64 but holds text: reading it fails, so a
    // groupby that succeeds never parsed it (projection pushdown).
    let dir = std::env::temp_dir().join(format!("dagwood-agg-pushdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.csv"),
        "name,bad,x\na,zz,1.5\nb,zz,2\na,zz,3.5\n",
    )
    .unwrap();
    let df = ReadCsv::new(dir.join("a.csv"))
        .dtype("bad", DataType::Int64)
        .read()
        .unwrap();
    assert!(df.compute().is_err());
    let out = df
        .groupby(["name"])
        .unwrap()
        .agg([Agg::mean("x")])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(out.column(1).as_ref(), &Float64Array::from(vec![2.5, 2.0]));
    assert!(df.agg([Agg::size()]).unwrap().compute().is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
