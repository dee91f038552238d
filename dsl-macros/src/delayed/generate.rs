//! Writes the tokens of `#[delayed]`: the unchanged function, then its lazy form.

use super::parse::{LazyFn, LazyReturn};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::LitStr;

pub(crate) fn generate(model: &LazyFn) -> TokenStream {
    let mut item = model.item.clone();
    if model.params.iter().any(|p| p.by_ref) {
        // The lazy form needs owned, sized inputs, so `#[delayed]` functions take `&Vec<T>`
        // and `&String` where clippy would ask for `&[T]` and `&str`.
        item.attrs
            .push(syn::parse_quote!(#[allow(clippy::ptr_arg)]));
    }
    let item = &item;
    let vis = &item.vis;
    let name = &item.sig.ident;
    let key = LitStr::new(&crate::errors::key_of(name), name.span());
    let (impl_generics, _, where_clause) = model.generics.split_for_impl();
    let turbofish = &model.turbofish;
    let turbofish = if turbofish.is_empty() {
        quote!()
    } else {
        quote!(::<#(#turbofish),*>)
    };

    // Internal names are mixed-site so they can never capture or shadow a user's name.
    let builder = internal("__dagwood_builder");
    let args = internal("__dagwood_args");
    let slots: Vec<_> = (0..model.params.len())
        .map(|i| format_ident!("__dagwood_slot_{}", i, span = Span::mixed_site()))
        .collect();
    let values: Vec<_> = (0..model.params.len())
        .map(|i| format_ident!("__dagwood_arg_{}", i, span = Span::mixed_site()))
        .collect();

    let lazy_params = model.params.iter().map(|p| {
        let (n, ty) = (&p.name, &p.ty);
        quote!(#n: impl ::dagwood::__private::IntoArg<#ty>)
    });
    let register = model.params.iter().zip(&slots).map(|(p, slot)| {
        let (n, ty) = (&p.name, &p.ty);
        quote!(let #slot: ::dagwood::__private::ArgSlot<#ty> = #builder.arg(#n);)
    });
    // `take` needs `&mut Args` and `get` hands out borrows of `Args`: all takes first.
    let takes = model
        .params
        .iter()
        .zip(slots.iter().zip(&values))
        .filter(|(p, _)| !p.by_ref)
        .map(|(_, (slot, value))| quote!(let #value = #slot.take(#args)?;));
    let gets = model
        .params
        .iter()
        .zip(slots.iter().zip(&values))
        .filter(|(p, _)| p.by_ref)
        .map(|(_, (slot, value))| quote!(let #value = #slot.get(&*#args)?;));

    let call = quote!(#name #turbofish (#(#values),*));
    let (ret_ty, build) = match &model.ret {
        LazyReturn::Plain(ty) => (ty, quote!(build)),
        LazyReturn::Result { ok } => (ok, quote!(build_result)),
    };

    let enum_doc = format!(
        "Lazy form of the function `{name}` (added by `#[delayed]`): call `{name}::lazy(..)`. \
         This type has no values; it only holds `lazy`."
    );
    let lazy_doc = format!(
        "Builds a task that runs `{name}` on its arguments when computed, keyed \"{name}\".\n\n\
         Each argument may be a plain value, a `Delayed` handle or a reference to one; nothing \
         runs until the returned handle is computed."
    );

    // `arg` needs `&mut`; without parameters a `mut` would only draw a warning.
    let mutability = if model.params.is_empty() {
        quote!()
    } else {
        quote!(mut)
    };

    quote! {
        #item

        #[doc = #enum_doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis enum #name {}

        #[allow(dead_code)]
        impl #name {
            #[doc = #lazy_doc]
            #[allow(
                clippy::too_many_arguments,
                clippy::needless_pass_by_value,
                clippy::multiple_bound_locations
            )]
            pub fn lazy #impl_generics (#(#lazy_params),*) -> ::dagwood::__private::Delayed<#ret_ty>
            #where_clause
            {
                let #mutability #builder = ::dagwood::__private::TaskBuilder::new(#key);
                #(#register)*
                #builder.#build(move |#args| {
                    #(#takes)*
                    #(#gets)*
                    ::core::result::Result::Ok(#call)
                })
            }
        }
    }
}

/// A mixed-site identifier for generated locals: invisible to the user's tokens.
fn internal(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::mixed_site())
}
