//! Sweeps that survive: each configuration is one run of the training core;
//! a configuration already completed (same settings) in `results.csv` is
//! skipped, a diverged one is recorded and the sweep goes on, an interrupted
//! one resumes from its last checkpoint, and a failing one is reported at the
//! end without stopping the others.

use std::path::PathBuf;

use mnist_data::{Dataset, Mnist};
use mnist_report::{PartReport, ResultRow, RunStatus};
use mnist_train::BackendKind;
use mnist_train::checkpoint::CheckpointError;
use mnist_train::run::{RunError, RunOutcome, RunSpec, Splits, Start, Tested, run};
use mnist_train::train::TrainError;

use crate::studies::{FcConfig, Protocol};

/// The data every protocol needs.
#[derive(Clone, Debug)]
pub struct StudyData {
    /// The course split (54,000 / 6,000) and the test set.
    pub course: Splits,
    /// MLP-for-MNIST's protocol: all training images (60,000) train, and the
    /// test set is both the per-epoch check and the test.
    pub tested_each_epoch: Splits,
}

impl StudyData {
    /// MNIST, split with `seed`; at most `train` training images and `eval`
    /// validation and test images each.
    pub fn new(mnist: &Mnist, seed: u64, train: usize, eval: usize) -> Self {
        let course = Splits::course(&mnist.train, mnist.test.clone(), seed).limit(train, eval);
        let tested_each_epoch = Splits {
            train: mnist.train.take(train),
            validation: course.test.clone(),
            test: course.test.clone(),
        };
        Self {
            course,
            tested_each_epoch,
        }
    }

    pub fn test(&self) -> &Dataset {
        &self.course.test
    }
}

/// How a sweep runs.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// `reports/fc-tuning` (or another folder).
    pub part_dir: PathBuf,
    pub seed: u64,
    /// Overrides every configuration's epochs.
    pub epochs: Option<usize>,
    /// Run again even what `results.csv` records as completed.
    pub rerun: bool,
    /// Progress bars and the course's epoch lines.
    pub verbose: bool,
    /// Where the data came from when it is not the committed MNIST files
    /// (`--data`), recorded with each run.
    pub data: Option<String>,
}

/// What became of one configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Completed before with the same settings; not run again.
    Skipped {
        test_accuracy: Option<f64>,
    },
    Completed {
        val_accuracy: f64,
        test_accuracy: f64,
        wall_seconds: f64,
    },
    Diverged {
        epoch: usize,
    },
    /// An error (I/O, a bad setting); the sweep went on.
    Failed(String),
}

impl Outcome {
    /// The run's test accuracy (fraction), when it has one.
    pub fn test_accuracy(&self) -> Option<f64> {
        match self {
            Self::Skipped { test_accuracy } => *test_accuracy,
            Self::Completed { test_accuracy, .. } => Some(*test_accuracy),
            _ => None,
        }
    }
}

/// One configuration and its outcome.
#[derive(Clone, Debug)]
pub struct SweepRun {
    pub config: FcConfig,
    pub outcome: Outcome,
}

/// The configuration as the sweep runs it (epochs overridden).
pub fn effective(config: &FcConfig, options: &SweepOptions) -> FcConfig {
    let mut config = config.clone();
    if let Some(epochs) = options.epochs {
        config.epochs = epochs;
    }
    config
}

/// The run's spec in the training core's terms.
pub fn spec(config: &FcConfig, options: &SweepOptions, start: Start) -> RunSpec {
    RunSpec {
        part_dir: options.part_dir.clone(),
        run: config.name.clone(),
        model: config.model(),
        conv: None,
        training: config.training(options.seed),
        start,
        verbose: options.verbose,
        extra: config.extra_columns(),
        tested: match config.protocol {
            Protocol::Course => Tested::BestByValidation,
            Protocol::TestEachEpoch => Tested::Last,
        },
        data: options.data.clone(),
    }
}

/// True when `row` records this configuration as completed with the same
/// settings (model, seed, epochs, batch size, learning rate, momentum), so
/// the sweep can skip it.
pub fn is_done(row: &ResultRow, config: &FcConfig, seed: u64) -> bool {
    let same = |column: &str, value: f64| {
        row.get_f64(column)
            .is_some_and(|v| (v - value).abs() <= 1e-12 * value.abs().max(1.0))
    };
    row.run == config.name
        && row.is_completed()
        && row.get("model") == Some(config.model().describe().as_str())
        && same("seed", seed as f64)
        && same("epochs", config.epochs as f64)
        && same("batch_size", config.batch_size as f64)
        && same("learning_rate", config.learning_rate)
        && same("momentum", config.momentum)
}

/// Runs `configs` one after the other on `backend`.
pub fn run_sweep(
    configs: &[FcConfig],
    data: &StudyData,
    options: &SweepOptions,
    backend: BackendKind,
) -> Vec<SweepRun> {
    let report = PartReport::new(&options.part_dir);
    let mut runs = Vec::with_capacity(configs.len());
    for (i, config) in configs.iter().enumerate() {
        let config = effective(config, options);
        if options.verbose {
            println!(
                "\n=== [{}/{}] {}: {} ===",
                i + 1,
                configs.len(),
                config.name,
                config.describe()
            );
        }
        // Read before every run: another process may have finished it.
        let done = match report.results() {
            Ok(rows) => rows
                .into_iter()
                .find(|row| is_done(row, &config, options.seed)),
            Err(e) => {
                runs.push(SweepRun {
                    config,
                    outcome: Outcome::Failed(e.to_string()),
                });
                continue;
            }
        };
        if let (Some(row), false) = (done, options.rerun) {
            let test_accuracy = row.get_f64("test_accuracy");
            if options.verbose {
                println!(
                    "already completed in results.csv (test accuracy {}): skipped",
                    percent(test_accuracy)
                );
            }
            runs.push(SweepRun {
                config,
                outcome: Outcome::Skipped { test_accuracy },
            });
            continue;
        }
        let outcome = match run_one(&config, data, options, backend) {
            Ok(outcome) => match outcome.status {
                RunStatus::Diverged { epoch } => {
                    if options.verbose {
                        println!("{}: diverged in epoch {epoch}; recorded", config.name);
                    }
                    Outcome::Diverged { epoch }
                }
                RunStatus::Completed => Outcome::Completed {
                    val_accuracy: tested_val_accuracy(&outcome, config.protocol),
                    test_accuracy: outcome
                        .test
                        .as_ref()
                        .and_then(|t| t.accuracy.first().copied())
                        .unwrap_or(f64::NAN),
                    wall_seconds: outcome.wall_seconds,
                },
            },
            Err(e) => {
                if options.verbose {
                    eprintln!("{}: failed: {e}; going on", config.name);
                }
                Outcome::Failed(e.to_string())
            }
        };
        runs.push(SweepRun { config, outcome });
    }
    runs
}

/// The validation accuracy of the epoch that was tested, as `results.csv`
/// records it: the best epoch by validation (the first of equals) in the
/// course's protocol, the last epoch in MLP-for-MNIST's.
fn tested_val_accuracy(outcome: &RunOutcome, protocol: Protocol) -> f64 {
    let val = |e: &mnist_report::EpochMetrics| e.val_accuracy.first().copied();
    let tested = match protocol {
        Protocol::Course => outcome
            .history
            .iter()
            .fold(None, |best, e| match (best, val(e)) {
                (Some(b), Some(v)) if v > b => Some(v),
                (None, v) => v,
                (b, _) => b,
            }),
        Protocol::TestEachEpoch => outcome.history.last().and_then(val),
    };
    tested.unwrap_or(f64::NAN)
}

/// Runs one configuration, resuming its last checkpoint when there is one
/// made with the same settings (and starting afresh when it was made with
/// other settings).
fn run_one(
    config: &FcConfig,
    data: &StudyData,
    options: &SweepOptions,
    backend: BackendKind,
) -> Result<RunOutcome, RunError> {
    // A run completed with other settings is replaced: the sweep's table
    // is of the settings it sweeps now.
    let attempt = |start: Start| {
        let spec = spec(config, options, start);
        match config.protocol {
            Protocol::Course => run(&spec, &data.course, backend),
            Protocol::TestEachEpoch => run(&spec, &data.tested_each_epoch, backend),
        }
    };
    let saved = spec(config, options, Start::Resume)
        .checkpoints()
        .has_last();
    match attempt(if saved {
        Start::Resume
    } else {
        Start::Overwrite
    }) {
        Err(RunError::Train(TrainError::Checkpoint(
            CheckpointError::OtherConfiguration { .. } | CheckpointError::Incompatible { .. },
        ))) => {
            if options.verbose {
                println!(
                    "{}: its checkpoint was made with other settings; starting afresh",
                    config.name
                );
            }
            attempt(Start::Overwrite)
        }
        other => other,
    }
}

/// `97.64 %`, or `–`.
pub fn percent(fraction: Option<f64>) -> String {
    fraction
        .filter(|f| f.is_finite())
        .map_or("–".into(), |f| format!("{:.2} %", 100.0 * f))
}

/// The sweep's outcomes as a text table.
pub fn summary_table(runs: &[SweepRun]) -> String {
    let mut out = format!("{:<22} {:<34} {}\n", "run", "configuration", "outcome");
    for r in runs {
        let outcome = match &r.outcome {
            Outcome::Skipped { test_accuracy } => {
                format!("skipped (done: test {})", percent(*test_accuracy))
            }
            Outcome::Completed {
                val_accuracy,
                test_accuracy,
                wall_seconds,
            } => format!(
                "val {}  test {}  ({wall_seconds:.0} s)",
                percent(Some(*val_accuracy)),
                percent(Some(*test_accuracy))
            ),
            Outcome::Diverged { epoch } => format!("diverged in epoch {epoch}"),
            Outcome::Failed(message) => format!("FAILED: {message}"),
        };
        let settings = format!(
            "{} {} b{} lr{} m{}",
            r.config.layers(),
            r.config.activation_name(),
            r.config.batch_size,
            r.config.learning_rate,
            r.config.momentum
        );
        out.push_str(&format!(
            "{:<22} {:<34} {outcome}\n",
            r.config.name, settings
        ));
    }
    out
}
