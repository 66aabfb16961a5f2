//! Positional joins: the HEALPix depth for a join radius and the cells of
//! positions and cones that bucket a join into an equi-join.

use cdshealpix::nested;

use super::cover::{cone_ranges, depth_for_radius, HEALPIX_ORDER, MAX_COVER_DEPTH};
use super::sphere::{norm_lon, unit};

/// HEALPix depth for a positional join with this radius (degrees): the
/// deepest order whose cells are still large enough that a circle of that
/// radius overlaps at most 9 cells (cdshealpix's `best_starting_depth`),
/// capped at [`MAX_COVER_DEPTH`]; 0 for radii beyond about 48°.
pub fn join_depth(radius_deg: f64) -> u8 {
    depth_for_radius(radius_deg.to_radians()).min(MAX_COVER_DEPTH)
}

/// The NESTED cell at `depth` (≤ 29) holding (`lon`, `lat`), degrees.
/// Latitudes are clamped to ±90°; a non-finite coordinate gives cell 0.
pub fn cell(depth: u8, lon: f64, lat: f64) -> u64 {
    if !lon.is_finite() || !lat.is_finite() {
        return 0;
    }
    nested::hash(
        depth.min(HEALPIX_ORDER),
        norm_lon(lon).to_radians(),
        lat.clamp(-90.0, 90.0).to_radians(),
    )
}

/// The distinct NESTED cells at `depth` overlapping the cone of radius `r`
/// around (`lon`, `lat`), all degrees, sorted: a superset (the radius is
/// inflated by 1e-9 rad), so [`cell`] of any position within `r` (as
/// [`in_circle`](super::in_circle) or [`contains`](super::contains) decide it) is among them. A negative or
/// non-finite input gives no cells.
pub fn cone_cells(depth: u8, lon: f64, lat: f64, r: f64) -> Vec<u64> {
    if !(lon.is_finite() && lat.is_finite() && r.is_finite()) || r < 0.0 {
        return Vec::new();
    }
    let depth = depth.min(HEALPIX_ORDER);
    let c = unit(lon, lat.clamp(-90.0, 90.0));
    cone_ranges(depth, c, r.to_radians())
        .into_iter()
        .flatten()
        .collect()
}

/// Centre (lon, lat), degrees, of a NESTED HEALPix cell.
pub fn cell_center(depth: u8, index: u64) -> (f64, f64) {
    let (lon, lat) = nested::center(depth.min(HEALPIX_ORDER), index);
    (norm_lon(lon.to_degrees()), lat.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::sphere::in_circle;
    use crate::geometry::testutil::*;
    use std::f64::consts::TAU;

    #[test]
    fn join_cells_brute_force() {
        let mut rng = Rng(5);
        for round in 0..3000 {
            let (lon, lat) = if round % 7 == 0 {
                (
                    rng.range(0.0, 360.0),
                    89.999 * rng.range(-1.0, 1.0).signum(),
                )
            } else {
                rng.pos()
            };
            let r = 10f64.powf(rng.range(-6.0, 1.0));
            let depth = join_depth(r);
            assert!(depth <= MAX_COVER_DEPTH);
            for d in [depth, depth.saturating_sub(2)] {
                let cells = cone_cells(d, lon, lat, r);
                assert!(cells.windows(2).all(|w| w[0] < w[1]));
                if d == depth {
                    assert!(
                        cells.len() <= 9 || depth == 0,
                        "{} cells at {d} for r={r}",
                        cells.len()
                    );
                }
                for k in 0..24 {
                    let dist = if k < 8 { r } else { r * rng.uniform() };
                    let (a, b) = offset(lon, lat, dist, rng.range(0.0, TAU));
                    if in_circle(a, b, lon, lat, r) {
                        assert!(
                            cells.binary_search(&cell(d, a, b)).is_ok(),
                            "({a}, {b}) within {r} of ({lon}, {lat}) depth {d}"
                        );
                    }
                }
            }
        }
        assert_eq!(join_depth(1.0), 5);
        assert_eq!(join_depth(1.0 / 3600.0), 12);
        assert_eq!(join_depth(60.0), 0);
        assert_eq!(join_depth(-1.0), 12);
        assert!(cone_cells(3, 0.0, 0.0, -1.0).is_empty());
        assert!(cone_cells(3, f64::NAN, 0.0, 1.0).is_empty());
        assert_eq!(cone_cells(1, 0.0, 0.0, 180.0).len(), 48);
        assert_eq!(cell(0, 0.0, 90.0), cell(0, 45.0, 89.0));
        assert_eq!(cell(29, f64::NAN, 0.0), 0);
        let (lon, lat) = cell_center(0, 4);
        assert!(
            close(lat, 0.0, 1e-9) && close(lon, 0.0, 1e-9),
            "{lon} {lat}"
        );
    }
}
