//! The `.npy` header: the dtypes dagwood reads and writes, and the
//! Python-literal dictionary (`descr`, `fortran_order`, `shape`) parsed
//! and written.

use std::any::TypeId;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use num_complex::Complex64;

use super::super::{ArrayError, Element, Result};
use crate::files::FileError;

pub(super) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Headers longer than this are taken for corruption rather than allocated
/// (NumPy itself refuses headers over 10 000 bytes by default).
pub(super) const MAX_HEADER: usize = 1 << 20;

/// Bytes encoded per positioned write.
pub(super) const WRITE_BUFFER: usize = 1 << 20;

/// The element types with a `.npy` encoding, all little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dtype {
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
    pub(super) fn of<T: Element>() -> Option<Dtype> {
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

    pub(super) fn descr(self) -> &'static str {
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
    pub(super) fn size(self) -> usize {
        match self {
            Dtype::B1 => 1,
            Dtype::F4 | Dtype::I4 => 4,
            Dtype::F8 | Dtype::I8 => 8,
            Dtype::C16 => 16,
        }
    }

    /// Accepts the spellings NumPy writes on little-endian machines; a
    /// one-byte type has no byte order, so any marker is fine for `b1`.
    pub(super) fn parse(descr: &str) -> Option<Dtype> {
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

pub(super) fn unsupported<T: Element>(op: &str) -> ArrayError {
    ArrayError::Invalid(format!(
        "{op}: element type {} has no .npy dtype (supported: f32 f64 i32 i64 bool complex128)",
        T::DTYPE
    ))
}

/// What a `.npy` header says.
#[derive(Debug)]
pub(super) struct Header {
    pub(super) dtype: Dtype,
    pub(super) shape: Vec<usize>,
    /// Where the data starts.
    pub(super) data_offset: usize,
    /// Bytes of data the shape and dtype call for.
    pub(super) data_len: usize,
}

/// A value of the header's Python dict literal.
#[derive(Debug)]
pub(super) enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// A parser for the subset of Python literal syntax `.npy` headers use:
/// a dict of strings, booleans and tuples of integers.
pub(super) struct Literal<'a> {
    pub(super) s: &'a [u8],
    pub(super) at: usize,
}

impl Literal<'_> {
    pub(super) fn skip_ws(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    pub(super) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.at).copied()
    }

    pub(super) fn expect(&mut self, c: u8) -> Result<(), String> {
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

    pub(super) fn string(&mut self) -> Result<String, String> {
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

    pub(super) fn word(&mut self, w: &str) -> bool {
        if self.s[self.at..].starts_with(w.as_bytes()) {
            self.at += w.len();
            true
        } else {
            false
        }
    }

    pub(super) fn integer(&mut self) -> Result<usize, String> {
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

    pub(super) fn tuple(&mut self) -> Result<Vec<usize>, String> {
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

    pub(super) fn value(&mut self) -> Result<Value, String> {
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

    pub(super) fn dict(&mut self) -> Result<Vec<(String, Value)>, String> {
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
pub(super) fn parse_dict(text: &[u8]) -> Result<(String, bool, Vec<usize>), String> {
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
pub(super) fn read_header<T: Element>(
    file: &mut File,
    path: &Path,
    file_len: u64,
) -> Result<Header> {
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
pub(super) fn make_header(dtype: Dtype, shape: &[usize]) -> Vec<u8> {
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
