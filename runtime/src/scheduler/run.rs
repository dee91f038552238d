//! What every scheduler does per unit: gather inputs, run the tasks, catch
//! failures, hand the result on and release inputs after their last use.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

use crate::diagnostics::{observe, Hooks};
use crate::plan::build::Arena;
use crate::plan::fuse::Units;
use crate::task::{drop_caught, lock, run_op, Args, Op, Value};
use crate::{Error, TaskError};

/// A unit's result waiting for its consumers.
struct Slot {
    value: Mutex<Option<Value>>,
    /// Shares not yet handed out; the last one moves the value out of the slot,
    /// so memory is released the moment the last consumer has its inputs.
    shares: AtomicU32,
}

pub(crate) struct RunState<'p> {
    pub(crate) arena: &'p Arena,
    pub(crate) units: &'p Units,
    pending: Vec<AtomicU32>,
    slots: Vec<Slot>,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
    hooks: Hooks,
    /// The run reports its start and finish to `hooks` (false for a run
    /// inside a static graph's, which reports them itself).
    owns_hooks: bool,
}

impl<'p> RunState<'p> {
    pub(crate) fn new(arena: &'p Arena, units: &'p Units) -> RunState<'p> {
        let hooks = Hooks::capture();
        hooks.start(arena.nodes.len());
        hooks.graph(|| arena.summary());
        RunState::build(arena, units, hooks, true)
    }

    /// A run inside a running static graph, reporting to its callbacks.
    pub(crate) fn inside(arena: &'p Arena, units: &'p Units, hooks: Hooks) -> RunState<'p> {
        hooks.add(arena.nodes.len());
        RunState::build(arena, units, hooks, false)
    }

    fn build(arena: &'p Arena, units: &'p Units, hooks: Hooks, owns_hooks: bool) -> RunState<'p> {
        let n = units.len();
        RunState {
            arena,
            units,
            pending: (0..n)
                .map(|u| AtomicU32::new(units.deps.row(u).len() as u32))
                .collect(),
            slots: (0..n)
                .map(|u| Slot {
                    value: Mutex::new(None),
                    shares: AtomicU32::new(units.shares[u]),
                })
                .collect(),
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            hooks,
            owns_hooks,
        }
    }

    /// Units with no inputs, in priority order.
    pub(crate) fn initial(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        (0..self.units.len()).filter(|&u| self.units.deps.row(u).is_empty())
    }

    pub(crate) fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Runs unit `u`; returns false if it (or an earlier task) failed.
    pub(crate) fn execute(&self, u: usize) -> bool {
        let mut carry: Option<Value> = None;
        for t in self.units.tasks(u) {
            // No task starts once a failure has been seen.
            if self.has_failed() {
                return false;
            }
            let node = &self.arena.nodes[t];
            let mut args = Args::new();
            if let Op::Call(_) = node.op {
                match carry.take() {
                    // Inside a fused chain the only input is the previous task's value.
                    Some(prev) => args.push(prev),
                    None => {
                        for &d in self.units.deps.row(u) {
                            args.push(self.share(d as usize));
                        }
                    }
                }
            }
            let value = observe(
                &self.hooks,
                || &node.key,
                |r: &Result<Value, TaskError>| r.is_err(),
                || run_op(&node.op, &mut args),
            );
            // A callback that panicked stops the run like a failed task.
            if let Some(e) = self.hooks.fault() {
                self.fail(e);
                return false;
            }
            match value {
                Ok(v) => carry = Some(v),
                Err(cause) => {
                    self.fail(Error::Task {
                        key: node.key.clone(),
                        cause,
                    });
                    return false;
                }
            }
        }
        if self.units.shares[u] > 0 {
            *lock(&self.slots[u].value) = carry;
        } else if let Some(message) = drop_caught(carry) {
            // A value nothing reads: its `Drop` runs here, and may panic.
            let key = self
                .units
                .tasks(u)
                .last()
                .map(|t| self.arena.nodes[t].key.clone());
            self.fail(Error::Task {
                key: key.unwrap_or_else(|| crate::Key::new("unit")),
                cause: TaskError::Panicked(format!("dropping its value: {message}")),
            });
            return false;
        }
        true
    }

    /// Marks `u` done and calls `ready` for each consumer that now has all its inputs.
    pub(crate) fn release_dependents(&self, u: usize, mut ready: impl FnMut(usize)) {
        for &d in self.units.dependents.row(u) {
            if self.pending[d as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
                ready(d as usize);
            }
        }
    }

    /// One share of unit `u`'s result: the last share takes it out of the slot.
    fn share(&self, u: usize) -> Value {
        let mut slot = lock(&self.slots[u].value);
        let last = self.slots[u].shares.fetch_sub(1, Ordering::AcqRel) == 1;
        let value = if last { slot.take() } else { slot.clone() };
        // Every consumer runs after its producer stored the value: present by construction.
        value.unwrap_or_else(|| std::sync::Arc::new(()) as Value)
    }

    fn fail(&self, e: Error) {
        let mut first = lock(&self.error);
        if first.is_none() {
            *first = Some(e);
        }
        self.failed.store(true, Ordering::Relaxed);
    }

    /// The requested outputs, or the first failure.
    pub(crate) fn finish(mut self) -> Result<Vec<Value>, Error> {
        let mut err = lock(&self.error).take();
        if err.is_none() {
            err = self.hooks.fault();
        }
        if self.owns_hooks {
            self.hooks.finish(err.as_ref());
            if err.is_none() {
                err = self.hooks.fault();
            }
        }
        if let Some(e) = err {
            // Values a failed run left behind are dropped here, where a
            // panicking `Drop` cannot turn the `Err` into a panic.
            let _ = drop_caught(std::mem::take(&mut self.slots));
            return Err(e);
        }
        Ok(self
            .arena
            .outputs
            .iter()
            .map(|&o| self.share(self.units.unit_of[o as usize] as usize))
            .collect())
    }
}
