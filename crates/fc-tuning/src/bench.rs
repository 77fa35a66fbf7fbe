//! Time per training epoch of the course's 128-hidden MLP (784-128-10 ReLU,
//! SGD lr 0.1, batch 32) over the course split's 54,000 training images,
//! through the training loop itself, compared with PyTorch on this machine
//! (1.0–1.8 s per epoch).

use mnist_data::Dataset;
use mnist_report::metrics::median;
use mnist_train::model::MlpConfig;
use mnist_train::model::TrainBackend;
use mnist_train::train::{TrainError, TrainOptions, TrainingData, train};
use mnist_train::{OptimizerConfig, TrainingConfig};

/// PyTorch's time per epoch for the same network and data on this machine.
pub const PYTORCH_SECONDS: (f64, f64) = (1.0, 1.8);

/// Seconds per timed epoch.
#[derive(Clone, Debug)]
pub struct EpochTimes {
    pub images: usize,
    pub batch_size: usize,
    pub seconds: Vec<f64>,
}

impl EpochTimes {
    pub fn min(&self) -> f64 {
        self.seconds.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn median(&self) -> f64 {
        median(self.seconds.iter().copied()).unwrap_or(f64::NAN)
    }
}

/// Trains the 784-`hidden`-10 MLP for one untimed warm-up epoch and then
/// `epochs` timed ones over `train_set` (shuffle, batches, forward, loss,
/// backward, SGD step, running metrics; validation is a single image, so
/// the time is the training pass).
pub fn time_epochs<B: TrainBackend>(
    train_set: &Dataset,
    hidden: usize,
    batch_size: usize,
    epochs: usize,
    device: &B::Device,
) -> Result<EpochTimes, TrainError> {
    B::seed(device, 1);
    let model = MlpConfig::new(vec![hidden]).init::<B>(device);
    let config = TrainingConfig::new(OptimizerConfig::sgd(0.1, 0.0, false))
        .with_epochs(epochs + 1)
        .with_batch_size(batch_size);
    let validation = train_set.take(1);
    let options = TrainOptions {
        checkpoints: None,
        resume: false,
        run_config: serde_json::Value::Null,
        verbose: false,
    };
    let data = TrainingData {
        train: train_set,
        validation: &validation,
    };
    let trained = train(model, data, &config, &options, device)?;
    Ok(EpochTimes {
        images: train_set.len(),
        batch_size,
        seconds: trained
            .state
            .history
            .iter()
            .skip(1)
            .map(|e| e.seconds)
            .collect(),
    })
}
