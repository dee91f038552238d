//! A failing task stops the run and names itself; nothing hangs or aborts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dagwood_runtime::{delayed, sum, Delayed, Error, Scheduler, TaskBuilder, TaskError};

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Sync,
        Scheduler::threads(2).unwrap(),
        Scheduler::threads(4).unwrap(),
    ]
}

#[test]
fn a_panic_in_one_of_ten_thousand_tasks() {
    for s in schedulers() {
        let started = Arc::new(AtomicUsize::new(0));
        let parts: Vec<Delayed<i64>> = (0..10_000_i64)
            .map(|i| {
                let started = started.clone();
                delayed(i).map("work", move |v: &i64| {
                    started.fetch_add(1, Ordering::SeqCst);
                    if *v == 4_321 {
                        panic!("bad input {v}");
                    }
                    *v
                })
            })
            .collect();
        let bad_key = parts[4_321].key().clone();
        let total = sum(parts, 8).unwrap();
        let err = total.compute_with(&s).unwrap_err();
        match &err {
            Error::Task {
                key,
                cause: TaskError::Panicked(msg),
            } => {
                assert_eq!(key, &bad_key);
                assert_eq!(msg, "bad input 4321");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err.to_string().contains("\"work\""), "{err}");
        let n = started.load(Ordering::SeqCst);
        assert!(n < 10_000, "tasks kept starting after the failure ({n})");
        if matches!(s, Scheduler::Sync) {
            assert_eq!(n, 4_322, "the sync scheduler stops at once");
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("value {0} is odd")]
struct Odd(u32);

#[test]
fn an_err_deep_in_a_chain() {
    for s in schedulers() {
        for fuse in [true, false] {
            let ran_after = Arc::new(AtomicUsize::new(0));
            let mut x = delayed(0_u32);
            for i in 0..100_u32 {
                let ran_after = ran_after.clone();
                let mut b = TaskBuilder::new("step");
                let prev = b.input(&x);
                x = b.build_result(move |args| {
                    let v = prev.take(args)?;
                    if i > 77 {
                        ran_after.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(if i == 77 { Err(Odd(v)) } else { Ok(v + 1) })
                });
            }
            let err = dagwood_runtime::Plan::new(&x)
                .with_fusion(fuse)
                .compute_with(&s)
                .unwrap_err();
            let Error::Task { key, cause } = &err else {
                panic!("unexpected {err:?}")
            };
            assert_eq!(key.name(), "step");
            assert!(matches!(cause, TaskError::Failed(_)));
            assert_eq!(
                err.to_string(),
                format!("task {key} failed: value 77 is odd")
            );
            assert_eq!(
                ran_after.load(Ordering::SeqCst),
                0,
                "nothing after the failure ran"
            );
            // The source chain is intact for callers that walk it.
            let source = std::error::Error::source(&err).unwrap();
            assert_eq!(source.to_string(), "value 77 is odd");
        }
    }
}

#[test]
fn failures_do_not_poison_later_runs() {
    let flaky = Arc::new(AtomicUsize::new(0));
    let f2 = flaky.clone();
    let x = delayed(1).map("flaky", move |v: &i32| {
        if f2.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("first time fails");
        }
        *v
    });
    assert!(x.compute().is_err());
    assert_eq!(x.compute().unwrap(), 1);
}

#[test]
fn panics_with_non_string_payloads_are_reported() {
    let x = delayed(1).map("odd-panic", |_: &i32| -> i32 {
        std::panic::panic_any(42_u8)
    });
    let err = x.compute_with(&Scheduler::Sync).unwrap_err();
    assert!(
        err.to_string().contains("non-string panic payload"),
        "{err}"
    );
}
