//! `Bag`: a lazy, partitioned collection of ordinary Rust values (Dask's
//! `dask.bag`, PySpark's RDD) — the parallel counterpart of iterator chains.
//!
//! Each partition is a `Vec<T>` made by one task. Per-item operations
//! (`map`, `filter`, `flat_map`, ...) add one task per partition that takes
//! its input partition by value; the runtime fuses each partition's chain of
//! such tasks into one unit, so a pipeline runs partition by partition
//! without scheduling in between. Aggregations are tree reductions.
//!
//! ```
//! use dagwood_collections::bag::Bag;
//! let b = Bag::from_sequence(1..=10_i64, 3).unwrap();
//! let evens_squared = b.filter(|x| x % 2 == 0).map(|x| x * x);
//! assert_eq!(evens_squared.compute().unwrap(), vec![4, 16, 36, 64, 100]);
//! ```

mod aggregate;
mod error;
mod groupby;
mod json;
mod text;
mod transform;

use std::sync::Arc;

use dagwood_runtime::{
    compute_all_with, delayed, Delayed, Key, Plan, Scheduler, TaskBuilder, TaskError,
};

pub use crate::shuffle::{SpillError, SpillStats};
pub use aggregate::{BagReductions, DEFAULT_SPLIT_EVERY};
pub use error::{BagError, Result};
pub use groupby::{GroupbyOptions, DEFAULT_GROUPBY_MEMORY_LIMIT};
pub use text::{read_text, ReadText, DEFAULT_BLOCKSIZE};

/// What a bag can hold: any clonable value that can cross threads.
pub trait Item: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Item for T {}

/// Where a partition's items came from, while they are still one item per
/// line of a file (for errors that name the file and line).
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    /// The file.
    pub(crate) path: Arc<std::path::Path>,
    /// Byte offset of the partition's first line in the (decompressed) file:
    /// its line number is found by counting newlines before it, and only
    /// when an error needs it.
    pub(crate) start: u64,
}

/// A lazy collection of `T` in partitions.
pub struct Bag<T> {
    parts: Arc<[Delayed<Vec<T>>]>,
    origin: Option<Arc<[Origin]>>,
}

impl<T> Clone for Bag<T> {
    fn clone(&self) -> Self {
        Bag {
            parts: self.parts.clone(),
            origin: self.origin.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Bag<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Bag<{}>({} partitions)",
            std::any::type_name::<T>(),
            self.parts.len()
        )
    }
}

/// A layer name like `map-17`: the operation plus a unique number.
pub(crate) fn layer_name(op: &str) -> Arc<str> {
    crate::array::layer_name(op)
}

/// The key of partition `i` of a layer: `("map-17", i)`.
pub(crate) fn part_key(layer: &Arc<str>, i: usize) -> Key {
    Key::from_name(layer.clone()).with_index(i as u64)
}

impl<T: Item> Bag<T> {
    /// A bag of existing partition tasks (Dask's `from_delayed`).
    pub fn from_delayed(parts: Vec<Delayed<Vec<T>>>) -> Bag<T> {
        Bag {
            parts: parts.into(),
            origin: None,
        }
    }

    pub(crate) fn with_origin(parts: Vec<Delayed<Vec<T>>>, origin: Vec<Origin>) -> Bag<T> {
        Bag {
            parts: parts.into(),
            origin: Some(origin.into()),
        }
    }

    /// Cuts `items` into `npartitions` partitions of nearly equal length
    /// (Dask's `from_sequence`).
    pub fn from_sequence(items: impl IntoIterator<Item = T>, npartitions: usize) -> Result<Bag<T>> {
        if npartitions == 0 {
            return Err(BagError::Invalid(
                "from_sequence: npartitions must be at least 1".into(),
            ));
        }
        let items: Vec<T> = items.into_iter().collect();
        let (n, k) = (items.len(), npartitions);
        let mut it = items.into_iter();
        let parts = (0..k)
            .map(|i| {
                let len = n / k + usize::from(i < n % k);
                delayed(it.by_ref().take(len).collect::<Vec<T>>())
            })
            .collect();
        Ok(Bag::from_delayed(parts))
    }

    /// Number of partitions.
    pub fn npartitions(&self) -> usize {
        self.parts.len()
    }

    /// The partition tasks (Dask's `to_delayed`).
    pub fn to_delayed(&self) -> Vec<Delayed<Vec<T>>> {
        self.parts.to_vec()
    }

    pub(crate) fn parts(&self) -> &Arc<[Delayed<Vec<T>>]> {
        &self.parts
    }

    pub(crate) fn origin(&self) -> Option<&Arc<[Origin]>> {
        self.origin.as_ref()
    }

    /// A new bag with one task per partition: `f` gets partition `i` by value
    /// (moved when this is its only consumer) and returns the new partition.
    pub(crate) fn map_parts<U: Item>(
        &self,
        op: &str,
        f: impl Fn(Vec<T>, usize) -> std::result::Result<Vec<U>, TaskError> + Send + Sync + 'static,
    ) -> Bag<U> {
        let f = Arc::new(f);
        let name = layer_name(op);
        let parts = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut b = TaskBuilder::new("bag-partition").key(part_key(&name, i));
                let input = b.input(p);
                let f = f.clone();
                b.build(move |args| f(input.take(args)?, i))
            })
            .collect();
        Bag::from_delayed(parts)
    }

    /// Computes every item, in partition order, with the default scheduler.
    pub fn compute(&self) -> Result<Vec<T>> {
        self.compute_with(&Scheduler::current())
    }

    /// Computes every item with `scheduler`.
    pub fn compute_with(&self, scheduler: &Scheduler) -> Result<Vec<T>> {
        let parts = compute_all_with(&self.parts[..], scheduler)?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Number of tasks in the bag's graph (before the runtime fuses chains).
    pub fn task_count(&self) -> usize {
        Plan::new(&self.parts[..]).task_count()
    }

    /// The task graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        Plan::new(&self.parts[..]).to_dot()
    }
}
