//! Checks a `#[delayed]` item and models its lazy form.
//!
//! The lazy form receives every argument as an owned value stored in the task graph, so
//! it can only describe functions whose parameters are owned values or shared borrows of
//! sized `'static` values, and whose result owns its data. Everything else is rejected
//! here, each error spanned at the offending tokens of the user's item.

use crate::errors::Errors;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{
    FnArg, GenericArgument, GenericParam, Generics, Ident, Item, ItemFn, Lifetime, Pat,
    PathArguments, ReturnType, Type, WherePredicate,
};

/// The lazy form of one function, ready to be generated.
pub(crate) struct LazyFn {
    /// The user's function, emitted unchanged.
    pub item: ItemFn,
    pub params: Vec<LazyParam>,
    pub ret: LazyReturn,
    /// Generics of `lazy`: the function's type and const parameters (lifetimes dropped),
    /// with the bounds the task graph needs added.
    pub generics: Generics,
    /// The type and const parameter names, for the turbofish of the call.
    pub turbofish: Vec<Ident>,
}

/// One parameter of the lazy form.
pub(crate) struct LazyParam {
    /// The name `lazy` gives the parameter (the user's, or a synthetic one).
    pub name: Ident,
    /// The value type stored in the graph: `T` for both `x: T` and `x: &T`.
    pub ty: Type,
    /// `x: &T`: the function borrows the input (`get`) instead of owning it (`take`).
    pub by_ref: bool,
}

pub(crate) enum LazyReturn {
    /// Any return type but `Result<T, E>` (including `()` for no return type).
    Plain(Type),
    /// `Result<T, E>`: the task yields `T` and fails with `E`.
    Result { ok: Type },
}

/// Parses and checks `#[delayed(attr)] item`.
pub(crate) fn parse(attr: TokenStream, item: TokenStream) -> syn::Result<LazyFn> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "#[delayed] takes no arguments: write `#[delayed]`",
        ));
    }
    let item = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(f)) => f,
        Ok(other) => return Err(not_a_function(&other)),
        // A trait method without a body, a statement, ...: not an item we can wrap.
        Err(_) => {
            return Err(syn::Error::new_spanned(
                item,
                "#[delayed] can only be applied to a free function",
            ))
        }
    };
    check_signature(&item)?;

    let lifetimes: Vec<Lifetime> = item
        .sig
        .generics
        .lifetimes()
        .map(|l| l.lifetime.clone())
        .collect();
    let type_params: Vec<Ident> = item
        .sig
        .generics
        .type_params()
        .map(|t| t.ident.clone())
        .collect();

    let mut errors = Errors::default();
    let mut params = Vec::new();
    for (index, arg) in item.sig.inputs.iter().enumerate() {
        let FnArg::Typed(arg) = arg else {
            // check_signature rejected receivers already.
            continue;
        };
        match lazy_param(index, &arg.pat, &arg.ty, &item.sig.ident, &lifetimes) {
            Ok(p) => params.push(p),
            Err(e) => errors.push(e),
        }
    }
    let ret = match lazy_return(&item.sig.output, &lifetimes) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    errors.check()?;
    let ret = ret.unwrap_or_else(|| LazyReturn::Plain(syn::parse_quote!(())));

    let generics = lazy_generics(&item.sig.generics, &lifetimes, &params, &type_params);
    let turbofish = item
        .sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.clone()),
            GenericParam::Const(c) => Some(c.ident.clone()),
            GenericParam::Lifetime(_) => None,
        })
        .collect();

    Ok(LazyFn {
        item,
        params,
        ret,
        generics,
        turbofish,
    })
}

fn not_a_function(item: &Item) -> syn::Error {
    // Point at the keyword and name rather than the whole (possibly long) item.
    let head = match item {
        Item::Struct(s) => keyword_and_name(&s.struct_token, &s.ident),
        Item::Enum(e) => keyword_and_name(&e.enum_token, &e.ident),
        Item::Union(u) => keyword_and_name(&u.union_token, &u.ident),
        Item::Trait(t) => keyword_and_name(&t.trait_token, &t.ident),
        Item::Mod(m) => keyword_and_name(&m.mod_token, &m.ident),
        Item::Type(t) => keyword_and_name(&t.type_token, &t.ident),
        Item::Const(c) => keyword_and_name(&c.const_token, &c.ident),
        Item::Static(s) => keyword_and_name(&s.static_token, &s.ident),
        Item::Impl(i) => keyword_and_name(&i.impl_token, &i.self_ty),
        other => other.to_token_stream(),
    };
    syn::Error::new_spanned(head, "#[delayed] can only be applied to a free function")
}

fn keyword_and_name(keyword: &dyn ToTokens, name: &dyn ToTokens) -> TokenStream {
    let mut head = keyword.to_token_stream();
    name.to_tokens(&mut head);
    head
}

fn check_signature(item: &ItemFn) -> syn::Result<()> {
    let sig = &item.sig;
    if let Some(receiver) = sig.receiver() {
        return Err(syn::Error::new_spanned(
            receiver,
            "#[delayed] does not support methods: apply it to a free function and pass the \
             receiver as an ordinary parameter",
        ));
    }
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            a,
            "#[delayed] does not support `async fn`: tasks run on a thread pool, not an \
             executor",
        ));
    }
    if let Some(u) = &sig.unsafety {
        return Err(syn::Error::new_spanned(
            u,
            "#[delayed] does not support `unsafe fn`: the lazy form could not uphold its \
             safety contract",
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            v,
            "#[delayed] does not support variadic functions",
        ));
    }
    Ok(())
}

fn lazy_param(
    index: usize,
    pat: &Pat,
    ty: &Type,
    fn_name: &Ident,
    lifetimes: &[Lifetime],
) -> syn::Result<LazyParam> {
    reject_impl_trait(ty)?;
    let (by_ref, inner) = match ty {
        Type::Reference(r) => {
            if let Some(m) = &r.mutability {
                return Err(syn::Error::new_spanned(
                    keyword_and_name(&r.and_token, m),
                    "#[delayed] parameters cannot be `&mut`: take the value and return the \
                     modified one",
                ));
            }
            (true, &*r.elem)
        }
        other => (false, other),
    };
    if by_ref {
        if let Some(owned) = unsized_hint(inner) {
            return Err(syn::Error::new_spanned(
                ty,
                format!(
                    "#[delayed] parameters must borrow sized values, which the task graph can \
                     own: take `&{owned}` instead"
                ),
            ));
        }
    }
    if let Some(r) = non_static_reference(inner) {
        return Err(syn::Error::new_spanned(
            r,
            "#[delayed] parameters may only borrow at the top level (`x: &T`): the task \
             graph stores every argument as an owned `'static` value",
        ));
    }
    let mut ty = inner.clone();
    StaticLifetimes(lifetimes).visit_type_mut(&mut ty);

    // A plain identifier names the parameter of `lazy` (nicer in docs); anything else
    // (`_`, tuples, structs), or a name that would shadow the function, gets a synthetic one.
    let name = match pat {
        Pat::Ident(p) if p.subpat.is_none() && p.ident != *fn_name => p.ident.clone(),
        _ => format_ident!("__dagwood_param_{}", index, span = pat.span()),
    };
    Ok(LazyParam { name, ty, by_ref })
}

fn lazy_return(ret: &ReturnType, lifetimes: &[Lifetime]) -> syn::Result<LazyReturn> {
    let ty = match ret {
        ReturnType::Default => return Ok(LazyReturn::Plain(syn::parse_quote!(()))),
        ReturnType::Type(_, ty) => ty,
    };
    reject_impl_trait(ty)?;
    if let Some(r) = non_static_reference(ty) {
        return Err(syn::Error::new_spanned(
            r,
            "#[delayed] functions cannot return a reference: the result is stored in the \
             task graph, so it must own its data",
        ));
    }
    let mut ty = (**ty).clone();
    StaticLifetimes(lifetimes).visit_type_mut(&mut ty);
    Ok(match result_ok_type(&ty) {
        Some(ok) => LazyReturn::Result { ok },
        None => LazyReturn::Plain(ty),
    })
}

/// `Result<T, E>` (by last path segment, exactly two type arguments) → `T`. Aliases with
/// one argument such as `io::Result<T>` are ambiguous and treated as plain values.
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    match (types.as_slice(), args.args.len()) {
        ([ok, _err], 2) => Some((*ok).clone()),
        _ => None,
    }
}

/// For `&X` with unsized `X` that the graph could never own, the owned type to suggest.
fn unsized_hint(ty: &Type) -> Option<String> {
    match ty {
        Type::Slice(s) => {
            let elem = &s.elem;
            Some(format!("Vec<{}>", quote!(#elem)))
        }
        Type::TraitObject(t) => Some(format!("Box<{}>", quote!(#t))),
        Type::Paren(p) => unsized_hint(&p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if !matches!(last.arguments, PathArguments::None) {
                return None;
            }
            let owned = match last.ident.to_string().as_str() {
                "str" => "String",
                "Path" => "PathBuf",
                "OsStr" => "OsString",
                "CStr" => "CString",
                _ => return None,
            };
            Some(owned.to_string())
        }
        _ => None,
    }
}

fn reject_impl_trait(ty: &Type) -> syn::Result<()> {
    struct Find<'a>(Option<&'a syn::TypeImplTrait>);
    impl<'a> Visit<'a> for Find<'a> {
        fn visit_type_impl_trait(&mut self, t: &'a syn::TypeImplTrait) {
            self.0.get_or_insert(t);
        }
    }
    let mut find = Find(None);
    find.visit_type(ty);
    match find.0 {
        Some(t) => Err(syn::Error::new_spanned(
            t,
            "#[delayed] does not support `impl Trait` in parameters or return types: name \
             the type, or use a generic parameter",
        )),
        None => Ok(()),
    }
}

/// The first reference in `ty` that is not `&'static`.
fn non_static_reference(ty: &Type) -> Option<&syn::TypeReference> {
    struct Find<'a>(Option<&'a syn::TypeReference>);
    impl<'a> Visit<'a> for Find<'a> {
        fn visit_type_reference(&mut self, r: &'a syn::TypeReference) {
            let is_static = r.lifetime.as_ref().is_some_and(|l| l.ident == "static");
            if !is_static {
                self.0.get_or_insert(r);
            }
            syn::visit::visit_type_reference(self, r);
        }
    }
    let mut find = Find(None);
    find.visit_type(ty);
    find.0
}

/// Replaces the function's lifetime parameters (and `'_`) by `'static`: everything the
/// graph stores is `'static`, and the lazy form has no lifetime parameters.
struct StaticLifetimes<'a>(&'a [Lifetime]);

impl VisitMut for StaticLifetimes<'_> {
    fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
        if l.ident == "_" || self.0.iter().any(|p| p.ident == l.ident) {
            *l = Lifetime::new("'static", l.span());
        }
    }
}

/// Generics of `lazy`: type and const parameters only, every type parameter
/// `Send + Sync + 'static` (the graph moves values between threads), and `Ty: Clone` for
/// by-value parameter types that mention a type parameter (`take` may clone). Concrete
/// types are left alone: a missing `Clone` there is reported by rustc at the type.
fn lazy_generics(
    generics: &Generics,
    lifetimes: &[Lifetime],
    params: &[LazyParam],
    type_params: &[Ident],
) -> Generics {
    let mut out = generics.clone();
    out.params = generics
        .params
        .iter()
        .filter(|p| !matches!(p, GenericParam::Lifetime(_)))
        .cloned()
        .collect();
    if let Some(wc) = &mut out.where_clause {
        wc.predicates = wc
            .predicates
            .iter()
            .filter(|p| !matches!(p, WherePredicate::Lifetime(_)))
            .cloned()
            .collect();
    }
    StaticLifetimes(lifetimes).visit_generics_mut(&mut out);

    let mut extra: Vec<WherePredicate> = type_params
        .iter()
        .map(|t| syn::parse_quote!(#t: ::core::marker::Send + ::core::marker::Sync + 'static))
        .collect();
    for p in params.iter().filter(|p| !p.by_ref) {
        if mentions_any(&p.ty, type_params) {
            let ty = &p.ty;
            extra.push(syn::parse_quote!(#ty: ::core::clone::Clone));
        }
    }
    if !extra.is_empty() {
        out.make_where_clause().predicates.extend(extra);
    }
    out
}

fn mentions_any(ty: &Type, names: &[Ident]) -> bool {
    struct Find<'a> {
        names: &'a [Ident],
        found: bool,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_path(&mut self, p: &'ast syn::Path) {
            if p.leading_colon.is_none() {
                if let Some(first) = p.segments.first() {
                    if self.names.contains(&first.ident) {
                        self.found = true;
                    }
                }
            }
            syn::visit::visit_path(self, p);
        }
    }
    let mut f = Find {
        names,
        found: false,
    };
    f.visit_type(ty);
    f.found
}
