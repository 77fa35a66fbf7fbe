//! Where things live in this workspace: the committed reports of full runs
//! and the scratch folder of smoke runs.

use std::path::PathBuf;

pub use mnist_data::mnist::workspace_root;

/// `reports/<part>`: the committed reports of the part's full runs.
pub fn committed_reports_dir(part: &str) -> PathBuf {
    workspace_root().join("reports").join(part)
}

/// `target/runs/<part>`: smoke runs (`--quick`, `--limit`), kept out of the
/// committed reports.
pub fn smoke_reports_dir(part: &str) -> PathBuf {
    workspace_root().join("target").join("runs").join(part)
}
