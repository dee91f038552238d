//! CSV input and output: [`read_csv`] / [`ReadCsv`] make a frame of the
//! rows of files named by a glob, plain files cut into blocks of bytes;
//! [`DataFrame::to_csv`] writes one file per partition.
//!
//! When a frame is built, the glob is expanded, every file's header (its
//! first record) is read and compared with the first file's, and the column
//! types are inferred from a sample; the rows themselves are parsed inside
//! the tasks, column by column and only for the columns the frame's steps
//! need (arrow-csv's decoder with a projection).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::*;
use arrow_array::RecordBatch;
use arrow_cast::parse::{parse_decimal, string_to_datetime, Parser};
use arrow_csv::reader::Format;
use arrow_csv::{ReaderBuilder, WriterBuilder};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use dagwood_runtime::{compute_all_with, Scheduler, TaskError};
use flate2::read::MultiGzDecoder;

use super::super::error::{DataFrameError, Result};
use super::super::expr::unknown_column;
use super::super::{BatchSink, DataFrame, Flow, Scan, Source};
use super::unquoted::{self, Outcome, ReadError, Unquoted};
use crate::files::{self, is_gz, line_number_at, GlobError, IO_BUFFER};

/// The block size plain files are cut into by default: 64 MiB, Dask's.
const DEFAULT_BLOCKSIZE: u64 = 64 << 20;

/// Rows per decoded batch by default: large enough to amortize the
/// per-batch work, small enough that a batch of text stays in cache-sized
/// pieces of a few megabytes.
const DEFAULT_BATCH_SIZE: usize = 65536;

/// Rows sampled to infer the column types by default.
const DEFAULT_INFER_ROWS: usize = 1000;

/// Reads the rows of every CSV file matching a glob pattern, with options;
/// [`read_csv`] is the shorthand with the defaults.
///
/// * Files are taken in sorted path order; `*` and `?` do not match a
///   leading `.` (hidden files). A pattern matching nothing is
///   [`DataFrameError::NoFiles`], a malformed one [`DataFrameError::Pattern`].
/// * A plain file is cut into blocks of [`blocksize`](Self::blocksize) bytes,
///   one partition each. A block holds the rows whose line *starts* inside
///   it, so every row is read exactly once. Like Dask, this assumes that no
///   quoted field holds a newline: a block boundary inside such a field
///   would start a row in the middle of it (a wrong row count or a parse
///   error), so files with such fields must be read with `blocksize(None)`
///   (one partition per file).
/// * A file whose name ends in `.gz` is decompressed and is one partition.
/// * With a header (the default), every file's first record is read when the
///   frame is built and must name the same columns as the first file's (or
///   the explicit [`schema`](Self::schema)'s), else
///   [`DataFrameError::SchemaMismatch`] names the file and the difference.
///   Without a header, columns are named `column_1`, `column_2`, ... and
///   every file must start with a record of as many fields.
/// * Column types are inferred from the first
///   [`infer_rows`](Self::infer_rows) rows of the first file with rows
///   (integers, floats, booleans, dates, timestamps, else text; a column
///   that is empty in the whole sample is text), unless a schema is given;
///   [`dtype`](Self::dtype) overrides single columns.
/// * A value that does not parse as its column's type fails the computation
///   with a [`DataFrameError::Parse`] naming the file, the 1-based line in
///   the file, the column and the value; a row with the wrong number of
///   fields with a [`DataFrameError::Format`] naming the file and line. A
///   line number is one more than the newlines in the file before the row
///   (blank lines and the header count; for a row with a quoted newline,
///   the line it starts on). It is only worked out when there is an error,
///   by reading the file up to the bad batch again. Only the columns the
///   computation needs are parsed, so a bad value in a column left out by
///   `select` is never an error.
///
/// ```
/// use dagwood_collections::dataframe::arrow_array::Int64Array;
/// use dagwood_collections::dataframe::ReadCsv;
/// let dir = std::env::temp_dir().join(format!("dagwood-doc-readcsv-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let text: String = std::iter::once("id;name\n".to_string())
///     .chain((0..100).map(|i| format!("{i};n{i}\n")))
///     .collect();
/// std::fs::write(dir.join("people.csv"), &text).unwrap();
///
/// let df = ReadCsv::new(dir.join("*.csv")).delimiter(b';').blocksize(200).read().unwrap();
/// assert_eq!(df.npartitions(), text.len().div_ceil(200));
/// let ids = df.select(["id"]).unwrap().compute().unwrap();
/// assert_eq!(ids.column(0).as_ref(), &Int64Array::from((0..100).collect::<Vec<i64>>()));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ReadCsv {
    pattern: PathBuf,
    blocksize: Option<u64>,
    has_header: bool,
    delimiter: u8,
    quote: u8,
    null_values: Vec<String>,
    schema: Option<SchemaRef>,
    dtypes: Vec<(String, DataType)>,
    infer_rows: usize,
    batch_size: usize,
}

impl ReadCsv {
    /// Reading the files matching `pattern` (a glob such as
    /// `data/2024-*.csv`, or a plain path) with the defaults: blocks of
    /// 64 MiB, a header, `,` between fields, `"` around quoted fields, empty
    /// fields null, types inferred from 1000 rows, batches of 65536 rows.
    ///
    /// ```
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-readcsv-new-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "x,y\n1,a\n2,b\n").unwrap();
    /// let df = ReadCsv::new(dir.join("a.csv")).read().unwrap();
    /// assert_eq!(df.columns(), ["x", "y"]);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn new(pattern: impl AsRef<Path>) -> ReadCsv {
        ReadCsv {
            pattern: pattern.as_ref().to_path_buf(),
            blocksize: Some(DEFAULT_BLOCKSIZE),
            has_header: true,
            delimiter: b',',
            quote: b'"',
            null_values: Vec::new(),
            schema: None,
            dtypes: Vec::new(),
            infer_rows: DEFAULT_INFER_ROWS,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Cuts plain files into blocks of `bytes` bytes, one partition each;
    /// `None` or `0` makes one partition per file. Has no effect on `.gz`
    /// files.
    ///
    /// ```
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-blocksize-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "x\n1\n2\n3\n4\n").unwrap();
    /// let split = ReadCsv::new(dir.join("a.csv")).blocksize(4).read().unwrap();
    /// assert_eq!(split.npartitions(), 3);
    /// assert_eq!(split.len().compute().unwrap(), 4);
    /// let whole = ReadCsv::new(dir.join("a.csv")).blocksize(None).read().unwrap();
    /// assert_eq!(whole.npartitions(), 1);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn blocksize(mut self, bytes: impl Into<Option<u64>>) -> ReadCsv {
        self.blocksize = bytes.into().filter(|&b| b > 0);
        self
    }

    /// Whether the first record of each file names the columns (default
    /// `true`). Without a header the columns are `column_1`, `column_2`, ...
    ///
    /// ```
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-header-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "1,a\n2,b\n").unwrap();
    /// let df = ReadCsv::new(dir.join("a.csv")).has_header(false).read().unwrap();
    /// assert_eq!(df.columns(), ["column_1", "column_2"]);
    /// assert_eq!(df.len().compute().unwrap(), 2);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn has_header(mut self, has_header: bool) -> ReadCsv {
        self.has_header = has_header;
        self
    }

    /// The byte between fields (default `b','`).
    ///
    /// ```
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-delim-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.tsv"), "x\ty\n1\t2\n").unwrap();
    /// let df = ReadCsv::new(dir.join("a.tsv")).delimiter(b'\t').read().unwrap();
    /// assert_eq!(df.columns(), ["x", "y"]);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn delimiter(mut self, delimiter: u8) -> ReadCsv {
        self.delimiter = delimiter;
        self
    }

    /// The byte around quoted fields (default `b'"'`); inside a quoted
    /// field it is written twice.
    ///
    /// ```
    /// use dagwood_collections::dataframe::arrow_array::StringArray;
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-quote-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "s\n'a,b'\n'it''s'\n").unwrap();
    /// let df = ReadCsv::new(dir.join("a.csv")).quote(b'\'').read().unwrap();
    /// let b = df.compute().unwrap();
    /// assert_eq!(b.column(0).as_ref(), &StringArray::from(vec!["a,b", "it's"]));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn quote(mut self, quote: u8) -> ReadCsv {
        self.quote = quote;
        self
    }

    /// Field texts read as null, besides the empty field (which always is),
    /// in every column: pandas' `na_values`.
    ///
    /// ```
    /// use dagwood_collections::dataframe::arrow_array::Int64Array;
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-nulls-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "x\n1\nNA\n\n3\n").unwrap();
    /// let df = ReadCsv::new(dir.join("a.csv")).null_values(["NA"]).read().unwrap();
    /// let b = df.compute().unwrap();
    /// // The blank line is no row; `NA` is a null.
    /// assert_eq!(b.column(0).as_ref(), &Int64Array::from(vec![Some(1), None, Some(3)]));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn null_values<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> ReadCsv {
        self.null_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// The columns and their types, instead of inferring them. With a
    /// header, each file's header must name exactly these columns, in this
    /// order.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_collections::dataframe::arrow_schema::{DataType, Field, Schema};
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-schema-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "id,score\n1,2\n").unwrap();
    /// let schema = Arc::new(Schema::new(vec![
    ///     Field::new("id", DataType::Utf8, true),
    ///     Field::new("score", DataType::Float32, true),
    /// ]));
    /// let df = ReadCsv::new(dir.join("a.csv")).schema(schema.clone()).read().unwrap();
    /// assert_eq!(df.schema(), &schema);
    ///
    /// let wrong = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, true)]));
    /// let err = ReadCsv::new(dir.join("a.csv")).schema(wrong).read().unwrap_err();
    /// assert!(err.to_string().contains("a.csv"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn schema(mut self, schema: SchemaRef) -> ReadCsv {
        self.schema = Some(schema);
        self
    }

    /// The type of one column, overriding the inferred (or given) one. A
    /// name that is not a column is an error of [`read`](Self::read).
    ///
    /// ```
    /// use dagwood_collections::dataframe::arrow_schema::DataType;
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-dtype-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "zip,n\n01234,1\n").unwrap();
    /// let df = ReadCsv::new(dir.join("a.csv")).dtype("zip", DataType::Utf8).read().unwrap();
    /// assert_eq!(df.dtypes()[0], ("zip".to_string(), DataType::Utf8));
    /// assert!(ReadCsv::new(dir.join("a.csv")).dtype("zap", DataType::Utf8).read().is_err());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn dtype(mut self, column: impl Into<String>, data_type: DataType) -> ReadCsv {
        self.dtypes.push((column.into(), data_type));
        self
    }

    /// How many rows type inference looks at (default 1000), from the first
    /// file that has rows.
    ///
    /// ```
    /// use dagwood_collections::dataframe::arrow_schema::DataType;
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-infer-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "x\n1\n2\n2.5\n").unwrap();
    /// let short = ReadCsv::new(dir.join("a.csv")).infer_rows(2).read().unwrap();
    /// assert_eq!(short.dtypes()[0].1, DataType::Int64);
    /// let long = ReadCsv::new(dir.join("a.csv")).read().unwrap();
    /// assert_eq!(long.dtypes()[0].1, DataType::Float64);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn infer_rows(mut self, rows: usize) -> ReadCsv {
        self.infer_rows = rows;
        self
    }

    /// Rows per decoded batch (default 65536, at least 1): the unit in which
    /// rows go through the frame's steps.
    ///
    /// ```
    /// use dagwood_collections::dataframe::ReadCsv;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-csv-batch-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.csv"), "x\n1\n2\n3\n").unwrap();
    /// let df = ReadCsv::new(dir.join("a.csv")).batch_size(2).read().unwrap();
    /// assert_eq!(df.compute().unwrap().num_rows(), 3);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn batch_size(mut self, rows: usize) -> ReadCsv {
        self.batch_size = rows;
        self
    }

    /// Expands the glob, reads every file's header, infers the types (unless
    /// given) and plans the partitions; the rows are read by the tasks.
    ///
    /// Errors: [`DataFrameError::Pattern`], [`DataFrameError::NoFiles`],
    /// [`DataFrameError::Io`] naming a file that cannot be read (or is a
    /// directory), [`DataFrameError::SchemaMismatch`] naming a file whose
    /// header differs, [`DataFrameError::Format`] for a file that is not CSV
    /// as configured, [`DataFrameError::UnknownColumn`] for a
    /// [`dtype`](Self::dtype) of no column, [`DataFrameError::Invalid`] for
    /// bad options or a column type CSV cannot hold.
    ///
    /// ```
    /// use dagwood_collections::dataframe::{DataFrameError, ReadCsv};
    /// let err = ReadCsv::new("/nonexistent-dagwood-dir/*.csv").read().unwrap_err();
    /// assert!(matches!(err, DataFrameError::NoFiles { .. }));
    /// let err = ReadCsv::new("data/[.csv").read().unwrap_err();
    /// assert!(matches!(err, DataFrameError::Pattern { .. }));
    /// ```
    pub fn read(&self) -> Result<DataFrame> {
        self.check_options()?;
        let dialect = Dialect {
            delimiter: self.delimiter,
            quote: self.quote,
            nulls: self.null_values.clone().into(),
        };
        let format = dialect.format()?;
        let mut files = Vec::new();
        let mut heads = Vec::new();
        for path in glob_files(&self.pattern)? {
            let size = file_size(&path)?;
            let gz = is_gz(&path);
            if gz && size == 0 {
                return Err(DataFrameError::Format {
                    path,
                    message: "empty file: not gzip data (truncated?)".into(),
                });
            }
            let head = first_record(&path, gz, &dialect)?;
            let data_start = match (&head, self.has_header) {
                (Some((_, end)), true) => *end,
                _ => 0,
            };
            files.push(CsvFile {
                path,
                gz,
                size,
                data_start,
            });
            heads.push(head.map(|(fields, _)| fields));
        }
        let schema = self.plan_schema(&files, &heads, &format)?;
        let mut blocks = Vec::new();
        for (i, f) in files.iter().enumerate() {
            match self.blocksize {
                Some(bs) if !f.gz => {
                    let n = f.size.div_ceil(bs).max(1);
                    blocks.extend((0..n).map(|k| Block {
                        file: i,
                        start: k * bs,
                        end: (k + 1 < n).then(|| (k + 1) * bs),
                    }));
                }
                _ => blocks.push(Block {
                    file: i,
                    start: 0,
                    end: None,
                }),
            }
        }
        let scan = CsvScan {
            schema,
            files,
            blocks,
            format,
            dialect,
            batch_size: self.batch_size,
        };
        Ok(DataFrame::from_source(Source::Scan(Arc::new(scan))))
    }

    fn check_options(&self) -> Result<()> {
        let invalid = |what: String| {
            Err(DataFrameError::Invalid(format!(
                "read_csv {:?}: {what}",
                self.pattern.display()
            )))
        };
        if self.batch_size == 0 {
            return invalid("batch_size must be at least 1 row".into());
        }
        // Blocks are cut at line ends, so neither byte may be a newline.
        for (what, b) in [("delimiter", self.delimiter), ("quote", self.quote)] {
            if b == b'\n' || b == b'\r' {
                return invalid(format!("the {what} cannot be a line terminator"));
            }
        }
        if self.delimiter == self.quote {
            return invalid("the delimiter and the quote must differ".into());
        }
        Ok(())
    }

    /// The frame's schema: given or inferred, headers checked, overrides
    /// applied.
    fn plan_schema(
        &self,
        files: &[CsvFile],
        heads: &[Option<Vec<String>>],
        format: &Format,
    ) -> Result<SchemaRef> {
        // The first file with a record sets the columns the others must have.
        let first = files
            .iter()
            .zip(heads)
            .find_map(|(f, h)| Some((f, h.as_ref()?)));
        let mut fields: Vec<Field> = match (&self.schema, first) {
            (Some(schema), _) => {
                let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
                if let Some(dup) = duplicate(&names) {
                    return Err(DataFrameError::Invalid(format!(
                        "read_csv {:?}: the schema names column {dup:?} twice",
                        self.pattern.display()
                    )));
                }
                check_heads(files, heads, &names, self.has_header, "the schema given")?;
                schema.fields().iter().map(|f| f.as_ref().clone()).collect()
            }
            (None, None) => {
                return Err(DataFrameError::Format {
                    path: files.first().map(|f| f.path.clone()).unwrap_or_default(),
                    message: "no file has a record to take the columns from; give the schema \
                              with ReadCsv::schema"
                        .into(),
                })
            }
            (None, Some((first_file, first_head))) => {
                let names: Vec<String> = if self.has_header {
                    first_head.clone()
                } else {
                    (1..=first_head.len())
                        .map(|i| format!("column_{i}"))
                        .collect()
                };
                if let Some(dup) = duplicate(&names) {
                    return Err(DataFrameError::Format {
                        path: first_file.path.clone(),
                        message: format!("the header names column {dup:?} twice"),
                    });
                }
                let label = format!("{}", first_file.path.display());
                check_heads(files, heads, &names, self.has_header, &label)?;
                let types = self.infer_types(files, names.len(), format)?;
                names
                    .into_iter()
                    .zip(types)
                    .map(|(n, t)| Field::new(n, t, true))
                    .collect()
            }
        };
        let shape = Schema::new(fields.clone());
        for (name, data_type) in &self.dtypes {
            let i = shape
                .index_of(name)
                .map_err(|_| unknown_column(name, &shape))?;
            fields[i] = fields[i].clone().with_data_type(data_type.clone());
        }
        for f in &fields {
            if !decodable(f.data_type()) {
                return Err(DataFrameError::Invalid(format!(
                    "read_csv {:?}: column {:?} has type {}, which cannot be read from CSV",
                    self.pattern.display(),
                    f.name(),
                    f.data_type()
                )));
            }
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// The column types inferred by arrow-csv from the first `infer_rows`
    /// rows of the first file that has rows.
    fn infer_types(
        &self,
        files: &[CsvFile],
        ncols: usize,
        format: &Format,
    ) -> Result<Vec<DataType>> {
        let mut types = vec![DataType::Null; ncols];
        // A ragged row in the sample is reported when it is read, with its
        // line, like any other bad row; inference just looks past it.
        let format = format
            .clone()
            .with_header(self.has_header)
            .with_truncated_rows(true);
        for f in files {
            let reader = open_stream(&f.path, f.gz)?;
            let (schema, rows) =
                format
                    .infer_schema(reader, Some(self.infer_rows))
                    .map_err(|e| DataFrameError::Format {
                        path: f.path.clone(),
                        message: format!("cannot infer the column types: {e}"),
                    })?;
            if schema.fields().len() == ncols {
                types = schema
                    .fields()
                    .iter()
                    .map(|f| f.data_type().clone())
                    .collect();
            }
            if rows > 0 {
                break;
            }
        }
        // A column with no value in the sample is read as text, so that the
        // values further on are kept (arrow-csv would drop them as nulls).
        Ok(types
            .into_iter()
            .map(|t| {
                if t == DataType::Null {
                    DataType::Utf8
                } else {
                    t
                }
            })
            .collect())
    }
}

/// A frame of the rows of every CSV file matching `pattern` (a glob or a
/// path), with a header, types inferred, plain files cut into blocks of
/// 64 MiB; see [`ReadCsv`] for the details and the options.
///
/// ```
/// use dagwood_collections::dataframe::arrow_array::{Float64Array, StringArray};
/// use dagwood_collections::dataframe::{col, read_csv};
/// let dir = std::env::temp_dir().join(format!("dagwood-doc-read-csv-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("2024-01.csv"), "name,amount\nalice,10.5\nbob,-3\n").unwrap();
/// std::fs::write(dir.join("2024-02.csv"), "name,amount\r\ncarol,7\r\n").unwrap();
///
/// let df = read_csv(dir.join("2024-*.csv")).unwrap();
/// assert_eq!(df.npartitions(), 2);
/// let big = df.filter(col("amount").gt(0.0)).unwrap().compute().unwrap();
/// assert_eq!(big.column(0).as_ref(), &StringArray::from(vec!["alice", "carol"]));
/// assert_eq!(big.column(1).as_ref(), &Float64Array::from(vec![10.5, 7.0]));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_csv(pattern: impl AsRef<Path>) -> Result<DataFrame> {
    ReadCsv::new(pattern).read()
}

/// How fields are split and which texts are null: the same for the header
/// check, the decoder and the search for a bad value.
#[derive(Clone, Debug)]
struct Dialect {
    delimiter: u8,
    quote: u8,
    /// Texts read as null besides the empty field.
    nulls: Arc<[String]>,
}

impl Dialect {
    /// arrow-csv's format: no header (headers are skipped by the scan), and
    /// the null texts as an anchored regex.
    fn format(&self) -> Result<Format> {
        let format = Format::default()
            .with_header(false)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote);
        if self.nulls.is_empty() {
            return Ok(format);
        }
        let alternatives: Vec<String> = std::iter::once(String::new())
            .chain(self.nulls.iter().map(|s| regex::escape(s)))
            .collect();
        let pattern = format!("^(?:{})$", alternatives.join("|"));
        let regex = regex::Regex::new(&pattern)
            .map_err(|e| DataFrameError::Invalid(format!("read_csv: bad null_values: {e}")))?;
        Ok(format.with_null_regex(regex))
    }

    /// A record reader with the decoder's splitting rules that accepts any
    /// number of fields (counting them is the caller's job).
    fn records<R: Read>(&self, reader: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .quote(self.quote)
            .from_reader(reader)
    }

    fn is_null(&self, text: &str) -> bool {
        text.is_empty() || self.nulls.iter().any(|n| n == text)
    }
}

/// A file as planned when the frame was built.
#[derive(Debug)]
struct CsvFile {
    path: PathBuf,
    gz: bool,
    /// Its size then (compressed for `.gz`); a file that has shrunk since is
    /// an error rather than silently fewer rows.
    size: u64,
    /// Where the rows start: past the header, or 0 (decompressed offset for
    /// `.gz`).
    data_start: u64,
}

/// One partition: the rows of `file` whose line starts in `start..end`
/// (`end: None`, to the end of the file).
#[derive(Clone, Copy, Debug)]
struct Block {
    file: usize,
    start: u64,
    end: Option<u64>,
}

/// A block opened for reading.
struct OpenBlock {
    /// The block's bytes, from `start` to `end`.
    input: Box<dyn BufRead>,
    /// Offset of its first row in the file (decompressed for `.gz`).
    start: u64,
    /// Offset just past its last row (`None`: the end of the file).
    end: Option<u64>,
    /// An upper bound of the end (`None` for gzip, whose length is not
    /// known up front).
    bound: Option<u64>,
}

/// The [`Scan`] of `read_csv`: blocks of files decoded by arrow-csv.
struct CsvScan {
    schema: SchemaRef,
    files: Vec<CsvFile>,
    blocks: Vec<Block>,
    format: Format,
    dialect: Dialect,
    batch_size: usize,
}

impl Scan for CsvScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn npartitions(&self) -> usize {
        self.blocks.len()
    }

    fn cost(&self, part: usize) -> u64 {
        // Bytes (compressed for `.gz`, a whole file each).
        self.blocks.get(part).map_or(1, |b| {
            let size = self.files.get(b.file).map_or(0, |f| f.size);
            b.end.unwrap_or(size).saturating_sub(b.start).max(1)
        })
    }

    fn op(&self) -> &str {
        "read-csv"
    }

    fn read(
        &self,
        part: usize,
        projection: &[usize],
        sink: &mut BatchSink<'_>,
    ) -> std::result::Result<(), TaskError> {
        let block = self.blocks.get(part).ok_or_else(|| {
            TaskError::failed(DataFrameError::Invalid(format!(
                "read-csv has no partition {part}"
            )))
        })?;
        let file = &self.files[block.file];
        let OpenBlock {
            mut input,
            start,
            end,
            bound,
        } = self.open_block(file, block).map_err(TaskError::failed)?;
        // The decoder sizes its buffers for a whole batch up front; a block
        // of n bytes has at most n rows (each ends with a byte of its own),
        // which keeps small blocks cheap.
        let batch_size = match bound {
            Some(bound) => (bound - start).clamp(1, self.batch_size as u64) as usize,
            None => self.batch_size,
        };
        // Byte offsets in the file (decompressed for `.gz`) of the next byte
        // the decoder has not taken, and of the current batch's first row:
        // enough to find a bad row again when decoding fails.
        let mut pos = start;
        if projection
            .iter()
            .all(|&i| unquoted::supported(self.schema.field(i).data_type()))
        {
            let is_null = |text: &str| self.dialect.is_null(text);
            let fast = Unquoted {
                schema: &self.schema,
                projection,
                delimiter: self.dialect.delimiter,
                quote: self.dialect.quote,
                is_null: &is_null,
                batch_size,
            };
            let emit = |batch| sink(batch).map(|flow| flow == Flow::Continue);
            match fast.read(&mut input, &mut pos, emit) {
                Ok(Outcome::Done) => return Ok(()),
                Ok(Outcome::Rest(rest)) => input = Box::new(io::Cursor::new(rest).chain(input)),
                Err(ReadError::Io(e)) => return Err(TaskError::failed(read_error(file, e))),
                Err(ReadError::Emit(e)) => return Err(e),
            }
        }
        let mut decoder = ReaderBuilder::new(self.schema.clone())
            .with_format(self.format.clone())
            .with_batch_size(batch_size)
            .with_projection(projection.to_vec())
            .build_decoder();
        let mut batch_start = pos;
        loop {
            loop {
                let buf = input
                    .fill_buf()
                    .map_err(|e| TaskError::failed(read_error(file, e)))?;
                let available = buf.len() as u64;
                let taken = decoder.decode(buf).map_err(|e| {
                    self.diagnose(file, batch_start, pos + available, end, projection, e)
                })?;
                input.consume(taken);
                pos += taken as u64;
                if taken == 0 || decoder.capacity() == 0 {
                    break;
                }
            }
            let batch = match decoder.flush() {
                Ok(Some(batch)) => batch,
                Ok(None) => {
                    // The decoder takes bytes until it has a batch, so no
                    // batch means no bytes left; anything else would be rows
                    // silently dropped.
                    let left = input
                        .fill_buf()
                        .map_err(|e| TaskError::failed(read_error(file, e)))?;
                    if left.is_empty() {
                        return Ok(());
                    }
                    return Err(TaskError::failed(DataFrameError::Format {
                        path: file.path.clone(),
                        message: format!("the CSV decoder stopped at byte {pos} of the file"),
                    }));
                }
                Err(e) => return Err(self.diagnose(file, batch_start, pos, end, projection, e)),
            };
            batch_start = pos;
            if sink(batch)? == Flow::Stop {
                return Ok(());
            }
        }
    }
}

impl CsvScan {
    /// The bytes of a block's rows.
    fn open_block(&self, file: &CsvFile, block: &Block) -> Result<OpenBlock> {
        if file.gz {
            return Ok(OpenBlock {
                input: open_decompressed_at(file, file.data_start)?,
                start: file.data_start,
                end: None,
                bound: None,
            });
        }
        let path = &file.path;
        let io_err = |e| io_error(path, e);
        let mut f = File::open(path).map_err(io_err)?;
        let len = f.metadata().map_err(io_err)?.len();
        if len < file.size {
            return Err(io_error(
                path,
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the file shrank from {} to {len} bytes after the frame was built",
                        file.size
                    ),
                ),
            ));
        }
        let start = line_start(&mut f, block.start)
            .map_err(io_err)?
            .max(file.data_start);
        let end = match block.end {
            Some(end) => Some(line_start(&mut f, end).map_err(io_err)?.max(start)),
            None => None,
        };
        f.seek(SeekFrom::Start(start)).map_err(io_err)?;
        let limit = end.map_or(u64::MAX, |e| e - start);
        Ok(OpenBlock {
            input: Box::new(BufReader::with_capacity(IO_BUFFER, f.take(limit))),
            start,
            end,
            bound: Some(end.unwrap_or(len).max(start)),
        })
    }

    /// The error to report for a decoding failure in the rows from byte
    /// `from` (a row boundary) to about `to`: the first bad row found again
    /// with the same splitting and parsing rules, with its file line, or
    /// arrow-csv's own message if none is found.
    fn diagnose(
        &self,
        file: &CsvFile,
        from: u64,
        to: u64,
        end: Option<u64>,
        projection: &[usize],
        cause: ArrowError,
    ) -> TaskError {
        let error = match self.find_bad_row(file, from, to, end, projection) {
            Ok(Some(e)) => e,
            Ok(None) => DataFrameError::Format {
                path: file.path.clone(),
                message: format!("{cause} (in the rows from byte {from})"),
            },
            Err(e) => DataFrameError::Format {
                path: file.path.clone(),
                message: format!(
                    "{cause} (in the rows from byte {from}; rereading them to find the line \
                     failed: {e})"
                ),
            },
        };
        TaskError::failed(error)
    }

    fn find_bad_row(
        &self,
        file: &CsvFile,
        from: u64,
        to: u64,
        end: Option<u64>,
        projection: &[usize],
    ) -> io::Result<Option<DataFrameError>> {
        let first_line = line_number_at(&file.path, from)?;
        let mut input: Box<dyn BufRead> = if file.gz {
            open_decompressed_at(file, from).map_err(io::Error::other)?
        } else {
            let mut f = File::open(&file.path)?;
            f.seek(SeekFrom::Start(from))?;
            let limit = end.map_or(u64::MAX, |e| e.saturating_sub(from));
            Box::new(BufReader::new(f.take(limit)))
        };
        let mut bytes = Vec::new();
        (&mut input).take(to - from).read_to_end(&mut bytes)?;
        // Finish the last line, so that no row is seen cut short.
        if bytes.last().is_some_and(|&b| b != b'\n') {
            input.read_until(b'\n', &mut bytes)?;
        }
        let path = &file.path;
        let ncols = self.schema.fields().len();
        let mut records = self.dialect.records(&bytes[..]);
        let mut record = csv::ByteRecord::new();
        // Newlines are counted from the last row's start to this one's.
        let (mut counted_to, mut line) = (0usize, first_line);
        loop {
            match records.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => return Err(io::Error::other(e)),
            }
            // A record's position is where the previous one ended: skip the
            // rest of its terminator and any blank lines to its first byte.
            let mut begin = record.position().map_or(0, |p| p.byte() as usize);
            while bytes.get(begin).is_some_and(|&b| b == b'\n' || b == b'\r') {
                begin += 1;
            }
            let begin = begin.min(bytes.len());
            if begin > counted_to {
                line += memchr::memchr_iter(b'\n', &bytes[counted_to..begin]).count() as u64;
                counted_to = begin;
            }
            if record.len() != ncols {
                return Ok(Some(DataFrameError::Format {
                    path: path.clone(),
                    message: format!(
                        "line {line}: expected {ncols} fields, found {}",
                        record.len()
                    ),
                }));
            }
            let mut texts = Vec::with_capacity(ncols);
            for (k, field) in record.iter().enumerate() {
                match std::str::from_utf8(field) {
                    Ok(text) => texts.push(text),
                    Err(e) => {
                        return Ok(Some(DataFrameError::Format {
                            path: path.clone(),
                            message: format!(
                                "line {line}: column {:?} is not valid UTF-8: {e}",
                                self.schema.field(k).name()
                            ),
                        }))
                    }
                }
            }
            for &i in projection {
                let field = self.schema.field(i);
                let text = texts[i];
                if self.dialect.is_null(text) {
                    if !field.is_nullable() {
                        return Ok(Some(DataFrameError::Format {
                            path: path.clone(),
                            message: format!(
                                "line {line}: column {:?} is null (empty), but the schema says \
                                 it cannot be",
                                field.name()
                            ),
                        }));
                    }
                } else if !parses(text, field.data_type()) {
                    return Ok(Some(DataFrameError::Parse {
                        path: path.clone(),
                        line,
                        column: field.name().clone(),
                        value: text.to_owned(),
                        data_type: field.data_type().clone(),
                    }));
                }
            }
        }
    }
}

/// The offset of the first line that starts at or after `offset`: a line
/// starts there exactly when the byte before is a newline.
fn line_start(file: &mut File, offset: u64) -> io::Result<u64> {
    if offset == 0 {
        return Ok(0);
    }
    file.seek(SeekFrom::Start(offset - 1))?;
    let skipped = BufReader::with_capacity(64 << 10, &mut *file).skip_until(b'\n')?;
    Ok(offset - 1 + skipped as u64)
}

/// The decompressed stream of a `.gz` file from byte `offset` on.
fn open_decompressed_at(file: &CsvFile, offset: u64) -> Result<Box<dyn BufRead>> {
    let f = File::open(&file.path).map_err(|e| io_error(&file.path, e))?;
    let mut input = BufReader::with_capacity(IO_BUFFER, MultiGzDecoder::new(f));
    let skipped = io::copy(&mut (&mut input).take(offset), &mut io::sink())
        .map_err(|e| read_error(file, e))?;
    if skipped < offset {
        return Err(read_error(
            file,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file is shorter than before",
            ),
        ));
    }
    Ok(Box::new(input))
}

/// A file's whole stream (decompressed if gzip), for reading its start.
fn open_stream(path: &Path, gz: bool) -> Result<Box<dyn Read>> {
    let f = File::open(path).map_err(|e| io_error(path, e))?;
    Ok(if gz {
        Box::new(MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

/// The first record of a file (its header, if it has one) and the offset
/// just past it, or `None` for a file without any record.
fn first_record(path: &Path, gz: bool, dialect: &Dialect) -> Result<Option<(Vec<String>, u64)>> {
    let mut records = dialect.records(BufReader::new(open_stream(path, gz)?));
    let mut record = csv::ByteRecord::new();
    match records.read_byte_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => {
            let message = e.to_string();
            return Err(match e.into_kind() {
                csv::ErrorKind::Io(e) => io_error(path, e),
                _ => DataFrameError::Format {
                    path: path.to_path_buf(),
                    message,
                },
            });
        }
    }
    let mut fields = Vec::with_capacity(record.len());
    for (k, field) in record.iter().enumerate() {
        let text = std::str::from_utf8(field).map_err(|e| DataFrameError::Format {
            path: path.to_path_buf(),
            message: format!("the first record's field {} is not valid UTF-8: {e}", k + 1),
        })?;
        // A byte-order mark is no part of the first column's name.
        let text = if k == 0 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        fields.push(text.to_owned());
    }
    Ok(Some((fields, records.position().byte())))
}

/// Checks each file's first record against the expected columns: the
/// names with a header, the field count without.
fn check_heads(
    files: &[CsvFile],
    heads: &[Option<Vec<String>>],
    names: &[String],
    has_header: bool,
    expected_from: &str,
) -> Result<()> {
    for (f, head) in files.iter().zip(heads) {
        let Some(head) = head else { continue };
        let what = f.path.display().to_string();
        if !has_header {
            if head.len() != names.len() {
                return Err(DataFrameError::SchemaMismatch {
                    what,
                    message: format!(
                        "its first row has {} fields, expected {} as in {expected_from}",
                        head.len(),
                        names.len()
                    ),
                });
            }
            continue;
        }
        if head == names {
            continue;
        }
        let list = |v: &[String]| v.join(", ");
        let message = match head.iter().zip(names).position(|(a, b)| a != b) {
            Some(i) => format!(
                "header column {} is {:?}, expected {:?} as in {expected_from} (header: {}; \
                 expected: {})",
                i + 1,
                head[i],
                names[i],
                list(head),
                list(names)
            ),
            None => format!(
                "the header has {} columns ({}), expected {} ({}) as in {expected_from}",
                head.len(),
                list(head),
                names.len(),
                list(names)
            ),
        };
        return Err(DataFrameError::SchemaMismatch { what, message });
    }
    Ok(())
}

/// A name that appears twice.
fn duplicate(names: &[String]) -> Option<&String> {
    names
        .iter()
        .enumerate()
        .find_map(|(i, n)| names[..i].contains(n).then_some(n))
}

/// Whether arrow-csv's decoder can make a column of this type.
fn decodable(data_type: &DataType) -> bool {
    use DataType::*;
    match data_type {
        Null | Boolean | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64
        | Float16 | Float32 | Float64 | Date32 | Date64 | Utf8 | Utf8View => true,
        Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => true,
        Time32(TimeUnit::Second | TimeUnit::Millisecond) => true,
        Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond) => true,
        Timestamp(_, tz) => tz
            .as_deref()
            .is_none_or(|tz| tz.parse::<arrow_array::timezone::Tz>().is_ok()),
        Dictionary(key, value) => key.is_dictionary_key_type() && **value == Utf8,
        _ => false,
    }
}

/// Whether arrow-csv's decoder accepts `text` (not null) as a value of
/// `data_type`: the same parse functions as arrow-csv 60 calls.
fn parses(text: &str, data_type: &DataType) -> bool {
    fn primitive<T: Parser>(text: &str) -> bool {
        T::parse(text).is_some()
    }
    use DataType::*;
    match data_type {
        Boolean => text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false"),
        Int8 => primitive::<Int8Type>(text),
        Int16 => primitive::<Int16Type>(text),
        Int32 => primitive::<Int32Type>(text),
        Int64 => primitive::<Int64Type>(text),
        UInt8 => primitive::<UInt8Type>(text),
        UInt16 => primitive::<UInt16Type>(text),
        UInt32 => primitive::<UInt32Type>(text),
        UInt64 => primitive::<UInt64Type>(text),
        Float16 => primitive::<Float16Type>(text),
        Float32 => primitive::<Float32Type>(text),
        Float64 => primitive::<Float64Type>(text),
        Date32 => primitive::<Date32Type>(text),
        Date64 => primitive::<Date64Type>(text),
        Time32(TimeUnit::Second) => primitive::<Time32SecondType>(text),
        Time32(TimeUnit::Millisecond) => primitive::<Time32MillisecondType>(text),
        Time64(TimeUnit::Microsecond) => primitive::<Time64MicrosecondType>(text),
        Time64(TimeUnit::Nanosecond) => primitive::<Time64NanosecondType>(text),
        Decimal32(p, s) => parse_decimal::<Decimal32Type>(text, *p, *s).is_ok(),
        Decimal64(p, s) => parse_decimal::<Decimal64Type>(text, *p, *s).is_ok(),
        Decimal128(p, s) => parse_decimal::<Decimal128Type>(text, *p, *s).is_ok(),
        Decimal256(p, s) => parse_decimal::<Decimal256Type>(text, *p, *s).is_ok(),
        Timestamp(unit, tz) => {
            let tz = tz.as_deref().unwrap_or("+00:00");
            let Ok(tz) = tz.parse::<arrow_array::timezone::Tz>() else {
                return false;
            };
            match string_to_datetime(&tz, text) {
                Ok(t) => *unit != TimeUnit::Nanosecond || t.timestamp_nanos_opt().is_some(),
                Err(_) => false,
            }
        }
        _ => true,
    }
}

/// The files a pattern names, as a [`DataFrameError`].
pub(super) fn glob_files(pattern: &Path) -> Result<Vec<PathBuf>> {
    files::expand_glob(pattern).map_err(|e| match e {
        GlobError::Pattern { pattern, reason } => DataFrameError::Pattern { pattern, reason },
        GlobError::NoFiles { pattern } => DataFrameError::NoFiles { pattern },
        GlobError::Io { path, source } => DataFrameError::Io { path, source },
    })
}

/// The size of a file to read; a directory is an error naming it.
pub(super) fn file_size(path: &Path) -> Result<u64> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        return Err(io_error(
            path,
            io::Error::new(io::ErrorKind::IsADirectory, "is a directory, not a file"),
        ));
    }
    Ok(meta.len())
}

pub(super) fn io_error(path: &Path, source: io::Error) -> DataFrameError {
    DataFrameError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A read error, said to be a damaged stream for gzip (where it is one).
fn read_error(file: &CsvFile, e: io::Error) -> DataFrameError {
    if file.gz {
        let context = format!("gzip data is truncated or corrupt: {e}");
        io_error(&file.path, io::Error::new(e.kind(), context))
    } else {
        io_error(&file.path, e)
    }
}

/// A failed write of `path` as an error naming it.
pub(super) fn write_error(path: &Path, e: ArrowError) -> DataFrameError {
    match e {
        ArrowError::IoError(_, source) => io_error(path, source),
        other => io_error(path, io::Error::other(other.to_string())),
    }
}

/// Options of [`DataFrame::to_csv_with`].
///
/// ```
/// use dagwood_collections::dataframe::CsvWriteOptions;
/// let tsv = CsvWriteOptions { delimiter: b'\t', ..CsvWriteOptions::default() };
/// assert!(tsv.header);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvWriteOptions {
    /// Whether each file starts with a header naming the columns (default
    /// `true`).
    pub header: bool,
    /// The byte between fields (default `b','`).
    pub delimiter: u8,
}

impl Default for CsvWriteOptions {
    fn default() -> CsvWriteOptions {
        CsvWriteOptions {
            header: true,
            delimiter: b',',
        }
    }
}

impl DataFrame {
    /// Writes the frame as CSV, one file per partition, with a header. Each
    /// `*` in `pattern` is replaced by the partition number, zero-padded to
    /// the width of the largest one (`out-00.csv` ... `out-11.csv` for 12
    /// partitions), so the files sort in partition order (Dask's
    /// `to_csv("out-*.csv")`). Missing directories are created first.
    ///
    /// Each partition is written by its own task, batch by batch as it is
    /// read; nulls are empty fields. Returns the written paths in partition
    /// order. Errors: [`DataFrameError::Invalid`] for a pattern without `*`
    /// or a column type CSV cannot hold; a failed write comes back as
    /// [`DataFrameError::Compute`] whose cause names the file.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_collections::dataframe::arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{read_csv, DataFrame};
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-to-csv-{}", std::process::id()));
    /// let x = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("x", x.clone())], 2).unwrap();
    /// let paths = df.to_csv(dir.join("out/part-*.csv")).unwrap();
    /// assert!(paths[1].ends_with("out/part-1.csv"));
    /// assert_eq!(std::fs::read_to_string(&paths[0]).unwrap(), "x\n1\n");
    ///
    /// let back = read_csv(dir.join("out/*.csv")).unwrap().compute().unwrap();
    /// assert_eq!(back.column(0), &x);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn to_csv(&self, pattern: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        self.to_csv_with(pattern, &CsvWriteOptions::default())
    }

    /// [`to_csv`](Self::to_csv) with options: header or not, delimiter.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_collections::dataframe::arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{CsvWriteOptions, DataFrame};
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-to-csv-with-{}", std::process::id()));
    /// let a = Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("a", a.clone()), ("b", a)], 1).unwrap();
    /// let options = CsvWriteOptions { header: false, delimiter: b'|' };
    /// let paths = df.to_csv_with(dir.join("*.psv"), &options).unwrap();
    /// assert_eq!(std::fs::read_to_string(&paths[0]).unwrap(), "1|1\n2|2\n");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn to_csv_with(
        &self,
        pattern: impl AsRef<Path>,
        options: &CsvWriteOptions,
    ) -> Result<Vec<PathBuf>> {
        for f in self.schema.fields() {
            if f.data_type().is_nested() {
                return Err(DataFrameError::Invalid(format!(
                    "to_csv: column {:?} has the nested type {}, which CSV cannot hold",
                    f.name(),
                    f.data_type()
                )));
            }
        }
        let paths = numbered_paths(pattern.as_ref(), self.npartitions())?;
        create_parents(&paths)?;
        let paths: Arc<[PathBuf]> = paths.into();
        let schema = self.schema.clone();
        let options = options.clone();
        let tasks = self.consume("to-csv", move |i, stream| {
            let path = &paths[i];
            let fail = |e: DataFrameError| TaskError::failed(e);
            let file = File::create(path).map_err(|e| fail(io_error(path, e)))?;
            let mut writer = WriterBuilder::new()
                .with_header(options.header)
                .with_delimiter(options.delimiter)
                .build(BufWriter::with_capacity(IO_BUFFER, file));
            let mut written = false;
            stream.for_each(|batch| {
                writer
                    .write(&batch)
                    .map_err(|e| fail(write_error(path, e)))?;
                written = true;
                Ok(Flow::Continue)
            })?;
            // An empty partition still gets its header.
            if !written {
                writer
                    .write(&RecordBatch::new_empty(schema.clone()))
                    .map_err(|e| fail(write_error(path, e)))?;
            }
            // `into_inner` flushes explicitly: dropping the buffer would
            // swallow a failed write.
            writer
                .into_inner()
                .into_inner()
                .map_err(|e| fail(io_error(path, e.into_error())))?;
            Ok(path.clone())
        });
        Ok(compute_all_with(&tasks[..], &Scheduler::current())?)
    }
}

/// The paths of `n` partition files: `*` replaced by the zero-padded
/// partition number.
fn numbered_paths(pattern: &Path, n: usize) -> Result<Vec<PathBuf>> {
    let text = pattern.to_str().ok_or_else(|| {
        DataFrameError::Invalid(format!(
            "to_csv: the pattern {:?} is not valid UTF-8",
            pattern.to_string_lossy()
        ))
    })?;
    if !text.contains('*') {
        return Err(DataFrameError::Invalid(format!(
            "to_csv: the pattern {text:?} has no `*` to replace by the partition number"
        )));
    }
    let width = n.saturating_sub(1).to_string().len();
    Ok((0..n)
        .map(|i| PathBuf::from(text.replace('*', &format!("{i:0width$}"))))
        .collect())
}

/// Creates the directories of `paths` up front, once each, so that a
/// permission problem is a plain error before anything is computed.
pub(super) fn create_parents(paths: &[PathBuf]) -> Result<()> {
    let mut dirs: Vec<&Path> = paths
        .iter()
        .filter_map(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_arrow_csv_parses_them() {
        assert!(parses("12", &DataType::Int64));
        assert!(!parses("1.5", &DataType::Int64));
        assert!(!parses("300", &DataType::UInt8));
        assert!(parses("TRUE", &DataType::Boolean));
        assert!(!parses("yes", &DataType::Boolean));
        assert!(parses("1e3", &DataType::Float64));
        assert!(parses("2024-02-29", &DataType::Date32));
        assert!(!parses("2023-02-29", &DataType::Date32));
        let ts = DataType::Timestamp(TimeUnit::Second, None);
        assert!(parses("2024-01-01T10:00:00", &ts));
        assert!(!parses("noon", &ts));
        assert!(parses("1.25", &DataType::Decimal128(10, 2)));
        assert!(!parses("1.2x", &DataType::Decimal128(10, 2)));
        assert!(parses("anything", &DataType::Utf8));
    }

    #[test]
    fn decodable_types() {
        assert!(decodable(&DataType::Int64));
        assert!(!decodable(&DataType::new_list(DataType::Int64, true)));
        assert!(!decodable(&DataType::Time32(TimeUnit::Nanosecond)));
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert!(decodable(&dict));
    }
}
