//! The resource profiler (Dask's `ResourceProfiler`): process memory and CPU
//! time, sampled on a background thread while computations run.
//!
//! Linux only: the numbers come from `/proc/self/status` (resident set) and
//! `/proc/self/stat` (user + system CPU time). Elsewhere
//! [`ResourceProfiler::is_supported`] is false and no samples are taken.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::callback::{activation_methods, Callback};
use crate::task::lock;
use crate::Error;

/// The process's memory and CPU at one moment.
///
/// ```
/// use dagwood_runtime::diagnostics::{ResourceProfiler, ResourceSample};
/// match ResourceSample::now() {
///     Some(s) => assert!(s.rss_bytes > 0 && s.cpu_seconds >= 0.0),
///     None => assert!(!ResourceProfiler::is_supported()),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResourceSample {
    /// When it was taken.
    pub at: Instant,
    /// Resident set size (physical memory in use), in bytes.
    pub rss_bytes: u64,
    /// User plus system CPU time of the process since it started, in seconds.
    pub cpu_seconds: f64,
    /// CPU use over the last 40 ms or more before the sample, in percent of
    /// one core (200 = two cores busy); 0 for a profiler's first sample.
    pub cpu_percent: f64,
}

impl ResourceSample {
    /// Reads the current process's memory and CPU time; `None` where that is
    /// not supported (anywhere but Linux) or `/proc` cannot be read.
    ///
    /// ```
    /// if let Some(s) = dagwood_runtime::diagnostics::ResourceSample::now() {
    ///     assert!(s.rss_bytes > 1 << 20); // a running test binary holds over a MiB
    /// }
    /// ```
    pub fn now() -> Option<ResourceSample> {
        let (rss_bytes, cpu_seconds) = read_proc()?;
        Some(ResourceSample {
            at: Instant::now(),
            rss_bytes,
            cpu_seconds,
            cpu_percent: 0.0,
        })
    }
}

#[cfg(target_os = "linux")]
fn read_proc() -> Option<(u64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields from the last ')'. After it come field 3 (state) on, so
    // utime (field 14) and stime (field 15) are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // The kernel reports these in USER_HZ ticks, which is 100 on every Linux
    // architecture (the ABI fixes it, whatever the kernel's own HZ).
    const USER_HZ: f64 = 100.0;
    Some((rss_kb * 1024, (utime + stime) as f64 / USER_HZ))
}

#[cfg(not(target_os = "linux"))]
fn read_proc() -> Option<(u64, f64)> {
    None
}

/// Samples the process's memory and CPU on a background thread while
/// computations run: from the start of the first until the end of the last
/// that it sees, every [`interval`](Self::interval) (50 ms by default).
///
/// Use it alone, or attach it to a [`Profiler`](super::Profiler) with
/// [`Profiler::with_resources`](super::Profiler::with_resources) so that the
/// profiler's trace and timeline show memory under the tasks. Where
/// sampling is not supported (anywhere but Linux) it records nothing and
/// logs one `tracing` warning when first activated.
///
/// ```
/// use std::time::Duration;
/// use dagwood_runtime::diagnostics::ResourceProfiler;
/// use dagwood_runtime::delayed;
///
/// let res = ResourceProfiler::new().interval(Duration::from_millis(10));
/// res.run(|| {
///     delayed(()).map("sleep", |_: &()| std::thread::sleep(Duration::from_millis(50))).compute()
/// })
/// .unwrap();
/// let samples = res.samples();
/// if ResourceProfiler::is_supported() {
///     assert!(samples.len() >= 2); // at the start, every 10 ms, and at the end
///     assert!(samples.windows(2).all(|w| w[0].at <= w[1].at));
/// }
/// ```
#[derive(Clone)]
pub struct ResourceProfiler {
    inner: Arc<Inner>,
}

struct Inner {
    interval: Duration,
    samples: Arc<Mutex<Samples>>,
    sampler: Mutex<Sampler>,
}

/// The samples, and what the CPU use of the next is measured from: kept
/// across runs, so that a run's first sample does not read as idle.
#[derive(Default)]
struct Samples {
    all: Vec<ResourceSample>,
    /// The sample CPU use is measured from. It moves on only once
    /// `CPU_WINDOW` has passed: the kernel counts CPU time in 10 ms ticks,
    /// so shorter windows read as 0% or 200% by chance.
    base: Option<ResourceSample>,
    /// The CPU use last measured, repeated for samples in a shorter window.
    percent: f64,
}

const CPU_WINDOW: Duration = Duration::from_millis(40);

/// A flag and its condition variable: set to stop a background thread.
type StopSignal = Arc<(Mutex<bool>, Condvar)>;

#[derive(Default)]
struct Sampler {
    /// Computations running now; the thread samples while this is above zero.
    running: usize,
    thread: Option<(JoinHandle<()>, StopSignal)>,
}

impl Default for ResourceProfiler {
    fn default() -> ResourceProfiler {
        ResourceProfiler::new()
    }
}

impl std::fmt::Debug for ResourceProfiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceProfiler")
            .field("interval", &self.inner.interval)
            .field("samples", &lock(&self.inner.samples).all.len())
            .finish()
    }
}

impl ResourceProfiler {
    /// A resource profiler sampling every 50 ms.
    ///
    /// ```
    /// assert!(dagwood_runtime::diagnostics::ResourceProfiler::new().samples().is_empty());
    /// ```
    pub fn new() -> ResourceProfiler {
        ResourceProfiler::with_interval(Duration::from_millis(50))
    }

    fn with_interval(interval: Duration) -> ResourceProfiler {
        ResourceProfiler {
            inner: Arc::new(Inner {
                interval,
                samples: Arc::new(Mutex::new(Samples::default())),
                sampler: Mutex::new(Sampler::default()),
            }),
        }
    }

    /// The same profiler sampling every `every` (at least 1 ms). Samples made
    /// so far are kept.
    ///
    /// ```
    /// use std::time::Duration;
    /// let res = dagwood_runtime::diagnostics::ResourceProfiler::new().interval(Duration::from_millis(100));
    /// # let _ = res;
    /// ```
    pub fn interval(self, every: Duration) -> ResourceProfiler {
        let new = ResourceProfiler::with_interval(every.max(Duration::from_millis(1)));
        *lock(&new.inner.samples) = Samples {
            all: self.samples(),
            ..Samples::default()
        };
        new
    }

    /// True where samples can be taken (Linux, with `/proc` readable).
    ///
    /// ```
    /// # use dagwood_runtime::diagnostics::ResourceProfiler;
    /// if cfg!(target_os = "linux") {
    ///     assert!(ResourceProfiler::is_supported());
    /// }
    /// ```
    pub fn is_supported() -> bool {
        read_proc().is_some()
    }

    activation_methods!(
        ResourceProfiler,
        "let _ = x.samples(); // samples come every interval; this run may be too short for any"
    );

    /// Every sample taken so far, oldest first.
    ///
    /// ```
    /// assert!(dagwood_runtime::diagnostics::ResourceProfiler::new().samples().is_empty());
    /// ```
    pub fn samples(&self) -> Vec<ResourceSample> {
        lock(&self.inner.samples).all.clone()
    }

    /// Forgets the samples.
    ///
    /// ```
    /// let res = dagwood_runtime::diagnostics::ResourceProfiler::new();
    /// res.clear();
    /// assert!(res.samples().is_empty());
    /// ```
    pub fn clear(&self) {
        *lock(&self.inner.samples) = Samples::default();
    }

    /// The hooks, for a [`Profiler`](super::Profiler) that forwards to them.
    pub(super) fn callback(&self) -> &dyn Callback {
        &*self.inner
    }
}

/// Appends a sample, with the CPU use since the previous one.
fn take_sample(samples: &Mutex<Samples>) {
    let Some(mut s) = ResourceSample::now() else {
        return;
    };
    let mut samples = lock(samples);
    match samples.base {
        Some(base) if s.at.saturating_duration_since(base.at) >= CPU_WINDOW => {
            let wall = s.at.saturating_duration_since(base.at).as_secs_f64();
            samples.percent = 100.0 * (s.cpu_seconds - base.cpu_seconds).max(0.0) / wall;
            samples.base = Some(s);
        }
        Some(_) => {}
        None => samples.base = Some(s),
    }
    s.cpu_percent = samples.percent;
    samples.all.push(s);
}

impl Callback for Inner {
    fn on_start(&self, _tasks: usize) {
        let mut sampler = lock(&self.sampler);
        sampler.running += 1;
        if sampler.running > 1 {
            return;
        }
        if !ResourceProfiler::is_supported() {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "ResourceProfiler: memory and CPU sampling needs Linux's /proc; no samples are taken"
                )
            });
            return;
        }
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let (samples, interval, stop2) = (self.samples.clone(), self.interval, stop.clone());
        let spawned = std::thread::Builder::new()
            .name("dagwood-resources".into())
            .spawn(move || {
                take_sample(&samples);
                let (flag, cv) = &*stop2;
                let mut stopped = lock(flag);
                while !*stopped {
                    stopped = cv
                        .wait_timeout(stopped, interval)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    // The last sample is taken after the stop signal too: the
                    // state at the end of the run.
                    take_sample(&samples);
                }
            });
        match spawned {
            Ok(handle) => sampler.thread = Some((handle, stop)),
            Err(e) => tracing::warn!("ResourceProfiler: could not start its sampling thread: {e}"),
        }
    }

    fn on_finish(&self, _error: Option<&Error>) {
        let mut sampler = lock(&self.sampler);
        sampler.running = sampler.running.saturating_sub(1);
        if sampler.running > 0 {
            return;
        }
        let Some((handle, stop)) = sampler.thread.take() else {
            return;
        };
        drop(sampler);
        let (flag, cv) = &*stop;
        *lock(flag) = true;
        cv.notify_all();
        // The sampler only reads /proc and pushes; if it panicked there is
        // nothing to recover but the samples it already pushed.
        let _ = handle.join();
    }

    fn wants_times(&self) -> bool {
        false
    }
}
