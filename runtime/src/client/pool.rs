//! The client's worker threads and their ready queue.
//!
//! One queue behind a mutex, held only to push or pop, ordered by when the
//! tasks were made: the earliest ready task runs first. For submitted
//! functions that is submission order; for a computed graph (whose tasks are
//! made in the graph's depth-first order) a combine task made ready runs
//! before the leaves of the next subtree, so subtrees finish before others
//! open and partial results are freed early, as with the schedulers. A
//! worker that finishes a task runs the earliest dependent it made ready
//! itself (no trip through the queue for chains) and queues the rest.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread::{JoinHandle, Thread};
use std::time::Instant;

use super::state::{Task, TaskRef, Waiter};
use super::OnDrop;
use crate::task::{catch_panic, lock};
use crate::Error;

thread_local! {
    /// The pool whose worker this thread is: a task that waits for a
    /// future runs the pool's other ready tasks meanwhile.
    static WORKER_OF: RefCell<Weak<Pool>> = const { RefCell::new(Weak::new()) };
}

/// The pool of the client worker running on this thread, if it is one.
pub(crate) fn current() -> Option<Arc<Pool>> {
    WORKER_OF.try_with(|w| w.borrow().upgrade()).ok().flatten()
}

const RUNNING: u8 = 0;
const DRAINING: u8 = 1;
const CANCELLING: u8 = 2;

/// The ready tasks, earliest made first. Submissions arrive in order and
/// go to the back in O(1); a task made ready out of order (a second
/// reader of a finished task) is inserted where it belongs, near the front
/// (only the shorter side of the deque moves).
#[derive(Default)]
struct Ready(VecDeque<(u64, Arc<Task>)>);

impl Ready {
    fn push(&mut self, task: Arc<Task>) {
        let seq = task.seq;
        match self.0.back() {
            Some(&(last, _)) if last > seq => {
                let at = self.0.partition_point(|&(s, _)| s < seq);
                self.0.insert(at, (seq, task));
            }
            _ => self.0.push_back((seq, task)),
        }
    }

    fn pop(&mut self) -> Option<Arc<Task>> {
        self.0.pop_front().map(|(_, t)| t)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

struct Queue {
    tasks: Ready,
    /// Workers asleep on the condition variable.
    sleeping: usize,
    /// Workers running a task (which may make more tasks ready).
    active: usize,
    /// Workers waiting inside a task for a future, with nothing to run:
    /// unparked by every push, as they are not on the condition variable.
    helpers: Vec<(u64, Thread)>,
}

impl Queue {
    fn wake_helpers(&self) {
        for (_, t) in &self.helpers {
            t.unpark();
        }
    }
}

pub(crate) struct Pool {
    queue: Mutex<Queue>,
    cond: Condvar,
    mode: AtomicU8,
    /// The queue's length, readable without the lock (by spinning workers).
    len: AtomicUsize,
    /// Workers looking for work without sleeping: a push need not wake anyone.
    spinning: AtomicUsize,
}

/// How long an idle worker keeps looking before it sleeps: a few spins,
/// then yields. Waking a sleeping thread costs a system call on both sides,
/// more than a tiny task; a submitter usually pushes again within this time.
const SPINS: u32 = 64;

impl Pool {
    pub(crate) fn new() -> Pool {
        Pool {
            queue: Mutex::new(Queue {
                tasks: Ready::default(),
                sleeping: 0,
                active: 0,
                helpers: Vec::new(),
            }),
            cond: Condvar::new(),
            mode: AtomicU8::new(RUNNING),
            len: AtomicUsize::new(0),
            spinning: AtomicUsize::new(0),
        }
    }

    pub(crate) fn push(&self, task: Arc<Task>) {
        let mut q = lock(&self.queue);
        q.tasks.push(task);
        self.len.store(q.tasks.len(), Ordering::Release);
        if q.sleeping > 0 && self.spinning.load(Ordering::Acquire) == 0 {
            self.cond.notify_one();
        }
        q.wake_helpers();
    }

    pub(crate) fn push_many(&self, tasks: impl IntoIterator<Item = Arc<Task>>) {
        let mut q = lock(&self.queue);
        let before = q.tasks.len();
        for t in tasks {
            q.tasks.push(t);
        }
        let added = q.tasks.len() - before;
        self.len.store(q.tasks.len(), Ordering::Release);
        if added == 1 && q.sleeping > 0 && self.spinning.load(Ordering::Acquire) == 0 {
            self.cond.notify_one();
        } else if added > 1 && q.sleeping > 0 {
            self.cond.notify_all();
        }
        if added > 0 {
            q.wake_helpers();
        }
    }

    /// Starts `n` worker threads on this pool.
    pub(crate) fn spawn(self: &Arc<Pool>, n: usize) -> Result<Vec<JoinHandle<()>>, Error> {
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            let pool = self.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("dagwood-client-{i}"))
                .spawn(move || {
                    crate::diagnostics::set_client_worker(i);
                    WORKER_OF.with(|w| *w.borrow_mut() = Arc::downgrade(&pool));
                    pool.work()
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    // Do not leave the ones already started behind.
                    self.shut_down(OnDrop::Cancel);
                    for h in handles {
                        let _ = h.join();
                    }
                    return Err(Error::ThreadPool {
                        threads: n,
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(handles)
    }

    /// Tells the workers to stop once the queue is empty (`Wait`), or to
    /// cancel what is queued instead of running it (`Cancel`).
    pub(crate) fn shut_down(&self, how: OnDrop) {
        let mode = match how {
            OnDrop::Wait => DRAINING,
            OnDrop::Cancel => CANCELLING,
        };
        self.mode.store(mode, Ordering::Release);
        let _q = lock(&self.queue);
        self.cond.notify_all();
    }

    /// Looks for work for a while without sleeping; true if some appeared.
    fn spin(&self) -> bool {
        self.spinning.fetch_add(1, Ordering::AcqRel);
        let mut found = false;
        for i in 0..SPINS {
            if self.len.load(Ordering::Acquire) > 0 || self.mode.load(Ordering::Acquire) != RUNNING
            {
                found = true;
                break;
            }
            if i < SPINS / 4 {
                for _ in 0..64 {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
        }
        self.spinning.fetch_sub(1, Ordering::AcqRel);
        found
    }

    fn work(&self) {
        let mut q = lock(&self.queue);
        let mut spun = false;
        loop {
            let Some(task) = q.tasks.pop() else {
                if self.mode.load(Ordering::Acquire) != RUNNING && q.active == 0 {
                    // Nothing queued and nothing running that could queue more.
                    self.cond.notify_all();
                    return;
                }
                if !spun {
                    drop(q);
                    spun = true;
                    self.spin();
                    q = lock(&self.queue);
                    continue;
                }
                q.sleeping += 1;
                q = self.cond.wait(q).unwrap_or_else(PoisonError::into_inner);
                q.sleeping -= 1;
                spun = false;
                continue;
            };
            self.len.store(q.tasks.len(), Ordering::Release);
            // Pushes skip the wake-up while a worker spins: pass it on when
            // more work is waiting, or a long task would hold it up.
            if !q.tasks.is_empty() && q.sleeping > 0 {
                self.cond.notify_one();
            }
            spun = false;
            q.active += 1;
            drop(q);
            self.run_chain(task);
            q = lock(&self.queue);
            q.active -= 1;
        }
    }

    /// Runs `task`, then (depth first) the earliest dependent each run makes
    /// ready, queueing the others.
    fn run_chain(&self, task: Arc<Task>) {
        let mut next = Some(task);
        while let Some(task) = next.take() {
            if self.mode.load(Ordering::Acquire) == CANCELLING {
                task.cancel();
                continue;
            }
            // Every user call inside `run` is caught already; this catch
            // keeps the worker (and the task's waiters) alive should
            // anything else panic.
            let mut ready = catch_panic(|| task.run()).unwrap_or_else(|e| {
                catch_panic(|| task.abandon(e.to_string())).unwrap_or_default()
            });
            next = ready
                .iter()
                .enumerate()
                .min_by_key(|(_, t)| t.seq)
                .map(|(i, _)| i)
                .map(|i| ready.swap_remove(i));
            if !ready.is_empty() {
                self.push_many(ready);
            }
        }
    }

    /// Waits, inside a task running on one of this pool's workers, until
    /// `task` is done or the deadline passes (true if done), running the
    /// pool's ready tasks meanwhile, as rayon's `join` does: a task that
    /// waits for a future queued after it (or not submitted yet) does not
    /// hold its worker, so even one worker cannot deadlock on it.
    pub(crate) fn help_until(&self, task: &TaskRef, deadline: Option<Instant>) -> bool {
        let token = super::state::next_token();
        let me = std::thread::current();
        if task.0.add_waiter(Waiter::Thread(me.clone(), token)) {
            return true;
        }
        let mut helping = false;
        let done = loop {
            if task.0.is_done() {
                break true;
            }
            let next = {
                let mut q = lock(&self.queue);
                let next = q.tasks.pop();
                self.len.store(q.tasks.len(), Ordering::Release);
                if next.is_none() && !helping {
                    // Registered under the queue's lock: a push after this
                    // look unparks this thread.
                    q.helpers.push((token, me.clone()));
                    helping = true;
                }
                next
            };
            match (next, deadline) {
                (Some(t), _) => self.run_chain(t),
                (None, None) => std::thread::park(),
                (None, Some(d)) => {
                    let now = Instant::now();
                    if now >= d {
                        break task.0.is_done();
                    }
                    std::thread::park_timeout(d - now);
                }
            }
        };
        if helping {
            lock(&self.queue).helpers.retain(|(t, _)| *t != token);
        }
        if !done {
            task.0.remove_waiter(token);
        }
        done
    }
}
