//! What the workers do for the dashboard: per task, push a record into
//! their own slot; nothing else. The aggregator thread drains the slots
//! every interval (see [`state`](super::state)).
//!
//! Each slot sits on its own cache lines behind its own lock, which only
//! its worker and, once per interval, the aggregator take: uncontended,
//! so the cost per task is two lock round trips and two key clones (a
//! static name is copied, a shared one bumps a reference count).

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use crate::Key;

/// Slots per dashboard; workers beyond share them (still correct: each is
/// behind its own lock).
pub(super) const SLOTS: usize = 64;

/// One finished task, as the aggregator reads it.
pub(super) struct Record {
    pub(super) key: Key,
    pub(super) worker: usize,
    pub(super) start: Instant,
    pub(super) end: Instant,
    pub(super) failed: bool,
}

#[derive(Default)]
pub(super) struct SlotData {
    /// Tasks started and not yet ended, with their worker.
    pub(super) running: Vec<(usize, Key)>,
    /// Tasks ended since the last drain.
    pub(super) done: Vec<Record>,
}

#[repr(align(128))]
#[derive(Default)]
pub(super) struct Slot(Mutex<SlotData>);

impl Slot {
    pub(super) fn lock(&self) -> MutexGuard<'_, SlotData> {
        // Nothing panics while a slot is held: a poisoned one holds whole
        // records.
        match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The slots of one dashboard (or of one cluster process's collector).
pub(super) struct Slots(Box<[Slot]>);

impl Default for Slots {
    fn default() -> Slots {
        Slots((0..SLOTS).map(|_| Slot::default()).collect())
    }
}

impl Slots {
    #[inline]
    pub(super) fn started(&self, key: &Key, worker: usize) {
        self.0[worker % SLOTS]
            .lock()
            .running
            .push((worker, key.clone()));
    }

    #[inline]
    pub(super) fn ended(
        &self,
        key: &Key,
        worker: usize,
        start: Instant,
        end: Instant,
        failed: bool,
    ) {
        let mut slot = self.0[worker % SLOTS].lock();
        // The task that ended is almost always the last one started here.
        if let Some(i) = slot
            .running
            .iter()
            .rposition(|(w, k)| *w == worker && k == key)
        {
            slot.running.swap_remove(i);
        }
        slot.done.push(Record {
            key: key.clone(),
            worker,
            start,
            end,
            failed,
        });
    }

    /// Moves every slot's finished records into `into` (whose buffers are
    /// handed back to the workers, so that neither side reallocates in the
    /// steady state) and copies the running tasks into `running`.
    pub(super) fn drain(
        &self,
        spare: &mut Vec<Record>,
        into: &mut Vec<Record>,
        running: &mut Vec<(usize, Key)>,
    ) {
        running.clear();
        for slot in self.0.iter() {
            let mut s = slot.lock();
            running.extend(s.running.iter().cloned());
            if s.done.is_empty() {
                continue;
            }
            spare.clear();
            std::mem::swap(&mut s.done, spare);
            drop(s);
            into.append(spare);
        }
    }
}
