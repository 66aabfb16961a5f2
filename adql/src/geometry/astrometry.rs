//! Astrometry: rigorous epoch propagation of six-parameter solutions.

use std::f64::consts::PI;

use super::sphere::{add, dot, lonlat, scale};

/// The result of [`epoch_prop`]: a propagated astrometric solution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Astrometry {
    /// Right ascension, degrees in `[0, 360)`.
    pub ra: f64,
    /// Declination, degrees.
    pub dec: f64,
    /// Parallax, mas; `None` when the input parallax was missing or below
    /// 1e-4 mas (then the radial velocity is `None` too).
    pub parallax: Option<f64>,
    /// Proper motion in RA (times cos dec), mas/yr.
    pub pmra: f64,
    /// Proper motion in Dec, mas/yr.
    pub pmdec: f64,
    /// Radial velocity, km/s.
    pub radial_velocity: Option<f64>,
}

/// Rigorous epoch propagation of a six-parameter astrometric solution over
/// `dt_years` (Julian years), as DaCHS's `ivo_epoch_prop` (pgsphere's
/// `epoch_prop`, after Lindegren's implementation of ESA SP-1200 vol. 1
/// sec. 1.5.5, eqs. 1.5.24–1.5.32). Units: degrees, mas, mas/yr, km/s.
///
/// Missing values are treated as DaCHS does: a `None` proper motion or radial
/// velocity is 0; a `None` (or below 1e-4 mas) parallax is replaced by 1e-4
/// mas (SOFA's "celestial sphere"), and then the output parallax and radial
/// velocity are `None`.
#[allow(clippy::too_many_arguments)]
pub fn epoch_prop(
    ra: f64,
    dec: f64,
    parallax: Option<f64>,
    pmra: Option<f64>,
    pmdec: Option<f64>,
    radial_velocity: Option<f64>,
    dt_years: f64,
) -> Astrometry {
    const AU_KM: f64 = 1.495_978_701e8;
    const JULIAN_YEAR_S: f64 = 365.25 * 86400.0;
    const A_NU: f64 = AU_KM / JULIAN_YEAR_S;
    const PX_MIN: f64 = 1e-7 * 1000.0;
    const MAS_PER_RAD: f64 = 3.6e6 * (180.0 / PI);

    let plx_in = parallax.unwrap_or(0.0);
    let plx_valid = plx_in.abs() > PX_MIN;
    let plx = if plx_valid { plx_in } else { PX_MIN };
    let rv = radial_velocity.unwrap_or(0.0);
    let pm0 = [
        pmra.unwrap_or(0.0) / MAS_PER_RAD,
        pmdec.unwrap_or(0.0) / MAS_PER_RAD,
    ];
    let t = dt_years;

    let (sa, ca) = ra.to_radians().sin_cos();
    let (sd, cd) = dec.to_radians().sin_cos();
    let r0 = [cd * ca, cd * sa, sd];
    let p0 = [-sa, ca, 0.0];
    let q0 = [-sd * ca, -sd * sa, cd];
    let mu0 = add(scale(p0, pm0[0]), scale(q0, pm0[1]));
    let mu0abs2 = dot(mu0, mu0);
    // Radial proper motion, rad/yr (eq. 1.5.24).
    let zeta0 = (rv * plx / A_NU) / MAS_PER_RAD;
    // Distance factor (eq. 1.5.25).
    let f = 1.0 / (1.0 + 2.0 * zeta0 * t + (mu0abs2 + zeta0 * zeta0) * t * t).sqrt();
    // Position (eq. 1.5.26).
    let u = scale(add(scale(r0, 1.0 + zeta0 * t), scale(mu0, t)), f);
    // Proper motion vector (eq. 1.5.28).
    let mu = scale(
        add(scale(mu0, 1.0 + zeta0 * t), scale(r0, -mu0abs2 * t)),
        f * f * f,
    );
    let plx_out = f * plx; // eq. 1.5.27
    let rv_out = (zeta0 + (mu0abs2 + zeta0 * zeta0) * t) * f * f * MAS_PER_RAD * A_NU / plx_out; // eq. 1.5.29
    let (lon, lat) = lonlat(u);
    let (sa, ca) = lon.to_radians().sin_cos();
    let (sd, cd) = lat.to_radians().sin_cos();
    let p = [-sa, ca, 0.0];
    let q = [-sd * ca, -sd * sa, cd];
    Astrometry {
        ra: lon,
        dec: lat,
        parallax: plx_valid.then_some(plx_out),
        pmra: dot(p, mu) * MAS_PER_RAD,
        pmdec: dot(q, mu) * MAS_PER_RAD,
        radial_velocity: plx_valid.then_some(rv_out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::testutil::close;

    #[test]
    fn epoch_propagation_matches_udf_catalogue_examples() {
        // Examples of the IVOA UDF catalogue for ivo_epoch_prop.
        let t = 1992.25 - 2016.0;
        let a = epoch_prop(
            7.606083572,
            11.79044105,
            Some(125.0),
            Some(300.0),
            Some(-428.8),
            Some(52.51),
            t,
        );
        assert!(close(a.ra, 7.6040614046279735, 1e-9), "{a:?}");
        assert!(close(a.dec, 11.793270382827929, 1e-9), "{a:?}");
        assert!(
            close(a.parallax.unwrap(), 125.01993165584682, 1e-6),
            "{a:?}"
        );
        assert!(close(a.pmra, 300.09877325973605, 1e-6), "{a:?}");
        assert!(close(a.pmdec, -428.934593565712, 1e-6), "{a:?}");
        assert!(
            close(a.radial_velocity.unwrap(), 52.50880381775256, 1e-6),
            "{a:?}"
        );
        // Missing radial velocity: taken as 0 (DaCHS).
        let a = epoch_prop(
            7.606083572,
            11.79044105,
            Some(125.0),
            Some(300.0),
            Some(-428.8),
            None,
            t,
        );
        assert!(close(a.ra, 7.604061727024712, 1e-9), "{a:?}");
        assert!(close(a.dec, 11.793269931749549, 1e-9), "{a:?}");
        assert!(close(a.parallax.unwrap(), 124.9999997730655, 1e-6), "{a:?}");
        assert!(close(a.pmra, 300.0030911152833, 1e-6), "{a:?}");
        assert!(close(a.pmdec, -428.79783503705033, 1e-6), "{a:?}");
        // Missing parallax: position still propagated, parallax and rv NULL.
        let a = epoch_prop(
            7.606083572,
            11.79044105,
            None,
            Some(300.0),
            Some(-428.8),
            Some(52.51),
            t,
        );
        assert!(close(a.ra, 7.604061727024453, 1e-9), "{a:?}");
        assert!(close(a.dec, 11.79326993174991, 1e-9), "{a:?}");
        assert!(close(a.pmra, 300.0030911918108, 1e-6), "{a:?}");
        assert_eq!((a.parallax, a.radial_velocity), (None, None));
        // No motion: unchanged.
        let a = epoch_prop(7.606083572, 11.79044105, Some(125.0), None, None, None, t);
        assert!(close(a.ra, 7.606083572, 1e-12) && close(a.dec, 11.79044105, 1e-12));
        assert!(close(a.parallax.unwrap(), 125.0, 1e-9));
        // Zero interval: identity.
        let a = epoch_prop(
            350.0,
            -60.0,
            Some(3.0),
            Some(10.0),
            Some(-5.0),
            Some(20.0),
            0.0,
        );
        assert!(close(a.ra, 350.0, 1e-10) && close(a.dec, -60.0, 1e-10));
        assert!(close(a.pmra, 10.0, 1e-9) && close(a.pmdec, -5.0, 1e-9));
        assert!(close(a.radial_velocity.unwrap(), 20.0, 1e-9));
    }
}
