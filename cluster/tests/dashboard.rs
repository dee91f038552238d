//! The dashboard on a cluster: process 0's page shows every process's
//! workers and counts, sent with the heartbeats.
//!
//! Three processes of two threads each on localhost through
//! `dagwood-launch`; process 0 serves a dashboard and, once the run is
//! over, reads its own snapshot (what a page connecting then would get).
#![cfg(feature = "dashboard")]

mod common;
use common::run_guarded;

use std::process::Command;
use std::time::{Duration, Instant};

use dagwood_cluster::Cluster;
use dagwood_runtime::diagnostics::Dashboard;
use dagwood_runtime::{sum, Delayed, Key, TaskBuilder};
use serde_json::Value;

const LAUNCH: &str = env!("CARGO_BIN_EXE_dagwood-launch");
const LEAVES: u64 = 600;

fn leaves(fail: Option<u64>) -> Delayed<i64> {
    let parts = (0..LEAVES).map(|i| {
        let mut b = TaskBuilder::new("leaf").key(Key::new("leaf").with_index(i));
        let x = b.arg::<u64>(i);
        b.build_result(move |args| {
            let v = x.take(args)?;
            std::thread::sleep(Duration::from_millis(1));
            Ok(if Some(v) == fail {
                Err(format!("leaf {v} is bad"))
            } else {
                Ok(v as i64 * 2)
            })
        })
    });
    sum(parts, 8).unwrap_or_else(|e| panic!("{e}"))
}

/// [total, done, running, failed] of group `name` in a snapshot.
fn group(snapshot: &Value, name: &str) -> Option<[u64; 4]> {
    let names = snapshot["names"].as_array()?;
    let id = names.iter().position(|n| n == name)? as u64;
    let g = snapshot["groups"]
        .as_array()?
        .iter()
        .find(|g| g[0].as_u64() == Some(id))?;
    Some([1, 2, 3, 4].map(|i| g[i].as_u64().unwrap_or(0)))
}

fn child(mode: &str) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let cluster = Cluster::from_env()?;
    let me = cluster.process();
    // Only process 0 serves; the others learn it from its handshake.
    let dashboard = if me == 0 {
        Some(Dashboard::serve("127.0.0.1:0")?)
    } else {
        None
    };
    let fail = (mode == "fail").then_some(LEAVES - 7);
    let got = cluster.compute(&leaves(fail));
    let Some(d) = dashboard else {
        return Ok(None);
    };
    // The others' last digests come just before their goodbyes.
    let start = Instant::now();
    let snapshot = loop {
        let s: Value = serde_json::from_str(&d.snapshot_json())?;
        let complete = match mode {
            "fail" => s["failure"]["key"].is_string(),
            _ => group(&s, "leaf").is_some_and(|g| g[1] == LEAVES),
        };
        if complete || start.elapsed() > Duration::from_secs(20) {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut processes: Vec<u64> = snapshot["rows"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r[0].as_u64()).collect())
        .unwrap_or_default();
    processes.sort_unstable();
    processes.dedup();
    let procs = snapshot["procs"].as_array().map_or(0, Vec::len);
    let leaf = group(&snapshot, "leaf").unwrap_or_default();
    let bar_tasks: u64 = snapshot["bars"]
        .as_array()
        .map(|b| b.iter().filter_map(|b| b[4].as_u64()).sum())
        .unwrap_or(0);
    Ok(Some(match mode {
        "fail" => format!(
            "err={} failure={} error={}",
            got.is_err(),
            snapshot["failure"]["key"],
            snapshot["failure"]["error"]
        ),
        _ => format!(
            "value={} processes={processes:?} procs={procs} leaf={leaf:?} bars_ge_leaves={}",
            got?.unwrap_or(0),
            bar_tasks >= LEAVES
        ),
    }))
}

/// Not a test of its own: the program that the launcher starts.
#[test]
fn child_program() {
    common::child_main(child);
}

fn launch(mode: &str, base_port: u16) -> String {
    let me = std::env::current_exe().expect("test binary");
    let mut cmd = Command::new(LAUNCH);
    cmd.args(["-n", "3", "--threads", "2"])
        .args(["--base-port", &base_port.to_string(), "--timeout", "20"])
        .arg("--")
        .arg(me)
        .args([
            "child_program",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DAGWOOD_TEST_CHILD", mode);
    let (out, _) = run_guarded(cmd, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("[p0] RESULT ").map(str::to_string))
        .unwrap_or_else(|| panic!("no result\nstdout:\n{stdout}\nstderr:\n{stderr}"))
}

#[test]
fn process_0_shows_every_process_and_all_their_tasks() {
    let want: i64 = (0..LEAVES as i64).map(|v| v * 2).sum();
    let got = launch("ok", 23400);
    assert_eq!(
        got,
        format!(
            "value={want} processes=[0, 1, 2] procs=3 leaf=[{LEAVES}, {LEAVES}, 0, 0] bars_ge_leaves=true"
        )
    );
}

#[test]
fn a_task_failing_on_another_process_shows_on_process_0() {
    let got = launch("fail", 23420);
    let bad = LEAVES - 7;
    assert!(got.starts_with("err=true"), "{got}");
    assert!(
        got.contains(&format!(r#"failure="(\"leaf\", {bad})""#)),
        "{got}"
    );
    assert!(got.contains(&format!("leaf {bad} is bad")), "{got}");
}
