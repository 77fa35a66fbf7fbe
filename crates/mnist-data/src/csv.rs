//! CSV files as the seeds' users have them, 28×28 digits one per row:
//!
//! - `label,pixel0,…,pixel783` with a header (Kaggle digit-recognizer
//!   `train.csv`) or without (Kaggle "MNIST in CSV");
//! - `pixel0,…,pixel783` without labels (digit-recognizer `test.csv`);
//!
//! and part 4's 42×28 two-digit images the same way: `first,second,
//! pixel0,…,pixel1175` or `pixel0,…,pixel1175`.
//!
//! The layout is recognised from the first row: it is a header when none of
//! its fields is empty or a number; 785 fields mean a labelled digit, 784 a
//! digit alone, 1178 two labelled digits, 1176 two digits alone. Every later row must have the same number of fields. Gzipped
//! files are read too (recognised by their magic bytes). The file is
//! streamed, and rows, row length and total size are capped.

use std::io::Read;
use std::path::Path;

use crate::dataset::{Images, Labels};
use crate::error::{DataError, Result};
use crate::idx::{Source, read_error};

/// What a row holds: an image of `height × width` pixels after `labels`
/// labels.
#[derive(Clone, Copy, Debug)]
struct Layout {
    height: usize,
    width: usize,
    labels: usize,
}

impl Layout {
    const fn pixels(self) -> usize {
        self.height * self.width
    }

    const fn fields(self) -> usize {
        self.labels + self.pixels()
    }
}

/// The layouts read, each known by its number of fields.
const LAYOUTS: [Layout; 4] = [
    Layout {
        height: 28,
        width: 28,
        labels: 1,
    },
    Layout {
        height: 28,
        width: 28,
        labels: 0,
    },
    Layout {
        height: 42,
        width: 28,
        labels: 2,
    },
    Layout {
        height: 42,
        width: 28,
        labels: 0,
    },
];

/// The most rows read: MNIST's 70,000 digits and room to spare.
pub const MAX_CSV_ROWS: usize = 100_000;

/// The longest line read: 1178 fields (two labels and 42×28 pixels) of at
/// most 16 bytes each (a header name such as `pixel1175` or a value up to
/// `255`, its separator, and room for spaces, quotes or `\r`).
pub const MAX_CSV_LINE_BYTES: u64 = (42 * 28 + 2) * 16;

/// The most (decompressed) bytes read from one file: a header and
/// [`MAX_CSV_ROWS`] rows, each at its longest. The file is streamed: what is
/// kept is the pixels, at most [`MAX_CSV_ROWS`] × 1178 bytes.
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

    let mut layout: Option<Layout> = None;
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
        let row = match layout {
            Some(row) => row,
            None => match LAYOUTS.iter().find(|l| l.fields() == record.len()) {
                Some(&row) => *layout.insert(row),
                None => {
                    return Err(DataError::CsvFieldCount {
                        path: path_buf(),
                        line,
                        expected: "785 (label + 784 pixels), 784, 1178 (two labels + 42x28 \
                                   pixels) or 1176"
                            .into(),
                        found: record.len(),
                    });
                }
            },
        };
        if is_header {
            continue;
        }
        let expected = row.fields();
        if record.len() != expected {
            return Err(DataError::CsvFieldCount {
                path: path_buf(),
                line,
                expected: expected.to_string(),
                found: record.len(),
            });
        }
        if pixels.len() / row.pixels() >= MAX_CSV_ROWS {
            return Err(DataError::CsvTooLarge {
                path: path_buf(),
                what: format!("line {line}: more than {MAX_CSV_ROWS} rows"),
            });
        }
        let mut fields = record.iter();
        for field in fields.by_ref().take(row.labels) {
            let field = field.trim();
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
                column: i + 1 + row.labels,
                value: field.to_string(),
            })?;
            pixels.push(value);
        }
    }
    let Some(row) = layout.filter(|row| pixels.len() >= row.pixels()) else {
        return Err(DataError::Empty { path: path_buf() });
    };
    Ok(CsvImages {
        images: Images::new(pixels.len() / row.pixels(), row.height, row.width, pixels),
        labels: (row.labels > 0).then(|| Labels::new(row.labels, labels)),
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
