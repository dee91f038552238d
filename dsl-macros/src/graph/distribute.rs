//! Writes a `#![distributed]` graph: the same bindings as `Delayed` handles, one task
//! each, keyed by the binding's name, so that a cluster can place every task on its own
//! and move values between processes.
//!
//! For a task `let c = f(a, &b);` it writes
//!
//! ```text
//! let c = {
//!     let mut __b = TaskBuilder::new("c").key("c");
//!     let __s_a = __b.input(&a);
//!     let __s_b = __b.input(&b);
//!     __b.build(move |__args| {
//!         let a = __s_a.take(__args)?;   // moved if this is its last reader, else cloned
//!         let b = __s_b.take(__args)?;
//!         Ok(f(a, &b))                   // the user's tokens, untouched
//!     })
//! };
//! ::dagwood::__private::wire(&c);
//! ```
//!
//! The `wire` call puts the bounds of travelling values on every binding's type
//! (`Clone + Serialize + DeserializeOwned + Send + Sync + 'static`), spanned at the
//! binding, so a value that could not travel is a compile error there. Tasks are `move`
//! closures that must be `'static`: what they use from outside the graph is moved in
//! (copy it or clone it into the graph first).

use super::analyse::{Graph, Use};
use crate::errors::key_of;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Expr, LitStr, Type};

pub(crate) fn generate(g: &Graph) -> TokenStream {
    let items = &g.items;
    let tasks = g.tasks.iter().map(|t| {
        let ident = &t.ident;
        let key = LitStr::new(&key_of(ident), ident.span());
        let build = task(g, &key, &t.expr, t.ty.as_ref(), t.fallible, &t.uses);
        let wire = wire(ident);
        quote! {
            let #ident = #build;
            #wire
        }
    });
    let o = &g.output;
    let output = if o.binding.is_some() {
        let e = &o.expr;
        quote!(#e)
    } else {
        let key = LitStr::new("output", Span::call_site());
        let build = task(g, &key, &o.expr, None, o.fallible, &o.uses);
        let out = internal("__dagwood_output");
        let wire = wire(&out);
        quote! {{
            let #out = #build;
            #wire
            #out
        }}
    };
    quote! {{
        #(#items)*
        #(#tasks)*
        #output
    }}
}

/// A mixed-site identifier: invisible to, and unshadowable by, the user's tokens.
fn internal(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The compile-time check (and codec registration) of a binding's value type.
fn wire(ident: &Ident) -> TokenStream {
    quote_spanned!(ident.span()=> ::dagwood::__private::wire(&#ident);)
}

/// The `TaskBuilder` expression of one task.
fn task(
    g: &Graph,
    key: &LitStr,
    expr: &Expr,
    ty: Option<&Type>,
    fallible: bool,
    uses: &[Use],
) -> TokenStream {
    let b = internal("__b");
    let args = internal("__args");
    let mut slots = Vec::new();
    let mut reads = Vec::new();
    for (i, u) in uses.iter().enumerate() {
        let user = g.ident(u.binding);
        let slot = format_ident!("__dagwood_slot_{}", i, span = Span::mixed_site());
        slots.push(quote!(let #slot = #b.input(&#user);));
        // Owned either way, as the static form's closures see values: a name the
        // scan takes for a borrow may still be used by value (in a macro's
        // arguments, say). `take` moves the input when this task is its last
        // reader and clones it otherwise. Spanned at the user's mention.
        let mention = &u.ident;
        reads.push(quote_spanned!(mention.span()=> let #user = #slot.take(#args)?;));
    }
    let value = internal("__dagwood_value");
    let body = match (ty, fallible) {
        (None, _) => quote!(#expr),
        (Some(ty), false) => quote!({ let #value: #ty = #expr; #value }),
        (Some(ty), true) => {
            quote!({ let #value: ::core::result::Result<#ty, _> = #expr; #value })
        }
    };
    let build = if fallible {
        quote!(build_result)
    } else {
        quote!(build)
    };
    quote! {{
        let mut #b = ::dagwood::__private::TaskBuilder::new(#key).key(#key);
        #(#slots)*
        #b.#build(move |#args: &mut ::dagwood::__private::Args| {
            #(#reads)*
            ::core::result::Result::Ok(#body)
        })
    }}
}

#[cfg(test)]
mod tests {
    fn expanded(src: &str) -> String {
        let tokens: proc_macro2::TokenStream = src.parse().expect("test input tokenizes");
        crate::graph::expand(tokens).to_string()
    }

    #[test]
    fn tasks_become_builders_with_wire_checks() {
        let out = expanded("#![distributed] let a = load(1); let b = f(a, &a); b");
        assert_eq!(out.matches("TaskBuilder :: new").count(), 2, "{out}");
        assert_eq!(out.matches("__private :: wire").count(), 2, "{out}");
        // `a` is used by value and by reference: read once.
        assert_eq!(out.matches(". take (").count(), 1, "{out}");
        assert!(!out.contains("__exec"), "{out}");
    }

    #[test]
    fn output_expression_is_a_task_and_fallible_uses_build_result() {
        let out = expanded("#![distributed] let a: i64 = s.parse()?; a + 1");
        assert!(out.contains("build_result"), "{out}");
        assert!(out.contains("\"output\""), "{out}");
    }

    #[test]
    fn misuse() {
        let out = expanded("#![distributed] |x: i32| { x }");
        assert!(out.contains("takes no parameters"), "{out}");
        let out = expanded("#![parallel] let a = 1; a");
        assert!(out.contains("unknown graph attribute"), "{out}");
        let out = expanded("#![distributed] #![distributed] let a = 1; a");
        assert!(out.contains("unknown graph attribute"), "{out}");
    }
}
