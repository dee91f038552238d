//! A groupby over a folder of CSV files, then a join with a small table:
//!
//! ```python
//! df = dd.read_csv("csv-groupby/*.csv")           # id,name,x,y
//! means = df.groupby("name").x.mean()
//! regions = pd.DataFrame({"name": [...], "region": [...]})
//! by_region = means.merge(regions, on="name").groupby("region").x.mean()
//! rows_by_region = df.merge(regions, on="name").groupby("region").x.mean()
//! ```
//!
//! over 10 generated CSV files of 1,000,000 rows each (1000 names), with a
//! progress bar. The table of regions has one partition, so both joins
//! broadcast it (no shuffle): the second streams all 10M rows through the
//! join. The per-name means and both per-region results are checked
//! against a plain sequential loop over the files; the example exits with
//! an error if they differ.
//!
//! `cargo run --release --example csv_groupby [-- --rows N]` writes the
//! files (about 370 MB at the default 1,000,000 rows per file; `--rows`
//! sets the rows per file) into `target/csv-groupby-demo/10x{N}` on the
//! first run and reuses them after (they are rewritten when their sizes do
//! not match what was written).

use std::collections::HashMap;
use std::error::Error;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use dagwood::collections::dataframe::arrow_array::cast::AsArray;
use dagwood::collections::dataframe::arrow_array::types::{Float64Type, Int64Type};
use dagwood::collections::dataframe::arrow_array::{ArrayRef, RecordBatch, StringArray};
use dagwood::collections::dataframe::arrow_schema::DataType;
use dagwood::collections::dataframe::{read_csv, Agg, DataFrame, How, Pretty};
use dagwood::diagnostics::ProgressBar;

type Res<T> = Result<T, Box<dyn Error>>;

const FILES: usize = 10;
const DEFAULT_ROWS: usize = 1_000_000;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let rows = match args.iter().position(|a| a == "--rows") {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.replace('_', "").parse::<usize>().ok())
            .filter(|&n| n > 0)
            .ok_or("--rows needs a positive number of rows per file")?,
        None => DEFAULT_ROWS,
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/csv-groupby-demo/{FILES}x{rows}"));
    ensure_files(&dir, rows)?;
    let bar = ProgressBar::new();

    // 1. The groupby: one task per 64 MiB block of the files parses only
    //    the name and x columns and sums x per name; the partial sums are
    //    merged in a tree.
    let t = Instant::now();
    let df = read_csv(dir.join("*.csv"))?;
    let means = df
        .groupby(["name"])?
        .agg([Agg::mean("x"), Agg::count("x").alias("rows")])?;
    // Kept in memory: the join below starts from it instead of reading
    // the files again.
    let means = bar.run(|| means.persist())?;
    let computed = means.compute()?; // sorted by name, as groupby's output is
    let t_groupby = t.elapsed();
    println!(
        "{} rows of {} in {} partitions: mean of x per name",
        FILES * rows,
        dir.join("*.csv").display(),
        df.npartitions()
    );
    println!("{}", Pretty::new(&computed).max_rows(10));

    // 2. The join: every name's region from a small table (one partition,
    //    so it is broadcast to the other side), then a groupby per region
    //    of the per-name means.
    let t = Instant::now();
    let names: Vec<String> = (0..NAMES).map(name).collect();
    let regions = DataFrame::from_arrays(
        [
            (
                "name",
                Arc::new(StringArray::from(names.clone())) as ArrayRef,
            ),
            (
                "region",
                Arc::new(StringArray::from(
                    (0..NAMES).map(region).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
        ],
        1,
    )?;
    let by_region = means
        .merge(&regions, ["name"], How::Inner)?
        .groupby(["region"])?
        .agg([
            Agg::count("name").alias("names"),
            Agg::mean("x").alias("mean_of_means"),
            Agg::sum("rows"),
        ])?
        .sort_values(["region"], true)?;
    let by_region = bar.run(|| by_region.compute())?;
    let t_join = t.elapsed();
    println!("the means joined with {NAMES} names' regions, per region:");
    println!("{}", Pretty::new(&by_region));

    // 3. The rows themselves joined with the regions: the table is
    //    broadcast to every partition of the files, whose rows stream
    //    through the join into the per-region partial sums (no shuffle).
    let t = Instant::now();
    let rows_by_region = df
        .merge(&regions, ["name"], How::Inner)?
        .groupby(["region"])?
        .agg([Agg::mean("x"), Agg::count("x").alias("rows")])?
        .sort_values(["region"], true)?;
    let rows_by_region = bar.run(|| rows_by_region.compute())?;
    let t_rows_join = t.elapsed();
    println!("every row joined with its region, per region:");
    println!("{}", Pretty::new(&rows_by_region));

    // 4. The same by hand, on one thread.
    let t = Instant::now();
    let want = sequential(&dir, rows)?;
    let t_seq = t.elapsed();
    check(&computed, &by_region, &rows_by_region, &want)?;
    println!(
        "groupby {t_groupby:.2?}; join of the means + groupby {t_join:.2?}; \
         join of the rows + groupby {t_rows_join:.2?}; sequential loop {t_seq:.2?} \
         (on {} threads): all {} means and {} regions equal the sequential result",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        want.len(),
        REGIONS.len()
    );
    Ok(())
}

/// Name → (sum of x, rows), by a plain loop over the files' lines.
fn sequential(dir: &Path, rows: usize) -> Res<HashMap<String, (f64, u64)>> {
    let mut sums: HashMap<String, (f64, u64)> = HashMap::new();
    let mut line = String::new();
    for f in files(dir, rows) {
        let mut reader = BufReader::with_capacity(1 << 20, File::open(&f)?);
        reader.read_line(&mut line)?; // the header
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let mut fields = line.trim_end().split(',');
            let (Some(_id), Some(name), Some(x)) = (fields.next(), fields.next(), fields.next())
            else {
                return Err(format!("{}: short line {line:?}", f.display()).into());
            };
            let x: f64 = x.parse()?;
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
    Ok(sums)
}

/// Compares both results with the sequential sums (means within 1e-9).
fn check(
    by_name: &RecordBatch,
    by_region: &RecordBatch,
    rows_by_region: &RecordBatch,
    want: &HashMap<String, (f64, u64)>,
) -> Res<()> {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    let names = strings(by_name, "name")?;
    let means = by_name
        .column(by_name.schema().index_of("x")?)
        .as_primitive_opt::<Float64Type>()
        .ok_or("the mean of x is not Float64")?;
    let counts = ints(by_name, "rows")?;
    if names.len() != want.len() {
        return Err(format!("{} names, the files have {}", names.len(), want.len()).into());
    }
    for (i, n) in names.iter().enumerate() {
        let &(sum, rows) = want.get(n).ok_or_else(|| format!("unknown name {n:?}"))?;
        let mean = sum / rows as f64;
        if !close(means.value(i), mean) || counts[i] != rows as i64 {
            return Err(format!(
                "{n}: mean {} of {} rows, by hand {mean} of {rows}",
                means.value(i),
                counts[i]
            )
            .into());
        }
    }
    // Per region: the names, the mean of their means and their rows.
    let mut regions: HashMap<&str, (usize, f64, u64)> = HashMap::new();
    for i in 0..NAMES {
        if let Some(&(sum, rows)) = want.get(&name(i)) {
            let r = regions.entry(region(i)).or_default();
            r.0 += 1;
            r.1 += sum / rows as f64;
            r.2 += rows;
        }
    }
    if strings(rows_by_region, "region")? != strings(by_region, "region")? {
        return Err("the two joins found different regions".into());
    }
    let row_means = rows_by_region
        .column(rows_by_region.schema().index_of("x")?)
        .as_primitive_opt::<Float64Type>()
        .ok_or("the mean of x per region is not Float64")?;
    let row_counts = ints(rows_by_region, "rows")?;
    let mut row_sums: HashMap<&str, (f64, u64)> = HashMap::new();
    for i in 0..NAMES {
        if let Some(&(sum, rows)) = want.get(&name(i)) {
            let r = row_sums.entry(region(i)).or_default();
            r.0 += sum;
            r.1 += rows;
        }
    }
    for (i, r) in strings(rows_by_region, "region")?.iter().enumerate() {
        let &(sum, rows) = row_sums
            .get(r.as_str())
            .ok_or_else(|| format!("unknown region {r:?}"))?;
        let mean = sum / rows as f64;
        if row_counts[i] != rows as i64 || !close(row_means.value(i), mean) {
            return Err(format!(
                "{r}: mean of x {} over {} rows, by hand {mean} over {rows}",
                row_means.value(i),
                row_counts[i]
            )
            .into());
        }
    }
    let got_regions = strings(by_region, "region")?;
    let got_names = ints(by_region, "names")?;
    let got_rows = ints(by_region, "rows")?;
    let got_means = by_region
        .column(by_region.schema().index_of("mean_of_means")?)
        .as_primitive_opt::<Float64Type>()
        .ok_or("mean_of_means is not Float64")?;
    if got_regions.len() != regions.len() {
        return Err(format!("{} regions, expected {}", got_regions.len(), regions.len()).into());
    }
    for (i, r) in got_regions.iter().enumerate() {
        let &(n, sum, rows) = regions
            .get(r.as_str())
            .ok_or_else(|| format!("unknown region {r:?}"))?;
        let mean = sum / n as f64;
        if got_names[i] != n as i64
            || got_rows[i] != rows as i64
            || !close(got_means.value(i), mean)
        {
            return Err(format!(
                "{r}: {} names, {} rows, mean {}; by hand {n}, {rows}, {mean}",
                got_names[i],
                got_rows[i],
                got_means.value(i)
            )
            .into());
        }
    }
    Ok(())
}

fn strings(batch: &RecordBatch, name: &str) -> Res<Vec<String>> {
    let a = batch.column(batch.schema().index_of(name)?);
    let own = |v: Option<&str>| v.unwrap_or_default().to_owned();
    Ok(match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().iter().map(own).collect(),
        DataType::LargeUtf8 => a.as_string::<i64>().iter().map(own).collect(),
        DataType::Utf8View => a.as_string_view().iter().map(own).collect(),
        other => return Err(format!("{name} is {other}, not text").into()),
    })
}

fn ints(batch: &RecordBatch, name: &str) -> Res<Vec<i64>> {
    let a = batch.column(batch.schema().index_of(name)?);
    let a = a
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| format!("{name} is {}, not Int64", a.data_type()))?;
    Ok(a.iter().map(|v| v.unwrap_or(0)).collect())
}

// ---------------------------------------------------------------------------
// The data.

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
const NAMES: usize = FIRST.len() * LAST.len();
const REGIONS: [&str; 6] = [
    "Africa",
    "Americas",
    "Asia",
    "Europe",
    "Middle East",
    "Oceania",
];

/// Name number `i`: `"Alice Smith"`, ...
fn name(i: usize) -> String {
    format!("{} {}", FIRST[i % FIRST.len()], LAST[i / FIRST.len()])
}

/// The region of name number `i` (by its family name).
fn region(i: usize) -> &'static str {
    REGIONS[(i / FIRST.len()) % REGIONS.len()]
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

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn files(dir: &Path, rows: usize) -> Vec<PathBuf> {
    (0..FILES)
        .map(|i| dir.join(format!("part-{i:02}-of-{rows}.csv")))
        .collect()
}

/// Writes the files unless they are there with the sizes recorded in
/// `SIZES` when they were written. Each file is written under a temporary
/// name and renamed, so an interrupted run leaves no short file.
fn ensure_files(dir: &Path, rows: usize) -> Res<()> {
    let paths = files(dir, rows);
    let sizes_file = dir.join("SIZES");
    let recorded = std::fs::read_to_string(&sizes_file).unwrap_or_default();
    let actual: Vec<String> = paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or("missing".into(), |m| m.len().to_string()))
        .collect();
    if recorded.lines().eq(actual.iter().map(String::as_str)) {
        println!("reusing {FILES} files of {rows} rows in {}", dir.display());
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let _ = std::fs::remove_file(&sizes_file);
    println!(
        "writing {FILES} files of {rows} rows into {} ...",
        dir.display()
    );
    let t = Instant::now();
    let names: Vec<String> = (0..NAMES).map(name).collect();
    // Two files at a time is plenty on a laptop; this is not the timed part.
    std::thread::scope(|s| -> Res<()> {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (paths, names) = (&paths, &names);
                s.spawn(move || -> std::io::Result<()> {
                    for (i, path) in paths.iter().enumerate().skip(w).step_by(2) {
                        write_file(path, i, rows, names)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| "a writer thread panicked")??;
        }
        Ok(())
    })?;
    let sizes: Vec<String> = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len().to_string()))
        .collect::<std::io::Result<_>>()?;
    std::fs::write(&sizes_file, sizes.join("\n") + "\n")?;
    println!("written in {:.2?}", t.elapsed());
    Ok(())
}

/// File `index`: `id,name,x,y`; x is the name's own centre plus uniform
/// noise in [-1, 1), y uniform in [0, 100).
fn write_file(path: &Path, index: usize, rows: usize, names: &[String]) -> std::io::Result<()> {
    let tmp = path.with_extension("csv.tmp");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
    let mut rng = Rng(0xd47a_0000 + index as u64);
    let mut line = String::with_capacity(64);
    out.write_all(b"id,name,x,y\n")?;
    for r in 0..rows {
        let n = rng.below(NAMES as u64) as usize;
        let centre = ((n * 37) % 200) as f64 / 20.0 - 5.0;
        let x = centre + 2.0 * rng.unit() - 1.0;
        let y = 100.0 * rng.unit();
        line.clear();
        let _ = writeln!(line, "{},{},{x:.6},{y:.3}", index * rows + r, names[n]);
        out.write_all(line.as_bytes())?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)
}
