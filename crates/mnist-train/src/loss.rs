//! The loss: cross-entropy per head, averaged over heads (for two-digit
//! images, the mean of the two heads' cross-entropies, as in the course).

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// Mean over the batch of −log softmax(logits)[target], averaged over heads.
pub fn cross_entropy<B: Backend>(
    logits: &[Tensor<B, 2>],
    targets: &[Tensor<B, 1, Int>],
) -> Tensor<B, 1> {
    let heads = logits.len() as f32;
    logits
        .iter()
        .zip(targets)
        .map(|(logits, targets)| {
            let n = targets.dims()[0];
            let picked = log_softmax(logits.clone(), 1).gather(1, targets.clone().reshape([n, 1]));
            picked.mean().neg()
        })
        .reduce(|a, b| a + b)
        .expect("a classifier has at least one head")
        / heads
}
