//! The futures client: tasks that run in the background as soon as they are
//! submitted, while the caller goes on (Dask's `distributed.Client` on one
//! machine).
//!
//! * [`Client::submit`] runs a function on plain values or on other
//!   [`Future`]s (the task starts when its inputs are ready) and returns a
//!   [`Future`] at once; [`Client::map`] does it for many inputs;
//! * [`Client::gather`] (blocking) and [`Client::gather_async`] / `.await`
//!   (any executor) collect values; [`Client::as_completed`] yields futures as
//!   they finish; [`wait`] waits with a timeout;
//! * [`Client::scatter`] makes futures of data in hand, [`Client::cancel`]
//!   drops queued work, [`Client::compute`] runs a [`Delayed`](crate::Delayed)
//!   graph or a collection on the client's workers;
//! * [`Client::submit_pure`] gives identical calls one key, so they run once.
//!
//! Results are reference counted: a result is freed when no [`Future`] and no
//! pending task needs it. A task that fails or panics holds the error; whoever
//! gathers it (or a task depending on it) gets [`Error::Task`](crate::Error::Task)
//! naming the failed task; other tasks go on.
//!
//! ```
//! use dagwood_runtime::client::Client;
//!
//! fn inc(x: i64) -> i64 { x + 1 }
//! fn add(a: i64, b: i64) -> i64 { a + b }
//!
//! let client = Client::new().unwrap();
//! let a = client.submit(inc, 1);                 // runs now, in the background
//! let b = client.submit(inc, 2);
//! let c = client.submit(add, (&a, &b));           // waits for a and b
//! assert_eq!(c.result().unwrap(), 5);
//! let squares = client.map(|x: i64| x * x, 0..10);
//! assert_eq!(client.gather(&squares).unwrap().iter().sum::<i64>(), 285);
//! ```

mod args;
mod as_completed;
mod future;
mod gather;
mod graph;
mod pool;
mod pure;
mod state;

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[doc(hidden)]
pub use args::{Bound, One, Slot};
pub use args::{FutureArg, IntoFutureArg, SubmitArgs};
pub use as_completed::AsCompleted;
pub use future::{Future, Status};
pub use gather::{wait, GatherFuture, ResultFuture};

use crate::task::Value;
use crate::{BoxError, Computable, Key, Result, TaskError};
use pool::Pool;
use pure::{name_of, pure_key, Dedup};
use state::{Fault, Task, TaskRef};

/// What happens to work still queued when the last [`Client`] handle is dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnDrop {
    /// Run everything submitted (that someone still holds) before the
    /// workers stop: futures kept past the drop all end finished or failed.
    #[default]
    Wait,
    /// Cancel what has not started; running tasks finish. Futures kept past
    /// the drop end finished, failed or cancelled — never pending.
    Cancel,
}

/// Settings for [`Client::with_options`].
///
/// ```
/// use dagwood_runtime::client::{Client, OnDrop, Options};
/// let client = Client::with_options(Options::new().threads(2).on_drop(OnDrop::Cancel)).unwrap();
/// assert_eq!(client.threads(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Options {
    threads: usize,
    on_drop: OnDrop,
}

impl Options {
    /// One worker per core, [`OnDrop::Wait`].
    pub fn new() -> Options {
        Options::default()
    }

    /// Number of worker threads (0: one per core).
    pub fn threads(mut self, n: usize) -> Options {
        self.threads = n;
        self
    }

    /// What dropping the last client handle does with queued work.
    pub fn on_drop(mut self, on_drop: OnDrop) -> Options {
        self.on_drop = on_drop;
        self
    }
}

/// A pool of worker threads that runs submitted tasks eagerly, in the
/// background (Dask's `Client(processes=False)`).
///
/// Cheap to clone: clones share the workers. When the last clone is
/// dropped the workers finish or cancel the queued work (see [`OnDrop`])
/// and are joined; no thread outlives the client (unless the last clone is
/// dropped by one of its own tasks, which then lets that worker end on its
/// own).
///
/// ```
/// use dagwood_runtime::client::Client;
/// let client = Client::with_threads(2).unwrap();
/// let x = client.scatter_one(vec![1.0, 2.0, 3.0]);
/// let total = client.submit(|v: Vec<f64>| v.iter().sum::<f64>(), &x);
/// assert_eq!(total.result().unwrap(), 6.0);
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Arc<Pool>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    threads: usize,
    on_drop: OnDrop,
    counter: AtomicU64,
    dedup: Dedup,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.pool.shut_down(self.on_drop);
        let me = std::thread::current().id();
        let workers = std::mem::take(&mut *crate::task::lock(&self.workers));
        // Dropped by one of its own tasks: that worker cannot join itself,
        // and the others wait for its task to end. They all stop on their
        // own once the queue is empty; detach them.
        if workers.iter().any(|w| w.thread().id() == me) {
            return;
        }
        for w in workers {
            let _ = w.join();
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client(threads: {})", self.inner.threads)
    }
}

impl Client {
    /// A client with one worker thread per core.
    pub fn new() -> Result<Client> {
        Client::with_options(Options::new())
    }

    /// A client with `n` worker threads (0: one per core).
    pub fn with_threads(n: usize) -> Result<Client> {
        Client::with_options(Options::new().threads(n))
    }

    /// A client with the given [`Options`].
    pub fn with_options(options: Options) -> Result<Client> {
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = Arc::new(Pool::new());
        let workers = pool.spawn(threads)?;
        Ok(Client {
            inner: Arc::new(Inner {
                pool,
                workers: Mutex::new(workers),
                threads,
                on_drop: options.on_drop,
                counter: AtomicU64::new(0),
                dedup: Dedup::default(),
            }),
        })
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.inner.threads
    }

    fn next_key<F>(&self) -> Key {
        Key::new(name_of::<F>()).with_index(self.inner.counter.fetch_add(1, Ordering::Relaxed))
    }

    /// Makes the task and links it to its inputs; returns the future and the
    /// task when it is ready to queue.
    fn make(&self, key: Key, bound: Bound) -> (TaskRef, Option<Arc<Task>>) {
        let task = Task::pending(key, bound.run);
        let handle = task.acquire();
        let ready = task.register(bound.inputs);
        (handle, ready)
    }

    /// Runs `f(args)` in the background and returns its [`Future`] at once
    /// (Dask's `client.submit(f, *args)`).
    ///
    /// `args` is one argument, `()` or a tuple of up to eight; each is a
    /// plain value, a `Future` or a `&Future` (see [`IntoFutureArg`]). The
    /// task starts when every future argument has its value; if one failed
    /// or was cancelled, so is this task. A panic in `f` becomes the
    /// future's error. The key is the function's name (`lambda` for a
    /// closure) and a counter.
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// fn mul(a: u64, b: u64) -> u64 { a * b }
    /// let client = Client::with_threads(2).unwrap();
    /// let x = client.submit(mul, (6, 7));
    /// let y = client.submit(mul, (&x, 2));
    /// assert_eq!(x.key().name(), "mul");
    /// assert_eq!(y.result().unwrap(), 84);
    /// ```
    pub fn submit<F, R, A, M>(&self, f: F, args: A) -> Future<R>
    where
        A: SubmitArgs<F, R, M>,
        R: Send + Sync + 'static,
    {
        let (handle, ready) = self.make(self.next_key::<F>(), args.bind(f));
        if let Some(t) = ready {
            self.inner.pool.push(t);
        }
        Future::from_ref(handle)
    }

    /// [`submit`](Self::submit) for a function returning `Result<R, E>`: an
    /// `Err` becomes the future's error, like a panic.
    ///
    /// ```
    /// use dagwood_runtime::client::{Client, Status};
    /// let client = Client::with_threads(1).unwrap();
    /// let n = client.submit_result(|s: String| s.parse::<i32>(), "12".to_string());
    /// let bad = client.submit_result(|s: String| s.parse::<i32>(), "x".to_string());
    /// assert_eq!(n.result().unwrap(), 12);
    /// assert!(bad.result().unwrap_err().to_string().contains("invalid digit"));
    /// assert_eq!(bad.status(), Status::Error);
    /// ```
    pub fn submit_result<F, R, E, A, M>(&self, f: F, args: A) -> Future<R>
    where
        A: SubmitArgs<F, std::result::Result<R, E>, M>,
        R: Send + Sync + 'static,
        E: Into<BoxError> + Send + Sync + 'static,
    {
        let bound = fallible::<R, E>(args.bind(f));
        let (handle, ready) = self.make(self.next_key::<F>(), bound);
        if let Some(t) = ready {
            self.inner.pool.push(t);
        }
        Future::from_ref(handle)
    }

    /// [`submit`](Self::submit) for a pure call: the key is a token of the
    /// function and the arguments (futures hash by key), and a call whose key
    /// is held already shares that task instead of running again (Dask's
    /// `submit(f, *args, pure=True)`).
    ///
    /// The token is 128 bits (two independent SipHash digests of the
    /// function's type and the arguments' `Hash`, the key's two indices), so
    /// distinct calls do not meet by chance; arguments are not compared, so
    /// a `Hash` impl that leaves out a field makes calls that differ only
    /// there share one task. Tokens hold for this process (a function's
    /// type id changes between builds) and this client.
    ///
    /// `f` must be a function item or a closure that captures nothing, so
    /// that its type says everything it does (checked while compiling); the
    /// arguments must implement `Hash` (for `f64`, pass `to_bits()` or an
    /// index into a table).
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// fn slow_square(x: u64) -> u64 { x * x }
    /// let client = Client::with_threads(2).unwrap();
    /// let a = client.submit_pure(slow_square, 12);
    /// let b = client.submit_pure(slow_square, 12);
    /// assert_eq!(a.key(), b.key());
    /// assert_eq!(a.key().indices().len(), 2); // the 128-bit token
    /// assert_eq!(a, b);               // one task
    /// assert_ne!(a, client.submit_pure(slow_square, 13));
    /// assert_eq!(b.result().unwrap(), 144);
    /// ```
    pub fn submit_pure<F, R, A, M>(&self, f: F, args: A) -> Future<R>
    where
        A: SubmitArgs<F, R, M> + Hash,
        F: 'static,
        R: Send + Sync + 'static,
    {
        const {
            assert!(
                std::mem::size_of::<F>() == 0,
                "submit_pure needs a function item or a closure without captures"
            )
        };
        let key = pure_key::<F, A>(&args);
        let (handle, ready) = self.inner.dedup.get_or_insert(&key, || {
            let bound = args.bind(f);
            let task = Task::pending(key.clone(), bound.run);
            let handle = task.acquire();
            // Registered below, outside the table's lock.
            let inputs = bound.inputs;
            (task, handle, inputs)
        });
        if let Some((task, inputs)) = ready {
            if let Some(t) = task.register(inputs) {
                self.inner.pool.push(t);
            }
        }
        Future::from_ref(handle)
    }

    /// `f` over each item (an argument or a tuple of arguments, as for
    /// [`submit`](Self::submit)): one task and one future per item, queued
    /// together (Dask's `client.map`).
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// let client = Client::with_threads(2).unwrap();
    /// let xs = client.map(|x: u64| x + 1, 0..100);
    /// let ys = client.map(|a: u64, b: u64| a * b, xs.iter().map(|x| (x, 2)));
    /// assert_eq!(client.gather(&ys).unwrap().iter().sum::<u64>(), 10_100);
    /// ```
    pub fn map<F, R, A, M, I>(&self, f: F, items: I) -> Vec<Future<R>>
    where
        I: IntoIterator<Item = A>,
        A: SubmitArgs<F, R, M>,
        F: Clone,
        R: Send + Sync + 'static,
    {
        let items = items.into_iter();
        let mut futures = Vec::with_capacity(items.size_hint().0);
        let mut ready = Vec::with_capacity(items.size_hint().0);
        for a in items {
            let (handle, r) = self.make(self.next_key::<F>(), a.bind(f.clone()));
            ready.extend(r);
            futures.push(Future::from_ref(handle));
        }
        self.inner.pool.push_many(ready);
        futures
    }

    /// Futures for data already in hand, one per item (Dask's
    /// `client.scatter(list)`): handy as shared inputs of many tasks.
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// let client = Client::with_threads(1).unwrap();
    /// let parts = client.scatter(vec![vec![1, 2], vec![3]]);
    /// let lens = client.map(|v: Vec<i32>| v.len(), &parts);
    /// assert_eq!(client.gather(&lens).unwrap(), vec![2, 1]);
    /// ```
    pub fn scatter<T, I>(&self, data: I) -> Vec<Future<T>>
    where
        I: IntoIterator<Item = T>,
        T: Send + Sync + 'static,
    {
        data.into_iter().map(|v| self.scatter_one(v)).collect()
    }

    /// A future for one value in hand.
    pub fn scatter_one<T: Send + Sync + 'static>(&self, value: T) -> Future<T> {
        let key =
            Key::new("scatter").with_index(self.inner.counter.fetch_add(1, Ordering::Relaxed));
        Future::from_ref(Task::finished(key, Arc::new(value) as Value))
    }

    /// Blocks until every future is done; their values in order, or the
    /// first error in order (Dask's `client.gather`).
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// let client = Client::with_threads(2).unwrap();
    /// let fs = client.map(|i: u32| i * 2, 0..5);
    /// assert_eq!(client.gather(&fs).unwrap(), vec![0, 2, 4, 6, 8]);
    /// ```
    pub fn gather<'a, T, I>(&self, futures: I) -> Result<Vec<T>>
    where
        T: Clone + Send + Sync + 'static,
        I: IntoIterator<Item = &'a Future<T>>,
    {
        gather::gather(futures)
    }

    /// [`gather`](Self::gather) as a `std::future::Future`, for `.await` in
    /// any executor; see [`GatherFuture`].
    pub fn gather_async<'a, T, I>(&self, futures: I) -> GatherFuture<T>
    where
        T: Clone + Send + Sync + 'static,
        I: IntoIterator<Item = &'a Future<T>>,
    {
        GatherFuture::new(futures.into_iter().cloned().collect())
    }

    /// Cancels the futures' tasks (Dask's `client.cancel`): work not started
    /// is dropped at once, with its captured arguments; results already
    /// computed are freed; a running task finishes but its value is dropped.
    /// Tasks depending on a cancelled one are cancelled too. Gathering a
    /// cancelled future gives [`Error::Cancelled`](crate::Error::Cancelled).
    ///
    /// ```
    /// use dagwood_runtime::client::{Client, Status};
    /// use dagwood_runtime::Error;
    /// let client = Client::with_threads(1).unwrap();
    /// let gate = std::sync::Arc::new(std::sync::Barrier::new(2));
    /// let g = gate.clone();
    /// let busy = client.submit(move |_: ()| { g.wait(); 1 }, ()); // holds the only worker
    /// let queued = client.submit(|x: i32| x + 1, &busy);
    /// client.cancel(&[queued.clone()]);
    /// gate.wait();
    /// assert_eq!(busy.result().unwrap(), 1);
    /// assert_eq!(queued.status(), Status::Cancelled);
    /// assert!(matches!(queued.result(), Err(Error::Cancelled { .. })));
    /// ```
    pub fn cancel<'a, T: 'a>(&self, futures: impl IntoIterator<Item = &'a Future<T>>) {
        for f in futures {
            f.cancel();
        }
    }

    /// An iterator over the futures in the order they complete (Dask's
    /// `as_completed`); see [`AsCompleted`].
    pub fn as_completed<T>(&self, futures: impl IntoIterator<Item = Future<T>>) -> AsCompleted<T> {
        AsCompleted::new(futures.into_iter().collect())
    }

    /// Computes a [`Delayed`](crate::Delayed) (or anything
    /// [`Computable`]: tuples and `Vec`s of handles, a collection's
    /// `to_delayed()`) on this client's workers, returning a future of the
    /// result (Dask's `client.compute`).
    ///
    /// The graph is culled and its linear chains fused as for `compute()`;
    /// each scheduling unit becomes a task of this client, so graph tasks
    /// and submitted tasks share the workers.
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// use dagwood_runtime::{delayed, sum};
    /// let client = Client::with_threads(2).unwrap();
    /// let parts: Vec<_> = (0..100).map(|i| delayed(i).map("square", |v: &i64| v * v)).collect();
    /// let total = client.compute(sum(parts, 8).unwrap());
    /// assert_eq!(total.result().unwrap(), 328_350);
    /// let both = client.compute((delayed(1), delayed("two")));
    /// assert_eq!(both.result().unwrap(), (1, "two"));
    /// ```
    pub fn compute<C>(&self, what: C) -> Future<C::Output>
    where
        C: Computable + Send + 'static,
        C::Output: Send + Sync + 'static,
    {
        let (handle, ready) = graph::submit_graph(what);
        self.inner.pool.push_many(ready);
        Future::from_ref(handle)
    }
}

/// Turns the `Err` of a call returning `Result` into a task failure.
fn fallible<R, E>(bound: Bound) -> Bound
where
    R: Send + Sync + 'static,
    E: Into<BoxError> + Send + Sync + 'static,
{
    let run = bound.run;
    Bound {
        inputs: bound.inputs,
        run: Box::new(move |values| {
            let any = run(values)?;
            let typed = any
                .downcast::<std::result::Result<R, E>>()
                .map_err(|_| Fault::from(TaskError::Panicked("a result of another type".into())))?;
            match Arc::try_unwrap(typed) {
                Ok(Ok(r)) => Ok(Arc::new(r) as Value),
                Ok(Err(e)) => Err(Fault::from(TaskError::failed(e))),
                Err(_) => Err(Fault::from(TaskError::Panicked(
                    "a shared result value".into(),
                ))),
            }
        }),
    }
}
