//! `dagwood-launch`: starts the processes of a dagwood cluster program.
//!
//! ```text
//! dagwood-launch -n 4 [--threads T] [--hosts FILE] [--only I,J] [--timeout S]
//!                [--base-port P] [--grace S] -- program [args...]
//! ```
//!
//! Starts `program` N times on this machine with `DAGWOOD_PROCESSES`,
//! `DAGWOOD_PROCESS_ID` and the other variables of
//! `Cluster::from_env` set, prefixes each line of their output with
//! `[pI] `, and exits with the status of the first process that fails (0 when
//! all succeed). When one fails the others get `--grace` seconds (default 5)
//! to finish on their own and are then killed. On Linux the processes also
//! die with the launcher, so none is left behind.
//!
//! For several machines, give every machine the same `--hosts` file and
//! start on each only its own processes with `--only`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: dagwood-launch -n N [--threads T] [--hosts FILE] [--only I,J,...] \
[--timeout SECONDS] [--base-port PORT] [--grace SECONDS] -- PROGRAM [ARGS...]

Starts PROGRAM N times with DAGWOOD_PROCESSES, DAGWOOD_PROCESS_ID (and
DAGWOOD_THREADS, DAGWOOD_HOSTS, DAGWOOD_CONNECT_TIMEOUT, DAGWOOD_BASE_PORT
when given) set; prefixes their output with [pI]; exits with the first
non-zero status and stops the other processes GRACE seconds (default 5) after
a failure.";

struct Options {
    processes: usize,
    threads: Option<usize>,
    hosts: Option<String>,
    only: Option<Vec<usize>>,
    timeout: Option<f64>,
    base_port: Option<u16>,
    grace: Duration,
    program: String,
    args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut processes = None;
    let mut threads = None;
    let mut hosts = None;
    let mut only = None;
    let mut timeout = None;
    let mut base_port = None;
    let mut grace = Duration::from_secs(5);
    let mut i = 0;
    let value = |i: usize, flag: &str| -> Result<&String, String> {
        args.get(i + 1)
            .ok_or_else(|| format!("{flag} needs a value"))
    };
    while i < args.len() {
        let flag = args[i].as_str();
        match flag {
            "--" => {
                let program = args.get(i + 1).ok_or("no program after --")?.clone();
                let processes: usize = processes.ok_or("-n N is required")?;
                if let Some(only) = &only {
                    let only: &Vec<usize> = only;
                    if let Some(bad) = only.iter().find(|&&p| p >= processes) {
                        return Err(format!("--only {bad}: not below -n {processes}"));
                    }
                }
                return Ok(Options {
                    processes,
                    threads,
                    hosts,
                    only,
                    timeout,
                    base_port,
                    grace,
                    program,
                    args: args[i + 2..].to_vec(),
                });
            }
            "-n" | "--processes" => {
                let v = value(i, flag)?;
                processes = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("{flag} {v}: not a positive number"))?,
                );
            }
            "-w" | "--threads" => {
                let v = value(i, flag)?;
                threads = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("{flag} {v}: not a positive number"))?,
                );
            }
            "--hosts" => hosts = Some(value(i, flag)?.clone()),
            "--only" => {
                let v = value(i, flag)?;
                only = Some(
                    v.split(',')
                        .map(|p| p.trim().parse::<usize>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| format!("{flag} {v}: not a list of process indices"))?,
                );
            }
            "--timeout" => {
                let v = value(i, flag)?;
                timeout = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| format!("{flag} {v}: not a positive number of seconds"))?,
                );
            }
            "--base-port" => {
                let v = value(i, flag)?;
                base_port = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("{flag} {v}: not a port number"))?,
                );
            }
            "--grace" => {
                let v = value(i, flag)?;
                grace = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e6)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| format!("{flag} {v}: not a number of seconds"))?;
            }
            other => return Err(format!("unknown option {other:?}")),
        }
        i += 2;
    }
    Err("missing `-- PROGRAM`".into())
}

/// Copies `from` to our stdout or stderr line by line, each line prefixed.
fn forward(
    from: impl Read + Send + 'static,
    prefix: String,
    to_err: bool,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if !line.ends_with(b"\n") {
                        line.push(b'\n');
                    }
                    let write = |w: &mut dyn Write| {
                        let _ = w.write_all(prefix.as_bytes());
                        let _ = w.write_all(&line);
                        let _ = w.flush();
                    };
                    if to_err {
                        write(&mut std::io::stderr().lock());
                    } else {
                        write(&mut std::io::stdout().lock());
                    }
                }
            }
        }
    })
}

fn spawn(opts: &Options, id: usize) -> std::io::Result<Child> {
    let mut cmd = Command::new(&opts.program);
    cmd.args(&opts.args)
        .env("DAGWOOD_PROCESSES", opts.processes.to_string())
        .env("DAGWOOD_PROCESS_ID", id.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(t) = opts.threads {
        cmd.env("DAGWOOD_THREADS", t.to_string());
    }
    if let Some(h) = &opts.hosts {
        cmd.env("DAGWOOD_HOSTS", h);
    }
    if let Some(s) = opts.timeout {
        cmd.env("DAGWOOD_CONNECT_TIMEOUT", s.to_string());
    }
    if let Some(p) = opts.base_port {
        cmd.env("DAGWOOD_BASE_PORT", p.to_string());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id();
        // SAFETY: between fork and exec only async-signal-safe calls are made
        // (prctl, getppid, _exit).
        unsafe {
            cmd.pre_exec(move || {
                // Die with the launcher: no process outlives it.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The launcher may have died before prctl took effect.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    cmd.spawn()
}

fn code_of(status: ExitStatus) -> i32 {
    if let Some(c) = status.code() {
        return c;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    1
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help")
    {
        println!("{USAGE}");
        return;
    }
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dagwood-launch: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Some(h) = &opts.hosts {
        match dagwood_cluster::read_hosts_file(std::path::Path::new(h)) {
            Ok(list) if list.len() == opts.processes => {}
            Ok(list) => {
                eprintln!(
                    "dagwood-launch: host file {h} has {} addresses for -n {}",
                    list.len(),
                    opts.processes
                );
                std::process::exit(2);
            }
            Err(e) => {
                eprintln!("dagwood-launch: {e}");
                std::process::exit(2);
            }
        }
    }
    let ids: Vec<usize> = opts
        .only
        .clone()
        .unwrap_or_else(|| (0..opts.processes).collect());

    let mut children: Vec<(usize, Option<Child>)> = Vec::new();
    let mut forwarders = Vec::new();
    let mut failure: Option<(usize, i32)> = None;
    for &id in &ids {
        match spawn(&opts, id) {
            Ok(mut child) => {
                let prefix = format!("[p{id}] ");
                if let Some(out) = child.stdout.take() {
                    forwarders.push(forward(out, prefix.clone(), false));
                }
                if let Some(err) = child.stderr.take() {
                    forwarders.push(forward(err, prefix, true));
                }
                children.push((id, Some(child)));
            }
            Err(e) => {
                eprintln!(
                    "dagwood-launch: cannot start {} (process {id}): {e}",
                    opts.program
                );
                failure = Some((id, 127));
                break;
            }
        }
    }

    let mut kill_at = failure.map(|_| Instant::now());
    loop {
        let mut running = 0;
        for (id, slot) in children.iter_mut() {
            let Some(child) = slot else { continue };
            match child.try_wait() {
                Ok(Some(status)) => {
                    *slot = None;
                    let code = code_of(status);
                    if code != 0 && failure.is_none() {
                        eprintln!(
                            "dagwood-launch: process {id} failed ({status}); stopping the others \
                             in {:.1} s unless they end first",
                            opts.grace.as_secs_f64()
                        );
                        failure = Some((*id, code));
                        kill_at = Some(Instant::now() + opts.grace);
                    }
                }
                Ok(None) => running += 1,
                Err(_) => running += 1,
            }
        }
        if running == 0 {
            break;
        }
        if kill_at.is_some_and(|t| Instant::now() >= t) {
            for (id, slot) in children.iter_mut() {
                if let Some(child) = slot {
                    eprintln!("dagwood-launch: killing process {id}");
                    let _ = child.kill();
                    let _ = child.wait();
                    *slot = None;
                }
            }
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    for f in forwarders {
        let _ = f.join();
    }
    std::process::exit(failure.map_or(0, |(_, code)| code));
}
