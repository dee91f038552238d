//! Soak test of the futures client: many tasks submitted from 4 threads,
//! with random cancels, futures dropped mid-flight, failing and panicking
//! tasks and chains on earlier futures. Checks that every kept future
//! settles with the right outcome, that nothing hangs (a 10-minute bound),
//! and that no memory leaks: a counting global allocator is back to its
//! baseline once the client is dropped.
//!
//! `DAGWOOD_SOAK_TASKS` sets the number of tasks (100 000 by default, for
//! CI; 1 000 000 for the full soak, in release:
//! `DAGWOOD_SOAK_TASKS=1000000 cargo test --release -p dagwood-runtime --test soak -- --nocapture`).
//! This is the only test of its binary, so that no other test allocates
//! while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dagwood_runtime::client::{wait, Client, Future, Status};
use dagwood_runtime::Error;

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by as isize, Ordering::Relaxed) + by as isize;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A result value that counts its live instances.
#[derive(Debug)]
struct Payload {
    value: u64,
    live: Arc<AtomicUsize>,
    _bytes: Vec<u8>,
}

impl Payload {
    fn new(value: u64, live: &Arc<AtomicUsize>) -> Payload {
        live.fetch_add(1, Ordering::Relaxed);
        Payload {
            value,
            live: live.clone(),
            _bytes: vec![0; (value % 64) as usize],
        }
    }
}

impl Clone for Payload {
    fn clone(&self) -> Payload {
        Payload::new(self.value, &self.live)
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a kept future must end as.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Value(u64),
    Failed,
    Cancelled,
}

/// xorshift64*: reproducible, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Futures kept per thread before the older half is checked and let go.
const WINDOW: usize = 4096;

fn check(f: &Future<Payload>, expect: Expect) {
    match (f.status(), expect) {
        (Status::Finished, Expect::Value(v)) => assert_eq!(f.value().unwrap().value, v),
        (Status::Error, Expect::Failed) => {
            assert!(matches!(f.result(), Err(Error::Task { .. })))
        }
        (Status::Cancelled, Expect::Cancelled) => {
            assert!(matches!(f.result(), Err(Error::Cancelled { .. })))
        }
        (status, expect) => panic!("{f:?}: status {status:?}, expected {expect:?}"),
    }
}

fn settle_and_check(window: &mut Vec<(Future<Payload>, Expect)>, keep: usize) {
    let done = window.len() - keep;
    let older: Vec<_> = window.drain(..done).collect();
    let futures: Vec<_> = older.iter().map(|(f, _)| f.clone()).collect();
    wait(&futures, Duration::from_secs(300)).expect("futures did not settle: a hang");
    for (f, expect) in &older {
        check(f, *expect);
    }
}

/// One submitting thread's share: `n` tasks of every kind.
fn submit_mix(client: &Client, n: usize, seed: u64, live: &Arc<AtomicUsize>) {
    let mut rng = Rng(seed | 1);
    let mut window: Vec<(Future<Payload>, Expect)> = Vec::with_capacity(WINDOW);
    for i in 0..n as u64 {
        let l = live.clone();
        match rng.next() % 10 {
            // A task that returns `Err`.
            0 => {
                let f = client.submit_result(
                    |_: u64| Err::<Payload, _>(std::io::Error::other("on purpose")),
                    i,
                );
                window.push((f, Expect::Failed));
            }
            // A task that panics.
            1 => {
                let f = client.submit(
                    move |x: u64| -> Payload {
                        if x < u64::MAX {
                            panic!("on purpose {x}");
                        }
                        Payload::new(x, &l)
                    },
                    i,
                );
                window.push((f, Expect::Failed));
            }
            // A chain on a kept future: its outcome follows its input's.
            2 if !window.is_empty() => {
                let at = (rng.next() % window.len() as u64) as usize;
                let (parent, pe) = window[at].clone();
                let f = client.submit(move |p: Payload| Payload::new(p.value + 1, &l), &parent);
                let e = match pe {
                    Expect::Value(v) => Expect::Value(v + 1),
                    other => other,
                };
                window.push((f, e));
            }
            // Cancelled at once (queued, running or done already).
            3 => {
                let f = client.submit(move |x: u64| Payload::new(x, &l), i);
                f.cancel();
                window.push((f, Expect::Cancelled));
            }
            // Dropped mid-flight: no one wants the value.
            4 => drop(client.submit(move |x: u64| Payload::new(x * 2, &l), i)),
            _ => {
                let f = client.submit(move |x: u64| Payload::new(x * 3, &l), i);
                window.push((f, Expect::Value(i * 3)));
            }
        }
        if window.len() == WINDOW {
            settle_and_check(&mut window, WINDOW / 2);
        }
    }
    settle_and_check(&mut window, 0);
}

fn quiet_expected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<String>();
        if !msg.is_some_and(|m| m.starts_with("on purpose")) {
            default(info);
        }
    }));
}

#[test]
fn soak_client_tasks_from_four_threads_settle_without_leaks() {
    let tasks: usize = std::env::var("DAGWOOD_SOAK_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    quiet_expected_panics();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Lazily made process-wide state (the clock, thread-locals of the
        // runtime) is made once before the baseline is read.
        let warm = Client::with_threads(2).unwrap();
        let f = warm.submit(|x: u64| x + 1, 1);
        assert_eq!(f.result().unwrap(), 2);
        drop((f, warm));
        let baseline = LIVE.load(Ordering::SeqCst);
        PEAK.store(baseline, Ordering::SeqCst);
        let live = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let client = Client::new().unwrap();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (client, live) = (&client, &live);
                s.spawn(move || submit_mix(client, tasks / 4, 0x9e37_79b9 * (t + 1), live));
            }
        });
        drop(client);
        let elapsed = started.elapsed();
        let leaked = LIVE.load(Ordering::SeqCst) - baseline;
        let peak = PEAK.load(Ordering::SeqCst) - baseline;
        let _ = tx.send((elapsed, leaked, peak, live.load(Ordering::SeqCst)));
    });
    let (elapsed, leaked, peak, live) = rx
        .recv_timeout(Duration::from_secs(600))
        .expect("hang: the soak did not end within 10 minutes");
    println!(
        "soak: {tasks} tasks from 4 threads in {:.2} s; peak heap {:.1} MiB above baseline; \
         {leaked} bytes live after the client dropped",
        elapsed.as_secs_f64(),
        peak as f64 / (1024.0 * 1024.0)
    );
    assert_eq!(
        live, 0,
        "result values still alive after the client dropped"
    );
    // Scoped threads' and the channel's bookkeeping may linger a little;
    // a leak of one task's worth per thousand would be megabytes.
    assert!(leaked <= 64 * 1024, "{leaked} bytes leaked");
}
