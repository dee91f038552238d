//! Linear-chain fusion: a task whose only consumer has no other input runs in
//! the same scheduling unit as that consumer, with no hand-off in between.

use super::build::{Arena, Csr};

/// Scheduling units: runs of consecutive arena tasks executed as one.
pub(crate) struct Units {
    /// Unit `u` holds arena tasks `bounds[u]..bounds[u + 1]`.
    pub(crate) bounds: Vec<u32>,
    pub(crate) unit_of: Vec<u32>,
    /// Units whose results the unit's first task takes, in argument order.
    pub(crate) deps: Csr,
    /// Units that take the unit's result (one entry per edge).
    pub(crate) dependents: Csr,
    /// How many times the unit's result is handed out: consumer edges plus
    /// requested outputs. The holder of the last share may move the value.
    pub(crate) shares: Vec<u32>,
}

impl Units {
    pub(crate) fn build(arena: &Arena, fuse: bool) -> Units {
        let n = arena.nodes.len();
        let mut is_output = vec![0u32; n];
        for &o in &arena.outputs {
            is_output[o as usize] += 1;
        }
        // Post-order puts a chain's tasks next to each other: the consumer's
        // only input finished last, just before the consumer itself.
        let fuses_into_next = |t: usize| {
            fuse && is_output[t] == 0
                && arena.dependents.row(t) == [t as u32 + 1]
                && arena.deps.row(t + 1).len() == 1
        };
        let mut bounds = vec![0u32];
        let mut unit_of = Vec::with_capacity(n);
        for t in 0..n {
            unit_of.push((bounds.len() - 1) as u32);
            if !fuses_into_next(t) {
                bounds.push(t as u32 + 1);
            }
        }
        let units = bounds.len() - 1;
        let head = |u: usize| bounds[u] as usize;
        let tail = |u: usize| bounds[u + 1] as usize - 1;
        let deps = Csr::from_rows(
            (0..units).map(|u| arena.deps.row(head(u)).iter().map(|&d| unit_of[d as usize])),
        );
        let dependents = Csr::from_rows((0..units).map(|u| {
            arena
                .dependents
                .row(tail(u))
                .iter()
                .map(|&d| unit_of[d as usize])
        }));
        let shares = (0..units)
            .map(|u| dependents.row(u).len() as u32 + is_output[tail(u)])
            .collect();
        Units {
            bounds,
            unit_of,
            deps,
            dependents,
            shares,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    pub(crate) fn tasks(&self, u: usize) -> std::ops::Range<usize> {
        self.bounds[u] as usize..self.bounds[u + 1] as usize
    }
}
