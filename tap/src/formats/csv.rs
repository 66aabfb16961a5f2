//! CSV (RFC 4180) and TSV output.
//!
//! CSV: a header line of column names, one line per row, fields separated
//! by commas, lines ended by CRLF (as RFC 4180 says). A field is quoted
//! (`"`, inner quotes doubled) when it holds a comma, a quote, CR or LF;
//! an empty string is written `""` so that it differs from NULL, which is
//! an empty field. Arrays (points, circles, polygons, …) are their values
//! separated by single spaces (the DALI/TABLEDATA syntax), unquoted since
//! they hold no special character. Numbers are the shortest text that reads
//! back to the same value; NaN is `NaN`, infinities `+Inf`/`-Inf`;
//! booleans `true`/`false`; timestamps ISO 8601.
//!
//! TSV: the same values separated by tabs, lines ended by LF, never
//! quoted: tabs, CR and LF inside a value become spaces. NULL and the empty
//! string are both an empty field.
//!
//! Neither format can carry the query status: an overflow is not marked,
//! and [`super::Encoder::fail`] appends a last line `# ERROR: message`
//! (so that a truncated result never passes for a complete one: strict
//! readers reject that line, and comment-aware ones such as
//! `pandas.read_csv(comment='#')` or astropy skip it).
//!
//! ECSV: the YAML header of [`super::ecsv`], then CSV with LF line ends,
//! booleans `True`/`False` and arrays as quoted JSON arrays.

use arrow::record_batch::RecordBatch;

use super::json::json_value;
use super::{cell_text, Cell, Error, Plan, Result};

/// CSV, TSV or ECSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Csv,
    Tsv,
    Ecsv,
}

/// The CSV/TSV/ECSV encoder.
pub(crate) struct TextEncoder {
    flavor: Flavor,
    /// What comes before the line of column names (ECSV's header).
    preamble: String,
    plan: Plan,
    done: bool,
}

impl TextEncoder {
    pub(crate) fn new(flavor: Flavor, preamble: String, plan: Plan) -> Self {
        TextEncoder {
            flavor,
            preamble,
            plan,
            done: false,
        }
    }

    fn sep(&self) -> &'static str {
        match self.flavor {
            Flavor::Csv | Flavor::Ecsv => ",",
            Flavor::Tsv => "\t",
        }
    }

    fn eol(&self) -> &'static str {
        match self.flavor {
            Flavor::Csv => "\r\n",
            Flavor::Tsv | Flavor::Ecsv => "\n",
        }
    }

    /// A string field.
    fn field(&self, s: &str, out: &mut String) {
        match self.flavor {
            Flavor::Csv | Flavor::Ecsv => csv_field(s, out),
            Flavor::Tsv => {
                if s.contains(['\t', '\r', '\n']) {
                    out.push_str(&s.replace(['\t', '\r', '\n'], " "));
                } else {
                    out.push_str(s);
                }
            }
        }
    }
}

/// A CSV string field (RFC 4180): quoted when it holds a comma, a quote,
/// CR or LF, inner quotes doubled; the empty string as `""` (so that it
/// differs from NULL, an empty field).
pub(crate) fn csv_field(s: &str, out: &mut String) {
    if s.is_empty() {
        out.push_str("\"\"");
    } else if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

impl super::Encoder for TextEncoder {
    fn begin(&mut self) -> Result<Vec<u8>> {
        let mut out = self.preamble.clone();
        for (i, c) in self.plan.columns.iter().enumerate() {
            if i > 0 {
                out.push_str(self.sep());
            }
            self.field(&c.meta.name, &mut out);
        }
        out.push_str(self.eol());
        Ok(out.into_bytes())
    }

    fn batch(&mut self, b: &RecordBatch) -> Result<Vec<u8>> {
        if self.done {
            return Err(Error::State("batch after finish".into()));
        }
        let out = self.plan.text_rows(
            b,
            |_| {},
            self.sep(),
            self.eol(),
            |c, out| match c {
                Cell::Null => {}
                Cell::Str(s) => self.field(s, out),
                Cell::Bool(v) if self.flavor == Flavor::Ecsv => {
                    out.push_str(if v { "True" } else { "False" })
                }
                c @ Cell::Array(..) if self.flavor == Flavor::Ecsv => {
                    let mut json = String::new();
                    json_value(c, &mut json);
                    csv_field(&json, out);
                }
                other => {
                    if let Some(t) = cell_text(other) {
                        out.push_str(&t);
                    }
                }
            },
        )?;
        Ok(out.into_bytes())
    }

    fn finish(&mut self, _overflow: bool) -> Result<Vec<u8>> {
        self.done = true;
        Ok(Vec::new())
    }

    fn fail(&mut self, message: &str) -> Result<Vec<u8>> {
        self.done = true;
        let one_line = message.replace(['\r', '\n'], " ");
        Ok(format!("# ERROR: {one_line}{}", self.eol()).into_bytes())
    }
}
