//! A panicking diagnostics callback, finish hook or user `Drop` becomes an
//! `Err` naming what panicked, under both schedulers and on the futures
//! client: never a hang, never a panic out of `compute`, never a dead worker.
//!
//! Every test runs under [`bounded`], so a regression that hangs fails
//! after 60 s instead of stalling the suite. No test asserts a time.

mod common;
use common::bounded;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use dagwood_runtime::client::{Client, Status};
use dagwood_runtime::diagnostics::{scoped_callback, Callback, GraphSummary, TaskEvent};
use dagwood_runtime::{delayed, sum, Error, Key, Scheduler};

/// Keeps the panics these tests cause on purpose off stderr.
fn quiet() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied());
            if !msg.is_some_and(|m| m.starts_with("on purpose")) {
                default(info);
            }
        }));
    });
}

/// A callback that panics in one of its methods.
struct PanicsIn(&'static str);

impl PanicsIn {
    fn maybe(&self, method: &str) {
        if self.0 == method {
            panic!("on purpose in {method}");
        }
    }
}

impl Callback for PanicsIn {
    fn on_start(&self, _: usize) {
        self.maybe("on_start")
    }
    fn on_task_start(&self, _: &Key, _: usize) {
        self.maybe("on_task_start")
    }
    fn on_task_end(&self, _: &TaskEvent<'_>) {
        self.maybe("on_task_end")
    }
    fn on_finish(&self, _: Option<&Error>) {
        self.maybe("on_finish")
    }
    fn on_graph(&self, _: &GraphSummary) {
        self.maybe("on_graph")
    }
    fn wants_graph(&self) -> bool {
        self.0 == "on_graph"
    }
}

const METHODS: [&str; 5] = [
    "on_start",
    "on_graph",
    "on_task_start",
    "on_task_end",
    "on_finish",
];

fn assert_callback_error(e: &Error, method: &str) {
    match e {
        Error::Callback {
            method: m, message, ..
        } => {
            assert_eq!(*m, method, "{e}");
            assert_eq!(message, &format!("on purpose in {method}"));
            assert!(e.to_string().contains(method), "{e}");
        }
        other => panic!("expected a callback error for {method}, got {other:?}"),
    }
}

/// Keeps count of live instances; its `Drop` panics (once it is armed).
struct PanicOnDrop {
    live: Arc<AtomicUsize>,
}

impl PanicOnDrop {
    fn new(live: &Arc<AtomicUsize>) -> PanicOnDrop {
        live.fetch_add(1, Ordering::SeqCst);
        PanicOnDrop { live: live.clone() }
    }
}

impl Clone for PanicOnDrop {
    fn clone(&self) -> PanicOnDrop {
        PanicOnDrop::new(&self.live)
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        if !std::thread::panicking() {
            panic!("on purpose in Drop");
        }
    }
}

fn schedulers() -> Vec<Scheduler> {
    vec![Scheduler::Sync, Scheduler::threads(2).unwrap()]
}

#[test]
fn a_panicking_callback_fails_compute_under_both_schedulers() {
    quiet();
    bounded("compute with a panicking callback", || {
        for s in schedulers() {
            for method in METHODS {
                let _on = scoped_callback(Arc::new(PanicsIn(method)));
                let parts = (0..20).map(|i| delayed(i).map("square", |v: &i64| v * v));
                let total = sum(parts, 4).unwrap();
                let err = total.compute_with(&s).unwrap_err();
                assert_callback_error(&err, method);
                if method.starts_with("on_task") {
                    assert!(matches!(err, Error::Callback { key: Some(_), .. }));
                }
            }
            // Without the callback the same graph computes.
            let parts = (0..20).map(|i| delayed(i).map("square", |v: &i64| v * v));
            assert_eq!(sum(parts, 4).unwrap().compute_with(&s).unwrap(), 2470);
        }
    });
}

#[test]
fn a_panicking_drop_of_an_input_fails_the_task_under_both_schedulers() {
    quiet();
    bounded("compute with a panicking Drop", || {
        for s in schedulers() {
            let live = Arc::new(AtomicUsize::new(0));
            let l = live.clone();
            // The value exists only inside the run: its consumer holds the
            // last reference, and drops it after reading it.
            let made = delayed(()).map("make", move |_| PanicOnDrop::new(&l));
            let used = made.map("use", |p: &PanicOnDrop| p.live.load(Ordering::SeqCst));
            let err = used.compute_with(&s).unwrap_err();
            assert_eq!(err.key().map(|k| k.name()), Some("use"), "{err}");
            assert!(err.to_string().contains("on purpose in Drop"), "{err}");
            assert_eq!(live.load(Ordering::SeqCst), 0);
        }
    });
}

#[test]
fn a_panicking_callback_fails_the_clients_future_and_keeps_its_worker() {
    quiet();
    bounded("client with a panicking callback", || {
        let client = Client::with_threads(1).unwrap();
        for method in ["on_task_start", "on_task_end"] {
            let f = {
                let _on = scoped_callback(Arc::new(PanicsIn(method)));
                client.submit(|x: i64| x + 1, 1)
            };
            assert_callback_error(&f.result().unwrap_err(), method);
            assert_eq!(f.status(), Status::Error);
            // The one worker is alive: the next task runs.
            assert_eq!(client.submit(|x: i64| x * 2, 21).result().unwrap(), 42);
        }
        // A computed graph: every method of the computation.
        for method in METHODS {
            let f = {
                let _on = scoped_callback(Arc::new(PanicsIn(method)));
                let parts = (0..10).map(|i| delayed(i).map("square", |v: &i64| v * v));
                client.compute(sum(parts, 4).unwrap())
            };
            assert_callback_error(&f.result().unwrap_err(), method);
        }
        assert_eq!(client.submit(|x: i64| x - 1, 1).result().unwrap(), 0);
        drop(client); // returns: no worker is stuck
    });
}

#[test]
fn a_result_dropped_on_a_worker_with_a_panicking_drop_keeps_the_worker() {
    quiet();
    bounded("client dropping a panicking value", || {
        let client = Client::with_threads(1).unwrap();
        let live = Arc::new(AtomicUsize::new(0));
        let (started, gate) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let (s, g, l) = (started.clone(), gate.clone(), live.clone());
        let f = client.submit(
            move |_: ()| {
                s.wait();
                g.wait();
                PanicOnDrop::new(&l)
            },
            (),
        );
        // No one holds the future when the value comes: the worker drops it.
        started.wait();
        drop(f);
        gate.wait();
        assert_eq!(client.submit(|x: i64| x + 1, 1).result().unwrap(), 2);
        assert_eq!(live.load(Ordering::SeqCst), 0);
        drop(client);
    });
}

#[test]
fn a_cancelled_closure_with_a_panicking_drop_keeps_the_worker() {
    quiet();
    bounded("client dropping a panicking closure", || {
        let client = Client::with_threads(1).unwrap();
        let live = Arc::new(AtomicUsize::new(0));
        let bad = client.submit_result(
            |_: ()| Err::<i64, _>(std::io::Error::other("on purpose")),
            (),
        );
        // Never runs (its input fails); its closure, holding the value, is
        // dropped on the worker that settles it.
        let held = PanicOnDrop::new(&live);
        let dependent = client.submit(
            move |x: i64| {
                let _keep = &held;
                x
            },
            &bad,
        );
        assert!(dependent
            .result()
            .unwrap_err()
            .to_string()
            .contains("on purpose"));
        assert_eq!(client.submit(|x: i64| x + 1, 1).result().unwrap(), 2);
        assert_eq!(live.load(Ordering::SeqCst), 0);
        drop(client);
    });
}

#[test]
fn dropping_the_last_handle_of_a_panicking_value_panics_on_the_callers_thread_only() {
    quiet();
    bounded("user drop of a panicking value", || {
        let client = Client::with_threads(1).unwrap();
        let live = Arc::new(AtomicUsize::new(0));
        let l = live.clone();
        let f = client.submit(move |_: ()| PanicOnDrop::new(&l), ());
        f.wait();
        // The user's own drop: the panic is theirs, the client is unharmed.
        assert!(catch_unwind(AssertUnwindSafe(|| drop(f))).is_err());
        assert_eq!(live.load(Ordering::SeqCst), 0);
        assert_eq!(client.submit(|x: i64| x + 1, 1).result().unwrap(), 2);
        drop(client);
    });
}
