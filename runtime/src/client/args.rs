//! The arguments of a submitted call: plain values, or futures whose values
//! the task waits for.

use std::marker::PhantomData;
use std::sync::Arc;

use super::future::Future;
use super::state::{Fault, RunFn, TaskRef};
use crate::task::Value;
use crate::TaskError;

/// One argument of a submitted call, made by [`IntoFutureArg`].
pub struct FutureArg<T>(Kind<T>);

enum Kind<T> {
    Value(T),
    /// A counted reference to the task, and how to get a `T` from its value.
    Future(TaskRef, fn(Value) -> Option<T>),
}

fn from_any<T: Clone + Send + Sync + 'static>(v: Value) -> Option<T> {
    let typed = v.downcast::<T>().ok()?;
    // Unique when no future or other task holds the value: move it out.
    Some(Arc::try_unwrap(typed).unwrap_or_else(|shared| (*shared).clone()))
}

/// What [`Client::submit`](super::Client::submit) accepts for a parameter of
/// type `T`: a `T`, a [`Future<T>`] or a `&Future<T>`. A future argument
/// makes the task wait for that future's value (cloned, or moved when no one
/// else holds it).
pub trait IntoFutureArg<T> {
    /// Converts into the argument form.
    fn into_future_arg(self) -> FutureArg<T>;
}

impl<T> IntoFutureArg<T> for T {
    fn into_future_arg(self) -> FutureArg<T> {
        FutureArg(Kind::Value(self))
    }
}

impl<T: Clone + Send + Sync + 'static> IntoFutureArg<T> for Future<T> {
    fn into_future_arg(self) -> FutureArg<T> {
        FutureArg(Kind::Future(self.task, from_any::<T>))
    }
}

impl<T: Clone + Send + Sync + 'static> IntoFutureArg<T> for &Future<T> {
    fn into_future_arg(self) -> FutureArg<T> {
        FutureArg(Kind::Future(self.task.clone(), from_any::<T>))
    }
}

/// Where the running task finds one argument.
#[doc(hidden)]
pub enum Slot<T> {
    Value(T),
    Input(usize, fn(Value) -> Option<T>),
}

impl<T> FutureArg<T> {
    fn slot(self, inputs: &mut Vec<TaskRef>) -> Slot<T> {
        match self.0 {
            Kind::Value(v) => Slot::Value(v),
            Kind::Future(t, get) => {
                inputs.push(t);
                Slot::Input(inputs.len() - 1, get)
            }
        }
    }
}

impl<T> Slot<T> {
    fn resolve(self, values: &mut [Option<Value>]) -> Result<T, TaskError> {
        match self {
            Slot::Value(v) => Ok(v),
            Slot::Input(i, get) => values
                .get_mut(i)
                .and_then(Option::take)
                .and_then(get)
                .ok_or(TaskError::WrongType {
                    index: i,
                    expected: std::any::type_name::<T>(),
                }),
        }
    }
}

/// A call bound to its arguments: the futures it waits for and the function
/// to run on their values (opaque).
#[doc(hidden)]
pub struct Bound {
    pub(crate) inputs: Vec<TaskRef>,
    pub(crate) run: RunFn,
}

/// Marks the single-argument form of [`SubmitArgs`] (`submit(f, x)` rather
/// than `submit(f, (x,))`).
#[doc(hidden)]
pub struct One<T>(PhantomData<fn() -> T>);

/// The arguments of a call to `F`: one argument (`submit(f, x)`), `()` for
/// none, or a tuple of up to eight (`submit(f, (x, &y))`); each a plain
/// value or a future (see [`IntoFutureArg`]). `M` is inferred: it only tells
/// the forms apart.
pub trait SubmitArgs<F, R, M>: Sized {
    /// Splits into the futures to wait for and the function to run.
    #[doc(hidden)]
    fn bind(self, f: F) -> Bound;
}

fn boxed<R: Send + Sync + 'static>(r: R) -> Value {
    Arc::new(r)
}

impl<F, R> SubmitArgs<F, R, ()> for ()
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + Sync + 'static,
{
    fn bind(self, f: F) -> Bound {
        Bound {
            inputs: Vec::new(),
            run: Box::new(move |_| Ok(boxed(f()))),
        }
    }
}

impl<F, R, A, T> SubmitArgs<F, R, One<T>> for A
where
    F: FnOnce(T) -> R + Send + 'static,
    R: Send + Sync + 'static,
    A: IntoFutureArg<T>,
    T: Send + 'static,
{
    fn bind(self, f: F) -> Bound {
        let mut inputs = Vec::new();
        let slot = self.into_future_arg().slot(&mut inputs);
        Bound {
            inputs,
            run: Box::new(move |values: Vec<Value>| {
                let mut values: Vec<Option<Value>> = values.into_iter().map(Some).collect();
                let x = slot.resolve(&mut values).map_err(Fault::from)?;
                Ok(boxed(f(x)))
            }),
        }
    }
}

macro_rules! tuple_args {
    ($($a:ident $t:ident),+) => {
        impl<F, R, $($a, $t),+> SubmitArgs<F, R, ($($t,)+)> for ($($a,)+)
        where
            F: FnOnce($($t),+) -> R + Send + 'static,
            R: Send + Sync + 'static,
            $($a: IntoFutureArg<$t>, $t: Send + 'static,)+
        {
            #[allow(non_snake_case)]
            fn bind(self, f: F) -> Bound {
                let mut inputs = Vec::new();
                let ($($a,)+) = self;
                $(let $a = $a.into_future_arg().slot(&mut inputs);)+
                Bound {
                    inputs,
                    run: Box::new(move |values: Vec<Value>| {
                        let mut values: Vec<Option<Value>> =
                            values.into_iter().map(Some).collect();
                        $(let $a = $a.resolve(&mut values).map_err(Fault::from)?;)+
                        Ok(boxed(f($($a),+)))
                    }),
                }
            }
        }
    };
}

tuple_args!(A1 T1);
tuple_args!(A1 T1, A2 T2);
tuple_args!(A1 T1, A2 T2, A3 T3);
tuple_args!(A1 T1, A2 T2, A3 T3, A4 T4);
tuple_args!(A1 T1, A2 T2, A3 T3, A4 T4, A5 T5);
tuple_args!(A1 T1, A2 T2, A3 T3, A4 T4, A5 T5, A6 T6);
tuple_args!(A1 T1, A2 T2, A3 T3, A4 T4, A5 T5, A6 T6, A7 T7);
tuple_args!(A1 T1, A2 T2, A3 T3, A4 T4, A5 T5, A6 T6, A7 T7, A8 T8);
