//! Sphere math: unit-vector helpers, the boundary tolerance and great-circle
//! distances (with the fast point-in-cone test).

use std::f64::consts::PI;

/// Boundary tolerance in degrees (about 36 nano-arcseconds): points this close
/// to a shape's boundary count as inside it, so exact boundary cases (a vertex,
/// a point at exactly the radius) survive the degree/radian round trips.
pub const EPS_DEG: f64 = 1e-11;

/// [`EPS_DEG`] in radians.
pub(super) const EPS_RAD: f64 = EPS_DEG * (PI / 180.0);

// ---------------------------------------------------------------------------
// Vector helpers.

pub(super) type V3 = [f64; 3];

#[inline]
pub(super) fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline]
pub(super) fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[inline]
pub(super) fn neg(a: V3) -> V3 {
    [-a[0], -a[1], -a[2]]
}

#[inline]
pub(super) fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}

#[inline]
pub(super) fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

#[inline]
pub(super) fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

#[inline]
pub(super) fn normalize(a: V3) -> V3 {
    let n = norm(a);
    if n > 0.0 {
        scale(a, 1.0 / n)
    } else {
        a
    }
}

/// Angle between two unit vectors, radians, accurate at all scales.
#[inline]
pub(super) fn angle(a: V3, b: V3) -> f64 {
    norm(cross(a, b)).atan2(dot(a, b))
}

/// Unit vector of a position given in degrees.
#[inline]
pub(super) fn unit(lon_deg: f64, lat_deg: f64) -> V3 {
    let (sl, cl) = lon_deg.to_radians().sin_cos();
    let (sb, cb) = lat_deg.to_radians().sin_cos();
    [cb * cl, cb * sl, sb]
}

/// Longitude in `[0, 360)` and latitude of a (not necessarily unit) vector, degrees.
#[inline]
pub(super) fn lonlat(v: V3) -> (f64, f64) {
    let mut lon = v[1].atan2(v[0]).to_degrees();
    if lon < 0.0 {
        lon += 360.0;
    }
    if lon >= 360.0 {
        lon = 0.0;
    }
    (lon, v[2].atan2(v[0].hypot(v[1])).to_degrees())
}

/// Applies a 3×3 matrix (row-major) to a vector.
#[inline]
pub(super) fn mat_mul(m: &[[f64; 3]; 3], v: V3) -> V3 {
    [dot(m[0], v), dot(m[1], v), dot(m[2], v)]
}

/// Normalises a longitude to `[0, 360)`.
pub(super) fn norm_lon(lon: f64) -> f64 {
    let l = lon.rem_euclid(360.0);
    if l >= 360.0 {
        0.0
    } else {
        l
    }
}

// ---------------------------------------------------------------------------
// Distance.

/// Great-circle distance between two positions, degrees (Vincenty's formula:
/// accurate for separations from micro-arcseconds up to antipodes).
#[inline]
pub fn distance_deg(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (sdl, cdl) = (lon2 - lon1).to_radians().sin_cos();
    let (sb1, cb1) = lat1.to_radians().sin_cos();
    let (sb2, cb2) = lat2.to_radians().sin_cos();
    let x = cb2 * sdl;
    let y = cb1 * sb2 - sb1 * cb2 * cdl;
    let z = sb1 * sb2 + cb1 * cb2 * cdl;
    x.hypot(y).atan2(z).to_degrees()
}

/// A circle prepared for fast "is this position inside" tests over many rows
/// (`adql_in_circle`): one unit vector and a chord-length threshold, so each
/// test costs two `sin_cos` and no division. Boundary inclusive (with
/// [`EPS_DEG`]), identical to [`contains`](super::contains) for a point in a circle.
#[derive(Debug, Clone, Copy)]
pub struct ConeTest {
    c: V3,
    chord2: f64,
}

impl ConeTest {
    /// A cone of `radius_deg` around (`lon`, `lat`), degrees. A negative or
    /// NaN radius contains nothing.
    pub fn new(lon: f64, lat: f64, radius_deg: f64) -> ConeTest {
        ConeTest {
            c: unit(lon, lat),
            chord2: chord2_threshold(radius_deg.to_radians()),
        }
    }

    /// Whether (`lon`, `lat`), degrees, is within the cone.
    #[inline]
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        let p = unit(lon, lat);
        let d = [p[0] - self.c[0], p[1] - self.c[1], p[2] - self.c[2]];
        dot(d, d) <= self.chord2
    }
}

/// Squared chord length for an angular radius (radians) plus the tolerance;
/// negative (contains nothing) for negative or NaN radii.
#[inline]
pub(super) fn chord2_threshold(r: f64) -> f64 {
    if r.is_nan() || r < 0.0 {
        return -1.0;
    }
    if r + EPS_RAD >= PI {
        return f64::INFINITY;
    }
    let r = r + EPS_RAD;
    let c = 2.0 * (r / 2.0).sin();
    c * c
}

/// Whether (`lon`, `lat`) is within `radius` of (`clon`, `clat`), all degrees,
/// boundary inclusive: the `adql_in_circle` kernel.
#[inline]
pub fn in_circle(lon: f64, lat: f64, clon: f64, clat: f64, radius: f64) -> bool {
    ConeTest::new(clon, clat, radius).contains(lon, lat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::testutil::close;

    #[test]
    fn distance_known_values() {
        assert!(close(distance_deg(0.0, 0.0, 90.0, 0.0), 90.0, 1e-12));
        assert!(close(distance_deg(10.0, 90.0, 200.0, 90.0), 0.0, 1e-12));
        assert!(close(distance_deg(0.0, 0.0, 180.0, 0.0), 180.0, 1e-12));
        assert!(close(distance_deg(33.0, 21.0, 213.0, -21.0), 180.0, 1e-12));
        assert!(close(distance_deg(0.0, -90.0, 0.0, 90.0), 180.0, 1e-12));
        // Spec example, checked against the haversine.
        let d = distance_deg(25.0, -19.5, 25.4, -20.0);
        assert!(close(d, 0.625_882_300_159, 1e-9), "{d}");
        assert!(close(d, distance_deg(25.4, -20.0, 25.0, -19.5), 1e-13));
        // RA wrap.
        assert!(close(distance_deg(359.5, 0.0, 0.5, 0.0), 1.0, 1e-12));
    }

    #[test]
    fn distance_tiny_separations() {
        let mas = 1.0 / 3.6e6;
        for &(lon, lat) in &[(10.0, 20.0), (0.0, 0.0), (123.0, -89.9), (359.9999, 45.0)] {
            let d = distance_deg(lon, lat, lon, lat + mas);
            assert!(((d - mas) / mas).abs() < 1e-6, "{d}");
            let d = distance_deg(lon, lat, lon + mas / lat.to_radians().cos(), lat);
            assert!(((d - mas) / mas).abs() < 1e-6, "{d}");
        }
        assert_eq!(distance_deg(10.0, 20.0, 10.0, 20.0), 0.0);
        // Near-antipodal: 1 mas short of 180.
        let d = distance_deg(0.0, 0.0, 180.0, mas);
        assert!(((180.0 - d) - mas).abs() < 1e-12, "{d}");
    }
}
