//! Which graph bindings an expression names, and how it uses each one.
//!
//! The mode decides how the generated closures capture a binding, hence whether a clone
//! is needed: a borrow can be shared by concurrent tasks, a move cannot. It mirrors what
//! Rust 2021 closures capture: `&a`, `a.method()`, `a.field`, `a[i]` and `a(..)` borrow;
//! a bare `a` used as a value moves (or copies). Inside `move` closures and `async move`
//! blocks everything moves. Macro arguments are opaque token streams, so a name found in
//! one is assumed to be borrowed (as `println!`/`format!`/`assert!` do).
//!
//! Names bound inside the expression (closure parameters, inner `let`s, `match` arms,
//! `for` and `if let` patterns) shadow graph bindings for the scope they cover.
//!
//! The same walk also rewrites ([`deref`]): where a task runs by dependency counts, a
//! binding it only borrows is a `&T` from the producer's slot, so every mention becomes
//! `(*name)`, a place of type `T` again, and the user's `&a`, `a.len()` or `a[i]` mean
//! what they meant.

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};
use std::collections::HashSet;
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Pat};

/// How a task uses a binding. `ByValue` dominates when both occur.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mode {
    ByRef,
    ByValue,
}

/// One mention of a graph binding.
#[derive(Clone, Debug)]
pub(crate) struct Occurrence {
    /// The user's token (its span points error messages at the right place).
    pub ident: Ident,
    pub mode: Mode,
}

/// Every mention of a name in `names` in `expr`, in source order.
pub(crate) fn scan(expr: &Expr, names: &HashSet<String>) -> Vec<Occurrence> {
    scan_in_scope(expr, names, Vec::new())
}

/// [`scan`] of an expression inside which `bound` (a pattern's names) shadow bindings.
pub(crate) fn scan_in_scope(
    expr: &Expr,
    names: &HashSet<String>,
    bound: Vec<String>,
) -> Vec<Occurrence> {
    let mut s = Scanner::new(names, None);
    s.scopes.push(bound);
    s.visit_expr_mut(&mut expr.clone());
    s.out
}

/// Rewrites every mention of a name in `names` as `(*name)` (see the module docs);
/// `bound` are names shadowed throughout, as for [`scan_in_scope`].
pub(crate) fn deref(expr: &mut Expr, names: &HashSet<String>, bound: Vec<String>) {
    if names.is_empty() {
        return;
    }
    let mut s = Scanner::new(names, Some(names));
    s.scopes.push(bound);
    s.visit_expr_mut(expr);
}

struct Scanner<'n> {
    names: &'n HashSet<String>,
    /// Mentions of these are rewritten as `(*name)`.
    rewrite: Option<&'n HashSet<String>>,
    /// Names bound inside the expression, innermost scope last.
    scopes: Vec<Vec<String>>,
    /// > 0 inside a `move` closure or `async move` block.
    move_depth: usize,
    out: Vec<Occurrence>,
}

impl<'n> Scanner<'n> {
    fn new(names: &'n HashSet<String>, rewrite: Option<&'n HashSet<String>>) -> Self {
        Scanner {
            names,
            rewrite,
            scopes: Vec::new(),
            move_depth: 0,
            out: Vec::new(),
        }
    }

    fn rewrites(&self, ident: &Ident) -> bool {
        self.rewrite.is_some_and(|r| r.contains(&ident.to_string()))
    }

    /// Records the mention `e` (a binding name) and rewrites it if asked to.
    fn mention(&mut self, e: &mut Expr, mode: Mode) {
        let Some(ident) = self.binding(e).cloned() else {
            return;
        };
        self.record(&ident, mode);
        if self.rewrites(&ident) {
            *e = syn::parse_quote_spanned!(ident.span()=> (*#ident));
        }
    }

    fn visible(&self, name: &str) -> bool {
        self.names.contains(name) && !self.scopes.iter().flatten().any(|s| s == name)
    }

    /// The binding `e` names, if it is nothing but a visible binding name.
    fn binding<'e>(&self, e: &'e Expr) -> Option<&'e Ident> {
        match e {
            Expr::Paren(p) => self.binding(&p.expr),
            Expr::Group(g) => self.binding(&g.expr),
            Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => {
                p.path.get_ident().filter(|i| self.visible(&i.to_string()))
            }
            _ => None,
        }
    }

    fn record(&mut self, ident: &Ident, mode: Mode) {
        let mode = if self.move_depth > 0 {
            Mode::ByValue
        } else {
            mode
        };
        self.out.push(Occurrence {
            ident: ident.clone(),
            mode,
        });
    }

    /// Records `e` as a borrow if it is a binding name; visits it otherwise.
    fn borrowed(&mut self, e: &mut Expr) {
        if self.binding(e).is_some() {
            self.mention(e, Mode::ByRef);
        } else {
            self.visit_expr_mut(e);
        }
    }

    fn with_scope(&mut self, names: Vec<String>, f: impl FnOnce(&mut Self)) {
        self.scopes.push(names);
        f(self);
        self.scopes.pop();
    }

    /// Visits an `if`/`while` condition; returns the names its `let`s bind (scoped to the
    /// body). Bindings of a `let` in a chain are visible to the rest of the chain.
    fn condition(&mut self, cond: &mut Expr) -> Vec<String> {
        match cond {
            Expr::Let(l) => {
                self.visit_expr_mut(&mut l.expr);
                pattern_names(&l.pat)
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                let mut bound = self.condition(&mut b.left);
                self.scopes.push(bound.clone());
                let right = self.condition(&mut b.right);
                self.scopes.pop();
                bound.extend(right);
                bound
            }
            other => {
                self.visit_expr_mut(other);
                Vec::new()
            }
        }
    }

    /// Scans a macro's tokens (every name a borrow), rewriting names as asked.
    fn tokens(&mut self, tokens: TokenStream) -> TokenStream {
        tokens
            .into_iter()
            .map(|tt| match tt {
                TokenTree::Ident(i) if self.visible(&i.to_string()) => {
                    self.record(&i, Mode::ByRef);
                    if self.rewrites(&i) {
                        let span = i.span();
                        let mut g = Group::new(Delimiter::Parenthesis, quote::quote!(*#i));
                        g.set_span(span);
                        TokenTree::Group(g)
                    } else {
                        TokenTree::Ident(i)
                    }
                }
                TokenTree::Group(g) => {
                    let mut out = Group::new(g.delimiter(), self.tokens(g.stream()));
                    out.set_span(g.span());
                    TokenTree::Group(out)
                }
                TokenTree::Literal(l) => {
                    // Inline format arguments: `format!("{a}")` names `a` (left as it is
                    // when rewriting: a `&T` formats as its `T`).
                    for name in format_arg_names(&l.to_string()) {
                        if self.visible(&name) {
                            self.record(&Ident::new(&name, l.span()), Mode::ByRef);
                        }
                    }
                    TokenTree::Literal(l)
                }
                other => other,
            })
            .collect()
    }
}

impl VisitMut for Scanner<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Path(_) | Expr::Paren(_) | Expr::Group(_) if self.binding(e).is_some() => {
                self.mention(e, Mode::ByValue);
            }
            Expr::Reference(r) if r.mutability.is_none() => {
                // `&a` of a binding that is a `&T` from a slot is just `a`.
                match self.binding(&r.expr).cloned() {
                    Some(ident) if self.rewrites(&ident) => {
                        self.record(&ident, Mode::ByRef);
                        *e = syn::parse_quote_spanned!(ident.span()=> #ident);
                    }
                    _ => self.borrowed(&mut r.expr),
                }
            }
            Expr::MethodCall(m) => {
                if consumes(&m.method) {
                    self.visit_expr_mut(&mut m.receiver);
                } else {
                    self.borrowed(&mut m.receiver);
                }
                for a in &mut m.args {
                    self.visit_expr_mut(a);
                }
            }
            Expr::Field(f) => self.borrowed(&mut f.base),
            Expr::Index(i) => {
                self.borrowed(&mut i.expr);
                self.visit_expr_mut(&mut i.index);
            }
            Expr::Call(c) => {
                self.borrowed(&mut c.func);
                for a in &mut c.args {
                    self.visit_expr_mut(a);
                }
            }
            _ => visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        let names = c.inputs.iter().flat_map(pattern_names).collect();
        let moves = c.capture.is_some();
        self.move_depth += usize::from(moves);
        self.with_scope(names, |s| s.visit_expr_mut(&mut c.body));
        self.move_depth -= usize::from(moves);
    }

    fn visit_expr_async_mut(&mut self, a: &mut syn::ExprAsync) {
        let moves = a.capture.is_some();
        self.move_depth += usize::from(moves);
        self.visit_block_mut(&mut a.block);
        self.move_depth -= usize::from(moves);
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.scopes.push(Vec::new());
        for stmt in &mut b.stmts {
            match stmt {
                syn::Stmt::Local(l) => {
                    if let Some(init) = &mut l.init {
                        self.visit_expr_mut(&mut init.expr);
                        if let Some((_, diverge)) = &mut init.diverge {
                            self.visit_expr_mut(diverge);
                        }
                    }
                    let names = pattern_names(&l.pat);
                    if let Some(scope) = self.scopes.last_mut() {
                        scope.extend(names);
                    }
                }
                syn::Stmt::Item(_) => {}
                syn::Stmt::Expr(e, _) => self.visit_expr_mut(e),
                syn::Stmt::Macro(m) => self.visit_macro_mut(&mut m.mac),
            }
        }
        self.scopes.pop();
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        self.with_scope(pattern_names(&arm.pat), |s| {
            if let Some((_, guard)) = &mut arm.guard {
                s.visit_expr_mut(guard);
            }
            s.visit_expr_mut(&mut arm.body);
        });
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut f.expr);
        self.with_scope(pattern_names(&f.pat), |s| s.visit_block_mut(&mut f.body));
    }

    fn visit_expr_if_mut(&mut self, i: &mut syn::ExprIf) {
        let bound = self.condition(&mut i.cond);
        self.with_scope(bound, |s| s.visit_block_mut(&mut i.then_branch));
        if let Some((_, e)) = &mut i.else_branch {
            self.visit_expr_mut(e);
        }
    }

    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        let bound = self.condition(&mut w.cond);
        self.with_scope(bound, |s| s.visit_block_mut(&mut w.body));
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = self.tokens(std::mem::take(&mut m.tokens));
    }

    // Nested items cannot see locals; patterns and types name no values.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    fn visit_pat_mut(&mut self, _: &mut Pat) {}
    fn visit_type_mut(&mut self, _: &mut syn::Type) {}
}

/// Methods that take their receiver by value by convention (`into_iter`, `into_inner`,
/// `unwrap`, ..): a binding they are called on is consumed, so the move/clone rule
/// applies to it as to `f(a)`. Other methods are taken to borrow it.
fn consumes(method: &Ident) -> bool {
    let m = method.to_string();
    m == "into"
        || m.starts_with("into_")
        || m.starts_with("unwrap")
        || m.starts_with("expect")
        || matches!(m.as_str(), "ok" | "err")
}

/// The names a pattern binds.
pub(crate) fn pattern_names(pat: &Pat) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            visit::visit_pat_ident(self, p);
        }
        // A path pattern (`None`, `Enum::Variant`) binds nothing, nor does a macro.
        fn visit_expr(&mut self, _: &'ast Expr) {}
    }
    let mut n = Names(Vec::new());
    n.visit_pat(pat);
    n.0
}

/// Identifiers used as inline format arguments in a string literal token: `{name}`,
/// `{name:?}`, `{name:>8}`; `{{` is an escaped brace and `{0}` positional.
fn format_arg_names(literal: &str) -> Vec<String> {
    if !(literal.starts_with('"') || literal.starts_with('r')) {
        return Vec::new();
    }
    let chars: Vec<char> = literal.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '{' {
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            i += 2;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
            end += 1;
        }
        let closes = matches!(chars.get(end), Some('}') | Some(':'));
        if end > start && closes && !chars[start].is_ascii_digit() {
            names.push(chars[start..end].iter().collect());
        }
        i = end.max(i + 1);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modes(src: &str, names: &[&str]) -> Vec<(String, Mode)> {
        let expr: Expr = syn::parse_str(src).expect("test expression parses");
        let names = names.iter().map(|s| s.to_string()).collect();
        scan(&expr, &names)
            .into_iter()
            .map(|o| (o.ident.to_string(), o.mode))
            .collect()
    }

    use Mode::{ByRef, ByValue};

    fn v(pairs: &[(&str, Mode)]) -> Vec<(String, Mode)> {
        pairs.iter().map(|(n, m)| (n.to_string(), *m)).collect()
    }

    #[test]
    fn modes_of_plain_uses() {
        assert_eq!(
            modes("f(a, &b)", &["a", "b"]),
            v(&[("a", ByValue), ("b", ByRef)])
        );
        assert_eq!(
            modes("a.len() + b.0 + c[1]", &["a", "b", "c"]),
            v(&[("a", ByRef), ("b", ByRef), ("c", ByRef)])
        );
        assert_eq!(modes("(a).iter().count()", &["a"]), v(&[("a", ByRef)]));
        assert_eq!(modes("a + 1", &["a"]), v(&[("a", ByValue)]));
        assert_eq!(
            modes("S { a, x: b }", &["a", "b"]),
            v(&[("a", ByValue), ("b", ByValue)])
        );
        assert_eq!(modes("g(&mut a)", &["a"]), v(&[("a", ByValue)]));
    }

    #[test]
    fn outer_names_are_ignored() {
        assert_eq!(modes("f(x, y::z, a::b)", &["a"]), v(&[]));
    }

    #[test]
    fn macros_borrow_including_inline_format_args() {
        assert_eq!(
            modes(
                r#"format!("{a} {{b}} {c:?} {0}", d)"#,
                &["a", "b", "c", "d"]
            ),
            v(&[("a", ByRef), ("c", ByRef), ("d", ByRef)])
        );
        assert_eq!(
            modes("vec![a, b]", &["a", "b"]),
            v(&[("a", ByRef), ("b", ByRef)])
        );
    }

    #[test]
    fn shadowing() {
        assert_eq!(
            modes("xs.iter().map(|a| a + b)", &["a", "b", "xs"]),
            v(&[("xs", ByRef), ("b", ByValue)])
        );
        assert_eq!(modes("{ let a = a + 1; a }", &["a"]), v(&[("a", ByValue)]));
        assert_eq!(
            modes("match o { Some(a) => a, None => b }", &["a", "b", "o"]),
            v(&[("o", ByValue), ("b", ByValue)])
        );
        assert_eq!(
            modes("if let Some(a) = o { a } else { a }", &["a", "o"]),
            v(&[("o", ByValue), ("a", ByValue)])
        );
        assert_eq!(
            modes("for a in 0..n { s(a) }", &["a", "n"]),
            v(&[("n", ByValue)])
        );
    }

    #[test]
    fn deref_rewrites_every_visible_mention() {
        let mut e: Expr =
            syn::parse_str(r#"f(&a, a.len(), a[0], b, |a| a, format!("{}", a), { let a = 1; a })"#)
                .expect("parses");
        let names: HashSet<String> = ["a".to_string()].into();
        deref(&mut e, &names, Vec::new());
        assert_eq!(
            quote::quote!(#e).to_string(),
            r#"f (a , (* a) . len () , (* a) [0] , b , | a | a , format ! ("{}" , (* a)) , { let a = 1 ; a })"#
        );
        // Names bound by the enclosing pattern are not the binding.
        let mut e: Expr = syn::parse_str("a.len()").expect("parses");
        deref(&mut e, &names, vec!["a".to_string()]);
        assert_eq!(quote::quote!(#e).to_string(), "a . len ()");
    }

    #[test]
    fn consuming_methods_consume() {
        assert_eq!(modes("v.into_iter().sum()", &["v"]), v(&[("v", ByValue)]));
        assert_eq!(modes("o.unwrap_or(0)", &["o"]), v(&[("o", ByValue)]));
        assert_eq!(modes("v.iter().sum()", &["v"]), v(&[("v", ByRef)]));
    }

    #[test]
    fn move_closures_move() {
        assert_eq!(modes("move || a.len()", &["a"]), v(&[("a", ByValue)]));
        assert_eq!(modes("|| a.len()", &["a"]), v(&[("a", ByRef)]));
    }
}
