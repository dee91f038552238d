//! Task names and keys, and the table that lets identical pure calls share
//! one task (Dask's `submit(..., pure=True)`).

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, Weak};

use super::state::{Task, TaskRef};
use crate::task::lock;
use crate::Key;

/// The readable name of a function: `inc` for a function item `crate::inc`,
/// `lambda` for a closure (as Dask names them).
pub(crate) fn name_of<F>() -> &'static str {
    let full: &'static str = std::any::type_name::<F>();
    // Generic arguments may hold paths of their own: look before them only.
    let path = &full[..full.find('<').unwrap_or(full.len())];
    match path.rsplit("::").next() {
        Some(last) if last.starts_with("{{") => "lambda",
        Some(last) if !last.is_empty() && !last.contains(' ') && !last.contains('(') => last,
        _ => "task",
    }
}

/// The key of a pure call: the function's name and a hash of the function's
/// type and the arguments (futures hash by key).
pub(crate) fn pure_key<F: 'static, A: Hash>(args: &A) -> Key {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    TypeId::of::<F>().hash(&mut h);
    args.hash(&mut h);
    Key::new(name_of::<F>()).with_index(h.finish())
}

/// A task made for the table, with the inputs it is still to be registered with.
pub(crate) type NewTask = (Arc<Task>, Vec<TaskRef>);

/// Pure tasks by key. Entries are weak: a task leaves when its last
/// reference goes (dead entries are swept as the table grows).
#[derive(Default)]
pub(crate) struct Dedup {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    tasks: HashMap<Key, Weak<Task>>,
    /// Size after the last sweep: sweep again when it doubles.
    swept: usize,
}

impl Dedup {
    /// A new reference to the live task under `key`; or else the task
    /// `make` builds, entered under `key` and returned with its inputs for
    /// the caller to register.
    pub(crate) fn get_or_insert(
        &self,
        key: &Key,
        make: impl FnOnce() -> (Arc<Task>, TaskRef, Vec<TaskRef>),
    ) -> (TaskRef, Option<NewTask>) {
        let mut t = lock(&self.table);
        if let Some(existing) = t.tasks.get(key).and_then(Weak::upgrade) {
            // A cancelled call runs again when submitted again.
            if !existing.is_cancelled() {
                if let Some(r) = existing.try_acquire() {
                    return (r, None);
                }
            }
        }
        let (task, r, inputs) = make();
        t.tasks.insert(key.clone(), Arc::downgrade(&task));
        if t.tasks.len() > 2 * t.swept.max(512) {
            t.tasks
                .retain(|_, w| w.upgrade().is_some_and(|task| task.is_held()));
            t.swept = t.tasks.len();
        }
        (r, Some((task, inputs)))
    }
}
