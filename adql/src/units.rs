//! Unit strings in the IVOA VOUnits 1.0 syntax, and conversion factors
//! between them, for ADQL 2.1's `IN_UNIT(value, 'unit')` (ADQL 2.1,
//! "Unit operations").
//!
//! ```text
//!  "mas/yr" ──parse_unit──► Unit { factor ≈ 1.536e-16, dims: rad.s**-1 }
//!  conversion_factor("mas/yr", "deg/yr") == 1 / 3.6e6
//! ```
//!
//! A [`Unit`] is a positive scale factor times a product of powers of
//! independent dimensions: the SI base dimensions (`m`, `kg`, `s`, `A`, `K`,
//! `mol`, `cd`), the plane angle `rad` (so `sr` is `rad**2`, and `Hz` does not
//! convert to `rad/s`), and the VOUnits quantities that only convert to
//! themselves: `mag`, `dex`, `pix`, `ct`, `ph`, `bit`, `byte`, `chan`,
//! `voxel`, `adu`, `beam` and `bin`. Exponents are exact rationals, so
//! `Hz**(-1/2)` and `sqrt(Hz)` are representable.
//!
//! The grammar is the normative one of VOUnits 1.0 (appendix C.4):
//! products with `.`, at most one `/` per (parenthesised) expression whose
//! right-hand side is a single unit or parenthesised group, powers written
//! `**` followed by an integer (`s**-1`) or a parenthesised integer, decimal
//! or fraction (`m**(1/2)`, `m**(0.5)`), a leading numeric scale factor
//! (`10**-3m`, `10**(-3)m`, `1e-3m`, `1.5e3Jy`), the function `sqrt(...)`, and
//! SI prefixes on the units that accept them (binary prefixes `Ki`…`Yi` on
//! `bit` and `byte`). Symbols are case-sensitive; an exact symbol wins over a
//! prefixed reading (`Pa` is the pascal, `min` the minute, `mas` the
//! milliarcsecond, `u` the atomic mass unit while `um` is the micrometre).
//! Leniencies beyond the grammar: surrounding whitespace is ignored, a scale
//! factor may stand alone (`10**-3`), `%` is 0.01, and `""` means
//! dimensionless like the empty string.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// Number of independent dimensions a [`Unit`] tracks.
const N: usize = 20;

const M: usize = 0;
const KG: usize = 1;
const S: usize = 2;
const AMP: usize = 3;
const KELVIN: usize = 4;
const MOLE: usize = 5;
const CANDELA: usize = 6;
const RAD: usize = 7;
const MAG: usize = 8;
const DEX: usize = 9;
const PIX: usize = 10;
const CT: usize = 11;
const PH: usize = 12;
const BIT: usize = 13;
const BYTE: usize = 14;
const CHAN: usize = 15;
const VOXEL: usize = 16;
const ADU: usize = 17;
const BEAM: usize = 18;
const BIN: usize = 19;

/// How each dimension is written, in the order [`Unit::dimensions`] lists them.
const DIM_NAMES: [&str; N] = [
    "m", "kg", "s", "A", "K", "mol", "cd", "rad", "mag", "dex", "pix", "ct", "ph", "bit", "byte",
    "chan", "voxel", "adu", "beam", "bin",
];

/// Logarithmic dimensions: a value in them cannot be rescaled by a factor.
const LOGARITHMIC: [usize; 2] = [MAG, DEX];

/// A rational exponent, always normalised (`den > 0`, lowest terms), so the
/// derived `PartialEq` is equality of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exponent {
    num: i32,
    den: i32,
}

impl Exponent {
    const ZERO: Exponent = Exponent { num: 0, den: 1 };

    /// `num/den` in lowest terms, or `None` when `den` is 0 or the result does
    /// not fit in `i32`.
    fn new(num: i128, den: i128) -> Option<Exponent> {
        if den == 0 {
            return None;
        }
        let g = gcd(num.unsigned_abs(), den.unsigned_abs()) as i128;
        let (mut num, mut den) = (num / g, den / g);
        if den < 0 {
            num = -num;
            den = -den;
        }
        let fits = |v: i128| v.abs() <= i128::from(i32::MAX);
        if !fits(num) || !fits(den) {
            return None;
        }
        Some(Exponent {
            num: num as i32,
            den: den as i32,
        })
    }

    fn int(n: i32) -> Exponent {
        Exponent { num: n, den: 1 }
    }

    fn is_zero(self) -> bool {
        self.num == 0
    }

    fn add(self, o: Exponent) -> Option<Exponent> {
        let (a, b, c, d) = (
            i128::from(self.num),
            i128::from(self.den),
            i128::from(o.num),
            i128::from(o.den),
        );
        Exponent::new(a * d + c * b, b * d)
    }

    fn mul(self, o: Exponent) -> Option<Exponent> {
        Exponent::new(
            i128::from(self.num) * i128::from(o.num),
            i128::from(self.den) * i128::from(o.den),
        )
    }

    /// `base` raised to this exponent (exact `powi` when integral).
    fn raise(self, base: f64) -> f64 {
        if self.den == 1 {
            base.powi(self.num)
        } else {
            base.powf(f64::from(self.num) / f64::from(self.den))
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

impl fmt::Display for Exponent {
    /// VOUnits power syntax: `2`, `-1`, `(1/2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "({}/{})", self.num, self.den)
        }
    }
}

/// A parsed VOUnits unit: a positive scale factor relative to the coherent
/// unit of its dimensions (`m`, `kg`, `s`, `A`, `K`, `mol`, `cd`, `rad`, and
/// the VOUnits-specific `mag`, `dex`, `pix`, `ct`, `ph`, `bit`, `byte`,
/// `chan`, `voxel`, `adu`, `beam`, `bin`), and the rational power of each.
///
/// `km/s` is `{ factor: 1000, dims: m.s**-1 }`; `deg` is
/// `{ factor: π/180, dims: rad }`. Obtain one with [`parse_unit`] or
/// [`str::parse`]; [`fmt::Display`] writes it back as a VOUnits string
/// (`1e3m.s**-1`) that parses to the same unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    factor: f64,
    dims: [Exponent; N],
}

impl Unit {
    /// The dimensionless unit with factor 1 (what `""` parses to).
    pub const DIMENSIONLESS: Unit = Unit {
        factor: 1.0,
        dims: [Exponent::ZERO; N],
    };

    /// The scale factor: how many coherent units (the product of base
    /// dimensions given by [`Unit::dimensions`]) one of this unit is worth,
    /// e.g. 1000 for `km`, π/180 for `deg`, 1e-3 for `g` (the base is `kg`).
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// True when every dimension has exponent zero (`""`, `%`, `10**-3`,
    /// `m/km`).
    pub fn is_dimensionless(&self) -> bool {
        self.dims.iter().all(|e| e.is_zero())
    }

    /// True when the unit involves a logarithmic dimension (`mag`, `dex`),
    /// whose values cannot in general be converted by a scale factor.
    pub fn is_logarithmic(&self) -> bool {
        LOGARITHMIC.iter().any(|&d| !self.dims[d].is_zero())
    }

    /// The dimensions in VOUnits syntax, in a fixed order, e.g.
    /// `kg.m**2.s**-2` is written `m**2.kg.s**-2`; `sr` is `rad**2`;
    /// `Hz**(-1/2)` is `s**(1/2)`. Empty when dimensionless.
    pub fn dimensions(&self) -> String {
        let mut out = String::new();
        for (name, e) in DIM_NAMES.iter().zip(self.dims) {
            if e.is_zero() {
                continue;
            }
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(name);
            if e != Exponent::int(1) {
                out.push_str("**");
                out.push_str(&e.to_string());
            }
        }
        out
    }

    /// True when `self` and `other` have the same dimensions (their factors
    /// may differ).
    pub fn same_dimensions(&self, other: &Unit) -> bool {
        self.dims == other.dims
    }

    /// The factor that converts a value in `self` into `to`
    /// (`self.factor() / to.factor()`), with the dimension and
    /// logarithmic-unit checks of [`conversion_factor`] but without its
    /// ADQL rule against unitless values: dimensionless units convert to
    /// each other here.
    ///
    /// # Errors
    /// [`UnitError::Incompatible`] when the dimensions differ and
    /// [`UnitError::NotScalable`] for a rescaling of `mag` or `dex` values.
    pub fn conversion_factor_to(&self, to: &Unit) -> Result<f64, UnitError> {
        convert(&self.to_string(), self, &to.to_string(), to)
    }

    fn mul(&self, o: &Unit) -> Option<Unit> {
        let mut dims = self.dims;
        for (d, e) in dims.iter_mut().zip(o.dims) {
            *d = d.add(e)?;
        }
        Some(Unit {
            factor: self.factor * o.factor,
            dims,
        })
    }

    fn pow(&self, p: Exponent) -> Option<Unit> {
        let mut dims = self.dims;
        for d in dims.iter_mut() {
            *d = d.mul(p)?;
        }
        Some(Unit {
            factor: p.raise(self.factor),
            dims,
        })
    }

    fn div(&self, o: &Unit) -> Option<Unit> {
        self.mul(&o.pow(Exponent::int(-1))?)
    }

    fn scaled(mut self, k: f64) -> Unit {
        self.factor *= k;
        self
    }
}

impl fmt::Display for Unit {
    /// A VOUnits string for this unit: the scale factor (omitted when 1) in
    /// exponent notation followed by [`Unit::dimensions`], e.g. `1e3m.s**-1`,
    /// `1.7453292519943295e-2rad`, `m**2`; empty for [`Unit::DIMENSIONLESS`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.factor != 1.0 {
            write!(f, "{:e}", self.factor)?;
        }
        f.write_str(&self.dimensions())
    }
}

impl FromStr for Unit {
    type Err = UnitError;

    /// Same as [`parse_unit`].
    fn from_str(s: &str) -> Result<Unit, UnitError> {
        parse_unit(s)
    }
}

/// Why a unit string could not be parsed, or two units not converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// The string is not valid VOUnits syntax.
    #[error("invalid unit '{input}' at character {position}: {message}")]
    Syntax {
        /// The unit string as given.
        input: String,
        /// 1-based character position of the problem.
        position: usize,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A symbol that is not a known VOUnits unit (including quoted units such
    /// as `'furlong'`, which VOUnits allows but which have no known scale).
    #[error(
        "unknown unit '{symbol}' in '{input}'{}",
        .hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    UnknownSymbol {
        /// The unit string as given.
        input: String,
        /// The unrecognised symbol, e.g. `foo` or `kdeg`.
        symbol: String,
        /// A suggestion, e.g. that `deg` takes no SI prefix.
        hint: Option<String>,
    },
    /// A function of units other than `sqrt` (`log(...)`, `ln(...)`,
    /// `exp(...)`, ...): valid VOUnits, but not convertible by a factor.
    #[error(
        "unsupported function '{name}(...)' in unit '{input}': only sqrt(...) can be converted"
    )]
    UnsupportedFunction {
        /// The unit string as given.
        input: String,
        /// The function name.
        name: String,
    },
    /// The two units measure different dimensions.
    #[error(
        "cannot convert '{from}' ({from_dims}) to '{to}' ({to_dims}): incompatible dimensions"
    )]
    Incompatible {
        /// The source unit as given.
        from: String,
        /// Its dimensions, e.g. `rad`, or `dimensionless`.
        from_dims: String,
        /// The target unit as given.
        to: String,
        /// Its dimensions.
        to_dims: String,
    },
    /// Same dimensions, but a logarithmic unit (`mag`, `dex`) would have to
    /// be rescaled, which has no meaning (e.g. `mag/arcsec**2` → `mag/sr`).
    #[error("cannot convert '{from}' to '{to}': values in logarithmic units (mag, dex) cannot be rescaled")]
    NotScalable {
        /// The source unit as given.
        from: String,
        /// The target unit as given.
        to: String,
    },
    /// ADQL 2.1 `IN_UNIT`: a unitless value cannot be converted, nor can a
    /// value be converted into a unitless one.
    #[error("cannot convert '{from}' to '{to}': a unitless value cannot be converted, nor converted into a unitless one")]
    Unitless {
        /// The source unit as given.
        from: String,
        /// The target unit as given.
        to: String,
    },
}

/// Parses a VOUnits 1.0 unit string such as `km/s`, `mas/yr`, `mJy`,
/// `erg.s**-1.cm**-2`, `10**-3m`, `Hz**(-1/2)`. The empty string (or `""`)
/// is [`Unit::DIMENSIONLESS`].
///
/// # Errors
/// [`UnitError::Syntax`] for malformed strings (`m2`, `m/s/s`, `m s`),
/// [`UnitError::UnknownSymbol`] naming an unrecognised symbol, and
/// [`UnitError::UnsupportedFunction`] for `log(...)` and the like.
pub fn parse_unit(s: &str) -> Result<Unit, UnitError> {
    let trimmed = s.trim();
    if trimmed.is_empty() || trimmed == "\"\"" {
        return Ok(Unit::DIMENSIONLESS);
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        return Err(UnitError::Syntax {
            input: s.to_string(),
            position: i + 1,
            message: format!("non-ASCII character '{c}' (VOUnits strings are ASCII)"),
        });
    }
    let start = s.len() - s.trim_start().len();
    let mut p = Parser {
        input: s,
        bytes: s.as_bytes(),
        pos: start,
        end: start + trimmed.len(),
    };
    p.input_rule()
}

/// The factor that converts a value in unit `from` into unit `to`:
/// `value_in_to = value_in_from * conversion_factor(from, to)?`.
/// `conversion_factor("deg", "arcsec")` is 3600 (to floating-point accuracy).
///
/// Follows ADQL 2.1 `IN_UNIT`: an empty unit string means the value is
/// unitless, and converting from or to a unitless value is an error (even
/// `""` → `""`). Dimensionless but non-empty units such as `%` convert
/// among themselves. Values in `mag` or `dex` convert only when no rescaling
/// is involved (`mag` → `mag`, `mag/arcsec**2` → `mag/arcsec**2`) or the unit
/// is a pure power of them (`mmag` → `mag` is 1e-3).
///
/// # Errors
/// Any [`parse_unit`] error for either string; [`UnitError::Unitless`],
/// [`UnitError::Incompatible`] (naming both units and their dimensions) or
/// [`UnitError::NotScalable`] when the conversion is impossible.
pub fn conversion_factor(from: &str, to: &str) -> Result<f64, UnitError> {
    let from_unit = parse_unit(from)?;
    let to_unit = parse_unit(to)?;
    let unitless = |s: &str| matches!(s.trim(), "" | "\"\"");
    if unitless(from) || unitless(to) {
        return Err(UnitError::Unitless {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    convert(from, &from_unit, to, &to_unit)
}

fn convert(from_label: &str, from: &Unit, to_label: &str, to: &Unit) -> Result<f64, UnitError> {
    if !from.same_dimensions(to) {
        let dims = |u: &Unit| match u.dimensions() {
            d if d.is_empty() => "dimensionless".to_string(),
            d => d,
        };
        return Err(UnitError::Incompatible {
            from: from_label.to_string(),
            from_dims: dims(from),
            to: to_label.to_string(),
            to_dims: dims(to),
        });
    }
    let ratio = from.factor / to.factor;
    if from.is_logarithmic() {
        if (ratio - 1.0).abs() <= 1e-12 {
            return Ok(1.0);
        }
        // A pure power of mag/dex (mmag, mag**2) is a linear quantity.
        let pure = (0..N).all(|d| LOGARITHMIC.contains(&d) || from.dims[d].is_zero());
        if !pure {
            return Err(UnitError::NotScalable {
                from: from_label.to_string(),
                to: to_label.to_string(),
            });
        }
    }
    Ok(ratio)
}

// ---------------------------------------------------------------------------
// Known units.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Prefixes {
    None,
    Si,
    SiAndBinary,
}

struct Known {
    symbol: &'static str,
    factor: f64,
    dims: &'static [(usize, i32)],
    prefixes: Prefixes,
}

const fn k(
    symbol: &'static str,
    factor: f64,
    dims: &'static [(usize, i32)],
    prefixes: Prefixes,
) -> Known {
    Known {
        symbol,
        factor,
        dims,
        prefixes,
    }
}

const ENERGY: &[(usize, i32)] = &[(KG, 1), (M, 2), (S, -2)];
const POWER: &[(usize, i32)] = &[(KG, 1), (M, 2), (S, -3)];
const LENGTH: &[(usize, i32)] = &[(M, 1)];
const TIME: &[(usize, i32)] = &[(S, 1)];
const ANGLE: &[(usize, i32)] = &[(RAD, 1)];
const MASS: &[(usize, i32)] = &[(KG, 1)];
const DOSE: &[(usize, i32)] = &[(M, 2), (S, -2)];
/// One arcsecond in radians.
const ARCSEC: f64 = PI / 648_000.0;
/// The astronomical unit in metres (IAU 2012 B2, exact).
const AU: f64 = 1.495_978_707e11;
/// The Julian year in seconds.
const JULIAN_YEAR: f64 = 365.25 * 86_400.0;
/// The electronvolt in joules (SI 2019, exact).
const EV: f64 = 1.602_176_634e-19;

/// The VOUnits 1.0 known units, with the prefixes each accepts. Values are
/// SI 2019 exact constants, IAU 2015 nominal solar values and CODATA 2018.
const KNOWN: &[Known] = &[
    // SI base units (the kilogram is the prefixed gram).
    k("m", 1.0, LENGTH, Prefixes::Si),
    k("g", 1e-3, MASS, Prefixes::Si),
    k("s", 1.0, TIME, Prefixes::Si),
    k("A", 1.0, &[(AMP, 1)], Prefixes::Si),
    k("K", 1.0, &[(KELVIN, 1)], Prefixes::Si),
    k("mol", 1.0, &[(MOLE, 1)], Prefixes::Si),
    k("cd", 1.0, &[(CANDELA, 1)], Prefixes::Si),
    // Angles.
    k("rad", 1.0, ANGLE, Prefixes::Si),
    k("sr", 1.0, &[(RAD, 2)], Prefixes::Si),
    k("deg", PI / 180.0, ANGLE, Prefixes::None),
    k("arcmin", PI / 10_800.0, ANGLE, Prefixes::None),
    k("arcsec", ARCSEC, ANGLE, Prefixes::Si),
    k("mas", ARCSEC * 1e-3, ANGLE, Prefixes::None),
    k("uas", ARCSEC * 1e-6, ANGLE, Prefixes::None),
    // SI derived units.
    k("Hz", 1.0, &[(S, -1)], Prefixes::Si),
    k("N", 1.0, &[(KG, 1), (M, 1), (S, -2)], Prefixes::Si),
    k("Pa", 1.0, &[(KG, 1), (M, -1), (S, -2)], Prefixes::Si),
    k("J", 1.0, ENERGY, Prefixes::Si),
    k("W", 1.0, POWER, Prefixes::Si),
    k("C", 1.0, &[(AMP, 1), (S, 1)], Prefixes::Si),
    k(
        "V",
        1.0,
        &[(KG, 1), (M, 2), (S, -3), (AMP, -1)],
        Prefixes::Si,
    ),
    k(
        "Ohm",
        1.0,
        &[(KG, 1), (M, 2), (S, -3), (AMP, -2)],
        Prefixes::Si,
    ),
    k(
        "S",
        1.0,
        &[(KG, -1), (M, -2), (S, 3), (AMP, 2)],
        Prefixes::Si,
    ),
    k(
        "F",
        1.0,
        &[(KG, -1), (M, -2), (S, 4), (AMP, 2)],
        Prefixes::Si,
    ),
    k(
        "Wb",
        1.0,
        &[(KG, 1), (M, 2), (S, -2), (AMP, -1)],
        Prefixes::Si,
    ),
    k("T", 1.0, &[(KG, 1), (S, -2), (AMP, -1)], Prefixes::Si),
    k(
        "H",
        1.0,
        &[(KG, 1), (M, 2), (S, -2), (AMP, -2)],
        Prefixes::Si,
    ),
    k("lm", 1.0, &[(CANDELA, 1), (RAD, 2)], Prefixes::Si),
    k("lx", 1.0, &[(CANDELA, 1), (RAD, 2), (M, -2)], Prefixes::Si),
    k("Bq", 1.0, &[(S, -1)], Prefixes::Si),
    k("Gy", 1.0, DOSE, Prefixes::Si),
    k("Sv", 1.0, DOSE, Prefixes::Si),
    // Time.
    k("min", 60.0, TIME, Prefixes::None),
    k("h", 3_600.0, TIME, Prefixes::None),
    k("d", 86_400.0, TIME, Prefixes::None),
    k("a", JULIAN_YEAR, TIME, Prefixes::Si),
    k("yr", JULIAN_YEAR, TIME, Prefixes::Si),
    // Astronomy and other non-SI units.
    k("AU", AU, LENGTH, Prefixes::None),
    k("au", AU, LENGTH, Prefixes::None),
    k("pc", AU * 648_000.0 / PI, LENGTH, Prefixes::Si),
    k("lyr", 9_460_730_472_580_800.0, LENGTH, Prefixes::None),
    k("ly", 9_460_730_472_580_800.0, LENGTH, Prefixes::None),
    k("Angstrom", 1e-10, LENGTH, Prefixes::None),
    k("angstrom", 1e-10, LENGTH, Prefixes::None),
    k("solMass", 1.988_409_870_698_051e30, MASS, Prefixes::None),
    k("solLum", 3.828e26, POWER, Prefixes::None),
    k("solRad", 6.957e8, LENGTH, Prefixes::None),
    k("Jy", 1e-26, &[(KG, 1), (S, -2)], Prefixes::Si),
    k("eV", EV, ENERGY, Prefixes::Si),
    k("erg", 1e-7, ENERGY, Prefixes::None),
    k("Ry", 13.605_693_122_994 * EV, ENERGY, Prefixes::None),
    k("barn", 1e-28, &[(M, 2)], Prefixes::Si),
    k(
        "D",
        1e-21 / 299_792_458.0,
        &[(AMP, 1), (S, 1), (M, 1)],
        Prefixes::None,
    ),
    k("u", 1.660_539_066_60e-27, MASS, Prefixes::None),
    k("G", 1e-4, &[(KG, 1), (S, -2), (AMP, -1)], Prefixes::Si),
    k(
        "R",
        1e10 / (4.0 * PI),
        &[(PH, 1), (M, -2), (S, -1), (RAD, -2)],
        Prefixes::Si,
    ),
    // Logarithmic "units": convertible only to themselves.
    k("mag", 1.0, &[(MAG, 1)], Prefixes::Si),
    k("dex", 1.0, &[(DEX, 1)], Prefixes::None),
    // Things counted, each its own dimension.
    k("pix", 1.0, &[(PIX, 1)], Prefixes::None),
    k("pixel", 1.0, &[(PIX, 1)], Prefixes::None),
    k("ct", 1.0, &[(CT, 1)], Prefixes::None),
    k("ph", 1.0, &[(PH, 1)], Prefixes::None),
    k("photon", 1.0, &[(PH, 1)], Prefixes::None),
    k("bit", 1.0, &[(BIT, 1)], Prefixes::SiAndBinary),
    k("byte", 1.0, &[(BYTE, 1)], Prefixes::SiAndBinary),
    k("chan", 1.0, &[(CHAN, 1)], Prefixes::None),
    k("voxel", 1.0, &[(VOXEL, 1)], Prefixes::None),
    k("adu", 1.0, &[(ADU, 1)], Prefixes::None),
    k("beam", 1.0, &[(BEAM, 1)], Prefixes::None),
    k("bin", 1.0, &[(BIN, 1)], Prefixes::None),
    k("%", 0.01, &[], Prefixes::None),
];

/// SI prefixes; `da` precedes `d` so that `dam` is the decametre.
const SI_PREFIXES: &[(&str, f64)] = &[
    ("da", 1e1),
    ("y", 1e-24),
    ("z", 1e-21),
    ("a", 1e-18),
    ("f", 1e-15),
    ("p", 1e-12),
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("c", 1e-2),
    ("d", 1e-1),
    ("h", 1e2),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
    ("Z", 1e21),
    ("Y", 1e24),
];

/// IEC binary prefixes, accepted on `bit` and `byte` only.
const BINARY_PREFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1_048_576.0),
    ("Gi", 1_073_741_824.0),
    ("Ti", 1_099_511_627_776.0),
    ("Pi", 1_125_899_906_842_624.0),
    ("Ei", 1_152_921_504_606_846_976.0),
    ("Zi", 1_180_591_620_717_411_303_424.0),
    ("Yi", 1_208_925_819_614_629_174_706_176.0),
];

fn known(symbol: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| k.symbol == symbol)
}

fn known_unit(k: &Known, prefix_factor: f64) -> Unit {
    let mut dims = [Exponent::ZERO; N];
    for &(d, e) in k.dims {
        dims[d] = Exponent::int(e);
    }
    Unit {
        factor: k.factor * prefix_factor,
        dims,
    }
}

/// Resolves a symbol: an exact known unit first, then a prefix on a unit
/// that accepts it; otherwise an explanation for the error message.
fn lookup(symbol: &str) -> Result<Unit, Option<String>> {
    if let Some(k) = known(symbol) {
        return Ok(known_unit(k, 1.0));
    }
    let mut hint = None;
    for (prefixes, needs) in [
        (SI_PREFIXES, Prefixes::Si),
        (BINARY_PREFIXES, Prefixes::SiAndBinary),
    ] {
        for &(prefix, factor) in prefixes {
            let Some(k) = symbol.strip_prefix(prefix).and_then(known) else {
                continue;
            };
            let accepted = match needs {
                Prefixes::Si => k.prefixes != Prefixes::None,
                _ => k.prefixes == Prefixes::SiAndBinary,
            };
            if accepted {
                return Ok(known_unit(k, factor));
            }
            hint.get_or_insert_with(|| {
                format!("'{}' does not take the prefix '{prefix}'", k.symbol)
            });
        }
    }
    if hint.is_none() {
        if let Some(k) = KNOWN.iter().find(|k| k.symbol.eq_ignore_ascii_case(symbol)) {
            hint = Some(format!(
                "unit symbols are case-sensitive: did you mean '{}'?",
                k.symbol
            ));
        }
    }
    Err(hint)
}

// ---------------------------------------------------------------------------
// The parser: recursive descent over the VOUnits 1.0 grammar (appendix C.4).
//
//   input               = scalefactor? complete_expression | scalefactor
//   complete_expression = product_of_units ( "/" unit_expression )?
//   product_of_units    = unit_expression ( "." unit_expression )*
//   unit_expression     = term | function "(" scalefactor? complete_expression ")"
//                       | "(" complete_expression ")"
//   term                = unit ( "**" numeric_power )?
//   numeric_power       = integer | "(" integer ")" | "(" float ")"
//                       | "(" integer "/" unsigned ")"
//   scalefactor         = "10" "**" numeric_power | float

struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        let i = self.pos + ahead;
        (i < self.end).then(|| self.bytes[i])
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_starstar(&mut self) -> bool {
        let hit = self.peek() == Some(b'*') && self.peek_at(1) == Some(b'*');
        if hit {
            self.pos += 2;
        }
        hit
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> UnitError {
        UnitError::Syntax {
            input: self.input.to_string(),
            position: pos + 1,
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> UnitError {
        self.error_at(self.pos, message)
    }

    /// An "unexpected character" error, with hints for the usual mistakes.
    fn unexpected(&self, expected: &str) -> UnitError {
        let Some(c) = self.peek() else {
            return self.error(format!("unexpected end of unit, expected {expected}"));
        };
        let c = char::from(c);
        let hint = match c {
            '/' => "; VOUnits allows one '/' per expression, with a single unit or a parenthesised group after it, e.g. 'm/(s.kg)'",
            '*' => "; products are written with '.' and powers with '**'",
            ' ' | '\t' | '\n' | '\r' => "; whitespace is not allowed inside a VOUnits string (products are written with '.')",
            '^' => "; powers are written with '**', e.g. 'm**2'",
            '0'..='9' | '+' | '-' => "; powers are written with '**', e.g. 'm**2' or 'm**(3/2)', and a numeric factor comes first, e.g. '10**-3m'",
            _ => "",
        };
        self.error(format!("unexpected '{c}', expected {expected}{hint}"))
    }

    fn overflow(&self, at: usize) -> UnitError {
        self.error_at(at, "exponent out of range")
    }

    fn input_rule(&mut self) -> Result<Unit, UnitError> {
        let start = self.pos;
        let mut scale = 1.0;
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            scale = self.scale_factor()?;
        }
        let unit = if self.peek().is_none() {
            Unit::DIMENSIONLESS
        } else {
            self.complete_expression()?
        };
        if self.peek().is_some() {
            return Err(self.unexpected("the end of the unit"));
        }
        let unit = unit.scaled(scale);
        if !(unit.factor.is_finite() && unit.factor > 0.0) {
            return Err(self.error_at(start, "the unit's scale is out of range"));
        }
        Ok(unit)
    }

    fn complete_expression(&mut self) -> Result<Unit, UnitError> {
        let mut unit = self.product_of_units()?;
        let at = self.pos;
        if self.eat(b'/') {
            let denominator = self.unit_expression()?;
            unit = unit.div(&denominator).ok_or_else(|| self.overflow(at))?;
        }
        Ok(unit)
    }

    fn product_of_units(&mut self) -> Result<Unit, UnitError> {
        let mut unit = self.unit_expression()?;
        loop {
            let at = self.pos;
            if !self.eat(b'.') {
                return Ok(unit);
            }
            let next = self.unit_expression()?;
            unit = unit.mul(&next).ok_or_else(|| self.overflow(at))?;
        }
    }

    fn unit_expression(&mut self) -> Result<Unit, UnitError> {
        let start = self.pos;
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                let unit = self.complete_expression()?;
                if !self.eat(b')') {
                    return Err(self.unexpected("')'"));
                }
                if self.peek() == Some(b'*') {
                    return Err(self.error(
                        "VOUnits does not allow a power of a parenthesised expression; raise each unit instead, e.g. 'm**2.s**-2'",
                    ));
                }
                Ok(unit)
            }
            Some(b'\'') => {
                let quoted = self.quoted()?;
                Err(self.unknown(quoted, Some("a quoted unit has no known scale")))
            }
            Some(b'%') => {
                self.pos += 1;
                self.term(start, "%")
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
                {
                    self.pos += 1;
                }
                let name = &self.input[start..self.pos];
                match self.peek() {
                    Some(b'(') => self.function(name),
                    Some(b'\'') => {
                        let quoted = self.quoted()?;
                        Err(self.unknown(
                            format!("{name}{quoted}"),
                            Some("a quoted unit has no known scale"),
                        ))
                    }
                    _ => self.term(start, name),
                }
            }
            _ => Err(self.unexpected("a unit symbol or '('")),
        }
    }

    /// A `'quoted'` unit, returned with its quotes.
    fn quoted(&mut self) -> Result<&'a str, UnitError> {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(|c| c != b'\'') {
            self.pos += 1;
        }
        if !self.eat(b'\'') {
            return Err(self.error_at(start, "unterminated quoted unit"));
        }
        Ok(&self.input[start..self.pos])
    }

    fn unknown(&self, symbol: impl Into<String>, hint: Option<&str>) -> UnitError {
        UnitError::UnknownSymbol {
            input: self.input.to_string(),
            symbol: symbol.into(),
            hint: hint.map(str::to_string),
        }
    }

    /// A unit symbol with an optional power.
    fn term(&mut self, start: usize, symbol: &str) -> Result<Unit, UnitError> {
        let unit = lookup(symbol).map_err(|hint| UnitError::UnknownSymbol {
            input: self.input.to_string(),
            symbol: symbol.to_string(),
            hint,
        })?;
        if !self.eat_starstar() {
            return Ok(unit);
        }
        let power = self.numeric_power()?;
        unit.pow(power).ok_or_else(|| self.overflow(start))
    }

    fn function(&mut self, name: &str) -> Result<Unit, UnitError> {
        if name != "sqrt" {
            return Err(UnitError::UnsupportedFunction {
                input: self.input.to_string(),
                name: name.to_string(),
            });
        }
        let start = self.pos;
        self.pos += 1; // '('
        let mut scale = 1.0;
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            scale = self.scale_factor()?;
        }
        let unit = self.complete_expression()?.scaled(scale);
        if !self.eat(b')') {
            return Err(self.unexpected("')'"));
        }
        let half = Exponent { num: 1, den: 2 };
        unit.pow(half).ok_or_else(|| self.overflow(start))
    }

    /// `[+-]?[0-9]+` as an integer.
    fn integer(&mut self) -> Result<i128, UnitError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative || self.peek() == Some(b'+') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        if self.digits() == 0 {
            return Err(self.unexpected("an integer"));
        }
        let magnitude: i128 = self.input[digits_start..self.pos]
            .parse()
            .ok()
            .filter(|v| *v <= i128::from(i32::MAX))
            .ok_or_else(|| self.overflow(start))?;
        Ok(if negative { -magnitude } else { magnitude })
    }

    /// `integer`, `(integer)`, `(decimal)` or `(integer/unsigned)`.
    fn numeric_power(&mut self) -> Result<Exponent, UnitError> {
        let start = self.pos;
        if !self.eat(b'(') {
            let n = self.integer()?;
            return Exponent::new(n, 1).ok_or_else(|| self.overflow(start));
        }
        let mut num = self.integer()?;
        let mut den: i128 = 1;
        if self.eat(b'/') {
            let den_start = self.pos;
            if self.digits() == 0 {
                return Err(self.unexpected("an unsigned integer"));
            }
            den = self.input[den_start..self.pos]
                .parse()
                .ok()
                .filter(|v| *v <= i128::from(i32::MAX))
                .ok_or_else(|| self.overflow(start))?;
            if den == 0 {
                return Err(self.error_at(den_start, "division by zero in exponent"));
            }
        } else {
            // Optional fraction and decimal exponent: read them exactly.
            if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
                let frac_start = self.pos;
                let places = self.digits();
                let frac: i128 = self.input[frac_start..self.pos]
                    .parse()
                    .ok()
                    .filter(|_| places <= 9)
                    .ok_or_else(|| self.overflow(start))?;
                den = 10i128.pow(places as u32);
                // `num` lost the sign of "-0.5"; take it from the text.
                let negative = self.input[start + 1..].starts_with('-');
                num = num * den + if negative { -frac } else { frac };
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.pos += 1;
                let e = self.integer()?;
                if e.abs() > 9 {
                    return Err(self.overflow(start));
                }
                let scale = 10i128.pow(e.unsigned_abs() as u32);
                if e >= 0 {
                    num *= scale;
                } else {
                    den *= scale;
                }
            }
        }
        if !self.eat(b')') {
            return Err(self.unexpected("')'"));
        }
        Exponent::new(num, den).ok_or_else(|| self.overflow(start))
    }

    /// `10**power`, or a decimal `0.5`, `1.5e3`, `10`, `1e-3`.
    fn scale_factor(&mut self) -> Result<f64, UnitError> {
        let start = self.pos;
        let int_digits = self.digits();
        let leading_zero = self.bytes[start] == b'0';
        if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.digits();
        } else if leading_zero {
            return Err(self.error_at(start, "a scale factor starts with 1-9 or is written 0.xxx"));
        }
        if leading_zero && int_digits > 1 {
            return Err(self.error_at(start, "a scale factor starts with 1-9 or is written 0.xxx"));
        }
        let exp_digit_at = match (self.peek(), self.peek_at(1)) {
            (Some(b'e' | b'E'), Some(b'+' | b'-')) => 2,
            (Some(b'e' | b'E'), _) => 1,
            _ => 0,
        };
        if exp_digit_at > 0
            && self
                .peek_at(exp_digit_at)
                .is_some_and(|c| c.is_ascii_digit())
        {
            self.pos += exp_digit_at;
            self.digits();
        }
        let text = &self.input[start..self.pos];
        let value = if text == "10" && self.eat_starstar() {
            self.numeric_power()?.raise(10.0)
        } else {
            text.parse::<f64>()
                .map_err(|_| self.error_at(start, "invalid scale factor"))?
        };
        if !(value.is_finite() && value > 0.0) {
            return Err(self.error_at(start, "the scale factor must be positive and finite"));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    #[track_caller]
    fn assert_factor(from: &str, to: &str, expected: f64) {
        let got = conversion_factor(from, to).unwrap();
        assert!(
            close(got, expected),
            "{from} -> {to}: got {got}, expected {expected}"
        );
    }

    #[test]
    fn angles() {
        assert_factor("deg", "arcsec", 3600.0);
        assert_factor("deg", "arcmin", 60.0);
        assert_factor("deg", "rad", PI / 180.0);
        assert_factor("arcsec", "mas", 1000.0);
        assert_factor("mas", "uas", 1000.0);
        assert_factor("uas", "uarcsec", 1.0);
        assert_factor("marcsec", "mas", 1.0);
        assert_factor("sr", "deg**2", (180.0 / PI).powi(2));
        assert_factor("arcsec**2", "arcmin**2", 1.0 / 3600.0);
    }

    #[test]
    fn proper_motions_and_velocities() {
        assert_factor("mas/yr", "deg/yr", 1.0 / 3.6e6);
        assert_factor("mas/yr", "mas/a", 1.0);
        assert_factor("km/s", "m/s", 1000.0);
        assert_factor("km.s**-1", "m/s", 1000.0);
        assert_factor(
            "km/s",
            "pc/Myr",
            1e3 * 1e6 * JULIAN_YEAR / (AU * 648_000.0 / PI),
        );
    }

    #[test]
    fn distances() {
        assert_factor("pc", "m", 3.085_677_581_491_367e16);
        assert_factor("kpc", "pc", 1000.0);
        assert_factor("Mpc", "kpc", 1000.0);
        assert_factor("pc", "AU", 648_000.0 / PI);
        assert_factor("au", "AU", 1.0);
        assert_factor("lyr", "ly", 1.0);
        assert_factor("Angstrom", "nm", 0.1);
        assert_factor("angstrom", "um", 1e-4);
        assert_factor("m**2", "cm**2", 1e4);
        assert_factor("barn", "cm**2", 1e-24);
        assert_factor("dam", "m", 10.0);
    }

    #[test]
    fn flux_energy_and_mass() {
        assert_factor("Jy", "mJy", 1000.0);
        assert_factor("Jy", "W/(m**2.Hz)", 1e-26);
        assert_factor("Jy", "erg.s**-1.cm**-2.Hz**-1", 1e-23);
        assert_factor("keV", "eV", 1000.0);
        assert_factor("eV", "J", 1.602_176_634e-19);
        assert_factor("erg", "J", 1e-7);
        assert_factor("kg", "g", 1000.0);
        assert_factor("solMass", "kg", 1.988_409_870_698_051e30);
        assert_factor("GHz", "Hz", 1e9);
        assert_factor("N", "kg.m/s**2", 1.0);
        assert_factor("J", "N.m", 1.0);
        assert_factor("W", "J/s", 1.0);
        assert_factor("T", "Wb/m**2", 1.0);
        assert_factor("G", "T", 1e-4);
        assert_factor("u", "kg", 1.660_539_066_60e-27);
        assert_factor("um", "m", 1e-6);
        assert_factor("Pa", "N/m**2", 1.0);
        assert_factor("min", "s", 60.0);
        assert_factor("h", "min", 60.0);
        assert_factor("d", "h", 24.0);
        assert_factor("Gyr", "yr", 1e9);
        assert_factor("ms", "s", 1e-3);
    }

    #[test]
    fn scale_factors() {
        assert_factor("10**-3m", "mm", 1.0);
        assert_factor("10**(-3)m", "mm", 1.0);
        assert_factor("10**+3m", "km", 1.0);
        assert_factor("10**3", "%", 1e5);
        assert_factor("1e-3m", "mm", 1.0);
        assert_factor("1.5e3Jy", "kJy", 1.5);
        assert_factor("0.5m", "cm", 50.0);
        assert_factor("10m", "m", 10.0);
        assert_factor("1eV", "eV", 1.0);
        assert_factor("10**-26W/(m**2.Hz)", "Jy", 1.0);
        assert_factor("%", "10**-2", 1.0);
    }

    #[test]
    fn rational_powers() {
        let u = parse_unit("m**(1/2)").unwrap();
        assert_eq!(u.dimensions(), "m**(1/2)");
        assert_factor("Hz**(-1/2)", "s**(1/2)", 1.0);
        assert_factor("sqrt(Hz)", "Hz**(0.5)", 1.0);
        assert_factor("sqrt(km)", "m**(1/2)", 1000f64.sqrt());
        assert_factor("m**(2/4)", "m**(1/2)", 1.0);
        assert_factor("m**(-0.5)", "m**(-1/2)", 1.0);
        assert_factor("m**(1.5)", "m**(3/2)", 1.0);
        assert_factor("m**(2)", "m**2", 1.0);
    }

    #[test]
    fn logarithmic_units() {
        assert_eq!(conversion_factor("mag", "mag").unwrap(), 1.0);
        assert_eq!(conversion_factor("dex", "dex").unwrap(), 1.0);
        assert_eq!(
            conversion_factor("mag/arcsec**2", "mag.arcsec**-2").unwrap(),
            1.0
        );
        assert_factor("mmag", "mag", 1e-3);
        assert!(matches!(
            conversion_factor("mag/arcsec**2", "mag/sr"),
            Err(UnitError::NotScalable { .. })
        ));
        assert!(matches!(
            conversion_factor("mag", "dex"),
            Err(UnitError::Incompatible { .. })
        ));
        assert!(matches!(
            conversion_factor("mag", ""),
            Err(UnitError::Unitless { .. })
        ));
        assert!(parse_unit("mag").unwrap().is_logarithmic());
    }

    #[test]
    fn counted_quantities_convert_only_to_themselves() {
        assert_factor("ct/s", "ct/ks", 1000.0);
        assert_factor("pix", "pixel", 1.0);
        assert_factor("ph", "photon", 1.0);
        assert_factor("Kibyte", "byte", 1024.0);
        assert_factor("kbyte", "byte", 1000.0);
        assert_factor("Mibit", "Kibit", 1024.0);
        for (a, b) in [
            ("byte", "bit"),
            ("ct", "ph"),
            ("pix", ""),
            ("chan", "voxel"),
            ("adu", "beam"),
            ("bin", "ct"),
        ] {
            assert!(conversion_factor(a, b).is_err(), "{a} -> {b}");
        }
        assert!(parse_unit("Kim").is_err());
    }

    #[test]
    fn incompatible_units_name_both_units_and_dimensions() {
        let err = conversion_factor("deg", "kg").unwrap_err();
        assert_eq!(
            err,
            UnitError::Incompatible {
                from: "deg".into(),
                from_dims: "rad".into(),
                to: "kg".into(),
                to_dims: "kg".into(),
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("'deg'") && msg.contains("'kg'"), "{msg}");
        let msg = conversion_factor("km/s", "Hz").unwrap_err().to_string();
        assert!(msg.contains("m.s**-1") && msg.contains("s**-1"), "{msg}");
        assert!(conversion_factor("Hz", "rad/s").is_err());
        assert!(conversion_factor("%", "m")
            .unwrap_err()
            .to_string()
            .contains("dimensionless"));
    }

    #[test]
    fn adql_unitless_rules() {
        // ADQL 2.1 IN_UNIT examples.
        assert!(conversion_factor("deg", "rad").is_ok());
        assert!(conversion_factor("deg", "arcmin").is_ok());
        assert!(matches!(
            conversion_factor("deg", ""),
            Err(UnitError::Unitless { .. })
        ));
        assert!(matches!(
            conversion_factor("", "deg"),
            Err(UnitError::Unitless { .. })
        ));
        assert!(matches!(
            conversion_factor("", ""),
            Err(UnitError::Unitless { .. })
        ));
        assert!(matches!(
            conversion_factor("deg", "foo"),
            Err(UnitError::UnknownSymbol { .. })
        ));
        assert!(matches!(
            conversion_factor("deg", "kg"),
            Err(UnitError::Incompatible { .. })
        ));
        // Unit-level conversion has no unitless rule.
        let one = parse_unit("").unwrap();
        assert_eq!(one, Unit::DIMENSIONLESS);
        assert_eq!(parse_unit("\"\"").unwrap(), Unit::DIMENSIONLESS);
        assert_eq!(one.conversion_factor_to(&one).unwrap(), 1.0);
        let percent: Unit = "%".parse().unwrap();
        assert!(close(percent.conversion_factor_to(&one).unwrap(), 0.01));
    }

    #[test]
    fn unknown_symbols_are_named() {
        let err = parse_unit("foo").unwrap_err();
        assert!(matches!(&err, UnitError::UnknownSymbol { symbol, .. } if symbol == "foo"));
        assert!(err.to_string().contains("'foo'"), "{err}");
        let err = parse_unit("km/furlong").unwrap_err();
        assert!(err.to_string().contains("'furlong'"), "{err}");
        let err = parse_unit("kdeg").unwrap_err();
        assert!(
            err.to_string()
                .contains("'deg' does not take the prefix 'k'"),
            "{err}"
        );
        let err = parse_unit("hz").unwrap_err();
        assert!(err.to_string().contains("did you mean 'Hz'"), "{err}");
        let err = parse_unit("m.'furlong'").unwrap_err();
        assert!(matches!(&err, UnitError::UnknownSymbol { symbol, .. } if symbol == "'furlong'"));
        let err = parse_unit("k'furlong'").unwrap_err();
        assert!(matches!(&err, UnitError::UnknownSymbol { symbol, .. } if symbol == "k'furlong'"));
        assert!(matches!(
            parse_unit("log(Hz)"),
            Err(UnitError::UnsupportedFunction { name, .. }) if name == "log"
        ));
        // Case matters: MJy is a megajansky, mJy a millijansky, MJY nothing.
        assert_factor("MJy", "mJy", 1e9);
        assert!(parse_unit("MJY").is_err());
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "m2",
            "m/s/s",
            "m s",
            "m*s",
            "m^2",
            "(m/s)**2",
            "m**",
            "m**(1/0)",
            "m**(1/2",
            "m.",
            ".m",
            "/s",
            "m//s",
            "2**3m",
            "0m",
            "01m",
            "1.m",
            "m**1.5",
            "10**m",
            "()",
            "m)",
            "'furlong",
            "m\u{b2}",
            "sqrt(m",
            "m**(1e99)",
        ] {
            let err = parse_unit(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    UnitError::Syntax { .. } | UnitError::UnknownSymbol { .. }
                ),
                "{bad}: {err}"
            );
        }
        let err = parse_unit("m/s/s").unwrap_err();
        assert_eq!(
            err,
            UnitError::Syntax {
                input: "m/s/s".into(),
                position: 4,
                message: "unexpected '/', expected the end of the unit; VOUnits allows one '/' \
                          per expression, with a single unit or a parenthesised group after it, \
                          e.g. 'm/(s.kg)'"
                    .into(),
            }
        );
        assert!(parse_unit("m2").unwrap_err().to_string().contains("'**'"));
        assert_factor("m/(s.s)", "m.s**-2", 1.0);
        assert_factor(" km ", "m", 1000.0);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "km/s",
            "deg",
            "mas/yr",
            "Jy",
            "solMass",
            "Hz**(-1/2)",
            "%",
            "",
            "10**-3",
            "mag",
            "erg.s**-1.cm**-2.Angstrom**-1",
            "sr",
            "kg",
        ] {
            let u = parse_unit(s).unwrap();
            let back = parse_unit(&u.to_string()).unwrap();
            assert!(close(u.factor(), back.factor()), "{s} -> {u}");
            assert!(u.same_dimensions(&back), "{s} -> {u}");
        }
        assert_eq!(parse_unit("km/s").unwrap().to_string(), "1e3m.s**-1");
        assert_eq!(parse_unit("J").unwrap().dimensions(), "m**2.kg.s**-2");
        assert_eq!(parse_unit("sr").unwrap().dimensions(), "rad**2");
        assert_eq!(parse_unit("").unwrap().to_string(), "");
        assert!(parse_unit("m/km").unwrap().is_dimensionless());
    }
}
