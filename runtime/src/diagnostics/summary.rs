//! A graph summarised by layer: one layer per key name (one collection
//! operation or function) with its task count, and the edges between
//! layers. `visualize` draws this picture for large graphs; callbacks that
//! [want it](super::Callback::wants_graph) get it when a computation starts.

use std::collections::{HashMap, HashSet};

use crate::Key;

/// One layer of a [`GraphSummary`]: the tasks whose keys share a name.
///
/// ```
/// use dagwood_runtime::diagnostics::GraphSummary;
/// use dagwood_runtime::Key;
/// let keys = [Key::new("load").with_index(0), Key::new("load").with_index(1), Key::new("sum")];
/// let s = GraphSummary::from_tasks(keys.iter().map(|k| (k, k.name() == "sum")), [(0, 2), (1, 2)]);
/// assert_eq!((s.layers[0].name.as_str(), s.layers[0].tasks), ("load", 2));
/// assert!(s.layers[1].output);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerSummary {
    /// The key name the layer's tasks share.
    pub name: String,
    /// How many tasks it has.
    pub tasks: usize,
    /// True when one of its tasks is an output of the computation.
    pub output: bool,
}

/// A computation's graph by layer, layers in order of first appearance (so
/// inputs come before the layers that use them), as given to
/// [`Callback::on_graph`](super::Callback::on_graph).
///
/// ```
/// use dagwood_runtime::diagnostics::GraphSummary;
/// use dagwood_runtime::Key;
/// let keys = [Key::new("a"), Key::new("b"), Key::new("b")];
/// let s = GraphSummary::from_tasks(keys.iter().map(|k| (k, false)), [(0, 1), (0, 2), (1, 2)]);
/// assert_eq!(s.layers.len(), 2);
/// assert_eq!(s.edges, vec![(0, 1)]); // the edge inside layer "b" is implied by its count
/// assert_eq!(s.tasks(), 3);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphSummary {
    /// The layers.
    pub layers: Vec<LayerSummary>,
    /// Edges between layers as `(from, to)` positions in `layers`, each
    /// once; edges inside a layer (the levels of a tree reduction) are left
    /// out.
    pub edges: Vec<(usize, usize)>,
}

impl GraphSummary {
    /// Summarises tasks given as `(key, is_output)` in an order where inputs
    /// come first, with edges `(input, consumer)` between task positions.
    /// Edges naming a position past the tasks are ignored.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::GraphSummary;
    /// use dagwood_runtime::Key;
    /// let k = Key::new("x");
    /// let s = GraphSummary::from_tasks([(&k, true)], [(0, 7)]);
    /// assert_eq!((s.layers.len(), s.edges.len()), (1, 0));
    /// ```
    pub fn from_tasks<'k>(
        tasks: impl IntoIterator<Item = (&'k Key, bool)>,
        edges: impl IntoIterator<Item = (usize, usize)>,
    ) -> GraphSummary {
        summarise(tasks, edges).0
    }

    /// Tasks over all layers.
    ///
    /// ```
    /// assert_eq!(dagwood_runtime::diagnostics::GraphSummary::default().tasks(), 0);
    /// ```
    pub fn tasks(&self) -> usize {
        self.layers.iter().map(|l| l.tasks).sum()
    }
}

/// The summary, and the layer of each task (for measurements per layer).
pub(crate) fn summarise<'k>(
    tasks: impl IntoIterator<Item = (&'k Key, bool)>,
    edges: impl IntoIterator<Item = (usize, usize)>,
) -> (GraphSummary, Vec<usize>) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut layers: Vec<LayerSummary> = Vec::new();
    let mut layer_of = Vec::new();
    for (key, output) in tasks {
        let l = *index.entry(key.name()).or_insert_with(|| {
            layers.push(LayerSummary {
                name: key.name().to_string(),
                tasks: 0,
                output: false,
            });
            layers.len() - 1
        });
        layers[l].tasks += 1;
        layers[l].output |= output;
        layer_of.push(l);
    }
    let mut seen = HashSet::new();
    let mut between = Vec::new();
    for (a, b) in edges {
        let (Some(&la), Some(&lb)) = (layer_of.get(a), layer_of.get(b)) else {
            continue;
        };
        if la != lb && seen.insert((la, lb)) {
            between.push((la, lb));
        }
    }
    (
        GraphSummary {
            layers,
            edges: between,
        },
        layer_of,
    )
}
