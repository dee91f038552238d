//! A read-only view of a dynamic graph, task by task, for backends that run
//! tasks somewhere else (the cluster backend in `dagwood-cluster`).
//!
//! The local schedulers never use this module. It exposes what a distributed
//! backend needs and nothing more: the culled tasks in a topological order
//! with their keys, inputs and output types ([`WireGraph`]), a way to run one
//! task on input values it gathered itself ([`WireGraph::run`]), and a way to
//! hand the computed outputs back as typed values ([`WireGraph::extract`]).
//! It knows nothing of networks or serialization: a backend keys its codecs
//! by [`ValueType`].

use super::build::Arena;
use crate::compute::{Computable, Outputs, Results};
use crate::graph::hints::{PartCodec, Reduction};
use crate::task::{run_op, Args, Op, Value, ValueType};
use crate::{Error, Key, Result};

/// The culled graph behind some handles, one entry per task, in an order
/// where every task comes after its inputs (the order the `Sync` scheduler
/// runs them in, without fusion). Tasks are named by their position in
/// this order; building it twice from the same handles, or from handles
/// built the same way in another process of the same program, gives the
/// same positions.
///
/// ```
/// use dagwood_runtime::{delayed, WireGraph};
/// let a = delayed(20_i64);
/// let b = a.map("double", |v: &i64| v * 2);
/// let g = WireGraph::new(&b);
/// assert_eq!(g.len(), 2);
/// assert!(g.is_constant(0));
/// assert_eq!(g.inputs(1), &[0]);
/// assert_eq!(g.key(1).name(), "double");
/// // Run task by task, as a backend would, then hand the output back typed.
/// let x = g.run(0, vec![]).unwrap();
/// let y = g.run(1, vec![x]).unwrap();
/// assert_eq!(WireGraph::extract(&b, vec![y]).unwrap(), 40);
/// ```
pub struct WireGraph {
    arena: Arena,
}

impl WireGraph {
    /// Culls and orders the graph behind `what`.
    pub fn new<C: Computable + ?Sized>(what: &C) -> WireGraph {
        let mut outputs = Outputs::default();
        what.collect(&mut outputs);
        WireGraph {
            arena: Arena::build(&outputs.0),
        }
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.arena.nodes.len()
    }

    /// True when there are no tasks (never, for a graph with an output).
    pub fn is_empty(&self) -> bool {
        self.arena.nodes.is_empty()
    }

    /// The key of task `t`.
    ///
    /// # Panics
    /// If `t >= self.len()` (as for all methods taking a task position).
    pub fn key(&self, t: usize) -> &Key {
        &self.arena.nodes[t].key
    }

    /// The inputs of task `t` as task positions, in argument order (an
    /// input used twice appears twice).
    pub fn inputs(&self, t: usize) -> &[u32] {
        self.arena.deps.row(t)
    }

    /// The tasks that take task `t`'s value (once per edge).
    pub fn dependents(&self, t: usize) -> &[u32] {
        self.arena.dependents.row(t)
    }

    /// True when task `t` is a value known when the graph was built
    /// (`delayed(value)`): every process that built the graph holds it, so
    /// it never needs to travel.
    pub fn is_constant(&self, t: usize) -> bool {
        matches!(self.arena.nodes[t].op, Op::Value(_))
    }

    /// The type of task `t`'s value.
    pub fn value_type(&self, t: usize) -> ValueType {
        (self.arena.nodes[t].ty)()
    }

    /// The part of its `k`-th input that task `t` reads, when it reads only
    /// one (see [`TaskBuilder::input_part`](crate::TaskBuilder::input_part));
    /// `None` when it reads the whole value.
    pub fn input_part(&self, t: usize, k: usize) -> Option<u32> {
        let hints = self.arena.nodes[t].hints.as_ref()?;
        hints.parts.get(k).copied().flatten().map(|(p, _)| p)
    }

    /// How task `t`'s value encodes part by part, when some task reads it by
    /// parts (see [`Partitioned`](crate::Partitioned)).
    pub fn part_codec(&self, t: usize) -> Option<PartCodec> {
        self.dependents(t).iter().find_map(|&c| {
            let hints = self.arena.nodes[c as usize].hints.as_ref()?;
            self.inputs(c as usize)
                .iter()
                .zip(hints.parts.iter())
                .find_map(|(&i, p)| {
                    if i as usize == t {
                        p.map(|(_, codec)| codec)
                    } else {
                        None
                    }
                })
        })
    }

    /// Task `t`'s place in a reduction tree, when it declared one (see
    /// [`Combiner`](crate::Combiner)).
    pub fn reduction(&self, t: usize) -> Option<&Reduction> {
        self.arena.nodes[t].hints.as_ref()?.reduction.as_ref()
    }

    /// The estimated work of task `t` relative to others (see
    /// [`TaskBuilder::cost`](crate::TaskBuilder::cost)); 1 when not given.
    pub fn cost(&self, t: usize) -> u64 {
        self.arena.nodes[t]
            .hints
            .as_ref()
            .and_then(|h| h.cost)
            .unwrap_or(1)
    }

    /// The requested outputs as task positions, in request order.
    pub fn outputs(&self) -> &[u32] {
        &self.arena.outputs
    }

    /// Runs task `t` on its input values (in the order of
    /// [`inputs`](Self::inputs)). A task that returns `Err` or panics gives
    /// [`Error::Task`] naming its key.
    pub fn run(&self, t: usize, inputs: Vec<Value>) -> Result<Value> {
        let node = &self.arena.nodes[t];
        let mut args: Args = inputs.into_iter().collect();
        run_op(&node.op, &mut args).map_err(|cause| Error::Task {
            key: node.key.clone(),
            cause,
        })
    }

    /// Turns the values of the outputs (in the order of
    /// [`outputs`](Self::outputs)) into what computing `what` gives.
    pub fn extract<C: Computable + ?Sized>(what: &C, values: Vec<Value>) -> Result<C::Output> {
        what.extract(&mut Results(values.into_iter()))
    }
}
