//! Where each task runs and where its value goes: the same plan on every
//! process, computed from the graph alone.
//!
//! A plan task is a graph task (same position) or a combine task the plan
//! adds when it regroups a reduction tree (positions from `graph.len()` on).
//!
//! * **Placement.** Sources (tasks whose inputs are all constants) go to
//!   workers in contiguous blocks of the graph's order of about equal
//!   estimated cost (`TaskBuilder::cost`: a CSV block's bytes, say; 1 when
//!   not given), so a subtree's leaves stay together. A task that reads only parts of its inputs (a
//!   shuffle's gather) goes to worker `part % workers`, so the gathers of
//!   one output partition on both sides of a join meet. Every other task goes
//!   to the worker holding most of its inputs, ties to the least loaded.
//!   `delayed(value)` constants are everywhere and never travel.
//! * **Regrouping.** A reduction tree (tasks declared with
//!   `TaskBuilder::combines`/`reduces`, as `tree_reduce` and the
//!   collections' aggregations do) whose leaves sit on more than one process
//!   is rebuilt: the leaves of each worker are combined there, then those of
//!   each process, and the root gets one partial per run of a process's
//!   leaves. So one partial per process crosses the network instead of one
//!   per straddling tree node. Combining keeps the leaves' order, so only the
//!   association changes (floating-point sums may differ from the
//!   single-process run in the last bits; turn it off with
//!   [`Cluster::with_regrouping`](crate::Cluster::with_regrouping)).
//! * **Parts.** A consumer that reads only part `p` of its input gets only
//!   that part sent (see `dagwood_runtime::Partitioned`).

use dagwood_runtime::{ValueType, WireGraph};

use crate::registry::codec_for;
use crate::ClusterError;

/// Marks a task whose value every process has (a `delayed(value)` constant).
pub(crate) const EVERYWHERE: u32 = u32::MAX;
/// Marks a task nobody runs (an inner node of a regrouped reduction tree).
pub(crate) const NOWHERE: u32 = u32::MAX - 1;

/// What a plan task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// The graph task as built.
    Graph,
    /// A reduction root over the partials its plan inputs give
    /// (`Reduction::finish`).
    Finish,
    /// A combine of partials added by regrouping; `root` is the tree's root.
    Combine { root: u32 },
}

/// One input of a plan task: the plan task giving it and, when only one
/// part of that value is read, the part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Input {
    pub(crate) task: u32,
    pub(crate) part: Option<u32>,
}

/// A worker that needs a task's value: all of it, or some parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dest {
    pub(crate) to: u32,
    /// `None`: the whole value.
    pub(crate) parts: Option<Vec<u32>>,
}

/// Where each task runs and where its value goes; the same on every process.
pub(crate) struct RunPlan {
    pub(crate) fingerprint: u64,
    pub(crate) action: Vec<Action>,
    pub(crate) inputs: Vec<Vec<Input>>,
    pub(crate) owner: Vec<u32>,
    /// Run order among ready tasks (lower first): the graph's order, which
    /// finishes subtrees before opening new ones.
    pub(crate) order: Vec<u32>,
    /// The value type of each task (a combine task's is its inputs').
    pub(crate) ty: Vec<ValueType>,
    /// Other workers that need each task's value (consumers and gatherers).
    pub(crate) dests: Vec<Vec<Dest>>,
    /// The plan tasks that read each task's value (once each).
    pub(crate) consumers: Vec<Vec<u32>>,
    pub(crate) is_output: Vec<bool>,
    /// Workers that receive the outputs (process 0's first worker, or the
    /// first worker of every process).
    pub(crate) gatherers: Vec<u32>,
}

impl RunPlan {
    pub(crate) fn new(
        graph: &WireGraph,
        workers: usize,
        threads: usize,
        process: usize,
        gatherers: Vec<u32>,
        regroup: bool,
    ) -> Result<RunPlan, ClusterError> {
        let n = graph.len();
        if n >= NOWHERE as usize / 2 || workers >= NOWHERE as usize {
            return Err(ClusterError::Timely {
                process,
                message: format!("graph of {n} tasks on {workers} workers is too large"),
            });
        }
        let mut plan = RunPlan {
            fingerprint: fingerprint(graph)
                ^ (gatherers.len() as u64).rotate_left(32)
                ^ u64::from(regroup).rotate_left(48),
            action: vec![Action::Graph; n],
            inputs: (0..n)
                .map(|t| {
                    graph
                        .inputs(t)
                        .iter()
                        .enumerate()
                        .map(|(k, &i)| Input {
                            task: i,
                            part: graph.input_part(t, k),
                        })
                        .collect()
                })
                .collect(),
            owner: vec![EVERYWHERE; n],
            order: (0..n as u32).collect(),
            ty: (0..n).map(|t| graph.value_type(t)).collect(),
            dests: Vec::new(),
            consumers: Vec::new(),
            is_output: vec![false; n],
            gatherers,
        };
        for &o in graph.outputs() {
            plan.is_output[o as usize] = true;
        }
        Placer {
            graph,
            plan: &mut plan,
            workers: workers.max(1),
            threads: threads.max(1),
            load: vec![0; workers.max(1)],
            regroup,
        }
        .place();
        plan.route();
        Ok(plan)
    }

    /// Number of plan tasks (graph tasks and added combines).
    pub(crate) fn len(&self) -> usize {
        self.action.len()
    }

    /// True for a task some worker runs.
    pub(crate) fn runs(&self, t: usize) -> bool {
        self.owner[t] != EVERYWHERE && self.owner[t] != NOWHERE
    }

    /// Consumers and destinations of every value, from inputs and owners.
    fn route(&mut self) {
        let n = self.len();
        let mut consumers: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut dests: Vec<Vec<Dest>> = vec![Vec::new(); n];
        for c in 0..n {
            if !self.runs(c) {
                continue;
            }
            let to = self.owner[c];
            for input in &self.inputs[c] {
                let i = input.task as usize;
                if consumers[i].last() != Some(&(c as u32)) {
                    consumers[i].push(c as u32);
                }
                if !self.runs(i) || self.owner[i] == to {
                    continue;
                }
                add_dest(&mut dests[i], to, input.part);
            }
        }
        for (t, d) in dests.iter_mut().enumerate() {
            if self.is_output[t] && self.runs(t) {
                for &g in &self.gatherers {
                    if g != self.owner[t] {
                        add_dest(d, g, None);
                    }
                }
            }
            d.sort_by_key(|d| d.to);
        }
        self.consumers = consumers;
        self.dests = dests;
    }

    /// Every value that must travel needs a codec (the whole value's, or
    /// its parts'): fail before running, naming the first such task.
    pub(crate) fn check_codecs(&self, graph: &WireGraph) -> Result<(), ClusterError> {
        for (t, dests) in self.dests.iter().enumerate() {
            let key = || self.key(graph, t);
            if dests.iter().any(|d| d.parts.is_none()) && codec_for(&self.ty[t]).is_none() {
                let name = self.ty[t].name();
                if name.starts_with("dagwood_collections::shuffle::ShuffleOut<") {
                    return Err(ClusterError::Unsupported {
                        key: key(),
                        what: "a shuffle's split result read whole".into(),
                    });
                }
                return Err(ClusterError::MissingCodec {
                    key: key(),
                    type_name: name,
                });
            }
            if dests.iter().any(|d| d.parts.is_some())
                && (t >= graph.len() || graph.part_codec(t).is_none())
            {
                return Err(ClusterError::MissingCodec {
                    key: key(),
                    type_name: self.ty[t].name(),
                });
            }
        }
        Ok(())
    }

    /// The key naming a plan task in messages: the graph task's, or for an
    /// added combine its root's with a note.
    pub(crate) fn key(&self, graph: &WireGraph, t: usize) -> String {
        match self.action.get(t) {
            Some(Action::Combine { root }) => {
                format!("{} (combining partials)", graph.key(*root as usize))
            }
            Some(_) => graph.key(t).to_string(),
            None => format!("task {t}"),
        }
    }
}

fn add_dest(dests: &mut Vec<Dest>, to: u32, part: Option<u32>) {
    match dests.iter_mut().find(|d| d.to == to) {
        None => dests.push(Dest {
            to,
            parts: part.map(|p| vec![p]),
        }),
        Some(d) => match (&mut d.parts, part) {
            (Some(parts), Some(p)) => {
                if !parts.contains(&p) {
                    parts.push(p);
                }
            }
            // Someone there reads it whole: send it whole.
            (parts, _) => *parts = None,
        },
    }
}

/// Placement and regrouping, task by task in the graph's order.
struct Placer<'a> {
    graph: &'a WireGraph,
    plan: &'a mut RunPlan,
    workers: usize,
    threads: usize,
    load: Vec<u64>,
    regroup: bool,
}

impl Placer<'_> {
    fn place(mut self) {
        let graph = self.graph;
        let n = graph.len();
        let is_source = |t: usize| {
            !graph.is_constant(t)
                && graph
                    .inputs(t)
                    .iter()
                    .all(|&i| graph.is_constant(i as usize))
        };
        let sources: Vec<usize> = (0..n).filter(|&t| is_source(t)).collect();
        // Blocks of consecutive sources of about equal cost: the graph's
        // order keeps a subtree's leaves together, so their reduction stays
        // on one worker.
        let total: u128 = sources.iter().map(|&t| u128::from(graph.cost(t))).sum();
        let mut before = 0u128;
        for &t in &sources {
            let cost = u128::from(graph.cost(t));
            let middle = before + cost / 2;
            let k = (middle * self.workers as u128 / total.max(1)).min(self.workers as u128 - 1);
            before += cost;
            self.assign(t, k as u32);
        }
        for t in 0..n {
            if graph.is_constant(t) || self.plan.owner[t] != EVERYWHERE {
                continue;
            }
            if self.regroup && self.try_regroup(t) {
                continue;
            }
            let w = self
                .by_parts(t)
                .unwrap_or_else(|| self.near_inputs(t, None));
            self.assign(t, w);
        }
    }

    fn assign(&mut self, t: usize, w: u32) {
        self.plan.owner[t] = w;
        let cost = if t < self.graph.len() {
            self.graph.cost(t)
        } else {
            1
        };
        self.load[w as usize] += cost;
    }

    fn process_of(&self, w: u32) -> u32 {
        w / self.threads as u32
    }

    /// A task whose every non-constant input is read by parts: by the part.
    fn by_parts(&self, t: usize) -> Option<u32> {
        let inputs = &self.plan.inputs[t];
        let mut part = None;
        for input in inputs {
            if self.plan.owner[input.task as usize] == EVERYWHERE {
                continue;
            }
            part = Some(input.part?);
        }
        part.map(|p| p % self.workers as u32)
    }

    /// The worker holding most of task `t`'s inputs; ties to `prefer`, then
    /// to the least loaded; the least loaded when no input has a worker.
    fn near_inputs(&self, t: usize, prefer: Option<u32>) -> u32 {
        let mut tally: Vec<(u32, u32)> = Vec::new();
        for input in &self.plan.inputs[t] {
            let o = self.plan.owner[input.task as usize];
            if o == EVERYWHERE || o == NOWHERE {
                continue;
            }
            match tally.iter_mut().find(|(k, _)| *k == o) {
                Some((_, c)) => *c += 1,
                None => tally.push((o, 1)),
            }
        }
        let load = &self.load;
        tally
            .iter()
            .max_by(|a, b| {
                a.1.cmp(&b.1)
                    .then((Some(a.0) == prefer).cmp(&(Some(b.0) == prefer)))
                    .then(load[b.0 as usize].cmp(&load[a.0 as usize]))
                    .then(b.0.cmp(&a.0))
            })
            .map(|&(k, _)| k)
            .unwrap_or_else(|| (0..self.workers).min_by_key(|&k| (load[k], k)).unwrap_or(0) as u32)
    }

    /// When `t` is the root of a reduction tree whose leaves sit on more
    /// than one process, rebuilds the tree (see the module docs), places
    /// `t` and returns true.
    fn try_regroup(&mut self, root: usize) -> bool {
        let graph = self.graph;
        let Some(red) = graph.reduction(root) else {
            return false;
        };
        // A root: its value leaves the tree.
        let dependents = graph.dependents(root);
        let inside = |c: u32| {
            graph
                .reduction(c as usize)
                .is_some_and(|r| r.same_tree(red))
        };
        if !self.plan.is_output[root] && dependents.len() == 1 && inside(dependents[0]) {
            return false;
        }
        // Leaves in order, and the inner tasks they replace.
        let mut leaves: Vec<u32> = Vec::new();
        let mut inner: Vec<u32> = Vec::new();
        let mut fan_in = 2usize;
        let mut stack = vec![(root as u32, 0usize)];
        while let Some((x, k)) = stack.pop() {
            let x_inputs = &self.plan.inputs[x as usize];
            fan_in = fan_in.max(x_inputs.len());
            let Some(input) = x_inputs.get(k).copied() else {
                continue;
            };
            stack.push((x, k + 1));
            if input.part.is_some() {
                return false;
            }
            let i = input.task as usize;
            let absorbed = inside(input.task)
                && !graph.is_constant(i)
                && !self.plan.is_output[i]
                && graph.dependents(i) == [x];
            if absorbed {
                inner.push(input.task);
                stack.push((input.task, 0));
            } else {
                leaves.push(input.task);
            }
        }
        let processes: Vec<u32> = leaves
            .iter()
            .map(|&l| self.plan.owner[l as usize])
            .filter(|&o| o != EVERYWHERE)
            .map(|o| self.process_of(o))
            .collect();
        if leaves.is_empty() || processes.iter().all(|&p| p == processes[0]) {
            return false;
        }
        for &x in &inner {
            let o = self.plan.owner[x as usize];
            if o != EVERYWHERE && o != NOWHERE {
                let cost = graph.cost(x as usize);
                self.load[o as usize] = self.load[o as usize].saturating_sub(cost);
            }
            self.plan.owner[x as usize] = NOWHERE;
        }
        // Combine each worker's runs of leaves, then each process's.
        let by_worker = self.combine_runs(root as u32, leaves, fan_in, |_, w| w);
        let by_process = self.combine_runs(root as u32, by_worker, fan_in, |p, w| p.process_of(w));
        self.plan.inputs[root] = by_process
            .into_iter()
            .map(|task| Input { task, part: None })
            .collect();
        self.plan.action[root] = Action::Finish;
        let prefer = self.plan.is_output[root]
            .then(|| self.plan.gatherers.first().copied())
            .flatten();
        let w = self.near_inputs(root, prefer);
        self.assign(root, w);
        true
    }

    /// Replaces each maximal run of consecutive `items` whose workers share
    /// a group (`group(self, worker)`) by one partial: a tree of combine
    /// tasks of at most `fan_in` inputs. Constants join the run before them.
    fn combine_runs(
        &mut self,
        root: u32,
        items: Vec<u32>,
        fan_in: usize,
        group: impl Fn(&Self, u32) -> u32,
    ) -> Vec<u32> {
        let mut runs: Vec<(u32, Vec<u32>)> = Vec::new();
        for item in items {
            let o = self.plan.owner[item as usize];
            let g = (o != EVERYWHERE).then(|| group(self, o));
            match (runs.last_mut(), g) {
                (Some((last, run)), Some(g)) if *last == g => run.push(item),
                (Some((_, run)), None) => run.push(item),
                (_, g) => runs.push((g.unwrap_or(u32::MAX), vec![item])),
            }
        }
        let mut out = Vec::with_capacity(runs.len());
        for (_, mut level) in runs {
            while level.len() > 1 {
                level = level
                    .chunks(fan_in)
                    .map(|chunk| match chunk {
                        [one] => *one,
                        _ => self.add_combine(root, chunk),
                    })
                    .collect();
            }
            out.extend(level);
        }
        out
    }

    fn add_combine(&mut self, root: u32, inputs: &[u32]) -> u32 {
        let t = self.plan.len();
        let first = inputs[0] as usize;
        self.plan.action.push(Action::Combine { root });
        self.plan.inputs.push(
            inputs
                .iter()
                .map(|&task| Input { task, part: None })
                .collect(),
        );
        self.plan.order.push(
            inputs
                .iter()
                .map(|&i| self.plan.order[i as usize])
                .max()
                .unwrap_or(0),
        );
        let ty = self.plan.ty[first];
        self.plan.ty.push(ty);
        self.plan.is_output.push(false);
        self.plan.owner.push(EVERYWHERE);
        let w = self.near_inputs(t, None);
        self.assign(t, w);
        t as u32
    }
}

/// FNV-1a over keys, value types, inputs (with the parts read), reduction
/// declarations, costs and outputs, in graph order.
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
        h.u64(u64::from(graph.reduction(t).is_some()));
        // Costs steer placement: processes that estimate differently (a file
        // of another size) would place differently.
        h.u64(graph.cost(t));
        h.u64(graph.inputs(t).len() as u64);
        for (k, &i) in graph.inputs(t).iter().enumerate() {
            h.u64(u64::from(i));
            h.u64(graph.input_part(t, k).map_or(u64::MAX, u64::from));
        }
    }
    graph.outputs().iter().for_each(|&o| h.u64(u64::from(o)));
    h.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagwood_runtime::{delayed, sum, Delayed};

    fn tree(n: i64, fan_in: usize) -> Delayed<i64> {
        sum(
            (0..n).map(|i| delayed(i).map("square", |v: &i64| v * v)),
            fan_in,
        )
        .unwrap()
    }

    fn root_of(g: &WireGraph) -> usize {
        g.outputs()[0] as usize
    }

    #[test]
    fn a_tree_over_processes_gets_one_partial_per_process() {
        let t = tree(64, 4);
        let g = WireGraph::new(&t);
        // 2 processes of 2 threads.
        let plan = RunPlan::new(&g, 4, 2, 0, vec![0], true).unwrap();
        let root = root_of(&g);
        assert_eq!(plan.action[root], Action::Finish);
        let inputs: Vec<u32> = plan.inputs[root].iter().map(|i| i.task).collect();
        let procs: Vec<u32> = inputs.iter().map(|&i| plan.owner[i as usize] / 2).collect();
        assert_eq!(procs, [0, 1], "one partial per process, in order");
        assert_eq!(plan.owner[root], 0, "the root sits with the gatherer");
        // The tree's inner nodes are gone; only process 1's partial crosses.
        let inner = (0..g.len()).filter(|&t| plan.owner[t] == NOWHERE).count();
        assert!(inner > 0);
        let crossing: usize = (0..plan.len())
            .map(|t| {
                plan.dests[t]
                    .iter()
                    .filter(|d| d.to / 2 != plan.owner[t] / 2)
                    .count()
            })
            .sum();
        assert_eq!(crossing, 1);
        // Every added combine reads leaves or combines of one process.
        for t in g.len()..plan.len() {
            let p = plan.owner[t] / 2;
            assert!(plan.inputs[t]
                .iter()
                .all(|i| plan.owner[i.task as usize] / 2 == p));
        }
    }

    /// Runs a plan's tasks in one thread, each as a worker would (by its
    /// action), and returns the outputs' values.
    fn simulate(g: &WireGraph, plan: &RunPlan) -> Vec<dagwood_runtime::Value> {
        use dagwood_runtime::Value;
        use std::collections::HashMap;
        let mut values: HashMap<usize, Value> = HashMap::new();
        let mut left: Vec<usize> = (0..plan.len()).filter(|&t| plan.runs(t)).collect();
        while !left.is_empty() {
            let before = left.len();
            left.retain(|&t| {
                let ready = plan.inputs[t].iter().all(|i| {
                    !plan.runs(i.task as usize) || values.contains_key(&(i.task as usize))
                });
                if !ready {
                    return true;
                }
                let args: Vec<Value> = plan.inputs[t]
                    .iter()
                    .map(|i| {
                        let i = i.task as usize;
                        values
                            .get(&i)
                            .cloned()
                            .unwrap_or_else(|| g.run(i, Vec::new()).unwrap())
                    })
                    .collect();
                let v = match plan.action[t] {
                    Action::Graph => g.run(t, args).unwrap(),
                    Action::Finish => g.reduction(t).unwrap().finish(args).unwrap(),
                    Action::Combine { root } => {
                        g.reduction(root as usize).unwrap().combine(args).unwrap()
                    }
                };
                values.insert(t, v);
                false
            });
            assert!(left.len() < before, "the plan cannot make progress");
        }
        g.outputs()
            .iter()
            .map(|&o| {
                let o = o as usize;
                values
                    .get(&o)
                    .cloned()
                    .unwrap_or_else(|| g.run(o, Vec::new()).unwrap())
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// An order-sensitive reduction (concatenation), regrouped over any
        /// number of workers and processes, gives the leaves in order; every
        /// combine reads one process's values and every tree root one
        /// partial per run of a process's leaves.
        #[test]
        fn regrouped_trees_keep_their_leaves_in_order(
            leaves in 1usize..120,
            fan_in in 2usize..9,
            processes in 1usize..5,
            threads in 1usize..4,
        ) {
            let parts = (0..leaves as u64).map(|i| delayed(i).map("one", |v: &u64| vec![*v]));
            let all = dagwood_runtime::tree_reduce(parts, fan_in, "concat", |vs: Vec<Vec<u64>>| vs.concat()).unwrap();
            let g = WireGraph::new(&all);
            let plan = RunPlan::new(&g, processes * threads, threads, 0, vec![0], true).unwrap();
            let got = simulate(&g, &plan);
            let got = got[0].downcast_ref::<Vec<u64>>().unwrap();
            proptest::prop_assert_eq!(got, &(0..leaves as u64).collect::<Vec<_>>());
            let t = threads as u32;
            for c in g.len()..plan.len() {
                let p = plan.owner[c] / t;
                proptest::prop_assert!(plan.inputs[c].iter().all(|i| plan.owner[i.task as usize] / t == p));
            }
            let root = g.outputs()[0] as usize;
            if plan.action[root] == Action::Finish {
                let procs: Vec<u32> = plan.inputs[root].iter().map(|i| plan.owner[i.task as usize] / t).collect();
                proptest::prop_assert!(procs.windows(2).all(|w| w[0] != w[1]), "{procs:?}");
            }
        }
    }

    #[test]
    fn sources_are_balanced_by_cost() {
        use dagwood_runtime::TaskBuilder;
        // One heavy source then eight light ones: the heavy one gets a
        // worker to itself.
        let mut parts = vec![TaskBuilder::new("heavy").cost(800).build(|_| Ok(1_i64))];
        parts.extend((0..8).map(|_| TaskBuilder::new("light").cost(100).build(|_| Ok(1_i64))));
        let total = sum(parts, 16).unwrap();
        let g = WireGraph::new(&total);
        let plan = RunPlan::new(&g, 2, 1, 0, vec![0], true).unwrap();
        let owner_of = |name: &str| -> Vec<u32> {
            (0..g.len())
                .filter(|&t| g.key(t).name() == name)
                .map(|t| plan.owner[t])
                .collect()
        };
        assert_eq!(owner_of("heavy"), [0]);
        assert_eq!(owner_of("light"), [1; 8]);
    }

    #[test]
    fn regrouping_leaves_one_process_and_switched_off_trees_alone() {
        let t = tree(64, 4);
        let g = WireGraph::new(&t);
        for plan in [
            RunPlan::new(&g, 4, 4, 0, vec![0], true).unwrap(),
            RunPlan::new(&g, 4, 1, 0, vec![0], false).unwrap(),
        ] {
            assert_eq!(plan.len(), g.len());
            assert!(plan.action.iter().all(|a| *a == Action::Graph));
            assert!(plan.owner.iter().all(|&o| o != NOWHERE));
        }
        // On vs off changes the plan, hence the fingerprint.
        let on = RunPlan::new(&g, 4, 1, 0, vec![0], true).unwrap();
        let off = RunPlan::new(&g, 4, 1, 0, vec![0], false).unwrap();
        assert_ne!(on.fingerprint, off.fingerprint);
    }
}
