//! The task table of a [`Client`](super::Client): one [`Task`] per key, its
//! state, who waits for it, and the reference counts that free its result.
//!
//! Every task sits behind its own mutex; no lock is held while a task runs.
//! A [`TaskRef`] is one counted reference (a [`Future`](super::Future)
//! handle, or a dependent that has not started yet); when the last one goes,
//! the result is dropped, or work not yet started is skipped.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Waker;
use std::thread::Thread;

use crate::diagnostics::{observe, CallbackFault, Hooks};
use crate::task::{catch_panic, drop_caught, lock, Value};
use crate::{BoxError, Error, Key, TaskError};

/// Why a task did not produce a value: the failing task's key and the cause.
pub(crate) struct Failure {
    pub(crate) key: Key,
    pub(crate) cause: TaskError,
    /// Set when it was a diagnostics callback, not the task, that panicked.
    pub(crate) callback: Option<CallbackFault>,
}

impl Failure {
    /// A task's own failure.
    pub(crate) fn task(key: Key, cause: TaskError) -> Arc<Failure> {
        Arc::new(Failure {
            key,
            cause,
            callback: None,
        })
    }

    /// A failure because a callback panicked while the task `key` ran or settled.
    fn callback(key: Key, fault: CallbackFault) -> Arc<Failure> {
        Arc::new(Failure {
            key,
            cause: TaskError::Panicked(fault.to_error().to_string()),
            callback: Some(fault),
        })
    }

    /// The error to hand to one gatherer (each gets its own copy).
    pub(crate) fn to_error(self: &Arc<Failure>) -> Error {
        if let Some(fault) = &self.callback {
            return fault.to_error();
        }
        let cause = match &self.cause {
            TaskError::Panicked(m) => TaskError::Panicked(m.clone()),
            TaskError::WrongType { index, expected } => TaskError::WrongType {
                index: *index,
                expected,
            },
            TaskError::Failed(_) => TaskError::Failed(Box::new(SharedCause(self.clone()))),
        };
        Error::Task {
            key: self.key.clone(),
            cause,
        }
    }
}

/// A task's `Err` shared by all who gather it: shows and chains like the original.
struct SharedCause(Arc<Failure>);

impl SharedCause {
    fn inner(&self) -> Option<&BoxError> {
        match &self.0.cause {
            TaskError::Failed(e) => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Debug for SharedCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner() {
            Some(e) => std::fmt::Debug::fmt(e, f),
            None => write!(f, "{}", self.0.cause),
        }
    }
}

impl std::fmt::Display for SharedCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner() {
            Some(e) => std::fmt::Display::fmt(e, f),
            None => write!(f, "{}", self.0.cause),
        }
    }
}

impl std::error::Error for SharedCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner().and_then(|e| e.source())
    }
}

/// The function of a task, applied to its inputs' values in argument order.
pub(crate) type RunFn = Box<dyn FnOnce(Vec<Value>) -> Result<Value, Fault> + Send>;

/// A failure inside a task's function; `key` names a task of a fused chain
/// when it is not the task's own key.
pub(crate) struct Fault {
    pub(crate) key: Option<Key>,
    pub(crate) cause: TaskError,
}

impl From<TaskError> for Fault {
    fn from(cause: TaskError) -> Fault {
        Fault { key: None, cause }
    }
}

pub(crate) enum State {
    /// Some inputs are not finished yet.
    Waiting,
    /// In the ready queue.
    Queued,
    Running,
    Finished(Value),
    Failed(Arc<Failure>),
    Cancelled,
    /// No one holds it any more: result dropped or work skipped.
    Released,
}

impl State {
    pub(crate) fn is_done(&self) -> bool {
        matches!(
            self,
            State::Finished(_) | State::Failed(_) | State::Cancelled | State::Released
        )
    }

    fn not_started(&self) -> bool {
        matches!(self, State::Waiting | State::Queued)
    }
}

/// A fresh number for a [`Waiter::Thread`] registration.
pub(crate) fn next_token() -> u64 {
    static TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    TOKEN.fetch_add(1, Ordering::Relaxed)
}

/// Who to tell when a task is done.
pub(crate) enum Waiter {
    /// A blocked thread; the number tells its registrations apart, so one
    /// that gives up (a timeout) takes back exactly its own.
    Thread(Thread, u64),
    Waker(Waker),
    /// An [`AsCompleted`](super::AsCompleted): push this index to its queue.
    Completion(Arc<Completions>, usize),
}

impl Waiter {
    fn wake(self) {
        match self {
            Waiter::Thread(t, _) => t.unpark(),
            Waiter::Waker(w) => w.wake(),
            Waiter::Completion(q, i) => q.push(i),
        }
    }
}

/// Indices of finished futures, in completion order.
#[derive(Default)]
pub(crate) struct Completions {
    pub(crate) done: Mutex<std::collections::VecDeque<usize>>,
    pub(crate) cond: Condvar,
}

impl Completions {
    pub(crate) fn push(&self, i: usize) {
        lock(&self.done).push_back(i);
        self.cond.notify_all();
    }
}

pub(crate) struct Inner {
    pub(crate) state: State,
    pub(crate) run: Option<RunFn>,
    /// One counted reference per input (in argument order) until the task starts.
    pub(crate) inputs: Vec<TaskRef>,
    /// Tasks that wait for this one's value.
    pub(crate) dependents: Vec<Arc<Task>>,
    pub(crate) waiters: Vec<Waiter>,
    /// Cancelled while running: the value is dropped when it comes.
    pub(crate) cancel_requested: bool,
    /// A computation's last task: its callbacks hear of the end.
    pub(crate) finish_hooks: Option<Hooks>,
}

/// One task of the client's table.
pub(crate) struct Task {
    pub(crate) key: Key,
    /// Creation order: among ready tasks the earliest made runs first.
    pub(crate) seq: u64,
    /// The diagnostics callbacks active where the task was submitted.
    hooks: Hooks,
    /// Future handles plus dependents not yet started.
    refs: AtomicUsize,
    /// Inputs not finished yet, plus one while the task is being registered.
    waiting_on: AtomicUsize,
    pub(crate) inner: Mutex<Inner>,
}

impl Task {
    fn with_state(
        key: Key,
        state: State,
        run: Option<RunFn>,
        refs: usize,
        hooks: Hooks,
    ) -> Arc<Task> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Arc::new(Task {
            key,
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
            hooks,
            refs: AtomicUsize::new(refs),
            waiting_on: AtomicUsize::new(1),
            inner: Mutex::new(Inner {
                state,
                run,
                inputs: Vec::new(),
                dependents: Vec::new(),
                waiters: Vec::new(),
                cancel_requested: false,
                finish_hooks: None,
            }),
        })
    }

    /// A task holding a value already (`scatter`), with one reference.
    pub(crate) fn finished(key: Key, value: Value) -> TaskRef {
        TaskRef(Task::with_state(
            key,
            State::Finished(value),
            None,
            1,
            Hooks::default(),
        ))
    }

    /// A task to run, not yet registered with its inputs; `refs` references
    /// are handed out by the caller.
    /// Its task events go to the diagnostics callbacks active on this
    /// thread now (see [`crate::diagnostics`]).
    pub(crate) fn pending(key: Key, run: RunFn) -> Arc<Task> {
        Task::pending_with(key, run, Hooks::capture())
    }

    /// [`pending`](Self::pending), reporting to `hooks` (a computation's).
    pub(crate) fn pending_with(key: Key, run: RunFn, hooks: Hooks) -> Arc<Task> {
        Task::with_state(key, State::Waiting, Some(run), 0, hooks)
    }

    /// One more counted reference, unless the count already fell to zero
    /// (the task is released and must not be shared again).
    pub(crate) fn try_acquire(self: &Arc<Task>) -> Option<TaskRef> {
        let mut n = self.refs.load(Ordering::Acquire);
        loop {
            if n == 0 {
                return None;
            }
            match self
                .refs
                .compare_exchange_weak(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(TaskRef(self.clone())),
                Err(now) => n = now,
            }
        }
    }

    /// Counts a new reference to a task that is known to be held already.
    pub(crate) fn acquire(self: &Arc<Task>) -> TaskRef {
        self.refs.fetch_add(1, Ordering::Relaxed);
        TaskRef(self.clone())
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        let g = lock(&self.inner);
        matches!(g.state, State::Cancelled | State::Released) || g.cancel_requested
    }

    pub(crate) fn is_done(&self) -> bool {
        lock(&self.inner).state.is_done()
    }

    pub(crate) fn is_held(&self) -> bool {
        self.refs.load(Ordering::Acquire) > 0
    }

    /// Links a new task (made by [`Task::pending`]) to its inputs. Returns it
    /// when it is ready to queue; a failed or cancelled input settles it at once.
    pub(crate) fn register(self: &Arc<Task>, inputs: Vec<TaskRef>) -> Option<Arc<Task>> {
        self.waiting_on.fetch_add(inputs.len(), Ordering::AcqRel);
        let mut broken: Option<Outcome> = None;
        for input in &inputs {
            let mut g = lock(&input.0.inner);
            match &g.state {
                State::Finished(_) => {
                    self.waiting_on.fetch_sub(1, Ordering::AcqRel);
                }
                State::Failed(f) => {
                    broken.get_or_insert(Outcome::Failed(f.clone()));
                    self.waiting_on.fetch_sub(1, Ordering::AcqRel);
                }
                State::Cancelled | State::Released => {
                    broken.get_or_insert(Outcome::Cancelled);
                    self.waiting_on.fetch_sub(1, Ordering::AcqRel);
                }
                State::Waiting | State::Queued | State::Running => {
                    g.dependents.push(self.clone());
                }
            }
        }
        {
            let mut g = lock(&self.inner);
            if g.state.is_done() {
                // Settled already through a failed or cancelled input: it
                // will not run, so it holds none of its inputs.
                drop(g);
                reraise(drop_all(inputs));
            } else {
                g.inputs = inputs;
            }
        }
        if let Some(outcome) = broken {
            settle(self, outcome);
            return None;
        }
        self.input_done()
    }

    /// One input finished (or registration ended): the task itself when that
    /// was the last thing it waited for and it is still to run.
    fn input_done(self: &Arc<Task>) -> Option<Arc<Task>> {
        if self.waiting_on.fetch_sub(1, Ordering::AcqRel) != 1 {
            return None;
        }
        let mut g = lock(&self.inner);
        match g.state {
            State::Waiting => {
                g.state = State::Queued;
                Some(self.clone())
            }
            _ => None,
        }
    }

    /// Runs a queued task on this thread; returns the dependents it made ready.
    pub(crate) fn run(self: &Arc<Task>) -> Vec<Arc<Task>> {
        let (run, inputs) = {
            let mut g = lock(&self.inner);
            if !matches!(g.state, State::Queued) {
                return Vec::new();
            }
            g.state = State::Running;
            (g.run.take(), std::mem::take(&mut g.inputs))
        };
        let Some(run) = run else {
            return settle(self, Outcome::Cancelled);
        };
        let mut values = Vec::with_capacity(inputs.len());
        let mut broken = None;
        for input in &inputs {
            match &lock(&input.0.inner).state {
                State::Finished(v) => values.push(v.clone()),
                State::Failed(f) => {
                    broken.get_or_insert(Outcome::Failed(f.clone()));
                }
                // Cancelled after it finished: its dependents go with it.
                _ => {
                    broken.get_or_insert(Outcome::Cancelled);
                }
            }
        }
        // Inputs no one else needs are freed here; `values` keeps them alive
        // for this run only, so a task can move a value it alone holds.
        if let Some(message) = drop_all(inputs) {
            broken.get_or_insert(Outcome::Failed(Failure::task(
                self.key.clone(),
                TaskError::Panicked(format!("dropping an input's task: {message}")),
            )));
        }
        if let Some(outcome) = broken {
            let _ = drop_caught(run);
            return settle(self, outcome);
        }
        let result = observe(
            &self.hooks,
            || &self.key,
            |r: &Result<Value, Fault>| r.is_err(),
            || catch_panic(|| run(values)).unwrap_or_else(|cause| Err(cause.into())),
        );
        let outcome = match (result, self.hooks.callback_fault()) {
            (Err(fault), _) => Outcome::Failed(Failure::task(
                fault.key.unwrap_or_else(|| self.key.clone()),
                fault.cause,
            )),
            (Ok(v), Some(fault)) => {
                let _ = drop_caught(v);
                Outcome::Failed(Failure::callback(self.key.clone(), fault))
            }
            (Ok(v), None) => Outcome::Finished(v),
        };
        settle(self, outcome)
    }

    /// A worker's last resort when running the task panicked outside every
    /// catch (a dagwood bug): the task fails, naming the panic, instead of
    /// staying `Running` with its waiters parked for ever.
    pub(crate) fn abandon(self: &Arc<Task>, message: String) -> Vec<Arc<Task>> {
        if self.is_done() {
            return Vec::new();
        }
        let cause = TaskError::Panicked(format!("inside the client's worker: {message}"));
        settle(
            self,
            Outcome::Failed(Failure::task(self.key.clone(), cause)),
        )
    }

    /// Cancels the task: work not started is dropped, a finished result is
    /// freed, a running task's value is dropped when it comes. Dependents not
    /// started are cancelled too.
    pub(crate) fn cancel(self: &Arc<Task>) {
        let mut g = lock(&self.inner);
        match g.state {
            State::Waiting | State::Queued => {
                drop(g);
                settle(self, Outcome::Cancelled);
            }
            State::Running => g.cancel_requested = true,
            State::Finished(_) => {
                let old = std::mem::replace(&mut g.state, State::Cancelled);
                drop(g);
                // The caller's thread: a panicking `Drop` of the value is its own.
                reraise(drop_caught(old));
            }
            State::Failed(_) | State::Cancelled | State::Released => {}
        }
    }

    /// Adds a waiter, or wakes it at once when the task is done; true if it was done.
    pub(crate) fn add_waiter(&self, w: Waiter) -> bool {
        let mut g = lock(&self.inner);
        if g.state.is_done() {
            drop(g);
            w.wake();
            true
        } else {
            g.waiters.push(w);
            false
        }
    }

    /// Takes back the thread waiter registered as `token` (its wait timed
    /// out), so that polling a long task does not pile up waiters.
    pub(crate) fn remove_waiter(&self, token: u64) {
        let mut g = lock(&self.inner);
        if let Some(i) = g
            .waiters
            .iter()
            .position(|w| matches!(w, Waiter::Thread(_, t) if *t == token))
        {
            g.waiters.swap_remove(i);
        }
    }

    /// Waiters registered and not yet woken (for tests of the bookkeeping).
    #[cfg(test)]
    pub(crate) fn waiter_count(&self) -> usize {
        lock(&self.inner).waiters.len()
    }

    /// Registers `waker` unless an equivalent one is registered; true if done.
    pub(crate) fn add_waker(&self, waker: &Waker) -> bool {
        let mut g = lock(&self.inner);
        if g.state.is_done() {
            return true;
        }
        let known = g
            .waiters
            .iter()
            .any(|w| matches!(w, Waiter::Waker(x) if x.will_wake(waker)));
        if !known {
            g.waiters.push(Waiter::Waker(waker.clone()));
        }
        false
    }

    /// The last reference went: free what the task holds. A panic in a
    /// user `Drop` (of the value, or of the function not run) is caught and
    /// its message returned once everything is freed.
    fn release(&self) -> Option<String> {
        let mut g = lock(&self.inner);
        let old = match g.state {
            // The worker sees `refs == 0` when it finishes and drops the value.
            State::Running => return None,
            _ => std::mem::replace(&mut g.state, State::Released),
        };
        let run = g.run.take();
        let inputs = std::mem::take(&mut g.inputs);
        let waiters = std::mem::take(&mut g.waiters);
        drop(g);
        waiters.into_iter().for_each(Waiter::wake);
        let first = drop_caught(old);
        let first = first.or(drop_caught(run));
        first.or(drop_all(inputs))
    }
}

/// How a task ended.
pub(crate) enum Outcome {
    Finished(Value),
    Failed(Arc<Failure>),
    Cancelled,
}

/// Records how `task` ended, wakes its waiters and passes the news to its
/// dependents: on success they may become ready (returned), on failure or
/// cancellation those not started end the same way. Iterative, so long
/// chains do not grow the stack.
pub(crate) fn settle(task: &Arc<Task>, outcome: Outcome) -> Vec<Arc<Task>> {
    let mut ready = Vec::new();
    let mut work = vec![(task.clone(), outcome)];
    while let Some((task, outcome)) = work.pop() {
        let outcome = finish_computation(&task, outcome);
        let mut g = lock(&task.inner);
        // A value no one wants is dropped after the lock is let go (a user
        // `Drop` may be slow).
        let mut discard = None;
        let state = match outcome {
            Outcome::Finished(v) if g.cancel_requested => {
                discard = Some(v);
                State::Cancelled
            }
            Outcome::Finished(v) if !task.is_held() => {
                discard = Some(v);
                State::Released
            }
            Outcome::Finished(v) => State::Finished(v),
            Outcome::Failed(f) => State::Failed(f),
            Outcome::Cancelled => State::Cancelled,
        };
        let success = matches!(state, State::Finished(_) | State::Released);
        let failure = match &state {
            State::Failed(f) => Some(f.clone()),
            _ => None,
        };
        g.state = state;
        let run = g.run.take();
        let inputs = std::mem::take(&mut g.inputs);
        let dependents = std::mem::take(&mut g.dependents);
        let waiters = std::mem::take(&mut g.waiters);
        drop(g);
        waiters.into_iter().for_each(Waiter::wake);
        // Work that will not run and values no one wants: their owners are
        // gone, so a panicking `Drop` here has no one to fail but the
        // worker; the panic hook has reported it.
        let _ = drop_caught(run);
        let _ = drop_caught(discard);
        let _ = drop_all(inputs);
        for d in dependents {
            if success {
                ready.extend(d.input_done());
                continue;
            }
            let not_started = lock(&d.inner).state.not_started();
            if not_started {
                let next = match &failure {
                    Some(f) => Outcome::Failed(f.clone()),
                    None => Outcome::Cancelled,
                };
                work.push((d, next));
            }
        }
    }
    ready
}

/// Tells a computation's callbacks (held by its result task) that it ended,
/// before the result is published; a callback that panics turns the
/// outcome into its [`Error::Callback`].
fn finish_computation(task: &Arc<Task>, outcome: Outcome) -> Outcome {
    let Some(hooks) = lock(&task.inner).finish_hooks.take() else {
        return outcome;
    };
    let error = match &outcome {
        Outcome::Finished(_) => hooks.fault(),
        Outcome::Failed(f) => Some(f.to_error()),
        Outcome::Cancelled => Some(Error::Cancelled {
            key: task.key.clone(),
        }),
    };
    hooks.finish(error.as_ref());
    match (outcome, hooks.callback_fault()) {
        (Outcome::Finished(v), Some(fault)) => {
            let _ = drop_caught(v);
            Outcome::Failed(Failure::callback(task.key.clone(), fault))
        }
        (outcome, _) => outcome,
    }
}

/// Raises again, on the caller's thread, the panic of a user `Drop` that
/// [`drop_caught`] stopped while the runtime's bookkeeping finished; not
/// while that thread is unwinding already.
fn reraise(message: Option<String>) {
    if let Some(m) = message {
        if !std::thread::panicking() {
            std::panic::resume_unwind(Box::new(m));
        }
    }
}

/// A counted reference to a task: a future handle, or a dependent's hold on
/// an input until it starts.
pub(crate) struct TaskRef(pub(crate) Arc<Task>);

impl Clone for TaskRef {
    fn clone(&self) -> TaskRef {
        self.0.acquire()
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.0.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
            let message = self.0.release();
            if message.is_some() {
                // Inside `drop_all` the panic goes to whoever called it;
                // otherwise this is the user's own drop of a handle.
                let kept = DROP_PANIC
                    .try_with(|p| {
                        let mut p = p.borrow_mut();
                        match p.as_mut() {
                            Some(slot) => {
                                slot.get_or_insert_with(|| message.clone().unwrap_or_default());
                                true
                            }
                            None => false,
                        }
                    })
                    .unwrap_or(false);
                if !kept {
                    reraise(message);
                }
            }
        }
    }
}

thread_local! {
    /// References whose drop is pending while another release runs on this
    /// thread: releasing a long chain would otherwise recurse once per link.
    static DEFERRED: RefCell<Option<Vec<TaskRef>>> = const { RefCell::new(None) };
    /// While `drop_all` runs: the first panic of a user `Drop` it met.
    static DROP_PANIC: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Drops references without recursing through chains of inputs. A panic in
/// a user `Drop` on the way is caught (the rest are dropped all the same)
/// and the first one's message returned.
pub(crate) fn drop_all(refs: Vec<TaskRef>) -> Option<String> {
    if refs.is_empty() {
        return None;
    }
    let mut refs = Some(refs);
    let outer = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        match d.as_mut() {
            Some(pending) => {
                pending.extend(refs.take().unwrap_or_default());
                false
            }
            None => {
                *d = Some(Vec::new());
                true
            }
        }
    });
    if !outer {
        return None;
    }
    DROP_PANIC.with(|p| *p.borrow_mut() = Some(None));
    let mut batch = refs.unwrap_or_default();
    loop {
        // Each drop may push more into DEFERRED (no borrow is held here).
        for r in batch.drain(..) {
            drop(r);
        }
        batch = DEFERRED.with(|d| {
            d.borrow_mut()
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        });
        if batch.is_empty() {
            break;
        }
    }
    DEFERRED.with(|d| *d.borrow_mut() = None);
    DROP_PANIC.with(|p| p.borrow_mut().take().flatten())
}
