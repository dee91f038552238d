//! The tasks of `read_csv`: each reads one block of a file (the rows whose
//! line starts in it), decoding only the columns the frame's steps need.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::*;
use arrow_cast::parse::{parse_decimal, string_to_datetime, Parser};
use arrow_csv::reader::Format;
use arrow_csv::ReaderBuilder;
use arrow_schema::{ArrowError, DataType, SchemaRef, TimeUnit};
use dagwood_runtime::TaskError;
use flate2::read::MultiGzDecoder;

use super::super::io_error;
use super::super::unquoted::{self, Outcome, ReadError, Unquoted};
use crate::dataframe::error::{DataFrameError, Result};
use crate::dataframe::{BatchSink, Flow, Scan};
use crate::files::read::line_number_at;
use crate::files::IO_BUFFER;

/// How fields are split and which texts are null: the same for the header
/// check, the decoder and the search for a bad value.
#[derive(Clone, Debug)]
pub(super) struct Dialect {
    pub(super) delimiter: u8,
    pub(super) quote: u8,
    /// Texts read as null besides the empty field.
    pub(super) nulls: Arc<[String]>,
}

impl Dialect {
    /// arrow-csv's format: no header (headers are skipped by the scan), and
    /// the null texts as an anchored regex.
    pub(super) fn format(&self) -> Result<Format> {
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
    pub(super) fn records<R: Read>(&self, reader: R) -> csv::Reader<R> {
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
pub(super) struct CsvFile {
    pub(super) path: PathBuf,
    pub(super) gz: bool,
    /// Its size then (compressed for `.gz`); a file that has shrunk since is
    /// an error rather than silently fewer rows.
    pub(super) size: u64,
    /// Where the rows start: past the header, or 0 (decompressed offset for
    /// `.gz`).
    pub(super) data_start: u64,
}

/// One partition: the rows of `file` whose line starts in `start..end`
/// (`end: None`, to the end of the file).
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    pub(super) file: usize,
    pub(super) start: u64,
    pub(super) end: Option<u64>,
}

/// A block opened for reading.
pub(super) struct OpenBlock {
    /// The block's bytes, from `start` to `end`.
    pub(super) input: Box<dyn BufRead>,
    /// Offset of its first row in the file (decompressed for `.gz`).
    pub(super) start: u64,
    /// Offset just past its last row (`None`: the end of the file).
    pub(super) end: Option<u64>,
    /// An upper bound of the end (`None` for gzip, whose length is not
    /// known up front).
    pub(super) bound: Option<u64>,
}

/// The [`Scan`] of `read_csv`: blocks of files decoded by arrow-csv.
pub(super) struct CsvScan {
    pub(super) schema: SchemaRef,
    pub(super) files: Vec<CsvFile>,
    pub(super) blocks: Vec<Block>,
    pub(super) format: Format,
    pub(super) dialect: Dialect,
    pub(super) batch_size: usize,
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
pub(super) fn line_start(file: &mut File, offset: u64) -> io::Result<u64> {
    if offset == 0 {
        return Ok(0);
    }
    file.seek(SeekFrom::Start(offset - 1))?;
    let skipped = BufReader::with_capacity(64 << 10, &mut *file).skip_until(b'\n')?;
    Ok(offset - 1 + skipped as u64)
}

/// The decompressed stream of a `.gz` file from byte `offset` on.
pub(super) fn open_decompressed_at(file: &CsvFile, offset: u64) -> Result<Box<dyn BufRead>> {
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
pub(super) fn open_stream(path: &Path, gz: bool) -> Result<Box<dyn Read>> {
    let f = File::open(path).map_err(|e| io_error(path, e))?;
    Ok(if gz {
        Box::new(MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    })
}

/// A read error, said to be a damaged stream for gzip (where it is one).
pub(super) fn read_error(file: &CsvFile, e: io::Error) -> DataFrameError {
    if file.gz {
        let context = format!("gzip data is truncated or corrupt: {e}");
        io_error(&file.path, io::Error::new(e.kind(), context))
    } else {
        io_error(&file.path, e)
    }
}

/// Whether arrow-csv's decoder accepts `text` (not null) as a value of
/// `data_type`: the same parse functions as arrow-csv 60 calls.
pub(super) fn parses(text: &str, data_type: &DataType) -> bool {
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
}
