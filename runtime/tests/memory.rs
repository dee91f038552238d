//! Ordering and release keep a reduction over many large leaves in bounded memory.

use std::sync::atomic::{AtomicUsize, Ordering};

use dagwood_runtime::{delayed, tree_reduce, Delayed, Scheduler};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// A leaf's 8 MB buffer; counts how many are alive at once.
#[derive(Clone)]
struct Leaf {
    bytes: Vec<u8>,
    counted: bool,
}

impl Leaf {
    fn new(i: usize) -> Leaf {
        let mut bytes = vec![0u8; 8 << 20];
        let n = bytes.len();
        bytes[i % n] = 1;
        let now = LIVE.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        Leaf {
            bytes,
            counted: true,
        }
    }
    fn summary(n: u8) -> Leaf {
        Leaf {
            bytes: vec![n],
            counted: false,
        }
    }
}

impl Drop for Leaf {
    fn drop(&mut self) {
        if self.counted {
            LIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn tree_reduction_over_1000_leaves_of_8_mb_holds_few_at_once() {
    let fan_in = 8;
    for threads in [1usize, 2, 4] {
        LIVE.store(0, Ordering::SeqCst);
        PEAK.store(0, Ordering::SeqCst);
        let leaves: Vec<Delayed<Leaf>> = (0..1000)
            .map(|i| delayed(i).map("leaf", |i: &usize| Leaf::new(*i)))
            .collect();
        let total = tree_reduce(leaves, fan_in, "count", |parts: Vec<Leaf>| {
            // Touch each buffer cheaply: the test is about lifetimes, not arithmetic.
            let full = parts.iter().filter(|p| p.bytes.len() == 8 << 20).count();
            Leaf::summary(full as u8)
        })
        .unwrap();
        let s = if threads == 1 {
            Scheduler::Sync
        } else {
            Scheduler::threads(threads).unwrap()
        };
        let out = total.compute_with(&s).unwrap();
        assert!(!out.bytes.is_empty());
        let peak = PEAK.load(Ordering::SeqCst);
        eprintln!("{threads} threads: peak {peak} leaf buffers alive");
        // Each worker holds at most one open group of fan_in leaves, plus one
        // it may have started elsewhere: the bound grows with threads, not leaves.
        let bound = threads * (fan_in + 1);
        assert!(
            peak <= bound,
            "{threads} threads: {peak} leaf buffers alive at once (bound {bound})"
        );
        assert_eq!(LIVE.load(Ordering::SeqCst), 0, "every leaf released");
    }
}
