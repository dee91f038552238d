//! A progress bar for computations (Dask's `with ProgressBar():`).
//!
//! Workers only bump a counter per finished task; a drawing thread reads
//! the counters ten times a second and hands the sum to indicatif, so the
//! cost per task is one uncontended atomic add whether or not anything is
//! drawn.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, ProgressStyle, TermLike};

use super::callback::{activation_methods, Callback};
use super::TaskEvent;
use crate::task::lock;
use crate::Error;

/// Counters per worker, each on its own cache line so that workers never
/// contend for one line; more workers than slots share slots (still correct:
/// the adds are atomic).
const SLOTS: usize = 32;

#[repr(align(128))]
#[derive(Default)]
struct Padded(AtomicU64);

/// Tasks ended, per worker slot.
#[derive(Default)]
struct Counters([Padded; SLOTS]);

impl Counters {
    fn sum(&self) -> u64 {
        self.0.iter().map(|c| c.0.load(Ordering::Relaxed)).sum()
    }

    fn reset(&self) {
        for c in &self.0 {
            c.0.store(0, Ordering::Relaxed);
        }
    }
}

/// A progress bar on stderr for every computation run while it is active:
/// tasks done of the total, elapsed time, rate and time left.
///
/// Activate it for the computations of this thread with a guard (like Dask's
/// `with ProgressBar():`), for one call with [`with_progress`], or for every
/// thread with [`register`](Self::register). A computation started while
/// another one is shown (nested, or on another thread with a global bar)
/// adds its tasks to the same bar; the bar finishes when the last of them
/// ends: with its totals on success, marked as failed (naming the failed
/// task) on error.
///
/// Nothing is drawn when stderr is not a terminal (a log, a pipe, CI)
/// unless [`force`](Self::force) is set; the counts are kept either way
/// ([`state`](Self::state)).
///
/// ```
/// use dagwood_runtime::diagnostics::ProgressBar;
/// use dagwood_runtime::{delayed, sum};
///
/// let total = sum((0..1000).map(|i| delayed(i).map("square", |v: &i64| v * v)), 8).unwrap();
/// let bar = ProgressBar::new();
/// {
///     let _bar = bar.scoped(); // computations on this thread show the bar
///     total.compute().unwrap();
/// }
/// let state = bar.state();
/// assert_eq!(state.done, state.total);
/// assert!(state.finished && state.failed.is_none());
/// ```
#[derive(Clone)]
pub struct ProgressBar {
    inner: Arc<Inner>,
}

/// What a [`ProgressBar`] has counted, from [`ProgressBar::state`].
///
/// ```
/// use dagwood_runtime::diagnostics::ProgressBar;
/// use dagwood_runtime::TaskBuilder;
/// let bad = TaskBuilder::new("bad").build(|_| Err::<i32, _>(dagwood_runtime::TaskError::failed("no")));
/// let bar = ProgressBar::new();
/// assert!(bar.run(|| bad.compute()).is_err());
/// let state = bar.state();
/// assert!(state.finished);
/// assert!(state.failed.unwrap().contains("no"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgressState {
    /// Tasks that ended (successfully or not) in the current or last run.
    pub done: u64,
    /// Tasks of the computations of the current or last run.
    pub total: u64,
    /// True once the last computation of the run has ended.
    pub finished: bool,
    /// The error the run ended with (its text), if one failed.
    pub failed: Option<String>,
}

struct Inner {
    counters: Arc<Counters>,
    config: Config,
    state: Mutex<RunState>,
}

#[derive(Clone)]
struct Config {
    force: bool,
    minimum: Duration,
    refresh: Duration,
    writer: Option<SharedWriter>,
}

#[derive(Default)]
struct RunState {
    /// Computations running now; the bar lives while this is above zero.
    running: usize,
    total: u64,
    finished: bool,
    failed: Option<String>,
    shown: Option<Shown>,
}

/// The indicatif bar of one run and the thread that draws it.
struct Shown {
    bar: indicatif::ProgressBar,
    stop: Arc<(Mutex<bool>, Condvar)>,
    /// The output needs a newline after the last draw (writers that are not terminals).
    newline: Option<SharedWriter>,
}

impl Default for ProgressBar {
    fn default() -> ProgressBar {
        ProgressBar::new()
    }
}

impl std::fmt::Debug for ProgressBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressBar")
            .field("state", &self.state())
            .finish()
    }
}

impl ProgressBar {
    /// A progress bar on stderr, redrawn ten times a second, shown from the
    /// start of a computation, drawn only when stderr is a terminal.
    ///
    /// ```
    /// let bar = dagwood_runtime::diagnostics::ProgressBar::new();
    /// assert_eq!(bar.state().total, 0);
    /// ```
    pub fn new() -> ProgressBar {
        ProgressBar::with_config(Config {
            force: false,
            minimum: Duration::ZERO,
            refresh: Duration::from_millis(100),
            writer: None,
        })
    }

    fn with_config(config: Config) -> ProgressBar {
        ProgressBar {
            inner: Arc::new(Inner {
                counters: Default::default(),
                config,
                state: Mutex::new(RunState::default()),
            }),
        }
    }

    fn map_config(self, f: impl FnOnce(&mut Config)) -> ProgressBar {
        let mut config = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.config,
            // Already shared (cloned or active): configure a fresh bar instead.
            Err(shared) => shared.config.clone(),
        };
        f(&mut config);
        ProgressBar::with_config(config)
    }

    /// Draws on stderr even when it is not a terminal (a log file, CI):
    /// each redraw starts with a carriage return, the last ends the line.
    ///
    /// ```
    /// let bar = dagwood_runtime::diagnostics::ProgressBar::new().force(true);
    /// # let _ = bar;
    /// ```
    pub fn force(self, force: bool) -> ProgressBar {
        self.map_config(|c| c.force = force)
    }

    /// Shows the bar only once a run has lasted this long (Dask's `minimum`),
    /// so that quick computations draw nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// let bar = dagwood_runtime::diagnostics::ProgressBar::new().minimum(Duration::from_secs(1));
    /// # let _ = bar;
    /// ```
    pub fn minimum(self, minimum: Duration) -> ProgressBar {
        self.map_config(|c| c.minimum = minimum)
    }

    /// How often the bar is redrawn (default 100 ms, at least 10 ms).
    ///
    /// ```
    /// use std::time::Duration;
    /// let bar = dagwood_runtime::diagnostics::ProgressBar::new().refresh(Duration::from_millis(250));
    /// # let _ = bar;
    /// ```
    pub fn refresh(self, every: Duration) -> ProgressBar {
        self.map_config(|c| c.refresh = every.max(Duration::from_millis(10)))
    }

    /// Draws into `writer` instead of stderr (always, terminal or not): for
    /// logs and tests. Redraws start with a carriage return; the last ends
    /// the line.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::ProgressBar;
    /// use dagwood_runtime::delayed;
    /// let bar = ProgressBar::new().to_writer(std::io::sink());
    /// bar.run(|| delayed(1).map("inc", |v: &i32| v + 1).compute()).unwrap();
    /// assert_eq!(bar.state().done, 2);
    /// ```
    pub fn to_writer(self, writer: impl Write + Send + 'static) -> ProgressBar {
        let writer = SharedWriter(Arc::new(Mutex::new(Box::new(writer))));
        self.map_config(|c| c.writer = Some(writer))
    }

    activation_methods!(
        ProgressBar,
        "assert_eq!(x.state().done, 2); // the last run: a constant and square"
    );

    /// Counts of the current or last run.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::ProgressBar;
    /// let state = ProgressBar::new().state();
    /// assert_eq!((state.done, state.total, state.finished), (0, 0, false));
    /// ```
    pub fn state(&self) -> ProgressState {
        let run = self.inner.lock();
        ProgressState {
            done: self.inner.done(),
            total: run.total,
            finished: run.finished,
            failed: run.failed.clone(),
        }
    }
}

/// Runs `f` with a progress bar on stderr for the computations it starts on
/// this thread: the per-call form of [`ProgressBar::scoped`].
///
/// ```
/// use dagwood_runtime::diagnostics::with_progress;
/// use dagwood_runtime::delayed;
/// let x = delayed(3).map("cube", |v: &i64| v * v * v);
/// assert_eq!(with_progress(|| x.compute()).unwrap(), 27);
/// ```
pub fn with_progress<R>(f: impl FnOnce() -> R) -> R {
    ProgressBar::new().run(f)
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, RunState> {
        lock(&self.state)
    }

    fn done(&self) -> u64 {
        self.counters.sum()
    }

    fn target(&self) -> (ProgressDrawTarget, Option<SharedWriter>) {
        let hz = (1000 / self.config.refresh.as_millis().max(1)).clamp(1, 100) as u8;
        if let Some(w) = &self.config.writer {
            let target = ProgressDrawTarget::term_like_with_hz(Box::new(w.clone()), hz);
            return (target, Some(w.clone()));
        }
        if std::io::stderr().is_terminal() {
            (ProgressDrawTarget::stderr_with_hz(hz), None)
        } else if self.config.force {
            let w = SharedWriter(Arc::new(Mutex::new(Box::new(std::io::stderr()))));
            let target = ProgressDrawTarget::term_like_with_hz(Box::new(w.clone()), hz);
            (target, Some(w))
        } else {
            (ProgressDrawTarget::hidden(), None)
        }
    }

    /// Starts a new run: a fresh indicatif bar and its drawing thread.
    fn show(&self, total: u64) -> Shown {
        let (target, newline) = self.target();
        if target.is_hidden() {
            // Nothing will be drawn: count only, with no drawing thread to
            // start (about 30 µs per computation).
            return Shown {
                bar: indicatif::ProgressBar::with_draw_target(Some(total), target),
                stop: Arc::new((Mutex::new(true), Condvar::new())),
                newline: None,
            };
        }
        let shown_now = self.config.minimum.is_zero();
        // With a minimum, the bar starts hidden and the drawer shows it later.
        let (first, mut pending_target) = if shown_now {
            (target, None)
        } else {
            (ProgressDrawTarget::hidden(), Some(target))
        };
        let bar = indicatif::ProgressBar::with_draw_target(Some(total), first);
        bar.set_style(style(RUNNING));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        {
            let (bar, stop, counters) = (bar.clone(), stop.clone(), self.counters.clone());
            let (refresh, minimum) = (self.config.refresh, self.config.minimum);
            let started = Instant::now();
            // Detached: it ends by itself once `end` sets the stop flag.
            let spawned = std::thread::Builder::new()
                .name("dagwood-progress".into())
                .spawn(move || {
                    let (flag, cv) = &*stop;
                    let mut stopped = lock(flag);
                    // Draws happen with the stop lock held, so once `end` has
                    // set the flag no draw of this thread can follow the
                    // final one: `end` need not wait for the thread to exit.
                    while !*stopped {
                        stopped = cv
                            .wait_timeout(stopped, refresh)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                        if *stopped {
                            break;
                        }
                        if pending_target.is_some() && started.elapsed() >= minimum {
                            if let Some(t) = pending_target.take() {
                                bar.set_draw_target(t);
                            }
                        }
                        bar.set_position(counters.sum());
                    }
                });
            if let Err(e) = spawned {
                // Counting goes on; only the redraws are lost.
                tracing::warn!("ProgressBar: could not start its drawing thread: {e}");
            }
        }
        Shown { bar, stop, newline }
    }
}

impl Shown {
    fn end(self, done: u64, failed: Option<&str>) {
        {
            let (flag, cv) = &*self.stop;
            *lock(flag) = true;
            cv.notify_all();
        }
        let was_hidden = self.bar.is_hidden();
        self.bar.set_position(done);
        match failed {
            None => {
                self.bar.set_style(style(FINISHED));
                self.bar.finish_with_message("done");
            }
            Some(why) => {
                self.bar.set_style(style(FAILED));
                self.bar.abandon_with_message(format!("failed: {why}"));
            }
        }
        if let (Some(w), false) = (&self.newline, was_hidden) {
            let _ = w.write_line("");
        }
    }
}

const RUNNING: &str =
    "{spinner} [{elapsed_precise}] [{wide_bar}] {human_pos}/{human_len} tasks, {per_sec:1}, {eta} left";
const FINISHED: &str =
    "  [{elapsed_precise}] [{wide_bar}] {human_pos}/{human_len} tasks, {per_sec:1}, {msg}";
const FAILED: &str = "! [{elapsed_precise}] [{wide_bar}] {human_pos}/{human_len} tasks, {msg}";

fn style(template: &str) -> ProgressStyle {
    // The templates are constants of this file, checked by the tests: a
    // failure here is a typo, and the default style is a safe fallback.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Callback for Inner {
    fn on_start(&self, tasks: usize) {
        let mut run = self.lock();
        if run.running == 0 {
            // A new run: no task of the previous one is still going (its
            // computations have all reported their end).
            self.counters.reset();
            *run = RunState {
                total: tasks as u64,
                shown: Some(self.show(tasks as u64)),
                ..RunState::default()
            };
        } else {
            run.total += tasks as u64;
            if let Some(shown) = &run.shown {
                shown.bar.inc_length(tasks as u64);
            }
        }
        run.running += 1;
    }

    fn on_tasks_added(&self, tasks: usize) {
        let mut run = self.lock();
        run.total += tasks as u64;
        if let Some(shown) = &run.shown {
            shown.bar.inc_length(tasks as u64);
        }
    }

    #[inline]
    fn on_task_end(&self, event: &TaskEvent<'_>) {
        self.counters.0[event.worker % SLOTS]
            .0
            .fetch_add(1, Ordering::Relaxed);
    }

    fn on_finish(&self, error: Option<&Error>) {
        let mut run = self.lock();
        run.running = run.running.saturating_sub(1);
        if let Some(e) = error {
            if run.failed.is_none() {
                run.failed = Some(e.to_string());
            }
        }
        if run.running > 0 {
            return;
        }
        run.finished = true;
        let shown = run.shown.take();
        let why = error.map(|e| match e.key() {
            Some(key) => format!("task {key}"),
            None => e.to_string(),
        });
        let why = why.or_else(|| run.failed.clone());
        drop(run);
        if let Some(shown) = shown {
            shown.end(self.done(), why.as_deref());
        }
    }

    fn wants_times(&self) -> bool {
        false
    }
}

/// Writes a bar to any `Write` as plain lines: `\r` before each redraw.
#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Box<dyn Write + Send>>>);

impl std::fmt::Debug for SharedWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedWriter")
    }
}

impl SharedWriter {
    fn with<R>(&self, f: impl FnOnce(&mut dyn Write) -> std::io::Result<R>) -> std::io::Result<R> {
        f(&mut **lock(&self.0))
    }
}

impl TermLike for SharedWriter {
    fn width(&self) -> u16 {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100)
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.with(|w| writeln!(w, "{s}"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.with(|w| w.write_all(s.as_bytes()))
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.with(|w| w.write_all(b"\r"))
    }
    fn flush(&self) -> std::io::Result<()> {
        self.with(|w| w.flush())
    }
}
