//! A hash-partition shuffle across the task graph, shared by the collections
//! (`Bag::groupby`; DataFrame `shuffle`, joins, `drop_duplicates`,
//! `sort_values` and `groupby(..).apply`, which build their own split tasks
//! with [`SplitStage`] and [`gather`]).
//!
//! # Shape
//!
//! N input partitions become M output partitions in two stages of tasks:
//!
//! ```text
//!  input 0 ──► split 0 ──┬──────────► gather 0 ──► output 0
//!  input 1 ──► split 1 ──┼──(all N)──► gather 1 ──► output 1
//!    ...        ...      │               ...
//!  input N-1 ► split N-1 ┴──────────► gather M-1 ► output M-1
//! ```
//!
//! * **Split** (one task per input partition): takes its partition by value
//!   and hands each item to [`Buckets::push`] with its bucket (output
//!   partition) number. Buckets live in memory until the task's share of the
//!   memory budget is used up; then the largest buckets are written to spill
//!   files (one per bucket per task, appended to frame by frame) until it is
//!   back well under. The task's result, a [`ShuffleOut`], holds per bucket
//!   the spill file (if any) and the items still in memory.
//! * **Gather** (one task per output partition): borrows every split result
//!   (they are shared by all M gathers, never cloned) and moves bucket `j` out
//!   of each, in input order. [`Gather`] yields the items: for each input,
//!   first the spilled frames, streamed back one frame at a time (the file is
//!   removed as soon as it is read), then the in-memory rest. So items reach
//!   the gather in input-partition order and, within a partition, in their
//!   original order — the shuffle is stable.
//!
//! What a gather makes of its items is the caller's `finish` function:
//! [`hash_shuffle`] collects them into a `Vec`, `Bag::groupby` groups them.
//! What a split does with its input is the caller's `split` function, so a
//! DataFrame can cut each record batch into M sub-batches by row hashes and
//! push sub-batches as items.
//!
//! # Memory
//!
//! `memory_limit` is a byte budget for the whole split stage, divided evenly
//! among the N split tasks. A task counts `capacity × size_of::<T>()` for
//! each bucket's vector plus the heap bytes its caller declares with each
//! item (see [`Buckets::push`]); that is an estimate, exact for plain-data
//! items and for callers that declare heap sizes honestly, and blind to heap
//! memory nobody declares (a `String` item counts 24 bytes unless its caller
//! adds its length). A task spills when its count passes half its share and
//! spills down to a quarter, keeping the other half of the share for the
//! encoding buffer of the bucket being written. So the buckets the split
//! stage holds in memory stay within about `memory_limit`, the one exception
//! being a single item larger than that (spilled as soon as it is pushed).
//! Not counted: the input partition a split task is given (it comes from the
//! task before, whole), and the output partition a gather task builds, which
//! must fit in memory — choose M so that it does.
//!
//! # Files
//!
//! Spill files go to `<spill_dir>/dagwood-spill-<pid>-<n>/` (`spill_dir`
//! defaults to [`std::env::temp_dir`]), a directory made for each run of the
//! shuffle by its first spilling task. Every spill file removes itself when
//! dropped — after its gather read it, or when a failed computation drops
//! the split results it belongs to — and the directory, held by its files
//! through an `Arc`, is removed with everything in it when the last goes.
//! I/O failures are task errors ([`SpillError`]) naming the file.

mod spill;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dagwood_runtime::task::lock;
use dagwood_runtime::{ArgSlot, Delayed, Key, Partitioned, TaskBuilder, TaskError};

pub(crate) use spill::Spill;
use spill::{SpillDir, SpillFile, SpillReader, SpillSpace};
pub use spill::{SpillError, SpillStats};

/// How a shuffle runs.
#[derive(Clone, Debug)]
pub(crate) struct ShuffleOptions {
    /// Number of output partitions (M); at least 1.
    pub(crate) npartitions: usize,
    /// Byte budget of the split stage (see the module docs); `None` never
    /// spills.
    pub(crate) memory_limit: Option<usize>,
    /// Parent of the spill directories; `None`: the system's temporary
    /// directory.
    pub(crate) spill_dir: Option<PathBuf>,
    /// Counters to update with what was spilled.
    pub(crate) stats: Option<Arc<SpillStats>>,
}

impl ShuffleOptions {
    /// `npartitions` outputs, never spilling.
    #[cfg_attr(not(test), allow(dead_code))] // For callers without options of their own.
    pub(crate) fn in_memory(npartitions: usize) -> ShuffleOptions {
        ShuffleOptions {
            npartitions,
            memory_limit: None,
            spill_dir: None,
            stats: None,
        }
    }
}

/// The output partition of an item whose key hashes to `hash`, out of `m`.
///
/// The hash is mixed first (splitmix64's finaliser), so that weak hashes —
/// identity hashes of small integers, say — still spread over all outputs.
pub(crate) fn bucket_of(hash: u64, m: usize) -> usize {
    let mut z = hash;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % m.max(1) as u64) as usize
}

/// Shuffles `inputs` into `options.npartitions` outputs.
///
/// `split(input, i, buckets)` runs once per input partition `i` and pushes
/// its items into `buckets`; `finish(items, j)` runs once per output
/// partition `j` over the items pushed to bucket `j`, in input order.
/// Layer names are `<op>-split-<n>` and `<op>-<n>`.
pub(crate) fn shuffle<I, T, U, S, F>(
    op: &str,
    inputs: &[Delayed<I>],
    options: &ShuffleOptions,
    split: S,
    finish: F,
) -> Vec<Delayed<U>>
where
    I: Clone + Send + Sync + 'static,
    T: Spill + Send + Sync + 'static,
    U: Send + Sync + 'static,
    S: Fn(I, usize, &mut Buckets<T>) -> Result<(), TaskError> + Send + Sync + 'static,
    F: Fn(Gather<T>, usize) -> Result<U, TaskError> + Send + Sync + 'static,
{
    let stage = SplitStage::new(options, inputs.len());
    let split = Arc::new(split);
    let split_layer = crate::keys::layer_name(&format!("{op}-split"));
    let splits: Vec<Delayed<ShuffleOut<T>>> = inputs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut b = TaskBuilder::new("shuffle-split")
                .key(Key::from_name(split_layer.clone()).with_index(i as u64));
            let input = b.input(p);
            let (split, stage) = (split.clone(), stage.clone());
            b.build(move |args| {
                let mut buckets = stage.buckets();
                split(input.take(args)?, i, &mut buckets)?;
                Ok(buckets.finish())
            })
        })
        .collect();
    gather(op, &splits, stage.npartitions(), finish)
}

/// What the split tasks of one shuffle share: the number of buckets, each
/// task's share of the memory budget, and where to spill. For callers that
/// build split tasks themselves (a DataFrame split streams its partition
/// batch by batch through the frame's steps instead of taking it whole);
/// [`shuffle`] is the form for callers with whole partitions.
#[derive(Clone)]
pub(crate) struct SplitStage {
    m: usize,
    budget: Option<usize>,
    space: Arc<SpillSpace>,
}

impl SplitStage {
    /// The split stage of a shuffle of `ninputs` input partitions.
    pub(crate) fn new(options: &ShuffleOptions, ninputs: usize) -> SplitStage {
        SplitStage {
            m: options.npartitions.max(1),
            // Each split task's share of the stage's budget.
            budget: options.memory_limit.map(|b| b / ninputs.max(1)),
            space: Arc::new(SpillSpace::new(
                options.spill_dir.clone(),
                options.stats.clone(),
            )),
        }
    }

    /// Number of output partitions (M).
    pub(crate) fn npartitions(&self) -> usize {
        self.m
    }

    /// Empty buckets for one split task (call once per task run).
    pub(crate) fn buckets<T: Spill>(&self) -> Buckets<T> {
        Buckets::new(self.m, self.budget, self.space.clone())
    }
}

/// The gather stage: one task per output partition `j` in `0..m`, running
/// `finish(items, j)` over bucket `j` of every split result, in input order.
/// The layer name is `<op>-<n>`.
pub(crate) fn gather<T, U, F>(
    op: &str,
    splits: &[Delayed<ShuffleOut<T>>],
    m: usize,
    finish: F,
) -> Vec<Delayed<U>>
where
    T: Spill + Send + Sync + 'static,
    U: Send + Sync + 'static,
    F: Fn(Gather<T>, usize) -> Result<U, TaskError> + Send + Sync + 'static,
{
    let finish = Arc::new(finish);
    let gather_layer = crate::keys::layer_name(op);
    (0..m)
        .map(|j| {
            let mut b = TaskBuilder::new("shuffle-gather")
                .key(Key::from_name(gather_layer.clone()).with_index(j as u64));
            // By reference: all M gathers share each split result. Each reads
            // only bucket j, which is all a cluster sends it.
            let slots: Vec<ArgSlot<ShuffleOut<T>>> =
                splits.iter().map(|s| b.input_part(s, j)).collect();
            let finish = finish.clone();
            b.build(move |args| {
                let mut taken = Vec::with_capacity(slots.len());
                for (i, slot) in slots.iter().enumerate() {
                    taken.push(slot.get(args)?.take(j, i)?);
                }
                finish(Gather::new(taken), j)
            })
        })
        .collect()
}

/// Shuffles partitions of items so that items whose `hash` agree end up in
/// the same output partition, in input order.
#[cfg_attr(not(test), allow(dead_code))] // The plain form of `shuffle`, for DataFrame and tests.
pub(crate) fn hash_shuffle<T, H>(
    op: &str,
    parts: &[Delayed<Vec<T>>],
    hash: H,
    heap_size: Option<fn(&T) -> usize>,
    options: &ShuffleOptions,
) -> Vec<Delayed<Vec<T>>>
where
    T: Spill + Clone + Send + Sync + 'static,
    H: Fn(&T) -> u64 + Send + Sync + 'static,
{
    let m = options.npartitions.max(1);
    shuffle(
        op,
        parts,
        options,
        move |items: Vec<T>, _, buckets: &mut Buckets<T>| {
            for item in items {
                let heap = heap_size.map_or(0, |f| f(&item));
                buckets.push(bucket_of(hash(&item), m), item, heap)?;
            }
            Ok(())
        },
        |items: Gather<T>, _| items.collect_vec(),
    )
}

/// One bucket of one split task: the spilled part (older items) and the
/// part still in memory (newer items).
struct Bucket<T> {
    file: Option<SpillFile>,
    mem: Vec<T>,
}

/// The result of a split task: its M buckets, each taken (moved) by the
/// gather task that reads it.
pub(crate) struct ShuffleOut<T> {
    buckets: Vec<Mutex<Option<Bucket<T>>>>,
}

impl<T> ShuffleOut<T> {
    /// Moves bucket `j` out; `input` names this split for the error message.
    fn take(&self, j: usize, input: usize) -> Result<Bucket<T>, TaskError> {
        let bucket = self.buckets.get(j).and_then(|b| lock(b).take());
        bucket.ok_or_else(|| {
            TaskError::failed(format!(
                "internal error (a dagwood bug): shuffle bucket {j} of split {input} is missing or was already read"
            ))
        })
    }
}

/// On a cluster, a gather task on another process gets only its own bucket
/// of each split result: its items (spilled ones read back first) in
/// `T`'s spill encoding, rebuilt there as a result holding that bucket.
impl<T: Spill + Send + Sync + 'static> Partitioned for ShuffleOut<T> {
    fn encode_part(&self, part: usize, out: &mut Vec<u8>) -> Result<(), TaskError> {
        // Only the gather of `part` reads it, and it runs elsewhere: move it.
        let bucket = self.take(part, 0)?;
        let items = Gather::new(vec![bucket]).collect_vec()?;
        T::encode(&items, out).map_err(|e| {
            TaskError::failed(format!(
                "shuffle bucket {part}: cannot encode items of type {}: {e}",
                std::any::type_name::<T>()
            ))
        })
    }

    fn decode_parts(parts: Vec<(usize, Vec<u8>)>) -> Result<Self, TaskError> {
        let n = parts.iter().map(|(j, _)| j + 1).max().unwrap_or(0);
        let mut buckets: Vec<Mutex<Option<Bucket<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
        for (j, bytes) in parts {
            let mem = T::decode(&bytes).map_err(|e| {
                TaskError::failed(format!(
                    "shuffle bucket {j}: cannot decode items of type {}: {e}",
                    std::any::type_name::<T>()
                ))
            })?;
            buckets[j] = Mutex::new(Some(Bucket { file: None, mem }));
        }
        Ok(ShuffleOut { buckets })
    }
}

/// The buckets a split task fills: in memory within the task's budget,
/// spilled beyond it.
pub(crate) struct Buckets<T> {
    mem: Vec<Vec<T>>,
    /// Heap bytes declared for the items in memory, per bucket.
    heap: Vec<usize>,
    files: Vec<Option<SpillFile>>,
    /// Estimated bytes held in memory by all buckets.
    held: usize,
    budget: Option<usize>,
    space: Arc<SpillSpace>,
    dir: Option<Arc<SpillDir>>,
    /// Unique per task run: names its files apart from those of other runs
    /// sharing the directory.
    run: u64,
    scratch: Vec<u8>,
    checked: bool,
}

impl<T: Spill> Buckets<T> {
    fn new(m: usize, budget: Option<usize>, space: Arc<SpillSpace>) -> Buckets<T> {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        Buckets {
            mem: (0..m).map(|_| Vec::new()).collect(),
            heap: vec![0; m],
            files: (0..m).map(|_| None).collect(),
            held: 0,
            budget,
            space,
            dir: None,
            run: RUNS.fetch_add(1, Ordering::Relaxed),
            scratch: Vec::new(),
            checked: false,
        }
    }

    /// Number of buckets (output partitions).
    #[cfg_attr(not(test), allow(dead_code))] // For split functions that cut batches.
    pub(crate) fn len(&self) -> usize {
        self.mem.len()
    }

    /// Puts `item` into bucket `bucket`. `heap` is the number of bytes the
    /// item owns beyond `size_of::<T>()` (0 if unknown or none), counted
    /// against the memory budget until the item is spilled.
    pub(crate) fn push(&mut self, bucket: usize, item: T, heap: usize) -> Result<(), TaskError> {
        let m = self.mem.len();
        let Some(v) = self.mem.get_mut(bucket) else {
            return Err(TaskError::failed(format!(
                "shuffle: bucket {bucket} is out of range 0..{m}"
            )));
        };
        let before = v.capacity();
        v.push(item);
        let grown = (v.capacity() - before) * std::mem::size_of::<T>();
        self.heap[bucket] += heap;
        self.held += grown + heap;
        if let Some(budget) = self.budget {
            if self.held > budget / 2 {
                self.spill_down_to(budget / 4).map_err(TaskError::failed)?;
            }
        }
        Ok(())
    }

    fn estimate(&self, j: usize) -> usize {
        self.mem[j].capacity() * std::mem::size_of::<T>() + self.heap[j]
    }

    /// Spills the largest buckets until at most `target` bytes are held.
    fn spill_down_to(&mut self, target: usize) -> Result<(), SpillError> {
        while self.held > target {
            let Some(j) = (0..self.mem.len())
                .filter(|&j| !self.mem[j].is_empty())
                .max_by_key(|&j| self.estimate(j))
            else {
                break;
            };
            self.spill(j)?;
        }
        Ok(())
    }

    fn spill(&mut self, j: usize) -> Result<(), SpillError> {
        let file = match &mut self.files[j] {
            Some(f) => f,
            slot => {
                let dir = match &self.dir {
                    Some(d) => d.clone(),
                    None => {
                        let d = self.space.dir()?;
                        self.dir = Some(d.clone());
                        d
                    }
                };
                let name = format!("{}-{j}.spill", self.run);
                slot.insert(SpillFile::create(dir, &name, self.space.stats.clone())?)
            }
        };
        let items = std::mem::take(&mut self.mem[j]);
        self.scratch.clear();
        if !self.checked {
            // Fail here, naming the type, rather than when reading back: a
            // codec may encode what it cannot decode (postcard and
            // serde_json::Value, for one).
            T::encode(&items[..1.min(items.len())], &mut self.scratch)
                .and_then(|()| T::decode(&self.scratch).map(drop))
                .map_err(|e| SpillError::Unsupported {
                    path: file.path().to_path_buf(),
                    type_name: std::any::type_name::<T>(),
                    detail: e.to_string(),
                })?;
            self.checked = true;
            self.scratch.clear();
        }
        T::encode(&items, &mut self.scratch).map_err(|e| SpillError::Unsupported {
            path: file.path().to_path_buf(),
            type_name: std::any::type_name::<T>(),
            detail: e.to_string(),
        })?;
        file.append(&self.scratch, items.len() as u64)?;
        self.held -= items.capacity() * std::mem::size_of::<T>() + self.heap[j];
        self.heap[j] = 0;
        drop(items);
        // The buffer is part of the budget: do not keep a large one around.
        if self.budget.is_some_and(|b| self.scratch.capacity() > b / 2) {
            self.scratch = Vec::new();
        }
        Ok(())
    }

    /// The task's result: the buckets, for the gather tasks to take.
    pub(crate) fn finish(self) -> ShuffleOut<T> {
        let buckets = self
            .mem
            .into_iter()
            .zip(self.files)
            .map(|(mem, file)| Mutex::new(Some(Bucket { file, mem })))
            .collect();
        ShuffleOut { buckets }
    }
}

/// The items of one output partition, in input order: an iterator of
/// `Result<T, SpillError>` that reads spilled frames back as it goes. It
/// stops after the first error.
pub(crate) struct Gather<T> {
    buckets: std::vec::IntoIter<Bucket<T>>,
    reader: Option<SpillReader>,
    /// The in-memory rest of the bucket whose file is being read.
    rest: Option<Vec<T>>,
    current: std::vec::IntoIter<T>,
    buf: Vec<u8>,
    /// Items not yet yielded (for sizing the output).
    remaining: usize,
    failed: bool,
}

impl<T: Spill> Gather<T> {
    fn new(buckets: Vec<Bucket<T>>) -> Gather<T> {
        let remaining = buckets
            .iter()
            .map(|b| b.mem.len() + b.file.as_ref().map_or(0, |f| f.items() as usize))
            .sum();
        Gather {
            buckets: buckets.into_iter(),
            reader: None,
            rest: None,
            current: Vec::new().into_iter(),
            buf: Vec::new(),
            remaining,
            failed: false,
        }
    }

    /// Number of items still to come.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// All the items, in one vector allocated once.
    pub(crate) fn collect_vec(self) -> Result<Vec<T>, TaskError> {
        let mut out = Vec::with_capacity(self.remaining());
        for item in self {
            out.push(item.map_err(TaskError::failed)?);
        }
        Ok(out)
    }

    fn advance(&mut self) -> Result<Option<T>, SpillError> {
        loop {
            if let Some(item) = self.current.next() {
                self.remaining = self.remaining.saturating_sub(1);
                return Ok(Some(item));
            }
            if let Some(reader) = &mut self.reader {
                match reader.next_batch::<T>(&mut self.buf)? {
                    Some(batch) => self.current = batch.into_iter(),
                    None => {
                        // Dropping the reader removes the file: read once, gone.
                        self.reader = None;
                        self.buf = Vec::new();
                        self.current = self.rest.take().unwrap_or_default().into_iter();
                    }
                }
                continue;
            }
            match self.buckets.next() {
                None => return Ok(None),
                Some(Bucket {
                    file: Some(file),
                    mem,
                }) => {
                    self.rest = Some(mem);
                    self.reader = Some(file.into_reader()?);
                }
                Some(Bucket { file: None, mem }) => self.current = mem.into_iter(),
            }
        }
    }
}

impl<T: Spill> Iterator for Gather<T> {
    type Item = Result<T, SpillError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.advance() {
            Ok(item) => item.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagwood_runtime::{compute_all_with, delayed, Scheduler};
    use std::path::Path;

    fn parts(data: &[Vec<u64>]) -> Vec<Delayed<Vec<u64>>> {
        data.iter().map(|p| delayed(p.clone())).collect()
    }

    fn spill_root(tag: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("dagwood-shuffle-unit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    fn files_under(p: &Path) -> usize {
        std::fs::read_dir(p).map_or(0, |rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        files_under(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }

    fn check(data: &[Vec<u64>], options: &ShuffleOptions, scheduler: &Scheduler) -> Vec<Vec<u64>> {
        let m = options.npartitions;
        let out = hash_shuffle("shuffle", &parts(data), |x: &u64| x % 7, None, options);
        assert_eq!(out.len(), m);
        let got = compute_all_with(&out[..], scheduler).expect("shuffle runs");
        // Every item lands in its bucket, in input order.
        for (j, part) in got.iter().enumerate() {
            let want: Vec<u64> = data
                .concat()
                .into_iter()
                .filter(|x| bucket_of(x % 7, m) == j)
                .collect();
            assert_eq!(part, &want, "output partition {j}");
        }
        got
    }

    fn data() -> Vec<Vec<u64>> {
        vec![
            (0..1000).collect(),
            vec![],
            (500..2500).rev().collect(),
            vec![3; 10],
        ]
    }

    #[test]
    fn in_memory_shuffle_is_stable_and_complete() {
        for s in [Scheduler::Sync, Scheduler::threads(3).expect("pool")] {
            for m in [1, 2, 5] {
                check(&data(), &ShuffleOptions::in_memory(m), &s);
            }
        }
    }

    #[test]
    fn spilling_shuffle_gives_the_same_and_cleans_up() {
        let root = spill_root("spill");
        let stats = Arc::new(SpillStats::default());
        let options = ShuffleOptions {
            npartitions: 3,
            memory_limit: Some(4 * 256),
            spill_dir: Some(root.clone()),
            stats: Some(stats.clone()),
        };
        let spilled = check(&data(), &options, &Scheduler::threads(2).expect("pool"));
        assert_eq!(
            spilled,
            check(&data(), &ShuffleOptions::in_memory(3), &Scheduler::Sync)
        );
        assert!(stats.files_written() > 0 && stats.frames_written() > stats.files_written());
        assert_eq!(stats.files_removed(), stats.files_written());
        assert_eq!(files_under(&root), 0);
        assert_eq!(
            std::fs::read_dir(&root).expect("root").count(),
            0,
            "run directory removed"
        );
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn zero_budget_spills_every_item() {
        let root = spill_root("zero");
        let stats = Arc::new(SpillStats::default());
        let options = ShuffleOptions {
            npartitions: 2,
            memory_limit: Some(0),
            spill_dir: Some(root.clone()),
            stats: Some(stats.clone()),
        };
        let d = vec![(0..50).collect::<Vec<u64>>()];
        check(&d, &options, &Scheduler::Sync);
        assert_eq!(stats.items_spilled(), 50);
        assert_eq!(files_under(&root), 0);
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn failure_downstream_still_removes_spill_files() {
        let root = spill_root("fail");
        let options = ShuffleOptions {
            npartitions: 4,
            memory_limit: Some(64),
            spill_dir: Some(root.clone()),
            stats: None,
        };
        // Gather 0 fails: the others' buckets (and their files) are dropped
        // with the failed run.
        let out = shuffle(
            "boom",
            &parts(&data()),
            &options,
            |items: Vec<u64>, _, b: &mut Buckets<u64>| {
                items
                    .into_iter()
                    .try_for_each(|x| b.push(bucket_of(x, b.len()), x, 0))
            },
            |items: Gather<u64>, j| {
                if j == 0 {
                    return Err(TaskError::failed("gather 0 fails"));
                }
                items.collect_vec()
            },
        );
        for s in [Scheduler::Sync, Scheduler::threads(2).expect("pool")] {
            let err = compute_all_with(&out[..], &s).expect_err("fails");
            assert!(err.to_string().contains("gather 0 fails"), "{err}");
            assert_eq!(files_under(&root), 0);
        }
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn unsupported_items_fail_on_first_spill_naming_the_type() {
        let root = spill_root("unsupported");
        let options = ShuffleOptions {
            npartitions: 1,
            memory_limit: Some(0),
            spill_dir: Some(root.clone()),
            stats: None,
        };
        let values = vec![delayed(vec![serde_json::json!({"a": 1})])];
        let out = hash_shuffle("json", &values, |_| 0, None, &options);
        let err =
            compute_all_with(&out[..], &Scheduler::Sync).expect_err("postcard cannot decode Value");
        let msg = err.to_string();
        assert!(
            msg.contains("serde_json") && msg.contains(&root.display().to_string()),
            "{msg}"
        );
        assert_eq!(files_under(&root), 0);
        std::fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn bad_bucket_is_a_task_error() {
        let out = shuffle(
            "bad",
            &parts(&[vec![1]]),
            &ShuffleOptions::in_memory(2),
            |items: Vec<u64>, _, b: &mut Buckets<u64>| {
                items.into_iter().try_for_each(|x| b.push(5, x, 0))
            },
            |items: Gather<u64>, _| items.collect_vec(),
        );
        let err = compute_all_with(&out[..], &Scheduler::Sync).expect_err("out of range");
        assert!(
            err.to_string().contains("bucket 5 is out of range 0..2"),
            "{err}"
        );
    }

    #[test]
    fn bucket_of_spreads_small_hashes() {
        let mut seen = [0usize; 8];
        for h in 0..800 {
            seen[bucket_of(h, 8)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        assert_eq!(bucket_of(12345, 1), 0);
    }
}
