//! `#[delayed]`: adds `name::lazy(..) -> Delayed<R>` next to a free function.
//!
//! [`parse`] checks the item and builds a [`parse::LazyFn`] model (parameter types as the
//! lazy form sees them, return kind, generics); [`generate`] writes the tokens. The lazy
//! form lives in an uninhabited `enum` of the function's name rather than a `mod`: a
//! module cannot see items declared in an enclosing function body (doc tests, `#[test]`
//! functions), while an inherent impl can, and `name::lazy` reads the same either way.

mod generate;
mod parse;

use proc_macro2::TokenStream;

/// Expands `#[delayed(attr)] item`; every misuse becomes a spanned `compile_error!`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match parse::parse(attr, item.clone()) {
        Ok(model) => generate::generate(&model),
        Err(err) => {
            // Keep the user's item so that the one error reported is ours, not a cascade of
            // "cannot find function" errors from its call sites.
            let mut out = err.to_compile_error();
            out.extend(item);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn err_of(attr: TokenStream, item: TokenStream) -> String {
        match parse::parse(attr, item) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn rejects_misuse() {
        let cases: Vec<(TokenStream, TokenStream, &str)> = vec![
            (
                quote!(foo),
                quote!(
                    fn f() {}
                ),
                "takes no arguments",
            ),
            (
                quote!(),
                quote!(
                    struct S;
                ),
                "can only be applied to a free function",
            ),
            (
                quote!(),
                quote!(impl S {}),
                "can only be applied to a free function",
            ),
            (
                quote!(),
                quote!(
                    fn f(&self) {}
                ),
                "methods",
            ),
            (
                quote!(),
                quote!(
                    async fn f() {}
                ),
                "async",
            ),
            (
                quote!(),
                quote!(
                    unsafe fn f() {}
                ),
                "unsafe",
            ),
            (
                quote!(),
                quote!(
                    fn f(x: impl Clone) {}
                ),
                "impl Trait",
            ),
            (
                quote!(),
                quote!(
                    fn f() -> impl Clone {
                        1
                    }
                ),
                "impl Trait",
            ),
            (
                quote!(),
                quote!(
                    fn f(x: &str) {}
                ),
                "&String",
            ),
            (
                quote!(),
                quote!(
                    fn f(x: &[u8]) {}
                ),
                "&Vec<u8>",
            ),
            (
                quote!(),
                quote!(
                    fn f(x: &mut i32) {}
                ),
                "&mut",
            ),
            (
                quote!(),
                quote!(
                    fn f(x: &i32) -> &i32 {
                        x
                    }
                ),
                "reference",
            ),
            (
                quote!(),
                quote!(
                    fn f<'a>(x: &'a i32) -> Option<&'a i32> {
                        None
                    }
                ),
                "reference",
            ),
        ];
        for (attr, item, want) in cases {
            let got = err_of(attr, item.clone());
            assert!(got.contains(want), "{item}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn generates_expected_shape() {
        let out = expand(
            quote!(),
            quote!(
                pub fn inc<'a, T: Copy, const N: usize>(x: T, y: &'a Vec<T>) -> Result<T, E> {
                    Ok(x)
                }
            ),
        )
        .to_string();
        assert!(out.contains("pub enum inc"), "{out}");
        let lazy = out.split("pub enum inc").nth(1).unwrap_or_default();
        assert!(out.contains("build_result"), "{out}");
        assert!(out.contains("inc :: < T , N >"), "{out}");
        assert!(out.contains("T : :: core :: clone :: Clone"), "{out}");
        assert!(
            !lazy.contains("'a"),
            "lifetimes are dropped from the lazy form: {out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }
}
