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
//!
//! The header (dtypes, the Python-literal dictionary) is read and written
//! in `header.rs`, the blocks' bytes in `block.rs`.

mod block;
mod header;

use std::any::Any;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dagwood_runtime::{compute_all_with, Key, Scheduler, TaskBuilder, TaskError};
use memmap2::Mmap;
use ndarray::ArrayD;

use super::{layer_name, Array, ArrayError, Chunks, Element, Result};
use crate::files::FileError;
use block::{
    cast, complex_from_le, complex_to_le, read_block, temp_path, unwrap_io, write_block, Dest,
};
use header::{make_header, read_header, unsupported, Dtype};

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
    /// Errors: [`crate::FileError::Io`] when the file cannot be opened or mapped;
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
    /// Errors: [`crate::FileError::Io`] naming `path` when the file cannot be
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
