//! A fused expression laid out for evaluation: nodes in dependency order,
//! evaluated tile by tile with buffers recycled as soon as their last reader
//! ran, so the working set of a tile stays in cache whatever the expression's
//! length.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use dagwood_runtime::{Args, TaskBuilder, TaskError};

use super::expr::{Buf, Expr, TileCtx};

/// Elements per tile (default). Small enough that a handful of tile buffers
/// of `Complex64` stay in L1/L2, large enough to amortise the per-tile call.
const DEFAULT_TILE: usize = 2048;

static TILE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(DEFAULT_TILE);

/// Sets how many elements a fused expression evaluates at a time (for tuning
/// and for tests that cross tile boundaries). Results never depend on it.
///
/// ```
/// dagwood_collections::array::set_tile_elements(4096);
/// assert_eq!(dagwood_collections::array::tile_elements(), 4096);
/// dagwood_collections::array::set_tile_elements(0); // back to the default
/// ```
pub fn set_tile_elements(n: usize) {
    let n = if n == 0 { DEFAULT_TILE } else { n };
    TILE.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// Elements per tile in fused expressions.
pub fn tile_elements() -> usize {
    TILE.load(std::sync::atomic::Ordering::Relaxed)
}

pub(crate) struct Program {
    nodes: Vec<Arc<Expr>>,
    inputs: Vec<Vec<usize>>,
    leaf_slot: Vec<Option<usize>>,
    /// Node index of each leaf slot.
    leaves: Vec<usize>,
    /// Buffers whose last reader is node `i`.
    frees_after: Vec<Vec<usize>>,
}

impl Program {
    /// Orders the DAG below `root` (each shared node once, each distinct leaf once).
    pub(crate) fn new(root: &Arc<Expr>) -> Program {
        let mut index: HashMap<*const Expr, usize> = HashMap::new();
        let mut leaf_ids: HashMap<(usize, usize), usize> = HashMap::new();
        let mut nodes: Vec<Arc<Expr>> = Vec::new();
        let mut inputs: Vec<Vec<usize>> = Vec::new();
        let mut leaf_slot = Vec::new();
        let mut leaves = Vec::new();
        let mut stack: Vec<(&Arc<Expr>, usize)> = vec![(root, 0)];
        while let Some((node, next)) = stack.last_mut() {
            if let Some(child) = node.inputs.get(*next) {
                *next += 1;
                if !index.contains_key(&Arc::as_ptr(child)) {
                    stack.push((child, 0));
                }
                continue;
            }
            let node = *node;
            stack.pop();
            let ptr = Arc::as_ptr(node);
            if index.contains_key(&ptr) {
                continue;
            }
            // Two leaf nodes over the same source are one input.
            if let Some(src) = node.op.leaf() {
                if let Some(&i) = leaf_ids.get(&src.identity()) {
                    index.insert(ptr, i);
                    continue;
                }
                leaf_ids.insert(src.identity(), nodes.len());
                leaf_slot.push(Some(leaves.len()));
                leaves.push(nodes.len());
            } else {
                leaf_slot.push(None);
            }
            inputs.push(node.inputs.iter().map(|c| index[&Arc::as_ptr(c)]).collect());
            index.insert(ptr, nodes.len());
            nodes.push(node.clone());
        }
        let mut last_reader = vec![usize::MAX; nodes.len()];
        for (i, ins) in inputs.iter().enumerate() {
            for &j in ins {
                last_reader[j] = i;
            }
        }
        let mut frees_after = vec![Vec::new(); nodes.len()];
        for (j, &r) in last_reader.iter().enumerate() {
            if r != usize::MAX {
                frees_after[r].push(j);
            }
        }
        Program {
            nodes,
            inputs,
            leaf_slot,
            leaves,
            frees_after,
        }
    }

    /// A name for the fused task: its distinct operations, in order.
    pub(crate) fn label(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for n in &self.nodes {
            let l = n.op.label();
            if l != "leaf" && !seen.contains(&l) {
                seen.push(l);
            }
        }
        match seen.len() {
            0 => "copy".to_string(),
            1..=3 => seen.join("-"),
            _ => format!("{}-{}-and-{}-more", seen[0], seen[1], seen.len() - 2),
        }
    }

    /// Adds the inputs of output block `out_idx` to a task, in leaf order.
    pub(crate) fn register_inputs(&self, b: &mut TaskBuilder, out_idx: &[usize]) {
        for &n in &self.leaves {
            if let Some(src) = self.nodes[n].op.leaf() {
                src.register(b, out_idx);
            }
        }
    }

    /// Evaluates the block tile by tile, handing each output tile and its
    /// flat start to `sink`.
    pub(crate) fn run<T: 'static>(
        &self,
        args: &Args,
        block_shape: &[usize],
        block_offset: &[usize],
        mut sink: impl FnMut(&[T], usize),
    ) -> Result<(), TaskError> {
        let total: usize = block_shape.iter().product();
        let tile = tile_elements();
        let last = self.nodes.len() - 1;
        let mut bufs: Vec<Option<Buf>> = (0..self.nodes.len()).map(|_| None).collect();
        let mut pool: Vec<(TypeId, Buf)> = Vec::new();
        let mut start = 0;
        while start < total {
            let ctx = TileCtx {
                args,
                block_shape,
                block_offset,
                start,
                len: tile.min(total - start),
            };
            for (i, node) in self.nodes.iter().enumerate() {
                let ty = node.op.out_type();
                let mut out = match pool.iter().position(|(t, _)| *t == ty) {
                    Some(p) => pool.swap_remove(p).1,
                    None => node.op.new_buf(tile),
                };
                node.op
                    .eval(&bufs, &self.inputs[i], self.leaf_slot[i], &ctx, &mut out)?;
                bufs[i] = Some(out);
                for &j in &self.frees_after[i] {
                    if let Some(b) = bufs[j].take() {
                        pool.push((self.nodes[j].op.out_type(), b));
                    }
                }
            }
            let out = bufs[last]
                .take()
                .ok_or_else(|| TaskError::failed("no output tile"))?;
            let typed = out
                .downcast_ref::<Vec<T>>()
                .ok_or_else(|| TaskError::failed("output tile of the wrong type"))?;
            sink(typed, start);
            pool.push((self.nodes[last].op.out_type(), out));
            start += ctx.len;
        }
        Ok(())
    }
}
