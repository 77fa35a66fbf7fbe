//! `mnist-train`: the training core's own tool. Trains the course's MLP or
//! CNN on MNIST, predicts with a checkpoint, and times the train step. The
//! parts (`fc-tuning`, `cnn`, `two-digit`) have their own binaries.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mnist_data::Mnist;
use mnist_models::models::{CnnConfig, MlpConfig, ModelConfig};
use mnist_models::{OptimizerConfig, TrainingConfig};
use mnist_report::paths::smoke_reports_dir;
use mnist_train::backend::BackendKind;
use mnist_train::bench::{BenchArgs, StepBench};
use mnist_train::cli::{TrainArgs, run_name};
use mnist_train::predict::{PredictArgs, predict};
use mnist_train::run::{RunSpec, Splits, Tested, run};

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
        #[arg(long, value_delimiter = ',', default_value = "128", value_parser = clap::value_parser!(u64).range(1..))]
        hidden: Vec<u64>,
        /// Name of the run (its folder under the reports folder).
        #[arg(long, default_value = "run", value_parser = run_name)]
        run: String,
        #[command(flatten)]
        args: TrainArgs,
    },
    /// Predict digits with a trained model.
    Predict {
        /// The run's checkpoint folder (with model.json and model.mpk).
        #[arg(long)]
        checkpoint: PathBuf,
        #[command(flatten)]
        args: PredictArgs,
        /// Backend to predict on.
        #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
        backend: BackendKind,
    },
    /// Time the raw train step against the training loop's step.
    Bench {
        #[command(flatten)]
        timing: BenchArgs,
        #[arg(long, value_enum, value_delimiter = ',', default_value = "mlp,cnn")]
        model: Vec<ModelKind>,
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
        batch_size: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelKind {
    /// 784-128-10 ReLU (hidden widths from --hidden).
    Mlp,
    /// The course CNN.
    Cnn,
}

fn model_config(kind: ModelKind, hidden: &[u64]) -> ModelConfig {
    match kind {
        ModelKind::Mlp => {
            ModelConfig::Mlp(MlpConfig::new(hidden.iter().map(|&h| h as usize).collect()))
        }
        ModelKind::Cnn => ModelConfig::Cnn(CnnConfig::new()),
    }
}

fn main() -> ExitCode {
    mnist_report::cli::run(|cli: Cli| match cli.command {
        Command::Train {
            model,
            hidden,
            run: name,
            args,
        } => train(model_config(model, &hidden), name, args),
        Command::Predict {
            checkpoint,
            args,
            backend,
        } => Ok(predict(&args, &checkpoint, backend)?),
        Command::Bench {
            timing,
            model,
            batch_size,
        } => bench(&timing, &model, batch_size),
    })
}

fn train(model: ModelConfig, run_name: String, args: TrainArgs) -> anyhow::Result<()> {
    let training = args.training_config(TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, true)));
    let mnist = args.part.load_mnist()?;
    let recorded_data = args.part.data_record(&mnist);
    let data = Splits::course(&mnist.train, mnist.test, training.seed).limit_to(&args.part);
    // Not a part of the course: its runs stay out of reports/.
    let part_dir = (args.part.reports.clone()).unwrap_or_else(|| smoke_reports_dir("mnist-train"));
    let spec = RunSpec {
        start: args.start(),
        data: recorded_data,
        ..RunSpec::new(
            part_dir,
            run_name,
            model,
            training,
            Tested::BestByValidation,
        )
    };
    run(&spec, &data, args.backend)?;
    Ok(())
}

fn bench(timing: &BenchArgs, models: &[ModelKind], batch_size: u64) -> anyhow::Result<()> {
    let mnist = Mnist::load_default()?;
    let models = models
        .iter()
        .map(|&kind| {
            let config = model_config(kind, &[128]);
            (config.describe(), config)
        })
        .collect();
    StepBench {
        title: "The course's models".into(),
        models,
        conv_per_backend: true,
        data: &mnist.train,
        batch_size: batch_size as usize,
        epoch_images: mnist.train.len() * 9 / 10,
        pytorch_script: "crates/cnn/reference/course_cnn.py",
    }
    .print(timing)?;
    Ok(())
}
