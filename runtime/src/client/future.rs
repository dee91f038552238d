//! [`Future<T>`]: a handle to a task of a [`Client`](super::Client) and, once
//! it has run, to its result.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::state::{State, TaskRef, Waiter};
use crate::task::lock;
use crate::{Error, Key, Result};

/// Where a [`Future`]'s task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Queued, waiting for inputs, or running.
    Pending,
    /// Done; the value is held.
    Finished,
    /// The task (or one of its inputs) returned `Err` or panicked.
    Error,
    /// Cancelled, or an input was cancelled.
    Cancelled,
}

/// A handle to a task submitted to a [`Client`](super::Client): its result
/// once it has run (Dask's `Future`).
///
/// Handles are counted references: cloning is cheap, and the result is
/// freed when the last handle (and the last task still waiting for it) is
/// gone. A task whose handles are all dropped before it starts is skipped.
///
/// ```
/// use dagwood_runtime::client::{Client, Status};
/// let client = Client::with_threads(2).unwrap();
/// let x = client.submit(|v: i64| v + 1, 41);
/// assert_eq!(x.result().unwrap(), 42);
/// assert_eq!(x.status(), Status::Finished);
/// assert_eq!(x.key().name(), "lambda");
/// ```
pub struct Future<T> {
    pub(crate) task: TaskRef,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future {
            task: self.task.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Future({}, {:?})", self.task.0.key, self.status())
    }
}

/// Futures hash by key, so a future can be an argument of
/// [`Client::submit_pure`](super::Client::submit_pure).
impl<T> std::hash::Hash for Future<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.task.0.key.hash(state)
    }
}

/// Two futures are equal when they are handles to the same task.
impl<T> PartialEq for Future<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.task.0, &other.task.0)
    }
}

impl<T> Eq for Future<T> {}

impl<T> Future<T> {
    pub(crate) fn from_ref(task: TaskRef) -> Future<T> {
        Future {
            task,
            _type: PhantomData,
        }
    }

    /// The key of the task (`("inc", 3)` for the fourth call of `inc`, or a
    /// hash of the call for [`submit_pure`](super::Client::submit_pure)).
    pub fn key(&self) -> &Key {
        &self.task.0.key
    }

    /// Where the task stands now (does not wait).
    pub fn status(&self) -> Status {
        match &lock(&self.task.0.inner).state {
            State::Waiting | State::Queued | State::Running => Status::Pending,
            State::Finished(_) => Status::Finished,
            State::Failed(_) => Status::Error,
            State::Cancelled | State::Released => Status::Cancelled,
        }
    }

    /// True once the task has finished, failed or been cancelled.
    pub fn done(&self) -> bool {
        self.status() != Status::Pending
    }

    /// Blocks until the task is done or `timeout` has passed; true if done.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        wait_task(&self.task, Some(Instant::now() + timeout))
    }

    /// Blocks until the task is done.
    pub fn wait(&self) {
        wait_task(&self.task, None);
    }

    /// Waits for the task and returns its error, if it failed (Dask's
    /// `future.exception()`); `None` if it finished. A cancelled task gives
    /// [`Error::Cancelled`].
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// let client = Client::with_threads(1).unwrap();
    /// let bad = client.submit_result(|s: &'static str| s.parse::<i32>(), "x");
    /// let err = bad.exception().unwrap();
    /// assert!(err.to_string().contains("invalid digit"));
    /// ```
    pub fn exception(&self) -> Option<Error> {
        self.wait();
        match &lock(&self.task.0.inner).state {
            State::Failed(f) => Some(f.to_error()),
            State::Cancelled | State::Released => Some(Error::Cancelled {
                key: self.key().clone(),
            }),
            _ => None,
        }
    }

    /// Cancels the task (see [`Client::cancel`](super::Client::cancel)).
    pub fn cancel(&self) {
        self.task.0.cancel();
    }

    /// Registers a waiter (used by `as_completed`).
    pub(crate) fn add_waiter(&self, w: Waiter) -> bool {
        self.task.0.add_waiter(w)
    }
}

impl<T: Send + Sync + 'static> Future<T> {
    /// Waits for the task and returns a shared reference to its value, with
    /// no copy. A failed task gives [`Error::Task`] naming the task that
    /// failed (this one or an input); a cancelled one [`Error::Cancelled`].
    ///
    /// ```
    /// use dagwood_runtime::client::Client;
    /// let client = Client::with_threads(1).unwrap();
    /// let v = client.submit(|n: usize| vec![0u8; n], 1000);
    /// assert_eq!(v.value().unwrap().len(), 1000);
    /// ```
    pub fn value(&self) -> Result<Arc<T>> {
        self.wait();
        self.outcome()
    }

    /// The value of a task that is done (does not wait).
    pub(crate) fn outcome(&self) -> Result<Arc<T>> {
        let task = &self.task.0;
        match &lock(&task.inner).state {
            State::Finished(v) => v.clone().downcast::<T>().map_err(|_| {
                Error::Internal(format!(
                    "the value of {} is not a {}",
                    task.key,
                    std::any::type_name::<T>()
                ))
            }),
            State::Failed(f) => Err(f.to_error()),
            State::Cancelled | State::Released => Err(Error::Cancelled {
                key: task.key.clone(),
            }),
            State::Waiting | State::Queued | State::Running => {
                Err(Error::Internal(format!("{} is not done yet", task.key)))
            }
        }
    }

    /// Waits for the task and returns a copy of its value (Dask's
    /// `future.result()`).
    pub fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        self.value().map(|v| (*v).clone())
    }
}

/// Blocks until `task` is done or the deadline passes; true if done. A wait
/// that times out takes its waiter back.
///
/// On a worker of a client the wait runs that client's ready tasks meanwhile
/// (see [`Pool::help_until`](super::pool::Pool::help_until)).
pub(crate) fn wait_task(task: &TaskRef, deadline: Option<Instant>) -> bool {
    if let Some(pool) = super::pool::current() {
        return pool.help_until(task, deadline);
    }
    let mut token = None;
    loop {
        {
            let mut g = lock(&task.0.inner);
            if g.state.is_done() {
                return true;
            }
            if token.is_none() {
                let t = super::state::next_token();
                g.waiters.push(Waiter::Thread(std::thread::current(), t));
                token = Some(t);
            }
        }
        match deadline {
            None => std::thread::park(),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    if let Some(t) = token {
                        task.0.remove_waiter(t);
                    }
                    return task.0.is_done();
                }
                std::thread::park_timeout(d - now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Client;
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    /// Polling a long task with short timeouts leaves no waiter behind.
    #[test]
    fn timed_out_waits_take_their_waiter_back() {
        let client = Client::with_threads(1).unwrap();
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        let long = client.submit(move |_: ()| g.wait(), ());
        for _ in 0..1000 {
            assert!(!long.wait_timeout(Duration::from_micros(10)));
        }
        assert!(
            super::super::wait(std::slice::from_ref(&long), Duration::from_micros(10)).is_err()
        );
        assert_eq!(long.task.0.waiter_count(), 0);
        gate.wait();
        long.wait();
        assert!(long.done());
    }
}
