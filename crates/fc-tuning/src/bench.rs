//! Time per training epoch of the course's 128-hidden MLP (784-128-10 ReLU,
//! SGD lr 0.1, batch 32) over the course split's 54,000 training images,
//! through the training loop itself.

use mnist_data::Dataset;
use mnist_models::models::{MlpConfig, ModelConfig};
use mnist_models::{OptimizerConfig, TrainingConfig};
use mnist_report::metrics::median;
use mnist_train::BackendKind;
use mnist_train::bench::{BenchError, epoch_seconds};

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

/// The course's training of the 784-`hidden`-10 MLP at `batch_size`.
pub fn course_training(batch_size: usize) -> TrainingConfig {
    TrainingConfig::new(OptimizerConfig::sgd(0.1, 0.0, false)).with_batch_size(batch_size)
}

/// Trains the 784-`hidden`-10 MLP for one untimed warm-up epoch and then
/// `epochs` timed ones over `train_set` on `backend`.
pub fn time_epochs(
    train_set: &Dataset,
    hidden: usize,
    batch_size: usize,
    epochs: usize,
    backend: BackendKind,
) -> Result<EpochTimes, BenchError> {
    let model = ModelConfig::Mlp(MlpConfig::new(vec![hidden]));
    let seconds = epoch_seconds(
        &model,
        &course_training(batch_size),
        train_set,
        epochs,
        backend,
    )?;
    Ok(EpochTimes {
        images: train_set.len(),
        batch_size,
        seconds,
    })
}
