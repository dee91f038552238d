//! Diagnostics: callbacks into every computation, and what is built on them.

mod callback;

pub use callback::{register_global, scoped_callback, Callback, GlobalCallback, ScopedCallback, TaskEvent};

pub(crate) use callback::{observe, Hooks};
