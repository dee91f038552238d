//! `graph!`: a task graph laid out at compile time.
//!
//! [`parse`] reads the `let`s and the output expression, [`analyse`] finds each task's
//! inputs (by name, with [`uses`]) and checks the DAG, [`lower`] turns the DAG into a
//! series-parallel tree, and [`generate`] writes that tree as straight-line code and
//! nested joins over typed locals. A graph marked `#![distributed]` is written by
//! [`distribute`] instead, as `Delayed` handles a cluster can place task by task.

mod analyse;
mod distribute;
mod generate;
mod lower;
mod parse;
mod uses;

use proc_macro2::TokenStream;

/// Expands `graph! { .. }`; every misuse becomes a spanned `compile_error!`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match parse::parse(input).and_then(analyse::analyse) {
        Ok(graph) if graph.distributed.is_some() => distribute::generate(&graph),
        Ok(graph) => generate::generate(&graph),
        Err(err) => err.to_compile_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(src: &str) -> String {
        let tokens: TokenStream = src.parse().expect("test input tokenizes");
        expand(tokens).to_string()
    }

    fn clones(out: &str) -> usize {
        out.matches(":: core :: clone :: Clone :: clone").count()
    }

    #[test]
    fn one_consumer_moves() {
        let out = expanded("let a = make(); let b = eat(a); b");
        assert_eq!(clones(&out), 0, "{out}");
    }

    #[test]
    fn two_parallel_consumers_clone_once() {
        let out = expanded("let a = make(); let b = eat(a); let c = eat(a); (b, c)");
        assert_eq!(clones(&out), 1, "{out}");
        assert!(out.contains("__exec . join"), "{out}");
    }

    #[test]
    fn borrowers_share_and_consumer_clones() {
        let out = expanded("let a = make(); let b = look(&a); let c = eat(a); (b, c)");
        assert_eq!(clones(&out), 1, "{out}");
        let out = expanded("let a = make(); let b = look(&a); let c = a.len(); (b, c)");
        assert_eq!(clones(&out), 0, "{out}");
    }

    #[test]
    fn consumer_before_later_use_clones() {
        // b consumes a, but the output still needs a afterwards.
        let out = expanded("let a = make(); let b = eat(a); (a, b)");
        assert_eq!(clones(&out), 1, "{out}");
    }

    #[test]
    fn three_branches_nest_joins() {
        let out = expanded("let a = 1; let b = 2; let c = 3; a + b + c");
        assert_eq!(out.matches("__exec . join").count(), 2, "{out}");
        assert!(out.contains("\"output\""), "{out}");
    }

    #[test]
    fn params_and_fallible() {
        let out = expanded("|x: i32, s: String| { let n: i32 = s.parse()?; x + n }");
        assert!(out.contains("GraphFn :: < _ , (i32 , String ,) >"), "{out}");
        assert!(out.contains("try_task"), "{out}");
        assert!(out.contains("params : & [\"x\" , \"s\"]"), "{out}");
    }

    #[test]
    fn errors_become_compile_errors() {
        let out = expanded("let a = f(b); let b = g(a); b");
        assert!(out.contains("compile_error"), "{out}");
    }
}
