//! Writes the code of a lowered graph: typed locals, closures and nested `join`s.
//!
//! Every task is `__exec.task("key", || EXPR)` bound to the user's own identifier, so the
//! user's expressions resolve against ordinary locals and keep their spans. A `Series`
//! is straight-line code; a `Parallel` is a balanced tree of `__exec.join`s whose
//! branches return the tuple of bindings they define that are needed later, destructured
//! by the parent (`let ((a, b), (c,)) = __exec.join(..)`).
//!
//! Closures are not `move`: Rust 2021 captures each binding by reference where the task
//! borrows it and by value where the task consumes it. A binding consumed by one child
//! but still needed afterwards, or by a concurrent sibling, gets a clone made before the
//! child starts, and the child shadows the binding with it (`let a = __dagwood_clone_..;`)
//! so the user's tokens need no rewriting.

use super::analyse::{task_ids, BindingId, Graph, Use};
use super::lower::{self, Tree};
use super::uses::Mode;
use crate::errors::key_of;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::{BTreeMap, BTreeSet};
use syn::{Expr, LitStr, Type};

pub(crate) fn generate(g: &Graph) -> TokenStream {
    let tree = lower::lower(&g.task_deps());
    let mut gen = Gen {
        g,
        exec: internal("__exec"),
        clones: 0,
    };
    let output_live: BTreeSet<BindingId> = g.output.uses.iter().map(|u| u.binding).collect();
    let body = tree
        .as_ref()
        .map(|t| gen.stmts(t, &output_live))
        .unwrap_or_default();
    let output = gen.output();
    let items = &g.items;
    let info = graph_info(g, tree.as_ref());
    let info_name = internal("__DAGWOOD_INFO");
    let exec = &gen.exec;
    let body = quote! {
        #(#items)*
        #body
        #output
    };

    match &g.params {
        None => quote! {{
            static #info_name: ::dagwood::__private::GraphInfo = #info;
            ::dagwood::__private::StaticGraph::new(
                &#info_name,
                |#exec: &::dagwood::__private::Exec| { #body },
            )
        }},
        Some(params) => {
            let names: Vec<&Ident> = params.list.iter().map(|p| &p.ident).collect();
            let tys: Vec<&Type> = params.list.iter().map(|p| &p.ty).collect();
            let ret = &params.ret;
            quote! {{
                static #info_name: ::dagwood::__private::GraphInfo = #info;
                ::dagwood::__private::GraphFn::<_, (#(#tys,)*)>::new(
                    &#info_name,
                    |#exec: &::dagwood::__private::Exec, #(#names: #tys),*| #ret { #body },
                )
            }}
        }
    }
}

/// A mixed-site identifier: invisible to, and unshadowable by, the user's tokens.
fn internal(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// `let <binding> = <clone>;` at the start of a child that got its own clone.
struct Rebind {
    binding: BindingId,
    /// The user's identifier of the binding: the user's tokens inside the child resolve
    /// to the local it declares.
    user: Ident,
    clone: Ident,
}

impl Rebind {
    fn stmt(&self) -> TokenStream {
        let (user, clone) = (&self.user, &self.clone);
        quote!(let #user = #clone;)
    }
}

struct Gen<'g> {
    g: &'g Graph,
    exec: Ident,
    /// Counter making clone names unique.
    clones: usize,
}

impl Gen<'_> {
    /// Statements running `node`; afterwards the tasks of `node` that are in `live_after`
    /// (needed by later steps or the output) are locals under the user's names.
    fn stmts(&mut self, node: &Tree, live_after: &BTreeSet<BindingId>) -> TokenStream {
        match node {
            Tree::Task(t) => self.task(*t, &[]),
            Tree::Series(steps) => self.series(steps, live_after),
            Tree::Parallel(branches) => self.parallel(branches, live_after),
        }
    }

    fn series(&mut self, steps: &[Tree], live_after: &BTreeSet<BindingId>) -> TokenStream {
        let step_uses: Vec<BTreeMap<BindingId, Use>> =
            steps.iter().map(|s| self.free_uses(s)).collect();
        let mut out = TokenStream::new();
        for (i, step) in steps.iter().enumerate() {
            let mut later = live_after.clone();
            for uses in &step_uses[i + 1..] {
                later.extend(uses.keys().copied());
            }
            // A step consuming a binding that is still needed afterwards gets a clone.
            let mut rebinds = Vec::new();
            for u in step_uses[i].values() {
                if u.mode == Mode::ByValue && later.contains(&u.binding) {
                    out.extend(self.clone_for(u, &mut rebinds));
                }
            }
            out.extend(self.scoped(step, &later, &rebinds));
        }
        out
    }

    fn parallel(&mut self, branches: &[Tree], live_after: &BTreeSet<BindingId>) -> TokenStream {
        let uses: Vec<BTreeMap<BindingId, Use>> =
            branches.iter().map(|b| self.free_uses(b)).collect();
        let all: BTreeSet<BindingId> = uses.iter().flat_map(|u| u.keys().copied()).collect();
        let mut out = TokenStream::new();
        let mut rebinds: Vec<Vec<Rebind>> = branches.iter().map(|_| Vec::new()).collect();
        for b in all {
            let mode_in = |i: usize| uses[i].get(&b).map(|u| u.mode);
            let consumers: Vec<usize> = (0..branches.len())
                .filter(|&i| mode_in(i) == Some(Mode::ByValue))
                .collect();
            let borrowed = (0..branches.len()).any(|i| mode_in(i) == Some(Mode::ByRef));
            // The original may be moved into one branch only if no other branch borrows it
            // meanwhile and nothing needs it after the join; every other consumer gets a
            // clone, made before the join starts.
            let may_move = !borrowed && !live_after.contains(&b);
            for (k, &i) in consumers.iter().enumerate() {
                if may_move && k == 0 {
                    continue;
                }
                if let Some(u) = uses[i].get(&b) {
                    out.extend(self.clone_for(u, &mut rebinds[i]));
                }
            }
        }
        let mut parts = Vec::new();
        for (branch, rebinds) in branches.iter().zip(&rebinds) {
            let outs = self.outs(branch, live_after);
            let inner_live = without(live_after, rebinds);
            let body = self.stmts(branch, &inner_live);
            let binds = rebinds.iter().map(Rebind::stmt);
            let tail = tuple(&outs);
            parts.push((quote!({ #(#binds)* #body #tail }), quote!((#(#outs,)*))));
        }
        let (expr, pat) = self.join(&parts);
        out.extend(quote!(let #pat = #expr;));
        out
    }

    /// Balanced nesting of two-way joins over `parts` (branch body, result pattern).
    fn join(&self, parts: &[(TokenStream, TokenStream)]) -> (TokenStream, TokenStream) {
        match parts {
            [] => (quote!(()), quote!(())),
            [one] => one.clone(),
            _ => {
                let mid = parts.len().div_ceil(2);
                let (le, lp) = self.join(&parts[..mid]);
                let (re, rp) = self.join(&parts[mid..]);
                let exec = &self.exec;
                (quote!(#exec.join(|| #le, || #re)), quote!((#lp, #rp)))
            }
        }
    }

    /// `step` with its own clones: inside a task's closure for a task, else in a block
    /// that hands back what the rest needs.
    fn scoped(
        &mut self,
        step: &Tree,
        live_after: &BTreeSet<BindingId>,
        rebinds: &[Rebind],
    ) -> TokenStream {
        if rebinds.is_empty() {
            return self.stmts(step, live_after);
        }
        if let Tree::Task(t) = step {
            return self.task(*t, rebinds);
        }
        let outs = self.outs(step, live_after);
        let body = self.stmts(step, &without(live_after, rebinds));
        let binds = rebinds.iter().map(Rebind::stmt);
        let tail = tuple(&outs);
        quote!(let (#(#outs,)*) = { #(#binds)* #body #tail };)
    }

    /// Emits `let __dagwood_clone_a_N = Clone::clone(&a);` for the use `u`, spanned at the
    /// user's mention (a missing `Clone` is reported there), and records the rebind.
    fn clone_for(&mut self, u: &Use, rebinds: &mut Vec<Rebind>) -> TokenStream {
        let user = self.g.ident(u.binding).clone();
        let plain = key_of(&user);
        let clone = format_ident!(
            "__dagwood_clone_{}_{}",
            plain,
            self.clones,
            span = Span::mixed_site()
        );
        self.clones += 1;
        let mention = &u.ident;
        let stmt = quote_spanned!(mention.span()=>
            let #clone = ::core::clone::Clone::clone(&#mention);
        );
        rebinds.push(Rebind {
            binding: u.binding,
            user,
            clone,
        });
        stmt
    }

    fn task(&self, t: usize, rebinds: &[Rebind]) -> TokenStream {
        let task = &self.g.tasks[t];
        let key = LitStr::new(&key_of(&task.ident), task.ident.span());
        let call = self.task_call(&key, &task.expr, task.ty.as_ref(), task.fallible, rebinds);
        let ident = &task.ident;
        quote!(let #ident = #call;)
    }

    fn task_call(
        &self,
        key: &LitStr,
        expr: &Expr,
        ty: Option<&Type>,
        fallible: bool,
        rebinds: &[Rebind],
    ) -> TokenStream {
        let exec = &self.exec;
        let binds = rebinds.iter().map(Rebind::stmt);
        let body = if rebinds.is_empty() && ty.is_none() {
            quote!(#expr)
        } else {
            quote!({ #(#binds)* #expr })
        };
        // A `let a: T` annotation types the closure, so inference inside the user's
        // expression (`collect()`, `parse()`) sees it.
        let ret = match (ty, fallible) {
            (None, _) => quote!(),
            (Some(ty), false) => quote!(-> #ty),
            (Some(ty), true) => quote!(-> ::core::result::Result<#ty, _>),
        };
        if fallible {
            quote!(#exec.try_task(#key, || #ret #body))
        } else {
            quote!(#exec.task(#key, || #ret #body))
        }
    }

    /// The graph's result: the named binding, or the output expression as a last task.
    fn output(&self) -> TokenStream {
        let o = &self.g.output;
        if o.binding.is_some() {
            let e = &o.expr;
            return quote!(#e);
        }
        let key = LitStr::new("output", Span::call_site());
        self.task_call(&key, &o.expr, None, o.fallible, &[])
    }

    /// The uses by the tasks of `node` of bindings defined outside it, one per binding,
    /// `ByValue` if any task consumes it.
    fn free_uses(&self, node: &Tree) -> BTreeMap<BindingId, Use> {
        let defs = node.tasks();
        let mut out: BTreeMap<BindingId, Use> = BTreeMap::new();
        for &t in &defs {
            for u in &self.g.tasks[t].uses {
                if matches!(u.binding, BindingId::Task(d) if defs.contains(&d)) {
                    continue;
                }
                match out.get(&u.binding) {
                    Some(prev) if prev.mode >= u.mode => {}
                    _ => {
                        out.insert(u.binding, u.clone());
                    }
                }
            }
        }
        out
    }

    /// The user identifiers of the tasks of `node` needed after it, in task order.
    fn outs(&self, node: &Tree, live_after: &BTreeSet<BindingId>) -> Vec<Ident> {
        node.tasks()
            .into_iter()
            .filter(|&t| live_after.contains(&BindingId::Task(t)))
            .map(|t| self.g.tasks[t].ident.clone())
            .collect()
    }
}

/// The tail expression handing `outs` back as a tuple; nothing for none (the block is
/// then `()` already, and an explicit `()` would draw `clippy::unused_unit`).
fn tuple(outs: &[Ident]) -> Option<TokenStream> {
    (!outs.is_empty()).then(|| quote!((#(#outs,)*)))
}

/// `live` without the bindings that `rebinds` shadow: inside the child, those names refer
/// to its private clones, which nothing uses after it.
fn without(live: &BTreeSet<BindingId>, rebinds: &[Rebind]) -> BTreeSet<BindingId> {
    let mut out = live.clone();
    for r in rebinds {
        out.remove(&r.binding);
    }
    out
}

/// The `GraphInfo` literal: tasks in definition order (key, task inputs, fusion), the
/// tasks the output reads, and the parameter names.
fn graph_info(g: &Graph, tree: Option<&Tree>) -> TokenStream {
    let n = g.tasks.len();
    let mut consumers = vec![0usize; n];
    for uses in g.tasks.iter().map(|t| &t.uses).chain([&g.output.uses]) {
        for t in task_ids(uses) {
            consumers[t] += 1;
        }
    }
    let only_input: Vec<Option<usize>> = g
        .tasks
        .iter()
        .map(|t| match t.uses.as_slice() {
            [Use {
                binding: BindingId::Task(d),
                ..
            }] => Some(*d),
            _ => None,
        })
        .collect();
    let fused = tree.map_or_else(
        || vec![false; n],
        |t| lower::fused(t, &only_input, &consumers),
    );

    let tasks = g.tasks.iter().zip(&fused).map(|(t, fused)| {
        let key = LitStr::new(&key_of(&t.ident), t.ident.span());
        let inputs = task_ids(&t.uses);
        quote! {
            ::dagwood::__private::TaskInfo {
                key: #key,
                inputs: &[#(#inputs),*],
                fused_with_next: #fused,
            }
        }
    });
    let output_inputs = task_ids(&g.output.uses);
    let output_is_task = g.output.binding.is_none();
    let params = g
        .params
        .iter()
        .flat_map(|p| &p.list)
        .map(|p| LitStr::new(&key_of(&p.ident), p.ident.span()));
    quote! {
        ::dagwood::__private::GraphInfo {
            tasks: &[#(#tasks),*],
            output_inputs: &[#(#output_inputs),*],
            output_is_task: #output_is_task,
            params: &[#(#params),*],
        }
    }
}
