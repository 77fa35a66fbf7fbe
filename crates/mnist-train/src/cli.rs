//! Command-line options every Burn part shares, flattened into each part's
//! own `clap` parser.

use std::path::PathBuf;

use clap::Args;

use crate::backend::BackendKind;
use crate::config::{OptimizerConfig, TrainingConfig};

#[derive(Args, Clone, Debug)]
pub struct TrainArgs {
    /// Backend to train on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    pub backend: BackendKind,
    /// Epochs (default: the part's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: Option<u64>,
    /// Images per batch (default: the part's).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,
    /// Learning rate (default: the part's).
    #[arg(long, value_parser = positive)]
    pub learning_rate: Option<f64>,
    /// SGD momentum (default: the part's).
    #[arg(long, value_parser = fraction)]
    pub momentum: Option<f64>,
    /// Seed for the split, the shuffles, the initial weights and dropout.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Continue from the run's last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// A small smoke run: 3,000 training images, 500 validation and test images, one epoch.
    #[arg(long)]
    pub quick: bool,
    /// Train on at most this many images (validation and test stay whole).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Folder for reports and checkpoints (default: reports/<part>).
    #[arg(long)]
    pub reports: Option<PathBuf>,
}

impl TrainArgs {
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
        let epochs = if self.quick { 1 } else { defaults.epochs };
        TrainingConfig {
            optimizer,
            epochs: self.epochs.map_or(epochs, |e| e as usize),
            batch_size: self.batch_size.map_or(defaults.batch_size, |b| b as usize),
            seed: self.seed,
        }
    }

    /// (training images, evaluation images) limits implied by `--quick` and `--limit`.
    pub fn limits(&self) -> (usize, usize) {
        match (self.quick, self.limit) {
            (true, limit) => (limit.unwrap_or(3_000), 500),
            (false, Some(limit)) => (limit, usize::MAX),
            (false, None) => (usize::MAX, usize::MAX),
        }
    }

    /// Where the part's runs are reported: `--reports` if given; smoke runs
    /// (`--quick`, `--limit`) in `target/runs/<part>`, out of the committed
    /// reports; full runs in `reports/<part>`.
    pub fn reports_dir(&self, part: &str) -> PathBuf {
        match &self.reports {
            Some(dir) => dir.clone(),
            None if self.quick || self.limit.is_some() => smoke_reports_dir(part),
            None => committed_reports_dir(part),
        }
    }
}

/// `reports/<part>` in this workspace: the committed full runs.
pub fn committed_reports_dir(part: &str) -> PathBuf {
    mnist_data::mnist::workspace_root()
        .join("reports")
        .join(part)
}

/// `target/runs/<part>` in this workspace: smoke runs.
pub fn smoke_reports_dir(part: &str) -> PathBuf {
    mnist_data::mnist::workspace_root()
        .join("target")
        .join("runs")
        .join(part)
}

/// `--run`'s parser: a run name is a folder name, one plain path component
/// (checked before training, not when the report is written at the end).
pub fn run_name(name: &str) -> Result<String, String> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control);
    if plain {
        Ok(name.to_string())
    } else {
        Err(format!("{name:?} is not a plain folder name"))
    }
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
