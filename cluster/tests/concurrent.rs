//! Two computations at once in one process, and panicking callbacks: runs on
//! one process are independent; a second run over several processes while
//! one is under way is refused with `ClusterError::Busy`; a callback that
//! panics fails the run with an `Err`. No test asserts a time.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use dagwood_cluster::{Cluster, ClusterError};
use dagwood_runtime::diagnostics::{scoped_callback, Callback, TaskEvent};
use dagwood_runtime::{delayed, sum, Delayed, Error};

fn total(n: i64) -> Delayed<i64> {
    sum((0..n).map(|i| delayed(i).map("inc", |v: &i64| v + 1)), 4).unwrap()
}

fn free_port_pair() -> u16 {
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

#[test]
fn one_process_runs_side_by_side() {
    let threads: Vec<_> = (0..4_i64)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..5 {
                    let n = 50 + 10 * t + round;
                    let got = Cluster::single()
                        .with_threads(2)
                        .compute(&total(n))
                        .unwrap();
                    assert_eq!(got, Some(n * (n + 1) / 2));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_second_distributed_run_at_once_is_refused() {
    // Two runs as process 0 of two-process clusters whose process 1 never
    // comes: the one that starts first waits for its peer (and gives up
    // after the connect timeout); the other must be refused at once.
    let gate = Arc::new(Barrier::new(2));
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let gate = gate.clone();
            let port = free_port_pair();
            std::thread::spawn(move || {
                let cluster = Cluster::local(2, 0)
                    .with_base_port(port)
                    .with_connect_timeout(Duration::from_secs(5));
                gate.wait();
                cluster.compute(&total(10))
            })
        })
        .collect();
    let results: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(ClusterError::Busy { process: 0 })))
        .count();
    let waited = results
        .iter()
        .filter(|r| matches!(r, Err(ClusterError::PeerNeverCame { peer: 1, .. })))
        .count();
    assert_eq!((busy, waited), (1, 1), "{results:?}");
    let text = ClusterError::Busy { process: 0 }.to_string();
    assert!(text.contains("another distributed computation"), "{text}");
    // Once both are over, a run on one process goes on as ever.
    assert_eq!(Cluster::single().compute(&total(10)).unwrap(), Some(55));
}

struct PanicsInTaskEnd;

impl Callback for PanicsInTaskEnd {
    fn on_task_end(&self, _: &TaskEvent<'_>) {
        panic!("on purpose in on_task_end");
    }
}

#[test]
fn a_panicking_callback_fails_a_cluster_run() {
    let _on = scoped_callback(Arc::new(PanicsInTaskEnd));
    match Cluster::single().with_threads(2).compute(&total(20)) {
        Err(ClusterError::Runtime(Error::Callback {
            method, message, ..
        })) => {
            assert_eq!(method, "on_task_end");
            assert_eq!(message, "on purpose in on_task_end");
        }
        other => panic!("expected a callback error, got {other:?}"),
    }
}
