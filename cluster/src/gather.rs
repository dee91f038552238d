//! What [`Cluster::compute`](crate::Cluster::compute) accepts: the
//! [`Gather`] trait, whose implementations register the codecs that carry
//! the outputs to process 0.

use dagwood_runtime::{Computable, Delayed};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::registry::register;

/// What [`Cluster::compute`](crate::Cluster::compute) can compute: a [`Delayed`] whose value type has
/// serde's `Serialize` and `DeserializeOwned` (so that it can be gathered at
/// process 0), with the feature `collections` an `Array`, a `Bag` of serde
/// items or a `DataFrame`, a reference to one, and `Vec`s, slices and
/// tuples (up to 4) of them. A graph whose outputs cannot travel does not
/// compile.
///
/// ```compile_fail
/// struct Opaque;
/// # impl Clone for Opaque { fn clone(&self) -> Self { Opaque } }
/// let x = dagwood_runtime::delayed(1).map("opaque", |_: &i32| Opaque);
/// let _ = dagwood_cluster::Cluster::single().compute(&x); // Opaque is not Serialize
/// ```
pub trait Gather: Computable {
    /// Registers the codecs of the output types.
    #[doc(hidden)]
    fn register_codecs(&self);
}

impl<T> Gather for Delayed<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn register_codecs(&self) {
        register::<T>();
    }
}

impl<C: Gather + ?Sized> Gather for &C {
    fn register_codecs(&self) {
        (**self).register_codecs()
    }
}

impl<C: Gather> Gather for [C] {
    fn register_codecs(&self) {
        self.iter().for_each(Gather::register_codecs)
    }
}

impl<C: Gather> Gather for Vec<C> {
    fn register_codecs(&self) {
        self.iter().for_each(Gather::register_codecs)
    }
}

macro_rules! tuple_gather {
    ($($name:ident),+) => {
        impl<$($name: Gather),+> Gather for ($($name,)+) {
            #[allow(non_snake_case)]
            fn register_codecs(&self) {
                let ($($name,)+) = self;
                $($name.register_codecs();)+
            }
        }
    };
}

tuple_gather!(A);
tuple_gather!(A, B);
tuple_gather!(A, B, C);
tuple_gather!(A, B, C, D);
