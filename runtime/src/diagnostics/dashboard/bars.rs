//! The task stream's bars, aggregated per interval: however many tasks ran,
//! each worker's row gets at most [`MAX_PER_ROW`] bars per interval, so a
//! million one-microsecond tasks cost the page what a few thousand do.
//!
//! Consecutive tasks of the same name on a worker with a gap under
//! [`GAP_MS`] become one bar (with their count); if a row still has too
//! many, its interval is cut into equal time buckets, each drawn as one bar
//! in the colour of the name that took most of its time.

/// Most bars per worker row per interval.
pub(super) const MAX_PER_ROW: usize = 100;
/// Tasks of one name closer than this (ms) on a worker share a bar.
pub(super) const GAP_MS: f64 = 1.0;

/// One bar of the task stream: `count` tasks of one name on one row,
/// `failed` of them failed; times in ms from the dashboard's start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Bar {
    pub(super) row: u32,
    pub(super) start: f64,
    pub(super) end: f64,
    pub(super) name: u32,
    pub(super) count: u32,
    pub(super) failed: u32,
}

/// Coalesces one interval's bars (one per task, or already merged ones,
/// in any order) into at most [`MAX_PER_ROW`] per row, appended to `out`.
pub(super) fn coalesce(bars: &mut [Bar], out: &mut Vec<Bar>) {
    bars.sort_by(|a, b| a.row.cmp(&b.row).then(a.start.total_cmp(&b.start)));
    let mut merged: Vec<Bar> = Vec::new();
    for row in bars.chunk_by(|a, b| a.row == b.row) {
        merged.clear();
        for b in row {
            match merged.last_mut() {
                Some(last) if last.name == b.name && b.start - last.end <= GAP_MS => {
                    last.end = last.end.max(b.end);
                    last.count += b.count;
                    last.failed += b.failed;
                }
                _ => merged.push(*b),
            }
        }
        if merged.len() <= MAX_PER_ROW {
            out.extend_from_slice(&merged);
        } else {
            bucketize(&merged, out);
        }
    }
}

/// One row's bars (sorted by start) as at most `MAX_PER_ROW` buckets.
fn bucketize(row: &[Bar], out: &mut Vec<Bar>) {
    let first = row[0].start;
    let last = row.iter().map(|b| b.end).fold(first, f64::max);
    let width = ((last - first) / MAX_PER_ROW as f64).max(f64::MIN_POSITIVE);
    let mut i = 0;
    while i < row.len() {
        let bucket = (((row[i].start - first) / width) as usize).min(MAX_PER_ROW - 1);
        let mut acc = row[i];
        // Time per name inside the bucket: few names, so a small list.
        let mut time: Vec<(u32, f64)> = vec![(row[i].name, row[i].end - row[i].start)];
        i += 1;
        while i < row.len()
            && (((row[i].start - first) / width) as usize).min(MAX_PER_ROW - 1) == bucket
        {
            let b = row[i];
            acc.end = acc.end.max(b.end);
            acc.count += b.count;
            acc.failed += b.failed;
            match time.iter_mut().find(|(n, _)| *n == b.name) {
                Some((_, t)) => *t += b.end - b.start,
                None => time.push((b.name, b.end - b.start)),
            }
            i += 1;
        }
        acc.name = time
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(acc.name, |(n, _)| *n);
        out.push(acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(row: u32, start: f64, end: f64, name: u32) -> Bar {
        Bar {
            row,
            start,
            end,
            name,
            count: 1,
            failed: 0,
        }
    }

    #[test]
    fn neighbours_of_one_name_merge_and_counts_add_up() {
        let mut bars = vec![
            bar(0, 0.0, 0.5, 1),
            bar(0, 0.6, 1.0, 1),
            bar(1, 0.0, 3.0, 2),
            bar(0, 5.0, 6.0, 1),
            bar(0, 6.1, 6.2, 3),
        ];
        let mut out = Vec::new();
        coalesce(&mut bars, &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!((out[0].start, out[0].end, out[0].count), (0.0, 1.0, 2));
        assert_eq!(out.iter().map(|b| b.count).sum::<u32>(), 5);
    }

    #[test]
    fn a_million_tasks_become_a_bounded_number_of_bars() {
        // Alternating names defeat merging; buckets must bound the output
        // and keep every task counted.
        let mut bars: Vec<Bar> = (0..1_000_000u32)
            .map(|i| {
                let mut b = bar(
                    i % 2,
                    f64::from(i / 2) * 1e-3,
                    f64::from(i / 2) * 1e-3 + 5e-4,
                    i % 3,
                );
                b.failed = u32::from(i == 7);
                b
            })
            .collect();
        let mut out = Vec::new();
        coalesce(&mut bars, &mut out);
        assert!(out.len() <= 2 * MAX_PER_ROW, "{}", out.len());
        assert_eq!(
            out.iter().map(|b| u64::from(b.count)).sum::<u64>(),
            1_000_000
        );
        assert_eq!(out.iter().map(|b| b.failed).sum::<u32>(), 1);
        assert!(out
            .windows(2)
            .all(|w| w[0].row < w[1].row || w[0].start <= w[1].start));
    }
}
