//! DataFrame operations that move rows between partitions — `shuffle`,
//! `merge`, `drop_duplicates`, `sort_values`, `set_index`, `nlargest`,
//! `groupby(..).apply` — against direct computations on the whole table,
//! over random data with nulls and random partitionings (empty partitions
//! included), both schedulers, broadcast and shuffle joins; spilling under a
//! small memory budget; errors at build time and from failing tasks.

use crate::common;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, OnceLock};

use arrow_array::{
    Array, ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use dagwood_collections::dataframe::{
    col, DataFrame, How, MergeOptions, ShuffleOptions, SpillStats,
};
use dagwood_collections::runtime::Scheduler;
use proptest::prelude::*;

// ---------------------------------------------------------------- helpers

/// One-threaded and two-threaded; the pool is built once for all tests.
fn scheduler(threads: bool) -> Scheduler {
    static POOL: OnceLock<Scheduler> = OnceLock::new();
    if threads {
        POOL.get_or_init(|| Scheduler::threads(2).expect("a pool of 2 threads"))
            .clone()
    } else {
        Scheduler::Sync
    }
}

/// A fresh spill root for one test (or one proptest case).
fn spill_root(tag: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let p = std::env::temp_dir().join(format!(
        "dagwood-df-shuffle-test-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, AtomicOrdering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// Files anywhere under `p` (0 if it does not exist).
fn files_under(p: &Path) -> usize {
    std::fs::read_dir(p).map_or(0, |rd| {
        rd.flatten()
            .map(|e| {
                if e.path().is_dir() {
                    files_under(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

/// Entries (files or directories) directly in `p`.
fn entries_in(p: &Path) -> usize {
    std::fs::read_dir(p).map_or(0, |rd| rd.count())
}

fn partitioned(batch: &RecordBatch, cuts: &[f64]) -> DataFrame {
    common::cut_at_fractions(batch, cuts)
}

type Row = Vec<Option<String>>;

/// A cell as text (`None` for null): types print alike, so an `Int32` 3
/// and an `Int64` 3 compare equal.
fn cell(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        None
    } else {
        Some(arrow_cast::display::array_value_to_string(a, i).expect("printable"))
    }
}

fn rows(b: &RecordBatch) -> Vec<Row> {
    (0..b.num_rows())
        .map(|i| b.columns().iter().map(|c| cell(c.as_ref(), i)).collect())
        .collect()
}

fn sorted(mut r: Vec<Row>) -> Vec<Row> {
    r.sort();
    r
}

fn names(b: &RecordBatch) -> Vec<String> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// A small table: `k` and `k2` keys from small ranges (many repeats, some
/// nulls), a payload `v`, and a unique row id `id`.
#[derive(Clone, Debug)]
struct Table {
    k: Vec<Option<i32>>,
    k2: Vec<Option<String>>,
    v: Vec<Option<String>>,
}

fn table(max_rows: usize) -> impl Strategy<Value = Table> {
    prop::collection::vec(
        (
            prop::option::weighted(0.85, 0..6i32),
            prop::option::weighted(0.85, prop::sample::select(vec!["a", "b", "c"])),
            prop::option::weighted(0.9, "[xyz]{0,3}"),
        ),
        0..max_rows,
    )
    .prop_map(|rows| Table {
        k: rows.iter().map(|r| r.0).collect(),
        k2: rows.iter().map(|r| r.1.map(str::to_owned)).collect(),
        v: rows.iter().map(|r| r.2.clone()).collect(),
    })
}

fn cuts() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0..=1.0f64, 0..4)
}

impl Table {
    /// As a batch with `k` of type `Int32` or `Int64`, an extra payload
    /// column named `payload`, and `id` (row number plus `id_base`).
    fn batch(&self, k64: bool, payload: &str, id_base: i64) -> RecordBatch {
        let k: ArrayRef = if k64 {
            Arc::new(Int64Array::from(
                self.k.iter().map(|x| x.map(i64::from)).collect::<Vec<_>>(),
            ))
        } else {
            Arc::new(Int32Array::from(self.k.clone()))
        };
        let id = (0..self.k.len() as i64)
            .map(|i| i + id_base)
            .collect::<Vec<_>>();
        RecordBatch::try_from_iter([
            ("k", k),
            (
                "k2",
                Arc::new(StringArray::from(self.k2.clone())) as ArrayRef,
            ),
            (
                payload,
                Arc::new(StringArray::from(self.v.clone())) as ArrayRef,
            ),
            ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
        ])
        .expect("valid batch")
    }
}

// ------------------------------------------------------------------ merge

/// Where an expected output column comes from.
#[derive(Clone, Copy, Debug)]
enum Src {
    L(usize),
    R(usize),
    /// A shared key: left value if there is a left row, else right.
    Key(usize, usize),
}

/// A nested-loop join of the row texts: null keys never match.
fn nested_loop(
    left: &[Row],
    right: &[Row],
    lk: &[usize],
    rk: &[usize],
    how: How,
    layout: &[Src],
) -> Vec<Row> {
    let matches = |l: &Row, r: &Row| {
        lk.iter()
            .zip(rk)
            .all(|(&a, &b)| l[a].is_some() && r[b].is_some() && l[a] == r[b])
    };
    let emit = |l: Option<&Row>, r: Option<&Row>| -> Row {
        layout
            .iter()
            .map(|s| match *s {
                Src::L(c) => l.and_then(|l| l[c].clone()),
                Src::R(c) => r.and_then(|r| r[c].clone()),
                Src::Key(a, b) => match l {
                    Some(l) => l[a].clone(),
                    None => r.and_then(|r| r[b].clone()),
                },
            })
            .collect()
    };
    let mut out = Vec::new();
    let mut right_matched = vec![false; right.len()];
    for l in left {
        let mut any = false;
        for (j, r) in right.iter().enumerate() {
            if matches(l, r) {
                any = true;
                right_matched[j] = true;
                out.push(emit(Some(l), Some(r)));
            }
        }
        if !any && matches!(how, How::Left | How::Outer) {
            out.push(emit(Some(l), None));
        }
    }
    if matches!(how, How::Right | How::Outer) {
        for (j, r) in right.iter().enumerate() {
            if !right_matched[j] {
                out.push(emit(None, Some(r)));
            }
        }
    }
    out
}

fn how() -> impl Strategy<Value = How> {
    prop::sample::select(vec![How::Inner, How::Left, How::Right, How::Outer])
}

#[derive(Clone, Debug)]
struct MergeCase {
    left: Table,
    right: Table,
    left_cuts: Vec<f64>,
    right_cuts: Vec<f64>,
    how: How,
    multi_key: bool,
    right_k64: bool,
    broadcast: Option<bool>,
    npartitions: Option<usize>,
    threads: bool,
}

fn merge_case() -> impl Strategy<Value = MergeCase> {
    (
        (table(14), table(14), cuts(), cuts()),
        (
            how(),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(any::<bool>()),
            prop::option::of(1..4usize),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (left, right, left_cuts, right_cuts),
                (how, multi_key, right_k64, broadcast, npartitions, threads),
            )| {
                MergeCase {
                    left,
                    right,
                    left_cuts,
                    right_cuts,
                    how,
                    multi_key,
                    right_k64,
                    broadcast,
                    npartitions,
                    threads,
                }
            },
        )
}

fn check_merge(case: &MergeCase) -> Result<(), TestCaseError> {
    // Left: k Int32, k2, a, id; right: k Int32/Int64, k2, b... both have
    // `v`-named payloads and `id`, so those get suffixes.
    let lb = case.left.batch(false, "v", 0);
    let rb = case.right.batch(case.right_k64, "v", 1000);
    let left = partitioned(&lb, &case.left_cuts);
    let right = partitioned(&rb, &case.right_cuts);
    let on: Vec<&str> = if case.multi_key {
        vec!["k", "k2"]
    } else {
        vec!["k"]
    };
    let options = MergeOptions {
        how: case.how,
        broadcast: case.broadcast,
        shuffle: ShuffleOptions {
            npartitions: case.npartitions,
            ..Default::default()
        },
        ..MergeOptions::on(&on)
    };
    let joined = left.merge_with(&right, options);
    if case.broadcast == Some(true) && case.how == How::Outer {
        prop_assert!(joined.is_err());
        return Ok(());
    }
    let joined = joined.expect("valid merge");
    let (layout, want_names): (Vec<Src>, Vec<&str>) = if case.multi_key {
        (
            vec![
                Src::Key(0, 0),
                Src::Key(1, 1),
                Src::L(2),
                Src::L(3),
                Src::R(2),
                Src::R(3),
            ],
            vec!["k", "k2", "v_x", "id_x", "v_y", "id_y"],
        )
    } else {
        (
            vec![
                Src::Key(0, 0),
                Src::L(1),
                Src::L(2),
                Src::L(3),
                Src::R(1),
                Src::R(2),
                Src::R(3),
            ],
            vec!["k", "k2_x", "v_x", "id_x", "k2_y", "v_y", "id_y"],
        )
    };
    prop_assert_eq!(joined.columns(), want_names);
    let out = joined
        .compute_with(&scheduler(case.threads))
        .expect("merge computes");
    let keys: Vec<usize> = (0..on.len()).collect();
    let want = nested_loop(&rows(&lb), &rows(&rb), &keys, &keys, case.how, &layout);
    prop_assert_eq!(sorted(rows(&out)), sorted(want));
    // The shared key has the common type.
    let want_type = if case.right_k64 {
        DataType::Int64
    } else {
        DataType::Int32
    };
    let got_type = out.schema().field(0).data_type().clone();
    prop_assert_eq!(got_type, want_type);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Every join type, one or two keys, `Int32` against `Int64` keys,
    /// broadcast or shuffled, against a nested-loop join.
    #[test]
    fn merge_matches_nested_loop(case in merge_case()) {
        check_merge(&case)?;
    }

    /// The same join gives the same rows whatever the partitionings,
    /// output partition counts and strategy.
    #[test]
    fn merge_is_independent_of_partitioning(
        left in table(12),
        right in table(12),
        how in how(),
        cuts_a in cuts(),
        cuts_b in cuts(),
        m in 1..5usize,
    ) {
        let (lb, rb) = (left.batch(false, "a", 0), right.batch(false, "b", 100));
        let whole = DataFrame::from_batches(vec![lb.clone()], None).unwrap()
            .merge(&DataFrame::from_batches(vec![rb.clone()], None).unwrap(), ["k", "k2"], how)
            .unwrap()
            .compute()
            .unwrap();
        let options = MergeOptions {
            how,
            broadcast: Some(false),
            shuffle: ShuffleOptions { npartitions: Some(m), ..Default::default() },
            ..MergeOptions::on(["k", "k2"])
        };
        let split = partitioned(&lb, &cuts_a)
            .merge_with(&partitioned(&rb, &cuts_b), options)
            .unwrap();
        prop_assert_eq!(split.npartitions(), m);
        prop_assert_eq!(sorted(rows(&split.compute().unwrap())), sorted(rows(&whole)));
    }
}

#[test]
fn merge_with_different_key_names_keeps_both() {
    let l = RecordBatch::try_from_iter([
        (
            "a",
            Arc::new(Int32Array::from(vec![Some(1), Some(2), None])) as ArrayRef,
        ),
        (
            "x",
            Arc::new(StringArray::from(vec!["p", "q", "r"])) as ArrayRef,
        ),
    ])
    .unwrap();
    let r = RecordBatch::try_from_iter([
        (
            "b",
            Arc::new(Float64Array::from(vec![Some(2.0), None, Some(3.0)])) as ArrayRef,
        ),
        (
            "a",
            Arc::new(StringArray::from(vec!["s", "t", "u"])) as ArrayRef,
        ),
    ])
    .unwrap();
    let (left, right) = (partitioned(&l, &[0.5]), partitioned(&r, &[0.3, 0.3]));
    for broadcast in [None, Some(false)] {
        let options = MergeOptions {
            left_on: vec!["a".into()],
            right_on: vec!["b".into()],
            how: How::Outer,
            broadcast,
            ..Default::default()
        };
        let out = left.merge_with(&right, options).unwrap().compute().unwrap();
        // `a` is a key on the left but a payload on the right: both suffixed.
        assert_eq!(names(&out), vec!["a_x", "x", "b", "a_y"]);
        assert_eq!(out.schema().field(2).data_type(), &DataType::Float64);
        let s = |v: &str| Some(v.to_owned());
        let want = vec![
            vec![s("1"), s("p"), None, None],
            vec![s("2"), s("q"), s("2.0"), s("s")],
            vec![None, s("r"), None, None],
            vec![None, None, None, s("t")],
            vec![None, None, s("3.0"), s("u")],
        ];
        assert_eq!(sorted(rows(&out)), sorted(want));
    }
}

#[test]
fn merge_after_row_steps_and_on_floats() {
    // Steps (a filter, a computed key) run inside the join's tasks; -0.0
    // meets 0.0 and NaN meets NaN, as in pandas.
    let l = DataFrame::from_arrays(
        [
            (
                "x",
                Arc::new(Float64Array::from(vec![
                    Some(0.0),
                    Some(f64::NAN),
                    Some(1.0),
                    None,
                ])) as ArrayRef,
            ),
            (
                "n",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
        ],
        2,
    )
    .unwrap()
    .filter(col("n").lt(4))
    .unwrap();
    let r = DataFrame::from_arrays(
        [(
            "y",
            Arc::new(Float64Array::from(vec![-0.0, f64::NAN, 2.0])) as ArrayRef,
        )],
        2,
    )
    .unwrap()
    .with_column("x", col("y"))
    .unwrap();
    for broadcast in [Some(false), Some(true)] {
        let options = MergeOptions {
            broadcast,
            ..MergeOptions::on(["x"])
        };
        let out = l.merge_with(&r, options).unwrap().compute().unwrap();
        assert_eq!(out.num_rows(), 2, "{:?}", rows(&out));
        let mut n: Vec<i64> = out
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .values()
            .to_vec();
        n.sort_unstable();
        assert_eq!(n, vec![1, 2]);
    }
}

#[test]
fn merge_build_time_errors() {
    let a = DataFrame::from_arrays(
        [
            ("k", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
            ("s_x", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
        ],
        1,
    )
    .unwrap();
    let b = DataFrame::from_arrays(
        [
            ("k", Arc::new(StringArray::from(vec!["1"])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["y"])) as ArrayRef),
            ("j", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
        ],
        1,
    )
    .unwrap();
    let err = |r: dagwood_collections::dataframe::Result<DataFrame>| r.unwrap_err().to_string();

    let e = err(a.merge(&b, ["k"], How::Inner));
    assert!(
        e.contains("\"k\"") && e.contains("Int64") && e.contains("Utf8"),
        "{e}"
    );
    let e = err(a.merge(&b, ["nope"], How::Inner));
    assert!(e.contains("no column named \"nope\""), "{e}");
    let e = err(a.merge_with(
        &b,
        MergeOptions {
            left_on: vec!["k".into()],
            right_on: vec![],
            ..Default::default()
        },
    ));
    assert!(e.contains("as many left key columns as right"), "{e}");
    let e = err(a.merge(&b, Vec::<String>::new(), How::Inner));
    assert!(e.contains("at least one"), "{e}");
    // `s` overlaps; its suffixed name `s_x` is taken.
    let e = err(a.merge_with(
        &b,
        MergeOptions {
            left_on: vec!["k".into()],
            right_on: vec!["j".into()],
            ..Default::default()
        },
    ));
    assert!(e.contains("two columns named \"s_x\""), "{e}");
    let e = err(a.merge_with(
        &b,
        MergeOptions {
            left_on: vec!["k".into()],
            right_on: vec!["j".into()],
            how: How::Outer,
            broadcast: Some(true),
            suffixes: ("_l".into(), "_r".into()),
            ..Default::default()
        },
    ));
    assert!(e.contains("outer join cannot broadcast"), "{e}");
    let e = err(a.merge_with(
        &b,
        MergeOptions {
            left_on: vec!["k".into()],
            right_on: vec!["j".into()],
            suffixes: ("_l".into(), "_r".into()),
            shuffle: ShuffleOptions {
                npartitions: Some(0),
                ..Default::default()
            },
            broadcast: Some(false),
            ..Default::default()
        },
    ));
    assert!(e.contains("npartitions must be at least 1"), "{e}");
    // Int64 against Int32 is fine, and with other suffixes.
    let ok = a
        .merge_with(
            &b,
            MergeOptions {
                left_on: vec!["k".into()],
                right_on: vec!["j".into()],
                suffixes: ("_l".into(), "_r".into()),
                ..Default::default()
            },
        )
        .unwrap();
    // `k` is a key on the left only: both `k` columns stay, suffixed.
    assert_eq!(ok.columns(), vec!["k_l", "s_l", "s_x", "k_r", "s_r", "j"]);
    assert_eq!(ok.len().compute().unwrap(), 1);
}

// ------------------------------------------------------ shuffle & spilling

/// Checks that every key of `parts` is in exactly one partition and that
/// the rows are those of `input`.
fn check_colocated(input: &RecordBatch, parts: &[RecordBatch], key: &[usize]) {
    let mut home: HashMap<Vec<Option<String>>, usize> = HashMap::new();
    let mut all = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        for r in rows(p) {
            let k: Vec<_> = key.iter().map(|&c| r[c].clone()).collect();
            assert_eq!(
                *home.entry(k.clone()).or_insert(j),
                j,
                "key {k:?} in two partitions"
            );
            all.push(r);
        }
    }
    assert_eq!(sorted(all), sorted(rows(input)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Equal keys meet, rows keep their input order within a partition
    /// (ids ascending), in memory or spilling everything.
    #[test]
    fn shuffle_colocates_keys_in_input_order(
        t in table(40),
        c in cuts(),
        m in 1..5usize,
        spill in any::<bool>(),
        threads in any::<bool>(),
    ) {
        let b = t.batch(false, "v", 0);
        let root = spill_root("prop");
        let stats = Arc::new(SpillStats::default());
        let options = ShuffleOptions {
            npartitions: Some(m),
            memory_limit: spill.then_some(0),
            spill_dir: Some(root.clone()),
            stats: Some(stats.clone()),
        };
        let out = partitioned(&b, &c).shuffle(["k", "k2"], options).unwrap();
        prop_assert_eq!(out.npartitions(), m);
        let parts: Vec<RecordBatch> = out
            .to_delayed()
            .iter()
            .map(|p| p.compute_with(&scheduler(threads)).unwrap())
            .collect();
        check_colocated(&b, &parts, &[0, 1]);
        for p in &parts {
            let ids = p.column(3).as_any().downcast_ref::<Int64Array>().unwrap().values();
            prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "input order kept: {:?}", ids);
        }
        if spill && b.num_rows() > 0 {
            prop_assert!(stats.files_written() > 0);
        }
        prop_assert_eq!(stats.files_removed(), stats.files_written());
        prop_assert_eq!(files_under(&root), 0);
        std::fs::remove_dir_all(&root).ok();
    }
}

#[test]
fn spilling_shuffle_and_merge_give_the_in_memory_answer() {
    let n = 3000;
    let k = Arc::new(Int64Array::from(
        (0..n).map(|i| (i * 7) % 101).collect::<Vec<i64>>(),
    )) as ArrayRef;
    let s = Arc::new(StringArray::from(
        (0..n).map(|i| format!("row {i}")).collect::<Vec<_>>(),
    )) as ArrayRef;
    let left = DataFrame::from_arrays([("k", k), ("s", s)], 4).unwrap();
    let rk = Arc::new(Int32Array::from((0..150).collect::<Vec<i32>>())) as ArrayRef;
    let rv = Arc::new(Float64Array::from(
        (0..150).map(f64::from).collect::<Vec<f64>>(),
    )) as ArrayRef;
    let right = DataFrame::from_arrays([("k", rk), ("r", rv)], 3).unwrap();
    let in_memory = left
        .merge(&right, ["k"], How::Outer)
        .unwrap()
        .compute()
        .unwrap();
    for limit in [0, 4 << 10] {
        let root = spill_root("merge");
        let stats = Arc::new(SpillStats::default());
        let shuffle = ShuffleOptions {
            npartitions: Some(3),
            memory_limit: Some(limit),
            spill_dir: Some(root.clone()),
            stats: Some(stats.clone()),
        };
        let options = MergeOptions {
            how: How::Outer,
            shuffle: shuffle.clone(),
            ..MergeOptions::on(["k"])
        };
        let joined = left.merge_with(&right, options).unwrap();
        let out = joined.compute_with(&scheduler(true)).unwrap();
        assert_eq!(sorted(rows(&out)), sorted(rows(&in_memory)));
        assert_eq!(out.num_rows(), 3000 + 49);
        assert!(stats.files_written() > 0, "limit {limit} spills");
        assert!(stats.bytes_written() > 0 && stats.frames_written() >= stats.files_written());
        assert_eq!(stats.files_removed(), stats.files_written());
        assert_eq!(files_under(&root), 0);
        assert_eq!(entries_in(&root), 0, "run directory removed");

        // A plain shuffle under the same budget.
        let before = stats.files_written();
        let shuffled = left.shuffle(["k"], shuffle).unwrap().compute().unwrap();
        assert_eq!(
            sorted(rows(&shuffled)),
            sorted(rows(&left.compute().unwrap()))
        );
        assert!(stats.files_written() > before);
        assert_eq!(stats.files_removed(), stats.files_written());
        assert_eq!(entries_in(&root), 0);
        std::fs::remove_dir_all(&root).ok();
    }
}

#[test]
fn shuffle_errors() {
    let df = DataFrame::from_arrays([("k", Arc::new(Int64Array::from(vec![1])) as ArrayRef)], 1)
        .unwrap();
    let e = df
        .shuffle(["x"], ShuffleOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no column named \"x\""), "{e}");
    let e = df
        .shuffle(Vec::<&str>::new(), ShuffleOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least one"), "{e}");
    let e = df
        .shuffle(["k", "k"], ShuffleOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice"), "{e}");
    let zero = ShuffleOptions {
        npartitions: Some(0),
        ..Default::default()
    };
    assert!(df
        .shuffle(["k"], zero)
        .unwrap_err()
        .to_string()
        .contains("at least 1"));
}

#[test]
fn empty_frames_shuffle_join_and_sort() {
    let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, true)]));
    let none = DataFrame::from_batches(vec![], Some(schema.clone())).unwrap();
    let one = DataFrame::from_arrays(
        [("k", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)],
        2,
    )
    .unwrap();
    assert_eq!(
        none.shuffle(["k"], ShuffleOptions::default())
            .unwrap()
            .compute()
            .unwrap()
            .num_rows(),
        0
    );
    assert_eq!(
        none.sort_values(["k"], true)
            .unwrap()
            .compute()
            .unwrap()
            .num_rows(),
        0
    );
    assert_eq!(
        none.drop_duplicates()
            .unwrap()
            .compute()
            .unwrap()
            .num_rows(),
        0
    );
    for how in [How::Inner, How::Left, How::Right, How::Outer] {
        let n = |a: &DataFrame, b: &DataFrame| {
            a.merge(b, ["k"], how)
                .unwrap()
                .compute()
                .unwrap()
                .num_rows()
        };
        let keeps_left = matches!(how, How::Left | How::Outer);
        let keeps_right = matches!(how, How::Right | How::Outer);
        assert_eq!(n(&one, &none), if keeps_left { 2 } else { 0 }, "{how:?}");
        assert_eq!(n(&none, &one), if keeps_right { 2 } else { 0 }, "{how:?}");
    }
}

// ------------------------------------------------------- drop_duplicates

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The first row of each distinct key, against a sequential pass.
    #[test]
    fn drop_duplicates_keeps_the_first(t in table(40), c in cuts(), whole_rows in any::<bool>()) {
        let b = t.batch(false, "v", 0);
        let df = partitioned(&b, &c);
        if whole_rows {
            // Without the unique id: duplicates of whole rows.
            let no_id = df.drop(["id"]).unwrap();
            let out = no_id.drop_duplicates().unwrap().compute().unwrap();
            let mut seen = HashSet::new();
            let want: Vec<Row> = rows(&no_id.compute().unwrap()).into_iter().filter(|r| seen.insert(r.clone())).collect();
            prop_assert_eq!(sorted(rows(&out)), sorted(want));
        } else {
            let out = df.drop_duplicates_subset(["k2", "k"]).unwrap().compute().unwrap();
            let mut seen = HashSet::new();
            let want: Vec<Row> = rows(&b).into_iter().filter(|r| seen.insert((r[0].clone(), r[1].clone()))).collect();
            prop_assert_eq!(sorted(rows(&out)), sorted(want));
        }
    }
}

// ------------------------------------------------------------------- sort

/// Compares optional values for a sort column: nulls first or last
/// regardless of direction, as pandas' `na_position`.
fn cmp_opt<T: Ord>(a: &Option<T>, b: &Option<T>, ascending: bool, nulls_first: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Some(_), None) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(x), Some(y)) => {
            if ascending {
                x.cmp(y)
            } else {
                y.cmp(x)
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A globally sorted, stable permutation: exactly a stable sort of the
    /// whole table, for one or two columns, either direction, nulls first
    /// or last, many ties, any partitioning and output count.
    #[test]
    fn sort_values_is_a_stable_global_sort(
        t in table(60),
        c in cuts(),
        asc in (any::<bool>(), any::<bool>()),
        two in any::<bool>(),
        nulls_first in any::<bool>(),
        m in prop::option::of(1..5usize),
        threads in any::<bool>(),
    ) {
        let b = t.batch(false, "v", 0);
        let df = partitioned(&b, &c);
        let mut by = vec![("k", asc.0)];
        if two {
            by.push(("k2", asc.1));
        }
        let options = ShuffleOptions { npartitions: m, ..Default::default() };
        let out = df.sort_values_with_options(&by, nulls_first, options).unwrap();
        prop_assert_eq!(out.npartitions(), m.unwrap_or(df.npartitions()));
        let got = out.compute_with(&scheduler(threads)).unwrap();
        let mut order: Vec<usize> = (0..t.k.len()).collect();
        order.sort_by(|&i, &j| {
            let first = cmp_opt(&t.k[i], &t.k[j], asc.0, nulls_first);
            if two { first.then(cmp_opt(&t.k2[i], &t.k2[j], asc.1, nulls_first)) } else { first }
        });
        let want: Vec<i64> = order.iter().map(|&i| i as i64).collect();
        let ids = got.column(3).as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec();
        prop_assert_eq!(ids, want);
    }

    /// `set_index` sorts by the column and moves it first; `nlargest` and
    /// `nsmallest` give the top rows, earlier rows first among equals.
    #[test]
    fn set_index_and_top_n(t in table(40), c in cuts(), n in 0..8usize) {
        let b = t.batch(false, "v", 0);
        let df = partitioned(&b, &c);
        let indexed = df.set_index("k2").unwrap();
        prop_assert_eq!(indexed.columns(), vec!["k2", "k", "v", "id"]);
        let got = indexed.compute().unwrap();
        let mut order: Vec<usize> = (0..t.k.len()).collect();
        order.sort_by(|&i, &j| cmp_opt(&t.k2[i], &t.k2[j], true, false));
        let ids = got.column(3).as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec();
        prop_assert_eq!(ids, order.iter().map(|&i| i as i64).collect::<Vec<_>>());

        for largest in [true, false] {
            let top = if largest { df.nlargest(n, "k") } else { df.nsmallest(n, "k") };
            let got = top.unwrap().compute().unwrap();
            let mut order: Vec<usize> = (0..t.k.len()).filter(|&i| t.k[i].is_some()).collect();
            order.sort_by(|&i, &j| cmp_opt(&t.k[i], &t.k[j], !largest, false));
            order.truncate(n);
            let ids = got.column(3).as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec();
            prop_assert_eq!(ids, order.iter().map(|&i| i as i64).collect::<Vec<_>>());
        }
    }
}

#[test]
fn sort_skewed_keys_and_errors() {
    // Almost every row has one key: it all goes to one partition, still
    // globally sorted.
    let x: Vec<i64> = (0..500).map(|i| if i % 50 == 0 { i } else { 7 }).collect();
    let df = DataFrame::from_arrays(
        [("x", Arc::new(Int64Array::from(x.clone())) as ArrayRef)],
        5,
    )
    .unwrap();
    let out = df.sort_values(["x"], false).unwrap();
    let parts: Vec<RecordBatch> = out
        .to_delayed()
        .iter()
        .map(|p| p.compute().unwrap())
        .collect();
    assert_eq!(parts.len(), 5);
    let mut want = x;
    want.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<i64> = parts
        .iter()
        .flat_map(|p| {
            p.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(got, want);
    let sevens: Vec<usize> = parts
        .iter()
        .map(|p| {
            p.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .iter()
                .filter(|&&v| v == 7)
                .count()
        })
        .collect();
    assert_eq!(sevens.iter().filter(|&&c| c > 0).count(), 1, "{sevens:?}");

    let e = df.sort_values(["nope"], true).unwrap_err().to_string();
    assert!(e.contains("no column named \"nope\""), "{e}");
    assert!(df.sort_values(Vec::<&str>::new(), true).is_err());
    assert!(df.set_index("nope").is_err());
    assert!(df.nlargest(3, "nope").is_err());
}

// ---------------------------------------------------------- groupby apply

fn with_position_schema(input: &Schema) -> Arc<Schema> {
    let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("pos", DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Each group (null keys left out) is given whole and in input order:
    /// the function numbers its rows, checked against a direct grouping.
    #[test]
    fn groupby_apply_sees_whole_groups_in_order(t in table(40), c in cuts(), m in prop::option::of(1..4usize), threads in any::<bool>()) {
        let b = t.batch(false, "v", 0);
        let df = partitioned(&b, &c);
        let schema = with_position_schema(&b.schema());
        let out_schema = schema.clone();
        let numbered = df
            .groupby(["k", "k2"])
            .unwrap()
            .apply_with(
                move |g: RecordBatch| {
                    let pos = Arc::new(Int64Array::from((0..g.num_rows() as i64).collect::<Vec<_>>())) as ArrayRef;
                    let mut columns = g.columns().to_vec();
                    columns.push(pos);
                    Ok(RecordBatch::try_new(out_schema.clone(), columns)?)
                },
                schema,
                ShuffleOptions { npartitions: m, ..Default::default() },
            )
            .unwrap();
        let got = numbered.compute_with(&scheduler(threads)).unwrap();
        let mut count: HashMap<(Option<String>, Option<String>), i64> = HashMap::new();
        let mut want = Vec::new();
        for mut r in rows(&b) {
            if r[0].is_none() || r[1].is_none() {
                continue;
            }
            let n = count.entry((r[0].clone(), r[1].clone())).or_default();
            r.push(Some(n.to_string()));
            *n += 1;
            want.push(r);
        }
        prop_assert_eq!(sorted(rows(&got)), sorted(want));
    }
}

#[test]
fn failing_apply_names_the_task_and_group_and_cleans_up() {
    let k = Arc::new(Int64Array::from(
        (0..400).map(|i| i % 13).collect::<Vec<i64>>(),
    )) as ArrayRef;
    let df = DataFrame::from_arrays([("k", k)], 4).unwrap();
    let schema = df.schema().clone();
    for panics in [false, true] {
        let root = spill_root("apply-fail");
        let stats = Arc::new(SpillStats::default());
        let options = ShuffleOptions {
            npartitions: Some(3),
            memory_limit: Some(0),
            spill_dir: Some(root.clone()),
            stats: Some(stats.clone()),
        };
        let failing = df
            .groupby(["k"])
            .unwrap()
            .apply_with(
                move |g: RecordBatch| {
                    let k = g
                        .column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .unwrap()
                        .value(0);
                    if k == 5 {
                        if panics {
                            panic!("no fives");
                        }
                        return Err("no fives".into());
                    }
                    Ok(g)
                },
                schema.clone(),
                options,
            )
            .unwrap();
        for threads in [false, true] {
            let err = failing.compute_with(&scheduler(threads)).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("groupby-apply"), "names the task: {msg}");
            assert!(msg.contains("k=5") && msg.contains("no fives"), "{msg}");
            assert!(stats.files_written() > 0);
            assert_eq!(files_under(&root), 0, "spill files removed after failure");
            assert_eq!(
                entries_in(&root),
                0,
                "spill directory removed after failure"
            );
        }
        std::fs::remove_dir_all(&root).ok();
    }

    // A result with the wrong schema names the group too.
    let wrong = df
        .groupby(["k"])
        .unwrap()
        .apply(
            |g: RecordBatch| {
                Ok(RecordBatch::try_from_iter([(
                    "other",
                    g.column(0).clone(),
                )])?)
            },
            schema,
        )
        .unwrap();
    let msg = wrong.compute().unwrap_err().to_string();
    assert!(
        msg.contains("groupby apply on group (k=") && msg.contains("schema mismatch"),
        "{msg}"
    );
}

// ------------------------------------------------ sources, steps, balance

#[test]
fn csv_source_with_steps_sorts_and_joins() {
    // A CSV source in several blocks: the split tasks read it batch by
    // batch through the steps (a filter, a computed column).
    let dir = spill_root("csv");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.csv");
    let mut text = String::from("id,k,name\n");
    for i in 0..300 {
        text.push_str(&format!("{i},{},n{}\n", (i * 37) % 23, i % 5));
    }
    std::fs::write(&path, text).unwrap();
    let df = dagwood_collections::dataframe::ReadCsv::new(&path)
        .blocksize(600)
        .read()
        .unwrap()
        .filter(col("k").lt(20))
        .unwrap()
        .with_column("k2", col("k") * 2)
        .unwrap();
    assert!(df.npartitions() > 3, "{}", df.npartitions());
    let whole = df.compute().unwrap();

    let sorted_df = df
        .sort_values_with(&[("k", false), ("id", true)], false)
        .unwrap();
    let got = sorted_df.compute().unwrap();
    let mut want = rows(&whole);
    let num = |s: &Option<String>| s.as_deref().unwrap_or("").parse::<i64>().unwrap();
    want.sort_by(|a, b| {
        num(&b[1])
            .cmp(&num(&a[1]))
            .then(num(&a[0]).cmp(&num(&b[0])))
    });
    assert_eq!(rows(&got), want);

    let small = DataFrame::from_arrays(
        [
            (
                "k2",
                Arc::new(Int32Array::from(vec![0, 2, 4, 38])) as ArrayRef,
            ),
            (
                "tag",
                Arc::new(StringArray::from(vec!["zero", "two", "four", "big"])) as ArrayRef,
            ),
        ],
        1,
    )
    .unwrap();
    let broadcast = df.merge(&small, ["k2"], How::Left).unwrap();
    let options = MergeOptions {
        how: How::Left,
        broadcast: Some(false),
        ..MergeOptions::on(["k2"])
    };
    let shuffled = df.merge_with(&small, options).unwrap();
    let a = broadcast.compute().unwrap();
    let b = shuffled.compute().unwrap();
    assert_eq!(a.num_rows(), whole.num_rows());
    assert_eq!(sorted(rows(&a)), sorted(rows(&b)));
    let tagged = a.column(4).len() - a.column(4).null_count();
    let want_tagged = rows(&whole)
        .iter()
        .filter(|r| matches!(r[3].as_deref(), Some("0" | "2" | "4" | "38")))
        .count();
    assert_eq!(tagged, want_tagged);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sort_ranges_are_balanced() {
    // A pseudo-random permutation: the sampled boundaries should cut it into
    // partitions of roughly equal size.
    let n = 20_000i64;
    let x: Vec<i64> = (0..n).map(|i| (i * 7919) % n).collect();
    let df = DataFrame::from_arrays([("x", Arc::new(Int64Array::from(x)) as ArrayRef)], 8).unwrap();
    let options = ShuffleOptions {
        npartitions: Some(5),
        ..Default::default()
    };
    let out = df
        .sort_values_with_options(&[("x", true)], false, options)
        .unwrap();
    let parts: Vec<RecordBatch> = out
        .to_delayed()
        .iter()
        .map(|p| p.compute_with(&scheduler(true)).unwrap())
        .collect();
    let sizes: Vec<usize> = parts.iter().map(RecordBatch::num_rows).collect();
    assert_eq!(sizes.iter().sum::<usize>(), n as usize);
    assert!(sizes.iter().all(|&s| s > 2_000 && s < 6_000), "{sizes:?}");
    let all: Vec<i64> = parts
        .iter()
        .flat_map(|p| {
            p.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
}

#[test]
fn a_broadcast_join_reads_only_the_columns_used_after_it() {
    // Column "bad" is declared Int64 but holds text: reading it fails, so a
    // computation that succeeds never parsed it (projection pushdown through
    // the join, down to the CSV reader).
    let dir = std::env::temp_dir().join(format!("dagwood-join-pushdown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (f, rows) in [
        ("a.csv", "k,bad,x\n1,zz,1.5\n2,zz,2\n1,zz,3.5\n3,zz,9\n"),
        ("b.csv", "k,bad,x\n2,zz,4\n3,zz,0.5\n"),
    ] {
        std::fs::write(dir.join(f), rows).unwrap();
    }
    let big = dagwood_collections::dataframe::ReadCsv::new(dir.join("*.csv"))
        .dtype("bad", DataType::Int64)
        .read()
        .unwrap();
    assert_eq!(big.npartitions(), 2);
    assert!(big.compute().is_err());
    let small = DataFrame::from_arrays(
        [
            ("k", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            (
                "label",
                Arc::new(StringArray::from(vec!["one", "two"])) as ArrayRef,
            ),
            (
                "x",
                Arc::new(Float64Array::from(vec![10.0, 20.0])) as ArrayRef,
            ),
        ],
        1,
    )
    .unwrap();
    for how in [How::Inner, How::Left] {
        let joined = big.merge(&small, ["k"], how).unwrap();
        assert_eq!(
            joined.columns(),
            ["k", "bad", "x_x", "label", "x_y"],
            "{how:?}"
        );
        // Reading everything parses "bad".
        assert!(joined.compute().is_err(), "{how:?}");
        // A subset from both sides, a filter, a row count: never "bad".
        let picked = joined.select(["x_x", "label"]).unwrap().compute().unwrap();
        let want_rows = if how == How::Inner { 4 } else { 6 };
        assert_eq!(picked.num_rows(), want_rows, "{how:?}");
        assert_eq!(joined.len().compute().unwrap(), want_rows, "{how:?}");
        let sums = joined
            .groupby(["label"])
            .unwrap()
            .agg([
                dagwood_collections::dataframe::Agg::sum("x_x"),
                dagwood_collections::dataframe::Agg::sum("x_y"),
            ])
            .unwrap()
            .compute()
            .unwrap();
        let by_label: HashMap<Option<String>, (f64, f64)> = (0..sums.num_rows())
            .map(|r| {
                let label = sums
                    .column(0)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap();
                let a = sums
                    .column(1)
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .unwrap();
                let b = sums
                    .column(2)
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .unwrap();
                let l = (!label.is_null(r)).then(|| label.value(r).to_string());
                (l, (a.value(r), b.value(r)))
            })
            .collect();
        assert_eq!(by_label[&Some("one".into())], (5.0, 20.0), "{how:?}");
        assert_eq!(by_label[&Some("two".into())], (6.0, 40.0), "{how:?}");
        // Only the key of the right side: also without "bad".
        let keys_only = joined.select(["label"]).unwrap().compute().unwrap();
        assert_eq!(keys_only.num_rows(), want_rows);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
