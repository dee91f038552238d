//! The single-threaded scheduler: units in priority order on the calling thread.

use super::RunState;

pub(super) fn run(state: &RunState<'_>) {
    // Priority order is a topological order, so every unit's inputs are ready
    // when its turn comes.
    for u in 0..state.units.len() {
        if !state.execute(u) {
            return;
        }
    }
}
