//! Accumulates independent errors, so that one compile reports all of them instead of
//! making the user fix them one rebuild at a time.

#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// `Err` with everything pushed so far (which is then cleared), or `Ok`.
    pub(crate) fn check(&mut self) -> syn::Result<()> {
        self.0.take().map_or(Ok(()), Err)
    }
}

/// The name of an identifier as a task key: `r#type` is keyed `type`.
pub(crate) fn key_of(ident: &proc_macro2::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}
