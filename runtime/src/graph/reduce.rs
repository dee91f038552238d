//! Tree reductions over many handles: Dask's `tree_reduce` with a fan-in.

use super::delayed::{Delayed, TaskBuilder};
use super::hints::Combiner;
use crate::{Error, Key, Result};

/// Combines `items` with `combine` in a tree whose nodes take at most `fan_in`
/// inputs, so no task waits on all leaves and finished subtrees free their
/// leaves early. Keys are `(name, level, index)`.
///
/// Errors if `items` is empty or `fan_in < 2`.
///
/// ```
/// use dagwood_runtime::{delayed, tree_reduce};
/// let parts: Vec<_> = (1..=100).map(|i| delayed(vec![i])).collect();
/// let all = tree_reduce(parts, 8, "concat", |vs: Vec<Vec<i32>>| vs.concat()).unwrap();
/// assert_eq!(all.compute().unwrap(), (1..=100).collect::<Vec<_>>());
/// ```
pub fn tree_reduce<T, F>(
    items: impl IntoIterator<Item = Delayed<T>>,
    fan_in: usize,
    name: impl Into<std::sync::Arc<str>>,
    combine: F,
) -> Result<Delayed<T>>
where
    T: Clone + Send + Sync + 'static,
    F: Fn(Vec<T>) -> T + Clone + Send + Sync + 'static,
{
    let name: std::sync::Arc<str> = name.into();
    if fan_in < 2 {
        return Err(Error::InvalidArgument(format!(
            "tree_reduce `{name}`: fan_in must be at least 2, got {fan_in}"
        )));
    }
    let mut level: Vec<Delayed<T>> = items.into_iter().collect();
    if level.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "tree_reduce `{name}`: nothing to reduce (no items)"
        )));
    }
    // Declared so that a distributed backend may regroup the tree.
    let combiner = {
        let f = combine.clone();
        Combiner::new(move |xs: Vec<T>| Ok(f(xs)))
    };
    let mut depth = 0u64;
    // One item still gets one combine call, so the result is always combine's.
    while level.len() > 1 || depth == 0 {
        let mut next = Vec::with_capacity(level.len().div_ceil(fan_in));
        let mut items = level.into_iter().peekable();
        let mut i = 0u64;
        while items.peek().is_some() {
            let key = Key::from_name(name.clone()).with_indices(&[depth, i]);
            let mut b = TaskBuilder::new("tree_reduce").key(key).combines(&combiner);
            let slots = b.args(items.by_ref().take(fan_in));
            let f = combine.clone();
            next.push(b.build(move |args| {
                let vals = slots
                    .iter()
                    .map(|s| s.take(args))
                    .collect::<Result<Vec<T>, _>>()?;
                Ok(f(vals))
            }));
            i += 1;
        }
        level = next;
        depth += 1;
    }
    // The loop leaves exactly one handle.
    level
        .pop()
        .ok_or_else(|| Error::Internal("tree_reduce produced no root".into()))
}

/// Sums handles in a tree of the given fan-in.
///
/// ```
/// use dagwood_runtime::{delayed, sum};
/// let total = sum((1..=10).map(delayed), 4).unwrap();
/// assert_eq!(total.compute().unwrap(), 55);
/// ```
pub fn sum<T>(items: impl IntoIterator<Item = Delayed<T>>, fan_in: usize) -> Result<Delayed<T>>
where
    T: Clone + Send + Sync + std::iter::Sum<T> + 'static,
{
    tree_reduce(items, fan_in, "sum", |vs: Vec<T>| vs.into_iter().sum())
}

/// Gathers many handles into one handle of a `Vec`, in order (what Dask does
/// for a list of delayed values passed as an argument).
///
/// ```
/// use dagwood_runtime::{delayed, Delayed};
/// let parts: Delayed<Vec<i32>> = (1..=3).map(|i| delayed(i * 10)).collect();
/// assert_eq!(parts.compute().unwrap(), vec![10, 20, 30]);
/// ```
impl<T: Clone + Send + Sync + 'static> FromIterator<Delayed<T>> for Delayed<Vec<T>> {
    fn from_iter<I: IntoIterator<Item = Delayed<T>>>(items: I) -> Delayed<Vec<T>> {
        let mut b = TaskBuilder::new("list");
        let slots = b.args(items);
        b.build(move |args| slots.iter().map(|s| s.take(args)).collect())
    }
}
