//! The CSV groupby-mean, shared by `benches/dataframe.rs` (criterion) and
//! `benches/peers_dataframe.rs` (the report beside pandas, Polars and
//! dask.dataframe):
//!
//! ```text
//! read_csv("csv-groupby-*/*.csv").groupby(["name"]).agg([mean("x")])
//! ```
//!
//! over [`FILES`] CSV files of `id,name,x,y` rows (1000 distinct names),
//! generated once (deterministically) into
//! `target/bench-data/csv-groupby-{FILES}x{rows}`. Done by dagwood's
//! `DataFrame`, by hand with rayon over the files (each file: arrow-csv
//! decodes the `name` and `x` columns, a `HashMap` sums them; the maps are
//! merged) and by one thread (the same without rayon).
//!
//! Every version returns the means as a name-sorted [`Means`]; they agree
//! up to the order of the float additions ([`same`]), and [`digest`]
//! compares them with Python's.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use arrow_csv::ReaderBuilder;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use dagwood::collections::dataframe::{read_csv, Agg, DataFrameError};
use rayon::prelude::*;

/// Number of CSV files.
pub const FILES: usize = 10;
/// Rows per file in the criterion bench (the peers report uses
/// [`PEERS_ROWS`]).
pub const BENCH_ROWS: usize = 200_000;
/// Rows per file in the peers report.
pub const PEERS_ROWS: usize = 1_000_000;
/// Distinct names.
pub const NAMES: usize = FIRST.len() * LAST.len();
/// Changes whenever the generated data would change, so stale data is
/// regenerated.
const STAMP: &str = "csv-groupby v1";
/// Rows per record batch of the hand-written readers.
const BATCH: usize = 64 * 1024;

/// Name → mean of `x`, sorted by name.
pub type Means = Vec<(String, f64)>;

#[path = "rng.rs"]
mod rng;
#[path = "stamped.rs"]
mod stamped;
pub use rng::Rng;
use stamped::ensure_stamped;

const FIRST: [&str; 40] = [
    "Alice", "Bob", "Charlie", "Dan", "Edith", "Frank", "George", "Hannah", "Ingrid", "Jerry",
    "Kevin", "Laura", "Michael", "Norbert", "Oliver", "Patricia", "Quinn", "Ray", "Sarah", "Tim",
    "Ursula", "Victor", "Wendy", "Xavier", "Yvonne", "Zelda", "Amara", "Bruno", "Chen", "Dmitri",
    "Elif", "Fatima", "Goran", "Hiro", "Ines", "Jamal", "Kwame", "Lena", "Mateo", "Priya",
];
const LAST: [&str; 25] = [
    "Smith", "Silva", "Garcia", "Muller", "Rossi", "Kim", "Nguyen", "Sato", "Patel", "Khan",
    "Cohen", "Novak", "Dubois", "Jansen", "Larsen", "Ivanova", "Santos", "Okafor", "Mensah",
    "Tanaka", "Wang", "Singh", "Brown", "Fischer", "Haddad",
];

/// Name number `i` (`0..NAMES`): `"Alice Smith"`, ...
pub fn name(i: usize) -> String {
    format!("{} {}", FIRST[i % FIRST.len()], LAST[i / FIRST.len()])
}

/// Every name's own centre, so the means differ from name to name.
fn centre(i: usize) -> f64 {
    ((i * 37) % 200) as f64 / 20.0 - 5.0
}

/// `target/bench-data/csv-groupby-{FILES}x{rows}` under the workspace root.
pub fn data_dir(rows: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/csv-groupby-{FILES}x{rows}"))
}

/// The glob of the generated files.
pub fn pattern(dir: &Path) -> PathBuf {
    dir.join("*.csv")
}

/// The generated files, in sorted order.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    (0..FILES)
        .map(|i| dir.join(format!("part-{i:03}.csv")))
        .collect()
}

/// Writes file `index` of `rows` rows: `id,name,x,y` with a header; `id`
/// counts on over the files, `x` is the name's centre plus uniform noise in
/// `[-1, 1)` with 6 decimals, `y` uniform in `[0, 100)` with 3.
fn write_file(path: &Path, index: usize, rows: usize) -> std::io::Result<()> {
    let names: Vec<String> = (0..NAMES).map(name).collect();
    let mut rng = Rng::new(0xc5_0000 + index as u64);
    let tmp = path.with_extension("csv.tmp");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
    let mut line = String::with_capacity(64);
    out.write_all(b"id,name,x,y\n")?;
    for r in 0..rows {
        let n = rng.below(NAMES as u64) as usize;
        let x = centre(n) + 2.0 * rng.unit() - 1.0;
        let y = 100.0 * rng.unit();
        line.clear();
        let _ = writeln!(line, "{},{},{x:.6},{y:.3}", index * rows + r, names[n]);
        out.write_all(line.as_bytes())?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Generates [`FILES`] files of `rows` rows into [`data_dir`] unless they
/// are already there (same stamp, all files present); returns the
/// directory. Files are written under temporary names and renamed, so an
/// interrupted run never leaves a short file behind.
pub fn ensure_data(rows: usize) -> std::io::Result<PathBuf> {
    let dir = data_dir(rows);
    let files = files(&dir);
    let stamp = format!("{STAMP} files={FILES} rows={rows}\n");
    let what = format!("{FILES} CSV files x {rows} rows");
    ensure_stamped(dir, &stamp, &files, &what, |i, path| {
        write_file(path, i, rows)
    })
}

/// dagwood: `read_csv(glob).groupby(["name"]).agg([mean("x")])`.
pub fn dagwood(dir: &Path) -> Result<Means, DataFrameError> {
    let means = read_csv(pattern(dir))?
        .groupby(["name"])?
        .agg([Agg::mean("x")])?
        .compute()?;
    means_of(&means, "name", "x").map_err(DataFrameError::from)
}

/// The `(key, mean)` pairs of a computed result, sorted by key.
pub fn means_of(batch: &RecordBatch, key: &str, value: &str) -> Result<Means, ArrowError> {
    let k = batch.column(batch.schema().index_of(key)?);
    let v = batch.column(batch.schema().index_of(value)?);
    let k = arrow_cast_strings(k.as_ref())?;
    let v = v.as_primitive_opt::<Float64Type>().ok_or_else(|| {
        ArrowError::CastError(format!("{value} is {}, not Float64", v.data_type()))
    })?;
    let mut out: Means = k
        .into_iter()
        .zip(v.iter())
        .filter_map(|(k, v)| Some((k?, v?)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The values of a string column (any of Arrow's three string layouts).
fn arrow_cast_strings(a: &dyn Array) -> Result<Vec<Option<String>>, ArrowError> {
    let own = |s: Option<&str>| s.map(str::to_owned);
    match a.data_type() {
        DataType::Utf8 => Ok(a.as_string::<i32>().iter().map(own).collect()),
        DataType::LargeUtf8 => Ok(a.as_string::<i64>().iter().map(own).collect()),
        DataType::Utf8View => Ok(a.as_string_view().iter().map(own).collect()),
        other => Err(ArrowError::CastError(format!(
            "the key column is {other}, not a string"
        ))),
    }
}

/// The schema of the generated files.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Float64, true),
    ]))
}

/// Sum and count of `x` per name.
type Sums = HashMap<String, (f64, u64)>;

/// Adds one file's `x` per name into `sums`: arrow-csv decodes only the
/// `name` and `x` columns (projection), in batches of [`BATCH`] rows.
fn add_file(path: &Path, sums: &mut Sums) -> Result<(), ArrowError> {
    let file = File::open(path)?;
    let reader = ReaderBuilder::new(schema())
        .with_header(true)
        .with_projection(vec![1, 2])
        .with_batch_size(BATCH)
        .build(file)?;
    for batch in reader {
        let batch = batch?;
        let names = batch.column(0).as_string::<i32>();
        let xs = batch.column(1).as_primitive::<Float64Type>();
        for (name, x) in names.iter().zip(xs.iter()) {
            let (Some(name), Some(x)) = (name, x) else {
                continue;
            };
            match sums.get_mut(name) {
                Some(s) => {
                    s.0 += x;
                    s.1 += 1;
                }
                None => {
                    sums.insert(name.to_owned(), (x, 1));
                }
            }
        }
    }
    Ok(())
}

fn file_sums(path: &Path) -> Result<Sums, ArrowError> {
    let mut sums = Sums::with_capacity(NAMES);
    add_file(path, &mut sums)?;
    Ok(sums)
}

fn merge(mut a: Sums, b: Sums) -> Sums {
    for (k, (s, n)) in b {
        let e = a.entry(k).or_insert((0.0, 0));
        e.0 += s;
        e.1 += n;
    }
    a
}

fn finish(sums: Sums) -> Means {
    let mut out: Means = sums
        .into_iter()
        .map(|(k, (s, n))| (k, s / n as f64))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// By hand: one rayon task per file, maps merged.
pub fn rayon_handwritten(dir: &Path) -> Result<Means, ArrowError> {
    let sums = files(dir)
        .par_iter()
        .map(|f| file_sums(f))
        .try_reduce(Sums::new, |a, b| Ok(merge(a, b)))?;
    Ok(finish(sums))
}

/// One thread: the files one after another into one map.
pub fn single_threaded(dir: &Path) -> Result<Means, ArrowError> {
    let mut sums = Sums::with_capacity(NAMES);
    for f in files(dir) {
        add_file(&f, &mut sums)?;
    }
    Ok(finish(sums))
}

/// `Ok` if both have the same names and means equal up to the order of
/// the additions (relative 1e-9).
pub fn same(got: &Means, want: &Means) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} groups, expected {}", got.len(), want.len()));
    }
    for ((gk, gv), (wk, wv)) in got.iter().zip(want) {
        if gk != wk {
            return Err(format!("group {gk:?} where {wk:?} was expected"));
        }
        if (gv - wv).abs() > 1e-9 * wv.abs().max(1.0) {
            return Err(format!("mean of {gk:?} is {gv}, expected {wv}"));
        }
    }
    Ok(())
}

/// A number that depends on every name and mean, insensitive to the last
/// bits of the floats: `sum((i + 1) * mean_i)` in name order. Python
/// computes the same (`benches/peers/dataframe.py`).
pub fn digest(m: &Means) -> f64 {
    m.iter()
        .enumerate()
        .map(|(i, (_, v))| (i + 1) as f64 * v)
        .sum()
}
