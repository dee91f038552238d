//! Procedural macros of [dagwood](https://docs.rs/dagwood): `#[delayed]` and `graph!`.
//!
//! This crate only turns syntax into calls on the runtime; use it through the `dagwood`
//! facade (`use dagwood::prelude::*;`). Generated code refers to the runtime exclusively
//! through `::dagwood::__private`, so the two crates can evolve behind that one path.
//!
//! Each macro is split the way `serde_derive` is: **parse** (syntax into a small model,
//! rejecting what the macro cannot support with errors spanned at the user's tokens),
//! **analyse** (dependencies and checks), then **generate** (tokens). Only the entry
//! points below touch `proc_macro`; everything else works on `proc_macro2` so it can be
//! unit tested.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod delayed;
mod errors;
mod graph;

/// Adds a lazy form to a function: `name::lazy(args..)` returns a `Delayed<R>`.
///
/// The function itself is left unchanged and stays callable. Next to it, in the type
/// namespace, the attribute adds an (uninhabited) `enum` of the same name whose associated
/// function `lazy` takes each parameter as anything that converts into an argument: a
/// plain value, a `Delayed<T>` handle or a `&Delayed<T>`. Nothing runs until the handle is
/// computed; then the function runs once, as a task keyed by its name.
///
/// * `x: T` parameters receive the value (moved out of the input when this task is its
///   last consumer, cloned otherwise, hence `T: Clone`);
/// * `x: &T` parameters borrow the input without cloning it;
/// * a `Result<T, E>` return makes a `Delayed<T>`; an `Err` fails the computation with
///   this task's key.
///
/// Generic functions are supported; their type parameters must be `Send + Sync + 'static`
/// in the lazy form.
///
/// ```ignore
/// use dagwood::prelude::*;
///
/// #[delayed]
/// fn inc(x: i64) -> i64 { x + 1 }
///
/// #[delayed]
/// fn total(xs: &Vec<i64>) -> i64 { xs.iter().sum() }
///
/// let a = inc::lazy(1);                       // Delayed<i64>
/// let xs = delayed(|| vec![1, 2, 3]);
/// let t = total::lazy(&xs);                   // borrows the vector
/// assert_eq!(t.compute().unwrap(), 6);
/// assert_eq!(inc(1), 2);                      // the plain function is unchanged
/// ```
///
/// Not supported (each is a compile error): methods, `async fn`, `unsafe fn`, `impl
/// Trait` parameters or returns, unsized borrowed parameters (`&str`, `&[T]`: take
/// `&String`, `&Vec<T>`), `&mut` parameters, and returning a reference.
#[proc_macro_attribute]
pub fn delayed(attr: TokenStream, item: TokenStream) -> TokenStream {
    delayed::expand(attr.into(), item.into()).into()
}

/// Builds a task graph at compile time.
///
/// Each `let name = expr;` is a task; the final expression is the output. A task's inputs
/// are the earlier bindings its expression names, so independent tasks run in parallel
/// (nested `rayon::join`s) and chains become straight-line code, with no allocation or type
/// erasure per task. A binding used by reference (`&a`, `a.method()`, `a.field`, `a[i]`)
/// is shared; one used by value is moved into its last consumer and cloned for the
/// others only where they could run at the same time or later.
///
/// Two forms:
///
/// ```ignore
/// use dagwood::prelude::*;
///
/// // a graph computed once: a `StaticGraph`
/// let g = graph! {
///     let data = load();
///     let a = summarize(&data);
///     let b = histogram(&data);
///     report(a, b)
/// };
/// let report = g.compute()?;                  // or .compute_with(&Scheduler::Sync)
///
/// // a graph with parameters, run many times: a `GraphFn`
/// let f = graph!(|x: i64, y: i64| {
///     let s = x + y;
///     let p = x * y;
///     s - p
/// });
/// assert_eq!(f.run(2, 3)?, -1);
/// ```
///
/// A task whose expression ends in `?` (`let a = parse(s)?;`) is fallible: its `Err` fails
/// the graph with the task's key. A panic in a task does the same. Bindings named `_x` run
/// for their side effects only; any other binding must be used.
///
/// **Distributed graphs.** A graph whose first line is `#![distributed]` is built as
/// `Delayed` handles instead, one task per binding keyed by its name, so that
/// `dagwood_cluster::Cluster::compute` can place its tasks across processes (locally it
/// computes like any `Delayed`). Every binding's value may then travel, so its type must
/// be `Clone + Serialize + DeserializeOwned + Send + Sync + 'static`: a compile error at
/// the binding otherwise (the program depends on `dagwood-cluster`). Tasks own what they
/// use from outside the graph (moved in), and the closure form takes no parameters.
///
/// ```ignore
/// let g = graph! {
///     #![distributed]
///     let a = load(1);              // Vec<f64>: serde
///     let b = load(2);
///     mean(&a) + mean(&b)
/// };                                // a Delayed<f64>
/// if let Some(m) = cluster.compute(&g)? { println!("{m}"); }
/// ```
#[proc_macro]
pub fn graph(input: TokenStream) -> TokenStream {
    graph::expand(input.into()).into()
}
