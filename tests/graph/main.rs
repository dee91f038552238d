//! The macros' tests: `graph!` (results, exact starts, fan-out, collections
//! as values, panics) and `#[delayed]`.
//!
//! One test binary (each file a module): every binary of the facade links
//! all the collections, so fewer binaries build faster and take less disk.

mod basics;
mod collections;
mod delayed;
mod exact;
mod fan_out;
mod panics;
