//! `graph!` fan-out over run-time inputs (`let parts = for p in paths { .. };`) and
//! its reductions (`sum(parts, k)`, `tree_reduce(parts, k, |a, b| ..)`), checked
//! against the plain loop over many sizes, fan-ins and schedulers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dagwood::diagnostics::{scoped_callback, Callback, TaskEvent};
use dagwood::prelude::*;
use proptest::prelude::*;

fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Sync,
        Scheduler::threads(2).expect("a pool of 2"),
        Scheduler::threads(4).expect("a pool of 4"),
    ]
}

fn load(i: u64) -> Vec<u64> {
    (0..(i % 7)).map(|k| k * i).collect()
}

fn clean(v: Vec<u64>) -> Vec<u64> {
    v.into_iter().filter(|x| x % 3 != 0).collect()
}

fn total(v: &[u64]) -> u64 {
    v.iter().sum()
}

#[test]
fn the_delayed_tutorial_over_any_number_of_inputs() {
    let pipeline = graph!(|inputs: Vec<u64>| {
        let cleaned = for i in inputs {
            let raw = load(i);
            clean(raw)
        };
        let sums = for c in &cleaned {
            total(c)
        };
        let grand = sum(sums, 4);
        let count = cleaned.iter().map(Vec::len).sum::<usize>();
        (grand, count)
    });
    for s in schedulers() {
        for n in [0u64, 1, 2, 3, 7, 16, 33, 100] {
            let inputs: Vec<u64> = (0..n).collect();
            let expected = {
                let cleaned: Vec<Vec<u64>> = inputs.iter().map(|&i| clean(load(i))).collect();
                let grand: u64 = cleaned.iter().map(|c| total(c)).sum();
                (grand, cleaned.iter().map(Vec::len).sum::<usize>())
            };
            assert_eq!(pipeline.run_with(&s, inputs).unwrap(), expected, "n={n}");
        }
    }
}

proptest! {
    #[test]
    fn tree_reduce_keeps_element_order(n in 0usize..80, fan_in in 2usize..7) {
        let f = graph!(|xs: Vec<usize>, fan_in: usize| {
            let parts = for x in xs { vec![x * 2] };
            let all = tree_reduce(parts, fan_in, |mut a: Vec<usize>, b: Vec<usize>| {
                a.extend(b);
                a
            });
            all
        });
        let xs: Vec<usize> = (0..n).collect();
        let expected: Vec<usize> = xs.iter().map(|x| x * 2).collect();
        for s in schedulers() {
            let got = f.run_with(&s, xs.clone(), fan_in);
            if n == 0 {
                let e = got.unwrap_err();
                prop_assert_eq!(e.key().map(|k| k.name().to_string()), Some("all".to_string()));
            } else {
                prop_assert_eq!(got.unwrap(), expected.clone());
            }
        }
    }

    #[test]
    fn float_sums_are_bit_identical_across_schedulers(xs in proptest::collection::vec(-1e6f64..1e6, 0..200)) {
        let f = graph!(|xs: Vec<f64>| {
            let squares = for x in xs { x * x / 3.0 };
            sum(squares, 8)
        });
        let first = f.run_with(&Scheduler::Sync, xs.clone()).unwrap();
        let direct: f64 = xs.iter().map(|x| x * x / 3.0).sum();
        prop_assert!((first - direct).abs() <= 1e-9 * direct.abs().max(1.0));
        for s in schedulers() {
            prop_assert_eq!(f.run_with(&s, xs.clone()).unwrap().to_bits(), first.to_bits());
        }
    }
}

#[test]
fn a_reduction_over_a_fan_out_others_read_too() {
    // `parts` is read by the reduction and by `n`: it is built as a Vec first.
    let f = graph!(|xs: Vec<i64>| {
        let parts = for x in xs {
            x - 5
        };
        let n = parts.len();
        let biggest = tree_reduce(parts, 3, |a: i64, b: i64| a.max(b));
        (n, biggest)
    });
    for s in schedulers() {
        assert_eq!(f.run_with(&s, (0..50).collect()).unwrap(), (50, 44));
    }
}

/// Counts its clones.
#[derive(Debug)]
struct Counted {
    value: u64,
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

fn scaled(c: Counted, x: u64) -> u64 {
    c.value * x
}

#[test]
fn elements_borrow_bindings_and_clone_only_what_they_consume() {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    let g = graph! {
        let factor = Counted { value: 3, clones: &CLONES };
        let offsets: Vec<u64> = vec![100, 200];
        // `factor.value` borrows: no clone. `offsets[..]` borrows too.
        let borrowed = for x in 0..10u64 { factor.value * x + offsets[(x % 2) as usize] };
        // `scaled(factor, x)` consumes: one clone per element.
        let consumed = for x in 0..10u64 { scaled(factor, x) };
        (borrowed, consumed)
    };
    let (borrowed, consumed) = g.compute_with(&Scheduler::Sync).unwrap();
    assert_eq!(
        borrowed,
        (0..10)
            .map(|x| 3 * x + [100, 200][(x % 2) as usize])
            .collect::<Vec<_>>()
    );
    assert_eq!(consumed, (0..10).map(|x| 3 * x).collect::<Vec<_>>());
    assert_eq!(CLONES.load(Ordering::SeqCst), 10);
}

#[test]
fn patterns_and_borrowed_inputs() {
    let f = graph!(|words: Vec<String>| {
        let lengths = for (i, w) in words.iter().enumerate() {
            (i, w.len())
        };
        let upper = for w in &words {
            w.to_uppercase()
        };
        (lengths, upper, words.len())
    });
    let words: Vec<String> = ["a", "bb", "ccc"].iter().map(|s| s.to_string()).collect();
    assert_eq!(
        f.run(words).unwrap(),
        (
            vec![(0, 1), (1, 2), (2, 3)],
            vec!["A".to_string(), "BB".into(), "CCC".into()],
            3
        )
    );
}

#[test]
fn a_failing_element_fails_the_graph_naming_the_element() {
    let f = graph!(|texts: Vec<&'static str>| {
        let numbers = for t in texts {
            t.parse::<i64>()?
        };
        sum(numbers, 2)
    });
    for s in schedulers() {
        assert_eq!(f.run_with(&s, vec!["1", "2", "3"]).unwrap(), 6);
        let err = f.run_with(&s, vec!["1", "x", "3"]).unwrap_err();
        let key = err.key().expect("a task key");
        assert_eq!(
            (key.name(), key.indices()),
            ("numbers", &[1u64][..]),
            "{err}"
        );
        assert!(err.to_string().contains("invalid digit"), "{err}");
    }
    let g = graph!(|xs: Vec<u32>| {
        let parts = for x in xs {
            assert!(x != 4, "element {x} is bad");
            x
        };
        parts
    });
    let err = g.run((0..10).collect()).unwrap_err();
    assert_eq!(err.key().map(|k| k.indices().to_vec()), Some(vec![4]));
    assert!(err.to_string().contains("element 4 is bad"), "{err}");
}

#[test]
fn a_fan_out_inside_a_counted_piece() {
    // An N whose nodes are fan-outs: a -> c, a -> d, b -> d.
    let f = graph!(|xs: Vec<u64>| {
        let a = for x in &xs {
            x + 1
        };
        let b = xs.len() as u64;
        let c = for y in &a {
            y * 2
        };
        let d = for y in &a {
            y + b
        };
        (c, d)
    });
    for s in schedulers() {
        let xs: Vec<u64> = (0..20).collect();
        let (c, d) = f.run_with(&s, xs.clone()).unwrap();
        assert_eq!(c, xs.iter().map(|x| (x + 1) * 2).collect::<Vec<_>>());
        assert_eq!(d, xs.iter().map(|x| x + 1 + 20).collect::<Vec<_>>());
    }
}

#[derive(Default)]
struct Tally {
    started: AtomicUsize,
    ended: AtomicUsize,
    announced: AtomicUsize,
}

impl Callback for Tally {
    fn on_start(&self, tasks: usize) {
        self.announced.fetch_add(tasks, Ordering::SeqCst);
    }
    fn on_tasks_added(&self, tasks: usize) {
        self.announced.fetch_add(tasks, Ordering::SeqCst);
    }
    fn on_task_start(&self, _: &dagwood::Key, _: usize) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }
    fn on_task_end(&self, _: &TaskEvent<'_>) {
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn callbacks_see_every_element_and_combine_announced() {
    let f = graph!(|n: u64| {
        let parts = for i in 0..n {
            i
        };
        let s = sum(parts, 4);
        let t = s + 1;
        t
    });
    for s in schedulers() {
        let tally = Arc::new(Tally::default());
        let guard = scoped_callback(tally.clone());
        assert_eq!(f.run_with(&s, 30).unwrap(), (0..30).sum::<u64>() + 1);
        drop(guard);
        // 30 elements, 29 combines, t.
        assert_eq!(tally.ended.load(Ordering::SeqCst), 30 + 29 + 1);
        assert_eq!(tally.started.load(Ordering::SeqCst), 60);
        assert_eq!(tally.announced.load(Ordering::SeqCst), 60);
    }
}

#[test]
fn fan_outs_are_described_in_the_graph_info() {
    let f = graph!(|xs: Vec<u64>| {
        let parts = for x in xs {
            x
        };
        let total = sum(parts, 2);
        total
    });
    let info = f.info();
    let kinds: Vec<_> = info.tasks.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [dagwood::TaskKind::FanOut, dagwood::TaskKind::Reduce]
    );
    assert_eq!(info.tasks[1].inputs, &[0]);
    assert!(f.to_dot().contains("parts"));
}
