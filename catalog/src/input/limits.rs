//! Limits on what one input file may make a reader do: how many bytes it may
//! inflate to, how large its header, a value, a row and a declared array may
//! be, how many columns it may have, and whether its ECSV header may use
//! YAML aliases.
//!
//! Every limit is checked while the input streams in, before the memory it
//! bounds is allocated: a 300-byte VOTable declaring `arraysize="2147483647"`
//! is refused when its FIELDs are read, a gzip bomb after
//! [`InputLimits::max_decompressed_bytes`] of output, a YAML billion-laughs
//! before the YAML is loaded. A violation is a [`CatalogError::Limit`] that
//! says what the input has and which limit it passes.
//!
//! The [`Default`] limits are for `astrolake ingest` of files the operator
//! trusts: generous, but still refusing declarations no real catalogue has.
//! [`InputLimits::untrusted`] gives tight ones for files from clients (TAP
//! uploads).

use std::io::{BufRead, Read};

use crate::error::CatalogError;

/// Limits on one input file; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLimits {
    /// The most bytes the reader may read from the file after gunzipping
    /// (for an uncompressed file: its size). Counted as the bytes stream in.
    pub max_decompressed_bytes: u64,
    /// The most bytes of header: the ECSV `#` lines, the VOTable document up
    /// to the first TABLE's `<DATA>`, a Parquet footer.
    pub max_header_bytes: u64,
    /// The most bytes of one value: a CSV field or TABLEDATA `TD` as text, a
    /// BINARY/BINARY2 cell as encoded; also the declared size of a
    /// fixed-size cell.
    pub max_cell_bytes: u64,
    /// The most bytes of one row: a CSV record or a TABLEDATA `TR` as text,
    /// a BINARY/BINARY2 row as encoded; also the size the FIELDs declare
    /// for the fixed-size part of a row.
    pub max_row_bytes: u64,
    /// The most columns.
    pub max_columns: u64,
    /// The most elements of one array cell: the product of a VOTable
    /// `arraysize`'s dimensions, and a variable-length array's count.
    pub max_array_elements: u64,
    /// Whether an ECSV header may use YAML anchors and aliases (`&a`, `*a`).
    /// When allowed, the header as expanded may still have at most
    /// [`MAX_YAML_NODES`] nodes.
    pub allow_yaml_aliases: bool,
    /// Not a limit on the input: a batch ends early once its buffers hold
    /// about this many bytes, so that one batch of wide rows does not hold
    /// the whole file.
    pub batch_bytes: u64,
}

/// Nodes (scalars, sequences, mappings) an ECSV header's YAML may expand to
/// when aliases are allowed.
pub const MAX_YAML_NODES: u64 = 1_000_000;

/// Deepest nesting of sequences and mappings in an ECSV header (real headers
/// nest 4 levels; deeper trees would overflow the stack when dropped).
pub const MAX_YAML_DEPTH: usize = 64;

impl Default for InputLimits {
    /// For ingest of trusted files: no limit on sizes, but no cell over
    /// 256 MiB, no array over 2^28 elements, no header over 256 MiB.
    fn default() -> Self {
        InputLimits {
            max_decompressed_bytes: u64::MAX,
            max_header_bytes: 256 << 20,
            max_cell_bytes: 256 << 20,
            max_row_bytes: u64::MAX,
            max_columns: u64::MAX,
            max_array_elements: 1 << 28,
            allow_yaml_aliases: true,
            batch_bytes: 1 << 30,
        }
    }
}

impl InputLimits {
    /// For files from clients: 512 MiB decompressed, 4 MiB of header, 8 MiB
    /// per value, 16 MiB per row, 1000 columns, 1,000,000 elements per
    /// array, no YAML aliases, 64 MiB batches.
    pub fn untrusted() -> Self {
        InputLimits {
            max_decompressed_bytes: 512 << 20,
            max_header_bytes: 4 << 20,
            max_cell_bytes: 8 << 20,
            max_row_bytes: 16 << 20,
            max_columns: 1000,
            max_array_elements: 1_000_000,
            allow_yaml_aliases: false,
            batch_bytes: 64 << 20,
        }
    }

    /// A batch's row count for rows of at least `row_bytes` bytes in memory.
    pub(crate) fn batch_rows_for(&self, batch_rows: usize, row_bytes: u64) -> usize {
        let fit = self.batch_bytes / row_bytes.max(1);
        batch_rows
            .min(usize::try_from(fit).unwrap_or(usize::MAX))
            .max(1)
    }

    /// The error for `what` passing the limit `name`.
    pub(crate) fn error(
        &self,
        file: &str,
        what: impl Into<String>,
        name: &'static str,
    ) -> CatalogError {
        let (limit, unit) = match name {
            "max_decompressed_bytes" => (self.max_decompressed_bytes, "bytes once decompressed"),
            "max_header_bytes" => (self.max_header_bytes, "bytes of header"),
            "max_cell_bytes" => (self.max_cell_bytes, "bytes per value"),
            "max_row_bytes" => (self.max_row_bytes, "bytes per row"),
            "max_columns" => (self.max_columns, "columns"),
            "max_array_elements" => (self.max_array_elements, "elements per cell"),
            other => unreachable!("no input limit called {other}"),
        };
        CatalogError::Limit {
            file: file.to_string(),
            what: what.into(),
            limit,
            unit,
            name,
        }
    }

    /// `Err` when `n` columns are more than [`InputLimits::max_columns`].
    pub(crate) fn check_columns(&self, file: &str, n: usize, what: &str) -> crate::Result<()> {
        if n as u64 > self.max_columns {
            return Err(self.error(file, format!("{what} has {n} columns"), "max_columns"));
        }
        Ok(())
    }
}

/// Which limit a [`LimitedReader`] stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// [`InputLimits::max_decompressed_bytes`].
    Decompressed,
    /// [`InputLimits::max_header_bytes`], while the header is read.
    Header,
    /// The window the reader was given ([`LimitedReader::set_window`]),
    /// e.g. one row's [`InputLimits::max_row_bytes`].
    Window,
}

/// A reader that counts the bytes its consumer takes and refuses to give
/// more than the limits allow: in all ([`InputLimits::max_decompressed_bytes`]),
/// while the header is read ([`LimitedReader::set_header_limit`]), and
/// within a window (e.g. the current row). Past a limit, reads fail with an
/// I/O error and [`LimitedReader::stopped`] says which limit it was, so the
/// reader's user can replace the I/O error by a [`CatalogError::Limit`].
///
/// Nothing is read ahead beyond what the consumer takes (`fill_buf` returns
/// at most the bytes still allowed), so the counts are exact for consumers
/// that use `BufRead` (quick-xml) and off by at most one read buffer for
/// those that use `Read`.
pub struct LimitedReader<R> {
    inner: R,
    consumed: u64,
    total: u64,
    header: Option<u64>,
    /// (start, end) of the window, in consumed bytes.
    window: Option<(u64, u64)>,
    stopped: Option<(Stop, u64)>,
}

impl<R: BufRead> LimitedReader<R> {
    /// At most `total` bytes of `inner`.
    pub fn new(inner: R, total: u64) -> Self {
        LimitedReader {
            inner,
            consumed: 0,
            total,
            header: None,
            window: None,
            stopped: None,
        }
    }

    /// Bytes taken so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// While `Some(n)`, at most `n` bytes in all (from the start of the
    /// file) may be taken, reported as [`Stop::Header`].
    pub fn set_header_limit(&mut self, n: Option<u64>) {
        self.header = n;
    }

    /// At most `len` bytes from offset `start` (in consumed bytes) on may be
    /// taken, reported as [`Stop::Window`]; `None` removes the window.
    pub fn set_window(&mut self, window: Option<(u64, u64)>) {
        self.window = window.map(|(start, len)| (start, start.saturating_add(len)));
    }

    /// The limit reading stopped at, and the offset of the window's start
    /// (for [`Stop::Window`]) or the bytes consumed.
    pub fn stopped(&self) -> Option<(Stop, u64)> {
        self.stopped
    }

    /// The error for a stop at [`Stop::Decompressed`] or [`Stop::Header`];
    /// `header` names the header ("the VOTable header (before `<DATA>`)").
    /// `None` when the reader has not stopped at either.
    pub fn limit_error(
        &self,
        file: &str,
        limits: &InputLimits,
        header: &str,
    ) -> Option<CatalogError> {
        match self.stopped? {
            (Stop::Decompressed, _) => Some(limits.error(
                file,
                "the input is too large once decompressed",
                "max_decompressed_bytes",
            )),
            (Stop::Header, _) => {
                Some(limits.error(file, format!("{header} is too large"), "max_header_bytes"))
            }
            (Stop::Window, _) => None,
        }
    }

    /// The binding limit: the offset reading may not pass, and which it is.
    fn cap(&self) -> (u64, Stop) {
        let mut cap = (self.total, Stop::Decompressed);
        if let Some(h) = self.header {
            if h < cap.0 {
                cap = (h, Stop::Header);
            }
        }
        if let Some((_, end)) = self.window {
            if end < cap.0 {
                cap = (end, Stop::Window);
            }
        }
        cap
    }
}

impl<R: BufRead> Read for LimitedReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LimitedReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let (cap, stop) = self.cap();
        let consumed = self.consumed;
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            return Ok(buf);
        }
        if consumed >= cap {
            let at = match (stop, self.window) {
                (Stop::Window, Some((start, _))) => start,
                _ => consumed,
            };
            self.stopped = Some((stop, at));
            return Err(std::io::Error::other(format!(
                "input limit reached after {consumed} bytes"
            )));
        }
        let n = usize::try_from(cap - consumed).map_or(buf.len(), |r| r.min(buf.len()));
        Ok(&buf[..n])
    }

    fn consume(&mut self, n: usize) {
        self.consumed += n as u64;
        self.inner.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_stops() {
        let data = vec![b'x'; 10_000];
        let mut r = LimitedReader::new(std::io::BufReader::with_capacity(64, &data[..]), 1000);
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
        assert_eq!(out.len(), 1000);
        assert_eq!(r.stopped(), Some((Stop::Decompressed, 1000)));

        let mut r = LimitedReader::new(&data[..], u64::MAX);
        r.set_header_limit(Some(10));
        let mut b = [0u8; 100];
        assert_eq!(r.read(&mut b).unwrap(), 10);
        assert!(r.read(&mut b).is_err());
        assert_eq!(r.stopped().unwrap().0, Stop::Header);
        r.set_header_limit(None);
        r.set_window(Some((10, 5)));
        assert_eq!(r.read(&mut b).unwrap(), 5);
        assert!(r.read(&mut b).is_err());
        assert_eq!(r.stopped(), Some((Stop::Window, 10)));
        r.set_window(None);
        assert_eq!(r.read(&mut b).unwrap(), 100);
        assert_eq!(r.consumed(), 115);
    }

    #[test]
    fn exact_size_is_allowed() {
        let data = [b'x'; 100];
        let mut r = LimitedReader::new(&data[..], 100);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 100);
        assert_eq!(r.stopped(), None);
    }
}
