//! How task values become bytes and back when they travel between workers:
//! the [`Codec`] trait and the postcard codec of serde types. Which codec
//! serves which type is kept by [`registry`](crate::registry).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use dagwood_runtime::Value;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Turns task values of one type into bytes and back.
///
/// [`register`](crate::register) installs the postcard codec for a serde type; implement this
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

/// Codecs by the type they serve.
pub(crate) type CodecMap = HashMap<TypeId, Arc<dyn Codec>>;

/// The codecs of common types, there from the start: numbers, `bool`,
/// `char`, `String`, `()`, and `Vec`s, `Option`s and pairs of them.
pub(crate) fn primitives(map: &mut CodecMap) {
    macro_rules! builtin {
        ($($t:ty),* $(,)?) => {$(
            map.insert(TypeId::of::<$t>(), Arc::new(Postcard::<$t>(PhantomData)));
            map.insert(TypeId::of::<Vec<$t>>(), Arc::new(Postcard::<Vec<$t>>(PhantomData)));
            map.insert(TypeId::of::<Option<$t>>(), Arc::new(Postcard::<Option<$t>>(PhantomData)));
            map.insert(TypeId::of::<($t, $t)>(), Arc::new(Postcard::<($t, $t)>(PhantomData)));
        )*};
    }
    builtin!(
        bool,
        u8,
        u16,
        u32,
        u64,
        u128,
        usize,
        i8,
        i16,
        i32,
        i64,
        i128,
        isize,
        f32,
        f64,
        char,
        String,
        (),
    );
    builtin!(Vec<f64>, Vec<i64>, Vec<u64>, Vec<String>);
}
