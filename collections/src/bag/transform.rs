//! Per-item and per-partition transforms, sources made of ranges, and `take`.
//!
//! The per-item transforms (`map`, `filter`, `remove`, `flat_map`, `pluck`)
//! add a step to each partition's stream and no task: the chain runs item
//! by item inside the task that consumes it. `map_partitions` and `zip` add
//! one task per partition (collecting their input's stream in that task);
//! `repartition` works on whole partitions.

use std::sync::Arc;

use dagwood_runtime::{Scheduler, TaskBuilder, TaskError};
use serde_json::Value;

use super::{collect, layer_name, part_key, Bag, BagError, Item, Origin, Result};

impl<T: Item> Bag<T> {
    /// Applies `f` to every item (Dask's `Bag.map`, `Iterator::map`).
    ///
    /// Items keep their places, so a bag read from files still knows which
    /// line each item came from.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=4_i64, 2)?;
    /// assert_eq!(b.map(|x| x * 10).compute()?, vec![10, 20, 30, 40]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn map<U: Item>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Bag<U> {
        let mut out = self.then("map", move |_, _, x, sink| sink(f(x)));
        // One output item per input item at the same position: the origin
        // (file and line of each item) still holds.
        out.origin = self.origin.clone();
        out
    }

    /// Keeps the items for which `pred` is true (Dask's `Bag.filter`).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=6_i64, 3)?;
    /// assert_eq!(b.filter(|x| x % 2 == 0).compute()?, vec![2, 4, 6]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn filter(&self, pred: impl Fn(&T) -> bool + Send + Sync + 'static) -> Bag<T> {
        self.then(
            "filter",
            move |_, _, x, sink| if pred(&x) { sink(x) } else { Ok(()) },
        )
    }

    /// Drops the items for which `pred` is true: the negation of
    /// [`filter`](Self::filter) (Dask's `Bag.remove`).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=6_i64, 3)?;
    /// assert_eq!(b.remove(|x| x % 2 == 0).compute()?, vec![1, 3, 5]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn remove(&self, pred: impl Fn(&T) -> bool + Send + Sync + 'static) -> Bag<T> {
        self.then(
            "remove",
            move |_, _, x, sink| if pred(&x) { Ok(()) } else { sink(x) },
        )
    }

    /// Replaces every item by the items `f` makes of it, in order (Dask's
    /// `Bag.flatten` after `map`, `Iterator::flat_map`).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let lines = Bag::from_sequence(["a b", "c"].map(String::from), 2)?;
    /// let words = lines.flat_map(|l| l.split(' ').map(String::from).collect::<Vec<_>>());
    /// assert_eq!(words.compute()?, vec!["a", "b", "c"]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn flat_map<U: Item, I: IntoIterator<Item = U>>(
        &self,
        f: impl Fn(T) -> I + Send + Sync + 'static,
    ) -> Bag<U> {
        self.then("flat_map", move |_, _, x, sink| {
            f(x).into_iter().try_for_each(&mut *sink)
        })
    }

    /// Applies `f` to each whole partition (Dask's `Bag.map_partitions`):
    /// for work with a per-partition setup cost, or that needs several items
    /// at once.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=6_i64, 3)?;
    /// let sums = b.map_partitions(|part| vec![part.iter().sum::<i64>()]);
    /// assert_eq!(sums.compute()?, vec![3, 7, 11]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn map_partitions<U: Item>(
        &self,
        f: impl Fn(Vec<T>) -> Vec<U> + Send + Sync + 'static,
    ) -> Bag<U> {
        self.map_parts("map_partitions", move |part, _| Ok(f(part)))
    }

    /// Pairs the items of two bags position by position (Dask's `bag.zip`).
    ///
    /// The bags must have the same number of partitions (checked now) and
    /// partitions of equal lengths (checked when computed: a mismatch is an
    /// error naming the partition and both lengths). Bags made from the same
    /// source by `map`s line up; a `filter` on one side does not.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let a = Bag::from_sequence(1..=3_i64, 2)?;
    /// let b = a.map(|x| x * x);
    /// assert_eq!(a.zip(&b)?.compute()?, vec![(1, 1), (2, 4), (3, 9)]);
    ///
    /// let shorter = a.filter(|&x| x != 2);
    /// let err = a.zip(&shorter)?.compute().unwrap_err();
    /// assert!(err.to_string().contains("partition 0 has 2 items on the left and 1 on the right"));
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn zip<U: Item>(&self, other: &Bag<U>) -> Result<Bag<(T, U)>> {
        if self.npartitions() != other.npartitions() {
            return Err(BagError::Invalid(format!(
                "zip: the bags have {} and {} partitions; zip needs the same number \
                 (and partitions of equal lengths)",
                self.npartitions(),
                other.npartitions()
            )));
        }
        let name = layer_name("zip");
        let parts = (0..self.npartitions())
            .map(|i| {
                let mut b = TaskBuilder::new("bag-partition").key(part_key(&name, i));
                let (l, r) = (self.feed(i)(&mut b), other.feed(i)(&mut b));
                b.build(move |args| {
                    let (l, r) = (collect(&l, args)?, collect(&r, args)?);
                    if l.len() != r.len() {
                        return Err(TaskError::failed(format!(
                            "zip: partition {i} has {} items on the left and {} on the right; \
                             zipped bags need partitions of equal lengths",
                            l.len(),
                            r.len()
                        )));
                    }
                    Ok(l.into_iter().zip(r).collect())
                })
            })
            .collect();
        Ok(Bag::from_delayed(parts))
    }

    /// The same items, in the same order, in `npartitions` partitions
    /// (Dask's `Bag.repartition(npartitions=..)`); nothing is shuffled.
    ///
    /// Fewer partitions: runs of adjacent partitions are concatenated (as
    /// evenly as the partition counts allow). More partitions: each partition
    /// is cut into nearly equal pieces. Partition sizes are not known before
    /// computing, so sizes follow the input's: uneven partitions (after a
    /// `filter`) stay uneven.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(0..10_i64, 4)?;
    /// let more = b.repartition(7)?;
    /// assert_eq!(more.npartitions(), 7);
    /// assert_eq!(more.compute()?, (0..10).collect::<Vec<_>>());
    /// assert_eq!(b.repartition(1)?.compute()?, (0..10).collect::<Vec<_>>());
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn repartition(&self, npartitions: usize) -> Result<Bag<T>> {
        let (n, k) = (npartitions, self.npartitions());
        if n == 0 {
            return Err(BagError::Invalid(
                "repartition: npartitions must be at least 1, got 0".into(),
            ));
        }
        if n == k {
            return Ok(self.clone());
        }
        let name = layer_name("repartition");
        let parts = if k == 0 {
            // Nothing to cut: n empty partitions.
            (0..n)
                .map(|j| {
                    TaskBuilder::new("bag-partition")
                        .key(part_key(&name, j))
                        .build(|_| Ok(Vec::<T>::new()))
                })
                .collect()
        } else if n < k {
            // Output j concatenates inputs [j*k/n, (j+1)*k/n): every output
            // gets at least one input since k > n.
            (0..n)
                .map(|j| {
                    let mut b = TaskBuilder::new("bag-partition").key(part_key(&name, j));
                    let slots = b.args(self.parts[j * k / n..(j + 1) * k / n].iter().cloned());
                    b.build(move |args| {
                        let mut out = Vec::new();
                        for s in &slots {
                            let mut part = s.take(args)?;
                            if out.is_empty() {
                                // Keep the first buffer rather than copying it.
                                std::mem::swap(&mut out, &mut part);
                            } else {
                                out.append(&mut part);
                            }
                        }
                        Ok(out)
                    })
                })
                .collect()
        } else {
            // Input i is cut into m_i = n/k (+1 for the first n%k inputs)
            // pieces; each piece task borrows the partition and copies only
            // its own slice, so every item is cloned once.
            let mut out = Vec::with_capacity(n);
            for (i, p) in self.parts.iter().enumerate() {
                let m = n / k + usize::from(i < n % k);
                for j in 0..m {
                    let mut b = TaskBuilder::new("bag-partition").key(part_key(&name, out.len()));
                    let input = b.input(p);
                    out.push(b.build(move |args| {
                        let part = input.get(args)?;
                        let len = part.len();
                        Ok(part[j * len / m..(j + 1) * len / m].to_vec())
                    }));
                }
            }
            out
        };
        Ok(Bag::from_delayed(parts))
    }

    /// The first `n` items (fewer if the bag has fewer), computing
    /// partitions one by one, in order, and stopping as soon as `n` items
    /// are in hand: the partitions after that are never computed. Uses the
    /// default scheduler.
    ///
    /// Unlike Dask's `take`, which looks only at the first partition unless
    /// told otherwise, this goes on until it has `n` items or the bag ends.
    /// Each partition is its own run, so work that partitions share (a
    /// partition cut in pieces by `repartition`) is redone for each.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(0..1_000_i64, 10)?.filter(|x| x % 3 == 0);
    /// assert_eq!(b.take(4)?, vec![0, 3, 6, 9]);
    /// assert_eq!(b.take(10_000)?.len(), 334);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn take(&self, n: usize) -> Result<Vec<T>> {
        self.take_with(n, &Scheduler::current())
    }

    /// [`take`](Self::take) with a chosen scheduler.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// use dagwood_runtime::Scheduler;
    /// let b = Bag::from_sequence(0..100_i64, 10)?;
    /// assert_eq!(b.take_with(3, &Scheduler::Sync)?, vec![0, 1, 2]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn take_with(&self, n: usize, scheduler: &Scheduler) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for p in self.parts.iter() {
            if out.len() >= n {
                break;
            }
            out.extend(p.compute_with(scheduler)?);
        }
        out.truncate(n);
        Ok(out)
    }
}

impl Bag<u64> {
    /// The integers `0..n` in `npartitions` partitions of nearly equal
    /// length (Dask's `dask.bag.range`). Each partition is generated by its
    /// own task when computed; nothing is held in memory before.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::range(10, 3)?;
    /// assert_eq!(b.npartitions(), 3);
    /// assert_eq!(b.compute()?, (0..10).collect::<Vec<u64>>());
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn range(n: u64, npartitions: usize) -> Result<Bag<u64>> {
        if npartitions == 0 {
            return Err(BagError::Invalid(
                "range: npartitions must be at least 1".into(),
            ));
        }
        let k = npartitions as u64;
        let name = layer_name("range");
        let parts = (0..k)
            .map(|i| {
                // The same split as `from_sequence`: the first n % k
                // partitions hold one more item. No product here can overflow.
                let lo = i * (n / k) + i.min(n % k);
                let hi = lo + n / k + u64::from(i < n % k);
                // Cheap and deterministic: a consumer may regenerate it
                // rather than keep it in memory for another.
                TaskBuilder::new("bag-range")
                    .recomputable()
                    .key(part_key(&name, i as usize))
                    .build(move |_| Ok((lo..hi).collect::<Vec<u64>>()))
            })
            .collect();
        Ok(Bag::from_delayed(parts))
    }
}

/// Where an item is, for error messages: its partition and position, and
/// its file and line when the bag was read from files and items are still
/// one per line (only `map`s since).
fn item_place(origin: Option<&Origin>, part: usize, item: usize) -> String {
    let Some(o) = origin else {
        return format!("item {item} of partition {part}");
    };
    // Numbering lines reads the file up to the partition's start: done only
    // here, on the error path.
    match super::text::first_line_number(o) {
        Ok(first) => format!(
            "item {item} of partition {part} ({}:{})",
            o.path.display(),
            first + item as u64
        ),
        Err(_) => format!(
            "item {item} of partition {part} (line {} of the block of {} starting at byte {})",
            item + 1,
            o.path.display(),
            o.start
        ),
    }
}

/// A short description of a JSON value for error messages: its kind and
/// (cut to a readable length) its text.
fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let mut text = v.to_string();
    if text.len() > 80 {
        let mut cut = 77;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    format!("{kind}: {text}")
}

impl Bag<Value> {
    /// The origin of partition `i`, if the bag was read from files.
    fn origin_of(&self, i: usize) -> Option<Origin> {
        self.origin.as_ref().and_then(|o| o.get(i).cloned())
    }

    /// A one-to-one per-item transform that may fail, keeping the origin.
    fn map_values(
        &self,
        op: &str,
        f: impl Fn(Value, &dyn Fn() -> String) -> std::result::Result<Value, String>
            + Send
            + Sync
            + 'static,
    ) -> Bag<Value> {
        let origins: Arc<[Option<Origin>]> =
            (0..self.npartitions()).map(|i| self.origin_of(i)).collect();
        let mut out = self.then(op, move |p, i, v, sink| {
            // The origin is looked at on the error path only.
            let place = || item_place(origins.get(p).and_then(Option::as_ref), p, i);
            sink(f(v, &place).map_err(TaskError::failed)?)
        });
        out.origin = self.origin.clone();
        out
    }

    /// The value under `key` of every item, which must be a JSON object
    /// (Dask's `Bag.pluck(key)`).
    ///
    /// An item without the key, or that is not an object, fails the
    /// computation with an error naming the key and the item (its
    /// partition and position, and its file and line when read from one);
    /// use [`pluck_or`](Self::pluck_or) when a key may be missing.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// use serde_json::json;
    /// let people = Bag::from_sequence(vec![json!({"name": "Ann", "age": 31}), json!({"name": "Bo"})], 2)?;
    /// assert_eq!(people.pluck("name").compute()?, vec![json!("Ann"), json!("Bo")]);
    ///
    /// let err = people.pluck("age").compute().unwrap_err().to_string();
    /// assert!(err.contains(r#"pluck("age"): item 0 of partition 1 has no key "age""#), "{err}");
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn pluck(&self, key: &str) -> Bag<Value> {
        let key: Arc<str> = key.into();
        self.map_values("pluck", move |v, place| match v {
            Value::Object(mut m) => m.remove(&*key).ok_or_else(|| {
                const SHOWN: usize = 10;
                let mut keys: Vec<String> =
                    m.keys().take(SHOWN).map(|k| format!("{k:?}")).collect();
                if m.len() > SHOWN {
                    keys.push(format!("... ({} keys)", m.len()));
                }
                format!(
                    "pluck({key:?}): {} has no key {key:?}; its keys are [{}]",
                    place(),
                    keys.join(", ")
                )
            }),
            other => Err(format!(
                "pluck({key:?}): {} is not an object but {}",
                place(),
                describe(&other)
            )),
        })
    }

    /// The value under `key` of every item, or `default` where an item has
    /// no such key or is not an object (Dask's `Bag.pluck(key, default)`).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// use serde_json::json;
    /// let people = Bag::from_sequence(vec![json!({"name": "Ann", "age": 31}), json!({"name": "Bo"})], 2)?;
    /// assert_eq!(people.pluck_or("age", json!(null)).compute()?, vec![json!(31), json!(null)]);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn pluck_or(&self, key: &str, default: Value) -> Bag<Value> {
        let key: Arc<str> = key.into();
        self.map_values("pluck", move |v, _| match v {
            Value::Object(mut m) => Ok(m.remove(&*key).unwrap_or_else(|| default.clone())),
            _ => Ok(default.clone()),
        })
    }

    /// Element `index` of every item, which must be a JSON array with more
    /// than `index` elements (Dask's `Bag.pluck(i)` on tuples and lists).
    /// Anything else fails the computation with an error naming the index
    /// and the item.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// use serde_json::json;
    /// let pairs = Bag::from_sequence(vec![json!(["a", 1]), json!(["b", 2])], 1)?;
    /// assert_eq!(pairs.pluck_index(1).compute()?, vec![json!(1), json!(2)]);
    ///
    /// let err = pairs.pluck_index(2).compute().unwrap_err().to_string();
    /// assert!(err.contains("pluck_index(2): item 0 of partition 0 is an array of 2 elements"), "{err}");
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn pluck_index(&self, index: usize) -> Bag<Value> {
        self.map_values("pluck", move |v, place| match v {
            Value::Array(mut a) if index < a.len() => Ok(a.swap_remove(index)),
            Value::Array(a) => Err(format!(
                "pluck_index({index}): {} is an array of {} elements",
                place(),
                a.len()
            )),
            other => Err(format!(
                "pluck_index({index}): {} is not an array but {}",
                place(),
                describe(&other)
            )),
        })
    }
}
