//! STC-S and DALI strings: parsing `REGION` arguments (with frame
//! conversion to ICRS) and writing a geometry as STC-S.

use super::error::GeomError;
use super::shapes::{check_pos, Geom};
use super::sphere::{lonlat, mat_mul, unit};

impl Geom {
    /// The STC-S form (`Position ICRS lon lat`, `Circle ICRS ...`,
    /// `Polygon ICRS ...`), as ObsCore `s_region` strings are written.
    pub fn to_stcs(&self) -> String {
        let nums: Vec<String> = self.to_dali().iter().map(|x| format!("{x}")).collect();
        let shape = match self {
            Geom::Point { .. } => "Position",
            Geom::Circle { .. } => "Circle",
            Geom::Polygon(_) => "Polygon",
        };
        format!("{shape} ICRS {}", nums.join(" "))
    }
}

/// Galactic → ICRS rotation (transpose of the Hipparcos `A_G`, ESA SP-1200
/// vol. 1 eq. 1.5.11).
const GAL_TO_ICRS: [[f64; 3]; 3] = [
    [-0.054_875_560_4, 0.494_109_427_9, -0.867_666_149_0],
    [-0.873_437_090_2, -0.444_829_630_0, -0.198_076_373_4],
    [-0.483_835_015_5, 0.746_982_244_5, 0.455_983_776_2],
];

/// FK4 (B1950) → FK5 (J2000) rotation for positions (the position block of
/// the Standish/Aoki matrix, Explanatory Supplement 1992 eq. 3.591-4); the
/// E-terms of aberration and fictitious proper motions are ignored (errors of
/// the order of an arcsecond).
const FK4_TO_FK5: [[f64; 3]; 3] = [
    [0.999_925_678_2, -0.011_182_061_1, -0.004_857_947_7],
    [0.011_182_061_0, 0.999_937_478_4, -0.000_027_176_5],
    [0.004_857_947_9, -0.000_027_147_4, 0.999_988_199_7],
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Frame {
    Icrs,
    Galactic,
    Fk4,
}

fn frame_of(tok: &str) -> Option<Frame> {
    match tok.to_ascii_uppercase().as_str() {
        "ICRS" | "FK5" | "J2000" | "UNKNOWNFRAME" => Some(Frame::Icrs),
        "GALACTIC" | "GALACTIC_II" => Some(Frame::Galactic),
        "FK4" | "B1950" => Some(Frame::Fk4),
        _ => None,
    }
}

const UNSUPPORTED_FRAMES: &[&str] = &[
    "ECLIPTIC",
    "GALACTIC_I",
    "SUPER_GALACTIC",
    "GEO_C",
    "GEO_D",
    "MAG",
    "GSE",
    "GSM",
    "SM",
    "HGC",
    "HGS",
    "HEEQ",
    "HRTN",
    "HPC",
    "HPR",
    "HCC",
    "HGI",
    "MERCURY_C",
    "VENUS_C",
    "LUNA_C",
    "MARS_C",
    "JUPITER_C_III",
    "SATURN_C_III",
    "URANUS_C_III",
    "NEPTUNE_C_III",
    "PLUTO_C",
];

const REFPOS: &[&str] = &[
    "BARYCENTER",
    "GEOCENTER",
    "TOPOCENTER",
    "HELIOCENTER",
    "LSR",
    "LSRK",
    "LSRD",
    "GALACTIC_CENTER",
    "LOCAL_GROUP_CENTER",
    "EMBARYCENTER",
    "MOON",
    "MERCURY",
    "VENUS",
    "MARS",
    "JUPITER",
    "SATURN",
    "URANUS",
    "NEPTUNE",
    "PLUTO",
    "RELOCATABLE",
    "UNKNOWNREFPOS",
];

fn is_one_of(tok: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(tok))
}

fn syntax(toks: &[&str], i: usize, message: impl Into<String>) -> GeomError {
    GeomError::Syntax {
        position: i + 1,
        token: toks.get(i).map_or("<end>".to_string(), |t| t.to_string()),
        message: message.into(),
    }
}

fn to_icrs(frame: Frame, lon: f64, lat: f64) -> (f64, f64) {
    match frame {
        Frame::Icrs => (lon, lat),
        Frame::Galactic => lonlat(mat_mul(&GAL_TO_ICRS, unit(lon, lat))),
        Frame::Fk4 => lonlat(mat_mul(&FK4_TO_FK5, unit(lon, lat))),
    }
}

/// Parses an STC-S region as ADQL `REGION` accepts it:
///
/// ```text
/// Position [frame] [refpos] [flavor] lon lat
/// Circle   [fillfactor f] [frame] [refpos] [flavor] lon lat radius
/// Box      [fillfactor f] [frame] [refpos] [flavor] lon lat width height
/// Polygon  [fillfactor f] [frame] [refpos] [flavor] lon lat lon lat lon lat ...
/// ```
///
/// optionally followed by `unit deg`. Keywords are case-insensitive. Frames:
/// `ICRS`, `FK5`, `J2000`, `UNKNOWNFrame` (taken as ICRS; FK5/J2000 differ
/// from ICRS by tens of mas), `GALACTIC` (rotated to ICRS exactly) and
/// `FK4`/`B1950` (rotated to FK5 J2000 ignoring E-terms, about 1″). Reference
/// positions (`BARYCENTER`, `GEOCENTER`, `TOPOCENTER`, `UNKNOWNRefPos`, ...)
/// and the `SPHERICAL2` flavor are skipped. `Union`, `Intersection`,
/// `Difference` and `Not` are rejected with [`GeomError::Unsupported`].
/// Errors say what was expected and at which (1-based) token.
pub fn parse_stcs(s: &str) -> Result<Geom, GeomError> {
    let toks: Vec<&str> = s.split_whitespace().collect();
    let Some(first) = toks.first() else {
        return Err(syntax(
            &toks,
            0,
            "expected a shape (Position, Circle, Box or Polygon)",
        ));
    };
    let shape = first.to_ascii_uppercase();
    let shape_name = match shape.as_str() {
        "POSITION" | "CIRCLE" | "BOX" | "POLYGON" => shape.as_str(),
        s if s.starts_with("UNION")
            || s.starts_with("INTERSECTION")
            || s.starts_with("DIFFERENCE")
            || s.starts_with("NOT") =>
        {
            return Err(GeomError::Unsupported(format!(
                "STC-S {first} regions are not supported: use a single Position, Circle, Box or Polygon"
            )));
        }
        _ => {
            return Err(syntax(
                &toks,
                0,
                "expected a shape (Position, Circle, Box or Polygon)",
            ))
        }
    };
    let mut i = 1;
    if shape_name != "POSITION"
        && toks
            .get(i)
            .is_some_and(|t| t.eq_ignore_ascii_case("fillfactor"))
    {
        i += 1;
        match toks.get(i).map(|t| t.parse::<f64>()) {
            Some(Ok(_)) => i += 1,
            _ => return Err(syntax(&toks, i, "expected a number after fillfactor")),
        }
    }
    let mut frame = Frame::Icrs;
    if let Some(t) = toks.get(i) {
        if let Some(f) = frame_of(t) {
            frame = f;
            i += 1;
        } else if is_one_of(t, UNSUPPORTED_FRAMES) {
            return Err(GeomError::Unsupported(format!(
                "STC-S frame {t} is not supported (use ICRS, FK5, FK4 or GALACTIC)"
            )));
        }
    }
    if toks.get(i).is_some_and(|t| is_one_of(t, REFPOS)) {
        i += 1;
    }
    if let Some(t) = toks.get(i) {
        if t.eq_ignore_ascii_case("SPHERICAL2") {
            i += 1;
        } else if is_one_of(
            t,
            &[
                "CARTESIAN1",
                "CARTESIAN2",
                "CARTESIAN3",
                "SPHERICAL3",
                "UNITSPHERE",
            ],
        ) {
            return Err(GeomError::Unsupported(format!(
                "STC-S flavor {t} is not supported (only SPHERICAL2)"
            )));
        }
    }
    let names: &[&str] = match shape_name {
        "POSITION" => &["longitude", "latitude"],
        "CIRCLE" => &["centre longitude", "centre latitude", "radius"],
        "BOX" => &["centre longitude", "centre latitude", "width", "height"],
        _ => &[],
    };
    let mut nums = Vec::new();
    for name in names {
        match toks.get(i).map(|t| t.parse::<f64>()) {
            Some(Ok(x)) => nums.push(x),
            _ => return Err(syntax(&toks, i, format!("expected a number ({name})"))),
        }
        i += 1;
    }
    if names.is_empty() {
        while let Some(Ok(x)) = toks.get(i).map(|t| t.parse::<f64>()) {
            nums.push(x);
            i += 1;
        }
        if nums.len() < 6 || nums.len() % 2 == 1 {
            return Err(syntax(
                &toks,
                i,
                format!(
                    "expected a number (Polygon needs at least 3 lon/lat pairs, got {} numbers)",
                    nums.len()
                ),
            ));
        }
    }
    if toks.get(i).is_some_and(|t| t.eq_ignore_ascii_case("unit")) {
        if toks
            .get(i + 1)
            .is_some_and(|t| t.eq_ignore_ascii_case("deg"))
        {
            i += 2;
        } else {
            return Err(syntax(
                &toks,
                i + 1,
                "expected unit deg (the only unit supported)",
            ));
        }
    }
    if i < toks.len() {
        return Err(syntax(&toks, i, "expected end of region"));
    }
    match shape_name {
        "POSITION" => {
            let (lon, lat) = check_pos(nums[0], nums[1])?;
            let (lon, lat) = to_icrs(frame, lon, lat);
            Geom::point(lon, lat)
        }
        "CIRCLE" => {
            let (lon, lat) = check_pos(nums[0], nums[1])?;
            let (lon, lat) = to_icrs(frame, lon, lat);
            Geom::circle(lon, lat, nums[2])
        }
        "BOX" => match Geom::new_box(nums[0], nums[1], nums[2], nums[3])? {
            Geom::Polygon(v) => Geom::polygon(
                v.into_iter()
                    .map(|(lon, lat)| to_icrs(frame, lon, lat))
                    .collect(),
            ),
            g => Ok(g),
        },
        _ => {
            let mut v = Vec::with_capacity(nums.len() / 2);
            for c in nums.chunks_exact(2) {
                let (lon, lat) = check_pos(c[0], c[1])?;
                v.push(to_icrs(frame, lon, lat));
            }
            Geom::polygon(v)
        }
    }
}

/// Parses the DALI string form of a double array (`"10 20"`,
/// `"10 20 0.5"`, ...; commas are accepted as separators too).
pub fn parse_dali_values(s: &str) -> Result<Vec<f64>, GeomError> {
    let toks: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    toks.iter()
        .enumerate()
        .map(|(i, t)| {
            t.parse::<f64>()
                .map_err(|_| syntax(&toks, i, "expected a number in a DALI array"))
        })
        .collect()
}

/// Parses a geometry written as text: STC-S when it starts with a letter
/// (see [`parse_stcs`]), otherwise a DALI array string (see
/// [`parse_dali_values`], [`Geom::from_dali`]).
pub fn parse_geom_text(s: &str) -> Result<Geom, GeomError> {
    let t = s.trim_start();
    if t.starts_with(|c: char| c.is_ascii_alphabetic()) {
        parse_stcs(t)
    } else {
        Geom::from_dali(&parse_dali_values(t)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::sphere::dot;
    use crate::geometry::testutil::*;

    #[test]
    fn stcs_parsing() {
        assert_eq!(parse_stcs("Position ICRS 10 20").unwrap(), pt(10.0, 20.0));
        assert_eq!(parse_stcs("position 10 20").unwrap(), pt(10.0, 20.0));
        assert_eq!(
            parse_stcs("CIRCLE ICRS GEOCENTER 10 20 0.5").unwrap(),
            circ(10.0, 20.0, 0.5)
        );
        assert_eq!(
            parse_stcs("Circle fillfactor 1.0 FK5 BARYCENTER SPHERICAL2 10 20 0.5 unit deg")
                .unwrap(),
            circ(10.0, 20.0, 0.5)
        );
        assert_eq!(
            parse_stcs("Circle UNKNOWNFrame UNKNOWNRefPos 10 20 0.5").unwrap(),
            circ(10.0, 20.0, 0.5)
        );
        assert_eq!(
            parse_stcs("Polygon J2000 TOPOCENTER 10 -10.5 20 20.5 30 30.5").unwrap(),
            poly(&[10.0, -10.5, 20.0, 20.5, 30.0, 30.5])
        );
        let b = parse_stcs("Box ICRS 25.4 -20 10 10").unwrap();
        assert_eq!(b, Geom::new_box(25.4, -20.0, 10.0, 10.0).unwrap());
        // Galactic: converted to ICRS.
        let Geom::Point { lon, lat } = parse_stcs("Position GALACTIC 0 0").unwrap() else {
            panic!()
        };
        assert!(
            close(lon, 266.4050, 1e-3) && close(lat, -28.9362, 1e-3),
            "{lon} {lat}"
        );
        let Geom::Point { lon, lat } = parse_stcs("Position galactic 0 90").unwrap() else {
            panic!()
        };
        assert!(
            close(lon, 192.8595, 1e-3) && close(lat, 27.1283, 1e-3),
            "{lon} {lat}"
        );
        // FK4: the B1950 equinox point lands at about 0h02m33.8s +0°16'42".
        let Geom::Point { lon, lat } = parse_stcs("Position FK4 0 0").unwrap() else {
            panic!()
        };
        assert!(
            close(lon, 0.6407, 1e-3) && close(lat, 0.2783, 1e-3),
            "{lon} {lat}"
        );
        // Errors.
        let e = parse_stcs("Union ICRS (Circle 1 2 3 Circle 4 5 6)").unwrap_err();
        assert!(matches!(e, GeomError::Unsupported(_)) && e.to_string().contains("Union"));
        let e = parse_stcs("Not (Circle 1 2 3)").unwrap_err();
        assert!(e.to_string().contains("Not"), "{e}");
        let e = parse_stcs("Intersection ICRS (Circle 1 2 3 Circle 4 5 6)").unwrap_err();
        assert!(e.to_string().contains("Intersection"), "{e}");
        let e = parse_stcs("Circle ICRS 10 20").unwrap_err();
        assert_eq!(
            e,
            GeomError::Syntax {
                position: 5,
                token: "<end>".into(),
                message: "expected a number (radius)".into()
            }
        );
        let e = parse_stcs("Circle ICRS 10 foo 1").unwrap_err();
        assert!(
            e.to_string().contains("token 4") && e.to_string().contains("foo"),
            "{e}"
        );
        let e = parse_stcs("Polygon ICRS 1 2 3 4").unwrap_err();
        assert!(e.to_string().contains("Polygon needs at least 3"), "{e}");
        let e = parse_stcs("Polygon ICRS 1 2 3 4 5 6 7").unwrap_err();
        assert!(matches!(e, GeomError::Syntax { .. }), "{e}");
        let e = parse_stcs("Ellipse ICRS 1 2 3 4 5").unwrap_err();
        assert!(e.to_string().contains("expected a shape"), "{e}");
        assert!(parse_stcs("").is_err());
        let e = parse_stcs("Circle ECLIPTIC 1 2 3").unwrap_err();
        assert!(matches!(e, GeomError::Unsupported(_)), "{e}");
        let e = parse_stcs("Circle ICRS 1 2 3 unit rad").unwrap_err();
        assert!(e.to_string().contains("unit deg"), "{e}");
        let e = parse_stcs("Circle ICRS 1 2 3 4").unwrap_err();
        assert!(e.to_string().contains("expected end of region"), "{e}");
        assert!(parse_stcs("Circle ICRS 1 95 3").is_err());
        // Text geometries.
        assert_eq!(parse_geom_text("10 20").unwrap(), pt(10.0, 20.0));
        assert_eq!(
            parse_geom_text(" 10 20 1.5").unwrap(),
            circ(10.0, 20.0, 1.5)
        );
        assert_eq!(
            parse_geom_text("1.0 0.1 2.0 0.2 3.0 0.3").unwrap(),
            poly(&[1.0, 0.1, 2.0, 0.2, 3.0, 0.3])
        );
        assert_eq!(
            parse_geom_text("Circle ICRS 1 2 3").unwrap(),
            circ(1.0, 2.0, 3.0)
        );
        assert!(parse_geom_text("10 x").is_err());
        assert_eq!(pt(10.0, 20.0).to_stcs(), "Position ICRS 10 20");
        assert_eq!(
            parse_stcs(&circ(1.0, 2.5, 3.0).to_stcs()).unwrap(),
            circ(1.0, 2.5, 3.0)
        );
    }

    #[test]
    fn frame_matrices_are_rotations() {
        for m in [&GAL_TO_ICRS, &FK4_TO_FK5] {
            for i in 0..3 {
                for j in 0..3 {
                    let d = dot(m[i], m[j]);
                    assert!(
                        close(d, if i == j { 1.0 } else { 0.0 }, 1e-9),
                        "{i} {j} {d}"
                    );
                }
            }
        }
    }
}
