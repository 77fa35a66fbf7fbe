//! Run reports shared by every part of the course (and free of Burn, so the
//! from-scratch part uses it too). One call per run writes
//! `reports/<part>/<run>/`:
//!
//! - `metrics.csv`: one row per epoch (losses, accuracies per head, seconds);
//! - `config.json`: the hyper-parameters and where the numbers came from;
//! - `curves.png`, `confusion*.png`, `misclassified.png`: the plots;
//!
//! and keeps the part's table of runs up to date: `reports/<part>/results.csv`
//! (one row per run, upserted by run name) and `results.md`, regenerated
//! from it. Every file is written atomically (temporary file, then rename).
//!
//! ```no_run
//! use mnist_report::{EpochMetrics, PartReport, Provenance, RunStatus, RunSummary};
//!
//! # fn main() -> mnist_report::Result<()> {
//! let report = PartReport::new("reports/part2");
//! let summary = RunSummary {
//!     run: "cnn-baseline".into(),
//!     model: "cnn".into(),
//!     status: RunStatus::Completed,
//!     seed: 42,
//!     epochs: 1,
//!     batch_size: 64,
//!     learning_rate: 0.01,
//!     momentum: 0.9,
//!     tested_epoch: None,
//!     config: serde_json::json!({ "hidden": 128 }),
//!     extra: vec![],
//! };
//! let epochs = [EpochMetrics {
//!     epoch: 1,
//!     train_loss: 0.3,
//!     train_accuracy: vec![0.91],
//!     val_loss: 0.2,
//!     val_accuracy: vec![0.94],
//!     seconds: 12.5,
//! }];
//! let provenance = Provenance::collect("ndarray", "cpu", 13.0);
//! report.write_run(&summary, &epochs, None, &[], &[], &provenance)?;
//! # Ok(())
//! # }
//! ```

pub mod cli;
pub mod confusion;
pub mod error;
pub mod lock;
pub mod metrics;
pub mod paths;
pub mod plot;
pub mod provenance;
pub mod report;
pub mod results;

pub use confusion::{CLASSES, ConfusionMatrix};
pub use error::{ReportError, Result};
pub use metrics::{EpochMetrics, RunStatus, TestMetrics};
pub use plot::GalleryItem;
pub use provenance::Provenance;
pub use report::{PartReport, RunSummary};
pub use results::{ResultRow, read_results};
