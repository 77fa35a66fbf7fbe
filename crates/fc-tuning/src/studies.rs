//! The part's studies, as data: every configuration a sweep runs, and the
//! reference numbers the course table is compared with.

use mnist_models::models::{Activation, MlpConfig, ModelConfig};
use mnist_models::{OptimizerConfig, TrainingConfig};

/// How a configuration is trained and tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// The course: train on the course split's 54,000 images,
    /// validate on the last 6,000 after every epoch, test the epoch with the
    /// best validation accuracy once on the 10,000 test images.
    Course,
    /// MLP-for-MNIST's study: train on all 60,000 training images and test on the test
    /// set after every epoch; the last epoch's model is the result (nothing
    /// is selected on the test set). The report files the per-epoch test
    /// numbers as "validation" (`val_*`).
    TestEachEpoch,
}

/// One run of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct FcConfig {
    /// The run's name: its folder under `reports/fc-tuning/` and its row in
    /// `results.csv`.
    pub name: String,
    /// `course` or `batch-sizes`.
    pub study: &'static str,
    /// What this run changes from its study's baseline.
    pub change: String,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    /// Dropout after each hidden layer (0 = none; the studies use none).
    pub dropout: f64,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub momentum: f64,
    pub epochs: usize,
    pub protocol: Protocol,
}

impl FcConfig {
    pub fn mlp(&self) -> MlpConfig {
        MlpConfig::new(self.hidden.clone())
            .with_activation(self.activation)
            .with_dropout(self.dropout)
    }

    pub fn model(&self) -> ModelConfig {
        ModelConfig::Mlp(self.mlp())
    }

    /// Plain SGD (PyTorch semantics), as every configuration of the part.
    pub fn training(&self, seed: u64) -> TrainingConfig {
        TrainingConfig::new(OptimizerConfig::sgd(
            self.learning_rate,
            self.momentum,
            false,
        ))
        .with_epochs(self.epochs)
        .with_batch_size(self.batch_size)
        .with_seed(seed)
    }

    /// `784-10-10`, `784-64-64-10`.
    pub fn layers(&self) -> String {
        let mut sizes = vec![784];
        sizes.extend(&self.hidden);
        sizes.push(10);
        sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-")
    }

    pub fn activation_name(&self) -> &'static str {
        activation_name(self.activation)
    }

    /// The part's columns in `results.csv`.
    pub fn extra_columns(&self) -> Vec<(String, String)> {
        vec![
            ("study".into(), self.study.into()),
            ("change".into(), self.change.clone()),
            ("layers".into(), self.layers()),
            ("activation".into(), self.activation_name().into()),
            ("dropout".into(), self.dropout.to_string()),
            (
                "tested_on".into(),
                match self.protocol {
                    Protocol::Course => "best epoch by validation",
                    Protocol::TestEachEpoch => "test set every epoch; last epoch",
                }
                .into(),
            ),
        ]
    }

    /// A one-line description for progress output.
    pub fn describe(&self) -> String {
        format!(
            "{} {}, batch {}, lr {}, momentum {}, {} epochs",
            self.layers(),
            self.activation_name(),
            self.batch_size,
            self.learning_rate,
            self.momentum,
            self.epochs
        )
    }
}

pub fn activation_name(activation: Activation) -> &'static str {
    match activation {
        Activation::Relu => "relu",
        Activation::LeakyRelu => "leaky-relu",
    }
}

/// The course's baseline for a hidden width: 784-h-10 ReLU, SGD lr 0.1,
/// momentum 0, batch 32, 10 epochs.
fn course_baseline(hidden: usize) -> FcConfig {
    FcConfig {
        name: format!("h{hidden}-baseline"),
        study: "course",
        change: "baseline".into(),
        hidden: vec![hidden],
        activation: Activation::Relu,
        dropout: 0.0,
        batch_size: 32,
        learning_rate: 0.1,
        momentum: 0.0,
        epochs: 10,
        protocol: Protocol::Course,
    }
}

/// The course table: for 10 and then 128 hidden units, the baseline and one
/// change at a time: batch 64; lr 0.01; momentum 0.9; LeakyReLU.
pub fn course_table() -> Vec<FcConfig> {
    let mut configs = Vec::new();
    for hidden in [10, 128] {
        let base = course_baseline(hidden);
        let vary = |suffix: &str, change: &str, edit: &dyn Fn(&mut FcConfig)| {
            let mut c = base.clone();
            c.name = format!("h{hidden}-{suffix}");
            c.change = change.into();
            edit(&mut c);
            c
        };
        configs.push(base.clone());
        configs.push(vary("batch-64", "batch 64", &|c| c.batch_size = 64));
        configs.push(vary("lr-0.01", "lr 0.01", &|c| c.learning_rate = 0.01));
        configs.push(vary("momentum-0.9", "momentum 0.9", &|c| c.momentum = 0.9));
        configs.push(vary("leaky-relu", "LeakyReLU", &|c| {
            c.activation = Activation::LeakyRelu
        }));
    }
    configs
}

/// MLP-for-MNIST's batch sizes.
pub const BATCH_SIZES: [usize; 5] = [16, 32, 64, 128, 256];

/// MLP-for-MNIST's study: 784-64-64-10 ReLU, SGD, batch sizes 16 to 256, 20
/// epochs, tested on the test set after every epoch. The seed's README does
/// not give its learning rate or momentum; the course's lr 0.1 without
/// momentum is used (see `reports/fc-tuning/NOTES.md`).
pub fn batch_size_study() -> Vec<FcConfig> {
    BATCH_SIZES
        .iter()
        .map(|&batch_size| FcConfig {
            name: format!("h64x64-batch-{batch_size}"),
            study: "batch-sizes",
            change: format!("batch {batch_size}"),
            hidden: vec![64, 64],
            activation: Activation::Relu,
            dropout: 0.0,
            batch_size,
            learning_rate: 0.1,
            momentum: 0.0,
            epochs: 20,
            protocol: Protocol::TestEachEpoch,
        })
        .collect()
}

/// The network whose last hidden layer the t-SNE study draws: MLP-for-MNIST's
/// 784-64-64-10 at batch 64, trained on the course split for 20 epochs.
pub fn tsne_model() -> FcConfig {
    FcConfig {
        name: "tsne".into(),
        study: "tsne",
        change: "batch 64".into(),
        protocol: Protocol::Course,
        ..batch_size_study()[2].clone()
    }
}

/// Reference test accuracies (percent) for a row of the course table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reference {
    pub run: &'static str,
    /// What the four-part course's notebook reported.
    pub course_reported: Option<f64>,
    /// The same configuration in PyTorch on this machine, same data.
    pub pytorch_here: Option<f64>,
}

/// The goal: each row with a PyTorch figure within this many points of it.
pub const GOAL_POINTS: f64 = 0.5;

pub const REFERENCES: [Reference; 4] = [
    Reference {
        run: "h10-baseline",
        course_reported: Some(92.05),
        pytorch_here: Some(93.71),
    },
    Reference {
        run: "h10-batch-64",
        course_reported: Some(92.99),
        pytorch_here: None,
    },
    Reference {
        run: "h128-baseline",
        course_reported: Some(97.69),
        pytorch_here: Some(97.60),
    },
    Reference {
        run: "h128-leaky-relu",
        course_reported: Some(97.70),
        pytorch_here: Some(97.69),
    },
];

pub fn reference(run: &str) -> Option<&'static Reference> {
    REFERENCES.iter().find(|r| r.run == run)
}

/// What the MLP-for-MNIST notebook reported.
pub const MLP_FOR_MNIST_ACCURACY: f64 = 97.64;
