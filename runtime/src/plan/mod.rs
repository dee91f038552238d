//! Turning requested handles into what a scheduler runs: cull, order, fuse.

pub(crate) mod build;
pub(crate) mod fuse;
pub(crate) mod wire;

use std::path::Path;
use std::sync::Arc;

use crate::compute::{Computable, Outputs, Results};
use crate::diagnostics::{GraphFiles, GraphView, Hooks, ViewNode, VisualizeOptions};
use crate::dot::Dot;
use crate::graph::node::Node;
use crate::scheduler::RunState;
use crate::{Result, Scheduler};
use build::Arena;
use fuse::Units;

/// The optimised graph of some handles, ready to inspect or run.
///
/// [`compute`](crate::Delayed::compute) builds one and runs it; build it
/// yourself to see the graph (`to_dot`), count tasks, or switch fusion off.
///
/// ```
/// use dagwood_runtime::{delayed, Plan, Scheduler};
/// let a = delayed(1).map("inc", |v: &i32| v + 1).map("double", |v: &i32| v * 2);
/// let fused = Plan::new(&a);
/// assert_eq!(fused.task_count(), 3);   // the constant, inc, double
/// assert_eq!(fused.unit_count(), 1);   // one chain: one unit
/// let plain = Plan::new(&a).with_fusion(false);
/// assert_eq!(plain.unit_count(), 3);
/// assert_eq!(plain.compute_with(&Scheduler::Sync).unwrap(), 4);
/// ```
pub struct Plan<'c, C: Computable + ?Sized> {
    what: &'c C,
    arena: Arena,
    units: Units,
}

impl<'c, C: Computable + ?Sized> Plan<'c, C> {
    /// Culls and orders the graph behind `what`, fusing linear chains.
    pub fn new(what: &'c C) -> Plan<'c, C> {
        let span =
            tracing::debug_span!("dagwood.optimize", tasks = tracing::field::Empty).entered();
        let mut outputs = Outputs::default();
        what.collect(&mut outputs);
        let arena = Arena::build(&outputs.0);
        let units = Units::build(&arena, true);
        span.record("tasks", arena.nodes.len());
        Plan { what, arena, units }
    }

    /// Turns linear-chain fusion on (the default) or off.
    pub fn with_fusion(mut self, fuse: bool) -> Self {
        self.units = Units::build(&self.arena, fuse);
        self
    }

    /// Tasks the outputs need (after culling).
    pub fn task_count(&self) -> usize {
        self.arena.nodes.len()
    }

    /// Scheduling units after fusion: what a scheduler hands out.
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// Runs the plan with the default scheduler.
    pub fn compute(&self) -> Result<C::Output> {
        self.compute_with(&Scheduler::current())
    }

    /// Runs the plan with `scheduler`.
    pub fn compute_with(&self, scheduler: &Scheduler) -> Result<C::Output> {
        let _span = tracing::info_span!(
            "dagwood.execute",
            tasks = self.arena.nodes.len(),
            units = self.units.len(),
            scheduler = ?scheduler
        )
        .entered();
        let values = scheduler.run(RunState::new(&self.arena, &self.units))?;
        self.what.extract(&mut Results(values.into_iter()))
    }

    /// Runs the plan as part of a running computation that owns `hooks` (a
    /// static graph resolving its lazy output), reporting its tasks there.
    pub(crate) fn compute_inside(&self, scheduler: &Scheduler, hooks: Hooks) -> Result<C::Output> {
        let state = RunState::inside(&self.arena, &self.units, hooks);
        let values = scheduler.run(state)?;
        self.what.extract(&mut Results(values.into_iter()))
    }

    /// The graph in Graphviz DOT: one node per task labelled with its key,
    /// fused chains boxed together, outputs drawn double.
    pub fn to_dot(&self) -> String {
        render_dot(&self.arena, &self.units)
    }

    /// Draws the graph: writes it as DOT, and as a picture when `path` ends
    /// in a Graphviz format (`.svg`, `.png`, `.pdf`, ...) with the DOT file
    /// beside it (`graph.svg` and `graph.dot`). Graphs of more than 2000
    /// tasks are drawn by layer (see [`VisualizeOptions`]).
    ///
    /// A picture needs Graphviz's `dot` program; without it this returns
    /// [`Error::GraphvizMissing`](crate::Error::GraphvizMissing), saying how
    /// to install it, after writing the DOT file.
    ///
    /// ```
    /// use dagwood_runtime::{delayed, Plan};
    /// let x = delayed(1).map("inc", |v: &i32| v + 1);
    /// let dir = std::env::temp_dir();
    /// let files = Plan::new(&x).visualize(dir.join("dagwood-doc-plan.dot")).unwrap();
    /// assert!(std::fs::read_to_string(&files.dot).unwrap().contains("digraph"));
    /// match Plan::new(&x).visualize(dir.join("dagwood-doc-plan.svg")) {
    ///     Ok(files) => assert!(files.image.is_some()),
    ///     Err(e) => assert!(e.to_string().contains("apt-get install graphviz")),
    /// }
    /// ```
    pub fn visualize(&self, path: impl AsRef<Path>) -> Result<GraphFiles> {
        self.visualize_with(path, &VisualizeOptions::default())
    }

    /// [`visualize`](Self::visualize) with options: the layer threshold,
    /// colours from a profile, the Graphviz program.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::VisualizeOptions;
    /// use dagwood_runtime::{delayed, sum, Plan};
    /// let total = sum((0..100).map(|i| delayed(i).map("square", |v: &i64| v * v)), 4).unwrap();
    /// let path = std::env::temp_dir().join("dagwood-doc-layers.dot");
    /// let files = Plan::new(&total).visualize_with(&path, &VisualizeOptions::new().max_tasks(50)).unwrap();
    /// assert_eq!(files.layers, Some(3)); // delayed, square, sum
    /// ```
    pub fn visualize_with(
        &self,
        path: impl AsRef<Path>,
        options: &VisualizeOptions<'_>,
    ) -> Result<GraphFiles> {
        view(&self.arena, &self.units).write(path.as_ref(), options)
    }
}

/// The picture's view of the fused graph behind some nodes.
pub(crate) fn view_of(roots: &[Arc<Node>]) -> GraphView {
    let arena = Arena::build(roots);
    let units = Units::build(&arena, true);
    view(&arena, &units)
}

fn view(arena: &Arena, units: &Units) -> GraphView {
    let mut output = vec![false; arena.nodes.len()];
    for &o in &arena.outputs {
        output[o as usize] = true;
    }
    let nodes = (0..units.len())
        .flat_map(|u| {
            let tasks = units.tasks(u);
            let cluster = (tasks.len() > 1).then_some(u);
            tasks.map(move |t| (t, cluster))
        })
        .map(|(t, cluster)| ViewNode {
            key: arena.nodes[t].key.clone(),
            output: output[t],
            cluster,
        })
        .collect();
    let edges = (0..arena.nodes.len())
        .flat_map(|t| arena.deps.row(t).iter().map(move |&d| (d as usize, t)))
        .collect();
    GraphView {
        name: "dagwood",
        nodes,
        edges,
    }
}

/// DOT of the fused graph behind some nodes (for handles of any type).
pub(crate) fn dot_of(roots: &[Arc<Node>]) -> String {
    let arena = Arena::build(roots);
    let units = Units::build(&arena, true);
    render_dot(&arena, &units)
}

fn render_dot(arena: &Arena, units: &Units) -> String {
    let mut dot = Dot::new("dagwood");
    let mut is_output = vec![false; arena.nodes.len()];
    for &o in &arena.outputs {
        is_output[o as usize] = true;
    }
    for u in 0..units.len() {
        let tasks = units.tasks(u);
        let fused = tasks.len() > 1;
        if fused {
            dot.begin_cluster(u, "fused");
        }
        for t in tasks {
            dot.node(t, &arena.nodes[t].key.to_string(), is_output[t]);
        }
        if fused {
            dot.end_cluster();
        }
    }
    for t in 0..arena.nodes.len() {
        for &d in arena.deps.row(t) {
            dot.edge(d as usize, t);
        }
    }
    dot.finish()
}
