//! Hooks into every computation: what progress bars and profilers build on.
//!
//! A callback is active for the computations started on the thread that
//! holds its [`ScopedCallback`] guard (Dask's `with ProgressBar():`), or for
//! every computation while a [`GlobalCallback`] is held (Dask's
//! `.register()`). The set is captured when a computation starts; with none
//! active, the only cost per task is one branch.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use super::GraphSummary;
use crate::task::catch_panic;
use crate::{Error, Key};

/// One finished task, as reported to [`Callback::on_task_end`].
#[derive(Debug)]
pub struct TaskEvent<'a> {
    /// The task's key.
    pub key: &'a Key,
    /// Index of the worker thread (0 for the `Sync` scheduler).
    pub worker: usize,
    /// When the task started. When no active callback
    /// [wants times](Callback::wants_times), both `start` and `end` are the
    /// time the computation started.
    pub start: Instant,
    /// When it ended (see `start`).
    pub end: Instant,
    /// True if it panicked or returned `Err`.
    pub failed: bool,
}

/// Receives events of computations. Every method has an empty default.
///
/// Methods are called from worker threads, concurrently: keep them short
/// and batch expensive work (a progress bar counts in an atomic and redraws
/// from its own thread). A panic in a method is caught: the computation
/// stops and returns [`Error::Callback`] naming the method (the other
/// callbacks still hear of the finish).
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use dagwood_runtime::diagnostics::{scoped_callback, Callback, TaskEvent};
/// use dagwood_runtime::{delayed, sum};
///
/// #[derive(Default)]
/// struct Count(AtomicUsize);
/// impl Callback for Count {
///     fn on_task_end(&self, _: &TaskEvent<'_>) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let count = Arc::new(Count::default());
/// let _guard = scoped_callback(count.clone());
/// sum((0..10).map(delayed), 4).unwrap().compute().unwrap();
/// assert_eq!(count.0.load(Ordering::Relaxed), 10 + 3 + 1); // leaves, tree
/// ```
pub trait Callback: Send + Sync {
    /// A computation of `tasks` tasks starts.
    fn on_start(&self, tasks: usize) {
        let _ = tasks;
    }
    /// A running computation found `tasks` more tasks than it announced
    /// (a static graph's fan-out, whose size is known only when it runs).
    fn on_tasks_added(&self, tasks: usize) {
        let _ = tasks;
    }
    /// A task starts on `worker`.
    fn on_task_start(&self, key: &Key, worker: usize) {
        let _ = (key, worker);
    }
    /// A task ended.
    fn on_task_end(&self, event: &TaskEvent<'_>) {
        let _ = event;
    }
    /// The computation ended, with its error if it failed.
    fn on_finish(&self, error: Option<&Error>) {
        let _ = error;
    }
    /// Whether this callback reads [`TaskEvent::start`] and
    /// [`TaskEvent::end`]. Reading the clock twice per task costs about
    /// 50 ns; a callback that only counts (a progress bar) returns false, and
    /// when no active callback wants times the runtime skips the clock.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use dagwood_runtime::diagnostics::{Callback, TaskEvent};
    /// /// Counts tasks; never looks at their times.
    /// struct Tally(AtomicU64);
    /// impl Callback for Tally {
    ///     fn on_task_end(&self, _: &TaskEvent<'_>) {
    ///         self.0.fetch_add(1, Ordering::Relaxed);
    ///     }
    ///     fn wants_times(&self) -> bool {
    ///         false
    ///     }
    /// }
    /// assert!(!Tally(AtomicU64::new(0)).wants_times());
    /// ```
    fn wants_times(&self) -> bool {
        true
    }
    /// The computation's graph summarised by layer, right after
    /// [`on_start`](Self::on_start), for callbacks whose
    /// [`wants_graph`](Self::wants_graph) is true (static graphs do not
    /// report one).
    fn on_graph(&self, graph: &GraphSummary) {
        let _ = graph;
    }
    /// Whether this callback reads [`on_graph`](Self::on_graph): the
    /// summary costs a pass over the graph, made only when some active
    /// callback asks for it. False unless overridden.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::{scoped_callback, Callback, GraphSummary};
    /// use dagwood_runtime::{delayed, sum};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Default)]
    /// struct Layers(Mutex<Vec<(String, usize)>>);
    /// impl Callback for Layers {
    ///     fn on_graph(&self, g: &GraphSummary) {
    ///         let mut v = self.0.lock().unwrap();
    ///         v.extend(g.layers.iter().map(|l| (l.name.clone(), l.tasks)));
    ///     }
    ///     fn wants_graph(&self) -> bool {
    ///         true
    ///     }
    /// }
    /// let layers = Arc::new(Layers::default());
    /// let _on = scoped_callback(layers.clone());
    /// let parts = (0..8).map(|i| delayed(i).map("square", |v: &i64| v * v));
    /// sum(parts, 4).unwrap().compute().unwrap();
    /// assert!(layers.0.lock().unwrap().contains(&("square".to_string(), 8)));
    /// ```
    fn wants_graph(&self) -> bool {
        false
    }
}

thread_local! {
    static SCOPED: RefCell<Vec<(u64, Arc<dyn Callback>)>> = const { RefCell::new(Vec::new()) };
}

static GLOBAL: RwLock<Vec<(u64, Arc<dyn Callback>)>> = RwLock::new(Vec::new());

fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Keeps a callback active for computations started on this thread; drop it
/// to deactivate. Not `Send`: it belongs to the thread that made it.
#[must_use = "the callback is active only while the guard lives"]
pub struct ScopedCallback {
    id: u64,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Activates `cb` for computations started on this thread while the guard lives.
pub fn scoped_callback(cb: Arc<dyn Callback>) -> ScopedCallback {
    let id = next_id();
    SCOPED.with(|s| s.borrow_mut().push((id, cb)));
    ScopedCallback {
        id,
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for ScopedCallback {
    fn drop(&mut self) {
        let _ = SCOPED.try_with(|s| s.borrow_mut().retain(|(id, _)| *id != self.id));
    }
}

/// Keeps a callback active for every computation in the process; drop it to
/// deactivate.
#[must_use = "the callback is active only while the guard lives"]
pub struct GlobalCallback {
    id: u64,
}

/// Activates `cb` for every computation, on any thread, while the guard lives.
pub fn register_global(cb: Arc<dyn Callback>) -> GlobalCallback {
    let id = next_id();
    GLOBAL
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, cb));
    GlobalCallback { id }
}

impl Drop for GlobalCallback {
    fn drop(&mut self) {
        GLOBAL
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(id, _)| *id != self.id);
    }
}

/// The `scoped`, `register` and `run` methods of a diagnostics type (the
/// progress bar, the profilers) whose field `inner` is its [`Callback`],
/// written once for all of them. `$check` is a statement of the example
/// that checks what the type saw of the three computations it was active
/// for (`x` is the instance).
macro_rules! activation_methods {
    ($ty:ident, $check:literal) => {
        #[doc = concat!(
            "Makes this `", stringify!($ty), "` active for the computations ",
            "started on this thread while the returned guard lives (Dask's `with ",
            stringify!($ty), "():`).\n\n",
            "```\n",
            "use dagwood_runtime::diagnostics::", stringify!($ty), ";\n",
            "use dagwood_runtime::delayed;\n",
            "let x = ", stringify!($ty), "::new();\n",
            "let guard = x.scoped();\n",
            "assert_eq!(delayed(20).map(\"double\", |v: &i32| v * 2).compute().unwrap(), 40);\n",
            "drop(guard);\n",
            "delayed(1).map(\"unseen\", |v: &i32| v + 1).compute().unwrap();\n",
            "let guard = x.register();\n",
            "assert_eq!(delayed(2).map(\"inc\", |v: &i32| v + 1).compute().unwrap(), 3);\n",
            "drop(guard);\n",
            "let v = x.run(|| delayed(3).map(\"square\", |v: &i32| v * v).compute()).unwrap();\n",
            "assert_eq!(v, 9);\n",
            $check, "\n",
            "```"
        )]
        pub fn scoped(&self) -> $crate::diagnostics::ScopedCallback {
            $crate::diagnostics::scoped_callback(self.inner.clone())
        }

        /// Makes it active for the computations started on any thread while
        /// the returned guard lives (Dask's `register()`); see
        /// [`scoped`](Self::scoped) for an example.
        pub fn register(&self) -> $crate::diagnostics::GlobalCallback {
            $crate::diagnostics::register_global(self.inner.clone())
        }

        /// Runs `f` with it active on this thread, and returns `f`'s result;
        /// see [`scoped`](Self::scoped) for an example.
        pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
            let _guard = self.scoped();
            f()
        }
    };
}
pub(crate) use activation_methods;

/// The callbacks of one computation, captured when it starts.
#[derive(Clone, Default)]
pub(crate) struct Hooks(Option<Arc<Active>>);

pub(crate) struct Active {
    callbacks: Box<[Arc<dyn Callback>]>,
    /// Some callback reads task times: read the clock around each task.
    timed: bool,
    /// Some callback wants the graph's summary.
    graph: bool,
    /// When the computation started: the times reported when none is read.
    began: Instant,
    /// `clock.raw()` when `began` was read: later raw readings are turned
    /// into `Instant`s by adding the clock's delta to `began`.
    began_raw: u64,
    /// The first panic of a callback of this computation.
    fault: OnceLock<CallbackFault>,
}

/// A callback's panic, kept until the computation can report it.
#[derive(Clone, Debug)]
pub(crate) struct CallbackFault {
    method: &'static str,
    key: Option<Key>,
    message: String,
}

impl CallbackFault {
    pub(crate) fn to_error(&self) -> Error {
        Error::Callback {
            method: self.method,
            key: self.key.clone(),
            message: self.message.clone(),
        }
    }
}

/// A clock reading the CPU's time-stamp counter where it is reliable (about
/// 7 ns a read here, against 28 ns for `Instant::now`), calibrated once.
fn clock() -> &'static quanta::Clock {
    static CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

impl Active {
    #[inline]
    fn now(&self) -> Instant {
        let c = clock();
        self.began + c.delta(self.began_raw, c.raw())
    }
}

impl Hooks {
    pub(crate) fn capture() -> Hooks {
        let mut all: Vec<Arc<dyn Callback>> = SCOPED
            .try_with(|s| s.borrow().iter().map(|(_, c)| c.clone()).collect())
            .unwrap_or_default();
        let global = GLOBAL.read().unwrap_or_else(PoisonError::into_inner);
        all.extend(global.iter().map(|(_, c)| c.clone()));
        if all.is_empty() {
            return Hooks(None);
        }
        let began_raw = clock().raw();
        Hooks(Some(Arc::new(Active {
            timed: all.iter().any(|c| c.wants_times()),
            graph: all.iter().any(|c| c.wants_graph()),
            callbacks: all.into(),
            began: Instant::now(),
            began_raw,
            fault: OnceLock::new(),
        })))
    }

    #[inline]
    pub(crate) fn active(&self) -> Option<&Active> {
        self.0.as_deref()
    }

    pub(crate) fn start(&self, tasks: usize) {
        if let Some(a) = self.active() {
            a.each("on_start", None, |cb| cb.on_start(tasks));
        }
    }

    /// Announces `tasks` more tasks to the callbacks of a running computation.
    pub(crate) fn add(&self, tasks: usize) {
        if let Some(a) = self.active() {
            a.each("on_tasks_added", None, |cb| cb.on_tasks_added(tasks));
        }
    }

    /// Gives the callbacks that want it the graph's summary, made only then.
    pub(crate) fn graph(&self, make: impl FnOnce() -> GraphSummary) {
        let Some(active) = self.active().filter(|a| a.graph) else {
            return;
        };
        let Some(summary) = active.guard("on_graph", None, make) else {
            return;
        };
        active.each("on_graph", None, |cb| {
            if cb.wants_graph() {
                cb.on_graph(&summary)
            }
        });
    }

    /// The first panic of one of these callbacks, as the computation's error.
    #[inline]
    pub(crate) fn fault(&self) -> Option<Error> {
        self.active()?.fault.get().map(CallbackFault::to_error)
    }

    /// [`fault`](Self::fault), as it was recorded.
    pub(crate) fn callback_fault(&self) -> Option<CallbackFault> {
        self.active()?.fault.get().cloned()
    }

    /// These hooks and `extra`, for one computation.
    fn with(self, extra: Arc<dyn Callback>) -> Hooks {
        let mut all: Vec<Arc<dyn Callback>> = self
            .0
            .as_deref()
            .map(|a| a.callbacks.to_vec())
            .unwrap_or_default();
        all.push(extra);
        let began_raw = clock().raw();
        Hooks(Some(Arc::new(Active {
            timed: all.iter().any(|c| c.wants_times()),
            graph: all.iter().any(|c| c.wants_graph()),
            callbacks: all.into(),
            began: Instant::now(),
            began_raw,
            fault: OnceLock::new(),
        })))
    }

    pub(crate) fn finish(&self, error: Option<&Error>) {
        if let Some(a) = self.active() {
            a.each("on_finish", None, |cb| cb.on_finish(error));
        }
    }
}

thread_local! {
    /// The index of a client worker thread (see [`set_client_worker`]).
    static CLIENT_WORKER: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Marks the current thread as the futures client's worker `i`.
pub(crate) fn set_client_worker(i: usize) {
    CLIENT_WORKER.with(|w| w.set(Some(i)));
}

/// Index of the current worker thread (rayon's, or the client's), 0 outside
/// a pool.
pub(crate) fn worker() -> usize {
    rayon::current_thread_index()
        .or_else(|| CLIENT_WORKER.with(|w| w.get()))
        .unwrap_or(0)
}

/// Runs `f` as the task `key`, reporting to the hooks when there are any.
///
/// `key` is called only when some callback is active; it may hand out a
/// reference (dynamic graphs, whose nodes outlive the run) or a new key
/// (static graphs, whose keys are free to make), so nothing is cloned per
/// task unless a callback keeps the key.
///
/// `f` appears once, and the reporting is in functions that are not generic:
/// a static graph instantiates this once per task, so what is inlined here
/// is all the optimiser sees again for every task.
#[inline]
pub(crate) fn observe<K: Borrow<Key>, R>(
    hooks: &Hooks,
    key: impl FnOnce() -> K,
    failed: impl FnOnce(&R) -> bool,
    f: impl FnOnce() -> R,
) -> R {
    observe_at(hooks, worker, key, failed, f)
}

/// [`observe`] on a worker of the caller's numbering.
#[inline]
pub(crate) fn observe_at<K: Borrow<Key>, R>(
    hooks: &Hooks,
    worker: impl FnOnce() -> usize,
    key: impl FnOnce() -> K,
    failed: impl FnOnce(&R) -> bool,
    f: impl FnOnce() -> R,
) -> R {
    let active = hooks.active();
    let key = active.map(|_| key());
    let started = match (active, &key) {
        (Some(a), Some(k)) => Some(a.task_started(k.borrow(), worker())),
        _ => None,
    };
    let out = f();
    if let (Some(a), Some(k), Some(s)) = (active, &key, started) {
        a.task_ended(k.borrow(), s, failed(&out));
    }
    out
}

impl Hooks {
    /// A static graph's task `name` (with `indices`) starts: reported when
    /// some callback is active. Not generic and nothing to drop, so a graph
    /// of many tasks compiles little per task; the pair is [`observe`]'s
    /// split in two.
    #[inline]
    pub(crate) fn begin(&self, name: &'static str, indices: &[u64]) -> Option<Started> {
        let active = self.active()?;
        Some(active.begin(name, indices))
    }

    /// The task of [`begin`](Self::begin) ended.
    #[inline]
    pub(crate) fn end(
        &self,
        name: &'static str,
        indices: &[u64],
        begun: Option<Started>,
        failed: bool,
    ) {
        if let (Some(active), Some(started)) = (self.active(), begun) {
            active.end(name, indices, started, failed);
        }
    }
}

/// When and where a task started, between [`Active::task_started`] and
/// [`Active::task_ended`].
#[derive(Clone, Copy)]
pub(crate) struct Started {
    worker: usize,
    start: Instant,
}

impl Active {
    #[inline(never)]
    fn begin(&self, name: &'static str, indices: &[u64]) -> Started {
        self.task_started(&Key::new(name).with_indices(indices), worker())
    }

    #[inline(never)]
    fn end(&self, name: &'static str, indices: &[u64], started: Started, failed: bool) {
        self.task_ended(&Key::new(name).with_indices(indices), started, failed)
    }

    /// Runs `f`, recording its panic as this computation's callback fault
    /// (the first one wins); `None` if it panicked.
    fn guard<R>(
        &self,
        method: &'static str,
        key: Option<&Key>,
        f: impl FnOnce() -> R,
    ) -> Option<R> {
        match catch_panic(f) {
            Ok(r) => Some(r),
            Err(cause) => {
                let message = match cause {
                    crate::TaskError::Panicked(m) => m,
                    other => other.to_string(),
                };
                let _ = self.fault.set(CallbackFault {
                    method,
                    key: key.cloned(),
                    message,
                });
                None
            }
        }
    }

    /// Calls `f` on each callback, each under [`guard`](Self::guard): one
    /// that panics does not keep the others from hearing the event.
    fn each(&self, method: &'static str, key: Option<&Key>, f: impl Fn(&dyn Callback)) {
        for cb in self.callbacks.iter() {
            self.guard(method, key, || f(cb.as_ref()));
        }
    }

    #[inline(never)]
    fn task_started(&self, key: &Key, worker: usize) -> Started {
        self.each("on_task_start", Some(key), |cb| {
            cb.on_task_start(key, worker)
        });
        let start = if self.timed { self.now() } else { self.began };
        Started { worker, start }
    }

    #[inline(never)]
    fn task_ended(&self, key: &Key, started: Started, failed: bool) {
        let event = TaskEvent {
            key,
            worker: started.worker,
            start: started.start,
            end: if self.timed {
                self.now()
            } else {
                started.start
            },
            failed,
        };
        self.each("on_task_end", Some(key), |cb| cb.on_task_end(&event));
    }
}

/// The callbacks active where a computation starts, for executors outside
/// this crate (the cluster backend of `dagwood-cluster`), so that progress
/// bars, profilers and the dashboard see their tasks as they see the
/// built-in schedulers'. With no callback active, each call is one branch.
///
/// ```
/// use dagwood_runtime::diagnostics::{GraphSummary, ProgressBar, Reporter};
/// use dagwood_runtime::Key;
///
/// let bar = ProgressBar::new();
/// let _on = bar.scoped();
/// let reporter = Reporter::capture(); // on the thread that starts the run
/// reporter.start(2);
/// let key = Key::new("work");
/// let mut results = Vec::new();
/// for i in 0..2 {
///     // On whichever thread runs the task, with that worker's number.
///     results.push(reporter.task(i, &key, |r: &Result<i32, String>| r.is_err(), || Ok(i as i32)));
/// }
/// reporter.finish(None);
/// assert_eq!(bar.state().done, 2);
/// ```
#[derive(Clone, Default)]
pub struct Reporter {
    hooks: Hooks,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("active", &self.is_active())
            .finish()
    }
}

impl Reporter {
    /// The callbacks active on this thread now (scoped and global).
    pub fn capture() -> Reporter {
        Reporter {
            hooks: Hooks::capture(),
        }
    }

    /// These callbacks and `callback` too.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_runtime::diagnostics::{Profiler, Reporter};
    /// # struct Nothing;
    /// # impl dagwood_runtime::diagnostics::Callback for Nothing {}
    /// let r = Reporter::capture().with_callback(Arc::new(Nothing));
    /// assert!(r.is_active());
    /// ```
    pub fn with_callback(self, callback: Arc<dyn Callback>) -> Reporter {
        Reporter {
            hooks: self.hooks.with(callback),
        }
    }

    /// True when some callback is active.
    ///
    /// ```
    /// assert!(!dagwood_runtime::diagnostics::Reporter::default().is_active());
    /// ```
    pub fn is_active(&self) -> bool {
        self.hooks.active().is_some()
    }

    /// A computation of `tasks` tasks starts ([`Callback::on_start`]).
    pub fn start(&self, tasks: usize) {
        self.hooks.start(tasks)
    }

    /// Its graph by layer ([`Callback::on_graph`]); `make` runs only when
    /// some active callback wants it.
    pub fn graph(&self, make: impl FnOnce() -> GraphSummary) {
        self.hooks.graph(make)
    }

    /// Runs `f` as the task `key` on `worker`, reporting its start and end;
    /// `failed` tells from its result whether it failed.
    #[inline]
    pub fn task<R>(
        &self,
        worker: usize,
        key: &Key,
        failed: impl FnOnce(&R) -> bool,
        f: impl FnOnce() -> R,
    ) -> R {
        observe_at(&self.hooks, || worker, || key, failed, f)
    }

    /// The computation ended ([`Callback::on_finish`]).
    pub fn finish(&self, error: Option<&Error>) {
        self.hooks.finish(error)
    }

    /// The first panic of a callback since this reporter was captured
    /// ([`Error::Callback`]): the executor's computation must fail with it.
    /// Callbacks are called under a catch, so a panic never leaves
    /// [`task`](Self::task), [`start`](Self::start) or the others.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_runtime::diagnostics::{Callback, Reporter};
    /// struct Broken;
    /// impl Callback for Broken {
    ///     fn on_start(&self, _: usize) { panic!("boom") }
    /// }
    /// let r = Reporter::default().with_callback(Arc::new(Broken));
    /// assert!(r.fault().is_none());
    /// r.start(3);
    /// assert!(r.fault().unwrap().to_string().contains("`on_start` panicked: boom"));
    /// ```
    pub fn fault(&self) -> Option<Error> {
        self.hooks.fault()
    }
}
