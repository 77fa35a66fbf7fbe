#![allow(dead_code)]
//! Shared test helpers: a tiny separable problem and small MNIST subsets.

use std::sync::OnceLock;

use mnist_data::{Dataset, Images, Labels, Mnist};
use mnist_models::TrainBackend;
use mnist_models::models::MlpConfig;
use mnist_models::{OptimizerConfig, TrainingConfig};
use mnist_train::train::{TrainOptions, TrainingData, train};

pub type Flex = burn::backend::Autodiff<burn::backend::Flex>;
pub type NdArray = burn::backend::Autodiff<burn::backend::NdArray>;

pub fn mnist() -> &'static Mnist {
    static MNIST: OnceLock<Mnist> = OnceLock::new();
    MNIST.get_or_init(|| Mnist::load_default().expect("the committed MNIST files load"))
}

/// `n` 28×28 images of 10 classes that a linear model separates: class `k`
/// lights rows 2k+3 and 2k+4, plus a little seeded noise everywhere.
pub fn separable(n: usize, seed: u64) -> Dataset {
    let mut rng = mnist_data::split::seeded_rng(seed);
    let mut pixels = vec![0u8; n * 784];
    let mut labels = Vec::with_capacity(n);
    for (i, image) in pixels.chunks_exact_mut(784).enumerate() {
        let class = i % 10;
        for (p, pixel) in image.iter_mut().enumerate() {
            let row = p / 28;
            let noise = mnist_data::split::below(&mut rng, 40) as u8;
            *pixel = if row == 2 * class + 3 || row == 2 * class + 4 {
                215 + noise
            } else {
                noise
            };
        }
        labels.push(class as u8);
    }
    Dataset::new(Images::new(n, 28, 28, pixels), Labels::new(1, labels))
}

pub fn no_checkpoints() -> TrainOptions<'static> {
    TrainOptions::default()
}

/// Trains a small MLP on the separable problem; returns (first epoch's
/// train loss, last validation loss, last validation accuracy).
pub fn learn_separable<B: TrainBackend>(device: &B::Device) -> (f64, f64, f64) {
    let (train_set, validation) = (separable(400, 1), separable(100, 2));
    B::seed(device, 7);
    let model = MlpConfig::new(vec![32]).init::<B>(device).into();
    let config = TrainingConfig::new(OptimizerConfig::sgd(0.1, 0.9, false))
        .with_epochs(4)
        .with_batch_size(20);
    let data = TrainingData {
        train: &train_set,
        validation: &validation,
    };
    let trained = train(model, data, &config, &no_checkpoints(), device).expect("training runs");
    let history = &trained.state.history;
    assert_eq!(history.len(), 4);
    let last = history.last().expect("four epochs");
    (history[0].train_loss, last.val_loss, last.val_accuracy[0])
}
