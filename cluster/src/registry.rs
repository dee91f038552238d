//! Which [`Codec`] serves which value type: one table for the process,
//! filled with the common types' codecs (and, with the feature
//! `collections`, the collections' values) on first use.
//!
//! The runtime knows task values only as `Value`s with a [`ValueType`];
//! register your own types with [`register`] or [`WireExt::wire`]. The
//! outputs of a [`Cluster::compute`](crate::Cluster::compute) need no
//! registration: their types are checked when the program compiles.

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use dagwood_runtime::{Delayed, ValueType};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::{primitives, Codec, CodecMap, Postcard};

fn registry() -> &'static RwLock<CodecMap> {
    static REGISTRY: OnceLock<RwLock<CodecMap>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map = CodecMap::new();
        primitives(&mut map);
        #[cfg(feature = "collections")]
        crate::collection_codecs::builtin(&mut map);
        RwLock::new(map)
    })
}

/// Lets values of type `T` travel between workers (postcard encoding).
/// Registering a type twice is harmless.
///
/// ```
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Stats { n: u64, mean: f64 }
/// dagwood_cluster::register::<Stats>();
/// assert!(dagwood_cluster::is_registered(&dagwood_runtime::ValueType::of::<Stats>()));
/// ```
pub fn register<T>()
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    register_codec(ValueType::of::<T>(), Arc::new(Postcard::<T>(PhantomData)));
}

/// Installs a codec of your own for values of type `ty`, replacing any other.
pub fn register_codec(ty: ValueType, codec: Arc<dyn Codec>) {
    let mut map = registry().write().unwrap_or_else(PoisonError::into_inner);
    map.insert(ty.id(), codec);
}

/// True when values of type `ty` can travel between workers.
pub fn is_registered(ty: &ValueType) -> bool {
    codec_for(ty).is_some()
}

pub(crate) fn codec_for(ty: &ValueType) -> Option<Arc<dyn Codec>> {
    let map = registry().read().unwrap_or_else(PoisonError::into_inner);
    map.get(&ty.id()).cloned()
}

/// Marks a handle's value as able to cross processes: registers the codec
/// of `T` (see [`register`]) and gives the handle back.
///
/// ```
/// use dagwood_cluster::WireExt;
/// use dagwood_runtime::delayed;
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Point { x: f64, y: f64 }
/// let p = delayed(1.0).map("point", |x: &f64| Point { x: *x, y: 0.0 }).wire();
/// assert!(dagwood_cluster::is_registered(&dagwood_runtime::ValueType::of::<Point>()));
/// # let _ = p;
/// ```
pub trait WireExt {
    /// Registers the value type's codec and returns `self`.
    fn wire(self) -> Self;
}

impl<T> WireExt for Delayed<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn wire(self) -> Self {
        register::<T>();
        self
    }
}
