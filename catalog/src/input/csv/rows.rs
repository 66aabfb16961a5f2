//! Reading records, with physical line numbers and raw text, and
//! inferring column types from a sample of them.

use std::collections::VecDeque;
use std::io::Read;

use ::csv::ByteRecord;

use crate::error::{CatalogError, Result};
use crate::input::limits::Stop;
use crate::input::InputLimits;

use super::columns::{parse_bool, parse_f64, parse_i64, Kind};
use super::{Input, CSV_BUFFER, INFER_ROWS, TEE_TRIM_BYTES};

/// The input as the CSV parser reads it, with a copy of the bytes read kept
/// (from `base` on) so that rejected rows can be written as they were, and
/// physical lines counted.
pub(super) struct Tee {
    pub(super) inner: Input,
    pub(super) buf: Vec<u8>,
    /// Offset (from the start of the CSV parser's input) of `buf[0]`.
    pub(super) base: u64,
}

impl Read for Tee {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.buf.extend_from_slice(&out[..n]);
        Ok(n)
    }
}

impl Tee {
    pub(super) fn slice(&self, start: u64, end: u64) -> Option<&[u8]> {
        if start < self.base {
            return None;
        }
        self.buf
            .get((start - self.base) as usize..(end - self.base) as usize)
    }

    pub(super) fn trim(&mut self, keep_from: u64) {
        if keep_from > self.base {
            let k = ((keep_from - self.base) as usize).min(self.buf.len());
            self.buf.drain(..k);
            self.base += k as u64;
        }
    }
}

/// A buffered (sampled) record.
pub(super) struct Pending {
    pub(super) rec: ByteRecord,
    pub(super) line: u64,
    pub(super) span: (u64, u64),
}

/// Records with their physical line numbers.
pub(super) struct Rows {
    pub(super) file: String,
    pub(super) reader: ::csv::Reader<Tee>,
    /// Records read ahead (the type-inference sample), served first.
    pub(super) pending: VecDeque<Pending>,
    /// The current record.
    pub(super) cur: ByteRecord,
    /// Physical line (1-based) where the current record starts.
    pub(super) cur_line: u64,
    /// Parser byte range from the end of the previous record to the end of
    /// this one (blank and comment lines before it included).
    pub(super) cur_span: (u64, u64),
    /// `cur` is fetched but not consumed yet.
    pub(super) have_cur: bool,
    /// Parser byte offset where the previous record ended.
    pub(super) prev_end: u64,
    /// Lines ended before `prev_end` (header lines read before the CSV
    /// parser started included).
    pub(super) nl_before: u64,
    /// Lines read before the CSV parser started (the ECSV header).
    pub(super) line_base: u64,
    /// Raw input before the current record may be dropped.
    pub(super) trim_ok: bool,
    /// Bytes of the file before the CSV parser's input (the ECSV header).
    pub(super) header_bytes: u64,
    pub(super) limits: InputLimits,
}

/// How far past the start of a record the parser may read: the record's
/// limit plus what the parser reads ahead.
pub(super) fn row_window(limits: &InputLimits) -> u64 {
    limits.max_row_bytes.saturating_add(CSV_BUFFER as u64)
}

impl Rows {
    /// Make the next record current: a pending one, else one from the file.
    pub(super) fn fetch(&mut self) -> Result<bool> {
        if let Some(p) = self.pending.pop_front() {
            self.cur = p.rec;
            self.cur_line = p.line;
            self.cur_span = p.span;
            self.have_cur = true;
            return Ok(true);
        }
        let ok = self.read_record()?;
        self.have_cur = ok;
        Ok(ok)
    }

    /// Read the next record from the file into `cur` and work out its line.
    pub(super) fn read_record(&mut self) -> Result<bool> {
        if self.trim_ok && self.reader.get_ref().buf.len() > TEE_TRIM_BYTES {
            let keep = self.prev_end;
            self.reader.get_mut().trim(keep);
        }
        let got = match self.reader.read_byte_record(&mut self.cur) {
            Ok(got) => got,
            Err(e) => return Err(self.read_error(e)),
        };
        if !got {
            return Ok(false);
        }
        let start = self.prev_end;
        let end = self.reader.position().byte();
        let chunk = self
            .reader
            .get_ref()
            .slice(start, end)
            .expect("raw input of the current record is kept");
        // Newlines before the record's last byte: the record's last line is
        // 1 + nl_before + those.
        let trailing_nl = chunk.last() == Some(&b'\n');
        let body = if trailing_nl {
            &chunk[..chunk.len() - 1]
        } else {
            chunk
        };
        // The parser counts the newlines it has consumed.
        let nl_through_end = self.line_base + self.reader.position().line() - 1;
        let nl = nl_through_end - self.nl_before - u64::from(trailing_nl);
        let last_line = 1 + self.nl_before + nl;
        // The usual case needs no scan: no newline before the record's last
        // byte, or just the LF of the previous record's CRLF.
        let lead = u64::from(body.first() == Some(&b'\n'));
        self.cur_line = if nl == lead {
            last_line
        } else {
            last_line - count_newlines(self.cur.as_slice())
        };
        self.cur_span = (start, end);
        self.nl_before = nl_through_end;
        self.prev_end = end;
        let window = (self.header_bytes + end, row_window(&self.limits));
        self.reader.get_mut().inner.set_window(Some(window));
        Ok(true)
    }

    /// The error for a failed read: a limit passed, or what the parser says.
    #[cold]
    pub(super) fn read_error(&self, e: ::csv::Error) -> CatalogError {
        let input = &self.reader.get_ref().inner;
        match input.stopped() {
            Some((Stop::Window, _)) => self.limits.error(
                &self.file,
                format!(
                    "line {}: the row (with any blank or comment lines before it) is too long",
                    self.nl_before + 1
                ),
                "max_row_bytes",
            ),
            Some(_) => input
                .limit_error(&self.file, &self.limits, "the header")
                .expect("a stop other than the window is a limit"),
            None => CatalogError::format(
                &self.file,
                format!("cannot read (after line {}): {e}", self.nl_before),
            ),
        }
    }

    /// The current record's text as it was in the file (without blank or
    /// comment lines before it and without its line terminator).
    pub(super) fn raw_text(&self) -> String {
        match self.raw_bytes() {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            // Not kept (cannot happen): a rendering of the fields.
            None => self
                .cur
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// The bytes of [`Rows::raw_text`], if still kept.
    pub(super) fn raw_bytes(&self) -> Option<&[u8]> {
        let (start, end) = self.cur_span;
        let mut text = self.reader.get_ref().slice(start, end)?;
        for t in [b'\n', b'\r'] {
            if text.last() == Some(&t) {
                text = &text[..text.len() - 1];
            }
        }
        // Keep the record's own lines: the last (1 + its inner newlines).
        let mut keep = count_newlines(self.cur.as_slice()) + 1;
        let mut from = 0;
        for (i, &b) in text.iter().enumerate().rev() {
            if b == b'\n' {
                keep -= 1;
                if keep == 0 {
                    from = i + 1;
                    break;
                }
            }
        }
        Some(&text[from..])
    }

    /// The current record is a whitespace-only line (ignored in ECSV, where
    /// a space-delimited row of nulls is written with `""`).
    pub(super) fn is_blank_line(&self) -> bool {
        self.cur.iter().all(|f| f.trim_ascii().is_empty())
            && self.raw_bytes().is_some_and(|b| b.trim_ascii().is_empty())
    }
}

pub(super) fn count_newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// Read up to [`INFER_ROWS`] records into `rows.pending` and infer each
/// column's type from them.
pub(super) fn infer_kinds(rows: &mut Rows, ncols: usize) -> Result<Vec<Kind>> {
    let max_sample = rows.limits.batch_bytes;
    let mut sampled = 0u64;
    #[derive(Clone, Copy)]
    struct Infer {
        seen: bool,
        int: bool,
        float: bool,
        boolean: bool,
    }
    let mut st = vec![
        Infer {
            seen: false,
            int: true,
            float: true,
            boolean: true,
        };
        ncols
    ];
    while rows.pending.len() < INFER_ROWS && sampled < max_sample && rows.read_record()? {
        let rec = &rows.cur;
        sampled += rec.as_slice().len() as u64 + 8 * rec.len() as u64;
        if rec.len() == ncols {
            for (s, f) in st.iter_mut().zip(rec.iter()) {
                let v = f.trim_ascii();
                if v.is_empty() || !(s.int || s.float || s.boolean) {
                    continue;
                }
                s.seen = true;
                if s.int && parse_i64(v).is_none() {
                    s.int = false;
                }
                if s.float && !s.int && parse_f64(v).is_none() {
                    s.float = false;
                }
                if s.boolean && parse_bool(v).is_none() {
                    s.boolean = false;
                }
            }
        }
        rows.pending.push_back(Pending {
            rec: rows.cur.clone(),
            line: rows.cur_line,
            span: rows.cur_span,
        });
    }
    Ok(st
        .into_iter()
        .map(|s| {
            if !s.seen {
                Kind::Str
            } else if s.int {
                Kind::I64
            } else if s.float {
                Kind::F64
            } else if s.boolean {
                Kind::Bool
            } else {
                Kind::Str
            }
        })
        .collect())
}
