//! Reductions (placeholder while being written).
