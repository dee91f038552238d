//! The persistent DAG behind [`Delayed`](crate::Delayed) handles.
//!
//! A node owns its inputs by `Arc`, so graphs combine by sharing handles and a
//! subgraph lives as long as some handle reaches it. Nodes are immutable once
//! built; running a graph never changes them, so it can run again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use smallvec::SmallVec;

use super::hints::Hints;
use crate::task::{Op, ValueType};
use crate::Key;

/// A node's inputs: up to two inline (an elementwise pair, a chain), so most
/// nodes need no allocation of their own for them.
pub(crate) type Inputs = SmallVec<[Arc<Node>; 2]>;

pub(crate) struct Node {
    /// Unique for the life of the process: identifies shared subgraphs.
    pub(crate) id: u64,
    pub(crate) key: Key,
    pub(crate) inputs: Inputs,
    pub(crate) op: Op,
    /// Cheap to recompute: a copy may run next to each consumer instead of
    /// one result being held for all of them.
    pub(crate) recompute: bool,
    /// The type of the value the node produces (for backends that must
    /// serialize it, see [`WireGraph`](crate::WireGraph)); a function pointer keeps
    /// the node one word larger only.
    pub(crate) ty: fn() -> ValueType,
    /// Declarations for distributed backends (see [`hints`](super::hints));
    /// `None` for most tasks.
    pub(crate) hints: Option<Box<Hints>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl Node {
    pub(crate) fn new(key: Key, inputs: Inputs, op: Op, ty: fn() -> ValueType) -> Node {
        Node {
            id: next_id(),
            key,
            inputs,
            op,
            recompute: false,
            ty,
            hints: None,
        }
    }
}

impl Drop for Node {
    // A chain of a million lazy calls must not overflow the stack when its last
    // handle goes: unlink inputs iteratively instead of recursing through Arc drops.
    fn drop(&mut self) {
        if self.inputs.is_empty() {
            return;
        }
        // Inline for the usual few: dropping a node allocates nothing.
        let mut stack: SmallVec<[Arc<Node>; 8]> =
            std::mem::take(&mut self.inputs).into_iter().collect();
        while let Some(node) = stack.pop() {
            if let Ok(mut inner) = Arc::try_unwrap(node) {
                stack.extend(std::mem::take(&mut inner.inputs));
            }
        }
    }
}
