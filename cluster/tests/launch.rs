//! Multi-process tests on localhost through `dagwood-launch`.
//!
//! The program the launcher starts is this test binary itself, running only
//! `child_program` with `DAGWOOD_TEST_CHILD` naming what to do. Each test
//! uses its own ports, so the tests can run in parallel.

mod common;
use common::run_guarded;

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use dagwood_cluster::{Cluster, WireExt};
use dagwood_runtime::{delayed, sum, tree_reduce, Delayed, Key, Scheduler, TaskBuilder};

const LAUNCH: &str = env!("CARGO_BIN_EXE_dagwood-launch");

// ---------------------------------------------------------------- graphs

fn leaves(n: u64, f: impl Fn(u64) + Clone + Send + Sync + 'static) -> Vec<Delayed<i64>> {
    (0..n)
        .map(|i| {
            let f = f.clone();
            delayed(i as i64)
                .map("leaf", move |v: &i64| {
                    f(*v as u64);
                    v * v
                })
                .with_key(Key::new("leaf").with_index(i))
        })
        .collect()
}

fn tree_sum(n: u64) -> Delayed<i64> {
    sum(leaves(n, |_| {}), 8).expect("a tree")
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Moments {
    n: u64,
    sum: f64,
    sum_sq: f64,
}

/// Normal samples by xorshift and Box-Muller, per seeded chunk: a
/// `random.normal(...).mean()/std()`-style reduction.
fn normal_moments(chunks: u64, size: usize) -> Delayed<Moments> {
    let parts: Vec<Delayed<Moments>> = (0..chunks)
        .map(|c| {
            TaskBuilder::new("normal")
                .key(Key::new("normal").with_index(c))
                .build(move |_| {
                    let mut s =
                        0x9E37_79B9_7F4A_7C15_u64 ^ (c + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
                    let mut next = || {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
                    };
                    let mut m = Moments {
                        n: 0,
                        sum: 0.0,
                        sum_sq: 0.0,
                    };
                    for _ in 0..size / 2 {
                        let (u, v) = (next(), next());
                        let r = (-2.0 * u.ln()).sqrt();
                        for z in [
                            r * (std::f64::consts::TAU * v).cos(),
                            r * (std::f64::consts::TAU * v).sin(),
                        ] {
                            let x = 3.0 + 2.0 * z;
                            m.n += 1;
                            m.sum += x;
                            m.sum_sq += x * x;
                        }
                    }
                    Ok(m)
                })
                .wire()
        })
        .collect();
    tree_reduce(parts, 4, "moments", |ms: Vec<Moments>| Moments {
        n: ms.iter().map(|m| m.n).sum(),
        sum: ms.iter().map(|m| m.sum).sum(),
        sum_sq: ms.iter().map(|m| m.sum_sq).sum(),
    })
    .expect("a tree")
}

fn describe(m: &Moments) -> String {
    let mean = m.sum / m.n as f64;
    let var = m.sum_sq / m.n as f64 - mean * mean;
    format!(
        "n={} mean={:?} var={:?} bits={:x}/{:x}",
        m.n,
        mean,
        var,
        m.sum.to_bits(),
        m.sum_sq.to_bits()
    )
}

// ---------------------------------------------------------- child program

fn child(mode: &str) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let cluster = Cluster::from_env()?;
    let me = cluster.process();
    Ok(match mode {
        "tree" => cluster.compute(&tree_sum(3000))?.map(|v| v.to_string()),
        // Bit-identical needs the graph's own tree (regrouping
        // reassociates the floating-point sums).
        "normal" => cluster
            .with_regrouping(false)
            .compute(&normal_moments(48, 20_000))?
            .map(|m| describe(&m)),
        "everywhere" => Some(cluster.compute_everywhere(&tree_sum(3000))?.to_string()),
        "twice" => {
            // Two computations in a row, each with its own start-up.
            let a = cluster.compute(&tree_sum(500))?;
            let b = cluster.compute(&(tree_sum(700), normal_moments(8, 1000)))?;
            a.zip(b)
                .map(|(a, (b, m))| format!("{a} {b} {}", describe(&m)))
        }
        "static" => {
            // A graph written with `graph!`, built as tasks a cluster places.
            let g = dagwood::graph! {
                #![distributed]
                let a = (0..1000_i64).map(|i| i * i).collect::<Vec<i64>>();
                let b = (0..1000_i64).map(|i| 3 * i).collect::<Vec<i64>>();
                let sa = a.iter().sum::<i64>();
                let sb = b.iter().sum::<i64>();
                let n = a.len() + b.len();
                let parsed: i64 = "42".parse::<i64>()?;
                (sa, sb, n as i64 + parsed)
            };
            cluster
                .compute(&g)?
                .map(|(sa, sb, n)| format!("{sa} {sb} {n}"))
        }
        "concat" => {
            // An order-sensitive (non-commutative) reduction: regrouping
            // must keep the leaves' order.
            let parts = (0..3000_u64).map(|i| delayed(i).map("one", |v: &u64| vec![*v]));
            let all = tree_reduce(parts, 8, "concat", |vs: Vec<Vec<u64>>| vs.concat())?;
            cluster.compute(&all)?.map(|v| {
                let ordered = v.iter().copied().eq(0..3000);
                format!("{} ordered={ordered}", v.len())
            })
        }
        "skew" => {
            let n = if me == 1 { 3001 } else { 3000 };
            cluster.compute(&tree_sum(n))?.map(|v| v.to_string())
        }
        "fail" => {
            let parts = (0..600_u64).map(|i| {
                let mut b = TaskBuilder::new("check").key(Key::new("check").with_index(i));
                let x = b.arg::<u64>(i);
                b.build_result(move |args| {
                    let v = x.take(args)?;
                    Ok(if v == 599 {
                        Err(format!("bad value {v}"))
                    } else {
                        Ok(v)
                    })
                })
            });
            cluster.compute(&sum(parts, 8)?)?.map(|v| v.to_string())
        }
        "die" => {
            // Process 1 dies in its first task; the others must notice.
            let total = sum(
                leaves(3000, move |_| {
                    if me == 1 {
                        std::thread::sleep(Duration::from_millis(300));
                        std::process::exit(3);
                    }
                }),
                8,
            )?;
            cluster.compute(&total)?.map(|v| v.to_string())
        }
        "slow" => {
            // Long enough to be killed mid-run from outside; process 1 says
            // when its first task starts.
            let started = std::sync::Once::new();
            let started = std::sync::Arc::new(started);
            let total = sum(
                leaves(3000, move |_| {
                    if me == 1 {
                        started.call_once(|| println!("\nSTARTED"));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }),
                8,
            )?;
            cluster.compute(&total)?.map(|v| v.to_string())
        }
        "hang" => {
            // Process 0 fails at once, the others never end by themselves.
            println!("\nPID {}", std::process::id());
            if me == 0 {
                std::thread::sleep(Duration::from_millis(200));
                return Err("giving up".into());
            }
            std::thread::sleep(Duration::from_secs(600));
            None
        }
        "hang-all" => {
            println!("\nPID {}", std::process::id());
            std::thread::sleep(Duration::from_secs(600));
            None
        }
        other => return Err(format!("unknown mode {other}").into()),
    })
}

/// Not a test of its own: the program that the launcher starts.
#[test]
fn child_program() {
    common::child_main(child);
}

// ------------------------------------------------------------- harness

fn child_command(program: &mut Command, mode: &str) {
    program
        .arg("child_program")
        .arg("--exact")
        .arg("--nocapture")
        .arg("--test-threads=1")
        .env("DAGWOOD_TEST_CHILD", mode);
}

fn launch(
    mode: &str,
    n: usize,
    threads: usize,
    base_port: u16,
    extra: &[&str],
) -> (Output, String, String) {
    let me = std::env::current_exe().expect("test binary");
    let mut cmd = Command::new(LAUNCH);
    cmd.args(["-n", &n.to_string(), "--threads", &threads.to_string()])
        .args(["--base-port", &base_port.to_string(), "--timeout", "20"])
        .args(extra)
        .arg("--")
        .arg(me);
    child_command(&mut cmd, mode);
    // Arguments after the program go to it: child_command added them to the
    // launcher's command line in the right place.
    let (out, _) = run_guarded(cmd, Duration::from_secs(90));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out, stdout, stderr)
}

fn result_line(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("[p0] RESULT ").map(str::to_string))
}

// ---------------------------------------------------------------- tests

#[test]
fn tree_sum_on_2_processes_matches_one() {
    let want = tree_sum(3000)
        .compute_with(&Scheduler::Sync)
        .unwrap()
        .to_string();
    let (out, stdout, stderr) = launch("tree", 2, 1, 23100, &[]);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(
        result_line(&stdout).as_deref(),
        Some(want.as_str()),
        "{stdout}"
    );
    assert!(stdout.contains("[p1] DONE"), "{stdout}");
}

#[test]
fn a_distributed_graph_macro_runs_on_2_processes() {
    let (out, stdout, stderr) = launch("static", 2, 1, 23320, &[]);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // 332,833,500 = sum of squares below 1000; 1,498,500 = 3 × 499,500.
    assert_eq!(
        result_line(&stdout).as_deref(),
        Some("332833500 1498500 2042"),
        "{stdout}"
    );
}

#[test]
fn an_order_sensitive_reduction_keeps_its_order_when_regrouped() {
    for (n, threads, port) in [(2, 1, 23300), (3, 2, 23310)] {
        let (out, stdout, stderr) = launch("concat", n, threads, port, &[]);
        assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(
            result_line(&stdout).as_deref(),
            Some("3000 ordered=true"),
            "{stdout}"
        );
    }
}

#[test]
fn tree_sum_on_3_processes_with_2_threads_matches_one() {
    let want = tree_sum(3000)
        .compute_with(&Scheduler::Sync)
        .unwrap()
        .to_string();
    let (out, stdout, stderr) = launch("tree", 3, 2, 23110, &[]);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(
        result_line(&stdout).as_deref(),
        Some(want.as_str()),
        "{stdout}"
    );
}

#[test]
fn every_process_gets_the_outputs_when_asked() {
    let want = tree_sum(3000)
        .compute_with(&Scheduler::Sync)
        .unwrap()
        .to_string();
    let (out, stdout, stderr) = launch("everywhere", 3, 2, 23200, &[]);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for p in 0..3 {
        let prefix = format!("[p{p}] RESULT ");
        let got = stdout.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
        assert_eq!(got, Some(want.as_str()), "process {p}:\n{stdout}");
    }
}

#[test]
fn normal_reduction_is_bit_identical_on_2_and_3_processes() {
    let want = describe(
        &normal_moments(48, 20_000)
            .compute_with(&Scheduler::Sync)
            .unwrap(),
    );
    for (n, port) in [(2, 23120), (3, 23130)] {
        let (out, stdout, stderr) = launch("normal", n, 1, port, &[]);
        assert!(
            out.status.success(),
            "{n} processes\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert_eq!(
            result_line(&stdout).as_deref(),
            Some(want.as_str()),
            "{stdout}"
        );
    }
}

#[test]
fn two_computations_in_a_row_and_a_host_file() {
    let want = format!(
        "{} {} {}",
        tree_sum(500).compute_with(&Scheduler::Sync).unwrap(),
        tree_sum(700).compute_with(&Scheduler::Sync).unwrap(),
        describe(
            &normal_moments(8, 1000)
                .compute_with(&Scheduler::Sync)
                .unwrap()
        )
    );
    let dir = std::env::temp_dir().join(format!("dagwood-launch-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts.txt");
    std::fs::write(
        &hosts,
        "# two local processes\n127.0.0.1:23195\n\nlocalhost:23197\n",
    )
    .unwrap();
    let (out, stdout, stderr) = launch("twice", 2, 1, 23190, &["--hosts", hosts.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(
        result_line(&stdout).as_deref(),
        Some(want.as_str()),
        "{stdout}"
    );
}

#[test]
fn task_error_comes_back_at_process_0_with_its_key() {
    let (out, stdout, stderr) = launch("fail", 3, 1, 23140, &[]);
    assert!(
        !out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let p0 = stderr
        .lines()
        .find(|l| l.starts_with("[p0] ERROR"))
        .unwrap_or_else(|| panic!("no error at p0:\n{stderr}"));
    assert!(
        p0.contains(r#"task ("check", 599) failed on process 2: bad value 599"#),
        "{p0}"
    );
    // The other processes end with an error too.
    for p in ["[p1] ERROR", "[p2] ERROR"] {
        assert!(stderr.contains(p), "{stderr}");
    }
}

#[test]
fn a_dying_process_makes_the_others_fail_quickly() {
    // With a 30 s grace the launcher does not kill the survivors: they must
    // end on their own, with an error, well before the hang guard.
    let (out, stdout, stderr) = launch("die", 3, 1, 23150, &["--grace", "30"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for p in ["[p0] ERROR", "[p2] ERROR"] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(p))
            .unwrap_or_else(|| panic!("{p} missing:\n{stderr}"));
        assert!(line.contains("lost the connection"), "{line}");
    }
    assert!(
        !stderr.contains("killing process"),
        "survivors had to be killed:\n{stderr}"
    );
}

#[test]
fn fingerprint_mismatch_is_refused() {
    let (out, stdout, stderr) = launch("skew", 2, 1, 23160, &[]);
    assert!(
        !out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for p in ["[p0] ERROR", "[p1] ERROR"] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(p))
            .unwrap_or_else(|| panic!("{p} missing:\n{stderr}"));
        assert!(line.contains("graph fingerprint mismatch"), "{line}");
    }
    assert!(!stdout.contains("RESULT"), "{stdout}");
}

/// Runs process `id` of 2 alone (no launcher), with a 1 s connect timeout:
/// it must fail; gives its stderr.
fn alone(id: usize, base_port: u16) -> String {
    let me = std::env::current_exe().expect("test binary");
    let mut cmd = Command::new(me);
    child_command(&mut cmd, "tree");
    cmd.env("DAGWOOD_PROCESSES", "2")
        .env("DAGWOOD_PROCESS_ID", id.to_string())
        .env("DAGWOOD_BASE_PORT", base_port.to_string())
        .env("DAGWOOD_CONNECT_TIMEOUT", "1");
    let (out, _) = run_guarded(cmd, Duration::from_secs(60));
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn a_peer_that_never_comes_is_named() {
    let stderr = alone(0, 23170);
    assert!(
        stderr.contains("process 0: process 1 (127.0.0.1:23171) never came"),
        "{stderr}"
    );
}

#[test]
fn a_port_in_use_is_named() {
    let _taken = std::net::TcpListener::bind("127.0.0.1:23181").expect("a free port");
    let stderr = alone(1, 23180);
    assert!(
        stderr.contains("process 1 cannot listen on 127.0.0.1:23181"),
        "{stderr}"
    );
}

#[test]
fn launcher_rejects_bad_arguments() {
    let out = Command::new(LAUNCH)
        .args(["-n", "0", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-n 0"));
    let out = Command::new(LAUNCH).args(["-n", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(LAUNCH)
        .args(["-n", "2", "--", "false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// True while `pid` is a live process (not gone, not a zombie).
#[cfg(target_os = "linux")]
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

#[cfg(target_os = "linux")]
fn pids(stdout: &str) -> Vec<u32> {
    stdout
        .lines()
        .filter_map(|l| {
            l.split_once("] PID ")
                .and_then(|(_, p)| p.trim().parse().ok())
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn the_launcher_stops_the_others_after_the_grace_period() {
    let (out, stdout, stderr) = launch("hang", 3, 1, 23210, &["--grace", "1"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains("[p0] ERROR giving up"), "{stderr}");
    assert!(stderr.contains("killing process 1") && stderr.contains("killing process 2"));
    let pids = pids(&stdout);
    assert_eq!(pids.len(), 3, "{stdout}");
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived the launcher");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn killing_the_launcher_kills_its_processes() {
    use std::io::BufRead;
    let me = std::env::current_exe().expect("test binary");
    let mut cmd = Command::new(LAUNCH);
    cmd.args(["-n", "2", "--base-port", "23220", "--"]).arg(me);
    child_command(&mut cmd, "hang-all");
    let mut launcher = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = launcher.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut found = Vec::new();
    while found.len() < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("hang: no PID lines");
        found.extend(pids(&line));
    }
    launcher.kill().unwrap();
    launcher.wait().unwrap();
    let start = Instant::now();
    while found.iter().any(|&p| alive(p)) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "hang: {found:?} still alive"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the `slow` computation as processes 0 and 1 (without the
/// launcher) and returns once process 1 runs its first task.
fn start_slow_pair(port: u16, env: &[(&str, &str)]) -> (Child, Child) {
    use std::io::BufRead;
    let me = std::env::current_exe().expect("test binary");
    let spawn = |id: usize| {
        let mut cmd = Command::new(&me);
        child_command(&mut cmd, "slow");
        cmd.env("DAGWOOD_PROCESSES", "2")
            .env("DAGWOOD_PROCESS_ID", id.to_string())
            .env("DAGWOOD_BASE_PORT", port.to_string())
            .env("DAGWOOD_CONNECT_TIMEOUT", "20")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start")
    };
    let p0 = spawn(0);
    let mut p1 = spawn(1);
    let out1 = p1.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(out1).lines();
    // Wait (with a hang guard) for process 1's first task.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = lines.any(|l| l.is_ok_and(|l| l.contains("STARTED")));
        let _ = tx.send(started);
    });
    let started = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("hang: process 1 never started");
    assert!(started, "process 1 ended before its first task");
    (p0, p1)
}

/// Waits for `p` to end by itself (killing it and failing after `limit`):
/// its status, its stderr and how long it took.
fn ends_alone(p: &mut Child, limit: Duration, why: &str) -> (ExitStatus, String, Duration) {
    let start = Instant::now();
    let status = loop {
        if let Some(s) = p.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = p.kill();
            panic!("hang: process 0 still running {limit:?} after {why}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    let mut err = String::new();
    p.stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    (status, err, took)
}

#[test]
fn a_process_killed_from_outside_makes_the_other_fail() {
    let (mut p0, mut p1) = start_slow_pair(23230, &[]);
    p1.kill().unwrap();
    p1.wait().unwrap();
    let (status, err, _) = ends_alone(&mut p0, Duration::from_secs(30), "process 1 was killed");
    assert!(!status.success());
    assert!(
        err.contains("ERROR process 0: lost the connection to process 1"),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_stopped_process_is_found_silent_by_its_heartbeat() {
    // A process stopped with SIGSTOP keeps its connections open (its kernel
    // still acknowledges data): only the missing heartbeats tell.
    let (mut p0, mut p1) = start_slow_pair(23330, &[("DAGWOOD_HEARTBEAT_TIMEOUT", "3")]);
    // SAFETY: kill(2) on a child process of ours that has not been reaped.
    let stopped = unsafe { libc::kill(p1.id() as libc::pid_t, libc::SIGSTOP) };
    assert_eq!(stopped, 0, "cannot stop process 1");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ends_alone(&mut p0, Duration::from_secs(30), "process 1 was stopped")
    }));
    let _ = p1.kill(); // SIGKILL ends a stopped process too
    let _ = p1.wait();
    let (status, err, took) = result.unwrap_or_else(|p| std::panic::resume_unwind(p));
    assert!(!status.success());
    assert!(
        err.contains("process 1") && err.contains("no heartbeat for 3 s"),
        "{err}"
    );
    eprintln!("process 0 gave up on the stopped process after {took:?}");
    // The heartbeat timeout plus a little: not a TCP timeout's 25 s.
    assert!(took < Duration::from_secs(12), "{took:?}");
}
