//! `Client::compute`: a task graph of [`Delayed`](crate::Delayed) handles
//! (or anything [`Computable`]) submitted to the client, one client task per
//! scheduling unit, as Dask submits a graph to its scheduler.
//!
//! The graph is culled and fused exactly as [`Plan`](crate::Plan) does for
//! the schedulers; each unit (a task, or a fused chain) becomes a task of the
//! client's table that waits for its input units, so the graph's tasks share
//! the client's workers with everything else submitted.

use std::sync::Arc;

use super::state::{Fault, RunFn, Task, TaskRef};
use crate::compute::{Computable, Outputs, Results};
use crate::diagnostics::Hooks;
use crate::graph::node::Node;
use crate::plan::build::Arena;
use crate::plan::fuse::Units;
use crate::task::lock;
use crate::task::{run_op, Args, Op, Value};
use crate::{Key, TaskError};

/// Builds the client tasks of `what`'s graph; returns the task that hands
/// back `what`'s output and the tasks that are ready to queue.
pub(crate) fn submit_graph<C>(what: C) -> (TaskRef, Vec<Arc<Task>>)
where
    C: Computable + Send + 'static,
    C::Output: Send + Sync + 'static,
{
    let mut outputs = Outputs::default();
    what.collect(&mut outputs);
    let arena = Arena::build(&outputs.0);
    let units = Units::build(&arena, true);
    // One computation for the diagnostics callbacks active here: its start
    // now, its end when the result task settles.
    let hooks = Hooks::capture();
    hooks.start(units.len());
    hooks.graph(|| {
        // By unit: a fused chain runs (and is reported) as its last task.
        let keys: Vec<&Key> = (0..units.len())
            .filter_map(|u| units.tasks(u).last().map(|t| &arena.nodes[t].key))
            .collect();
        let mut output = vec![false; units.len()];
        for &o in &arena.outputs {
            output[units.unit_of[o as usize] as usize] = true;
        }
        crate::diagnostics::GraphSummary::from_tasks(
            keys.into_iter().zip(output),
            (0..units.len()).flat_map(|u| units.deps.row(u).iter().map(move |&d| (d as usize, u))),
        )
    });
    let mut ready = Vec::new();
    let mut unit_tasks: Vec<TaskRef> = Vec::with_capacity(units.len());
    for u in 0..units.len() {
        let nodes: Vec<Arc<Node>> = units.tasks(u).map(|t| arena.nodes[t].clone()).collect();
        let key = nodes
            .last()
            .map_or_else(|| Key::new("unit").with_index(u as u64), |n| n.key.clone());
        let task = Task::pending_with(key, run_unit(nodes), hooks.clone());
        // Held by the graph until every unit is registered.
        let held = task.acquire();
        let inputs = units
            .deps
            .row(u)
            .iter()
            .map(|&d| unit_tasks[d as usize].clone())
            .collect();
        ready.extend(task.register(inputs));
        unit_tasks.push(held);
    }
    let inputs: Vec<TaskRef> = arena
        .outputs
        .iter()
        .map(|&o| unit_tasks[units.unit_of[o as usize] as usize].clone())
        .collect();
    let finish: RunFn = Box::new(move |values: Vec<Value>| {
        let out = what
            .extract(&mut Results(values.into_iter()))
            .map_err(|e| Fault::from(TaskError::failed(e)))?;
        Ok(Arc::new(out) as Value)
    });
    // Not reported as a task: it only assembles the outputs.
    let result = Task::pending_with(
        Key::new("compute").with_index(next_compute()),
        finish,
        Hooks::default(),
    );
    lock(&result.inner).finish_hooks = Some(hooks);
    let handle = result.acquire();
    ready.extend(result.register(inputs));
    // Units nothing waits for any more (none, normally) are released here.
    drop(unit_tasks);
    (handle, ready)
}

fn next_compute() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The function of one unit: its tasks in order, the first taking the
/// unit's inputs, each next one the value of the one before (what the
/// schedulers' `RunState::execute` does).
fn run_unit(nodes: Vec<Arc<Node>>) -> RunFn {
    Box::new(move |values: Vec<Value>| {
        let mut inputs = Some(values);
        let mut carry: Option<Value> = None;
        for node in &nodes {
            let mut args = Args::new();
            if let Op::Call(_) = node.op {
                match carry.take() {
                    Some(prev) => args.push(prev),
                    None => args = inputs.take().unwrap_or_default().into_iter().collect(),
                }
            }
            match run_op(&node.op, &mut args) {
                Ok(v) => carry = Some(v),
                Err(cause) => {
                    return Err(Fault {
                        key: Some(node.key.clone()),
                        cause,
                    })
                }
            }
        }
        carry.ok_or_else(|| Fault::from(TaskError::Panicked("an empty unit".into())))
    })
}
