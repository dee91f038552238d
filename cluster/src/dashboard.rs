//! The dashboard on a cluster: process 0's page shows every process's
//! workers. When process 0 serves a dashboard its handshake says so; each
//! other process then collects its tasks
//! ([`Collector`](dagwood_runtime::diagnostics::Collector)) and its
//! heartbeat thread to process 0 sends a digest every 200 ms, and a last
//! one before its goodbye. Process 0's heartbeat listeners hand them to its
//! dashboards. Without the feature `dashboard` nothing is collected or sent.
//!
//! A digest frame on the heartbeat connection is the byte [`DIGEST`], a
//! little-endian `u32` length, and the postcard encoding of [`Wire`].

use std::time::Duration;
#[cfg(feature = "dashboard")]
use std::time::Instant;

/// Marks a digest frame on the heartbeat connection.
pub(crate) const DIGEST: u8 = 2;
/// How often a watched process sends its digest.
#[cfg_attr(not(feature = "dashboard"), allow(dead_code))]
pub(crate) const EVERY: Duration = Duration::from_millis(200);
/// Largest digest accepted (a digest is a few kilobytes).
pub(crate) const MAX_FRAME: usize = 16 << 20;

/// What the heartbeat threads of one run do for the dashboard.
#[derive(Clone)]
pub(crate) enum Feed {
    /// Not watched: nothing.
    Off,
    /// A process other than 0 whose process 0 shows a dashboard: send
    /// digests to process 0.
    #[cfg(feature = "dashboard")]
    Send(dagwood_runtime::diagnostics::Collector),
    /// Process 0 with a dashboard: take digests from the others; their
    /// times count from the run's start, here `start`.
    #[cfg(feature = "dashboard")]
    Receive { start: Instant },
}

impl Feed {
    /// True if the heartbeat to `peer` carries digests.
    pub(crate) fn sends_to(&self, peer: usize) -> bool {
        match self {
            #[cfg(feature = "dashboard")]
            Feed::Send(_) => peer == 0,
            _ => {
                let _ = peer;
                false
            }
        }
    }

    /// The next digest frame to send (tag, length and body).
    pub(crate) fn frame(&self) -> Option<Vec<u8>> {
        match self {
            #[cfg(feature = "dashboard")]
            Feed::Send(c) => {
                let body = postcard::to_allocvec(&Wire::from(c.digest())).ok()?;
                let mut frame = Vec::with_capacity(body.len() + 5);
                frame.push(DIGEST);
                frame.extend_from_slice(&(body.len() as u32).to_le_bytes());
                frame.extend_from_slice(&body);
                Some(frame)
            }
            _ => None,
        }
    }

    /// A digest's body arrived from a peer.
    pub(crate) fn receive(&self, body: &[u8]) {
        match self {
            #[cfg(feature = "dashboard")]
            Feed::Receive { start } => {
                // A digest that does not decode only loses one update.
                if let Ok(w) = postcard::from_bytes::<Wire>(body) {
                    dagwood_runtime::diagnostics::Dashboard::ingest(&w.into(), *start);
                }
            }
            _ => {
                let _ = body;
            }
        }
    }

    /// How long the heartbeat writer sleeps between writes.
    pub(crate) fn every(&self, beat: Duration) -> Duration {
        match self {
            Feed::Off => beat,
            #[cfg(feature = "dashboard")]
            _ => EVERY.min(beat),
        }
    }
}

/// For one run: the feed of the heartbeat threads, and the extra callback
/// (a collector) to report this process's tasks to. `watched`: process 0
/// serves a dashboard.
#[cfg(feature = "dashboard")]
pub(crate) fn feed(
    process: usize,
    watched: bool,
) -> (
    Feed,
    Option<std::sync::Arc<dyn dagwood_runtime::diagnostics::Callback>>,
) {
    use dagwood_runtime::diagnostics::Collector;
    use std::sync::atomic::{AtomicU64, Ordering};
    // Runs are numbered alike on every process: all call compute in the
    // same order.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    match (watched, process) {
        (false, _) => (Feed::Off, None),
        (true, 0) => (
            Feed::Receive {
                start: Instant::now(),
            },
            None,
        ),
        (true, p) => {
            let c = Collector::new(p as u32, run);
            let cb = c.callback();
            (Feed::Send(c), Some(cb))
        }
    }
}

#[cfg(not(feature = "dashboard"))]
pub(crate) fn feed(
    _process: usize,
    _watched: bool,
) -> (
    Feed,
    Option<std::sync::Arc<dyn dagwood_runtime::diagnostics::Callback>>,
) {
    (Feed::Off, None)
}

/// Reports a run's start to the callbacks: this process's task count, and
/// the graph of every process's tasks by layer (for a dashboard on process
/// 0, which shows them all). Returns the key of every plan task, or nothing
/// when no callback is active (then no task is reported).
pub(crate) fn report_start(
    reporter: &dagwood_runtime::diagnostics::Reporter,
    graph: &dagwood_runtime::WireGraph,
    plan: &crate::plan::RunPlan,
    process: usize,
    threads: usize,
) -> Vec<dagwood_runtime::Key> {
    use dagwood_runtime::Key;
    if !reporter.is_active() {
        return Vec::new();
    }
    let keys: Vec<Key> = (0..plan.len())
        .map(|t| match plan.action[t] {
            crate::plan::Action::Combine { root } => {
                Key::from_name(format!("{}-combine", graph.key(root as usize).name()))
                    .with_index(t as u64)
            }
            _ => graph.key(t).clone(),
        })
        .collect();
    let threads = threads.max(1);
    let mine = (0..plan.len())
        .filter(|&t| plan.runs(t) && plan.owner[t] as usize / threads == process)
        .count();
    reporter.start(mine);
    reporter.graph(|| {
        // Tasks that run somewhere, renumbered densely.
        let mut at = vec![usize::MAX; plan.len()];
        let mut tasks = Vec::new();
        for t in (0..plan.len()).filter(|&t| plan.runs(t)) {
            at[t] = tasks.len();
            tasks.push((&keys[t], plan.is_output[t]));
        }
        let edges = (0..plan.len())
            .filter(|&t| at[t] != usize::MAX)
            .flat_map(|t| {
                let at = &at;
                plan.inputs[t]
                    .iter()
                    .filter(move |i| at[i.task as usize] != usize::MAX)
                    .map(move |i| (at[i.task as usize], at[t]))
            });
        dagwood_runtime::diagnostics::GraphSummary::from_tasks(tasks, edges)
    });
    keys
}

/// Reports a run's end, with its error as the runtime's.
pub(crate) fn report_finish(
    reporter: &dagwood_runtime::diagnostics::Reporter,
    error: Option<&crate::ClusterError>,
) {
    use dagwood_runtime::{Error, Key, TaskError};
    if !reporter.is_active() {
        return;
    }
    let error = error.map(|e| match e {
        crate::ClusterError::Task { key, message, .. } => Error::Task {
            key: Key::from_name(key.as_str()),
            cause: TaskError::failed(message.clone()),
        },
        other => Error::Collection(other.to_string().into()),
    });
    reporter.finish(error.as_ref());
}

/// Whether this process serves a dashboard (and so asks for digests).
pub(crate) fn serving() -> bool {
    #[cfg(feature = "dashboard")]
    {
        dagwood_runtime::diagnostics::Dashboard::is_serving()
    }
    #[cfg(not(feature = "dashboard"))]
    {
        false
    }
}

/// A [`ProcessDigest`](dagwood_runtime::diagnostics::ProcessDigest) as it
/// travels.
#[cfg(feature = "dashboard")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Wire {
    process: u32,
    run: u64,
    names: Vec<String>,
    /// (name, done, failed, running)
    groups: Vec<(u32, u64, u64, u64)>,
    /// (worker, start, end, name, count, failed)
    bars: Vec<(u32, f64, f64, u32, u32, u32)>,
    busy: Vec<(u32, f64)>,
    rss: u64,
    cpu: f64,
    failure: Option<(String, String)>,
}

#[cfg(feature = "dashboard")]
impl From<dagwood_runtime::diagnostics::ProcessDigest> for Wire {
    fn from(d: dagwood_runtime::diagnostics::ProcessDigest) -> Wire {
        Wire {
            process: d.process,
            run: d.run,
            names: d.names,
            groups: d
                .groups
                .iter()
                .map(|g| (g.name, g.done, g.failed, g.running))
                .collect(),
            bars: d
                .bars
                .iter()
                .map(|b| (b.worker, b.start_ms, b.end_ms, b.name, b.count, b.failed))
                .collect(),
            busy: d.busy,
            rss: d.rss_bytes,
            cpu: d.cpu_percent,
            failure: d.failure,
        }
    }
}

#[cfg(feature = "dashboard")]
impl From<Wire> for dagwood_runtime::diagnostics::ProcessDigest {
    fn from(w: Wire) -> Self {
        use dagwood_runtime::diagnostics::{DigestBar, DigestGroup};
        dagwood_runtime::diagnostics::ProcessDigest {
            process: w.process,
            run: w.run,
            names: w.names,
            groups: w
                .groups
                .into_iter()
                .map(|(name, done, failed, running)| DigestGroup {
                    name,
                    done,
                    failed,
                    running,
                })
                .collect(),
            bars: w
                .bars
                .into_iter()
                .map(
                    |(worker, start_ms, end_ms, name, count, failed)| DigestBar {
                        worker,
                        start_ms,
                        end_ms,
                        name,
                        count,
                        failed,
                    },
                )
                .collect(),
            busy: w.busy,
            rss_bytes: w.rss,
            cpu_percent: w.cpu,
            failure: w.failure,
        }
    }
}

#[cfg(all(test, feature = "dashboard"))]
mod tests {
    use super::*;
    use dagwood_runtime::diagnostics::{Collector, Reporter};
    use dagwood_runtime::Key;

    #[test]
    fn a_digest_survives_the_wire() {
        let c = Collector::new(2, 5);
        let r = Reporter::default().with_callback(c.callback());
        r.start(3);
        for i in 0..3 {
            r.task(4, &Key::new("part").with_index(i), |_: &()| false, || ());
        }
        r.finish(None);
        let feed = Feed::Send(c);
        assert!(feed.sends_to(0) && !feed.sends_to(1));
        let frame = feed.frame().unwrap();
        assert_eq!(frame[0], DIGEST);
        let len = u32::from_le_bytes([frame[1], frame[2], frame[3], frame[4]]) as usize;
        assert_eq!(len, frame.len() - 5);
        let w: Wire = postcard::from_bytes(&frame[5..]).unwrap();
        let d: dagwood_runtime::diagnostics::ProcessDigest = w.into();
        assert_eq!((d.process, d.run), (2, 5));
        assert_eq!(d.groups[0].done, 3);
        assert_eq!(d.bars.iter().map(|b| b.count).sum::<u32>(), 3);
        assert!(d.bars.iter().all(|b| b.worker == 4));
    }
}
