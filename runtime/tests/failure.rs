//! A failing task stops the run and names itself; nothing hangs or aborts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use dagwood_runtime::{delayed, sum, Delayed, Error, Scheduler, TaskBuilder, TaskError};

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Sync,
        Scheduler::threads(2).unwrap(),
        Scheduler::threads(4).unwrap(),
    ]
}

/// Keeps the expected panics of these tests off stderr, so that the time the
/// default hook spends printing does not stretch the window between a panic
/// and the runtime seeing it.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.payload().downcast_ref::<String>().map(String::as_str);
            if !msg.is_some_and(|m| m.starts_with("bad input")) {
                default(info);
            }
        }));
    });
}

#[test]
fn a_panic_in_one_of_ten_thousand_tasks() {
    quiet_expected_panics();
    for (threads, s) in [1, 2, 4].into_iter().zip(schedulers()) {
        let started = Arc::new(AtomicUsize::new(0));
        let started_after = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let parts: Vec<Delayed<i64>> = (0..10_000_i64)
            .map(|i| {
                let (started, started_after, failed) =
                    (started.clone(), started_after.clone(), failed.clone());
                delayed(i).map("work", move |v: &i64| {
                    started.fetch_add(1, Ordering::SeqCst);
                    if failed.load(Ordering::SeqCst) {
                        started_after.fetch_add(1, Ordering::SeqCst);
                    }
                    // Long enough that unwinding the panic (tens of µs in a
                    // debug build) lets each other worker start at most one task.
                    std::thread::sleep(std::time::Duration::from_micros(100));
                    if *v == 1_234 {
                        failed.store(true, Ordering::SeqCst);
                        panic!("bad input {v}");
                    }
                    *v
                })
            })
            .collect();
        let bad_key = parts[1_234].key().clone();
        let total = sum(parts, 8).unwrap();
        let err = total.compute_with(&s).unwrap_err();
        match &err {
            Error::Task {
                key,
                cause: TaskError::Panicked(msg),
            } => {
                assert_eq!(key, &bad_key);
                assert_eq!(msg, "bad input 1234");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err.to_string().contains("\"work\""), "{err}");
        let n = started.load(Ordering::SeqCst);
        assert!(
            n < 10_000,
            "tasks kept starting after the failure ({n} started)"
        );
        // Between the panic and the runtime raising its flag (microseconds),
        // other workers may pick up a task or two; a runtime that did not stop
        // would start thousands.
        let after = started_after.load(Ordering::SeqCst);
        assert!(
            after <= 2 * threads,
            "{after} tasks started after the failure on {threads} threads"
        );
        if matches!(s, Scheduler::Sync) {
            assert_eq!(n, 1_235, "the sync scheduler stops at once");
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
