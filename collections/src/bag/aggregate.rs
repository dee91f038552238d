//! Aggregations as tree reductions, with no shuffle.
//!
//! Each aggregation runs a per-partition step inside the partition's fused
//! task chain (`name-chunk`, one task per partition), merges the partial
//! results in a tree whose tasks take at most `split_every` inputs
//! (`name-combine`, Dask's name for the fan-in), and finishes with one task
//! (`name`) that turns the merged partial into the answer — or into an error
//! naming what was wrong, such as the `min` of an empty bag.
//!
//! Results that are bags (`frequencies`, `topk`, `foldby`, `distinct`) have
//! one partition, as in Dask.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use dagwood_runtime::{tree_reduce, Args, Delayed, Key, TaskBuilder, TaskError};

use super::{layer_name, part_key, Bag, BagError, Item, Result, Runner, Sink};

/// Fan-in of reduction trees unless set with [`Bag::split_every`].
///
/// ```
/// use dagwood_collections::bag::{Bag, DEFAULT_SPLIT_EVERY};
/// let b = Bag::from_sequence(0..100_i64, 20)?;
/// assert_eq!(DEFAULT_SPLIT_EVERY, 8);
/// assert_eq!(b.split_every(DEFAULT_SPLIT_EVERY).sum()?.compute()?, b.sum()?.compute()?);
/// # Ok::<(), dagwood_collections::bag::BagError>(())
/// ```
pub const DEFAULT_SPLIT_EVERY: usize = 8;

/// Where an item first appeared: (partition, position in it). Ordering by it
/// is ordering by first appearance in the whole bag, whatever order the
/// tree merges partial results in.
type Pos = (usize, usize);

/// Aggregations of a bag with a chosen tree fan-in; see [`Bag::split_every`].
///
/// ```
/// use dagwood_collections::bag::Bag;
/// let b = Bag::from_sequence(1..=100_i64, 16)?;
/// let r = b.split_every(2); // binary trees: more levels, smaller tasks
/// assert_eq!(r.count()?.compute()?, 100);
/// assert_eq!(r.max()?.compute()?, 100);
/// # Ok::<(), dagwood_collections::bag::BagError>(())
/// ```
pub struct BagReductions<'a, T> {
    bag: &'a Bag<T>,
    split_every: usize,
}

impl<T> std::fmt::Debug for BagReductions<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}.split_every({})", self.bag, self.split_every)
    }
}

impl<T: Item> Bag<T> {
    /// Aggregations whose trees merge at most `n` partial results per task
    /// (Dask's `split_every`; the default is [`DEFAULT_SPLIT_EVERY`]). An `n`
    /// below 2 makes every aggregation return an error.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(0..100_i64, 10)?;
    /// assert_eq!(b.split_every(3).sum()?.compute()?, 4950);
    /// assert!(b.split_every(1).sum().is_err());
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn split_every(&self, n: usize) -> BagReductions<'_, T> {
        BagReductions {
            bag: self,
            split_every: n,
        }
    }

    pub(super) fn reductions(&self) -> BagReductions<'_, T> {
        self.split_every(DEFAULT_SPLIT_EVERY)
    }
}

/// An n-ary merge from a binary one. `tree_reduce` never calls a merge with
/// no inputs; `identity` only keeps that case from needing a panic.
pub(super) fn pairwise<A>(
    identity: impl Fn() -> A + Send + Sync + Clone + 'static,
    merge: impl Fn(A, A) -> A + Send + Sync + Clone + 'static,
) -> impl Fn(Vec<A>) -> A + Send + Sync + Clone + 'static {
    move |parts: Vec<A>| parts.into_iter().reduce(&merge).unwrap_or_else(&identity)
}

/// One candidate of `topk`: ordered by key, then earlier first, so ties go
/// to the item that came first and the order is total (positions are unique).
struct Ranked<K, T> {
    key: K,
    pos: Pos,
    item: T,
}

impl<K: Clone, T: Clone> Clone for Ranked<K, T> {
    fn clone(&self) -> Self {
        Ranked {
            key: self.key.clone(),
            pos: self.pos,
            item: self.item.clone(),
        }
    }
}

impl<K: Ord, T> Ord for Ranked<K, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .cmp(&other.key)
            .then_with(|| other.pos.cmp(&self.pos))
    }
}

impl<K: Ord, T> PartialOrd for Ranked<K, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord, T> PartialEq for Ranked<K, T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<K: Ord, T> Eq for Ranked<K, T> {}

/// The `k` greatest of `items`, in no particular order.
fn keep_top<K: Ord, T>(mut items: Vec<Ranked<K, T>>, k: usize) -> Vec<Ranked<K, T>> {
    if items.len() > k {
        if k == 0 {
            return Vec::new();
        }
        // Greatest first: the k greatest end up in front, in linear time.
        items.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        items.truncate(k);
    }
    items
}

/// The items of one partition inside its per-partition step: run through
/// the partition's stream, each item as it is made.
pub(super) struct Items<'a, T> {
    run: &'a Runner<T>,
    args: &'a mut Args,
}

impl<T> Items<'_, T> {
    /// Calls `f` with each item, in order.
    pub(super) fn for_each(self, mut f: impl FnMut(T)) -> std::result::Result<(), TaskError> {
        (self.run)(self.args, &mut |x| {
            f(x);
            Ok(())
        })
    }

    /// All items in a `Vec`.
    pub(super) fn collect(self) -> std::result::Result<Vec<T>, TaskError> {
        super::collect(self.run, self.args)
    }
}

impl<T: Item> BagReductions<'_, T> {
    pub(super) fn check(&self) -> Result<()> {
        if self.split_every < 2 {
            return Err(BagError::Invalid(format!(
                "split_every must be at least 2, got {}",
                self.split_every
            )));
        }
        Ok(())
    }

    /// The tree: `chunk` of every partition (its items as they are made,
    /// with its index), then `combine` of at most `split_every` partials per
    /// task, up to one.
    pub(super) fn tree_items<A: Item>(
        &self,
        name: &Arc<str>,
        chunk: impl Fn(Items<'_, T>, usize) -> std::result::Result<A, TaskError> + Send + Sync + 'static,
        combine: impl Fn(Vec<A>) -> A + Send + Sync + Clone + 'static,
    ) -> Result<Delayed<A>> {
        self.check()?;
        let chunk = Arc::new(chunk);
        let chunk_name: Arc<str> = format!("{name}-chunk").into();
        let mut partials: Vec<Delayed<A>> = (0..self.bag.npartitions())
            .map(|i| {
                let mut b = TaskBuilder::new("bag-reduce").key(part_key(&chunk_name, i));
                // The partition's whole chain of per-item steps runs here.
                let run = self.bag.feed(i)(&mut b);
                let chunk = chunk.clone();
                b.build(move |args| chunk(Items { run: &run, args }, i))
            })
            .collect();
        if partials.is_empty() {
            // A bag with no partitions reduces like one empty partition, so
            // `count` is 0 and `min` says the bag is empty.
            let empty: Runner<T> = Arc::new(|_: &mut Args, _: &mut Sink<'_, T>| Ok(()));
            partials.push(
                TaskBuilder::new("bag-reduce")
                    .key(part_key(&chunk_name, 0))
                    .build(move |args| chunk(Items { run: &empty, args }, 0)),
            );
        }
        Ok(tree_reduce(
            partials,
            self.split_every,
            format!("{name}-combine"),
            combine,
        )?)
    }

    /// [`tree_items`](Self::tree_items) with a `chunk` of whole partitions.
    pub(super) fn tree<A: Item>(
        &self,
        name: &Arc<str>,
        chunk: impl Fn(Vec<T>, usize) -> A + Send + Sync + 'static,
        combine: impl Fn(Vec<A>) -> A + Send + Sync + Clone + 'static,
    ) -> Result<Delayed<A>> {
        self.tree_items(
            name,
            move |items, i| Ok(chunk(items.collect()?, i)),
            combine,
        )
    }

    /// The answer from the merged partial: a scalar keyed `name`.
    pub(super) fn finish<A: Item, X: Item>(
        name: &Arc<str>,
        total: Delayed<A>,
        f: impl Fn(A) -> std::result::Result<X, String> + Send + Sync + 'static,
    ) -> Delayed<X> {
        let mut b = TaskBuilder::new("bag-reduce-finish").key(Key::from_name(name.clone()));
        let acc = b.input(&total);
        b.build(move |args| f(acc.take(args)?).map_err(TaskError::failed))
    }

    /// The answer from the merged partial: a bag of one partition keyed `(name, 0)`.
    pub(super) fn finish_bag<A: Item, X: Item>(
        name: &Arc<str>,
        total: Delayed<A>,
        f: impl Fn(A) -> Vec<X> + Send + Sync + 'static,
    ) -> Bag<X> {
        let mut b = TaskBuilder::new("bag-reduce-finish").key(part_key(name, 0));
        let acc = b.input(&total);
        Bag::from_delayed(vec![b.build(move |args| Ok(f(acc.take(args)?)))])
    }

    /// Dask's `Bag.reduction`: `perpartition` turns each partition into a
    /// partial result, `aggregate` turns a list of partial results (at most
    /// `split_every`, in partition order) into one, at every level of the
    /// tree — so `aggregate` must accept its own outputs.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=10_i64, 5)?;
    /// let longest = b.split_every(2).reduction(
    ///     |part| part.len(),
    ///     |lens| lens.into_iter().max().unwrap_or(0),
    /// )?;
    /// assert_eq!(longest.compute()?, 2);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn reduction<A: Item>(
        &self,
        perpartition: impl Fn(Vec<T>) -> A + Send + Sync + 'static,
        aggregate: impl Fn(Vec<A>) -> A + Send + Sync + 'static,
    ) -> Result<Delayed<A>> {
        let name = layer_name("reduction");
        let aggregate = Arc::new(aggregate);
        let root = self.tree(
            &name,
            move |part, _| perpartition(part),
            move |parts| aggregate(parts),
        )?;
        // The tree's root is the answer; give it the layer's name.
        Ok(root.with_key(Key::from_name(name)))
    }

    /// Dask's `Bag.fold`: each partition is folded with `binop` starting from
    /// `initial`, and the partition results are combined with `combine`
    /// (earlier partitions on the left). `initial` is used once per
    /// partition, so it should be an identity of `binop` (0 for a sum).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let words = Bag::from_sequence(["a", "bb", "ccc"].map(String::from), 2)?;
    /// let letters = words.split_every(2).fold(|n, w: String| n + w.len(), |a, b| a + b, 0)?;
    /// assert_eq!(letters.compute()?, 6);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn fold<A: Item>(
        &self,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
        initial: A,
    ) -> Result<Delayed<A>> {
        let name = layer_name("fold");
        let (init, combine) = (initial.clone(), Arc::new(combine));
        let root = self.tree_items(
            &name,
            move |items, _| {
                // `None` only while the accumulator is moved through `binop`.
                let mut acc = Some(init.clone());
                items.for_each(|x| acc = acc.take().map(|a| binop(a, x)))?;
                Ok(acc.unwrap_or_else(|| init.clone()))
            },
            pairwise(move || initial.clone(), move |a, b| combine(a, b)),
        )?;
        Ok(root.with_key(Key::from_name(name)))
    }

    /// Number of items.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(0..1000_u32, 64)?.filter(|x| x % 7 == 0);
    /// assert_eq!(b.split_every(4).count()?.compute()?, 143);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn count(&self) -> Result<Delayed<usize>> {
        let name = layer_name("count");
        let total = self.tree_items(
            &name,
            |items, _| {
                let mut n = 0;
                items.for_each(|_| n += 1)?;
                Ok(n)
            },
            |counts: Vec<usize>| counts.into_iter().sum(),
        )?;
        Ok(Self::finish(&name, total, Ok))
    }

    /// The distinct items with how often each occurs (Dask's
    /// `frequencies(sort=True)`), as a bag of one partition.
    ///
    /// Order: by count, most frequent first; items with equal counts in the
    /// order of their first appearance in the bag. The order does not depend
    /// on the partitioning, the fan-in or the scheduler.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence("abracadabra".chars(), 3)?;
    /// let f = b.split_every(2).frequencies()?;
    /// assert_eq!(f.compute()?, vec![('a', 5), ('b', 2), ('r', 2), ('c', 1), ('d', 1)]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn frequencies(&self) -> Result<Bag<(T, usize)>>
    where
        T: Hash + Eq,
    {
        let name = layer_name("frequencies");
        let total = self.tree_items(
            &name,
            |items, p| {
                let mut counts: HashMap<T, (usize, Pos)> = HashMap::new();
                let mut i = 0;
                items.for_each(|x| {
                    counts.entry(x).or_insert((0, (p, i))).0 += 1;
                    i += 1;
                })?;
                Ok(counts)
            },
            pairwise(HashMap::new, |a: HashMap<T, (usize, Pos)>, b| {
                // Merge the smaller map into the larger: first appearances
                // are kept by taking the least position, so either way works.
                let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (x, (n, pos)) in small {
                    let e = big.entry(x).or_insert((0, pos));
                    e.0 += n;
                    e.1 = e.1.min(pos);
                }
                big
            }),
        )?;
        Ok(Self::finish_bag(&name, total, |counts| {
            let mut v: Vec<(T, (usize, Pos))> = counts.into_iter().collect();
            v.sort_unstable_by_key(|&(_, (n, pos))| (Reverse(n), pos));
            v.into_iter().map(|(x, (n, _))| (x, n)).collect()
        }))
    }

    /// The `k` items with the largest `key`, largest first (Dask's
    /// `topk(k, key)`), as a bag of one partition. Items with equal keys are
    /// ranked by first appearance, so the result is what a stable sort by
    /// descending key followed by taking `k` items gives.
    ///
    /// Each partition keeps a heap of at most `k` candidates; the tree merges
    /// candidate lists, so memory stays O(k) per task.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let words = Bag::from_sequence(["fig", "banana", "kiwi", "cherry"].map(String::from), 2)?;
    /// let longest = words.split_every(2).topk(2, |w| w.len())?;
    /// assert_eq!(longest.compute()?, vec!["banana", "cherry"]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn topk<K: Ord + Item>(
        &self,
        k: usize,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Result<Bag<T>> {
        let name = layer_name("topk");
        let total = self.tree_items(
            &name,
            move |items, p| {
                // A min-heap of the best k so far: its top is the one to beat.
                let mut heap: BinaryHeap<Reverse<Ranked<K, T>>> = BinaryHeap::new();
                let mut i = 0;
                items.for_each(|item| {
                    let pos = (p, i);
                    i += 1;
                    if k == 0 {
                        return;
                    }
                    let r = Ranked {
                        key: key(&item),
                        pos,
                        item,
                    };
                    if heap.len() < k {
                        heap.push(Reverse(r));
                    } else if let Some(mut worst) = heap.peek_mut() {
                        if r > worst.0 {
                            *worst = Reverse(r);
                        }
                    }
                })?;
                Ok(heap.into_iter().map(|Reverse(r)| r).collect::<Vec<_>>())
            },
            move |lists: Vec<Vec<Ranked<K, T>>>| keep_top(lists.concat(), k),
        )?;
        Ok(Self::finish_bag(
            &name,
            total,
            |mut best: Vec<Ranked<K, T>>| {
                best.sort_unstable_by(|a, b| b.cmp(a));
                best.into_iter().map(|r| r.item).collect()
            },
        ))
    }

    /// Dask's `foldby`: groups items by `key` and folds each group with
    /// `binop` starting from `initial` — per partition in a hash map, then
    /// merging the maps in the tree with `combine` (earlier partitions on
    /// the left). The fast path for a group-and-reduce: nothing is shuffled.
    ///
    /// Returns a bag of one partition of `(key, result)` pairs, keys in the
    /// order of their first appearance. `initial` is used once per key and
    /// partition, so it should be an identity of `binop`.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=10_i64, 4)?;
    /// // Sum of odd and of even numbers.
    /// let sums = b.split_every(2).foldby(|x| x % 2, |acc, x| acc + x, 0, |a, b| a + b)?;
    /// assert_eq!(sums.compute()?, vec![(1, 25), (0, 30)]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn foldby<K: Hash + Eq + Item, A: Item>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        initial: A,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
    ) -> Result<Bag<(K, A)>> {
        let name = layer_name("foldby");
        let combine = Arc::new(combine);
        let total = self.tree_items(
            &name,
            move |items, p| {
                // `None` only while a value is moved through `binop`: the
                // accumulator is moved, never cloned, and `initial` is
                // cloned once per new key.
                let mut groups: HashMap<K, (Option<A>, Pos)> = HashMap::new();
                let mut i = 0;
                items.for_each(|x| {
                    let slot = groups.entry(key(&x)).or_insert((None, (p, i)));
                    let acc = slot.0.take().unwrap_or_else(|| initial.clone());
                    slot.0 = Some(binop(acc, x));
                    i += 1;
                })?;
                Ok(groups)
            },
            pairwise(HashMap::new, move |a: HashMap<K, (Option<A>, Pos)>, b| {
                // Merge the smaller map into the larger, keeping the earlier
                // partitions' values on the left of `combine`.
                let a_first = a.len() >= b.len();
                let (mut big, small) = if a_first { (a, b) } else { (b, a) };
                for (k, (v, pos)) in small {
                    let slot = big.entry(k).or_insert((None, pos));
                    slot.1 = slot.1.min(pos);
                    slot.0 = match (slot.0.take(), v) {
                        (Some(x), Some(y)) if a_first => Some(combine(x, y)),
                        (Some(x), Some(y)) => Some(combine(y, x)),
                        (x, None) => x,
                        (None, y) => y,
                    };
                }
                big
            }),
        )?;
        Ok(Self::finish_bag(&name, total, |groups| {
            let mut v: Vec<(K, (Option<A>, Pos))> = groups.into_iter().collect();
            v.sort_unstable_by_key(|(_, (_, pos))| *pos);
            v.into_iter()
                .filter_map(|(k, (a, _))| a.map(|a| (k, a)))
                .collect()
        }))
    }

    /// The distinct items in the order of their first appearance, as a bag
    /// of one partition (Dask's `distinct`): a hash set per partition, merged
    /// in the tree.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence([3, 1, 3, 2, 1, 4], 3)?;
    /// assert_eq!(b.split_every(2).distinct()?.compute()?, vec![3, 1, 2, 4]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn distinct(&self) -> Result<Bag<T>>
    where
        T: Hash + Eq,
    {
        let name = layer_name("distinct");
        let total = self.tree_items(
            &name,
            |items, p| {
                let mut seen: HashMap<T, Pos> = HashMap::new();
                let mut i = 0;
                items.for_each(|x| {
                    seen.entry(x).or_insert((p, i));
                    i += 1;
                })?;
                Ok(seen)
            },
            pairwise(HashMap::new, |a: HashMap<T, Pos>, b| {
                let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (x, pos) in small {
                    let e = big.entry(x).or_insert(pos);
                    *e = (*e).min(pos);
                }
                big
            }),
        )?;
        Ok(Self::finish_bag(&name, total, |seen| {
            let mut v: Vec<(T, Pos)> = seen.into_iter().collect();
            v.sort_unstable_by_key(|&(_, pos)| pos);
            v.into_iter().map(|(x, _)| x).collect()
        }))
    }
}

impl<T: Item> Bag<T> {
    /// [`BagReductions::reduction`] with fan-in [`DEFAULT_SPLIT_EVERY`].
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=10_i64, 3)?;
    /// let product = b.reduction(|p| p.into_iter().product::<i64>(), |ps| ps.into_iter().product())?;
    /// assert_eq!(product.compute()?, 3_628_800);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn reduction<A: Item>(
        &self,
        perpartition: impl Fn(Vec<T>) -> A + Send + Sync + 'static,
        aggregate: impl Fn(Vec<A>) -> A + Send + Sync + 'static,
    ) -> Result<Delayed<A>> {
        self.reductions().reduction(perpartition, aggregate)
    }

    /// [`BagReductions::fold`] with fan-in [`DEFAULT_SPLIT_EVERY`].
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=5_i64, 2)?;
    /// let squares = b.fold(|acc, x| acc + x * x, |a, b| a + b, 0)?;
    /// assert_eq!(squares.compute()?, 55);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn fold<A: Item>(
        &self,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
        initial: A,
    ) -> Result<Delayed<A>> {
        self.reductions().fold(binop, combine, initial)
    }

    /// Number of items ([`BagReductions::count`]).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// assert_eq!(Bag::range(1000, 7)?.count()?.compute()?, 1000);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn count(&self) -> Result<Delayed<usize>> {
        self.reductions().count()
    }

    /// Items with their counts, most frequent first, ties in order of first
    /// appearance ([`BagReductions::frequencies`]).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let levels = Bag::from_sequence(["INFO", "WARN", "INFO", "ERROR", "WARN", "INFO"], 2)?;
    /// assert_eq!(
    ///     levels.frequencies()?.compute()?,
    ///     vec![("INFO", 3), ("WARN", 2), ("ERROR", 1)]
    /// );
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn frequencies(&self) -> Result<Bag<(T, usize)>>
    where
        T: Hash + Eq,
    {
        self.reductions().frequencies()
    }

    /// The `k` items with the largest keys, largest first
    /// ([`BagReductions::topk`]).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence([5, 1, 9, 3, 7], 2)?;
    /// assert_eq!(b.topk(3, |&x| x)?.compute()?, vec![9, 7, 5]);
    /// // Smallest: reverse the key.
    /// assert_eq!(b.topk(2, |&x| std::cmp::Reverse(x))?.compute()?, vec![1, 3]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn topk<K: Ord + Item>(
        &self,
        k: usize,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Result<Bag<T>> {
        self.reductions().topk(k, key)
    }

    /// Group-and-fold without a shuffle ([`BagReductions::foldby`]).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let words = Bag::from_sequence(["apple", "avocado", "banana", "blueberry", "cherry"], 2)?;
    /// let by_letter = words.foldby(|w| w.as_bytes()[0] as char, |n, _| n + 1, 0_usize, |a, b| a + b)?;
    /// assert_eq!(by_letter.compute()?, vec![('a', 2), ('b', 2), ('c', 1)]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn foldby<K: Hash + Eq + Item, A: Item>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        binop: impl Fn(A, T) -> A + Send + Sync + 'static,
        initial: A,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
    ) -> Result<Bag<(K, A)>> {
        self.reductions().foldby(key, binop, initial, combine)
    }

    /// Distinct items in order of first appearance ([`BagReductions::distinct`]).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(["b", "a", "b", "c", "a"], 2)?;
    /// assert_eq!(b.distinct()?.compute()?, vec!["b", "a", "c"]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn distinct(&self) -> Result<Bag<T>>
    where
        T: Hash + Eq,
    {
        self.reductions().distinct()
    }
}
