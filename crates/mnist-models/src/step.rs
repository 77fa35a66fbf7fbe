//! One step of gradient descent, the unit the training loop repeats and
//! the benchmarks time.

use burn::prelude::*;

use crate::TrainBackend;
use crate::batch::Batch;
use crate::models::Model;
use crate::optimizer::ModelOptimizer;

/// What one training step leaves: the updated model, and the batch's loss
/// and logits (computed before the update).
pub struct Step<B: Backend> {
    pub model: Model<B>,
    pub loss: Tensor<B, 1>,
    pub logits: Vec<Tensor<B, 2>>,
}

/// One step of gradient descent on one batch: forward pass, loss, backward
/// pass, and the optimiser's update of every parameter.
pub fn train_step<B: TrainBackend>(
    model: Model<B>,
    optimizer: &mut ModelOptimizer<B>,
    batch: Batch<B>,
    learning_rate: f64,
) -> Step<B> {
    // BEGIN EXERCISE p2.train-step uses model, optimizer, batch, learning_rate
    use crate::loss::cross_entropy;
    use burn::optim::GradientsParams;
    let logits = model.forward(batch.images);
    let loss = cross_entropy(&logits, &batch.targets);
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optimizer.step(learning_rate, model, grads);
    Step {
        model,
        loss,
        logits,
    }
    // END EXERCISE
}
