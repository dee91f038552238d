//! The collections on the cluster: codecs for the values inside `Array`,
//! `Bag` and `DataFrame` graphs, and [`Gather`] for the collections
//! themselves (feature `collections`, on by default).
//!
//! What travels between processes is what the collections' graphs pass
//! between tasks: array blocks (`ArrayD<T>`) and reduction partials (`T`,
//! `(T, usize)`, `(f64, f64, f64)`), bag partitions (`Vec<T>`) and
//! frequency tables, and data frame partitions and partial aggregates
//! (Arrow `RecordBatch`es, in Arrow's IPC stream format). Codecs for the
//! arrays' element types, Arrow batches and the common bag item types
//! (`String`, integers, `char`, `bool`) are registered from the start; a bag
//! of another item type gets its codecs from [`register_bag_item`] and
//! [`register_foldby`] (computing the bag itself registers its partitions'
//! codec).
//!
//! Shuffles (a data frame's `shuffle`, `merge` of two partitioned frames,
//! `set_index`/`sort_values`, `drop_duplicates`, `groupby().apply`, a bag's
//! `groupby`) move bucket by bucket: a split task's result is
//! `Partitioned`, and each gather task's worker receives only its own bucket
//! of every split (read back from the split's spill files first, if it
//! spilled), in the items' spill encoding (Arrow IPC for record batches).
//! The sort's samples and boundaries travel with the codecs below.

use std::any::TypeId;
use std::collections::HashMap;
use std::io::Cursor;
use std::marker::PhantomData;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use dagwood_collections::array::{Array, Complex64, Element};
use dagwood_collections::bag::Bag;
use dagwood_collections::dataframe::DataFrame;
use dagwood_runtime::Value;
use ndarray::ArrayD;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{register, Codec, Postcard};
use crate::run::Gather;

/// The postcard codec of an `Arc<T>` (serde's `Arc` support needs its `rc`
/// feature; the value is shared by its readers, so decode wraps it again).
struct Shared<T>(PhantomData<fn() -> T>);

impl<T> Codec for Shared<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn encode(&self, value: &(dyn std::any::Any + Send + Sync)) -> Result<Vec<u8>, String> {
        let v = value
            .downcast_ref::<Arc<T>>()
            .ok_or_else(|| format!("value is not an Arc<{}>", std::any::type_name::<T>()))?;
        postcard::to_stdvec(&**v).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        postcard::from_bytes::<T>(bytes)
            .map(|v| Arc::new(Arc::new(v)) as Value)
            .map_err(|e| e.to_string())
    }
}

/// A bag's frequency table while it is reduced: item → (count, first
/// position as (partition, index)). Keep in step with
/// `dagwood_collections::bag::Bag::frequencies`.
type Frequencies<T> = HashMap<T, (usize, (usize, usize))>;

/// Lets a bag of items `T` run on the cluster: registers the codecs of its
/// partitions (`Vec<T>`), of `frequencies`' partial tables, and of the
/// `(T, usize)` pairs `frequencies` gives. The common item types (`String`,
/// integers, `char`, `bool`) are registered from the start.
///
/// ```
/// #[derive(Clone, Hash, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
/// struct Word(String);
/// dagwood_cluster::register_bag_item::<Word>();
/// assert!(dagwood_cluster::is_registered(&dagwood_runtime::ValueType::of::<Vec<Word>>()));
/// ```
pub fn register_bag_item<T>()
where
    T: Serialize + DeserializeOwned + std::hash::Hash + Eq + Send + Sync + 'static,
{
    register::<Vec<T>>();
    register::<Vec<(T, usize)>>();
    register::<Frequencies<T>>();
}

/// A bag's `foldby` table while it is reduced: key → (accumulator, first
/// position). Keep in step with `dagwood_collections::bag::Bag::foldby`.
type FoldTable<K, A> = HashMap<K, (Option<A>, (usize, usize))>;

/// Lets a bag's `foldby` with keys `K` and accumulators `A` run on the
/// cluster: registers the codecs of its partial tables and of the `(K, A)`
/// pairs it gives. Keys `String`, integers, `char` or `bool` with
/// accumulators `i64`, `u64`, `usize` or `f64` are registered from the
/// start.
///
/// ```
/// dagwood_cluster::register_foldby::<String, Vec<u32>>();
/// assert!(dagwood_cluster::is_registered(&dagwood_runtime::ValueType::of::<Vec<(String, Vec<u32>)>>()));
/// ```
pub fn register_foldby<K, A>()
where
    K: Serialize + DeserializeOwned + std::hash::Hash + Eq + Send + Sync + 'static,
    A: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    register::<Vec<(K, A)>>();
    register::<FoldTable<K, A>>();
}

/// Arrow's IPC stream format: one batch, with its schema.
struct Ipc;

fn ipc_encode(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let mut w = StreamWriter::try_new(&mut buf, &batch.schema()).map_err(|e| e.to_string())?;
    w.write(batch).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    drop(w);
    Ok(buf)
}

fn ipc_decode(bytes: &[u8]) -> Result<RecordBatch, String> {
    let mut r = StreamReader::try_new(Cursor::new(bytes), None).map_err(|e| e.to_string())?;
    match r.next() {
        Some(batch) => batch.map_err(|e| e.to_string()),
        None => Err("an Arrow IPC stream without a record batch".into()),
    }
}

impl Codec for Ipc {
    fn encode(&self, value: &(dyn std::any::Any + Send + Sync)) -> Result<Vec<u8>, String> {
        let batch = value
            .downcast_ref::<RecordBatch>()
            .ok_or("value is not an arrow RecordBatch")?;
        ipc_encode(batch)
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        ipc_decode(bytes).map(|b| Arc::new(b) as Value)
    }
}

/// Several batches (schemas may differ): each its own IPC stream.
struct IpcVec;

impl Codec for IpcVec {
    fn encode(&self, value: &(dyn std::any::Any + Send + Sync)) -> Result<Vec<u8>, String> {
        let batches = value
            .downcast_ref::<Vec<RecordBatch>>()
            .ok_or("value is not a Vec of arrow RecordBatches")?;
        let streams = batches
            .iter()
            .map(ipc_encode)
            .collect::<Result<Vec<_>, _>>()?;
        postcard::to_stdvec(&streams).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        let streams: Vec<Vec<u8>> = postcard::from_bytes(bytes).map_err(|e| e.to_string())?;
        let batches = streams
            .iter()
            .map(|s| ipc_decode(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(batches) as Value)
    }
}

/// The collections' codecs that are there from the start.
pub(crate) fn builtin(map: &mut HashMap<TypeId, Arc<dyn Codec>>) {
    fn postcard<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
        map: &mut HashMap<TypeId, Arc<dyn Codec>>,
    ) {
        map.insert(TypeId::of::<T>(), Arc::new(Postcard::<T>(PhantomData)));
    }
    macro_rules! element {
        ($($t:ty),*) => {$(
            postcard::<$t>(map);
            postcard::<ArrayD<$t>>(map);
            postcard::<Vec<ArrayD<$t>>>(map);
            postcard::<($t, usize)>(map);
            postcard::<ArrayD<($t, usize)>>(map);
        )*};
    }
    element!(f32, f64, i32, i64, bool, Complex64);
    postcard::<(f64, f64, f64)>(map);
    postcard::<ArrayD<(f64, f64, f64)>>(map);
    // sort_values / set_index: per-partition samples, then the boundaries.
    postcard::<dagwood_collections::dataframe::SortSample>(map);
    postcard::<Vec<Box<[u8]>>>(map);
    map.insert(
        TypeId::of::<Arc<Vec<Box<[u8]>>>>(),
        Arc::new(Shared::<Vec<Box<[u8]>>>(PhantomData)),
    );
    map.insert(TypeId::of::<RecordBatch>(), Arc::new(Ipc));
    map.insert(TypeId::of::<Vec<RecordBatch>>(), Arc::new(IpcVec));
    macro_rules! item {
        ($($t:ty),*) => {$(
            postcard::<Vec<$t>>(map);
            postcard::<Vec<($t, usize)>>(map);
            postcard::<Frequencies<$t>>(map);
        )*};
    }
    item!(String, i64, u64, i32, u32, usize, char, bool);
    macro_rules! fold {
        ($($k:ty),*) => {$(
            fold!(@ $k; i64, u64, usize, f64);
        )*};
        (@ $k:ty; $($a:ty),*) => {$(
            postcard::<Vec<($k, $a)>>(map);
            postcard::<FoldTable<$k, $a>>(map);
        )*};
    }
    fold!(String, i64, u64, i32, u32, usize, char, bool);
}

/// An array is gathered as one `ArrayD<T>` (its blocks travel to process 0).
impl<T> Gather for Array<T>
where
    T: Element + Serialize + DeserializeOwned,
{
    fn register_codecs(&self) {
        register::<ArrayD<T>>();
    }
}

/// A bag is gathered as its partitions (`Vec<T>`).
impl<T> Gather for Bag<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn register_codecs(&self) {
        register::<Vec<T>>();
    }
}

/// A data frame is gathered as its partitions' record batches (Arrow IPC).
impl Gather for DataFrame {
    fn register_codecs(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::codec_for;
    use arrow_array::{Float64Array, Int64Array, StringArray};
    use dagwood_runtime::ValueType;

    #[test]
    fn record_batches_round_trip() {
        let b = RecordBatch::try_from_iter([
            (
                "k",
                Arc::new(StringArray::from(vec!["a", "b"])) as arrow_array::ArrayRef,
            ),
            ("x", Arc::new(Float64Array::from(vec![1.5, f64::NAN])) as _),
            ("n", Arc::new(Int64Array::from(vec![Some(1), None])) as _),
        ])
        .unwrap();
        let c = codec_for(&ValueType::of::<RecordBatch>()).unwrap();
        let back = c.decode(&c.encode(&b).unwrap()).unwrap();
        let back = back.downcast_ref::<RecordBatch>().unwrap();
        assert_eq!(back.schema(), b.schema());
        assert_eq!(format!("{back:?}"), format!("{b:?}"));
        let v = vec![b.clone(), b.slice(1, 1)];
        let c = codec_for(&ValueType::of::<Vec<RecordBatch>>()).unwrap();
        let back = c.decode(&c.encode(&v).unwrap()).unwrap();
        let back = back.downcast_ref::<Vec<RecordBatch>>().unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].num_rows(), 1);
        // Garbage is an error, not a panic.
        assert!(c.decode(&[1, 2, 3]).is_err());
        let c = codec_for(&ValueType::of::<RecordBatch>()).unwrap();
        assert!(c.decode(&[0xff, 0xff, 0xff, 0xff, 9, 9]).is_err());
    }

    #[test]
    fn array_blocks_round_trip() {
        let a =
            ndarray::Array::from_shape_fn(ndarray::IxDyn(&[3, 4]), |d| (d[0] * 10 + d[1]) as f64);
        let c = codec_for(&ValueType::of::<ArrayD<f64>>()).unwrap();
        let back = c.decode(&c.encode(&a).unwrap()).unwrap();
        assert_eq!(back.downcast_ref::<ArrayD<f64>>(), Some(&a));
    }
}
