//! Lowers the task DAG into a series-parallel tree that code can follow directly.
//!
//! `lower(G)`: a single task is a `Task`; several weakly connected components run as a
//! `Parallel` of their lowerings; otherwise the sources run first (in parallel), then the
//! rest: `Series[Parallel(sources), lower(G - sources)]`. Nested series are flattened and
//! a parallel of one is its only child, so chains become plain sequences of statements.
//!
//! This is exact for series-parallel DAGs and conservative otherwise (an "N" graph
//! `a->c, a->d, b->d` waits for `b` before starting `c`): the price of generating nested
//! `join`s instead of a dynamic scheduler.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tree {
    Task(usize),
    /// Two or more steps, one after the other; no step is itself a `Series`.
    Series(Vec<Tree>),
    /// Two or more independent branches; no branch is itself a `Parallel`.
    Parallel(Vec<Tree>),
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
            Tree::Series(c) | Tree::Parallel(c) => c.iter().for_each(|c| c.collect(out)),
        }
    }
}

/// Lowers the DAG where `deps[t]` lists the tasks `t` depends on; `None` without tasks.
pub(crate) fn lower(deps: &[Vec<usize>]) -> Option<Tree> {
    let all: BTreeSet<usize> = (0..deps.len()).collect();
    (!all.is_empty()).then(|| lower_set(&all, deps))
}

fn lower_set(set: &BTreeSet<usize>, deps: &[Vec<usize>]) -> Tree {
    if set.len() == 1 {
        // A one-element set always has a first element.
        return Tree::Task(set.iter().next().copied().unwrap_or_default());
    }
    let components = components(set, deps);
    if components.len() > 1 {
        return Tree::Parallel(components.iter().map(|c| lower_set(c, deps)).collect());
    }
    let sources: BTreeSet<usize> = set
        .iter()
        .copied()
        .filter(|&t| !deps[t].iter().any(|d| set.contains(d)))
        .collect();
    let rest: BTreeSet<usize> = set.difference(&sources).copied().collect();
    let first = parallel(sources.into_iter().map(Tree::Task).collect());
    // The set is connected with more than one task, so it has an edge, hence a task
    // with a dependency inside it: `rest` is not empty.
    let mut steps = vec![first];
    match lower_set(&rest, deps) {
        Tree::Series(more) => steps.extend(more),
        other => steps.push(other),
    }
    Tree::Series(steps)
}

fn parallel(mut branches: Vec<Tree>) -> Tree {
    if branches.len() == 1 {
        branches.remove(0)
    } else {
        Tree::Parallel(branches)
    }
}

/// Weakly connected components of `set` (edges restricted to it), ordered by their
/// smallest task.
fn components(set: &BTreeSet<usize>, deps: &[Vec<usize>]) -> Vec<BTreeSet<usize>> {
    // Union-find over the tasks of the set.
    let mut parent: BTreeMap<usize, usize> = set.iter().map(|&t| (t, t)).collect();
    fn root(parent: &mut BTreeMap<usize, usize>, mut t: usize) -> usize {
        while let Some(&p) = parent.get(&t) {
            if p == t {
                break;
            }
            t = p;
        }
        t
    }
    for &t in set {
        for &d in deps[t].iter().filter(|d| set.contains(d)) {
            let (a, b) = (root(&mut parent, t), root(&mut parent, d));
            if a != b {
                parent.insert(a.max(b), a.min(b));
            }
        }
    }
    let mut groups: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for &t in set {
        let r = root(&mut parent, t);
        groups.entry(r).or_default().insert(t);
    }
    let mut out: Vec<BTreeSet<usize>> = groups.into_values().collect();
    out.sort_by_key(|c| c.iter().next().copied());
    out
}

/// Chain fusion, for `TaskInfo::fused_with_next`: task `t` is fused with the next step
/// when that step is a single task `c`, `t` is the only input of `c` (`only_input[c]`,
/// counting tasks and parameters alike) and `c` the only consumer of `t` (`consumers[t]`, the output
/// included). The generated code then runs them back to back on one thread.
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
    }
}

#[cfg(test)]
mod tests {
    use super::Tree::{Parallel as P, Series as S, Task as T};
    use super::*;

    #[test]
    fn chain() {
        assert_eq!(
            lower(&[vec![], vec![0], vec![1]]),
            Some(S(vec![T(0), T(1), T(2)]))
        );
    }

    #[test]
    fn diamond() {
        // a -> b, a -> c, b -> d, c -> d
        let deps = [vec![], vec![0], vec![0], vec![1, 2]];
        assert_eq!(lower(&deps), Some(S(vec![T(0), P(vec![T(1), T(2)]), T(3)])));
    }

    #[test]
    fn fan_in() {
        let deps = [vec![], vec![], vec![], vec![0, 1, 2]];
        assert_eq!(lower(&deps), Some(S(vec![P(vec![T(0), T(1), T(2)]), T(3)])));
    }

    #[test]
    fn n_graph() {
        // a -> c, a -> d, b -> d
        let deps = [vec![], vec![], vec![0], vec![0, 1]];
        assert_eq!(
            lower(&deps),
            Some(S(vec![P(vec![T(0), T(1)]), P(vec![T(2), T(3)])]))
        );
    }

    #[test]
    fn independent_chains_run_in_parallel() {
        // a -> b, c -> d, e
        let deps = [vec![], vec![0], vec![], vec![2], vec![]];
        assert_eq!(
            lower(&deps),
            Some(P(vec![S(vec![T(0), T(1)]), S(vec![T(2), T(3)]), T(4)]))
        );
    }

    #[test]
    fn single_and_empty() {
        assert_eq!(lower(&[vec![]]), Some(T(0)));
        assert_eq!(lower(&[]), None);
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
    }
}
