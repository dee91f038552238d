//! The threaded scheduler: work stealing on a rayon pool.
//!
//! Each ready unit is a rayon job. A worker that finishes a unit runs one
//! newly ready consumer itself (depth first, so a subtree completes and its
//! inputs die early) and spawns the rest onto its own deque, where idle
//! workers steal them from the far end.

use std::fmt;
use std::sync::Arc;

use rayon::{Scope, ThreadPool, ThreadPoolBuilder};

use super::RunState;
use crate::Error;

/// A pool of worker threads for [`Scheduler::Threads`](super::Scheduler::Threads).
///
/// ```
/// use dagwood_runtime::Threads;
/// let t = Threads::new(3).unwrap();
/// assert_eq!(t.num_threads(), 3);
/// ```
#[derive(Clone)]
pub struct Threads {
    /// `None`: rayon's global pool, shared with the rest of the program.
    pool: Option<Arc<ThreadPool>>,
}

impl fmt::Debug for Threads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Threads({})", self.num_threads())
    }
}

fn build_pool(n: usize) -> Result<ThreadPool, Error> {
    ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("dagwood-worker-{i}"))
        .build()
        .map_err(|e| Error::ThreadPool {
            threads: n,
            message: e.to_string(),
        })
}

impl Threads {
    /// A pool of `n` threads of its own (`n` = 0 means one per core).
    pub fn new(n: usize) -> Result<Threads, Error> {
        Ok(Threads {
            pool: Some(Arc::new(build_pool(n)?)),
        })
    }

    /// Number of worker threads.
    pub fn num_threads(&self) -> usize {
        match &self.pool {
            Some(p) => p.current_num_threads(),
            None => rayon::current_num_threads(),
        }
    }

    pub(super) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(p) => p.install(f),
            // rayon's own functions find the global pool by themselves.
            None => f(),
        }
    }

    pub(super) fn run(&self, state: &RunState<'_>) {
        self.install(|| {
            rayon::scope(|s| {
                // Spawned jobs are popped last-in first-out by a worker: push in
                // reverse so the highest-priority unit runs first.
                for u in state.initial().rev() {
                    s.spawn(move |s| drive(state, u, s));
                }
            })
        })
    }
}

impl Default for Threads {
    /// rayon's global pool: one thread per core (or `RAYON_NUM_THREADS`),
    /// shared with any rayon code in the program.
    fn default() -> Threads {
        Threads { pool: None }
    }
}

fn drive<'s>(state: &'s RunState<'_>, first: usize, s: &Scope<'s>) {
    let mut next = Some(first);
    let mut ready = Vec::new();
    while let Some(u) = next.take() {
        if !state.execute(u) {
            return;
        }
        state.release_dependents(u, |d| ready.push(d));
        // Continue with the first (highest-priority) consumer here; others go
        // to the deque, lowest priority first so they are popped last.
        let mut rest = ready.drain(..);
        next = rest.next();
        for d in rest.rev() {
            s.spawn(move |s| drive(state, d, s));
        }
    }
}
