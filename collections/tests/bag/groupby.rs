//! `Bag::groupby`: against a sequentially built map over random data and
//! partitionings, with and without spilling; spill files written, read back
//! and removed, also when the computation fails.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use dagwood_collections::bag::{Bag, GroupbyOptions, SpillStats};
use dagwood_collections::runtime::{compute_all_with, delayed, Delayed, Scheduler, TaskBuilder};
use proptest::prelude::*;

/// A fresh spill root for one test (or one proptest case).
fn spill_root(tag: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let p = std::env::temp_dir().join(format!(
        "dagwood-groupby-test-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
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

fn schedulers() -> Vec<Scheduler> {
    vec![Scheduler::Sync, Scheduler::threads(3).expect("thread pool")]
}

/// Checks `parts` (the computed output partitions of a groupby of `items` by
/// `key`) against a map built by one sequential pass.
fn check_groups<
    T: Clone + PartialEq + std::fmt::Debug,
    K: std::hash::Hash + Eq + Clone + std::fmt::Debug,
>(
    items: &[T],
    key: impl Fn(&T) -> K,
    parts: &[Vec<(K, Vec<T>)>],
) {
    let mut want: HashMap<K, Vec<T>> = HashMap::new();
    let mut first: HashMap<K, usize> = HashMap::new();
    for (i, x) in items.iter().enumerate() {
        want.entry(key(x)).or_default().push(x.clone());
        first.entry(key(x)).or_insert(i);
    }
    let mut seen = HashSet::new();
    for (j, part) in parts.iter().enumerate() {
        // Groups of a partition in first-appearance order of their keys.
        let firsts: Vec<usize> = part.iter().map(|(k, _)| first[k]).collect();
        assert!(
            firsts.windows(2).all(|w| w[0] < w[1]),
            "partition {j}: groups out of order: {firsts:?}"
        );
        for (k, group) in part {
            assert!(seen.insert(k.clone()), "key {k:?} in two groups");
            // Whole and in input order.
            assert_eq!(Some(group), want.get(k), "group of {k:?}");
        }
    }
    assert_eq!(seen.len(), want.len(), "every key has its group");
}

/// `items` cut into partitions at the given (unsorted, possibly repeated) cuts.
fn cut(items: &[(u8, u32)], cuts: &[usize]) -> Vec<Vec<(u8, u32)>> {
    let mut at: Vec<usize> = cuts.iter().map(|&c| c.min(items.len())).collect();
    at.sort_unstable();
    let mut parts = Vec::new();
    let mut start = 0;
    for c in at.into_iter().chain([items.len()]) {
        parts.push(items[start..c].to_vec());
        start = c;
    }
    parts
}

fn bag_of(parts: &[Vec<(u8, u32)>]) -> Bag<(u8, u32)> {
    Bag::from_delayed(parts.iter().map(|p| delayed(p.clone())).collect())
}

fn compute_parts<T: Clone + Send + Sync + 'static>(b: &Bag<T>, s: &Scheduler) -> Vec<Vec<T>> {
    compute_all_with(&b.to_delayed()[..], s).expect("groupby computes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn groupby_matches_a_sequential_map(
        items in prop::collection::vec((0u8..20, any::<u32>()), 0..300),
        cuts in prop::collection::vec(0usize..300, 0..5),
        nout in 1usize..5,
        limit in prop::sample::select(vec![None, Some(0usize), Some(200), Some(4096)]),
    ) {
        let parts = cut(&items, &cuts);
        let root = spill_root("prop");
        let stats = Arc::new(SpillStats::default());
        let options = GroupbyOptions {
            npartitions: Some(nout),
            memory_limit: Some(limit.unwrap_or(usize::MAX)),
            spill_dir: Some(root.clone()),
            stats: Some(stats.clone()),
            ..Default::default()
        };
        let g = bag_of(&parts).groupby_with(|&(k, _)| k, options).expect("valid options");
        prop_assert_eq!(g.npartitions(), nout);
        for s in schedulers() {
            let got = compute_parts(&g, &s);
            check_groups(&items, |&(k, _)| k, &got);
            prop_assert_eq!(files_under(&root), 0);
        }
        if limit == Some(0) && !items.is_empty() {
            prop_assert!(stats.files_written() > 0);
        }
        prop_assert_eq!(stats.files_removed(), stats.files_written());
        let _ = std::fs::remove_dir_all(&root);
    }
}

#[test]
fn default_groupby_has_as_many_partitions_as_the_input() {
    let items: Vec<(u8, u32)> = (0..500).map(|i| ((i * 7 % 13) as u8, i)).collect();
    let b = Bag::from_sequence(items.clone(), 4).expect("bag");
    let g = b.groupby(|&(k, _)| k);
    assert_eq!(g.npartitions(), 4);
    check_groups(&items, |&(k, _)| k, &compute_parts(&g, &Scheduler::Sync));
    assert_eq!(g.compute().expect("compute").len(), 13);
}

#[test]
fn zero_output_partitions_is_an_error() {
    let b = Bag::from_sequence(0..10_u32, 2).expect("bag");
    let options = GroupbyOptions {
        npartitions: Some(0),
        ..Default::default()
    };
    let err = b
        .groupby_with(|x| x % 2, options)
        .expect_err("0 partitions");
    assert!(err.to_string().contains("npartitions"), "{err}");
}

#[test]
fn empty_bags_group_to_nothing() {
    let b: Bag<u32> = Bag::from_delayed(vec![delayed(vec![]), delayed(vec![])]);
    assert!(b.groupby(|x| *x).compute().expect("compute").is_empty());
    let none: Bag<u32> = Bag::from_delayed(vec![]);
    let g = none.groupby(|x| *x);
    assert_eq!(g.npartitions(), 1);
    assert!(g.compute().expect("compute").is_empty());
}

/// Records of a few hundred bytes each, so a small budget spills often.
fn records(n: u32) -> Vec<(u32, String)> {
    (0..n)
        .map(|i| {
            (
                i % 37,
                format!("record {i} {}", "x".repeat((i % 50) as usize)),
            )
        })
        .collect()
}

#[test]
fn spilling_writes_files_removes_them_and_gives_the_in_memory_result() {
    let items = records(20_000);
    let b = Bag::from_sequence(items.clone(), 4).expect("bag");
    let in_memory = b
        .groupby_with(
            |r: &(u32, String)| r.0,
            GroupbyOptions {
                npartitions: Some(3),
                memory_limit: Some(usize::MAX),
                ..Default::default()
            },
        )
        .expect("groupby");

    let root = spill_root("spill");
    let stats = Arc::new(SpillStats::default());
    // The key function runs in the split tasks: with the Sync scheduler the
    // later ones run after the earlier ones have spilled, and see their
    // files in the spill directory (every 1000th call looks).
    let seen_files = Arc::new(AtomicUsize::new(0));
    let calls = Arc::new(AtomicUsize::new(0));
    let key = {
        let (root, seen_files, calls) = (root.clone(), seen_files.clone(), calls.clone());
        move |r: &(u32, String)| {
            if calls.fetch_add(1, Ordering::Relaxed) % 1000 == 999 {
                seen_files.fetch_max(files_under(&root), Ordering::Relaxed);
            }
            r.0
        }
    };
    let spilling = b
        .groupby_with(
            key,
            GroupbyOptions {
                npartitions: Some(3),
                memory_limit: Some(64 << 10),
                spill_dir: Some(root.clone()),
                heap_size: Some(|r: &(u32, String)| r.1.capacity()),
                stats: Some(stats.clone()),
            },
        )
        .expect("groupby");

    let want = compute_parts(&in_memory, &Scheduler::Sync);
    check_groups(&items, |r| r.0, &want);
    let got = compute_parts(&spilling, &Scheduler::Sync);
    assert_eq!(
        got, want,
        "spilled and in-memory runs agree, partition by partition"
    );

    let written = stats.files_written();
    assert!(
        seen_files.load(Ordering::Relaxed) > 0,
        "spill files were in the spill directory while running"
    );
    assert!(written > 0 && stats.frames_written() > written, "{stats:?}");
    assert!(
        stats.items_spilled() > 10_000,
        "most items went through disk: {stats:?}"
    );
    assert_eq!(stats.files_removed(), written);
    assert_eq!(files_under(&root), 0, "no spill file left");
    assert_eq!(entries_in(&root), 0, "the run's directory is gone too");

    // Threads: same result, same cleanliness.
    let got = compute_parts(&spilling, &Scheduler::threads(3).expect("pool"));
    assert_eq!(got, want);
    assert_eq!(stats.files_removed(), stats.files_written());
    assert_eq!(entries_in(&root), 0);
    std::fs::remove_dir_all(&root).expect("remove the test's root");
}

fn spilling_options(root: &Path) -> GroupbyOptions<(u32, String)> {
    GroupbyOptions {
        npartitions: Some(4),
        memory_limit: Some(16 << 10),
        spill_dir: Some(root.to_path_buf()),
        heap_size: Some(|r: &(u32, String)| r.1.capacity()),
        stats: None,
    }
}

#[test]
fn a_failing_consumer_still_cleans_the_spill_dir() {
    let root = spill_root("fail-after");
    let b = Bag::from_sequence(records(5_000), 3).expect("bag");
    let g = b
        .groupby_with(|r| r.0, spilling_options(&root))
        .expect("groupby");
    // Output partition 0 is consumed by a task that fails: the buckets of
    // the other partitions are still on disk at that moment.
    let parts = g.to_delayed();
    let mut tb = TaskBuilder::new("check");
    let first = tb.input(&parts[0]);
    let failing: Delayed<usize> = tb.build_result(move |args| {
        let groups = first.get(args)?;
        Ok(Err::<usize, _>(format!("refusing {} groups", groups.len())))
    });
    for s in schedulers() {
        let err = compute_all_with((&failing, &parts[1..]), &s).expect_err("the check fails");
        assert!(err.to_string().contains("refusing"), "{err}");
        assert_eq!(
            files_under(&root),
            0,
            "spill files removed after the failure"
        );
        assert_eq!(
            entries_in(&root),
            0,
            "spill directory removed after the failure"
        );
    }
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn a_failing_split_still_cleans_the_spill_dir() {
    let root = spill_root("fail-split");
    let b = Bag::from_sequence(records(5_000), 3).expect("bag");
    // The key function panics on the last record: the split tasks before it
    // have spilled by then (Sync runs them in order).
    let g = b
        .groupby_with(
            |r: &(u32, String)| {
                assert!(!r.1.starts_with("record 4999 "), "bad record");
                r.0
            },
            spilling_options(&root),
        )
        .expect("groupby");
    for s in schedulers() {
        let err = g.compute_with(&s).expect_err("the key function panics");
        assert!(err.to_string().contains("bad record"), "{err}");
        assert_eq!(files_under(&root), 0);
        assert_eq!(entries_in(&root), 0);
    }
    std::fs::remove_dir_all(&root).ok();
}

/// `n` small items grouped into 1000 keys with a 1 MiB budget; checks group
/// sizes and order, and that the run spilled and cleaned up.
fn many_small_items(n: u64) {
    let root = spill_root("large");
    let stats = Arc::new(SpillStats::default());
    let b = Bag::from_sequence(0..n, 8).expect("bag");
    let options = GroupbyOptions {
        npartitions: Some(4),
        memory_limit: Some(1 << 20),
        spill_dir: Some(root.clone()),
        stats: Some(stats.clone()),
        ..Default::default()
    };
    let groups = b
        .groupby_with(|x| x % 1000, options)
        .expect("groupby")
        .compute_with(&Scheduler::threads(4).expect("pool"))
        .expect("compute");
    assert_eq!(groups.len(), 1000.min(n as usize));
    for (k, items) in &groups {
        assert_eq!(
            items.len() as u64,
            n / 1000 + u64::from(*k < n % 1000),
            "group {k}"
        );
        assert!(items.iter().all(|x| x % 1000 == *k));
        assert!(
            items.windows(2).all(|w| w[0] < w[1]),
            "group {k} in input order"
        );
    }
    // (u64, u64) pairs at 16 bytes: n items are n × 16 bytes against 1 MiB.
    if n * 16 > 1 << 20 {
        assert!(stats.items_spilled() > 0, "{stats:?}");
    }
    assert_eq!(stats.files_removed(), stats.files_written());
    assert_eq!(entries_in(&root), 0);
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn groupby_of_a_million_items_spills_within_its_budget() {
    // Well under a second even in debug builds on a 2-core machine.
    many_small_items(1_000_000);
}

#[test]
fn groupby_of_fewer_items_than_keys() {
    many_small_items(700);
}
