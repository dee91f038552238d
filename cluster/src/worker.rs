//! One timely worker's share of a run: a small scheduler over the plan
//! tasks it owns, and the messages that carry values between workers.
//!
//! The worker keeps, for each of its tasks, how many inputs are still
//! missing; a task whose inputs are all here is ready, and the ready task
//! first in the graph's order runs next (the order finishes subtrees before
//! opening new ones, so partials are combined and freed early). Waiting for
//! a value from elsewhere never stops other ready work. Every value another
//! worker needs is encoded and sent on the exchange channel right after its
//! task ran: the whole value, or only the parts that worker's tasks read.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::rc::Rc;
use std::time::{Duration, Instant};

use dagwood_runtime::diagnostics::Reporter;
use dagwood_runtime::task::catch_panic;
use dagwood_runtime::{Key, Value, WireGraph};
use serde::{Deserialize, Serialize};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::Input;
use timely::dataflow::InputHandle;
use timely::worker::Worker;

use crate::heartbeat::Alarm;
use crate::plan::{Action, RunPlan};
use crate::registry::codec_for;
use crate::stats::SendStats;
use crate::ClusterError;

/// A message between workers: a task's value, or news of a failure.
#[derive(Clone, Serialize, Deserialize)]
struct Msg {
    to: u32,
    task: u32,
    body: Body,
}

#[derive(Clone, Serialize, Deserialize)]
enum Body {
    /// The whole value, encoded by its type's codec.
    Value(Vec<u8>),
    /// Some parts of a partitioned value, by part number.
    Parts(Vec<(u32, Vec<u8>)>),
    Failed {
        key: String,
        process: u32,
        message: String,
    },
    /// A worker's figures, sent to the gatherers at the end.
    Stats { process: u32, sent: SendStats },
}

type Inbox = InputHandle<u64, CapacityContainerBuilder<Vec<Msg>>>;

/// What one worker hands back: the outputs (gatherers only), its own
/// figures, and (gatherers) every process's.
pub(crate) struct WorkerResult {
    pub(crate) outputs: Option<Vec<Value>>,
    pub(crate) sent: SendStats,
    pub(crate) per_process: Vec<SendStats>,
}

/// The state of one worker's run.
struct Run<'a> {
    graph: &'a WireGraph,
    plan: &'a RunPlan,
    me: u32,
    process: usize,
    threads: u32,
    peers: u32,
    values: HashMap<usize, Value>,
    /// Inputs each of this worker's tasks still waits for.
    waiting: Vec<u32>,
    /// How many of this worker's tasks still take each value.
    uses: Vec<u32>,
    ready: BinaryHeap<Reverse<(u32, u32)>>,
    /// This worker's tasks not yet run.
    remaining: usize,
    gatherer: bool,
    sent: SendStats,
    per_process: Vec<SendStats>,
    /// The diagnostics callbacks, and the key of each plan task (empty
    /// when no callback is active).
    report: (&'a Reporter, &'a [Key]),
}

pub(crate) fn run_worker(
    worker: &mut Worker,
    graph: &WireGraph,
    plan: &RunPlan,
    process: usize,
    threads: usize,
    alarm: &Alarm,
    report: (&Reporter, &[Key]),
) -> Result<WorkerResult, ClusterError> {
    let silent = |(peer, detail): (usize, String)| ClusterError::PeerLost {
        process,
        peer: format!("process {peer}"),
        detail,
    };
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
    let threads = threads.max(1) as u32;
    let peers = worker.peers() as u32;
    let mut run = Run::new(
        graph,
        plan,
        worker.index() as u32,
        process,
        threads,
        peers,
        report,
    );

    let mut failure: Option<ClusterError> = None;
    let mut last_step = Instant::now();
    loop {
        let received = std::mem::take(&mut *inbox.borrow_mut());
        let mut progressed = !received.is_empty();
        for msg in received {
            let t = msg.task as usize;
            if let Err(e) = run.receive(msg) {
                // A failure reported by another worker reached everyone
                // already; one found here (a value that does not decode)
                // must be told to the others, or they would wait for this
                // worker's values forever.
                if !matches!(e, ClusterError::Task { .. }) && failure.is_none() {
                    let key = plan.key(graph, t.min(plan.len().saturating_sub(1)));
                    run.broadcast_failure(&mut input, t, &key, &e.to_string());
                }
                failure.get_or_insert(e);
            }
        }
        if let Some(raised) = alarm.raised() {
            failure.get_or_insert(silent(raised));
        }
        if failure.is_some() {
            break;
        }
        while let Some(Reverse((_, t))) = run.ready.pop() {
            if alarm.raised().is_some() {
                // Put it back; the outer loop ends the run.
                run.ready.push(Reverse((plan.order[t as usize], t)));
                break;
            }
            progressed = true;
            let sent = match run.run_task(t as usize, &mut input) {
                Ok(sent) => sent,
                Err(e) => {
                    let (key, message) = match &e {
                        ClusterError::Task { key, message, .. } => (key.clone(), message.clone()),
                        other => (plan.key(graph, t as usize), other.to_string()),
                    };
                    run.broadcast_failure(&mut input, t as usize, &key, &message);
                    failure = Some(e);
                    break;
                }
            };
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
        if failure.is_some() || (run.remaining == 0 && run.outputs_ready()) {
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
        for &to in plan.gatherers.iter().filter(|&&g| g != run.me) {
            input.send(Msg {
                to,
                task: 0,
                body: Body::Stats {
                    process: process as u32,
                    sent: run.sent,
                },
            });
        }
    }
    drop(input);
    while worker.has_dataflows() {
        // A silent peer would keep the dataflow open forever.
        if let Some(raised) = alarm.raised() {
            return Err(failure.unwrap_or_else(|| silent(raised)));
        }
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
                    if let Some(p) = run.per_process.get_mut(process as usize) {
                        p.add(&sent);
                    }
                }
                Body::Value(_) | Body::Parts(_) => {}
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => run.finish(),
    }
}

impl<'a> Run<'a> {
    fn new(
        graph: &'a WireGraph,
        plan: &'a RunPlan,
        me: u32,
        process: usize,
        threads: u32,
        peers: u32,
        report: (&'a Reporter, &'a [Key]),
    ) -> Run<'a> {
        let n = plan.len();
        let mut waiting = vec![0u32; n];
        let mut uses = vec![0u32; n];
        let mut ready = BinaryHeap::new();
        let mut remaining = 0;
        let mut seen: Vec<u32> = Vec::new();
        for t in (0..n).filter(|&t| plan.owner[t] == me) {
            remaining += 1;
            seen.clear();
            for input in &plan.inputs[t] {
                let i = input.task;
                if !plan.runs(i as usize) {
                    continue;
                }
                uses[i as usize] += 1;
                if !seen.contains(&i) {
                    seen.push(i);
                }
            }
            waiting[t] = seen.len() as u32;
            if seen.is_empty() {
                ready.push(Reverse((plan.order[t], t as u32)));
            }
        }
        Run {
            graph,
            plan,
            me,
            process,
            threads,
            peers,
            values: HashMap::new(),
            waiting,
            uses,
            ready,
            remaining,
            gatherer: plan.gatherers.contains(&me),
            sent: SendStats::default(),
            per_process: vec![SendStats::default(); (peers / threads) as usize],
            report,
        }
    }

    fn keep(&self, t: usize) -> bool {
        self.gatherer && self.plan.is_output[t]
    }

    /// Task `t`'s value is here: wake the tasks that waited for it.
    fn arrived(&mut self, t: usize, value: Value) {
        for &c in &self.plan.consumers[t] {
            let c = c as usize;
            if self.plan.owner[c] == self.me {
                self.waiting[c] -= 1;
                if self.waiting[c] == 0 {
                    self.ready.push(Reverse((self.plan.order[c], c as u32)));
                }
            }
        }
        if self.uses[t] > 0 || self.keep(t) {
            self.values.insert(t, value);
        }
    }

    fn outputs_ready(&self) -> bool {
        !self.gatherer
            || self
                .graph
                .outputs()
                .iter()
                .all(|&o| !self.plan.runs(o as usize) || self.values.contains_key(&(o as usize)))
    }

    /// Runs task `t` (all its inputs are here) and sends its value where it
    /// is needed; true when something was sent.
    fn run_task(&mut self, t: usize, input: &mut Inbox) -> Result<bool, ClusterError> {
        let (graph, plan) = (self.graph, self.plan);
        self.remaining -= 1;
        let mut args = Vec::with_capacity(plan.inputs[t].len());
        for inp in &plan.inputs[t] {
            let i = inp.task as usize;
            if !plan.runs(i) {
                args.push(graph.run(i, Vec::new())?);
                continue;
            }
            self.uses[i] = self.uses[i].saturating_sub(1);
            let v = if self.uses[i] == 0 && !self.keep(i) {
                self.values.remove(&i)
            } else {
                self.values.get(&i).cloned()
            };
            let v = v.ok_or_else(|| ClusterError::Timely {
                process: self.process,
                message: format!("the input of {} is missing", plan.key(graph, t)),
            })?;
            args.push(v);
        }
        self.sent.tasks_run += 1;
        let value = match self.report.1.get(t) {
            Some(key) => self.report.0.task(
                self.me as usize,
                key,
                |r: &Result<Value, ClusterError>| r.is_err(),
                || self.call(t, args),
            )?,
            None => self.call(t, args)?,
        };
        let sent = self.send(t, &value, input)?;
        self.arrived(t, value);
        Ok(sent)
    }

    fn call(&self, t: usize, args: Vec<Value>) -> Result<Value, ClusterError> {
        let (graph, plan) = (self.graph, self.plan);
        let task_err = |message: String| ClusterError::Task {
            key: plan.key(graph, t),
            process: self.process,
            message,
        };
        let reduce = |root: usize, finish: bool, args: Vec<Value>| -> Result<Value, ClusterError> {
            let red = graph
                .reduction(root)
                .ok_or_else(|| task_err("not a reduction (a dagwood bug)".into()))?;
            catch_panic(|| {
                if finish {
                    red.finish(args)
                } else {
                    red.combine(args)
                }
            })
            .and_then(|r| r)
            .map_err(|cause| task_err(cause.to_string()))
        };
        match plan.action[t] {
            Action::Graph => graph.run(t, args).map_err(|e| match e {
                dagwood_runtime::Error::Task { key, cause } => ClusterError::Task {
                    key: key.to_string(),
                    process: self.process,
                    message: cause.to_string(),
                },
                other => ClusterError::Runtime(other),
            }),
            Action::Finish => reduce(t, true, args),
            Action::Combine { root } => reduce(root as usize, false, args),
        }
    }

    /// Sends task `t`'s value (or the parts of it they read) to the workers
    /// that need it.
    fn send(&mut self, t: usize, value: &Value, input: &mut Inbox) -> Result<bool, ClusterError> {
        let (graph, plan) = (self.graph, self.plan);
        let dests = &plan.dests[t];
        let codec_err = |action: &'static str, message: String| ClusterError::Codec {
            key: plan.key(graph, t),
            action,
            message,
        };
        let mut whole: Option<Vec<u8>> = None;
        for d in dests {
            let (body, bytes) = match &d.parts {
                None => {
                    if whole.is_none() {
                        let codec =
                            codec_for(&plan.ty[t]).ok_or_else(|| ClusterError::MissingCodec {
                                key: plan.key(graph, t),
                                type_name: plan.ty[t].name(),
                            })?;
                        whole = Some(
                            codec
                                .encode(value.as_ref())
                                .map_err(|m| codec_err("encode", m))?,
                        );
                    }
                    let bytes = whole.clone().unwrap_or_default();
                    let len = bytes.len();
                    (Body::Value(bytes), len)
                }
                Some(parts) => {
                    let codec = graph
                        .part_codec(t)
                        .ok_or_else(|| ClusterError::MissingCodec {
                            key: plan.key(graph, t),
                            type_name: plan.ty[t].name(),
                        })?;
                    let mut out = Vec::with_capacity(parts.len());
                    let mut len = 0;
                    for &p in parts {
                        let mut buf = Vec::new();
                        codec
                            .encode(value, p as usize, &mut buf)
                            .map_err(|e| codec_err("encode", e.to_string()))?;
                        len += buf.len();
                        out.push((p, buf));
                    }
                    (Body::Parts(out), len)
                }
            };
            if d.to / self.threads == self.me / self.threads {
                self.sent.bytes_sent_within += bytes as u64;
                self.sent.values_sent_within += 1;
            } else {
                self.sent.bytes_sent += bytes as u64;
                self.sent.values_sent += 1;
            }
            input.send(Msg {
                to: d.to,
                task: t as u32,
                body,
            });
        }
        Ok(!dests.is_empty())
    }

    fn receive(&mut self, msg: Msg) -> Result<(), ClusterError> {
        let (graph, plan) = (self.graph, self.plan);
        let t = msg.task as usize;
        let unknown = || ClusterError::Timely {
            process: self.process,
            message: format!("a value for unknown task {t} arrived"),
        };
        let codec_err = |message: String| ClusterError::Codec {
            key: plan.key(graph, t),
            action: "decode",
            message,
        };
        match msg.body {
            Body::Stats { process, sent } => {
                if let Some(p) = self.per_process.get_mut(process as usize) {
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
                let ty = plan.ty.get(t).ok_or_else(unknown)?;
                let codec = codec_for(ty).ok_or_else(|| ClusterError::MissingCodec {
                    key: plan.key(graph, t),
                    type_name: ty.name(),
                })?;
                let v = codec.decode(&bytes).map_err(codec_err)?;
                self.arrived(t, v);
                Ok(())
            }
            Body::Parts(parts) => {
                if t >= graph.len() {
                    return Err(unknown());
                }
                let codec = graph
                    .part_codec(t)
                    .ok_or_else(|| ClusterError::MissingCodec {
                        key: plan.key(graph, t),
                        type_name: plan.ty[t].name(),
                    })?;
                let parts = parts.into_iter().map(|(p, b)| (p as usize, b)).collect();
                let v = codec.decode(parts).map_err(|e| codec_err(e.to_string()))?;
                self.arrived(t, v);
                Ok(())
            }
        }
    }

    /// Tells every other worker that this run failed, and sends it off now.
    fn broadcast_failure(&self, input: &mut Inbox, task: usize, key: &str, message: &str) {
        for to in (0..self.peers).filter(|&w| w != self.me) {
            input.send(Msg {
                to,
                task: task as u32,
                body: Body::Failed {
                    key: key.to_string(),
                    process: self.process as u32,
                    message: message.to_string(),
                },
            });
        }
        let now = *input.time();
        input.advance_to(now + 1);
    }

    /// The gatherer's outputs (after every message arrived).
    fn finish(mut self) -> Result<WorkerResult, ClusterError> {
        if !self.gatherer {
            return Ok(WorkerResult {
                outputs: None,
                sent: self.sent,
                per_process: Vec::new(),
            });
        }
        let sent = self.sent;
        if let Some(p) = self.per_process.get_mut(self.process) {
            p.add(&sent);
        }
        let mut outputs = Vec::with_capacity(self.graph.outputs().len());
        for &o in self.graph.outputs() {
            let o = o as usize;
            let v = if !self.plan.runs(o) {
                self.graph.run(o, Vec::new())?
            } else {
                self.values
                    .get(&o)
                    .cloned()
                    .ok_or_else(|| ClusterError::Timely {
                        process: self.process,
                        message: format!("output {} never arrived", self.graph.key(o)),
                    })?
            };
            outputs.push(v);
        }
        Ok(WorkerResult {
            outputs: Some(outputs),
            sent: self.sent,
            per_process: self.per_process,
        })
    }
}
