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
/// are the earlier bindings its expression names, and every task starts as soon as its
/// inputs are ready and a worker is free, for any acyclic graph: series-parallel parts
/// become straight-line code and nested `rayon::join`s, and the parts joins cannot run
/// exactly (an "N": a→c, a→d, b→d) are run by dependency counts over typed result slots.
/// Either way there is no allocation and no type erasure per task, and chains (a task
/// whose only consumer has no other input) are fused into straight-line code.
///
/// A binding used by reference (`&a`, `a.method()`, `a.field`, `a[i]`) is shared; one
/// used by value is moved into its last consumer and cloned for the others only where
/// they could run at the same time or later. Methods that consume their receiver by
/// convention (`into_*`, `unwrap*`, `expect*`, `ok`, `err`) count as uses by value;
/// for another consuming method on a binding others still read, write `a.clone().m()`.
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
/// for their side effects only; any other binding must be used. `output` is the key of
/// the output task and cannot name a binding.
///
/// **Fan-out over run-time inputs.** A binding whose value is a `for` loop runs its body
/// once per element, each element a task of the graph (keyed `(name, i)`); the binding
/// is the `Vec` of the bodies' values, in order. Inside the body, graph bindings are
/// borrowed, and one the body consumes is cloned per element. A body ending in `expr?`
/// makes every element fallible. `sum(parts, fan_in)` and
/// `tree_reduce(parts, fan_in, |a, b| ..)` over a fan-out reduce its elements in a tree
/// of binary combines grouped `fan_in` at a time; when the reduction is the fan-out's
/// only reader the two run as one, each combine starting as soon as its two inputs exist,
/// and the `Vec` is never built. The tree's shape depends only on the number of elements
/// and the fan-in, so float results are the same on every run and every scheduler.
/// `tree_reduce` of no elements fails the graph; `sum` of none is `Iterator::sum`'s.
///
/// ```ignore
/// let pipeline = graph!(|paths: Vec<PathBuf>| {
///     let cleaned = for p in paths { clean(load(&p)?) };   // a task per path
///     let stats = for c in &cleaned { analyse(c) };        // a task per cleaned input
///     let total = sum(stats, 8);                           // a tree of combines
///     report(total, cleaned.len())
/// });
/// let report = pipeline.run(paths)?;                       // any number of inputs
/// ```
///
/// **Lazy values.** A graph whose output is a `Delayed` handle, an `Array`, a `Bag`, a
/// `DataFrame`, or a tuple or `Vec` of them, computes it in the same run, all of it at
/// once, so results over one collection share its reads (Dask's `dask.compute(m, s)`):
/// `graph! { let x = Array::from_npy(p, &[1000])?; let m = x.mean()?; let s =
/// x.std(0.0)?; (m, s) }` gives two numbers and reads `x` once. Tasks in between see the
/// lazy values themselves; any other output is returned as it is.
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
