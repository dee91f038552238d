//! The collections as [`Computable`]s: `compute_all((&array, &bag))`, and a
//! futures [`Client`](dagwood_runtime::client::Client)'s `compute(frame)`,
//! take them like [`Delayed`] handles. Each asks for its partitions'
//! tasks and assembles its result from their values, as its own
//! `compute` does.
//!
//! ```
//! # #[cfg(all(feature = "array", feature = "bag"))] {
//! use dagwood_collections::array::Array;
//! use dagwood_collections::bag::Bag;
//! use dagwood_runtime::compute_all;
//! let x = Array::<f64>::ones(&[4, 4], &[2, 2]).unwrap();
//! let b = Bag::from_sequence(vec![1, 2, 3], 2).unwrap();
//! let (x, b) = compute_all((&x, &b)).unwrap();
//! assert_eq!(x.sum(), 16.0);
//! assert_eq!(b, vec![1, 2, 3]);
//! # }
//! ```

use dagwood_runtime::{Computable, Error, Outputs, Results};

fn collection_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Collection(Box::new(e))
}

#[cfg(feature = "array")]
/// An array whose graph cannot be built (an operation on bad operands)
/// asks for no task; its extraction reports the error before anything
/// after it is taken.
impl<T: crate::array::Element> Computable for crate::array::Array<T> {
    type Output = ndarray::ArrayD<T>;

    fn collect(&self, out: &mut Outputs) {
        if let Ok(blocks) = self.to_delayed() {
            blocks.collect(out)
        }
    }

    fn extract(&self, results: &mut Results) -> dagwood_runtime::Result<ndarray::ArrayD<T>> {
        let blocks = self.to_delayed().map_err(collection_error)?;
        let parts = blocks.extract(results)?;
        self.assemble(parts).map_err(collection_error)
    }
}

#[cfg(feature = "bag")]
impl<T: Clone + Send + Sync + 'static> Computable for crate::bag::Bag<T> {
    type Output = Vec<T>;

    fn collect(&self, out: &mut Outputs) {
        self.to_delayed().collect(out)
    }

    fn extract(&self, results: &mut Results) -> dagwood_runtime::Result<Vec<T>> {
        let parts = self.to_delayed().extract(results)?;
        Ok(parts.into_iter().flatten().collect())
    }
}

#[cfg(feature = "dataframe")]
impl Computable for crate::dataframe::DataFrame {
    type Output = arrow_array::RecordBatch;

    fn collect(&self, out: &mut Outputs) {
        self.to_delayed().collect(out)
    }

    fn extract(&self, results: &mut Results) -> dagwood_runtime::Result<arrow_array::RecordBatch> {
        let parts: Vec<arrow_array::RecordBatch> = self.to_delayed().extract(results)?;
        self.assemble(&parts).map_err(collection_error)
    }
}
