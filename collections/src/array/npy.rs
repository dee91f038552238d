//! NumPy `.npy` files, read and written block by block.
//!
//! [`Array::from_npy`] memory-maps the file and gives each block a task that
//! copies only that block's bytes out of the map, so an array larger than
//! memory streams from disk as its blocks are used. [`Array::to_npy`] writes
//! the header and then each block at its place in the file as soon as the
//! block is computed, so the whole array never exists in memory.
//!
//! Supported: dtypes `<f4 <f8 <i4 <i8 |b1 <c16` (`f32 f64 i32 i64 bool
//! Complex64`), C order, format versions 1.0, 2.0 (and 3.0, which differs
//! only in allowing UTF-8 in the header).

use std::any::{Any, TypeId};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dagwood_runtime::{compute_all_with, Key, Scheduler, TaskBuilder, TaskError};
use memmap2::Mmap;
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex64;

use super::{layer_name, Array, ArrayError, Chunks, Element, Result};
use crate::files::FileError;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Headers longer than this are taken for corruption rather than allocated
/// (NumPy itself refuses headers over 10 000 bytes by default).
const MAX_HEADER: usize = 1 << 20;

/// Bytes encoded per positioned write.
const WRITE_BUFFER: usize = 1 << 20;

/// The element types with a `.npy` encoding, all little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    F4,
    F8,
    I4,
    I8,
    B1,
    C16,
}

impl Dtype {
    /// The dtype of `T`, by type rather than by name, so that a foreign
    /// `Element` claiming a built-in name is not misread.
    fn of<T: Element>() -> Option<Dtype> {
        let t = TypeId::of::<T>();
        [
            (TypeId::of::<f32>(), Dtype::F4),
            (TypeId::of::<f64>(), Dtype::F8),
            (TypeId::of::<i32>(), Dtype::I4),
            (TypeId::of::<i64>(), Dtype::I8),
            (TypeId::of::<bool>(), Dtype::B1),
            (TypeId::of::<Complex64>(), Dtype::C16),
        ]
        .into_iter()
        .find_map(|(id, d)| (id == t).then_some(d))
    }

    fn descr(self) -> &'static str {
        match self {
            Dtype::F4 => "<f4",
            Dtype::F8 => "<f8",
            Dtype::I4 => "<i4",
            Dtype::I8 => "<i8",
            Dtype::B1 => "|b1",
            Dtype::C16 => "<c16",
        }
    }

    /// Bytes per element.
    fn size(self) -> usize {
        match self {
            Dtype::B1 => 1,
            Dtype::F4 | Dtype::I4 => 4,
            Dtype::F8 | Dtype::I8 => 8,
            Dtype::C16 => 16,
        }
    }

    /// Accepts the spellings NumPy writes on little-endian machines; a
    /// one-byte type has no byte order, so any marker is fine for `b1`.
    fn parse(descr: &str) -> Option<Dtype> {
        match descr {
            "<f4" => Some(Dtype::F4),
            "<f8" => Some(Dtype::F8),
            "<i4" => Some(Dtype::I4),
            "<i8" => Some(Dtype::I8),
            "|b1" | "<b1" | "=b1" | ">b1" => Some(Dtype::B1),
            "<c16" => Some(Dtype::C16),
            _ => None,
        }
    }
}

fn unsupported<T: Element>(op: &str) -> ArrayError {
    ArrayError::Invalid(format!(
        "{op}: element type {} has no .npy dtype (supported: f32 f64 i32 i64 bool complex128)",
        T::DTYPE
    ))
}

/// What a `.npy` header says.
#[derive(Debug)]
struct Header {
    dtype: Dtype,
    shape: Vec<usize>,
    /// Where the data starts.
    data_offset: usize,
    /// Bytes of data the shape and dtype call for.
    data_len: usize,
}

/// A value of the header's Python dict literal.
#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// A parser for the subset of Python literal syntax `.npy` headers use:
/// a dict of strings, booleans and tuples of integers.
struct Literal<'a> {
    s: &'a [u8],
    at: usize,
}

impl Literal<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        match self.peek() {
            Some(x) if x == c => {
                self.at += 1;
                Ok(())
            }
            Some(x) => Err(format!(
                "header: expected '{}' at byte {}, found '{}'",
                c as char, self.at, x as char
            )),
            None => Err(format!("header: expected '{}', found the end", c as char)),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(format!(
                    "header: expected a quoted string at byte {}",
                    self.at
                ))
            }
        };
        self.at += 1;
        let start = self.at;
        while let Some(&c) = self.s.get(self.at) {
            if c == quote {
                let text = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
                self.at += 1;
                return Ok(text);
            }
            self.at += 1;
        }
        Err("header: unterminated string".into())
    }

    fn word(&mut self, w: &str) -> bool {
        if self.s[self.at..].starts_with(w.as_bytes()) {
            self.at += w.len();
            true
        } else {
            false
        }
    }

    fn integer(&mut self) -> Result<usize, String> {
        self.skip_ws();
        let start = self.at;
        let mut n: usize = 0;
        while let Some(d) = self.s.get(self.at).filter(|c| c.is_ascii_digit()) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(d - b'0')))
                .ok_or_else(|| format!("header: dimension at byte {start} is too large"))?;
            self.at += 1;
        }
        if self.at == start {
            return Err(format!("header: expected a dimension at byte {start}"));
        }
        // Files written by Python 2 may spell long integers `3L`.
        if self.s.get(self.at) == Some(&b'L') {
            self.at += 1;
        }
        Ok(n)
    }

    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut out = Vec::new();
        loop {
            if self.peek() == Some(b')') {
                self.at += 1;
                return Ok(out);
            }
            out.push(self.integer()?);
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b')') => {}
                _ => {
                    return Err(format!(
                        "header: expected ',' or ')' in the shape at byte {}",
                        self.at
                    ))
                }
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => Ok(Value::Tuple(self.tuple()?)),
            Some(b'[') => {
                Err("header: structured dtypes (a list 'descr') are not supported".into())
            }
            _ if self.word("True") => Ok(Value::Bool(true)),
            _ if self.word("False") => Ok(Value::Bool(false)),
            _ => Err(format!("header: unexpected value at byte {}", self.at)),
        }
    }

    fn dict(&mut self) -> Result<Vec<(String, Value)>, String> {
        self.expect(b'{')?;
        let mut out = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.at += 1;
                return Ok(out);
            }
            let key = self.string()?;
            self.expect(b':')?;
            out.push((key, self.value()?));
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {}
                _ => return Err(format!("header: expected ',' or '}}' at byte {}", self.at)),
            }
        }
    }
}

/// Parses the dict of a header into (descr, fortran_order, shape).
fn parse_dict(text: &[u8]) -> Result<(String, bool, Vec<usize>), String> {
    let entries = Literal { s: text, at: 0 }.dict()?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in entries {
        match (key.as_str(), value) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", v) => {
                return Err(format!("header: '{key}' has a bad value {v:?}"))
            }
            _ => {}
        }
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err("header: it must have the keys 'descr', 'fortran_order' and 'shape'".into()),
    }
}

/// Reads and checks the header of `file` (of `file_len` bytes) for elements of `T`.
fn read_header<T: Element>(file: &mut File, path: &Path, file_len: u64) -> Result<Header> {
    let format = |reason: String| ArrayError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let io = |source: std::io::Error| ArrayError::from(FileError::io(path, source));
    let truncated = |e: std::io::Error, what: &str| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            format(format!(
                "truncated: the file ends inside the {what} ({file_len} bytes in all)"
            ))
        } else {
            io(e)
        }
    };
    let mut preamble = [0u8; 8];
    file.read_exact(&mut preamble)
        .map_err(|e| truncated(e, "magic string"))?;
    if &preamble[..6] != MAGIC {
        return Err(format(format!(
            "not a .npy file: the first bytes are {:?}, not \"\\x93NUMPY\"",
            String::from_utf8_lossy(&preamble[..6])
        )));
    }
    let (major, minor) = (preamble[6], preamble[7]);
    let header_len = match (major, minor) {
        (1, 0) => {
            let mut b = [0u8; 2];
            file.read_exact(&mut b)
                .map_err(|e| truncated(e, "header length"))?;
            usize::from(u16::from_le_bytes(b))
        }
        (2, 0) | (3, 0) => {
            let mut b = [0u8; 4];
            file.read_exact(&mut b)
                .map_err(|e| truncated(e, "header length"))?;
            usize::try_from(u32::from_le_bytes(b)).unwrap_or(usize::MAX)
        }
        _ => {
            return Err(format(format!(
                "unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"
            )))
        }
    };
    if header_len > MAX_HEADER {
        return Err(format(format!(
            "implausible header length {header_len} bytes"
        )));
    }
    let mut text = vec![0u8; header_len];
    file.read_exact(&mut text)
        .map_err(|e| truncated(e, "header"))?;
    let (descr, fortran, shape) = parse_dict(&text).map_err(format)?;
    let dtype = Dtype::parse(&descr).ok_or_else(|| {
        format(format!(
            "unsupported dtype '{descr}' (supported: <f4 <f8 <i4 <i8 |b1 <c16; big-endian and other types are not)"
        ))
    })?;
    let want = Dtype::of::<T>().ok_or_else(|| unsupported::<T>("from_npy"))?;
    if dtype != want {
        return Err(format(format!(
            "the file holds dtype '{descr}', but an array of {} ('{}') was asked for",
            T::DTYPE,
            want.descr()
        )));
    }
    if fortran {
        return Err(format(format!(
            "the data is in Fortran order (shape {shape:?}); only C order is supported"
        )));
    }
    let prefix = if major == 1 { 10 } else { 12 };
    let data_offset = prefix + header_len;
    let data_len = shape
        .iter()
        .try_fold(dtype.size(), |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| {
            format(format!(
                "shape {shape:?} of '{descr}' is too large to address"
            ))
        })?;
    let end = data_offset.checked_add(data_len).ok_or_else(|| {
        format(format!(
            "shape {shape:?} of '{descr}' is too large to address"
        ))
    })?;
    if (file_len as u128) < end as u128 {
        return Err(format(format!(
            "truncated: shape {shape:?} of '{descr}' needs {data_len} bytes of data after the \
             {data_offset}-byte header, but the file has {} bytes in all",
            file_len
        )));
    }
    Ok(Header {
        dtype,
        shape,
        data_offset,
        data_len,
    })
}

/// The header of an array of `shape` and `dtype`: version 1.0 when the dict
/// fits its 16-bit length, else 2.0, padded with spaces so that the data
/// starts on a 64-byte boundary, as NumPy does.
fn make_header(dtype: Dtype, shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        dtype.descr()
    );
    // +1 for the closing newline.
    let padded = |prefix: usize| (prefix + dict.len() + 1).div_ceil(64) * 64 - prefix;
    let (mut out, len) = if padded(10) <= usize::from(u16::MAX) {
        let len = padded(10);
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        (out, len)
    } else {
        let len = padded(12);
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(len as u32).to_le_bytes());
        (out, len)
    };
    out.extend_from_slice(dict.as_bytes());
    out.resize(out.len() + len - dict.len() - 1, b' ');
    out.push(b'\n');
    out
}

/// Calls `f(first, n)` for each run of consecutive elements of the block
/// at `offset` of shape `block` in a C-order array of `shape`: `first` is
/// the run's flat index in the whole array, `n` its length. Runs are as long
/// as the block allows (whole rows, or whole planes where the block spans
/// the trailing axes), in the block's own C order.
fn for_each_run<E>(
    shape: &[usize],
    offset: &[usize],
    block: &[usize],
    mut f: impl FnMut(usize, usize) -> Result<(), E>,
) -> Result<(), E> {
    if block.contains(&0) {
        return Ok(());
    }
    let nd = shape.len();
    // Axes `r..` form each run: all after `r` are spanned whole.
    let (mut r, mut run) = (nd, 1);
    while r > 0 {
        r -= 1;
        run *= block[r];
        if block[r] != shape[r] {
            break;
        }
    }
    let mut strides = vec![1usize; nd];
    for k in (0..nd.saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    let base: usize = (0..nd).map(|k| offset[k] * strides[k]).sum();
    // An odometer over the block's axes before `r`.
    let mut idx = vec![0usize; r];
    loop {
        let first = base + idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>();
        f(first, run)?;
        let mut k = r;
        loop {
            if k == 0 {
                return Ok(());
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < block[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// Decodes the little-endian elements in `bytes` onto `out`.
fn decode_into<U, const N: usize>(bytes: &[u8], out: &mut Vec<U>, f: impl Fn([u8; N]) -> U) {
    out.extend(bytes.chunks_exact(N).map(|c| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        f(a)
    }));
}

/// Reads the block at `offset` of shape `block` from the mapped file as an
/// array of `U` (the concrete type behind `T`).
fn read_block<U: Element, const N: usize>(
    map: &[u8],
    h: &Header,
    offset: &[usize],
    block: &[usize],
    path: &Path,
    f: impl Fn([u8; N]) -> U,
) -> Result<ArrayD<U>, TaskError> {
    let mut out = Vec::with_capacity(block.iter().product());
    for_each_run(&h.shape, offset, block, |first, n| {
        let start = h.data_offset + first * N;
        let bytes = map.get(start..start + n * N).ok_or_else(|| {
            TaskError::failed(format!(
                "{}: bytes {start}..{} are beyond the end of the file (was it truncated while mapped?)",
                path.display(),
                start + n * N
            ))
        })?;
        decode_into(bytes, &mut out, &f);
        Ok(())
    })?;
    ArrayD::from_shape_vec(IxDyn(block), out).map_err(|e| TaskError::failed(e.to_string()))
}

/// `a` as the array type it really is (the dtype was chosen from `T`'s type).
fn cast<U: 'static, T: 'static>(a: ArrayD<U>) -> Result<ArrayD<T>, TaskError> {
    let boxed: Box<dyn Any> = Box::new(a);
    boxed
        .downcast::<ArrayD<T>>()
        .map(|b| *b)
        .map_err(|_| TaskError::failed("npy: element type does not match the dtype"))
}

/// Where the blocks of one `to_npy` go.
struct Dest<'a> {
    file: &'a File,
    /// The file the user asked for, named in errors.
    path: &'a Path,
    data_offset: usize,
    /// Shape of the whole array.
    shape: &'a [usize],
}

/// Writes `block` (at `offset` in the array) into its place in the file,
/// encoding each element with `f`.
fn write_block<U: Element, const N: usize>(
    dest: &Dest<'_>,
    offset: &[usize],
    block: &dyn Any,
    f: impl Fn(U) -> [u8; N],
) -> Result<(), TaskError> {
    let block = block
        .downcast_ref::<ArrayD<U>>()
        .ok_or_else(|| TaskError::failed("npy: element type does not match the dtype"))?;
    let std = block.as_standard_layout();
    let elems = std
        .as_slice()
        .ok_or_else(|| TaskError::failed("npy: block is not contiguous"))?;
    let mut done = 0;
    // Encoded a bounded piece at a time, so writing a block needs little
    // memory beyond the block itself.
    let piece = (WRITE_BUFFER / N).max(1);
    let mut buf = vec![0u8; piece.min(elems.len()) * N];
    for_each_run(dest.shape, offset, block.shape(), |first, n| {
        let run = elems
            .get(done..done + n)
            .ok_or_else(|| TaskError::failed("npy: block shorter than its shape"))?;
        done += n;
        for (k, part) in run.chunks(piece).enumerate() {
            let bytes = &mut buf[..part.len() * N];
            for (dst, &v) in bytes.chunks_exact_mut(N).zip(part) {
                dst.copy_from_slice(&f(v));
            }
            let at = (dest.data_offset + (first + k * piece) * N) as u64;
            dest.file.write_all_at(bytes, at).map_err(|source| {
                TaskError::failed(ArrayError::from(FileError::io(dest.path, source)))
            })?;
        }
        Ok(())
    })
}

fn complex_to_le(v: Complex64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&v.re.to_le_bytes());
    out[8..].copy_from_slice(&v.im.to_le_bytes());
    out
}

fn complex_from_le(b: [u8; 16]) -> Complex64 {
    let (mut re, mut im) = ([0u8; 8], [0u8; 8]);
    re.copy_from_slice(&b[..8]);
    im.copy_from_slice(&b[8..]);
    Complex64::new(f64::from_le_bytes(re), f64::from_le_bytes(im))
}

/// A write failure of an npy task as the `FileError::Io` it was, instead of
/// a failed task; other errors are returned as they are.
fn unwrap_io(e: ArrayError, path: &Path) -> ArrayError {
    match e {
        ArrayError::Compute(dagwood_runtime::Error::Task {
            key,
            cause: TaskError::Failed(b),
        }) => match b.downcast::<ArrayError>() {
            Ok(inner) if matches!(&*inner, ArrayError::File(FileError::Io { path: p, .. }) if p == path) => {
                *inner
            }
            Ok(inner) => ArrayError::Compute(dagwood_runtime::Error::Task {
                key,
                cause: TaskError::Failed(inner),
            }),
            Err(b) => ArrayError::Compute(dagwood_runtime::Error::Task {
                key,
                cause: TaskError::Failed(b),
            }),
        },
        other => other,
    }
}

/// The file `to_npy` writes before renaming it to `path`: a hidden name in
/// the same directory, so the rename stays within one file system.
fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        ArrayError::Invalid(format!("to_npy: {} does not name a file", path.display()))
    })?;
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        crate::keys::token()
    ));
    Ok(path.with_file_name(tmp))
}

impl<T: Element> Array<T> {
    /// Opens a `.npy` file as an array in blocks of `chunk` elements per
    /// axis (0 = the whole axis; one entry per axis of the stored array).
    ///
    /// The header is read now; the data is memory-mapped and each block's
    /// task copies only that block's bytes out of the map, so a file larger
    /// than memory can be processed block by block. The file must not be
    /// truncated or rewritten in place while the array (or anything computed
    /// from it) is in use; replacing it, as [`to_npy`](Array::to_npy) does,
    /// is fine: the map keeps the old contents.
    ///
    /// Errors: [`FileError::Io`](crate::FileError::Io) when the file cannot be opened or mapped;
    /// [`ArrayError::Format`] (naming the file and the problem) for a bad
    /// magic string, an unsupported version, dtype or Fortran order, a dtype
    /// other than `T`'s, or a file shorter than its header says;
    /// [`ArrayError::Invalid`] when `T` has no `.npy` dtype;
    /// [`ArrayError::BadChunks`] when `chunk` does not fit the shape.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let path = std::env::temp_dir().join(format!("dagwood-doc-from-npy-{}.npy", std::process::id()));
    /// let x = Array::<i64>::from_fn(&[4, 6], &[2, 6], |i| (i[0] * 6 + i[1]) as i64).unwrap();
    /// x.to_npy(&path).unwrap();
    /// let y = Array::<i64>::from_npy(&path, &[3, 4]).unwrap();
    /// assert_eq!(y.chunks().grid(), vec![2, 2]);
    /// assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    /// assert!(Array::<f64>::from_npy(&path, &[3, 4]).is_err()); // the file holds i64
    /// # drop(y);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn from_npy(path: impl AsRef<Path>, chunk: &[usize]) -> Result<Array<T>> {
        let path = path.as_ref();
        let io = |source| ArrayError::from(FileError::io(path, source));
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let header = read_header::<T>(&mut file, path, file_len)?;
        let chunks = Chunks::regular(&header.shape, chunk)?;
        // SAFETY: the map is only read, through bounds-checked slices. Like
        // every file mapping it relies on the file not being truncated or
        // rewritten while mapped (documented above): another process doing
        // so can make reads fault or see the new bytes.
        let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(io)?);
        if map.len() < header.data_offset + header.data_len {
            // The file shrank between reading its length and mapping it.
            return Err(ArrayError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "truncated: {} bytes mapped, {} needed",
                    map.len(),
                    header.data_offset + header.data_len
                ),
            });
        }
        let header = Arc::new(header);
        let path: Arc<PathBuf> = Arc::new(path.to_path_buf());
        let name = layer_name("from_npy");
        let blocks = chunks
            .indices()
            .map(|idx| {
                let key = super::block_key(&name, &idx);
                let offset = chunks.block_offset(&idx);
                let shape = chunks.block_shape(&idx);
                let (map, h, path) = (map.clone(), header.clone(), path.clone());
                TaskBuilder::new("from_npy").key(key).build(move |_| {
                    let (m, o, s, p) = (&map[..], &offset[..], &shape[..], path.as_path());
                    match h.dtype {
                        Dtype::F4 => cast(read_block(m, &h, o, s, p, f32::from_le_bytes)?),
                        Dtype::F8 => cast(read_block(m, &h, o, s, p, f64::from_le_bytes)?),
                        Dtype::I4 => cast(read_block(m, &h, o, s, p, i32::from_le_bytes)?),
                        Dtype::I8 => cast(read_block(m, &h, o, s, p, i64::from_le_bytes)?),
                        // NumPy reads any non-zero byte as True.
                        Dtype::B1 => cast(read_block(m, &h, o, s, p, |[b]: [u8; 1]| b != 0)?),
                        Dtype::C16 => cast(read_block(m, &h, o, s, p, complex_from_le)?),
                    }
                })
            })
            .collect();
        Array::from_blocks(&header.shape, chunks, blocks)
    }

    /// Writes the array to a `.npy` file (C order, format 1.0, or 2.0 for
    /// very long headers), computing it with the default scheduler.
    ///
    /// One task writes the header and sizes the file; each block is then
    /// written at its place in the file by a task of its own as soon as it
    /// is computed, so the whole array is never held in memory. The data
    /// goes to a hidden file in the same directory that replaces `path` only
    /// once every block is written: a failed write leaves an existing file
    /// untouched, and an array read from `path` itself can be written back
    /// to it.
    ///
    /// Errors: [`FileError::Io`](crate::FileError::Io) naming `path` when the file cannot be
    /// created, written or renamed; [`ArrayError::Invalid`] when `T` has no
    /// `.npy` dtype; the array's own errors otherwise.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let path = std::env::temp_dir().join(format!("dagwood-doc-to-npy-{}.npy", std::process::id()));
    /// let x = Array::<f32>::linspace(0.0, 1.0, 5, 2).unwrap();
    /// x.to_npy(&path).unwrap();
    /// let bytes = std::fs::read(&path).unwrap();
    /// assert!(bytes.starts_with(b"\x93NUMPY\x01\x00"));
    /// assert_eq!(bytes.len(), 128 + 5 * 4); // 64-byte aligned header, then the data
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_npy_with(path, &Scheduler::current())
    }

    /// [`to_npy`](Array::to_npy) with the given scheduler.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// use dagwood_runtime::Scheduler;
    /// let path = std::env::temp_dir().join(format!("dagwood-doc-to-npy-with-{}.npy", std::process::id()));
    /// let x = Array::<bool>::from_fn(&[3, 3], &[2, 2], |i| i[0] == i[1]).unwrap();
    /// x.to_npy_with(&path, &Scheduler::Sync).unwrap();
    /// let eye = Array::<bool>::from_npy(&path, &[0, 0]).unwrap().compute().unwrap();
    /// assert_eq!(eye, x.compute().unwrap());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn to_npy_with(&self, path: impl AsRef<Path>, scheduler: &Scheduler) -> Result<()> {
        let path = path.as_ref();
        self.check()?;
        let dtype = Dtype::of::<T>().ok_or_else(|| unsupported::<T>("to_npy"))?;
        let header = make_header(dtype, self.shape());
        let too_large = || {
            ArrayError::Invalid(format!(
                "to_npy: shape {:?} is too large for a file",
                self.shape()
            ))
        };
        let total = self
            .shape()
            .iter()
            .try_fold(dtype.size(), |acc, &n| acc.checked_mul(n))
            .and_then(|n| n.checked_add(header.len()))
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(too_large)?;
        let data_offset = header.len();
        let src = self.blocks()?;
        let tmp = Arc::new(temp_path(path)?);
        let target = Arc::new(path.to_path_buf());

        let (t, p) = (tmp.clone(), target.clone());
        let file = TaskBuilder::new("npy_header")
            .key(Key::from_name(layer_name("to_npy_header")))
            .build(move |_| {
                let io = |source| TaskError::failed(ArrayError::from(FileError::io(&**p, source)));
                let mut f = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(t.as_path())
                    .map_err(io)?;
                f.write_all(&header).map_err(io)?;
                // Sized up front, so blocks can land anywhere in any order.
                f.set_len(total).map_err(io)?;
                Ok(Arc::new(f))
            });

        let name = layer_name("to_npy");
        let shape: Arc<[usize]> = self.shape().into();
        let writes: Vec<_> = self
            .chunks()
            .indices()
            .map(|idx| {
                let key = super::block_key(&name, &idx);
                let mut b = TaskBuilder::new("npy_write").key(key);
                let file = b.input(&file);
                let block = b.input(&src[self.chunks().ravel(&idx)]);
                let offset = self.chunks().block_offset(&idx);
                let want = self.chunks().block_shape(&idx);
                let (shape, path) = (shape.clone(), target.clone());
                b.build(move |args| {
                    let (file, blk): (&Arc<File>, &ArrayD<T>) = (file.get(args)?, block.get(args)?);
                    if blk.shape() != want.as_slice() {
                        return Err(TaskError::failed(format!(
                            "to_npy: a block has shape {:?}, expected {want:?}",
                            blk.shape()
                        )));
                    }
                    let dest = Dest {
                        file,
                        path: &path,
                        data_offset,
                        shape: &shape,
                    };
                    let (o, any): (&[usize], &dyn Any) = (&offset, blk);
                    match dtype {
                        Dtype::F4 => write_block(&dest, o, any, f32::to_le_bytes),
                        Dtype::F8 => write_block(&dest, o, any, f64::to_le_bytes),
                        Dtype::I4 => write_block(&dest, o, any, i32::to_le_bytes),
                        Dtype::I8 => write_block(&dest, o, any, i64::to_le_bytes),
                        Dtype::B1 => write_block(&dest, o, any, |v: bool| [u8::from(v)]),
                        Dtype::C16 => write_block(&dest, o, any, complex_to_le),
                    }
                })
            })
            .collect();
        // Every array has at least one block, so the header task always runs.
        let written = compute_all_with(&writes, scheduler);
        drop(writes);
        match written {
            Ok(_) => std::fs::rename(tmp.as_path(), path).map_err(|source| {
                let _ = std::fs::remove_file(tmp.as_path());
                ArrayError::from(FileError::io(path, source))
            }),
            Err(e) => {
                // Best effort: the write already failed, and that is the error to report.
                let _ = std::fs::remove_file(tmp.as_path());
                Err(unwrap_io(ArrayError::Compute(e), path))
            }
        }
    }
}
