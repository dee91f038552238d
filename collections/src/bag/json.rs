//! JSON lines: parsing a bag of lines into values through serde.
//!
//! One record per line. Blank lines (empty or only JSON whitespace) are
//! skipped: a trailing empty line or a separating gap is common and is not
//! a record. A malformed record is an error naming the file and line while
//! the partitions still hold the lines [`read_text`](super::read_text) read,
//! one item per line (as after `read_text` or a `map`), or the partition and
//! item number otherwise.

use std::path::PathBuf;
use std::sync::Arc;

use dagwood_runtime::{delayed, tree_reduce, Args, Delayed, TaskBuilder, TaskError};
use serde::de::DeserializeOwned;

use super::text::first_line_number;
use super::{collect, layer_name, part_key, Bag, BagError, Feed, Item, Origin, Runner, Sink};

/// How many partial counts each task of the skipped-records sum adds.
const COUNT_FAN_IN: usize = 32;

impl Bag<String> {
    /// Parses each line as JSON into a `T` (Dask's `.map(json.loads)`, typed).
    ///
    /// Blank lines are skipped. A line that does not parse fails the
    /// computation with a [`BagError::Parse`] naming the file and line
    /// (`records/part-03.json.gz:1234: expected value at line 1 column 7`)
    /// while each item is still the line [`read_text`](super::read_text)
    /// read (after `read_text` or a `map`); after an operation that changes
    /// which items a partition holds (a `filter`, say) it names the
    /// partition and item number instead (`<partition 3>:17: ...`). For a
    /// block in the middle of a plain file the line number is found by
    /// counting the newlines before the block, on the error path only. The error comes back from `compute` as
    /// [`BagError::Compute`] naming the task; its message includes the
    /// location. [`map_json_skip_bad`](Self::map_json_skip_bad) skips and
    /// counts bad records instead.
    ///
    /// ```
    /// use dagwood_collections::bag::read_text;
    /// #[derive(serde::Deserialize, Clone, Debug, PartialEq)]
    /// struct Rec { name: String, n: u32 }
    ///
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-map-json-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.json"), "{\"name\":\"x\",\"n\":1}\n\n{\"name\":\"y\",\"n\":2}\n").unwrap();
    /// std::fs::write(dir.join("b.json"), "{\"name\":\"z\",\"n\":3}\n{\"name\":\"w\"}\n").unwrap();
    ///
    /// let good = read_text(dir.join("a.json")).unwrap().map_json::<Rec>();
    /// assert_eq!(good.compute().unwrap()[1], Rec { name: "y".into(), n: 2 });
    ///
    /// let bad = read_text(dir.join("*.json")).unwrap().map_json::<Rec>();
    /// let err = bad.compute().unwrap_err().to_string();
    /// assert!(err.contains("b.json:2: missing field `n`"), "{err}");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn map_json<T: DeserializeOwned + Item>(&self) -> Bag<T> {
        let origins: Arc<[Option<Origin>]> = (0..self.npartitions())
            .map(|i| origin_of(self.origin(), i))
            .collect();
        // Straight from `read_text`: each line is parsed from the reader's
        // buffer, with no `String` made for it.
        if let Some(text) = self.text() {
            let feeds = text
                .iter()
                .enumerate()
                .map(|(p, lines)| {
                    let (lines, origins) = (lines.clone(), origins.clone());
                    Arc::new(move |_: &mut TaskBuilder| -> Runner<T> {
                        let (lines, origins) = (lines.clone(), origins.clone());
                        Arc::new(move |_: &mut Args, sink: &mut Sink<'_, T>| {
                            let mut k = 0;
                            lines(&mut |line| {
                                k += 1;
                                parse_into(line, &origins, p, k - 1, &mut *sink)
                            })
                        })
                    }) as Feed<T>
                })
                .collect();
            return Bag::streamed("map-json", feeds);
        }
        // Otherwise a step of the partition's stream: each line is parsed as
        // it arrives (and dropped).
        self.then("map-json", move |p, k, line: String, sink| {
            parse_into(&line, &origins, p, k, sink)
        })
    }

    /// Parses each line as an untyped [`serde_json::Value`]; otherwise like
    /// [`map_json`](Self::map_json).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let lines = Bag::from_sequence([r#"{"a": 1}"#.to_string(), "[1, 2]".to_string()], 2).unwrap();
    /// let values = lines.map_json_value().compute().unwrap();
    /// assert_eq!(values[0]["a"], 1);
    /// assert_eq!(values[1][1], 2);
    ///
    /// let bad = Bag::from_sequence(["1".to_string(), "{".to_string()], 1).unwrap();
    /// let err = bad.map_json_value().compute().unwrap_err().to_string();
    /// assert!(err.contains("<partition 0>:2: EOF while parsing an object"), "{err}");
    /// ```
    // Inline: `map_json::<Value>` (and serde_json's parser with it) is then
    // compiled in the calling crate, as `map_json::<T>` always is, and
    // shares that crate's copy of the parser.
    #[inline]
    pub fn map_json_value(&self) -> Bag<serde_json::Value> {
        self.map_json()
    }

    /// Like [`map_json`](Self::map_json), but a line that does not parse as
    /// a `T` is skipped instead of failing; also returns the number of lines
    /// skipped (blank lines are not counted: they are never records).
    ///
    /// The count is a separate lazy value: compute it together with a use
    /// of the bag (`dagwood_collections::runtime::compute_all`) to parse the
    /// data once.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// use dagwood_collections::runtime::compute_all;
    /// let lines = ["1", "two", "3", "", "{4}"].map(String::from);
    /// let (numbers, skipped) = Bag::from_sequence(lines, 2).unwrap().map_json_skip_bad::<i64>();
    /// let (parts, skipped) = compute_all((numbers.to_delayed(), &skipped)).unwrap();
    /// assert_eq!(parts.concat(), vec![1, 3]);
    /// assert_eq!(skipped, 2);
    /// ```
    pub fn map_json_skip_bad<T: DeserializeOwned + Item>(&self) -> (Bag<T>, Delayed<usize>) {
        let parse_layer = layer_name("map-json-parse");
        let count_layer = layer_name("map-json-skipped");
        let out_layer = layer_name("map-json-skip-bad");
        let mut parts = Vec::with_capacity(self.npartitions());
        let mut counts = Vec::with_capacity(self.npartitions());
        for i in 0..self.npartitions() {
            let origin = origin_of(self.origin(), i);
            let mut b = TaskBuilder::new("bag-partition").key(part_key(&parse_layer, i));
            let lines = self.feed(i)(&mut b);
            let parsed: Delayed<(Vec<T>, usize)> = b.build(move |args| {
                parse_lines(collect(&lines, args)?, i, origin.clone(), true)
                    .map_err(TaskError::failed)
            });

            let mut b = TaskBuilder::new("bag-partition").key(part_key(&count_layer, i));
            let both = b.input(&parsed);
            let count = b.build(move |args| Ok(both.get(args)?.1));

            // The records' task also waits for the count task, so it runs
            // last among the parsed value's consumers and moves the records
            // out instead of copying them.
            let mut b = TaskBuilder::new("bag-partition").key(part_key(&out_layer, i));
            let both = b.input(&parsed);
            let _after = b.input(&count);
            parts.push(b.build(move |args| Ok(both.take(args)?.0)));
            counts.push(count);
        }
        let total = tree_reduce(
            counts,
            COUNT_FAN_IN,
            layer_name("map-json-skipped-total"),
            |c| c.into_iter().sum::<usize>(),
        )
        // Only fails for no partitions (the fan-in is valid): nothing skipped.
        .unwrap_or_else(|_| delayed(0));
        (Bag::from_delayed(parts), total)
    }
}

/// Parses line `k` of partition `p` into the sink (a blank line is no
/// record); the error names the file and line.
fn parse_into<T: DeserializeOwned>(
    line: &str,
    origins: &[Option<Origin>],
    p: usize,
    k: usize,
    sink: &mut Sink<'_, T>,
) -> Result<(), TaskError> {
    if is_blank(line) {
        return Ok(());
    }
    match serde_json::from_str(line) {
        Ok(record) => sink(record),
        Err(e) => {
            let origin = origins.get(p).and_then(Option::as_ref);
            Err(TaskError::failed(parse_error(origin, p, k, e.to_string())))
        }
    }
}

/// The origin of partition `i`, if the bag still has one per partition.
fn origin_of(origin: Option<&Arc<[Origin]>>, i: usize) -> Option<Origin> {
    origin.and_then(|o| o.get(i)).cloned()
}

/// Whether a line holds no record: empty or only JSON whitespace.
fn is_blank(line: &str) -> bool {
    line.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Parses partition `part`'s lines; with `skip`, bad lines are counted
/// instead of failing.
fn parse_lines<T: DeserializeOwned>(
    lines: Vec<String>,
    part: usize,
    origin: Option<Origin>,
    skip: bool,
) -> Result<(Vec<T>, usize), BagError> {
    let mut records = Vec::with_capacity(lines.len());
    let mut skipped = 0;
    for (k, line) in lines.iter().enumerate() {
        if is_blank(line) {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(record) => records.push(record),
            Err(_) if skip => skipped += 1,
            Err(e) => return Err(parse_error(origin.as_ref(), part, k, e.to_string())),
        }
    }
    Ok((records, skipped))
}

/// The error for item `k` of partition `part`: at its file and line if the
/// partition has an origin (numbering lines now, on the error path only),
/// else at the partition and 1-based item number.
fn parse_error(origin: Option<&Origin>, part: usize, k: usize, message: String) -> BagError {
    let k = k as u64;
    match origin {
        Some(o) => match first_line_number(o) {
            Ok(first) => BagError::Parse {
                path: o.path.to_path_buf(),
                line: first + k,
                message,
            },
            // The file can no longer be read to number the line: still name
            // the file and say where in it the record is.
            Err(e) => BagError::Parse {
                path: o.path.to_path_buf(),
                line: 0,
                message: format!(
                    "{message} (line {} of the block starting at byte {}; its line number in the \
                     file is unknown: rereading the file failed: {e})",
                    k + 1,
                    o.start
                ),
            },
        },
        None => BagError::Parse {
            path: PathBuf::from(format!("<partition {part}>")),
            line: k + 1,
            message,
        },
    }
}
