//! Parquet input and output: [`read_parquet`] / [`ReadParquet`] make a frame
//! with one partition per row group of the files named by a glob (or in a
//! directory); [`DataFrame::to_parquet`] writes one file per partition.
//!
//! The footers are read when the frame is built (a few kilobytes per file),
//! so a corrupt file or one with another schema is an error right away; the
//! tasks reuse them and read only the projected columns of their row group.

use std::cmp::Ordering;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use dagwood_runtime::{compute_all_with, Scheduler, TaskError};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::super::error::{DataFrameError, Result};
use super::super::{check_same_schema, BatchSink, DataFrame, Flow, Scan, Source};
use super::io_error;
use crate::files::glob::expand_glob;
use crate::files::read::file_size;
use crate::files::write::create_parents;
use crate::files::FileError;

/// Rows per batch read from a row group by default.
const DEFAULT_BATCH_SIZE: usize = 65536;

/// Reads every Parquet file matching a glob pattern, with options;
/// [`read_parquet`] is the shorthand with the defaults.
///
/// * The pattern is a glob or a path; a directory stands for the `.parquet`
///   files in it whose names do not start with `.` or `_` (so `_metadata`
///   and `_SUCCESS` files are skipped).
/// * Files are taken in natural order: runs of digits compare as numbers, so
///   `part.2.parquet` comes before `part.10.parquet` and the partitions
///   [`DataFrame::to_parquet`] wrote come back in order.
/// * Each row group is a partition; a file without row groups (an empty
///   partition written by `to_parquet`) is one empty partition.
/// * The schema is the first file's. Every footer is read when the frame is
///   built: a file that is not Parquet is a [`DataFrameError::Format`], one
///   whose columns differ a [`DataFrameError::SchemaMismatch`], both naming
///   the file.
/// * Only the columns the computation needs are read.
///
/// ```
/// use std::sync::Arc;
/// use dagwood_collections::dataframe::arrow_array::{ArrayRef, Int64Array};
/// use dagwood_collections::dataframe::{DataFrame, ReadParquet};
/// let dir = std::env::temp_dir().join(format!("dagwood-doc-readparquet-{}", std::process::id()));
/// let x = Arc::new(Int64Array::from((0..10).collect::<Vec<i64>>())) as ArrayRef;
/// DataFrame::from_arrays([("x", x.clone())], 3).unwrap().to_parquet(&dir).unwrap();
///
/// let df = ReadParquet::new(&dir).batch_size(2).read().unwrap();
/// assert_eq!(df.npartitions(), 3);
/// assert_eq!(df.compute().unwrap().column(0), &x);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ReadParquet {
    pattern: PathBuf,
    batch_size: usize,
}

impl ReadParquet {
    /// Reading the files matching `pattern` (a glob, a file or a directory)
    /// in batches of 65536 rows.
    ///
    /// ```
    /// use dagwood_collections::dataframe::{DataFrameError, ReadParquet};
    /// use dagwood_collections::FileError;
    /// let err = ReadParquet::new("/nonexistent-dagwood-dir/*.parquet").read().unwrap_err();
    /// assert!(matches!(err, DataFrameError::File(FileError::NoFiles { .. })));
    /// ```
    pub fn new(pattern: impl AsRef<Path>) -> ReadParquet {
        ReadParquet {
            pattern: pattern.as_ref().to_path_buf(),
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Rows per batch (at least 1): the unit in which rows go through the
    /// frame's steps.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_collections::dataframe::arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{DataFrame, ReadParquet};
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-parquet-batch-{}", std::process::id()));
    /// let x = Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef;
    /// DataFrame::from_arrays([("x", x)], 1).unwrap().to_parquet(&dir).unwrap();
    /// let df = ReadParquet::new(dir.join("*.parquet")).batch_size(1).read().unwrap();
    /// assert_eq!(df.head(2).unwrap().num_rows(), 2);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn batch_size(mut self, rows: usize) -> ReadParquet {
        self.batch_size = rows;
        self
    }

    /// Finds the files, reads their footers and plans one partition per row
    /// group; the rows are read by the tasks.
    ///
    /// Errors: [`FileError::Pattern`](crate::FileError::Pattern), [`FileError::NoFiles`](crate::FileError::NoFiles),
    /// [`crate::FileError::Io`] naming a file that cannot be opened,
    /// [`DataFrameError::Format`] naming a file that is not Parquet,
    /// [`DataFrameError::SchemaMismatch`] naming a file whose schema differs
    /// from the first's, [`DataFrameError::Invalid`] for a batch size of 0.
    ///
    /// ```
    /// use dagwood_collections::dataframe::{DataFrameError, ReadParquet};
    /// use dagwood_collections::FileError;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-parquet-read-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("bad.parquet"), "not parquet").unwrap();
    /// let err = ReadParquet::new(dir.join("bad.parquet")).read().unwrap_err();
    /// assert!(matches!(err, DataFrameError::Format { .. }));
    /// assert!(err.to_string().contains("bad.parquet"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn read(&self) -> Result<DataFrame> {
        if self.batch_size == 0 {
            return Err(DataFrameError::Invalid(format!(
                "read_parquet {:?}: batch_size must be at least 1 row",
                self.pattern.display()
            )));
        }
        let mut paths = if self.pattern.is_dir() {
            directory_files(&self.pattern)?
        } else {
            expand_glob(&self.pattern)?
        };
        paths.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
        let mut files = Vec::with_capacity(paths.len());
        let mut parts = Vec::new();
        let mut schema: Option<SchemaRef> = None;
        for path in paths {
            file_size(&path)?;
            let f = File::open(&path).map_err(|e| io_error(&path, e))?;
            let metadata = ArrowReaderMetadata::load(&f, ArrowReaderOptions::new())
                .map_err(|e| format_error(&path, e))?;
            match &schema {
                None => {
                    // Schema-level metadata (pandas' or arrow's own) is no
                    // part of the frame's schema.
                    let fields = metadata.schema().fields().clone();
                    schema = Some(Arc::new(Schema::new(fields)));
                }
                Some(first) => {
                    check_same_schema(first, metadata.schema(), &path.display().to_string())?
                }
            }
            let groups = metadata.metadata().num_row_groups();
            let file = files.len();
            if groups == 0 {
                parts.push((file, None));
            }
            parts.extend((0..groups).map(|g| (file, Some(g))));
            files.push(ParquetFile { path, metadata });
        }
        let Some(schema) = schema else {
            return Err(FileError::NoFiles {
                pattern: self.pattern.display().to_string(),
            }
            .into());
        };
        let scan = ParquetScan {
            schema,
            files,
            parts,
            batch_size: self.batch_size,
        };
        Ok(DataFrame::from_source(Source::Scan(Arc::new(scan))))
    }
}

/// A frame of every Parquet file matching `pattern` (a glob, a file, or a
/// directory of `.parquet` files), one partition per row group; see
/// [`ReadParquet`] for the details.
///
/// ```
/// use std::sync::Arc;
/// use dagwood_collections::dataframe::arrow_array::{ArrayRef, Float64Array, StringArray};
/// use dagwood_collections::dataframe::{read_parquet, DataFrame};
/// let dir = std::env::temp_dir().join(format!("dagwood-doc-read-parquet-{}", std::process::id()));
/// let df = DataFrame::from_arrays(
///     [
///         ("name", Arc::new(StringArray::from(vec!["a", "b", "c"])) as ArrayRef),
///         ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef),
///     ],
///     2,
/// )
/// .unwrap();
/// df.to_parquet(&dir).unwrap();
///
/// let back = read_parquet(dir.join("part.*.parquet")).unwrap();
/// assert_eq!(back.npartitions(), 2);
/// let x = back.select(["x"]).unwrap().compute().unwrap();
/// assert_eq!(x.column(0).as_ref(), &Float64Array::from(vec![1.0, 2.0, 3.0]));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_parquet(pattern: impl AsRef<Path>) -> Result<DataFrame> {
    ReadParquet::new(pattern).read()
}

/// A file and its footer, read when the frame was built.
struct ParquetFile {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
}

/// The [`Scan`] of `read_parquet`: row groups of files.
struct ParquetScan {
    schema: SchemaRef,
    files: Vec<ParquetFile>,
    /// File and row group of each partition (`None`: a file without any).
    parts: Vec<(usize, Option<usize>)>,
    batch_size: usize,
}

impl Scan for ParquetScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn npartitions(&self) -> usize {
        self.parts.len()
    }

    fn cost(&self, part: usize) -> u64 {
        // The row group's compressed bytes.
        match self.parts.get(part) {
            Some(&(f, Some(g))) => self.files.get(f).map_or(1, |file| {
                let groups = file.metadata.metadata().row_groups();
                groups
                    .get(g)
                    .map_or(1, |rg| rg.compressed_size().max(1) as u64)
            }),
            _ => 1,
        }
    }

    fn op(&self) -> &str {
        "read-parquet"
    }

    fn read(
        &self,
        part: usize,
        projection: &[usize],
        sink: &mut BatchSink<'_>,
    ) -> std::result::Result<(), TaskError> {
        let fail = |e: DataFrameError| TaskError::failed(e);
        let &(file, group) = self.parts.get(part).ok_or_else(|| {
            fail(DataFrameError::Invalid(format!(
                "read-parquet has no partition {part}"
            )))
        })?;
        let Some(group) = group else {
            return Ok(());
        };
        let file = &self.files[file];
        let path = &file.path;
        let schema = Arc::new(self.schema.project(projection).map_err(TaskError::failed)?);
        let f = File::open(path).map_err(|e| fail(io_error(path, e)))?;
        let mask =
            ProjectionMask::roots(file.metadata.parquet_schema(), projection.iter().copied());
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(f, file.metadata.clone())
            .with_row_groups(vec![group])
            .with_projection(mask)
            .with_batch_size(self.batch_size)
            .build()
            .map_err(|e| fail(format_error(path, e)))?;
        for batch in reader {
            let batch = batch.map_err(|e| {
                fail(DataFrameError::Format {
                    path: path.clone(),
                    message: format!("row group {group}: {e}"),
                })
            })?;
            // The frame's own field objects (without the file's field
            // metadata), keeping the row count of column-less batches.
            let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
            let batch = RecordBatch::try_new_with_options(
                schema.clone(),
                batch.columns().to_vec(),
                &options,
            )
            .map_err(|e| {
                fail(DataFrameError::Format {
                    path: path.clone(),
                    message: format!("row group {group}: {e}"),
                })
            })?;
            if sink(batch)? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }
}

/// The Parquet files in a directory, as Dask reads a dataset directory:
/// `*.parquet`, without hidden files or `_`-prefixed ones.
fn directory_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') || !name.ends_with(".parquet") {
            continue;
        }
        paths.push(entry.path());
    }
    if paths.is_empty() {
        return Err(FileError::NoFiles {
            pattern: dir.join("*.parquet").display().to_string(),
        }
        .into());
    }
    Ok(paths)
}

/// Compares strings with runs of ASCII digits taken as numbers (`a2` <
/// `a10`); equal numbers with more leading zeros come later, so the order is
/// total.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    /// The digit run at `k` without its leading zeros, how many zeros
    /// there were, and where the run ends.
    fn run(s: &[u8], k: usize) -> (&[u8], usize, usize) {
        let end = s[k..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(s.len(), |p| k + p);
        let zeros = s[k..end].iter().take_while(|&&c| c == b'0').count();
        (&s[k + zeros..end], zeros, end)
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (da, za, ea) = run(a, i);
            let (db, zb, eb) = run(b, j);
            let order = da
                .len()
                .cmp(&db.len())
                .then_with(|| da.cmp(db))
                .then_with(|| za.cmp(&zb));
            if order != Ordering::Equal {
                return order;
            }
            (i, j) = (ea, eb);
        } else {
            match a[i].cmp(&b[j]) {
                Ordering::Equal => (i, j) = (i + 1, j + 1),
                order => return order,
            }
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn format_error(path: &Path, e: ParquetError) -> DataFrameError {
    DataFrameError::Format {
        path: path.to_path_buf(),
        message: format!("not a readable Parquet file: {e}"),
    }
}

fn write_error(path: &Path, e: ParquetError) -> DataFrameError {
    match e {
        ParquetError::External(e) => match e.downcast::<std::io::Error>() {
            Ok(io) => io_error(path, *io),
            Err(e) => io_error(path, std::io::Error::other(e)),
        },
        other => io_error(path, std::io::Error::other(other.to_string())),
    }
}

impl DataFrame {
    /// Writes the frame as a Parquet dataset: `dir/part.<i>.parquet`, one
    /// file per partition (Dask's naming), snappy-compressed, creating `dir`
    /// if needed. Each partition is written by its own task, batch by batch
    /// as it is read. An empty partition is a file without row groups.
    /// Other files in `dir` are left alone, so write to a fresh directory
    /// (or clear it) if an earlier dataset there had more partitions.
    ///
    /// Returns the written paths in partition order. Errors:
    /// [`crate::FileError::Io`] when `dir` cannot be created; a failed write
    /// comes back as [`DataFrameError::Compute`] whose cause names the file.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_collections::dataframe::arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{col, read_parquet, DataFrame};
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-to-parquet-{}", std::process::id()));
    /// let x = Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("x", x.clone())], 2).unwrap();
    /// let paths = df.to_parquet(&dir).unwrap();
    /// assert!(paths[1].ends_with("part.1.parquet"));
    ///
    /// let back = read_parquet(&dir).unwrap();
    /// assert_eq!(back.compute().unwrap().column(0), &x);
    /// let big = back.filter(col("x").gt(2)).unwrap().compute().unwrap();
    /// assert_eq!(big.column(0).as_ref(), &Int64Array::from(vec![3, 4]));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn to_parquet(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let paths: Vec<PathBuf> = (0..self.npartitions())
            .map(|i| dir.join(format!("part.{i}.parquet")))
            .collect();
        create_parents(&paths)?;
        let paths: Arc<[PathBuf]> = paths.into();
        let schema = self.schema.clone();
        let tasks = self.consume("to-parquet", move |i, stream| {
            let path = &paths[i];
            let fail = |e: DataFrameError| TaskError::failed(e);
            let file = File::create(path).map_err(|e| fail(io_error(path, e)))?;
            let properties = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
                .map_err(|e| fail(write_error(path, e)))?;
            stream.for_each(|batch| {
                // Rebuilt on the frame's schema: batches made by steps carry
                // equal but separate schema objects.
                let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                let batch = RecordBatch::try_new_with_options(
                    schema.clone(),
                    batch.columns().to_vec(),
                    &options,
                )
                .map_err(|e| {
                    fail(DataFrameError::SchemaMismatch {
                        what: format!("partition {i}"),
                        message: e.to_string(),
                    })
                })?;
                writer
                    .write(&batch)
                    .map_err(|e| fail(write_error(path, e)))?;
                Ok(Flow::Continue)
            })?;
            writer.close().map_err(|e| fail(write_error(path, e)))?;
            Ok(path.clone())
        });
        Ok(compute_all_with(&tasks[..], &Scheduler::current())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut names = vec![
            "part.10.parquet",
            "part.2.parquet",
            "part.1.parquet",
            "a",
            "part.02.parquet",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "a",
                "part.1.parquet",
                "part.2.parquet",
                "part.02.parquet",
                "part.10.parquet"
            ]
        );
        assert_eq!(natural_cmp("x9y", "x10"), Ordering::Less);
        assert_eq!(natural_cmp("x", "x1"), Ordering::Less);
        assert_eq!(natural_cmp("b1", "a2"), Ordering::Greater);
    }
}
