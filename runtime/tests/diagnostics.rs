//! Diagnostics: the progress bar counts every task and finishes on success
//! and on error; the profiler records each executed task once; its Chrome
//! trace parses; graph pictures match checked-in DOT, summarise by layer past
//! the threshold, and render to valid SVG where Graphviz is installed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dagwood_runtime::diagnostics::{
    ColorBy, Profiler, ProgressBar, ResourceProfiler, VisualizeOptions,
};
use dagwood_runtime::{
    delayed, sum, Delayed, Error, Exec, GraphInfo, Key, Plan, Scheduler, StaticGraph, TaskBuilder,
    TaskInfo, TaskKind,
};

fn schedulers() -> Vec<Scheduler> {
    vec![Scheduler::Sync, Scheduler::threads(2).unwrap()]
}

/// A fresh directory under the system's temp dir for one test's files,
/// removed when the test ends.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir =
        std::env::temp_dir().join(format!("dagwood-diagnostics-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A buffer a progress bar can draw into while the test keeps a handle.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// 1,000 squares summed in a tree: 1000 constants + 1000 squares + the tree.
fn squares(n: i64) -> Delayed<i64> {
    let parts: Vec<Delayed<i64>> = (0..n)
        .map(|i| delayed(i).map("square", |v: &i64| v * v))
        .collect();
    sum(parts, 8).unwrap()
}

fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.payload().downcast_ref::<&str>().copied();
            if msg != Some("expected failure") {
                default(info);
            }
        }));
    });
}

/// A graph whose task `("bad", 0)` panics after `before` other tasks could run.
fn failing(before: i64) -> Delayed<i64> {
    let parts: Vec<Delayed<i64>> = (0..before)
        .map(|i| delayed(i).map("ok", |v: &i64| *v))
        .collect();
    let good = sum(parts, 4).unwrap();
    let mut b = TaskBuilder::new("bad").key(Key::new("bad").with_index(0));
    let x = b.input(&good);
    b.build(move |args| {
        let _ = x.get(args)?;
        if true {
            panic!("expected failure");
        }
        Ok(0_i64)
    })
}

#[test]
fn progress_counts_reach_the_total() {
    for s in schedulers() {
        let total = squares(1000);
        let tasks = Plan::new(&total).task_count() as u64;
        let out = Captured::default();
        let bar = ProgressBar::new().to_writer(out.clone());
        let value = bar.run(|| total.compute_with(&s)).unwrap();
        assert_eq!(value, (0..1000).map(|i| i * i).sum::<i64>());
        let state = bar.state();
        assert_eq!(state.total, tasks, "{s:?}");
        assert_eq!(state.done, tasks, "{s:?}");
        assert!(state.finished && state.failed.is_none(), "{state:?}");
        let text = out.text();
        let last = text
            .rsplit('\r')
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let counts = format!("{}/{} tasks", thousands(tasks), thousands(tasks));
        assert!(last.contains(&counts), "last line: {last:?}");
        assert!(last.contains("done"), "last line: {last:?}");
        assert!(text.ends_with('\n'), "the last draw ends its line");
    }
}

/// 1234 as indicatif's human count writes it: 1,234.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn progress_finishes_on_error() {
    quiet_expected_panics();
    for s in schedulers() {
        let g = failing(20);
        let out = Captured::default();
        let bar = ProgressBar::new().to_writer(out.clone());
        let err = bar.run(|| g.compute_with(&s)).unwrap_err();
        assert!(matches!(err, Error::Task { .. }), "{err}");
        let state = bar.state();
        assert!(state.finished, "{state:?}");
        let failed = state.failed.clone().expect("the run failed");
        assert!(failed.contains("(\"bad\", 0)"), "{failed}");
        assert!(state.done <= state.total, "{state:?}");
        let text = out.text();
        assert!(text.contains("failed: task (\"bad\", 0)"), "{text:?}");
        assert!(text.ends_with('\n'));
    }
}

#[test]
fn progress_counts_a_static_graph_and_nested_runs() {
    static INFO: GraphInfo = GraphInfo {
        tasks: &[
            TaskInfo {
                key: "a",
                inputs: &[],
                fused_with_next: false,
                kind: TaskKind::Task,
            },
            TaskInfo {
                key: "b",
                inputs: &[],
                fused_with_next: false,
                kind: TaskKind::Task,
            },
        ],
        output_inputs: &[0, 1],
        output_is_task: true,
        params: &[],
    };
    let bar = ProgressBar::new().to_writer(std::io::sink());
    let _guard = bar.scoped();
    let g = StaticGraph::new(&INFO, |exec: &Exec| {
        let (a, b) = exec.join(|| exec.task("a", || 1), || exec.task("b", || 2));
        exec.task("output", || a + b)
    });
    assert_eq!(g.compute_with(&Scheduler::threads(2).unwrap()).unwrap(), 3);
    assert_eq!(bar.state().total, INFO.run_task_count() as u64);
    assert_eq!(bar.state().done, bar.state().total);
    // A second computation starts a new run with its own counts.
    squares(10).compute().unwrap();
    let tasks = Plan::new(&squares(10)).task_count() as u64;
    assert_eq!((bar.state().done, bar.state().total), (tasks, tasks));
}

#[test]
fn the_default_bar_counts_whether_or_not_it_draws() {
    // Drawn only when stderr is a terminal (not in CI); counted either way.
    let bar = ProgressBar::new();
    bar.run(|| squares(50).compute()).unwrap();
    let state = bar.state();
    assert!(state.finished && state.done == state.total && state.total > 0);
}

#[test]
fn profiler_records_each_task_once() {
    for (s, threads) in schedulers().into_iter().zip([1, 2]) {
        let total = squares(500);
        let plan = Plan::new(&total);
        let prof = Profiler::new();
        prof.run(|| plan.compute_with(&s)).unwrap();
        let records = prof.records();
        assert_eq!(records.len(), plan.task_count(), "{s:?}");
        let mut keys: Vec<String> = records.iter().map(|r| r.key.to_string()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), records.len(), "every task once");
        for r in &records {
            assert!(r.start <= r.end, "{r:?}");
            assert!(
                r.worker < threads,
                "worker {} with {threads} threads",
                r.worker
            );
            assert!(!r.failed);
        }
        assert_eq!(
            records.iter().filter(|r| r.key.name() == "square").count(),
            500
        );
        assert!(records.windows(2).all(|w| w[0].start <= w[1].start));
    }
}

#[test]
fn profiler_marks_the_failed_task() {
    quiet_expected_panics();
    let g = failing(10);
    let prof = Profiler::new();
    prof.run(|| g.compute_with(&Scheduler::Sync)).unwrap_err();
    let records = prof.records();
    let failed: Vec<_> = records.iter().filter(|r| r.failed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key, Key::new("bad").with_index(0));
    // Sync runs everything before the failing task, which is last.
    assert_eq!(records.len(), Plan::new(&g).task_count());
}

#[test]
fn chrome_trace_parses_and_has_the_events() {
    let total = squares(100);
    let prof =
        Profiler::new().with_resources(ResourceProfiler::new().interval(Duration::from_millis(5)));
    prof.run(|| {
        total.compute_with(&Scheduler::threads(2).unwrap())?;
        // Long enough for a few resource samples.
        delayed(())
            .map("sleep", |_: &()| {
                std::thread::sleep(Duration::from_millis(40))
            })
            .compute()
    })
    .unwrap();
    let records = prof.records();
    let json: serde_json::Value = serde_json::from_str(&prof.to_chrome_trace()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let complete: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(complete.len(), records.len());
    for e in &complete {
        assert!(e["ts"].as_f64().unwrap() >= 0.0);
        assert!(e["dur"].as_f64().unwrap() >= 0.0);
        assert!(e["tid"].as_u64().unwrap() < 2);
        assert_eq!(e["pid"], 1);
        let name = e["name"].as_str().unwrap();
        let cat = e["cat"].as_str().unwrap();
        assert!(name.contains(cat), "{name} / {cat}");
    }
    let squares = complete.iter().filter(|e| e["cat"] == "square").count();
    assert_eq!(squares, 100);
    assert!(complete.iter().any(|e| e["name"] == r#"("sum", 0, 0)"#));
    let names: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .collect();
    assert!(!names.is_empty());
    if ResourceProfiler::is_supported() {
        let memory: Vec<f64> = events
            .iter()
            .filter(|e| e["ph"] == "C" && e["name"] == "memory")
            .map(|e| e["args"]["rss_mb"].as_f64().unwrap())
            .collect();
        assert!(memory.len() >= 2, "{} memory samples", memory.len());
        assert!(memory.iter().all(|&mb| mb > 0.0));
    }
    let dir = scratch("trace");
    let path = dir.join("trace.json");
    prof.write_chrome_trace(&path).unwrap();
    let _: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let missing = prof.write_chrome_trace(dir.join("no-such-dir").join("trace.json"));
    let err = missing.unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.to_string().contains("no-such-dir"),
        "{err}"
    );
}

#[test]
fn resource_profiler_samples_while_running() {
    if !ResourceProfiler::is_supported() {
        println!("note: resource sampling is not supported here; skipped");
        return;
    }
    let res = ResourceProfiler::new().interval(Duration::from_millis(10));
    res.run(|| {
        delayed(())
            .map("sleep", |_: &()| {
                std::thread::sleep(Duration::from_millis(100))
            })
            .compute()
    })
    .unwrap();
    let samples = res.samples();
    assert!(samples.len() >= 4, "{} samples", samples.len());
    assert!(samples
        .iter()
        .all(|s| s.rss_bytes > 0 && s.cpu_seconds > 0.0));
    assert!(samples.windows(2).all(|w| w[0].at <= w[1].at));
    // It stopped with the computation.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(res.samples().len(), samples.len());
}

/// The small graph of the expectation files, with keys fixed by hand (the
/// default keys hold process-wide ids).
fn small_graph() -> Delayed<i64> {
    let a = delayed(1_i64).with_key(Key::new("a"));
    let b = delayed(2_i64).with_key(Key::new("b"));
    let inc = a
        .map("inc", |v: &i64| v + 1)
        .with_key(Key::new("inc").with_index(0));
    let double = inc
        .map("double", |v: &i64| v * 2)
        .with_key(Key::new("double").with_index(0));
    let mut t = TaskBuilder::new("add").key(Key::new("add"));
    let (x, y) = (t.input(&double), t.input(&b));
    t.build(move |args| Ok(x.take(args)? + y.take(args)?))
}

/// Compares with `tests/expected/<name>`; `DAGWOOD_BLESS=1` rewrites it.
fn check_expected(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name);
    if std::env::var_os("DAGWOOD_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (DAGWOOD_BLESS=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (DAGWOOD_BLESS=1 rewrites it)",
        path.display()
    );
}

#[test]
fn dot_of_a_small_graph_matches_the_expectation() {
    let g = small_graph();
    assert_eq!(g.compute_with(&Scheduler::Sync).unwrap(), (1 + 1) * 2 + 2);
    let dir = scratch("small");
    let files = g.visualize(dir.join("small.dot")).unwrap();
    assert_eq!(
        (files.tasks, files.layers, files.image.clone()),
        (5, None, None)
    );
    let text = std::fs::read_to_string(&files.dot).unwrap();
    check_expected("small.dot", &text);
    assert_eq!(text, g.to_dot(), "visualize draws what to_dot shows");
    // No extension: DOT beside the name.
    let files = g.visualize(dir.join("small")).unwrap();
    assert_eq!(files.dot, dir.join("small.dot"));
    // By layer: one node per key name.
    let files = g
        .visualize_with(
            dir.join("layers.dot"),
            &VisualizeOptions::new().max_tasks(0),
        )
        .unwrap();
    assert_eq!(files.layers, Some(5));
    check_expected(
        "small_layers.dot",
        &std::fs::read_to_string(&files.dot).unwrap(),
    );
}

#[test]
fn dot_of_a_static_graph_matches_the_expectation() {
    // graph! { let a = load(); let b = clean(a); let c = other(); b + c }
    static INFO: GraphInfo = GraphInfo {
        tasks: &[
            TaskInfo {
                key: "a",
                inputs: &[],
                fused_with_next: true,
                kind: TaskKind::Task,
            },
            TaskInfo {
                key: "b",
                inputs: &[0],
                fused_with_next: false,
                kind: TaskKind::Task,
            },
            TaskInfo {
                key: "c",
                inputs: &[],
                fused_with_next: false,
                kind: TaskKind::Task,
            },
        ],
        output_inputs: &[1, 2],
        output_is_task: true,
        params: &[],
    };
    let dir = scratch("static");
    let files = INFO.visualize(dir.join("static.dot")).unwrap();
    let text = std::fs::read_to_string(&files.dot).unwrap();
    check_expected("static.dot", &text);
    // The same shape as to_dot gives.
    assert_eq!(text, INFO.to_dot());
}

#[test]
fn layers_summarise_past_the_threshold() {
    let leaves: Vec<Delayed<i64>> = (0..1200)
        .map(|i| delayed(i).with_key(Key::new("leaf").with_index(i as u64)))
        .map(|d| d.map("square", |v: &i64| v * v))
        .collect();
    let total = sum(leaves, 16).unwrap();
    let plan = Plan::new(&total);
    let n = plan.task_count();
    assert!(n > VisualizeOptions::DEFAULT_MAX_TASKS, "{n} tasks");
    let dir = scratch("layers");
    let files = plan.visualize(dir.join("big.dot")).unwrap();
    assert_eq!(files.tasks, n);
    assert_eq!(files.layers, Some(3), "leaf, square, sum");
    let text = std::fs::read_to_string(&files.dot).unwrap();
    assert!(text.contains("leaf\\n1200 tasks"), "{text}");
    assert!(text.contains("square\\n1200 tasks"), "{text}");
    assert_eq!(text.matches(" -> ").count(), 2, "{text}");
    // At the threshold exactly: every task drawn.
    let exact = VisualizeOptions::new().max_tasks(n);
    assert_eq!(
        plan.visualize_with(dir.join("all.dot"), &exact)
            .unwrap()
            .layers,
        None
    );
    let below = VisualizeOptions::new().max_tasks(n - 1);
    assert_eq!(
        plan.visualize_with(dir.join("sum.dot"), &below)
            .unwrap()
            .layers,
        Some(3)
    );
}

#[test]
fn colours_from_a_profile() {
    let g = small_graph();
    let prof = Profiler::new().with_resources(ResourceProfiler::new());
    prof.run(|| g.compute_with(&Scheduler::Sync)).unwrap();
    let dir = scratch("colours");
    let by_time = VisualizeOptions::new().color_by(ColorBy::Duration(&prof));
    let text = std::fs::read_to_string(g.visualize_with(dir.join("t.dot"), &by_time).unwrap().dot)
        .unwrap();
    assert_eq!(text.matches("fillcolor=").count(), 5, "{text}");
    assert!(text.contains("colour: task duration"), "{text}");
    let by_layer = by_time.clone().max_tasks(0);
    let text = std::fs::read_to_string(g.visualize_with(dir.join("l.dot"), &by_layer).unwrap().dot)
        .unwrap();
    assert!(text.contains("total task time per layer"), "{text}");
    if ResourceProfiler::is_supported() {
        let by_memory = VisualizeOptions::new().color_by(ColorBy::Memory(&prof));
        let text =
            std::fs::read_to_string(g.visualize_with(dir.join("m.dot"), &by_memory).unwrap().dot)
                .unwrap();
        assert!(text.contains(" MB"), "{text}");
    }
    // Tasks the profiler never saw are drawn dashed, not coloured.
    let other = delayed(5).map("unseen", |v: &i32| v + 1);
    let text = std::fs::read_to_string(
        other
            .visualize_with(dir.join("u.dot"), &by_time)
            .unwrap()
            .dot,
    )
    .unwrap();
    assert!(
        text.contains("rounded,dashed") && !text.contains("fillcolor=\"#"),
        "{text}"
    );
}

/// A small XML well-formedness check: one root element named `root`, every
/// tag closed in order, comments, declarations and CDATA skipped.
fn check_xml(text: &str, root: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let skip = |end: &str, rest: &str| rest.find(end).map(|i| i + end.len());
        let consumed = if rest.starts_with("<!--") {
            skip("-->", rest)
        } else if rest.starts_with("<![CDATA[") {
            skip("]]>", rest)
        } else if rest.starts_with("<?") {
            skip("?>", rest)
        } else if rest.starts_with("<!") {
            skip(">", rest)
        } else {
            // A tag: find its end outside quoted attribute values.
            let mut quote = None;
            let mut end = None;
            for (i, c) in rest.char_indices().skip(1) {
                match (quote, c) {
                    (None, '"' | '\'') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (None, '>') => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end =
                end.unwrap_or_else(|| panic!("unclosed tag at {:?}", &rest[..rest.len().min(60)]));
            let tag = &rest[1..end];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            if tag.starts_with('/') {
                let top = stack
                    .pop()
                    .unwrap_or_else(|| panic!("</{name}> closes nothing"));
                assert_eq!(top, name, "</{name}> closes <{top}>");
            } else {
                if stack.is_empty() {
                    roots += 1;
                    assert_eq!(name, root, "root element");
                }
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            Some(end + 1)
        };
        let n = consumed
            .unwrap_or_else(|| panic!("unterminated markup at {:?}", &rest[..rest.len().min(60)]));
        rest = &rest[n..];
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    assert_eq!(roots, 1, "one root element");
}

fn graphviz_installed() -> bool {
    std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn graphviz_draws_valid_svg() {
    if !graphviz_installed() {
        println!(
            "note: Graphviz's `dot` is not installed; the SVG check is skipped (CI installs it)"
        );
        return;
    }
    let dir = scratch("svg");
    let g = small_graph();
    let files = g.visualize(dir.join("small.svg")).unwrap();
    assert_eq!(files.dot, dir.join("small.dot"));
    assert_eq!(
        files.image.as_deref(),
        Some(dir.join("small.svg").as_path())
    );
    let svg = std::fs::read_to_string(dir.join("small.svg")).unwrap();
    check_xml(&svg, "svg");
    assert!(
        svg.contains("double") && svg.contains("inc"),
        "labels are drawn"
    );
    // A layer summary with colours renders too (HTML-like legend label).
    let prof = Profiler::new();
    prof.run(|| squares(3000).compute()).unwrap();
    let opts = VisualizeOptions::new().color_by(ColorBy::Duration(&prof));
    let files = squares(3000)
        .visualize_with(dir.join("big.svg"), &opts)
        .unwrap();
    assert!(files.layers.is_some());
    check_xml(
        &std::fs::read_to_string(dir.join("big.svg")).unwrap(),
        "svg",
    );
    // PNG by extension.
    g.visualize(dir.join("small.png")).unwrap();
    let png = std::fs::read(dir.join("small.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn a_missing_graphviz_is_a_clear_error() {
    let dir = scratch("missing");
    let opts = VisualizeOptions::new().program("dagwood-no-such-graphviz");
    let err = small_graph()
        .visualize_with(dir.join("g.svg"), &opts)
        .unwrap_err();
    match &err {
        Error::GraphvizMissing { program, path, dot } => {
            assert_eq!(program, "dagwood-no-such-graphviz");
            assert_eq!(path, &dir.join("g.svg"));
            assert!(dot.exists(), "the DOT file is written anyway");
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("apt-get install graphviz") && text.contains("g.svg"),
        "{text}"
    );
    // A failing Graphviz names the program and the picture.
    if graphviz_installed() {
        let err = small_graph()
            .visualize(dir.join("g.nosuchformat"))
            .unwrap_err();
        assert!(matches!(err, Error::Graphviz { .. }), "{err}");
        assert!(err.to_string().contains("g.nosuchformat"), "{err}");
    }
}

#[test]
fn timeline_svg_is_well_formed_and_labelled() {
    let prof =
        Profiler::new().with_resources(ResourceProfiler::new().interval(Duration::from_millis(5)));
    let g = squares(200);
    prof.run(|| {
        g.compute_with(&Scheduler::threads(2).unwrap())?;
        delayed(())
            .map("nap", |_: &()| {
                std::thread::sleep(Duration::from_millis(30))
            })
            .compute()
    })
    .unwrap();
    let svg = prof.timeline_svg().unwrap();
    check_xml(&svg, "svg");
    for label in ["worker 0", "square", "sum", "nap", "time (", "task name"] {
        assert!(svg.contains(label), "{label} missing");
    }
    if ResourceProfiler::is_supported() {
        assert!(svg.contains("memory (MB)") && svg.contains("CPU (%)"));
    }
    let dir = scratch("timeline");
    prof.write_timeline_svg(dir.join("t.svg")).unwrap();
    assert!(Profiler::new().timeline_svg().unwrap().contains("0 tasks"));
}
