//! Where tasks run: [`Scheduler::Threads`] (default) or [`Scheduler::Sync`].

mod run;
mod sync;
mod threads;

use std::sync::{PoisonError, RwLock};

pub use threads::Threads;

pub(crate) use run::RunState;

/// Chooses where a computation runs.
///
/// ```
/// use dagwood_runtime::{delayed, Scheduler};
/// let x = delayed(6).map("times7", |v: &i32| v * 7);
/// assert_eq!(x.compute_with(&Scheduler::Sync).unwrap(), 42);
/// assert_eq!(x.compute_with(&Scheduler::threads(2).unwrap()).unwrap(), 42);
/// ```
#[derive(Clone, Debug)]
pub enum Scheduler {
    /// Work stealing over a pool of threads (all cores unless set).
    Threads(Threads),
    /// One thread, the calling one, in the static priority order: for
    /// debugging and for tests that need determinism.
    Sync,
}

impl Scheduler {
    /// A threaded scheduler with its own pool of `n` threads.
    pub fn threads(n: usize) -> crate::Result<Scheduler> {
        Threads::new(n).map(Scheduler::Threads)
    }

    /// The default scheduler: [`set_default_scheduler`]'s choice, else
    /// threads over all cores.
    pub fn current() -> Scheduler {
        DEFAULT
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_default()
    }

    /// Runs the units of a plan; the outputs come back in request order.
    pub(crate) fn run(&self, state: RunState<'_>) -> crate::Result<Vec<crate::task::Value>> {
        match self {
            // One unit has no parallelism to offer: waking a worker would only
            // add latency, so it runs on the caller.
            Scheduler::Threads(_) if state.units.len() <= 1 => sync::run(&state),
            Scheduler::Threads(t) => t.run(&state),
            Scheduler::Sync => sync::run(&state),
        }
        state.finish()
    }

    /// Runs `f` where this scheduler's tasks run, so that `rayon::join` inside
    /// uses the scheduler's pool; `parallel` tells `f` whether to fork at all.
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce(bool) -> R + Send) -> R {
        match self {
            Scheduler::Threads(t) => t.install(|| f(true)),
            Scheduler::Sync => f(false),
        }
    }
}

impl Default for Scheduler {
    fn default() -> Scheduler {
        Scheduler::Threads(Threads::default())
    }
}

static DEFAULT: RwLock<Option<Scheduler>> = RwLock::new(None);

/// Sets the scheduler that `compute()` uses when none is given.
///
/// ```
/// use dagwood_runtime::{set_default_scheduler, Scheduler};
/// set_default_scheduler(Scheduler::Sync);
/// assert!(matches!(Scheduler::current(), Scheduler::Sync));
/// set_default_scheduler(Scheduler::default());
/// ```
pub fn set_default_scheduler(s: Scheduler) {
    *DEFAULT.write().unwrap_or_else(PoisonError::into_inner) = Some(s);
}
