//! How task values become bytes and back when they travel between workers.
//!
//! The runtime knows task values only as [`Value`]s with a [`ValueType`];
//! this module keeps, per type, a [`Codec`] that serializes them with
//! postcard. Common types (numbers, `String`, `Vec`s and pairs of them) are
//! registered from the start; register your own with [`register`] or
//! [`WireExt::wire`]. The outputs of a [`Cluster::compute`](crate::Cluster::compute)
//! need no registration: their types are checked when the program compiles.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, RwLock};

use dagwood_runtime::{Delayed, Value, ValueType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Turns task values of one type into bytes and back.
///
/// [`register`] installs the postcard codec for a serde type; implement this
/// trait yourself only for another format.
pub trait Codec: Send + Sync {
    /// Serializes a value (of the type this codec was registered for).
    fn encode(&self, value: &(dyn Any + Send + Sync)) -> Result<Vec<u8>, String>;
    /// Deserializes a value.
    fn decode(&self, bytes: &[u8]) -> Result<Value, String>;
}

/// The postcard codec of a serde type.
pub(crate) struct Postcard<T>(pub(crate) PhantomData<fn() -> T>);

impl<T> Codec for Postcard<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn encode(&self, value: &(dyn Any + Send + Sync)) -> Result<Vec<u8>, String> {
        let v = value
            .downcast_ref::<T>()
            .ok_or_else(|| format!("value is not a {}", std::any::type_name::<T>()))?;
        postcard::to_stdvec(v).map_err(|e| e.to_string())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Value, String> {
        postcard::from_bytes::<T>(bytes)
            .map(|v| Arc::new(v) as Value)
            .map_err(|e| e.to_string())
    }
}

type Registry = RwLock<HashMap<TypeId, Arc<dyn Codec>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map: HashMap<TypeId, Arc<dyn Codec>> = HashMap::new();
        macro_rules! builtin {
            ($($t:ty),* $(,)?) => {$(
                map.insert(TypeId::of::<$t>(), Arc::new(Postcard::<$t>(PhantomData)));
                map.insert(TypeId::of::<Vec<$t>>(), Arc::new(Postcard::<Vec<$t>>(PhantomData)));
                map.insert(TypeId::of::<Option<$t>>(), Arc::new(Postcard::<Option<$t>>(PhantomData)));
                map.insert(TypeId::of::<($t, $t)>(), Arc::new(Postcard::<($t, $t)>(PhantomData)));
            )*};
        }
        builtin!(
            bool, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, char,
            String, (),
        );
        builtin!(Vec<f64>, Vec<i64>, Vec<u64>, Vec<String>);
        #[cfg(feature = "collections")]
        crate::collections::builtin(&mut map);
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
    let mut map = match registry().write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    map.insert(ty.id(), codec);
}

/// True when values of type `ty` can travel between workers.
pub fn is_registered(ty: &ValueType) -> bool {
    codec_for(ty).is_some()
}

pub(crate) fn codec_for(ty: &ValueType) -> Option<Arc<dyn Codec>> {
    let map = match registry().read() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
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
