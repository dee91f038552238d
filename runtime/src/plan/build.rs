//! From output handles to an arena: culling and a subtree-first task order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::graph::node::Node;

/// Rows of indices stored back to back (compressed sparse rows).
#[derive(Default, Clone)]
pub(crate) struct Csr {
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Csr {
    pub(crate) fn from_rows<I: IntoIterator<Item = u32>>(rows: impl Iterator<Item = I>) -> Csr {
        let mut csr = Csr {
            start: vec![0],
            items: Vec::new(),
        };
        for row in rows {
            csr.items.extend(row);
            csr.start.push(csr.items.len() as u32);
        }
        csr
    }

    /// Appends one row.
    pub(crate) fn push_row(&mut self, row: impl IntoIterator<Item = u32>) {
        self.items.extend(row);
        self.start.push(self.items.len() as u32);
    }

    pub(crate) fn row(&self, i: usize) -> &[u32] {
        &self.items[self.start[i] as usize..self.start[i + 1] as usize]
    }

    pub(crate) fn rows(&self) -> usize {
        self.start.len() - 1
    }

    /// The reverse relation: row `j` of the result lists every `i` whose row holds `j`.
    pub(crate) fn transpose(&self, n: usize) -> Csr {
        let mut count = vec![0u32; n + 1];
        for &j in &self.items {
            count[j as usize + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut items = vec![0u32; self.items.len()];
        for i in 0..self.rows() {
            for &j in self.row(i) {
                items[fill[j as usize] as usize] = i as u32;
                fill[j as usize] += 1;
            }
        }
        Csr {
            start: count,
            items,
        }
    }
}

/// Node ids are unique counters already: hashing them again is wasted work.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Fibonacci hashing spreads sequential ids over the table's buckets.
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// The tasks that the requested outputs need, each once, in the order a single
/// worker would run them.
pub(crate) struct Arena {
    /// Depth-first post-order from the outputs: every task comes after its
    /// inputs, and a subtree is finished before its next sibling's opens (the
    /// static priority; dask.order aims at the same).
    pub(crate) nodes: Vec<Arc<Node>>,
    /// Inputs of each task as arena indices, in argument order (repeats kept).
    pub(crate) deps: Csr,
    pub(crate) dependents: Csr,
    /// Arena index of each requested output, in request order.
    pub(crate) outputs: Vec<u32>,
}

impl Arena {
    /// The graph by layer, for the diagnostics callbacks that want it.
    pub(crate) fn summary(&self) -> crate::diagnostics::GraphSummary {
        let mut output = vec![false; self.nodes.len()];
        for &o in &self.outputs {
            output[o as usize] = true;
        }
        crate::diagnostics::GraphSummary::from_tasks(
            self.nodes.iter().zip(output).map(|(n, o)| (&n.key, o)),
            (0..self.nodes.len())
                .flat_map(|t| self.deps.row(t).iter().map(move |&d| (d as usize, t))),
        )
    }

    /// Culls to what `roots` need: tasks unreachable from them never enter.
    ///
    /// A recomputable source (a task without inputs marked with
    /// [`TaskBuilder::recomputable`](crate::TaskBuilder::recomputable)) gets
    /// its own copy next to each consumer: recomputing it is cheaper than
    /// holding its result until a distant consumer runs.
    pub(crate) fn build(roots: &[Arc<Node>]) -> Arena {
        let mut index: IdMap<u32> = IdMap::default();
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        // Rows in arena order, written as each node is placed.
        let mut deps = Csr {
            start: vec![0],
            items: Vec::new(),
        };
        // The arena indices of the inputs seen so far of every node on the
        // stack, back to back (a node's run starts at its `start`): no
        // allocation per node.
        let mut seen: Vec<u32> = Vec::new();
        // (node, next input, start of its inputs in `seen`)
        let mut stack: Vec<(&Arc<Node>, usize, usize)> = Vec::new();
        let mut outputs = Vec::with_capacity(roots.len());
        for root in roots {
            if let Some(&i) = index.get(&root.id) {
                outputs.push(i);
                continue;
            }
            stack.push((root, 0, seen.len()));
            while let Some(top) = stack.last_mut() {
                if let Some(input) = top.0.inputs.get(top.1) {
                    top.1 += 1;
                    if input.recompute && input.inputs.is_empty() {
                        seen.push(nodes.len() as u32);
                        nodes.push(input.clone());
                        deps.push_row(std::iter::empty());
                    } else if let Some(&i) = index.get(&input.id) {
                        seen.push(i);
                    } else {
                        // The persistent DAG is acyclic by construction (a node
                        // exists before anything can refer to it), so a node not
                        // yet indexed is not on the stack either.
                        stack.push((input, 0, seen.len()));
                    }
                } else {
                    let Some((node, _, start)) = stack.pop() else {
                        break;
                    };
                    let i = nodes.len() as u32;
                    index.insert(node.id, i);
                    nodes.push(node.clone());
                    deps.push_row(seen.drain(start..));
                    // An input of the node below it on the stack.
                    seen.push(i);
                }
            }
            seen.clear();
            outputs.push(index[&root.id]);
        }
        let dependents = deps.transpose(nodes.len());
        Arena {
            nodes,
            deps,
            dependents,
            outputs,
        }
    }
}
