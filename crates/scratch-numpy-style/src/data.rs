//! MNIST as matrices: one image per row (784 pixels) and one-hot targets
//! (row i has a 1 in column `labels[i]`).
//!
//! Pixels are scaled to [0, 1] and then standardised, x ← (x − μ) / σ, with
//! the mean and standard deviation of all training pixels (μ ≈ 0.1307,
//! σ ≈ 0.3081). Inputs centred on 0 let the first layer's weight updates
//! point in any direction: with all-positive inputs, every weight into a unit
//! moves the same way in one step (LeCun et al., "Efficient BackProp", 1998).

use mnist_data::Dataset;
use ndarray::Array2;

use crate::error::{Error, Result};
use crate::float::Float;

/// Inputs and targets, one sample per row; `labels` is the class of each row
/// for classification and empty for regression.
#[derive(Clone, Debug)]
pub struct Samples<F> {
    pub x: Array2<F>,
    pub y: Array2<F>,
    pub labels: Vec<usize>,
}

impl<F: Float> Samples<F> {
    /// Classification samples: targets are the one-hot rows of `labels`.
    pub fn classification(x: Array2<F>, labels: &[u8], classes: usize) -> Result<Self> {
        if labels.len() != x.nrows() {
            return Err(Error::RowMismatch {
                inputs: x.nrows(),
                targets: labels.len(),
            });
        }
        let y = one_hot(labels, classes)?;
        Ok(Self {
            x,
            y,
            labels: labels.iter().map(|&l| usize::from(l)).collect(),
        })
    }

    /// Regression samples: arbitrary targets, no classes.
    pub fn regression(x: Array2<F>, y: Array2<F>) -> Result<Self> {
        if y.nrows() != x.nrows() {
            return Err(Error::RowMismatch {
                inputs: x.nrows(),
                targets: y.nrows(),
            });
        }
        Ok(Self {
            x,
            y,
            labels: Vec::new(),
        })
    }

    /// An MNIST split: pixels / 255, standardised with `scaling`, as inputs;
    /// the ten digits as classes.
    pub fn from_mnist(set: &Dataset, scaling: Standardisation) -> Result<Self> {
        let images = &set.images;
        let x = Array2::from_shape_fn((images.count, images.image_len()), |(i, j)| {
            F::of(scaling.apply(images.pixels[i * images.image_len() + j]))
        });
        Self::classification(x, &set.labels.head(0), 10)
    }

    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }

    pub fn is_classification(&self) -> bool {
        !self.labels.is_empty()
    }
}

/// x ← (p / 255 − mean) / std for a pixel p.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Standardisation {
    pub mean: f64,
    pub std: f64,
}

impl Standardisation {
    /// Plain scaling to [0, 1], no centring.
    pub const UNIT: Standardisation = Standardisation {
        mean: 0.0,
        std: 1.0,
    };

    /// The mean and standard deviation of every pixel of `set` (scaled to
    /// [0, 1]); a constant image set gets std 1 so nothing divides by 0.
    pub fn fit(set: &Dataset) -> Self {
        let pixels = &set.images.pixels;
        if pixels.is_empty() {
            return Self::UNIT;
        }
        let n = pixels.len() as f64;
        let mean = pixels.iter().map(|&p| f64::from(p) / 255.0).sum::<f64>() / n;
        let var = pixels
            .iter()
            .map(|&p| (f64::from(p) / 255.0 - mean).powi(2))
            .sum::<f64>()
            / n;
        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
        Self { mean, std }
    }

    pub fn apply(self, pixel: u8) -> f64 {
        (f64::from(pixel) / 255.0 - self.mean) / self.std
    }
}

/// One-hot rows: `classes` columns, a 1 at each label.
pub fn one_hot<F: Float>(labels: &[u8], classes: usize) -> Result<Array2<F>> {
    let mut y = Array2::zeros((labels.len(), classes));
    for (index, &label) in labels.iter().enumerate() {
        if usize::from(label) >= classes {
            return Err(Error::LabelOutOfRange {
                index,
                label,
                classes,
            });
        }
        y[[index, usize::from(label)]] = F::one();
    }
    Ok(y)
}

/// The index of the largest value in a row: the predicted class.
pub fn argmax<F: Float>(row: ndarray::ArrayView1<F>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}
