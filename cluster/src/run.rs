//! Running a graph on the cluster: placement, the timely workers, gathering.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

use dagwood_runtime::{Computable, Delayed, Value, WireGraph};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::{AllocatorBuilder, Hooks};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Input;
use timely::dataflow::InputHandle;
use timely::worker::Worker;
use timely::{CommunicationConfig, WorkerConfig};

use crate::codec::{codec_for, register, Codec};
use crate::connect::{connect_all, Hello};
use crate::{Cluster, ClusterError};

/// Marks a task whose value every process has (a `delayed(value)` constant).
const EVERYWHERE: u32 = u32::MAX;

/// What [`Cluster::compute`] can compute: a [`Delayed`] whose value type has
/// serde's `Serialize` and `DeserializeOwned` (so that it can be gathered at
/// process 0), with the feature `collections` an `Array`, a `Bag` of serde
/// items or a `DataFrame`, a reference to one, and `Vec`s, slices and
/// tuples (up to 4) of them. A graph whose outputs cannot travel does not
/// compile.
///
/// ```compile_fail
/// struct Opaque;
/// # impl Clone for Opaque { fn clone(&self) -> Self { Opaque } }
/// let x = dagwood_runtime::delayed(1).map("opaque", |_: &i32| Opaque);
/// let _ = dagwood_cluster::Cluster::single().compute(&x); // Opaque is not Serialize
/// ```
pub trait Gather: Computable {
    /// Registers the codecs of the output types.
    #[doc(hidden)]
    fn register_codecs(&self);
}

impl<T> Gather for Delayed<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn register_codecs(&self) {
        register::<T>();
    }
}

impl<C: Gather + ?Sized> Gather for &C {
    fn register_codecs(&self) {
        (**self).register_codecs()
    }
}

impl<C: Gather> Gather for [C] {
    fn register_codecs(&self) {
        self.iter().for_each(Gather::register_codecs)
    }
}

impl<C: Gather> Gather for Vec<C> {
    fn register_codecs(&self) {
        self.iter().for_each(Gather::register_codecs)
    }
}

macro_rules! tuple_gather {
    ($($name:ident),+) => {
        impl<$($name: Gather),+> Gather for ($($name,)+) {
            #[allow(non_snake_case)]
            fn register_codecs(&self) {
                let ($($name,)+) = self;
                $($name.register_codecs();)+
            }
        }
    };
}

tuple_gather!(A);
tuple_gather!(A, B);
tuple_gather!(A, B, C);
tuple_gather!(A, B, C, D);

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
    /// blocks of the graph's order, and every other task goes where most of
    /// its inputs are, ties to the least loaded worker. Each worker runs its
    /// tasks in the graph's order; a value needed on another worker is
    /// serialized and sent on a timely exchange channel; `delayed(value)`
    /// constants never travel (every process built them).
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
            self.process(),
            gatherers,
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
        let builders = if self.processes() == 1 {
            let (builders, _) = CommunicationConfig::Process(self.threads())
                .try_build()
                .map_err(timely_err)?;
            builders
        } else {
            let hello = Hello {
                process: me as u32,
                processes: self.processes() as u32,
                threads: self.threads() as u32,
                fingerprint: plan.fingerprint,
                tasks: graph.len() as u64,
            };
            let sockets = connect_all(self, hello)?;
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
            comm_guard_store(Box::new(guard));
            tcp.into_iter().map(AllocatorBuilder::Tcp).collect()
        };
        if self.processes() == 1 {
            plan.check_codecs(&graph)?;
        }
        install_panic_hook();
        if let Ok(mut v) = COMM_PANICS.lock() {
            v.clear();
        }

        let threads = self.threads();
        let (tx, rx) = mpsc::channel::<Result<WorkerResult, ClusterError>>();
        let tx = Mutex::new(tx);
        let guards = timely::execute::execute_from(
            builders,
            Box::new(()),
            WorkerConfig::default(),
            move |worker| {
                let result = catch_unwind(AssertUnwindSafe(|| {
                    run_worker(worker, &graph, &plan, me, threads)
                }))
                .unwrap_or_else(|payload| Err(lost_peer(me, &panic_text(payload.as_ref()))));
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
        match first_err {
            None => {
                drop(guards);
                comm_guard_release();
                Ok((outputs, stats))
            }
            Some(e @ (ClusterError::PeerLost { .. } | ClusterError::Timely { .. })) => {
                // After a broken connection timely's threads may never finish:
                // do not wait for them (they end with the process).
                std::mem::forget(guards);
                comm_guard_forget();
                Err(e)
            }
            Some(e) => {
                // A task failed, and every worker has stopped in good order:
                // shut the connections down cleanly, so that no peer takes
                // this process's exit for a lost connection.
                drop(guards);
                comm_guard_release();
                Err(e)
            }
        }
    }
}

// timely's networking threads are joined when the guard drops; it is kept
// here until the run ends well, and leaked when it does not.
static COMM_GUARD: Mutex<Option<Box<dyn std::any::Any + Send>>> = Mutex::new(None);

fn comm_guard_store(g: Box<dyn std::any::Any + Send>) {
    if let Ok(mut slot) = COMM_GUARD.lock() {
        *slot = Some(g);
    }
}

fn comm_guard_release() {
    let g = COMM_GUARD.lock().ok().and_then(|mut s| s.take());
    drop(g);
}

fn comm_guard_forget() {
    if let Some(g) = COMM_GUARD.lock().ok().and_then(|mut s| s.take()) {
        std::mem::forget(g);
    }
}

/// A message between workers: a task's value, or news of a failure.
#[derive(Clone, Serialize, Deserialize)]
struct Msg {
    to: u32,
    task: u32,
    body: Body,
}

#[derive(Clone, Serialize, Deserialize)]
enum Body {
    Value(Vec<u8>),
    Failed {
        key: String,
        process: u32,
        message: String,
    },
    /// A worker's figures, sent to the gatherers at the end.
    Stats {
        process: u32,
        sent: SendStats,
    },
}

/// What one process sent during a run (summed over its workers). Only the
/// encoded task values count, not the few bytes of framing per message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendStats {
    /// Bytes of encoded values sent to workers of other processes (once
    /// per receiving worker).
    pub bytes_sent: u64,
    /// Values sent to workers of other processes.
    pub values_sent: u64,
    /// Bytes of encoded values passed between workers of this process
    /// (serialized too, but they never reach the network).
    pub bytes_sent_within: u64,
    /// Values passed between workers of this process.
    pub values_sent_within: u64,
    /// Tasks run (constants excluded).
    pub tasks_run: u64,
}

impl SendStats {
    fn add(&mut self, o: &SendStats) {
        self.bytes_sent += o.bytes_sent;
        self.values_sent += o.values_sent;
        self.bytes_sent_within += o.bytes_sent_within;
        self.values_sent_within += o.values_sent_within;
        self.tasks_run += o.tasks_run;
    }
}

/// What a run sent between processes, from
/// [`Cluster::compute_with_stats`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterStats {
    /// This process's figures.
    pub local: SendStats,
    /// Every process's figures, by process index, on process 0 (empty on
    /// the others).
    pub per_process: Vec<SendStats>,
}

impl ClusterStats {
    /// The figures summed over all processes (on process 0; elsewhere
    /// this process's own).
    pub fn total(&self) -> SendStats {
        if self.per_process.is_empty() {
            return self.local;
        }
        let mut t = SendStats::default();
        self.per_process.iter().for_each(|p| t.add(p));
        t
    }
}

/// What one worker hands back: the outputs (gatherers only), its own
/// figures, and (gatherers) every process's.
struct WorkerResult {
    outputs: Option<Vec<Value>>,
    sent: SendStats,
    per_process: Vec<SendStats>,
}

/// Where each task runs and where its value goes; the same on every process.
pub(crate) struct RunPlan {
    pub(crate) fingerprint: u64,
    owner: Vec<u32>,
    /// Other workers that need each task's value (consumers and the gatherer).
    dests: Vec<Vec<u32>>,
    is_output: Vec<bool>,
    /// Workers that receive the outputs (process 0's first worker, or the
    /// first worker of every process).
    gatherers: Vec<u32>,
}

impl RunPlan {
    pub(crate) fn new(
        graph: &WireGraph,
        workers: usize,
        process: usize,
        gatherers: Vec<u32>,
    ) -> Result<RunPlan, ClusterError> {
        let n = graph.len();
        if n >= EVERYWHERE as usize || workers >= EVERYWHERE as usize {
            return Err(ClusterError::Timely {
                process,
                message: format!("graph of {n} tasks on {workers} workers is too large"),
            });
        }
        let owner = place(graph, workers);
        let mut is_output = vec![false; n];
        for &o in graph.outputs() {
            is_output[o as usize] = true;
        }
        let dests = (0..n)
            .map(|t| {
                if owner[t] == EVERYWHERE {
                    return Vec::new();
                }
                let mut d: Vec<u32> = graph
                    .dependents(t)
                    .iter()
                    .map(|&c| owner[c as usize])
                    .chain(gatherers.iter().copied().filter(|_| is_output[t]))
                    .filter(|&w| w != owner[t] && w != EVERYWHERE)
                    .collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        Ok(RunPlan {
            // Processes that disagree on where the outputs go disagree on the plan.
            fingerprint: fingerprint(graph) ^ (gatherers.len() as u64).rotate_left(32),
            owner,
            dests,
            is_output,
            gatherers,
        })
    }

    /// Every value that must travel needs a codec: fail before running,
    /// naming the first such task.
    pub(crate) fn check_codecs(&self, graph: &WireGraph) -> Result<(), ClusterError> {
        for (t, d) in self.dests.iter().enumerate() {
            if !d.is_empty() && codec_for(&graph.value_type(t)).is_none() {
                let name = graph.value_type(t).name();
                if name.starts_with("dagwood_collections::shuffle::ShuffleOut<") {
                    return Err(ClusterError::Unsupported {
                        key: graph.key(t).to_string(),
                        what: "a collection's shuffle".into(),
                    });
                }
                return Err(ClusterError::MissingCodec {
                    key: graph.key(t).to_string(),
                    type_name: graph.value_type(t).name(),
                });
            }
        }
        Ok(())
    }
}

/// Deterministic placement of tasks on workers (see [`Cluster::compute`]).
pub(crate) fn place(graph: &WireGraph, workers: usize) -> Vec<u32> {
    let n = graph.len();
    let w = workers.max(1);
    let mut owner = vec![EVERYWHERE; n];
    let mut load = vec![0u64; w];
    let is_source = |t: usize| {
        !graph.is_constant(t)
            && graph
                .inputs(t)
                .iter()
                .all(|&i| graph.is_constant(i as usize))
    };
    let sources: Vec<usize> = (0..n).filter(|&t| is_source(t)).collect();
    // Blocks of consecutive sources: the graph's order keeps a subtree's
    // leaves together, so their reduction stays on one worker.
    for (rank, &t) in sources.iter().enumerate() {
        let k = rank * w / sources.len();
        owner[t] = k as u32;
        load[k] += 1;
    }
    let mut tally: Vec<(u32, u32)> = Vec::new();
    for t in 0..n {
        if graph.is_constant(t) || owner[t] != EVERYWHERE {
            continue;
        }
        tally.clear();
        for &i in graph.inputs(t) {
            let o = owner[i as usize];
            if o == EVERYWHERE {
                continue;
            }
            match tally.iter_mut().find(|(k, _)| *k == o) {
                Some((_, c)) => *c += 1,
                None => tally.push((o, 1)),
            }
        }
        let best = tally
            .iter()
            .max_by(|a, b| {
                a.1.cmp(&b.1)
                    .then(load[b.0 as usize].cmp(&load[a.0 as usize]))
                    .then(b.0.cmp(&a.0))
            })
            .map(|&(k, _)| k as usize)
            .unwrap_or_else(|| (0..w).min_by_key(|&k| (load[k], k)).unwrap_or(0));
        owner[t] = best as u32;
        load[best] += 1;
    }
    owner
}

/// FNV-1a over keys, value types, inputs and outputs, in graph order.
pub(crate) fn fingerprint(graph: &WireGraph) -> u64 {
    struct Fnv(u64);
    impl Fnv {
        fn bytes(&mut self, b: &[u8]) {
            for &x in b {
                self.0 ^= u64::from(x);
                self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
            }
        }
        fn u64(&mut self, v: u64) {
            self.bytes(&v.to_le_bytes())
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.u64(graph.len() as u64);
    for t in 0..graph.len() {
        let key = graph.key(t);
        h.bytes(key.name().as_bytes());
        h.u64(key.indices().len() as u64);
        key.indices().iter().for_each(|&i| h.u64(i));
        h.bytes(graph.value_type(t).name().as_bytes());
        h.u64(u64::from(graph.is_constant(t)));
        h.u64(graph.inputs(t).len() as u64);
        graph.inputs(t).iter().for_each(|&i| h.u64(u64::from(i)));
    }
    graph.outputs().iter().for_each(|&o| h.u64(u64::from(o)));
    h.0
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic>".into()
    }
}

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
            let text = panic_text(info.payload());
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

fn lost_peer(process: usize, worker_panic: &str) -> ClusterError {
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
                detail: worker_panic.to_string(),
            }
        }
        None => ClusterError::Timely {
            process,
            message: format!("worker panicked: {worker_panic}"),
        },
    }
}

fn run_worker(
    worker: &mut Worker,
    graph: &WireGraph,
    plan: &RunPlan,
    process: usize,
    threads: usize,
) -> Result<WorkerResult, ClusterError> {
    let me = worker.index() as u32;
    let threads = threads.max(1) as u32;
    let process_of = |w: u32| w / threads;
    let mut sent_stats = SendStats::default();
    let peers = worker.peers() as u32;
    let inbox: Rc<RefCell<Vec<Msg>>> = Rc::new(RefCell::new(Vec::new()));
    let sink = inbox.clone();
    let mut input = worker.dataflow::<u64, _, _>(move |scope| {
        let (input, stream) = scope.new_input::<Vec<Msg>>();
        stream.sink(
            Exchange::new(|m: &Msg| u64::from(m.to)),
            "dagwood-inbox",
            move |(handle, _frontier)| {
                handle.for_each(|_cap, data| sink.borrow_mut().append(data));
            },
        );
        input
    });

    let n = graph.len();
    let mine: Vec<usize> = (0..n).filter(|&t| plan.owner[t] == me).collect();
    // How many of this worker's tasks still take each value.
    let mut uses = vec![0u32; n];
    for &t in &mine {
        for &i in graph.inputs(t) {
            uses[i as usize] += 1;
        }
    }
    let gatherer = plan.gatherers.contains(&me);
    let keep = |t: usize| gatherer && plan.is_output[t];
    let mut values: HashMap<usize, Value> = HashMap::new();
    let mut next = 0;
    let mut failure: Option<ClusterError> = None;
    let codec_err = |t: usize, action: &'static str, message: String| ClusterError::Codec {
        key: graph.key(t).to_string(),
        action,
        message,
    };

    let outputs_ready = |values: &HashMap<usize, Value>| {
        !gatherer
            || graph.outputs().iter().all(|&o| {
                let o = o as usize;
                plan.owner[o] == EVERYWHERE || values.contains_key(&o)
            })
    };

    // Gatherers: every process's figures, as the workers report them.
    let mut per_process = vec![SendStats::default(); (peers / threads) as usize];
    let mut last_step = Instant::now();
    loop {
        let received = std::mem::take(&mut *inbox.borrow_mut());
        let mut progressed = !received.is_empty();
        for msg in received {
            let t = msg.task as usize;
            if let Err(e) = receive(graph, msg, &mut values, &mut per_process, process) {
                // A failure reported by another worker reached everyone
                // already; one found here (a value that does not decode)
                // must be told to the others, or they would wait for this
                // worker's values forever.
                if !matches!(e, ClusterError::Task { .. }) && failure.is_none() {
                    let key = graph.key(t.min(graph.len().saturating_sub(1))).to_string();
                    broadcast_failure(&mut input, peers, me, t, &key, process, &e.to_string());
                }
                failure.get_or_insert(e);
            }
        }
        if failure.is_some() {
            break;
        }
        while let Some(&t) = mine.get(next) {
            let ready = graph
                .inputs(t)
                .iter()
                .all(|&i| graph.is_constant(i as usize) || values.contains_key(&(i as usize)));
            if !ready {
                break;
            }
            next += 1;
            progressed = true;
            let mut args = Vec::with_capacity(graph.inputs(t).len());
            for &i in graph.inputs(t) {
                let i = i as usize;
                if graph.is_constant(i) {
                    args.push(graph.run(i, Vec::new())?);
                    continue;
                }
                uses[i] = uses[i].saturating_sub(1);
                let v = if uses[i] == 0 && !keep(i) {
                    values.remove(&i)
                } else {
                    values.get(&i).cloned()
                };
                // Present: readiness was checked above.
                args.extend(v);
            }
            sent_stats.tasks_run += 1;
            let result = graph.run(t, args).map_err(|e| match e {
                dagwood_runtime::Error::Task { key, cause } => ClusterError::Task {
                    key: key.to_string(),
                    process,
                    message: cause.to_string(),
                },
                other => ClusterError::Runtime(other),
            });
            let sent = result.and_then(|value| {
                let dests = &plan.dests[t];
                if !dests.is_empty() {
                    let codec = codec_for(&graph.value_type(t)).ok_or_else(|| {
                        ClusterError::MissingCodec {
                            key: graph.key(t).to_string(),
                            type_name: graph.value_type(t).name(),
                        }
                    })?;
                    let bytes =
                        encode(codec.as_ref(), &value).map_err(|m| codec_err(t, "encode", m))?;
                    for &to in dests {
                        if process_of(to) == process_of(me) {
                            sent_stats.bytes_sent_within += bytes.len() as u64;
                            sent_stats.values_sent_within += 1;
                        } else {
                            sent_stats.bytes_sent += bytes.len() as u64;
                            sent_stats.values_sent += 1;
                        }
                        input.send(Msg {
                            to,
                            task: t as u32,
                            body: Body::Value(bytes.clone()),
                        });
                    }
                }
                if uses[t] > 0 || keep(t) {
                    values.insert(t, value);
                }
                Ok(())
            });
            if let Err(e) = sent {
                let (key, message) = match &e {
                    ClusterError::Task { key, message, .. } => (key.clone(), message.clone()),
                    other => (graph.key(t).to_string(), other.to_string()),
                };
                broadcast_failure(&mut input, peers, me, t, &key, process, &message);
                failure = Some(e);
                break;
            }
            let sent = !plan.dests[t].is_empty();
            if sent {
                // Sent values leave the exchange only when the epoch closes.
                let now = *input.time();
                input.advance_to(now + 1);
            }
            // Step after a send, and every few milliseconds anyway: news of a
            // failure or of a lost peer must not wait for a long run of
            // local tasks to end.
            if sent || last_step.elapsed() > Duration::from_millis(5) {
                worker.step();
                last_step = Instant::now();
                if !inbox.borrow().is_empty() {
                    break;
                }
            }
        }
        if failure.is_some() || (next == mine.len() && outputs_ready(&values)) {
            break;
        }
        if progressed {
            worker.step();
        } else {
            worker.step_or_park(Some(Duration::from_millis(20)));
        }
        last_step = Instant::now();
    }

    // Report this worker's figures to the gatherers, then close its
    // input; the dataflow ends when every worker has, and every message
    // sent is delivered by then.
    if failure.is_none() {
        for &to in plan.gatherers.iter().filter(|&&g| g != me) {
            input.send(Msg {
                to,
                task: 0,
                body: Body::Stats {
                    process: process as u32,
                    sent: sent_stats,
                },
            });
        }
    }
    drop(input);
    while worker.has_dataflows() {
        worker.step_or_park(Some(Duration::from_millis(20)));
    }
    // A failure elsewhere that arrived after this worker was done.
    if failure.is_none() {
        let late = std::mem::take(&mut *inbox.borrow_mut());
        for msg in late {
            match msg.body {
                Body::Failed {
                    key,
                    process,
                    message,
                } => {
                    failure.get_or_insert(ClusterError::Task {
                        key,
                        process: process as usize,
                        message,
                    });
                }
                Body::Stats { process, sent } => {
                    if let Some(p) = per_process.get_mut(process as usize) {
                        p.add(&sent);
                    }
                }
                Body::Value(_) => {}
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if !gatherer {
        return Ok(WorkerResult {
            outputs: None,
            sent: sent_stats,
            per_process: Vec::new(),
        });
    }
    if let Some(p) = per_process.get_mut(process) {
        p.add(&sent_stats);
    }
    let mut outputs = Vec::with_capacity(graph.outputs().len());
    for &o in graph.outputs() {
        let o = o as usize;
        let v = if plan.owner[o] == EVERYWHERE {
            graph.run(o, Vec::new())?
        } else {
            values
                .get(&o)
                .cloned()
                .ok_or_else(|| ClusterError::Timely {
                    process,
                    message: format!("output {} never arrived", graph.key(o)),
                })?
        };
        outputs.push(v);
    }
    Ok(WorkerResult {
        outputs: Some(outputs),
        sent: sent_stats,
        per_process,
    })
}

/// Tells every other worker that this run failed, and sends it off now.
fn broadcast_failure(
    input: &mut InputHandle<u64, CapacityContainerBuilder<Vec<Msg>>>,
    peers: u32,
    me: u32,
    task: usize,
    key: &str,
    process: usize,
    message: &str,
) {
    for to in (0..peers).filter(|&w| w != me) {
        input.send(Msg {
            to,
            task: task as u32,
            body: Body::Failed {
                key: key.to_string(),
                process: process as u32,
                message: message.to_string(),
            },
        });
    }
    let now = *input.time();
    input.advance_to(now + 1);
}

fn encode(codec: &dyn Codec, value: &Value) -> Result<Vec<u8>, String> {
    codec.encode(value.as_ref())
}

fn receive(
    graph: &WireGraph,
    msg: Msg,
    values: &mut HashMap<usize, Value>,
    per_process: &mut [SendStats],
    me: usize,
) -> Result<(), ClusterError> {
    let t = msg.task as usize;
    match msg.body {
        Body::Stats { process, sent } => {
            if let Some(p) = per_process.get_mut(process as usize) {
                p.add(&sent);
            }
            Ok(())
        }
        Body::Failed {
            key,
            process,
            message,
        } => Err(ClusterError::Task {
            key,
            process: process as usize,
            message,
        }),
        Body::Value(bytes) => {
            if t >= graph.len() {
                return Err(ClusterError::Timely {
                    process: me,
                    message: format!("a value for unknown task {t} arrived"),
                });
            }
            let ty = graph.value_type(t);
            let codec = codec_for(&ty).ok_or_else(|| ClusterError::MissingCodec {
                key: graph.key(t).to_string(),
                type_name: ty.name(),
            })?;
            let v = codec
                .decode(&bytes)
                .map_err(|message| ClusterError::Codec {
                    key: graph.key(t).to_string(),
                    action: "decode",
                    message,
                })?;
            values.insert(t, v);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagwood_runtime::{delayed, sum, TaskBuilder};

    fn tree(n: i64) -> Delayed<i64> {
        sum((0..n).map(|i| delayed(i).map("square", |v: &i64| v * v)), 4).unwrap()
    }

    #[test]
    fn placement_is_deterministic_and_spread() {
        let t = tree(64);
        let g = WireGraph::new(&t);
        let a = place(&g, 4);
        let b = place(&WireGraph::new(&t), 4);
        assert_eq!(a, b);
        for k in 0..4 {
            assert!(a.contains(&k), "worker {k} got nothing");
        }
        // Constants run everywhere.
        assert!((0..g.len())
            .filter(|&i| g.is_constant(i))
            .all(|i| a[i] == EVERYWHERE));
        // Locality: a first-level sum sits with (most of) its leaves.
        let plan = RunPlan::new(&g, 4, 0, vec![0]).unwrap();
        let crossing = plan.dests.iter().filter(|d| !d.is_empty()).count();
        assert!(crossing < 10, "{crossing} values cross workers");
    }

    #[test]
    fn fingerprint_sees_structure() {
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
