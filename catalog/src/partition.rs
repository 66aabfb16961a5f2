//! Adaptive HEALPix partitioning: count rows per pixel at the deepest allowed
//! order, then split pixels top-down until each holds at most the threshold.
//!
//! Starting from the 12 order-0 pixels, a pixel with rows becomes a partition
//! as soon as it holds no more than `max_rows` rows (or the deepest order is
//! reached); otherwise its four children are examined. Empty pixels produce no
//! partition. The result is a set of disjoint pixels of mixed orders, sorted
//! by their `_healpix_29` ranges — the HATS partitioning.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::healpix::{Pixel, INDEX_ORDER};

/// Row counts per pixel at one order, shared by the ingest workers.
pub struct Histogram {
    order: u8,
    counts: Vec<AtomicU32>,
}

impl Histogram {
    /// An empty histogram at `order` (12·4^order counters: 50 MB at order 10).
    pub fn new(order: u8) -> Self {
        let n = 12usize << (2 * order as usize);
        let mut counts = Vec::with_capacity(n);
        counts.resize_with(n, || AtomicU32::new(0));
        Histogram { order, counts }
    }

    /// The histogram's order.
    pub fn order(&self) -> u8 {
        self.order
    }

    /// Count one row by its `_healpix_29` index.
    #[inline]
    pub fn add(&self, healpix29: u64) {
        let cell = (healpix29 >> (2 * (INDEX_ORDER - self.order))) as usize;
        self.counts[cell].fetch_add(1, Ordering::Relaxed);
    }

    /// Rows in a pixel at an order no deeper than the histogram's.
    pub fn count(&self, p: Pixel) -> u64 {
        let shift = 2 * (self.order - p.order) as usize;
        let start = (p.npix as usize) << shift;
        let end = ((p.npix + 1) as usize) << shift;
        self.counts[start..end]
            .iter()
            .map(|c| c.load(Ordering::Relaxed) as u64)
            .sum()
    }

    /// Total rows counted.
    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed) as u64)
            .sum()
    }

    /// Non-empty cells at the histogram's order, ascending.
    pub fn nonempty_cells(&self) -> impl Iterator<Item = u64> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.load(Ordering::Relaxed) > 0)
            .map(|(i, _)| i as u64)
    }

    /// The adaptive partitioning: disjoint pixels with their row counts,
    /// sorted by range.
    pub fn plan(&self, max_rows: u64) -> Vec<(Pixel, u64)> {
        let mut out = Vec::new();
        for npix in 0..12 {
            self.split(Pixel::new(0, npix), max_rows.max(1), &mut out);
        }
        out
    }

    fn split(&self, p: Pixel, max_rows: u64, out: &mut Vec<(Pixel, u64)>) {
        let n = self.count(p);
        if n == 0 {
            return;
        }
        if n <= max_rows || p.order == self.order {
            out.push((p, n));
            return;
        }
        for c in 0..4 {
            self.split(Pixel::new(p.order + 1, p.npix * 4 + c), max_rows, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::healpix::index29;

    #[test]
    fn splits_dense_pixels_only() {
        let h = Histogram::new(4);
        // 100 rows clustered in one spot, 3 elsewhere.
        for i in 0..100 {
            h.add(index29(10.0 + i as f64 * 1e-4, 10.0).unwrap());
        }
        for ra in [100.0, 200.0, 300.0] {
            h.add(index29(ra, -40.0).unwrap());
        }
        let plan = h.plan(10);
        let total: u64 = plan.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 103);
        // Disjoint and sorted.
        for w in plan.windows(2) {
            assert!(w[0].0.range29().end <= w[1].0.range29().start);
        }
        // The dense spot is split to the deepest order; sparse ones stay at 0.
        assert!(plan.iter().any(|(p, n)| p.order == 4 && *n == 100));
        assert_eq!(plan.iter().filter(|(p, _)| p.order == 0).count(), 3);
    }
}
