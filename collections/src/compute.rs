//! The collections as [`Computable`]s: `compute_all((&array, &bag))`, and a
//! futures [`Client`](dagwood_runtime::client::Client)'s `compute(frame)`,
//! take them like [`Delayed`] handles. Each asks for its partitions'
//! tasks and assembles its result from their values, as its own
//! `compute` does.
//!
//! ```
//! use dagwood_collections::array::Array;
//! use dagwood_collections::bag::Bag;
//! use dagwood_runtime::compute_all;
//! let x = Array::<f64>::ones(&[4, 4], &[2, 2]).unwrap();
//! let b = Bag::from_sequence(vec![1, 2, 3], 2).unwrap();
//! let (x, b) = compute_all((&x, &b)).unwrap();
//! assert_eq!(x.sum(), 16.0);
//! assert_eq!(b, vec![1, 2, 3]);
//! ```

use arrow_array::RecordBatch;
use dagwood_runtime::{Computable, Error, Outputs, Results};
use ndarray::ArrayD;

use crate::array::{Array, Element};
use crate::bag::Bag;
use crate::dataframe::DataFrame;

fn collection_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Collection(Box::new(e))
}

/// An array whose graph cannot be built (an operation on bad operands)
/// asks for no task; its extraction reports the error before anything
/// after it is taken.
impl<T: Element> Computable for Array<T> {
    type Output = ArrayD<T>;

    fn collect(&self, out: &mut Outputs) {
        if let Ok(blocks) = self.to_delayed() {
            blocks.collect(out)
        }
    }

    fn extract(&self, results: &mut Results) -> dagwood_runtime::Result<ArrayD<T>> {
        let blocks = self.to_delayed().map_err(collection_error)?;
        let parts = blocks.extract(results)?;
        self.assemble(parts).map_err(collection_error)
    }
}

impl<T: Clone + Send + Sync + 'static> Computable for Bag<T> {
    type Output = Vec<T>;

    fn collect(&self, out: &mut Outputs) {
        self.to_delayed().collect(out)
    }

    fn extract(&self, results: &mut Results) -> dagwood_runtime::Result<Vec<T>> {
        let parts = self.to_delayed().extract(results)?;
        Ok(parts.into_iter().flatten().collect())
    }
}

impl Computable for DataFrame {
    type Output = RecordBatch;

    fn collect(&self, out: &mut Outputs) {
        self.to_delayed().collect(out)
    }

    fn extract(&self, results: &mut Results) -> dagwood_runtime::Result<RecordBatch> {
        let parts: Vec<RecordBatch> = self.to_delayed().extract(results)?;
        self.assemble(&parts).map_err(collection_error)
    }
}
