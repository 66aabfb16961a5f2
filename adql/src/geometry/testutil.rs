//! Helpers shared by the geometry unit tests.

use std::f64::consts::TAU;

use super::shapes::Geom;
use super::sphere::*;

/// SplitMix64: a tiny deterministic generator for the brute-force tests.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(super) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(super) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    /// Uniform on the sphere.
    pub(super) fn pos(&mut self) -> (f64, f64) {
        let lon = self.range(0.0, 360.0);
        let lat = self.range(-1.0, 1.0).asin().to_degrees();
        (lon, lat)
    }
}

pub(super) fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Tangent-plane basis at the unit vector `c`.
pub(super) fn basis(c: V3) -> (V3, V3) {
    let pole = if c[2].abs() < 0.9 {
        [0.0, 0.0, 1.0]
    } else {
        [1.0, 0.0, 0.0]
    };
    let e = normalize(cross(pole, c));
    let n = cross(c, e);
    (e, n)
}

/// The point at distance `d` (deg) from (`lon`, `lat`) in direction `az` (rad).
pub(super) fn offset(lon: f64, lat: f64, d: f64, az: f64) -> (f64, f64) {
    let c = unit(lon, lat);
    let (e, n) = basis(c);
    let (s, co) = d.to_radians().sin_cos();
    let dir = add(scale(e, az.cos()), scale(n, az.sin()));
    lonlat(add(scale(c, co), scale(dir, s)))
}

pub(super) type Vertices = Vec<(f64, f64)>;

/// A random star-shaped (hence simple) polygon around `c`, built in the
/// gnomonic plane (where great circles are straight lines), plus its
/// planar vertices for the independent point-in-polygon check.
pub(super) fn star_polygon(rng: &mut Rng, c: V3, max_r: f64) -> (Vertices, Vertices) {
    let (e, n) = basis(c);
    let k = 3 + (rng.next_u64() % 8) as usize;
    // Angular gaps below π keep the star polygon simple.
    let th: Vec<f64> = (0..k)
        .map(|j| (j as f64 + rng.range(0.3, 0.7)) * TAU / k as f64)
        .collect();
    let mut plane = Vec::new();
    let mut sph = Vec::new();
    for t in th {
        let rho = max_r.to_radians().tan() * rng.range(0.2, 1.0);
        let (x, y) = (rho * t.cos(), rho * t.sin());
        plane.push((x, y));
        sph.push(lonlat(normalize(add(c, add(scale(e, x), scale(n, y))))));
    }
    if rng.next_u64().is_multiple_of(2) {
        plane.reverse();
        sph.reverse();
    }
    (sph, plane)
}

pub(super) fn pt(lon: f64, lat: f64) -> Geom {
    Geom::point(lon, lat).unwrap()
}

pub(super) fn circ(lon: f64, lat: f64, r: f64) -> Geom {
    Geom::circle(lon, lat, r).unwrap()
}

pub(super) fn poly(v: &[f64]) -> Geom {
    Geom::from_dali(v).unwrap()
}
