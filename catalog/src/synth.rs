//! Deterministic synthetic catalogues: a Gaia-like `gaia_source`, a
//! 2MASS-like `tmass_psc` and `gaia_source_tmass_best_neighbours`, so the
//! Gaia archive's best-neighbour JOIN runs on demo data.
//!
//! Rows are generated in fixed chunks of [`CHUNK_ROWS`], each from its own
//! seeded generator: the output depends only on the seed and the row count,
//! never on the number of threads. Sky density follows a simple Galaxy model
//! (a thin disc, denser toward the plane and the centre, plus an isotropic
//! halo); `l`/`b` are exact, `ra`/`dec` are rotated from them. `source_id`
//! embeds the level-12 HEALPix index of the source's position at epoch
//! J2000 (propagated back with its proper motion), so as in real Gaia a small
//! fraction of stars sit in a different order-12 cell than their catalogue
//! position.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float32Builder, Float64Builder, Int16Builder, Int64Builder, RecordBatch,
    StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::error::Result;
use crate::input::{Source, SourceBatch};
use astrolake_vo::{FieldMeta, TableMeta};

/// Rows per generated chunk (the unit of determinism).
pub const CHUNK_ROWS: u64 = 65_536;

/// The synthetic tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthTable {
    /// Gaia DR3-like sources.
    GaiaSource,
    /// 2MASS-like point sources.
    TmassPsc,
    /// Best neighbours gaia_source → tmass_psc.
    BestNeighbours,
}

impl SynthTable {
    /// All tables.
    pub const ALL: [SynthTable; 3] = [
        SynthTable::GaiaSource,
        SynthTable::TmassPsc,
        SynthTable::BestNeighbours,
    ];
    /// Table name.
    pub fn name(&self) -> &'static str {
        match self {
            SynthTable::GaiaSource => "gaia_source",
            SynthTable::TmassPsc => "tmass_psc",
            SynthTable::BestNeighbours => "gaia_source_tmass_best_neighbours",
        }
    }
    /// Table description.
    pub fn description(&self) -> &'static str {
        match self {
            SynthTable::GaiaSource => "Synthetic Gaia DR3-like sources (astrolake synth): the most used gaia_source columns with their real units and UCDs",
            SynthTable::TmassPsc => "Synthetic 2MASS-like point sources (astrolake synth), counterparts of the brighter synthetic Gaia sources plus unmatched ones",
            SynthTable::BestNeighbours => "Synthetic best neighbours between gaia_source and tmass_psc (astrolake synth)",
        }
    }
}

type Col = (
    &'static str,
    DataType,
    &'static str,
    &'static str,
    &'static str,
);

fn columns(t: SynthTable) -> Vec<Col> {
    use DataType::*;
    match t {
        SynthTable::GaiaSource => vec![
            ("source_id", Int64, "", "meta.id;meta.main", "Unique source identifier; source_id / 2^35 is the order-12 nested HEALPix index of the source (at epoch J2000)"),
            ("random_index", Int64, "", "meta.code", "Random index for selecting random subsets"),
            ("ref_epoch", Float64, "yr", "meta.ref;time.epoch", "Reference epoch (Julian years)"),
            ("ra", Float64, "deg", "pos.eq.ra;meta.main", "Right ascension (ICRS, at ref_epoch)"),
            ("ra_error", Float32, "mas", "stat.error;pos.eq.ra", "Standard error of right ascension (times cos dec)"),
            ("dec", Float64, "deg", "pos.eq.dec;meta.main", "Declination (ICRS, at ref_epoch)"),
            ("dec_error", Float32, "mas", "stat.error;pos.eq.dec", "Standard error of declination"),
            ("parallax", Float64, "mas", "pos.parallax.trig", "Parallax"),
            ("parallax_error", Float32, "mas", "stat.error;pos.parallax.trig", "Standard error of parallax"),
            ("pmra", Float64, "mas.yr**-1", "pos.pm;pos.eq.ra", "Proper motion in right ascension (times cos dec)"),
            ("pmra_error", Float32, "mas.yr**-1", "stat.error;pos.pm;pos.eq.ra", "Standard error of pmra"),
            ("pmdec", Float64, "mas.yr**-1", "pos.pm;pos.eq.dec", "Proper motion in declination"),
            ("pmdec_error", Float32, "mas.yr**-1", "stat.error;pos.pm;pos.eq.dec", "Standard error of pmdec"),
            ("ruwe", Float32, "", "stat.error;phys.size", "Renormalised unit weight error"),
            ("phot_g_mean_mag", Float32, "mag", "phot.mag;em.opt", "G-band mean magnitude"),
            ("phot_bp_mean_mag", Float32, "mag", "phot.mag;em.opt.B", "Integrated BP mean magnitude"),
            ("phot_rp_mean_mag", Float32, "mag", "phot.mag;em.opt.R", "Integrated RP mean magnitude"),
            ("bp_rp", Float32, "mag", "phot.color;em.opt.B;em.opt.R", "BP - RP colour"),
            ("radial_velocity", Float32, "km.s**-1", "spect.dopplerVeloc.opt;em.opt.I", "Radial velocity"),
            ("l", Float64, "deg", "pos.galactic.lon", "Galactic longitude"),
            ("b", Float64, "deg", "pos.galactic.lat", "Galactic latitude"),
        ],
        SynthTable::TmassPsc => vec![
            ("tmass_oid", Int64, "", "meta.id;meta.main", "Unique 2MASS source identifier"),
            ("designation", Utf8, "", "meta.id", "2MASS designation (Jhhmmssss+ddmmsss)"),
            ("ra", Float64, "deg", "pos.eq.ra;meta.main", "Right ascension (ICRS, epoch ~J2000)"),
            ("dec", Float64, "deg", "pos.eq.dec;meta.main", "Declination (ICRS, epoch ~J2000)"),
            ("j_m", Float32, "mag", "phot.mag;em.IR.J", "J magnitude"),
            ("h_m", Float32, "mag", "phot.mag;em.IR.H", "H magnitude"),
            ("ks_m", Float32, "mag", "phot.mag;em.IR.K", "Ks magnitude"),
            ("ph_qual", Utf8, "", "meta.code.qual", "Photometric quality flags (J, H, Ks)"),
        ],
        SynthTable::BestNeighbours => vec![
            ("source_id", Int64, "", "meta.id.cross", "Gaia source identifier"),
            ("original_ext_source_id", Utf8, "", "meta.id.cross", "2MASS designation of the best neighbour"),
            ("tmass_oid", Int64, "", "meta.id.cross", "2MASS identifier of the best neighbour"),
            ("angular_distance", Float32, "arcsec", "pos.angDistance", "Angular distance between the two sources"),
            ("number_of_neighbours", Int16, "", "meta.number", "Number of 2MASS sources matching the Gaia source"),
            ("number_of_mates", Int16, "", "meta.number", "Number of other Gaia sources with the same best neighbour"),
        ],
    }
}

/// Schema and column metadata of a synthetic table.
pub fn table_schema(t: SynthTable) -> (SchemaRef, TableMeta) {
    let cols = columns(t);
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, dt, ..)| Field::new(*n, dt.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let meta = TableMeta {
        name: t.name().into(),
        description: Some(t.description().into()),
        fields: cols
            .iter()
            .map(|(n, dt, u, ucd, d)| {
                let mut f = FieldMeta::from_arrow(&Field::new(*n, dt.clone(), true));
                f.unit = (!u.is_empty()).then(|| u.to_string());
                f.ucd = Some(ucd.to_string());
                f.description = Some(d.to_string());
                f
            })
            .collect(),
    };
    (schema, meta)
}

/// Galactic (l, b) in degrees → ICRS (ra, dec) in degrees.
pub fn galactic_to_icrs(l: f64, b: f64) -> (f64, f64) {
    // Rows of the ICRS → galactic rotation (Hipparcos catalogue, vol. 1, §1.5.3).
    #[allow(clippy::excessive_precision)]
    const A: [[f64; 3]; 3] = [
        [
            -0.054_875_560_416_215_4,
            -0.873_437_090_234_885,
            -0.483_835_015_548_713_2,
        ],
        [
            0.494_109_427_875_583_7,
            -0.444_829_629_960_011_2,
            0.746_982_244_497_218_9,
        ],
        [
            -0.867_666_149_019_004_7,
            -0.198_076_373_431_201_5,
            0.455_983_776_175_066_9,
        ],
    ];
    let (l, b) = (l.to_radians(), b.to_radians());
    let g = [b.cos() * l.cos(), b.cos() * l.sin(), b.sin()];
    let mut e = [0.0; 3];
    for (i, ei) in e.iter_mut().enumerate() {
        *ei = A[0][i] * g[0] + A[1][i] * g[1] + A[2][i] * g[2];
    }
    let ra = e[1].atan2(e[0]).to_degrees().rem_euclid(360.0);
    let dec = e[2].clamp(-1.0, 1.0).asin().to_degrees();
    (ra, dec)
}

/// Angular distance in degrees (Vincenty formula, stable at all distances).
pub fn angular_distance_deg(ra1: f64, dec1: f64, ra2: f64, dec2: f64) -> f64 {
    let (ra1, dec1, ra2, dec2) = (
        ra1.to_radians(),
        dec1.to_radians(),
        ra2.to_radians(),
        dec2.to_radians(),
    );
    let dra = ra2 - ra1;
    let (s1, c1, s2, c2) = (dec1.sin(), dec1.cos(), dec2.sin(), dec2.cos());
    let num = ((c2 * dra.sin()).powi(2) + (c1 * s2 - s1 * c2 * dra.cos()).powi(2)).sqrt();
    let den = s1 * s2 + c1 * c2 * dra.cos();
    num.atan2(den).to_degrees()
}

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One generated star (all the facts the three tables need).
struct Star {
    row: u64,
    ra: f64,
    dec: f64,
    l: f64,
    b: f64,
    g: f64,
    bp_rp: f64,
    plx: Option<f64>,
    pmra: Option<f64>,
    pmdec: Option<f64>,
    hpx12: u64,
}

fn chunk_rng(seed: u64, chunk: u64, stream: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(
        seed ^ chunk.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

fn stars(seed: u64, chunk: u64, rows_total: u64) -> Vec<Star> {
    let start = chunk * CHUNK_ROWS;
    let end = (start + CHUNK_ROWS).min(rows_total);
    let mut rng = chunk_rng(seed, chunk, 0);
    let mut out = Vec::with_capacity((end - start) as usize);
    let gmin: f64 = 3.0;
    let gmax: f64 = 21.0;
    let k = 0.35 * std::f64::consts::LN_10;
    for row in start..end {
        // Galaxy: 75% disc (exponential in b, concentrated toward l = 0), 25% halo.
        let (l, b) = if rng.random::<f64>() < 0.75 {
            let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
            let b = sign * (-(1.0 - rng.random::<f64>()).ln() * 6.0).min(89.9);
            let l = (normal(&mut rng) * 70.0).rem_euclid(360.0);
            (l, b)
        } else {
            let z: f64 = rng.random::<f64>() * 2.0 - 1.0;
            (rng.random::<f64>() * 360.0, z.asin().to_degrees())
        };
        let (ra, dec) = galactic_to_icrs(l, b);
        // Number counts rising like 10^(0.35 G).
        let u: f64 = rng.random();
        let g = ((k * gmin).exp() + u * ((k * gmax).exp() - (k * gmin).exp())).ln() / k;
        let bp_rp = (1.0 + 0.45 * normal(&mut rng)).clamp(-0.5, 5.0);
        let five_param = g < 19.0 || rng.random::<f64>() < 0.5;
        let (plx, pmra, pmdec) = if five_param {
            let dist_kpc = (0.3 + (g - 8.0).max(0.0) * 0.25) * (0.5 * normal(&mut rng)).exp();
            (
                Some(1.0 / dist_kpc + 0.02 * normal(&mut rng)),
                Some(-2.0 + 6.0 * normal(&mut rng) / dist_kpc.sqrt()),
                Some(-3.0 + 6.0 * normal(&mut rng) / dist_kpc.sqrt()),
            )
        } else {
            (None, None, None)
        };
        // The source_id cell: the position at J2000 (16 years earlier).
        let (ra0, dec0) = match (pmra, pmdec) {
            (Some(a), Some(d)) => {
                let dt = 16.0 / 3.6e6;
                (
                    ra - a * dt / dec.to_radians().cos().max(1e-6),
                    (dec - d * dt).clamp(-90.0, 90.0),
                )
            }
            _ => (ra, dec),
        };
        let hpx12 =
            cdshealpix::nested::hash(12, ra0.rem_euclid(360.0).to_radians(), dec0.to_radians());
        out.push(Star {
            row,
            ra,
            dec,
            l,
            b,
            g,
            bp_rp,
            plx,
            pmra,
            pmdec,
            hpx12,
        });
    }
    out
}

fn designation(ra: f64, dec: f64) -> String {
    let h = ra / 15.0;
    let (hh, mm) = (h.trunc(), (h.fract() * 60.0).trunc());
    let ss = ((h * 3600.0) % 60.0 * 100.0).trunc();
    let sign = if dec < 0.0 { '-' } else { '+' };
    let d = dec.abs();
    let (dd, dm) = (d.trunc(), (d.fract() * 60.0).trunc());
    let ds = ((d * 3600.0) % 60.0 * 10.0).trunc();
    format!("J{hh:02}{mm:02}{ss:04}{sign}{dd:02}{dm:02}{ds:03}")
}

/// A 2MASS-like row: oid, designation, ra, dec, J, and the Gaia match
/// (source_id, distance in arcsec) if any.
type TmassRow = (i64, String, f64, f64, f64, Option<(i64, f64)>);

/// Generate one chunk of a table.
pub fn generate_chunk(
    t: SynthTable,
    seed: u64,
    chunk: u64,
    rows_total: u64,
) -> Result<RecordBatch> {
    let (schema, _) = table_schema(t);
    let stars = stars(seed, chunk, rows_total);
    let n = stars.len();
    // Separate stream for per-table noise, so tables do not disturb each other.
    let mut rng = chunk_rng(seed, chunk, 1 + t as u64);
    let cols: Vec<ArrayRef> = match t {
        SynthTable::GaiaSource => {
            let mut sid = Int64Builder::with_capacity(n);
            let mut rnd = Int64Builder::with_capacity(n);
            let mut f64s: Vec<Float64Builder> =
                (0..7).map(|_| Float64Builder::with_capacity(n)).collect();
            let mut f32s: Vec<Float32Builder> =
                (0..11).map(|_| Float32Builder::with_capacity(n)).collect();
            // A permutation of 0..rows_total: multiplication by a prime that
            // does not divide it.
            let p: u64 = [2_654_435_761u64, 2_246_822_519, 3_266_489_917]
                .into_iter()
                .find(|p| !rows_total.is_multiple_of(*p))
                .expect("one of three primes");
            for s in &stars {
                sid.append_value(((s.hpx12 << 35) | s.row) as i64);
                rnd.append_value(((s.row as u128 * p as u128) % rows_total.max(1) as u128) as i64);
                let err = 0.02 * 10f64.powf(0.2 * (s.g - 15.0)).max(0.3);
                let [ref_epoch, ra, dec, plx, pmra, pmdec, l] = &mut f64s[..] else {
                    unreachable!()
                };
                ref_epoch.append_value(2016.0);
                ra.append_value(s.ra);
                dec.append_value(s.dec);
                plx.append_option(s.plx);
                pmra.append_option(s.pmra);
                pmdec.append_option(s.pmdec);
                l.append_value(s.l);
                let [ra_e, dec_e, plx_e, pmra_e, pmdec_e, ruwe, gm, bpm, rpm, bprp, rv] =
                    &mut f32s[..]
                else {
                    unreachable!()
                };
                ra_e.append_value((err * 0.8) as f32);
                dec_e.append_value((err * 0.7) as f32);
                let has5 = s.plx.is_some();
                plx_e.append_option(has5.then_some(err as f32));
                pmra_e.append_option(has5.then_some((err * 1.1) as f32));
                pmdec_e.append_option(has5.then_some((err * 1.0) as f32));
                let tail = rng.random::<f64>() < 0.05;
                ruwe.append_value(
                    (1.0 + (0.08 * normal(&mut rng)).abs()
                        + if tail {
                            0.4 + rng.random::<f64>() * 2.0
                        } else {
                            0.0
                        }) as f32,
                );
                gm.append_value(s.g as f32);
                let colours = rng.random::<f64>() > 0.04;
                let bp = s.g + 0.45 * s.bp_rp + 0.05;
                let rp = bp - s.bp_rp;
                bpm.append_option(colours.then_some(bp as f32));
                rpm.append_option(colours.then_some(rp as f32));
                bprp.append_option(colours.then_some(s.bp_rp as f32));
                rv.append_option((s.g < 15.0).then(|| (40.0 * normal(&mut rng)) as f32));
            }
            let mut b = f64s.into_iter();
            let mut f = f32s.into_iter();
            let mut nf64 = || -> ArrayRef { Arc::new(b.next().expect("f64").finish()) };
            let mut nf32 = || -> ArrayRef { Arc::new(f.next().expect("f32").finish()) };
            let ref_epoch = nf64();
            let (ra, dec, plx, pmra, pmdec, l) = (nf64(), nf64(), nf64(), nf64(), nf64(), nf64());
            let (ra_e, dec_e, plx_e, pmra_e, pmdec_e, ruwe, gm, bpm, rpm, bprp, rv) = (
                nf32(),
                nf32(),
                nf32(),
                nf32(),
                nf32(),
                nf32(),
                nf32(),
                nf32(),
                nf32(),
                nf32(),
                nf32(),
            );
            let bcol: ArrayRef = Arc::new(arrow::array::Float64Array::from_iter_values(
                stars.iter().map(|s| s.b),
            ));
            vec![
                Arc::new(sid.finish()),
                Arc::new(rnd.finish()),
                ref_epoch,
                ra,
                ra_e,
                dec,
                dec_e,
                plx,
                plx_e,
                pmra,
                pmra_e,
                pmdec,
                pmdec_e,
                ruwe,
                gm,
                bpm,
                rpm,
                bprp,
                rv,
                l,
                bcol,
            ]
        }
        SynthTable::TmassPsc | SynthTable::BestNeighbours => {
            // A Gaia star brighter than G = 17 has a 2MASS counterpart 90% of
            // the time, offset by ~0.1"; every 8th row also adds a 2MASS-only
            // source somewhere else.
            let mut tm: Vec<TmassRow> = Vec::new();
            for s in &stars {
                let matched = s.g < 17.0 && rng.random::<f64>() < 0.9;
                if matched {
                    let off = 0.1 / 3600.0;
                    let dec = (s.dec + off * normal(&mut rng)).clamp(-90.0, 90.0);
                    let ra = (s.ra + off * normal(&mut rng) / s.dec.to_radians().cos().max(1e-3))
                        .rem_euclid(360.0);
                    let j = s.g - 1.2 * s.bp_rp.max(0.0) - 0.3 + 0.05 * normal(&mut rng);
                    let d = angular_distance_deg(s.ra, s.dec, ra, dec) * 3600.0;
                    tm.push((
                        2 * s.row as i64,
                        designation(ra, dec),
                        ra,
                        dec,
                        j,
                        Some((((s.hpx12 << 35) | s.row) as i64, d)),
                    ));
                }
                if s.row % 8 == 7 {
                    let ra = (s.ra + 0.5 + rng.random::<f64>()).rem_euclid(360.0);
                    let dec = (s.dec + rng.random::<f64>() - 0.5).clamp(-89.99, 89.99);
                    tm.push((
                        2 * s.row as i64 + 1,
                        designation(ra, dec),
                        ra,
                        dec,
                        12.0 + 4.0 * rng.random::<f64>(),
                        None,
                    ));
                }
            }
            if t == SynthTable::TmassPsc {
                let mut oid = Int64Builder::new();
                let mut des = StringBuilder::new();
                let (mut ra, mut dec) = (Float64Builder::new(), Float64Builder::new());
                let (mut jm, mut hm, mut km) = (
                    Float32Builder::new(),
                    Float32Builder::new(),
                    Float32Builder::new(),
                );
                let mut q = StringBuilder::new();
                for (o, d, r, de, j, _) in &tm {
                    oid.append_value(*o);
                    des.append_value(d);
                    ra.append_value(*r);
                    dec.append_value(*de);
                    jm.append_value(*j as f32);
                    hm.append_value((*j - 0.4) as f32);
                    km.append_value((*j - 0.5) as f32);
                    q.append_value(if *j < 14.0 {
                        "AAA"
                    } else if *j < 15.5 {
                        "AAB"
                    } else {
                        "BCU"
                    });
                }
                vec![
                    Arc::new(oid.finish()),
                    Arc::new(des.finish()),
                    Arc::new(ra.finish()),
                    Arc::new(dec.finish()),
                    Arc::new(jm.finish()),
                    Arc::new(hm.finish()),
                    Arc::new(km.finish()),
                    Arc::new(q.finish()),
                ]
            } else {
                let mut sid = Int64Builder::new();
                let mut des = StringBuilder::new();
                let mut oid = Int64Builder::new();
                let mut dist = Float32Builder::new();
                let (mut nn, mut nm) = (Int16Builder::new(), Int16Builder::new());
                for (o, d, _, _, _, m) in &tm {
                    if let Some((s, ang)) = m {
                        sid.append_value(*s);
                        des.append_value(d);
                        oid.append_value(*o);
                        dist.append_value(*ang as f32);
                        nn.append_value(1);
                        nm.append_value(0);
                    }
                }
                vec![
                    Arc::new(sid.finish()),
                    Arc::new(des.finish()),
                    Arc::new(oid.finish()),
                    Arc::new(dist.finish()),
                    Arc::new(nn.finish()),
                    Arc::new(nm.finish()),
                ]
            }
        }
    };
    Ok(RecordBatch::try_new(schema, cols)?)
}

/// A range of chunks of one synthetic table as an input [`Source`].
pub struct SynthSource {
    table: SynthTable,
    seed: u64,
    rows_total: u64,
    next: u64,
    end: u64,
    name: String,
    schema: SchemaRef,
    meta: TableMeta,
}

impl SynthSource {
    /// Chunks `chunks` of `table` for a catalogue of `rows_total` Gaia rows.
    pub fn new(
        table: SynthTable,
        seed: u64,
        rows_total: u64,
        chunks: std::ops::Range<u64>,
    ) -> Self {
        let (schema, meta) = table_schema(table);
        SynthSource {
            table,
            seed,
            rows_total,
            next: chunks.start,
            end: chunks.end,
            name: format!("synth:{}[{}..{}]", table.name(), chunks.start, chunks.end),
            schema,
            meta,
        }
    }

    /// Split a table into `parts` sources of consecutive chunks.
    pub fn split(table: SynthTable, seed: u64, rows_total: u64, parts: u64) -> Vec<SynthSource> {
        let chunks = rows_total.div_ceil(CHUNK_ROWS);
        let parts = parts.clamp(1, chunks.max(1));
        (0..parts)
            .map(|i| {
                SynthSource::new(
                    table,
                    seed,
                    rows_total,
                    (chunks * i / parts)..(chunks * (i + 1) / parts),
                )
            })
            .collect()
    }
}

impl SynthSource {
    /// [`SynthSource::split`] as ingest inputs.
    pub fn openers(
        table: SynthTable,
        seed: u64,
        rows_total: u64,
        parts: u64,
    ) -> Vec<crate::ingest::SourceOpener> {
        Self::split(table, seed, rows_total, parts)
            .into_iter()
            .map(|s| {
                Box::new(move || Ok(Box::new(s) as Box<dyn Source>)) as crate::ingest::SourceOpener
            })
            .collect()
    }
}

impl Source for SynthSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
    fn meta(&self) -> &TableMeta {
        &self.meta
    }
    fn next_batch(&mut self) -> Result<Option<SourceBatch>> {
        while self.next < self.end {
            let chunk = self.next;
            self.next += 1;
            let batch = generate_chunk(self.table, self.seed, chunk, self.rows_total)?;
            if batch.num_rows() > 0 {
                return Ok(Some(SourceBatch {
                    batch,
                    first_line: chunk * CHUNK_ROWS + 1,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_consistent() {
        let a = generate_chunk(SynthTable::GaiaSource, 7, 1, 200_000).unwrap();
        let b = generate_chunk(SynthTable::GaiaSource, 7, 1, 200_000).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.num_rows(), CHUNK_ROWS as usize);
        let last = generate_chunk(SynthTable::GaiaSource, 7, 3, 200_000).unwrap();
        assert_eq!(last.num_rows(), 200_000 - 3 * CHUNK_ROWS as usize);
        // source_id embeds an order-12 cell close to the position.
        let sid = a
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        let ra = a
            .column(3)
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap();
        let dec = a
            .column(5)
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap();
        let mut differ = 0;
        for i in 0..a.num_rows() {
            let cell = (sid.value(i) >> 35) as u64;
            let pos =
                cdshealpix::nested::hash(12, ra.value(i).to_radians(), dec.value(i).to_radians());
            if cell != pos {
                differ += 1;
            }
        }
        assert!(
            differ > 0 && differ < a.num_rows() / 50,
            "{differ} cells differ"
        );
        // Best neighbours reference existing Gaia ids.
        let bn = generate_chunk(SynthTable::BestNeighbours, 7, 1, 200_000).unwrap();
        let ids: std::collections::HashSet<i64> = sid.values().iter().copied().collect();
        let bsid = bn
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap();
        assert!(bn.num_rows() > 1000);
        assert!(bsid.values().iter().all(|v| ids.contains(v)));
    }

    #[test]
    fn galactic_rotation() {
        // The galactic centre and north pole (ICRS).
        let (ra, dec) = galactic_to_icrs(0.0, 0.0);
        assert!(
            (ra - 266.405).abs() < 0.01 && (dec + 28.936).abs() < 0.01,
            "{ra} {dec}"
        );
        let (_, dec) = galactic_to_icrs(0.0, 90.0);
        assert!((dec - 27.128).abs() < 0.01);
        assert!((angular_distance_deg(10.0, 20.0, 10.0, 21.0) - 1.0).abs() < 1e-12);
    }
}
