//! Blockwise fusion: consecutive elementwise operations with the same
//! chunking become one task per block, evaluated over cache-sized tiles.

pub(crate) mod expr;
pub(crate) mod leaf;
pub(crate) mod program;
