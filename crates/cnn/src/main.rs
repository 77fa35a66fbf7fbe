//! `cnn`: part 3 of the course. Trains the course CNN (the default command),
//! predicts digits in your own files with the trained model, measures it on
//! a labelled set, and times the training step.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use cnn::Part3;
use mnist_data::Mnist;
use mnist_models::models::{ConvMethod, ModelConfig};
use mnist_train::bench::{BenchArgs, StepBench};
use mnist_train::cli::{ModelArgs, TrainArgs, run_name};
use mnist_train::eval::{EvalArgs, eval};
use mnist_train::predict::{PredictArgs, predict};
use mnist_train::run::{RunSpec, Splits, run};

const EXAMPLES: &str = "Examples:
  cargo run --release -p cnn                        train the course CNN (reports/cnn/)
  cargo run --release -p cnn -- --quick             a smoke run (report in target/runs/cnn/)
  cargo run --release -p cnn -- predict digit.png   predict with the committed model
  cargo run --release -p cnn -- predict test.csv --csv submission.csv
  cargo run --release -p cnn -- eval --data test-00000-of-00001.parquet
  cargo run --release -p cnn -- --data DIR          train on MNIST from DIR (e.g. Hugging Face's parquet)
  cargo run --release -p cnn -- bench";

#[derive(Subcommand)]
enum Command {
    /// Train the course CNN and write its report (the default command).
    Train(Train),
    /// Predict the digits in image, CSV, parquet or IDX files with a trained CNN.
    Predict {
        #[command(flatten)]
        args: PredictArgs,
        #[command(flatten)]
        model: ModelArgs<Part3>,
    },
    /// Measure a trained CNN's accuracy and loss on a labelled set (IDX,
    /// CSV with labels, or parquet).
    Eval {
        #[command(flatten)]
        args: EvalArgs,
        #[command(flatten)]
        model: ModelArgs<Part3>,
    },
    /// Time the CNN's raw training step against the training loop's step.
    Bench(Bench),
}

#[derive(Args)]
struct Train {
    /// Name of the run: its folder in the reports folder, its row in results.csv.
    #[arg(long, default_value = cnn::RUN, value_parser = run_name)]
    run: String,
    /// How to compute the conv blocks (the same model either way); by
    /// default the faster one on the backend: fused on flex and ndarray,
    /// layers on the others.
    #[arg(long, value_enum)]
    conv: Option<Conv>,
    #[command(flatten)]
    args: TrainArgs,
}

#[derive(Args)]
struct Bench {
    #[command(flatten)]
    timing: BenchArgs,
    /// Images per batch.
    #[arg(long, default_value_t = cnn::training().batch_size as u64, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Ways to compute the conv blocks to compare (the same model).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "fused,layers"
    )]
    conv: Vec<Conv>,
}

/// How the conv blocks are computed (`mnist_models::models::ConvMethod`).
#[derive(Clone, Copy, ValueEnum)]
enum Conv {
    /// Each block (convolution, ReLU, pooling) as one fused operation with
    /// its own backward pass (faster on flex and ndarray).
    Fused,
    /// Burn's Conv2d, ReLU and MaxPool2d layers.
    Layers,
}

impl Conv {
    fn method(self) -> ConvMethod {
        match self {
            Self::Fused => ConvMethod::Fused,
            Self::Layers => ConvMethod::Layers,
        }
    }
}

fn main() -> ExitCode {
    mnist_report::cli::run_part(cnn::PART, cnn::about(), EXAMPLES, run_command)
}

/// The command given, or training.
fn run_command(command: Option<Command>, train: Train) -> anyhow::Result<()> {
    match command.unwrap_or(Command::Train(train)) {
        Command::Train(args) => train_cnn(args),
        Command::Predict { args, model } => {
            Ok(predict(&args, &model.checkpoints()?, model.backend)?)
        }
        Command::Eval { args, model } => Ok(eval(&args, &model.checkpoints()?, model.backend)?),
        Command::Bench(args) => bench(args),
    }
}

/// The course: MNIST split 54,000 / 6,000, the CNN trained for its epochs,
/// the last epoch's model tested, and its report in reports/cnn/<run>/.
fn train_cnn(
    Train {
        run: name,
        conv,
        args,
    }: Train,
) -> anyhow::Result<()> {
    let training = args.training_config(cnn::training());
    let mnist = args.part.load_mnist()?;
    let recorded_data = args.part.data_record(&mnist);
    let data = Splits::course(&mnist.train, mnist.test, training.seed).limit_to(&args.part);
    let conv = conv.map(Conv::method);
    let part_dir = args.part.reports_dir(cnn::PART);
    let spec = RunSpec {
        data: recorded_data,
        ..cnn::spec(part_dir, name, conv, training, args.start())
    };

    let outcome = run(&spec, &data, args.backend)?;

    if let Some(confusion) = outcome.confusion.first() {
        cnn::per_class_report(confusion, &outcome.report_dir, &spec.run)?;
    }
    Ok(())
}

fn bench(args: Bench) -> anyhow::Result<()> {
    let mnist = Mnist::load_default()?;
    let models = args
        .conv
        .iter()
        .map(|conv| {
            let name = conv
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string());
            (
                name,
                ModelConfig::Cnn(cnn::cnn_config().with_conv(conv.method())),
            )
        })
        .collect();
    StepBench {
        title: "The course CNN".into(),
        models,
        conv_per_backend: false,
        data: &mnist.train,
        batch_size: args.batch_size as usize,
        epoch_images: mnist.train.len() * 9 / 10,
        pytorch_script: "crates/cnn/reference/course_cnn.py",
    }
    .print(&args.timing)?;
    Ok(())
}
