//! HEALPix covers: the order-29 index ranges a shape may overlap, which
//! turn spatial predicates into range scans on `_healpix_29`.

use std::f64::consts::PI;
use std::ops::Range;

use cdshealpix::nested;
use cdshealpix::sph_geom::ContainsSouthPoleMethod;

use super::polygon::SphPolygon;
use super::prepared::{Prepared, Shape};
use super::shapes::Geom;
use super::sphere::{lonlat, V3};

/// Safety margin added to every HEALPix cover (radians, about 0.2 mas), far
/// larger than [`EPS_RAD`] so that covers are supersets even at the tolerance.
const INFLATE_RAD: f64 = 1e-9;

/// The HEALPix order of the `_healpix_29` column that covers index.
pub const HEALPIX_ORDER: u8 = 29;

/// Deepest order [`cover_depth`] and [`join_depth`](super::join_depth) ever choose.
pub const MAX_COVER_DEPTH: u8 = 12;

impl Prepared {
    /// Centre and radius (radians) of a cone enclosing the shape.
    fn bounding_cone(&self) -> (V3, f64) {
        match &self.shape {
            Shape::Point(p) => (*p, 0.0),
            Shape::Circle(c, r) => (*c, *r),
            Shape::Polygon(p) => (p.centroid, p.bound_r),
        }
    }

    /// A HEALPix depth giving a cover of roughly tens of cells (at most
    /// [`MAX_COVER_DEPTH`]); see [`cover_depth`].
    pub fn cover_depth(&self) -> u8 {
        let (_, r) = self.bounding_cone();
        depth_for_radius(r).saturating_add(1).min(MAX_COVER_DEPTH)
    }

    /// The order-29 ranges of every depth-`depth` cell that may overlap the
    /// shape; see [`cover`].
    pub fn cover(&self, depth: u8) -> Vec<Range<u64>> {
        let depth = depth.min(HEALPIX_ORDER);
        let cells: Vec<Range<u64>> = match &self.shape {
            Shape::Point(p) => cone_ranges(depth, *p, 0.0),
            Shape::Circle(c, r) => cone_ranges(depth, *c, *r),
            Shape::Polygon(poly) => polygon_ranges(depth, poly),
        };
        let shift = 2 * u32::from(HEALPIX_ORDER - depth);
        cells
            .into_iter()
            .map(|r| (r.start << shift)..(r.end << shift))
            .collect()
    }
}

/// The smallest depth at which a shape of this radius (radians) overlaps at
/// most 9 cells; 0 for shapes too big for that.
pub(super) fn depth_for_radius(r: f64) -> u8 {
    let r = if r.is_nan() { 0.0 } else { r.max(0.0) };
    if cdshealpix::has_best_starting_depth(r) {
        cdshealpix::best_starting_depth(r)
    } else {
        0
    }
}

/// Merges sorted, deduplicated cell numbers into half-open ranges.
fn cells_to_ranges(cells: impl IntoIterator<Item = u64>) -> Vec<Range<u64>> {
    let mut out: Vec<Range<u64>> = Vec::new();
    for c in cells {
        match out.last_mut() {
            Some(r) if r.end == c => r.end += 1,
            Some(r) if r.end > c => {}
            _ => out.push(c..c + 1),
        }
    }
    out
}

/// Depth-`depth` cell ranges (not shifted) of a cone, inflated.
pub(super) fn cone_ranges(depth: u8, c: V3, r: f64) -> Vec<Range<u64>> {
    let r = r + INFLATE_RAD;
    if r >= PI {
        return vec![0..nested::n_hash(depth)];
    }
    let (lon, lat) = lonlat(c);
    nested::cone_coverage_approx(depth, lon.to_radians(), lat.to_radians(), r)
        .to_ranges()
        .into_vec()
}

/// Depth-`depth` cell ranges (not shifted) of a polygon: cdshealpix's exact
/// polygon coverage two orders deeper, grown by the neighbours of every
/// partially covered cell (absorbing HEALPix cell edges not being great
/// circles), then degraded to `depth`. Non-simple polygons, and those whose
/// south-pole status is ambiguous, get their bounding cone instead.
fn polygon_ranges(depth: u8, poly: &SphPolygon) -> Vec<Range<u64>> {
    let south = [0.0, 0.0, -1.0];
    if !poly.simple || poly.boundary_dist(south) <= 1e-9 {
        return cone_ranges(depth, poly.centroid, poly.bound_r);
    }
    let work = (depth + 2).min(HEALPIX_ORDER);
    let method = if poly.contains(south) {
        ContainsSouthPoleMethod::ContainsSouthPole
    } else {
        ContainsSouthPoleMethod::DoNotContainsSouthPole
    };
    let verts: Vec<(f64, f64)> = poly
        .v
        .iter()
        .map(|&p| {
            let (lon, lat) = lonlat(p);
            (lon.to_radians(), lat.to_radians())
        })
        .collect();
    let layer = nested::get(work);
    // cdshealpix asserts on some vertex positions (debug builds; e.g. a
    // vertex at exactly lon 0 with another at 240); a panic or a coverage
    // that misses a vertex falls back to the bounding cone, always a
    // superset.
    let Ok(bmoc) =
        std::panic::catch_unwind(|| layer.custom_polygon_coverage(&verts, &method, true))
    else {
        return cone_ranges(depth, poly.centroid, poly.bound_r);
    };
    let vertex_missing = verts.iter().any(|&(lon, lat)| {
        let h = layer.hash(lon, lat);
        !(&bmoc).into_iter().any(|c| {
            let s = 2 * u32::from(work - c.depth);
            (c.hash << s..(c.hash + 1) << s).contains(&h)
        })
    });
    if vertex_missing {
        return cone_ranges(depth, poly.centroid, poly.bound_r);
    }
    let mut coarse: Vec<Range<u64>> = Vec::new();
    let mut cells: Vec<u64> = Vec::new();
    let mut neigh: Vec<u64> = Vec::with_capacity(8);
    let down = 2 * u32::from(work - depth);
    for cell in &bmoc {
        if cell.depth <= depth {
            let s = 2 * u32::from(depth - cell.depth);
            coarse.push((cell.hash << s)..((cell.hash + 1) << s));
        } else if cell.depth < work || cell.is_full {
            cells.push(cell.hash >> (2 * u32::from(cell.depth - depth)));
        } else {
            cells.push(cell.hash >> down);
            neigh.clear();
            layer.append_bulk_neighbours(cell.hash, &mut neigh);
            cells.extend(neigh.iter().map(|h| h >> down));
        }
    }
    for r in coarse {
        cells.extend(r);
    }
    cells.sort_unstable();
    cells.dedup();
    cells_to_ranges(cells)
}

/// Sorted, disjoint, half-open ranges of order-29 NESTED HEALPix indices
/// covering every depth-`depth` cell that may overlap `g` (each cell `c`
/// expands to `c << 2(29-depth) .. (c+1) << 2(29-depth)`): a superset, never
/// missing a cell. Circles are inflated by 1e-9 rad; polygons use cdshealpix's
/// exact polygon coverage plus a ring of finer neighbours (non-simple
/// polygons: their bounding cone). An invalid geometry gives the whole sky.
pub fn cover(g: &Geom, depth: u8) -> Vec<Range<u64>> {
    match Prepared::new(g) {
        Ok(p) => p.cover(depth),
        Err(_) => vec![0..nested::n_hash(HEALPIX_ORDER)],
    }
}

/// A depth for [`cover`] giving roughly tens of cells: one more than the
/// depth at which the shape's bounding cone overlaps at most 9 cells, capped
/// at [`MAX_COVER_DEPTH`] (so points get 12, a 1° circle 6).
pub fn cover_depth(g: &Geom) -> u8 {
    Prepared::new(g).map_or(0, |p| p.cover_depth())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::join::cell;
    use crate::geometry::sphere::unit;
    use crate::geometry::testutil::*;
    use std::f64::consts::TAU;

    fn in_ranges(ranges: &[Range<u64>], x: u64) -> bool {
        let i = ranges.partition_point(|r| r.end <= x);
        i < ranges.len() && ranges[i].start <= x
    }

    fn check_ranges(ranges: &[Range<u64>]) {
        for w in ranges.windows(2) {
            assert!(w[0].start < w[0].end && w[0].end < w[1].start, "{ranges:?}");
        }
    }

    #[test]
    fn brute_force_covers() {
        let mut rng = Rng(2024);
        let top = 2 * u32::from(HEALPIX_ORDER);
        for round in 0..400 {
            let (lon, lat) = if round % 10 == 0 {
                (rng.range(0.0, 360.0), 90.0 * rng.range(0.99, 1.0))
            } else if round % 10 == 1 {
                (
                    rng.range(-0.01, 0.01).rem_euclid(360.0),
                    rng.range(-60.0, 60.0),
                )
            } else {
                rng.pos()
            };
            let size = 10f64.powf(rng.range(-4.0, 1.3));
            let geom = match round % 3 {
                0 => circ(lon, lat, size),
                1 => {
                    let (v, _) = star_polygon(&mut rng, unit(lon, lat), size);
                    Geom::polygon(v).unwrap()
                }
                _ => Geom::new_box(lon, lat, size * 2.0, size).unwrap(),
            };
            let prep = Prepared::new(&geom).unwrap();
            let d0 = prep.cover_depth();
            assert!(d0 <= MAX_COVER_DEPTH);
            for depth in [d0, d0.saturating_sub(3), (d0 + 2).min(14)] {
                let ranges = prep.cover(depth);
                check_ranges(&ranges);
                let n: u64 = ranges
                    .iter()
                    .map(|r| (r.end - r.start) >> (top - 2 * u32::from(depth)))
                    .sum();
                if depth == d0 {
                    assert!(n <= 400, "{n} cells for {geom:?} at {depth}");
                }
                let mut hits = 0;
                for k in 0..300 {
                    let (a, b) = if k < 32 {
                        // Boundary and vertex regions.
                        match &geom {
                            Geom::Circle { radius, .. } => {
                                offset(lon, lat, *radius, k as f64 * TAU / 32.0)
                            }
                            Geom::Polygon(v) => v[k % v.len()],
                            Geom::Point { .. } => unreachable!(),
                        }
                    } else {
                        offset(lon, lat, size * rng.range(0.0, 1.5), rng.range(0.0, TAU))
                    };
                    if prep.contains_point(a, b) {
                        hits += 1;
                        let h = cell(HEALPIX_ORDER, a, b);
                        assert!(in_ranges(&ranges, h), "{geom:?} depth {depth}: ({a}, {b})");
                    }
                }
                assert!(hits > 30, "{geom:?}");
            }
        }
        // Points.
        for _ in 0..500 {
            let (lon, lat) = rng.pos();
            let g = pt(lon, lat);
            let r = cover(&g, cover_depth(&g));
            assert_eq!(cover_depth(&g), MAX_COVER_DEPTH);
            assert!(in_ranges(&r, cell(HEALPIX_ORDER, lon, lat)));
        }
        // Whole sky.
        let r = cover(&circ(0.0, 0.0, 180.0), 3);
        assert_eq!(r, vec![0..12u64 << top]);
        // Hemisphere polygon and large circle.
        let r = cover(&poly(&[0.0, 0.0, 90.0, 0.0, 180.0, 0.0, 270.0, 0.0]), 2);
        assert!(in_ranges(&r, cell(HEALPIX_ORDER, 10.0, 45.0)));
        assert!(in_ranges(&r, cell(HEALPIX_ORDER, 10.0, 0.0)));
        assert!(!in_ranges(&r, cell(HEALPIX_ORDER, 10.0, -45.0)));
    }

    #[test]
    fn cover_depths() {
        assert_eq!(cover_depth(&pt(1.0, 2.0)), 12);
        assert_eq!(cover_depth(&circ(1.0, 2.0, 1.0)), 6);
        assert_eq!(cover_depth(&circ(1.0, 2.0, 90.0)), 1);
        assert!(cover_depth(&circ(1.0, 2.0, 1.0 / 3600.0)) == 12);
        let c = circ(10.0, 20.0, 1.0);
        let n: u64 = cover(&c, 6).iter().map(|r| (r.end - r.start) >> 46).sum();
        assert!((4..=60).contains(&n), "{n}");
    }
}
