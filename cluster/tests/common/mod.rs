//! The harness the multi-process test files share.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` with a hang guard: kills it and fails after `limit`.
pub fn run_guarded(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).to_string();
            let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).to_string();
            panic!("hang: still running after {limit:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let output = Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    };
    (output, elapsed)
}

/// The body of each test file's `child_program`: when the test binary runs
/// as a cluster process (`DAGWOOD_TEST_CHILD` names the mode), runs `child`
/// and prints its result as a `RESULT` line, or its error and exits 1.
pub fn child_main<R: std::fmt::Display>(
    child: impl FnOnce(&str) -> Result<Option<R>, Box<dyn std::error::Error>>,
) {
    let Ok(mode) = std::env::var("DAGWOOD_TEST_CHILD") else {
        return;
    };
    match child(&mode) {
        Ok(Some(r)) => println!("\nRESULT {r}"),
        Ok(None) => println!("\nDONE"),
        Err(e) => {
            eprintln!("ERROR {e}");
            std::process::exit(1);
        }
    }
}
