//! Task keys of the collections' layers: a unique layer name per operation
//! (`add-17`), and the key of one block or partition of it
//! (`("add-17", 0, 1)`, `("map-17", 3)`), shared by arrays, bags, frames
//! and the shuffles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dagwood_runtime::Key;

/// A unique suffix for layer names, so keys of different layers never clash.
pub(crate) fn token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A layer name like `add-17`: the operation plus a unique number.
pub(crate) fn layer_name(op: &str) -> Arc<str> {
    format!("{op}-{}", token()).into()
}

/// The key of one block of a layer: `("add-17", i, j)`.
pub(crate) fn block_key(layer: &Arc<str>, idx: &[usize]) -> Key {
    let idx: smallvec::SmallVec<[u64; 4]> = idx.iter().map(|&i| i as u64).collect();
    Key::from_name(layer.clone()).with_indices(&idx)
}

/// The key of partition `i` of a layer: `("map-17", i)`.
pub(crate) fn part_key(layer: &Arc<str>, i: usize) -> Key {
    Key::from_name(layer.clone()).with_index(i as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_keys_show_their_indices() {
        let (a, b) = (layer_name("add"), layer_name("add"));
        assert_ne!(a, b);
        assert!(a.starts_with("add-"));
        assert_eq!(
            block_key(&a, &[0, 1]).to_string(),
            format!("(\"{a}\", 0, 1)")
        );
        assert_eq!(part_key(&b, 3).to_string(), format!("(\"{b}\", 3)"));
    }
}
