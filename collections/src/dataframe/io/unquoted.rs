//! The fast path of `read_csv`: rows with no quote character, split with
//! `memchr` instead of a byte-at-a-time CSV state machine.
//!
//! Most machine-written CSV (logs, exports, benchmark data) never quotes a
//! field, and for such text the full CSV grammar is wasted work: splitting
//! at newlines and delimiters gives the same fields. Profiles of the
//! groupby benchmark showed arrow-csv's record splitter taking almost half
//! of the time; this path removes most of it.
//!
//! The path is conservative. It decodes a run of lines only when they hold
//! no quote, no lone carriage return, valid UTF-8, the expected number of
//! fields, and values that parse as their columns' types (by the same
//! parsers arrow-csv uses), and only for the column types listed in
//! [`supported`]. At the first run it cannot decode it stops and hands the
//! remaining bytes back: the caller goes on with arrow-csv from there, which
//! gives the same rows, or the precise error (file, line, column) for bad
//! input. Batches already handed on are never revisited, so every row is
//! decoded exactly once.

use std::io::BufRead;
use std::sync::Arc;

use arrow_array::builder::{GenericStringBuilder, PrimitiveBuilder};
use arrow_array::types::*;
use arrow_array::{ArrayRef, ArrowPrimitiveType, RecordBatch, RecordBatchOptions};
use arrow_cast::parse::Parser;
use arrow_schema::{DataType, SchemaRef};

/// Bytes read from the input at a time (more for a longer line): a batch
/// of a few tens of thousands of rows of typical CSV, small enough to stay
/// in cache-sized pieces.
const CHUNK: usize = 2 << 20;

/// Whether the fast path can decode a column of this type.
pub(super) fn supported(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Utf8 | LargeUtf8
            | Int8
            | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float32
            | Float64
    )
}

/// How the fast path ended.
pub(super) enum Outcome {
    /// The input is used up, or the consumer asked to stop.
    Done,
    /// A run of lines it cannot decode: these bytes (from a line start) and
    /// the rest of the input are for arrow-csv.
    Rest(Vec<u8>),
}

/// The splitting rules and the columns to decode.
pub(super) struct Unquoted<'a> {
    /// The file's full schema (the field count every line must have).
    pub schema: &'a SchemaRef,
    /// The columns to decode, in output order.
    pub projection: &'a [usize],
    pub delimiter: u8,
    pub quote: u8,
    /// Whether a field's text is a null (the reader's null values).
    pub is_null: &'a dyn Fn(&str) -> bool,
    /// Rows per batch at most.
    pub batch_size: usize,
}

impl Unquoted<'_> {
    /// Decodes `input` into batches for `emit` (which answers whether to go
    /// on), advancing `pos` by the bytes decoded.
    pub(super) fn read<E>(
        &self,
        input: &mut dyn BufRead,
        pos: &mut u64,
        mut emit: impl FnMut(RecordBatch) -> Result<bool, E>,
    ) -> Result<Outcome, ReadError<E>> {
        // `buf[head..filled]` is read and not yet decoded. Reading straight
        // into it (the input's own buffer is smaller, so it is bypassed)
        // saves a copy of every byte.
        let mut buf = vec![0u8; CHUNK];
        let (mut head, mut filled) = (0usize, 0usize);
        let mut eof = false;
        loop {
            let whole = loop {
                let avail = &buf[head..filled];
                if eof {
                    break avail.len();
                }
                // The last line is whole once a newline follows it; until
                // then the input is read on.
                if let Some(i) = memchr::memrchr(b'\n', avail) {
                    if avail.len() >= CHUNK / 2 {
                        break i + 1;
                    }
                }
                buf.copy_within(head..filled, 0);
                (filled, head) = (filled - head, 0);
                if filled == buf.len() {
                    // A line longer than the buffer: make room.
                    buf.resize(buf.len() * 2, 0);
                }
                let n = loop {
                    match input.read(&mut buf[filled..]) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        other => break other.map_err(ReadError::Io)?,
                    }
                };
                filled += n;
                eof = n == 0;
            };
            if whole == 0 {
                return Ok(Outcome::Done);
            }
            let lines = &buf[head..head + whole];
            let decoded = if self.plain(lines) {
                self.decode(lines)
            } else {
                None
            };
            let Some((batch, used)) = decoded else {
                return Ok(Outcome::Rest(buf[head..filled].to_vec()));
            };
            head += used;
            *pos += used as u64;
            if let Some(batch) = batch {
                if !emit(batch).map_err(ReadError::Emit)? {
                    return Ok(Outcome::Done);
                }
            }
        }
    }

    /// Whether the bytes hold nothing the simple splitting would get wrong:
    /// no quote character and no carriage return outside a `\r\n`.
    fn plain(&self, bytes: &[u8]) -> bool {
        if memchr::memchr(self.quote, bytes).is_some() {
            return false;
        }
        memchr::memchr_iter(b'\r', bytes).all(|i| bytes.get(i + 1) == Some(&b'\n'))
    }

    /// Decodes whole lines from the start of `bytes` into one batch of at
    /// most `batch_size` rows: the batch (`None` when the lines were all
    /// blank) and the bytes it took, or `None` at the first line the fast
    /// path cannot decode, or if that line is the first.
    fn decode(&self, bytes: &[u8]) -> Option<(Option<RecordBatch>, usize)> {
        let text = std::str::from_utf8(bytes).ok()?;
        let ncols = self.schema.fields().len();
        let mut columns: Vec<Column> = self
            .projection
            .iter()
            .map(|&i| Column::new(self.schema.field(i).data_type(), self.batch_size))
            .collect::<Option<_>>()?;
        let nullable: Vec<bool> = self
            .projection
            .iter()
            .map(|&i| self.schema.field(i).is_nullable())
            .collect();
        // Where column `i`'s field is wanted in the output, if it is.
        let mut slot = vec![None; ncols];
        for (out, &i) in self.projection.iter().enumerate() {
            slot[i] = Some(out);
        }
        // One pass finds every delimiter and newline; a line ends at a
        // newline (or the end of the text) and loses a `\r` before it.
        let mut cuts = memchr::memchr2_iter(self.delimiter, b'\n', bytes);
        let (mut rows, mut at) = (0usize, 0usize);
        let (mut field, mut start) = (0usize, 0usize);
        while rows < self.batch_size && at < bytes.len() {
            let (cut, eol) = match cuts.next() {
                Some(i) => (i, bytes[i] == b'\n'),
                None => (bytes.len(), true),
            };
            let mut end = cut;
            if eol && end > start && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            if eol && field == 0 && end == start {
                // A blank line: no row, as for arrow-csv.
                (start, at) = (cut + 1, (cut + 1).min(bytes.len()));
                continue;
            }
            if field >= ncols {
                return None;
            }
            if let Some(out) = slot[field] {
                let value = &text[start..end];
                let ok = if (self.is_null)(value) {
                    nullable[out] && columns[out].push_null()
                } else {
                    columns[out].push(value)
                };
                if !ok {
                    // Rows pushed for this line are dropped with the whole
                    // batch: arrow-csv decodes them again.
                    return None;
                }
            }
            field += 1;
            start = cut + 1;
            if eol {
                if field != ncols {
                    return None;
                }
                rows += 1;
                field = 0;
                at = (cut + 1).min(bytes.len());
            }
        }
        if rows == 0 {
            return (at > 0).then_some((None, at));
        }
        let arrays: Vec<ArrayRef> = columns.iter_mut().map(Column::finish).collect();
        let schema = Arc::new(self.schema.project(self.projection).ok()?);
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(schema, arrays, &options).ok()?;
        Some((Some(batch), at))
    }
}

/// Why [`Unquoted::read`] failed: reading the input, or the consumer.
pub(super) enum ReadError<E> {
    Io(std::io::Error),
    Emit(E),
}

/// One output column being built.
enum Column {
    Utf8(GenericStringBuilder<i32>),
    LargeUtf8(GenericStringBuilder<i64>),
    Parsed(Box<dyn ParsedColumn>),
}

impl Column {
    fn new(data_type: &DataType, rows: usize) -> Option<Column> {
        fn parsed<T: ArrowPrimitiveType + Parser>(rows: usize) -> Option<Column> {
            Some(Column::Parsed(Box::new(
                PrimitiveBuilder::<T>::with_capacity(rows),
            )))
        }
        match data_type {
            DataType::Utf8 => Some(Column::Utf8(GenericStringBuilder::with_capacity(
                rows,
                rows * 16,
            ))),
            DataType::LargeUtf8 => Some(Column::LargeUtf8(GenericStringBuilder::with_capacity(
                rows,
                rows * 16,
            ))),
            DataType::Int8 => parsed::<Int8Type>(rows),
            DataType::Int16 => parsed::<Int16Type>(rows),
            DataType::Int32 => parsed::<Int32Type>(rows),
            DataType::Int64 => parsed::<Int64Type>(rows),
            DataType::UInt8 => parsed::<UInt8Type>(rows),
            DataType::UInt16 => parsed::<UInt16Type>(rows),
            DataType::UInt32 => parsed::<UInt32Type>(rows),
            DataType::UInt64 => parsed::<UInt64Type>(rows),
            DataType::Float32 => parsed::<Float32Type>(rows),
            DataType::Float64 => parsed::<Float64Type>(rows),
            _ => None,
        }
    }

    /// Appends a value; `false` if it does not parse.
    fn push(&mut self, text: &str) -> bool {
        match self {
            Column::Utf8(b) => b.append_value(text),
            Column::LargeUtf8(b) => b.append_value(text),
            Column::Parsed(b) => return b.push(text),
        }
        true
    }

    fn push_null(&mut self) -> bool {
        match self {
            Column::Utf8(b) => b.append_null(),
            Column::LargeUtf8(b) => b.append_null(),
            Column::Parsed(b) => b.push_null(),
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Utf8(b) => Arc::new(b.finish()),
            Column::LargeUtf8(b) => Arc::new(b.finish()),
            Column::Parsed(b) => b.finish(),
        }
    }
}

/// A column of values parsed from text, whatever their Arrow type.
trait ParsedColumn {
    fn push(&mut self, text: &str) -> bool;
    fn push_null(&mut self);
    fn finish(&mut self) -> ArrayRef;
}

impl<T: ArrowPrimitiveType + Parser> ParsedColumn for PrimitiveBuilder<T> {
    fn push(&mut self, text: &str) -> bool {
        match T::parse(text) {
            Some(v) => {
                self.append_value(v);
                true
            }
            None => false,
        }
    }

    fn push_null(&mut self) {
        self.append_null()
    }

    fn finish(&mut self) -> ArrayRef {
        Arc::new(PrimitiveBuilder::finish(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_csv::reader::Format;
    use arrow_csv::ReaderBuilder;
    use arrow_schema::{Field, Schema};
    use proptest::prelude::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("i", DataType::Int64, true),
            Field::new("f", DataType::Float64, true),
            Field::new("u", DataType::UInt8, false),
        ]))
    }

    /// arrow-csv alone on the whole text: the reference.
    fn arrow(text: &[u8], projection: &[usize]) -> Result<Vec<RecordBatch>, String> {
        ReaderBuilder::new(schema())
            .with_format(Format::default().with_header(false))
            .with_projection(projection.to_vec())
            .with_batch_size(7)
            .build_buffered(text)
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    }

    /// The fast path, then arrow-csv on what it handed back: how `read_csv`
    /// reads a block.
    fn fast(text: &[u8], projection: &[usize]) -> Result<Vec<RecordBatch>, String> {
        let schema = schema();
        let is_null = |t: &str| t.is_empty();
        let reader = Unquoted {
            schema: &schema,
            projection,
            delimiter: b',',
            quote: b'"',
            is_null: &is_null,
            batch_size: 5,
        };
        let mut out = Vec::new();
        let mut pos = 0u64;
        let mut input = text;
        let outcome = reader.read(&mut input, &mut pos, |b| {
            out.push(b);
            Ok::<_, ()>(true)
        });
        match outcome {
            Ok(Outcome::Done) => {}
            Ok(Outcome::Rest(rest)) => {
                assert_eq!(&text[pos as usize..], &rest[..], "the rest starts at pos");
                out.extend(arrow(&rest, projection)?);
            }
            Err(_) => return Err("read failed".into()),
        }
        Ok(out)
    }

    fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for b in batches {
            for r in 0..b.num_rows() {
                out.push(
                    b.columns()
                        .iter()
                        .map(|c| {
                            if c.is_null(r) {
                                "<null>".to_string()
                            } else {
                                let s = arrow_cast::display::ArrayFormatter::try_new(
                                    c.as_ref(),
                                    &Default::default(),
                                )
                                .map(|f| f.value(r).to_string());
                                s.unwrap_or_default()
                            }
                        })
                        .collect(),
                );
            }
        }
        out
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (-1000i64..1000).prop_map(|v| v.to_string()),
            2 => (-1e3f64..1e3).prop_map(|v| format!("{v:.3}")),
            2 => "[a-z]{0,4}",
            1 => Just(String::new()),
            1 => Just("\"q,x\"".to_string()),
            1 => Just("é".to_string()),
            1 => Just("1e5".to_string()),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => (field(), field(), field(), 0u8..=255).prop_map(|(a, b, c, d)| format!("{a},{b},{c},{d}")),
            1 => Just(String::new()),
            1 => (field(), field()).prop_map(|(a, b)| format!("{a},{b}")),
            1 => (field(), field(), field(), field(), field()).prop_map(|(a, b, c, d, e)| format!("{a},{b},{c},{d},{e}")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Same rows, or an error in both, whatever the text.
        #[test]
        fn agrees_with_arrow_csv(
            lines in prop::collection::vec(line(), 0..30),
            crlf in any::<bool>(),
            last_newline in any::<bool>(),
            projection in prop::sample::subsequence(vec![0usize, 1, 2, 3], 0..=4),
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(eol);
            if last_newline && !text.is_empty() {
                text.push_str(eol);
            }
            let want = arrow(text.as_bytes(), &projection);
            let got = fast(text.as_bytes(), &projection);
            match (want, got) {
                (Ok(w), Ok(g)) => {
                    let (w, g) = (rows(&w), rows(&g));
                    prop_assert_eq!(w.len(), g.len());
                    prop_assert_eq!(w, g);
                }
                (Err(_), Err(_)) => {}
                (w, g) => prop_assert!(false, "arrow-csv {:?}, fast path {:?}", w.map(|b| rows(&b)), g.map(|b| rows(&b))),
            }
        }
    }

    #[test]
    fn plain_text_is_decoded_without_falling_back() {
        let schema = schema();
        let is_null = |t: &str| t.is_empty();
        let reader = Unquoted {
            schema: &schema,
            projection: &[0, 2],
            delimiter: b',',
            quote: b'"',
            is_null: &is_null,
            batch_size: 2,
        };
        let text = b"a,1,1.5,3\r\n\nb,,2.5,4\nc,3,,5";
        let (mut pos, mut batches) = (0, Vec::new());
        let outcome = reader.read(&mut &text[..], &mut pos, |b| {
            batches.push(b);
            Ok::<_, ()>(true)
        });
        assert!(matches!(outcome, Ok(Outcome::Done)));
        assert_eq!(pos, text.len() as u64);
        assert_eq!(
            rows(&batches),
            [["a", "1.5"], ["b", "2.5"], ["c", "<null>"]].map(|r| r.map(String::from).to_vec())
        );
        assert_eq!(batches.len(), 2, "batches of at most 2 rows");
    }
}
