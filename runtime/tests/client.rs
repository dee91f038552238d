//! The futures client: submit, map, gather, scatter, cancel, as_completed,
//! pure calls, compute, errors, reference counting and shutdown.
//!
//! No test asserts a time; `wait(.., 30 s)` guards against hangs.

mod common;
use common::bounded;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use dagwood_runtime::client::{wait, Client, Future, OnDrop, Options, Status};
use dagwood_runtime::{delayed, sum, Error, TaskBuilder};

const GUARD: Duration = Duration::from_secs(30);

fn guard<T>(fs: &[Future<T>]) {
    wait(fs, GUARD).expect("futures did not complete within 30 s");
}

/// Counts live instances: made by tasks, dropped when the client frees them.
struct Tracked(Arc<AtomicUsize>, #[allow(dead_code)] Vec<u8>);

impl Tracked {
    fn new(live: &Arc<AtomicUsize>) -> Tracked {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked(live.clone(), vec![0; 1024])
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A gate that holds the worker(s) busy until opened.
fn gate(parties: usize) -> (Arc<Barrier>, Arc<Barrier>) {
    let b = Arc::new(Barrier::new(parties));
    (b.clone(), b)
}

#[test]
fn hundred_thousand_tiny_tasks_all_gathered() {
    let client = Client::with_threads(2).unwrap();
    let n = 100_000u64;
    let fs: Vec<Future<u64>> = (0..n)
        .map(|i| client.submit(|x: u64| x * 3 + 1, i))
        .collect();
    guard(&fs);
    let values = client.gather(&fs).unwrap();
    assert_eq!(values.len(), n as usize);
    for (i, v) in values.iter().enumerate() {
        assert_eq!(*v, i as u64 * 3 + 1);
    }
    // The same through map.
    let ms = client.map(|x: u64| x ^ 0xff, 0..n);
    guard(&ms);
    let total: u64 = client.gather(&ms).unwrap().iter().sum();
    assert_eq!(total, (0..n).map(|x| x ^ 0xff).sum::<u64>());
}

#[test]
fn dependent_chains_and_diamonds() {
    let client = Client::with_threads(2).unwrap();
    // A chain of 10,000 futures, each the previous plus one.
    let mut x = client.submit(|v: u64| v, 0);
    for _ in 0..10_000 {
        x = client.submit(|v: u64| v + 1, x);
    }
    guard(std::slice::from_ref(&x));
    assert_eq!(x.result().unwrap(), 10_000);

    // A diamond with shared inputs given by reference and by value.
    let a = client.submit(|v: i64| v * 2, 5);
    let b = client.submit(|v: i64| v + 1, &a);
    let c = client.submit(|v: i64| v - 1, &a);
    let d = client.submit(|x: i64, y: i64, z: i64| x * 100 + y * 10 + z, (b, c, &a));
    assert_eq!(d.result().unwrap(), 11 * 100 + 9 * 10 + 10);

    // Submitting on a future that is still running: the dependent waits.
    let (hold, release) = gate(2);
    let slow = client.submit(
        move |v: u32| {
            hold.wait();
            v
        },
        7,
    );
    let after = client.submit(|v: u32| v * 6, &slow);
    assert_eq!(after.status(), Status::Pending);
    release.wait();
    assert_eq!(after.result().unwrap(), 42);
}

#[test]
fn scatter_and_arguments_of_mixed_kinds() {
    let client = Client::with_threads(2).unwrap();
    let data = client.scatter(vec![vec![1.0, 2.0], vec![3.0, 4.0, 5.0]]);
    assert!(data.iter().all(|f| f.status() == Status::Finished));
    let scale = client.scatter_one(10.0);
    let scaled = client.map(
        |v: Vec<f64>, s: f64| v.iter().map(|x| x * s).sum::<f64>(),
        data.iter().map(|d| (d, &scale)),
    );
    assert_eq!(client.gather(&scaled).unwrap(), vec![30.0, 120.0]);
    let none = client.submit(|| 5u8, ());
    assert_eq!(none.result().unwrap(), 5);
}

#[test]
fn an_error_surfaces_only_where_gathered() {
    let client = Client::with_threads(2).unwrap();
    let fs: Vec<Future<u64>> = (0..1000u64)
        .map(|i| {
            client.submit(
                |i: u64| {
                    if i == 613 {
                        panic!("bad input {i}");
                    }
                    i
                },
                i,
            )
        })
        .collect();
    guard(&fs);
    let bad_key = fs[613].key().clone();
    for (i, f) in fs.iter().enumerate() {
        if i == 613 {
            assert_eq!(f.status(), Status::Error);
        } else {
            assert_eq!(f.result().unwrap(), i as u64, "future {i}");
        }
    }
    // Gathering all of them reports the failed task by key.
    let err = client.gather(&fs).unwrap_err();
    assert_eq!(err.key(), Some(&bad_key));
    assert!(err.to_string().contains("bad input 613"), "{err}");
    // Gathering the others works.
    let good: Vec<_> = fs[..613].to_vec();
    assert_eq!(client.gather(&good).unwrap().len(), 613);
    // A dependent of the failed task fails with the same key; unrelated
    // tasks submitted afterwards run.
    let dep = client.submit(|v: u64| v + 1, &fs[613]);
    let dep2 = client.submit(|v: u64| v + 1, &dep);
    let err = dep2.result().unwrap_err();
    assert!(matches!(err, Error::Task { .. }));
    assert_eq!(err.key(), Some(&bad_key));
    assert!(dep.exception().is_some());
    assert!(fs[0].exception().is_none());
    assert_eq!(client.submit(|v: u64| v * 2, 21).result().unwrap(), 42);

    // `Err` returns work the same way, and keep their source chain text.
    let parsed = client.submit_result(|s: String| s.parse::<u8>(), "300".to_string());
    let err = parsed.result().unwrap_err();
    assert_eq!(err.key(), Some(parsed.key()));
    assert!(err.to_string().contains("number too large"), "{err}");
}

#[test]
fn as_completed_yields_each_future_once() {
    let client = Client::with_threads(2).unwrap();
    let (hold, release) = gate(2);
    // The first future is held back: it must come out last.
    let first = client.submit(
        move |v: usize| {
            hold.wait();
            v
        },
        0,
    );
    let mut fs = vec![first];
    fs.extend(client.map(|v: usize| v, 1..200));
    fs.push(client.submit(|v: usize| if v > 0 { panic!("boom") } else { v }, 1));
    let mut it = client.as_completed(fs);
    let mut seen = HashSet::new();
    let mut errors = 0;
    for _ in 0..200 {
        let f = it.next_timeout(GUARD).expect("a future completes");
        match f.result() {
            Ok(v) => assert!(seen.insert(v), "{v} yielded twice"),
            Err(_) => errors += 1,
        }
    }
    assert_eq!(errors, 1);
    assert!(!seen.contains(&0));
    release.wait();
    let last = it.next_timeout(GUARD).expect("the held future completes");
    assert_eq!(last.result().unwrap(), 0);
    assert!(it.next().is_none());
    assert_eq!(seen.len(), 199);
}

static PURE_RUNS: AtomicUsize = AtomicUsize::new(0);

fn expensive(x: u64, y: u64) -> u64 {
    PURE_RUNS.fetch_add(1, Ordering::SeqCst);
    x * 1000 + y
}

#[test]
fn identical_pure_calls_run_once() {
    let client = Client::with_threads(2).unwrap();
    let fs: Vec<Future<u64>> = (0..100)
        .map(|i| client.submit_pure(expensive, (i % 5, 7)))
        .collect();
    guard(&fs);
    assert_eq!(PURE_RUNS.load(Ordering::SeqCst), 5);
    for (i, f) in fs.iter().enumerate() {
        assert_eq!(f.result().unwrap(), (i as u64 % 5) * 1000 + 7);
    }
    assert_eq!(fs[0].key(), fs[5].key());
    assert_ne!(fs[0].key(), fs[1].key());
    // Pure calls on futures hash by the futures' keys: same input future,
    // same task; the non-pure submit runs every time.
    let base = client.submit_pure(expensive, (1, 1));
    let a = client.submit_pure(expensive, (&base, 2));
    let b = client.submit_pure(expensive, (&base, 2));
    assert_eq!(a, b);
    assert_eq!(b.result().unwrap(), 1001 * 1000 + 2);
    assert_eq!(PURE_RUNS.load(Ordering::SeqCst), 7);
    let c = client.submit(expensive, (1, 1));
    let d = client.submit(expensive, (1, 1));
    assert_ne!(c.key(), d.key());
    guard(&[c, d]);
    assert_eq!(PURE_RUNS.load(Ordering::SeqCst), 9);
    // Once every handle is gone, the same call runs again.
    drop((fs, base, a, b));
    let again = client.submit_pure(expensive, (0, 7));
    assert_eq!(again.result().unwrap(), 7);
    assert_eq!(PURE_RUNS.load(Ordering::SeqCst), 10);
}

#[test]
fn results_are_freed_when_no_one_holds_them() {
    let live = Arc::new(AtomicUsize::new(0));
    let client = Client::with_threads(2).unwrap();
    let l = live.clone();
    let fs = client.map(move |_: u32| Tracked::new(&l), 0..50);
    guard(&fs);
    assert_eq!(live.load(Ordering::SeqCst), 50);
    drop(fs);
    assert_eq!(live.load(Ordering::SeqCst), 0);

    // An intermediate result held only by its dependent is freed once the
    // dependent has run; the final one lives while its future does.
    let l = live.clone();
    let mid = client.submit(move |_: ()| Arc::new(Tracked::new(&l)), ());
    let len = client.submit(|t: Arc<Tracked>| t.1.len(), mid);
    assert_eq!(len.result().unwrap(), 1024);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn cancel_drops_queued_work_and_frees_memory() {
    let live = Arc::new(AtomicUsize::new(0));
    let client = Client::with_threads(1).unwrap();
    let (hold, release) = gate(2);
    let busy = client.submit(
        move |_: ()| {
            hold.wait();
            1u8
        },
        (),
    );
    // Queued behind the busy task: each captures a Tracked value.
    let queued: Vec<Future<usize>> = (0..100)
        .map(|_| client.submit(|t: Tracked| t.1.len(), Tracked::new(&live)))
        .collect();
    let dependents: Vec<Future<usize>> = queued
        .iter()
        .map(|q| client.submit(|n: usize| n + 1, q))
        .collect();
    let unrelated = client.map(|i: u32| i + 1, 0..10);
    assert_eq!(live.load(Ordering::SeqCst), 100);
    client.cancel(&queued);
    // The captured arguments are dropped at once, before anything ran.
    assert_eq!(live.load(Ordering::SeqCst), 0);
    assert!(queued.iter().all(|f| f.status() == Status::Cancelled));
    assert!(dependents.iter().all(|f| f.status() == Status::Cancelled));
    release.wait();
    guard(&unrelated);
    assert_eq!(
        client.gather(&unrelated).unwrap(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(busy.result().unwrap(), 1);
    let err = client.gather(&dependents).unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }));
    assert_eq!(err.key(), Some(dependents[0].key()));
    assert!(err.to_string().contains("cancelled"));

    // Cancelling a finished future frees its value.
    let l = live.clone();
    let done = client.submit(move |_: ()| Tracked::new(&l), ());
    done.wait();
    assert_eq!(live.load(Ordering::SeqCst), 1);
    done.cancel();
    assert_eq!(live.load(Ordering::SeqCst), 0);
    assert!(matches!(done.value(), Err(Error::Cancelled { .. })));
}

#[test]
fn cancel_mid_run_with_many_tasks_never_hangs() {
    let live = Arc::new(AtomicUsize::new(0));
    let client = Client::with_threads(2).unwrap();
    let l = live.clone();
    let fs = client.map(
        move |i: u64| {
            let t = Tracked::new(&l);
            std::hint::black_box(i * 2 + t.1.len() as u64)
        },
        0..20_000,
    );
    let others = client.map(|i: u64| i * 2, 0..1000);
    client.cancel(&fs[5_000..]);
    guard(&fs);
    guard(&others);
    let cancelled = fs
        .iter()
        .filter(|f| f.status() == Status::Cancelled)
        .count();
    let finished = fs.iter().filter(|f| f.status() == Status::Finished).count();
    assert_eq!(cancelled + finished, 20_000);
    assert!(cancelled <= 15_000);
    assert!(finished >= 5_000);
    assert_eq!(client.gather(&others).unwrap()[999], 1998);
    assert_eq!(live.load(Ordering::SeqCst), 0);
    // Cancelling the head of a long chain cancels the chain without
    // recursion troubles.
    let (hold, release) = gate(2);
    let head = client.submit(
        move |_: ()| {
            hold.wait();
            0u64
        },
        (),
    );
    let blocker = client.submit(|v: u64| v, &head);
    let mut x = client.submit(|v: u64| v + 1, &blocker);
    for _ in 0..100_000 {
        x = client.submit(|v: u64| v + 1, x);
    }
    blocker.cancel();
    assert_eq!(x.status(), Status::Cancelled);
    release.wait();
    assert_eq!(head.result().unwrap(), 0);
}

#[test]
fn async_gather_under_a_hand_written_executor() {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark()
        }
    }
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
                return v;
            }
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }
    let client = Client::with_threads(2).unwrap();
    let (hold, release) = gate(2);
    let slow = client.submit(
        move |v: u64| {
            hold.wait();
            v
        },
        1000,
    );
    let fs = client.map(|v: u64| v + 1, 0..1000);
    let mut all = fs.clone();
    all.push(slow.clone());
    let opener = std::thread::spawn(move || release.wait());
    let values = block_on(client.gather_async(&all)).unwrap();
    opener.join().unwrap();
    assert_eq!(values.iter().sum::<u64>(), (1..=1000).sum::<u64>() + 1000);
    let one = block_on(async { slow.await }).unwrap();
    assert_eq!(one, 1000);
    let bad = client.submit(|_: ()| -> u8 { panic!("async boom") }, ());
    let err = block_on(client.gather_async([&bad])).unwrap_err();
    assert!(err.to_string().contains("async boom"));
}

#[test]
fn compute_runs_graphs_on_the_client() {
    let client = Client::with_threads(2).unwrap();
    let parts: Vec<_> = (0..500i64)
        .map(|i| {
            delayed(i)
                .map("square", |v: &i64| v * v)
                .map("inc", |v: &i64| v + 1)
        })
        .collect();
    let total = sum(parts.clone(), 16).unwrap();
    let f = client.compute(total.clone());
    let g = client.compute(parts[..3].to_vec());
    assert_eq!(f.result().unwrap(), total.compute().unwrap());
    assert_eq!(g.result().unwrap(), vec![1, 2, 5]);
    // A failing node is named in the error.
    let mut b = TaskBuilder::new("explode");
    let x = b.input(&parts[3]);
    let boom = b.build_result(move |args| {
        let v = *x.get(args)?;
        Ok(if v == 10 { Err("ten") } else { Ok(v) })
    });
    let err = client.compute(boom.clone()).result().unwrap_err();
    assert_eq!(err.key(), Some(boom.key()));
    // Submitted tasks can take a computed future.
    let c = client.compute(parts[4].clone());
    let d = client.submit(|v: i64| v * 2, &c);
    assert_eq!(d.result().unwrap(), 34);
}

#[test]
fn dropping_the_client_waits_or_cancels_and_joins_workers() {
    thread_local! {
        static MARK: std::cell::RefCell<Option<LiveThread>> = const { std::cell::RefCell::new(None) };
    }
    static LIVE_WORKERS: AtomicUsize = AtomicUsize::new(0);
    struct LiveThread;
    impl Drop for LiveThread {
        fn drop(&mut self) {
            LIVE_WORKERS.fetch_sub(1, Ordering::SeqCst);
        }
    }
    fn mark(i: u64) -> u64 {
        MARK.with(|m| {
            let mut m = m.borrow_mut();
            if m.is_none() {
                LIVE_WORKERS.fetch_add(1, Ordering::SeqCst);
                *m = Some(LiveThread);
            }
        });
        i
    }

    // Wait: every held future finishes, even work queued at the drop.
    let client = Client::with_options(Options::new().threads(2)).unwrap();
    let (hold, release) = gate(2);
    let first = client.submit(
        move |v: u64| {
            hold.wait();
            mark(v)
        },
        0,
    );
    let rest = client.map(mark, 1..1000);
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        release.wait()
    });
    drop(client);
    opener.join().unwrap();
    assert_eq!(first.status(), Status::Finished);
    assert!(rest.iter().all(|f| f.status() == Status::Finished));
    // Worker threads have exited (their thread-locals were destroyed).
    assert_eq!(LIVE_WORKERS.load(Ordering::SeqCst), 0);

    // Cancel: queued work is cancelled, never left pending.
    let client = Client::with_options(Options::new().threads(1).on_drop(OnDrop::Cancel)).unwrap();
    let (hold, release) = gate(2);
    let (started, is_started) = std::sync::mpsc::channel();
    let first = client.submit(
        move |v: u64| {
            let _ = started.send(());
            hold.wait();
            mark(v)
        },
        0,
    );
    let rest = client.map(mark, 1..1000);
    let chained = client.submit(|v: u64| v + 1, &rest[10]);
    // The first task must be running (not queued) when the client goes.
    is_started.recv_timeout(GUARD).unwrap();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        release.wait()
    });
    drop(client);
    opener.join().unwrap();
    assert_eq!(first.result().unwrap(), 0);
    assert!(rest.iter().all(|f| f.status() == Status::Cancelled));
    assert_eq!(chained.status(), Status::Cancelled);
    assert_eq!(LIVE_WORKERS.load(Ordering::SeqCst), 0);
}

#[test]
fn a_task_may_hold_and_drop_the_last_client_handle() {
    let client = Client::with_threads(2).unwrap();
    let inner = client.clone();
    let out = Arc::new(Mutex::new(None));
    let o = out.clone();
    // The task submits more work through its own handle, then drops it.
    let f = client.submit(
        move |v: u64| {
            let sub = inner.submit(|x: u64| x + 1, v);
            *o.lock().unwrap() = Some(sub.result().unwrap());
            drop(inner);
            v
        },
        41,
    );
    drop(client);
    assert_eq!(f.result().unwrap(), 41);
    assert_eq!(*out.lock().unwrap(), Some(42));
}

#[test]
fn wait_times_out_on_blocked_work() {
    let client = Client::with_threads(1).unwrap();
    let (hold, release) = gate(2);
    let blocked = client.submit(
        move |_: ()| {
            hold.wait();
            1u8
        },
        (),
    );
    let err = wait([&blocked], Duration::from_millis(50)).unwrap_err();
    assert!(matches!(err, Error::Timeout { pending: 1, .. }));
    assert!(!blocked.wait_timeout(Duration::from_millis(10)));
    release.wait();
    assert!(blocked.wait_timeout(GUARD));
    assert_eq!(blocked.result().unwrap(), 1);
}

#[test]
fn a_computed_graph_frees_a_shared_leaf_before_opening_the_next() {
    // 1,000 leaves of 1 KB, each read by two tasks, all summed with fan-in 8
    // on 2 workers. A worker that finishes a leaf runs one reader itself and
    // queues the other; the earliest made ready task runs first, so that
    // reader runs before the next leaf and the leaf is freed, as with the
    // schedulers (a FIFO queue would put it behind all 1,000 leaves, which
    // would then all be alive at once).
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for i in 0..1000u64 {
        let (l, p) = (live.clone(), peak.clone());
        let leaf = TaskBuilder::new("leaf").build(move |_| {
            let t = Arc::new(Tracked::new(&l));
            p.fetch_max(l.load(Ordering::SeqCst), Ordering::SeqCst);
            Ok((i, t))
        });
        readers.push(leaf.map("a", |v: &(u64, Arc<Tracked>)| v.0));
        readers.push(leaf.map("b", |v: &(u64, Arc<Tracked>)| 2 * v.0));
    }
    let total = sum(readers, 8).unwrap();
    let client = Client::with_threads(2).unwrap();
    assert_eq!(client.compute(total).result().unwrap(), 3 * 999 * 1000 / 2);
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 8, "{peak} leaves alive at once");
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn diagnostics_callbacks_see_client_tasks() {
    use dagwood_runtime::diagnostics::{scoped_callback, Callback, TaskEvent};
    use dagwood_runtime::{Error, Key};

    #[derive(Default)]
    struct Record {
        starts: Mutex<Vec<usize>>,
        ended: Mutex<Vec<(String, usize, bool)>>,
        finishes: Mutex<Vec<Option<String>>>,
    }
    impl Callback for Record {
        fn on_start(&self, tasks: usize) {
            self.starts.lock().unwrap().push(tasks);
        }
        fn on_task_end(&self, e: &TaskEvent<'_>) {
            let row = (e.key.to_string(), e.worker, e.failed);
            self.ended.lock().unwrap().push(row);
        }
        fn on_finish(&self, error: Option<&Error>) {
            self.finishes
                .lock()
                .unwrap()
                .push(error.map(|e| e.to_string()));
        }
    }

    let client = Client::with_threads(2).unwrap();
    let rec = Arc::new(Record::default());
    let on = scoped_callback(rec.clone());
    // Submitted tasks: each reported once, on a worker of the client.
    let fs: Vec<_> = (0..20u64)
        .map(|i| client.submit(|v: u64| v + 1, i))
        .collect();
    assert_eq!(client.gather(&fs).unwrap().len(), 20);
    // A computed graph: one computation, its units, its end.
    let parts: Vec<_> = (0..8i64)
        .map(|i| {
            delayed(i)
                .map("sq", |v: &i64| v * v)
                .with_key(Key::new("sq").with_index(i as u64))
        })
        .collect();
    let total = sum(parts, 4).unwrap();
    assert_eq!(client.compute(total).result().unwrap(), 140);
    // A failing computation ends with its error.
    let bad = delayed(1).map("boom", |_: &i32| -> i32 { panic!("kaboom") });
    assert!(client.compute(bad).result().is_err());
    drop(on);
    // Submitted after the callback went: not reported.
    client.submit(|v: u64| v, 7u64).result().unwrap();

    let ended = rec.ended.lock().unwrap().clone();
    let keys: Vec<&str> = ended.iter().map(|(k, _, _)| k.as_str()).collect();
    let count = |prefix: &str| keys.iter().filter(|k| k.starts_with(prefix)).count();
    // 20 submitted, 8 squares and 3 sums of the graph, the failing task;
    // not the one submitted after the callback went.
    assert_eq!(count("(\"lambda\""), 20, "{keys:?}");
    assert_eq!(count("(\"sq\""), 8, "{keys:?}");
    assert_eq!(count("(\"sum\""), 3, "{keys:?}");
    assert_eq!(count("(\"boom\""), 1, "{keys:?}");
    assert_eq!(ended.len(), 32, "{keys:?}");
    assert!(ended.iter().all(|(_, w, _)| *w < 2), "{ended:?}");
    let failed: Vec<&str> = ended.iter().filter(|e| e.2).map(|e| e.0.as_str()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].starts_with("(\"boom\""), "{failed:?}");
    let starts = rec.starts.lock().unwrap().clone();
    assert_eq!(starts.len(), 2, "{starts:?}");
    let finishes = rec.finishes.lock().unwrap().clone();
    assert_eq!(finishes.len(), 2, "{finishes:?}");
    assert_eq!(finishes[0], None);
    assert!(
        finishes[1].as_deref().is_some_and(|e| e.contains("kaboom")),
        "{finishes:?}"
    );
}

#[test]
fn a_task_waiting_for_a_later_future_does_not_hold_the_only_worker() {
    bounded("a task waiting on a future submitted after it", || {
        let client = Client::with_threads(1).unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Future<i64>>();
        let rx = Mutex::new(rx);
        let outer = client.submit(
            move |_: ()| {
                let later = rx.lock().unwrap().recv().unwrap();
                later.result().unwrap() * 10
            },
            (),
        );
        // Submitted once the outer task holds the worker (it waits for it).
        std::thread::sleep(Duration::from_millis(20));
        let later = client.submit(|x: i64| x + 1, 4);
        tx.send(later.clone()).unwrap();
        assert_eq!(outer.result().unwrap(), 50);
        assert_eq!(later.result().unwrap(), 5);
    });
}

#[test]
fn nested_waits_inside_tasks_finish_on_few_workers() {
    bounded("tasks that gather futures they submit", || {
        for threads in [1, 2] {
            let client = Client::with_threads(threads).unwrap();
            // Each task submits its children and gathers them (Dask's
            // worker_client pattern): depth 3, fan-out 4, all on one or two
            // workers that each wait inside a task.
            fn tree(client: Client, depth: u32) -> u64 {
                if depth == 0 {
                    return 1;
                }
                let kids: Vec<Future<u64>> = (0..4)
                    .map(|_| {
                        let c = client.clone();
                        client.submit(move |d: u32| tree(c, d), depth - 1)
                    })
                    .collect();
                client.gather(&kids).unwrap().iter().sum::<u64>() + 1
            }
            let c = client.clone();
            let root = client.submit(move |d: u32| tree(c, d), 3);
            assert_eq!(root.result().unwrap(), 1 + 4 + 16 + 64);
            // A timed wait inside a task also runs the queue meanwhile.
            let c = client.clone();
            let timed = client.submit(
                move |_: ()| {
                    let inner = c.submit(|x: u64| x * 3, 7);
                    assert!(inner.wait_timeout(Duration::from_secs(30)));
                    inner.result().unwrap()
                },
                (),
            );
            assert_eq!(timed.result().unwrap(), 21);
        }
    });
}
