//! The dashboard in a real browser: headless Chromium opens the page, the
//! test runs computations (arrays, a dynamic graph, a static graph, the
//! futures client, then a failure) and reads the page's DOM over the
//! DevTools protocol: the task stream has bars, every task group's
//! progress reaches its total, the failed task's key and error are shown.
//! It also takes a screenshot and checks that the bars are drawn.
//!
//! Needs `chromium` (Debian's package; `.ci/run` installs it) or a browser
//! named by `DAGWOOD_CHROMIUM`. Without one it prints `SKIPPED` and passes,
//! except under `CI=true`, where it fails.
//! `DAGWOOD_UPDATE_DOCS=1` also writes the screenshot to docs/dashboard.png.

#![cfg(all(feature = "array", feature = "diagnostics"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dagwood::array::Array;
use dagwood::diagnostics::Dashboard;
use dagwood::prelude::*;
use dagwood::{Key, TaskBuilder};
use serde_json::{json, Value};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DAGWOOD_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Headless Chromium with the DevTools protocol on a free port; killed on drop.
struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // DevTools' HTTP server may keep the connection open: read the body
    // by its Content-Length.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(s);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    String::from_utf8_lossy(&body).to_string()
}

impl Browser {
    fn open(program: &PathBuf, url: &str) -> Browser {
        let profile = std::env::temp_dir().join(format!("dagwood-chromium-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        // The flags this closed network needs: no background connections,
        // no component updates, no sync (see the machine notes).
        let mut child = Command::new(program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1400,1250",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let start = Instant::now();
        let port = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!("chromium exited before opening DevTools");
            }
            if let Some(rest) = line
                .trim()
                .strip_prefix("DevTools listening on ws://127.0.0.1:")
            {
                break rest.split('/').next().unwrap().parse::<u16>().unwrap();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no DevTools line"
            );
        };
        // Keep draining stderr so that chromium never blocks on it.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while stderr.read_line(&mut sink).unwrap_or(0) > 0 {
                sink.clear();
            }
        });
        let page = loop {
            let list: Value =
                serde_json::from_str(&http_get(port, "/json/list")).unwrap_or(json!([]));
            let found = list.as_array().and_then(|l| {
                l.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(String::from))
            });
            if let Some(ws) = found {
                break ws;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "no page target");
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let (ws, _) = tungstenite::client(page.as_str(), stream).unwrap();
        Browser {
            child,
            ws,
            next_id: 0,
            _profile: TempDir(profile),
        }
    }

    /// Sends a DevTools command and returns its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params });
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .unwrap();
        loop {
            let m = self.ws.read().unwrap();
            let Ok(text) = m.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            if v["id"].as_u64() == Some(id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page; returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// What the page shows, read from its DOM.
    fn page(&mut self) -> Value {
        self.eval(
            r#"(() => {
                const d = (el) => el ? Object.assign({}, el.dataset) : null;
                return {
                    status: document.getElementById('status').dataset.state,
                    overall: d(document.getElementById('overall')),
                    stream: d(document.getElementById('stream')),
                    legend: [...document.querySelectorAll('#legend span')].map(s => s.dataset.name),
                    groups: [...document.querySelectorAll('#progress .group')].map(d),
                    layers: [...document.querySelectorAll('#graph g.layer')].map(d),
                    procs: [...document.querySelectorAll('#procs tbody tr')].map(d),
                    workers: document.querySelectorAll('#workers tbody tr').length,
                    failure: document.getElementById('failure').hidden ? null : {
                        key: document.getElementById('failure-key').textContent,
                        error: document.getElementById('failure-error').textContent,
                    },
                };
            })()"#,
        )
    }

    /// Reads the page until `ok` holds of it (30 s at most).
    fn until(&mut self, what: &str, mut ok: impl FnMut(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let p = self.page();
            if ok(&p) {
                return p;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what}: the page shows {p:#}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn num(v: &Value) -> u64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | u32::from(val(c)) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn simulations(fail_at: Option<u64>) -> Delayed<f64> {
    let runs: Vec<Delayed<f64>> = (0..24u64)
        .map(|i| {
            let b = TaskBuilder::new("simulate").key(Key::new("simulate").with_index(i));
            b.build_result(move |_| {
                std::thread::sleep(Duration::from_millis(5));
                Ok(if Some(i) == fail_at {
                    Err(format!("simulation {i} diverged"))
                } else {
                    Ok(i as f64)
                })
            })
        })
        .collect();
    dagwood::sum(runs, 4).unwrap()
}

#[delayed]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
fn the_page_in_chromium_shows_the_stream_progress_and_failures() {
    let Some(program) = chromium() else {
        println!("SKIPPED: no chromium (install Debian's chromium, or set DAGWOOD_CHROMIUM)");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is missing under CI: .ci/run installs it"
        );
        return;
    };
    let dashboard = Dashboard::serve("127.0.0.1:0").unwrap();
    let mut browser = Browser::open(&program, &dashboard.url());
    let start = Instant::now();
    while dashboard.clients() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the page never connected"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let first = browser.until("the page is up", |p| p["status"] == "waiting");
    assert_eq!(first["stream"]["bars"], "0");

    // Everything below reaches the page after it loaded: pushed, no reload.
    let x = Array::<f64>::random_normal(&[600, 600], &[100, 100], 0.0, 1.0, 1).unwrap();
    let y = Array::<f64>::random_uniform(&[600, 600], &[100, 100], 0.0, 1.0, 2).unwrap();
    let mean = ((&x * 2.0) + &y.t()).mean().unwrap();
    let want = (x.compute().unwrap() * 2.0 + y.compute().unwrap().t())
        .mean()
        .unwrap();
    let got = mean.compute().unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let sims = simulations(None);
    assert_eq!(sims.compute().unwrap(), (0..24).sum::<u64>() as f64);
    // Each computation is a run: the page shows its groups, done when they
    // reach their totals.
    let done = browser.until("every group of the last run at its total", |p| {
        let groups = p["groups"].as_array().unwrap();
        p["status"] == "finished"
            && groups.iter().any(|g| g["name"] == "simulate")
            && groups
                .iter()
                .all(|g| num(&g["done"]) == num(&g["total"]) && num(&g["total"]) > 0)
    });
    let sim = done["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "simulate")
        .unwrap();
    assert_eq!(
        (num(&sim["done"]), num(&sim["total"]), num(&sim["failed"])),
        (24, 24, 0)
    );
    assert!(num(&done["stream"]["bars"]) > 0, "{done:#}");
    assert!(num(&done["stream"]["received"]) >= num(&done["stream"]["bars"]));
    assert!(done["workers"].as_u64().unwrap() >= 1);
    assert!(num(&done["procs"][0]["rss"]) > 1 << 20, "{done:#}");
    // The layers drawn are the plan's, with their states.
    let layers = done["layers"].as_array().unwrap();
    assert!(
        layers
            .iter()
            .any(|l| l["name"] == "simulate" && num(&l["done"]) == 24),
        "{layers:#?}"
    );
    assert!(done["failure"].is_null());

    // A static graph: its tasks (named by their bindings) reach the page.
    let g = graph! {
        let a = add(1, 2);
        let b = add(3, 4);
        add(a, b)
    };
    assert_eq!(g.compute().unwrap(), 10);
    browser.until("the static graph's groups", |p| {
        let groups = p["groups"].as_array().unwrap();
        p["status"] == "finished"
            && !groups.iter().any(|g| g["name"] == "simulate")
            && !groups.is_empty()
            && groups.iter().all(|g| num(&g["done"]) == num(&g["total"]))
    });
    // Over two minutes the stream holds every run's bars, in the legend too.
    browser.eval(
        "(() => { const w = document.getElementById('window'); w.value = '120000'; \
         w.dispatchEvent(new Event('change')); return true; })()",
    );
    let all = browser.until("the long window", |p| {
        let legend = p["legend"].as_array().unwrap();
        legend.iter().any(|n| n == "simulate")
            && legend.iter().any(|n| {
                n == "random_normal-1" || n.as_str().is_some_and(|n| n.starts_with("random_normal"))
            })
    });
    assert!(
        num(&all["stream"]["bars"]) > num(&done["stream"]["bars"]),
        "{all:#}"
    );

    // The screenshot: the stream's bars are drawn in the palette's colours.
    let shot = browser.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png_bytes = base64_decode(shot["data"].as_str().unwrap());
    let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(
        info.width >= 1000 && info.height >= 800,
        "{}x{}",
        info.width,
        info.height
    );
    let channels = info.line_size / info.width as usize;
    let palette = [
        [0x4e, 0x79, 0xa7],
        [0xf2, 0x8e, 0x2b],
        [0xe1, 0x57, 0x59],
        [0x76, 0xb7, 0xb2],
    ];
    let coloured = buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|px| palette.iter().any(|c| px[..3] == c[..]))
        .count();
    assert!(coloured > 500, "only {coloured} pixels in bar colours");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    std::fs::write(&out, &png_bytes).unwrap();
    if std::env::var("DAGWOOD_UPDATE_DOCS").is_ok() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dashboard.png"),
            &png_bytes,
        )
        .unwrap();
    }

    // A failure: its key and error appear, and its group counts it.
    let err = simulations(Some(13))
        .compute_with(&Scheduler::Sync)
        .unwrap_err();
    assert!(err.to_string().contains("simulation 13 diverged"), "{err}");
    let failed = browser.until("the failure is shown", |p| {
        p["status"] == "failed"
            && p["failure"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("diverged"))
    });
    assert_eq!(failed["failure"]["key"], r#"("simulate", 13)"#);
    let sim = failed["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "simulate")
        .unwrap();
    // In order on one thread: tasks 0..=13 ran, nothing after the failure.
    assert_eq!((num(&sim["done"]), num(&sim["failed"])), (14, 1), "{sim}");
}
