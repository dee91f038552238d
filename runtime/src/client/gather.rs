//! Collecting results: blocking ([`Client::gather`](super::Client::gather),
//! [`wait`]) and as a `std::future::Future` that any executor can drive
//! ([`GatherFuture`], and `.await` on a [`Future`] itself).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::future::{wait_task, Future};
use crate::{Error, Result};

/// Blocks until every future is done and returns their values in order, or
/// the first error in order (Dask's `client.gather`).
pub(crate) fn gather<'a, T, I>(futures: I) -> Result<Vec<T>>
where
    T: Clone + Send + Sync + 'static,
    I: IntoIterator<Item = &'a Future<T>>,
{
    let futures = futures.into_iter();
    let mut out = Vec::with_capacity(futures.size_hint().0);
    for f in futures {
        wait_task(&f.task, None);
        out.push((*f.outcome()?).clone());
    }
    Ok(out)
}

/// Blocks until every future is done, or fails with [`Error::Timeout`]
/// after `timeout` (Dask's `wait(futures, timeout=...)`). Failed and
/// cancelled futures count as done.
///
/// ```
/// use std::time::Duration;
/// use dagwood_runtime::client::{wait, Client};
/// let client = Client::with_threads(2).unwrap();
/// let fs = client.map(|i: u64| i * i, 0..10);
/// wait(&fs, Duration::from_secs(30)).unwrap();
/// assert!(fs.iter().all(|f| f.done()));
/// ```
pub fn wait<'a, T: 'a>(
    futures: impl IntoIterator<Item = &'a Future<T>>,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let futures: Vec<&Future<T>> = futures.into_iter().collect();
    for (i, f) in futures.iter().enumerate() {
        if !wait_task(&f.task, Some(deadline)) {
            let pending = futures[i..].iter().filter(|f| !f.done()).count();
            return Err(Error::Timeout {
                waited: timeout,
                pending,
            });
        }
    }
    Ok(())
}

/// The values of some futures, as a `std::future::Future`: `.await` it in
/// any executor (Dask's `await client.gather(futures)`). Made by
/// [`Client::gather_async`](super::Client::gather_async).
///
/// Registers the task's waker with each pending task, so it is polled again
/// only when something finished.
///
/// ```
/// use dagwood_runtime::client::Client;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     use std::sync::Arc;
/// #     use std::task::{Context, Poll, Wake, Waker};
/// #     struct Unpark(std::thread::Thread);
/// #     impl Wake for Unpark { fn wake(self: Arc<Self>) { self.0.unpark() } }
/// #     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) { return v; }
/// #         std::thread::park();
/// #     }
/// # }
/// let client = Client::with_threads(2).unwrap();
/// let fs = client.map(|i: u64| i + 1, 0..100);
/// let values = block_on(client.gather_async(&fs)).unwrap();
/// assert_eq!(values.iter().sum::<u64>(), 5050);
/// let one = block_on(async { fs[9].clone().await }).unwrap();
/// assert_eq!(one, 10);
/// ```
pub struct GatherFuture<T> {
    futures: Vec<Future<T>>,
    /// Futures before this index are known to be done.
    next: usize,
}

impl<T> GatherFuture<T> {
    pub(crate) fn new(futures: Vec<Future<T>>) -> GatherFuture<T> {
        GatherFuture { futures, next: 0 }
    }
}

// No self-references: moving it is fine.
impl<T> Unpin for GatherFuture<T> {}

impl<T: Clone + Send + Sync + 'static> std::future::Future for GatherFuture<T> {
    type Output = Result<Vec<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        while let Some(f) = self.futures.get(self.next) {
            if !f.task.0.add_waker(cx.waker()) {
                return Poll::Pending;
            }
            self.next += 1;
        }
        Poll::Ready(
            self.futures
                .iter()
                .map(|f| f.outcome().map(|v: Arc<T>| (*v).clone()))
                .collect(),
        )
    }
}

/// `future.await` gives the value (cloned) or the error, like
/// [`Future::result`] without blocking a thread.
impl<T: Clone + Send + Sync + 'static> std::future::IntoFuture for Future<T> {
    type Output = Result<T>;
    type IntoFuture = ResultFuture<T>;

    fn into_future(self) -> ResultFuture<T> {
        ResultFuture(GatherFuture::new(vec![self]))
    }
}

/// What `.await` on a [`Future`] runs: its value, or its error.
pub struct ResultFuture<T>(GatherFuture<T>);

impl<T: Clone + Send + Sync + 'static> std::future::Future for ResultFuture<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|r| {
            r.and_then(|mut v| {
                v.pop()
                    .ok_or_else(|| Error::Internal("no value for an awaited future".into()))
            })
        })
    }
}
