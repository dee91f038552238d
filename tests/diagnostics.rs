//! Diagnostics through the facade: progress and profiles of `graph!` graphs
//! and arrays, and array pictures summarised by layer.
#![cfg(all(feature = "diagnostics", feature = "array"))]

use dagwood::diagnostics::{Profiler, ProgressBar, VisualizeOptions};
use dagwood::prelude::*;

fn inc(x: i64) -> i64 {
    x + 1
}

fn double(x: i64) -> i64 {
    2 * x
}

#[test]
fn progress_and_profile_of_a_static_graph() {
    for s in [Scheduler::Sync, Scheduler::threads(2).unwrap()] {
        let g = graph! {
            let a = inc(1);
            let b = double(a);
            let c = inc(a);
            b + c
        };
        let tasks = g.info().run_task_count();
        let bar = ProgressBar::new().to_writer(std::io::sink());
        let prof = Profiler::new();
        let value = bar.run(|| prof.run(|| g.compute_with(&s))).unwrap();
        assert_eq!(value, 4 + 3);
        let state = bar.state();
        assert_eq!((state.done, state.total), (tasks as u64, tasks as u64));
        let mut keys: Vec<String> = prof.records().iter().map(|r| r.key.to_string()).collect();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c", "output"]);
    }
}

#[test]
fn array_progress_profile_and_layers() {
    // 50 × 50 blocks: 2,500 blocks, over the 2,000-task threshold.
    let x = Array::<f64>::ones(&[500, 500], &[10, 10]).unwrap();
    let y = (&x * 2.0).materialize().unwrap() + 1.0;
    let bar = ProgressBar::new().to_writer(std::io::sink());
    let prof = Profiler::new();
    let total = bar.run(|| prof.run(|| y.sum().unwrap().compute())).unwrap();
    assert_eq!(total, 3.0 * 500.0 * 500.0);
    let state = bar.state();
    assert!(state.finished && state.done == state.total && state.total > 5000);
    assert_eq!(prof.records().len() as u64, state.total);

    let dir = std::env::temp_dir().join(format!("dagwood-facade-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = y.visualize(dir.join("array.dot")).unwrap();
    assert_eq!(files.tasks, 5000);
    assert_eq!(files.layers, Some(2));
    let text = std::fs::read_to_string(&files.dot).unwrap();
    assert!(text.contains("\\n2500 tasks"), "{text}");
    let small = Array::<f64>::ones(&[20, 20], &[10, 10]).unwrap() + 1.0;
    let files = small
        .visualize_with(dir.join("small.dot"), &VisualizeOptions::new())
        .unwrap();
    assert_eq!((files.tasks, files.layers), (4, None));
    let _ = std::fs::remove_dir_all(&dir);
}
