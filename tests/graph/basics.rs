//! `graph!`: results, sharing and moving of values, clones, failures, schedulers.

use dagwood::prelude::*;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Sync,
        Scheduler::threads(4).expect("a pool of 4 threads"),
    ]
}

fn inc(x: i64) -> i64 {
    x + 1
}

fn double(x: i64) -> i64 {
    2 * x
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
fn diamond_matches_sequential_code() {
    let sequential = {
        let a = inc(1);
        let b = double(a);
        let c = inc(a);
        add(b, c)
    };
    for s in schedulers() {
        let g = graph! {
            let a = inc(1);
            let b = double(a);
            let c = inc(a);
            add(b, c)
        };
        assert_eq!(g.compute_with(&s).unwrap(), sequential);
    }
    let g = graph! {
        let a = inc(1);
        let b = double(a);
        let c = inc(a);
        add(b, c)
    };
    assert_eq!(g.compute().unwrap(), sequential);
}

#[test]
fn fan_in_chain_and_n_shape() {
    for s in schedulers() {
        // fan-in of four independent tasks
        let g = graph! {
            let a = inc(0);
            let b = inc(1);
            let c = inc(2);
            let d = inc(3);
            a + b + c + d
        };
        assert_eq!(g.compute_with(&s).unwrap(), 1 + 2 + 3 + 4);

        // a chain
        let g = graph! {
            let a = inc(0);
            let b = double(a);
            let c = inc(b);
            c
        };
        assert_eq!(g.compute_with(&s).unwrap(), 3);

        // "N": a -> c, a -> d, b -> d
        let g = graph! {
            let a = inc(10);
            let b = inc(20);
            let c = double(a);
            let d = add(a, b);
            (c, d)
        };
        assert_eq!(g.compute_with(&s).unwrap(), (22, 32));
    }
}

#[test]
fn info_and_dot_describe_the_graph() {
    let g = graph! {
        let a = inc(1);
        let b = double(a);
        let c = inc(b);
        let d = inc(a);
        add(c, d)
    };
    let info = g.info();
    let keys: Vec<&str> = info.tasks.iter().map(|t| t.key).collect();
    assert_eq!(keys, ["a", "b", "c", "d"]);
    assert_eq!(info.tasks[2].inputs, &[1]);
    assert_eq!(info.output_inputs, &[2, 3]);
    // b -> c is a chain: b's only consumer is c, whose only input is b.
    let fused: Vec<bool> = info.tasks.iter().map(|t| t.fused_with_next).collect();
    assert_eq!(fused, [false, true, false, false]);
    let dot = g.to_dot();
    // Every task is a node labelled with its key, and b -> c an edge.
    for key in ["a", "b", "c", "d", "output"] {
        assert!(dot.contains(&format!("label=\"{key}\"")), "{key} in {dot}");
    }
    assert_eq!(dot.matches(" -> ").count(), 5, "{dot}");
    assert_eq!(g.compute().unwrap(), 2 * 2 + 1 + 3);
}

#[test]
fn borrowed_bindings_are_shared_not_cloned() {
    let data: Vec<i64> = (1..=1000).collect();
    let expected = (
        data.iter().sum::<i64>(),
        data.len(),
        data.iter().max().copied(),
    );
    for s in schedulers() {
        let g = graph! {
            let v = data.clone();
            let total = sum(&v);
            let n = v.len();
            let max = v.iter().max().copied();
            (total, n, max)
        };
        assert_eq!(g.compute_with(&s).unwrap(), expected);
    }
}

fn sum(v: &[i64]) -> i64 {
    v.iter().sum()
}

/// Not `Clone`: compiling proves the graph moves it instead of cloning.
struct NoClone(Vec<i64>);

fn consume(x: NoClone) -> i64 {
    x.0.into_iter().sum()
}

#[test]
fn a_value_with_one_consumer_is_moved() {
    for s in schedulers() {
        let g = graph! {
            let a = NoClone(vec![1, 2, 3]);
            let b = consume(a);
            b * 2
        };
        assert_eq!(g.compute_with(&s).unwrap(), 12);
    }
}

/// Counts its clones in the counter it points to.
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

fn eat(c: Counted) -> i64 {
    c.value
}

fn peek(c: &Counted) -> i64 {
    c.value
}

#[test]
fn clones_one_consumer_none() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    for s in schedulers() {
        let g = graph! {
            let a = Counted { value: 7, clones: &CLONES };
            let b = eat(a);
            b
        };
        assert_eq!(g.compute_with(&s).unwrap(), 7);
    }
    assert_eq!(CLONES.load(Ordering::SeqCst), 0);
}

#[test]
fn clones_two_consumers_exactly_one() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let a = Counted { value: 7, clones: &CLONES };
        let b = eat(a);
        let c = eat(a);
        b + c
    };
    assert_eq!(g.compute().unwrap(), 14);
    assert_eq!(CLONES.load(Ordering::SeqCst), 1);
}

#[test]
fn clones_borrowers_cost_nothing() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let a = Counted { value: 7, clones: &CLONES };
        let b = peek(&a);
        let c = peek(&a);
        let d = a.value;
        let e = eat(a);
        b + c + d + e
    };
    // b, c, d borrow a concurrently with e: e alone needs a clone.
    assert_eq!(g.compute_with(&Scheduler::Sync).unwrap(), 28);
    assert_eq!(CLONES.load(Ordering::SeqCst), 1);
}

#[test]
fn clones_value_needed_after_its_consumer() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let a = Counted { value: 5, clones: &CLONES };
        let b = eat(a);
        let c = b + 1;
        eat(a) + c
    };
    assert_eq!(g.compute().unwrap(), 11);
    assert_eq!(CLONES.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panic_fails_the_graph_naming_the_task() {
    for s in schedulers() {
        let g = graph! {
            let a = inc(1);
            let boom: i64 = if a == 2 { panic!("boom at {a}") } else { a };
            let c = inc(a);
            boom + c
        };
        let err = g.compute_with(&s).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("boom") && msg.contains("boom at 2"), "{msg}");
        assert_eq!(err.key().map(|k| k.name()), Some("boom"));
    }
}

#[derive(Debug)]
struct Negative(i64);

impl std::fmt::Display for Negative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is negative", self.0)
    }
}

impl std::error::Error for Negative {}

fn checked(x: i64) -> Result<i64, Negative> {
    if x < 0 {
        Err(Negative(x))
    } else {
        Ok(x)
    }
}

#[test]
fn question_mark_errors_fail_the_graph_naming_the_task() {
    for s in schedulers() {
        let f = graph!(|x: i64| {
            let ok = checked(x)?;
            let parsed: i64 = format!("{ok}").parse()?;
            parsed * 2
        });
        assert_eq!(f.run_with(&s, 4).unwrap(), 8);
        let err = f.run_with(&s, -3).unwrap_err();
        assert!(err.to_string().contains("-3 is negative"), "{err}");
        assert_eq!(err.key().map(|k| k.name()), Some("ok"));
    }
    // A fallible output expression.
    let g = graph! {
        let s = String::from("12x");
        s.parse::<i64>()?
    };
    let err = g.compute().unwrap_err();
    assert_eq!(err.key().map(|k| k.name()), Some("output"));
}

#[test]
fn a_failed_task_stops_later_tasks() {
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let a = checked(-1)?;
        let b = { RAN.fetch_add(1, Ordering::SeqCst); a + 1 };
        b
    };
    assert!(g.compute_with(&Scheduler::Sync).is_err());
    assert_eq!(RAN.load(Ordering::SeqCst), 0);
}

#[test]
fn parameterised_graph_runs_many_times() {
    let f = graph!(|x: i64, y: i64| {
        let s = add(x, y);
        let p = x * y;
        let q = double(s);
        q - p
    });
    for s in schedulers() {
        for x in -5..5 {
            for y in 0..4 {
                assert_eq!(f.run_with(&s, x, y).unwrap(), 2 * (x + y) - x * y);
            }
        }
    }
    assert_eq!(f.run(1, 2).unwrap(), 4);
    assert_eq!(f.info().params, &["x", "y"]);

    let no_params = graph!(|| {
        let a = inc(1);
        a
    });
    assert_eq!(no_params.run().unwrap(), 2);
    assert_eq!(no_params.run().unwrap(), 2);

    let one = graph!(|v: Vec<i64>| -> usize {
        let n = v.len();
        let total = sum(&v);
        n + total as usize
    });
    assert_eq!(one.run(vec![1, 2, 3]).unwrap(), 9);
}

#[test]
fn parameters_consumed_by_several_tasks_are_cloned() {
    let f = graph!(|words: Vec<String>| {
        let joined = words.join(" ");
        let owned = into_upper(words);
        let n = count(words);
        (joined, owned, n)
    });
    let out = f.run(vec!["a".into(), "b".into()]).unwrap();
    assert_eq!(
        out,
        ("a b".to_string(), vec!["A".to_string(), "B".into()], 2)
    );
}

fn into_upper(v: Vec<String>) -> Vec<String> {
    v.into_iter().map(|s| s.to_uppercase()).collect()
}

fn count(v: Vec<String>) -> usize {
    v.len()
}

#[test]
fn underscore_tasks_run_for_side_effects() {
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let log = Mutex::new(Vec::new());
    let g = graph! {
        let a = inc(1);
        let _record = log.lock().unwrap().push(a);
        let _count = SEEN.fetch_add(1, Ordering::SeqCst);
        a * 10
    };
    assert_eq!(g.compute().unwrap(), 20);
    assert_eq!(SEEN.load(Ordering::SeqCst), 1);
    assert_eq!(*log.lock().unwrap(), vec![2]);
}

#[test]
fn expressions_with_closures_blocks_matches_and_macros() {
    let offset = 100;
    let g = graph! {
        let xs: Vec<i64> = (1..=5).collect();
        let evens = xs.iter().filter(|x| *x % 2 == 0).count();
        let label = format!("{evens} evens of {}", xs.len());
        let shifted: Vec<i64> = xs.iter().map(|xs| xs + offset).collect();
        let pick = match shifted.first() {
            Some(first) => *first,
            None => 0,
        };
        let total = {
            let evens = evens as i64;
            evens + pick
        };
        (label, total)
    };
    assert_eq!(g.compute().unwrap(), ("2 evens of 5".to_string(), 2 + 101));
}

#[test]
fn items_and_type_annotations_inside_a_graph() {
    let g = graph! {
        fn square(x: u64) -> u64 {
            x * x
        }
        let xs: Vec<u64> = (0..4).map(square).collect();
        let total: u64 = xs.iter().sum();
        total
    };
    assert_eq!(g.compute().unwrap(), 14);
}

#[test]
fn a_constant_output_is_a_graph() {
    let g = graph! { 6 * 7 };
    assert_eq!(g.info().tasks.len(), 0);
    assert_eq!(g.compute().unwrap(), 42);
}

fn diamond(x: i64, y: i64) -> i64 {
    let a = add(x, y);
    let b = double(a);
    let c = a - y;
    let d = b * c;
    d + a
}

fn fan_in(xs: &[i64; 4]) -> (i64, i64) {
    let a = inc(xs[0]);
    let b = double(xs[1]);
    let c = xs[2] - xs[3];
    (a + b + c, a * b)
}

proptest! {
    #[test]
    fn diamond_agrees_with_sequential(x in -1000i64..1000, y in -1000i64..1000) {
        let f = graph!(|x: i64, y: i64| {
            let a = add(x, y);
            let b = double(a);
            let c = a - y;
            let d = b * c;
            d + a
        });
        prop_assert_eq!(f.run_with(&Scheduler::Sync, x, y).unwrap(), diamond(x, y));
        prop_assert_eq!(f.run(x, y).unwrap(), diamond(x, y));
    }

    #[test]
    fn fan_in_agrees_with_sequential(xs in proptest::array::uniform4(-1000i64..1000)) {
        let f = graph!(|xs: [i64; 4]| {
            let a = inc(xs[0]);
            let b = double(xs[1]);
            let c = xs[2] - xs[3];
            let sum = a + b + c;
            let product = a * b;
            (sum, product)
        });
        prop_assert_eq!(f.run(xs).unwrap(), fan_in(&xs));
    }
}

#[test]
fn clones_parallel_consumers_of_a_value_needed_afterwards() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let a = Counted { value: 3, clones: &CLONES };
        let b = eat(a);
        let c = eat(a);
        let d = b + c;
        (eat(a), d)
    };
    // b and c run in parallel and both consume a, which the output still needs.
    assert_eq!(g.compute().unwrap(), (3, 6));
    assert_eq!(CLONES.load(Ordering::SeqCst), 2);
}

#[test]
fn user_names_do_not_clash_with_generated_ones() {
    let g = graph! {
        let __exec = 1;
        let __dagwood_clone_a_0 = __exec + 1;
        let __dagwood_args = __exec * 10;
        __exec + __dagwood_clone_a_0 + __dagwood_args
    };
    assert_eq!(g.compute().unwrap(), 13);
}

fn generic_graph<T>(x: T) -> (T, T)
where
    T: Clone + Send + Sync + std::ops::Add<Output = T>,
{
    graph! {
        let a = x.clone();
        let b = a.clone() + a.clone();
        let c = a + x.clone();
        (b, c)
    }
    .compute()
    .unwrap()
}

#[test]
fn graphs_inside_generic_functions() {
    assert_eq!(generic_graph(2), (4, 4));
    assert_eq!(generic_graph(1.5), (3.0, 3.0));
}

#[test]
fn outer_variables_are_borrowed() {
    let names = ["x".to_string(), "yy".to_string()];
    let g = graph! {
        let lens: Vec<usize> = names.iter().map(String::len).collect();
        let joined = names.concat();
        (lens, joined)
    };
    assert_eq!(g.compute().unwrap(), (vec![1, 2], "xyy".to_string()));
    assert_eq!(names.len(), 2);
}

/// `#![distributed]` needs the `cluster` feature (its `wire` check).
#[cfg(feature = "cluster")]
#[test]
fn a_distributed_graph_is_a_delayed_graph_keyed_by_its_bindings() {
    let offset = 10_i64;
    let g: Delayed<i64> = graph! {
        #![distributed]
        let a = inc(offset);
        let b = double(a);
        let s = vec![a, b];
        s.iter().sum::<i64>() + a
    };
    let plan = dagwood::WireGraph::new(&g);
    let keys: Vec<String> = (0..plan.len()).map(|t| plan.key(t).to_string()).collect();
    assert_eq!(keys, ["a", "b", "s", "output"]);
    for s in schedulers() {
        assert_eq!(g.compute_with(&s).unwrap(), 11 + 22 + 11);
    }
    // A failing task names its binding.
    let bad: Delayed<i64> = graph! {
        #![distributed]
        let n: i64 = "x1".parse::<i64>()?;
        n
    };
    let e = bad.compute().unwrap_err().to_string();
    assert_eq!(e, "task n failed: invalid digit found in string");
}

#[test]
fn a_consuming_method_on_a_shared_binding_clones_it() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let v = vec![Counted { value: 2, clones: &CLONES }, Counted { value: 3, clones: &CLONES }];
        let total: i64 = v.into_iter().map(|c| c.value).sum();
        let n = v.len();
        (total, n)
    };
    assert_eq!(g.compute_with(&Scheduler::Sync).unwrap(), (5, 2));
    // `into_iter` consumed a clone of the vector (two elements cloned) while `n` read it.
    assert_eq!(CLONES.load(Ordering::SeqCst), 2);
}
