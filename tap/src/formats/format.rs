//! The TAP result formats: [`Format`], its MIME type, aliases and file
//! extension.

/// A TAP result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// VOTable with BINARY2 serialization (the default).
    VoTableBinary2,
    /// VOTable with BINARY serialization.
    VoTableBinary,
    /// VOTable with TABLEDATA (XML) serialization.
    VoTableTableData,
    /// Comma-separated values (RFC 4180) with a header line.
    Csv,
    /// Tab-separated values with a header line.
    Tsv,
    /// JSON: `{"metadata": [...], "data": [[...], ...]}` (the Gaia archive's layout).
    Json,
    /// ECSV 1.0 (astropy's enhanced CSV: a YAML header with the column
    /// types and metadata).
    Ecsv,
    /// FITS binary table.
    Fits,
    /// Parquet with VOParquet 1.0 metadata.
    Parquet,
}

impl Format {
    /// Every format, in the order [`Format::all`] lists them.
    const ALL: [Format; 9] = [
        Format::VoTableBinary2,
        Format::VoTableBinary,
        Format::VoTableTableData,
        Format::Csv,
        Format::Tsv,
        Format::Json,
        Format::Ecsv,
        Format::Fits,
        Format::Parquet,
    ];

    /// The format for a TAP `RESPONSEFORMAT` (or `FORMAT`) value: a MIME type
    /// or a short alias, case-insensitively, with whitespace around `;` and
    /// `=` ignored. `votable`, `application/x-votable+xml` and `text/xml`
    /// are BINARY2; `serialization=` and `votable/b2`, `votable/b`,
    /// `votable/td` choose the serialization. `None` for anything else.
    pub fn parse(s: &str) -> Option<Format> {
        let norm: String = s
            .split(';')
            .map(|p| {
                p.split('=')
                    .map(|x| x.trim().trim_matches('"'))
                    .collect::<Vec<_>>()
                    .join("=")
            })
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(";")
            .to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| {
            let (mime, aliases) = f.names();
            mime.eq_ignore_ascii_case(&norm)
                || aliases.iter().any(|a| a.eq_ignore_ascii_case(&norm))
        })
    }

    /// Canonical MIME type and the other accepted values.
    fn names(self) -> (&'static str, Vec<&'static str>) {
        match self {
            Format::VoTableBinary2 => (
                "application/x-votable+xml;serialization=BINARY2",
                vec![
                    "votable",
                    "application/x-votable+xml",
                    "text/xml",
                    "votable/b2",
                    "application/x-votable",
                    "application/votable+xml",
                    "text/xml;serialization=BINARY2",
                ],
            ),
            Format::VoTableBinary => (
                "application/x-votable+xml;serialization=BINARY",
                vec![
                    "votable/b",
                    "votable/binary",
                    "text/xml;serialization=BINARY",
                ],
            ),
            Format::VoTableTableData => (
                "application/x-votable+xml;serialization=TABLEDATA",
                vec![
                    "votable/td",
                    "votable/tabledata",
                    // The ESA Gaia archive's name (astroquery's TapPlus).
                    "votable_plain",
                    "text/xml;serialization=TABLEDATA",
                ],
            ),
            Format::Csv => ("text/csv;header=present", vec!["csv", "text/csv"]),
            Format::Tsv => (
                "text/tab-separated-values",
                vec![
                    "tsv",
                    "text/tsv",
                    "text/tab-separated-values;header=present",
                ],
            ),
            Format::Json => ("application/json", vec!["json", "text/json"]),
            Format::Ecsv => (
                "text/x-ecsv",
                vec!["ecsv", "text/ecsv", "application/x-ecsv"],
            ),
            Format::Fits => (
                "application/fits",
                vec!["fits", "image/fits", "application/x-fits-table"],
            ),
            Format::Parquet => (
                "application/vnd.apache.parquet",
                vec!["parquet", "application/x-parquet", "application/parquet"],
            ),
        }
    }

    /// The canonical MIME type, for the `Content-Type` header, e.g.
    /// `application/x-votable+xml;serialization=BINARY2`.
    pub fn mime(&self) -> &'static str {
        self.names().0
    }

    /// The file-name extension (without dot), for `Content-Disposition`.
    pub fn extension(&self) -> &'static str {
        match self {
            Format::VoTableBinary2 | Format::VoTableBinary | Format::VoTableTableData => "vot",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Ecsv => "ecsv",
            Format::Fits => "fits",
            Format::Parquet => "parquet",
        }
    }

    /// Every format with its canonical MIME type and its aliases (all values
    /// [`Format::parse`] accepts), for TAPRegExt `<outputFormat>`.
    pub fn all() -> Vec<(Format, &'static str, Vec<&'static str>)> {
        Format::ALL
            .into_iter()
            .map(|f| {
                let (mime, aliases) = f.names();
                (f, mime, aliases)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_formats() {
        use Format::*;
        for (s, f) in [
            ("votable", VoTableBinary2),
            ("VOTable", VoTableBinary2),
            ("application/x-votable+xml", VoTableBinary2),
            ("text/xml", VoTableBinary2),
            ("votable/b2", VoTableBinary2),
            ("votable/b", VoTableBinary),
            ("votable/td", VoTableTableData),
            ("votable_plain", VoTableTableData),
            ("ecsv", Ecsv),
            ("text/x-ecsv", Ecsv),
            (
                "application/x-votable+xml;serialization=TABLEDATA",
                VoTableTableData,
            ),
            (
                "application/x-votable+xml; serialization=tabledata",
                VoTableTableData,
            ),
            (
                "application/x-votable+xml;serialization=BINARY",
                VoTableBinary,
            ),
            (
                "application/x-votable+xml;serialization=binary2",
                VoTableBinary2,
            ),
            ("csv", Csv),
            ("text/csv", Csv),
            ("text/csv;header=present", Csv),
            ("TSV", Tsv),
            ("text/tab-separated-values", Tsv),
            ("json", Json),
            ("application/json", Json),
            ("fits", Fits),
            ("application/fits", Fits),
            ("parquet", Parquet),
            ("application/vnd.apache.parquet", Parquet),
        ] {
            assert_eq!(Format::parse(s), Some(f), "{s}");
        }
        assert_eq!(Format::parse("text/html"), None);
        assert_eq!(Format::parse(""), None);
        for (f, mime, aliases) in Format::all() {
            assert_eq!(Format::parse(mime), Some(f));
            assert_eq!(f.mime(), mime);
            for a in aliases {
                assert_eq!(Format::parse(a), Some(f), "{a}");
            }
        }
    }
}
