//! Pretty printing of computed results as a text table.

use std::fmt;

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};

/// A record batch shown as a table: a header of column names and types,
/// then the rows — the first and last `max_rows / 2` when there are more
/// than `max_rows` (default 20), with a `…` row between.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
/// use dagwood_collections::dataframe::Pretty;
/// let b = RecordBatch::try_from_iter([
///     ("name", Arc::new(StringArray::from(vec!["a", "bb"])) as ArrayRef),
///     ("n", Arc::new(Int64Array::from(vec![1, 22])) as ArrayRef),
/// ]).unwrap();
/// let text = Pretty::new(&b).to_string();
/// assert!(text.contains("| name | n     |"), "{text}");
/// assert!(text.contains("| bb   | 22    |"), "{text}");
/// ```
pub struct Pretty<'a> {
    batch: &'a RecordBatch,
    max_rows: usize,
}

impl<'a> Pretty<'a> {
    /// A table of `batch` showing at most 20 rows.
    pub fn new(batch: &'a RecordBatch) -> Pretty<'a> {
        Pretty {
            batch,
            max_rows: 20,
        }
    }

    /// Shows at most `n` rows (at least 2).
    pub fn max_rows(mut self, n: usize) -> Pretty<'a> {
        self.max_rows = n.max(2);
        self
    }
}

/// The batch as a table of at most 20 rows (see [`Pretty`]).
pub fn pretty(batch: &RecordBatch) -> String {
    Pretty::new(batch).to_string()
}

impl fmt::Display for Pretty<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.batch;
        let options = FormatOptions::default().with_null("null");
        let rows = b.num_rows();
        let shown: Vec<Option<usize>> = if rows <= self.max_rows {
            (0..rows).map(Some).collect()
        } else {
            let half = self.max_rows / 2;
            (0..half)
                .map(Some)
                .chain(std::iter::once(None))
                .chain((rows - half..rows).map(Some))
                .collect()
        };
        let mut cells: Vec<Vec<String>> = Vec::with_capacity(b.num_columns());
        for (field, array) in b.schema().fields().iter().zip(b.columns()) {
            let mut column = vec![field.name().clone(), field.data_type().to_string()];
            match ArrayFormatter::try_new(array.as_ref(), &options) {
                Ok(fmt) => {
                    for r in &shown {
                        column.push(match r {
                            Some(r) => fmt.value(*r).to_string(),
                            None => "…".to_owned(),
                        });
                    }
                }
                Err(_) => column.extend(shown.iter().map(|_| "?".to_owned())),
            }
            cells.push(column);
        }
        let widths: Vec<usize> = cells
            .iter()
            .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
            .collect();
        let rule = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            write!(f, "+")?;
            for w in &widths {
                write!(f, "{}+", "-".repeat(w + 2))?;
            }
            writeln!(f)
        };
        let line = |f: &mut fmt::Formatter<'_>, r: usize| -> fmt::Result {
            write!(f, "|")?;
            for (c, w) in cells.iter().zip(&widths) {
                let s = &c[r];
                let pad = w - s.chars().count();
                write!(f, " {s}{} |", " ".repeat(pad))?;
            }
            writeln!(f)
        };
        rule(f)?;
        line(f, 0)?;
        line(f, 1)?;
        rule(f)?;
        for r in 0..shown.len() {
            line(f, r + 2)?;
        }
        rule(f)?;
        write!(f, "{rows} rows × {} columns", b.num_columns())
    }
}
