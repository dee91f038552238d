//! What a run sent between workers and processes.

use serde::{Deserialize, Serialize};

/// What one process sent during a run (summed over its workers). Only the
/// encoded task values count, not the few bytes of framing per message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendStats {
    /// Bytes of encoded values sent to workers of other processes (once
    /// per receiving worker).
    pub bytes_sent: u64,
    /// Values (or sets of parts of one value) sent to workers of other
    /// processes.
    pub values_sent: u64,
    /// Bytes of encoded values passed between workers of this process
    /// (serialized too, but they never reach the network).
    pub bytes_sent_within: u64,
    /// Values passed between workers of this process.
    pub values_sent_within: u64,
    /// Tasks run (constants excluded; combines added by regrouping
    /// included).
    pub tasks_run: u64,
}

impl SendStats {
    pub(crate) fn add(&mut self, o: &SendStats) {
        self.bytes_sent += o.bytes_sent;
        self.values_sent += o.values_sent;
        self.bytes_sent_within += o.bytes_sent_within;
        self.values_sent_within += o.values_sent_within;
        self.tasks_run += o.tasks_run;
    }
}

/// What a run sent between processes, from
/// [`Cluster::compute_with_stats`](crate::Cluster::compute_with_stats).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterStats {
    /// This process's figures.
    pub local: SendStats,
    /// Every process's figures, by process index, on process 0 (empty on
    /// the others).
    pub per_process: Vec<SendStats>,
}

impl ClusterStats {
    /// The figures summed over all processes (on process 0; elsewhere
    /// this process's own).
    pub fn total(&self) -> SendStats {
        if self.per_process.is_empty() {
            return self.local;
        }
        let mut t = SendStats::default();
        self.per_process.iter().for_each(|p| t.add(p));
        t
    }
}
