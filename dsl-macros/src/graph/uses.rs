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

use proc_macro2::{Ident, TokenStream, TokenTree};
use std::collections::HashSet;
use syn::visit::{self, Visit};
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
    let mut s = Scanner {
        names,
        scopes: Vec::new(),
        move_depth: 0,
        out: Vec::new(),
    };
    s.visit_expr(expr);
    s.out
}

struct Scanner<'n> {
    names: &'n HashSet<String>,
    /// Names bound inside the expression, innermost scope last.
    scopes: Vec<Vec<String>>,
    /// > 0 inside a `move` closure or `async move` block.
    move_depth: usize,
    out: Vec<Occurrence>,
}

impl Scanner<'_> {
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
    fn borrowed(&mut self, e: &Expr) {
        match self.binding(e) {
            Some(i) => self.record(i, Mode::ByRef),
            None => self.visit_expr(e),
        }
    }

    fn with_scope(&mut self, names: Vec<String>, f: impl FnOnce(&mut Self)) {
        self.scopes.push(names);
        f(self);
        self.scopes.pop();
    }

    /// Visits an `if`/`while` condition; returns the names its `let`s bind (scoped to the
    /// body). Bindings of a `let` in a chain are visible to the rest of the chain.
    fn condition(&mut self, cond: &Expr) -> Vec<String> {
        match cond {
            Expr::Let(l) => {
                self.visit_expr(&l.expr);
                pattern_names(&l.pat)
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                let mut bound = self.condition(&b.left);
                self.scopes.push(bound.clone());
                let right = self.condition(&b.right);
                self.scopes.pop();
                bound.extend(right);
                bound
            }
            other => {
                self.visit_expr(other);
                Vec::new()
            }
        }
    }

    fn tokens(&mut self, tokens: TokenStream) {
        for tt in tokens {
            match tt {
                TokenTree::Ident(i) if self.visible(&i.to_string()) => self.record(&i, Mode::ByRef),
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Literal(l) => {
                    // Inline format arguments: `format!("{a}")` names `a`.
                    for name in format_arg_names(&l.to_string()) {
                        if self.visible(&name) {
                            self.record(&Ident::new(&name, l.span()), Mode::ByRef);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Path(_) | Expr::Paren(_) | Expr::Group(_) if self.binding(e).is_some() => {
                if let Some(i) = self.binding(e) {
                    self.record(i, Mode::ByValue);
                }
            }
            Expr::Reference(r) if r.mutability.is_none() => self.borrowed(&r.expr),
            Expr::MethodCall(m) => {
                self.borrowed(&m.receiver);
                for a in &m.args {
                    self.visit_expr(a);
                }
            }
            Expr::Field(f) => self.borrowed(&f.base),
            Expr::Index(i) => {
                self.borrowed(&i.expr);
                self.visit_expr(&i.index);
            }
            Expr::Call(c) => {
                self.borrowed(&c.func);
                for a in &c.args {
                    self.visit_expr(a);
                }
            }
            _ => visit::visit_expr(self, e),
        }
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        let names = c.inputs.iter().flat_map(pattern_names).collect();
        let moves = c.capture.is_some();
        self.move_depth += usize::from(moves);
        self.with_scope(names, |s| s.visit_expr(&c.body));
        self.move_depth -= usize::from(moves);
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        let moves = a.capture.is_some();
        self.move_depth += usize::from(moves);
        self.visit_block(&a.block);
        self.move_depth -= usize::from(moves);
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.scopes.push(Vec::new());
        for stmt in &b.stmts {
            match stmt {
                syn::Stmt::Local(l) => {
                    if let Some(init) = &l.init {
                        self.visit_expr(&init.expr);
                        if let Some((_, diverge)) = &init.diverge {
                            self.visit_expr(diverge);
                        }
                    }
                    let names = pattern_names(&l.pat);
                    if let Some(scope) = self.scopes.last_mut() {
                        scope.extend(names);
                    }
                }
                syn::Stmt::Item(_) => {}
                syn::Stmt::Expr(e, _) => self.visit_expr(e),
                syn::Stmt::Macro(m) => self.visit_macro(&m.mac),
            }
        }
        self.scopes.pop();
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.with_scope(pattern_names(&arm.pat), |s| {
            if let Some((_, guard)) = &arm.guard {
                s.visit_expr(guard);
            }
            s.visit_expr(&arm.body);
        });
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        self.with_scope(pattern_names(&f.pat), |s| s.visit_block(&f.body));
    }

    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        let bound = self.condition(&i.cond);
        self.with_scope(bound, |s| s.visit_block(&i.then_branch));
        if let Some((_, e)) = &i.else_branch {
            self.visit_expr(e);
        }
    }

    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        let bound = self.condition(&w.cond);
        self.with_scope(bound, |s| s.visit_block(&w.body));
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
    }

    // Nested items cannot see locals; patterns and types name no values.
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_pat(&mut self, _: &'ast Pat) {}
    fn visit_type(&mut self, _: &'ast syn::Type) {}
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
    fn move_closures_move() {
        assert_eq!(modes("move || a.len()", &["a"]), v(&[("a", ByValue)]));
        assert_eq!(modes("|| a.len()", &["a"]), v(&[("a", ByRef)]));
    }
}
