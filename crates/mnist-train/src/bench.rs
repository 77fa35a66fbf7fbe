//! How long a training step takes: the raw step (forward, loss, backward,
//! optimiser step on one prepared batch) against the training loop's time
//! per step (batches built from the data, running metrics, progress), so
//! any overhead of the loop shows.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use mnist_data::Dataset;

use crate::batch::batch;
use crate::config::{OptimizerConfig, TrainingConfig};
use crate::loss::cross_entropy;
use crate::model::{Classifier, ModelConfig, ModelTask};
use crate::train::{TrainOptions, TrainingData, train};

/// Milliseconds per step.
#[derive(Clone, Copy, Debug)]
pub struct StepTimes {
    pub raw_ms: f64,
    pub loop_ms: f64,
}

/// Times `steps` training steps of `model` at `batch_size` on `data`
/// (which needs at least `steps × batch_size` images), after a warm-up.
pub fn time_steps<B: AutodiffBackend>(
    model: &ModelConfig,
    data: &Dataset,
    batch_size: usize,
    steps: usize,
    device: &B::Device,
) -> StepTimes {
    B::seed(device, 1);
    model.with_model::<B, _>(
        device,
        StepBench::<B> {
            data,
            batch_size,
            steps,
            device,
        },
    )
}

struct StepBench<'a, B: AutodiffBackend> {
    data: &'a Dataset,
    batch_size: usize,
    steps: usize,
    device: &'a B::Device,
}

const WARM_UP: usize = 3;

impl<B: AutodiffBackend> ModelTask<B> for StepBench<'_, B> {
    type Output = StepTimes;

    fn run<M>(self, model: M) -> StepTimes
    where
        M: AutodiffModule<B> + Classifier<B>,
        M::InnerModule: Classifier<B::InnerBackend>,
    {
        let Self {
            data,
            batch_size,
            steps,
            device,
        } = self;
        let config = TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, true))
            .with_batch_size(batch_size)
            .with_epochs(2);

        // Raw: one batch, prepared once.
        let indices: Vec<usize> = (0..batch_size).collect();
        let prepared = batch::<B>(data, &indices, device);
        let mut optimizer = OptimizerConfig::burn_sgd(0.9, true).init::<B, M>();
        let mut raw_model = model.clone();
        let mut start = Instant::now();
        for step in 0..WARM_UP + steps {
            if step == WARM_UP {
                let _ = B::sync(device);
                start = Instant::now();
            }
            let logits = raw_model.forward(prepared.images.clone());
            let loss = cross_entropy(&logits, &prepared.targets);
            let grads = GradientsParams::from_grads(loss.backward(), &raw_model);
            raw_model = optimizer.step(0.01, raw_model, grads);
        }
        let _ = B::sync(device);
        let raw_ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;

        // The loop: two epochs of `steps` steps; the second one is timed
        // (the first warms up). Validation is a single image.
        let train_set = data.take(steps * batch_size);
        let validation = data.take(1);
        let options = TrainOptions {
            checkpoints: None,
            resume: false,
            run_config: serde_json::Value::Null,
            verbose: false,
        };
        let training_data = TrainingData {
            train: &train_set,
            validation: &validation,
        };
        let loop_ms = match train(model, training_data, &config, &options, device) {
            Ok(trained) => trained
                .state
                .history
                .last()
                .map_or(f64::NAN, |e| e.seconds * 1e3 / steps as f64),
            Err(_) => f64::NAN,
        };
        StepTimes { raw_ms, loop_ms }
    }
}
