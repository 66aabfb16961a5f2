//! FITS binary table output.
//!
//! A FITS BINTABLE needs its row count (NAXIS2) and fixed column widths
//! before its data, so the converted batches are spooled to an unnamed
//! temporary file (Arrow IPC stream) while their string lengths, array
//! lengths and heap size are measured; memory does not grow with the
//! result. [`super::Encoder::begin`] returns the primary HDU (no data,
//! `EXTEND = T`); [`super::Encoder::finish`] returns the BINTABLE header and
//! [`super::Encoder::next_chunk`] then reads the spool twice, once for the
//! fixed-width rows and once for the heap, one batch per chunk.
//!
//! Columns: boolean `L` (NULL is the 0 byte), unsignedByte `B`, short `I`,
//! int `J`, long `K` (nullable integer columns get `TNULLn`, the same
//! sentinel as VOTable BINARY), float `E`, double `D` (NULL is NaN);
//! strings `nA` with n the longest value in bytes (at least 1), UTF-8,
//! padded with NUL (NULL and the empty string are both all NUL — FITS has
//! no string NULL; non-ASCII text is UTF-8, which strict FITS does not
//! define); variable-length arrays (geometries) `PD(max)` through the heap,
//! `QD(max)` when the heap exceeds 2 GiB, a NULL array has length 0;
//! fixed-size arrays `nD`. Keywords: `TTYPEn`, `TFORMn`, `TUNITn`,
//! `TNULLn`, `TUCDn`, `TCOMMn` (description), `EXTNAME` (table name) and
//! `QSTATUS` = `'OK'` or `'OVERFLOW'`. Header strings are ASCII (other
//! characters become `?`) and cut at 68 characters.
//!
//! [`super::Encoder::fail`] returns [`super::Error::Failed`] (FITS cannot say
//! it is incomplete: abort the connection).

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;

use super::votable::{put_prim, sentinel};
use super::{cell, element, Cell, Error, Kind, Plan, Prim, Result, ResultInfo};

const BLOCK: usize = 2880;

/// Per-column layout decided at finish.
#[derive(Debug, Clone)]
struct Layout {
    /// Bytes in the row.
    width: usize,
    tform: String,
    tnull: Option<i64>,
}

enum Phase {
    /// Before finish.
    Spooling,
    /// Writing rows from the spool.
    Rows(StreamReader<BufReader<File>>),
    /// Writing the heap from the spool.
    Heap(StreamReader<BufReader<File>>),
    Done,
}

/// The FITS encoder.
pub(crate) struct FitsEncoder {
    info: ResultInfo,
    plan: Plan,
    spool: Option<StreamWriter<BufWriter<File>>>,
    file: Option<File>,
    /// Longest string (bytes) or array (elements) per column.
    max_len: Vec<usize>,
    heap: u64,
    rows: u64,
    layout: Vec<Layout>,
    use_q: bool,
    /// Bytes of the data unit written so far (for the final padding).
    written: u64,
    /// Offset into the heap of the next array.
    heap_offset: u64,
    phase: Phase,
}

impl FitsEncoder {
    pub(crate) fn new(info: ResultInfo, plan: Plan) -> Self {
        let n = plan.columns.len();
        FitsEncoder {
            info,
            plan,
            spool: None,
            file: None,
            max_len: vec![0; n],
            heap: 0,
            rows: 0,
            layout: Vec::new(),
            use_q: false,
            written: 0,
            heap_offset: 0,
            phase: Phase::Spooling,
        }
    }

    fn reader(&mut self) -> Result<StreamReader<BufReader<File>>> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::State("no spool file".into()))?;
        file.seek(SeekFrom::Start(0))?;
        let f = file.try_clone()?;
        Ok(StreamReader::try_new(BufReader::new(f), None)?)
    }

    fn measure(&mut self, arrays: &[ArrayRef]) {
        for (i, (c, a)) in self.plan.columns.iter().zip(arrays).enumerate() {
            match c.kind {
                Kind::Char | Kind::UnicodeChar => {
                    let s = a.as_string::<i32>();
                    for v in s.iter().flatten() {
                        self.max_len[i] = self.max_len[i].max(v.len());
                    }
                }
                Kind::Array(p) => {
                    let l = a.as_list::<i32>();
                    for row in 0..l.len() {
                        if l.is_valid(row) {
                            let n = l.value_length(row) as usize;
                            self.max_len[i] = self.max_len[i].max(n);
                            self.heap += (n * p.size()) as u64;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn plan_layout(&mut self) {
        self.use_q = self.heap > i32::MAX as u64;
        self.layout = self
            .plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c.kind {
                Kind::Scalar(p) => Layout {
                    width: p.size(),
                    tform: format!("1{}", code(p)),
                    tnull: if c.nullable { sentinel(p, c) } else { None },
                },
                Kind::Char | Kind::UnicodeChar => {
                    let n = self.max_len[i].max(1);
                    Layout {
                        width: n,
                        tform: format!("{n}A"),
                        tnull: None,
                    }
                }
                Kind::Array(p) => Layout {
                    width: if self.use_q { 16 } else { 8 },
                    tform: format!(
                        "{}{}({})",
                        if self.use_q { "Q" } else { "P" },
                        code(p),
                        self.max_len[i]
                    ),
                    tnull: None,
                },
                Kind::Fixed(p, n) => Layout {
                    width: n * p.size(),
                    tform: format!("{n}{}", code(p)),
                    tnull: None,
                },
            })
            .collect();
    }

    fn header(&self, overflow: bool) -> Vec<u8> {
        let mut h = Header::default();
        let naxis1: usize = self.layout.iter().map(|l| l.width).sum();
        h.str("XTENSION", "BINTABLE");
        h.int("BITPIX", 8);
        h.int("NAXIS", 2);
        h.int("NAXIS1", naxis1 as i64);
        h.int("NAXIS2", self.rows as i64);
        h.int("PCOUNT", self.heap as i64);
        h.int("GCOUNT", 1);
        h.int("TFIELDS", self.layout.len() as i64);
        for (i, (c, l)) in self.plan.columns.iter().zip(&self.layout).enumerate() {
            let n = i + 1;
            h.str(&format!("TTYPE{n}"), &c.meta.name);
            h.str(&format!("TFORM{n}"), &l.tform);
            if let Some(u) = &c.meta.unit {
                h.str(&format!("TUNIT{n}"), u);
            }
            if let Some(v) = l.tnull {
                h.int(&format!("TNULL{n}"), v);
            }
            if let Some(u) = &c.meta.ucd {
                h.str(&format!("TUCD{n}"), u);
            }
            if let Some(d) = &c.meta.description {
                h.str(&format!("TCOMM{n}"), d);
            }
        }
        if !self.info.table_name.is_empty() {
            h.str("EXTNAME", &self.info.table_name);
        }
        h.str("QSTATUS", if overflow { "OVERFLOW" } else { "OK" });
        h.finish()
    }

    /// The fixed-width rows of one spooled batch.
    fn rows_bytes(&mut self, b: &RecordBatch) -> Vec<u8> {
        let arrays = b.columns();
        let mut out =
            Vec::with_capacity(b.num_rows() * self.layout.iter().map(|l| l.width).sum::<usize>());
        for row in 0..b.num_rows() {
            for ((c, l), a) in self.plan.columns.iter().zip(&self.layout).zip(arrays) {
                let v = cell(a, row);
                match c.kind {
                    Kind::Scalar(Prim::Bool) => out.push(match v {
                        Cell::Bool(true) => b'T',
                        Cell::Bool(false) => b'F',
                        _ => 0,
                    }),
                    Kind::Scalar(p) => put_prim(p, v, l.tnull, &mut out),
                    Kind::Char | Kind::UnicodeChar => {
                        let s = match v {
                            Cell::Str(s) => s.as_bytes(),
                            _ => b"",
                        };
                        out.extend_from_slice(s);
                        out.resize(out.len() + l.width - s.len(), 0);
                    }
                    Kind::Array(p) => {
                        let n = match v {
                            Cell::Array(_, s, e) => e - s,
                            _ => 0,
                        };
                        let bytes = (n * p.size()) as u64;
                        if self.use_q {
                            out.extend_from_slice(&(n as i64).to_be_bytes());
                            out.extend_from_slice(&(self.heap_offset as i64).to_be_bytes());
                        } else {
                            out.extend_from_slice(&(n as i32).to_be_bytes());
                            out.extend_from_slice(&(self.heap_offset as i32).to_be_bytes());
                        }
                        self.heap_offset += bytes;
                    }
                    Kind::Fixed(p, n) => match v {
                        Cell::Array(values, s, _) => {
                            for i in s..s + n {
                                put_fits(p, element(values, i), &mut out);
                            }
                        }
                        _ => {
                            for _ in 0..n {
                                put_fits(p, Cell::Null, &mut out);
                            }
                        }
                    },
                }
            }
        }
        out
    }

    /// The heap part of one spooled batch.
    fn heap_bytes(&self, b: &RecordBatch) -> Vec<u8> {
        let mut out = Vec::new();
        for row in 0..b.num_rows() {
            for (c, a) in self.plan.columns.iter().zip(b.columns()) {
                if let (Kind::Array(p), Cell::Array(values, s, e)) = (c.kind, cell(a, row)) {
                    for i in s..e {
                        put_fits(p, element(values, i), &mut out);
                    }
                }
            }
        }
        out
    }
}

/// An array element: booleans `T`/`F`/0, numbers as VOTable BINARY.
fn put_fits(p: Prim, v: Cell<'_>, out: &mut Vec<u8>) {
    match p {
        Prim::Bool => out.push(match v {
            Cell::Bool(true) => b'T',
            Cell::Bool(false) => b'F',
            _ => 0,
        }),
        p => put_prim(p, v, None, out),
    }
}

/// TFORM letter.
fn code(p: Prim) -> char {
    match p {
        Prim::Bool => 'L',
        Prim::UByte => 'B',
        Prim::Short => 'I',
        Prim::Int => 'J',
        Prim::Long => 'K',
        Prim::Float => 'E',
        Prim::Double => 'D',
    }
}

/// 80-character header cards.
#[derive(Default)]
struct Header(Vec<u8>);

impl Header {
    fn card(&mut self, text: String) {
        let mut t: Vec<u8> = text
            .chars()
            .map(|c| {
                if (' '..='~').contains(&c) {
                    c as u8
                } else {
                    b'?'
                }
            })
            .collect();
        t.resize(80, b' ');
        self.0.extend_from_slice(&t);
    }

    fn str(&mut self, key: &str, value: &str) {
        let mut v: String = value
            .chars()
            .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
            .collect();
        // Quotes are doubled; the quoted value fits in columns 11–80.
        let mut quoted = v.replace('\'', "''");
        while quoted.len() > 68 {
            v.pop();
            quoted = v.replace('\'', "''");
        }
        self.card(format!("{key:<8}= '{quoted:<8}'"));
    }

    fn int(&mut self, key: &str, value: i64) {
        self.card(format!("{key:<8}= {value:>20}"));
    }

    fn logical(&mut self, key: &str, value: bool) {
        self.card(format!("{key:<8}= {:>20}", if value { "T" } else { "F" }));
    }

    fn finish(mut self) -> Vec<u8> {
        self.card("END".into());
        let pad = (BLOCK - self.0.len() % BLOCK) % BLOCK;
        self.0.resize(self.0.len() + pad, b' ');
        self.0
    }
}

impl super::Encoder for FitsEncoder {
    fn begin(&mut self) -> Result<Vec<u8>> {
        if self.spool.is_some() {
            return Err(Error::State("begin called twice".into()));
        }
        let file = tempfile::tempfile()?;
        let w = BufWriter::new(file.try_clone()?);
        self.spool = Some(StreamWriter::try_new(w, &self.plan.schema)?);
        self.file = Some(file);
        let mut h = Header::default();
        h.logical("SIMPLE", true);
        h.int("BITPIX", 8);
        h.int("NAXIS", 0);
        h.logical("EXTEND", true);
        Ok(h.finish())
    }

    fn batch(&mut self, b: &RecordBatch) -> Result<Vec<u8>> {
        let arrays = self.plan.convert(b)?;
        self.measure(&arrays);
        self.rows += b.num_rows() as u64;
        let batch = RecordBatch::try_new(self.plan.schema.clone(), arrays)?;
        self.spool
            .as_mut()
            .ok_or_else(|| Error::State("batch outside begin..finish".into()))?
            .write(&batch)?;
        Ok(Vec::new())
    }

    fn finish(&mut self, overflow: bool) -> Result<Vec<u8>> {
        let mut spool = self
            .spool
            .take()
            .ok_or_else(|| Error::State("finish without begin, or twice".into()))?;
        spool.finish()?;
        drop(spool.into_inner()?);
        self.plan_layout();
        let header = self.header(overflow);
        self.phase = Phase::Rows(self.reader()?);
        Ok(header)
    }

    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Spooling | Phase::Done => return Ok(None),
                Phase::Rows(mut r) => match r.next() {
                    Some(b) => {
                        let out = self.rows_bytes(&b?);
                        self.written += out.len() as u64;
                        self.phase = Phase::Rows(r);
                        if !out.is_empty() {
                            return Ok(Some(out));
                        }
                    }
                    None => {
                        if self.heap == 0 {
                            return Ok(self.close());
                        }
                        self.phase = Phase::Heap(self.reader()?);
                    }
                },
                Phase::Heap(mut r) => match r.next() {
                    Some(b) => {
                        let out = self.heap_bytes(&b?);
                        self.written += out.len() as u64;
                        self.phase = Phase::Heap(r);
                        if !out.is_empty() {
                            return Ok(Some(out));
                        }
                    }
                    None => return Ok(self.close()),
                },
            }
        }
    }

    fn fail(&mut self, message: &str) -> Result<Vec<u8>> {
        self.spool = None;
        self.file = None;
        self.phase = Phase::Done;
        Err(Error::Failed(message.to_string()))
    }
}

impl FitsEncoder {
    /// The padding of the data unit; the spool file is dropped.
    fn close(&mut self) -> Option<Vec<u8>> {
        self.phase = Phase::Done;
        self.file = None;
        let pad = ((BLOCK as u64 - self.written % BLOCK as u64) % BLOCK as u64) as usize;
        (pad > 0).then(|| vec![0u8; pad])
    }
}
