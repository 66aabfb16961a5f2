//! The HATS v1.0 on-disk layout and the Parquet metadata every file carries.
//!
//! ```text
//! TABLE/
//!   hats.properties            catalogue properties (key=value)
//!   partition_info.csv         Norder,Npix of every partition
//!   dataset/Norder=K/Dir=D/Npix=N.parquet
//!   dataset/_metadata          footer of every file (row groups, file_path set)
//!   dataset/_common_metadata   the schema only
//!   table-metadata.vot         VOTable sidecar (astrolake)
//!   coverage.moc.fits          MOC 2.0 coverage (astrolake)
//!   astrolake-table.json       scan descriptor (astrolake)
//! ```
//!
//! Each Parquet file also carries VOParquet 1.0 key-value metadata: the
//! version and a VOTable without DATA describing its columns in order.

use std::collections::BTreeMap;
use std::sync::Arc;

use parquet::file::metadata::{
    FileMetaData, KeyValue, ParquetMetaData, ParquetMetaDataWriter, RowGroupMetaData,
};

use crate::error::{CatalogError, Result};
use crate::healpix::Pixel;
use crate::table::{DataFile, TableInfo};
use astrolake_vo::TableMeta;

/// VOParquet version key.
pub const VOPARQUET_VERSION_KEY: &str = "IVOA.VOTable-Parquet.version";
/// VOParquet content key.
pub const VOPARQUET_CONTENT_KEY: &str = "IVOA.VOTable-Parquet.content";
/// VOParquet version written.
pub const VOPARQUET_VERSION: &str = "1.0";

/// Path of a partition file relative to the table directory.
pub fn pixel_file_path(p: &Pixel) -> String {
    format!(
        "dataset/Norder={}/Dir={}/Npix={}.parquet",
        p.order,
        p.dir(),
        p.npix
    )
}

/// The VOParquet key-value pairs for a table's metadata.
pub fn voparquet_key_values(meta: &TableMeta) -> Vec<KeyValue> {
    vec![
        KeyValue::new(
            VOPARQUET_VERSION_KEY.to_string(),
            VOPARQUET_VERSION.to_string(),
        ),
        KeyValue::new(VOPARQUET_CONTENT_KEY.to_string(), meta.to_votable()),
    ]
}

/// Read the VOParquet metadata of a Parquet file, if it has any.
pub fn voparquet_meta(kv: Option<&Vec<KeyValue>>) -> Result<Option<TableMeta>> {
    let Some(kv) = kv else { return Ok(None) };
    match kv.iter().find(|k| k.key == VOPARQUET_CONTENT_KEY) {
        Some(KeyValue { value: Some(v), .. }) => Ok(Some(TableMeta::from_votable(v)?)),
        _ => Ok(None),
    }
}

/// `partition_info.csv`: `Norder,Npix` per partition, in pixel order.
pub fn partition_info_csv(files: &[DataFile]) -> String {
    let mut s = String::from("Norder,Npix\n");
    for f in files {
        if let Some(p) = f.pixel {
            s.push_str(&format!("{},{}\n", p.order, p.npix));
        }
    }
    s
}

/// Parse `partition_info.csv`.
pub fn parse_partition_info(text: &str) -> Result<Vec<Pixel>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim())
        .collect();
    let oi = header.iter().position(|h| *h == "Norder");
    let ni = header.iter().position(|h| *h == "Npix");
    let (Some(oi), Some(ni)) = (oi, ni) else {
        return Err(CatalogError::Metadata(
            "partition_info.csv has no Norder,Npix header".into(),
        ));
    };
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(|s| s.trim()).collect();
        let parse = |j: usize| -> Result<u64> {
            f.get(j).and_then(|v| v.parse().ok()).ok_or_else(|| {
                CatalogError::Metadata(format!(
                    "partition_info.csv line {}: bad row {line:?}",
                    i + 2
                ))
            })
        };
        out.push(Pixel::new(parse(oi)? as u8, parse(ni)?));
    }
    Ok(out)
}

/// Settings that go into `hats.properties`.
pub struct Properties<'a> {
    /// The table descriptor.
    pub info: &'a TableInfo,
    /// Highest partition order.
    pub max_order: u8,
    /// Ingest tool and version.
    pub builder: String,
    /// Default columns, if any.
    pub default_columns: Option<Vec<String>>,
}

impl Properties<'_> {
    /// The text of `hats.properties`.
    pub fn to_text(&self) -> String {
        let info = self.info;
        let mut kv: Vec<(&str, String)> = vec![
            ("obs_collection", info.table.clone()),
            ("dataproduct_type", "object".into()),
            ("hats_nrows", info.rows.to_string()),
        ];
        if let (Some(ra), Some(dec)) = (&info.ra_column, &info.dec_column) {
            kv.push(("hats_col_ra", ra.clone()));
            kv.push(("hats_col_dec", dec.clone()));
            kv.push(("hats_col_healpix", crate::healpix::HEALPIX_COLUMN.into()));
            kv.push((
                "hats_col_healpix_order",
                crate::healpix::INDEX_ORDER.to_string(),
            ));
        }
        kv.push(("hats_npix_suffix", ".parquet".into()));
        kv.push(("hats_max_rows", info.max_rows_per_partition.to_string()));
        kv.push(("hats_order", self.max_order.to_string()));
        kv.push(("moc_sky_fraction", format!("{:.5}", info.sky_fraction)));
        kv.push(("hats_builder", self.builder.clone()));
        kv.push(("hats_creation_date", hats_date(&info.created)));
        kv.push(("hats_estsize", (info.bytes / 1024).to_string()));
        kv.push(("hats_release_date", "2025-08-22".into()));
        kv.push(("hats_version", "v1.0".into()));
        if let Some(cols) = &self.default_columns {
            kv.push(("hats_cols_default", cols.join(" ")));
        }
        let mut s = String::from("#HATS catalog\n");
        for (k, v) in kv {
            s.push_str(&format!("{k}={}\n", v.replace(['\n', '\r'], " ")));
        }
        s
    }
}

/// RFC 3339 `2026-11-24T21:55:00Z` → HATS `2026-11-24T21:55UTC`.
fn hats_date(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%MUTC")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// Parse `hats.properties` (key=value lines, `#` comments).
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Build `dataset/_metadata` (every file's row groups, each column chunk's
/// `file_path` set relative to `dataset/`) and `dataset/_common_metadata`
/// (schema and key-value metadata only) from the footers of the data files.
///
/// `files` pairs each file's path relative to `dataset/` with its footer.
pub fn summary_metadata_files(files: &[(String, ParquetMetaData)]) -> Result<(Vec<u8>, Vec<u8>)> {
    let Some((_, first)) = files.first() else {
        return Err(CatalogError::Invalid("no data files to summarise".into()));
    };
    let fm = first.file_metadata();
    let total_rows: i64 = files
        .iter()
        .map(|(_, m)| m.file_metadata().num_rows())
        .sum();
    let mut row_groups: Vec<RowGroupMetaData> = Vec::new();
    for (path, meta) in files {
        for rg in meta.row_groups() {
            let cols = rg
                .columns()
                .iter()
                .map(|c| c.clone().into_builder().set_file_path(path.clone()).build())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            row_groups.push(
                rg.clone()
                    .into_builder()
                    .set_column_metadata(cols)
                    .build()?,
            );
        }
    }
    let file_meta = |rows: i64| {
        FileMetaData::new(
            fm.version(),
            rows,
            fm.created_by().map(str::to_string),
            fm.key_value_metadata().cloned(),
            Arc::clone(&fm.schema_descr_ptr()),
            fm.column_orders().cloned(),
        )
    };
    let all = ParquetMetaData::new(file_meta(total_rows), row_groups);
    let common = ParquetMetaData::new(file_meta(0), vec![]);
    // ParquetMetaDataWriter writes the footer only; a Parquet file starts
    // with the magic bytes too.
    let mut a = b"PAR1".to_vec();
    ParquetMetaDataWriter::new(&mut a, &all).finish()?;
    let mut c = b"PAR1".to_vec();
    ParquetMetaDataWriter::new(&mut c, &common).finish()?;
    Ok((a, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_hats() {
        assert_eq!(
            pixel_file_path(&Pixel::new(5, 12_345)),
            "dataset/Norder=5/Dir=10000/Npix=12345.parquet"
        );
    }

    #[test]
    fn partition_info_round_trips() {
        let f = |o, n| DataFile {
            path: String::new(),
            pixel: Some(Pixel::new(o, n)),
            rows: 1,
            bytes: 1,
            healpix_min: None,
            healpix_max: None,
        };
        let text = partition_info_csv(&[f(0, 3), f(2, 70)]);
        assert_eq!(text, "Norder,Npix\n0,3\n2,70\n");
        assert_eq!(
            parse_partition_info(&text).unwrap(),
            vec![Pixel::new(0, 3), Pixel::new(2, 70)]
        );
        assert!(parse_partition_info("a,b\n1,2\n").is_err());
    }

    #[test]
    fn properties_parse() {
        let p = parse_properties("#HATS catalog\nhats_nrows=10\nhats_col_ra = ra\n");
        assert_eq!(p["hats_nrows"], "10");
        assert_eq!(p["hats_col_ra"], "ra");
    }
}
