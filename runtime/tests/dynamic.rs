//! Dynamic graphs: results, sharing, culling, fusion, keys and big graphs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dagwood_runtime::{
    compute_all, compute_all_with, delayed, sum, tree_reduce, Delayed, Key, Plan, Scheduler,
    TaskBuilder,
};
use proptest::prelude::*;

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Sync,
        Scheduler::threads(1).unwrap(),
        Scheduler::threads(4).unwrap(),
        Scheduler::default(),
    ]
}

fn counted(
    name: &'static str,
    input: &Delayed<i64>,
    runs: &Arc<AtomicUsize>,
    k: i64,
) -> Delayed<i64> {
    let runs = runs.clone();
    input.map(name, move |v: &i64| {
        runs.fetch_add(1, Ordering::SeqCst);
        v + k
    })
}

#[test]
fn shared_subgraph_runs_once_in_compute_all() {
    for s in schedulers() {
        let runs = Arc::new(AtomicUsize::new(0));
        let base = counted("base", &delayed(1), &runs, 10);
        let a = counted("a", &base, &runs, 1);
        let b = counted("b", &base, &runs, 2);
        let (x, y) = compute_all_with((&a, &b), &s).unwrap();
        assert_eq!((x, y), (12, 13));
        assert_eq!(runs.load(Ordering::SeqCst), 3, "base, a and b once each");
    }
}

#[test]
fn culling_skips_tasks_the_outputs_do_not_need() {
    let runs = Arc::new(AtomicUsize::new(0));
    let base = counted("base", &delayed(1), &runs, 0);
    let wanted = counted("wanted", &base, &runs, 1);
    let _unwanted = counted("unwanted", &base, &runs, 2);
    assert_eq!(wanted.compute().unwrap(), 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(Plan::new(&wanted).task_count(), 3);
}

#[test]
fn graphs_run_again_with_the_same_result() {
    let x = sum((0..50).map(delayed), 3).unwrap();
    for _ in 0..3 {
        assert_eq!(x.compute().unwrap(), (0..50).sum::<i32>());
    }
}

#[test]
fn chain_fusion_counts_and_keeps_results() {
    let mut x = delayed(0_i64);
    for i in 0..10 {
        x = x.map("step", move |v: &i64| v * 2 + i);
    }
    let fused = Plan::new(&x);
    assert_eq!(fused.task_count(), 11);
    assert_eq!(fused.unit_count(), 1);
    let unfused = Plan::new(&x).with_fusion(false);
    assert_eq!(unfused.unit_count(), 11);
    let expected = (0..10).fold(0_i64, |v, i| v * 2 + i);
    for s in schedulers() {
        assert_eq!(fused.compute_with(&s).unwrap(), expected);
        assert_eq!(unfused.compute_with(&s).unwrap(), expected);
    }
    // A fan-out point ends a chain: base has two consumers.
    let base = delayed(1).map("base", |v: &i32| v + 1);
    let a = base.map("a", |v: &i32| v * 3);
    let b = base.map("b", |v: &i32| v * 5);
    let both = (&a, &b);
    let plan = Plan::new(&both);
    assert_eq!(plan.task_count(), 4);
    assert_eq!(plan.unit_count(), 3, "const+base fuse; a and b stay apart");
    assert_eq!(plan.compute().unwrap(), (6, 10));
}

#[test]
fn outputs_are_never_fused_away() {
    let a = delayed(1).map("a", |v: &i32| v + 1);
    let b = a.map("b", |v: &i32| v * 10);
    assert_eq!(compute_all((&a, &b)).unwrap(), (2, 20));
}

#[test]
fn deep_chain_builds_runs_and_drops_without_overflow() {
    let n = 200_000;
    let mut x = delayed(0_u64);
    for _ in 0..n {
        x = x.map("inc", |v: &u64| v + 1);
    }
    for s in [Scheduler::Sync, Scheduler::default()] {
        assert_eq!(x.compute_with(&s).unwrap(), n);
        assert_eq!(
            Plan::new(&x).with_fusion(false).compute_with(&s).unwrap(),
            n
        );
    }
    drop(x);
}

#[test]
fn wide_graph_of_many_tasks() {
    let parts: Vec<_> = (0..20_000_i64)
        .map(|i| delayed(i).map("sq", |v: &i64| v * v))
        .collect();
    let total = sum(parts, 16).unwrap();
    let expected: i64 = (0..20_000_i64).map(|i| i * i).sum();
    for s in schedulers() {
        assert_eq!(total.compute_with(&s).unwrap(), expected);
    }
}

#[test]
fn keys_are_readable_and_settable() {
    let x = delayed(1).map("load", |v: &i32| *v);
    assert_eq!(x.key().name(), "load");
    assert_eq!(x.key().indices().len(), 1);
    let y = x.clone().with_key(Key::new("load").with_indices(&[3, 4]));
    assert_eq!(y.key().to_string(), r#"("load", 3, 4)"#);
    // The other handle to the shared node keeps its key.
    assert_eq!(x.key().name(), "load");
    assert_eq!(y.compute().unwrap(), 1);
    let dot = y.to_dot();
    assert!(dot.contains(r#"label="(\"load\", 3, 4)""#), "{dot}");
}

#[test]
fn tree_reduce_shapes_and_errors() {
    let r = tree_reduce((0..10).map(delayed), 3, "cat", |v: Vec<i32>| {
        v.into_iter().sum()
    })
    .unwrap();
    assert_eq!(r.key().name(), "cat");
    assert_eq!(r.key().indices()[0], 2, "10 -> 4 -> 2 -> 1: third level");
    assert_eq!(r.compute().unwrap(), 45);
    let one = tree_reduce([delayed(vec![1])], 2, "cat", |v: Vec<Vec<i32>>| v.concat()).unwrap();
    assert_eq!(one.compute().unwrap(), vec![1]);
    let err = tree_reduce(Vec::<Delayed<i32>>::new(), 2, "cat", |v| v[0]).unwrap_err();
    assert!(err.to_string().contains("no items"), "{err}");
    let err = tree_reduce([delayed(1)], 1, "cat", |v| v[0]).unwrap_err();
    assert!(
        err.to_string().contains("fan_in must be at least 2"),
        "{err}"
    );
}

#[test]
fn sync_scheduler_runs_in_priority_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let leaf = |i: i32| {
        let order = order.clone();
        delayed(i).map("leaf", move |v: &i32| {
            order.lock().unwrap().push(*v);
            *v
        })
    };
    let left = sum([leaf(0), leaf(1)], 2).unwrap();
    let right = sum([leaf(2), leaf(3)], 2).unwrap();
    let total = sum([left, right], 2).unwrap();
    for _ in 0..3 {
        order.lock().unwrap().clear();
        assert_eq!(total.compute_with(&Scheduler::Sync).unwrap(), 6);
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
    }
}

#[test]
fn by_value_inputs_move_when_last_consumer() {
    #[derive(Debug)]
    struct Counted(Arc<AtomicUsize>);
    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.0.fetch_add(1, Ordering::SeqCst);
            Counted(self.0.clone())
        }
    }
    let clones = Arc::new(AtomicUsize::new(0));
    let c2 = clones.clone();
    let mut b = TaskBuilder::new("make");
    let _ = &mut b;
    let made: Delayed<Counted> = b.build(move |_| Ok(Counted(c2.clone())));
    let consume = |d: &Delayed<Counted>| {
        let mut b = TaskBuilder::new("consume");
        let x = b.input(d);
        b.build(move |args| Ok(x.take(args)?.0.load(Ordering::SeqCst)))
    };
    let one = consume(&made);
    one.compute().unwrap();
    assert_eq!(clones.load(Ordering::SeqCst), 0, "one consumer moves");
    let a = consume(&made);
    let b2 = consume(&made);
    compute_all_with((&a, &b2), &Scheduler::Sync).unwrap();
    assert_eq!(
        clones.load(Ordering::SeqCst),
        1,
        "two consumers: one clone, one move"
    );
}

/// A random DAG: node i reads up to three earlier nodes.
fn random_dag() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1usize..60).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    proptest::collection::vec(0..i, 0..4).boxed()
                }
            })
            .collect::<Vec<_>>()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_dags_match_sequential_evaluation(dag in random_dag(), fuse in any::<bool>(), pick in 1usize..4) {
        // Sequential reference.
        let mut expect: Vec<i64> = Vec::new();
        for (i, ins) in dag.iter().enumerate() {
            let v = ins.iter().map(|&j| expect[j]).sum::<i64>() * 3 + i as i64;
            expect.push(v % 1_000_003);
        }
        let mut handles: Vec<Delayed<i64>> = Vec::new();
        for (i, ins) in dag.iter().enumerate() {
            let mut b = TaskBuilder::new("node").key(Key::new("node").with_index(i as u64));
            let slots = b.args(ins.iter().map(|&j| handles[j].clone()));
            handles.push(b.build(move |args| {
                let mut s = 0_i64;
                for slot in &slots {
                    s += slot.take(args)?;
                }
                Ok((s * 3 + i as i64) % 1_000_003)
            }));
        }
        let outs: Vec<Delayed<i64>> = handles.iter().rev().step_by(pick).cloned().collect();
        let want: Vec<i64> = expect.iter().rev().step_by(pick).cloned().collect();
        let plan = Plan::new(&outs).with_fusion(fuse);
        for s in [Scheduler::Sync, Scheduler::threads(3).unwrap()] {
            prop_assert_eq!(&plan.compute_with(&s).unwrap(), &want);
        }
    }
}
