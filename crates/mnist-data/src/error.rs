//! One error type for everything the data layer reads or writes. Every
//! variant names the file and says what is wrong with it, so the message a
//! user sees (`{err}`) is enough to fix the problem.

use std::path::{Path, PathBuf};

pub type Result<T, E = DataError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("missing file {path}: {hint}")]
    MissingFile { path: PathBuf, hint: String },

    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: corrupt gzip stream: {source}")]
    CorruptGzip {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: not an IDX file: bad magic bytes {found:02x?} (expected [00, 00])")]
    BadMagic { path: PathBuf, found: [u8; 2] },

    #[error("{path}: IDX type byte is 0x{found:02x}, expected 0x08 (unsigned byte)")]
    WrongType { path: PathBuf, found: u8 },

    #[error("{path}: IDX rank is {found}, expected {expected}; its shape is {dims:?}")]
    WrongRank {
        path: PathBuf,
        expected: String,
        found: usize,
        dims: Vec<usize>,
    },

    #[error("{path}: labels have shape {dims:?}, expected {expected}")]
    LabelShape {
        path: PathBuf,
        expected: String,
        dims: Vec<usize>,
    },

    #[error(
        "{path}: dimensions {dims:?} declare {declared} data bytes, above the reader's limit of {limit}"
    )]
    TooLarge {
        path: PathBuf,
        dims: Vec<usize>,
        declared: String,
        limit: usize,
    },

    #[error(
        "{path}: dimensions {dims:?} describe {expected} data bytes, the file has more than {found_over}"
    )]
    TrailingData {
        path: PathBuf,
        dims: Vec<usize>,
        expected: usize,
        found_over: usize,
    },

    #[error("{path}: truncated: {what} needs {expected} bytes, the file has {found}")]
    Truncated {
        path: PathBuf,
        what: &'static str,
        expected: usize,
        found: usize,
    },

    #[error("{path}: dimensions {dims:?} describe {expected} data bytes, the file has {found}")]
    DimensionMismatch {
        path: PathBuf,
        dims: Vec<usize>,
        expected: usize,
        found: usize,
    },

    #[error(
        "{path}: images are {found_height}x{found_width}, expected {expected_height}x{expected_width}"
    )]
    WrongImageSize {
        path: PathBuf,
        expected_height: usize,
        expected_width: usize,
        found_height: usize,
        found_width: usize,
    },

    #[error("{labels_path}: {labels} labels for {images} images in {images_path}")]
    CountMismatch {
        images_path: PathBuf,
        images: usize,
        labels_path: PathBuf,
        labels: usize,
    },

    #[error("{path}: label {label} at index {index} is above 9")]
    LabelOutOfRange {
        path: PathBuf,
        index: usize,
        label: u8,
    },

    #[error("{path}: SHA-256 mismatch: expected {expected}, found {found}")]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },

    #[error("{path}: line {line}: {found} fields, expected {expected}")]
    CsvFieldCount {
        path: PathBuf,
        line: u64,
        expected: String,
        found: usize,
    },

    #[error("{path}: line {line}, column {column}: pixel {value:?} is not an integer in 0-255")]
    CsvPixel {
        path: PathBuf,
        line: u64,
        column: usize,
        value: String,
    },

    #[error("{path}: line {line}: label {value:?} is not a digit 0-9")]
    CsvLabel {
        path: PathBuf,
        line: u64,
        value: String,
    },

    #[error("{path}: line {line}: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{path}: holds no images")]
    Empty { path: PathBuf },

    #[error("{path}: holds no pixels: images of shape {dims:?}")]
    NoPixels { path: PathBuf, dims: Vec<usize> },

    #[error("{path}: line {line} is longer than {limit} bytes, too long for a row of digits")]
    CsvLineTooLong {
        path: PathBuf,
        line: u64,
        limit: u64,
    },

    #[error("{path}: {what}, above the CSV reader's limit")]
    CsvTooLarge { path: PathBuf, what: String },

    #[error("{path}: not a parquet file: {message}")]
    NotParquet { path: PathBuf, message: String },

    #[error("{path}: the columns are {found}; expected {expected}")]
    ParquetColumns {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },

    #[error("{path}: {what}")]
    ParquetTooLarge { path: PathBuf, what: String },

    #[error("{path}: row {row}: {problem}")]
    ParquetRow {
        path: PathBuf,
        row: usize,
        problem: String,
    },

    #[error("{path}: damaged parquet data: {message}")]
    ParquetData { path: PathBuf, message: String },

    #[error("{path}: is a folder, not a file prefix: give one such as {example}")]
    NotAPrefix { path: PathBuf, example: PathBuf },
}

/// The error for an I/O failure on `path`: a missing file says so.
pub(crate) fn io_error(path: &Path, source: std::io::Error) -> DataError {
    if source.kind() == std::io::ErrorKind::NotFound {
        DataError::MissingFile {
            path: path.to_path_buf(),
            hint: "no such file".into(),
        }
    } else {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
