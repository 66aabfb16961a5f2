//! The shapes ADQL knows ([`Geom`]): validated construction (BOX as a
//! polygon) and the DALI array form.

use super::error::GeomError;
use super::polygon::SphPolygon;
use super::sphere::{add, lonlat, normalize, scale};

/// A geometry value as ADQL knows it, angles in degrees.
#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    /// A position.
    Point {
        /// Longitude (right ascension), degrees.
        lon: f64,
        /// Latitude (declination), degrees.
        lat: f64,
    },
    /// A spherical cap.
    Circle {
        /// Longitude of the centre, degrees.
        lon: f64,
        /// Latitude of the centre, degrees.
        lat: f64,
        /// Radius, degrees, in `[0, 180]`.
        radius: f64,
    },
    /// A spherical polygon: vertices joined by great-circle arcs, the last back
    /// to the first; the smaller of the two regions the boundary bounds.
    Polygon(Vec<(f64, f64)>),
}

fn check_finite(what: &str, x: f64) -> Result<f64, GeomError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(GeomError::Invalid(format!(
            "{what} must be a finite number, not {x}"
        )))
    }
}

/// Validates a position: finite, latitude within ±90° (values within 1e-9° of
/// the poles are clamped, to absorb rounding).
pub(super) fn check_pos(lon: f64, lat: f64) -> Result<(f64, f64), GeomError> {
    let lon = check_finite("longitude", lon)?;
    let lat = check_finite("latitude", lat)?;
    if lat.abs() > 90.0 + 1e-9 {
        return Err(GeomError::Invalid(format!(
            "latitude {lat} is outside [-90, 90]"
        )));
    }
    Ok((lon, lat.clamp(-90.0, 90.0)))
}

pub(super) fn check_radius(r: f64) -> Result<f64, GeomError> {
    let r = check_finite("radius", r)?;
    if !(0.0..=180.0).contains(&r) {
        return Err(GeomError::Invalid(format!(
            "circle radius {r} is outside [0, 180] degrees"
        )));
    }
    Ok(r)
}

impl Geom {
    /// A validated point.
    pub fn point(lon: f64, lat: f64) -> Result<Geom, GeomError> {
        let (lon, lat) = check_pos(lon, lat)?;
        Ok(Geom::Point { lon, lat })
    }

    /// A validated circle (radius in `[0, 180]`).
    pub fn circle(lon: f64, lat: f64, radius: f64) -> Result<Geom, GeomError> {
        let (lon, lat) = check_pos(lon, lat)?;
        Ok(Geom::Circle {
            lon,
            lat,
            radius: check_radius(radius)?,
        })
    }

    /// A validated polygon: at least 3 distinct vertices, no edge between
    /// antipodal vertices.
    pub fn polygon(vertices: Vec<(f64, f64)>) -> Result<Geom, GeomError> {
        if vertices.len() < 3 {
            return Err(GeomError::Invalid(format!(
                "a POLYGON needs at least 3 vertices, not {}",
                vertices.len()
            )));
        }
        let mut v = Vec::with_capacity(vertices.len());
        for (lon, lat) in vertices {
            v.push(check_pos(lon, lat)?);
        }
        SphPolygon::new(&v)?;
        Ok(Geom::Polygon(v))
    }

    /// The ADQL 2.0 `BOX(lon, lat, width, height)` (all degrees) as a polygon,
    /// following the spec (after STC): a cross centred on the centre, arms
    /// along the coordinate axes at the centre (the meridian and the great
    /// circle perpendicular to it) extending half the width and height to
    /// either side; the sides are the great circles through the arms'
    /// endpoints at right angles to the arms, and the vertices where adjacent
    /// sides meet. Width and height must be in `(0, 180)`.
    pub fn new_box(lon: f64, lat: f64, width: f64, height: f64) -> Result<Geom, GeomError> {
        let (lon, lat) = check_pos(lon, lat)?;
        let width = check_finite("box width", width)?;
        let height = check_finite("box height", height)?;
        if !(width > 0.0 && width < 180.0 && height > 0.0 && height < 180.0) {
            return Err(GeomError::Invalid(format!(
                "BOX width and height must be in (0, 180) degrees, not {width} and {height}"
            )));
        }
        Ok(Geom::Polygon(box_vertices(lon, lat, width, height)))
    }

    /// Builds a geometry from a DALI double array, by length: 2 → point,
    /// 3 → circle, even ≥ 6 → polygon; validated.
    pub fn from_dali(values: &[f64]) -> Result<Geom, GeomError> {
        match values.len() {
            2 => Geom::point(values[0], values[1]),
            3 => Geom::circle(values[0], values[1], values[2]),
            n if n >= 6 && n % 2 == 0 => {
                Geom::polygon(values.chunks_exact(2).map(|c| (c[0], c[1])).collect())
            }
            n => Err(GeomError::DaliLength(n)),
        }
    }

    /// The DALI double array of this geometry.
    pub fn to_dali(&self) -> Vec<f64> {
        match self {
            Geom::Point { lon, lat } => vec![*lon, *lat],
            Geom::Circle { lon, lat, radius } => vec![*lon, *lat, *radius],
            Geom::Polygon(v) => v.iter().flat_map(|&(a, b)| [a, b]).collect(),
        }
    }

    /// The DALI xtype: `point`, `circle` or `polygon`.
    pub fn xtype(&self) -> &'static str {
        match self {
            Geom::Point { .. } => "point",
            Geom::Circle { .. } => "circle",
            Geom::Polygon(_) => "polygon",
        }
    }
}

/// Box vertices per the ADQL/STC definition (see [`Geom::new_box`]), in
/// counter-clockwise order as seen from outside the sphere (NE, NW, SW, SE).
fn box_vertices(lon: f64, lat: f64, width: f64, height: f64) -> Vec<(f64, f64)> {
    let (sa, ca) = (height / 2.0).to_radians().sin_cos();
    let (sb, cb) = (width / 2.0).to_radians().sin_cos();
    // Local frame: x towards the centre, y east, z north. The side through the
    // north arm's end (cos a, 0, sin a) perpendicular to the arm contains the
    // east direction; the side through the east arm's end contains the north
    // direction; they meet at (cos a cos b, cos a sin b, sin a cos b).
    let (sl, cl) = lon.to_radians().sin_cos();
    let (sp, cp) = lat.to_radians().sin_cos();
    let x = [cp * cl, cp * sl, sp];
    let e = [-sl, cl, 0.0];
    let n = [-sp * cl, -sp * sl, cp];
    [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)]
        .iter()
        .map(|&(ey, nz)| {
            let local = [ca * cb, ey * ca * sb, nz * sa * cb];
            let g = add(
                add(scale(x, local[0]), scale(e, local[1])),
                scale(n, local[2]),
            );
            lonlat(normalize(g))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dali_round_trip_and_errors() {
        let g = Geom::from_dali(&[10.0, 20.0]).unwrap();
        assert_eq!(
            g,
            Geom::Point {
                lon: 10.0,
                lat: 20.0
            }
        );
        assert_eq!(g.xtype(), "point");
        assert_eq!(g.to_dali(), vec![10.0, 20.0]);
        let g = Geom::from_dali(&[10.0, 20.0, 0.5]).unwrap();
        assert_eq!(g.xtype(), "circle");
        assert_eq!(g.to_dali(), vec![10.0, 20.0, 0.5]);
        let v = [10.0, -10.5, 20.0, 20.5, 30.0, 30.5];
        let g = Geom::from_dali(&v).unwrap();
        assert_eq!(g.xtype(), "polygon");
        assert_eq!(g.to_dali(), v.to_vec());
        for n in [0, 1, 4, 5, 7] {
            assert_eq!(
                Geom::from_dali(&vec![1.0; n]).unwrap_err(),
                GeomError::DaliLength(n)
            );
        }
        assert!(Geom::from_dali(&[f64::NAN, 1.0]).is_err());
        assert!(Geom::from_dali(&[1.0, 91.0]).is_err());
        assert!(Geom::from_dali(&[1.0, 1.0, -1.0]).is_err());
        assert!(Geom::from_dali(&[1.0, 1.0, 181.0]).is_err());
        // Three vertices but only two distinct.
        assert!(Geom::from_dali(&[1.0, 1.0, 1.0, 1.0, 2.0, 2.0]).is_err());
        // Latitude rounding beyond the pole is clamped.
        assert_eq!(
            Geom::point(5.0, 90.0 + 1e-12).unwrap(),
            Geom::Point {
                lon: 5.0,
                lat: 90.0
            }
        );
        let msg = GeomError::DaliLength(4).to_string();
        assert!(msg.contains("not 4"), "{msg}");
    }
}
