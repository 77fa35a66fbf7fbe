//! CSV files as the seeds' users have them, 28×28 digits one per row:
//!
//! - `label,pixel0,…,pixel783` with a header (Kaggle digit-recognizer
//!   `train.csv`) or without (Kaggle "MNIST in CSV");
//! - `pixel0,…,pixel783` without labels (digit-recognizer `test.csv`).
//!
//! The layout is recognised from the first row: it is a header when none of
//! its fields is empty or a number; 785 fields mean labelled, 784
//! pixel-only. Every later row must have the same number of fields. Gzipped
//! files are read too (recognised by their magic bytes). The file is
//! streamed, and rows, row length and total size are capped.

use std::io::Read;
use std::path::Path;

use crate::dataset::{Images, Labels};
use crate::error::{DataError, Result};
use crate::idx::{Source, read_error};

const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;

/// The most rows read: MNIST's 70,000 digits and room to spare.
pub const MAX_CSV_ROWS: usize = 100_000;

/// The longest line read: 785 fields of at most 16 bytes each (a header
/// name such as `pixel783` or a value up to `255`, its separator, and room
/// for spaces, quotes or `\r`).
pub const MAX_CSV_LINE_BYTES: u64 = (PIXELS as u64 + 1) * 16;

/// The most (decompressed) bytes read from one file: a header and
/// [`MAX_CSV_ROWS`] rows, each at its longest. The file is streamed: what is
/// kept is the pixels, at most [`MAX_CSV_ROWS`] × 785 bytes.
pub const MAX_CSV_BYTES: u64 = (MAX_CSV_ROWS as u64 + 1) * MAX_CSV_LINE_BYTES;

/// Images from a CSV file, with labels if the file has them.
#[derive(Clone, Debug)]
pub struct CsvImages {
    pub images: Images,
    pub labels: Option<Labels>,
}

/// Reads a CSV file (plain or gzip) of at most [`MAX_CSV_BYTES`].
pub fn read_csv(path: &Path) -> Result<CsvImages> {
    read_csv_limited(path, MAX_CSV_BYTES)
}

/// [`read_csv`] with another limit on the bytes read (after decompression).
pub fn read_csv_limited(path: &Path, max_bytes: u64) -> Result<CsvImages> {
    let mut source = Source::open(path)?;
    let gzip = source.gzip;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(Limited::new(source.reader(), max_bytes));
    let path_buf = || path.to_path_buf();

    let mut labelled: Option<bool> = None;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = e.to_string();
                return Err(match (reader.get_ref().exceeded, e.into_kind()) {
                    (Some(Exceeded::Line(line)), _) => DataError::CsvLineTooLong {
                        path: path_buf(),
                        line,
                        limit: MAX_CSV_LINE_BYTES,
                    },
                    (Some(Exceeded::Total), _) => DataError::CsvTooLarge {
                        path: path_buf(),
                        what: format!("more than {max_bytes} bytes"),
                    },
                    (None, csv::ErrorKind::Io(source)) => read_error(path, gzip, source),
                    (None, _) => DataError::Csv {
                        path: path_buf(),
                        line,
                        message,
                    },
                });
            }
        };
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let is_header = first && is_header(&record);
        first = false;
        let has_label = *labelled.get_or_insert(match record.len() {
            n if n == PIXELS + 1 => true,
            n if n == PIXELS => false,
            n => {
                return Err(DataError::CsvFieldCount {
                    path: path_buf(),
                    line,
                    expected: format!("{} (label + {PIXELS} pixels) or {PIXELS}", PIXELS + 1),
                    found: n,
                });
            }
        });
        if is_header {
            continue;
        }
        let expected = PIXELS + usize::from(has_label);
        if record.len() != expected {
            return Err(DataError::CsvFieldCount {
                path: path_buf(),
                line,
                expected: expected.to_string(),
                found: record.len(),
            });
        }
        if pixels.len() / PIXELS >= MAX_CSV_ROWS {
            return Err(DataError::CsvTooLarge {
                path: path_buf(),
                what: format!("line {line}: more than {MAX_CSV_ROWS} rows"),
            });
        }
        let mut fields = record.iter();
        if has_label {
            let field = fields.next().unwrap_or_default().trim();
            match field.parse::<u8>() {
                Ok(label) if label <= 9 => labels.push(label),
                _ => {
                    return Err(DataError::CsvLabel {
                        path: path_buf(),
                        line,
                        value: field.to_string(),
                    });
                }
            }
        }
        for (i, field) in fields.enumerate() {
            let field = field.trim();
            let value = field.parse::<u8>().map_err(|_| DataError::CsvPixel {
                path: path_buf(),
                line,
                column: i + 1 + usize::from(has_label),
                value: field.to_string(),
            })?;
            pixels.push(value);
        }
    }
    let count = pixels.len() / PIXELS;
    if count == 0 {
        return Err(DataError::Empty { path: path_buf() });
    }
    Ok(CsvImages {
        images: Images::new(count, SIDE, SIDE, pixels),
        labels: (labelled == Some(true)).then(|| Labels::new(1, labels)),
    })
}

/// A header names its columns: no field is empty or a number.
fn is_header(record: &csv::StringRecord) -> bool {
    record.iter().all(|f| {
        let f = f.trim();
        !f.is_empty() && f.parse::<f64>().is_err()
    })
}

/// Which limit a [`Limited`] reader hit.
#[derive(Clone, Copy, Debug)]
enum Exceeded {
    /// A line (numbered from 1) longer than [`MAX_CSV_LINE_BYTES`].
    Line(u64),
    /// More bytes in all than allowed.
    Total,
}

/// A reader that fails once a line grows longer than [`MAX_CSV_LINE_BYTES`]
/// or the whole exceeds `max_total`, so the CSV parser never buffers more.
struct Limited<R> {
    inner: R,
    max_total: u64,
    total: u64,
    line: u64,
    line_len: u64,
    exceeded: Option<Exceeded>,
}

impl<R> Limited<R> {
    fn new(inner: R, max_total: u64) -> Self {
        Self {
            inner,
            max_total,
            total: 0,
            line: 1,
            line_len: 0,
            exceeded: None,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.exceeded.is_none() {
            let n = self.inner.read(buf)?;
            self.total += n as u64;
            for chunk in buf[..n].split_inclusive(|&b| b == b'\n') {
                self.line_len += chunk.len() as u64;
                if self.line_len > MAX_CSV_LINE_BYTES {
                    self.exceeded = Some(Exceeded::Line(self.line));
                    break;
                }
                if chunk.ends_with(b"\n") {
                    self.line += 1;
                    self.line_len = 0;
                }
            }
            if self.exceeded.is_none() && self.total > self.max_total {
                self.exceeded = Some(Exceeded::Total);
            }
            if self.exceeded.is_none() {
                return Ok(n);
            }
        }
        Err(std::io::Error::other("CSV reader limit exceeded"))
    }
}
