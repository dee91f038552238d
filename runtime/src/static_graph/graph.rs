//! The values `graph!` produces: a one-shot [`StaticGraph`] and a reusable [`GraphFn`].

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use super::exec::{run_static, Exec};
use crate::diagnostics::{GraphFiles, GraphView, ViewNode, VisualizeOptions};
use crate::dot::Dot;
use crate::{Key, Result, Scheduler};

/// One task of a static graph, as the macro saw it.
#[derive(Debug)]
pub struct TaskInfo {
    /// The binding name, which is the task's key.
    pub key: &'static str,
    /// Indices of the tasks it reads.
    pub inputs: &'static [usize],
    /// True when the macro fused it with the next task into straight-line code.
    pub fused_with_next: bool,
    /// What the binding is: one task, or many.
    pub kind: TaskKind,
}

/// What a binding of a static graph runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// One task: `let a = f(b);`.
    Task,
    /// One task per element of a run-time input: `let parts = for p in paths { .. };`.
    FanOut,
    /// A tree of combines over a fan-out's elements: `sum(parts, 8)`,
    /// `tree_reduce(parts, 8, |a, b| ..)`.
    Reduce,
}

/// The shape of a static graph, fixed at compile time.
#[derive(Debug)]
pub struct GraphInfo {
    /// Tasks in definition order.
    pub tasks: &'static [TaskInfo],
    /// Tasks the output expression reads.
    pub output_inputs: &'static [usize],
    /// True when the output is an expression run as a last task named
    /// `output` (false when it is just a binding).
    pub output_is_task: bool,
    /// Parameter names of the `graph!(|..| { .. })` form.
    pub params: &'static [&'static str],
}

impl GraphInfo {
    /// A graph of no tasks whose output is a plain expression (for code
    /// that builds a [`StaticGraph`] by hand).
    pub const EMPTY: GraphInfo = GraphInfo {
        tasks: &[],
        output_inputs: &[],
        output_is_task: false,
        params: &[],
    };

    /// Number of tasks (`let` bindings).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Number of tasks a run announces to callbacks when it starts: the
    /// single-task bindings, plus the output expression when it is a task
    /// of its own. Fan-outs and reductions announce their elements and
    /// combines when they know how many there are.
    pub fn run_task_count(&self) -> usize {
        let single = self.tasks.iter().filter(|t| t.kind == TaskKind::Task);
        single.count() + usize::from(self.output_is_task)
    }

    /// Number of tasks left after chain fusion.
    pub fn unit_count(&self) -> usize {
        self.tasks.iter().filter(|t| !t.fused_with_next).count()
    }

    /// The graph in Graphviz DOT; fused chains are boxed together.
    pub fn to_dot(&self) -> String {
        let mut dot = Dot::new("graph");
        let mut cluster: Option<usize> = None;
        for (i, t) in self.tasks.iter().enumerate() {
            if cluster.is_none() && t.fused_with_next {
                dot.begin_cluster(i, "fused");
                cluster = Some(i);
            }
            dot.node(i, t.key, false);
            if cluster.is_some() && !t.fused_with_next {
                dot.end_cluster();
                cluster = None;
            }
        }
        let out = self.tasks.len();
        dot.node(out, "output", true);
        for (i, t) in self.tasks.iter().enumerate() {
            for &d in t.inputs {
                dot.edge(d, i);
            }
        }
        for &d in self.output_inputs {
            dot.edge(d, out);
        }
        dot.finish()
    }

    /// Draws the graph: DOT always, and a picture when `path` ends in a
    /// Graphviz format such as `.svg` (see
    /// [`Plan::visualize`](crate::Plan::visualize)).
    ///
    /// ```
    /// use dagwood_runtime::{GraphInfo, TaskInfo, TaskKind};
    /// static INFO: GraphInfo = GraphInfo {
    ///     tasks: &[TaskInfo { key: "a", inputs: &[], fused_with_next: false, kind: TaskKind::Task }],
    ///     output_inputs: &[0],
    ///     output_is_task: true,
    ///     params: &[],
    /// };
    /// let files = INFO.visualize(std::env::temp_dir().join("dagwood-doc-static.dot")).unwrap();
    /// assert_eq!(files.tasks, 2); // a and the output
    /// ```
    pub fn visualize(&self, path: impl AsRef<Path>) -> Result<GraphFiles> {
        self.visualize_with(path, &VisualizeOptions::default())
    }

    /// [`visualize`](Self::visualize) with options (layer threshold,
    /// colours from a profile, Graphviz program).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::VisualizeOptions;
    /// use dagwood_runtime::{GraphInfo, TaskInfo, TaskKind};
    /// static INFO: GraphInfo = GraphInfo {
    ///     tasks: &[TaskInfo { key: "a", inputs: &[], fused_with_next: false, kind: TaskKind::Task }],
    ///     output_inputs: &[0],
    ///     output_is_task: true,
    ///     params: &[],
    /// };
    /// let path = std::env::temp_dir().join("dagwood-doc-static-opts.dot");
    /// let files = INFO.visualize_with(&path, &VisualizeOptions::new().max_tasks(usize::MAX)).unwrap();
    /// assert_eq!(files.layers, None);
    /// ```
    pub fn visualize_with(
        &self,
        path: impl AsRef<Path>,
        options: &VisualizeOptions<'_>,
    ) -> Result<GraphFiles> {
        self.view().write(path.as_ref(), options)
    }

    fn view(&self) -> GraphView {
        let mut nodes = Vec::with_capacity(self.tasks.len() + 1);
        let mut cluster: Option<usize> = None;
        for (i, t) in self.tasks.iter().enumerate() {
            // A run of tasks fused with their next is one cluster, named
            // after its first task; it ends with the first task not fused on.
            if cluster.is_none() && t.fused_with_next {
                cluster = Some(i);
            }
            nodes.push(ViewNode {
                key: Key::new(t.key),
                output: false,
                cluster,
            });
            if !t.fused_with_next {
                cluster = None;
            }
        }
        let out = self.tasks.len();
        nodes.push(ViewNode {
            key: Key::new("output"),
            output: true,
            cluster: None,
        });
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for (i, t) in self.tasks.iter().enumerate() {
            edges.extend(t.inputs.iter().map(|&d| (d, i)));
        }
        edges.extend(self.output_inputs.iter().map(|&d| (d, out)));
        GraphView {
            name: "graph",
            nodes,
            edges,
        }
    }
}

/// A graph built by `graph! { .. }`: runs once, lazily.
///
/// `graph! { let a = 1 + 1; let b = a * 10; b + 1 }` expands to about this:
///
/// ```
/// use dagwood_runtime::{Exec, GraphInfo, Scheduler, StaticGraph, TaskInfo, TaskKind};
/// static INFO: GraphInfo = GraphInfo {
///     tasks: &[
///         TaskInfo { key: "a", inputs: &[], fused_with_next: true, kind: TaskKind::Task },
///         TaskInfo { key: "b", inputs: &[0], fused_with_next: false, kind: TaskKind::Task },
///     ],
///     output_inputs: &[1],
///     output_is_task: true,
///     params: &[],
/// };
/// let g = StaticGraph::new(&INFO, |exec: &Exec| {
///     let a = exec.task("a", || 1 + 1);
///     let b = exec.task("b", || a * 10);
///     b + 1
/// });
/// assert_eq!(g.info().unit_count(), 1);
/// assert!(g.to_dot().contains("cluster"));
/// assert_eq!(g.compute_with(&Scheduler::Sync).unwrap(), 21);
/// ```
pub struct StaticGraph<F> {
    info: &'static GraphInfo,
    f: F,
}

impl<F> StaticGraph<F> {
    /// Wraps a generated body; called by `graph!`.
    pub fn new(info: &'static GraphInfo, f: F) -> StaticGraph<F> {
        StaticGraph { info, f }
    }

    /// The graph's shape.
    pub fn info(&self) -> &'static GraphInfo {
        self.info
    }

    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        self.info.to_dot()
    }

    /// Draws the graph ([`GraphInfo::visualize`]).
    ///
    /// ```
    /// use dagwood_runtime::{Exec, GraphInfo, StaticGraph, TaskInfo, TaskKind};
    /// static INFO: GraphInfo = GraphInfo {
    ///     tasks: &[TaskInfo { key: "a", inputs: &[], fused_with_next: false, kind: TaskKind::Task }],
    ///     output_inputs: &[0],
    ///     output_is_task: false,
    ///     params: &[],
    /// };
    /// let g = StaticGraph::new(&INFO, |exec: &Exec| exec.task("a", || 1));
    /// let files = g.visualize(std::env::temp_dir().join("dagwood-doc-staticgraph.dot")).unwrap();
    /// assert!(files.image.is_none());
    /// ```
    pub fn visualize(&self, path: impl AsRef<Path>) -> Result<GraphFiles> {
        self.info.visualize(path)
    }

    /// Draws the graph with options ([`GraphInfo::visualize_with`]).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::VisualizeOptions;
    /// use dagwood_runtime::{Exec, GraphInfo, StaticGraph, TaskInfo, TaskKind};
    /// static INFO: GraphInfo = GraphInfo {
    ///     tasks: &[TaskInfo { key: "a", inputs: &[], fused_with_next: false, kind: TaskKind::Task }],
    ///     output_inputs: &[0],
    ///     output_is_task: false,
    ///     params: &[],
    /// };
    /// let g = StaticGraph::new(&INFO, |exec: &Exec| exec.task("a", || 1));
    /// let path = std::env::temp_dir().join("dagwood-doc-staticgraph-opts.dot");
    /// assert_eq!(g.visualize_with(&path, &VisualizeOptions::new().max_tasks(0)).unwrap().layers, Some(2));
    /// ```
    pub fn visualize_with(
        &self,
        path: impl AsRef<Path>,
        options: &VisualizeOptions<'_>,
    ) -> Result<GraphFiles> {
        self.info.visualize_with(path, options)
    }
}

impl<F, R> StaticGraph<F>
where
    F: FnOnce(&Exec) -> R + Send,
    R: Send,
{
    /// Runs the graph with the default scheduler.
    pub fn compute(self) -> Result<R> {
        self.compute_with(&Scheduler::current())
    }

    /// Runs the graph with `scheduler`.
    pub fn compute_with(self, scheduler: &Scheduler) -> Result<R> {
        run_static(scheduler, self.info.run_task_count(), self.f)
    }
}

impl<F> fmt::Debug for StaticGraph<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaticGraph({} tasks)", self.info.task_count())
    }
}

/// A graph built by `graph!(|x: T, ..| { .. })`: compiled once, run many times.
///
/// `graph!(|n: u64| { let s = sq(n); let c = cu(n); s + c })` expands to about this:
///
/// ```
/// use dagwood_runtime::{Exec, GraphFn, GraphInfo, TaskInfo, TaskKind};
/// static INFO: GraphInfo = GraphInfo {
///     tasks: &[
///         TaskInfo { key: "s", inputs: &[], fused_with_next: false, kind: TaskKind::Task },
///         TaskInfo { key: "c", inputs: &[], fused_with_next: false, kind: TaskKind::Task },
///     ],
///     output_inputs: &[0, 1],
///     output_is_task: true,
///     params: &["n"],
/// };
/// let g = GraphFn::<_, (u64,)>::new(&INFO, |exec: &Exec, n: u64| {
///     let (s, c) = exec.join(
///         || exec.task("s", || (0..n).map(|i| i * i).sum::<u64>()),
///         || exec.task("c", || (0..n).map(|i| i * i * i).sum::<u64>()),
///     );
///     s + c
/// });
/// assert_eq!(g.run(3).unwrap(), 5 + 9);
/// assert_eq!(g.run(4).unwrap(), 14 + 36);
/// ```
pub struct GraphFn<F, Args> {
    info: &'static GraphInfo,
    f: F,
    _args: PhantomData<fn(Args)>,
}

impl<F, Args> GraphFn<F, Args> {
    /// Wraps a generated body; called by `graph!`.
    pub fn new(info: &'static GraphInfo, f: F) -> GraphFn<F, Args> {
        GraphFn {
            info,
            f,
            _args: PhantomData,
        }
    }

    /// The graph's shape.
    pub fn info(&self) -> &'static GraphInfo {
        self.info
    }

    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        self.info.to_dot()
    }

    /// Draws the graph ([`GraphInfo::visualize`]).
    ///
    /// ```
    /// use dagwood_runtime::{Exec, GraphFn, GraphInfo, TaskInfo, TaskKind};
    /// static INFO: GraphInfo = GraphInfo {
    ///     tasks: &[TaskInfo { key: "sq", inputs: &[], fused_with_next: false, kind: TaskKind::Task }],
    ///     output_inputs: &[0],
    ///     output_is_task: false,
    ///     params: &["n"],
    /// };
    /// let g = GraphFn::<_, (u64,)>::new(&INFO, |exec: &Exec, n: u64| exec.task("sq", || n * n));
    /// let files = g.visualize(std::env::temp_dir().join("dagwood-doc-graphfn.dot")).unwrap();
    /// assert_eq!(files.tasks, 2);
    /// ```
    pub fn visualize(&self, path: impl AsRef<Path>) -> Result<GraphFiles> {
        self.info.visualize(path)
    }

    /// Draws the graph with options ([`GraphInfo::visualize_with`]).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::VisualizeOptions;
    /// use dagwood_runtime::{Exec, GraphFn, GraphInfo, TaskInfo, TaskKind};
    /// static INFO: GraphInfo = GraphInfo {
    ///     tasks: &[TaskInfo { key: "sq", inputs: &[], fused_with_next: false, kind: TaskKind::Task }],
    ///     output_inputs: &[0],
    ///     output_is_task: false,
    ///     params: &["n"],
    /// };
    /// let g = GraphFn::<_, (u64,)>::new(&INFO, |exec: &Exec, n: u64| exec.task("sq", || n * n));
    /// let path = std::env::temp_dir().join("dagwood-doc-graphfn-opts.dot");
    /// assert_eq!(g.visualize_with(&path, &VisualizeOptions::new()).unwrap().layers, None);
    /// ```
    pub fn visualize_with(
        &self,
        path: impl AsRef<Path>,
        options: &VisualizeOptions<'_>,
    ) -> Result<GraphFiles> {
        self.info.visualize_with(path, options)
    }
}

impl<F, Args> fmt::Debug for GraphFn<F, Args> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GraphFn({} tasks)", self.info.task_count())
    }
}

macro_rules! graph_fn_arity {
    ($($arg:ident: $ty:ident),*) => {
        impl<Func, Ret, $($ty),*> GraphFn<Func, ($($ty,)*)>
        where
            Func: Fn(&Exec, $($ty),*) -> Ret + Sync,
            Ret: Send,
            $($ty: Send,)*
        {
            /// Runs the graph on these arguments with the default scheduler.
            #[allow(clippy::too_many_arguments)]
            pub fn run(&self, $($arg: $ty),*) -> Result<Ret> {
                self.run_with(&Scheduler::current(), $($arg),*)
            }

            /// Runs the graph on these arguments with `scheduler`.
            #[allow(clippy::too_many_arguments)]
            pub fn run_with(&self, scheduler: &Scheduler, $($arg: $ty),*) -> Result<Ret> {
                let f = &self.f;
                run_static(scheduler, self.info.run_task_count(), move |exec| f(exec, $($arg),*))
            }
        }
    };
}

graph_fn_arity!();
graph_fn_arity!(a: A);
graph_fn_arity!(a: A, b: B);
graph_fn_arity!(a: A, b: B, c: C);
graph_fn_arity!(a: A, b: B, c: C, d: D);
graph_fn_arity!(a: A, b: B, c: C, d: D, e: E);
graph_fn_arity!(a: A, b: B, c: C, d: D, e: E, g: G);
graph_fn_arity!(a: A, b: B, c: C, d: D, e: E, g: G, h: H);
graph_fn_arity!(a: A, b: B, c: C, d: D, e: E, g: G, h: H, i: I);
