//! Codecs for the values inside `Array`, `Bag` and `DataFrame` graphs
//! (feature `collections`), there from the start: array blocks
//! (`ArrayD<T>`) and reduction partials, bag partitions and frequency and
//! `foldby` tables of the common item types, and data frame partitions
//! and partial aggregates (Arrow `RecordBatch`es, in Arrow's IPC stream
//! format). What they are for is told in [`collections`](crate::collections).

use std::any::TypeId;
use std::collections::HashMap;
use std::io::Cursor;
use std::marker::PhantomData;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use dagwood_collections::array::Complex64;
use dagwood_runtime::Value;
use ndarray::ArrayD;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{Codec, CodecMap, Postcard};

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
pub(crate) type Frequencies<T> = HashMap<T, (usize, (usize, usize))>;

/// A bag's `foldby` table while it is reduced: key → (accumulator, first
/// position). Keep in step with `dagwood_collections::bag::Bag::foldby`.
pub(crate) type FoldTable<K, A> = HashMap<K, (Option<A>, (usize, usize))>;

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
pub(crate) fn builtin(map: &mut CodecMap) {
    fn postcard<T: Serialize + DeserializeOwned + Send + Sync + 'static>(map: &mut CodecMap) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int64Array, StringArray};

    fn codecs() -> CodecMap {
        let mut map = CodecMap::new();
        builtin(&mut map);
        map
    }

    fn codec_for<T: 'static>(map: &CodecMap) -> Arc<dyn Codec> {
        map.get(&TypeId::of::<T>())
            .cloned()
            .expect("a builtin codec")
    }

    #[test]
    fn record_batches_round_trip() {
        let map = codecs();
        let b = RecordBatch::try_from_iter([
            (
                "k",
                Arc::new(StringArray::from(vec!["a", "b"])) as arrow_array::ArrayRef,
            ),
            ("x", Arc::new(Float64Array::from(vec![1.5, f64::NAN])) as _),
            ("n", Arc::new(Int64Array::from(vec![Some(1), None])) as _),
        ])
        .unwrap();
        let c = codec_for::<RecordBatch>(&map);
        let back = c.decode(&c.encode(&b).unwrap()).unwrap();
        let back = back.downcast_ref::<RecordBatch>().unwrap();
        assert_eq!(back.schema(), b.schema());
        assert_eq!(format!("{back:?}"), format!("{b:?}"));
        let v = vec![b.clone(), b.slice(1, 1)];
        let c = codec_for::<Vec<RecordBatch>>(&map);
        let back = c.decode(&c.encode(&v).unwrap()).unwrap();
        let back = back.downcast_ref::<Vec<RecordBatch>>().unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].num_rows(), 1);
        // Garbage is an error, not a panic.
        assert!(c.decode(&[1, 2, 3]).is_err());
        let c = codec_for::<RecordBatch>(&map);
        assert!(c.decode(&[0xff, 0xff, 0xff, 0xff, 9, 9]).is_err());
    }

    #[test]
    fn array_blocks_round_trip() {
        let map = codecs();
        let a =
            ndarray::Array::from_shape_fn(ndarray::IxDyn(&[3, 4]), |d| (d[0] * 10 + d[1]) as f64);
        let c = codec_for::<ArrayD<f64>>(&map);
        let back = c.decode(&c.encode(&a).unwrap()).unwrap();
        assert_eq!(back.downcast_ref::<ArrayD<f64>>(), Some(&a));
    }
}
