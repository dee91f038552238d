//! What the peers report binaries share: timing with CPU time, and flags.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::Instant;

/// CPU seconds used by this process so far, all threads (Linux; 0
/// elsewhere). On a machine shared with other work, CPU time per run is
/// steadier than wall time.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // utime and stime are the 12th and 13th fields after the command name,
    // in clock ticks (USER_HZ = 100 on Linux).
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Median wall seconds and median CPU seconds of `repeat` runs of `f`.
pub fn measure<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let (mut wall, mut cpu): (Vec<f64>, Vec<f64>) = (0..repeat.max(1))
        .map(|_| {
            let (t, c) = (Instant::now(), cpu_seconds());
            black_box(f());
            (t.elapsed().as_secs_f64(), cpu_seconds() - c)
        })
        .unzip();
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (wall[wall.len() / 2], cpu[cpu.len() / 2])
}

/// The value after flag `name` on the command line, parsed.
pub fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}
