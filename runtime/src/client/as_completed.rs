//! [`AsCompleted`]: futures in the order their tasks finish.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::future::Future;
use super::state::{Completions, Waiter};
use crate::task::lock;

/// An iterator over futures in the order they complete (finished, failed or
/// cancelled), each exactly once; `next` blocks until one more is done
/// (Dask's `as_completed`). Made by
/// [`Client::as_completed`](super::Client::as_completed).
///
/// ```
/// use dagwood_runtime::client::Client;
/// let client = Client::with_threads(2).unwrap();
/// let fs = client.map(|i: u64| i * 10, 0..20);
/// let mut seen: Vec<u64> = client.as_completed(fs).map(|f| f.result().unwrap()).collect();
/// seen.sort();
/// assert_eq!(seen, (0..20).map(|i| i * 10).collect::<Vec<_>>());
/// ```
pub struct AsCompleted<T> {
    futures: Vec<Option<Future<T>>>,
    done: Arc<Completions>,
    remaining: usize,
}

impl<T> AsCompleted<T> {
    pub(crate) fn new(futures: Vec<Future<T>>) -> AsCompleted<T> {
        let done = Arc::new(Completions::default());
        for (i, f) in futures.iter().enumerate() {
            f.add_waiter(Waiter::Completion(done.clone(), i));
        }
        AsCompleted {
            remaining: futures.len(),
            futures: futures.into_iter().map(Some).collect(),
            done,
        }
    }

    /// The next future to complete, waiting at most `timeout`; `None` when
    /// all were yielded or the time ran out (check [`len`](Self::len)).
    pub fn next_timeout(&mut self, timeout: Duration) -> Option<Future<T>> {
        self.next_within(Some(timeout))
    }

    /// Futures not yielded yet.
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// True when every future has been yielded.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    fn next_within(&mut self, timeout: Option<Duration>) -> Option<Future<T>> {
        if self.remaining == 0 {
            return None;
        }
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let mut q = lock(&self.done.done);
        let i = loop {
            if let Some(i) = q.pop_front() {
                break i;
            }
            q = match deadline {
                None => self
                    .done
                    .cond
                    .wait(q)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let now = std::time::Instant::now();
                    if now >= d {
                        return None;
                    }
                    let waited = self.done.cond.wait_timeout(q, d - now);
                    waited.unwrap_or_else(PoisonError::into_inner).0
                }
            };
        };
        drop(q);
        self.remaining -= 1;
        self.futures.get_mut(i).and_then(Option::take)
    }
}

impl<T> Iterator for AsCompleted<T> {
    type Item = Future<T>;

    fn next(&mut self) -> Option<Future<T>> {
        self.next_within(None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}
