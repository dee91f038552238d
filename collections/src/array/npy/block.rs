//! The bytes of blocks: the runs of one block inside the file, decoded
//! from or encoded to little-endian elements.

use std::any::Any;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use dagwood_runtime::TaskError;
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex64;

use super::super::{ArrayError, Element, Result};
use super::header::{Header, WRITE_BUFFER};
use crate::files::FileError;

/// Calls `f(first, n)` for each run of consecutive elements of the block
/// at `offset` of shape `block` in a C-order array of `shape`: `first` is
/// the run's flat index in the whole array, `n` its length. Runs are as long
/// as the block allows (whole rows, or whole planes where the block spans
/// the trailing axes), in the block's own C order.
pub(super) fn for_each_run<E>(
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
pub(super) fn decode_into<U, const N: usize>(
    bytes: &[u8],
    out: &mut Vec<U>,
    f: impl Fn([u8; N]) -> U,
) {
    out.extend(bytes.chunks_exact(N).map(|c| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        f(a)
    }));
}

/// Reads the block at `offset` of shape `block` from the mapped file as an
/// array of `U` (the concrete type behind `T`).
pub(super) fn read_block<U: Element, const N: usize>(
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
pub(super) fn cast<U: 'static, T: 'static>(a: ArrayD<U>) -> Result<ArrayD<T>, TaskError> {
    let boxed: Box<dyn Any> = Box::new(a);
    boxed
        .downcast::<ArrayD<T>>()
        .map(|b| *b)
        .map_err(|_| TaskError::failed("npy: element type does not match the dtype"))
}

/// Where the blocks of one `to_npy` go.
pub(super) struct Dest<'a> {
    pub(super) file: &'a File,
    /// The file the user asked for, named in errors.
    pub(super) path: &'a Path,
    pub(super) data_offset: usize,
    /// Shape of the whole array.
    pub(super) shape: &'a [usize],
}

/// Writes `block` (at `offset` in the array) into its place in the file,
/// encoding each element with `f`.
pub(super) fn write_block<U: Element, const N: usize>(
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

pub(super) fn complex_to_le(v: Complex64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&v.re.to_le_bytes());
    out[8..].copy_from_slice(&v.im.to_le_bytes());
    out
}

pub(super) fn complex_from_le(b: [u8; 16]) -> Complex64 {
    let (mut re, mut im) = ([0u8; 8], [0u8; 8]);
    re.copy_from_slice(&b[..8]);
    im.copy_from_slice(&b[8..]);
    Complex64::new(f64::from_le_bytes(re), f64::from_le_bytes(im))
}

/// A write failure of an npy task as the `FileError::Io` it was, instead of
/// a failed task; other errors are returned as they are.
pub(super) fn unwrap_io(e: ArrayError, path: &Path) -> ArrayError {
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
pub(super) fn temp_path(path: &Path) -> Result<PathBuf> {
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
