//! Prepared shapes ([`Prepared`]) and the predicates and measures over
//! them: `CONTAINS`, `INTERSECTS`, `AREA`, `CENTROID`.

use std::f64::consts::PI;

use super::error::GeomError;
use super::polygon::SphPolygon;
use super::shapes::{check_pos, check_radius, Geom};
use super::sphere::*;

/// Square degrees per steradian.
const SQ_DEG_PER_SR: f64 = (180.0 / PI) * (180.0 / PI);

#[derive(Debug, Clone)]
pub(super) enum Shape {
    Point(V3),
    /// Centre, radius in radians.
    Circle(V3, f64),
    Polygon(SphPolygon),
}

/// A validated geometry with its unit vectors and polygon orientation
/// computed once, for repeated tests (a constant shape against many rows).
#[derive(Debug, Clone)]
pub struct Prepared {
    geom: Geom,
    pub(super) shape: Shape,
}

impl Prepared {
    /// Prepares a geometry; fails on invalid values (see [`Geom::from_dali`]).
    pub fn new(geom: &Geom) -> Result<Prepared, GeomError> {
        let shape = match *geom {
            Geom::Point { lon, lat } => {
                let (lon, lat) = check_pos(lon, lat)?;
                Shape::Point(unit(lon, lat))
            }
            Geom::Circle { lon, lat, radius } => {
                let (lon, lat) = check_pos(lon, lat)?;
                Shape::Circle(unit(lon, lat), check_radius(radius)?.to_radians())
            }
            Geom::Polygon(ref v) => {
                for &(lon, lat) in v {
                    check_pos(lon, lat)?;
                }
                Shape::Polygon(SphPolygon::new(v)?)
            }
        };
        Ok(Prepared {
            geom: geom.clone(),
            shape,
        })
    }

    /// [`Geom::from_dali`] then [`Prepared::new`].
    pub fn from_dali(values: &[f64]) -> Result<Prepared, GeomError> {
        Prepared::new(&Geom::from_dali(values)?)
    }

    /// The geometry this was prepared from.
    pub fn geom(&self) -> &Geom {
        &self.geom
    }

    /// Whether the position (`lon`, `lat`), degrees, is inside or on the
    /// boundary: the `adql_in_geom` kernel.
    #[inline]
    pub fn contains_point(&self, lon: f64, lat: f64) -> bool {
        self.contains_vec(unit(lon, lat))
    }

    #[inline]
    fn contains_vec(&self, p: V3) -> bool {
        match &self.shape {
            Shape::Point(q) => angle(*q, p) <= EPS_RAD,
            Shape::Circle(c, r) => {
                let d = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
                dot(d, d) <= chord2_threshold(*r)
            }
            Shape::Polygon(poly) => poly.contains(p),
        }
    }

    /// Whether `self` lies entirely within `outer` (boundary inclusive):
    /// ADQL `CONTAINS(self, outer)`.
    pub fn within(&self, outer: &Prepared) -> bool {
        use Shape::*;
        match (&self.shape, &outer.shape) {
            (Point(p), _) => outer.contains_vec(*p),
            (Circle(c, r), Point(q)) => *r <= EPS_RAD && angle(*c, *q) <= EPS_RAD,
            (Circle(c1, r1), Circle(c2, r2)) => {
                *r2 >= PI - EPS_RAD || angle(*c1, *c2) + r1 <= r2 + EPS_RAD
            }
            (Circle(c, r), Polygon(poly)) => {
                poly.contains(*c) && poly.boundary_dist(*c) >= r - EPS_RAD
            }
            (Polygon(_), Point(_)) => false,
            (Polygon(poly), Circle(c, r)) => {
                if *r >= PI - EPS_RAD {
                    return true;
                }
                let anti = neg(*c);
                // Every edge within r of the centre, i.e. at least π - r from
                // the antipode; and the antipode's neighbourhood not enclosed.
                (0..poly.n()).all(|i| poly.edge_dist(i, anti) >= PI - r - EPS_RAD)
                    && !poly.strictly_contains(anti)
            }
            (Polygon(a), Polygon(b)) => a.within(b),
        }
    }

    /// Whether the two shapes share at least one point (boundary inclusive):
    /// ADQL `INTERSECTS`.
    pub fn intersects(&self, other: &Prepared) -> bool {
        use Shape::*;
        match (&self.shape, &other.shape) {
            (Point(p), _) => other.contains_vec(*p),
            (_, Point(p)) => self.contains_vec(*p),
            (Circle(c1, r1), Circle(c2, r2)) => angle(*c1, *c2) <= r1 + r2 + EPS_RAD,
            (Circle(c, r), Polygon(poly)) | (Polygon(poly), Circle(c, r)) => {
                poly.contains(*c) || poly.boundary_dist(*c) <= r + EPS_RAD
            }
            (Polygon(a), Polygon(b)) => {
                a.contains(b.v[0]) || b.contains(a.v[0]) || a.edges_touch(b)
            }
        }
    }

    /// Area, square degrees: 0 for a point, `2π(1 − cos r)` for a circle, the
    /// spherical excess of the (smaller) region for a polygon.
    pub fn area_sq_deg(&self) -> f64 {
        match &self.shape {
            Shape::Point(_) => 0.0,
            Shape::Circle(_, r) => {
                let s = (r / 2.0).sin();
                4.0 * PI * s * s * SQ_DEG_PER_SR
            }
            Shape::Polygon(p) => p.area * SQ_DEG_PER_SR,
        }
    }

    /// Centroid (lon in `[0, 360)`, lat), degrees: the point itself, the
    /// circle's centre, or for a polygon the normalised mean of its (distinct)
    /// vertices' unit vectors — what DaCHS/pgsphere return, not the area
    /// centroid (the two agree for regular shapes and differ little for small
    /// ones).
    pub fn centroid(&self) -> (f64, f64) {
        match (&self.geom, &self.shape) {
            (Geom::Point { lon, lat } | Geom::Circle { lon, lat, .. }, _) => (*lon, *lat),
            (_, Shape::Polygon(p)) => lonlat(p.centroid),
            (_, Shape::Point(p) | Shape::Circle(p, _)) => lonlat(*p),
        }
    }
}

// ---------------------------------------------------------------------------
// Free functions over Geom.

/// ADQL `CONTAINS(a, b)`: whether `a` lies within `b` (boundary inclusive).
/// Covers every pair of point, circle and polygon. Invalid geometries (which
/// [`Geom::from_dali`] never builds) give `false`.
pub fn contains(a: &Geom, b: &Geom) -> bool {
    match (Prepared::new(a), Prepared::new(b)) {
        (Ok(a), Ok(b)) => a.within(&b),
        _ => false,
    }
}

/// ADQL `INTERSECTS(a, b)`: whether the shapes share a point (boundary
/// inclusive; a point argument makes it a `CONTAINS`). Invalid geometries
/// give `false`.
pub fn intersects(a: &Geom, b: &Geom) -> bool {
    match (Prepared::new(a), Prepared::new(b)) {
        (Ok(a), Ok(b)) => a.intersects(&b),
        _ => false,
    }
}

/// ADQL `AREA`, square degrees (see [`Prepared::area_sq_deg`]); NaN for an
/// invalid geometry.
pub fn area_sq_deg(g: &Geom) -> f64 {
    Prepared::new(g).map_or(f64::NAN, |p| p.area_sq_deg())
}

/// ADQL `CENTROID`, degrees (see [`Prepared::centroid`]: for polygons the
/// normalised vertex mean, as DaCHS). An invalid geometry gives its first
/// coordinates.
pub fn centroid(g: &Geom) -> (f64, f64) {
    match Prepared::new(g) {
        Ok(p) => p.centroid(),
        Err(_) => match g {
            Geom::Point { lon, lat } | Geom::Circle { lon, lat, .. } => (*lon, *lat),
            Geom::Polygon(v) => v.first().copied().unwrap_or((f64::NAN, f64::NAN)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::sphere::ConeTest;
    use crate::geometry::testutil::*;
    use std::f64::consts::TAU;

    /// Even-odd rule in the plane.
    fn planar_inside(poly: &[(f64, f64)], x: f64, y: f64) -> bool {
        let mut inside = false;
        let n = poly.len();
        for i in 0..n {
            let (x1, y1) = poly[i];
            let (x2, y2) = poly[(i + 1) % n];
            if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
                inside = !inside;
            }
        }
        inside
    }

    #[test]
    fn point_in_circle_boundary_inclusive() {
        assert!(contains(&pt(0.0, 1.0), &circ(0.0, 0.0, 1.0)));
        assert!(contains(&pt(1.0, 0.0), &circ(0.0, 0.0, 1.0)));
        assert!(!contains(&pt(0.0, 1.000_001), &circ(0.0, 0.0, 1.0)));
        assert!(contains(&pt(25.0, -19.5), &circ(25.4, -20.0, 10.0)));
        assert!(contains(&pt(10.0, 20.0), &circ(10.0, 20.5, 1.0)));
        assert!(!contains(&pt(10.0, 20.0), &circ(10.0, 21.5, 1.0)));
        // Across RA = 0.
        assert!(contains(&pt(359.8, 0.0), &circ(0.2, 0.0, 0.5)));
        assert!(!contains(&pt(359.0, 0.0), &circ(0.2, 0.0, 0.5)));
        // Around the pole.
        assert!(contains(&pt(123.0, 89.5), &circ(300.0, 89.5, 1.01)));
        assert!(contains(&pt(0.0, 90.0), &circ(77.0, 89.0, 1.0)));
        // Whole sky.
        assert!(contains(&pt(180.0, -90.0), &circ(0.0, 90.0, 180.0)));
        // Zero radius contains its centre only.
        assert!(contains(&pt(10.0, 10.0), &circ(10.0, 10.0, 0.0)));
        assert!(!contains(&pt(10.0, 10.0001), &circ(10.0, 10.0, 0.0)));
        assert!(in_circle(0.0, 1.0, 0.0, 0.0, 1.0));
        assert!(!in_circle(0.0, 1.0, 0.0, 0.0, -1.0));
        assert!(!in_circle(0.0, 1.0, 0.0, 0.0, f64::NAN));
    }

    #[test]
    fn tiny_circles() {
        let arcsec = 1.0 / 3600.0;
        for &(lon, lat) in &[(10.0, 20.0), (0.0, 0.0), (180.0, -89.99), (359.9999, 60.0)] {
            let c = circ(lon, lat, arcsec);
            for k in 0..16 {
                let az = k as f64 * TAU / 16.0;
                let (a, b) = offset(lon, lat, 0.999 * arcsec, az);
                assert!(contains(&pt(a, b), &c), "{lon} {lat} {k}");
                let (a, b) = offset(lon, lat, 1.001 * arcsec, az);
                assert!(!contains(&pt(a, b), &c), "{lon} {lat} {k}");
            }
        }
        // 1 mas circle.
        let mas = arcsec / 1000.0;
        assert!(contains(
            &pt(10.0, 20.0 + 0.99 * mas),
            &circ(10.0, 20.0, mas)
        ));
        assert!(!contains(
            &pt(10.0, 20.0 + 1.01 * mas),
            &circ(10.0, 20.0, mas)
        ));
    }

    #[test]
    fn point_in_polygon_ra_wrap_and_orientation() {
        let sq = [359.0, -1.0, 1.0, -1.0, 1.0, 1.0, 359.0, 1.0];
        let mut rev = sq.chunks(2).rev().flatten().copied().collect::<Vec<_>>();
        for v in [sq.to_vec(), std::mem::take(&mut rev)] {
            let p = poly(&v);
            assert!(contains(&pt(0.0, 0.0), &p));
            assert!(contains(&pt(359.5, 0.5), &p));
            assert!(contains(&pt(0.5, -0.5), &p));
            assert!(contains(&pt(-0.5, -0.5), &p));
            assert!(!contains(&pt(2.0, 0.0), &p));
            assert!(!contains(&pt(358.0, 0.0), &p));
            assert!(!contains(&pt(180.0, 0.0), &p));
            // Vertices and edges are inside.
            assert!(contains(&pt(359.0, -1.0), &p));
            assert!(contains(&pt(0.0, -1.0), &p));
            assert!(close(area_sq_deg(&p), 4.0, 1e-3));
        }
    }

    #[test]
    fn polygons_around_poles() {
        let north: [f64; 8] = [0.0, 80.0, 90.0, 80.0, 180.0, 80.0, 270.0, 80.0];
        let south = [0.0, -80.0, 270.0, -80.0, 180.0, -80.0, 90.0, -80.0];
        for v in [north, south] {
            let sgn = v[1].signum();
            for rev in [false, true] {
                let mut v = v.to_vec();
                if rev {
                    v = v.chunks(2).rev().flatten().copied().collect();
                }
                let p = poly(&v);
                assert!(contains(&pt(0.0, 90.0 * sgn), &p));
                // Edges are great circles: they bulge poleward between
                // vertices, to 82.9° at longitude 45.
                assert!(contains(&pt(45.0, 83.1 * sgn), &p));
                assert!(!contains(&pt(45.0, 82.7 * sgn), &p));
                assert!(contains(&pt(0.0, 80.5 * sgn), &p));
                assert!(!contains(&pt(0.0, 0.0), &p));
                assert!(!contains(&pt(0.0, -89.0 * sgn), &p));
                let a = area_sq_deg(&p);
                assert!(
                    a > 100.0 && a < 2.0 * PI * (1.0 - 80f64.to_radians().sin()) * SQ_DEG_PER_SR
                );
            }
        }
    }

    #[test]
    fn concave_polygon() {
        // An L shape (concave) near RA 0.
        let l = [
            358.0, 0.0, 2.0, 0.0, 2.0, 1.0, 359.0, 1.0, 359.0, 3.0, 358.0, 3.0,
        ];
        let p = poly(&l);
        assert!(contains(&pt(358.5, 2.0), &p));
        assert!(contains(&pt(1.0, 0.5), &p));
        assert!(!contains(&pt(1.0, 2.0), &p));
        assert!(!contains(&pt(0.0, 2.5), &p));
        assert!(contains(&pt(359.0, 2.0), &p)); // on the inner edge
        let rp = poly(&l.chunks(2).rev().flatten().copied().collect::<Vec<_>>());
        assert!(contains(&pt(358.5, 2.0), &rp));
        assert!(!contains(&pt(1.0, 2.0), &rp));
        assert!(close(area_sq_deg(&p), area_sq_deg(&rp), 1e-9));
        assert!(close(area_sq_deg(&p), 6.0, 0.01), "{}", area_sq_deg(&p));
    }

    #[test]
    fn brute_force_point_in_polygon() {
        let mut rng = Rng(42);
        let mut n_in = 0;
        for _ in 0..300 {
            let (lon, lat) = rng.pos();
            let c = unit(lon, lat);
            let max_r = 10f64.powf(rng.range(-3.0, 1.6));
            let (sph, plane) = star_polygon(&mut rng, c, max_r);
            let g = Geom::polygon(sph.clone()).unwrap();
            let prep = Prepared::new(&g).unwrap();
            let (e, n) = basis(c);
            for _ in 0..200 {
                let (a, b) = offset(lon, lat, max_r * rng.range(0.0, 1.3), rng.range(0.0, TAU));
                let p = unit(a, b);
                let (x, y) = (dot(p, e) / dot(p, c), dot(p, n) / dot(p, c));
                let expected = planar_inside(&plane, x, y);
                let Shape::Polygon(sp) = &prep.shape else {
                    unreachable!()
                };
                if sp.boundary_dist(p) < 1e-9 {
                    continue;
                }
                assert_eq!(prep.contains_point(a, b), expected, "{sph:?} {a} {b}");
                assert_eq!(contains(&pt(a, b), &g), expected);
                n_in += usize::from(expected);
            }
            // Far away points are out.
            let (a, b) = lonlat(neg(c));
            assert!(!prep.contains_point(a, b));
        }
        assert!(n_in > 10_000, "{n_in}");
    }

    #[test]
    fn brute_force_point_in_circle() {
        let mut rng = Rng(7);
        for _ in 0..2000 {
            let (lon, lat) = rng.pos();
            let r = 10f64.powf(rng.range(-5.0, 2.2));
            let g = circ(lon, lat, r.min(180.0));
            let prep = Prepared::new(&g).unwrap();
            let cone = ConeTest::new(lon, lat, r.min(180.0));
            for _ in 0..20 {
                let (a, b) = offset(lon, lat, r * rng.range(0.0, 2.0), rng.range(0.0, TAU));
                let d = distance_deg(lon, lat, a, b);
                if (d - r).abs() < 1e-9 {
                    continue;
                }
                let expected = d <= r;
                assert_eq!(prep.contains_point(a, b), expected);
                assert_eq!(cone.contains(a, b), expected);
                assert_eq!(in_circle(a, b, lon, lat, r), expected);
            }
        }
    }

    #[test]
    fn circle_and_polygon_relations() {
        let c = circ(10.0, 10.0, 2.0);
        assert!(contains(&circ(10.5, 10.0, 1.0), &c));
        assert!(contains(&c, &c));
        assert!(!contains(&circ(11.5, 10.0, 1.0), &c));
        assert!(!contains(&c, &circ(10.5, 10.0, 1.0)));
        assert!(contains(&c, &circ(0.0, 0.0, 180.0)));
        assert!(intersects(&circ(11.5, 10.0, 1.0), &c));
        assert!(intersects(&circ(13.0, 10.0, 1.0), &c)); // tangent, d≈2.95 < 3
        assert!(!intersects(&circ(14.0, 10.0, 0.5), &c));
        // Circle in polygon.
        let sq = poly(&[8.0, 8.0, 12.0, 8.0, 12.0, 12.0, 8.0, 12.0]);
        assert!(contains(&circ(10.0, 10.0, 1.9), &sq));
        assert!(!contains(&circ(10.0, 10.0, 2.1), &sq));
        assert!(!contains(&circ(20.0, 10.0, 0.1), &sq));
        assert!(intersects(&circ(10.0, 10.0, 2.1), &sq));
        assert!(intersects(&circ(13.0, 10.0, 1.1), &sq));
        assert!(!intersects(&circ(13.0, 10.0, 0.9), &sq));
        assert!(intersects(&circ(10.0, 10.0, 30.0), &sq)); // polygon inside circle
        assert!(intersects(&sq, &circ(10.0, 10.0, 0.1))); // circle inside polygon
                                                          // Polygon in circle.
        assert!(contains(&sq, &circ(10.0, 10.0, 3.0)));
        assert!(!contains(&sq, &circ(10.0, 10.0, 2.5)));
        assert!(!contains(&sq, &circ(40.0, 10.0, 3.0)));
        // Large circles (not convex).
        // The complement cap (radius 5) around (10, -10) misses the square...
        assert!(contains(&sq, &circ(190.0, 10.0, 175.0)));
        // ...around (10, 10) it is inside the square...
        assert!(!contains(&sq, &circ(190.0, -10.0, 175.0)));
        // ...and with radius 25 around (10, -10) it overlaps the square.
        assert!(!contains(&sq, &circ(190.0, 10.0, 155.0)));
        // Polygon in polygon.
        let inner = poly(&[9.0, 9.0, 11.0, 9.0, 11.0, 11.0, 9.0, 11.0]);
        assert!(contains(&inner, &sq));
        assert!(!contains(&sq, &inner));
        assert!(contains(&sq, &sq));
        assert!(intersects(&sq, &inner));
        let shifted = poly(&[11.0, 9.0, 13.0, 9.0, 13.0, 11.0, 11.0, 11.0]);
        assert!(!contains(&shifted, &sq));
        assert!(intersects(&shifted, &sq));
        let far = poly(&[20.0, 9.0, 23.0, 9.0, 23.0, 11.0, 20.0, 11.0]);
        assert!(!intersects(&far, &sq));
        assert!(!contains(&far, &sq));
        // Crossing without any vertex inside the other: a plus sign.
        let h = poly(&[5.0, 9.5, 15.0, 9.5, 15.0, 10.5, 5.0, 10.5]);
        let v = poly(&[9.5, 5.0, 10.5, 5.0, 10.5, 15.0, 9.5, 15.0]);
        assert!(intersects(&h, &v));
        assert!(!contains(&h, &v));
        // Sharing an edge touches.
        let left = poly(&[6.0, 8.0, 8.0, 8.0, 8.0, 12.0, 6.0, 12.0]);
        assert!(intersects(&left, &sq));
        // Concave container: a polygon whose vertices are all inside the
        // L shape but crosses its notch.
        let l = poly(&[0.0, 0.0, 4.0, 0.0, 4.0, 1.0, 1.0, 1.0, 1.0, 4.0, 0.0, 4.0]);
        let across = poly(&[0.5, 3.0, 3.0, 0.5, 3.5, 0.5, 0.5, 3.5]);
        assert!(!contains(&across, &l));
        assert!(intersects(&across, &l));
        let tucked = poly(&[0.2, 0.2, 0.8, 0.2, 0.8, 3.0, 0.2, 3.0]);
        assert!(contains(&tucked, &l));
        // Points.
        assert!(contains(&pt(1.0, 2.0), &pt(1.0, 2.0)));
        assert!(!contains(&pt(1.0, 2.0), &pt(1.0, 2.001)));
        assert!(intersects(&pt(10.0, 10.0), &sq));
        assert!(intersects(&sq, &pt(10.0, 10.0)));
        assert!(!contains(&sq, &pt(10.0, 10.0)));
        assert!(!contains(&c, &pt(10.0, 10.0)));
        assert!(contains(&circ(10.0, 10.0, 0.0), &pt(10.0, 10.0)));
    }

    #[test]
    fn brute_force_polygon_relations() {
        // Polygon-polygon and circle-polygon relations against sampling.
        let mut rng = Rng(99);
        for _ in 0..60 {
            let (lon, lat) = rng.pos();
            let c = unit(lon, lat);
            let (sa, _) = star_polygon(&mut rng, c, 5.0);
            let (lon2, lat2) = offset(lon, lat, rng.range(0.0, 8.0), rng.range(0.0, TAU));
            let (sb, _) = star_polygon(&mut rng, unit(lon2, lat2), 5.0);
            let a = Prepared::new(&Geom::polygon(sa).unwrap()).unwrap();
            let b = Prepared::new(&Geom::polygon(sb).unwrap()).unwrap();
            let mut any_common = false;
            let mut a_out_of_b = false;
            for _ in 0..4000 {
                let (x, y) = offset(lon, lat, rng.range(0.0, 6.0), rng.range(0.0, TAU));
                let (ia, ib) = (a.contains_point(x, y), b.contains_point(x, y));
                any_common |= ia && ib;
                a_out_of_b |= ia && !ib;
            }
            // Sampling can only prove intersection and non-containment.
            if any_common {
                assert!(a.intersects(&b) && b.intersects(&a));
            }
            if a_out_of_b {
                assert!(!a.within(&b));
            }
            if !a.intersects(&b) {
                assert!(!any_common);
            }
            if a.within(&b) {
                assert!(!a_out_of_b);
            }
            let r = rng.range(0.1, 4.0);
            let circle = Prepared::new(&circ(lon2, lat2, r)).unwrap();
            if circle.within(&a) {
                for k in 0..32 {
                    let (x, y) = offset(lon2, lat2, r * 0.999, k as f64 * TAU / 32.0);
                    assert!(a.contains_point(x, y));
                }
            }
            if a.within(&circle) {
                let Geom::Polygon(v) = a.geom() else {
                    unreachable!()
                };
                for &(x, y) in v {
                    assert!(distance_deg(x, y, lon2, lat2) <= r + 1e-9);
                }
            }
        }
    }

    #[test]
    fn areas() {
        let hemi = area_sq_deg(&circ(0.0, 90.0, 90.0));
        assert!(close(hemi, 20626.48, 0.01), "{hemi}");
        let sky = area_sq_deg(&circ(12.0, -3.0, 180.0));
        assert!(close(sky, 41252.96, 0.01), "{sky}");
        assert_eq!(area_sq_deg(&pt(1.0, 2.0)), 0.0);
        let small = area_sq_deg(&circ(0.0, 0.0, 1.0));
        assert!(close(small, PI, 1e-3), "{small}");
        let arcsec = area_sq_deg(&circ(0.0, 0.0, 1.0 / 3600.0));
        assert!(close(arcsec / (PI / 3600.0 / 3600.0), 1.0, 1e-9));
        // Octant, both orientations.
        let oct = [0.0, 0.0, 90.0, 0.0, 0.0, 90.0];
        assert!(close(area_sq_deg(&poly(&oct)), 41252.96 / 8.0, 0.01));
        let rev = [0.0, 90.0, 90.0, 0.0, 0.0, 0.0];
        assert!(close(area_sq_deg(&poly(&rev)), 41252.96 / 8.0, 0.01));
        // Hemisphere-bounding polygon: four vertices on the equator.
        let eq = [0.0, 0.0, 90.0, 0.0, 180.0, 0.0, 270.0, 0.0];
        assert!(close(area_sq_deg(&poly(&eq)), 20626.48, 0.01));
        // Spec example triangle: positive, orientation-independent.
        let t = area_sq_deg(&poly(&[10.0, -10.5, 20.0, 20.5, 30.0, 30.5]));
        let t2 = area_sq_deg(&poly(&[30.0, 30.5, 20.0, 20.5, 10.0, -10.5]));
        assert!(t > 0.0 && close(t, t2, 1e-9));
        // A small box is close to width * height.
        let b = Geom::new_box(100.0, 40.0, 0.2, 0.1).unwrap();
        assert!(close(area_sq_deg(&b), 0.02, 1e-5), "{}", area_sq_deg(&b));
    }

    #[test]
    fn box_follows_the_spec() {
        let b = Geom::new_box(0.0, 0.0, 10.0, 10.0).unwrap();
        assert!(contains(&pt(0.0, 0.0), &b));
        assert!(contains(&pt(4.99, 0.0), &b));
        assert!(!contains(&pt(5.01, 0.0), &b));
        assert!(contains(&pt(0.0, 4.99), &b));
        assert!(!contains(&pt(0.0, 5.01), &b));
        assert!(contains(&pt(0.0, 5.0), &b)); // arm end, on the boundary
                                              // Away from the equator the width arm is a great circle, not a parallel.
        let b = Geom::new_box(25.4, -20.0, 10.0, 10.0).unwrap();
        assert!(contains(&pt(25.4, -20.0), &b));
        assert!(contains(&pt(25.4, -15.01), &b));
        assert!(!contains(&pt(25.4, -14.99), &b));
        let (e_lon, e_lat) = offset(25.4, -20.0, 4.99, 0.0);
        assert!(contains(&pt(e_lon, e_lat), &b));
        let (e_lon, e_lat) = offset(25.4, -20.0, 5.01, 0.0);
        assert!(!contains(&pt(e_lon, e_lat), &b));
        // A box over the pole and one across RA 0.
        let b = Geom::new_box(0.0, 90.0, 2.0, 2.0).unwrap();
        assert!(contains(&pt(123.0, 89.5), &b));
        let b = Geom::new_box(0.0, 0.0, 2.0, 2.0).unwrap();
        assert!(contains(&pt(359.5, 0.5), &b));
        assert!(Geom::new_box(0.0, 0.0, 0.0, 1.0).is_err());
        assert!(Geom::new_box(0.0, 0.0, 180.0, 1.0).is_err());
        assert_eq!(b.xtype(), "polygon");
        assert_eq!(b.to_dali().len(), 8);
    }

    #[test]
    fn centroids() {
        assert_eq!(centroid(&pt(1.0, 2.0)), (1.0, 2.0));
        assert_eq!(centroid(&circ(3.0, 4.0, 1.0)), (3.0, 4.0));
        let (a, b) = centroid(&poly(&[359.0, -1.0, 1.0, -1.0, 1.0, 1.0, 359.0, 1.0]));
        assert!(close(a.min(360.0 - a), 0.0, 1e-12) && close(b, 0.0, 1e-12));
        let (_, b) = centroid(&poly(&[0.0, 80.0, 90.0, 80.0, 180.0, 80.0, 270.0, 80.0]));
        assert!(close(b, 90.0, 1e-9));
        // A repeated closing vertex does not bias it.
        let (a, b) = centroid(&poly(&[0.0, 0.0, 2.0, 0.0, 2.0, 2.0, 0.0, 2.0, 0.0, 0.0]));
        assert!(close(a, 1.0, 1e-3) && close(b, 1.0, 1e-3), "{a} {b}");
    }
}
