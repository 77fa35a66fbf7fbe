//! CSV files as the seeds' users have them, 28×28 digits one per row:
//!
//! - `label,pixel0,…,pixel783` with a header (Kaggle digit-recognizer
//!   `train.csv`) or without (Kaggle "MNIST in CSV");
//! - `pixel0,…,pixel783` without labels (digit-recognizer `test.csv`).
//!
//! The layout is recognised from the first row: a first field that is not a
//! number makes it a header; 785 fields mean labelled, 784 pixel-only. Every
//! later row must have the same number of fields. Gzipped files are read too.

use std::path::Path;

use crate::dataset::{Images, Labels};
use crate::error::{DataError, Result};
use crate::idx::read_bytes;

const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;

/// Images from a CSV file, with labels if the file has them.
#[derive(Clone, Debug)]
pub struct CsvImages {
    pub images: Images,
    pub labels: Option<Labels>,
}

pub fn read_csv(path: &Path) -> Result<CsvImages> {
    let bytes = read_bytes(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let path_buf = || path.to_path_buf();

    let mut labelled: Option<bool> = None;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| DataError::Csv {
                path: path_buf(),
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
            })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        let is_header = first
            && record
                .get(0)
                .is_some_and(|f| f.trim().parse::<f64>().is_err());
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
