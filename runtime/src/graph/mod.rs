//! Dynamic graphs: typed handles to the nodes of a persistent DAG.

pub(crate) mod delayed;
pub(crate) mod hints;
pub(crate) mod node;
pub(crate) mod reduce;
