//! Per-task cost of the dynamic path (build + run), and its bytes, from 1k
//! to 1M tasks: a fan-in-8 tree and a width-100 lattice of two-input tasks.
//!
//! Run: `cargo bench --bench dynamic_per_task` (add `-- --rounds 7` for more
//! rounds, `-- --sizes 1000,1000000` for other sizes).
//!
//! Every measurement is one cold process (the bench runs itself again with
//! `--child`), so no run profits from a heap or caches another left warm.
//! Rounds are interleaved (every shape, size and scheduler once per round);
//! the table shows medians over rounds. A child first builds and runs the
//! graph timed (allocations only passed through), checks the answer against
//! a plain loop, then does it again with allocations counted: the bytes
//! allocated per task (every allocation's size, summed) and the peak bytes
//! live per task above what was live before the build.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use dagwood::{compute_all_with, Delayed, Scheduler, TaskBuilder};

struct Counting;

static COUNT: AtomicBool = AtomicBool::new(false);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    ALLOCATED.fetch_add(n, Ordering::Relaxed);
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is passed to `System` unchanged; the counters only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNT.load(Ordering::Relaxed) {
            grew(layout.size());
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNT.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNT.load(Ordering::Relaxed) {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mix(x: u64) -> u64 {
    x.wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
}

#[dagwood::delayed]
fn source(i: u64) -> u64 {
    mix(i)
}

#[dagwood::delayed]
fn add2(a: u64, b: u64) -> u64 {
    mix(a ^ b.rotate_left(7))
}

/// A tree of fan-in 8 over zero-input leaves, about `n` tasks in all.
/// Returns the root, the task count and the expected answer.
fn tree(n: usize) -> (Vec<Delayed<u64>>, usize, u64) {
    let leaves = (n * 7 / 8).max(1);
    let mut level: Vec<Delayed<u64>> = (0..leaves as u64).map(source::lazy).collect();
    let mut expected: Vec<u64> = (0..leaves as u64).map(mix).collect();
    let mut tasks = leaves;
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(8));
        for group in level.chunks(8) {
            let mut b = TaskBuilder::new("sum8");
            let slots = b.args(group.iter().cloned());
            next.push(b.build(move |args| {
                slots
                    .iter()
                    .try_fold(0u64, |acc, s| Ok(acc.wrapping_add(s.take(args)?)))
            }));
        }
        expected = expected
            .chunks(8)
            .map(|g| g.iter().fold(0u64, |a, &v| a.wrapping_add(v)))
            .collect();
        tasks += next.len();
        level = next;
    }
    (level, tasks, expected[0])
}

/// A lattice 100 wide: task (r, i) takes (r-1, i) and (r-1, i+1 mod 100);
/// the last row is the output. Returns it, the task count and the answer
/// (the last row folded).
fn lattice(n: usize) -> (Vec<Delayed<u64>>, usize, u64) {
    const W: usize = 100;
    let rows = (n / W).max(2);
    let mut row: Vec<Delayed<u64>> = (0..W as u64).map(source::lazy).collect();
    let mut want: Vec<u64> = (0..W as u64).map(mix).collect();
    for _ in 1..rows {
        row = (0..W)
            .map(|i| add2::lazy(&row[i], &row[(i + 1) % W]))
            .collect();
        want = (0..W)
            .map(|i| mix(want[i] ^ want[(i + 1) % W].rotate_left(7)))
            .collect();
    }
    let folded = want.iter().fold(0u64, |a, &v| a.wrapping_add(v));
    (row, rows * W, folded)
}

fn build_and_run(shape: &str, n: usize, scheduler: &Scheduler) -> (usize, u64, u64) {
    let (outputs, tasks, expected) = match shape {
        "tree" => tree(n),
        _ => lattice(n),
    };
    let got = compute_all_with(&outputs, scheduler).expect("the graph runs");
    drop(outputs);
    let folded = got.iter().fold(0u64, |a, &v| a.wrapping_add(v));
    (tasks, folded, expected)
}

fn child(shape: &str, n: usize, sched: &str) {
    let scheduler = match sched {
        "sync" => Scheduler::Sync,
        _ => Scheduler::default(),
    };
    let start = Instant::now();
    let (tasks, got, expected) = build_and_run(shape, n, &scheduler);
    let ns = start.elapsed().as_nanos() as f64;
    assert_eq!(got, expected, "{shape} {n} {sched}: wrong answer");
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    ALLOCATED.store(0, Ordering::Relaxed);
    COUNT.store(true, Ordering::Relaxed);
    let (_, got, _) = build_and_run(shape, n, &scheduler);
    COUNT.store(false, Ordering::Relaxed);
    assert_eq!(got, expected);
    let allocated = ALLOCATED.load(Ordering::Relaxed) as f64;
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before) as f64;
    let t = tasks as f64;
    println!(
        "RESULT {tasks} {:.4} {:.1} {:.1}",
        ns / t / 1000.0,
        allocated / t,
        peak / t
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let n = args[i + 2].parse().expect("a size");
        child(&args[i + 1], n, &args[i + 3]);
        return;
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let rounds: usize = opt("--rounds").and_then(|r| r.parse().ok()).unwrap_or(5);
    let sizes: Vec<usize> = opt("--sizes")
        .unwrap_or_else(|| "1000,10000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let exe = std::env::current_exe().expect("the bench's own path");
    let mut cases = Vec::new();
    for shape in ["tree", "lattice"] {
        for sched in ["threads", "sync"] {
            for &n in &sizes {
                cases.push((shape, sched, n));
            }
        }
    }
    // (tasks, µs/task, allocated bytes/task, peak bytes/task) per round.
    let mut results: Vec<Vec<(usize, f64, f64, f64)>> = vec![Vec::new(); cases.len()];
    for _ in 0..rounds {
        for (c, &(shape, sched, n)) in cases.iter().enumerate() {
            let out = Command::new(&exe)
                .args(["--child", shape, &n.to_string(), sched])
                .output()
                .expect("the child runs");
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find(|l| l.starts_with("RESULT"))
                .unwrap_or_else(|| {
                    panic!(
                        "{shape} {n} {sched}: no result\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    )
                });
            let f: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            results[c].push((f[0] as usize, f[1], f[2], f[3]));
        }
    }
    println!("dynamic path, build + run, cold process; medians of {rounds} interleaved rounds");
    println!(
        "{:<8} {:<8} {:>9} {:>10} {:>14} {:>12}",
        "shape", "sched", "tasks", "µs/task", "alloc B/task", "peak B/task"
    );
    for (c, &(shape, sched, _)) in cases.iter().enumerate() {
        let r = &results[c];
        let col = |k: usize| {
            let mut v: Vec<f64> = r
                .iter()
                .map(|x| match k {
                    1 => x.1,
                    2 => x.2,
                    _ => x.3,
                })
                .collect();
            median(&mut v)
        };
        println!(
            "{:<8} {:<8} {:>9} {:>10.3} {:>14.0} {:>12.0}",
            shape,
            sched,
            r[0].0,
            col(1),
            col(2),
            col(3)
        );
    }
}
