//! The task profiler (Dask's `Profiler`): key, worker, start and end of
//! every task, kept as data.
//!
//! Recording costs one uncontended lock and a push per task: each worker
//! appends to its own buffer (on its own cache line), and the key is cloned,
//! which copies a static name or bumps reference counts, never allocates.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::callback::{activation_methods, Callback};
use super::{ResourceProfiler, TaskEvent};
use crate::task::lock;
use crate::{Error, Key};

/// Buffers per profiler; workers beyond share them (still correct: each is
/// behind its own lock).
const SLOTS: usize = 32;

#[repr(align(128))]
#[derive(Default)]
struct Buffer(Mutex<Vec<TaskRecord>>);

impl Buffer {
    fn lock(&self) -> MutexGuard<'_, Vec<TaskRecord>> {
        lock(&self.0)
    }
}

/// One task as the [`Profiler`] saw it run.
///
/// ```
/// use dagwood_runtime::diagnostics::Profiler;
/// use dagwood_runtime::delayed;
/// let prof = Profiler::new();
/// prof.run(|| delayed(1).map("inc", |v: &i32| v + 1).compute()).unwrap();
/// let inc = prof.records().into_iter().find(|r| r.key.name() == "inc").unwrap();
/// assert!(inc.start <= inc.end && !inc.failed);
/// assert_eq!(inc.duration(), inc.end - inc.start);
/// ```
#[derive(Clone, Debug)]
pub struct TaskRecord {
    /// The task's key.
    pub key: Key,
    /// The worker thread that ran it (rayon's index; 0 for
    /// [`Scheduler::Sync`](crate::Scheduler::Sync)).
    pub worker: usize,
    /// When it started.
    pub start: Instant,
    /// When it ended.
    pub end: Instant,
    /// True if it panicked or returned `Err`.
    pub failed: bool,
}

impl TaskRecord {
    /// How long it ran.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use dagwood_runtime::{diagnostics::TaskRecord, Key};
    /// let start = Instant::now();
    /// let r = TaskRecord { key: Key::new("a"), worker: 0, start, end: start + Duration::from_millis(2), failed: false };
    /// assert_eq!(r.duration(), Duration::from_millis(2));
    /// ```
    pub fn duration(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }
}

/// Records every task of the computations run while it is active: its key,
/// worker, start and end, as [`TaskRecord`]s.
///
/// Activate it like a [`ProgressBar`](super::ProgressBar): a guard from
/// [`scoped`](Self::scoped) for this thread, [`run`](Self::run) for one
/// call, or [`register`](Self::register) for every thread. Records
/// accumulate over computations until [`clear`](Self::clear). Attach a
/// [`ResourceProfiler`] with [`with_resources`](Self::with_resources) to
/// sample memory and CPU over the same computations. Export with
/// [`to_chrome_trace`](Self::to_chrome_trace) (chrome://tracing, Perfetto)
/// or draw with [`write_timeline_svg`](Self::write_timeline_svg).
///
/// ```
/// use dagwood_runtime::diagnostics::Profiler;
/// use dagwood_runtime::{delayed, sum};
///
/// let parts: Vec<_> = (0..100).map(|i| delayed(i).map("square", |v: &i64| v * v)).collect();
/// let total = sum(parts, 10).unwrap();
/// let prof = Profiler::new();
/// {
///     let _prof = prof.scoped();
///     total.compute().unwrap();
/// }
/// let records = prof.records();
/// assert_eq!(records.iter().filter(|r| r.key.name() == "square").count(), 100);
/// assert!(records.windows(2).all(|w| w[0].start <= w[1].start));
/// ```
#[derive(Clone)]
pub struct Profiler {
    inner: Arc<Inner>,
}

struct Inner {
    buffers: Box<[Buffer]>,
    resources: Option<ResourceProfiler>,
}

impl Default for Profiler {
    fn default() -> Profiler {
        Profiler::new()
    }
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n: usize = self.inner.buffers.iter().map(|b| b.lock().len()).sum();
        f.debug_struct("Profiler")
            .field("records", &n)
            .field("resources", &self.inner.resources)
            .finish()
    }
}

impl Profiler {
    /// A profiler with no records and no resource sampling.
    ///
    /// ```
    /// assert!(dagwood_runtime::diagnostics::Profiler::new().records().is_empty());
    /// ```
    pub fn new() -> Profiler {
        Profiler::build(None)
    }

    fn build(resources: Option<ResourceProfiler>) -> Profiler {
        Profiler {
            inner: Arc::new(Inner {
                buffers: (0..SLOTS).map(|_| Buffer::default()).collect(),
                resources,
            }),
        }
    }

    /// Samples process memory and CPU with `resources` while this profiler
    /// is active; the Chrome trace and the timeline then show them too.
    /// Records made so far are kept.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::{Profiler, ResourceProfiler};
    /// let res = ResourceProfiler::new();
    /// let prof = Profiler::new().with_resources(res.clone());
    /// assert!(prof.resources().is_some());
    /// ```
    pub fn with_resources(self, resources: ResourceProfiler) -> Profiler {
        let records = self.records();
        let new = Profiler::build(Some(resources));
        new.inner.buffers[0].lock().extend(records);
        new
    }

    /// The attached resource profiler, if any.
    ///
    /// ```
    /// assert!(dagwood_runtime::diagnostics::Profiler::new().resources().is_none());
    /// ```
    pub fn resources(&self) -> Option<&ResourceProfiler> {
        self.inner.resources.as_ref()
    }

    activation_methods!(
        Profiler,
        "assert_eq!(x.records().len(), 6); // three constants, double, inc, square"
    );

    /// Every task recorded so far, ordered by start.
    ///
    /// ```
    /// let prof = dagwood_runtime::diagnostics::Profiler::new();
    /// assert_eq!(prof.records().len(), 0);
    /// ```
    pub fn records(&self) -> Vec<TaskRecord> {
        let mut all = Vec::new();
        for b in self.inner.buffers.iter() {
            all.extend(b.lock().iter().cloned());
        }
        all.sort_by_key(|r| r.start);
        all
    }

    /// Forgets the records (and the resource samples, if attached).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::Profiler;
    /// use dagwood_runtime::delayed;
    /// let prof = Profiler::new();
    /// prof.run(|| delayed(1).compute()).unwrap();
    /// prof.clear();
    /// assert!(prof.records().is_empty());
    /// ```
    pub fn clear(&self) {
        for b in self.inner.buffers.iter() {
            b.lock().clear();
        }
        if let Some(r) = &self.inner.resources {
            r.clear();
        }
    }

    /// The earliest time in the records and samples: the zero of pictures and traces.
    pub(super) fn origin(records: &[TaskRecord], samples: &[super::ResourceSample]) -> Instant {
        let first_task = records.iter().map(|r| r.start).min();
        let first_sample = samples.iter().map(|s| s.at).min();
        match (first_task, first_sample) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Instant::now(),
        }
    }

    /// Resource samples of the attached profiler (empty without one).
    pub(super) fn samples(&self) -> Vec<super::ResourceSample> {
        self.inner
            .resources
            .as_ref()
            .map(ResourceProfiler::samples)
            .unwrap_or_default()
    }
}

impl Callback for Inner {
    fn on_start(&self, tasks: usize) {
        if let Some(r) = &self.resources {
            r.callback().on_start(tasks);
        }
    }

    #[inline]
    fn on_task_end(&self, event: &TaskEvent<'_>) {
        let record = TaskRecord {
            key: event.key.clone(),
            worker: event.worker,
            start: event.start,
            end: event.end,
            failed: event.failed,
        };
        self.buffers[event.worker % SLOTS].lock().push(record);
    }

    fn on_finish(&self, error: Option<&Error>) {
        if let Some(r) = &self.resources {
            r.callback().on_finish(error);
        }
    }
}
