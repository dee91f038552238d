//! Turns parsed `let`s into a checked DAG: who uses which binding, and how.
//!
//! Dependencies are found by name (see [`super::uses`]); names that are not graph bindings
//! are outer variables, functions or typos and left to rustc, whose errors then point at
//! the user's token. Checks, each a spanned compile error: duplicate names, cycles
//! (reported before ordering so `a -> b -> a` reads as what it is), uses before
//! definition, and bindings nobody uses (unless named `_x`: run for side effects).

use super::parse::{GraphInput, LetTask, Param, Params, TaskExpr};
use super::uses::{self, Mode};
use crate::errors::Errors;
use proc_macro2::Ident;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use syn::{Expr, Item, Type};

/// A graph binding: a parameter of the closure form or a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum BindingId {
    Param(usize),
    Task(usize),
}

/// How one task (or the output) uses one binding, aggregated over all its mentions.
#[derive(Clone, Debug)]
pub(crate) struct Use {
    pub binding: BindingId,
    pub mode: Mode,
    /// The first mention with the dominant mode; spans generated code that exists because
    /// of it (a clone), so its errors point there.
    pub ident: Ident,
}

pub(crate) struct Task {
    pub ident: Ident,
    pub ty: Option<Type>,
    pub expr: Expr,
    pub fallible: bool,
    /// In order of first mention; all refer to parameters or earlier tasks.
    pub uses: Vec<Use>,
}

pub(crate) struct Output {
    pub expr: Expr,
    pub fallible: bool,
    /// The output is just this binding's name: it is returned, not run as a task.
    pub binding: Option<BindingId>,
    pub uses: Vec<Use>,
}

/// A checked graph.
pub(crate) struct Graph {
    /// The `#![distributed]` attribute: generate `Delayed` handles instead.
    pub distributed: Option<syn::Attribute>,
    /// `Some` for the closure form.
    pub params: Option<Params>,
    pub items: Vec<Item>,
    pub tasks: Vec<Task>,
    pub output: Output,
}

impl Graph {
    pub(crate) fn ident(&self, b: BindingId) -> &Ident {
        match b {
            BindingId::Param(p) => match &self.params {
                Some(params) => &params.list[p].ident,
                None => unreachable!("parameter ids exist only in the closure form"),
            },
            BindingId::Task(t) => &self.tasks[t].ident,
        }
    }

    /// `deps[t]`: the tasks task `t` uses (all earlier than `t`), ascending.
    pub(crate) fn task_deps(&self) -> Vec<Vec<usize>> {
        self.tasks.iter().map(|t| task_ids(&t.uses)).collect()
    }
}

/// The task indices among `uses`, ascending.
pub(crate) fn task_ids(uses: &[Use]) -> Vec<usize> {
    let mut ids: Vec<usize> = uses
        .iter()
        .filter_map(|u| match u.binding {
            BindingId::Task(t) => Some(t),
            BindingId::Param(_) => None,
        })
        .collect();
    ids.sort_unstable();
    ids
}

pub(crate) fn analyse(input: GraphInput) -> syn::Result<Graph> {
    let mut errors = Errors::default();

    // Names, rejecting duplicates (a later `let a` would silently shadow the earlier task).
    let mut names: HashMap<String, BindingId> = HashMap::new();
    let no_params = Vec::new();
    let params: &[Param] = input.params.as_ref().map_or(&no_params, |p| &p.list);
    let defined = params
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.ident, BindingId::Param(i)))
        .chain(
            input
                .tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (&t.ident, BindingId::Task(i))),
        );
    for (ident, id) in defined {
        let name = ident.to_string();
        match names.entry(name) {
            Entry::Occupied(e) => errors.push(syn::Error::new_spanned(
                ident,
                format!(
                    "binding `{}` is defined twice in this graph; rename one of them",
                    e.key()
                ),
            )),
            Entry::Vacant(e) => {
                e.insert(id);
            }
        }
    }
    errors.check()?;
    let name_set: HashSet<String> = names.keys().cloned().collect();

    // Uses of every task, including (for now) forward and self references.
    let scan = |expr: &Expr| -> Vec<Use> { aggregate(uses::scan(expr, &name_set), &names) };
    let task_uses: Vec<Vec<Use>> = input.tasks.iter().map(|t| scan(&t.body.expr)).collect();
    let output_uses = scan(&input.output.expr);

    if let Some(e) = find_cycle(&input.tasks, &task_uses) {
        return Err(e);
    }
    for (i, uses) in task_uses.iter().enumerate() {
        for u in uses {
            if matches!(u.binding, BindingId::Task(j) if j > i) {
                errors.push(syn::Error::new_spanned(
                    &u.ident,
                    format!("binding `{}` is used before it is defined", u.ident),
                ));
            }
        }
    }
    errors.check()?;

    // Unused tasks: almost always a mistake (a typo in a consumer, or a forgotten output).
    let mut used = vec![false; input.tasks.len()];
    for u in task_uses
        .iter()
        .chain(std::iter::once(&output_uses))
        .flatten()
    {
        if let BindingId::Task(t) = u.binding {
            used[t] = true;
        }
    }
    for (t, task) in input.tasks.iter().enumerate() {
        let name = task.ident.to_string();
        if !used[t] && !name.starts_with('_') {
            errors.push(syn::Error::new_spanned(
                &task.ident,
                format!(
                    "task `{name}` is never used; prefix it with `_` to run it only for its \
                     side effects"
                ),
            ));
        }
    }
    errors.check()?;

    let output_binding = match &input.output.expr {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() && !input.output.fallible => p
            .path
            .get_ident()
            .and_then(|i| names.get(&i.to_string()).copied()),
        _ => None,
    };
    let GraphInput {
        distributed,
        params,
        items,
        tasks,
        output,
    } = input;
    let tasks = tasks
        .into_iter()
        .zip(task_uses)
        .map(
            |(
                LetTask {
                    ident,
                    ty,
                    body: TaskExpr { expr, fallible },
                },
                uses,
            )| Task {
                ident,
                ty,
                expr,
                fallible,
                uses,
            },
        )
        .collect();
    Ok(Graph {
        distributed,
        params,
        items,
        tasks,
        output: Output {
            expr: output.expr,
            fallible: output.fallible,
            binding: output_binding,
            uses: output_uses,
        },
    })
}

/// One [`Use`] per binding, in order of first mention; `ByValue` wins over `ByRef`.
fn aggregate(occurrences: Vec<uses::Occurrence>, names: &HashMap<String, BindingId>) -> Vec<Use> {
    let mut out: Vec<Use> = Vec::new();
    let mut index: BTreeMap<BindingId, usize> = BTreeMap::new();
    for o in occurrences {
        let Some(&binding) = names.get(&o.ident.to_string()) else {
            continue;
        };
        match index.get(&binding) {
            Some(&i) => {
                if o.mode > out[i].mode {
                    out[i].mode = o.mode;
                    out[i].ident = o.ident;
                }
            }
            None => {
                index.insert(binding, out.len());
                out.push(Use {
                    binding,
                    mode: o.mode,
                    ident: o.ident,
                });
            }
        }
    }
    out
}

/// The first cycle among tasks (by depth-first search from each task in order), as an
/// error at the mention that starts it: `cycle: a -> b -> a`.
fn find_cycle(tasks: &[LetTask], uses: &[Vec<Use>]) -> Option<syn::Error> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnStack,
        Done,
    }
    fn visit(
        t: usize,
        uses: &[Vec<Use>],
        state: &mut [State],
        stack: &mut Vec<(usize, Option<Ident>)>,
    ) -> Option<Vec<(usize, Option<Ident>)>> {
        state[t] = State::OnStack;
        for u in &uses[t] {
            let BindingId::Task(next) = u.binding else {
                continue;
            };
            // `stack` holds the path to `t`; each entry carries the mention leading onward.
            stack.push((t, Some(u.ident.clone())));
            match state[next] {
                State::OnStack => {
                    let start = stack.iter().position(|(s, _)| *s == next).unwrap_or(0);
                    return Some(stack[start..].to_vec());
                }
                State::New => {
                    if let Some(c) = visit(next, uses, state, stack) {
                        return Some(c);
                    }
                }
                State::Done => {}
            }
            stack.pop();
        }
        state[t] = State::Done;
        None
    }

    let mut state = vec![State::New; tasks.len()];
    for t in 0..tasks.len() {
        if state[t] != State::New {
            continue;
        }
        let mut stack = Vec::new();
        if let Some(cycle) = visit(t, uses, &mut state, &mut stack) {
            let (first, mention) = &cycle[0];
            let mut path: Vec<String> = cycle
                .iter()
                .map(|(n, _)| tasks[*n].ident.to_string())
                .collect();
            path.push(tasks[*first].ident.to_string());
            let msg = format!("cycle: {}", path.join(" -> "));
            return Some(match mention {
                Some(m) => syn::Error::new_spanned(m, msg),
                None => syn::Error::new_spanned(&tasks[*first].ident, msg),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::parse;

    pub(crate) fn analysed(src: &str) -> syn::Result<Graph> {
        let tokens: proc_macro2::TokenStream = src.parse().expect("test input tokenizes");
        analyse(parse::parse(tokens)?)
    }

    fn err(src: &str) -> String {
        match analysed(src) {
            Ok(_) => panic!("expected an error for {src}"),
            Err(e) => e.to_string(),
        }
    }

    fn deps_and_modes(g: &Graph) -> Vec<Vec<(String, Mode)>> {
        g.tasks
            .iter()
            .map(|t| &t.uses)
            .chain(std::iter::once(&g.output.uses))
            .map(|uses| {
                uses.iter()
                    .map(|u| (g.ident(u.binding).to_string(), u.mode))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn dependencies_and_modes() {
        let g = analysed("let a = load(); let b = f(&a); let c = g(a, b.len()); h(c, b, outer)")
            .expect("valid graph");
        let m = |n: &str, m: Mode| (n.to_string(), m);
        assert_eq!(
            deps_and_modes(&g),
            vec![
                vec![],
                vec![m("a", Mode::ByRef)],
                vec![m("a", Mode::ByValue), m("b", Mode::ByRef)],
                vec![m("c", Mode::ByValue), m("b", Mode::ByValue)],
            ]
        );
        assert_eq!(g.task_deps(), vec![vec![], vec![0], vec![0, 1]]);
        assert!(g.output.binding.is_none());
    }

    #[test]
    fn by_value_dominates() {
        let g = analysed("let a = 1; let b = f(&a, a); b").expect("valid graph");
        assert_eq!(g.tasks[1].uses[0].mode, Mode::ByValue);
        assert_eq!(g.output.binding, Some(BindingId::Task(1)));
    }

    #[test]
    fn params_are_bindings() {
        let g = analysed("|x: i32, y: Vec<i32>| { let a = x + 1; let b = y.len(); (a, b) }")
            .expect("valid graph");
        assert_eq!(g.tasks[0].uses[0].binding, BindingId::Param(0));
        assert_eq!(g.tasks[1].uses[0].binding, BindingId::Param(1));
        assert_eq!(g.tasks[1].uses[0].mode, Mode::ByRef);
    }

    #[test]
    fn fallible_tasks() {
        let g = analysed("let a = parse(s)?; let b: u8 = a?; b").expect("valid graph");
        assert!(g.tasks[0].fallible && g.tasks[1].fallible);
        assert!(g.tasks[1].ty.is_some());
    }

    #[test]
    fn cycles() {
        assert_eq!(err("let a = f(b); let b = g(a); b"), "cycle: a -> b -> a");
        assert_eq!(err("let a = a + 1; a"), "cycle: a -> a");
        assert_eq!(
            err("let x = 1; let a = f(c, x); let b = g(a); let c = h(b); c"),
            "cycle: a -> c -> b -> a"
        );
    }

    #[test]
    fn checks() {
        assert_eq!(
            err("let a = f(b); let b = 1; a"),
            "binding `b` is used before it is defined"
        );
        assert!(err("let a = 1; let a = 2; a").contains("defined twice"));
        assert!(err("|a: i32| { let a = 2; a }").contains("defined twice"));
        assert!(err("let x = 1; let y = 2; y").starts_with("task `x` is never used"));
        assert!(analysed("let _x = 1; let y = 2; y").is_ok());
        assert!(err("").starts_with("empty graph"));
        assert!(err("|x: i32| {}").starts_with("empty graph"));
        assert!(err("let a = 1;").contains("output expression"));
        assert!(err("let a = 1; a;").contains("remove this `;`"));
        assert!(err("let (a, b) = (1, 2); a").contains("plain identifiers"));
        assert!(err("let a; a").contains("no initializer"));
        assert!(err("let mut a = 1; a").contains("immutable"));
        assert!(err("let _ = 1; 2").contains("must be named"));
        assert!(err("f(); 2").contains("only `let` bindings"));
        assert!(err("|x| { x }").contains("type annotation"));
        assert!(err("move |x: i32| { x }").contains("drop `move`"));
    }
}
