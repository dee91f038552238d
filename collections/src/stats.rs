//! Statistics merged across blocks and partitions: the count, mean and sum
//! of squared deviations (M2) of a set of numbers, updated one value at a
//! time (Welford) or computed from a slice in hand (two passes), and merged
//! across disjoint sets (Chan, Golub and LeVeque). Arrays' `var`/`std`, a
//! bag's `var`/`std` and a frame's groupby `var`/`std` all merge these.

use num_traits::AsPrimitive;

/// Count, mean and sum of squared deviations (M2) of some values. The
/// count is an `f64`: exact to 2^53 values, and what the formulas divide by.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Moments {
    pub(crate) n: f64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
}

impl Moments {
    /// The moments of the values in hand, in two passes: more accurate than
    /// a running update, without a division per value, and without a copy
    /// as `f64`s.
    pub(crate) fn of<T: AsPrimitive<f64>>(xs: &[T]) -> Moments {
        if xs.is_empty() {
            return Moments::default();
        }
        let n = xs.len() as f64;
        let mean = xs.iter().map(|x| x.as_()).sum::<f64>() / n;
        let m2 = xs
            .iter()
            .map(|x| {
                let d = x.as_() - mean;
                d * d
            })
            .sum();
        Moments { n, mean, m2 }
    }

    /// Welford's update with one value.
    #[inline(always)]
    pub(crate) fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }

    /// Chan, Golub and LeVeque's merge of the moments of a disjoint set.
    pub(crate) fn merge(&mut self, o: Moments) {
        if o.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.m2 += o.m2 + d * d * self.n * o.n / n;
        self.mean += d * o.n / n;
        self.n = n;
    }

    /// [`merge`](Self::merge) by value, for folds.
    pub(crate) fn merged(mut self, o: Moments) -> Moments {
        self.merge(o);
        self
    }

    /// The variance with `ddof` delta degrees of freedom; `None` when there
    /// are no more than `ddof` values.
    pub(crate) fn variance(&self, ddof: f64) -> Option<f64> {
        let dof = self.n - ddof;
        (dof > 0.0).then(|| self.m2 / dof)
    }
}

/// As `(count, mean, M2)`: the form array partials travel in.
impl From<Moments> for (f64, f64, f64) {
    fn from(m: Moments) -> (f64, f64, f64) {
        (m.n, m.mean, m.m2)
    }
}

impl From<(f64, f64, f64)> for Moments {
    fn from((n, mean, m2): (f64, f64, f64)) -> Moments {
        Moments { n, mean, m2 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        (mean, xs.iter().map(|x| (x - mean) * (x - mean)).sum())
    }

    proptest! {
        /// Any split into parts, each by update or by slice, merged in any
        /// grouping, gives the moments of the whole.
        #[test]
        fn merged_parts_are_the_whole(
            xs in proptest::collection::vec(-1e3f64..1e3, 1..200),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (xs.len() + 1)).collect();
            cuts.push(0);
            cuts.push(xs.len());
            cuts.sort_unstable();
            let mut total = Moments::default();
            for (k, w) in cuts.windows(2).enumerate() {
                let part = &xs[w[0]..w[1]];
                let m = if k % 2 == 0 {
                    Moments::of(part)
                } else {
                    let mut m = Moments::default();
                    part.iter().for_each(|&x| m.push(x));
                    m
                };
                total = total.merged(m);
            }
            let (mean, m2) = plain(&xs);
            prop_assert_eq!(total.n, xs.len() as f64);
            prop_assert!((total.mean - mean).abs() <= 1e-9 * (1.0 + mean.abs()));
            prop_assert!((total.m2 - m2).abs() <= 1e-7 * (1.0 + m2));
            let var = total.variance(1.0);
            prop_assert_eq!(var.is_some(), xs.len() > 1);
        }
    }

    #[test]
    fn empty_and_tuple_forms() {
        assert_eq!(Moments::of::<f64>(&[]), Moments::default());
        assert_eq!(Moments::default().variance(0.0), None);
        let m = Moments::of(&[1.0, 2.0, 3.0]);
        assert_eq!(Moments::from(<(f64, f64, f64)>::from(m)), m);
        assert_eq!(m.variance(1.0), Some(1.0));
    }
}
