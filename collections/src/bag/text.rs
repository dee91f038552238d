//! Text input and output: [`read_text`] / [`ReadText`] make a bag of the
//! lines of files named by a glob, [`Bag::to_textfiles`] writes one file per
//! partition.
//!
//! Only the glob expansion and the file sizes (which decide the blocks) are
//! done when a bag is built; files are opened and read inside the tasks.

use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dagwood_runtime::{compute_all_with, Args, Scheduler, TaskBuilder, TaskError};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::files::glob::expand_glob;
use crate::files::read::{file_size, is_gz, line_number_at};
use crate::files::write::{create_parents, numbered_paths};
use crate::files::{FileError, IO_BUFFER};

use super::{
    layer_name, part_key, Bag, BagError, Feed, Item, LineFeed, LineSink, Origin, Result, Runner,
    Sink,
};

/// The block size [`read_text`] cuts plain files into: 64 MiB, Dask's
/// default.
pub const DEFAULT_BLOCKSIZE: u64 = 64 << 20;

/// Reads the lines of every file matching a glob pattern, with options;
/// [`read_text`] is the shorthand with the defaults.
///
/// * Files are taken in sorted path order. `*` and `?` do not match a leading
///   `.` (hidden files), as in a shell.
/// * A file whose name ends in `.gz` is decompressed (several concatenated
///   gzip members are read as one stream). It is one partition: gzip cannot
///   be entered in the middle. A truncated or corrupt `.gz` file fails the
///   computation with an error naming the file; an empty `.gz` file is an
///   error too (it is not gzip data).
/// * A plain file is cut into blocks of [`blocksize`](Self::blocksize)
///   bytes, one partition each, so one big file is read on all cores. A
///   block holds the lines that *start* inside it (the last one may run past
///   its end), so every line is read exactly once; a block inside a line
///   longer than the block size is an empty partition.
/// * Items are the lines without their `\n` or `\r\n`. A missing newline at
///   the end of a file is allowed; a line that is not UTF-8 is a
///   [`BagError::Parse`] naming the file and line.
/// * Each partition remembers its file and the byte offset of its block, so
///   [`map_json`](Bag::map_json) can name the file and line of a bad record;
///   the line number is counted only when an error needs it.
///
/// ```
/// use dagwood_collections::bag::ReadText;
/// let dir = std::env::temp_dir().join(format!("dagwood-doc-readtext-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
/// std::fs::write(dir.join("big.txt"), &text).unwrap();
///
/// let bag = ReadText::new(dir.join("*.txt")).blocksize(1000).read().unwrap();
/// assert_eq!(bag.npartitions(), text.len().div_ceil(1000));
/// let lines = bag.compute().unwrap();
/// assert_eq!(lines.len(), 1000);
/// assert_eq!(lines[999], "line 999");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ReadText {
    pattern: PathBuf,
    blocksize: u64,
}

impl ReadText {
    /// Reading the files matching `pattern` (a glob such as
    /// `logs/2014-*.log.gz`, or a plain path), with a block size of
    /// [`DEFAULT_BLOCKSIZE`].
    ///
    /// ```
    /// use dagwood_collections::bag::{ReadText, DEFAULT_BLOCKSIZE};
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-readtext-new-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.txt"), "x\ny\n").unwrap();
    /// let bag = ReadText::new(dir.join("a.txt")).read().unwrap();
    /// assert_eq!(bag.compute().unwrap(), ["x", "y"]);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn new(pattern: impl AsRef<Path>) -> ReadText {
        ReadText {
            pattern: pattern.as_ref().to_path_buf(),
            blocksize: DEFAULT_BLOCKSIZE,
        }
    }

    /// Cuts plain files into blocks of `bytes` bytes (at least 1; `u64::MAX`
    /// gives one partition per file). Has no effect on `.gz` files.
    ///
    /// ```
    /// use dagwood_collections::bag::ReadText;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-blocksize-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.txt"), "aaaa\nbbbb\ncccc\n").unwrap();
    /// let bag = ReadText::new(dir.join("a.txt")).blocksize(5).read().unwrap();
    /// assert_eq!(bag.npartitions(), 3);
    /// assert_eq!(bag.compute().unwrap(), ["aaaa", "bbbb", "cccc"]);
    /// let whole = ReadText::new(dir.join("a.txt")).blocksize(u64::MAX).read().unwrap();
    /// assert_eq!(whole.npartitions(), 1);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn blocksize(mut self, bytes: u64) -> ReadText {
        self.blocksize = bytes;
        self
    }

    /// Expands the glob and plans the partitions (one per `.gz` file, one
    /// per block of each plain file); nothing is read yet.
    ///
    /// Errors: [`FileError::Pattern`](crate::FileError::Pattern) for a malformed pattern,
    /// [`FileError::NoFiles`](crate::FileError::NoFiles) when nothing matches, [`crate::FileError::Io`] naming
    /// the path when a match cannot be examined or is a directory,
    /// [`BagError::Invalid`] for a block size of 0. Errors while reading
    /// come from `compute`.
    ///
    /// ```
    /// use dagwood_collections::bag::{BagError, ReadText};
    /// use dagwood_collections::FileError;
    /// let err = ReadText::new("/nonexistent-dagwood-dir/*.txt").read().unwrap_err();
    /// assert!(matches!(err, BagError::File(FileError::NoFiles { .. })));
    /// let err = ReadText::new("logs/[.txt").read().unwrap_err();
    /// assert!(matches!(err, BagError::File(FileError::Pattern { .. })));
    /// ```
    pub fn read(&self) -> Result<Bag<String>> {
        if self.blocksize == 0 {
            return Err(BagError::Invalid(format!(
                "read_text {:?}: blocksize must be at least 1 byte",
                self.pattern.display()
            )));
        }
        let files = expand_glob(&self.pattern)?;
        let name = layer_name("read-text");
        let mut parts = Vec::new();
        let mut feeds = Vec::new();
        let mut text = Vec::new();
        let mut origins = Vec::new();
        for path in files {
            let size = file_size(&path)?;
            let path: Arc<Path> = path.into();
            let blocks = if is_gz(&path) {
                vec![Source::Gzip]
            } else {
                split_blocks(size, self.blocksize)
            };
            for source in blocks {
                let start = match source {
                    Source::Gzip => 0,
                    Source::Block { start, .. } => start,
                };
                let key = part_key(&name, parts.len());
                let task_path = path.clone();
                let part = TaskBuilder::new("read-text")
                    .key(key)
                    .build_result(move |_| Ok(source.read(&task_path)));
                parts.push(part);
                // Streamed, the lines go from the file to the consuming
                // task's next step one by one: no input task, no `Vec`.
                let feed_path = path.clone();
                feeds.push(Arc::new(move |_: &mut TaskBuilder| -> Runner<String> {
                    let path = feed_path.clone();
                    Arc::new(move |_: &mut Args, sink: &mut Sink<'_, String>| {
                        stopped(source.scan(&path, |line| sink(line.to_owned())))
                    })
                }) as Feed<String>);
                let text_path = path.clone();
                text.push(Arc::new(move |sink: &mut LineSink<'_>| {
                    stopped(source.scan(&text_path, &mut *sink))
                }) as LineFeed);
                origins.push(Origin {
                    path: path.clone(),
                    start,
                });
            }
        }
        Ok(Bag::with_origin(parts, feeds, text, origins))
    }
}

/// A bag of the lines of every file matching `pattern` (a glob or a path),
/// `.gz` files decompressed, plain files cut into blocks of
/// [`DEFAULT_BLOCKSIZE`] bytes; see [`ReadText`] for the details and the
/// options. One item per line, without the line terminator.
///
/// ```
/// use dagwood_collections::bag::read_text;
/// let dir = std::env::temp_dir().join(format!("dagwood-doc-read-text-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("2014-01-01.log"), "GET /a\r\nGET /b\r\n").unwrap();
/// std::fs::write(dir.join("2014-01-02.log"), "GET /c").unwrap();
///
/// let bag = read_text(dir.join("2014-*.log")).unwrap();
/// assert_eq!(bag.npartitions(), 2);
/// assert_eq!(bag.compute().unwrap(), ["GET /a", "GET /b", "GET /c"]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_text(pattern: impl AsRef<Path>) -> Result<Bag<String>> {
    ReadText::new(pattern).read()
}

/// What one `read_text` partition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A whole gzip file.
    Gzip,
    /// The lines of a plain file that start in `start..end` (`end: None`:
    /// to the end of the file, so lines appended after the bag was built
    /// are read too, and by this block only). `planned` is the file's size
    /// when the blocks were cut.
    Block {
        start: u64,
        end: Option<u64>,
        planned: u64,
    },
}

/// Why reading lines stopped before the end: a read error, or the sink
/// said stop.
enum Stop<E> {
    Read(BagError),
    Sink(E),
}

/// A stream's result from a scan's: read errors fail the task.
fn stopped(r: std::result::Result<(), Stop<TaskError>>) -> std::result::Result<(), TaskError> {
    r.map_err(|stop| match stop {
        Stop::Read(e) => TaskError::failed(e),
        Stop::Sink(e) => e,
    })
}

impl Source {
    /// All the lines.
    fn read(&self, path: &Path) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        let pushed = self.scan(path, |line| {
            lines.push(line.to_owned());
            Ok::<(), std::convert::Infallible>(())
        });
        match pushed {
            Ok(()) => Ok(lines),
            Err(Stop::Read(e)) => Err(e),
            Err(Stop::Sink(never)) => match never {},
        }
    }

    /// Hands each line to `sink` as it is read.
    fn scan<E>(
        &self,
        path: &Path,
        sink: impl FnMut(&str) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), Stop<E>> {
        match *self {
            Source::Gzip => scan_gzip(path, sink),
            Source::Block {
                start,
                end,
                planned,
            } => scan_block(path, start, end, planned, sink),
        }
    }
}

/// Cuts a plain file of `size` bytes into blocks of `blocksize`: at least
/// one, so an empty file is an (empty) partition of its own.
fn split_blocks(size: u64, blocksize: u64) -> Vec<Source> {
    let n = size.div_ceil(blocksize).max(1);
    (0..n)
        .map(|k| Source::Block {
            start: k * blocksize,
            end: (k + 1 < n).then(|| (k + 1) * blocksize),
            planned: size,
        })
        .collect()
}

fn io_error(path: &Path, source: io::Error) -> BagError {
    FileError::io(path, source).into()
}

/// The line without its `\n` or `\r\n`. A `\r` without a `\n` after it
/// (at the very end of a file) is data, as in `str::lines`.
fn strip_eol(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest,
        _ => line,
    }
}

/// Hands the lines of `path` that start in `start..end` to `sink`.
fn scan_block<E>(
    path: &Path,
    start: u64,
    end: Option<u64>,
    planned: u64,
    mut sink: impl FnMut(&str) -> std::result::Result<(), E>,
) -> std::result::Result<(), Stop<E>> {
    let io_err = |e| Stop::Read(io_error(path, e));
    let mut file = File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    // Blocks were cut for the size seen when the bag was built; a file that
    // has shrunk since would silently lose lines.
    if len < planned {
        return Err(Stop::Read(io_error(
            path,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the file shrank from {planned} to {len} bytes after the bag was built"),
            ),
        )));
    }
    // A line starts at `start` exactly when the byte before it is a
    // newline: begin one byte early and drop everything up to the first
    // newline, which belongs to the previous block's last line.
    let mut pos = start.saturating_sub(1);
    file.seek(SeekFrom::Start(pos)).map_err(io_err)?;
    let mut reader = BufReader::with_capacity(IO_BUFFER, file);
    let mut buf = Vec::new();
    if start > 0 {
        pos += reader.read_until(b'\n', &mut buf).map_err(io_err)? as u64;
    }
    while end.is_none_or(|e| pos < e) {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        let line_start = pos;
        pos += n as u64;
        match std::str::from_utf8(strip_eol(&buf)) {
            Ok(s) => sink(s).map_err(Stop::Sink)?,
            Err(e) => {
                let line = line_number_at(path, line_start);
                return Err(Stop::Read(utf8_error(path, line, line_start, &e)));
            }
        }
    }
    Ok(())
}

/// Hands all lines of a gzip file to `sink`; any decompression error
/// (truncated stream, bad checksum, garbage after a member) is an error,
/// never a short result.
fn scan_gzip<E>(
    path: &Path,
    mut sink: impl FnMut(&str) -> std::result::Result<(), E>,
) -> std::result::Result<(), Stop<E>> {
    let io_err = |e| Stop::Read(io_error(path, e));
    let file = File::open(path).map_err(io_err)?;
    // The decoder reads an empty input as an empty stream, but an empty file
    // is no gzip data (`gzip -t` rejects it): most likely a truncated write.
    if file.metadata().map_err(io_err)?.len() == 0 {
        return Err(Stop::Read(io_error(
            path,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "empty file: not gzip data (truncated?)",
            ),
        )));
    }
    let mut reader = BufReader::with_capacity(IO_BUFFER, MultiGzDecoder::new(file));
    let mut buf = Vec::new();
    let mut lines = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| {
            let context = format!("gzip data is truncated or corrupt after line {lines}: {e}");
            Stop::Read(io_error(path, io::Error::new(e.kind(), context)))
        })?;
        if n == 0 {
            break;
        }
        match std::str::from_utf8(strip_eol(&buf)) {
            Ok(s) => sink(s).map_err(Stop::Sink)?,
            // Here the line number is simply the count so far.
            Err(e) => return Err(Stop::Read(utf8_error(path, Ok(lines + 1), 0, &e))),
        }
        lines += 1;
    }
    Ok(())
}

fn utf8_error(
    path: &Path,
    line: io::Result<u64>,
    offset: u64,
    e: &std::str::Utf8Error,
) -> BagError {
    match line {
        Ok(line) => BagError::Parse {
            path: path.to_path_buf(),
            line,
            message: format!("invalid UTF-8: {e}"),
        },
        Err(count) => BagError::Parse {
            path: path.to_path_buf(),
            line: 0,
            message: format!(
                "invalid UTF-8 in the line at byte {offset}: {e} (its line number is unknown: \
                 rereading the file failed: {count})"
            ),
        },
    }
}

/// The 1-based line number of the first item of a partition with `origin`:
/// its first line is the first one starting at or after `origin.start`.
/// Reads the file up to there (only error paths call it).
pub(crate) fn first_line_number(origin: &Origin) -> io::Result<u64> {
    if origin.start == 0 {
        return Ok(1);
    }
    // The first line starting at or after `start` follows the first newline
    // at or after `start - 1`; none of the bytes between is a newline, so it
    // is numbered one past the line containing byte `start - 1`.
    Ok(line_number_at(&origin.path, origin.start - 1)? + 1)
}

impl<T: Item + Display> Bag<T> {
    /// Writes the bag as text, one file per partition and one line per item
    /// (its `Display` form and a `\n`; an item that displays a newline
    /// becomes several lines). Each `*` in `pattern` is replaced by the
    /// partition number, zero-padded to the width of the largest one
    /// (`part-00.txt` ... `part-11.txt` for 12 partitions), so the files
    /// sort in partition order. A name ending in `.gz` is gzip-compressed.
    /// Missing directories are created first.
    ///
    /// Each partition is written by its own task as it is computed; nothing
    /// is gathered in memory. Returns the written paths in partition order.
    /// A failed write leaves the files written so far (and possibly a
    /// partial one) in place.
    ///
    /// Errors: [`BagError::Invalid`] for a pattern without `*`;
    /// [`crate::FileError::Io`] naming the directory that cannot be created; a write
    /// that fails inside a task comes back as [`BagError::Compute`] naming
    /// the task, with the failing file in its message.
    ///
    /// ```
    /// use dagwood_collections::bag::{read_text, Bag};
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-to-textfiles-{}", std::process::id()));
    /// let bag = Bag::from_sequence(1..=12_i32, 4).unwrap();
    /// let paths = bag.to_textfiles(dir.join("out/part-*.txt.gz")).unwrap();
    /// assert_eq!(paths.len(), 4);
    /// assert!(paths[3].ends_with("out/part-3.txt.gz"));
    ///
    /// let back = read_text(dir.join("out/*.txt.gz")).unwrap().compute().unwrap();
    /// assert_eq!(back, (1..=12).map(|i| i.to_string()).collect::<Vec<_>>());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn to_textfiles(&self, pattern: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        self.to_textfiles_with(pattern, &Scheduler::current())
    }

    /// [`to_textfiles`](Self::to_textfiles) with a given scheduler.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// use dagwood_collections::runtime::Scheduler;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-to-textfiles-with-{}", std::process::id()));
    /// let bag = Bag::from_sequence(["a", "b", "c"], 2).unwrap();
    /// let paths = bag.to_textfiles_with(dir.join("*.txt"), &Scheduler::Sync).unwrap();
    /// assert_eq!(std::fs::read_to_string(&paths[0]).unwrap(), "a\nb\n");
    /// assert_eq!(std::fs::read_to_string(&paths[1]).unwrap(), "c\n");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn to_textfiles_with(
        &self,
        pattern: impl AsRef<Path>,
        scheduler: &Scheduler,
    ) -> Result<Vec<PathBuf>> {
        let paths = numbered_paths("to_textfiles", pattern.as_ref(), self.npartitions())
            .map_err(BagError::Invalid)?;
        create_parents(&paths)?;
        let name = layer_name("to-textfiles");
        let tasks: Vec<_> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let mut b = TaskBuilder::new("to-textfiles").key(part_key(&name, i));
                // Each item is written as the partition's stream makes it.
                let items = self.feed(i)(&mut b);
                let path = path.clone();
                b.build_result(move |args| write_part(&path, &items, args))
            })
            .collect();
        Ok(compute_all_with(&tasks[..], scheduler)?)
    }
}

/// Writes one partition to `path` (gzip if the name says so), item by item
/// as its stream makes them. The outer error is the stream's (a failed
/// step before), the inner one the write's.
fn write_part<T: Display>(
    path: &Path,
    items: &Runner<T>,
    args: &mut Args,
) -> std::result::Result<Result<PathBuf>, TaskError> {
    let io_err = |e| io_error(path, e);
    let file = match File::create(path) {
        Ok(f) => f,
        Err(e) => return Ok(Err(io_err(e))),
    };
    let writer = BufWriter::with_capacity(IO_BUFFER, file);
    let written = if is_gz(path) {
        let mut gz = GzEncoder::new(writer, Compression::default());
        write_lines(&mut gz, items, args).map(|w| {
            // `finish` writes the gzip trailer; dropping the encoder instead
            // would swallow its errors.
            w.and_then(|()| gz.finish()?.flush())
        })
    } else {
        let mut writer = writer;
        write_lines(&mut writer, items, args).map(|w| {
            // Flush explicitly: `BufWriter`'s drop ignores write errors.
            w.and_then(|()| writer.flush())
        })
    };
    Ok(written?.map(|()| path.to_path_buf()).map_err(io_err))
}

/// Writes each item of the stream and a newline; stops the stream at the
/// first write error (the inner one).
fn write_lines<T: Display>(
    w: &mut impl Write,
    items: &Runner<T>,
    args: &mut Args,
) -> std::result::Result<io::Result<()>, TaskError> {
    let mut failed = None;
    let streamed = items(args, &mut |item| match writeln!(w, "{item}") {
        Ok(()) => Ok(()),
        Err(e) => {
            failed = Some(e);
            Err(TaskError::failed("write failed"))
        }
    });
    match (failed, streamed) {
        (Some(e), _) => Ok(Err(e)),
        (None, Err(e)) => Err(e),
        (None, Ok(())) => Ok(Ok(())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_file() {
        assert_eq!(split_blocks(0, 10).len(), 1);
        assert_eq!(split_blocks(10, 10).len(), 1);
        assert_eq!(split_blocks(11, 10).len(), 2);
        let blocks = split_blocks(25, 10);
        assert_eq!(
            blocks,
            [
                Source::Block {
                    start: 0,
                    end: Some(10),
                    planned: 25
                },
                Source::Block {
                    start: 10,
                    end: Some(20),
                    planned: 25
                },
                Source::Block {
                    start: 20,
                    end: None,
                    planned: 25
                },
            ]
        );
        assert_eq!(split_blocks(5, u64::MAX).len(), 1);
    }

    #[test]
    fn line_endings() {
        assert_eq!(strip_eol(b"ab\r\n"), b"ab");
        assert_eq!(strip_eol(b"ab\n"), b"ab");
        assert_eq!(strip_eol(b"ab\r"), b"ab\r");
        assert_eq!(strip_eol(b"\n"), b"");
        assert_eq!(strip_eol(b""), b"");
    }
}
