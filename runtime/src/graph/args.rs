//! The inputs of one running task.

use std::any::type_name;
use std::sync::Arc;

use super::node::AnyValue;
use crate::TaskError;

/// The gathered input values of a task, in argument order.
///
/// A task that is the last consumer of an input holds the only reference to
/// it, so [`take`](Args::take) moves the value out without a copy; otherwise
/// it clones. [`get`](Args::get) borrows.
pub struct Args {
    values: Vec<Option<AnyValue>>,
}

impl Args {
    pub(crate) fn with_capacity(n: usize) -> Args {
        Args {
            values: Vec::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, v: AnyValue) {
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
