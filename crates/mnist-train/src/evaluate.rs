//! Evaluation and prediction without autodiff: log-probabilities come back to
//! the host once per batch, and losses, accuracies and predictions are
//! computed there.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use mnist_data::{Dataset, Images, Labels};

use crate::batch::images_tensor;
use crate::models::Model;
use crate::ops::CnnOps;

/// Images per forward pass when nothing is learned.
pub const EVAL_BATCH: usize = 500;

/// A model's outputs for a set of images.
#[derive(Clone, Debug)]
pub struct Predictions {
    /// Predicted digit per image and head.
    pub labels: Labels,
    /// log p(digit) for each image, head and digit: `[n][heads][10]`, flat.
    pub log_probabilities: Vec<f32>,
}

impl Predictions {
    pub fn heads(&self) -> usize {
        self.labels.heads
    }

    /// The ten probabilities of image `index`, head `head`.
    pub fn probabilities(&self, index: usize, head: usize) -> [f32; 10] {
        let start = (index * self.heads() + head) * 10;
        std::array::from_fn(|d| self.log_probabilities[start + d].exp())
    }
}

/// Runs `model` on every image.
pub fn predict<B: CnnOps>(model: &Model<B>, images: &Images, device: &B::Device) -> Predictions {
    let mut labels = Vec::new();
    let mut log_probabilities = Vec::with_capacity(images.count * 10);
    let mut heads = 1;
    for start in (0..images.count).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(images.count);
        let outputs = model.forward(images_tensor(images, start..end, device));
        heads = outputs.len();
        // [n, heads, 10]: every image's heads side by side.
        let stacked =
            Tensor::stack::<3>(outputs.into_iter().map(|l| log_softmax(l, 1)).collect(), 1);
        let values = stacked
            .into_data()
            .convert::<f32>()
            .into_vec::<f32>()
            .expect("converted to f32");
        for row in values.chunks_exact(10) {
            labels.push(argmax(row));
        }
        log_probabilities.extend(values);
    }
    Predictions {
        labels: Labels::new(heads, labels),
        log_probabilities,
    }
}

fn argmax(row: &[f32]) -> u8 {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best as u8
}

/// Loss and accuracy of a model on a labelled set.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Mean cross-entropy, averaged over heads.
    pub loss: f64,
    /// Fraction right, per head.
    pub accuracy: Vec<f64>,
    /// Fraction of images with every head right.
    pub accuracy_all_heads: f64,
    pub predictions: Predictions,
}

pub fn evaluate<B: CnnOps>(model: &Model<B>, set: &Dataset, device: &B::Device) -> Evaluation {
    score(predict(model, &set.images, device), set)
}

/// Loss and accuracy of `predictions` for the images of `set`.
pub fn score(predictions: Predictions, set: &Dataset) -> Evaluation {
    let heads = set.labels.heads;
    assert_eq!(predictions.heads(), heads, "model heads match the labels");
    let n = set.len().max(1) as f64;
    let mut loss = 0.0;
    let mut right = vec![0usize; heads];
    let mut all_right = 0;
    for i in 0..set.len() {
        let truth = set.labels.of(i);
        let predicted = predictions.labels.of(i);
        for head in 0..heads {
            let start = (i * heads + head) * 10;
            loss -= f64::from(predictions.log_probabilities[start + usize::from(truth[head])]);
            right[head] += usize::from(predicted[head] == truth[head]);
        }
        all_right += usize::from(predicted == truth);
    }
    Evaluation {
        loss: loss / (n * heads as f64),
        accuracy: right.iter().map(|&r| r as f64 / n).collect(),
        accuracy_all_heads: all_right as f64 / n,
        predictions,
    }
}
