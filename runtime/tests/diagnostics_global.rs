//! A globally registered progress bar and profiler see computations of every
//! thread; computations that overlap share one bar. (Its own test binary: a
//! global callback would see the computations of unrelated tests.)

use std::sync::{Arc, Barrier};

use dagwood_runtime::diagnostics::{Profiler, ProgressBar};
use dagwood_runtime::{delayed, sum, Delayed, Plan, Scheduler};

/// `n` tasks, one of which waits until the other thread's graph is running too.
fn graph(n: i64, meet: Arc<Barrier>) -> Delayed<i64> {
    let parts: Vec<Delayed<i64>> = (0..n)
        .map(|i| delayed(i).map("part", |v: &i64| v + 1))
        .collect();
    let total = sum(parts, 4).unwrap();
    total.map("meet", move |v: &i64| {
        meet.wait();
        *v
    })
}

#[test]
fn overlapping_computations_on_two_threads_share_one_bar() {
    let bar = ProgressBar::new().to_writer(std::io::sink());
    let prof = Profiler::new();
    let _bar = bar.register();
    let _prof = prof.register();
    let meet = Arc::new(Barrier::new(2));
    let (a, b) = (graph(100, meet.clone()), graph(300, meet));
    let tasks = (Plan::new(&a).task_count() + Plan::new(&b).task_count()) as u64;
    std::thread::scope(|s| {
        let ha = s.spawn(|| a.compute_with(&Scheduler::Sync).unwrap());
        let hb = s.spawn(|| b.compute_with(&Scheduler::Sync).unwrap());
        assert_eq!(ha.join().unwrap(), (1..=100).sum::<i64>());
        assert_eq!(hb.join().unwrap(), (1..=300).sum::<i64>());
    });
    let state = bar.state();
    assert_eq!((state.done, state.total), (tasks, tasks), "{state:?}");
    assert!(state.finished);
    assert_eq!(prof.records().len() as u64, tasks);
    drop(_bar);
    // Unregistered: the next computation is not counted.
    graph(1, Arc::new(Barrier::new(1))).compute().unwrap();
    assert_eq!(bar.state().total, tasks);
}
