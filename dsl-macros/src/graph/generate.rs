//! Writes the code of a lowered graph: typed locals, closures and nested `join`s, and
//! dependency-counted pieces over typed slots where joins are not exact.
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
//!
//! A `Dag` piece (see [`super::lower`]) is a block: a [`Slot`] per result read inside it
//! or after it, the dependency counts, and one closure whose `match` runs unit `u` (a
//! task, or a fused chain) by index, handed to `Exec::dag`. A task there reads a slot by
//! reference (`let a = __slot.get();`, its mentions rewritten `(*a)`) or by value
//! (moved out when it is the last reader, cloned otherwise), so the move/clone rule holds
//! as in the joined code, decided when the task runs.
//!
//! [`Slot`]: https://docs.rs/dagwood-runtime

use super::analyse::{task_ids, BindingId, FanOutTask, Graph, Kind, ReduceTask, Use};
use super::lower::{self, Tree};
use super::uses::{self, Mode};
use crate::errors::key_of;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use syn::{Expr, LitStr, Type};

pub(crate) fn generate(g: &Graph) -> TokenStream {
    let deps = g.task_deps();
    let tree = lower::lower(&deps, &g.scheduled());
    let fused = fusion(g, tree.as_ref());
    let mut gen = Gen {
        g,
        exec: internal("__exec"),
        clones: 0,
        fused: &fused,
    };
    let output_live: BTreeSet<BindingId> = g.output.uses.iter().map(|u| u.binding).collect();
    let body = tree
        .as_ref()
        .map(|t| gen.stmts(t, &output_live))
        .unwrap_or_default();
    let output = gen.output();
    let items = &g.items;
    let info = graph_info(g, &fused);
    let info_name = internal("__DAGWOOD_INFO");
    let exec = &gen.exec;
    let out = internal("__dagwood_out");
    let body = quote! {
        #(#items)*
        #body
        let #out = #output;
        {
            // Lazy values (Delayed handles, collections) in the output are computed in
            // this run; anything else is returned as it is.
            #[allow(unused_imports)]
            use ::dagwood::__private::{EagerKind as _, LazyKind as _};
            (&::dagwood::__private::Probe::of(&#out))
                .__dagwood_kind()
                .resolve(#exec, #out)
        }
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

/// Which tasks are fused with their only consumer (see [`lower::fused`]).
fn fusion(g: &Graph, tree: Option<&Tree>) -> Vec<bool> {
    let n = g.tasks.len();
    let consumers = consumer_counts(g);
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
    tree.map_or_else(
        || vec![false; n],
        |t| lower::fused(t, &only_input, &consumers),
    )
}

/// How many tasks (and the output) read each task.
fn consumer_counts(g: &Graph) -> Vec<usize> {
    let mut consumers = vec![0usize; g.tasks.len()];
    for uses in g.tasks.iter().map(|t| &t.uses).chain([&g.output.uses]) {
        for t in task_ids(uses) {
            consumers[t] += 1;
        }
    }
    consumers
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
    /// `fused[t]`: `t` runs back to back with its only consumer.
    fused: &'g [bool],
}

impl Gen<'_> {
    /// Statements running `node`; afterwards the tasks of `node` that are in `live_after`
    /// (needed by later steps or the output) are locals under the user's names.
    fn stmts(&mut self, node: &Tree, live_after: &BTreeSet<BindingId>) -> TokenStream {
        match node {
            Tree::Task(t) => self.task(*t, &[]),
            Tree::Series(steps) => self.series(steps, live_after),
            Tree::Parallel(branches) => self.parallel(branches, live_after),
            Tree::Dag(tasks) => self.dag(tasks, live_after),
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
        let binds = rebinds.iter().map(Rebind::stmt);
        let prelude = quote!(#(#binds)*);
        self.binding_stmt(t, &prelude, &HashSet::new())
    }

    /// `let <ident> = <the task's value>;`, `prelude` running first inside the task,
    /// and the bindings `derefs` (borrowed from slots) mentioned as `(*name)`.
    fn binding_stmt(
        &self,
        t: usize,
        prelude: &TokenStream,
        derefs: &HashSet<String>,
    ) -> TokenStream {
        let task = &self.g.tasks[t];
        let ident = &task.ident;
        let key = LitStr::new(&key_of(ident), ident.span());
        match &task.kind {
            Kind::Single => {
                let mut expr = task.expr.clone();
                uses::deref(&mut expr, derefs, Vec::new());
                let call = self.task_call(&key, &expr, task.ty.as_ref(), task.fallible, prelude);
                quote!(let #ident = #call;)
            }
            Kind::FanOut(f) => {
                let value = self.fan_out(&key, f, None, derefs);
                let ty = task.ty.as_ref().map(|ty| quote!(: #ty));
                quote!(let #ident #ty = { #prelude #value };)
            }
            Kind::Reduce(r) => {
                let value = self.reduce(&key, r, derefs);
                let ty = task.ty.as_ref().map(|ty| quote!(: #ty));
                quote!(let #ident #ty = { #prelude #value };)
            }
        }
    }

    /// The value of a fan-out: `__exec.map(items(ITER), |i, PAT| task_at(.., BODY))`, or
    /// with `reduce` (the reduction it is fused into, and its key) a `map_reduce`.
    fn fan_out(
        &self,
        key: &LitStr,
        f: &FanOutTask,
        reduce: Option<(&LitStr, &ReduceTask)>,
        derefs: &HashSet<String>,
    ) -> TokenStream {
        let exec = &self.exec;
        let mut iter = f.iter.clone();
        uses::deref(&mut iter, derefs, Vec::new());
        // A binding the body consumes is cloned for each element, from the borrow the
        // fan-out holds; inside the element the name is the clone.
        let mut owned = HashSet::new();
        let clones: Vec<TokenStream> = f
            .body_uses
            .iter()
            .filter(|u| u.mode == Mode::ByValue)
            .map(|u| {
                let user = self.g.ident(u.binding);
                let name = user.to_string();
                // The user's mention, so that a missing `Clone` is reported there.
                let mention = &u.ident;
                let from = if derefs.contains(&name) {
                    quote!(#mention)
                } else {
                    quote_spanned!(mention.span()=> &#mention)
                };
                owned.insert(name);
                quote_spanned!(mention.span()=> let #user = ::core::clone::Clone::clone(#from);)
            })
            .collect();
        let body_derefs: HashSet<String> = derefs.difference(&owned).cloned().collect();
        let mut body = f.body.clone();
        uses::deref(&mut body, &body_derefs, f.bound.clone());
        // The body's own statements, so its braces are the closure's (no `unused_braces`).
        let body = match body {
            Expr::Block(b) => {
                let stmts = b.block.stmts;
                quote!(#(#stmts)*)
            }
            other => quote!(#other),
        };
        let pat = &f.pat;
        let index = internal("__index");
        let element = if f.fallible {
            quote!(#exec.try_task_at(#key, #index, || { #(#clones)* #body }))
        } else {
            quote!(#exec.task_at(#key, #index, || { #(#clones)* #body }))
        };
        let items = quote!(::dagwood::__private::items(#iter));
        match reduce {
            None => quote!(#exec.map(#items, |#index, #pat| #element)),
            Some((rkey, r)) => {
                let (fan_in, combine, empty) = self.reduction_parts(r, derefs);
                quote!(#exec.map_reduce(#rkey, #items, #fan_in, |#index, #pat| #element, #combine, #empty))
            }
        }
    }

    /// The value of a reduction: fused with its fan-out, or over the fan-out's `Vec`.
    fn reduce(&self, key: &LitStr, r: &ReduceTask, derefs: &HashSet<String>) -> TokenStream {
        let source = &self.g.tasks[r.source];
        if r.fused {
            if let Kind::FanOut(f) = &source.kind {
                let fkey = LitStr::new(&key_of(&source.ident), source.ident.span());
                return self.fan_out(&fkey, f, Some((key, r)), derefs);
            }
        }
        let exec = &self.exec;
        let values = &source.ident;
        let (fan_in, combine, empty) = self.reduction_parts(r, derefs);
        quote!(#exec.reduce(#key, #values, #fan_in, #combine, #empty))
    }

    /// The fan-in, the combine and the value of no elements of a reduction.
    fn reduction_parts(
        &self,
        r: &ReduceTask,
        derefs: &HashSet<String>,
    ) -> (TokenStream, TokenStream, TokenStream) {
        let mut fan_in = r.fan_in.clone();
        uses::deref(&mut fan_in, derefs, Vec::new());
        let fan_in = quote!(#fan_in);
        match &r.combine {
            Some(c) => {
                let mut c = c.clone();
                uses::deref(&mut c, derefs, Vec::new());
                (fan_in, quote!(#c), quote!(::dagwood::__private::no_value))
            }
            None => (
                fan_in,
                quote!(::dagwood::__private::sum_pair),
                quote!(::dagwood::__private::sum_empty),
            ),
        }
    }

    fn task_call(
        &self,
        key: &LitStr,
        expr: &Expr,
        ty: Option<&Type>,
        fallible: bool,
        prelude: &TokenStream,
    ) -> TokenStream {
        let exec = &self.exec;
        let body = if prelude.is_empty() && ty.is_none() {
            quote!(#expr)
        } else {
            quote!({ #prelude #expr })
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

    /// A piece run by dependency counts: slots, counts, and a closure running unit `u`.
    fn dag(&mut self, tasks: &[usize], live_after: &BTreeSet<BindingId>) -> TokenStream {
        let g = self.g;
        let in_piece = |b: BindingId| matches!(b, BindingId::Task(t) if tasks.contains(&t));
        // Units: chains of fused tasks, in the order of their first task.
        let mut unit_of: BTreeMap<usize, usize> = BTreeMap::new();
        let mut units: Vec<Vec<usize>> = Vec::new();
        for &t in tasks {
            if unit_of.contains_key(&t) {
                continue;
            }
            let mut chain = vec![t];
            let mut last = t;
            while self.fused[last] {
                let next = tasks
                    .iter()
                    .copied()
                    .find(|&c| c > last && task_ids(&g.tasks[c].uses) == [last]);
                match next {
                    Some(c) => {
                        chain.push(c);
                        last = c;
                    }
                    None => break,
                }
            }
            for &m in &chain {
                unit_of.insert(m, units.len());
            }
            units.push(chain);
        }
        let tail_of = |t: usize| units[unit_of[&t]].last() == Some(&t);

        // Who reads what inside the piece (a chain's inner links are locals, not reads).
        let mut readers: BTreeMap<BindingId, usize> = BTreeMap::new();
        let mut consumed: BTreeSet<BindingId> = BTreeSet::new();
        for &t in tasks {
            for u in &g.tasks[t].uses {
                if matches!(u.binding, BindingId::Task(d) if unit_of.get(&d) == unit_of.get(&t)) {
                    continue;
                }
                *readers.entry(u.binding).or_default() += 1;
                if u.mode == Mode::ByValue {
                    consumed.insert(u.binding);
                }
            }
        }
        // A binding from outside the piece that a task consumes is moved into a slot
        // (the piece's closure is called many times and cannot move a capture).
        let mut slots: BTreeMap<BindingId, Ident> = BTreeMap::new();
        let mut setup = TokenStream::new();
        for (&b, &n) in &readers {
            if in_piece(b) || !consumed.contains(&b) {
                continue;
            }
            let slot = format_ident!(
                "__dagwood_in_{}",
                key_of(g.ident(b)),
                span = Span::mixed_site()
            );
            let user = g.ident(b);
            setup.extend(quote!(let #slot = ::dagwood::__private::Slot::full(#user, #n);));
            slots.insert(b, slot);
        }
        for &t in tasks {
            let b = BindingId::Task(t);
            if !tail_of(t) {
                continue;
            }
            let n = readers.get(&b).copied().unwrap_or(0) + usize::from(live_after.contains(&b));
            if n == 0 {
                continue;
            }
            let slot = format_ident!(
                "__dagwood_slot_{}",
                key_of(&g.tasks[t].ident),
                span = Span::mixed_site()
            );
            setup.extend(quote!(let #slot = ::dagwood::__private::Slot::new(#n);));
            slots.insert(b, slot);
        }
        let total_readers = |b: BindingId| {
            readers.get(&b).copied().unwrap_or(0) + usize::from(live_after.contains(&b))
        };

        // One match arm per unit, each a function of its own (`Dag::unit`).
        let exec = &self.exec;
        let dag = internal("__dag");
        let mut arms = Vec::new();
        for (u, chain) in units.iter().enumerate() {
            let mut code = TokenStream::new();
            for &t in chain {
                let mut binds = TokenStream::new();
                let mut releases = TokenStream::new();
                let mut derefs = HashSet::new();
                for use_ in &g.tasks[t].uses {
                    let Some(slot) = slots.get(&use_.binding) else {
                        continue;
                    };
                    if matches!(use_.binding, BindingId::Task(d) if unit_of.get(&d) == Some(&u)) {
                        continue;
                    }
                    let user = g.ident(use_.binding);
                    let mention = &use_.ident;
                    match use_.mode {
                        Mode::ByValue if total_readers(use_.binding) == 1 => {
                            binds
                                .extend(quote_spanned!(mention.span()=> let #user = #slot.take();));
                        }
                        Mode::ByValue => {
                            binds.extend(
                                quote_spanned!(mention.span()=> let #user = #slot.take_or_clone();),
                            );
                        }
                        Mode::ByRef => {
                            binds.extend(quote!(let #user = #slot.get();));
                            releases.extend(quote!(#slot.release();));
                            derefs.insert(user.to_string());
                        }
                    }
                }
                code.extend(binds);
                code.extend(self.binding_stmt(t, &TokenStream::new(), &derefs));
                code.extend(releases);
            }
            let tail = chain[chain.len() - 1];
            let ident = &g.tasks[tail].ident;
            match slots.get(&BindingId::Task(tail)) {
                Some(slot) => code.extend(quote!(#slot.set(#ident);)),
                None => code.extend(quote!(let _ = #ident;)),
            }
            arms.push(quote!(#u => #dag.unit(|| { #code }),));
        }

        // Dependency counts between units, and who to tell when a unit is done.
        let mut waiting = Vec::with_capacity(units.len());
        let mut successors: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); units.len()];
        for (u, chain) in units.iter().enumerate() {
            let before: BTreeSet<usize> = task_ids(&g.tasks[chain[0]].uses)
                .into_iter()
                .filter_map(|d| unit_of.get(&d).copied())
                .collect();
            for &p in &before {
                successors[p].insert(u);
            }
            waiting.push(before.len());
        }
        let sources: Vec<usize> = (0..units.len()).filter(|&u| waiting[u] == 0).collect();
        let succ = successors.iter().map(|s| {
            let s = s.iter();
            quote!(&[#(#s),*])
        });
        let waiting = waiting
            .iter()
            .map(|w| quote!(::core::sync::atomic::AtomicUsize::new(#w)));
        let (succ_name, sources_name, waiting_name, unit) = (
            internal("__DAGWOOD_SUCCESSORS"),
            internal("__DAGWOOD_SOURCES"),
            internal("__dagwood_waiting"),
            internal("__unit"),
        );

        let outs: Vec<Ident> = tasks
            .iter()
            .filter(|&&t| live_after.contains(&BindingId::Task(t)))
            .map(|&t| g.tasks[t].ident.clone())
            .collect();
        let finals = tasks
            .iter()
            .filter(|&&t| live_after.contains(&BindingId::Task(t)))
            .map(|&t| {
                let slot = &slots[&BindingId::Task(t)];
                quote!(#slot.into_inner())
            });
        quote! {
            let (#(#outs,)*) = {
                static #succ_name: &[&[usize]] = &[#(#succ),*];
                static #sources_name: &[usize] = &[#(#sources),*];
                #setup
                let #waiting_name = [#(#waiting),*];
                #exec.dag(&#waiting_name, #succ_name, #sources_name, &|#dag, #unit: usize| match #unit {
                    #(#arms)*
                    _ => {}
                });
                (#(#finals,)*)
            };
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
        self.task_call(&key, &o.expr, None, o.fallible, &TokenStream::new())
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

/// The `GraphInfo` literal: tasks in definition order (key, task inputs, fusion, kind),
/// the tasks the output reads, and the parameter names.
fn graph_info(g: &Graph, fused: &[bool]) -> TokenStream {
    let tasks = g.tasks.iter().zip(fused).map(|(t, fused)| {
        let key = LitStr::new(&key_of(&t.ident), t.ident.span());
        let inputs = &t.shown_inputs;
        let kind = match t.kind {
            Kind::Single => quote!(Task),
            Kind::FanOut(_) => quote!(FanOut),
            Kind::Reduce(_) => quote!(Reduce),
        };
        quote! {
            ::dagwood::__private::TaskInfo {
                key: #key,
                inputs: &[#(#inputs),*],
                fused_with_next: #fused,
                kind: ::dagwood::__private::TaskKind::#kind,
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
