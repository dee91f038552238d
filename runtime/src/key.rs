//! Task keys: the readable names that errors, progress bars and graph pictures show.

use std::fmt;
use std::sync::Arc;

/// The name part of a [`Key`]: a static string (free to copy) or a shared one.
#[derive(Clone)]
enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Name {
    fn as_str(&self) -> &str {
        match self {
            Name::Static(s) => s,
            Name::Shared(s) => s,
        }
    }
}

/// The index part of a [`Key`]; up to two indices (a partition, a block of
/// a matrix: the common cases) are held inline, with no allocation, in the
/// space the pointer to more would take.
#[derive(Clone)]
enum Index {
    None,
    One(u64),
    Two([u64; 2]),
    Many(Arc<[u64]>),
}

/// A task's readable name plus indices, like Dask's `("inc", 3)` or
/// `("fractal-run", 1, 2)`.
///
/// ```
/// use dagwood_runtime::Key;
/// let k = Key::new("fractal-run").with_indices(&[1, 2]);
/// assert_eq!(k.to_string(), r#"("fractal-run", 1, 2)"#);
/// assert_eq!(k.name(), "fractal-run");
/// assert_eq!(Key::new("load").to_string(), "load");
/// ```
#[derive(Clone)]
pub struct Key {
    name: Name,
    index: Index,
}

impl Key {
    /// A key with a static name and no indices.
    pub const fn new(name: &'static str) -> Key {
        Key {
            name: Name::Static(name),
            index: Index::None,
        }
    }

    /// A key with an owned name (for names built at run time).
    pub fn from_name(name: impl Into<Arc<str>>) -> Key {
        Key {
            name: Name::Shared(name.into()),
            index: Index::None,
        }
    }

    /// The same name with one index.
    pub fn with_index(mut self, i: u64) -> Key {
        self.index = Index::One(i);
        self
    }

    /// The same name with several indices.
    pub fn with_indices(mut self, idx: &[u64]) -> Key {
        self.index = match idx {
            [] => Index::None,
            [i] => Index::One(*i),
            [i, j] => Index::Two([*i, *j]),
            many => Index::Many(many.into()),
        };
        self
    }

    /// The name part, which groups tasks of one operation (for colours and layers).
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The indices part.
    pub fn indices(&self) -> &[u64] {
        match &self.index {
            Index::None => &[],
            Index::One(i) => std::slice::from_ref(i),
            Index::Two(ij) => ij,
            Index::Many(v) => v,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idx = self.indices();
        if idx.is_empty() {
            return f.write_str(self.name());
        }
        write!(f, "({:?}", self.name())?;
        for i in idx {
            write!(f, ", {i}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.name() == other.name() && self.indices() == other.indices()
    }
}

impl Eq for Key {}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
        self.indices().hash(state);
    }
}

impl From<&'static str> for Key {
    fn from(name: &'static str) -> Key {
        Key::new(name)
    }
}

impl From<String> for Key {
    fn from(name: String) -> Key {
        Key::from_name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_of_any_count_round_trip_and_compare() {
        for n in 0..5u64 {
            let idx: Vec<u64> = (0..n).map(|i| i * 7 + 1).collect();
            let k = Key::new("blk").with_indices(&idx);
            assert_eq!(k.indices(), &idx[..]);
            assert_eq!(k.clone(), k);
            assert_ne!(k, Key::new("blk").with_indices(&[99]));
        }
        assert_eq!(
            Key::new("a").with_index(3),
            Key::new("a").with_indices(&[3])
        );
        assert_eq!(
            Key::new("add-1").with_indices(&[0, 1]).to_string(),
            r#"("add-1", 0, 1)"#
        );
        // Two inline indices take no more room than the pointer to many.
        assert!(std::mem::size_of::<Key>() <= 48);
    }
}
