//! Syntax of `graph!`: either the statements of a block, or a closure with typed
//! parameters around such a block.
//!
//! Only the shape of the statements is checked here (a `let` per task, then one output
//! expression); what the expressions name is the analysis' business.

use crate::errors::Errors;
use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{Block, Expr, ExprClosure, Ident, Item, Pat, ReturnType, Stmt, Token, Type};

/// A parsed `graph!` invocation.
pub(crate) struct GraphInput {
    /// The `#![distributed]` attribute, when given: build the graph as
    /// `Delayed` handles whose values may travel between processes.
    pub distributed: Option<syn::Attribute>,
    /// `Some` for the `|x: T, ..| { .. }` form.
    pub params: Option<Params>,
    /// Items (`fn`, `use`, ..) declared inside the graph, emitted ahead of the tasks.
    pub items: Vec<Item>,
    pub tasks: Vec<LetTask>,
    pub output: TaskExpr,
}

pub(crate) struct Params {
    pub list: Vec<Param>,
    /// An explicit `-> R` on the closure, kept on the generated one.
    pub ret: ReturnType,
}

pub(crate) struct Param {
    pub ident: Ident,
    pub ty: Type,
}

/// `let ident (: ty)? = expr;`
pub(crate) struct LetTask {
    pub ident: Ident,
    pub ty: Option<Type>,
    pub body: TaskExpr,
    /// `Some` for `let ident = for pat in iter { .. };`: a task per element.
    pub fan_out: Option<FanOut>,
}

/// `for pat in iter { body }` as a binding's value: one task per element of `iter`,
/// each running `body` with `pat` bound to the element; the binding is the `Vec` of
/// their values, in order.
pub(crate) struct FanOut {
    pub for_token: Token![for],
    pub pat: Pat,
    pub iter: Expr,
    /// The body block, as an expression (its value is the element's value).
    pub body: Expr,
    /// The body ends in `expr?`: an element's `Err` fails the graph.
    pub fallible: bool,
}

impl FanOut {
    fn new(f: syn::ExprForLoop) -> syn::Result<FanOut> {
        if let Some(attr) = f.attrs.first() {
            return Err(syn::Error::new_spanned(
                attr,
                "attributes on a fan-out are not supported",
            ));
        }
        if let Some(label) = &f.label {
            return Err(syn::Error::new_spanned(
                label,
                "a fan-out runs each element as its own task, so it has no loop to \
                 label: drop the label",
            ));
        }
        let mut body = f.body;
        let mut fallible = false;
        if let Some(Stmt::Expr(Expr::Try(t), None)) = body.stmts.last() {
            if t.attrs.is_empty() {
                let inner = (*t.expr).clone();
                body.stmts.pop();
                body.stmts.push(Stmt::Expr(inner, None));
                fallible = true;
            }
        }
        Ok(FanOut {
            for_token: f.for_token,
            pat: *f.pat,
            iter: *f.expr,
            body: Expr::Block(syn::ExprBlock {
                attrs: Vec::new(),
                label: None,
                block: body,
            }),
            fallible,
        })
    }
}

/// A task's expression, with a top-level `?` taken off (the task is then fallible).
pub(crate) struct TaskExpr {
    pub expr: Expr,
    pub fallible: bool,
}

impl TaskExpr {
    fn new(expr: Expr) -> Self {
        match expr {
            Expr::Try(t) if t.attrs.is_empty() => TaskExpr {
                expr: *t.expr,
                fallible: true,
            },
            expr => TaskExpr {
                expr,
                fallible: false,
            },
        }
    }
}

pub(crate) fn parse(input: TokenStream) -> syn::Result<GraphInput> {
    if input.is_empty() {
        return Err(empty_graph(Span::call_site()));
    }
    parse_input.parse2(input)
}

fn empty_graph(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "empty graph: expected `let` bindings (the tasks) followed by an output expression",
    )
}

fn parse_input(input: ParseStream) -> syn::Result<GraphInput> {
    let distributed = distributed_attr(input)?;
    let mut graph = parse_body(input)?;
    if let (Some(attr), Some(_)) = (&distributed, &graph.params) {
        return Err(syn::Error::new_spanned(
            attr,
            "a distributed graph takes no parameters: every process builds it whole, so \
             write the values into its bindings (or capture them) instead",
        ));
    }
    graph.distributed = distributed;
    Ok(graph)
}

/// `#![distributed]` at the start, the only attribute a graph takes.
fn distributed_attr(input: ParseStream) -> syn::Result<Option<syn::Attribute>> {
    let attrs = input.call(syn::Attribute::parse_inner)?;
    let mut found = None;
    for attr in attrs {
        let ok = matches!(&attr.meta, syn::Meta::Path(p) if p.is_ident("distributed"));
        if !ok || found.is_some() {
            return Err(syn::Error::new_spanned(
                &attr,
                "unknown graph attribute: the only one is `#![distributed]` (once, first)",
            ));
        }
        found = Some(attr);
    }
    Ok(found)
}

fn parse_body(input: ParseStream) -> syn::Result<GraphInput> {
    let closure_form = input.peek(Token![|])
        || input.peek(Token![||])
        || input.peek(Token![move])
        || input.peek(Token![async])
        || input.peek(Token![static]);
    if !closure_form {
        let stmts = input.call(Block::parse_within)?;
        return from_stmts(None, stmts, input.span());
    }
    let closure: ExprClosure = input.parse()?;
    let params = closure_params(&closure)?;
    let stmts = match *closure.body {
        Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => {
            let span = b.block.brace_token.span.join();
            if b.block.stmts.is_empty() {
                return Err(empty_graph(span));
            }
            b.block.stmts
        }
        body => vec![Stmt::Expr(body, None)],
    };
    from_stmts(Some(params), stmts, Span::call_site())
}

fn closure_params(c: &ExprClosure) -> syn::Result<Params> {
    let unsupported = |tokens: &dyn quote::ToTokens, what: &str| {
        Err(syn::Error::new_spanned(
            tokens,
            format!("a parameterised graph is written `|x: T, ..| {{ .. }}`; {what}"),
        ))
    };
    if let Some(l) = &c.lifetimes {
        return unsupported(l, "`for<..>` is not supported");
    }
    if let Some(k) = &c.constness {
        return unsupported(k, "`const` is not supported");
    }
    if let Some(k) = &c.movability {
        return unsupported(k, "`static` is not supported");
    }
    if let Some(k) = &c.asyncness {
        return unsupported(k, "`async` is not supported");
    }
    if let Some(k) = &c.capture {
        return unsupported(
            k,
            "drop `move`: tasks capture what they use by reference or by value as needed",
        );
    }
    let mut list = Vec::new();
    for input in &c.inputs {
        let Pat::Type(pt) = input else {
            return Err(syn::Error::new_spanned(
                input,
                "graph parameters need a type annotation: `x: Type`",
            ));
        };
        let ident = binding_ident(&pt.pat, "graph parameters")?;
        list.push(Param {
            ident,
            ty: (*pt.ty).clone(),
        });
    }
    Ok(Params {
        list,
        ret: c.output.clone(),
    })
}

/// The identifier of `pat` if it is a plain `name`; a spanned error otherwise.
fn binding_ident(pat: &Pat, what: &str) -> syn::Result<Ident> {
    match pat {
        Pat::Ident(p) => {
            if let Some(m) = &p.mutability {
                return Err(syn::Error::new_spanned(
                    m,
                    format!(
                        "{what} are immutable (tasks may share them); drop `mut` and \
                         mutate a copy inside the expression"
                    ),
                ));
            }
            if let Some(r) = &p.by_ref {
                return Err(syn::Error::new_spanned(
                    r,
                    format!("{what} must be plain identifiers; drop `ref`"),
                ));
            }
            if let Some((at, sub)) = &p.subpat {
                return Err(syn::Error::new_spanned(
                    quote::quote!(#at #sub),
                    format!("{what} must be plain identifiers, not patterns"),
                ));
            }
            Ok(p.ident.clone())
        }
        Pat::Wild(w) => Err(syn::Error::new_spanned(
            w,
            format!(
                "{what} must be named; to run a task only for its side effects, name it \
                 with a leading underscore: `let _name = ...;`"
            ),
        )),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "{what} must be plain identifiers, not patterns: bind the whole value \
                 (`let name = ...;`) and destructure it in the tasks that use it"
            ),
        )),
    }
}

fn from_stmts(
    params: Option<Params>,
    mut stmts: Vec<Stmt>,
    end_span: Span,
) -> syn::Result<GraphInput> {
    if stmts.is_empty() {
        return Err(empty_graph(end_span));
    }
    let output = match stmts.pop() {
        Some(Stmt::Expr(Expr::ForLoop(f), None)) => {
            return Err(syn::Error::new_spanned(
                f.for_token,
                "a fan-out must be bound before it is returned: \
                 `let parts = for x in xs { .. }; parts`",
            ))
        }
        Some(Stmt::Expr(e, None)) => TaskExpr::new(e),
        Some(Stmt::Macro(m)) if m.semi_token.is_none() => {
            TaskExpr::new(Expr::Macro(syn::ExprMacro {
                attrs: m.attrs,
                mac: m.mac,
            }))
        }
        Some(Stmt::Expr(_, Some(semi))) => {
            return Err(syn::Error::new_spanned(
                semi,
                "a graph ends with its output expression: remove this `;`",
            ))
        }
        Some(last) => {
            return Err(syn::Error::new_spanned(
                last,
                "a graph ends with its output expression (without `;`) after its `let` \
                 bindings",
            ))
        }
        None => return Err(empty_graph(end_span)),
    };

    let mut errors = Errors::default();
    let mut tasks = Vec::new();
    let mut items = Vec::new();
    for stmt in stmts {
        match stmt {
            Stmt::Local(local) => match let_task(local) {
                Ok(t) => tasks.push(t),
                Err(e) => errors.push(e),
            },
            Stmt::Item(item) => items.push(item),
            other => errors.push(syn::Error::new_spanned(
                other,
                "only `let` bindings may precede a graph's output expression; to run \
                 something for its side effects, bind it: `let _name = ...;`",
            )),
        }
    }
    errors.check()?;
    Ok(GraphInput {
        distributed: None,
        params,
        items,
        tasks,
        output,
    })
}

fn let_task(local: syn::Local) -> syn::Result<LetTask> {
    if let Some(attr) = local.attrs.first() {
        return Err(syn::Error::new_spanned(
            attr,
            "attributes on graph bindings are not supported",
        ));
    }
    let (ident, ty) = match &local.pat {
        Pat::Type(pt) => (
            binding_ident(&pt.pat, "graph bindings")?,
            Some((*pt.ty).clone()),
        ),
        pat => (binding_ident(pat, "graph bindings")?, None),
    };
    let let_token = local.let_token;
    let Some(init) = local.init else {
        return Err(syn::Error::new_spanned(
            quote::quote!(#let_token #ident),
            format!(
                "`let {ident}` has no initializer: every graph binding is a task and needs \
                 a value (`let {ident} = expr;`)"
            ),
        ));
    };
    if let Some((else_token, block)) = &init.diverge {
        return Err(syn::Error::new_spanned(
            quote::quote!(#else_token #block),
            "`let ... else` is not supported in a graph",
        ));
    }
    let (body, fan_out) = match *init.expr {
        Expr::ForLoop(f) => {
            let whole = Expr::ForLoop(f.clone());
            (
                TaskExpr {
                    expr: whole,
                    fallible: false,
                },
                Some(FanOut::new(f)?),
            )
        }
        expr => (TaskExpr::new(expr), None),
    };
    Ok(LetTask {
        ident,
        ty,
        body,
        fan_out,
    })
}
