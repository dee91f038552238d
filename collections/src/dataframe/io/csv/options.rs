//! [`ReadCsv`]: the options of reading CSV files, and planning the frame
//! (files, blocks, schema) from them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{DataType, SchemaRef};

use super::infer::{first_record, SchemaPlan};
use super::scan::{Block, CsvFile, CsvScan, Dialect};
use super::{DEFAULT_BATCH_SIZE, DEFAULT_BLOCKSIZE, DEFAULT_INFER_ROWS};
use crate::dataframe::error::{DataFrameError, Result};
use crate::dataframe::{DataFrame, Source};
use crate::files::glob::expand_glob;
use crate::files::read::{file_size, is_gz};

/// Reads the rows of every CSV file matching a glob pattern, with options;
/// [`read_csv`] is the shorthand with the defaults.
///
/// * Files are taken in sorted path order; `*` and `?` do not match a
///   leading `.` (hidden files). A pattern matching nothing is
///   [`FileError::NoFiles`](crate::FileError::NoFiles), a malformed one [`FileError::Pattern`](crate::FileError::Pattern).
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
    pub(super) pattern: PathBuf,
    pub(super) blocksize: Option<u64>,
    pub(super) has_header: bool,
    pub(super) delimiter: u8,
    pub(super) quote: u8,
    pub(super) null_values: Vec<String>,
    pub(super) schema: Option<SchemaRef>,
    pub(super) dtypes: Vec<(String, DataType)>,
    pub(super) infer_rows: usize,
    pub(super) batch_size: usize,
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
    /// Errors: [`FileError::Pattern`](crate::FileError::Pattern), [`FileError::NoFiles`](crate::FileError::NoFiles),
    /// [`FileError::Io`](crate::FileError::Io) naming a file that cannot be read (or is a
    /// directory), [`DataFrameError::SchemaMismatch`] naming a file whose
    /// header differs, [`DataFrameError::Format`] for a file that is not CSV
    /// as configured, [`DataFrameError::UnknownColumn`] for a
    /// [`dtype`](Self::dtype) of no column, [`DataFrameError::Invalid`] for
    /// bad options or a column type CSV cannot hold.
    ///
    /// ```
    /// use dagwood_collections::dataframe::{DataFrameError, ReadCsv};
    /// use dagwood_collections::FileError;
    /// let err = ReadCsv::new("/nonexistent-dagwood-dir/*.csv").read().unwrap_err();
    /// assert!(matches!(err, DataFrameError::File(FileError::NoFiles { .. })));
    /// let err = ReadCsv::new("data/[.csv").read().unwrap_err();
    /// assert!(matches!(err, DataFrameError::File(FileError::Pattern { .. })));
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
        for path in expand_glob(&self.pattern)? {
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
        let plan = SchemaPlan {
            pattern: &self.pattern,
            schema: self.schema.as_ref(),
            dtypes: &self.dtypes,
            has_header: self.has_header,
            infer_rows: self.infer_rows,
        };
        let schema = plan.plan_schema(&files, &heads, &format)?;
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
