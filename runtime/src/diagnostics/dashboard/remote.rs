//! The dashboard on a cluster: each process other than 0 collects its own
//! tasks with a [`Collector`] and sends a [`ProcessDigest`] every interval
//! (the cluster backend carries it on its heartbeat connection); process 0
//! hands them to its dashboards with [`Dashboard::ingest`](super::Dashboard::ingest).
//! This module knows nothing of networks: the digest is plain data.

use std::sync::Arc;

use super::core::Core;
use crate::diagnostics::Callback;

/// What one process of a cluster tells process 0's dashboard: what ran
/// there since its last digest, and its counts so far in the current run.
/// Times are milliseconds from the run's start on that process.
///
/// ```
/// use dagwood_runtime::diagnostics::{Collector, Reporter};
/// use dagwood_runtime::Key;
/// let collector = Collector::new(3, 1);
/// let reporter = Reporter::default().with_callback(collector.callback());
/// reporter.start(1);
/// reporter.task(7, &Key::new("load"), |_: &()| false, || ());
/// reporter.finish(None);
/// let d = collector.digest();
/// assert_eq!((d.process, d.run), (3, 1));
/// assert_eq!(d.names, vec!["load".to_string()]);
/// assert_eq!((d.groups[0].done, d.bars[0].worker), (1, 7));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessDigest {
    /// The process that sent it.
    pub process: u32,
    /// Which of that process's runs it belongs to (runs are numbered from 1).
    pub run: u64,
    /// Task names; `name` fields below index this.
    pub names: Vec<String>,
    /// Counts per task group in the run so far.
    pub groups: Vec<DigestGroup>,
    /// The task stream since the last digest, aggregated.
    pub bars: Vec<DigestBar>,
    /// Per worker (by global worker index), the share of time in tasks (%).
    pub busy: Vec<(u32, f64)>,
    /// The process's resident memory.
    pub rss_bytes: u64,
    /// Its CPU use, in percent of one core.
    pub cpu_percent: f64,
    /// The last failed task there: key and error.
    pub failure: Option<(String, String)>,
}

/// One task group's counts in a [`ProcessDigest`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DigestGroup {
    /// Index into [`ProcessDigest::names`].
    pub name: u32,
    /// Tasks that ended.
    pub done: u64,
    /// Of which failed.
    pub failed: u64,
    /// Tasks running now.
    pub running: u64,
}

/// One bar of the task stream in a [`ProcessDigest`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DigestBar {
    /// The worker (global worker index on the cluster).
    pub worker: u32,
    /// Start, ms from the run's start.
    pub start_ms: f64,
    /// End, ms from the run's start.
    pub end_ms: f64,
    /// Index into [`ProcessDigest::names`].
    pub name: u32,
    /// Tasks in the bar.
    pub count: u32,
    /// Of which failed.
    pub failed: u32,
}

/// Collects the tasks of one process of a cluster for process 0's
/// dashboard: register its [`callback`](Self::callback) for the run and
/// send a [`digest`](Self::digest) every interval.
#[derive(Clone)]
pub struct Collector {
    core: Arc<Core>,
    process: u32,
    run: u64,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("process", &self.process)
            .field("run", &self.run)
            .finish()
    }
}

impl Collector {
    /// A collector for process `process`'s run number `run` (from 1, the
    /// same numbering on every process: runs are the cluster computations).
    ///
    /// ```
    /// let c = dagwood_runtime::diagnostics::Collector::new(1, 1);
    /// assert!(c.digest().bars.is_empty());
    /// ```
    pub fn new(process: u32, run: u64) -> Collector {
        Collector {
            core: Arc::new(Core::new(false)),
            process,
            run,
        }
    }

    /// The callback to report this process's tasks to (see
    /// [`Reporter::with_callback`](crate::diagnostics::Reporter::with_callback)).
    pub fn callback(&self) -> Arc<dyn Callback> {
        self.core.clone()
    }

    /// What ran since the last digest, and the counts so far.
    pub fn digest(&self) -> ProcessDigest {
        let mut state = self.core.drain();
        state.sample();
        let names: Vec<String> = state.names.iter().map(|n| n.to_string()).collect();
        let groups = (0..state.groups.len() as u32)
            .filter_map(|id| {
                let c = state.groups[id as usize].local;
                (c.done + c.running > 0).then_some(DigestGroup {
                    name: id,
                    done: c.done,
                    failed: c.failed,
                    running: c.running,
                })
            })
            .collect();
        let bars = std::mem::take(&mut state.dirty.bars)
            .into_iter()
            .map(|b| DigestBar {
                worker: state.rows[b.row as usize].1,
                start_ms: b.start,
                end_ms: b.end,
                name: b.name,
                count: b.count,
                failed: b.failed,
            })
            .collect();
        let busy = state
            .rows
            .iter()
            .zip(&state.busy)
            .map(|(&(_, w), &b)| (w, b))
            .collect();
        state.dirty = Default::default();
        ProcessDigest {
            process: self.process,
            run: self.run,
            names,
            groups,
            bars,
            busy,
            rss_bytes: state.rss,
            cpu_percent: state.cpu,
            failure: state
                .failure
                .as_ref()
                .map(|f| (f.key.clone(), f.error.clone().unwrap_or_default())),
        }
    }
}
