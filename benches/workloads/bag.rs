//! The JSON-lines frequencies pipeline, shared by `benches/bag.rs`
//! (criterion) and `benches/peers_bag.rs` (the report beside dask.bag):
//!
//! ```text
//! read_text("bag-json/*.json.gz").map_json().filter(age >= 30).pluck("name").frequencies()
//! ```
//!
//! over [`FILES`] gzip files of [`RECORDS`] JSON records each, generated
//! once (deterministically) into `target/bench-data/bag-json`. Done by
//! dagwood's `Bag` (untyped `serde_json::Value` records, as in Dask, and
//! typed through a `#[derive(Deserialize)]` struct), by hand with rayon over
//! the files (each file: decompress, parse, filter, count into a `HashMap`;
//! maps merged), and by one thread with an iterator chain.
//!
//! Every version returns the counts as a name-sorted [`Counts`] so they can
//! be compared with each other and (through [`checksum`]) with Python's.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use dagwood::collections::bag::{read_text, BagError};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;

/// Number of gzip files.
pub const FILES: usize = 20;
/// Records per file.
pub const RECORDS: usize = 100_000;
/// The filter: records of people at least this old.
pub const MIN_AGE: u64 = 30;
/// Changes whenever the generated data would change, so stale data is
/// regenerated.
const STAMP: &str = "bag-json v1";

/// Name → number of records (that pass the filter) with that name.
pub type Counts = BTreeMap<String, usize>;

/// The typed record: only the fields the pipeline reads (serde skips the
/// others).
#[derive(Clone, Debug, Deserialize)]
pub struct Record {
    pub name: String,
    pub age: u64,
}

/// The reader buffer of the hand-written versions: the same as `read_text`'s.
const IO_BUFFER: usize = 256 << 10;

#[path = "rng.rs"]
mod rng;
#[path = "stamped.rs"]
mod stamped;
pub use rng::Rng;
use stamped::ensure_stamped;

const FIRST: [&str; 64] = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Mia", "Mateo", "Amelia",
    "Levi", "Harper", "Ethan", "Evelyn", "James", "Luna", "Mason", "Ella", "Ezra", "Aria", "Leo",
    "Chloe", "Henry", "Nora", "Hudson", "Lily", "Jack", "Zoe", "Kai", "Ana", "Joao", "Ines",
    "Miguel", "Sofia", "Tiago", "Yuki", "Haruto", "Aiko", "Ren", "Priya", "Arjun", "Ananya",
    "Rohan", "Fatima", "Omar", "Layla", "Yusuf", "Chen", "Wei", "Mei", "Jun", "Olga", "Ivan",
    "Anya", "Dmitri", "Lena", "Felix", "Greta", "Lars", "Ingrid", "Sven", "Amara", "Kwame",
];
const LAST: [&str; 32] = [
    "Smith", "Silva", "Garcia", "Muller", "Rossi", "Kim", "Nguyen", "Sato", "Patel", "Khan",
    "Cohen", "Novak", "Dubois", "Jansen", "Larsen", "Ivanova", "Santos", "Costa", "Okafor",
    "Mensah", "Tanaka", "Wang", "Li", "Singh", "Brown", "Wilson", "Moreau", "Fischer", "Weber",
    "Bianchi", "Lopez", "Haddad",
];
const CITIES: [&str; 16] = [
    "Lisbon", "Porto", "Berlin", "Tokyo", "Nairobi", "Lima", "Oslo", "Toronto", "Austin",
    "Chennai", "Cairo", "Seoul", "Madrid", "Warsaw", "Sydney", "Dublin",
];
const TAGS: [&str; 8] = [
    "admin", "beta", "mobile", "premium", "trial", "legacy", "eu", "verified",
];

/// Record `id` as one JSON line (with its newline).
pub fn record_line(rng: &mut Rng, id: u64, out: &mut String) {
    use std::fmt::Write as _;
    let first = FIRST[rng.skewed(FIRST.len() as u64) as usize];
    let last = LAST[rng.below(LAST.len() as u64) as usize];
    let age = 16 + rng.below(70);
    let city = CITIES[rng.skewed(CITIES.len() as u64) as usize];
    let score = rng.below(100_000) as f64 / 100.0;
    let active = rng.below(4) != 0;
    let _ = write!(
        out,
        r#"{{"id":{id},"name":"{first} {last}","age":{age},"city":"{city}","score":{score},"active":{active},"tags":["#
    );
    for t in 0..rng.below(4) {
        if t > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\"", TAGS[rng.below(TAGS.len() as u64) as usize]);
    }
    out.push_str("]}\n");
}

/// `target/bench-data/bag-json` under the workspace root.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/bag-json")
}

/// The glob of the generated files.
pub fn pattern(dir: &Path) -> PathBuf {
    dir.join("*.json.gz")
}

/// The generated files, in sorted order.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    (0..FILES)
        .map(|i| dir.join(format!("part-{i:03}.json.gz")))
        .collect()
}

/// Generates the data into [`data_dir`] unless it is already there (same
/// stamp, all files present); returns the directory. Files are written under
/// temporary names and renamed, so an interrupted run never leaves a short
/// file behind.
pub fn ensure_data() -> std::io::Result<PathBuf> {
    let dir = data_dir();
    let files = files(&dir);
    let stamp = format!("{STAMP} files={FILES} records={RECORDS}\n");
    let what = format!("{FILES} files x {RECORDS} JSON records");
    ensure_stamped(dir, &stamp, &files, &what, |i, path| {
        let mut rng = Rng::new(0x5eed_0000 + i as u64);
        let tmp = path.with_extension("gz.tmp");
        let mut gz = GzEncoder::new(
            BufWriter::with_capacity(IO_BUFFER, File::create(&tmp)?),
            Compression::default(),
        );
        let mut line = String::new();
        for r in 0..RECORDS {
            line.clear();
            record_line(&mut rng, (i * RECORDS + r) as u64, &mut line);
            gz.write_all(line.as_bytes())?;
        }
        gz.finish()?.flush()?;
        std::fs::rename(&tmp, path)
    })
}

/// The filter on an untyped record.
fn keep_value(r: &Value) -> bool {
    r["age"].as_u64().is_some_and(|a| a >= MIN_AGE)
}

/// dagwood, untyped records (Dask's pipeline word for word).
pub fn dagwood_value(dir: &Path) -> Result<Counts, BagError> {
    let freq = read_text(pattern(dir))?
        .map_json_value()
        .filter(keep_value)
        .pluck("name")
        .frequencies()?
        .compute()?;
    Ok(freq
        .into_iter()
        .map(|(name, n)| match name {
            Value::String(s) => (s, n),
            other => (other.to_string(), n),
        })
        .collect())
}

/// dagwood, typed records.
pub fn dagwood_typed(dir: &Path) -> Result<Counts, BagError> {
    let freq = read_text(pattern(dir))?
        .map_json::<Record>()
        .filter(|r| r.age >= MIN_AGE)
        .map(|r| r.name)
        .frequencies()?
        .compute()?;
    Ok(freq.into_iter().collect())
}

/// Calls `f` with every line of a gzip file (without its newline), reusing
/// one buffer.
fn for_each_line(path: &Path, mut f: impl FnMut(&str)) -> std::io::Result<()> {
    let file = File::open(path)?;
    let mut reader = BufReader::with_capacity(IO_BUFFER, MultiGzDecoder::new(file));
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let l = line.trim_end_matches(['\n', '\r']);
        if !l.is_empty() {
            f(l);
        }
    }
}

/// One file's counts, untyped records.
fn file_counts_value(path: &Path) -> std::io::Result<HashMap<String, usize>> {
    let mut counts = HashMap::new();
    let mut bad = None;
    for_each_line(path, |line| match serde_json::from_str::<Value>(line) {
        Ok(mut r) if keep_value(&r) => {
            if let Value::String(name) = r["name"].take() {
                *counts.entry(name).or_insert(0) += 1;
            }
        }
        Ok(_) => {}
        Err(e) => bad = bad.take().or(Some(e)),
    })?;
    match bad {
        Some(e) => Err(e.into()),
        None => Ok(counts),
    }
}

/// One file's counts, typed records.
fn file_counts_typed(path: &Path) -> std::io::Result<HashMap<String, usize>> {
    let mut counts = HashMap::new();
    let mut bad = None;
    for_each_line(path, |line| match serde_json::from_str::<Record>(line) {
        Ok(r) if r.age >= MIN_AGE => *counts.entry(r.name).or_insert(0) += 1,
        Ok(_) => {}
        Err(e) => bad = bad.take().or(Some(e)),
    })?;
    match bad {
        Some(e) => Err(e.into()),
        None => Ok(counts),
    }
}

fn merge(a: HashMap<String, usize>, b: HashMap<String, usize>) -> HashMap<String, usize> {
    let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    for (k, n) in small {
        *big.entry(k).or_insert(0) += n;
    }
    big
}

fn rayon_with(
    dir: &Path,
    per_file: fn(&Path) -> std::io::Result<HashMap<String, usize>>,
) -> std::io::Result<Counts> {
    let total = files(dir)
        .par_iter()
        .map(|f| per_file(f))
        .try_reduce(HashMap::new, |a, b| Ok(merge(a, b)))?;
    Ok(total.into_iter().collect())
}

/// By hand: rayon over the files, untyped records.
pub fn rayon_value(dir: &Path) -> std::io::Result<Counts> {
    rayon_with(dir, file_counts_value)
}

/// By hand: rayon over the files, typed records.
pub fn rayon_typed(dir: &Path) -> std::io::Result<Counts> {
    rayon_with(dir, file_counts_typed)
}

/// One thread, an iterator chain over all lines (untyped records).
pub fn sequential_value(dir: &Path) -> std::io::Result<Counts> {
    let readers = files(dir)
        .iter()
        .map(|f| {
            Ok(BufReader::with_capacity(
                IO_BUFFER,
                MultiGzDecoder::new(File::open(f)?),
            ))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let counts = readers
        .into_iter()
        .flat_map(|r| r.lines())
        .filter(|l| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|l| Ok(serde_json::from_str::<Value>(&l?)?))
        .filter(|r: &std::io::Result<Value>| r.as_ref().map_or(true, keep_value))
        .map(|r| r.map(|mut r| r["name"].take()))
        .try_fold(
            HashMap::<String, usize>::new(),
            |mut counts, name| -> std::io::Result<_> {
                if let Value::String(name) = name? {
                    *counts.entry(name).or_insert(0) += 1;
                }
                Ok(counts)
            },
        )?;
    Ok(counts.into_iter().collect())
}

/// FNV-1a over `name\tcount\n` lines in name order: the same number in
/// `benches/peers/bag.py`.
pub fn checksum(c: &Counts) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, n) in c {
        for b in format!("{name}\t{n}\n").bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
