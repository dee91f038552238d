//! Computing several handles at once, sharing what their graphs have in common.

use std::sync::Arc;

use crate::graph::node::Node;
use crate::task::Value;
use crate::{Delayed, Error, Plan, Result, Scheduler};

/// The output nodes a [`Computable`] asks for (opaque).
#[derive(Default)]
pub struct Outputs(pub(crate) Vec<Arc<Node>>);

/// Computed values handed back to a [`Computable`] in request order (opaque).
pub struct Results(pub(crate) std::vec::IntoIter<Value>);

impl Results {
    fn next<T: Clone + Send + Sync + 'static>(&mut self) -> Result<T> {
        let v = self
            .0
            .next()
            .ok_or_else(|| Error::Internal("fewer results than outputs".into()))?;
        let typed = v.downcast::<T>().map_err(|_| {
            Error::Internal(format!("result is not a {}", std::any::type_name::<T>()))
        })?;
        // Unique unless the value is also held elsewhere (a `delayed(value)`
        // constant, or a second request for the same handle): clone only then.
        Ok(Arc::try_unwrap(typed).unwrap_or_else(|shared| (*shared).clone()))
    }
}

/// Things [`compute_all`] can compute: a [`Delayed`], a reference to one,
/// tuples of computables, and `Vec`s or slices of them.
pub trait Computable {
    /// What computing gives back.
    type Output;
    /// Lists the output nodes.
    #[doc(hidden)]
    fn collect(&self, out: &mut Outputs);
    /// Takes this computable's values from the results, in `collect` order.
    #[doc(hidden)]
    fn extract(&self, results: &mut Results) -> Result<Self::Output>;
}

impl<T: Clone + Send + Sync + 'static> Computable for Delayed<T> {
    type Output = T;
    fn collect(&self, out: &mut Outputs) {
        out.0.push(self.node.clone());
    }
    fn extract(&self, results: &mut Results) -> Result<T> {
        results.next()
    }
}

impl<C: Computable + ?Sized> Computable for &C {
    type Output = C::Output;
    fn collect(&self, out: &mut Outputs) {
        (**self).collect(out)
    }
    fn extract(&self, results: &mut Results) -> Result<C::Output> {
        (**self).extract(results)
    }
}

impl<C: Computable> Computable for [C] {
    type Output = Vec<C::Output>;
    fn collect(&self, out: &mut Outputs) {
        self.iter().for_each(|c| c.collect(out))
    }
    fn extract(&self, results: &mut Results) -> Result<Self::Output> {
        self.iter().map(|c| c.extract(results)).collect()
    }
}

impl<C: Computable> Computable for Vec<C> {
    type Output = Vec<C::Output>;
    fn collect(&self, out: &mut Outputs) {
        self.as_slice().collect(out)
    }
    fn extract(&self, results: &mut Results) -> Result<Self::Output> {
        self.as_slice().extract(results)
    }
}

macro_rules! tuple_computable {
    ($($name:ident),+) => {
        impl<$($name: Computable),+> Computable for ($($name,)+) {
            type Output = ($($name::Output,)+);
            #[allow(non_snake_case)]
            fn collect(&self, out: &mut Outputs) {
                let ($($name,)+) = self;
                $($name.collect(out);)+
            }
            #[allow(non_snake_case)]
            fn extract(&self, results: &mut Results) -> Result<Self::Output> {
                let ($($name,)+) = self;
                Ok(($($name.extract(results)?,)+))
            }
        }
    };
}

tuple_computable!(A);
tuple_computable!(A, B);
tuple_computable!(A, B, C);
tuple_computable!(A, B, C, D);
tuple_computable!(A, B, C, D, E);
tuple_computable!(A, B, C, D, E, F);
tuple_computable!(A, B, C, D, E, F, G);
tuple_computable!(A, B, C, D, E, F, G, H);

/// Computes several things in one run with the default scheduler, sharing
/// their common subgraphs (Dask's `dask.compute(a, b)`).
///
/// ```
/// use dagwood_runtime::{compute_all, delayed};
/// let base = delayed(10).map("expensive", |v: &i32| v * 3);   // runs once
/// let a = base.map("plus", |v: &i32| v + 1);
/// let b = base.map("minus", |v: &i32| v - 1);
/// let (x, y) = compute_all((&a, &b)).unwrap();
/// assert_eq!((x, y), (31, 29));
/// let all = compute_all(vec![a, b]).unwrap();
/// assert_eq!(all, vec![31, 29]);
/// ```
pub fn compute_all<C: Computable>(what: C) -> Result<C::Output> {
    compute_all_with(what, &Scheduler::current())
}

/// [`compute_all`] with a chosen scheduler.
pub fn compute_all_with<C: Computable>(what: C, scheduler: &Scheduler) -> Result<C::Output> {
    Plan::new(&what).compute_with(scheduler)
}
