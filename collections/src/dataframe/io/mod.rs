//! Reading and writing frames: CSV and Parquet.

mod csv;
mod parquet;
mod unquoted;

pub use self::csv::*;
pub use self::parquet::*;
