//! The numeric aggregations of a bag: `min`, `max`, `sum`, `mean`, `var`
//! and `std`, as [`BagReductions`] and as `Bag` shortcuts. They are tree
//! reductions like the others (see `aggregate.rs`); variances merge the
//! partitions' [`Moments`].

use std::sync::Arc;

use dagwood_runtime::Delayed;
use num_traits::AsPrimitive;

use super::{layer_name, Bag, Item, Result};
use crate::stats::Moments;

use super::aggregate::{pairwise, BagReductions};

/// `x` is not comparable with itself (a float NaN).
#[allow(clippy::eq_op)]
fn incomparable<T: PartialOrd>(x: &T) -> bool {
    x.partial_cmp(x).is_none()
}

/// The smaller of `acc` and a later `x`: the first of equal minima, as
/// `Iterator::min`; a NaN-like value wins and stays, as in NumPy.
fn pick_min<T: PartialOrd>(acc: T, x: T) -> T {
    if incomparable(&acc) || !(incomparable(&x) || x < acc) {
        acc
    } else {
        x
    }
}

/// The larger of `acc` and a later `x`: the last of equal maxima, as
/// `Iterator::max`; a NaN-like value wins and stays.
fn pick_max<T: PartialOrd>(acc: T, x: T) -> T {
    if incomparable(&acc) || !(incomparable(&x) || x >= acc) {
        acc
    } else {
        x
    }
}

/// Merges two optional extremes, `a` holding the earlier items.
fn merge_opt<T>(a: Option<T>, b: Option<T>, pick: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The variance of a bag's moments as `what` (`var`, `std`) reports it.
fn bag_variance(m: Moments, ddof: f64, what: &str) -> std::result::Result<f64, String> {
    if m.n == 0.0 {
        return Err(format!("{what} of an empty bag"));
    }
    m.variance(ddof).ok_or_else(|| {
        format!(
            "{what} with ddof = {ddof} needs more than {ddof} items; the bag has {}",
            m.n
        )
    })
}

impl<T: Item + PartialOrd> BagReductions<'_, T> {
    fn extreme(&self, what: &'static str, pick: fn(T, T) -> T) -> Result<Delayed<T>> {
        let name = layer_name(what);
        let total = self.tree_items(
            &name,
            move |items, _| {
                let mut acc = None;
                items.for_each(|x| acc = merge_opt(acc.take(), Some(x), pick))?;
                Ok(acc)
            },
            pairwise(|| None, move |a, b| merge_opt(a, b, pick)),
        )?;
        Ok(Self::finish(&name, total, move |m: Option<T>| {
            m.ok_or_else(|| format!("{what} of an empty bag"))
        }))
    }

    /// The smallest item: the first of equal ones, as `Iterator::min`. A
    /// value not comparable with itself (a float NaN) is the result if there
    /// is one, as in NumPy. Computing the `min` of an empty bag is an error.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence([3.5, -1.0, 2.0], 2)?;
    /// assert_eq!(b.split_every(2).min()?.compute()?, -1.0);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn min(&self) -> Result<Delayed<T>> {
        self.extreme("min", pick_min)
    }

    /// The largest item: the last of equal ones, as `Iterator::max`; NaN-like
    /// values win as in [`min`](Self::min). Computing the `max` of an empty
    /// bag is an error.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(["pear", "apple", "plum"], 2)?;
    /// assert_eq!(b.split_every(2).max()?.compute()?, "plum");
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn max(&self) -> Result<Delayed<T>> {
        self.extreme("max", pick_max)
    }
}

impl<T: Item + std::iter::Sum<T>> BagReductions<'_, T> {
    /// Sum of the items (`Iterator::sum`); 0 for an empty bag.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=100_u64, 7)?;
    /// assert_eq!(b.split_every(2).sum()?.compute()?, 5050);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn sum(&self) -> Result<Delayed<T>> {
        let name = layer_name("sum");
        let total = self.tree(
            &name,
            |part, _| part.into_iter().sum(),
            |sums: Vec<T>| sums.into_iter().sum(),
        )?;
        Ok(Self::finish(&name, total, Ok))
    }
}

impl<T: Item + AsPrimitive<f64>> BagReductions<'_, T> {
    fn moments(&self, name: &Arc<str>) -> Result<Delayed<Moments>> {
        self.tree(
            name,
            |part, _| Moments::of(&part),
            pairwise(Moments::default, Moments::merged),
        )
    }

    /// Mean of the items as `f64`. Computing the mean of an empty bag is an
    /// error.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence(1..=4_i32, 2)?;
    /// assert_eq!(b.split_every(2).mean()?.compute()?, 2.5);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn mean(&self) -> Result<Delayed<f64>> {
        let name = layer_name("mean");
        let total = self.tree_items(
            &name,
            |items, _| {
                let (mut n, mut s) = (0, 0.0);
                items.for_each(|x| {
                    n += 1;
                    s += x.as_();
                })?;
                Ok((n, s))
            },
            |parts: Vec<(usize, f64)>| {
                parts
                    .into_iter()
                    .fold((0, 0.0), |(n, s), (m, t)| (n + m, s + t))
            },
        )?;
        Ok(Self::finish(&name, total, |(n, s): (usize, f64)| {
            if n == 0 {
                Err("mean of an empty bag".to_string())
            } else {
                Ok(s / n as f64)
            }
        }))
    }

    /// Variance of the items as `f64` with `ddof` delta degrees of freedom
    /// (0: population, 1: sample), merging per-partition moments with Chan
    /// et al.'s parallel formula. Errors when computed if the bag has no more
    /// than `ddof` items.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 3)?;
    /// assert_eq!(b.split_every(2).var(0.0)?.compute()?, 4.0);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn var(&self, ddof: f64) -> Result<Delayed<f64>> {
        let name = layer_name("var");
        let total = self.moments(&name)?;
        Ok(Self::finish(&name, total, move |m: Moments| {
            bag_variance(m, ddof, "var")
        }))
    }

    /// Standard deviation: the square root of [`var`](Self::var).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// let b = Bag::from_sequence([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 3)?;
    /// assert_eq!(b.split_every(2).std(0.0)?.compute()?, 2.0);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn std(&self, ddof: f64) -> Result<Delayed<f64>> {
        let name = layer_name("std");
        let total = self.moments(&name)?;
        Ok(Self::finish(&name, total, move |m: Moments| {
            bag_variance(m, ddof, "std").map(f64::sqrt)
        }))
    }
}

// The same aggregations directly on bags, with the default fan-in.

impl<T: Item + PartialOrd> Bag<T> {
    /// Smallest item ([`BagReductions::min`]); an error when computed on an
    /// empty bag.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// assert_eq!(Bag::from_sequence([4, -2, 9], 2)?.min()?.compute()?, -2);
    /// let empty = Bag::from_sequence(Vec::<i32>::new(), 2)?;
    /// assert!(empty.min()?.compute().unwrap_err().to_string().contains("min of an empty bag"));
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn min(&self) -> Result<Delayed<T>> {
        self.reductions().min()
    }

    /// Largest item ([`BagReductions::max`]); an error when computed on an
    /// empty bag.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// assert_eq!(Bag::from_sequence([4, -2, 9], 2)?.max()?.compute()?, 9);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn max(&self) -> Result<Delayed<T>> {
        self.reductions().max()
    }
}

impl<T: Item + std::iter::Sum<T>> Bag<T> {
    /// Sum of the items ([`BagReductions::sum`]); 0 for an empty bag.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// assert_eq!(Bag::range(101, 4)?.sum()?.compute()?, 5050);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn sum(&self) -> Result<Delayed<T>> {
        self.reductions().sum()
    }
}

impl<T: Item + AsPrimitive<f64>> Bag<T> {
    /// Mean as `f64` ([`BagReductions::mean`]); an error when computed on an
    /// empty bag.
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// assert_eq!(Bag::range(5, 2)?.mean()?.compute()?, 2.0);
    /// let empty = Bag::range(0, 2)?;
    /// assert!(empty.mean()?.compute().unwrap_err().to_string().contains("mean of an empty bag"));
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn mean(&self) -> Result<Delayed<f64>> {
        self.reductions().mean()
    }

    /// Variance as `f64` with `ddof` delta degrees of freedom
    /// ([`BagReductions::var`]).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// assert_eq!(Bag::from_sequence([1.0, 2.0, 3.0, 4.0], 2)?.var(1.0)?.compute()?, 5.0 / 3.0);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn var(&self, ddof: f64) -> Result<Delayed<f64>> {
        self.reductions().var(ddof)
    }

    /// Standard deviation as `f64` with `ddof` delta degrees of freedom
    /// ([`BagReductions::std`]).
    ///
    /// ```
    /// use dagwood_collections::bag::Bag;
    /// assert_eq!(Bag::from_sequence([1, 3, 1, 3], 3)?.std(0.0)?.compute()?, 1.0);
    /// # Ok::<(), dagwood_collections::bag::BagError>(())
    /// ```
    pub fn std(&self, ddof: f64) -> Result<Delayed<f64>> {
        self.reductions().std(ddof)
    }
}
