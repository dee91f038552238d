//! Zarr storage (Dask's `from_zarr` / `to_zarr`), on the `zarrs` crate: Zarr
//! v3 read and written, Zarr v2 read, in local directory stores.
//!
//! Each block of an array read from Zarr is one task that reads only the
//! store chunks under it (by default the blocks *are* the store's chunks);
//! each block of an array written is encoded and stored by its own task as
//! soon as it is computed, so neither direction holds the whole array.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dagwood_runtime::{compute_all_with, Scheduler, TaskBuilder, TaskError};
use ndarray::{ArrayD, IxDyn};
use num_complex::Complex64;
use zarrs::array::codec::{
    BloscCodec, BloscCompressionLevel, BloscCompressor, BloscShuffleMode, GzipCodec, ZstdCodec,
};
use zarrs::array::{
    data_type, Array as ZArray, ArrayBuilder, ArraySubset, BytesToBytesCodecTraits,
};
use zarrs::filesystem::FilesystemStore;

use super::{layer_name, Array, ArrayError, Chunks, Element, Result};

type Store = ZArray<FilesystemStore>;

/// The compression of a Zarr store written by [`Array::to_zarr_with`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ZarrCodec {
    /// No compression.
    None,
    /// gzip at a level 0-9.
    Gzip(u32),
    /// Zstandard at a level (1-22; 0 is zstd's default). Python zarr's v3 default.
    Zstd(i32),
    /// Blosc with LZ4 and byte shuffle at a level 0-9 (numcodecs' default).
    Blosc(u8),
}

/// How [`Array::to_zarr_with`] writes: the codec, and whether an existing
/// store at the path is replaced.
///
/// ```
/// use dagwood_collections::array::{ToZarr, ZarrCodec};
/// let opts = ToZarr::new().codec(ZarrCodec::Gzip(5)).overwrite(true);
/// assert_eq!(opts, ToZarr { codec: ZarrCodec::Gzip(5), overwrite: true });
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToZarr {
    /// The bytes-to-bytes codec of every chunk (default: zstd level 3).
    pub codec: ZarrCodec,
    /// Remove whatever is at the path first (default: fail if it exists).
    pub overwrite: bool,
}

impl Default for ToZarr {
    fn default() -> Self {
        ToZarr {
            codec: ZarrCodec::Zstd(3),
            overwrite: false,
        }
    }
}

impl ToZarr {
    /// zstd level 3, no overwrite.
    pub fn new() -> Self {
        ToZarr::default()
    }
    /// Sets the codec.
    pub fn codec(mut self, codec: ZarrCodec) -> Self {
        self.codec = codec;
        self
    }
    /// Sets whether an existing store is replaced.
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }
}

fn format_err(path: &Path, reason: impl std::fmt::Display) -> ArrayError {
    ArrayError::Format {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The Zarr data type of `T`, named as Zarr v3 names it.
fn zarr_type<T: Element>() -> (zarrs::array::DataType, &'static str) {
    match T::DTYPE {
        "f32" => (data_type::float32(), "float32"),
        "f64" => (data_type::float64(), "float64"),
        "i32" => (data_type::int32(), "int32"),
        "i64" => (data_type::int64(), "int64"),
        "bool" => (data_type::bool(), "bool"),
        _ => (data_type::complex128(), "complex128"),
    }
}

/// `v` as `Vec<T>` when `U` is `T` (the dispatch on `T::DTYPE` made sure).
fn cast<T: 'static, U: 'static>(v: Vec<U>) -> std::result::Result<Vec<T>, TaskError> {
    let boxed: Box<dyn Any> = Box::new(v);
    boxed
        .downcast::<Vec<T>>()
        .map(|b| *b)
        .map_err(|_| TaskError::failed("zarr: element type mismatch"))
}

/// Reads `subset` of the store as `T`s.
fn retrieve<T: Element>(z: &Store, subset: &ArraySubset) -> std::result::Result<Vec<T>, String> {
    fn get<U: zarrs::array::ElementOwned>(
        z: &Store,
        s: &ArraySubset,
    ) -> std::result::Result<Vec<U>, String> {
        z.retrieve_array_subset::<Vec<U>>(s)
            .map_err(|e| e.to_string())
    }
    let any: Vec<T> = match T::DTYPE {
        "f32" => cast(get::<f32>(z, subset)?),
        "f64" => cast(get::<f64>(z, subset)?),
        "i32" => cast(get::<i32>(z, subset)?),
        "i64" => cast(get::<i64>(z, subset)?),
        "bool" => cast(get::<bool>(z, subset)?),
        _ => cast(get::<Complex64>(z, subset)?),
    }
    .map_err(|e| e.to_string())?;
    Ok(any)
}

/// Writes `block` at `subset` of the store.
fn store<T: Element>(
    z: &Store,
    subset: &ArraySubset,
    block: &ArrayD<T>,
) -> std::result::Result<(), String> {
    fn put<U: zarrs::array::Element + Clone + 'static>(
        z: &Store,
        s: &ArraySubset,
        block: &dyn Any,
    ) -> std::result::Result<(), String> {
        let block = block
            .downcast_ref::<ArrayD<U>>()
            .ok_or_else(|| "zarr: element type mismatch".to_string())?;
        let c = block.as_standard_layout();
        let data = c
            .as_slice()
            .ok_or_else(|| "zarr: block not contiguous".to_string())?;
        z.store_array_subset(s, data).map_err(|e| e.to_string())
    }
    let any: &dyn Any = block;
    match T::DTYPE {
        "f32" => put::<f32>(z, subset, any),
        "f64" => put::<f64>(z, subset, any),
        "i32" => put::<i32>(z, subset, any),
        "i64" => put::<i64>(z, subset, any),
        "bool" => put::<bool>(z, subset, any),
        _ => put::<Complex64>(z, subset, any),
    }
}

fn subset(offset: &[usize], shape: &[usize]) -> ArraySubset {
    ArraySubset::new_with_start_shape(
        offset.iter().map(|&o| o as u64).collect(),
        shape.iter().map(|&n| n as u64).collect(),
    )
    .unwrap_or_else(|_| ArraySubset::new_empty(offset.len()))
}

/// The chunks along each axis of the store's regular grid.
fn store_chunks(z: &Store, path: &Path) -> Result<Vec<usize>> {
    let nd = z.dimensionality();
    let zero = vec![0u64; nd];
    let shape = z
        .chunk_shape(&zero)
        .map_err(|e| format_err(path, format!("reading the chunk grid: {e}")))?;
    Ok(shape.iter().map(|n| n.get() as usize).collect())
}

impl<T: Element> Array<T> {
    /// Opens the Zarr array stored in the directory `path` (Zarr v3's
    /// `zarr.json`, or v2's `.zarray`), one block per store chunk (Dask's
    /// `from_zarr`). Nothing is read until the blocks are computed, and
    /// then each block's task reads and decodes only its own chunk, with
    /// the codecs the store declares (gzip, zstd, blosc, crc32c, sharding,
    /// transpose).
    ///
    /// Errors: [`ArrayError::Format`] naming `path` when there is no Zarr
    /// array there, it uses a codec or chunk grid this build lacks, or its
    /// elements are not `T`. A chunk that fails to decode fails its task
    /// with the store path and the chunk's index.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-zarr-{}", std::process::id()));
    /// let x = Array::<f64>::from_fn(&[5, 7], &[2, 3], |i| (i[0] * 7 + i[1]) as f64).unwrap();
    /// x.to_zarr(&dir).unwrap();
    /// let y = Array::<f64>::from_zarr(&dir).unwrap();
    /// assert_eq!(y.chunks().sizes(1), &[3, 3, 1]);              // the store's chunks
    /// assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    /// assert!(Array::<i32>::from_zarr(&dir).is_err());          // float64 in the store
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_zarr(path: impl AsRef<Path>) -> Result<Array<T>> {
        Self::open_zarr(path.as_ref(), None)
    }

    /// [`from_zarr`](Array::from_zarr) with blocks of `chunk` elements per
    /// axis (0 = the whole axis); a block reads the store chunks it
    /// overlaps. Multiples of the store's chunks read every chunk once.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-zarr-chunks-{}", std::process::id()));
    /// Array::<i64>::arange(0, 100, 1, 10).unwrap().to_zarr(&dir).unwrap();
    /// let y = Array::<i64>::from_zarr_chunks(&dir, &[40]).unwrap();
    /// assert_eq!(y.chunks().sizes(0), &[40, 40, 20]);
    /// assert_eq!(y.sum().unwrap().compute().unwrap(), 4950);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_zarr_chunks(path: impl AsRef<Path>, chunk: &[usize]) -> Result<Array<T>> {
        Self::open_zarr(path.as_ref(), Some(chunk))
    }

    fn open_zarr(path: &Path, chunk: Option<&[usize]>) -> Result<Array<T>> {
        let fs = FilesystemStore::new(path)
            .map_err(|e| format_err(path, format!("cannot open as a Zarr store: {e}")))?;
        let z = ZArray::open(Arc::new(fs), "/")
            .map_err(|e| format_err(path, format!("not a readable Zarr array: {e}")))?;
        let (want, name) = zarr_type::<T>();
        if z.data_type() != &want {
            return Err(format_err(
                path,
                format!(
                    "the store holds {} elements, not {name} ({})",
                    z.data_type(),
                    T::DTYPE
                ),
            ));
        }
        let shape: Vec<usize> = z.shape().iter().map(|&n| n as usize).collect();
        let native = store_chunks(&z, path)?;
        let chunks = Chunks::regular(&shape, chunk.unwrap_or(&native))?;
        let z = Arc::new(z);
        let path: Arc<PathBuf> = Arc::new(path.to_path_buf());
        let name = layer_name("from_zarr");
        let blocks = chunks
            .indices()
            .map(|idx| {
                let offset = chunks.block_offset(&idx);
                let bshape = chunks.block_shape(&idx);
                let (z, path, native) = (z.clone(), path.clone(), native.clone());
                TaskBuilder::new("from_zarr")
                    .key(super::block_key(&name, &idx))
                    .build(move |_| {
                        let s = subset(&offset, &bshape);
                        let data = retrieve::<T>(&z, &s).map_err(|e| {
                            // The store chunks under this block, for the message.
                            let first: Vec<usize> =
                                offset.iter().zip(&native).map(|(o, c)| o / c).collect();
                            let last: Vec<usize> = offset
                                .iter()
                                .zip(&bshape)
                                .zip(&native)
                                .map(|((o, n), c)| (o + n.max(&1) - 1) / c)
                                .collect();
                            let which = if first == last {
                                format!("chunk {first:?}")
                            } else {
                                format!("chunks {first:?} to {last:?}")
                            };
                            TaskError::failed(format!("{}: {which}: {e}", path.display()))
                        })?;
                        ArrayD::from_shape_vec(IxDyn(&bshape), data)
                            .map_err(|e| TaskError::failed(format!("{}: {e}", path.display())))
                    })
            })
            .collect();
        Array::from_blocks(&shape, chunks, blocks)
    }

    /// Writes the array as a Zarr v3 store in the directory `path`
    /// (zstd-compressed; see [`to_zarr_with`](Array::to_zarr_with)),
    /// computing it with the default scheduler. The store's chunks are the
    /// array's (irregular chunks are first made regular at their largest
    /// size); each block is encoded and written by its own task.
    ///
    /// Errors: [`ArrayError::File`] or [`ArrayError::Format`] naming `path`
    /// when something already exists there or the store cannot be written.
    pub fn to_zarr(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_zarr_with(path, &ToZarr::new(), &Scheduler::current())
    }

    /// [`to_zarr`](Array::to_zarr) with a codec, overwrite choice and scheduler.
    ///
    /// With `overwrite`, what is at `path` is removed before anything is
    /// computed, so an array read from that same store cannot be written
    /// back to it.
    ///
    /// ```
    /// use dagwood_collections::array::{Array, ToZarr, ZarrCodec};
    /// use dagwood_runtime::Scheduler;
    /// let dir = std::env::temp_dir().join(format!("dagwood-doc-zarr-with-{}", std::process::id()));
    /// let x = Array::<bool>::from_fn(&[4, 4], &[2, 2], |i| i[0] == i[1]).unwrap();
    /// let opts = ToZarr::new().codec(ZarrCodec::Blosc(5)).overwrite(true);
    /// x.to_zarr_with(&dir, &opts, &Scheduler::Sync).unwrap();
    /// x.to_zarr_with(&dir, &opts, &Scheduler::Sync).unwrap();   // replaced
    /// assert!(x.to_zarr(&dir).is_err());                          // exists
    /// assert_eq!(Array::<bool>::from_zarr(&dir).unwrap().compute().unwrap(), x.compute().unwrap());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn to_zarr_with(
        &self,
        path: impl AsRef<Path>,
        options: &ToZarr,
        scheduler: &Scheduler,
    ) -> Result<()> {
        let path = path.as_ref();
        self.check()?;
        let io = |source| ArrayError::File(crate::FileError::io(path, source));
        if path.exists() {
            if !options.overwrite {
                return Err(format_err(
                    path,
                    "already exists (ToZarr::overwrite(true) replaces it)",
                ));
            }
            if path.is_dir() {
                std::fs::remove_dir_all(path).map_err(io)?;
            } else {
                std::fs::remove_file(path).map_err(io)?;
            }
        }
        std::fs::create_dir_all(path).map_err(io)?;
        // Zarr's grid is regular: keep the array's chunks when they are.
        let chunk: Vec<usize> = self
            .chunks()
            .max_chunk()
            .iter()
            .map(|&c| c.max(1))
            .collect();
        let regular = Chunks::regular(self.shape(), &chunk)?;
        let arr = if &regular == self.chunks() {
            self.clone()
        } else {
            self.rechunk_to(&regular)?
        };
        let codec: Option<Arc<dyn BytesToBytesCodecTraits>> = match options.codec {
            ZarrCodec::None => None,
            ZarrCodec::Gzip(l) => {
                Some(Arc::new(GzipCodec::new(l).map_err(|e| {
                    format_err(path, format!("gzip level {l}: {e}"))
                })?))
            }
            ZarrCodec::Zstd(l) => Some(Arc::new(ZstdCodec::new(l, false))),
            ZarrCodec::Blosc(l) => Some(Arc::new(
                BloscCodec::new(
                    BloscCompressor::LZ4,
                    BloscCompressionLevel::try_from(l)
                        .map_err(|e| format_err(path, format!("blosc level {l}: {e}")))?,
                    None,
                    BloscShuffleMode::Shuffle,
                    Some(std::mem::size_of::<T>()),
                )
                .map_err(|e| format_err(path, format!("blosc: {e}")))?,
            )),
        };
        let fs = FilesystemStore::new(path)
            .map_err(|e| format_err(path, format!("cannot create a Zarr store: {e}")))?;
        let (dtype, _) = zarr_type::<T>();
        let fill = fill_value::<T>();
        let z = ArrayBuilder::new(
            self.shape().iter().map(|&n| n as u64).collect::<Vec<_>>(),
            chunk.iter().map(|&n| n as u64).collect::<Vec<_>>(),
            dtype,
            fill,
        )
        .bytes_to_bytes_codecs(codec.into_iter().collect())
        .build(Arc::new(fs), "/")
        .map_err(|e| format_err(path, format!("cannot describe the array: {e}")))?;
        z.store_metadata()
            .map_err(|e| format_err(path, format!("writing zarr.json: {e}")))?;
        let z = Arc::new(z);
        let src = arr.blocks()?;
        let target: Arc<PathBuf> = Arc::new(path.to_path_buf());
        let name = layer_name("to_zarr");
        let writes: Vec<_> = arr
            .chunks()
            .indices()
            .map(|idx| {
                let mut b = TaskBuilder::new("zarr_write").key(super::block_key(&name, &idx));
                let block = b.input(&src[arr.chunks().ravel(&idx)]);
                let offset = arr.chunks().block_offset(&idx);
                let want = arr.chunks().block_shape(&idx);
                let (z, path) = (z.clone(), target.clone());
                b.build(move |args| {
                    let blk: &ArrayD<T> = block.get(args)?;
                    if blk.shape() != want.as_slice() {
                        return Err(TaskError::failed(format!(
                            "to_zarr: a block has shape {:?}, expected {want:?}",
                            blk.shape()
                        )));
                    }
                    store::<T>(&z, &subset(&offset, &want), blk).map_err(|e| {
                        TaskError::failed(format!("{}: chunk {idx:?}: {e}", path.display()))
                    })?;
                    Ok(())
                })
            })
            .collect();
        compute_all_with(&writes, scheduler)?;
        Ok(())
    }
}

/// `T`'s zero as the store's fill value (chunks never written read as it).
fn fill_value<T: Element>() -> zarrs::array::FillValue {
    use zarrs::array::FillValue;
    match T::DTYPE {
        "f32" => FillValue::from(0.0f32),
        "f64" => FillValue::from(0.0f64),
        "i32" => FillValue::from(0i32),
        "i64" => FillValue::from(0i64),
        "bool" => FillValue::from(false),
        _ => FillValue::from(Complex64::new(0.0, 0.0)),
    }
}
