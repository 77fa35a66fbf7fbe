//! Part 3 of the course: the convolutional network.
//!
//! The training core (`mnist-train`) does the work; this part is the
//! course's configuration ([`model`], [`training`], [`spec`]), its
//! command line (`src/main.rs`: train, predict, eval, bench), and what the
//! part adds to the core's report: the test accuracy of each digit
//! ([`per_class_report`]: `per-class.md` and `per-class.png`). The page to
//! draw digits on for the trained model is the `draw` crate.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mnist_models::models::{CnnConfig, ConvMethod, ModelConfig};
use mnist_models::{OptimizerConfig, TrainingConfig};
use mnist_report::{CLASSES, ConfusionMatrix, ReportError};
use mnist_train::cli::Part;
use mnist_train::run::{RunSpec, Start, Tested};

pub use mnist_train::inference::has_model;

/// This part, for the command-line options the core shares.
#[derive(Clone, Debug)]
pub struct Part3;

impl Part for Part3 {
    const NAME: &'static str = PART;
    const COMMITTED_RUN: &'static str = RUN;
}

/// The part's folder under `reports/`.
pub const PART: &str = "cnn";
/// The course run's name: its folder under `reports/cnn/` and its row in
/// `results.csv`. Its trained model is committed, for prediction.
pub const RUN: &str = "cnn";

/// The course CNN, exactly: conv 32@3×3 → ReLU → max-pool 2 → conv 64@3×3 →
/// ReLU → max-pool 2 → flatten (1,600) → linear 128 → dropout 0.5 → linear 10.
pub fn model() -> ModelConfig {
    ModelConfig::Cnn(cnn_config())
}

/// [`model`]'s configuration.
pub fn cnn_config() -> CnnConfig {
    CnnConfig::new().with_dropout(0.5)
}

/// The course's training: SGD, learning rate 0.01, momentum 0.9, Nesterov,
/// batches of 32, 10 epochs, seed 1.
pub fn training() -> TrainingConfig {
    TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, true))
        .with_epochs(10)
        .with_batch_size(32)
        .with_seed(1)
}

/// A run of the course CNN with `training`, reported in `part_dir/run`;
/// its convolutions computed by `conv`, or as the backend computes them
/// fastest.
pub fn spec(
    part_dir: PathBuf,
    run: String,
    conv: Option<ConvMethod>,
    training: TrainingConfig,
    start: Start,
) -> RunSpec {
    // As the course does: the model after the last epoch is tested.
    RunSpec {
        start,
        conv,
        ..RunSpec::new(part_dir, run, model(), training, Tested::Last)
    }
}

/// What `cnn --help` says the default command does, from the configuration
/// itself.
pub fn about() -> String {
    format!(
        "Part 3: the course's convolutional network on MNIST.\n\n\
         With no command, trains the course CNN (conv 32@3x3, pool, conv 64@3x3, pool, \
         linear 128, dropout {}, linear 10) with {} on the course split, tests the model \
         after the last epoch and writes reports/{PART}/{RUN}/.",
        cnn_config().dropout,
        training().describe()
    )
}

/// `reports/cnn` in this workspace.
pub fn reports_dir() -> PathBuf {
    mnist_report::paths::committed_reports_dir(PART)
}

/// Where `predict` finds the model unless told: the course run's
/// checkpoints, `reports/cnn/cnn/checkpoints` (committed).
pub fn committed_model_dir() -> PathBuf {
    Part3::committed_model_dir()
}

/// Per-class accuracy of the tested model, from its test-set confusion
/// `matrix` (the core's run computes it): writes `per-class.md` (a table)
/// and `per-class.png` (the accuracies as one row of cells) into `run_dir`,
/// and says which digit is weakest.
pub fn per_class_report(
    matrix: &ConfusionMatrix,
    run_dir: &Path,
    run: &str,
) -> Result<(), ReportError> {
    write_per_class(matrix, run_dir, run)?;
    if let Some((digit, accuracy)) = weakest_digit(matrix) {
        println!(
            "Per-digit test accuracy in per-class.md; the weakest digit is {digit} ({:.2} %)",
            100.0 * accuracy
        );
    }
    Ok(())
}

fn write_per_class(matrix: &ConfusionMatrix, run_dir: &Path, run: &str) -> Result<(), ReportError> {
    mnist_data::files::write_bytes_atomically(
        &run_dir.join("per-class.md"),
        per_class_markdown(run, matrix).as_bytes(),
    )?;
    let digits: Vec<String> = (0..CLASSES).map(|d| d.to_string()).collect();
    let percent: Vec<f64> = matrix
        .per_class_accuracy()
        .iter()
        .map(|a| a.map_or(f64::NAN, |a| 100.0 * a))
        .collect();
    mnist_report::plot::heatmap(
        &run_dir.join("per-class.png"),
        &format!("{run}: test accuracy per digit (%)"),
        "digit",
        &digits,
        "",
        &["accuracy %".to_string()],
        &[percent],
    )?;
    Ok(())
}

/// The per-class table: digit, test accuracy, images, mistakes, and the
/// digit it is most often taken for.
pub fn per_class_markdown(run: &str, matrix: &ConfusionMatrix) -> String {
    let mut md = format!(
        "# Test accuracy per digit: `{run}`\n\n\
         The model after the last epoch (as the course tests it) on {} test images: \
         {:.2} % right overall.\n\n\
         | digit | test accuracy | images | wrong | most often taken for |\n\
         |---|---|---|---|---|\n",
        matrix.total(),
        100.0 * matrix.accuracy()
    );
    for (digit, accuracy) in matrix.per_class_accuracy().iter().enumerate() {
        let images: u64 = (0..CLASSES).map(|p| matrix.count(digit, p)).sum();
        let wrong = images - matrix.count(digit, digit);
        let accuracy = accuracy.map_or("–".to_string(), |a| format!("{:.2} %", 100.0 * a));
        let confused = (0..CLASSES)
            .filter(|&p| p != digit && matrix.count(digit, p) > 0)
            .max_by_key(|&p| (matrix.count(digit, p), std::cmp::Reverse(p)))
            .map_or("–".to_string(), |p| {
                format!("{p} ({}×)", matrix.count(digit, p))
            });
        let _ = writeln!(
            md,
            "| {digit} | {accuracy} | {images} | {wrong} | {confused} |"
        );
    }
    md
}

/// The digit with the lowest test accuracy, and that accuracy.
pub fn weakest_digit(matrix: &ConfusionMatrix) -> Option<(usize, f64)> {
    matrix
        .per_class_accuracy()
        .iter()
        .enumerate()
        .filter_map(|(d, a)| a.map(|a| (d, a)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}
