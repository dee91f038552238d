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
    /// In order of first mention; all refer to parameters or earlier tasks. For a
    /// reduction fused with its fan-out, the fan-out's uses instead of the fan-out.
    pub uses: Vec<Use>,
    /// The tasks it reads as the user wrote it (for pictures), ascending.
    pub shown_inputs: Vec<usize>,
    pub kind: Kind,
}

/// What a binding runs.
pub(crate) enum Kind {
    /// One task: `expr`.
    Single,
    /// `for pat in iter { body }`: a task per element.
    FanOut(Box<FanOutTask>),
    /// `sum(parts, fan_in)` / `tree_reduce(parts, fan_in, combine)` over a fan-out.
    Reduce(Box<ReduceTask>),
}

pub(crate) struct FanOutTask {
    pub pat: syn::Pat,
    pub iter: Expr,
    pub body: Expr,
    pub fallible: bool,
    /// The names `pat` binds (they shadow graph bindings in `body`).
    pub bound: Vec<String>,
    /// The body's own uses, modes as written: a `ByValue` one is cloned per element.
    pub body_uses: Vec<Use>,
    /// The reduction that is this fan-out's only consumer: the two run as one
    /// map-reduce, and the fan-out's `Vec` is never built.
    pub fused_into: Option<usize>,
}

pub(crate) struct ReduceTask {
    /// The fan-out it reduces.
    pub source: usize,
    pub fan_in: Expr,
    /// The user's binary combine; `None` for `sum`.
    pub combine: Option<Expr>,
    /// Runs as one map-reduce with its source (see [`FanOutTask::fused_into`]).
    pub fused: bool,
}

impl Task {
    /// True for a fan-out fused into its reduction: it runs as part of that task.
    pub(crate) fn absorbed(&self) -> bool {
        matches!(&self.kind, Kind::FanOut(f) if f.fused_into.is_some())
    }
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

    /// `deps[t]`: the tasks task `t` waits for (all earlier than `t`), ascending. A
    /// fan-out absorbed by its reduction waits for nothing and nothing waits for it:
    /// the reduction stands for both.
    pub(crate) fn task_deps(&self) -> Vec<Vec<usize>> {
        self.tasks
            .iter()
            .map(|t| {
                if t.absorbed() {
                    Vec::new()
                } else {
                    task_ids(&t.uses)
                }
            })
            .collect()
    }

    /// The tasks that run as tasks of their own (all but absorbed fan-outs).
    pub(crate) fn scheduled(&self) -> Vec<bool> {
        self.tasks.iter().map(|t| !t.absorbed()).collect()
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

pub(crate) fn analyse(mut input: GraphInput) -> syn::Result<Graph> {
    let mut errors = Errors::default();
    for t in &input.tasks {
        if t.ident == "output" || t.ident == "r#output" {
            errors.push(syn::Error::new_spanned(
                &t.ident,
                "`output` is the key of the graph's output task; name this binding \
                 something else (`outputs`, `result`, ..)",
            ));
        }
    }
    errors.check()?;
    output_reduction(&mut input);

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
    if input.distributed.is_some() {
        for t in &input.tasks {
            if let Some(f) = &t.fan_out {
                errors.push(syn::Error::new_spanned(
                    f.for_token,
                    "a distributed graph has no fan-outs yet: build the element tasks \
                     with `lazy` in a loop and collect them (`Delayed<Vec<_>>`)",
                ));
            }
        }
    }
    errors.check()?;
    let name_set: HashSet<String> = names.keys().cloned().collect();
    let fan_outs: HashMap<String, usize> = input
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.fan_out.is_some())
        .map(|(i, t)| (t.ident.to_string(), i))
        .collect();

    // Uses of every task, including (for now) forward and self references.
    let scan = |expr: &Expr| -> Vec<Use> { aggregate(uses::scan(expr, &name_set), &names) };
    let mut kinds = Vec::with_capacity(input.tasks.len());
    let mut task_uses = Vec::with_capacity(input.tasks.len());
    for t in &input.tasks {
        let (kind, uses) = match &t.fan_out {
            Some(f) => {
                let bound = uses::pattern_names(&f.pat);
                let body_uses = aggregate(
                    uses::scan_in_scope(&f.body, &name_set, bound.clone()),
                    &names,
                );
                let borrowed = body_uses.iter().map(|u| Use {
                    mode: Mode::ByRef,
                    ..u.clone()
                });
                let uses = merge(scan(&f.iter), borrowed.collect());
                let kind = Kind::FanOut(Box::new(FanOutTask {
                    pat: f.pat.clone(),
                    iter: f.iter.clone(),
                    body: f.body.clone(),
                    fallible: f.fallible,
                    bound,
                    body_uses,
                    fused_into: None,
                }));
                (kind, uses)
            }
            None => match reduce_call(&t.body, &fan_outs) {
                Some(Ok(r)) => {
                    let mut uses = vec![Use {
                        binding: BindingId::Task(r.task.source),
                        mode: Mode::ByValue,
                        ident: r.source_ident,
                    }];
                    // The fan-in and the combine (called for many pairs at once) borrow
                    // what they name.
                    let rest = scan(&r.task.fan_in)
                        .into_iter()
                        .chain(r.task.combine.iter().flat_map(&scan))
                        .map(|u| Use {
                            mode: Mode::ByRef,
                            ..u
                        });
                    uses = merge(uses, rest.collect());
                    (Kind::Reduce(Box::new(r.task)), uses)
                }
                Some(Err(e)) => {
                    errors.push(e);
                    (Kind::Single, Vec::new())
                }
                None => (Kind::Single, scan(&t.body.expr)),
            },
        };
        kinds.push(kind);
        task_uses.push(uses);
    }
    errors.check()?;
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
    let mut consumers = vec![0usize; input.tasks.len()];
    for u in task_uses
        .iter()
        .chain(std::iter::once(&output_uses))
        .flatten()
    {
        if let BindingId::Task(t) = u.binding {
            consumers[t] += 1;
        }
    }
    for (t, task) in input.tasks.iter().enumerate() {
        let name = task.ident.to_string();
        if consumers[t] == 0 && !name.starts_with('_') {
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

    let shown_inputs: Vec<Vec<usize>> = task_uses.iter().map(|u| task_ids(u)).collect();
    // A fan-out whose only reader is a reduction of it runs as one map-reduce with it.
    for r in 0..kinds.len() {
        let Kind::Reduce(red) = &kinds[r] else {
            continue;
        };
        let f = red.source;
        if consumers[f] != 1 {
            continue;
        }
        if let Kind::Reduce(red) = &mut kinds[r] {
            red.fused = true;
        }
        if let Kind::FanOut(fan) = &mut kinds[f] {
            fan.fused_into = Some(r);
        }
        let own: Vec<Use> = task_uses[r]
            .iter()
            .filter(|u| u.binding != BindingId::Task(f))
            .cloned()
            .collect();
        task_uses[r] = merge(task_uses[f].clone(), own);
    }

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
        .zip(shown_inputs)
        .zip(kinds)
        .map(|(((t, uses), shown_inputs), kind)| Task {
            ident: t.ident,
            ty: t.ty,
            expr: t.body.expr,
            fallible: t.body.fallible,
            uses,
            shown_inputs,
            kind,
        })
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

/// An output that reduces a fan-out (`.. sum(parts, 8) }`) becomes a binding of its own,
/// named `output` (the output's key), so that it runs as a reduction too.
fn output_reduction(input: &mut GraphInput) {
    let fan_outs: HashMap<String, usize> = input
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.fan_out.is_some())
        .map(|(i, t)| (t.ident.to_string(), i))
        .collect();
    if reduce_call(&input.output, &fan_outs).is_none() {
        return;
    }
    let ident = Ident::new("output", proc_macro2::Span::mixed_site());
    let body = std::mem::replace(
        &mut input.output,
        TaskExpr {
            expr: syn::parse_quote!(#ident),
            fallible: false,
        },
    );
    input.tasks.push(LetTask {
        ident,
        ty: None,
        body,
        fan_out: None,
    });
}

/// A recognised reduction: its task, and the mention of its source.
struct ReduceCall {
    task: ReduceTask,
    source_ident: Ident,
}

/// `sum(parts, fan_in)` or `tree_reduce(parts, fan_in, combine)` (also written
/// `dagwood::sum`, ..) whose first argument names a fan-out: `None` for any other
/// expression, an error for a malformed one.
fn reduce_call(
    body: &TaskExpr,
    fan_outs: &HashMap<String, usize>,
) -> Option<syn::Result<ReduceCall>> {
    let Expr::Call(call) = &body.expr else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let name = match segments.as_slice() {
        [one] => one.as_str(),
        [crate_name, one] if crate_name == "dagwood" => one.as_str(),
        _ => return None,
    };
    let combine = match name {
        "sum" => false,
        "tree_reduce" => true,
        _ => return None,
    };
    let Some(Expr::Path(first)) = call.args.first() else {
        return None;
    };
    let source_ident = first.path.get_ident()?.clone();
    let &source = fan_outs.get(&source_ident.to_string())?;
    let args: Vec<&Expr> = call.args.iter().collect();
    let usage = if combine {
        format!("`tree_reduce({source_ident}, fan_in, |a, b| ..)`")
    } else {
        format!("`sum({source_ident}, fan_in)`")
    };
    let arity = if combine { 3 } else { 2 };
    if args.len() != arity {
        return Some(Err(syn::Error::new_spanned(
            call,
            format!(
                "a reduction of the fan-out `{source_ident}` is written {usage} (the \
                 fan-in is how many partials one combine takes, 2 or more)"
            ),
        )));
    }
    if body.fallible {
        return Some(Err(syn::Error::new_spanned(
            call,
            "a reduction cannot end in `?`: make the elements fallible instead \
             (`for x in xs { f(x)? }`)",
        )));
    }
    let fan_in = args[1].clone();
    if let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(n),
        ..
    }) = &fan_in
    {
        if n.base10_parse::<u64>().is_ok_and(|n| n < 2) {
            return Some(Err(syn::Error::new_spanned(
                n,
                "the fan-in of a reduction is how many partials one combine takes: 2 or more",
            )));
        }
    }
    Some(Ok(ReduceCall {
        task: ReduceTask {
            source,
            fan_in,
            combine: combine.then(|| args[2].clone()),
            fused: false,
        },
        source_ident,
    }))
}

/// `a` then the bindings of `b` not in `a`; a binding in both is `ByValue` if either is.
fn merge(mut a: Vec<Use>, b: Vec<Use>) -> Vec<Use> {
    for u in b {
        match a.iter_mut().find(|x| x.binding == u.binding) {
            Some(x) => {
                if u.mode > x.mode {
                    x.mode = u.mode;
                    x.ident = u.ident;
                }
            }
            None => a.push(u),
        }
    }
    a
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
