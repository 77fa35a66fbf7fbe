//! Part 2 of the course: fully-connected networks on Burn, and how batch
//! size, learning rate, momentum, activation and width move the accuracy.
//!
//! The training core (`mnist-train`) trains, checkpoints and reports every
//! run; this part adds:
//!
//! - [`studies`]: the studies as data: the course table (10 runs), seed
//!   002's batch sizes (5 runs), the t-SNE network, and the reference numbers;
//! - [`sweep`]: the sweep runner: skips what `results.csv` records as
//!   completed with the same settings, records a diverged run and goes on,
//!   resumes an interrupted run from its checkpoint; and MLP-for-MNIST's protocol
//!   (test on the test set after every epoch, keep the last epoch);
//! - [`tables`]: the course table against its references, and MLP-for-MNIST's
//!   plots (accuracy against epoch, final accuracy against batch size, a
//!   batch size × epoch heatmap), generated from the reports;
//! - [`tsne`]: t-SNE of the last hidden layer, untrained against trained;
//! - [`bench`]: time per epoch of the 128-hidden MLP.
//!
//! `src/main.rs` is the command line (`cargo run -p fc-tuning -- --help`).

pub mod bench;
pub mod studies;
pub mod sweep;
pub mod tables;
pub mod tsne;

/// The part's folder under `reports/`.
pub const PART: &str = "fc-tuning";

/// The part's seed (split, shuffles, initial weights) unless `--seed` says
/// otherwise.
pub const SEED: u64 = 1;

/// `reports/fc-tuning` in this workspace.
pub fn reports_dir() -> std::path::PathBuf {
    mnist_report::paths::committed_reports_dir(PART)
}

/// Where `--quick` runs write, out of the committed reports:
/// `target/runs/fc-tuning`.
pub fn quick_reports_dir() -> std::path::PathBuf {
    mnist_report::paths::smoke_reports_dir(PART)
}
