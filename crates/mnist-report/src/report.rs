//! A part's report directory, `reports/<part>/`: one call per run writes the
//! run's files and brings `results.csv` and `results.md` up to date.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::confusion::ConfusionMatrix;
use crate::error::{ReportError, Result};
use crate::lock::{lock, remove_stale_temporaries};
use crate::metrics::{EpochMetrics, RunStatus, TestMetrics, heads, median, write_metrics_csv};
use crate::plot::{self, GalleryItem};
use crate::provenance::Provenance;
use crate::results::{ResultRow, ResultsTable, is_standard};

/// The lock every run takes to update `results.csv` and `results.md`.
pub const RESULTS_LOCK: &str = ".results.lock";

/// Temporary files older than this are a killed writer's.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// How many misclassified images `write_run` draws at most.
pub const MISCLASSIFIED_SHOWN: usize = 50;

/// What a run was and how it ended: the `results.csv` row's identity and
/// hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Run name, unique within the part; also the run's directory name.
    pub run: String,
    /// Model name (e.g. `mlp`, `cnn`).
    pub model: String,
    /// Completed, or diverged at some epoch.
    pub status: RunStatus,
    /// Seed for initialisation and shuffling.
    pub seed: u64,
    /// Epochs the run was configured for.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Learning rate.
    pub learning_rate: f64,
    /// SGD momentum (0 for none).
    pub momentum: f64,
    /// The epoch (from 1) whose model the test set measured, when it is not
    /// the last one (e.g. the best by validation). `val_accuracy` in
    /// `results.csv` is that epoch's; `None` means the last epoch's.
    pub tested_epoch: Option<usize>,
    /// All hyper-parameters as the part defines them, stored in `config.json`.
    pub config: serde_json::Value,
    /// Extra `results.csv` columns for this part, `(column, value)`, e.g.
    /// `("activation", "relu")`. Names must differ from the standard columns.
    pub extra: Vec<(String, String)>,
}

/// The report directory of one part, e.g. `reports/part2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartReport {
    root: PathBuf,
}

impl PartReport {
    /// A report rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The part's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of one run: `<root>/<run>`.
    pub fn run_dir(&self, run: &str) -> PathBuf {
        self.root.join(run)
    }

    /// `<root>/results.csv`.
    pub fn results_csv(&self) -> PathBuf {
        self.root.join("results.csv")
    }

    /// `<root>/results.md`.
    pub fn results_md(&self) -> PathBuf {
        self.root.join("results.md")
    }

    /// The part's runs so far (empty before the first run is written).
    pub fn results(&self) -> Result<Vec<ResultRow>> {
        Ok(ResultsTable::read_or_empty(&self.results_csv())?.rows)
    }

    /// True when `run` is recorded as completed, so a sweep can skip it.
    pub fn is_completed(&self, run: &str) -> Result<bool> {
        Ok(self
            .results()?
            .iter()
            .any(|r| r.run == run && r.is_completed()))
    }

    /// Writes everything for one run and returns its directory:
    ///
    /// - `metrics.csv`, `config.json` and `curves.png`, always;
    /// - `confusion.png` (one head) or `confusion-first.png`,
    ///   `confusion-second.png` (two heads), when matrices are given;
    /// - `misclassified.png` (at most [`MISCLASSIFIED_SHOWN`] images), when
    ///   test metrics are given;
    ///
    /// then upserts the run's row in `results.csv` and regenerates
    /// `results.md`. Plots a previous run of the same name wrote and this one
    /// does not are left in place.
    pub fn write_run(
        &self,
        summary: &RunSummary,
        epochs: &[EpochMetrics],
        test: Option<&TestMetrics>,
        confusion: &[ConfusionMatrix],
        misclassified: &[GalleryItem],
        provenance: &Provenance,
    ) -> Result<PathBuf> {
        validate_run_name(&summary.run)?;
        if let Some((name, _)) = summary.extra.iter().find(|(name, _)| is_standard(name)) {
            return Err(ReportError::InvalidInput(format!(
                "extra column `{name}` clashes with a standard results.csv column"
            )));
        }
        // Read the table first: a malformed results.csv stops the run's
        // report before anything is written.
        let csv = self.results_csv();
        ResultsTable::read_or_empty(&csv)?;
        let dir = self.run_dir(&summary.run);

        write_metrics_csv(&dir.join("metrics.csv"), epochs)?;
        let config_path = dir.join("config.json");
        let text = config_json(summary, test, provenance).map_err(|e| {
            ReportError::InvalidInput(format!("{}: cannot serialise: {e}", config_path.display()))
        })?;
        mnist_data::files::write_bytes_atomically(&config_path, text.as_bytes())?;

        let diverged = match summary.status {
            RunStatus::Diverged { epoch } => format!(" (diverged at epoch {epoch})"),
            RunStatus::Completed => String::new(),
        };
        plot::curves(
            &dir.join("curves.png"),
            epochs,
            &format!("{}: {}{diverged}", summary.run, summary.model),
        )?;

        for (head, matrix) in confusion.iter().enumerate() {
            let (file, which) = match (confusion.len(), head) {
                (1, _) => ("confusion.png".to_string(), String::new()),
                (_, 0) => ("confusion-first.png".into(), ", first digit".into()),
                (_, 1) => ("confusion-second.png".into(), ", second digit".into()),
                (_, h) => (
                    format!("confusion-head{}.png", h + 1),
                    format!(", head {}", h + 1),
                ),
            };
            let title = format!(
                "{}: test confusion{which} (accuracy {:.2}%)",
                summary.run,
                100.0 * matrix.accuracy()
            );
            plot::confusion(&dir.join(file), matrix, &title)?;
        }

        if test.is_some() {
            let shown = &misclassified[..misclassified.len().min(MISCLASSIFIED_SHOWN)];
            let title = format!(
                "{}: misclassified test images ({} shown)",
                summary.run,
                shown.len()
            );
            plot::gallery(&dir.join("misclassified.png"), shown, 10, &title)?;
        }

        // Runs writing to one folder at once each re-read the table under its
        // lock, so no run's row replaces another's.
        let (row, order) = result_row(summary, epochs, test, provenance);
        let _lock = lock(&self.root.join(RESULTS_LOCK))?;
        remove_stale_temporaries(&self.root, STALE_AFTER);
        let mut table = ResultsTable::read_or_empty(&csv)?;
        table.upsert(row, &order);
        table.write(&csv)?;
        table.write_markdown(&self.root, &self.results_md())?;
        Ok(dir)
    }
}

/// A run name becomes a directory name: it must be one plain path component.
pub fn validate_run_name(run: &str) -> Result<()> {
    let bad = run.is_empty()
        || run == "."
        || run == ".."
        || run.contains(['/', '\\'])
        || run.chars().any(char::is_control);
    if bad {
        return Err(ReportError::InvalidInput(format!(
            "run name `{run}` must be a plain directory name"
        )));
    }
    Ok(())
}

/// `config.json`: the hyper-parameters (summary fields plus the caller's
/// `config`), the test results and the provenance, in this order.
#[derive(Serialize)]
struct ConfigFile<'a> {
    run: &'a str,
    model: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    diverged_epoch: Option<usize>,
    seed: u64,
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    momentum: f64,
    config: &'a serde_json::Value,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra: BTreeMap<&'a str, &'a str>,
    test: Option<&'a TestMetrics>,
    provenance: &'a Provenance,
}

fn config_json(
    summary: &RunSummary,
    test: Option<&TestMetrics>,
    provenance: &Provenance,
) -> serde_json::Result<String> {
    let file = ConfigFile {
        run: &summary.run,
        model: &summary.model,
        status: summary.status.as_str(),
        diverged_epoch: match summary.status {
            RunStatus::Diverged { epoch } => Some(epoch),
            RunStatus::Completed => None,
        },
        seed: summary.seed,
        epochs: summary.epochs,
        batch_size: summary.batch_size,
        learning_rate: summary.learning_rate,
        momentum: summary.momentum,
        config: &summary.config,
        extra: summary
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        test,
        provenance,
    };
    serde_json::to_string_pretty(&file)
}

/// The run's `results.csv` row, and its column names in order. Validation
/// accuracy is the last epoch's (the model that was tested); accuracies are
/// written only where known.
fn result_row(
    summary: &RunSummary,
    epochs: &[EpochMetrics],
    test: Option<&TestMetrics>,
    provenance: &Provenance,
) -> (ResultRow, Vec<String>) {
    let number = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map(|x| x.to_string())
            .unwrap_or_default()
    };
    let seconds = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map(|x| format!("{x:.3}"))
            .unwrap_or_default()
    };
    let tested = match summary.tested_epoch {
        Some(epoch) => epochs.iter().find(|e| e.epoch == epoch),
        None => epochs.last(),
    };
    let tested_val = tested.and_then(|e| e.val_accuracy.first().copied());
    let test_acc = |head: usize| test.and_then(|t| t.accuracy.get(head).copied());

    let mut cells: Vec<(String, String)> = vec![
        ("run".into(), summary.run.clone()),
        ("model".into(), summary.model.clone()),
        ("status".into(), summary.status.as_str().into()),
        ("backend".into(), provenance.backend.clone()),
        ("device".into(), provenance.device.clone()),
        ("seed".into(), summary.seed.to_string()),
        ("epochs".into(), summary.epochs.to_string()),
        ("batch_size".into(), summary.batch_size.to_string()),
        ("learning_rate".into(), summary.learning_rate.to_string()),
        ("momentum".into(), summary.momentum.to_string()),
        ("val_accuracy".into(), number(tested_val)),
        ("test_accuracy".into(), number(test_acc(0))),
        (
            "epoch_seconds_median".into(),
            seconds(median(epochs.iter().map(|e| e.seconds))),
        ),
        (
            "wall_seconds".into(),
            seconds(Some(provenance.wall_seconds)),
        ),
        ("commit".into(), provenance.commit.clone()),
        ("date".into(), provenance.date.clone()),
    ];
    let heads = heads(epochs).max(test.map_or(0, |t| t.accuracy.len()));
    if heads >= 2 {
        cells.push(("test_accuracy_second".into(), number(test_acc(1))));
        cells.push((
            "test_accuracy_both".into(),
            number(test.map(|t| t.accuracy_all_heads)),
        ));
    }
    if let Some(epoch) = summary.tested_epoch {
        cells.push(("tested_epoch".into(), epoch.to_string()));
    }
    if let RunStatus::Diverged { epoch } = summary.status {
        cells.push(("diverged_epoch".into(), epoch.to_string()));
    }
    cells.extend(summary.extra.iter().cloned());

    let order = cells.iter().map(|(k, _)| k.clone()).collect();
    let row = ResultRow {
        run: summary.run.clone(),
        status: summary.status,
        columns: cells.into_iter().collect(),
    };
    (row, order)
}
