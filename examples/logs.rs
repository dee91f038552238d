//! The first seed talk's multiprocessing example as a bag:
//!
//! ```python
//! def process(filename):
//!     with open(filename) as f, open(filename + ".out", "w") as out:
//!         for line in f:
//!             out.write(transform(line))
//! pool.map(process, glob("2014-*-*.log"))
//! ```
//!
//! Every `2014-*-*.log` in a folder is one partition (`blocksize(u64::MAX)`),
//! each line is parsed and re-emitted as a normalised, anonymised
//! tab-separated record (continuation lines of stack traces dropped), and
//! `to_textfiles` writes one `.out` file per input. A second step reads the
//! `.out` files back and counts log levels (`frequencies`) and the busiest
//! endpoints (`frequencies` + `topk`). Both steps are checked against a
//! plain sequential loop and timed beside it.
//!
//! `cargo run --release --example logs [FOLDER]` processes `FOLDER/2014-*-*.log`
//! into `FOLDER/out/`; without a folder it first generates 60 daily log
//! files of a web server (20,000 requests a day) into `target/logs-demo`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use dagwood::collections::bag::{read_text, ReadText};
use dagwood::diagnostics::ProgressBar;

const DAYS: usize = 60;
const REQUESTS_PER_DAY: usize = 20_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = match std::env::args().nth(1) {
        Some(d) => PathBuf::from(d),
        None => generate(&Path::new(env!("CARGO_MANIFEST_DIR")).join("target/logs-demo"))?,
    };
    let inputs = log_files(&dir)?;
    if inputs.is_empty() {
        return Err(format!("no 2014-*-*.log files in {}", dir.display()).into());
    }
    let out_dir = dir.join("out");
    let seq_dir = dir.join("out-sequential");
    let bar = ProgressBar::new();

    // Step 1: one task per file reads it, transforms each line as it is
    // read and writes the `.out` file; nothing is gathered in memory.
    let t = Instant::now();
    let records = ReadText::new(dir.join("2014-*-*.log"))
        .blocksize(u64::MAX)
        .read()?
        .flat_map(|line| transform(&line));
    std::fs::create_dir_all(&out_dir)?;
    let written = bar.run(|| records.to_textfiles(out_dir.join("part-*.out")))?;
    // `to_textfiles` numbers the files by partition, and partitions follow
    // the sorted input names: give each output its input's name.
    for (part, input) in written.iter().zip(&inputs) {
        std::fs::rename(part, out_dir.join(out_name(input)))?;
    }
    let t_bag1 = t.elapsed();

    let t = Instant::now();
    sequential_step1(&inputs, &seq_dir)?;
    let t_seq1 = t.elapsed();

    // Step 2: levels and the busiest endpoints of the written records, in
    // one computation.
    let t = Instant::now();
    let lines = read_text(out_dir.join("2014-*-*.out"))?;
    let levels = lines.map(|l| field(&l, 1).to_string()).frequencies()?;
    let top = lines
        .map(|l| format!("{} {}", field(&l, 2), field(&l, 3)))
        .frequencies()?
        .topk(5, |(_, n)| *n)?;
    let (levels, top) =
        bar.run(|| dagwood::compute_all((levels.to_delayed(), top.to_delayed())))?;
    let (levels, top) = (levels.concat(), top.concat());
    let t_bag2 = t.elapsed();

    let t = Instant::now();
    let (want_levels, want_endpoints) = sequential_step2(&inputs, &seq_dir)?;
    let t_seq2 = t.elapsed();

    // The checks: the same files, the same counts.
    for input in &inputs {
        let name = out_name(input);
        let (a, b) = (
            std::fs::read(out_dir.join(&name))?,
            std::fs::read(seq_dir.join(&name))?,
        );
        assert!(a == b, "{name}: the bag and the loop wrote different files");
    }
    let levels_map: HashMap<String, usize> = levels.iter().cloned().collect();
    assert_eq!(levels_map, want_levels, "level counts");
    let mut want_top: Vec<(String, usize)> = want_endpoints.into_iter().collect();
    want_top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let counts = |v: &[(String, usize)]| v.iter().map(|(_, n)| *n).collect::<Vec<_>>();
    assert_eq!(
        counts(&top),
        counts(&want_top[..top.len()]),
        "top endpoints"
    );

    let total: usize = levels.iter().map(|(_, n)| n).sum();
    println!(
        "{} log files in {} -> {} .out files in {} ({total} records)",
        inputs.len(),
        dir.display(),
        written.len(),
        out_dir.display()
    );
    println!("log levels:");
    for (level, n) in &levels {
        println!("  {level:<6} {n:>8}");
    }
    println!("busiest endpoints:");
    for (endpoint, n) in &top {
        println!("  {endpoint:<28} {n:>8}");
    }
    println!(
        "transform + write: bag {t_bag1:.2?}, sequential loop {t_seq1:.2?}; \
         count: bag {t_bag2:.2?}, sequential loop {t_seq2:.2?} ({} threads); \
         files and counts are equal",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}

/// The `2014-*-*.log` files of `dir`, sorted (the order `read_text` uses).
fn log_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parts: Vec<&str> = name.strip_suffix(".log").unwrap_or("").split('-').collect();
        if parts.len() == 3 && parts[0] == "2014" && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `2014-01-05.log` -> `2014-01-05.out`.
fn out_name(input: &Path) -> String {
    let stem = input.file_stem().and_then(|s| s.to_str()).unwrap_or("out");
    format!("{stem}.out")
}

/// Field `i` of a tab-separated record.
fn field(record: &str, i: usize) -> &str {
    record.split('\t').nth(i).unwrap_or("")
}

/// One log line as a normalised, anonymised record, tab-separated:
/// `2014-01-05T08:15:02.114Z  INFO  GET  /api/orders/:id  200  41  u-3fa2c19b  10.12.4.0`
/// (ISO time, level, method, endpoint without query and with ids replaced,
/// status, milliseconds, hashed user, IP without its last byte). Lines
/// that are not requests (stack trace continuations) give nothing.
fn transform(line: &str) -> Option<String> {
    // 2014-01-05 08:15:02,114 INFO  [worker-3] 10.12.4.77 "GET /api/orders/1234?page=2 HTTP/1.1" 200 1532 41ms user=ana.silva@example.com
    let (date, rest) = line.split_once(' ')?;
    let (time, rest) = rest.split_once(' ')?;
    let (level, rest) = rest.trim_start().split_once(' ')?;
    let rest = rest.trim_start().strip_prefix('[')?.split_once("] ")?.1;
    let (ip, rest) = rest.split_once(' ')?;
    let (request, rest) = rest.strip_prefix('"')?.split_once("\" ")?;
    let mut req = request.split(' ');
    let (method, target) = (req.next()?, req.next()?);
    let mut tail = rest.split(' ');
    let (status, _bytes, ms, user) = (tail.next()?, tail.next()?, tail.next()?, tail.next()?);
    let path = target.split('?').next()?;
    let mut endpoint = String::with_capacity(path.len());
    for seg in path.split('/').skip(1) {
        endpoint.push('/');
        endpoint.push_str(
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                ":id"
            } else {
                seg
            },
        );
    }
    let ip = ip.rsplit_once('.').map_or(ip, |(net, _)| net);
    let mut out = String::with_capacity(96);
    let _ = write!(
        out,
        "{date}T{}Z\t{level}\t{method}\t{endpoint}\t{status}\t{}\tu-{:08x}\t{ip}.0",
        time.replace(',', "."),
        ms.strip_suffix("ms")?,
        fnv1a(user.strip_prefix("user=")?) as u32
    );
    Some(out)
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Step 1 as a plain loop: one file after the other.
fn sequential_step1(inputs: &[PathBuf], out_dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out_dir)?;
    for input in inputs {
        let mut out = BufWriter::new(File::create(out_dir.join(out_name(input)))?);
        for line in BufReader::new(File::open(input)?).lines() {
            if let Some(record) = transform(&line?) {
                writeln!(out, "{record}")?;
            }
        }
        out.flush()?;
    }
    Ok(())
}

type Counts = HashMap<String, usize>;

/// Step 2 as a plain loop over the loop's own `.out` files.
fn sequential_step2(inputs: &[PathBuf], out_dir: &Path) -> std::io::Result<(Counts, Counts)> {
    let (mut levels, mut endpoints) = (Counts::new(), Counts::new());
    for input in inputs {
        for line in BufReader::new(File::open(out_dir.join(out_name(input)))?).lines() {
            let line = line?;
            *levels.entry(field(&line, 1).to_string()).or_insert(0) += 1;
            let endpoint = format!("{} {}", field(&line, 2), field(&line, 3));
            *endpoints.entry(endpoint).or_insert(0) += 1;
        }
    }
    Ok((levels, endpoints))
}

/// splitmix64: small, deterministic pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Endpoints with their relative weights; `{}` is a numeric id.
const ENDPOINTS: [(&str, &str, u64); 10] = [
    ("GET", "/api/products/{}", 30),
    ("GET", "/api/search?q=shoes&page={}", 18),
    ("GET", "/static/js/app.js?v={}", 14),
    ("GET", "/api/users/{}/profile", 10),
    ("POST", "/api/cart/items", 8),
    ("GET", "/api/orders/{}", 7),
    ("POST", "/api/checkout", 5),
    ("GET", "/health", 4),
    ("POST", "/login", 3),
    ("GET", "/api/products/{}/reviews", 1),
];
const USERS: [&str; 8] = [
    "ana.silva",
    "joao.costa",
    "mei.chen",
    "omar.khan",
    "lars.berg",
    "yuki.sato",
    "priya.patel",
    "kwame.mensah",
];

/// Month and day (both from 1) of day `day` (from 0) of 2014.
fn month_day(day: usize) -> (usize, usize) {
    let month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut month, mut d) = (0, day % 365);
    while d >= month_days[month] {
        d -= month_days[month];
        month += 1;
    }
    (month + 1, d + 1)
}

/// One day of requests (plus stack traces after server errors).
fn day_log(day: usize, rng: &mut Rng) -> String {
    let (month, d) = month_day(day);
    let total: u64 = ENDPOINTS.iter().map(|e| e.2).sum();
    let mut out = String::with_capacity(REQUESTS_PER_DAY * 130);
    for r in 0..REQUESTS_PER_DAY {
        // Spread over the day, in order.
        let ms_of_day = (r as u64 * 86_400_000 / REQUESTS_PER_DAY as u64) + rng.below(8_000);
        let (h, m, s, ms) = (
            ms_of_day / 3_600_000 % 24,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        );
        let mut w = rng.below(total);
        let (method, pattern, _) = *ENDPOINTS
            .iter()
            .find(|e| {
                let hit = w < e.2;
                w = w.saturating_sub(e.2);
                hit
            })
            .unwrap_or(&ENDPOINTS[0]);
        let target = pattern.replace("{}", &(1 + rng.below(5000)).to_string());
        let roll = rng.below(1000);
        let (status, level) = match roll {
            0..=7 => (500, "ERROR"),
            8..=39 => (404, "WARN"),
            40..=119 => (304, "DEBUG"),
            _ => (200, "INFO"),
        };
        // Latencies: mostly tens of milliseconds, a long tail.
        let latency = 5
            + rng.below(40)
            + if rng.below(20) == 0 {
                rng.below(2000)
            } else {
                0
            };
        let _ = writeln!(
            out,
            "2014-{month:02}-{d:02} {h:02}:{m:02}:{s:02},{ms:03} {level:<5} [worker-{}] 10.{}.{}.{} \"{method} {target} HTTP/1.1\" {status} {} {latency}ms user={}@example.com",
            rng.below(8),
            rng.below(4),
            rng.below(256),
            1 + rng.below(254),
            200 + rng.below(20_000),
            rng.pick(&USERS)
        );
        if status == 500 {
            out.push_str("java.lang.IllegalStateException: connection pool exhausted\n");
            for frame in [
                "db.Pool.acquire(Pool.java:212)",
                "api.Handler.serve(Handler.java:88)",
            ] {
                let _ = writeln!(out, "    at com.example.{frame}");
            }
        }
    }
    out
}

/// Writes the demo folder unless it is there already: `DAYS` daily logs
/// from 2014-01-01 (each written under a temporary name, then renamed).
fn generate(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let t = Instant::now();
    let mut made = 0;
    for day in 0..DAYS {
        let (month, d) = month_day(day);
        let name = format!("2014-{month:02}-{d:02}");
        let path = dir.join(format!("{name}.log"));
        if path.is_file() {
            continue;
        }
        let text = day_log(day, &mut Rng(2014_0000 + day as u64));
        let tmp = dir.join(format!(".{name}.log.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        made += 1;
    }
    if made > 0 {
        println!(
            "generated {made} daily logs of {REQUESTS_PER_DAY} requests in {} ({:.2?})",
            dir.display(),
            t.elapsed()
        );
    }
    Ok(dir.to_path_buf())
}
