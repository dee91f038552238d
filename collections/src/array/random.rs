//! Seeded random arrays (Dask's `dask.array.random`).
//!
//! Each block is drawn by its own task from a generator seeded by the seed and
//! the block's flat (C-order) number alone. No state is shared between
//! tasks, so the values do not depend on the scheduler, the number of
//! threads or the order blocks run in: the same seed, shape and chunks give
//! the same array every time. Other chunks give other (equally random)
//! values, as in Dask.

use std::sync::Arc;

use dagwood_runtime::{TaskBuilder, TaskError};
use ndarray::{ArrayD, IxDyn};
use rand_distr::{Distribution, Normal, Uniform};
use rand_pcg::Pcg64;

use super::{layer_name, Array, ArrayError, Chunks, Element, Float, Result};

/// SplitMix64's finaliser: a bijection on `u64` that spreads every input bit
/// over the whole output, so nearby seeds and block numbers give unrelated
/// generator states.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator of block number `flat` of an array seeded with `seed`.
///
/// Both the 128-bit state and the stream come from hashing (seed, block), so
/// neighbouring blocks neither share a stream nor start at nearby states.
fn block_rng(seed: u64, flat: u64) -> Pcg64 {
    const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
    let s = mix(seed ^ GOLDEN);
    let b = mix(flat.wrapping_add(GOLDEN));
    let words: [u64; 4] =
        std::array::from_fn(|k| mix(s ^ mix(b.wrapping_add((k as u64 + 1).wrapping_mul(GOLDEN)))));
    let state = (u128::from(words[0]) << 64) | u128::from(words[1]);
    let stream = (u128::from(words[2]) << 64) | u128::from(words[3]);
    Pcg64::new(state, stream)
}

/// An array of `shape` in blocks of `chunk` whose every block is filled by
/// `draw` from that block's own generator, in C order.
fn random_blocks<T: Element>(
    op: &'static str,
    shape: &[usize],
    chunk: &[usize],
    seed: u64,
    draw: impl Fn(&mut Pcg64) -> T + Send + Sync + 'static,
) -> Result<Array<T>> {
    let chunks = Chunks::regular(shape, chunk)?;
    let draw = Arc::new(draw);
    let name = layer_name(op);
    let blocks = chunks
        .indices()
        .enumerate()
        .map(|(flat, idx)| {
            let key = super::block_key(&name, &idx);
            let block_shape = chunks.block_shape(&idx);
            let draw = draw.clone();
            TaskBuilder::new(op)
                .key(key)
                .recomputable()
                .build(move |_| {
                    // Seeded inside the task: re-running the graph redraws the same values.
                    let mut rng = block_rng(seed, flat as u64);
                    let n = block_shape.iter().product();
                    let values: Vec<T> = (0..n).map(|_| draw(&mut rng)).collect();
                    ArrayD::from_shape_vec(IxDyn(&block_shape), values)
                        .map_err(|e| TaskError::failed(e.to_string()))
                })
        })
        .collect();
    Array::from_blocks(shape, chunks, blocks)
}

impl<T: Float> Array<T> {
    /// Samples of the normal distribution with `mean` and standard deviation
    /// `std`, in blocks of `chunk` elements per axis (0 = the whole axis).
    ///
    /// Each block is drawn by its own task from a PCG generator seeded by
    /// `seed` and the block's number, so the result depends only on `seed`,
    /// `shape` and `chunk`, never on the scheduler. `std` must be finite and
    /// non-negative and `mean` finite ([`ArrayError::Invalid`] otherwise).
    /// `f32` arrays are drawn in `f64` and rounded.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::random_normal(&[200, 300], &[100, 100], 5.0, 2.0, 42).unwrap();
    /// let a = x.compute().unwrap();
    /// assert_eq!(a, x.compute().unwrap());               // same seed, same values
    /// let mean = a.sum() / a.len() as f64;
    /// assert!((mean - 5.0).abs() < 0.05);
    /// ```
    pub fn random_normal(
        shape: &[usize],
        chunk: &[usize],
        mean: T,
        std: T,
        seed: u64,
    ) -> Result<Array<T>> {
        let (m, s) = (mean.to_f64(), std.to_f64());
        if !m.is_finite() || !s.is_finite() || s < 0.0 {
            return Err(ArrayError::Invalid(format!(
                "random_normal: mean must be finite and std finite and >= 0, got mean = {m}, std = {s}"
            )));
        }
        let normal = Normal::new(m, s).map_err(|e| {
            ArrayError::Invalid(format!("random_normal(mean = {m}, std = {s}): {e}"))
        })?;
        random_blocks("random_normal", shape, chunk, seed, move |rng| {
            T::from_f64(normal.sample(rng))
        })
    }

    /// Samples of the uniform distribution over `[low, high)`, in blocks of
    /// `chunk` elements per axis (0 = the whole axis).
    ///
    /// Seeded per block like [`random_normal`](Array::random_normal). `low`
    /// and `high` must be finite with `low < high` ([`ArrayError::Invalid`]
    /// otherwise). Every value is strictly below `high`, even where rounding
    /// would have given `high` itself.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f32>::random_uniform(&[1000], &[256], -1.0, 1.0, 7).unwrap();
    /// let a = x.compute().unwrap();
    /// assert!(a.iter().all(|&v| (-1.0..1.0).contains(&v)));
    /// assert!(Array::<f32>::random_uniform(&[10], &[5], 1.0, 1.0, 7).is_err()); // empty range
    /// ```
    pub fn random_uniform(
        shape: &[usize],
        chunk: &[usize],
        low: T,
        high: T,
        seed: u64,
    ) -> Result<Array<T>> {
        let (l, h) = (low.to_f64(), high.to_f64());
        if !l.is_finite() || !h.is_finite() || l >= h || !(h - l).is_finite() {
            return Err(ArrayError::Invalid(format!(
                "random_uniform: need finite low < high with a finite width, got low = {l}, high = {h}"
            )));
        }
        let uniform = Uniform::new(l, h).map_err(|e| {
            ArrayError::Invalid(format!("random_uniform(low = {l}, high = {h}): {e}"))
        })?;
        random_blocks("random_uniform", shape, chunk, seed, move |rng| loop {
            // Rounding (in rand's scaling, or from f64 to f32) can land on
            // `high`; drawing again keeps the interval half-open. The redraw
            // comes from the block's own generator, so it stays reproducible.
            let v = T::from_f64(uniform.sample(rng));
            if v < high {
                return v;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_generators_differ_by_seed_and_block() {
        use rand::Rng;
        let first = |seed, flat| block_rng(seed, flat).next_u64();
        assert_eq!(first(1, 0), first(1, 0));
        assert_ne!(first(1, 0), first(1, 1));
        assert_ne!(first(1, 0), first(2, 0));
        // Swapping seed and block must not give the same generator.
        assert_ne!(first(3, 5), first(5, 3));
    }
}
