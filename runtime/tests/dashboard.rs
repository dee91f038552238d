//! The dashboard at the HTTP level: what the page is sent, read from the
//! event stream by a plain socket, checked against what was computed.
//! (The page itself, in a real browser: tests/dashboard_browser.rs of the
//! root package.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dagwood_runtime::diagnostics::{Dashboard, DashboardError};
use dagwood_runtime::{delayed, sum, Client, Delayed, Key, Scheduler, TaskBuilder};
use serde_json::Value;

/// A dashboard sees every computation of the process: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// An event-stream reader on a plain socket.
struct Events {
    reader: BufReader<TcpStream>,
}

impl Events {
    fn open(d: &Dashboard) -> Events {
        let mut s = TcpStream::connect(d.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(s, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut reader = BufReader::new(s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.contains("text/event-stream"), "{head}");
        Events { reader }
    }

    /// The next message (skipping comments and the retry line).
    fn next(&mut self) -> Value {
        let mut data = String::new();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .expect("an event within 30 s");
            assert!(n > 0, "the stream ended");
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !data.is_empty() {
                    return serde_json::from_str(&data).unwrap();
                }
                continue;
            }
            if let Some(d) = line.strip_prefix("data: ") {
                data.push_str(d);
            }
        }
    }
}

/// The page's mirror of the state: what the JavaScript keeps.
#[derive(Default)]
struct Mirror {
    names: Vec<String>,
    rows: Vec<(u64, u64)>,
    groups: Vec<Value>,
    graph: Option<Value>,
    bars: Vec<Value>,
    status: Value,
    failure: Value,
    messages: usize,
    bytes: usize,
}

impl Mirror {
    fn apply(&mut self, m: &Value) {
        self.messages += 1;
        self.bytes += m.to_string().len();
        if m["type"] == "snapshot" {
            *self = Mirror {
                messages: self.messages,
                bytes: self.bytes,
                ..Mirror::default()
            };
        }
        let from = m["names_from"].as_u64().unwrap() as usize;
        for (i, n) in m["names"].as_array().unwrap().iter().enumerate() {
            assert_eq!(self.names.len(), from + i, "names arrive in order");
            self.names.push(n.as_str().unwrap().to_string());
        }
        let from = m["rows_from"].as_u64().unwrap() as usize;
        for (i, r) in m["rows"].as_array().unwrap().iter().enumerate() {
            assert_eq!(self.rows.len(), from + i, "rows arrive in order");
            self.rows
                .push((r[0].as_u64().unwrap(), r[1].as_u64().unwrap()));
        }
        if let Some(g) = m.get("groups") {
            self.groups = g.as_array().unwrap().clone();
        }
        if let Some(g) = m.get("graph") {
            self.graph = Some(g.clone());
        }
        self.bars
            .extend(m["bars"].as_array().unwrap().iter().cloned());
        self.status = m["status"].clone();
        if let Some(f) = m.get("failure") {
            self.failure = f.clone();
        }
    }

    /// [total, done, running, failed] of the group named `name`.
    fn group(&self, name: &str) -> Option<[u64; 4]> {
        let id = self.names.iter().position(|n| n == name)? as u64;
        let g = self.groups.iter().find(|g| g[0].as_u64() == Some(id))?;
        Some([1, 2, 3, 4].map(|i| g[i].as_u64().unwrap()))
    }

    /// Tasks counted by all bars. (A bar of a busy interval holds tasks of
    /// several names, coloured by the one that took most time: the counts
    /// per name are the groups', the bars' are per row and time.)
    fn bar_tasks(&self) -> u64 {
        self.bars.iter().map(|b| b[4].as_u64().unwrap()).sum()
    }

    /// Reads messages until `done` holds of the mirror (or 30 s pass).
    fn until(&mut self, events: &mut Events, mut done: impl FnMut(&Mirror) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "never got there; status {}",
                self.status
            );
            let m = events.next();
            self.apply(&m);
        }
    }
}

fn squares(n: i64, fan_in: usize) -> Delayed<i64> {
    sum(
        (0..n).map(|i| delayed(i).map("square", |v: &i64| v * v)),
        fan_in,
    )
    .unwrap()
}

fn get(d: &Dashboard, path: &str, host: &str) -> (String, String) {
    let mut s = TcpStream::connect(d.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap();
    (head.to_string(), body.to_string())
}

#[test]
fn the_stream_pushes_every_task_of_a_run_to_a_connected_page() {
    let _serial = serial();
    let d = Dashboard::serve("127.0.0.1:0").unwrap();
    let mut events = Events::open(&d);
    let mut page = Mirror::default();
    let first = events.next();
    assert_eq!(first["type"], "snapshot");
    page.apply(&first);
    for (n, fan_in, scheduler) in [
        (1000, 8, Scheduler::default()),
        (333, 3, Scheduler::Sync),
        (50, 50, Scheduler::default()),
    ] {
        let bars_before = page.bar_tasks();
        let total = squares(n, fan_in);
        let want: i64 = (0..n).map(|i| i * i).sum();
        assert_eq!(total.compute_with(&scheduler).unwrap(), want);
        let tasks = dagwood_runtime::Plan::new(&total).task_count() as u64;
        page.until(&mut events, |p| {
            p.status["state"] == "finished" && p.group("square").is_some_and(|g| g[1] == n as u64)
        });
        // Every task once: in the counts, in the total, in the bars.
        let [total_sq, done, running, failed] = page.group("square").unwrap();
        assert_eq!(
            (total_sq, done, running, failed),
            (n as u64, n as u64, 0, 0)
        );
        assert_eq!(page.status["tasks"].as_u64(), Some(tasks));
        assert_eq!(page.status["done"].as_u64(), Some(tasks));
        // Bars of earlier runs stay (the stream scrolls); this run's hold
        // each of its tasks once.
        assert_eq!(page.bar_tasks() - bars_before, tasks);
        let layers = page.graph.as_ref().unwrap()["layers"]
            .as_array()
            .unwrap()
            .clone();
        let square = layers
            .iter()
            .find(|l| page.names[l[0].as_u64().unwrap() as usize] == "square")
            .expect("a square layer");
        assert_eq!(square[1].as_u64(), Some(n as u64));
        assert!(!page.rows.is_empty());
    }
    assert_eq!(d.clients(), 1);
}

#[test]
fn a_failure_shows_the_task_key_and_its_error() {
    let _serial = serial();
    let d = Dashboard::serve("127.0.0.1:0").unwrap();
    let mut events = Events::open(&d);
    let mut page = Mirror::default();
    let parts: Vec<Delayed<i64>> = (0..20_i64)
        .map(|i| {
            let mut b = TaskBuilder::new("check").key(Key::new("check").with_index(i as u64));
            let x = b.arg::<i64>(i);
            b.build_result(move |args| {
                let v = x.take(args)?;
                Ok(if v == 13 {
                    Err(format!("unlucky {v}"))
                } else {
                    Ok(v)
                })
            })
        })
        .collect();
    let total = sum(parts, 4).unwrap();
    let err = total.compute_with(&Scheduler::Sync).unwrap_err();
    assert!(err.to_string().contains("unlucky 13"), "{err}");
    page.until(&mut events, |p| {
        p.failure["error"].is_string() && p.status["state"] == "failed"
    });
    assert_eq!(page.failure["key"], r#"("check", 13)"#);
    let text = page.failure["error"].as_str().unwrap();
    assert!(
        text.contains("unlucky 13") && text.contains(r#"("check", 13)"#),
        "{text}"
    );
    let [_, done, _, failed] = page.group("check").unwrap();
    // In order, on one thread: 0..=13 ran, then nothing more started.
    assert_eq!((done, failed), (14, 1));
    // A panic, on the thread pool: its message.
    let boom = delayed(1).map("boom", |_: &i32| -> i32 { panic!("kaboom") });
    assert!(boom.compute().is_err());
    page.until(&mut events, |p| {
        p.failure["key"]
            .as_str()
            .is_some_and(|k| k.starts_with(r#"("boom""#))
            && p.failure["error"].is_string()
    });
    assert!(page.failure["error"].as_str().unwrap().contains("kaboom"));
}

#[test]
fn a_million_tiny_tasks_reach_the_page_as_a_bounded_number_of_bars() {
    let _serial = serial();
    let d = Dashboard::serve("127.0.0.1:0").unwrap();
    let mut events = Events::open(&d);
    let mut page = Mirror::default();
    page.apply(&events.next());
    const N: u64 = 1_000_000;
    let parts: Vec<Delayed<u64>> = (0..N)
        .map(|i| TaskBuilder::new("tiny").build(move |_| Ok(i)))
        .collect();
    let total =
        dagwood_runtime::tree_reduce(parts, 1000, "add", |v: Vec<u64>| v.into_iter().sum::<u64>())
            .unwrap();
    assert_eq!(total.compute().unwrap(), N * (N - 1) / 2);
    page.until(&mut events, |p| {
        p.status["state"] == "finished" && p.group("tiny").is_some_and(|g| g[1] == N)
    });
    let tasks = dagwood_runtime::Plan::new(&total).task_count() as u64;
    assert_eq!(page.bar_tasks(), tasks);
    let bars = page.bars.len() as u64;
    // Bounded per worker and interval, whatever the task count.
    assert!(bars < N / 50, "{bars} bars for {N} tasks");
    assert!(page.bytes < 16 << 20, "{} bytes sent", page.bytes);
}

#[test]
fn running_tasks_are_shown_while_they_run() {
    let _serial = serial();
    let d = Dashboard::serve("127.0.0.1:0").unwrap();
    let mut events = Events::open(&d);
    let mut page = Mirror::default();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let slow = delayed(1).map("slow", move |v: &i32| {
        // Runs until the test has seen it running.
        let _ = rx.lock().unwrap().recv_timeout(Duration::from_secs(30));
        v + 1
    });
    let handle = std::thread::spawn(move || slow.compute_with(&Scheduler::Sync));
    let start = Instant::now();
    loop {
        let m = events.next();
        page.apply(&m);
        let running = m["running"].as_array().unwrap();
        let slow_id = page.names.iter().position(|n| n == "slow");
        if let Some(id) = slow_id {
            if running.iter().any(|r| r[1].as_u64() == Some(id as u64)) {
                assert_eq!(page.group("slow").unwrap()[2], 1);
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never seen running"
        );
    }
    tx.send(()).unwrap();
    assert_eq!(handle.join().unwrap().unwrap(), 2);
    page.until(&mut events, |p| {
        p.group("slow").is_some_and(|g| g[1] == 1 && g[2] == 0)
    });
}

#[test]
fn client_tasks_and_nested_scopes_are_shown() {
    let _serial = serial();
    let d = Dashboard::serve("127.0.0.1:0").unwrap();
    let mut events = Events::open(&d);
    let mut page = Mirror::default();
    fn client_inc(x: i64) -> i64 {
        x + 1
    }
    let client = Client::with_threads(2).unwrap();
    let futures: Vec<_> = (0..40_i64).map(|i| client.submit(client_inc, i)).collect();
    let got: Vec<i64> = futures.iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(got, (1..=40).collect::<Vec<_>>());
    let name = futures[0].key().name().to_string();
    page.until(&mut events, |p| p.group(&name).is_some_and(|g| g[1] == 40));
    assert_eq!(page.bar_tasks(), 40);
    // A computed graph on the client: one computation, its layers.
    let total = squares(30, 4);
    assert_eq!(
        client.compute(total).result().unwrap(),
        (0..30).map(|i| i * i).sum::<i64>()
    );
    page.until(&mut events, |p| {
        p.group("square").is_some_and(|g| g[0] == 30 && g[1] == 30)
    });
}

#[test]
fn serves_the_page_offline_and_only_to_loopback_names() {
    let _serial = serial();
    let d = Dashboard::serve("127.0.0.1:0").unwrap();
    let (head, body) = get(&d, "/", "127.0.0.1");
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/html"),
        "{head}"
    );
    assert!(body.contains("<canvas") && body.contains("/dashboard.js"));
    // Nothing from elsewhere: no http(s) URL in the page or its script.
    let (_, script) = get(&d, "/dashboard.js", "localhost:9999");
    assert!(script.contains("EventSource"));
    for text in [&body, &script] {
        assert!(!text.contains("http://") && !text.contains("https://"));
    }
    let (head, _) = get(&d, "/dashboard.css", "[::1]:8787");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (head, state) = get(&d, "/state.json", "localhost");
    assert!(head.contains("application/json"));
    let v: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(v["type"], "snapshot");
    let (head, _) = get(&d, "/nothing", "localhost");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    // DNS rebinding: a foreign name pointing here is refused.
    let (head, _) = get(&d, "/", "attacker.example:8787");
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    // A wider address needs asking.
    let e = Dashboard::serve("0.0.0.0:0").unwrap_err();
    assert!(matches!(e, DashboardError::NotLoopback { .. }), "{e}");
    assert!(e.to_string().contains("serve_on_network"), "{e}");
    let wide = Dashboard::serve_on_network("0.0.0.0:0").unwrap();
    assert!(wide.url().starts_with("http://127.0.0.1:"));
    let (head, _) = get(&wide, "/", "some-host.example");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // A taken port is an error naming the address.
    let taken = d.local_addr();
    let e = Dashboard::serve(taken).unwrap_err();
    assert!(e.to_string().contains(&taken.to_string()), "{e}");
}

#[test]
fn from_env_reads_dagwood_dashboard() {
    let _serial = serial();
    let set = |v: Option<&str>| match v {
        // SAFETY: the tests of this binary that touch the environment run one at a time.
        Some(v) => unsafe { std::env::set_var("DAGWOOD_DASHBOARD", v) },
        None => unsafe { std::env::remove_var("DAGWOOD_DASHBOARD") },
    };
    for off in [None, Some(""), Some("0"), Some("off")] {
        set(off);
        assert!(Dashboard::from_env().unwrap().is_none(), "{off:?}");
    }
    set(Some("127.0.0.1:0"));
    let d = Dashboard::from_env().unwrap().expect("a dashboard");
    assert!(d.url().starts_with("http://127.0.0.1:"));
    drop(d);
    set(Some("0"));
    set(Some("not an address"));
    let e = Dashboard::from_env().unwrap_err();
    assert!(e.to_string().contains("DAGWOOD_DASHBOARD"), "{e}");
    set(Some("0.0.0.0:0"));
    assert!(matches!(
        Dashboard::from_env().unwrap_err(),
        DashboardError::NotLoopback { .. }
    ));
    set(None);
}
