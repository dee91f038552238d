//! JSON lines with a bag: Dask's
//!
//! ```python
//! db.read_text("records/*.json.gz").map(json.loads).filter(lambda r: r["age"] >= 30).pluck("name").frequencies()
//! ```
//!
//! over gzip files of generated people records, first untyped
//! (`serde_json::Value` and `pluck`, as in Dask), then typed through a
//! `#[derive(Deserialize)]` struct; both checked against a plain sequential
//! loop.
//!
//! `cargo run --release --example json_bag [FOLDER]` reads `FOLDER/*.json.gz`;
//! without a folder it first generates 20 files of 25,000 records into
//! `target/json-demo/records` (once).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use dagwood::collections::bag::read_text;
use dagwood::diagnostics::ProgressBar;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Deserialize;
use serde_json::Value;

const FILES: usize = 20;
const RECORDS: usize = 25_000;

/// The typed record: the fields the pipeline reads (serde skips the rest).
#[derive(Clone, Debug, Deserialize)]
struct Person {
    name: String,
    age: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = match std::env::args().nth(1) {
        Some(d) => PathBuf::from(d),
        None => generate(&Path::new(env!("CARGO_MANIFEST_DIR")).join("target/json-demo/records"))?,
    };
    let pattern = dir.join("*.json.gz");
    let bar = ProgressBar::new();

    // 1. Untyped, as in Dask: one partition (one task) per gzip file; the
    //    parse, filter and pluck run item by item inside it, and the counts
    //    are merged in a tree.
    let t = Instant::now();
    let names = read_text(&pattern)?
        .map_json_value()
        .filter(|r| r["age"].as_u64().is_some_and(|a| a >= 30))
        .pluck("name")
        .frequencies()?;
    let untyped = bar.run(|| names.compute())?;
    let t_untyped = t.elapsed();

    // 2. Typed: serde fills a struct, no map per record.
    let t = Instant::now();
    let typed = read_text(&pattern)?
        .map_json::<Person>()
        .filter(|p| p.age >= 30)
        .map(|p| p.name)
        .frequencies()?;
    let typed = bar.run(|| typed.compute())?;
    let t_typed = t.elapsed();

    // 3. The same by hand, on one thread.
    let t = Instant::now();
    let want = sequential(&pattern)?;
    let t_seq = t.elapsed();

    let untyped: Vec<(String, usize)> = untyped
        .into_iter()
        .map(|(v, n)| (v.as_str().unwrap_or_default().to_string(), n))
        .collect();
    for (what, got) in [("untyped", &untyped), ("typed", &typed)] {
        let as_map: HashMap<String, usize> = got.iter().cloned().collect();
        assert_eq!(
            as_map, want,
            "{what} bag result differs from the sequential loop"
        );
        assert!(
            got.windows(2).all(|w| w[0].1 >= w[1].1),
            "{what}: most frequent first"
        );
    }
    assert_eq!(untyped, typed, "untyped and typed agree, order included");

    let people: usize = want.values().sum();
    println!(
        "{} files in {}: {people} people aged 30 or more, {} distinct names",
        std::fs::read_dir(&dir)?
            .filter(|e| e
                .as_ref()
                .is_ok_and(|e| e.path().to_string_lossy().ends_with(".json.gz")))
            .count(),
        dir.display(),
        want.len()
    );
    println!("most frequent names:");
    for (name, n) in typed.iter().take(5) {
        println!("  {name:<16} {n:>6}");
    }
    println!(
        "untyped bag {t_untyped:.2?}, typed bag {t_typed:.2?}, sequential loop (untyped) {t_seq:.2?} \
         on {} threads: both bags equal the sequential result",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}

/// The pipeline as a plain loop over the files, on one thread.
fn sequential(pattern: &Path) -> Result<HashMap<String, usize>, Box<dyn std::error::Error>> {
    let dir = pattern.parent().ok_or("pattern has no folder")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".json.gz") && !n.starts_with('.'))
    });
    let mut counts = HashMap::new();
    for f in files {
        for line in BufReader::new(MultiGzDecoder::new(File::open(f)?)).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let mut r: Value = serde_json::from_str(&line)?;
            if r["age"].as_u64().is_some_and(|a| a >= 30) {
                if let Value::String(name) = r["name"].take() {
                    *counts.entry(name).or_insert(0) += 1;
                }
            }
        }
    }
    Ok(counts)
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

    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }

    /// In `0..n`, small values much more likely.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * n as f64) as usize).min(n - 1)
    }
}

const FIRST: [&str; 24] = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Ines", "Joao", "Yuki",
    "Haruto", "Priya", "Arjun", "Fatima", "Omar", "Chen", "Mei", "Olga", "Ivan", "Greta", "Lars",
    "Amara", "Kwame",
];
const LAST: [&str; 12] = [
    "Smith", "Silva", "Garcia", "Muller", "Kim", "Nguyen", "Sato", "Patel", "Khan", "Okafor",
    "Costa", "Novak",
];
const CITIES: [&str; 8] = [
    "Lisbon", "Porto", "Berlin", "Tokyo", "Nairobi", "Lima", "Oslo", "Toronto",
];

/// Writes `FILES` gzip files of `RECORDS` JSON records each into `dir`
/// unless they are there already (each file is written under a temporary
/// name and renamed, so an interrupted run leaves no short file).
fn generate(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let t = Instant::now();
    let mut made = 0;
    for i in 0..FILES {
        let path = dir.join(format!("people-{i:02}.json.gz"));
        if path.is_file() {
            continue;
        }
        let tmp = dir.join(format!(".people-{i:02}.json.gz.tmp"));
        let mut out = GzEncoder::new(BufWriter::new(File::create(&tmp)?), Compression::default());
        let mut rng = Rng(1000 + i as u64);
        for r in 0..RECORDS {
            let id = i * RECORDS + r;
            let (first, last) = (FIRST[rng.skewed(FIRST.len())], LAST[rng.below(LAST.len())]);
            writeln!(
                out,
                r#"{{"id":{id},"name":"{first} {last}","age":{},"city":"{}","email":"{}.{}{}@example.com","score":{:.2},"active":{}}}"#,
                16 + rng.below(70),
                CITIES[rng.skewed(CITIES.len())],
                first.to_lowercase(),
                last.to_lowercase(),
                id % 100,
                rng.below(10_000) as f64 / 100.0,
                rng.below(4) != 0
            )?;
        }
        out.finish()?.flush()?;
        std::fs::rename(&tmp, &path)?;
        made += 1;
    }
    if made > 0 {
        println!(
            "generated {made} files of {RECORDS} records in {} ({:.2?})",
            dir.display(),
            t.elapsed()
        );
    }
    Ok(dir.to_path_buf())
}
