//! `two-digit`: part 4 of the course. Trains a two-headed network on 42×28
//! images of two digits (the default command), evaluates a trained model on
//! any two-digit set, and times the training step.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use mnist_data::Mnist;
use mnist_train::bench::{BenchArgs, StepBench};
use mnist_train::cli::{ModelArgs, TrainArgs, run_name};
use mnist_train::predict::PredictArgs;
use mnist_train::run::{RunSpec, run};
use two_digit::{Model, Part4};

const EXAMPLES: &str = "Examples:
  cargo run --release -p two-digit                      train the CNN (reports/two-digit/cnn)
  cargo run --release -p two-digit -- --model mlp       train the MLP
  cargo run --release -p two-digit -- --quick           a smoke run (target/runs/two-digit)
  cargo run --release -p mnist-data -- compose --out /tmp/two
  cargo run --release -p two-digit -- eval --data /tmp/two --json
  cargo run --release -p two-digit -- predict datasets/two-digit-samples/*.jpg
  cargo run --release -p two-digit -- bench";

#[derive(Subcommand)]
enum Command {
    /// Train a two-headed model and write its report (the default command).
    Train(Train),
    /// Evaluate a trained model on a two-digit set stored as IDX files.
    Eval(Eval),
    /// Predict both digits in two-digit images: image files (42x28, or a
    /// larger picture of two digits one above the other), IDX (n×42×28) or
    /// CSV (42x28 pixels a row).
    Predict {
        #[command(flatten)]
        args: PredictArgs,
        #[command(flatten)]
        model: ModelArgs<Part4>,
    },
    /// Time the training step of both models.
    Bench(Bench),
}

#[derive(Args)]
struct Train {
    /// The network to train.
    #[arg(long, value_enum, default_value = "cnn")]
    model: Model,
    /// Name of the run: its folder in the reports folder, its row in
    /// results.csv (default: the model's name).
    #[arg(long, value_parser = run_name)]
    run: Option<String>,
    #[command(flatten)]
    args: TrainArgs,
}

#[derive(Args)]
struct Eval {
    /// The set: PREFIX-images-idx3-ubyte (n×42×28) and PREFIX-labels-idx2-ubyte
    /// (n×2), plain or gzip (.gz).
    #[arg(long, value_name = "PREFIX")]
    data: PathBuf,
    /// Print one JSON object (images, loss, test_accuracy, test_accuracy_second,
    /// test_accuracy_both) instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelArgs<Part4>,
}

#[derive(Args)]
struct Bench {
    #[command(flatten)]
    timing: BenchArgs,
    /// Models to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "cnn,mlp")]
    models: Vec<Model>,
}

fn main() -> ExitCode {
    mnist_report::cli::run_part(two_digit::PART, two_digit::about(), EXAMPLES, run_command)
}

/// The command given, or training.
fn run_command(command: Option<Command>, train: Train) -> anyhow::Result<()> {
    match command.unwrap_or(Command::Train(train)) {
        Command::Train(args) => train_model(args),
        Command::Eval(args) => eval(args),
        Command::Predict { args, model } => Ok(two_digit::predict_files(
            &args,
            &model.checkpoints()?,
            model.backend,
        )?),
        Command::Bench(args) => bench(args),
    }
}

/// The course: 40,000 composed two-digit images (36,000 train, 4,000
/// validate), the model trained for its epochs, the last epoch's model
/// tested on 4,000 more, and its report in reports/two-digit/<run>/.
fn train_model(
    Train {
        model,
        run: name,
        args,
    }: Train,
) -> anyhow::Result<()> {
    let training = args.training_config(two_digit::training());
    let mnist = args.part.load_mnist()?;
    let data = two_digit::splits(&mnist, training.seed).limit_to(&args.part);
    let part_dir = args.part.reports_dir(two_digit::PART);
    let name = name.unwrap_or_else(|| model.name().to_string());
    let spec = RunSpec {
        data: args.part.data_record(&mnist),
        ..two_digit::spec(part_dir.clone(), model, name, training, args.start())
    };
    let outcome = run(&spec, &data, args.backend)?;

    // What the networks were asked to read, beside the runs' reports.
    two_digit::samples_png(&part_dir.join("samples.png"), &data.train, 36)?;
    if let Some(test) = &outcome.test {
        println!(
            "Test: first digit {:.2} %, second {:.2} %, both {:.2} %",
            100.0 * test.accuracy[0],
            100.0 * test.accuracy[1],
            100.0 * test.accuracy_all_heads
        );
    }
    Ok(())
}

fn eval(args: Eval) -> anyhow::Result<()> {
    let model = args.model.checkpoints()?;
    let set = mnist_data::two_digit::load(&args.data)?;
    if set.is_empty() {
        bail!("{}: the set has no images", args.data.display());
    }
    let accuracy = two_digit::evaluate_set(&model, &set, &args.data, args.model.backend)?;
    if args.json {
        println!("{}", serde_json::to_string(&accuracy)?);
    } else {
        println!(
            "{}: {} images; first digit {:.2} %, second {:.2} %, both {:.2} %; loss {:.4}",
            args.data.display(),
            accuracy.images,
            100.0 * accuracy.test_accuracy,
            100.0 * accuracy.test_accuracy_second,
            100.0 * accuracy.test_accuracy_both,
            accuracy.loss
        );
    }
    Ok(())
}

fn bench(args: Bench) -> anyhow::Result<()> {
    let mnist = Mnist::load_default()?;
    let data = two_digit::splits(&mnist, two_digit::training().seed);
    let models = args
        .models
        .iter()
        .map(|m| (m.name().to_string(), m.config()))
        .collect();
    StepBench {
        title: "Two-digit models".into(),
        models,
        conv_per_backend: true,
        data: &data.train,
        batch_size: two_digit::training().batch_size,
        epoch_images: data.train.len(),
        pytorch_script: "crates/two-digit/reference/two_digit.py",
    }
    .print(&args.timing)?;
    Ok(())
}
