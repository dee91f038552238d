//! The callback every dashboard (and every cluster process's collector)
//! registers: task events into the slots, computation events into the
//! state.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::collect::{Record, Slots};
use super::state::State;
use crate::diagnostics::{Callback, GraphSummary, TaskEvent};
use crate::{Error, Key};

pub(super) struct Core {
    pub(super) slots: Slots,
    pub(super) state: Mutex<State>,
    /// Ask for the graph's layers (the page draws them; collectors of other
    /// cluster processes leave that to process 0).
    pub(super) wants_graph: bool,
    /// Buffers the aggregator reuses between drains.
    scratch: Mutex<Scratch>,
}

#[derive(Default)]
struct Scratch {
    spare: Vec<Record>,
    records: Vec<Record>,
    running: Vec<(usize, Key)>,
}

impl Core {
    pub(super) fn new(wants_graph: bool) -> Core {
        Core {
            slots: Slots::default(),
            state: Mutex::new(State::new()),
            wants_graph,
            scratch: Mutex::new(Scratch::default()),
        }
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the state with a half-made change
        // that matters: counts are whole numbers, read back as they are.
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Moves the workers' records into the state; returns the state, held.
    pub(super) fn drain(&self) -> MutexGuard<'_, State> {
        let mut scratch = match self.scratch.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Scratch {
            spare,
            records,
            running,
        } = &mut *scratch;
        records.clear();
        self.slots.drain(spare, records, running);
        let mut state = self.state();
        state.absorb(records, running);
        records.clear();
        state
    }
}

impl Callback for Core {
    fn on_start(&self, tasks: usize) {
        // Records of an earlier run still in the slots belong to it.
        let mut state = self.drain();
        state.start(tasks);
    }

    #[inline]
    fn on_task_start(&self, key: &Key, worker: usize) {
        self.slots.started(key, worker);
    }

    #[inline]
    fn on_task_end(&self, event: &TaskEvent<'_>) {
        self.slots.ended(
            event.key,
            event.worker,
            event.start,
            event.end,
            event.failed,
        );
    }

    fn on_finish(&self, error: Option<&Error>) {
        // Drained first: the failing task's record names its key before the
        // error adds its text, and the counts are final when the run ends.
        let mut state = self.drain();
        state.finish(error);
    }

    fn on_graph(&self, graph: &GraphSummary) {
        self.state().graph(graph);
    }

    fn wants_graph(&self) -> bool {
        self.wants_graph
    }
}

/// The dashboards alive in this process, for what arrives from other
/// processes of a cluster.
static LIVE: Mutex<Vec<Weak<Core>>> = Mutex::new(Vec::new());

pub(super) fn register_live(core: &Arc<Core>) {
    let mut live = match LIVE.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(core));
}

pub(super) fn live() -> Vec<Arc<Core>> {
    let live = match LIVE.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    live.iter().filter_map(Weak::upgrade).collect()
}
