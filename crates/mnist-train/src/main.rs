//! `mnist-train`: the training core's own tool. Trains the course's MLP or
//! CNN on MNIST, predicts with a checkpoint, and benchmarks the train step.
//! The parts (`fc-tuning`, `cnn`, `two-digit`) have their own binaries.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mnist_data::Mnist;
use mnist_train::backend::{BackendKind, BackendTask, run_on};
use mnist_train::bench::time_steps;
use mnist_train::cli::TrainArgs;
use mnist_train::inference::{TrainedModel, load_images, write_predictions_csv};
use mnist_train::model::TrainBackend;
use mnist_train::model::{CnnConfig, MlpConfig, ModelConfig};
use mnist_train::run::{RunSpec, Splits, Tested, run};
use mnist_train::{OptimizerConfig, TrainingConfig};

#[derive(Parser)]
#[command(
    version,
    about = "The curriculum's training core: train, predict, benchmark"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model on MNIST (course split) and write its report.
    Train {
        #[arg(long, value_enum, default_value_t = ModelKind::Mlp)]
        model: ModelKind,
        /// Hidden layer widths of the MLP.
        #[arg(long, value_delimiter = ',', default_value = "128")]
        hidden: Vec<usize>,
        /// Name of the run (its folder under the reports folder).
        #[arg(long, default_value = "run")]
        run: String,
        #[command(flatten)]
        args: TrainArgs,
    },
    /// Predict digits with a trained model.
    Predict {
        /// The run's checkpoint folder (with model.json and model.mpk).
        #[arg(long)]
        checkpoint: PathBuf,
        /// Images: PNG/JPEG (one digit each), CSV, or IDX files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the predictions as CSV (ImageId,Label) to this file.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Add the ten probabilities to the CSV.
        #[arg(long)]
        probabilities: bool,
        #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
        backend: BackendKind,
    },
    /// Time the raw train step against the training loop's step.
    Bench {
        /// Backends to measure.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "flex")]
        backend: Vec<BackendKind>,
        #[arg(long, value_enum, value_delimiter = ',', default_value = "mlp,cnn")]
        model: Vec<ModelKind>,
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Timed steps per measurement.
        #[arg(long, default_value_t = 100)]
        steps: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelKind {
    /// 784-128-10 ReLU (hidden widths from --hidden).
    Mlp,
    /// The course CNN.
    Cnn,
}

fn model_config(kind: ModelKind, hidden: &[usize]) -> ModelConfig {
    match kind {
        ModelKind::Mlp => ModelConfig::Mlp(MlpConfig::new(hidden.to_vec())),
        ModelKind::Cnn => ModelConfig::Cnn(CnnConfig::new()),
    }
}

fn main() -> ExitCode {
    match run_cli(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_cli(cli: Cli) -> Result<(), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    match cli.command {
        Command::Train {
            model,
            hidden,
            run: run_name,
            args,
        } => {
            let mnist = Mnist::load_default().map_err(|e| text(&e))?;
            let (train_limit, eval_limit) = args.limits();
            let data =
                Splits::course(&mnist.train, mnist.test, args.seed).limit(train_limit, eval_limit);
            let defaults = TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, true));
            let spec = RunSpec {
                // Not a part of the course: its runs stay out of reports/.
                part_dir: args
                    .reports
                    .clone()
                    .unwrap_or_else(|| mnist_data::mnist::workspace_root().join("target/runs")),
                run: run_name,
                model: model_config(model, &hidden),
                training: args.training_config(defaults),
                resume: args.resume,
                verbose: true,
                extra: Vec::new(),
                tested: Tested::BestByValidation,
            };
            run_on(
                args.backend,
                TrainTask {
                    spec: &spec,
                    data: &data,
                },
            )
            .map_err(|e| text(&e))?
            .map_err(|e| text(&e))?;
        }
        Command::Predict {
            checkpoint,
            files,
            csv,
            probabilities,
            backend,
        } => {
            run_on(
                backend,
                PredictTask {
                    checkpoint,
                    files,
                    csv,
                    probabilities,
                },
            )
            .map_err(|e| text(&e))??;
        }
        Command::Bench {
            backend,
            model,
            batch_size,
            steps,
        } => {
            let mnist = Mnist::load_default().map_err(|e| text(&e))?;
            println!(
                "{:<8} {:<18} {:>5} {:>13} {:>14} {:>9}",
                "backend", "model", "batch", "raw step ms", "loop step ms", "loop/raw"
            );
            for &kind in &backend {
                for &m in &model {
                    let config = model_config(m, &[128]);
                    let task = BenchTask {
                        config: &config,
                        data: &mnist.train,
                        batch_size,
                        steps,
                    };
                    let times = run_on(kind, task).map_err(|e| text(&e))?;
                    println!(
                        "{:<8} {:<18} {:>5} {:>13.2} {:>14.2} {:>8.2}x",
                        kind.name(),
                        config.describe(),
                        batch_size,
                        times.raw_ms,
                        times.loop_ms,
                        times.loop_ms / times.raw_ms
                    );
                }
            }
        }
    }
    Ok(())
}

struct TrainTask<'a> {
    spec: &'a RunSpec,
    data: &'a Splits,
}

impl BackendTask for TrainTask<'_> {
    type Output = Result<(), mnist_train::run::RunError>;
    fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
        let outcome = run::<B>(self.spec, self.data, &device, backend)?;
        println!("Report: {}", outcome.report_dir.display());
        Ok(())
    }
}

struct PredictTask {
    checkpoint: PathBuf,
    files: Vec<PathBuf>,
    csv: Option<PathBuf>,
    probabilities: bool,
}

impl BackendTask for PredictTask {
    type Output = Result<(), String>;
    fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
        let model = TrainedModel::<B::InnerBackend>::load(&self.checkpoint, &device)
            .map_err(|e| e.to_string())?;
        let (height, width) = model.config.image_size();
        let mut all = mnist_data::Images::new(0, height, width, Vec::new());
        for file in &self.files {
            let images = load_images(file, height, width).map_err(|e| e.to_string())?;
            all.count += images.count;
            all.pixels.extend(images.pixels);
        }
        let predictions = model.predict(&all, &device);
        match &self.csv {
            Some(path) => {
                write_predictions_csv(path, &predictions, self.probabilities)
                    .map_err(|e| e.to_string())?;
                println!("wrote {} predictions to {}", all.count, path.display());
            }
            None => {
                for i in 0..all.count {
                    let labels: Vec<String> =
                        predictions.labels.of(i).iter().map(u8::to_string).collect();
                    let confidence =
                        predictions.probabilities(i, 0)[usize::from(predictions.labels.of(i)[0])];
                    println!("{}\t{}\t(p = {confidence:.3})", i + 1, labels.join(" "));
                }
            }
        }
        Ok(())
    }
}

struct BenchTask<'a> {
    config: &'a ModelConfig,
    data: &'a mnist_data::Dataset,
    batch_size: usize,
    steps: usize,
}

impl BackendTask for BenchTask<'_> {
    type Output = mnist_train::bench::StepTimes;
    fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
        time_steps::<B>(self.config, self.data, self.batch_size, self.steps, &device)
    }
}
