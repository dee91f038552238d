//! The seed notebook's DataFrame cell on the NASA Exoplanet Archive table:
//!
//! ```python
//! df = dd.read_csv("nasa-exoplanets.csv")
//! df[["pl_hostname", "pl_pnum"]].head()
//! ```
//!
//! then a groupby (planets, mean orbital period and first discovery per
//! discovery method; planets and facilities per discovery year) and a
//! filter (systems with more than three known planets), each printed as a
//! table. The per-method numbers and the filtered counts are checked
//! against a plain sequential pass over the same file; the example exits
//! with an error if they differ.
//!
//! The data, `examples/data/nasa-exoplanets.csv` (4,000 planets in the old
//! archive's column layout), is generated, not real: see
//! `examples/data/make_exoplanets.py`.
//!
//! `cargo run --release --example exoplanets [FILE.csv]`

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dagwood::collections::dataframe::arrow_array::cast::AsArray;
use dagwood::collections::dataframe::arrow_array::types::{Float64Type, Int64Type};
use dagwood::collections::dataframe::arrow_array::{Array, RecordBatch};
use dagwood::collections::dataframe::arrow_schema::DataType;
use dagwood::collections::dataframe::{col, read_csv, Agg, Pretty};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let path = match std::env::args().nth(1) {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/nasa-exoplanets.csv"),
    };
    let t = Instant::now();

    // The notebook: read the file, pick two columns, look at the top.
    let df = read_csv(&path)?;
    println!("{}: {df:?}\n", path.display());
    let hosts = df.select(["pl_hostname", "pl_pnum"])?.head(5)?;
    println!(
        "df[[\"pl_hostname\", \"pl_pnum\"]].head()\n{}",
        Pretty::new(&hosts)
    );

    // Groupby: how the planets were found.
    let by_method = df
        .groupby(["pl_discmethod"])?
        .agg([
            Agg::count("pl_name").alias("planets"),
            Agg::mean("pl_orbper").alias("mean_period_days"),
            Agg::min("pl_disc").alias("first_year"),
        ])?
        .sort_values(["planets"], false)?
        .compute()?;
    println!("planets per discovery method\n{}", Pretty::new(&by_method));

    // Groupby: when they were found, and by how many facilities.
    let by_year = df
        .groupby(["pl_disc"])?
        .agg([
            Agg::count("pl_name").alias("planets"),
            Agg::nunique("pl_facility").alias("facilities"),
        ])?
        .sort_values(["pl_disc"], true)?
        .compute()?;
    println!(
        "discoveries per year\n{}",
        Pretty::new(&by_year).max_rows(40)
    );

    // Filter: the systems with more than three known planets.
    let crowded = df.filter(col("pl_pnum").gt(3))?;
    let systems = crowded
        .groupby(["pl_hostname"])?
        .agg([
            Agg::count("pl_name").alias("planets"),
            Agg::min("pl_orbper").alias("inner_days"),
            Agg::max("pl_orbper").alias("outer_days"),
            Agg::min("pl_disc").alias("first_year"),
        ])?
        .sort_values_with(&[("planets", false), ("pl_hostname", true)], false)?
        .compute()?;
    let crowded_planets = crowded.len().compute()?;
    println!(
        "systems with more than 3 planets: {} systems, {crowded_planets} planets\n{}",
        systems.num_rows(),
        Pretty::new(&systems).max_rows(10)
    );

    // The same numbers by hand, from the file's lines.
    let want = sequential(&path)?;
    let mut problems = Vec::new();
    let first_host = strings(&hosts, "pl_hostname")?;
    if first_host != want.first_hosts {
        problems.push(format!(
            "head: {first_host:?}, the file starts with {:?}",
            want.first_hosts
        ));
    }
    let methods = strings(&by_method, "pl_discmethod")?;
    let counts = numbers(&by_method, "planets")?;
    let means = numbers(&by_method, "mean_period_days")?;
    if methods.len() != want.methods.len() {
        problems.push(format!(
            "{} discovery methods, the file has {}",
            methods.len(),
            want.methods.len()
        ));
    }
    for ((m, n), mean) in methods.iter().zip(&counts).zip(&means) {
        let Some(&(rows, sum, with_period)) = want.methods.get(m.as_str()) else {
            problems.push(format!("unknown method {m:?}"));
            continue;
        };
        let expected = (with_period > 0).then(|| sum / with_period as f64);
        if *n != Some(rows as f64) {
            problems.push(format!("{m}: {n:?} planets, the file has {rows}"));
        }
        let close = match (mean, expected) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            (None, None) => true,
            _ => false,
        };
        if !close {
            problems.push(format!("{m}: mean period {mean:?}, by hand {expected:?}"));
        }
    }
    if crowded_planets != want.crowded_planets || systems.num_rows() != want.crowded_systems {
        problems.push(format!(
            "more than 3 planets: {} systems and {crowded_planets} planets, by hand {} and {}",
            systems.num_rows(),
            want.crowded_systems,
            want.crowded_planets
        ));
    }
    if !problems.is_empty() {
        return Err(format!(
            "results differ from the sequential pass:\n  {}",
            problems.join("\n  ")
        )
        .into());
    }
    println!(
        "checked against a sequential pass over the file: {} methods, {} planets in crowded systems ({:.2?} in all)",
        want.methods.len(),
        want.crowded_planets,
        t.elapsed()
    );
    Ok(())
}

/// What the example computes, by a plain loop over the file's lines.
struct Expected {
    first_hosts: Vec<String>,
    /// Method → (planets, sum of the known periods, planets with a period).
    methods: BTreeMap<String, (usize, f64, usize)>,
    crowded_planets: usize,
    crowded_systems: usize,
}

/// Reads the file line by line. The archive's layout has no quoted fields,
/// so a line splits at every comma; an empty field is a missing value.
fn sequential(path: &Path) -> Res<Expected> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty file")?.split(',').collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("no column {name}"))
    };
    let (host, method, pnum, period) = (
        at("pl_hostname")?,
        at("pl_discmethod")?,
        at("pl_pnum")?,
        at("pl_orbper")?,
    );
    let mut want = Expected {
        first_hosts: Vec::new(),
        methods: BTreeMap::new(),
        crowded_planets: 0,
        crowded_systems: 0,
    };
    let mut crowded = BTreeSet::new();
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != header.len() {
            return Err(format!("line {}: {} fields", i + 2, f.len()).into());
        }
        if want.first_hosts.len() < 5 {
            want.first_hosts.push(f[host].to_owned());
        }
        let m = want
            .methods
            .entry(f[method].to_owned())
            .or_insert((0, 0.0, 0));
        m.0 += 1;
        if !f[period].is_empty() {
            m.1 += f[period].parse::<f64>()?;
            m.2 += 1;
        }
        if f[pnum].parse::<i64>()? > 3 {
            want.crowded_planets += 1;
            crowded.insert(f[host]);
        }
    }
    want.crowded_systems = crowded.len();
    Ok(want)
}

/// A string column of a computed result.
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

/// A numeric column of a computed result, as floats (null: `None`).
fn numbers(batch: &RecordBatch, name: &str) -> Res<Vec<Option<f64>>> {
    let a = batch.column(batch.schema().index_of(name)?);
    Ok(match a.data_type() {
        DataType::Float64 => a.as_primitive::<Float64Type>().iter().collect(),
        DataType::Int64 => a
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        other => return Err(format!("{name} is {other}, not Int64 or Float64").into()),
    })
}
