//! Lazy values in a static graph's output: `graph! { let x = read(..);
//! let m = x.mean()?; let s = x.std()?; (m, s) }` gives the two numbers,
//! computed in one run that reads `x` once (Dask's `dask.compute(m, s)`).
//!
//! The macro cannot see types, so the choice is made by the compiler with
//! "autoref specialisation": the generated code asks
//! `(&Probe::of(&out)).__dagwood_kind()`, which finds [`LazyKind`] (on
//! `Probe<T>`) when the output is [`Computable`] and [`EagerKind`] (on
//! `&Probe<T>`, one auto-reference further) otherwise. Everything else is
//! returned as it is.

use std::marker::PhantomData;

use super::exec::Exec;
use crate::{Computable, Plan};

/// A stand-in for the output's type, for method lookup only.
#[doc(hidden)]
pub struct Probe<T>(PhantomData<T>);

impl<T> Probe<T> {
    /// The probe of `value`'s type.
    pub fn of(_: &T) -> Probe<T> {
        Probe(PhantomData)
    }
}

/// The output is a computable: compute it.
#[doc(hidden)]
pub struct Lazy;

/// The output is a plain value: return it.
#[doc(hidden)]
pub struct Eager;

/// Picked for outputs that are [`Computable`].
#[doc(hidden)]
pub trait LazyKind {
    /// The lazy kind.
    fn __dagwood_kind(&self) -> Lazy {
        Lazy
    }
}

impl<T: Computable> LazyKind for Probe<T> {}

/// Picked for every other output.
#[doc(hidden)]
pub trait EagerKind {
    /// The eager kind.
    fn __dagwood_kind(&self) -> Eager {
        Eager
    }
}

impl<T> EagerKind for &Probe<T> {}

impl Lazy {
    /// Computes `value` in this run, on its scheduler, reporting its tasks
    /// to the run's callbacks; a failure fails the graph with its own key.
    pub fn resolve<T: Computable>(self, exec: &Exec, value: T) -> T::Output {
        match Plan::new(&value).compute_inside(exec.scheduler(), exec.hooks.clone()) {
            Ok(v) => v,
            Err(e) => exec.fail(e),
        }
    }
}

impl Eager {
    /// Returns `value`.
    #[inline]
    pub fn resolve<T>(self, _: &Exec, value: T) -> T {
        value
    }
}
