//! JSON output, in the layout of the ESA Gaia archive's `json` format
//! (which astroquery's TapPlus reads: a `metadata` and a `data` member).
//!
//! ```text
//! {"metadata":[{"name":..,"datatype":..,"arraysize":..,"unit":..,"ucd":..,
//!              "utype":..,"xtype":..,"description":..}, ...],
//!  "data":[
//! [1,2.5,"text",[10.0,20.0],null],
//! ...
//! ],"status":"OK"}
//! ```
//!
//! Absent metadata is `null`. Values: NULL, NaN and infinities are `null`;
//! integers are JSON integers (64-bit values beyond 2^53 lose precision in
//! JavaScript); floating point is the shortest text that reads back to the
//! same value; arrays are JSON arrays (NULL or NaN elements `null`);
//! timestamps ISO 8601 strings. `status` is `"OK"`, `"OVERFLOW"` (result
//! truncated at MAXREC) or `"ERROR"`, the latter with an `"error"` member
//! holding the message ([`super::Encoder::fail`]).

use arrow::record_batch::RecordBatch;
use serde_json::{json, Value};

use super::{element, Cell, Error, Plan, Result};

/// The JSON encoder.
pub(crate) struct JsonEncoder {
    plan: Plan,
    rows: u64,
    began: bool,
    done: bool,
}

impl JsonEncoder {
    pub(crate) fn new(plan: Plan) -> Self {
        JsonEncoder {
            plan,
            rows: 0,
            began: false,
            done: false,
        }
    }

    fn close(&mut self, status: &str, error: Option<&str>) -> Vec<u8> {
        self.done = true;
        let mut out = String::new();
        if !self.began {
            out.push_str("{\"metadata\":[],\"data\":[");
        }
        out.push_str("\n],\"status\":");
        out.push_str(&Value::from(status).to_string());
        if let Some(e) = error {
            out.push_str(",\"error\":");
            out.push_str(&Value::from(e).to_string());
        }
        out.push_str("}\n");
        out.into_bytes()
    }
}

/// A cell as JSON: numbers, booleans, strings, arrays; NULL, NaN and
/// infinities `null`.
pub(crate) fn json_value(c: Cell<'_>, out: &mut String) {
    match c {
        Cell::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Cell::Int(v) => out.push_str(&v.to_string()),
        Cell::Float(v) if v.is_finite() => out.push_str(&format!("{v:?}")),
        Cell::Double(v) if v.is_finite() => out.push_str(&format!("{v:?}")),
        Cell::Str(s) => out.push_str(&Value::from(s).to_string()),
        Cell::Array(values, start, end) => {
            out.push('[');
            for i in start..end {
                if i > start {
                    out.push(',');
                }
                json_value(element(values, i), out);
            }
            out.push(']');
        }
        _ => out.push_str("null"),
    }
}

impl super::Encoder for JsonEncoder {
    fn begin(&mut self) -> Result<Vec<u8>> {
        let columns: Vec<Value> = self
            .plan
            .columns
            .iter()
            .map(|c| {
                let m = &c.meta;
                json!({
                    "name": m.name,
                    "datatype": m.datatype,
                    "arraysize": m.arraysize,
                    "unit": m.unit,
                    "ucd": m.ucd,
                    "utype": m.utype,
                    "xtype": m.xtype,
                    "description": m.description,
                })
            })
            .collect();
        let mut out = String::from("{\"metadata\":");
        out.push_str(&Value::Array(columns).to_string());
        out.push_str(",\n\"data\":[");
        self.began = true;
        Ok(out.into_bytes())
    }

    fn batch(&mut self, b: &RecordBatch) -> Result<Vec<u8>> {
        if self.done {
            return Err(Error::State("batch after finish".into()));
        }
        let rows = &mut self.rows;
        let open = |out: &mut String| {
            out.push_str(if *rows == 0 { "\n[" } else { ",\n[" });
            *rows += 1;
        };
        let out = self.plan.text_rows(b, open, ",", "]", json_value)?;
        Ok(out.into_bytes())
    }

    fn finish(&mut self, overflow: bool) -> Result<Vec<u8>> {
        Ok(self.close(if overflow { "OVERFLOW" } else { "OK" }, None))
    }

    fn fail(&mut self, message: &str) -> Result<Vec<u8>> {
        Ok(self.close("ERROR", Some(message)))
    }
}
