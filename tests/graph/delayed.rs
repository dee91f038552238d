//! `#[delayed]`: the lazy form next to an unchanged function.

use dagwood::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[delayed]
fn total(xs: &Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[delayed]
fn scale(xs: &Vec<i64>, by: i64) -> Vec<i64> {
    xs.iter().map(|x| x * by).collect()
}

#[delayed]
pub fn describe<T: std::fmt::Debug + Clone>(label: &String, value: T) -> String {
    format!("{label}: {value:?}")
}

#[delayed]
fn first_n<T: Clone, const N: usize>(xs: &Vec<T>) -> Vec<T> {
    xs.iter().take(N).cloned().collect()
}

#[delayed]
fn longest<'a>(a: &'a String, b: &'a String) -> usize {
    a.len().max(b.len())
}

#[derive(Debug)]
struct TooBig(i64);

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is too big", self.0)
    }
}

impl std::error::Error for TooBig {}

#[delayed]
fn bounded(x: i64) -> Result<i64, TooBig> {
    if x > 10 {
        Err(TooBig(x))
    } else {
        Ok(x)
    }
}

#[delayed]
fn pair_sum((a, b): (i64, i64), _: u8) -> i64 {
    a + b
}

#[delayed]
fn unit_task() {}

#[test]
fn the_plain_functions_are_unchanged() {
    assert_eq!(inc(1), 2);
    assert_eq!(add(2, 3), 5);
    assert_eq!(total(&vec![1, 2, 3]), 6);
    assert_eq!(bounded(11).unwrap_err().0, 11);
    assert_eq!(describe(&"n".to_string(), 3), "n: 3");
    assert_eq!(pair_sum((1, 2), 0), 3);
    unit_task();
}

#[test]
fn lazy_calls_build_a_graph_that_runs_on_compute() {
    let total_value = add::lazy(inc::lazy(1), inc::lazy(2));
    for s in [Scheduler::Sync, Scheduler::threads(2).unwrap()] {
        assert_eq!(total_value.compute_with(&s).unwrap(), add(inc(1), inc(2)));
    }
    assert_eq!(total_value.compute().unwrap(), 5);
}

#[test]
fn plain_values_and_handles_mix() {
    let a = inc::lazy(10);
    // handle by value, handle by reference, plain value
    let b = add::lazy(&a, 5);
    let c = add::lazy(a, b.clone());
    assert_eq!(c.compute().unwrap(), 11 + 16);
    assert_eq!(pair_sum::lazy((1, 2), 0).compute().unwrap(), 3);
    assert_eq!(unit_task::lazy().compute().unwrap(), ());
}

#[test]
fn by_reference_parameters_borrow_the_input() {
    let xs = delayed((1..=10).collect::<Vec<i64>>());
    let t = total::lazy(&xs);
    let scaled = scale::lazy(&xs, 3);
    let t3 = total::lazy(scaled);
    assert_eq!(compute_all((&t, &t3)).unwrap(), (55, 165));
    // a plain value works for a by-reference parameter too
    assert_eq!(total::lazy(vec![4, 5]).compute().unwrap(), 9);
}

#[test]
fn generic_functions() {
    let label = delayed("answer".to_string());
    // With a handle for a generic parameter, `T` could be `i64` or `Delayed<i64>`
    // (both implement `IntoArg`): name it.
    let d = describe::lazy::<i64>(&label, inc::lazy(41));
    assert_eq!(d.compute().unwrap(), "answer: 42");
    let d = describe::lazy::<Vec<u8>>("bytes".to_string(), vec![1u8, 2]);
    assert_eq!(d.compute().unwrap(), "bytes: [1, 2]");

    let firsts = first_n::lazy::<char, 2>(vec!['a', 'b', 'c']);
    assert_eq!(firsts.compute().unwrap(), vec!['a', 'b']);

    let n = longest::lazy("ab".to_string(), delayed("abcd".to_string()));
    assert_eq!(n.compute().unwrap(), 4);
}

#[test]
fn result_returns_surface_errors_with_the_key() {
    assert_eq!(bounded::lazy(3).compute().unwrap(), 3);
    let err = inc::lazy(bounded::lazy(inc::lazy(20)))
        .compute()
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("bounded") && msg.contains("21 is too big"),
        "{msg}"
    );
    assert_eq!(err.key().map(|k| k.name()), Some("bounded"));
}

#[delayed]
fn explode(x: i64) -> i64 {
    if x == 0 {
        panic!("exploded on zero");
    }
    x
}

#[test]
fn panics_surface_with_the_key() {
    let err = explode::lazy(0).compute_with(&Scheduler::Sync).unwrap_err();
    assert!(err.to_string().contains("exploded on zero"), "{err}");
    assert_eq!(err.key().map(|k| k.name()), Some("explode"));
}

/// Counts its clones.
struct Counted {
    value: i64,
    clones: &'static AtomicUsize,
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Counted {
            value: self.value,
            clones: self.clones,
        }
    }
}

#[delayed]
fn eat(c: Counted) -> i64 {
    c.value
}

#[delayed]
fn peek(c: &Counted) -> i64 {
    c.value
}

#[test]
fn by_reference_parameters_do_not_clone() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let c = delayed(Counted {
        value: 4,
        clones: &CLONES,
    });
    let a = peek::lazy(&c);
    let b = peek::lazy(&c);
    assert_eq!(compute_all((&a, &b)).unwrap(), (4, 4));
    assert_eq!(CLONES.load(Ordering::SeqCst), 0);
}

static MADE_CLONES: AtomicUsize = AtomicUsize::new(0);

#[delayed]
fn make(value: i64) -> Counted {
    Counted {
        value,
        clones: &MADE_CLONES,
    }
}

#[test]
fn a_by_value_parameter_moves_its_only_consumers_input() {
    let e = eat::lazy(make::lazy(6));
    assert_eq!(e.compute().unwrap(), 6);
    assert_eq!(MADE_CLONES.load(Ordering::SeqCst), 0);
}

#[test]
fn works_on_functions_declared_inside_a_function_body() {
    struct Local(i64);
    #[delayed]
    fn unwrap_local(l: &Local) -> i64 {
        l.0
    }
    assert_eq!(unwrap_local::lazy(Local(9)).compute().unwrap(), 9);
    assert_eq!(unwrap_local(&Local(8)), 8);
}

mod visibility {
    use dagwood::prelude::*;

    #[delayed]
    pub fn exported(x: i64) -> i64 {
        x * 100
    }
}

#[test]
fn the_lazy_form_has_the_function_visibility() {
    assert_eq!(visibility::exported::lazy(2).compute().unwrap(), 200);
    use visibility::exported;
    assert_eq!(exported(1), 100);
    assert_eq!(exported::lazy(1).compute().unwrap(), 100);
}
