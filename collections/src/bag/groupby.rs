//! `groupby`: all items with equal keys brought together by a hash shuffle
//! across partitions, spilling to disk past a memory limit.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Bag, BagError, Item, Result};
use crate::shuffle::{bucket_of, shuffle, Buckets, Gather, ShuffleOptions, SpillStats};

/// The split stage's memory budget when [`GroupbyOptions::memory_limit`] is
/// `None`: 1 GiB (estimated as described there).
pub const DEFAULT_GROUPBY_MEMORY_LIMIT: usize = 1 << 30;

/// Options of [`Bag::groupby_with`].
///
/// ```
/// use dagwood_collections::bag::{Bag, GroupbyOptions};
/// let b = Bag::from_sequence(0..100_u32, 4).unwrap();
/// let options = GroupbyOptions { npartitions: Some(2), memory_limit: Some(1 << 20), ..Default::default() };
/// let groups = b.groupby_with(|x| x % 3, options).unwrap();
/// assert_eq!(groups.npartitions(), 2);
/// assert_eq!(groups.compute().unwrap().len(), 3);
/// ```
pub struct GroupbyOptions<T> {
    /// Number of output partitions; `None`: as many as the input has.
    /// Each output partition is built in memory, so make them small enough.
    pub npartitions: Option<usize>,
    /// Memory budget in bytes for the items held between the shuffle's two
    /// stages, shared evenly by the input partitions; past it, items are
    /// spilled to disk. `None`: [`DEFAULT_GROUPBY_MEMORY_LIMIT`];
    /// `Some(usize::MAX)`: never spill.
    ///
    /// Held items are counted at `size_of::<(K, T)>()` each (vector capacity
    /// included) plus what [`heap_size`](Self::heap_size) says they own on
    /// the heap. Without `heap_size`, heap data (the text of a `String`, the
    /// elements of a `Vec`) is not counted, and real use can exceed the
    /// budget by that much.
    pub memory_limit: Option<usize>,
    /// Directory under which spill files go (in a fresh
    /// `dagwood-spill-<pid>-<n>` subdirectory per run, removed afterwards);
    /// `None`: [`std::env::temp_dir`].
    pub spill_dir: Option<PathBuf>,
    /// Bytes an item owns on the heap, for the memory estimate (for
    /// `String` items, `|s| s.capacity()`).
    pub heap_size: Option<fn(&T) -> usize>,
    /// Counters to update with what was spilled (files, frames, bytes).
    pub stats: Option<Arc<SpillStats>>,
}

impl<T> Default for GroupbyOptions<T> {
    fn default() -> Self {
        GroupbyOptions {
            npartitions: None,
            memory_limit: None,
            spill_dir: None,
            heap_size: None,
            stats: None,
        }
    }
}

impl<T> Clone for GroupbyOptions<T> {
    fn clone(&self) -> Self {
        GroupbyOptions {
            npartitions: self.npartitions,
            memory_limit: self.memory_limit,
            spill_dir: self.spill_dir.clone(),
            heap_size: self.heap_size,
            stats: self.stats.clone(),
        }
    }
}

impl<T> std::fmt::Debug for GroupbyOptions<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupbyOptions")
            .field("npartitions", &self.npartitions)
            .field("memory_limit", &self.memory_limit)
            .field("spill_dir", &self.spill_dir)
            .field("heap_size", &self.heap_size.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

/// The hash that picks a key's output partition. Every split task must agree
/// on it, so it is `DefaultHasher::new()` (fixed keys), not a `RandomState`.
fn key_hash<K: Hash>(k: &K) -> u64 {
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

impl<T: Item> Bag<T> {
    /// Groups the items by `key` (Dask's `Bag.groupby`): one `(key, items)`
    /// pair per distinct key, found by a hash shuffle across partitions, so
    /// each key's group is whole in one output partition. Output partitions
    /// as many as the input's; the default memory budget
    /// ([`DEFAULT_GROUPBY_MEMORY_LIMIT`]); see [`groupby_with`](Self::groupby_with).
    ///
    /// Within an output partition, groups come in the order their keys first
    /// appear in the bag; within a group, items keep their order in the bag.
    /// Which output partition a key lands in depends on its hash.
    ///
    /// Keys and items must be serde types because the shuffle may write them
    /// to disk when they exceed the memory budget (they are encoded with
    /// postcard, which cannot decode self-describing types such as
    /// `serde_json::Value`: such items fail with an error naming the type
    /// if they have to spill). When aggregating each group to one value,
    /// `foldby` is much cheaper: it needs no shuffle.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let words = ["apple", "bean", "avocado", "beet", "cherry", "banana"].map(String::from);
    /// let b = Bag::from_sequence(words, 3).unwrap();
    /// let mut groups = b.groupby(|w: &String| w.chars().next()).compute().unwrap();
    /// groups.sort();
    /// assert_eq!(groups, vec![
    ///     (Some('a'), vec!["apple".to_string(), "avocado".to_string()]),
    ///     (Some('b'), vec!["bean".to_string(), "beet".to_string(), "banana".to_string()]),
    ///     (Some('c'), vec!["cherry".to_string()]),
    /// ]);
    /// ```
    pub fn groupby<K, F>(&self, key: F) -> Bag<(K, Vec<T>)>
    where
        T: Serialize + DeserializeOwned,
        K: Hash + Eq + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        self.groupby_inner(key, self.npartitions().max(1), GroupbyOptions::default())
    }

    /// [`groupby`](Self::groupby) with the number of output partitions, the
    /// memory budget and the spill directory set by `options`.
    ///
    /// `Err` for `npartitions: Some(0)`; spill-file failures come from
    /// `compute` as task errors naming the file. Spill files are removed as
    /// they are read back, and on failure when the computation stops.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_collections::bag::{Bag, GroupbyOptions, SpillStats};
    /// let b = Bag::from_sequence((0..10_000_u64).map(|i| (i % 10, i)), 4).unwrap();
    /// let stats = Arc::new(SpillStats::default());
    /// let options = GroupbyOptions {
    ///     npartitions: Some(3),
    ///     memory_limit: Some(16 << 10), // 16 KiB: forces spilling
    ///     stats: Some(stats.clone()),
    ///     ..Default::default()
    /// };
    /// let groups = b.groupby_with(|&(k, _)| k, options).unwrap().compute().unwrap();
    /// assert_eq!(groups.len(), 10);
    /// assert!(groups.iter().all(|(_, items)| items.len() == 1000));
    /// assert!(stats.files_written() > 0);
    /// assert_eq!(stats.files_removed(), stats.files_written());
    /// ```
    pub fn groupby_with<K, F>(&self, key: F, options: GroupbyOptions<T>) -> Result<Bag<(K, Vec<T>)>>
    where
        T: Serialize + DeserializeOwned,
        K: Hash + Eq + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        let m = match options.npartitions {
            Some(0) => {
                return Err(BagError::Invalid(
                    "groupby: npartitions must be at least 1".into(),
                ))
            }
            Some(m) => m,
            None => self.npartitions().max(1),
        };
        Ok(self.groupby_inner(key, m, options))
    }

    fn groupby_inner<K, F>(&self, key: F, m: usize, options: GroupbyOptions<T>) -> Bag<(K, Vec<T>)>
    where
        T: Serialize + DeserializeOwned,
        K: Hash + Eq + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        let heap_size = options.heap_size;
        let shuffle_options = ShuffleOptions {
            npartitions: m,
            memory_limit: Some(options.memory_limit.unwrap_or(DEFAULT_GROUPBY_MEMORY_LIMIT)),
            spill_dir: options.spill_dir,
            stats: options.stats,
        };
        // Items travel with their keys, so the key function runs once per
        // item and the gather side needs no access to it.
        let parts = shuffle(
            "groupby",
            &self.parts()[..],
            &shuffle_options,
            move |items: Vec<T>, _, buckets: &mut Buckets<(K, T)>| {
                for item in items {
                    let k = key(&item);
                    let heap = heap_size.map_or(0, |f| f(&item));
                    buckets.push(bucket_of(key_hash(&k), m), (k, item), heap)?;
                }
                Ok(())
            },
            |pairs: Gather<(K, T)>, _| {
                let mut index: HashMap<K, usize> = HashMap::new();
                let mut groups: Vec<(K, Vec<T>)> = Vec::new();
                for pair in pairs {
                    let (k, item) = pair.map_err(dagwood_runtime::TaskError::failed)?;
                    match index.get(&k) {
                        Some(&g) => groups[g].1.push(item),
                        None => {
                            index.insert(k.clone(), groups.len());
                            groups.push((k, vec![item]));
                        }
                    }
                }
                Ok(groups)
            },
        );
        Bag::from_delayed(parts)
    }
}
