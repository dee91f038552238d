//! Processes in separate Linux network namespaces: each namespace is a host
//! with its own loopback and one virtual link (a veth pair) to a bridge in a
//! hub namespace, and nothing else. The processes find each other through a
//! host file of their link addresses, as on separate machines.
//!
//! Needs `ip` and the right to create namespaces (root); otherwise each test
//! prints why and returns. The program started in each namespace is this test
//! binary itself, running only `child_program` with `DAGWOOD_TEST_CHILD`
//! naming what to do. Namespaces are named `dagwood-test-<pid>-<test>-<i>`
//! and deleted by a guard, even when a test fails; namespaces left by a test
//! binary that was killed outright are deleted by the next run.

mod common;
use common::run_guarded;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dagwood_cluster::Cluster;
use dagwood_runtime::{delayed, sum, Delayed, Key, Scheduler};

const PREFIX: &str = "dagwood-test-";
/// The port every process listens on (each namespace has its own ports).
const PORT: u16 = 7100;

// ------------------------------------------------------------ the program

/// Sum of squares of 0..n as a tree; `leaf` runs in every leaf first.
fn squares(n: u64, leaf: impl Fn() + Clone + Send + Sync + 'static) -> Delayed<i64> {
    let leaves = (0..n).map(|i| {
        let leaf = leaf.clone();
        delayed(i as i64)
            .map("square", move |v: &i64| {
                leaf();
                v * v
            })
            .with_key(Key::new("square").with_index(i))
    });
    sum(leaves, 8).expect("a tree")
}

fn child(mode: &str) -> Result<Option<i64>, Box<dyn std::error::Error>> {
    let cluster = Cluster::from_env()?;
    let me = cluster.process();
    let graph = match mode {
        "tree" => squares(3000, || {}),
        // 3000 leaves of 50 ms on 2 processes: over a minute undisturbed.
        // Process 1 says when its first leaf starts.
        "slow" => {
            let started = Arc::new(std::sync::Once::new());
            squares(3000, move || {
                if me == 1 {
                    started.call_once(|| println!("\nSTARTED"));
                }
                std::thread::sleep(Duration::from_millis(50));
            })
        }
        other => return Err(format!("unknown mode {other}").into()),
    };
    Ok(cluster.compute(&graph)?)
}

/// Not a test of its own: the program run in each namespace.
#[test]
fn child_program() {
    common::child_main(child);
}

// ------------------------------------------------------------- namespaces

/// Runs `ip` with `args`; the error holds the command and its stderr.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip {}`: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {} {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Deletes namespaces of this test whose test binary is gone (killed before
/// its guards ran).
fn sweep_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "delete", name]);
        }
    }
}

/// `hosts` namespaces (`10.213.X.1`, `.2`, ...) on a bridge in a hub
/// namespace, and a host file naming them. Dropping it deletes them all.
struct Net {
    hub: String,
    hosts: Vec<String>,
    addresses: Vec<String>,
    host_file: PathBuf,
    /// Namespaces created so far (deleted on drop).
    created: Vec<String>,
}

impl Net {
    /// `None` (after printing why) when namespaces cannot be made here;
    /// a panic when a later step fails.
    fn new(test: &str, subnet: u8, hosts: usize) -> Option<Net> {
        let pid = std::process::id();
        let name = |what: &str| format!("{PREFIX}{pid}-{test}-{what}");
        let mut net = Net {
            hub: name("hub"),
            hosts: (0..hosts).map(|i| name(&i.to_string())).collect(),
            addresses: (0..hosts)
                .map(|i| format!("10.213.{subnet}.{}", i + 1))
                .collect(),
            host_file: std::env::temp_dir().join(format!("{PREFIX}{pid}-{test}-hosts.txt")),
            created: Vec::new(),
        };
        // Only the first step may skip: anything after it failing is a fault.
        match ip(&["netns", "add", &net.hub]) {
            Ok(()) => net.created.push(net.hub.clone()),
            Err(e) => {
                println!("skipping {test}: cannot create a network namespace ({e})");
                return None;
            }
        }
        sweep_stale();
        let must = |args: &[&str]| ip(args).unwrap_or_else(|e| panic!("namespace setup: {e}"));
        let hub = net.hub.clone();
        must(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        must(&["-n", &hub, "link", "set", "br0", "up"]);
        must(&["-n", &hub, "link", "set", "lo", "up"]);
        for i in 0..hosts {
            let ns = net.hosts[i].clone();
            must(&["netns", "add", &ns]);
            net.created.push(ns.clone());
            let port = format!("p{i}");
            // One end (`eth0`) in the host, the other a bridge port in the hub.
            must(&[
                "-n", &hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ]);
            must(&["-n", &hub, "link", "set", &port, "master", "br0"]);
            must(&["-n", &hub, "link", "set", &port, "up"]);
            let cidr = format!("{}/24", net.addresses[i]);
            must(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"]);
            must(&["-n", &ns, "link", "set", "eth0", "up"]);
            must(&["-n", &ns, "link", "set", "lo", "up"]);
        }
        let file: String = net
            .addresses
            .iter()
            .map(|a| format!("{a}:{PORT}\n"))
            .collect();
        std::fs::write(&net.host_file, file).expect("write the host file");
        Some(net)
    }

    /// The command that runs `child_program` as process `i` in its namespace.
    fn command(&self, i: usize, mode: &str) -> Command {
        let me = std::env::current_exe().expect("test binary");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.hosts[i]])
            .arg(me)
            .args([
                "child_program",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("DAGWOOD_TEST_CHILD", mode)
            .env("DAGWOOD_HOSTS", &self.host_file)
            .env("DAGWOOD_PROCESS_ID", i.to_string())
            .env("DAGWOOD_CONNECT_TIMEOUT", "20")
            .env_remove("DAGWOOD_PROCESSES")
            .env_remove("DAGWOOD_THREADS");
        // If this test binary is killed outright, its processes die with it
        // (`ip netns exec` execs the program, which keeps the signal).
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe; nothing else runs between
            // fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        cmd
    }

    /// Cuts process `i` off: its bridge port goes down, so whatever either
    /// side sends is lost, and no FIN or RST reaches anyone.
    fn cut(&self, i: usize) {
        ip(&["-n", &self.hub, "link", "set", &format!("p{i}"), "down"])
            .unwrap_or_else(|e| panic!("cutting the link: {e}"));
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in self.created.iter().rev() {
            if let Err(e) = ip(&["netns", "delete", ns]) {
                eprintln!("cleanup: {e}");
            }
        }
        let _ = std::fs::remove_file(&self.host_file);
    }
}

/// A `(subnet X of 10.213.X.0/24)` that differs between tests and, as far as
/// it can, between concurrent test binaries (the links are private to each
/// test's namespaces anyway).
fn subnet(test: u8) -> u8 {
    (std::process::id() % 80) as u8 * 3 + test
}

// ------------------------------------------------------------ helpers

fn expected() -> String {
    squares(3000, || {})
        .compute_with(&Scheduler::Sync)
        .unwrap()
        .to_string()
}

fn result_line(stdout: &str) -> Option<&str> {
    stdout.lines().find_map(|l| l.strip_prefix("RESULT "))
}

/// Runs every process of `net` in `mode` at once, each under a hang guard.
fn run_all(net: &Net, mode: &str, threads: usize) -> Vec<(ExitStatus, String, String)> {
    let handles: Vec<_> = (0..net.hosts.len())
        .map(|i| {
            let mut cmd = net.command(i, mode);
            cmd.env("DAGWOOD_THREADS", threads.to_string());
            std::thread::spawn(move || {
                let (out, _) = run_guarded(cmd, Duration::from_secs(90));
                (
                    out.status,
                    String::from_utf8_lossy(&out.stdout).to_string(),
                    String::from_utf8_lossy(&out.stderr).to_string(),
                )
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a process's hang guard failed"))
        .collect()
}

fn check_tree(net: &Net, threads: usize) {
    let want = expected();
    let runs = run_all(net, "tree", threads);
    for (i, (status, stdout, stderr)) in runs.iter().enumerate() {
        assert!(
            status.success(),
            "process {i}: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
    assert_eq!(
        result_line(&runs[0].1),
        Some(want.as_str()),
        "{}",
        runs[0].1
    );
    for (i, run) in runs.iter().enumerate().skip(1) {
        assert!(run.1.contains("DONE"), "process {i}:\n{}", run.1);
    }
}

// ---------------------------------------------------------------- tests

#[test]
fn two_hosts_in_network_namespaces_match_one_process() {
    let Some(net) = Net::new("two", subnet(0), 2) else {
        return;
    };
    check_tree(&net, 1);
}

#[test]
fn three_hosts_with_two_threads_in_network_namespaces_match_one_process() {
    let Some(net) = Net::new("three", subnet(1), 3) else {
        return;
    };
    check_tree(&net, 2);
}

/// A started process that is killed when dropped (a failing test leaves
/// nothing running), with its output gathered as it comes.
struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts `cmd`; every stdout line also goes to `lines`.
    fn start(mut cmd: Command, lines: Option<mpsc::Sender<String>>) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let (o, e) = (stdout.clone(), stderr.clone());
        let readers = vec![
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Some(tx) = &lines {
                        let _ = tx.send(line.clone());
                    }
                    let mut o = o.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            }),
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = BufReader::new(err).read_to_string(&mut s);
                e.lock().unwrap().push_str(&s);
            }),
        ];
        Running {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn output(&mut self) -> (String, String) {
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        (
            self.stdout.lock().unwrap().clone(),
            self.stderr.lock().unwrap().clone(),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn a_dropped_link_makes_both_sides_fail_within_bounded_time() {
    let Some(net) = Net::new("drop", subnet(2), 2) else {
        return;
    };
    // Declared after `net`, so dropped (killed) before the namespaces go.
    let (tx, rx) = mpsc::channel();
    let mut procs = [
        Running::start(net.command(0, "slow"), None),
        Running::start(net.command(1, "slow"), Some(tx)),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("STARTED") => break,
            Ok(_) => {}
            Err(_) => {
                let (o, e) = procs[1].output();
                panic!("hang: process 1 never started\nstdout:\n{o}\nstderr:\n{e}");
            }
        }
    }
    // Let values flow both ways for a moment, then cut process 1 off.
    std::thread::sleep(Duration::from_secs(1));
    net.cut(1);
    let cut = Instant::now();

    // Both must end on their own, with an error, within the bound.
    let bound = Duration::from_secs(45);
    let guard = Duration::from_secs(75);
    let mut ended: [Option<(ExitStatus, Duration)>; 2] = [None, None];
    while ended.iter().any(Option::is_none) {
        for (i, p) in procs.iter_mut().enumerate() {
            if ended[i].is_none() {
                if let Some(s) = p.child.try_wait().expect("wait") {
                    ended[i] = Some((s, cut.elapsed()));
                }
            }
        }
        if cut.elapsed() > guard {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut report = String::new();
    for (i, p) in procs.iter_mut().enumerate() {
        if ended[i].is_none() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        let (o, e) = p.output();
        report.push_str(&format!(
            "process {i}: {:?}\nstdout:\n{o}\nstderr:\n{e}\n",
            ended[i]
        ));
    }
    println!("{report}");
    for (i, p) in procs.iter_mut().enumerate() {
        let Some((status, after)) = ended[i] else {
            panic!("hang: process {i} still running {guard:?} after the link was cut\n{report}");
        };
        println!(
            "process {i} ended {:.1} s after the link was cut ({status})",
            after.as_secs_f64()
        );
        assert!(!status.success(), "process {i} succeeded\n{report}");
        let (_, stderr) = p.output();
        let other = 1 - i;
        let line = stderr
            .lines()
            .find(|l| l.starts_with("ERROR"))
            .unwrap_or_else(|| panic!("process {i}: no error\n{report}"));
        assert!(
            line.contains(&format!(
                "process {i}: lost the connection to process {other}"
            )),
            "process {i}: {line}\n{report}"
        );
        assert!(
            after < bound,
            "process {i} took {after:?} (over {bound:?}) to notice\n{report}"
        );
    }
}
