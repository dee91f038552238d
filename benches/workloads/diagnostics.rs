//! The diagnostics workload, shared by the criterion bench (`overhead`) and
//! the interleaved report (`diagnostics`): many independent source tasks of
//! a chosen length, summed in a flat tree, run with and without a progress
//! bar or a profiler.
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use std::io::{Read, Write};
use std::net::TcpStream;

use dagwood::diagnostics::{scoped_callback, Callback, Dashboard, Profiler, ProgressBar};
use dagwood::{Delayed, Plan, Scheduler, TaskBuilder};

/// Tasks per run (plus a sum tree of fan-in 64: 159 more).
pub const DIAG_TASKS: u64 = 10_000;

/// A few arithmetic steps the optimiser cannot remove.
pub fn spin(iters: u64) -> u64 {
    let mut x = 0u64;
    for i in 0..iters {
        x = black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    x
}

/// Iterations of `spin` that take about 1 µs here, measured once.
pub fn one_microsecond() -> u64 {
    static ITERS: OnceLock<u64> = OnceLock::new();
    *ITERS.get_or_init(|| {
        let n = 10_000_000;
        let t = Instant::now();
        black_box(spin(n));
        (n as f64 / (t.elapsed().as_secs_f64() * 1e6))
            .round()
            .max(1.0) as u64
    })
}

/// `DIAG_TASKS` independent source tasks of `iters` spins each, summed.
pub fn spin_graph(iters: u64) -> Delayed<u64> {
    let parts: Vec<Delayed<u64>> = (0..DIAG_TASKS)
        .map(|i| TaskBuilder::new("spin").build(move |_| Ok(spin(iters) ^ i)))
        .collect();
    dagwood::tree_reduce(parts, 64, "sum", |v: Vec<u64>| {
        v.into_iter().fold(0, u64::wrapping_add)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A callback that asks for task times and ignores them: what reading the
/// clock around each task costs before anything is recorded.
pub struct TimedNoop;

impl Callback for TimedNoop {}

/// The ways a plan is run: with no diagnostics, with a progress bar (drawing
/// into a sink, so that formatting runs as it would on a terminal), with a
/// timed no-op callback, with a profiler, and with a live dashboard without
/// and with a page reading its event stream. Each run makes a fresh bar or
/// profiler, so starting its thread and growing its buffers is counted; a
/// dashboard is started by [`setup`] before the timed part (a program
/// starts one, not one per computation), and its thread's work during the
/// run is counted.
pub const VARIANTS: [&str; 6] = [
    "off",
    "progress",
    "timed-callback",
    "profiler",
    "dashboard",
    "dashboard+page",
];

/// What a variant needs alive while it runs (a dashboard, and the page's
/// connection): made before timing, dropped after.
pub struct Setup {
    _dashboard: Dashboard,
    _page: Option<std::thread::JoinHandle<u64>>,
}

/// Starts what `variant` needs; `None` for variants that need nothing.
pub fn setup(variant: &str) -> Option<Setup> {
    if !variant.starts_with("dashboard") {
        return None;
    }
    let dashboard = Dashboard::serve("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let page = (variant == "dashboard+page").then(|| {
        // What a browser's EventSource does: read every event as it comes.
        let mut s = TcpStream::connect(dashboard.local_addr()).unwrap_or_else(|e| panic!("{e}"));
        // Ends by itself once the dashboard is gone (updates come every 100 ms).
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let _ = write!(s, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0u64;
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            total
        });
        while dashboard.clients() == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        reader
    });
    Some(Setup {
        _dashboard: dashboard,
        _page: page,
    })
}

/// Runs `plan` once with `variant` (one of [`VARIANTS`]).
pub fn run_variant(variant: &str, plan: &Plan<'_, Delayed<u64>>, s: &Scheduler) -> u64 {
    match variant {
        "progress" => {
            let bar = ProgressBar::new().to_writer(std::io::sink());
            bar.run(|| plan.compute_with(s).unwrap_or(0))
        }
        "timed-callback" => {
            let _on = scoped_callback(Arc::new(TimedNoop));
            plan.compute_with(s).unwrap_or(0)
        }
        "profiler" => {
            let prof = Profiler::new();
            prof.run(|| plan.compute_with(s).unwrap_or(0))
        }
        _ => plan.compute_with(s).unwrap_or(0),
    }
}

/// The two shapes measured: `1us` tasks on the thread pool (the progress
/// target: ≤ 5 % added), and `empty` tasks on one thread, where the
/// difference to `off` is the cost per task (the profiler target: ≤ 50 ns).
pub fn shapes() -> [(&'static str, u64, Scheduler); 2] {
    [
        ("1us", one_microsecond(), Scheduler::default()),
        ("empty", 0, Scheduler::Sync),
    ]
}
