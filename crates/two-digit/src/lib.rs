//! Part 4 of the course: two digits in one 42×28 image, read by networks
//! with two heads, one per digit.
//!
//! The training core (`mnist-train`) trains, tests and reports any number of
//! heads; the data layer (`mnist_data::two_digit`) composes the images. This
//! part is the course's configuration ([`Model`], [`training`], [`splits`]),
//! evaluation of external two-digit sets ([`evaluate_set`]), prediction on
//! your own files ([`predict_files`]) and its command line (`src/main.rs`:
//! train, eval, predict, bench).

use std::path::{Path, PathBuf};

use mnist_data::two_digit as composer;
use mnist_data::{Dataset, Mnist};
use mnist_models::models::{CnnConfig, MlpConfig, ModelConfig};
use mnist_models::{OptimizerConfig, TrainingConfig};
use mnist_report::plot::{GalleryItem, gallery};
use mnist_train::BackendKind;
use mnist_train::cli::Part;
use mnist_train::eval::score_set;
use mnist_train::inference::{LoadError, Predictor, load_predictor};
use mnist_train::predict::{PredictArgs, PredictError, predict_with};
use mnist_train::run::{RunSpec, Splits, Start, Tested};

pub use mnist_train::inference::has_model;

/// This part, for the command-line options the core shares.
#[derive(Clone, Debug)]
pub struct Part4;

impl Part for Part4 {
    const NAME: &'static str = PART;
    const COMMITTED_RUN: &'static str = "cnn";
}

/// The part's folder under `reports/`.
pub const PART: &str = "two-digit";

/// Seed of the composed images: every run trains and tests on the same
/// 40,000 + 4,000 images, whatever its own seed. `cargo run -p mnist-data --
/// compose --seed 1` writes the same test set.
pub const DATA_SEED: u64 = composer::COURSE_SEED;

/// The part's two models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// The two-headed CNN: conv 32@3×3 → ReLU → max-pool 2 → conv 64@3×3 →
    /// ReLU → max-pool 2 → flatten (2,880) → linear 128 → dropout 0.5 → two
    /// linear heads of 10.
    Cnn,
    /// The two-headed MLP: flatten (1,176) → linear 64 → ReLU → linear 64 →
    /// ReLU → two linear heads of 10.
    Mlp,
}

impl Model {
    /// The run's name: its folder under `reports/two-digit/` and its row in
    /// `results.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::Mlp => "mlp",
        }
    }

    pub fn config(self) -> ModelConfig {
        let (height, width) = (composer::HEIGHT, composer::WIDTH);
        match self {
            Self::Cnn => ModelConfig::Cnn(
                CnnConfig::new()
                    .with_height(height)
                    .with_width(width)
                    .with_heads(2)
                    .with_dropout(0.5),
            ),
            Self::Mlp => ModelConfig::Mlp(
                MlpConfig::new(vec![64, 64])
                    .with_height(height)
                    .with_width(width)
                    .with_heads(2),
            ),
        }
    }
}

/// The course's training for both models: SGD, learning rate 0.01, momentum
/// 0.9 (not Nesterov), batches of 64, 30 epochs, seed 1. The loss is the
/// mean of the two heads' cross-entropies (the core's loss for two heads).
pub fn training() -> TrainingConfig {
    TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, false))
        .with_epochs(30)
        .with_batch_size(64)
        .with_seed(1)
}

/// The course's sets: 40,000 images composed from MNIST's training split,
/// split 36,000 / 4,000 (the last 10 % validates; the rest is shuffled with
/// `seed`), and 4,000 test images composed from MNIST's test split.
pub fn splits(mnist: &Mnist, seed: u64) -> Splits {
    let (train, test) = composer::course_sets(mnist, DATA_SEED);
    Splits::course(&train, test, seed)
}

/// A run of `model` with `training`, reported in `part_dir/run`.
pub fn spec(
    part_dir: PathBuf,
    model: Model,
    run: String,
    training: TrainingConfig,
    start: Start,
) -> RunSpec {
    // As the course does: the model after the last epoch is tested.
    RunSpec {
        start,
        ..RunSpec::new(part_dir, run, model.config(), training, Tested::Last)
    }
}

/// What `two-digit --help` says the default command does, from the
/// configuration itself.
pub fn about() -> String {
    let (cnn, mlp) = (Model::Cnn.config(), Model::Mlp.config());
    let training = training().describe();
    format!(
        "Part 4: two digits in one 42x28 image, read by two-headed networks.\n\n\
         With no command, trains the two-headed CNN ({}; --model mlp for the MLP, {}) with \
         {training} on the \
         course's composed images, tests the model after the last epoch on the composed \
         test set and writes reports/{PART}/<model>/.",
        cnn.describe(),
        mlp.describe()
    )
}

/// `reports/two-digit` in this workspace.
pub fn reports_dir() -> PathBuf {
    mnist_report::paths::committed_reports_dir(PART)
}

/// Where `eval` finds the model unless told: the course CNN's checkpoints,
/// `reports/two-digit/cnn/checkpoints` (committed).
pub fn committed_model_dir() -> PathBuf {
    Part4::committed_model_dir()
}

/// A model's accuracy on a two-digit set. The field names are the results
/// table's columns, so `eval --json` and `results.csv` read alike.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SetAccuracy {
    pub images: usize,
    /// Mean cross-entropy of the two heads.
    pub loss: f64,
    /// First (upper) digit right.
    pub test_accuracy: f64,
    /// Second (lower) digit right.
    pub test_accuracy_second: f64,
    /// Both digits right.
    pub test_accuracy_both: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Set(#[from] mnist_train::eval::EvalError),
    #[error(
        "{}: the model is a {model}; two-digit sets need a two-headed model reading 42x28 images",
        dir.display()
    )]
    NotTwoDigit { dir: PathBuf, model: String },
}

/// The trained model in `model_dir` (`model.json` + `model.mpk`) on
/// `backend`, refused unless it reads 42×28 images with two heads.
pub fn load_two_digit_model(
    model_dir: &Path,
    backend: BackendKind,
) -> Result<Box<dyn Predictor>, EvalError> {
    let model = load_predictor(model_dir, backend)?;
    let config = model.config();
    if config.heads() != 2 || config.image_size() != (composer::HEIGHT, composer::WIDTH) {
        return Err(EvalError::NotTwoDigit {
            dir: model_dir.to_path_buf(),
            model: config.describe(),
        });
    }
    Ok(model)
}

/// Evaluates the trained model in `model_dir` (`model.json` + `model.mpk`)
/// on a two-digit `set` (read from `set_path`), on `backend`: the core's
/// `eval` with the two digits' accuracies named.
pub fn evaluate_set(
    model_dir: &Path,
    set: &Dataset,
    set_path: &Path,
    backend: BackendKind,
) -> Result<SetAccuracy, EvalError> {
    let model = load_two_digit_model(model_dir, backend)?;
    let result = score_set(model.as_ref(), set, set_path)?;
    Ok(SetAccuracy {
        images: result.images,
        loss: result.loss,
        // The model was checked to have two heads, and the set to match it.
        test_accuracy: result.accuracy[0],
        test_accuracy_second: result.accuracy[1],
        test_accuracy_both: result.accuracy_all_heads,
    })
}

/// The label columns of `predict --csv`: the first (upper) digit and the
/// second (lower).
pub const LABEL_COLUMNS: [&str; 2] = ["First", "Second"];

#[derive(Debug, thiserror::Error)]
pub enum PredictFilesError {
    #[error(transparent)]
    Model(#[from] EvalError),
    #[error(transparent)]
    Predict(#[from] PredictError),
}

/// Predicts both digits of every image in `args.files` (image files, IDX
/// n×42×28 or CSV) with the two-digit model in `model_dir`, on `backend`:
/// one line per image, or a CSV with [`LABEL_COLUMNS`].
pub fn predict_files(
    args: &PredictArgs,
    model_dir: &Path,
    backend: BackendKind,
) -> Result<(), PredictFilesError> {
    let model = load_two_digit_model(model_dir, backend)?;
    Ok(predict_with(args, model.as_ref(), &LABEL_COLUMNS)?)
}

/// A picture of the first `count` images of `set` with their labels
/// (first, second): what the networks are asked to read.
pub fn samples_png(path: &Path, set: &Dataset, count: usize) -> mnist_report::Result<()> {
    let items: Vec<GalleryItem> = (0..count.min(set.len()))
        .map(|i| GalleryItem {
            pixels: set.images.image(i),
            height: set.images.height,
            width: set.images.width,
            truth: Some(set.labels.of(i).to_vec()),
            predicted: Vec::new(),
        })
        .collect();
    gallery(
        path,
        &items,
        12,
        "Two-digit training images and their labels (first, second)",
    )
}
