//! Bag transforms and aggregations against the plain iterator result on the
//! same data, over random lengths and partitionings (empty partitions, more
//! partitions than items), fan-ins and both schedulers; and the error cases.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use dagwood_collections::bag::Bag;
use dagwood_runtime::{delayed, Delayed, Scheduler};
use proptest::prelude::*;
use serde_json::{json, Value};

/// One-threaded and three-threaded; the pool is built once for all tests.
fn schedulers() -> [Scheduler; 2] {
    static THREADS: OnceLock<Scheduler> = OnceLock::new();
    let threads = THREADS.get_or_init(|| Scheduler::threads(3).expect("a pool of 3 threads"));
    [Scheduler::Sync, threads.clone()]
}

/// Items cut into partitions: either `from_sequence`'s even split (with
/// `nparts` up to 7, so more partitions than items when short) or random
/// cut points, which make empty partitions anywhere.
fn partitioned() -> impl Strategy<Value = Vec<Vec<i64>>> {
    (
        proptest::collection::vec(-40i64..40, 0..200),
        1usize..8,
        any::<bool>(),
    )
        .prop_flat_map(|(items, nparts, even)| {
            let n = items.len();
            let cuts = proptest::collection::vec(0..=n, nparts - 1);
            (Just(items), Just(nparts), Just(even), cuts).prop_map(|(items, k, even, mut cuts)| {
                if even {
                    let len = items.len();
                    let mut it = items.into_iter();
                    return (0..k)
                        .map(|i| {
                            it.by_ref()
                                .take(len / k + usize::from(i < len % k))
                                .collect()
                        })
                        .collect();
                }
                cuts.sort_unstable();
                cuts.push(items.len());
                let mut start = 0;
                cuts.into_iter()
                    .map(|end| {
                        let p = items[start..end].to_vec();
                        start = end;
                        p
                    })
                    .collect()
            })
        })
}

fn bag_of<T: Clone + Send + Sync + 'static>(parts: &[Vec<T>]) -> Bag<T> {
    Bag::from_delayed(
        parts
            .iter()
            .cloned()
            .map(delayed)
            .collect::<Vec<Delayed<Vec<T>>>>(),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// Items with their counts, most frequent first, ties by first appearance.
fn frequencies_of<T: Clone + Eq + std::hash::Hash>(items: &[T]) -> Vec<(T, usize)> {
    let mut order: Vec<(T, usize)> = Vec::new();
    let mut at: HashMap<T, usize> = HashMap::new();
    for x in items {
        match at.get(x) {
            Some(&i) => order[i].1 += 1,
            None => {
                at.insert(x.clone(), order.len());
                order.push((x.clone(), 1));
            }
        }
    }
    order.sort_by_key(|(_, n)| std::cmp::Reverse(*n)); // stable: ties keep first appearance
    order
}

/// Population (ddof 0) or sample (ddof 1) variance, two-pass.
fn variance(xs: &[f64], ddof: f64) -> f64 {
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (xs.len() as f64 - ddof)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn transforms_match_iterators(parts in partitioned(), take in 0usize..220) {
        let items: Vec<i64> = parts.concat();
        let b = bag_of(&parts);
        for s in &schedulers() {
            let got = b.map(|x| x * 3 - 1).compute_with(s).unwrap();
            prop_assert_eq!(got, items.iter().map(|x| x * 3 - 1).collect::<Vec<_>>());

            let got = b.filter(|x| x % 3 == 0).compute_with(s).unwrap();
            prop_assert_eq!(got, items.iter().copied().filter(|x| x % 3 == 0).collect::<Vec<_>>());

            let got = b.remove(|x| x % 3 == 0).compute_with(s).unwrap();
            prop_assert_eq!(got, items.iter().copied().filter(|x| x % 3 != 0).collect::<Vec<_>>());

            let got = b.flat_map(|x| 0..x.rem_euclid(4)).compute_with(s).unwrap();
            let want: Vec<i64> = items.iter().flat_map(|x| 0..x.rem_euclid(4)).collect();
            prop_assert_eq!(got, want);

            // Per partition: the partition's length, then its items reversed.
            let got = b
                .map_partitions(|mut p| {
                    p.reverse();
                    let mut out = vec![p.len() as i64];
                    out.extend(p);
                    out
                })
                .compute_with(s)
                .unwrap();
            let want: Vec<i64> = parts
                .iter()
                .flat_map(|p| std::iter::once(p.len() as i64).chain(p.iter().rev().copied()))
                .collect();
            prop_assert_eq!(got, want);

            // A chain, typed differently along the way.
            let got = b
                .filter(|x| *x >= 0)
                .map(|x| format!("{x}"))
                .flat_map(|s| s.chars().collect::<Vec<_>>())
                .remove(|c| *c == '0')
                .compute_with(s)
                .unwrap();
            let want: Vec<char> = items
                .iter()
                .filter(|x| **x >= 0)
                .flat_map(|x| x.to_string().chars().collect::<Vec<_>>())
                .filter(|c| *c != '0')
                .collect();
            prop_assert_eq!(got, want);

            let got = b.zip(&b.map(|x| x * x)).unwrap().compute_with(s).unwrap();
            prop_assert_eq!(got, items.iter().map(|&x| (x, x * x)).collect::<Vec<_>>());

            prop_assert_eq!(b.take_with(take, s).unwrap(), items.iter().copied().take(take).collect::<Vec<_>>());
        }
        // Transforms keep the partitioning.
        prop_assert_eq!(b.map(|x| x + 1).filter(|x| x % 2 == 0).npartitions(), parts.len());
    }

    #[test]
    fn repartition_keeps_order(parts in partitioned(), n in 1usize..16) {
        let items: Vec<i64> = parts.concat();
        let b = bag_of(&parts).map(|x| x + 1);
        let r = b.repartition(n).unwrap();
        prop_assert_eq!(r.npartitions(), n);
        for s in &schedulers() {
            prop_assert_eq!(r.compute_with(s).unwrap(), items.iter().map(|x| x + 1).collect::<Vec<_>>());
            // Twice, to either side.
            let again = r.repartition(parts.len() + n / 2 + 1).unwrap();
            prop_assert_eq!(again.compute_with(s).unwrap(), items.iter().map(|x| x + 1).collect::<Vec<_>>());
        }
        // Splitting an evenly partitioned bag gives pieces within one item
        // of each other inside each input partition.
        if n >= parts.len() {
            let k = parts.len();
            let lens: Vec<usize> = r.to_delayed().iter().map(|p| p.compute().unwrap().len()).collect();
            let mut at = 0;
            for (i, p) in parts.iter().enumerate() {
                let m = n / k + usize::from(i < n % k);
                let pieces = &lens[at..at + m];
                prop_assert_eq!(pieces.iter().sum::<usize>(), p.len());
                prop_assert!(pieces.iter().max().unwrap() - pieces.iter().min().unwrap() <= 1);
                at += m;
            }
        }
    }

    #[test]
    fn range_matches(n in 0u64..300, k in 1usize..10) {
        let b = Bag::range(n, k).unwrap();
        prop_assert_eq!(b.npartitions(), k);
        for s in &schedulers() {
            prop_assert_eq!(b.compute_with(s).unwrap(), (0..n).collect::<Vec<_>>());
            prop_assert_eq!(b.sum().unwrap().compute_with(s).unwrap(), (0..n).sum::<u64>());
        }
    }

    #[test]
    fn scalar_aggregations_match_iterators(parts in partitioned(), split in 2usize..5) {
        let items: Vec<i64> = parts.concat();
        let b = bag_of(&parts);
        let r = b.split_every(split);
        let floats: Vec<f64> = items.iter().map(|&x| x as f64).collect();
        for s in &schedulers() {
            prop_assert_eq!(r.count().unwrap().compute_with(s).unwrap(), items.len());
            prop_assert_eq!(r.sum().unwrap().compute_with(s).unwrap(), items.iter().sum::<i64>());
            let min = r.min().unwrap().compute_with(s);
            let max = r.max().unwrap().compute_with(s);
            let mean = r.mean().unwrap().compute_with(s);
            let var = r.var(0.0).unwrap().compute_with(s);
            let std1 = r.std(1.0).unwrap().compute_with(s);
            if items.is_empty() {
                prop_assert!(min.unwrap_err().to_string().contains("min of an empty bag"));
                prop_assert!(max.unwrap_err().to_string().contains("max of an empty bag"));
                prop_assert!(mean.unwrap_err().to_string().contains("mean of an empty bag"));
                prop_assert!(var.unwrap_err().to_string().contains("var of an empty bag"));
            } else {
                prop_assert_eq!(min.unwrap(), *items.iter().min().unwrap());
                prop_assert_eq!(max.unwrap(), *items.iter().max().unwrap());
                let want = floats.iter().sum::<f64>() / floats.len() as f64;
                let got = mean.unwrap();
                prop_assert!(close(got, want), "mean {} vs {}", got, want);
                let (got, want) = (var.unwrap(), variance(&floats, 0.0));
                prop_assert!(close(got, want), "var {} vs {}", got, want);
            }
            if items.len() >= 2 {
                let (got, want) = (std1.unwrap(), variance(&floats, 1.0).sqrt());
                prop_assert!(close(got, want), "std {} vs {}", got, want);
            } else {
                let err = std1.unwrap_err().to_string();
                prop_assert!(err.contains("std"), "{}", err);
            }

            // fold and reduction, with order-sensitive (non-commutative)
            // combining: the partitions must be merged left to right.
            let got = r
                .fold(|mut acc: String, x| { acc.push_str(&x.to_string()); acc.push(','); acc },
                      |a, b| a + &b, String::new())
                .unwrap().compute_with(s).unwrap();
            let want: String = items.iter().map(|x| format!("{x},")).collect();
            prop_assert_eq!(got, want);
            let got = r.reduction(|p| p, |ps: Vec<Vec<i64>>| ps.concat()).unwrap().compute_with(s).unwrap();
            prop_assert_eq!(got, items.clone());
        }
    }

    #[test]
    fn bag_aggregations_match_iterators(parts in partitioned(), split in 2usize..5, k in 0usize..12) {
        let items: Vec<i64> = parts.concat();
        let b = bag_of(&parts);
        let r = b.split_every(split);
        // Few distinct values, so counts tie and keys repeat.
        let small = b.map(|x| x.rem_euclid(9));
        let small_items: Vec<i64> = items.iter().map(|x| x.rem_euclid(9)).collect();
        for s in &schedulers() {
            let got = small.split_every(split).frequencies().unwrap();
            prop_assert_eq!(got.npartitions(), 1);
            prop_assert_eq!(got.compute_with(s).unwrap(), frequencies_of(&small_items));

            let mut seen = std::collections::HashSet::new();
            let want: Vec<i64> = small_items.iter().copied().filter(|x| seen.insert(*x)).collect();
            prop_assert_eq!(small.split_every(split).distinct().unwrap().compute_with(s).unwrap(), want);

            // topk on a key with ties: what a stable descending sort gives.
            let key = |x: &i64| x.rem_euclid(7);
            let mut want = items.clone();
            want.sort_by_key(|x| std::cmp::Reverse(key(x)));
            want.truncate(k);
            prop_assert_eq!(r.topk(k, key).unwrap().compute_with(s).unwrap(), want);

            // foldby: per key, the items in order (non-commutative), keys in
            // order of first appearance.
            let got = r
                .foldby(|x| x.rem_euclid(5), |mut acc: Vec<i64>, x| { acc.push(x); acc }, Vec::new(), |mut a, b| { a.extend(b); a })
                .unwrap()
                .compute_with(s)
                .unwrap();
            let mut want: Vec<(i64, Vec<i64>)> = Vec::new();
            for &x in &items {
                match want.iter_mut().find(|(k, _)| *k == x.rem_euclid(5)) {
                    Some((_, v)) => v.push(x),
                    None => want.push((x.rem_euclid(5), vec![x])),
                }
            }
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn pluck_matches_iterators(values in proptest::collection::vec(proptest::option::of(-100i64..100), 0..100), k in 1usize..8) {
        // Objects that have "a" and sometimes "b"; arrays of [a, b-or-null].
        let objs: Vec<Value> = values.iter().enumerate().map(|(i, b)| match b {
            Some(b) => json!({"a": i, "b": b}),
            None => json!({"a": i}),
        }).collect();
        let bag = Bag::from_sequence(objs.clone(), k).unwrap();
        let arrays = bag.map(|v| json!([v["a"].clone(), v.get("b").cloned().unwrap_or(Value::Null)]));
        for s in &schedulers() {
            let want: Vec<Value> = (0..values.len()).map(|i| json!(i)).collect();
            prop_assert_eq!(bag.pluck("a").compute_with(s).unwrap(), want.clone());
            prop_assert_eq!(arrays.pluck_index(0).compute_with(s).unwrap(), want);
            let want: Vec<Value> = values.iter().map(|b| b.map_or(json!(-1), |b| json!(b))).collect();
            prop_assert_eq!(bag.pluck_or("b", json!(-1)).compute_with(s).unwrap(), want);
            let b = bag.pluck("b").compute_with(s);
            match values.iter().position(Option::is_none) {
                None => prop_assert_eq!(b.unwrap().len(), values.len()),
                Some(_) => {
                    let err = b.unwrap_err().to_string();
                    prop_assert!(err.contains(r#"pluck("b"): item "#) && err.contains(r#"has no key "b"; its keys are ["a"]"#), "{}", err);
                }
            }
        }
    }
}

#[test]
fn take_computes_only_the_partitions_it_needs() {
    let computed = Arc::new(AtomicUsize::new(0));
    let c = computed.clone();
    let b = Bag::from_sequence(0..100_i64, 10)
        .unwrap()
        .map_partitions(move |p| {
            c.fetch_add(1, Ordering::SeqCst);
            p
        });
    assert_eq!(
        b.take_with(25, &Scheduler::Sync).unwrap(),
        (0..25).collect::<Vec<_>>()
    );
    assert_eq!(computed.load(Ordering::SeqCst), 3);
    computed.store(0, Ordering::SeqCst);
    assert_eq!(b.take(0).unwrap(), Vec::<i64>::new());
    assert_eq!(computed.load(Ordering::SeqCst), 0);
    // Empty partitions are passed over until there are enough items.
    let sparse = bag_of(&[vec![], vec![1], vec![], vec![2, 3], vec![4]]);
    assert_eq!(sparse.take(3).unwrap(), vec![1, 2, 3]);
    assert_eq!(sparse.take(9).unwrap(), vec![1, 2, 3, 4]);
}

#[test]
fn aggregations_of_a_bag_without_partitions() {
    let b: Bag<i64> = Bag::from_delayed(vec![]);
    assert_eq!(b.count().unwrap().compute().unwrap(), 0);
    assert_eq!(b.sum().unwrap().compute().unwrap(), 0);
    assert_eq!(b.frequencies().unwrap().compute().unwrap(), vec![]);
    assert_eq!(b.distinct().unwrap().compute().unwrap(), Vec::<i64>::new());
    assert!(b
        .max()
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string()
        .contains("max of an empty bag"));
    assert_eq!(
        b.repartition(3).unwrap().compute().unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(b.take(5).unwrap(), Vec::<i64>::new());
}

#[test]
fn float_min_max_propagate_nan_and_mean_converts() {
    let b = Bag::from_sequence([1.0, f64::NAN, -3.0, 7.0], 3).unwrap();
    assert!(b.min().unwrap().compute().unwrap().is_nan());
    assert!(b.max().unwrap().compute().unwrap().is_nan());
    let b = Bag::from_sequence([1.5_f32, -3.0, 7.0], 2).unwrap();
    assert_eq!(b.min().unwrap().compute().unwrap(), -3.0);
    assert_eq!(b.max().unwrap().compute().unwrap(), 7.0);
    assert_eq!(
        Bag::from_sequence([1_u8, 2, 4, 5], 3)
            .unwrap()
            .mean()
            .unwrap()
            .compute()
            .unwrap(),
        3.0
    );
    // Chan's merge keeps precision with a large offset.
    let xs: Vec<f64> = (0..1000).map(|i| 1e9 + (i % 10) as f64).collect();
    let v = Bag::from_sequence(xs.clone(), 7)
        .unwrap()
        .split_every(2)
        .var(0.0)
        .unwrap()
        .compute()
        .unwrap();
    assert!((v - 8.25).abs() < 1e-6, "{v}");
}

#[test]
fn errors_name_what_was_wrong() {
    let b = Bag::from_sequence(1..=5_i64, 2).unwrap();
    fn text(e: impl std::fmt::Display) -> String {
        e.to_string()
    }

    // Partition counts are checked when zip is called.
    let err = text(b.zip(&b.repartition(3).unwrap()).unwrap_err());
    assert!(
        err.contains("zip: the bags have 2 and 3 partitions"),
        "{err}"
    );
    // Partition lengths when it runs: the task key, the partition and both lengths.
    let err = text(
        b.zip(&b.filter(|&x| x != 4))
            .unwrap()
            .compute()
            .unwrap_err(),
    );
    assert!(err.contains("(\"zip-"), "{err}");
    assert!(
        err.contains("partition 1 has 2 items on the left and 1 on the right"),
        "{err}"
    );

    let empty = b.filter(|_| false);
    for (err, what) in [
        (
            text(empty.mean().unwrap().compute().unwrap_err()),
            "mean of an empty bag",
        ),
        (
            text(empty.min().unwrap().compute().unwrap_err()),
            "min of an empty bag",
        ),
        (
            text(empty.max().unwrap().compute().unwrap_err()),
            "max of an empty bag",
        ),
        (
            text(empty.std(0.0).unwrap().compute().unwrap_err()),
            "std of an empty bag",
        ),
        (
            text(
                Bag::from_sequence([1.0], 1)
                    .unwrap()
                    .var(1.0)
                    .unwrap()
                    .compute()
                    .unwrap_err(),
            ),
            "var with ddof = 1 needs more than 1 items; the bag has 1",
        ),
    ] {
        assert!(err.contains(what), "{err}");
        // The failing task is named: the reduction's layer.
        assert!(err.starts_with("task "), "{err}");
    }

    let rows = Bag::from_sequence(
        vec![json!({"id": 1, "name": "a"}), json!({"id": 2}), json!(17)],
        1,
    )
    .unwrap();
    let err = text(rows.pluck("name").compute().unwrap_err());
    assert!(
        err.contains(
            r#"pluck("name"): item 1 of partition 0 has no key "name"; its keys are ["id"]"#
        ),
        "{err}"
    );
    let err = text(rows.pluck("id").compute().unwrap_err());
    assert!(
        err.contains(r#"pluck("id"): item 2 of partition 0 is not an object but a number: 17"#),
        "{err}"
    );
    let err = text(rows.pluck_index(0).compute().unwrap_err());
    assert!(
        err.contains("pluck_index(0): item 0 of partition 0 is not an array but an object"),
        "{err}"
    );
    assert_eq!(
        rows.pluck_or("id", json!(0)).compute().unwrap(),
        vec![json!(1), json!(2), json!(0)]
    );

    assert!(text(b.split_every(1).count().unwrap_err())
        .contains("split_every must be at least 2, got 1"));
    assert!(text(b.repartition(0).unwrap_err()).contains("npartitions must be at least 1"));
    assert!(text(Bag::range(10, 0).unwrap_err()).contains("npartitions must be at least 1"));
}

#[test]
fn per_partition_steps_fuse_into_one_chain() {
    // Per-item transforms add no task: they are streamed through the
    // reduction's per-partition step, one task per partition: 4 sources +
    // 4 chunks + 1 combine + 1 finish.
    let b = Bag::from_sequence(0..40_i64, 4).unwrap();
    let total = b.map(|x| x * 2).filter(|x| x % 3 == 0).count().unwrap();
    assert_eq!(dagwood_runtime::Plan::new(&total).task_count(), 10);
    assert_eq!(total.compute().unwrap(), 14);
    // With split_every 2 over 4 partitions: 2 + 1 combines.
    let total = b.split_every(2).count().unwrap();
    assert_eq!(
        dagwood_runtime::Plan::new(&total).task_count(),
        4 + 4 + 3 + 1
    );
}

#[test]
fn pluck_errors_name_file_and_line_when_read_from_files() {
    use dagwood_collections::bag::ReadText;
    let dir = std::env::temp_dir().join(format!("dagwood-bag-core-pluck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rows.json");
    // Line 37 (1-based) lacks "a"; small blocks put it in a later partition.
    let text: String = (1..=50)
        .map(|i| {
            if i == 37 {
                "{\"b\": 1}\n".to_string()
            } else {
                format!("{{\"a\": {i}}}\n")
            }
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    let lines = ReadText::new(&path).blocksize(64).read().unwrap();
    assert!(lines.npartitions() > 3);
    // `map` keeps each item's line, so pluck can say where the item came from.
    let values = lines.map(|l| serde_json::from_str::<Value>(&l).unwrap_or(Value::Null));
    let err = values.pluck("a").compute().unwrap_err().to_string();
    assert!(err.contains("rows.json:37)"), "{err}");
    assert!(
        err.contains(r#"has no key "a"; its keys are ["b"]"#),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_streamed_chain_shared_by_two_consumers_gives_both_their_items() {
    // `mapped` is a chain of per-item steps; used twice in one computation
    // (and once as whole partitions), each consumer runs it for itself.
    let b = Bag::from_sequence(0..100_i64, 7).unwrap();
    let mapped = b.map(|x| x % 10).filter(|x| x % 2 == 0);
    let freq = mapped.frequencies().unwrap();
    let count = mapped.count().unwrap();
    for s in schedulers() {
        let (f, n, parts) =
            dagwood_runtime::compute_all_with((freq.to_delayed(), &count, mapped.to_delayed()), &s)
                .unwrap();
        assert_eq!(n, 50);
        assert_eq!(
            f.concat(),
            vec![(0, 10), (2, 10), (4, 10), (6, 10), (8, 10)]
        );
        assert_eq!(parts.concat().len(), 50);
    }
    // Zipping a bag with a chain made from it.
    let z = b.zip(&b.map(|x| x * x)).unwrap().compute().unwrap();
    assert_eq!(z[9], (9, 81));
}
