//! A panicking diagnostics callback under a `graph!` (static) graph makes
//! `compute` return `Error::Callback` naming the method, under both
//! schedulers; it does not panic out of `compute`.

use std::sync::Arc;

use dagwood::diagnostics::{scoped_callback, Callback, TaskEvent};
use dagwood::prelude::*;
use dagwood::{Error, Key};

fn inc(x: i64) -> i64 {
    x + 1
}

fn double(x: i64) -> i64 {
    2 * x
}

/// A callback that panics in one of its methods.
struct PanicsIn(&'static str);

impl PanicsIn {
    fn maybe(&self, method: &str) {
        if self.0 == method {
            panic!("on purpose in {method}");
        }
    }
}

impl Callback for PanicsIn {
    fn on_start(&self, _: usize) {
        self.maybe("on_start")
    }
    fn on_task_start(&self, _: &Key, _: usize) {
        self.maybe("on_task_start")
    }
    fn on_task_end(&self, _: &TaskEvent<'_>) {
        self.maybe("on_task_end")
    }
    fn on_finish(&self, _: Option<&Error>) {
        self.maybe("on_finish")
    }
}

#[test]
fn a_panicking_callback_fails_a_static_graph() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        if !p
            .downcast_ref::<String>()
            .is_some_and(|m| m.starts_with("on purpose"))
        {
            default(info);
        }
    }));
    for s in [Scheduler::Sync, Scheduler::threads(2).unwrap()] {
        for method in ["on_start", "on_task_start", "on_task_end", "on_finish"] {
            let g = graph! {
                let a = inc(1);
                let b = double(a);
                let c = inc(a);
                b + c
            };
            let _on = scoped_callback(Arc::new(PanicsIn(method)));
            match g.compute_with(&s) {
                Err(Error::Callback {
                    method: m, message, ..
                }) => {
                    assert_eq!(m, method);
                    assert_eq!(message, format!("on purpose in {method}"));
                }
                other => panic!("{method}: expected a callback error, got {other:?}"),
            }
        }
        let g = graph! {
            let a = inc(1);
            double(a)
        };
        assert_eq!(g.compute_with(&s).unwrap(), 4);
    }
}
