//! Task names and keys, and the table that lets identical pure calls share
//! one task (Dask's `submit(..., pure=True)`).

use std::any::TypeId;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
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

/// The key of a pure call: the function's name and a 128-bit token of the
/// function's type and the arguments (futures hash by key), as two indices.
///
/// The token is two SipHash-1-3 digests of the same `Hash` stream, each
/// started from its own prefix: two different calls share a task only if
/// both 64-bit halves collide (about one chance in 2^64 after 2^32 distinct
/// calls, against one in two for a single 64-bit hash). Its scope is one
/// process: the function's `TypeId` is not stable between builds. It sees
/// what the arguments' `Hash` feeds it, so a `Hash` impl that skips a field
/// makes calls differing only in that field one task.
pub(crate) fn pure_key<F: 'static, A: Hash>(args: &A) -> Key {
    let mut h = Tee::default();
    TypeId::of::<F>().hash(&mut h);
    args.hash(&mut h);
    let (a, b) = h.finish128();
    Key::new(name_of::<F>()).with_indices(&[a, b])
}

/// Feeds every write to two hashers whose states start apart.
struct Tee(DefaultHasher, DefaultHasher);

impl Default for Tee {
    fn default() -> Tee {
        let mut a = DefaultHasher::new();
        let mut b = DefaultHasher::new();
        a.write(b"dagwood-pure-key-a");
        b.write(b"dagwood-pure-key-b");
        Tee(a, b)
    }
}

impl Tee {
    fn finish128(&self) -> (u64, u64) {
        (self.0.finish(), self.1.finish())
    }
}

impl Hasher for Tee {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
        self.1.write(bytes);
    }

    fn finish(&self) -> u64 {
        self.0.finish() ^ self.1.finish().rotate_left(32)
    }
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

#[cfg(test)]
mod tests {
    use super::pure_key;

    #[test]
    fn pure_keys_carry_a_128_bit_token() {
        let k = pure_key::<fn(u64) -> u64, u64>(&7);
        assert_eq!(k.indices().len(), 2, "{k}");
        assert_eq!(k, pure_key::<fn(u64) -> u64, u64>(&7));
        // The halves are not one hash repeated or shifted.
        let [a, b] = [k.indices()[0], k.indices()[1]];
        assert_ne!(a, b);
    }

    #[test]
    fn distinct_calls_get_distinct_tokens() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000u64 {
            assert!(seen.insert(pure_key::<fn(u64) -> u64, u64>(&i).indices().to_vec()));
        }
        // The function's type is part of the token.
        assert_ne!(
            pure_key::<[u8; 1], u64>(&3).indices(),
            pure_key::<[u8; 2], u64>(&3).indices()
        );
    }
}
