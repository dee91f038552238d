//! `graph!` starts every task as soon as its inputs are ready: shapes that a
//! layer-by-layer lowering runs with a barrier, checked without timing.
//!
//! In each graph a task `b` blocks until a latch is released by a task that
//! does not depend on `b` but that a barrier would make wait for it. Under
//! exact execution the graph finishes; under a barrier `b` waits forever (here
//! until the latch's timeout, which fails the task and so the test).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use dagwood::prelude::*;

/// Released once; `wait` panics (failing its task) if that takes more than
/// 20 s, which only a barrier between the waiter and the releaser explains.
struct Latch {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Latch {
    fn new() -> Latch {
        Latch {
            open: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }

    fn wait(&self) {
        let guard = self.open.lock().unwrap();
        let (_g, timeout) = self
            .cv
            .wait_timeout_while(guard, Duration::from_secs(20), |open| !*open)
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "deadlock: the latch was never released (a barrier?)"
        );
    }
}

fn threads() -> Vec<Scheduler> {
    vec![
        Scheduler::threads(2).expect("a pool of 2"),
        Scheduler::threads(3).expect("a pool of 3"),
    ]
}

fn work(x: i64) -> i64 {
    x * 10
}

#[test]
fn chains_that_meet_again_have_no_barrier() {
    // a -> c, b -> d, (c, d) -> e: the 200 ms graph. c must not wait for b.
    for s in threads() {
        let latch = Latch::new();
        let g = graph! {
            let a = work(1);
            let b = { latch.wait(); work(2) };
            let c = { let v = work(a); latch.release(); v };
            let d = work(b);
            let e = c + d;
            e
        };
        assert_eq!(g.compute_with(&s).unwrap(), 100 + 200);
    }
}

#[test]
fn the_n_shape_runs_c_before_b_finishes() {
    // a -> c, a -> d, b -> d: c needs only a.
    for s in threads() {
        let latch = Latch::new();
        let g = graph! {
            let a = work(1);
            let b = { latch.wait(); work(2) };
            let c = { let v = work(a); latch.release(); v };
            let d = a + b;
            (c, d)
        };
        assert_eq!(g.compute_with(&s).unwrap(), (100, 30));
    }
}

#[test]
fn a_ladder_climbs_one_side_while_the_other_waits() {
    // a1 -> a2 -> a3, b1 -> b2 -> b3, rungs a1 -> b2 and a2 -> b3; b1 waits for a3.
    for s in threads() {
        let latch = Latch::new();
        let g = graph! {
            let a1 = work(1);
            let b1 = { latch.wait(); work(2) };
            let a2 = work(a1);
            let a3 = { let v = work(a2); latch.release(); v };
            let b2 = b1 + a1;
            let b3 = b2 + a2;
            (a3, b3)
        };
        assert_eq!(g.compute_with(&s).unwrap(), (1000, 20 + 10 + 100));
    }
}

#[test]
fn the_n_shape_gives_the_sequential_result_on_every_scheduler() {
    let sequential = {
        let a = work(3);
        let b = work(4);
        let c = a - 1;
        let d = a * b;
        (c, d)
    };
    let mut schedulers = threads();
    schedulers.push(Scheduler::Sync);
    for s in schedulers {
        let g = graph! {
            let a = work(3);
            let b = work(4);
            let c = a - 1;
            let d = a * b;
            (c, d)
        };
        assert_eq!(g.compute_with(&s).unwrap(), sequential);
    }
}

/// Counts its clones.
struct Counted {
    value: i64,
    clones: &'static AtomicUsize,
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Counted {
            value: self.value,
            clones: self.clones,
        }
    }
}

fn eat(c: Counted) -> i64 {
    c.value
}

/// Not `Clone`: compiling proves a single consumer moves it out of its slot.
struct NoClone(i64);

#[test]
fn counted_pieces_clone_only_for_readers_still_to_come() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    // An N where a is consumed by c and d: one of them moves it, the other clones.
    let g = graph! {
        let a = Counted { value: 5, clones: &CLONES };
        let b = NoClone(7);
        let c = eat(a);
        let d = eat(a) + b.0;
        (c, d)
    };
    assert_eq!(g.compute_with(&Scheduler::Sync).unwrap(), (5, 12));
    assert_eq!(CLONES.load(Ordering::SeqCst), 1);
    // In parallel both consumers may see the other still to come: at most two clones.
    CLONES.store(0, Ordering::SeqCst);
    for s in threads() {
        let before = CLONES.load(Ordering::SeqCst);
        let g = graph! {
            let a = Counted { value: 5, clones: &CLONES };
            let b = NoClone(7);
            let c = eat(a);
            let d = eat(a) + b.0;
            (c, d)
        };
        assert_eq!(g.compute_with(&s).unwrap(), (5, 12));
        let clones = CLONES.load(Ordering::SeqCst) - before;
        assert!((1..=2).contains(&clones), "{clones} clones");
    }
}

#[test]
fn borrowed_values_in_a_counted_piece_keep_their_meaning() {
    // a is read by reference (&a, a.len(), a[0], a.iter(), a macro) in an N.
    let g = graph! {
        let a: Vec<i64> = (1..=4).collect();
        let b = String::from("xy");
        let c = (a.len(), a[0], a.iter().sum::<i64>(), format!("{:?}", a));
        let d = (sum(&a), b.len(), a.first().copied());
        (c, d)
    };
    assert_eq!(
        g.compute().unwrap(),
        ((4, 1, 10, "[1, 2, 3, 4]".to_string()), (10, 2, Some(1)))
    );
}

fn sum(v: &[i64]) -> i64 {
    v.iter().sum()
}

#[test]
fn a_failure_in_a_counted_piece_names_its_task_and_runs_nothing_after() {
    static AFTER: AtomicUsize = AtomicUsize::new(0);
    for s in [Scheduler::Sync, Scheduler::threads(2).unwrap()] {
        let g = graph! {
            let a = work(1);
            let b = work(2);
            let c: i64 = if a > 0 { panic!("c fails") } else { a };
            let d = { AFTER.fetch_add(1, Ordering::SeqCst); a + b };
            let e = { AFTER.fetch_add(1, Ordering::SeqCst); c + 1 };
            (e, d)
        };
        let err = g.compute_with(&s).unwrap_err();
        assert_eq!(err.key().map(|k| k.name()), Some("c"), "{err}");
        assert!(err.to_string().contains("c fails"), "{err}");
    }
    // e never ran: it needs c.
    assert!(AFTER.load(Ordering::SeqCst) <= 2);
}

#[test]
fn a_counted_piece_inside_a_parameterised_graph() {
    let f = graph!(|x: i64, label: String| {
        let a = x + 1;
        let b = x * 2;
        let c = format!("{label}{a}");
        let d = a + b;
        (c, d)
    });
    for s in [Scheduler::Sync, Scheduler::threads(2).unwrap()] {
        for x in 0..20 {
            assert_eq!(
                f.run_with(&s, x, "n".into()).unwrap(),
                (format!("n{}", x + 1), x + 1 + 2 * x)
            );
        }
    }
}
