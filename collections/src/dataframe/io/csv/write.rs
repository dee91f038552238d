//! `DataFrame::to_csv`: one CSV file per partition, written by its task
//! batch by batch.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_csv::WriterBuilder;
use dagwood_runtime::{compute_all_with, Scheduler, TaskError};

use super::super::{io_error, write_error};
use crate::dataframe::error::{DataFrameError, Result};
use crate::dataframe::{DataFrame, Flow};
use crate::files::write::{create_parents, numbered_paths};
use crate::files::IO_BUFFER;

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
        let paths = numbered_paths("to_csv", pattern.as_ref(), self.npartitions())
            .map_err(DataFrameError::Invalid)?;
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
