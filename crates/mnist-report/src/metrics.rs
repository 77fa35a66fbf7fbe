//! The numbers a run produces: per-epoch metrics, test metrics and how the
//! run ended, and the `metrics.csv` file that records the epochs.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One epoch of training. Accuracies are fractions in 0..=1, one per head
/// (one head for a digit classifier, two for the two-digit model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch.
    pub train_loss: f64,
    /// Training accuracy per head.
    pub train_accuracy: Vec<f64>,
    /// Validation loss after the epoch.
    pub val_loss: f64,
    /// Validation accuracy per head.
    pub val_accuracy: Vec<f64>,
    /// Wall-clock seconds the epoch took (training and validation).
    pub seconds: f64,
}

impl EpochMetrics {
    /// True when a loss is NaN or infinite: training has diverged.
    pub fn diverged(&self) -> bool {
        !self.train_loss.is_finite() || !self.val_loss.is_finite()
    }
}

/// The final model on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestMetrics {
    /// Mean test loss.
    pub loss: f64,
    /// Test accuracy per head, fractions in 0..=1.
    pub accuracy: Vec<f64>,
    /// Fraction of test images with every head right (equals `accuracy[0]`
    /// for one head).
    pub accuracy_all_heads: f64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum RunStatus {
    /// All epochs ran.
    Completed,
    /// The loss became NaN or infinite during `epoch` (1-based); the run
    /// stopped there.
    Diverged { epoch: usize },
}

impl RunStatus {
    /// The word stored in the `status` column: `completed` or `diverged`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Completed => "completed",
            RunStatus::Diverged { .. } => "diverged",
        }
    }
}

/// Number of heads the epochs report (the longest accuracy list).
pub fn heads(epochs: &[EpochMetrics]) -> usize {
    epochs
        .iter()
        .map(|e| e.train_accuracy.len().max(e.val_accuracy.len()))
        .max()
        .unwrap_or(0)
}

/// Column name for one head's accuracy: `train_accuracy` when there is a
/// single head, `train_accuracy_1`, `train_accuracy_2`, … otherwise.
pub fn head_column(prefix: &str, head: usize, heads: usize) -> String {
    if heads <= 1 {
        prefix.to_string()
    } else {
        format!("{prefix}_{}", head + 1)
    }
}

/// Median of the finite values, `None` when there is none.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Writes `metrics.csv`: `epoch, train_loss, train_accuracy…, val_loss,
/// val_accuracy…, seconds`, one row per epoch. A diverged loss is written as
/// `NaN` or `inf`, so the file shows where training broke.
pub fn write_metrics_csv(path: &Path, epochs: &[EpochMetrics]) -> Result<()> {
    let heads = heads(epochs).max(1);
    let mut header = vec!["epoch".to_string(), "train_loss".to_string()];
    header.extend((0..heads).map(|h| head_column("train_accuracy", h, heads)));
    header.push("val_loss".into());
    header.extend((0..heads).map(|h| head_column("val_accuracy", h, heads)));
    header.push("seconds".into());

    let per_head = |values: &[f64]| -> Vec<String> {
        (0..heads)
            .map(|h| values.get(h).map(|v| v.to_string()).unwrap_or_default())
            .collect()
    };
    let rows: Vec<Vec<String>> = epochs
        .iter()
        .map(|e| {
            let mut row = vec![e.epoch.to_string(), e.train_loss.to_string()];
            row.extend(per_head(&e.train_accuracy));
            row.push(e.val_loss.to_string());
            row.extend(per_head(&e.val_accuracy));
            row.push(format!("{:.3}", e.seconds));
            row
        })
        .collect();
    write_csv(path, &header, &rows)
}

/// Writes a CSV table atomically.
pub(crate) fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<()> {
    mnist_data::files::write_atomically(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(header)?;
        for row in rows {
            csv.write_record(row)?;
        }
        csv.flush()?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_non_finite() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median([f64::NAN, 5.0]), Some(5.0));
        assert_eq!(median([]), None);
    }

    #[test]
    fn head_columns_are_plain_for_one_head() {
        assert_eq!(head_column("val_accuracy", 0, 1), "val_accuracy");
        assert_eq!(head_column("val_accuracy", 1, 2), "val_accuracy_2");
    }
}
