//! Aggregations of a whole frame: [`Agg`] (what to compute), `agg`,
//! `reduce`, the per-column shortcuts (`sum`, `mean`, ...), `describe` and
//! `value_counts`.
//!
//! Every aggregation, of a whole frame or of `groupby(..)`, is one tree
//! of tasks without a shuffle, built in one place (`tree.rs`,
//! [`HashAggregate`](tree::HashAggregate)); a whole-frame aggregation is a
//! grouped one with no key column, so
//! [`GroupBy::agg`](super::GroupBy::agg) shares all of it:
//!
//! - `<op>-chunk-N`, one task per partition: streams the partition's
//!   batches (only the key and input columns are read: projection
//!   pushdown), drops rows with a null key (pandas' `dropna=True`), maps
//!   keys to group indices with a [`Grouper`] and feeds the
//!   [accumulators](super::accumulate). Its result is the *partial*: a
//!   record batch of the distinct keys and the state columns, one row per
//!   group — or, with `split_out = n`, `n` such batches, the groups routed
//!   by the hash of their key.
//! - `<op>-combine-N`: trees whose tasks merge at most `split_every`
//!   partials (grouping the partials' keys again and merging states) into
//!   one.
//! - `<op>-N`: the root merges the last partials, finishes the
//!   accumulators and sorts the rows by the keys.
//!
//! What to compute is an [`Agg`] (`agg.rs`); the whole-frame methods
//! (`agg`, `reduce`, `sum`, ..., `describe`, `value_counts`) are in
//! `frame.rs`; keys become dense group indices in `grouper.rs`; the typed
//! per-group states are the accumulators of `accumulate/`.
//!
//! Semantics follow pandas where Arrow leaves a choice:
//! - Nulls are skipped. A column (group) without a non-null value has sum
//!   0, count 0, nunique 0, and null mean, min, max, var, std and
//!   quantiles.
//! - Sums of signed integers are `Int64`, of unsigned integers `UInt64`
//!   (both wrap around on overflow, as NumPy and Polars), of floats
//!   `Float64`. Means, variances, standard deviations and quantiles are
//!   `Float64`; counts, sizes and nunique `Int64`; min and max keep the
//!   column's type.
//! - `var`/`std` use `ddof = 1` (a group of one value gives null).
//! - NaN is a value, not a null (Arrow and Polars): it propagates through
//!   sums, means and variances; in min and max it compares above every
//!   number (Arrow's total order), so it is the max of a column that has
//!   one; `nunique` counts it once (and `-0.0` as `0.0`).

mod accumulate;
mod agg;
mod frame;
mod grouper;
mod tree;

pub use agg::Agg;
pub use frame::Reductions;
pub use tree::DEFAULT_SPLIT_EVERY;

pub(crate) use accumulate::Func;
pub(crate) use agg::{bind_all, per_column};
pub(crate) use tree::{Bound, HashAggregate, Shape};
