//! DataFrame input and output: `read_csv` over globs, block splitting,
//! projection pushdown, parse errors at file, line and column, `to_csv`;
//! `read_parquet` / `to_parquet` round trips, row groups as partitions,
//! corrupt files and schema mismatches. Results are checked against the
//! same data built directly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use dagwood_collections::dataframe::{
    col, read_csv, read_parquet, CsvWriteOptions, DataFrame, DataFrameError, ReadCsv, ReadParquet,
};
use dagwood_collections::FileError;
use dagwood_runtime::TaskError;
use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;

/// A directory removed when dropped (the crate has no tempfile dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dagwood-df-io-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The frame error a failed task carried, or the error itself.
fn inner(e: &DataFrameError) -> &DataFrameError {
    if let DataFrameError::Compute(dagwood_runtime::Error::Task {
        cause: TaskError::Failed(cause),
        ..
    }) = e
    {
        if let Some(d) = cause.downcast_ref::<DataFrameError>() {
            return d;
        }
    }
    e
}

/// One row of the test data.
#[derive(Clone, Debug)]
struct Row {
    i: Option<i64>,
    f: f64,
    s: Option<String>,
    b: bool,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int64, true),
        Field::new("f", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
    ]))
}

/// The rows as a batch, built directly.
fn batch(rows: &[Row]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.i).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|r| Some(r.f)).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| r.s.as_deref()).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.b)).collect::<BooleanArray>()),
    ];
    RecordBatch::try_new(schema(), columns).unwrap()
}

/// The rows as CSV text, quoting what needs it.
fn csv_text(rows: &[Row], header: bool, eol: &str, final_eol: bool) -> String {
    let mut lines = Vec::new();
    if header {
        lines.push("i,f,s,b".to_string());
    }
    for r in rows {
        let i = r.i.map(|v| v.to_string()).unwrap_or_default();
        let s = match &r.s {
            Some(s) if s.contains([',', '"']) => format!("\"{}\"", s.replace('"', "\"\"")),
            Some(s) => s.clone(),
            None => String::new(),
        };
        lines.push(format!("{i},{:?},{s},{}", r.f, r.b));
    }
    let mut text = lines.join(eol);
    if final_eol && !lines.is_empty() {
        text.push_str(eol);
    }
    text
}

/// Same columns and values (schemas may differ in metadata).
fn assert_same(got: &RecordBatch, want: &RecordBatch) {
    assert_eq!(got.num_rows(), want.num_rows(), "row counts");
    let names = |b: &RecordBatch| -> Vec<String> {
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    assert_eq!(names(got), names(want));
    for (k, (g, w)) in got.columns().iter().zip(want.columns()).enumerate() {
        assert_eq!(g.as_ref(), w.as_ref(), "column {k}");
    }
}

fn row() -> impl Strategy<Value = Row> {
    let text = prop::collection::vec(
        prop::sample::select(vec!['a', 'z', ' ', ',', '"', 'é']),
        0..5,
    )
    .prop_map(|cs| format!("s{}", cs.into_iter().collect::<String>()));
    let float = prop_oneof![
        (-1000i64..1000).prop_map(|v| v as f64),
        (-1e6f64..1e6),
        Just(1e-7),
        Just(-2.5e300),
    ];
    (
        prop::option::weighted(0.8, -1_000_000i64..1_000_000),
        float,
        prop::option::weighted(0.8, text),
        any::<bool>(),
    )
        .prop_map(|(i, f, s, b)| Row { i, f, s, b })
}

/// Rows cut into `n` consecutive pieces at random points (some empty).
fn pieces(max_pieces: usize) -> impl Strategy<Value = Vec<Vec<Row>>> {
    (prop::collection::vec(row(), 0..40), 1..=max_pieces).prop_flat_map(|(rows, n)| {
        let len = rows.len();
        prop::collection::vec(0..=len, n - 1).prop_map(move |mut cuts| {
            cuts.sort_unstable();
            let mut out = Vec::new();
            let mut start = 0;
            for c in cuts.into_iter().chain([len]) {
                out.push(rows[start..c].to_vec());
                start = c;
            }
            out
        })
    })
}

fn concat_rows(pieces: &[Vec<Row>]) -> Vec<Row> {
    pieces.iter().flatten().cloned().collect()
}

/// Checks a frame against the rows it should hold: `compute`, `len`,
/// `head`, a projection and a filter fused with the read.
fn check_frame(df: &DataFrame, rows: &[Row], head: usize) {
    let want = batch(rows);
    assert_same(&df.compute().unwrap(), &want);
    assert_eq!(df.len().compute().unwrap(), rows.len());
    let n = head.min(rows.len());
    assert_same(&df.head(head).unwrap(), &want.slice(0, n));
    let picked = df.select(["s", "i"]).unwrap().compute().unwrap();
    assert_same(&picked, &want.project(&[2, 0]).unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Files written with plain std code, split into blocks of a few bytes
    /// (many of them empty), `\n` or `\r\n`, inferred or given types.
    #[test]
    fn csv_files_read_back(
        files in pieces(4),
        blocksize in prop_oneof![Just(None), (1u64..64).prop_map(Some)],
        crlf in any::<bool>(),
        final_eol in any::<bool>(),
        give_schema in any::<bool>(),
        batch_size in 1usize..8,
        head in 0usize..50,
    ) {
        let dir = TempDir::new("csv-std");
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut expected_parts = 0;
        for (k, rows) in files.iter().enumerate() {
            let text = csv_text(rows, true, eol, final_eol);
            expected_parts += match blocksize {
                Some(bs) => (text.len() as u64).div_ceil(bs).max(1) as usize,
                None => 1,
            };
            dir.write(&format!("data-{k}.csv"), text);
        }
        let rows = concat_rows(&files);
        let mut read = ReadCsv::new(dir.path("data-*.csv"))
            .blocksize(blocksize)
            .batch_size(batch_size);
        // Without rows the types cannot be inferred; `i` may be null in the
        // whole sample.
        if give_schema || rows.is_empty() {
            read = read.schema(schema());
        } else {
            read = read.dtype("i", DataType::Int64);
        }
        let df = read.read().unwrap();
        prop_assert_eq!(df.npartitions(), expected_parts);
        prop_assert_eq!(df.schema().fields().len(), 4);
        check_frame(&df, &rows, head);
    }

    /// Partitions written with `to_csv` (empty ones too) read back.
    #[test]
    fn to_csv_read_back(
        parts in pieces(5),
        blocksize in prop_oneof![Just(None), (8u64..200).prop_map(Some)],
        head in 0usize..50,
    ) {
        let dir = TempDir::new("to-csv");
        let batches: Vec<RecordBatch> = parts.iter().map(|p| batch(p)).collect();
        let df = DataFrame::from_batches(batches, Some(schema())).unwrap();
        let paths = df.to_csv(dir.path("out/part-*.csv")).unwrap();
        prop_assert_eq!(paths.len(), parts.len());
        for (k, p) in paths.iter().enumerate() {
            let width = (parts.len() - 1).to_string().len();
            let name = format!("part-{k:0width$}.csv");
            prop_assert!(p.ends_with(name));
        }
        let back = ReadCsv::new(dir.path("out/*.csv"))
            .blocksize(blocksize)
            .schema(schema())
            .read()
            .unwrap();
        check_frame(&back, &concat_rows(&parts), head);
    }

    /// A filter after the read equals the filter of the data.
    #[test]
    fn filter_after_read(files in pieces(3), blocksize in 1u64..80, threshold in -500i64..500) {
        let dir = TempDir::new("csv-filter");
        for (k, rows) in files.iter().enumerate() {
            dir.write(&format!("f{k}.csv"), csv_text(rows, true, "\n", true));
        }
        let rows = concat_rows(&files);
        let df = ReadCsv::new(dir.path("f*.csv"))
            .blocksize(blocksize)
            .schema(schema())
            .read()
            .unwrap();
        let got = df.filter(col("i").gt(threshold)).unwrap().compute().unwrap();
        let kept: Vec<Row> = rows.iter().filter(|r| r.i.is_some_and(|i| i > threshold)).cloned().collect();
        assert_same(&got, &batch(&kept));
        let got = df.filter(col("f").lt_eq(threshold as f64)).unwrap().select(["b"]).unwrap();
        let kept: Vec<Row> = rows.iter().filter(|r| r.f <= threshold as f64).cloned().collect();
        assert_same(&got.compute().unwrap(), &batch(&kept).project(&[3]).unwrap());
    }

    /// A bad value anywhere is reported with its file, 1-based file line,
    /// column and text, whatever the block and batch it falls in.
    #[test]
    fn parse_error_names_file_line_column(
        sizes in prop::collection::vec(1usize..60, 1..4),
        pick in any::<prop::sample::Index>(),
        bad_column in 0usize..2,
        header in any::<bool>(),
        crlf in any::<bool>(),
        blocksize in prop_oneof![Just(None), (1u64..120).prop_map(Some)],
        batch_size in 1usize..10,
    ) {
        let dir = TempDir::new("csv-parse");
        let eol = if crlf { "\r\n" } else { "\n" };
        let total: usize = sizes.iter().sum();
        let bad = pick.index(total);
        let mut seen = 0;
        let mut expected = None;
        for (k, &n) in sizes.iter().enumerate() {
            let mut lines = Vec::new();
            if header {
                lines.push("a,x,b".to_string());
            }
            for r in 0..n {
                let (mut a, mut b) = ((seen + r).to_string(), format!("{}.5", r));
                if seen + r == bad {
                    let value = if bad_column == 0 { "12x" } else { "nope" };
                    if bad_column == 0 { a = value.into() } else { b = value.into() }
                    let path = dir.path(&format!("p{k}.csv"));
                    expected = Some((path, (lines.len() + 1) as u64, value));
                }
                lines.push(format!("{a},text {r},{b}"));
            }
            seen += n;
            dir.write(&format!("p{k}.csv"), lines.join(eol) + eol);
        }
        let (path, line, value) = expected.unwrap();
        let mut read = ReadCsv::new(dir.path("p*.csv"))
            .has_header(header)
            .blocksize(blocksize)
            .batch_size(batch_size);
        let (a, b) = if header { ("a", "b") } else { ("column_1", "column_3") };
        read = read.dtype(a, DataType::Int64).dtype(b, DataType::Float64);
        let df = read.read().unwrap();
        let err = df.compute().unwrap_err();
        match inner(&err) {
            DataFrameError::Parse { path: p, line: l, column, value: v, data_type } => {
                prop_assert_eq!(p, &path);
                prop_assert_eq!(*l, line);
                prop_assert_eq!(column, if bad_column == 0 { a } else { b });
                prop_assert_eq!(v, value);
                let want = if bad_column == 0 { DataType::Int64 } else { DataType::Float64 };
                prop_assert_eq!(data_type, &want);
            }
            other => prop_assert!(false, "expected a parse error, got {other}"),
        }
        // The message the user sees names the place.
        let shown = format!("{err}");
        prop_assert!(shown.contains(&format!(":{line}: column")), "{}", shown);
        // The middle column is never parsed as a number, and a projection
        // without the bad column reads fine.
        let other = if bad_column == 0 { b } else { a };
        prop_assert_eq!(df.select([other]).unwrap().len().compute().unwrap(), total);
        prop_assert_eq!(df.select([other]).unwrap().compute().unwrap().num_rows(), total);
    }

    /// `to_parquet` then `read_parquet`: one partition per partition written
    /// (a row group each, a file without row groups for an empty one).
    #[test]
    fn parquet_round_trip(parts in pieces(6), head in 0usize..50, batch_size in 1usize..16) {
        let dir = TempDir::new("parquet");
        let batches: Vec<RecordBatch> = parts.iter().map(|p| batch(p)).collect();
        let df = DataFrame::from_batches(batches.clone(), Some(schema())).unwrap();
        let paths = df.to_parquet(dir.path("ds")).unwrap();
        prop_assert_eq!(paths.len(), parts.len());
        let back = ReadParquet::new(dir.path("ds")).batch_size(batch_size).read().unwrap();
        prop_assert_eq!(back.npartitions(), parts.len());
        for (k, part) in back.to_delayed().iter().enumerate() {
            assert_same(&part.compute().unwrap(), &batches[k]);
        }
        check_frame(&back, &concat_rows(&parts), head);
        let glob = read_parquet(dir.path("ds/part.*.parquet")).unwrap();
        assert_same(&glob.compute().unwrap(), &batch(&concat_rows(&parts)));
    }
}

#[test]
fn projection_pushdown_skips_parsing() {
    let dir = TempDir::new("pushdown");
    dir.write("t.csv", "good,bad\n1,x\n2,y\n3,4\n");
    let schema = Arc::new(Schema::new(vec![
        Field::new("good", DataType::Int64, true),
        Field::new("bad", DataType::Int64, true),
    ]));
    let df = ReadCsv::new(dir.path("t.csv"))
        .schema(schema)
        .read()
        .unwrap();
    let good = df.select(["good"]).unwrap().compute().unwrap();
    assert_eq!(good.column(0).as_ref(), &Int64Array::from(vec![1, 2, 3]));
    assert_eq!(df.len().compute().unwrap(), 3);
    let first = df
        .filter(col("good").gt(2))
        .unwrap()
        .select(["good"])
        .unwrap();
    assert_eq!(first.compute().unwrap().num_rows(), 1);

    let err = df.select(["bad"]).unwrap().compute().unwrap_err();
    match inner(&err) {
        DataFrameError::Parse {
            path,
            line,
            column,
            value,
            data_type,
        } => {
            assert_eq!(path, &dir.path("t.csv"));
            assert_eq!((*line, column.as_str(), value.as_str()), (2, "bad", "x"));
            assert_eq!(data_type, &DataType::Int64);
        }
        other => panic!("expected a parse error, got {other}"),
    }
}

#[test]
fn parse_error_in_a_later_block_and_a_second_file() {
    let dir = TempDir::new("parse-later");
    let mut text = String::from("n,name\n");
    for k in 0..500 {
        let n = if k == 321 {
            "3.5".to_string()
        } else {
            k.to_string()
        };
        text.push_str(&format!("{n},row {k}\n"));
    }
    dir.write("a.csv", &text);
    dir.write("b.csv", "n,name\n1,x\n2,y\n\n4,z\nfive,w\n");
    let df = ReadCsv::new(dir.path("a.csv"))
        .blocksize(256)
        .infer_rows(10)
        .read()
        .unwrap();
    assert!(df.npartitions() > 10);
    assert_eq!(df.dtypes()[0].1, DataType::Int64);
    let err = df.compute().unwrap_err();
    let DataFrameError::Parse {
        path, line, value, ..
    } = inner(&err)
    else {
        panic!("expected a parse error, got {err}");
    };
    assert_eq!(
        (path, *line, value.as_str()),
        (&dir.path("a.csv"), 323, "3.5")
    );
    // The header line and the blank line count.
    let b = ReadCsv::new(dir.path("b.csv"))
        .blocksize(5)
        .dtype("n", DataType::Int64)
        .read()
        .unwrap();
    let err = b.compute().unwrap_err();
    let DataFrameError::Parse {
        path, line, column, ..
    } = inner(&err)
    else {
        panic!("expected a parse error, got {err}");
    };
    assert_eq!((path, *line, column.as_str()), (&dir.path("b.csv"), 6, "n"));
    assert!(err
        .to_string()
        .contains("b.csv:6: column \"n\": cannot parse \"five\" as Int64"));
}

#[test]
fn gzip_files_are_one_partition_each() {
    let dir = TempDir::new("gz");
    let gzip = |text: &str| {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    dir.write("a.csv.gz", gzip("x,y\n1,a\n2,b\n"));
    dir.write("b.csv.gz", gzip("x,y\n3,c\nbad,d\n"));
    let df = ReadCsv::new(dir.path("*.csv.gz"))
        .blocksize(4)
        .read()
        .unwrap();
    assert_eq!(df.npartitions(), 2);
    let ys = df.select(["y"]).unwrap().compute().unwrap();
    assert_eq!(
        ys.column(0).as_ref(),
        &StringArray::from(vec!["a", "b", "c", "d"])
    );
    let err = df.compute().unwrap_err();
    let DataFrameError::Parse { path, line, .. } = inner(&err) else {
        panic!("expected a parse error, got {err}");
    };
    assert_eq!((path, *line), (&dir.path("b.csv.gz"), 3));

    dir.write("empty.gz", "");
    let err = read_csv(dir.path("empty.gz")).unwrap_err();
    assert!(matches!(err, DataFrameError::Format { .. }), "{err}");
}

#[test]
fn nulls_quotes_and_delimiters() {
    let dir = TempDir::new("dialect");
    dir.write(
        "t.csv",
        "id;name;score\n1;'a;b';NA\n2;'it''s';2.5\n3;;n/a\n",
    );
    let df = ReadCsv::new(dir.path("t.csv"))
        .delimiter(b';')
        .quote(b'\'')
        .null_values(["NA", "n/a"])
        .read()
        .unwrap();
    assert_eq!(df.dtypes()[2].1, DataType::Float64);
    let b = df.compute().unwrap();
    assert_eq!(
        b.column(1).as_ref(),
        &StringArray::from(vec![Some("a;b"), Some("it's"), None])
    );
    assert_eq!(
        b.column(2).as_ref(),
        &Float64Array::from(vec![None, Some(2.5), None])
    );

    let frame = DataFrame::from_batches(vec![b.clone()], None).unwrap();
    let options = CsvWriteOptions {
        delimiter: b'\t',
        ..CsvWriteOptions::default()
    };
    let paths = frame.to_csv_with(dir.path("out-*.tsv"), &options).unwrap();
    let back = ReadCsv::new(&paths[0]).delimiter(b'\t').read().unwrap();
    assert_same(&back.compute().unwrap(), &b);
}

#[test]
fn read_errors() {
    let dir = TempDir::new("errors");
    let err = read_csv(dir.path("missing.csv")).unwrap_err();
    assert!(
        matches!(err, DataFrameError::File(FileError::NoFiles { .. })),
        "{err}"
    );
    let err = read_csv(dir.path("*.csv")).unwrap_err();
    assert!(
        matches!(err, DataFrameError::File(FileError::NoFiles { .. })),
        "{err}"
    );
    let err = read_csv(dir.path("[.csv")).unwrap_err();
    assert!(
        matches!(err, DataFrameError::File(FileError::Pattern { .. })),
        "{err}"
    );
    std::fs::create_dir_all(dir.path("sub.csv")).unwrap();
    let err = read_csv(dir.path("sub.csv")).unwrap_err();
    match &err {
        DataFrameError::File(FileError::Io { path, .. }) => assert_eq!(path, &dir.path("sub.csv")),
        other => panic!("expected an I/O error, got {other}"),
    }
    std::fs::remove_dir(dir.path("sub.csv")).unwrap();

    // A header that differs names the file and the column.
    dir.write("h1.csv", "a,b,c\n1,2,3\n");
    dir.write("h2.csv", "a,B,c\n4,5,6\n");
    let err = read_csv(dir.path("h*.csv")).unwrap_err();
    match &err {
        DataFrameError::SchemaMismatch { what, message } => {
            assert!(what.ends_with("h2.csv"), "{what}");
            assert!(
                message.contains("\"B\"") && message.contains("\"b\""),
                "{message}"
            );
        }
        other => panic!("expected a schema mismatch, got {other}"),
    }
    dir.write("h2.csv", "a,b\n4,5\n");
    let err = read_csv(dir.path("h*.csv")).unwrap_err();
    assert!(
        matches!(err, DataFrameError::SchemaMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("h2.csv"), "{err}");

    // A dtype or schema naming no column.
    dir.write("one.csv", "a,b\n1,2\n");
    let err = ReadCsv::new(dir.path("one.csv"))
        .dtype("c", DataType::Utf8)
        .read()
        .unwrap_err();
    assert!(matches!(err, DataFrameError::UnknownColumn { .. }), "{err}");
    let other = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("c", DataType::Int64, true),
    ]));
    let err = ReadCsv::new(dir.path("one.csv"))
        .schema(other)
        .read()
        .unwrap_err();
    assert!(
        matches!(err, DataFrameError::SchemaMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("\"c\""), "{err}");
    let err = ReadCsv::new(dir.path("one.csv"))
        .batch_size(0)
        .read()
        .unwrap_err();
    assert!(matches!(err, DataFrameError::Invalid(_)), "{err}");

    // A ragged row fails the computation, naming file and line.
    dir.write("ragged.csv", "a,b\n1,2\n3\n4,5\n");
    let df = ReadCsv::new(dir.path("ragged.csv")).read().unwrap();
    let err = df.compute().unwrap_err();
    match inner(&err) {
        DataFrameError::Format { path, message } => {
            assert_eq!(path, &dir.path("ragged.csv"));
            assert!(message.contains("line 3"), "{message}");
        }
        other => panic!("expected a format error, got {other}"),
    }
    dir.write("long.csv", "a,b\n1,2\n3,4\n5,6,7\n");
    let err: DataFrameError = read_csv(dir.path("long.csv"))
        .unwrap()
        .len()
        .compute()
        .unwrap_err()
        .into();
    match inner(&err) {
        DataFrameError::Format { message, .. } => assert!(message.contains("line 4"), "{message}"),
        other => panic!("expected a format error, got {other}"),
    }

    // to_csv needs a `*`.
    let df = read_csv(dir.path("one.csv")).unwrap();
    let err = df.to_csv(dir.path("out.csv")).unwrap_err();
    assert!(matches!(err, DataFrameError::Invalid(_)), "{err}");
}

#[test]
fn header_only_and_empty_files() {
    let dir = TempDir::new("empty");
    dir.write("a.csv", "x,y\n");
    dir.write("b.csv", "");
    dir.write("c.csv", "x,y\n1,u\n");
    let df = ReadCsv::new(dir.path("*.csv")).blocksize(2).read().unwrap();
    assert_eq!(df.dtypes()[0].1, DataType::Int64);
    assert_eq!(df.len().compute().unwrap(), 1);
    let b = df.compute().unwrap();
    assert_eq!(b.column(1).as_ref(), &StringArray::from(vec!["u"]));

    let err = read_csv(dir.path("b.csv")).unwrap_err();
    assert!(matches!(err, DataFrameError::Format { .. }), "{err}");
    // A header alone: the columns, no rows, text types.
    let only = read_csv(dir.path("a.csv")).unwrap();
    assert_eq!(only.columns(), ["x", "y"]);
    assert_eq!(only.compute().unwrap().num_rows(), 0);
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let df = DataFrame::from_batches(vec![batch.clone()], None).unwrap();
    let dir = path.with_extension("tmpdir");
    let written = df.to_parquet(&dir).unwrap();
    std::fs::rename(&written[0], path).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn parquet_errors_name_the_file() {
    let dir = TempDir::new("parquet-errors");
    let rows = vec![
        Row {
            i: Some(1),
            f: 0.5,
            s: None,
            b: true,
        },
        Row {
            i: None,
            f: 1.5,
            s: Some("x".into()),
            b: false,
        },
    ];
    write_parquet(&dir.path("a.parquet"), &batch(&rows));
    dir.write("b.parquet", "PAR1 this is not parquet PAR1");
    let err = read_parquet(dir.path("*.parquet")).unwrap_err();
    match &err {
        DataFrameError::Format { path, .. } => assert_eq!(path, &dir.path("b.parquet")),
        other => panic!("expected a format error, got {other}"),
    }
    // A file cut short loses its footer.
    let whole = std::fs::read(dir.path("a.parquet")).unwrap();
    dir.write("b.parquet", &whole[..whole.len() / 2]);
    let err = read_parquet(dir.path("*.parquet")).unwrap_err();
    assert!(matches!(err, DataFrameError::Format { .. }), "{err}");
    assert!(err.to_string().contains("b.parquet"), "{err}");

    // Other columns in a second file.
    let other = batch(&rows).project(&[0, 2]).unwrap();
    write_parquet(&dir.path("b.parquet"), &other);
    let err = read_parquet(dir.path("*.parquet")).unwrap_err();
    match &err {
        DataFrameError::SchemaMismatch { what, .. } => {
            assert!(what.ends_with("b.parquet"), "{what}")
        }
        other => panic!("expected a schema mismatch, got {other}"),
    }

    // Projection: only the asked columns, in the asked order.
    std::fs::remove_file(dir.path("b.parquet")).unwrap();
    let df = read_parquet(dir.path("a.parquet")).unwrap();
    let got = df.select(["b", "i"]).unwrap().compute().unwrap();
    assert_same(&got, &batch(&rows).project(&[3, 0]).unwrap());
    assert_eq!(df.len().compute().unwrap(), 2);

    let err = read_parquet(dir.path("nothing")).unwrap_err();
    assert!(
        matches!(err, DataFrameError::File(FileError::NoFiles { .. })),
        "{err}"
    );
}

#[test]
fn parquet_partitions_come_back_in_numeric_order() {
    let dir = TempDir::new("parquet-order");
    let x = Arc::new(Int64Array::from((0..12).collect::<Vec<i64>>())) as ArrayRef;
    let df = DataFrame::from_arrays([("x", x.clone())], 12).unwrap();
    df.to_parquet(dir.path("ds")).unwrap();
    let back = read_parquet(dir.path("ds")).unwrap();
    assert_eq!(back.npartitions(), 12);
    assert_eq!(back.compute().unwrap().column(0), &x);
    let back = read_parquet(dir.path("ds/*.parquet")).unwrap();
    assert_eq!(back.compute().unwrap().column(0), &x);
}

#[test]
fn head_stops_reading_early() {
    let dir = TempDir::new("head");
    let mut text = String::from("n\n");
    for k in 0..100 {
        text.push_str(&format!("{k}\n"));
    }
    text.push_str("oops\n");
    dir.write("t.csv", &text);
    let df = ReadCsv::new(dir.path("t.csv"))
        .dtype("n", DataType::Int64)
        .batch_size(10)
        .read()
        .unwrap();
    assert_eq!(df.npartitions(), 1);
    // The bad last row is in a batch that is never decoded.
    let h = df.head(15).unwrap();
    assert_eq!(
        h.column(0).as_ref(),
        &Int64Array::from((0..15).collect::<Vec<i64>>())
    );
    assert!(df.compute().is_err());
}

#[test]
fn quoted_newlines_in_one_partition_per_file() {
    let dir = TempDir::new("quoted-newlines");
    dir.write(
        "t.csv",
        "id,note\n1,\"two\nlines\"\n2,plain\n3,\"a \"\"quote\"\"\r\nand more\"\nx,last\n",
    );
    let df = ReadCsv::new(dir.path("t.csv"))
        .blocksize(None)
        .dtype("id", DataType::Int64)
        .read()
        .unwrap();
    let notes = df.select(["note"]).unwrap().compute().unwrap();
    assert_eq!(
        notes.column(0).as_ref(),
        &StringArray::from(vec![
            "two\nlines",
            "plain",
            "a \"quote\"\r\nand more",
            "last"
        ])
    );
    // The bad row starts on line 7: the quoted newlines count.
    let err = df.compute().unwrap_err();
    let DataFrameError::Parse { line, value, .. } = inner(&err) else {
        panic!("expected a parse error, got {err}");
    };
    assert_eq!((*line, value.as_str()), (7, "x"));
}
