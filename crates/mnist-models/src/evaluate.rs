//! Evaluation and prediction without autodiff: log-probabilities come back to
//! the host once per batch, and losses, accuracies and predictions are
//! computed there.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use mnist_data::{Dataset, Images, Labels};

use crate::batch::images_tensor;
use crate::models::Model;
use conv_blocks::CnnOps;

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
pub fn predictions<B: CnnOps>(
    model: &Model<B>,
    images: &Images,
    device: &B::Device,
) -> Predictions {
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

/// The index of the largest value: the digit a row of logits or
/// probabilities reads.
pub fn argmax(row: &[f32]) -> u8 {
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
    score(predictions(model, &set.images, device), set)
}

/// Loss and accuracy of `predictions` for the images of `set`.
pub fn score(predictions: Predictions, set: &Dataset) -> Evaluation {
    let heads = set.labels.heads;
    assert_eq!(predictions.heads(), heads, "model heads match the labels");
    let n = set.len().max(1) as f64;
    let mut loss = 0.0;
    for i in 0..set.len() {
        for (head, &truth) in set.labels.of(i).iter().enumerate() {
            let start = (i * heads + head) * 10;
            loss -= f64::from(predictions.log_probabilities[start + usize::from(truth)]);
        }
    }
    Evaluation {
        loss: loss / (n * heads as f64),
        accuracy: accuracy_per_head(&predictions.labels, &set.labels),
        accuracy_all_heads: every_head_right(&predictions.labels, &set.labels),
        predictions,
    }
}

/// The fraction of images whose digit each head got right: one number per
/// head (labels hold `heads` digits per image).
pub fn accuracy_per_head(predicted: &Labels, truth: &Labels) -> Vec<f64> {
    // BEGIN EXERCISE p2.accuracy uses predicted, truth
    let images = truth.count();
    let mut right = vec![0usize; truth.heads];
    for i in 0..images {
        for (head, (p, t)) in predicted.of(i).iter().zip(truth.of(i)).enumerate() {
            right[head] += usize::from(p == t);
        }
    }
    right
        .iter()
        .map(|&r| r as f64 / images.max(1) as f64)
        .collect()
    // END EXERCISE
}

/// The fraction of images with every head right, for any number of heads:
/// with one head it is that head's accuracy, so only classifiers with
/// several heads need [`accuracy_all_heads`] (the one-headed parts run
/// without it).
pub fn every_head_right(predicted: &Labels, truth: &Labels) -> f64 {
    match accuracy_per_head(predicted, truth).as_slice() {
        [only] => *only,
        _ => accuracy_all_heads(predicted, truth),
    }
}

/// The fraction of images with every head right (for two-digit images: both
/// digits).
pub fn accuracy_all_heads(predicted: &Labels, truth: &Labels) -> f64 {
    // BEGIN EXERCISE p4.both-digits-right uses predicted, truth
    let images = truth.count();
    let all_right = (0..images)
        .filter(|&i| predicted.of(i) == truth.of(i))
        .count();
    all_right as f64 / images.max(1) as f64
    // END EXERCISE
}
