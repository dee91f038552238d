//! The schema of a CSV frame, planned when it is built: every file's first
//! record checked against the columns, and the column types given or
//! inferred from a sample.

use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use arrow_csv::reader::Format;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::super::io_error;
use super::scan::{open_stream, CsvFile, Dialect};
use crate::dataframe::error::{DataFrameError, Result};
use crate::dataframe::expr::unknown_column;

/// What planning a frame's schema takes from [`ReadCsv`]'s options.
pub(super) struct SchemaPlan<'a> {
    pub(super) pattern: &'a Path,
    pub(super) schema: Option<&'a SchemaRef>,
    pub(super) dtypes: &'a [(String, DataType)],
    pub(super) has_header: bool,
    pub(super) infer_rows: usize,
}

impl SchemaPlan<'_> {
    /// The frame's schema: given or inferred, headers checked, overrides
    /// applied.
    pub(super) fn plan_schema(
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
        let mut fields: Vec<Field> = match (self.schema, first) {
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
        for (name, data_type) in self.dtypes {
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

/// The first record of a file (its header, if it has one) and the offset
/// just past it, or `None` for a file without any record.
pub(super) fn first_record(
    path: &Path,
    gz: bool,
    dialect: &Dialect,
) -> Result<Option<(Vec<String>, u64)>> {
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
pub(super) fn check_heads(
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
pub(super) fn duplicate(names: &[String]) -> Option<&String> {
    names
        .iter()
        .enumerate()
        .find_map(|(i, n)| names[..i].contains(n).then_some(n))
}

/// Whether arrow-csv's decoder can make a column of this type.
pub(super) fn decodable(data_type: &DataType) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodable_types() {
        assert!(decodable(&DataType::Int64));
        assert!(!decodable(&DataType::new_list(DataType::Int64, true)));
        assert!(!decodable(&DataType::Time32(TimeUnit::Nanosecond)));
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert!(decodable(&dict));
    }
}
