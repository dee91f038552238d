//! `Bag`: a lazy, partitioned collection of ordinary Rust values (Dask's
//! `dask.bag`, PySpark's RDD) — the parallel counterpart of iterator chains.
//!
//! Each partition is a `Vec<T>` made by one task. Per-item operations
//! (`map`, `filter`, `flat_map`, `pluck`, `map_json`, ...) are *streamed*:
//! they add no task of their own but a step to the partition's item stream,
//! and the task that consumes the partition (an aggregation's per-partition
//! step, a write, or the task that collects the partition for `compute`)
//! runs the whole chain item by item — read a line, parse it, filter it,
//! count it — so no intermediate partition is ever held in memory. The
//! lines of [`read_text`] are streamed from the file the same way. Like
//! Spark's narrow transformations, a chain used by two consumers in one
//! computation runs once for each; `Bag::from_delayed(bag.to_delayed())`
//! computes it once and shares the partitions instead. Aggregations are
//! tree reductions.
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
mod numeric;
mod text;
mod transform;

use std::sync::Arc;

use dagwood_runtime::{
    compute_all_with, delayed, Args, Delayed, Plan, Scheduler, TaskBuilder, TaskError,
};

// The bag operations name their layers and partitions with these.
use crate::keys::{layer_name, part_key};
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

/// Where a streamed partition's items go, one at a time, in order. An `Err`
/// stops the stream and fails the consuming task.
pub(crate) type Sink<'a, T> = dyn FnMut(T) -> std::result::Result<(), TaskError> + 'a;

/// Runs inside the task that consumes a partition: feeds the partition's
/// items to the sink.
pub(crate) type Runner<T> =
    Arc<dyn Fn(&mut Args, &mut Sink<'_, T>) -> std::result::Result<(), TaskError> + Send + Sync>;

/// A partition as a stream: registers the partition's inputs (if any) on the
/// builder of the task that consumes it and returns how to run it there.
pub(crate) type Feed<T> = Arc<dyn Fn(&mut TaskBuilder) -> Runner<T> + Send + Sync>;

/// Where the lines of a file go as borrowed text, one at a time.
pub(crate) type LineSink<'a> = dyn FnMut(&str) -> std::result::Result<(), TaskError> + 'a;

/// A `read_text` partition's lines, borrowed from the reader's buffer (for
/// `map_json`, which needs no `String` per line): feeds them to the sink.
pub(crate) type LineFeed =
    Arc<dyn Fn(&mut LineSink<'_>) -> std::result::Result<(), TaskError> + Send + Sync>;

/// A lazy collection of `T` in partitions.
pub struct Bag<T> {
    /// The partitions as tasks. For a streamed bag these collect the stream
    /// into a `Vec`; they run only when something asks for them (`compute`,
    /// `to_delayed`, `zip`, `groupby`, ...).
    parts: Arc<[Delayed<Vec<T>>]>,
    /// The partitions as streams of per-item steps not yet run (`None`: the
    /// items come straight from `parts`).
    feeds: Option<Arc<[Feed<T>]>>,
    /// For a bag straight from `read_text`: its partitions' lines as
    /// borrowed text.
    text: Option<Arc<[LineFeed]>>,
    origin: Option<Arc<[Origin]>>,
}

impl<T> Clone for Bag<T> {
    fn clone(&self) -> Self {
        Bag {
            parts: self.parts.clone(),
            feeds: self.feeds.clone(),
            text: self.text.clone(),
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

impl<T: Item> Bag<T> {
    /// A bag of existing partition tasks (Dask's `from_delayed`).
    pub fn from_delayed(parts: Vec<Delayed<Vec<T>>>) -> Bag<T> {
        Bag {
            parts: parts.into(),
            feeds: None,
            text: None,
            origin: None,
        }
    }

    /// A bag whose partitions are both tasks (`parts`, for consumers that
    /// want whole partitions) and streams (`feeds`, for the others), with
    /// the file and offset each partition starts at.
    pub(crate) fn with_origin(
        parts: Vec<Delayed<Vec<T>>>,
        feeds: Vec<Feed<T>>,
        text: Vec<LineFeed>,
        origin: Vec<Origin>,
    ) -> Bag<T> {
        Bag {
            parts: parts.into(),
            feeds: Some(feeds.into()),
            text: Some(text.into()),
            origin: Some(origin.into()),
        }
    }

    /// A bag of streamed partitions; its `parts` are tasks keyed `(op-N, i)`
    /// that collect each stream into a `Vec`.
    pub(crate) fn streamed(op: &str, feeds: Vec<Feed<T>>) -> Bag<T> {
        let name = layer_name(op);
        let parts = feeds
            .iter()
            .enumerate()
            .map(|(i, feed)| {
                let mut b = TaskBuilder::new("bag-partition").key(part_key(&name, i));
                let run = feed(&mut b);
                b.build(move |args| collect(&run, args))
            })
            .collect();
        Bag {
            parts,
            feeds: Some(feeds.into()),
            text: None,
            origin: None,
        }
    }

    /// Partition `i` as a stream: its feed, or one that takes the
    /// partition's task result (by value when this is its last consumer) and
    /// hands on its items.
    pub(crate) fn feed(&self, i: usize) -> Feed<T> {
        if let Some(feeds) = &self.feeds {
            return feeds[i].clone();
        }
        let part = self.parts[i].clone();
        Arc::new(move |b: &mut TaskBuilder| -> Runner<T> {
            let input = b.input(&part);
            Arc::new(move |args: &mut Args, sink: &mut Sink<'_, T>| {
                input.take(args)?.into_iter().try_for_each(sink)
            })
        })
    }

    /// Adds a per-item step to every partition's stream: `step(p, k, item,
    /// sink)` gets item `k` (0-based, counted before this step) of
    /// partition `p` and passes on any number of items. No task is added;
    /// the step runs inside the task that consumes the result.
    pub(crate) fn then<U: Item>(
        &self,
        op: &str,
        step: impl Fn(usize, usize, T, &mut Sink<'_, U>) -> std::result::Result<(), TaskError>
            + Send
            + Sync
            + 'static,
    ) -> Bag<U> {
        let step = Arc::new(step);
        let feeds = (0..self.npartitions())
            .map(|p| {
                let (up, step) = (self.feed(p), step.clone());
                Arc::new(move |b: &mut TaskBuilder| -> Runner<U> {
                    let (up, step) = (up(b), step.clone());
                    Arc::new(move |args: &mut Args, sink: &mut Sink<'_, U>| {
                        let mut k = 0;
                        up(args, &mut |x| {
                            k += 1;
                            step(p, k - 1, x, sink)
                        })
                    })
                }) as Feed<U>
            })
            .collect();
        Bag::streamed(op, feeds)
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

    pub(crate) fn text(&self) -> Option<&Arc<[LineFeed]>> {
        self.text.as_ref()
    }

    /// A new bag with one task per partition: `f` gets partition `i` by value
    /// (its stream collected in the same task, or the partition's task
    /// result, moved when this is its only consumer) and returns the new
    /// partition.
    pub(crate) fn map_parts<U: Item>(
        &self,
        op: &str,
        f: impl Fn(Vec<T>, usize) -> std::result::Result<Vec<U>, TaskError> + Send + Sync + 'static,
    ) -> Bag<U> {
        let f = Arc::new(f);
        let name = layer_name(op);
        let parts = (0..self.npartitions())
            .map(|i| {
                let mut b = TaskBuilder::new("bag-partition").key(part_key(&name, i));
                let run = self.feed(i)(&mut b);
                let f = f.clone();
                b.build(move |args| f(collect(&run, args)?, i))
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

/// Runs a partition's stream and collects its items.
pub(crate) fn collect<T>(
    run: &Runner<T>,
    args: &mut Args,
) -> std::result::Result<Vec<T>, TaskError> {
    let mut items = Vec::new();
    run(args, &mut |x| {
        items.push(x);
        Ok(())
    })?;
    Ok(items)
}
