//! Spilling shuffle buckets to disk: the [`Spill`] codec, the frame format of
//! spill files, and the guards that remove them.
//!
//! A spill file holds the spilled part of one bucket of one stage-1 task:
//!
//! ```text
//! file  = MAGIC frame*
//! MAGIC = b"DWSPILL1"
//! frame = payload length: u64 LE | item count: u64 LE | payload
//! ```
//!
//! The payload of a frame is one batch of items as [`Spill::encode`] wrote
//! it. The writer remembers how many frames and bytes it wrote, so a reader
//! notices a file cut short even exactly at a frame boundary.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use dagwood_runtime::task::lock;
use dagwood_runtime::BoxError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// How a batch of items becomes bytes in a spill file and back.
///
/// Every `T: Serialize + DeserializeOwned` has it through postcard (compact,
/// not self-describing: types that need `deserialize_any`, such as
/// `serde_json::Value`, encode but do not decode; the shuffle checks one item
/// on its first spill and reports that as [`SpillError::Unsupported`]).
/// Items that are not serde types (Arrow record batches, say) get it through
/// a local newtype with its own impl, which the blanket impl leaves room for
/// because the newtype is not `Serialize`.
pub(crate) trait Spill: Sized {
    /// Appends the encoding of `items` to `out` (one frame's payload).
    fn encode(items: &[Self], out: &mut Vec<u8>) -> Result<(), BoxError>;
    /// Decodes one frame's payload, all of it.
    fn decode(bytes: &[u8]) -> Result<Vec<Self>, BoxError>;
}

impl<T: Serialize + DeserializeOwned> Spill for T {
    fn encode(items: &[T], out: &mut Vec<u8>) -> Result<(), BoxError> {
        // to_extend takes its writer by value: lend it the buffer and put it back.
        *out = postcard::to_extend(items, std::mem::take(out))?;
        Ok(())
    }

    fn decode(bytes: &[u8]) -> Result<Vec<T>, BoxError> {
        let (items, rest) = postcard::take_from_bytes::<Vec<T>>(bytes)?;
        if !rest.is_empty() {
            return Err(format!("{} bytes left over after the frame's items", rest.len()).into());
        }
        Ok(items)
    }
}

/// A shuffle's spill file or directory could not be written or read back.
/// Every variant names the file or directory. It reaches users as the cause
/// of the failed task.
///
/// ```
/// use dagwood_collections::bag::{Bag, GroupbyOptions};
/// // A plain file where the spill directory's parent should be.
/// let blocker = std::env::temp_dir().join(format!("dagwood-doc-blocker-{}", std::process::id()));
/// std::fs::write(&blocker, b"not a directory").unwrap();
/// let options = GroupbyOptions {
///     memory_limit: Some(0), // spill everything
///     spill_dir: Some(blocker.join("spill")),
///     ..Default::default()
/// };
/// let b = Bag::from_sequence(0..100_u32, 2).unwrap();
/// let err = b.groupby_with(|x| x % 7, options).unwrap().compute().unwrap_err();
/// let msg = err.to_string();
/// assert!(msg.contains("cannot create spill directory"), "{msg}");
/// assert!(msg.contains(&blocker.display().to_string()), "{msg}");
/// std::fs::remove_file(&blocker).unwrap();
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpillError {
    /// The operating system refused an operation on a spill file or directory.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done, such as `write spill file`.
        action: &'static str,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A spill file is shorter than what was written to it.
    #[error("spill file {} is truncated: {detail}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// A spill file holds something other than what was written to it.
    #[error("spill file {} is corrupt at byte {offset}: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Byte offset of the bad frame (or header).
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// The items cannot make the round trip through the spill codec.
    #[error("cannot spill items of type {type_name} to {}: {detail}", path.display())]
    Unsupported {
        /// The spill file that was to receive them.
        path: PathBuf,
        /// The item type.
        type_name: &'static str,
        /// What the codec said.
        detail: String,
    },
}

impl SpillError {
    fn io<'p>(path: &'p Path, action: &'static str) -> impl FnOnce(io::Error) -> SpillError + 'p {
        move |source| SpillError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// Counters of what the shuffles that share it wrote to disk and removed.
///
/// Give one to a shuffle (for example through
/// [`GroupbyOptions::stats`](crate::bag::GroupbyOptions::stats)) to learn
/// whether it spilled; it is updated while the computation runs.
///
/// ```
/// use dagwood_collections::bag::SpillStats;
/// let stats = SpillStats::default();
/// assert_eq!(stats.files_written(), 0);
/// ```
#[derive(Debug, Default)]
pub struct SpillStats {
    files_written: AtomicU64,
    frames_written: AtomicU64,
    bytes_written: AtomicU64,
    items_spilled: AtomicU64,
    files_removed: AtomicU64,
}

impl SpillStats {
    /// Spill files created.
    pub fn files_written(&self) -> u64 {
        self.files_written.load(Ordering::Relaxed)
    }

    /// Frames (batches of items) written to spill files.
    pub fn frames_written(&self) -> u64 {
        self.frames_written.load(Ordering::Relaxed)
    }

    /// Bytes written to spill files, headers included.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }

    /// Items written to spill files.
    pub fn items_spilled(&self) -> u64 {
        self.items_spilled.load(Ordering::Relaxed)
    }

    /// Spill files removed again (after being read back, or on failure).
    pub fn files_removed(&self) -> u64 {
        self.files_removed.load(Ordering::Relaxed)
    }
}

fn bump(stats: &Option<Arc<SpillStats>>, field: impl Fn(&SpillStats) -> &AtomicU64, n: u64) {
    if let Some(s) = stats {
        field(s).fetch_add(n, Ordering::Relaxed);
    }
}

/// A spill directory made for one run of a shuffle; removed with everything
/// in it when the last holder (a spill file or a stage-1 task) lets go —
/// after the last bucket was read back, or when a failed computation drops
/// its intermediate results.
#[derive(Debug)]
pub(crate) struct SpillDir {
    path: PathBuf,
}

impl SpillDir {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        // Nothing to report to from a destructor; the directory is ours alone
        // (made with a unique name), so removing all of it is safe.
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Where one shuffle spills: a parent directory, in which the first spilling
/// task of each run makes a fresh `dagwood-spill-<pid>-<n>` directory that
/// the other tasks of that run share. Held by the stage-1 tasks.
#[derive(Debug)]
pub(crate) struct SpillSpace {
    parent: PathBuf,
    current: Mutex<Weak<SpillDir>>,
    pub(crate) stats: Option<Arc<SpillStats>>,
}

impl SpillSpace {
    /// Spills under `parent`, or under the system's temporary directory.
    pub(crate) fn new(parent: Option<PathBuf>, stats: Option<Arc<SpillStats>>) -> SpillSpace {
        SpillSpace {
            parent: parent.unwrap_or_else(std::env::temp_dir),
            current: Mutex::new(Weak::new()),
            stats,
        }
    }

    /// The spill directory of the current run, made if no task holds one.
    pub(crate) fn dir(&self) -> Result<Arc<SpillDir>, SpillError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut current = lock(&self.current);
        if let Some(dir) = current.upgrade() {
            return Ok(dir);
        }
        fs::create_dir_all(&self.parent)
            .map_err(SpillError::io(&self.parent, "create spill directory"))?;
        // A directory left by a crashed process with the same pid may exist:
        // skip taken names rather than reuse (and later delete) someone's files.
        let pid = std::process::id();
        let mut tries = 0;
        let path = loop {
            let path = self.parent.join(format!(
                "dagwood-spill-{pid}-{}",
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            match fs::create_dir(&path) {
                Ok(()) => break path,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 1000 => tries += 1,
                Err(e) => return Err(SpillError::io(&path, "create spill directory")(e)),
            }
        };
        let dir = Arc::new(SpillDir { path });
        *current = Arc::downgrade(&dir);
        Ok(dir)
    }
}

const MAGIC: &[u8; 8] = b"DWSPILL1";
const FRAME_HEADER: u64 = 16;

/// One spill file, written by a stage-1 task and read once by a stage-2
/// task; the file is removed when this is dropped (read or not).
#[derive(Debug)]
pub(crate) struct SpillFile {
    path: PathBuf,
    /// What was written: checked against what is read back.
    frames: u64,
    items: u64,
    bytes: u64,
    stats: Option<Arc<SpillStats>>,
    // Keeps the directory alive while the file is in it.
    _dir: Arc<SpillDir>,
}

impl SpillFile {
    /// Creates `name` in `dir` (never an existing file) with its header.
    pub(crate) fn create(
        dir: Arc<SpillDir>,
        name: &str,
        stats: Option<Arc<SpillStats>>,
    ) -> Result<SpillFile, SpillError> {
        let path = dir.path().join(name);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(SpillError::io(&path, "create spill file"))?;
        bump(&stats, |s| &s.files_written, 1);
        // From here on the guard removes the file whatever happens.
        let spill = SpillFile {
            path,
            frames: 0,
            items: 0,
            bytes: MAGIC.len() as u64,
            stats,
            _dir: dir,
        };
        file.write_all(MAGIC)
            .map_err(SpillError::io(&spill.path, "write spill file"))?;
        bump(&spill.stats, |s| &s.bytes_written, MAGIC.len() as u64);
        Ok(spill)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Items written so far.
    pub(crate) fn items(&self) -> u64 {
        self.items
    }

    /// Appends one frame of `count` items encoded as `payload`. The file is
    /// opened for each frame so that a task with many buckets does not hold
    /// one descriptor per bucket.
    pub(crate) fn append(&mut self, payload: &[u8], count: u64) -> Result<(), SpillError> {
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(SpillError::io(&self.path, "open spill file"))?;
        let mut header = [0u8; FRAME_HEADER as usize];
        header[..8].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        header[8..].copy_from_slice(&count.to_le_bytes());
        file.write_all(&header)
            .and_then(|()| file.write_all(payload))
            .map_err(SpillError::io(&self.path, "write spill file"))?;
        let bytes = FRAME_HEADER + payload.len() as u64;
        self.frames += 1;
        self.items += count;
        self.bytes += bytes;
        bump(&self.stats, |s| &s.frames_written, 1);
        bump(&self.stats, |s| &s.bytes_written, bytes);
        bump(&self.stats, |s| &s.items_spilled, count);
        Ok(())
    }

    /// Opens the file for reading its frames back, in order.
    pub(crate) fn into_reader(self) -> Result<SpillReader, SpillError> {
        let file = File::open(&self.path).map_err(SpillError::io(&self.path, "open spill file"))?;
        let len = file
            .metadata()
            .map_err(SpillError::io(&self.path, "read spill file"))?
            .len();
        if len < self.bytes {
            return Err(SpillError::Truncated {
                path: self.path.clone(),
                detail: format!("it holds {len} bytes but {} were written", self.bytes),
            });
        }
        if len > self.bytes {
            return Err(SpillError::Corrupt {
                path: self.path.clone(),
                offset: self.bytes,
                detail: format!("it holds {len} bytes but only {} were written", self.bytes),
            });
        }
        let mut reader = BufReader::new(file);
        let mut magic = [0u8; 8];
        reader
            .read_exact(&mut magic)
            .map_err(SpillError::io(&self.path, "read spill file"))?;
        if &magic != MAGIC {
            return Err(SpillError::Corrupt {
                path: self.path.clone(),
                offset: 0,
                detail: "not a dagwood spill file (bad magic bytes)".into(),
            });
        }
        Ok(SpillReader {
            len,
            offset: MAGIC.len() as u64,
            frames_read: 0,
            reader,
            file: self,
        })
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        // A file that cannot be removed now goes with its directory.
        if fs::remove_file(&self.path).is_ok() {
            bump(&self.stats, |s| &s.files_removed, 1);
        }
    }
}

/// Reads a spill file's frames back one at a time; removes the file when
/// dropped.
#[derive(Debug)]
pub(crate) struct SpillReader {
    reader: BufReader<File>,
    len: u64,
    offset: u64,
    frames_read: u64,
    file: SpillFile,
}

impl SpillReader {
    /// The next frame's items, or `None` after the last frame written.
    /// `buf` is scratch space for the payload, reused between frames.
    pub(crate) fn next_batch<T: Spill>(
        &mut self,
        buf: &mut Vec<u8>,
    ) -> Result<Option<Vec<T>>, SpillError> {
        if self.frames_read == self.file.frames {
            return Ok(None);
        }
        let at = self.offset;
        let path = &self.file.path;
        let truncated = |detail: String| SpillError::Truncated {
            path: path.clone(),
            detail,
        };
        if self.len - at < FRAME_HEADER {
            return Err(truncated(format!(
                "frame {} at byte {at} has no complete header ({} of {} frames read)",
                self.frames_read, self.frames_read, self.file.frames
            )));
        }
        let mut header = [0u8; FRAME_HEADER as usize];
        self.reader
            .read_exact(&mut header)
            .map_err(|e| read_error(path, at, e))?;
        let mut word = [0u8; 8];
        word.copy_from_slice(&header[..8]);
        let size = u64::from_le_bytes(word);
        word.copy_from_slice(&header[8..]);
        let count = u64::from_le_bytes(word);
        // Checked before allocating: a damaged length must not ask for terabytes.
        let left = self.len - at - FRAME_HEADER;
        if size > left {
            return Err(truncated(format!(
                "frame at byte {at} declares {size} bytes but the file ends {left} bytes later"
            )));
        }
        buf.clear();
        buf.resize(size as usize, 0);
        self.reader
            .read_exact(buf)
            .map_err(|e| read_error(path, at, e))?;
        let items = T::decode(buf).map_err(|e| SpillError::Corrupt {
            path: path.clone(),
            offset: at,
            detail: format!("the frame does not decode: {e}"),
        })?;
        if items.len() as u64 != count {
            return Err(SpillError::Corrupt {
                path: path.clone(),
                offset: at,
                detail: format!("the frame declares {count} items but holds {}", items.len()),
            });
        }
        self.offset = at + FRAME_HEADER + size;
        self.frames_read += 1;
        Ok(Some(items))
    }
}

fn read_error(path: &Path, at: u64, e: io::Error) -> SpillError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        SpillError::Truncated {
            path: path.to_path_buf(),
            detail: format!("the file ends inside the frame at byte {at}"),
        }
    } else {
        SpillError::io(path, "read spill file")(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(tag: &str) -> (PathBuf, SpillSpace) {
        let parent =
            std::env::temp_dir().join(format!("dagwood-spill-unit-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&parent);
        (parent.clone(), SpillSpace::new(Some(parent), None))
    }

    fn write_frames(space: &SpillSpace, frames: &[Vec<(u32, String)>]) -> SpillFile {
        let dir = space.dir().expect("spill dir");
        let mut f = SpillFile::create(dir, "t.spill", None).expect("create");
        let mut buf = Vec::new();
        for items in frames {
            buf.clear();
            <(u32, String)>::encode(items, &mut buf).expect("encode");
            f.append(&buf, items.len() as u64).expect("append");
        }
        f
    }

    fn read_all(f: SpillFile) -> Result<Vec<(u32, String)>, SpillError> {
        let mut r = f.into_reader()?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(batch) = r.next_batch::<(u32, String)>(&mut buf)? {
            out.extend(batch);
        }
        Ok(out)
    }

    fn sample() -> Vec<Vec<(u32, String)>> {
        vec![
            (0..10).map(|i| (i, format!("item {i}"))).collect(),
            vec![],
            (10..13).map(|i| (i, "x".repeat(i as usize))).collect(),
        ]
    }

    #[test]
    fn frames_round_trip_and_files_go_away() {
        let (parent, space) = space("roundtrip");
        let f = write_frames(&space, &sample());
        let path = f.path().to_path_buf();
        assert!(path.exists());
        let back = read_all(f).expect("read back");
        assert_eq!(back, sample().concat());
        assert!(!path.exists(), "a consumed spill file is removed");
        // The last holder of the directory is gone: so is the directory.
        assert_eq!(fs::read_dir(&parent).expect("parent").count(), 0);
        fs::remove_dir_all(&parent).expect("clean up");
    }

    #[test]
    fn truncated_file_is_an_error_naming_it() {
        let (parent, space) = space("truncated");
        let full = {
            let f = write_frames(&space, &sample());
            let len = fs::metadata(f.path()).expect("meta").len();
            drop(f);
            len
        };
        // Cut inside the magic, inside a header, inside a payload, and exactly
        // at a frame boundary (after the first frame).
        let first_frame_end = {
            let mut buf = Vec::new();
            <(u32, String)>::encode(&sample()[0], &mut buf).expect("encode");
            8 + 16 + buf.len() as u64
        };
        for cut in [3, 12, 30, first_frame_end, full - 1] {
            let f = write_frames(&space, &sample());
            let path = f.path().to_path_buf();
            OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|file| file.set_len(cut))
                .expect("truncate");
            let err = read_all(f).expect_err("a truncated file must not read back");
            assert!(
                matches!(err, SpillError::Truncated { .. }),
                "cut {cut}: {err:?}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains(&path.display().to_string()),
                "cut {cut}: {msg}"
            );
            assert!(
                !path.exists(),
                "the file is removed even when reading failed"
            );
        }
        fs::remove_dir_all(&parent).ok();
    }

    #[test]
    fn frame_longer_than_the_file_is_caught_before_allocating() {
        // The file has the written length (so the check at open passes) but
        // the first frame's length field claims far more than is left.
        let (parent, space) = space("longframe");
        let f = write_frames(&space, &sample());
        let path = f.path().to_path_buf();
        let mut bytes = fs::read(&path).expect("read");
        bytes[8..16].copy_from_slice(&(1u64 << 50).to_le_bytes());
        fs::write(&path, &bytes).expect("write");
        let err = read_all(f).expect_err("impossible frame length");
        assert!(matches!(err, SpillError::Truncated { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("at byte 8"),
            "{msg}"
        );
        fs::remove_dir_all(&parent).ok();
    }

    #[test]
    fn corrupt_payload_is_an_error_naming_the_file() {
        let (parent, space) = space("corrupt");
        let f = write_frames(&space, &sample());
        let path = f.path().to_path_buf();
        let mut bytes = fs::read(&path).expect("read");
        // Item count of the first frame: claim one more item than written.
        bytes[16] ^= 0x01;
        fs::write(&path, &bytes).expect("write");
        let err = read_all(f).expect_err("corrupt");
        assert!(
            matches!(err, SpillError::Corrupt { offset: 8, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains(&path.display().to_string()));
        fs::remove_dir_all(&parent).ok();
    }

    #[test]
    fn postcard_decode_rejects_trailing_bytes() {
        let mut buf = Vec::new();
        u64::encode(&[1, 2, 3], &mut buf).expect("encode");
        buf.push(7);
        assert!(u64::decode(&buf).is_err());
    }

    #[test]
    fn unwritable_spill_dir_is_an_error_naming_it() {
        let (parent, _) = space("notadir");
        fs::create_dir_all(parent.parent().expect("has parent")).expect("tmp");
        // A plain file where the parent directory should be.
        fs::write(&parent, b"in the way").expect("file");
        let space = SpillSpace::new(Some(parent.join("below")), None);
        let err = space
            .dir()
            .expect_err("cannot make a directory under a file");
        assert!(
            err.to_string().contains(&parent.display().to_string()),
            "{err}"
        );
        fs::remove_file(&parent).ok();
    }

    #[test]
    fn runs_share_a_directory_while_it_is_held() {
        let (parent, space) = space("share");
        let a = space.dir().expect("dir");
        let b = space.dir().expect("dir");
        assert_eq!(a.path(), b.path());
        let first = a.path().to_path_buf();
        drop((a, b));
        assert!(!first.exists(), "the directory goes with its last holder");
        let c = space.dir().expect("dir");
        assert_ne!(c.path(), first, "a new run gets a new directory");
        drop(c);
        fs::remove_dir_all(&parent).ok();
    }
}
