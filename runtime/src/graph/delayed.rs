//! Typed handles to graph nodes, and the builder that makes new nodes.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::hints::{Combiner, Hints, PartCodec, Partitioned, Reduction};
use super::node::{next_id, Inputs, Node};
use crate::task::{Args, Op, OpFn, Value, ValueType};
use crate::{BoxError, Key, Result, Scheduler, TaskError};

/// A lazy value of type `T`: a cheap, clonable handle to a node of a task graph.
///
/// Handles are made by [`delayed()`], by the `lazy` form that
/// [`#[delayed]`](../dagwood/attr.delayed.html) adds to a function, by
/// [`TaskBuilder`], and by the collections. Using handles together combines
/// their graphs; nothing runs until [`compute`](Delayed::compute).
///
/// ```
/// use dagwood_runtime::delayed;
/// let x = delayed(20);
/// let y = x.map("double", |v: &i32| v * 2);
/// let z = y.map("inc", |v: &i32| v + 2);
/// assert_eq!(z.compute().unwrap(), 42);
/// ```
pub struct Delayed<T> {
    pub(crate) node: Arc<Node>,
    // fn() -> T: a handle is Send + Sync whatever T is; the value lives in the node.
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed {
            node: self.node.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Delayed<{}>({})",
            std::any::type_name::<T>(),
            self.node.key
        )
    }
}

/// Wraps a value known now as a graph node (Dask's `delayed(value)`).
///
/// ```
/// use dagwood_runtime::delayed;
/// let data = delayed(vec![1, 2, 3]);
/// let total = data.map("sum", |v: &Vec<i32>| v.iter().sum::<i32>());
/// assert_eq!(total.compute().unwrap(), 6);
/// ```
pub fn delayed<T: Send + Sync + 'static>(value: T) -> Delayed<T> {
    let id = next_id();
    Delayed::from_node(Node {
        id,
        key: Key::new("delayed").with_index(id),
        inputs: Inputs::new(),
        op: Op::Value(Arc::new(value)),
        recompute: false,
        ty: ValueType::of::<T>,
        hints: None,
    })
}

impl<T: Send + Sync + 'static> Delayed<T> {
    pub(crate) fn from_node(node: Node) -> Delayed<T> {
        Delayed {
            node: Arc::new(node),
            _type: PhantomData,
        }
    }

    /// The key of the task that produces this value.
    pub fn key(&self) -> &Key {
        &self.node.key
    }

    /// The same value under another key (shown in errors, progress and pictures).
    ///
    /// ```
    /// use dagwood_runtime::{delayed, Key};
    /// let x = delayed(1).map("inc", |v: &i32| v + 1).with_key(Key::new("load").with_index(7));
    /// assert_eq!(x.key().to_string(), r#"("load", 7)"#);
    /// ```
    pub fn with_key(self, key: impl Into<Key>) -> Delayed<T> {
        let key = key.into();
        let mut node = self.node;
        match Arc::get_mut(&mut node) {
            Some(n) => {
                n.key = key;
                Delayed {
                    node,
                    _type: PhantomData,
                }
            }
            // Shared: other handles keep the old key; this one gets a renamed copy
            // that shares inputs and function.
            None => {
                let op = match &node.op {
                    Op::Value(v) => Op::Value(v.clone()),
                    Op::Call(f) => Op::Call(f.clone()),
                };
                let mut copy = Node::new(key, node.inputs.clone(), op, node.ty);
                copy.recompute = node.recompute;
                copy.hints = node.hints.clone();
                Delayed::from_node(copy)
            }
        }
    }

    /// A new lazy value computed from this one by `f` (by reference).
    pub fn map<U, F>(&self, name: &'static str, f: F) -> Delayed<U>
    where
        U: Send + Sync + 'static,
        F: Fn(&T) -> U + Send + Sync + 'static,
    {
        let mut b = TaskBuilder::new(name);
        let x = b.input(self);
        b.build(move |args| Ok(f(x.get(args)?)))
    }

    /// Computes the value with the default scheduler.
    ///
    /// A task that panics or returns `Err` makes this return
    /// [`Error::Task`](crate::Error::Task) naming the task's key.
    pub fn compute(&self) -> Result<T>
    where
        T: Clone,
    {
        crate::compute_all(self)
    }

    /// Computes the value with the given scheduler.
    ///
    /// ```
    /// use dagwood_runtime::{delayed, Scheduler};
    /// let x = delayed(2).map("square", |v: &i32| v * v);
    /// assert_eq!(x.compute_with(&Scheduler::Sync).unwrap(), 4);
    /// ```
    pub fn compute_with(&self, scheduler: &Scheduler) -> Result<T>
    where
        T: Clone,
    {
        crate::compute_all_with(self, scheduler)
    }

    /// The task graph behind this value in Graphviz DOT (fused as it would run).
    pub fn to_dot(&self) -> String {
        crate::plan::dot_of(std::slice::from_ref(&self.node))
    }

    /// Draws the task graph behind this value (fused as it would run): DOT
    /// always, and a picture when `path` ends in a Graphviz format such as
    /// `.svg` or `.png` (Dask's `x.visualize("graph.svg")`). See
    /// [`Plan::visualize`](crate::Plan::visualize).
    ///
    /// ```
    /// use dagwood_runtime::delayed;
    /// let x = delayed(2).map("square", |v: &i32| v * v);
    /// let files = x.visualize(std::env::temp_dir().join("dagwood-doc-delayed.dot")).unwrap();
    /// assert!(std::fs::read_to_string(files.dot).unwrap().contains("square"));
    /// ```
    pub fn visualize(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<crate::diagnostics::GraphFiles> {
        self.visualize_with(path, &crate::diagnostics::VisualizeOptions::default())
    }

    /// [`visualize`](Self::visualize) with options (layer threshold, colours
    /// from a profile, Graphviz program).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::VisualizeOptions;
    /// use dagwood_runtime::delayed;
    /// let x = delayed(2).map("square", |v: &i32| v * v);
    /// let path = std::env::temp_dir().join("dagwood-doc-delayed-layers.dot");
    /// let files = x.visualize_with(&path, &VisualizeOptions::new().max_tasks(0)).unwrap();
    /// assert_eq!(files.layers, Some(2));
    /// ```
    pub fn visualize_with(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &crate::diagnostics::VisualizeOptions<'_>,
    ) -> Result<crate::diagnostics::GraphFiles> {
        crate::plan::view_of(std::slice::from_ref(&self.node)).write(path.as_ref(), options)
    }
}

/// An argument of a lazy call: a plain value captured into the task, or a
/// handle whose node becomes one of the task's inputs.
pub struct Arg<T>(ArgKind<T>);

enum ArgKind<T> {
    Value(T),
    Node(Arc<Node>),
}

/// What a lazy call accepts for a parameter of type `T`: a `T`, a
/// `Delayed<T>`, or a `&Delayed<T>`.
pub trait IntoArg<T> {
    /// Converts into the argument form.
    fn into_arg(self) -> Arg<T>;
}

impl<T> IntoArg<T> for T {
    fn into_arg(self) -> Arg<T> {
        Arg(ArgKind::Value(self))
    }
}

impl<T> IntoArg<T> for Delayed<T> {
    fn into_arg(self) -> Arg<T> {
        Arg(ArgKind::Node(self.node))
    }
}

impl<T> IntoArg<T> for &Delayed<T> {
    fn into_arg(self) -> Arg<T> {
        Arg(ArgKind::Node(self.node.clone()))
    }
}

/// Where a task finds one of its arguments when it runs; see [`TaskBuilder::arg`].
pub struct ArgSlot<T>(SlotKind<T>);

enum SlotKind<T> {
    Value(T),
    Input(usize),
}

impl<T: Send + Sync + 'static> ArgSlot<T> {
    /// The argument by value: moves the input when this task is its last
    /// consumer, clones it otherwise (and always clones a captured plain
    /// value, since a graph can run more than once).
    pub fn take(&self, args: &mut Args) -> Result<T, TaskError>
    where
        T: Clone,
    {
        match &self.0 {
            SlotKind::Value(v) => Ok(v.clone()),
            SlotKind::Input(i) => args.take(*i),
        }
    }

    /// The argument by reference.
    pub fn get<'a>(&'a self, args: &'a Args) -> Result<&'a T, TaskError> {
        match &self.0 {
            SlotKind::Value(v) => Ok(v),
            SlotKind::Input(i) => args.get(*i),
        }
    }
}

/// Builds one task of a dynamic graph from a function and its arguments.
///
/// This is what `#[delayed]` generates and what the collections use; reach
/// for it to make tasks from closures at run time.
///
/// ```
/// use dagwood_runtime::{delayed, Key, TaskBuilder};
/// let a = delayed(3_i64);
/// let mut b = TaskBuilder::new("add").key(Key::new("add").with_index(0));
/// let x = b.input(&a);           // a graph input
/// let y = b.arg::<i64>(4);      // a plain value, captured
/// let sum = b.build(move |args| Ok(x.take(args)? + y.take(args)?));
/// assert_eq!(sum.key().to_string(), r#"("add", 0)"#);
/// assert_eq!(sum.compute().unwrap(), 7);
/// ```
pub struct TaskBuilder {
    name: &'static str,
    key: Option<Key>,
    inputs: Inputs,
    recompute: bool,
    hints: Hints,
}

impl TaskBuilder {
    /// A task named `name`; its key is `(name, unique id)` unless [`key`](Self::key) sets one.
    pub fn new(name: &'static str) -> TaskBuilder {
        TaskBuilder {
            name,
            key: None,
            inputs: Inputs::new(),
            recompute: false,
            hints: Hints::default(),
        }
    }

    /// Marks a task without inputs as cheap to recompute (a random block, a
    /// generated range): each consumer then gets its own copy, run just
    /// before it, instead of sharing one result that must stay in memory
    /// until the last consumer — Dask's inlining of cheap tasks. Use it only
    /// for deterministic functions. Ignored for tasks with inputs.
    ///
    /// ```
    /// use dagwood_runtime::{compute_all, Plan, TaskBuilder};
    /// let src = TaskBuilder::new("seeded").recomputable().build(|_| Ok(vec![1.0_f64; 1000]));
    /// let a = src.map("sum", |v: &Vec<f64>| v.iter().sum::<f64>());
    /// let b = src.map("len", |v: &Vec<f64>| v.len() as f64);
    /// let both = (&a, &b);
    /// assert_eq!(Plan::new(&both).task_count(), 4); // the source twice
    /// assert_eq!(compute_all(both).unwrap(), (1000.0, 1000.0));
    /// ```
    pub fn recomputable(mut self) -> TaskBuilder {
        self.recompute = true;
        self
    }

    /// Sets the task's key.
    pub fn key(mut self, key: impl Into<Key>) -> TaskBuilder {
        self.key = Some(key.into());
        self
    }

    /// Registers one argument; plain values are captured, handles become inputs.
    pub fn arg<T: Send + Sync + 'static>(&mut self, a: impl IntoArg<T>) -> ArgSlot<T> {
        match a.into_arg().0 {
            ArgKind::Value(v) => ArgSlot(SlotKind::Value(v)),
            ArgKind::Node(n) => {
                self.inputs.push(n);
                ArgSlot(SlotKind::Input(self.inputs.len() - 1))
            }
        }
    }

    /// Registers a handle as an input (like [`arg`](Self::arg), with the type
    /// taken from the handle).
    pub fn input<T: Send + Sync + 'static>(&mut self, d: &Delayed<T>) -> ArgSlot<T> {
        self.arg(d)
    }

    /// Registers a handle as an input of which this task reads only part
    /// `part` (a shuffle's bucket). Locally it is [`input`](Self::input):
    /// the task gets the whole value and picks its part itself; a
    /// distributed backend sends this task's worker only that part (see
    /// [`Partitioned`]).
    ///
    /// ```
    /// use dagwood_runtime::{Partitioned, TaskBuilder, TaskError};
    /// #[derive(Clone)]
    /// struct Halves(Vec<i32>, Vec<i32>);
    /// impl Partitioned for Halves {
    ///     fn encode_part(&self, p: usize, out: &mut Vec<u8>) -> Result<(), TaskError> {
    ///         let h = if p == 0 { &self.0 } else { &self.1 };
    ///         out.extend(h.iter().flat_map(|v| v.to_le_bytes()));
    ///         Ok(())
    ///     }
    ///     fn decode_parts(parts: Vec<(usize, Vec<u8>)>) -> Result<Self, TaskError> {
    ///         let mut h = Halves(vec![], vec![]);
    ///         for (p, b) in parts {
    ///             let v = b.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    ///             if p == 0 { h.0 = v } else { h.1 = v }
    ///         }
    ///         Ok(h)
    ///     }
    /// }
    /// let split = TaskBuilder::new("split").build(|_| Ok(Halves(vec![1, 2], vec![3, 4])));
    /// let mut b = TaskBuilder::new("second");
    /// let h = b.input_part(&split, 1);
    /// let second = b.build(move |args| Ok(h.get(args)?.1.iter().sum::<i32>()));
    /// assert_eq!(second.compute().unwrap(), 7);
    /// ```
    pub fn input_part<T: Partitioned>(&mut self, d: &Delayed<T>, part: usize) -> ArgSlot<T> {
        let slot = self.arg(d);
        let n = self.inputs.len();
        let mut parts = std::mem::take(&mut self.hints.parts).into_vec();
        parts.resize(n, None);
        parts[n - 1] = Some((part as u32, PartCodec::of::<T>()));
        self.hints.parts = parts.into_boxed_slice();
        slot
    }

    /// Declares this task an inner node of a reduction tree: its value is
    /// `combiner` applied to its inputs, partials of type `P` read whole (the
    /// value's type is `P` too). A distributed backend may then regroup the
    /// tree (see [`Combiner`]); local schedulers run the task as built.
    /// [`tree_reduce`](crate::tree_reduce) declares its tasks this way.
    pub fn combines<P: Clone + Send + Sync + 'static>(
        mut self,
        combiner: &Combiner<P>,
    ) -> TaskBuilder {
        self.hints.reduction = Some(Reduction::inner(combiner));
        self
    }

    /// Declares this task the root of a reduction tree: its inputs are
    /// partials of type `P` (read whole) and its value is `finish` of them,
    /// for any number of partials a backend combined them into with
    /// `combiner`. See [`Combiner`] for an example.
    pub fn reduces<P, R>(
        mut self,
        combiner: &Combiner<P>,
        finish: impl Fn(Vec<P>) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> TaskBuilder
    where
        P: Clone + Send + Sync + 'static,
        R: Send + Sync + 'static,
    {
        self.hints.reduction = Some(Reduction::root(combiner, finish));
        self
    }

    /// An estimate of this task's work relative to other tasks (1 when not
    /// given): a distributed backend balances its placement by it (the
    /// bytes of a file block, the elements of a chunk). Local schedulers
    /// ignore it.
    ///
    /// ```
    /// use dagwood_runtime::{TaskBuilder, WireGraph};
    /// let big = TaskBuilder::new("read").cost(64 << 20).build(|_| Ok(1));
    /// assert_eq!(WireGraph::new(&big).cost(0), 64 << 20);
    /// ```
    pub fn cost(mut self, cost: u64) -> TaskBuilder {
        self.set_cost(cost);
        self
    }

    /// [`cost`](Self::cost) for code that holds the builder by reference.
    pub fn set_cost(&mut self, cost: u64) {
        self.hints.cost = Some(cost);
    }

    /// Registers many handles of one type (for example the inputs of a reduction).
    pub fn args<T: Send + Sync + 'static>(
        &mut self,
        items: impl IntoIterator<Item = Delayed<T>>,
    ) -> Vec<ArgSlot<T>> {
        items.into_iter().map(|d| self.arg(d)).collect()
    }

    /// Finishes the task; `f` computes its value from the arguments.
    pub fn build<R, F>(self, f: F) -> Delayed<R>
    where
        R: Send + Sync + 'static,
        F: Fn(&mut Args) -> Result<R, TaskError> + Send + Sync + 'static,
    {
        self.finish(Arc::new(move |args: &mut Args| {
            f(args).map(|r| Arc::new(r) as Value)
        }))
    }

    /// Finishes a task whose function returns `Result<R, E>`: an `Err` fails
    /// the computation, naming this task's key.
    pub fn build_result<R, E, F>(self, f: F) -> Delayed<R>
    where
        R: Send + Sync + 'static,
        E: Into<BoxError>,
        F: Fn(&mut Args) -> Result<std::result::Result<R, E>, TaskError> + Send + Sync + 'static,
    {
        self.finish(Arc::new(move |args: &mut Args| match f(args)? {
            Ok(r) => Ok(Arc::new(r) as Value),
            Err(e) => Err(TaskError::Failed(e.into())),
        }))
    }

    fn finish<R: Send + Sync + 'static>(self, op: Arc<OpFn>) -> Delayed<R> {
        let id = next_id();
        let ninputs = self.inputs.len();
        let key = self
            .key
            .unwrap_or_else(|| Key::new(self.name).with_index(id));
        Delayed::from_node(Node {
            id,
            key,
            inputs: self.inputs,
            op: Op::Call(op),
            recompute: self.recompute,
            ty: ValueType::of::<R>,
            hints: {
                let mut h = self.hints;
                if !h.parts.is_empty() {
                    // Inputs registered after the last part-read input.
                    let mut parts = std::mem::take(&mut h.parts).into_vec();
                    parts.resize(ninputs, None);
                    h.parts = parts.into_boxed_slice();
                }
                (!h.parts.is_empty() || h.reduction.is_some() || h.cost.is_some())
                    .then(|| Box::new(h))
            },
        })
    }
}
