//! Lowers the task DAG into a tree that code can follow directly, without giving up a
//! moment of parallelism.
//!
//! The DAG's reachability is a partial order on its tasks. `lower(S)`:
//! * one task is a `Task`;
//! * if `S` falls apart into parts no task of which reaches a task of another (the
//!   comparability graph is disconnected), it is a `Parallel` of their lowerings;
//! * if `S` falls apart into parts every task of one of which reaches every task of the
//!   next (the *in*comparability graph is disconnected), it is a `Series` of theirs;
//! * otherwise `S` is "prime" (it holds an "N": a→c, a→d, b→d, where no split into
//!   series and parallel parts is exact) and becomes a `Dag`, run by dependency counts.
//!
//! A `Series` step waits only for tasks that every task of the step depends on anyway,
//! and a `Parallel` starts all its branches at once, so every task starts as soon as
//! its inputs are ready and a worker is free: the lowering is exact for every DAG. Joins
//! cost nothing per task, so they are kept wherever they are exact (every
//! series-parallel graph is lowered without a `Dag`); the counts are paid only for the
//! prime pieces.

use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tree {
    Task(usize),
    /// Two or more steps, one after the other; no step is itself a `Series`.
    Series(Vec<Tree>),
    /// Two or more independent branches; no branch is itself a `Parallel`.
    Parallel(Vec<Tree>),
    /// Two or more tasks (ascending) that no series-parallel split runs exactly.
    Dag(Vec<usize>),
}

impl Tree {
    /// The tasks this node runs, ascending.
    pub(crate) fn tasks(&self) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut BTreeSet<usize>) {
        match self {
            Tree::Task(t) => {
                out.insert(*t);
            }
            Tree::Dag(ts) => out.extend(ts.iter().copied()),
            Tree::Series(c) | Tree::Parallel(c) => c.iter().for_each(|c| c.collect(out)),
        }
    }
}

/// A set of task indices.
#[derive(Clone, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn union(&mut self, other: &Bits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
    }
    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            (0..64)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }
}

/// The DAG's order: `related[t]` holds the tasks that reach `t` or that `t` reaches.
struct Order {
    related: Vec<Bits>,
}

impl Order {
    fn new(deps: &[Vec<usize>]) -> Order {
        let n = deps.len();
        let mut anc: Vec<Bits> = Vec::with_capacity(n);
        for (t, ds) in deps.iter().enumerate() {
            let mut a = Bits::new(n);
            for &d in ds {
                // Dependencies are earlier tasks (the analysis checked it).
                a.insert(d);
                let earlier = anc[d].clone();
                a.union(&earlier);
            }
            debug_assert!(!a.contains(t));
            anc.push(a);
        }
        let mut related = anc.clone();
        for (t, a) in anc.iter().enumerate() {
            for d in a.iter() {
                related[d].insert(t);
            }
        }
        Order { related }
    }

    /// Components of `set` where `adjacent(t)` gives the neighbours of `t`, ordered by
    /// their smallest task.
    fn components(&self, set: &Bits, adjacent: impl Fn(usize) -> Bits) -> Vec<Bits> {
        let mut left = set.clone();
        let mut out = Vec::new();
        loop {
            let Some(first) = left.iter().next() else {
                break;
            };
            left.remove(first);
            let mut comp = Bits::new(set.0.len() * 64);
            comp.insert(first);
            let mut frontier = vec![first];
            while let Some(t) = frontier.pop() {
                let near = adjacent(t);
                for u in near
                    .iter()
                    .filter(|&u| left.contains(u))
                    .collect::<Vec<_>>()
                {
                    left.remove(u);
                    comp.insert(u);
                    frontier.push(u);
                }
            }
            out.push(comp);
        }
        out
    }
}

/// Lowers the DAG where `deps[t]` lists the tasks `t` depends on; only the tasks
/// `scheduled` are lowered (a fan-out fused into its reduction is not). `None` without
/// tasks.
pub(crate) fn lower(deps: &[Vec<usize>], scheduled: &[bool]) -> Option<Tree> {
    let n = deps.len();
    let mut all = Bits::new(n);
    (0..n).filter(|&t| scheduled[t]).for_each(|t| all.insert(t));
    if all.is_empty() {
        return None;
    }
    let order = Order::new(deps);
    Some(lower_set(&all, &order, n))
}

fn lower_set(set: &Bits, order: &Order, n: usize) -> Tree {
    let tasks: Vec<usize> = set.iter().collect();
    if let [one] = tasks.as_slice() {
        return Tree::Task(*one);
    }
    let parts = order.components(set, |t| order.related[t].clone());
    if parts.len() > 1 {
        return Tree::Parallel(parts.iter().map(|p| lower_set(p, order, n)).collect());
    }
    let unrelated = |t: usize| {
        let mut b = Bits::new(n);
        for u in tasks.iter().copied() {
            if u != t && !order.related[t].contains(u) {
                b.insert(u);
            }
        }
        b
    };
    let steps = order.components(set, unrelated);
    if steps.len() > 1 {
        // Each step reaches all of the next, so their smallest tasks are in order too.
        return Tree::Series(steps.iter().map(|p| lower_set(p, order, n)).collect());
    }
    Tree::Dag(tasks)
}

/// Chain fusion, for `TaskInfo::fused_with_next` and the units of a `Dag`: task `t` is
/// fused with task `c` when `t` is the only input of `c` (`only_input[c]`, counting
/// tasks and parameters alike) and `c` the only consumer of `t` (`consumers[t]`, the
/// output included), and the two follow each other in a `Series` or lie in one `Dag`.
/// The generated code then runs them back to back on one thread.
pub(crate) fn fused(tree: &Tree, only_input: &[Option<usize>], consumers: &[usize]) -> Vec<bool> {
    let mut out = vec![false; only_input.len()];
    mark(tree, only_input, consumers, &mut out);
    out
}

fn mark(tree: &Tree, only_input: &[Option<usize>], consumers: &[usize], out: &mut [bool]) {
    match tree {
        Tree::Task(_) => {}
        Tree::Series(steps) => {
            for pair in steps.windows(2) {
                if let [Tree::Task(t), Tree::Task(c)] = pair {
                    if only_input[*c] == Some(*t) && consumers[*t] == 1 {
                        out[*t] = true;
                    }
                }
            }
            steps
                .iter()
                .for_each(|s| mark(s, only_input, consumers, out));
        }
        Tree::Parallel(branches) => branches
            .iter()
            .for_each(|b| mark(b, only_input, consumers, out)),
        Tree::Dag(tasks) => {
            for &c in tasks {
                if let Some(t) = only_input[c] {
                    if consumers[t] == 1 && tasks.contains(&t) {
                        out[t] = true;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tree::{Dag as D, Parallel as P, Series as S, Task as T};
    use super::*;

    fn lowered(deps: &[Vec<usize>]) -> Option<Tree> {
        lower(deps, &vec![true; deps.len()])
    }

    #[test]
    fn chain() {
        assert_eq!(
            lowered(&[vec![], vec![0], vec![1]]),
            Some(S(vec![T(0), T(1), T(2)]))
        );
    }

    #[test]
    fn diamond() {
        // a -> b, a -> c, b -> d, c -> d
        let deps = [vec![], vec![0], vec![0], vec![1, 2]];
        assert_eq!(
            lowered(&deps),
            Some(S(vec![T(0), P(vec![T(1), T(2)]), T(3)]))
        );
    }

    #[test]
    fn fan_in() {
        let deps = [vec![], vec![], vec![], vec![0, 1, 2]];
        assert_eq!(
            lowered(&deps),
            Some(S(vec![P(vec![T(0), T(1), T(2)]), T(3)]))
        );
    }

    #[test]
    fn two_chains_meeting_again_are_series_parallel() {
        // a -> c, b -> d, (c, d) -> e: no barrier between {a, b} and {c, d}.
        let deps = [vec![], vec![], vec![0], vec![1], vec![2, 3]];
        assert_eq!(
            lowered(&deps),
            Some(S(vec![
                P(vec![S(vec![T(0), T(2)]), S(vec![T(1), T(3)])]),
                T(4)
            ]))
        );
    }

    #[test]
    fn n_graph_is_a_dag() {
        // a -> c, a -> d, b -> d
        let deps = [vec![], vec![], vec![0], vec![0, 1]];
        assert_eq!(lowered(&deps), Some(D(vec![0, 1, 2, 3])));
    }

    #[test]
    fn only_the_prime_part_is_a_dag() {
        // x -> {a, b}; N over a, b, c, d; {c, d} -> y
        let deps = [
            vec![],     // 0 x
            vec![0],    // 1 a
            vec![0],    // 2 b
            vec![1],    // 3 c
            vec![1, 2], // 4 d
            vec![3, 4], // 5 y
        ];
        assert_eq!(
            lowered(&deps),
            Some(S(vec![T(0), D(vec![1, 2, 3, 4]), T(5)]))
        );
    }

    #[test]
    fn independent_chains_run_in_parallel() {
        // a -> b, c -> d, e
        let deps = [vec![], vec![0], vec![], vec![2], vec![]];
        assert_eq!(
            lowered(&deps),
            Some(P(vec![S(vec![T(0), T(1)]), S(vec![T(2), T(3)]), T(4)]))
        );
    }

    #[test]
    fn unscheduled_tasks_are_left_out() {
        let deps = [vec![], vec![], vec![1]];
        assert_eq!(
            lower(&deps, &[true, false, true]),
            Some(P(vec![T(0), T(2)]))
        );
    }

    #[test]
    fn single_and_empty() {
        assert_eq!(lowered(&[vec![]]), Some(T(0)));
        assert_eq!(lowered(&[]), None);
    }

    /// Every precedence the tree imposes (a step before the next) must be one the DAG
    /// has: checked on random DAGs.
    #[test]
    fn the_tree_imposes_no_order_the_dag_lacks() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let n = (next() % 14) as usize + 1;
            let deps: Vec<Vec<usize>> = (0..n)
                .map(|t| (0..t).filter(|_| next() % 4 == 0).collect())
                .collect();
            let order = Order::new(&deps);
            let tree = lowered(&deps).expect("tasks");
            assert_eq!(tree.tasks().len(), n);
            check(&tree, &order);
        }
        fn check(tree: &Tree, order: &Order) {
            if let Tree::Series(steps) = tree {
                for (i, a) in steps.iter().enumerate() {
                    for b in &steps[i + 1..] {
                        for x in a.tasks() {
                            for y in b.tasks() {
                                assert!(order.related[y].contains(x), "{x} !< {y}: {tree:?}");
                            }
                        }
                    }
                }
            }
            if let Tree::Series(c) | Tree::Parallel(c) = tree {
                c.iter().for_each(|c| check(c, order));
            }
        }
    }

    #[test]
    fn fusion_marks_chains_only() {
        // chain a -> b -> c, output uses c
        let tree = S(vec![T(0), T(1), T(2)]);
        let only = [None, Some(0), Some(1)];
        assert_eq!(fused(&tree, &only, &[1, 1, 1]), vec![true, true, false]);
        // diamond: a has two consumers, b and c run in parallel
        let tree = S(vec![T(0), P(vec![T(1), T(2)]), T(3)]);
        let only = [None, Some(0), Some(0), None];
        assert_eq!(fused(&tree, &only, &[2, 1, 1, 1]), vec![false; 4]);
        // inside a dag: a -> a2 is a chain
        let tree = D(vec![0, 1, 2, 3, 4]);
        let only = [None, Some(0), None, None, None];
        assert_eq!(
            fused(&tree, &only, &[1, 2, 1, 1, 1]),
            vec![true, false, false, false, false]
        );
    }
}
