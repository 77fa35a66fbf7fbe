//! Command-line options every Burn part shares, flattened into each part's
//! own `clap` parser: the flags of every part ([`PartArgs`]) with the backend
//! and the optimiser's ([`TrainArgs`]), and the trained model a command uses
//! ([`ModelArgs`]).

use std::fmt::Debug;
use std::marker::PhantomData;
use std::path::PathBuf;

use clap::Args;
use mnist_report::cli::PartArgs;

use crate::backend::{BackendKind, DEVICE_HELP, parse_gpu_ordinal};
use crate::inference::{NoModel, model_dir};
use crate::run::Start;
use mnist_models::config::{OptimizerConfig, TrainingConfig};

/// What the shared options need to know of the part they serve.
pub trait Part: Clone + Debug + Send + Sync + 'static {
    /// The part's crate, and its folder under `reports/`.
    const NAME: &'static str;
    /// The run whose trained model is committed, for prediction.
    const COMMITTED_RUN: &'static str;

    /// Where commands find the part's trained model unless told:
    /// `reports/<part>/<run>/checkpoints`.
    fn committed_model_dir() -> PathBuf {
        mnist_report::paths::committed_reports_dir(Self::NAME)
            .join(Self::COMMITTED_RUN)
            .join("checkpoints")
    }
}

/// `--model` and `--backend`: the trained model a command uses, and where.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs<P: Part> {
    /// The trained model: a run's checkpoint folder (model.json and
    /// model.mpk), or the run's folder.
    #[arg(long, value_name = "DIR", default_value_os_t = P::committed_model_dir())]
    pub model: PathBuf,
    /// Backend to run the model on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    pub backend: BackendKind,
    #[arg(long, value_name = "N", value_parser = parse_gpu_ordinal, help = DEVICE_HELP)]
    pub device: Option<usize>,
    #[arg(skip)]
    part: PhantomData<P>,
}

impl<P: Part> ModelArgs<P> {
    /// The checkpoint folder `--model` names, or an error that says how to
    /// train one.
    pub fn checkpoints(&self) -> Result<PathBuf, NoModel> {
        model_dir(&self.model, &format!("cargo run --release -p {}", P::NAME))
    }
}

#[derive(Args, Clone, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub part: PartArgs,
    /// Backend to train on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    pub backend: BackendKind,
    #[arg(long, value_name = "N", value_parser = parse_gpu_ordinal, help = DEVICE_HELP)]
    pub device: Option<usize>,
    /// Images per batch (default: the part's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,
    /// Learning rate (default: the part's).
    #[arg(long, value_parser = positive)]
    pub learning_rate: Option<f64>,
    /// SGD momentum (default: the part's).
    #[arg(long, value_parser = fraction)]
    pub momentum: Option<f64>,
    /// Continue from the run's last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Replace a completed run of this name (its model, report and row in
    /// results.csv).
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
}

impl TrainArgs {
    /// How the run treats an earlier run of its name: `--resume`,
    /// `--overwrite`, or neither.
    pub fn start(&self) -> Start {
        match (self.resume, self.overwrite) {
            (true, _) => Start::Resume,
            (false, true) => Start::Overwrite,
            (false, false) => Start::Fresh,
        }
    }

    /// The part's defaults, overridden by whatever was given on the command line.
    pub fn training_config(&self, defaults: TrainingConfig) -> TrainingConfig {
        let optimizer = match defaults.optimizer {
            OptimizerConfig::Sgd {
                learning_rate,
                momentum,
                nesterov,
            } => OptimizerConfig::Sgd {
                learning_rate: self.learning_rate.unwrap_or(learning_rate),
                momentum: self.momentum.unwrap_or(momentum),
                nesterov,
            },
            OptimizerConfig::Adam { learning_rate } => OptimizerConfig::Adam {
                learning_rate: self.learning_rate.unwrap_or(learning_rate),
            },
        };
        TrainingConfig {
            optimizer,
            epochs: self.part.epochs_or(defaults.epochs),
            batch_size: self.batch_size.map_or(defaults.batch_size, |b| b as usize),
            seed: self.part.seed_or(defaults.seed),
        }
    }
}

/// `--run`'s parser: a run name is a folder name, one plain path component
/// (checked before training, not when the report is written at the end).
pub fn run_name(name: &str) -> Result<String, String> {
    mnist_report::report::validate_run_name(name)
        .map(|()| name.to_string())
        .map_err(|e| match e {
            mnist_report::ReportError::InvalidInput(why) => why,
            other => other.to_string(),
        })
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number in [0, 1)")),
    }
}
