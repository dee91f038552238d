//! Running one task, in one place: the value tasks hand each other and its
//! type, the inputs a task's function gets ([`Args`]), the call itself with
//! its panic caught (`run_op`, [`catch_panic`]), and the lock helper
//! every piece of shared state uses (as rayon-core's `unwind.rs` is for
//! rayon).
//!
//! Every scheduler, the futures client, the static graph's executor and the
//! cluster's workers run tasks through these functions, so a panic becomes
//! the same [`TaskError::Panicked`] wherever it happens. The items without a
//! place in the public API are public, doc-hidden, for `dagwood-cluster` and
//! `dagwood-collections`.
//!
//! ```
//! use dagwood_runtime::task::{catch_panic, panic_message};
//! use dagwood_runtime::TaskError;
//! let r: Result<i32, TaskError> = catch_panic(|| panic!("boom"));
//! assert!(matches!(r, Err(TaskError::Panicked(m)) if m == "boom"));
//! assert_eq!(panic_message(&"static text"), "static text");
//! ```

use std::any::{type_name, Any, TypeId};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use smallvec::SmallVec;

use crate::TaskError;

/// A task's value as it travels between tasks: shared, and typed only at
/// the edges. A backend that moves values between processes converts it to
/// and from bytes with a codec chosen by the task's [`ValueType`].
pub type Value = Arc<dyn Any + Send + Sync>;

/// The Rust type of the value a task produces: its [`TypeId`] (to pick a
/// codec) and its name (for error messages).
///
/// ```
/// use dagwood_runtime::ValueType;
/// let t = ValueType::of::<Vec<f64>>();
/// assert_eq!(t.id(), std::any::TypeId::of::<Vec<f64>>());
/// assert!(t.name().contains("Vec<f64>"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ValueType {
    id: TypeId,
    name: &'static str,
}

impl ValueType {
    /// The value type of `T`.
    pub fn of<T: Any>() -> ValueType {
        ValueType {
            id: TypeId::of::<T>(),
            name: type_name::<T>(),
        }
    }

    /// The type's id.
    pub fn id(&self) -> TypeId {
        self.id
    }

    /// The type's name, as `std::any::type_name` gives it.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// The function a task runs on its gathered inputs.
pub(crate) type OpFn = dyn Fn(&mut Args) -> Result<Value, TaskError> + Send + Sync;

/// What a node of a dynamic graph does.
pub(crate) enum Op {
    /// A value known when the graph was built (`delayed(value)`).
    Value(Value),
    /// A function of the node's inputs.
    Call(Arc<OpFn>),
}

/// Inputs held inline before [`Args`] allocates: most tasks have a few
/// (an elementwise pair, a fan-in-8 combine).
const INLINE_ARGS: usize = 8;

/// The gathered input values of a task, in argument order.
///
/// A task that is the last consumer of an input holds the only reference to
/// it, so [`take`](Args::take) moves the value out without a copy; otherwise
/// it clones. [`get`](Args::get) borrows.
///
/// ```
/// use dagwood_runtime::{delayed, TaskBuilder};
/// let mut b = TaskBuilder::new("concat");
/// let x = b.input(&delayed(vec![1, 2]));
/// let n = b.input(&delayed(3));
/// let out = b.build(move |args| {
///     assert_eq!(args.len(), 2);
///     let mut v: Vec<i32> = x.take(args)?;
///     v.push(*n.get(args)?);
///     Ok(v)
/// });
/// assert_eq!(out.compute().unwrap(), vec![1, 2, 3]);
/// ```
pub struct Args {
    values: SmallVec<[Option<Value>; INLINE_ARGS]>,
}

impl Args {
    pub(crate) fn new() -> Args {
        Args {
            values: SmallVec::new(),
        }
    }

    pub(crate) fn push(&mut self, v: Value) {
        self.values.push(Some(v));
    }

    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the task has no graph inputs.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Moves input `i` out (cloning only if another task still shares it).
    /// Each input can be taken once.
    pub fn take<T: Clone + Send + Sync + 'static>(&mut self, i: usize) -> Result<T, TaskError> {
        let wrong = || TaskError::WrongType {
            index: i,
            expected: type_name::<T>(),
        };
        let any = self
            .values
            .get_mut(i)
            .and_then(Option::take)
            .ok_or_else(wrong)?;
        let typed: Arc<T> = any.downcast::<T>().map_err(|_| wrong())?;
        Ok(Arc::try_unwrap(typed).unwrap_or_else(|shared| (*shared).clone()))
    }

    /// Borrows input `i`.
    pub fn get<T: Send + Sync + 'static>(&self, i: usize) -> Result<&T, TaskError> {
        self.values
            .get(i)
            .and_then(Option::as_ref)
            .and_then(|v| v.downcast_ref::<T>())
            .ok_or(TaskError::WrongType {
                index: i,
                expected: type_name::<T>(),
            })
    }
}

impl FromIterator<Value> for Args {
    fn from_iter<I: IntoIterator<Item = Value>>(values: I) -> Args {
        Args {
            values: values.into_iter().map(Some).collect(),
        }
    }
}

/// Runs one operation on its inputs: a constant is handed out, a function
/// is called with a panic caught as [`TaskError::Panicked`]. The caller
/// attaches the task's key to an error.
///
/// Inputs the function left in `args` are dropped inside the catch too: the
/// task may hold the last reference to a value whose `Drop` panics.
pub(crate) fn run_op(op: &Op, args: &mut Args) -> Result<Value, TaskError> {
    match op {
        Op::Value(v) => Ok(v.clone()),
        Op::Call(f) => catch_panic(|| {
            let out = f(args);
            args.values.clear();
            out
        })
        .and_then(|r| r),
    }
}

/// Drops `value`, catching a panic of its `Drop`; the panic's message if
/// there was one. For values of user types that the runtime drops on a
/// worker, where a panic would take the worker (and its task) down.
pub(crate) fn drop_caught<T>(value: T) -> Option<String> {
    catch_panic(move || drop(value)).err().map(|e| match e {
        TaskError::Panicked(m) => m,
        other => other.to_string(),
    })
}

/// Calls `f`, turning a panic inside it into [`TaskError::Panicked`] with
/// the panic's message. The panic hook has printed the message already, as
/// for any panic.
///
/// ```
/// use dagwood_runtime::task::catch_panic;
/// assert_eq!(catch_panic(|| 6 * 7).unwrap(), 42);
/// let e = catch_panic(|| -> i32 { panic!("no {}", "luck") }).unwrap_err();
/// assert_eq!(e.to_string(), "panicked: no luck");
/// ```
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, TaskError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(TaskError::from_panic)
}

/// The text of a panic payload (`&str` or `String`; other payloads get a
/// placeholder).
///
/// ```
/// use dagwood_runtime::task::panic_message;
/// let payload = std::panic::catch_unwind(|| panic!("at {}", 3)).unwrap_err();
/// assert_eq!(panic_message(payload.as_ref()), "at 3");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

impl TaskError {
    /// The error of a task that panicked with `payload`.
    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> TaskError {
        TaskError::Panicked(panic_message(payload.as_ref()))
    }
}

/// Locks a mutex whether or not it is poisoned. A poisoned lock only means
/// a panic elsewhere while it was held; dagwood's state behind its locks is
/// whole between statements, and task code never runs under them. (For
/// another lock result, `.unwrap_or_else(PoisonError::into_inner)` does
/// the same.)
///
/// ```
/// use dagwood_runtime::task::lock;
/// let m = std::sync::Mutex::new(1);
/// let _ = std::panic::catch_unwind(|| { let _g = m.lock().unwrap(); panic!() });
/// assert!(m.is_poisoned());
/// *lock(&m) += 1;
/// assert_eq!(*lock(&m), 2);
/// ```
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
