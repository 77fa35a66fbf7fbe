//! The confusion matrix: which digit the model predicted for each true digit.
//! Its diagonal is what the model gets right; the largest off-diagonal cells
//! are the mistakes worth looking at.

use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};

/// Number of classes (digits 0–9).
pub const CLASSES: usize = 10;

/// 10×10 counts; rows are true labels, columns predicted labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    counts: [[u64; CLASSES]; CLASSES],
}

impl ConfusionMatrix {
    /// An empty matrix.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one prediction. Labels must be digits (0..=9).
    pub fn add(&mut self, truth: u8, predicted: u8) -> Result<()> {
        let (t, p) = (usize::from(truth), usize::from(predicted));
        if t >= CLASSES || p >= CLASSES {
            return Err(ReportError::InvalidInput(format!(
                "confusion matrix labels must be 0..=9, got true {truth}, predicted {predicted}"
            )));
        }
        self.counts[t][p] += 1;
        Ok(())
    }

    /// Builds the matrix from parallel slices of true and predicted labels.
    pub fn from_predictions(truth: &[u8], predicted: &[u8]) -> Result<Self> {
        if truth.len() != predicted.len() {
            return Err(ReportError::InvalidInput(format!(
                "confusion matrix: {} true labels but {} predictions",
                truth.len(),
                predicted.len()
            )));
        }
        let mut matrix = Self::new();
        for (&t, &p) in truth.iter().zip(predicted) {
            matrix.add(t, p)?;
        }
        Ok(matrix)
    }

    /// All counts, `counts()[truth][predicted]`.
    pub fn counts(&self) -> &[[u64; CLASSES]; CLASSES] {
        &self.counts
    }

    /// How often `truth` was predicted as `predicted` (0 for labels out of range).
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts
            .get(truth)
            .and_then(|row| row.get(predicted))
            .copied()
            .unwrap_or(0)
    }

    /// Number of predictions counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Number of predictions on the diagonal.
    pub fn correct(&self) -> u64 {
        (0..CLASSES).map(|c| self.counts[c][c]).sum()
    }

    /// Fraction of predictions that are right (0 for an empty matrix).
    pub fn accuracy(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            total => self.correct() as f64 / total as f64,
        }
    }

    /// Per true class, the fraction predicted right (the class's recall);
    /// `None` for a class with no examples.
    pub fn per_class_accuracy(&self) -> [Option<f64>; CLASSES] {
        std::array::from_fn(|c| {
            let row_total: u64 = self.counts[c].iter().sum();
            (row_total > 0).then(|| self.counts[c][c] as f64 / row_total as f64)
        })
    }
}
