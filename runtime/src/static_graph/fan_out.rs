//! Fan-out and fan-in inside a static graph, over inputs known only at run
//! time: `let parts = for p in paths { load(p) };` runs one task per element,
//! `sum(parts, 8)` and `tree_reduce(parts, 8, |a, b| ..)` reduce them in a
//! tree of tasks.
//!
//! Elements are forked by halving the index range with [`Exec::join`], so an
//! idle worker steals half of what is left and every element starts as soon
//! as a worker is free. A reduction fused with its fan-out combines two
//! partials as soon as both exist; its shape depends only on the number of
//! elements and the fan-in, so its result is the same on every run and
//! every scheduler. Nothing is allocated per element: the items and the
//! mapped results are one vector each, and partials travel back up the
//! stacks of the joins.

use super::exec::Exec;
use crate::{Error, Key, TaskError};

/// Collects a fan-out's items (one allocation for the whole fan-out).
#[doc(hidden)]
pub fn items<I: IntoIterator>(iter: I) -> Vec<I::Item> {
    iter.into_iter().collect()
}

/// The binary combine of `sum(parts, fan_in)`: `[a, b].sum()`, so that it
/// needs what `Iterator::sum` needs and nothing more.
#[doc(hidden)]
pub fn sum_pair<T: std::iter::Sum<T>>(a: T, b: T) -> T {
    [a, b].into_iter().sum()
}

/// The sum of no elements: `Iterator::sum` of an empty iterator.
#[doc(hidden)]
pub fn sum_empty<T: std::iter::Sum<T>>() -> Option<T> {
    Some(std::iter::empty().sum())
}

/// `tree_reduce` of no elements has no value: the reduction fails.
#[doc(hidden)]
pub fn no_value<T>() -> Option<T> {
    None
}

impl Exec {
    /// Runs `f(i, item)` for every item in parallel; the results in order.
    ///
    /// ```
    /// use dagwood_runtime::{Exec, GraphInfo, Scheduler, StaticGraph};
    /// static INFO: GraphInfo = GraphInfo::EMPTY;
    /// let g = StaticGraph::new(&INFO, |exec: &Exec| {
    ///     exec.map(vec![1, 2, 3], |i, x| exec.task_at("square", i, || x * x))
    /// });
    /// assert_eq!(g.compute().unwrap(), vec![1, 4, 9]);
    /// ```
    pub fn map<I, R, F>(&self, items: Vec<I>, f: F) -> Vec<R>
    where
        I: Send,
        R: Send,
        F: Fn(usize, I) -> R + Sync,
    {
        self.hooks.add(items.len());
        if !self.parallel() {
            return items
                .into_iter()
                .enumerate()
                .map(|(i, x)| f(i, x))
                .collect();
        }
        use rayon::prelude::*;
        let mut out = Vec::with_capacity(items.len());
        // One element per job: every element is a task a worker can steal.
        items
            .into_par_iter()
            .with_max_len(1)
            .enumerate()
            .map(|(i, x)| f(i, x))
            .collect_into_vec(&mut out);
        out
    }

    /// Maps `f` over the items and reduces the results with `combine` in a
    /// tree of the given fan-in, each combine a task keyed
    /// `(name, first, end)` by the elements it covers. With no items the
    /// result is `empty()`, and the reduction fails if that is `None`.
    ///
    /// ```
    /// use dagwood_runtime::{Exec, GraphInfo, Scheduler, StaticGraph};
    /// static INFO: GraphInfo = GraphInfo::EMPTY;
    /// let g = StaticGraph::new(&INFO, |exec: &Exec| {
    ///     let items: Vec<u64> = (1..=100).collect();
    ///     exec.map_reduce("total", items, 8, |_, x| x * 2, |a, b| a + b, || Some(0))
    /// });
    /// assert_eq!(g.compute_with(&Scheduler::Sync).unwrap(), 10_100);
    /// ```
    pub fn map_reduce<I, T, F, C>(
        &self,
        name: &'static str,
        items: Vec<I>,
        fan_in: usize,
        f: F,
        combine: C,
        empty: impl FnOnce() -> Option<T>,
    ) -> T
    where
        I: Send,
        T: Send,
        F: Fn(usize, I) -> T + Sync,
        C: Fn(T, T) -> T + Sync,
    {
        // The elements are tasks too.
        self.hooks.add(items.len());
        self.tree_reduce(name, items, fan_in, f, combine, empty)
    }

    /// Reduces values that already exist (a fan-out other tasks read too) in
    /// the tree of [`map_reduce`](Self::map_reduce).
    pub fn reduce<T, C>(
        &self,
        name: &'static str,
        values: Vec<T>,
        fan_in: usize,
        combine: C,
        empty: impl FnOnce() -> Option<T>,
    ) -> T
    where
        T: Send,
        C: Fn(T, T) -> T + Sync,
    {
        self.tree_reduce(name, values, fan_in, |_, v| v, combine, empty)
    }

    /// The tree of combines over `leaf(i, item)`; only the combines are tasks.
    fn tree_reduce<I, T, F, C>(
        &self,
        name: &'static str,
        items: Vec<I>,
        fan_in: usize,
        leaf: F,
        combine: C,
        empty: impl FnOnce() -> Option<T>,
    ) -> T
    where
        I: Send,
        T: Send,
        F: Fn(usize, I) -> T + Sync,
        C: Fn(T, T) -> T + Sync,
    {
        if fan_in < 2 {
            self.abort(
                Key::new(name),
                TaskError::failed(Error::InvalidArgument(format!(
                    "tree reduction `{name}`: fan_in must be at least 2, got {fan_in}"
                ))),
            );
        }
        let n = items.len();
        if n == 0 {
            return match empty() {
                Some(v) => v,
                None => self.abort(
                    Key::new(name),
                    TaskError::failed(Error::InvalidArgument(format!(
                        "tree reduction `{name}`: nothing to reduce (no elements)"
                    ))),
                ),
            };
        }
        self.hooks.add(n - 1);
        let mut span = 1usize;
        while span < n {
            span = span.saturating_mul(fan_in);
        }
        let mut items: Vec<Option<I>> = items.into_iter().map(Some).collect();
        let tree = Tree {
            exec: self,
            name,
            fan_in,
            leaf: &leaf,
            combine: &combine,
        };
        tree.reduce(&mut items, 0, span)
    }
}

/// One reduction: a tree over element indices whose nodes at level `k`
/// cover `fan_in^k` consecutive elements.
struct Tree<'a, F, C> {
    exec: &'a Exec,
    name: &'static str,
    fan_in: usize,
    leaf: &'a F,
    combine: &'a C,
}

impl<F, C> Tree<'_, F, C> {
    /// Reduces `items` (elements `first..first + items.len()`), which lie in
    /// one node of `span` elements.
    fn reduce<I, T>(&self, items: &mut [Option<I>], first: usize, span: usize) -> T
    where
        I: Send,
        T: Send,
        F: Fn(usize, I) -> T + Sync,
        C: Fn(T, T) -> T + Sync,
    {
        let n = items.len();
        if n == 1 {
            return match items[0].take() {
                Some(x) => (self.leaf)(first, x),
                None => self.exec.fail(Error::Internal(format!(
                    "tree reduction `{}`: element {first} taken twice",
                    self.name
                ))),
            };
        }
        let child = (span / self.fan_in).max(1);
        if n <= child {
            return self.reduce(items, first, child);
        }
        // Split the node's children in two halves at a child boundary: both
        // halves run at once, and their partials combine when both are done.
        let children = n.div_ceil(child);
        let mid = (children / 2) * child;
        let (left, right) = items.split_at_mut(mid);
        let (a, b) = self.exec.join(
            || self.reduce(left, first, span),
            || self.reduce(right, first + mid, span),
        );
        let end = first + n;
        self.exec
            .run_task(self.name, &[first as u64, end as u64], || {
                (self.combine)(a, b)
            })
    }
}

#[cfg(test)]
mod tests {
    use crate::static_graph::graph::{GraphInfo, StaticGraph};
    use crate::Scheduler;

    static INFO: GraphInfo = GraphInfo::EMPTY;

    fn schedulers() -> Vec<Scheduler> {
        vec![Scheduler::Sync, Scheduler::threads(3).expect("a pool")]
    }

    #[test]
    fn reductions_match_a_fold_for_every_size_and_fan_in() {
        for s in schedulers() {
            for n in 0..40usize {
                for fan_in in 2..6 {
                    let g = StaticGraph::new(&INFO, |exec: &super::Exec| {
                        let items: Vec<usize> = (0..n).collect();
                        exec.map_reduce(
                            "concat",
                            items,
                            fan_in,
                            |i, x| {
                                assert_eq!(i, x);
                                vec![x]
                            },
                            |mut a, b| {
                                a.extend(b);
                                a
                            },
                            || Some(Vec::new()),
                        )
                    });
                    let got = g.compute_with(&s).expect("reduces");
                    assert_eq!(got, (0..n).collect::<Vec<_>>(), "n={n} fan_in={fan_in}");
                }
            }
        }
    }

    #[test]
    fn float_sums_are_the_same_on_every_scheduler() {
        let xs: Vec<f64> = (0..1000).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let run = |s: &Scheduler| {
            let xs = xs.clone();
            StaticGraph::new(&INFO, move |exec: &super::Exec| {
                exec.reduce("sum", xs, 4, super::sum_pair, super::sum_empty)
            })
            .compute_with(s)
            .expect("sums")
        };
        let first = run(&Scheduler::Sync);
        for s in schedulers() {
            for _ in 0..5 {
                assert_eq!(run(&s).to_bits(), first.to_bits());
            }
        }
    }

    #[test]
    fn empty_reductions_and_bad_fan_ins_fail_naming_the_reduction() {
        let g = StaticGraph::new(&INFO, |exec: &super::Exec| {
            exec.reduce("total", Vec::<i32>::new(), 8, |a, b| a + b, super::no_value)
        });
        let e = g.compute().expect_err("nothing to reduce");
        assert_eq!(e.key().map(|k| k.name()), Some("total"));
        assert!(e.to_string().contains("nothing to reduce"), "{e}");
        let g = StaticGraph::new(&INFO, |exec: &super::Exec| {
            exec.reduce("total", vec![1, 2], 1, |a, b| a + b, super::no_value)
        });
        let e = g.compute().expect_err("fan_in 1");
        assert!(e.to_string().contains("fan_in must be at least 2"), "{e}");
    }
}
