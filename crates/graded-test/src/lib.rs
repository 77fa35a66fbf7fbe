//! A graded test's completion record.
//!
//! The grader runs each graded test in its own process and counts it as
//! passed only when the process exits 0 **and** the test wrote the grader's
//! nonce to the grader's record file after its last assertion. Text on
//! stdout, an `exit(0)` from inside the graded code, an abort or a hang
//! therefore never count as a pass.
//!
//! Every graded test starts with
//!
//! ```
//! let _graded = graded_test::start();
//! ```
//!
//! and the record is written when `_graded` is dropped at the end of the test
//! without a panic. Outside the grader (`cargo test`, nextest) it does
//! nothing.
//!
//! The nonce comes on stdin and is read here, before the test calls any of
//! the code it grades, so that code cannot learn it from the environment or
//! the command line.

use std::io::BufRead;
use std::path::PathBuf;

/// The variable that names the record file; the grader sets it.
pub const RECORD_VAR: &str = "COURSEWORK_RECORD";

/// Writes the record on a clean end of the test; see the crate's docs.
#[must_use = "bind it (`let _graded = …`): the record is written when it is dropped"]
pub struct Graded {
    record: Option<(PathBuf, String)>,
}

/// Reads the grader's nonce, if the grader runs this test.
pub fn start() -> Graded {
    let record = std::env::var_os(RECORD_VAR).map(|path| {
        let mut nonce = String::new();
        // An unreadable stdin leaves the nonce empty: no record can match.
        let _ = std::io::stdin().lock().read_line(&mut nonce);
        (PathBuf::from(path), nonce.trim().to_string())
    });
    Graded { record }
}

impl Drop for Graded {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Some((path, nonce)) = self.record.take()
            && !nonce.is_empty()
        {
            // A failed write leaves no record: the grader counts a failure.
            let _ = std::fs::write(path, nonce);
        }
    }
}
