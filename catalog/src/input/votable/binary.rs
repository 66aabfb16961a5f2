//! BINARY and BINARY2 streams: the incremental base64 decoder of an
//! inline STREAM and the cursor over one row's bytes.

use std::io::BufRead;

use base64::Engine;
use quick_xml::events::Event;

use crate::input::InputLimits;
use astrolake_vo::xml::{push_reference, xml_error};

use super::{CellError, XmlReader, BASE64};

/// Incremental decoder of an inline base64 STREAM. The base64 text is read
/// directly from the XML input (not as text events, so a STREAM on a single
/// line of gigabytes still needs only the reader's buffer), up to the next
/// markup, which is then read as an XML event (`</STREAM>`, a comment,
/// CDATA or a character reference).
#[derive(Default)]
pub(super) struct B64Stream {
    /// Decoded bytes; those before `pos` are consumed.
    pub(super) out: Vec<u8>,
    pub(super) pos: usize,
    /// Base64 characters not yet decoded (an incomplete quantum).
    pub(super) chars: Vec<u8>,
    /// `</STREAM>` was read.
    pub(super) ended: bool,
}

impl B64Stream {
    /// Make at least `n` decoded bytes available. Returns false when the
    /// stream ends with fewer.
    pub(super) fn ensure(
        &mut self,
        n: usize,
        reader: &mut XmlReader,
        buf: &mut Vec<u8>,
    ) -> std::result::Result<bool, String> {
        while self.out.len() - self.pos < n {
            if self.ended {
                return Ok(false);
            }
            if self.pos > 0 {
                self.out.drain(..self.pos);
                self.pos = 0;
            }
            self.fill(reader, buf)?;
        }
        Ok(true)
    }

    /// Decode at least one more quantum, or reach the end of the STREAM.
    pub(super) fn fill(
        &mut self,
        reader: &mut XmlReader,
        buf: &mut Vec<u8>,
    ) -> std::result::Result<(), String> {
        loop {
            let at_markup = {
                let mut s = reader.stream();
                let avail = s
                    .fill_buf()
                    .map_err(|e| format!("cannot read the STREAM: {e}"))?;
                if avail.is_empty() {
                    return Err("the file ends inside STREAM".into());
                }
                let stop = avail.iter().position(|&b| b == b'<' || b == b'&');
                let take = stop.unwrap_or(avail.len());
                self.chars
                    .extend(avail[..take].iter().filter(|b| !b.is_ascii_whitespace()));
                s.consume(take);
                stop.is_some()
            };
            if at_markup {
                self.markup(reader, buf)?;
            }
            let before = self.out.len();
            self.decode()?;
            if self.out.len() > before || self.ended {
                return Ok(());
            }
        }
    }

    /// Read the markup that interrupts the base64 text.
    pub(super) fn markup(
        &mut self,
        reader: &mut XmlReader,
        buf: &mut Vec<u8>,
    ) -> std::result::Result<(), String> {
        buf.clear();
        let ev = reader
            .read_event_into(buf)
            .map_err(|e| xml_error(reader, &e))?;
        match ev {
            Event::End(e) if e.local_name().as_ref() == "STREAM" => self.ended = true,
            Event::Text(t) => self.push_chars(t.as_bytes()),
            Event::CData(c) => self.push_chars(c.as_bytes()),
            Event::GeneralRef(r) => {
                let mut s = String::new();
                push_reference(reader, &r, &mut s)?;
                self.push_chars(s.as_bytes());
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => return Err("the file ends inside STREAM".into()),
            Event::Start(e) | Event::Empty(e) => {
                return Err(format!("unexpected <{}> inside STREAM", e.name().as_ref()))
            }
            Event::End(e) => {
                return Err(format!("unexpected </{}> inside STREAM", e.name().as_ref()))
            }
            Event::Decl(_) | Event::DocType(_) => {
                return Err("unexpected markup inside STREAM".into())
            }
        }
        Ok(())
    }

    pub(super) fn push_chars(&mut self, b: &[u8]) {
        self.chars
            .extend(b.iter().filter(|b| !b.is_ascii_whitespace()));
    }

    /// Decode the complete quanta in `chars` (all of them at the end of the
    /// stream), including padded quanta in the middle of the stream.
    pub(super) fn decode(&mut self) -> std::result::Result<(), String> {
        let mut start = 0;
        loop {
            let rest = &self.chars[start..];
            let pad = rest.iter().position(|&c| c == b'=');
            let mut end = match pad {
                // The quantum holding the first '=' ends a padded block.
                Some(i) => (i / 4 + 1) * 4,
                None if self.ended => rest.len(),
                None => rest.len() / 4 * 4,
            };
            if end > rest.len() {
                if !self.ended {
                    break;
                }
                end = rest.len();
            }
            if end == 0 {
                break;
            }
            BASE64
                .decode_vec(&rest[..end], &mut self.out)
                .map_err(|e| format!("invalid base64 in STREAM: {e}"))?;
            start += end;
            if pad.is_none() {
                break;
            }
        }
        self.chars.drain(..start);
        Ok(())
    }
}

/// Reads the bytes of binary cells from a [`B64Stream`].
pub(super) struct BinCursor<'a> {
    pub(super) stream: &'a mut B64Stream,
    pub(super) reader: &'a mut XmlReader,
    pub(super) buf: &'a mut Vec<u8>,
    /// When set, every byte read is also appended here.
    pub(super) raw: Option<&'a mut Vec<u8>>,
    /// Bytes of the row taken so far.
    pub(super) row_taken: u64,
    pub(super) limits: &'a InputLimits,
}

impl BinCursor<'_> {
    pub(super) fn take(&mut self, n: usize) -> std::result::Result<&[u8], CellError> {
        if n as u64 > self.limits.max_cell_bytes {
            return Err(CellError::Limit(
                format!("a cell of {n} bytes"),
                "max_cell_bytes",
            ));
        }
        self.row_taken = self.row_taken.saturating_add(n as u64);
        if self.row_taken > self.limits.max_row_bytes {
            return Err(CellError::Limit(
                format!("the row reaches {} bytes", self.row_taken),
                "max_row_bytes",
            ));
        }
        if !self
            .stream
            .ensure(n, self.reader, self.buf)
            .map_err(CellError::Fatal)?
        {
            return Err(CellError::Fatal(
                "the STREAM ends in the middle of a row".into(),
            ));
        }
        let s = self.stream.pos;
        self.stream.pos += n;
        let bytes = &self.stream.out[s..s + n];
        if let Some(raw) = self.raw.as_deref_mut() {
            raw.extend_from_slice(bytes);
        }
        Ok(bytes)
    }

    /// The elements of a variable-length array: its 4-byte count prefix
    /// times `per` (the product of the fixed dimensions).
    pub(super) fn count(&mut self, per: usize) -> std::result::Result<usize, CellError> {
        let b = self.take(4)?;
        let n = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let n = usize::try_from(n).map_err(|_| {
            CellError::Fatal(format!(
                "negative array length {n}: the stream is corrupt or not of the declared FIELDs"
            ))
        })?;
        let count = n.saturating_mul(per);
        if count as u64 > self.limits.max_array_elements {
            return Err(CellError::Limit(
                format!("a variable-length array of {count} elements"),
                "max_array_elements",
            ));
        }
        Ok(count)
    }
}
