//! HEALPix helpers over `cdshealpix` (nested scheme): the `_healpix_29` index
//! of a position, pixel ↔ index-range arithmetic and cone covers.
//!
//! Every row stores `_healpix_29`, the nested index of its position at order
//! 29 (the HATS convention). A pixel `(order, npix)` covers exactly the
//! half-open range `[npix << 2(29-order), (npix+1) << 2(29-order))` of
//! `_healpix_29` values, which is what makes partition pruning and row-group
//! statistics work on one integer column.

use std::ops::Range;

/// Name of the spatial index column (HATS convention).
pub const HEALPIX_COLUMN: &str = "_healpix_29";
/// Order of the spatial index column.
pub const INDEX_ORDER: u8 = 29;

/// A HEALPix pixel in the nested scheme.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Pixel {
    /// HEALPix order (depth), 0..=29.
    pub order: u8,
    /// Nested pixel index at that order.
    pub npix: u64,
}

impl Pixel {
    /// A pixel.
    pub fn new(order: u8, npix: u64) -> Self {
        Pixel { order, npix }
    }
    /// The `_healpix_29` values this pixel covers (half-open).
    pub fn range29(&self) -> Range<u64> {
        cdshealpix::nested::to_range(self.npix, INDEX_ORDER - self.order)
    }
    /// HATS directory number: `(npix / 10000) * 10000`.
    pub fn dir(&self) -> u64 {
        self.npix / 10_000 * 10_000
    }
    /// The pixel containing this one at a lower (or equal) order.
    pub fn ancestor(&self, order: u8) -> Pixel {
        debug_assert!(order <= self.order);
        Pixel::new(order, self.npix >> (2 * (self.order - order)))
    }
    /// Whether `other` lies inside this pixel (or is it).
    pub fn contains(&self, other: &Pixel) -> bool {
        other.order >= self.order && other.ancestor(self.order) == *self
    }
}

/// The `_healpix_29` index of a position in degrees, or `None` when the
/// position is not on the sphere (NaN, infinite, |dec| > 90).
#[inline]
pub fn index29(ra_deg: f64, dec_deg: f64) -> Option<u64> {
    if !ra_deg.is_finite() || !dec_deg.is_finite() || !(-90.0..=90.0).contains(&dec_deg) {
        return None;
    }
    let lon = ra_deg.rem_euclid(360.0).to_radians();
    let lat = dec_deg.to_radians();
    Some(cdshealpix::nested::get(INDEX_ORDER).hash(lon, lat))
}

/// The `_healpix_29` ranges (half-open, sorted, disjoint) of all pixels at
/// `order` that overlap a cone (degrees). The cover is a superset of the
/// cone: pruning with it never loses a row.
pub fn cone_cover(ra_deg: f64, dec_deg: f64, radius_deg: f64, order: u8) -> Vec<Range<u64>> {
    let bmoc = cdshealpix::nested::cone_coverage_approx(
        order,
        ra_deg.rem_euclid(360.0).to_radians(),
        dec_deg.to_radians(),
        radius_deg.to_radians(),
    );
    let shift = 2 * (INDEX_ORDER - bmoc.get_depth_max()) as u32;
    let mut out: Vec<Range<u64>> = Vec::new();
    for r in bmoc.to_ranges().iter() {
        let r = (r.start << shift)..(r.end << shift);
        match out.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => out.push(r),
        }
    }
    out
}

/// Whether a sorted list of half-open ranges overlaps `r`.
pub fn ranges_overlap(ranges: &[Range<u64>], r: &Range<u64>) -> bool {
    // First range whose end is after r.start.
    let i = ranges.partition_point(|x| x.end <= r.start);
    i < ranges.len() && ranges[i].start < r.end
}

/// Normalise a list of ranges: sorted, merged, empty ranges dropped.
pub fn normalize_ranges(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.retain(|r| r.start < r.end);
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Intersection of two normalised range lists.
pub fn intersect_ranges(a: &[Range<u64>], b: &[Range<u64>]) -> Vec<Range<u64>> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let s = a[i].start.max(b[j].start);
        let e = a[i].end.min(b[j].end);
        if s < e {
            out.push(s..e);
        }
        if a[i].end < b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_ranges_nest() {
        let p = Pixel::new(3, 17);
        let r = p.range29();
        assert_eq!(r.end - r.start, 1u64 << (2 * 26));
        let child = Pixel::new(5, 17 * 16 + 3);
        assert!(p.contains(&child));
        assert!(!Pixel::new(3, 18).contains(&child));
        assert_eq!(child.ancestor(3), p);
        assert_eq!(Pixel::new(7, 123_456).dir(), 120_000);
    }

    #[test]
    fn index_agrees_with_cdshealpix_at_every_order() {
        for &(ra, dec) in &[
            (0.0, 0.0),
            (359.999, -89.9),
            (266.4, -29.0),
            (45.0, 41.8103149),
        ] {
            let h = index29(ra, dec).unwrap();
            for order in [0u8, 5, 12] {
                let at = cdshealpix::nested::hash(order, f64::to_radians(ra), f64::to_radians(dec));
                assert_eq!(
                    h >> (2 * (29 - order)),
                    at,
                    "ra {ra} dec {dec} order {order}"
                );
            }
        }
        assert_eq!(index29(f64::NAN, 0.0), None);
        assert_eq!(index29(10.0, 90.5), None);
        assert_eq!(index29(-10.0, 0.0), index29(350.0, 0.0));
    }

    #[test]
    fn cone_cover_contains_the_centre_and_merges() {
        let cover = cone_cover(10.0, 20.0, 0.5, 8);
        let h = index29(10.0, 20.0).unwrap();
        assert!(ranges_overlap(&cover, &(h..h + 1)));
        for w in cover.windows(2) {
            assert!(w[0].end < w[1].start);
        }
        let n = normalize_ranges(vec![5..7, 1..3, 2..4, 9..9]);
        assert_eq!(n, vec![1..4, 5..7]);
        assert_eq!(intersect_ranges(&[1..4, 6..10], &[3..7]), vec![3..4, 6..7]);
    }
}
