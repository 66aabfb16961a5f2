//! Spherical polygons prepared for tests: orientation, area, simplicity,
//! containment and edge relations.

use std::f64::consts::{PI, TAU};

use super::error::GeomError;
use super::sphere::*;

/// A spherical polygon prepared for tests: unit-vector vertices ordered so the
/// interior (the smaller region) is on the left of every edge.
#[derive(Debug, Clone)]
pub(super) struct SphPolygon {
    pub(super) v: Vec<V3>,
    /// `v[i] × v[i+1]`.
    nraw: Vec<V3>,
    /// Unit normals of the edges; interior side has positive dot product.
    nhat: Vec<V3>,
    /// `v[i] · v[i+1]`.
    dots: Vec<f64>,
    /// Area, steradians, in `[0, 2π]`.
    pub(super) area: f64,
    convex: bool,
    pub(super) simple: bool,
    /// Normalised mean of the vertex vectors.
    pub(super) centroid: V3,
    /// Largest distance (radians) from `centroid` to any boundary point.
    pub(super) bound_r: f64,
}

/// Edges and turning angles of a closed vertex loop.
fn edges(v: &[V3]) -> (Vec<V3>, Vec<V3>, Vec<f64>, Vec<f64>) {
    let n = v.len();
    let mut nraw = Vec::with_capacity(n);
    let mut nhat = Vec::with_capacity(n);
    let mut dots = Vec::with_capacity(n);
    for i in 0..n {
        let a = v[i];
        let b = v[(i + 1) % n];
        let c = cross(a, b);
        nraw.push(c);
        nhat.push(normalize(c));
        dots.push(dot(a, b));
    }
    let mut turns = Vec::with_capacity(n);
    for i in 0..n {
        let b = v[i];
        let t_in = cross(nraw[(i + n - 1) % n], b);
        let t_out = cross(nraw[i], b);
        turns.push(dot(cross(t_in, t_out), b).atan2(dot(t_in, t_out)));
    }
    (nraw, nhat, dots, turns)
}

/// Whether arcs `a`–`b` and `c`–`d` (unit normals `nab`, `ncd`) cross, each
/// having its endpoints more than `margin` (as a sine) on either side of the
/// other's great circle.
fn arcs_cross(a: V3, b: V3, nab: V3, c: V3, d: V3, ncd: V3, margin: f64) -> bool {
    let s1 = dot(c, nab);
    let s2 = dot(d, nab);
    let s3 = dot(a, ncd);
    let s4 = dot(b, ncd);
    let opposite = |p: f64, q: f64| (p > margin && q < -margin) || (p < -margin && q > margin);
    if !opposite(s1, s2) || !opposite(s3, s4) {
        return false;
    }
    let x = cross(nab, ncd);
    let on = |p: V3, q: V3, n: V3, x: V3| dot(cross(p, x), n) >= 0.0 && dot(cross(x, q), n) >= 0.0;
    (on(a, b, nab, x) && on(c, d, ncd, x)) || {
        let y = neg(x);
        on(a, b, nab, y) && on(c, d, ncd, y)
    }
}

/// Distance (radians) from unit vector `p` to the arc `a`–`b` with raw normal
/// `nraw` and unit normal `nhat`.
#[inline]
fn arc_dist(p: V3, a: V3, b: V3, nraw: V3, nhat: V3) -> f64 {
    if dot(cross(a, p), nraw) >= 0.0 && dot(cross(p, b), nraw) >= 0.0 {
        dot(p, nhat).abs().min(1.0).asin()
    } else {
        angle(a, p).min(angle(b, p))
    }
}

impl SphPolygon {
    pub(super) fn new(vertices: &[(f64, f64)]) -> Result<SphPolygon, GeomError> {
        let mut v: Vec<V3> = Vec::with_capacity(vertices.len());
        for &(lon, lat) in vertices {
            let p = unit(lon, lat);
            if v.last().is_none_or(|&q| angle(q, p) > EPS_RAD) {
                v.push(p);
            }
        }
        while v.len() > 1 && angle(v[0], v[v.len() - 1]) <= EPS_RAD {
            v.pop();
        }
        if v.len() < 3 {
            return Err(GeomError::Invalid(
                "a polygon needs at least 3 distinct vertices".into(),
            ));
        }
        let n = v.len();
        for i in 0..n {
            if angle(v[i], v[(i + 1) % n]) >= PI - EPS_RAD {
                return Err(GeomError::Invalid(
                    "a polygon edge between antipodal vertices is undefined".into(),
                ));
            }
        }
        let (mut nraw, mut nhat, mut dots, mut turns) = edges(&v);
        let left = TAU - turns.iter().sum::<f64>();
        let area = if left > TAU {
            v.reverse();
            (nraw, nhat, dots, turns) = edges(&v);
            2.0 * TAU - left
        } else {
            left
        };
        let area = area.clamp(0.0, TAU);
        let centroid = {
            let s = v.iter().fold([0.0; 3], |acc, &p| add(acc, p));
            if norm(s) > 1e-12 {
                normalize(s)
            } else {
                v[0]
            }
        };
        let mut poly = SphPolygon {
            v,
            nraw,
            nhat,
            dots,
            area,
            convex: false,
            simple: true,
            centroid,
            bound_r: 0.0,
        };
        poly.simple = poly.check_simple();
        poly.convex = poly.simple && turns.iter().all(|&t| t >= -1e-12);
        let anti = neg(centroid);
        poly.bound_r = (0..n)
            .map(|i| PI - poly.edge_dist(i, anti))
            .fold(0.0, f64::max);
        Ok(poly)
    }

    #[inline]
    pub(super) fn n(&self) -> usize {
        self.v.len()
    }

    #[inline]
    pub(super) fn edge_dist(&self, i: usize, p: V3) -> f64 {
        let j = if i + 1 == self.n() { 0 } else { i + 1 };
        arc_dist(p, self.v[i], self.v[j], self.nraw[i], self.nhat[i])
    }

    /// No two non-adjacent edges cross (checked up to 512 vertices; larger
    /// polygons are assumed simple).
    fn check_simple(&self) -> bool {
        let n = self.n();
        if n > 512 {
            return true;
        }
        for i in 0..n {
            for j in i + 2..n {
                if i == 0 && j == n - 1 {
                    continue;
                }
                let (a, b) = (self.v[i], self.v[(i + 1) % n]);
                let (c, d) = (self.v[j], self.v[(j + 1) % n]);
                if arcs_cross(a, b, self.nhat[i], c, d, self.nhat[j], 0.0) {
                    return false;
                }
            }
        }
        true
    }

    /// Minimum distance (radians) from `p` to the boundary.
    pub(super) fn boundary_dist(&self, p: V3) -> f64 {
        (0..self.n())
            .map(|i| self.edge_dist(i, p))
            .fold(f64::INFINITY, f64::min)
    }

    /// Interior test by the signed solid angles of the fan from `-p`: their
    /// sum is `area - 4π` when `p` is inside and `area` when outside (the
    /// jump happens only as `p` crosses the boundary), so the threshold has a
    /// margin of 2π.
    fn fan_inside(&self, p: V3) -> bool {
        let n = self.n();
        let mut s = 0.0;
        let mut pa = dot(p, self.v[0]);
        for i in 0..n {
            let j = if i + 1 == n { 0 } else { i + 1 };
            let pb = dot(p, self.v[j]);
            let num = -dot(p, self.nraw[i]);
            let den = 1.0 - pa + self.dots[i] - pb;
            s += num.atan2(den);
            pa = pb;
        }
        2.0 * s < self.area - TAU
    }

    /// Inside or on the boundary (within the tolerance).
    pub(super) fn contains(&self, p: V3) -> bool {
        if self.convex {
            let tol = EPS_RAD;
            return self.nhat.iter().all(|&n| dot(n, p) >= -tol);
        }
        if !self.simple && angle(self.centroid, p) > self.bound_r {
            return false;
        }
        self.fan_inside(p) || self.boundary_dist(p) <= EPS_RAD
    }

    /// Inside and farther than the tolerance from the boundary.
    pub(super) fn strictly_contains(&self, p: V3) -> bool {
        if self.convex {
            return self.nhat.iter().all(|&n| dot(n, p) > EPS_RAD);
        }
        if !self.simple && angle(self.centroid, p) > self.bound_r {
            return false;
        }
        self.fan_inside(p) && self.boundary_dist(p) > EPS_RAD
    }

    fn edge(&self, i: usize) -> (V3, V3, V3) {
        (self.v[i], self.v[(i + 1) % self.n()], self.nhat[i])
    }

    /// Whether any edge of `self` touches or crosses any edge of `other`.
    pub(super) fn edges_touch(&self, other: &SphPolygon) -> bool {
        for i in 0..self.n() {
            let (a, b, nab) = self.edge(i);
            for j in 0..other.n() {
                let (c, d, ncd) = other.edge(j);
                if arcs_cross(a, b, nab, c, d, ncd, 0.0)
                    || other.edge_dist(j, a) <= EPS_RAD
                    || self.edge_dist(i, c) <= EPS_RAD
                {
                    return true;
                }
            }
        }
        false
    }

    /// Whether `self` lies within `other`.
    pub(super) fn within(&self, other: &SphPolygon) -> bool {
        if !self.v.iter().all(|&p| other.contains(p)) {
            return false;
        }
        for i in 0..self.n() {
            let (a, b, nab) = self.edge(i);
            if !other.contains(normalize(add(a, b))) {
                return false;
            }
            for j in 0..other.n() {
                let (c, d, ncd) = other.edge(j);
                if arcs_cross(a, b, nab, c, d, ncd, EPS_RAD) {
                    return false;
                }
            }
        }
        !other.v.iter().any(|&p| self.strictly_contains(p))
    }
}
