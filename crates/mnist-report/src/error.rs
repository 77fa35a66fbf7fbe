//! One error type for everything a report reads, writes or draws. Every
//! variant names the file involved, so `{err}` alone says what to fix.

use std::path::PathBuf;

/// `Result` with [`ReportError`] as the default error.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

/// What went wrong while writing or reading a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading a file failed (missing, unreadable).
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Writing a file failed; the message names the file.
    #[error(transparent)]
    Write(#[from] mnist_data::DataError),

    /// An existing `results.csv` cannot be parsed.
    #[error("{path}: malformed results table{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    MalformedResults {
        path: PathBuf,
        line: Option<u64>,
        message: String,
    },

    /// plotters failed to draw or the PNG failed to encode.
    #[error("cannot draw {path}: {message}")]
    Plot { path: PathBuf, message: String },

    /// The caller passed something that cannot be reported (for example a
    /// label outside 0..=9 or an image whose pixel count does not match).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}
