//! `two-digit`: part 4 of the course. Trains a two-headed network on 42×28
//! images of two digits (the default command), evaluates a trained model on
//! any two-digit set, and times the training step against PyTorch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use mnist_data::Mnist;
use mnist_train::backend::{BackendKind, BackendTask, run_on};
use mnist_train::bench::{
    LayerTime, StepTimes, cnn_layer_times, layer_table, time_steps_in_rounds,
};
use mnist_train::cli::TrainArgs;
use mnist_train::inference::find_model;
use mnist_train::model::ModelConfig;
use mnist_train::model::TrainBackend;
use mnist_train::run::{RunSpec, Splits, run};
use two_digit::{Model, SetAccuracy};

#[derive(Parser)]
#[command(
    version,
    about = "Part 4: two digits in one 42x28 image, read by two-headed networks",
    long_about = "Part 4: two digits in one 42x28 image, read by two-headed networks.\n\n\
        With no command, trains the two-headed CNN (conv 32@3x3, pool, conv 64@3x3, pool, \
        linear 128, dropout 0.5, two heads of 10; --model mlp for the MLP 1176-64-64 with two \
        heads) with SGD lr 0.01, momentum 0.9, batch 64 for 30 epochs on 36,000 composed \
        images (4,000 validate), evaluates the model after the last epoch on 4,000 test images and \
        writes reports/two-digit/<model>/.",
    after_help = "Examples:\n  \
        cargo run --release -p two-digit                      train the CNN (reports/two-digit/cnn)\n  \
        cargo run --release -p two-digit -- --model mlp       train the MLP\n  \
        cargo run --release -p two-digit -- --quick           a smoke run (target/runs/two-digit)\n  \
        cargo run --release -p mnist-data -- compose --out /tmp/two\n  \
        cargo run --release -p two-digit -- eval --data /tmp/two --json\n  \
        cargo run --release -p two-digit -- bench",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: Train,
}

#[derive(Subcommand)]
enum Command {
    /// Train a two-headed model and write its report (the default command).
    Train(Train),
    /// Evaluate a trained model on a two-digit set stored as IDX files.
    Eval(Eval),
    /// Time the training step of both models against PyTorch's epoch.
    Bench(Bench),
}

#[derive(Args)]
struct Train {
    /// The network to train.
    #[arg(long, value_enum, default_value = "cnn")]
    model: Model,
    /// Name of the run: its folder in the reports folder, its row in
    /// results.csv (default: the model's name).
    #[arg(long, value_parser = mnist_train::cli::run_name)]
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
    /// The trained model: a run's checkpoint folder (model.json and model.mpk) or
    /// the run's folder.
    #[arg(long, value_name = "DIR", default_value_os_t = two_digit::committed_model_dir())]
    model: PathBuf,
    /// Print one JSON object (images, loss, test_accuracy, test_accuracy_second,
    /// test_accuracy_both) instead of text.
    #[arg(long)]
    json: bool,
    /// Backend to evaluate on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
}

#[derive(Args)]
struct Bench {
    /// Backends to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "flex")]
    backend: Vec<BackendKind>,
    /// Models to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "cnn,mlp")]
    models: Vec<Model>,
    /// Timed steps per measurement.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Rounds of measurements, taken in turn; the table gives medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => train(cli.train),
        Some(Command::Train(args)) => train(args),
        Some(Command::Eval(args)) => eval(args),
        Some(Command::Bench(args)) => bench(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn train(Train { model, run, args }: Train) -> Result<(), String> {
    let mnist = Mnist::load_default().map_err(text)?;
    let (train_limit, eval_limit) = args.limits();
    let data = two_digit::splits(&mnist, args.seed).limit(train_limit, eval_limit);
    let part_dir = args.reports_dir(two_digit::PART);
    let run = run.unwrap_or_else(|| model.name().to_string());
    let spec = two_digit::spec(
        part_dir.clone(),
        model,
        run,
        args.backend,
        args.training_config(two_digit::training()),
        args.resume,
    );
    let samples = part_dir.join("samples.png");
    std::fs::create_dir_all(&part_dir)
        .map_err(|e| format!("cannot create {}: {e}", part_dir.display()))?;
    two_digit::samples_png(&samples, &data.train, 36).map_err(text)?;
    run_on(
        args.backend,
        TrainTask {
            spec: &spec,
            data: &data,
        },
    )
    .map_err(text)?
}

struct TrainTask<'a> {
    spec: &'a RunSpec,
    data: &'a Splits,
}

impl BackendTask for TrainTask<'_> {
    type Output = Result<(), String>;

    fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
        let Self { spec, data } = self;
        let t = &spec.training;
        println!(
            "{}, {} epoch{} on {backend}: SGD lr {}, momentum {}, batch {}, seed {}",
            spec.model.describe(),
            t.epochs,
            if t.epochs == 1 { "" } else { "s" },
            t.optimizer.learning_rate(),
            t.optimizer.momentum(),
            t.batch_size,
            t.seed
        );
        println!(
            "{} training, {} validation, {} test images of 42x28; report in {}",
            data.train.len(),
            data.validation.len(),
            data.test.len(),
            spec.dir().display()
        );
        let outcome = run::<B>(spec, data, &device, backend).map_err(text)?;
        match &outcome.test {
            None => println!("The run diverged: no test evaluation (try a lower --learning-rate)."),
            Some(test) => println!(
                "Test: first digit {:.2} %, second {:.2} %, both {:.2} %",
                100.0 * test.accuracy[0],
                100.0 * test.accuracy[1],
                100.0 * test.accuracy_all_heads
            ),
        }
        println!(
            "Report: {} ({:.0} s)",
            outcome.report_dir.display(),
            outcome.wall_seconds
        );
        Ok(())
    }
}

fn eval(mut args: Eval) -> Result<(), String> {
    // A run's folder will do as well as its checkpoint folder.
    let Some(model) = find_model(&args.model) else {
        return Err(format!(
            "--model: no trained model in {} (it needs model.json and model.mpk): train one \
             with `cargo run --release -p two-digit`, or give a run's checkpoint folder",
            args.model.display()
        ));
    };
    args.model = model;
    let set = mnist_data::two_digit::load(&args.data).map_err(text)?;
    if set.is_empty() {
        return Err(format!("{}: the set has no images", args.data.display()));
    }
    let accuracy = run_on(args.backend, EvalTask { args: &args, set })
        .map_err(text)?
        .map_err(text)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&accuracy).map_err(|e| format!("JSON: {e}"))?
        );
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

struct EvalTask<'a> {
    args: &'a Eval,
    set: mnist_data::Dataset,
}

impl BackendTask for EvalTask<'_> {
    type Output = Result<SetAccuracy, two_digit::EvalError>;

    fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
        two_digit::evaluate_set::<B::InnerBackend>(&self.args.model, &self.set, &device)
    }
}

fn bench(args: Bench) -> Result<(), String> {
    let mnist = Mnist::load_default().map_err(text)?;
    let data = two_digit::splits(&mnist, 1);
    let batch_size = two_digit::training().batch_size;
    let steps = args.steps as usize;
    if batch_size.saturating_mul(steps) > data.train.len() {
        return Err(format!(
            "--steps {steps} need {} images; the training set has {}",
            batch_size.saturating_mul(steps),
            data.train.len()
        ));
    }
    let epoch_steps = data.train.len() / batch_size;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "Two-digit models, batch {batch_size}: {steps} timed steps per measurement, medians of \
         {} rounds taken in turn; an epoch is {epoch_steps} steps ({} images); CPU threads: \
         {threads}.",
        args.rounds,
        data.train.len()
    );
    println!(
        "\n{:<8} {:<6} {:>12} {:>13} {:>9} {:>8} {:>10} {:>9}",
        "backend",
        "model",
        "raw step ms",
        "loop step ms",
        "loop/raw",
        "epoch s",
        "PyTorch s",
        "vs torch"
    );
    for &backend in &args.backend {
        let task = BenchTask {
            args: &args,
            data: &data.train,
            batch_size,
        };
        let result = run_on(backend, task).map_err(text)?;
        for (model, times) in result.steps {
            let epoch = times.loop_ms * epoch_steps as f64 / 1e3;
            let torch = model.pytorch_epoch_seconds();
            println!(
                "{:<8} {:<6} {:>12.2} {:>13.2} {:>8.2}x {:>8.2} {:>10.2} {:>8.2}x",
                backend.name(),
                model.name(),
                times.raw_ms,
                times.loop_ms,
                times.loop_ms / times.raw_ms,
                epoch,
                torch,
                epoch / torch
            );
        }
        if let Some(layers) = result.cnn_layers {
            println!(
                "\nThe CNN per layer on {} (ms; medians of {LAYER_REPEATS} runs; one head):",
                backend.name()
            );
            print!("{}", layer_table(&[("cnn", layers)]));
        }
    }
    println!(
        "\n(PyTorch s: its epoch as measured when Part 4 was specified; vs torch: our epoch / \
         that figure, below 1 is faster. The machine is noisy: for a paired figure, run \
         crates/two-digit/reference/two_digit_step.py alongside.)"
    );
    Ok(())
}

const LAYER_REPEATS: usize = 20;

struct BenchResult {
    steps: Vec<(Model, StepTimes)>,
    cnn_layers: Option<Vec<LayerTime>>,
}

struct BenchTask<'a> {
    args: &'a Bench,
    data: &'a mnist_data::Dataset,
    batch_size: usize,
}

impl BackendTask for BenchTask<'_> {
    type Output = BenchResult;

    fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
        // The models as training builds them on this backend.
        let models = &self.args.models;
        let configs: Vec<ModelConfig> = models
            .iter()
            .map(|m| m.config().with_fastest_conv(backend))
            .collect();
        let times = time_steps_in_rounds::<B>(
            &configs,
            self.data,
            self.batch_size,
            self.args.steps as usize,
            self.args.rounds as usize,
            &device,
        );
        let steps = models.iter().copied().zip(times).collect();
        let cnn_layers = match Model::Cnn.config().with_fastest_conv(backend) {
            ModelConfig::Cnn(config) if models.contains(&Model::Cnn) => Some(cnn_layer_times::<B>(
                &config,
                self.data,
                self.batch_size,
                LAYER_REPEATS,
                &device,
            )),
            _ => None,
        };
        BenchResult { steps, cnn_layers }
    }
}
