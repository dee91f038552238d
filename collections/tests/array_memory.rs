//! A reduction over an array much larger than the memory it is allowed runs
//! in bounded memory: blocks are drawn, used and released, never all held.
//! (Alone in its test binary: the allocator counts every thread's bytes.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use dagwood_collections::array::Array;
use dagwood_runtime::Scheduler;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn x_plus_x_transposed_mean_stays_far_below_the_array_size() {
    let (n, chunk) = (2000, 100);
    let array_bytes = n * n * 8;
    for scheduler in [Scheduler::Sync, Scheduler::threads(2).unwrap()] {
        let x = Array::<f64>::random_normal(&[n, n], &[chunk, chunk], 0.0, 1.0, 3).unwrap();
        let m = (&x + &x.t()).mean_axis(0).unwrap();
        let before = CURRENT.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let out = m.compute_with(&scheduler).unwrap();
        let peak = PEAK.load(Ordering::Relaxed) - before;
        assert_eq!(out.len(), n);
        // An unfused, unreleasing run holds x, x.t() and their sum: three
        // times the array. Here: a few 80 kB blocks per worker and the
        // partial column sums.
        assert!(
            peak < array_bytes / 8,
            "{scheduler:?}: peak {peak} bytes for a {array_bytes}-byte array"
        );
        eprintln!(
            "{scheduler:?}: peak {:.1}% of the array",
            100.0 * peak as f64 / array_bytes as f64
        );
    }
}
