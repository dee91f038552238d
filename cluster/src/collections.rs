//! The collections on the cluster: [`Gather`] for the collections
//! themselves and the registration of a bag's own item types (feature
//! `collections`, on by default); the codecs of their values are in
//! `collection_codecs.rs`.
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

use dagwood_collections::array::{Array, Element};
use dagwood_collections::bag::Bag;
use dagwood_collections::dataframe::DataFrame;
use ndarray::ArrayD;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::collection_codecs::{FoldTable, Frequencies};
use crate::gather::Gather;
use crate::registry::register;

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
