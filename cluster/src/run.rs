//! Running a graph on the cluster: connecting the processes, starting the
//! timely workers and collecting their outputs and failures (where each task
//! runs is decided in `plan.rs`, how a worker runs its tasks in `worker.rs`).

use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::Duration;

use dagwood_runtime::diagnostics::Reporter;
use dagwood_runtime::task::{catch_panic, panic_message};
use dagwood_runtime::{TaskError, Value, WireGraph};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::{AllocatorBuilder, Hooks};
use timely::{CommunicationConfig, WorkerConfig};

use crate::connect::{connect_all, Connections, Hello};
use crate::gather::Gather;
use crate::heartbeat::{Alarm, Heartbeats};
use crate::plan::RunPlan;
use crate::stats::{ClusterStats, SendStats};
use crate::worker::{run_worker, WorkerResult};
use crate::{Cluster, ClusterError};

impl Cluster {
    /// Computes `what` on the whole cluster; every process must call this
    /// with the same graph (same program, same keys, same order). Build it
    /// the same way everywhere: `delayed(value)` and tasks without a key of
    /// their own are numbered from a per-process counter, so a process that
    /// builds an extra handle first builds a different graph (and is refused
    /// with [`ClusterError::FingerprintMismatch`]).
    ///
    /// Tasks are placed over all workers of all processes deterministically
    /// (each process computes the same placement): sources are spread in
    /// blocks of the graph's order of about equal estimated cost
    /// ([`TaskBuilder::cost`](dagwood_runtime::TaskBuilder::cost); a CSV
    /// block's bytes, a Parquet row group's), a shuffle's output partition `j` goes to
    /// worker `j % workers`, and every other task goes where most of its
    /// inputs are, ties to the least loaded worker. Reduction trees whose
    /// leaves span processes are regrouped so that each process combines its
    /// own partials first (see [`Cluster::with_regrouping`]). Each worker
    /// runs whichever of its tasks are ready, first in the graph's order; a
    /// value needed on another worker is serialized and sent on a timely
    /// exchange channel (only the parts it reads, for a shuffle's split
    /// result); `delayed(value)` constants never travel (every process
    /// built them).
    ///
    /// Returns `Some(outputs)` on process 0 and `None` on the others. A task
    /// that fails anywhere makes every process return
    /// [`ClusterError::Task`] naming its key; a process that dies makes the
    /// others return [`ClusterError::PeerLost`]. Before anything runs, the
    /// processes connect within the connect timeout (else
    /// [`ClusterError::PeerNeverCame`]), compare graph fingerprints
    /// ([`ClusterError::FingerprintMismatch`]) and check that every value
    /// that must travel has a codec ([`ClusterError::MissingCodec`]).
    ///
    /// ```no_run
    /// use dagwood_cluster::Cluster;
    /// use dagwood_runtime::{delayed, sum};
    /// let cluster = Cluster::from_env()?;
    /// let parts = (0..1000_i64).map(|i| delayed(i).map("square", |v: &i64| v * v));
    /// let total = sum(parts, 8)?;
    /// if let Some(t) = cluster.compute(&total)? {
    ///     println!("{t}"); // only process 0 prints
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// On one process it runs without any network:
    ///
    /// ```
    /// use dagwood_cluster::Cluster;
    /// use dagwood_runtime::{delayed, sum};
    /// let total = sum((1..=100_i64).map(delayed), 4).unwrap();
    /// let cluster = Cluster::single().with_threads(3);
    /// assert_eq!(cluster.compute(&total).unwrap(), Some(5050));
    /// ```
    pub fn compute<C: Gather + ?Sized>(&self, what: &C) -> Result<Option<C::Output>, ClusterError> {
        self.compute_at(what, false)
    }

    /// [`compute`](Self::compute), but every process gets the outputs (they
    /// are sent to the first worker of each process instead of only to
    /// process 0's).
    ///
    /// ```
    /// use dagwood_cluster::Cluster;
    /// use dagwood_runtime::{delayed, sum};
    /// let total = sum((1..=10_i64).map(delayed), 4).unwrap();
    /// assert_eq!(Cluster::single().with_threads(2).compute_everywhere(&total).unwrap(), 55);
    /// ```
    pub fn compute_everywhere<C: Gather + ?Sized>(
        &self,
        what: &C,
    ) -> Result<C::Output, ClusterError> {
        self.compute_at(what, true)?
            .ok_or_else(|| ClusterError::Timely {
                process: self.process(),
                message: "the outputs did not arrive at this process".into(),
            })
    }

    /// [`compute`](Self::compute), and what was sent: this process's
    /// figures and, on process 0, every process's (see [`ClusterStats`]).
    ///
    /// ```
    /// use dagwood_cluster::Cluster;
    /// use dagwood_runtime::{delayed, sum};
    /// let total = sum((1..=100_i64).map(|i| delayed(i).map("inc", |v: &i64| v + 1)), 4).unwrap();
    /// let (got, stats) = Cluster::single().with_threads(2).compute_with_stats(&total).unwrap();
    /// assert_eq!(got, Some(5150));
    /// assert_eq!(stats.total().tasks_run, stats.local.tasks_run);
    /// assert_eq!(stats.total().bytes_sent, 0); // one process: nothing leaves it
    /// assert!(stats.local.values_sent_within > 0); // but its two workers exchange partials
    /// ```
    pub fn compute_with_stats<C: Gather + ?Sized>(
        &self,
        what: &C,
    ) -> Result<(Option<C::Output>, ClusterStats), ClusterError> {
        let (values, stats) = self.compute_values(what, false)?;
        let out = match values {
            Some(v) => Some(WireGraph::extract(what, v)?),
            None => None,
        };
        Ok((out, stats))
    }

    fn compute_at<C: Gather + ?Sized>(
        &self,
        what: &C,
        everywhere: bool,
    ) -> Result<Option<C::Output>, ClusterError> {
        match self.compute_values(what, everywhere)?.0 {
            Some(v) => Ok(Some(WireGraph::extract(what, v)?)),
            None => Ok(None),
        }
    }

    fn compute_values<C: Gather + ?Sized>(
        &self,
        what: &C,
        everywhere: bool,
    ) -> Result<(Option<Vec<Value>>, ClusterStats), ClusterError> {
        what.register_codecs();
        let graph = Arc::new(WireGraph::new(what));
        let gatherers = if everywhere {
            (0..self.processes())
                .map(|p| (p * self.threads()) as u32)
                .collect()
        } else {
            vec![0]
        };
        let plan = Arc::new(RunPlan::new(
            &graph,
            self.workers(),
            self.threads(),
            self.process(),
            gatherers,
            self.regrouping(),
        )?);
        self.execute(graph, plan)
    }

    fn execute(
        &self,
        graph: Arc<WireGraph>,
        plan: Arc<RunPlan>,
    ) -> Result<(Option<Vec<Value>>, ClusterStats), ClusterError> {
        let me = self.process();
        let timely_err = |message: String| ClusterError::Timely {
            process: me,
            message,
        };
        // Raised by the heartbeat threads when a peer falls silent; stopped
        // (goodbyes said) when this function returns, however it returns.
        let alarm = Arc::new(Alarm::default());
        // The callbacks of the calling thread see this process's tasks; with
        // a dashboard on process 0, the others' tasks reach it too.
        let mut reporter = Reporter::capture();
        let serving = me == 0 && crate::dashboard::serving();
        // timely's networking threads are joined when this guard drops; it
        // is kept until the run ends well, and leaked when it does not.
        let mut comm_guard: Option<Box<dyn std::any::Any + Send>> = None;
        // Held while a run over several processes is under way: see
        // `DISTRIBUTED`.
        let mut _one_at_a_time = None;
        let (builders, _heartbeats) = if self.processes() == 1 {
            let (builders, _) = CommunicationConfig::Process(self.threads())
                .try_build()
                .map_err(timely_err)?;
            let _ = crate::dashboard::feed(me, false);
            (builders, None)
        } else {
            _one_at_a_time = Some(DISTRIBUTED.try_lock().map_err(|e| match e {
                std::sync::TryLockError::WouldBlock => ClusterError::Busy { process: me },
                std::sync::TryLockError::Poisoned(_) => {
                    timely_err("an earlier distributed run in this process panicked".into())
                }
            })?);
            if let Ok(mut v) = COMM_PANICS.lock() {
                v.clear();
            }
            let hello = Hello {
                process: me as u32,
                processes: self.processes() as u32,
                threads: self.threads() as u32,
                fingerprint: plan.fingerprint,
                tasks: graph.len() as u64,
                beat: false,
                dashboard: serving,
            };
            let Connections {
                data: sockets,
                beats,
                watched,
            } = connect_all(self, hello)?;
            let (feed, collector) = crate::dashboard::feed(me, watched);
            if let Some(c) = collector {
                reporter = reporter.with_callback(c);
            }
            let heartbeats =
                Heartbeats::start(beats, self.heartbeat_timeout(), alarm.clone(), feed)
                    .map_err(|e| timely_err(format!("cannot start the heartbeats: {e}")))?;
            // Same placement everywhere, so every process finds the same
            // missing codec; only now that all agree on the graph.
            plan.check_codecs(&graph)?;
            let hooks = Hooks::default();
            let procs = ProcessBuilder::new_typed_vector(
                self.threads(),
                hooks.refill.clone(),
                hooks.spill.clone(),
            );
            let (tcp, guard) =
                initialize_networking_from_sockets(procs, sockets, me, self.threads(), hooks)
                    .map_err(|e| timely_err(format!("cannot start networking: {e}")))?;
            comm_guard = Some(Box::new(guard));
            let builders = tcp.into_iter().map(AllocatorBuilder::Tcp).collect();
            (builders, Some(heartbeats))
        };
        if self.processes() == 1 {
            plan.check_codecs(&graph)?;
        }
        install_panic_hook();

        let threads = self.threads();
        let keys = Arc::new(crate::dashboard::report_start(
            &reporter, &graph, &plan, me, threads,
        ));
        let worker_reporter = reporter.clone();
        let (tx, rx) = mpsc::channel::<Result<WorkerResult, ClusterError>>();
        let tx = Mutex::new(tx);
        let worker_alarm = alarm.clone();
        let guards = timely::execute::execute_from(
            builders,
            Box::new(()),
            WorkerConfig::default(),
            move |worker| {
                let result = catch_panic(|| {
                    let report = (&worker_reporter, &keys[..]);
                    run_worker(worker, &graph, &plan, me, threads, &worker_alarm, report)
                })
                .unwrap_or_else(|cause| Err(lost_peer(me, &cause)));
                if let Ok(tx) = tx.lock() {
                    let _ = tx.send(result);
                }
            },
        )
        .map_err(timely_err)?;

        let mut outputs = None;
        let mut stats = ClusterStats {
            local: SendStats::default(),
            per_process: Vec::new(),
        };
        let mut first_err: Option<ClusterError> = None;
        for _ in 0..threads {
            match rx.recv() {
                Ok(Ok(r)) => {
                    stats.local.add(&r.sent);
                    if let Some(v) = r.outputs {
                        outputs = Some(v);
                        stats.per_process = r.per_process;
                    }
                }
                Ok(Err(e)) => {
                    // A task's own failure explains more than what followed it.
                    let better = matches!(e, ClusterError::Task { .. })
                        && !matches!(first_err, Some(ClusterError::Task { .. }));
                    if first_err.is_none() || better {
                        first_err = Some(e);
                    }
                }
                Err(_) => {
                    first_err.get_or_insert_with(|| timely_err("a worker thread died".into()));
                    break;
                }
            }
        }
        // A diagnostics callback that panicked (its panic was caught where
        // it was called) fails the run as a task would.
        if first_err.is_none() {
            first_err = reporter.fault().map(ClusterError::Runtime);
        }
        crate::dashboard::report_finish(&reporter, first_err.as_ref());
        if first_err.is_none() {
            first_err = reporter.fault().map(ClusterError::Runtime);
        }
        match first_err {
            None => {
                drop(guards);
                drop(comm_guard);
                Ok((outputs, stats))
            }
            Some(e @ (ClusterError::PeerLost { .. } | ClusterError::Timely { .. })) => {
                // After a broken connection timely's threads may never finish:
                // do not wait for them (they end with the process).
                std::mem::forget(guards);
                std::mem::forget(comm_guard);
                Err(e)
            }
            Some(e) => {
                // A task failed, and every worker has stopped in good order:
                // shut the connections down cleanly, so that no peer takes
                // this process's exit for a lost connection.
                drop(guards);
                drop(comm_guard);
                Err(e)
            }
        }
    }
}

/// One run over several processes at a time in this process. Such a run
/// owns process-wide state (the record of timely's networking panics below,
/// which cannot tell two runs' threads apart), and every process of a
/// cluster must run the same graphs in the same order anyway; a second one
/// started meanwhile gets [`ClusterError::Busy`]. Runs on one process share
/// nothing and run side by side.
static DISTRIBUTED: Mutex<()> = Mutex::new(());

/// Panics of timely's networking threads, recorded by the hook below.
static COMM_PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Records (instead of printing) the panics by which timely reports a broken
/// connection; dagwood reports them as [`ClusterError::PeerLost`].
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("").to_string();
            let text = panic_message(info.payload());
            let comm =
                text.contains("timely communication error") || text.contains("MergeQueue poisoned");
            if thread.starts_with("timely:") && comm {
                if let Ok(mut v) = COMM_PANICS.lock() {
                    v.push((thread, text));
                }
                return;
            }
            previous(info)
        }));
    });
}

fn lost_peer(process: usize, worker_panic: &TaskError) -> ClusterError {
    let worker_panic = match worker_panic {
        TaskError::Panicked(text) => text.clone(),
        other => other.to_string(),
    };
    // Give the networking threads a moment to record why the queue broke.
    std::thread::sleep(Duration::from_millis(50));
    let recorded = COMM_PANICS.lock().map(|v| v.clone()).unwrap_or_default();
    let first = recorded
        .iter()
        .find(|(t, _)| t.starts_with("timely:recv-") || t.starts_with("timely:send-"));
    match first {
        Some((thread, text)) => {
            let peer = thread
                .rsplit('-')
                .next()
                .and_then(|p| p.parse::<usize>().ok())
                .map(|p| format!("process {p}"))
                .unwrap_or_else(|| "a peer process".into());
            ClusterError::PeerLost {
                process,
                peer,
                detail: format!("{text} (the process died or the network dropped)"),
            }
        }
        None if worker_panic.contains("MergeQueue poisoned")
            || worker_panic.contains("timely communication error") =>
        {
            ClusterError::PeerLost {
                process,
                peer: "a peer process".into(),
                detail: worker_panic,
            }
        }
        None => ClusterError::Timely {
            process,
            message: format!("worker panicked: {worker_panic}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Codec;
    use dagwood_runtime::{delayed, sum, Delayed, TaskBuilder};

    fn tree(n: i64) -> Delayed<i64> {
        sum((0..n).map(|i| delayed(i).map("square", |v: &i64| v * v)), 4).unwrap()
    }

    #[test]
    fn placement_is_deterministic_and_spread() {
        let t = tree(64);
        let g = WireGraph::new(&t);
        let plan = |g: &WireGraph| RunPlan::new(g, 4, 1, 0, vec![0], true).unwrap();
        let a = plan(&g).owner;
        let b = plan(&WireGraph::new(&t)).owner;
        assert_eq!(a, b);
        for k in 0..4 {
            assert!(a.contains(&k), "worker {k} got nothing");
        }
        // Constants run everywhere.
        assert!((0..g.len())
            .filter(|&i| g.is_constant(i))
            .all(|i| a[i] == crate::plan::EVERYWHERE));
        // Locality: a first-level sum sits with (most of) its leaves.
        let plan = RunPlan::new(&g, 4, 1, 0, vec![0], false).unwrap();
        let crossing = plan.dests.iter().filter(|d| !d.is_empty()).count();
        assert!(crossing < 10, "{crossing} values cross workers");
    }

    #[test]
    fn fingerprint_sees_structure() {
        use crate::plan::fingerprint;
        let a = fingerprint(&WireGraph::new(&tree(8)));
        let b = fingerprint(&WireGraph::new(&tree(9)));
        assert_ne!(a, b);
        let x = delayed(1_i64).map("inc", |v: &i64| v + 1).with_key("k");
        let y = delayed(1_i64).map("inc", |v: &i64| v + 1).with_key("k");
        // Same shape, same keys except the constant's unique id.
        assert_ne!(
            fingerprint(&WireGraph::new(&x)),
            fingerprint(&WireGraph::new(&y))
        );
    }

    #[test]
    fn threads_in_one_process_match_sync() {
        let t = tree(500);
        let want = t.compute_with(&dagwood_runtime::Scheduler::Sync).unwrap();
        for threads in [1, 2, 3] {
            let got = Cluster::single().with_threads(threads).compute(&t).unwrap();
            assert_eq!(got, Some(want), "{threads} threads");
        }
    }

    #[test]
    fn several_outputs() {
        let a = tree(10);
        let b = a.map("neg", |v: &i64| -v);
        let c = delayed(String::from("const"));
        let got = Cluster::single()
            .with_threads(2)
            .compute(&(&a, &b, &c))
            .unwrap()
            .unwrap();
        assert_eq!(got, (285, -285, "const".to_string()));
    }

    #[test]
    fn nothing_to_compute() {
        let none: Vec<Delayed<i64>> = Vec::new();
        assert_eq!(
            Cluster::single().with_threads(2).compute(&none).unwrap(),
            Some(vec![])
        );
    }

    #[test]
    fn task_error_names_key() {
        let parts: Vec<_> = (0..20_i64)
            .map(|i| {
                let mut b = TaskBuilder::new("check")
                    .key(dagwood_runtime::Key::new("check").with_index(i as u64));
                let x = b.arg::<i64>(i);
                b.build_result(move |args| {
                    let v = x.take(args)?;
                    Ok(if v == 13 {
                        Err(format!("unlucky {v}"))
                    } else {
                        Ok(v)
                    })
                })
            })
            .collect();
        let total = sum(parts, 4).unwrap();
        let e = Cluster::single()
            .with_threads(3)
            .compute(&total)
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(r#"("check", 13)"#) && text.contains("unlucky 13"),
            "{text}"
        );
        // A panic too.
        let p = delayed(1).map("boom", |_: &i32| -> i32 { panic!("kaboom") });
        let e = Cluster::single().compute(&p).unwrap_err();
        assert!(
            e.to_string().contains("boom") && e.to_string().contains("kaboom"),
            "{e}"
        );
    }

    #[test]
    fn a_value_that_does_not_decode_stops_every_worker() {
        #[derive(Clone)]
        struct Broken(#[allow(dead_code)] i64);
        struct BadCodec;
        impl Codec for BadCodec {
            fn encode(&self, _: &(dyn std::any::Any + Send + Sync)) -> Result<Vec<u8>, String> {
                Ok(vec![1, 2, 3])
            }
            fn decode(&self, _: &[u8]) -> Result<Value, String> {
                Err("corrupt bytes".into())
            }
        }
        crate::register_codec(
            dagwood_runtime::ValueType::of::<Broken>(),
            Arc::new(BadCodec),
        );
        let parts: Delayed<Vec<Broken>> = (0..8_i64)
            .map(|i| delayed(i).map("broken", |v: &i64| Broken(*v)))
            .collect();
        let n = parts.map("count", |v: &Vec<Broken>| v.len() as i64);
        // Hang guard: the run must end by itself.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(
                Cluster::single()
                    .with_threads(3)
                    .compute(&n)
                    .map_err(|e| e.to_string()),
            );
        });
        let got = rx.recv_timeout(Duration::from_secs(60)).expect("hang");
        let text = got.unwrap_err();
        assert!(
            text.contains("broken") && text.contains("corrupt bytes"),
            "{text}"
        );
    }

    #[test]
    fn missing_codec_fails_before_running() {
        #[derive(Clone)]
        struct Opaque(i64);
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let parts: Vec<Delayed<i64>> = (0..8_i64)
            .map(|i| {
                let ran = ran.clone();
                delayed(i)
                    .map("opaque", move |v: &i64| {
                        ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        Opaque(*v)
                    })
                    .map("unwrap", |o: &Opaque| o.0)
            })
            .collect();
        // Make every "unwrap" need an Opaque from elsewhere: gather them all
        // into one task, placed on one worker.
        let all: Delayed<Vec<Opaque>> = parts
            .iter()
            .map(|p| p.map("again", |v: &i64| Opaque(*v)))
            .collect();
        let n = all.map("count", |v: &Vec<Opaque>| v.len() as i64);
        let e = Cluster::single().with_threads(4).compute(&n).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, ClusterError::MissingCodec { .. }), "{text}");
        assert!(text.contains("again") && text.contains("Opaque"), "{text}");
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);
        // With only one worker nothing travels: it runs.
        assert_eq!(Cluster::single().compute(&n).unwrap(), Some(8));
    }
}
