//! `cnn`: part 3 of the course. Trains the course CNN (the default command),
//! predicts digits in your own files with the trained model, serves a page
//! to draw digits on for it, and times the training step and the page's
//! requests.

mod bench_serve;

use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use cnn::serve::DigitModel;
use mnist_data::{Images, Mnist};
use mnist_train::backend::{BackendKind, BackendTask, run_on};
use mnist_train::bench::{
    LayerTime, StepTimes, cnn_layer_times, layer_table, time_steps_in_rounds,
};
use mnist_train::cli::TrainArgs;
use mnist_train::inference::{TrainedModel, find_model, load_images, write_predictions_csv};
use mnist_train::model::TrainBackend;
use mnist_train::model::{ConvMethod, ModelConfig};
use mnist_train::run::{RunSpec, Splits, run};

#[derive(Parser)]
#[command(
    version,
    about = "Part 3: the course's convolutional network on MNIST",
    long_about = "Part 3: the course's convolutional network on MNIST.\n\n\
        With no command, trains the course CNN (conv 32@3x3, pool, conv 64@3x3, pool, \
        linear 128, dropout 0.5, linear 10; SGD lr 0.01, momentum 0.9, Nesterov, batch 32, \
        10 epochs) on the course split, evaluates the model after the last epoch on the test set and \
        writes reports/cnn/cnn/.",
    after_help = "Examples:\n  \
        cargo run --release -p cnn                        train the course CNN (reports/cnn/)\n  \
        cargo run --release -p cnn -- --quick             a smoke run (report in target/runs/cnn/)\n  \
        cargo run --release -p cnn -- predict digit.png   predict with the committed model\n  \
        cargo run --release -p cnn -- predict test.csv --csv submission.csv\n  \
        cargo run --release -p cnn -- serve               draw digits at http://127.0.0.1:8000/\n  \
        cargo run --release -p cnn -- bench\n  \
        cargo run --release -p cnn -- bench-serve         time the drawing page's requests",
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
    /// Train the course CNN and write its report (the default command).
    Train(Train),
    /// Predict the digits in PNG, CSV or IDX files with a trained CNN.
    Predict(Predict),
    /// Serve a page to draw digits on, read live by a trained CNN.
    Serve(Serve),
    /// Time the CNN's raw training step against the training loop's step.
    Bench(Bench),
    /// Time the drawing page's requests: preprocessing and inference, in
    /// process and over HTTP.
    BenchServe(BenchServe),
}

#[derive(Args)]
struct Train {
    /// Name of the run: its folder in the reports folder, its row in results.csv.
    #[arg(long, default_value = cnn::RUN, value_parser = mnist_train::cli::run_name)]
    run: String,
    /// How to compute the convolutions (the same model either way); by
    /// default the faster one on the backend: matmul on flex and ndarray,
    /// burn on the others.
    #[arg(long, value_enum)]
    conv: Option<Conv>,
    #[command(flatten)]
    args: TrainArgs,
}

#[derive(Args)]
struct Predict {
    /// Images: PNG/JPEG/BMP/GIF (one digit each, either polarity), CSV (Kaggle's
    /// layout, with or without labels) or IDX (plain or .gz).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write the predictions to this CSV file, in Kaggle's submission format
    /// (ImageId,Label; ids count from 1 across all files).
    #[arg(long, value_name = "OUT")]
    csv: Option<PathBuf>,
    /// Also give each image's ten probabilities (columns p0..p9 in the CSV).
    #[arg(long)]
    probabilities: bool,
    #[command(flatten)]
    model: ModelChoice,
}

/// The trained model to predict with, and where.
#[derive(Args)]
struct ModelChoice {
    /// The trained model: a run's checkpoint folder (model.json and model.mpk).
    #[arg(long, value_name = "DIR", default_value_os_t = cnn::committed_model_dir())]
    model: PathBuf,
    /// Backend to predict on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
}

#[derive(Args)]
struct Serve {
    /// Address to listen on. The default is this machine only; 0.0.0.0 lets
    /// anyone on the network draw.
    #[arg(long, alias = "bind", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on; 0 picks a free one (the URL printed tells which).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    #[command(flatten)]
    model: ModelChoice,
}

#[derive(Args)]
struct BenchServe {
    /// Drawings to time (MNIST test digits, drawn as the page sends them).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    requests: u64,
    #[command(flatten)]
    model: ModelChoice,
}

#[derive(Args)]
struct Bench {
    /// Backends to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "flex")]
    backend: Vec<BackendKind>,
    /// Images per batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Timed steps per measurement.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Ways to compute the convolutions to compare (the same model).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "matmul,burn")]
    conv: Vec<Conv>,
    /// Rounds of measurements, taken in turn; the table gives medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    rounds: u64,
}

/// How the convolutions are computed (`mnist_train::model::ConvMethod`).
#[derive(Clone, Copy, ValueEnum)]
enum Conv {
    /// Each convolution, pooling and ReLU as one operation: a matrix
    /// product over 3x3 patches, or on flex its own kernels (faster on flex
    /// and ndarray).
    Matmul,
    /// Burn's Conv2d and MaxPool2d.
    Burn,
}

impl Conv {
    fn method(self) -> ConvMethod {
        match self {
            Self::Matmul => ConvMethod::Matmul,
            Self::Burn => ConvMethod::Burn,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => train(cli.train),
        Some(Command::Train(args)) => train(args),
        Some(Command::Predict(args)) => predict(args),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Bench(args)) => bench(args),
        Some(Command::BenchServe(args)) => bench_serve::bench_serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn train(
    Train {
        run: name,
        conv,
        args,
    }: Train,
) -> Result<(), String> {
    let mnist = Mnist::load_default().map_err(text)?;
    let (train_limit, eval_limit) = args.limits();
    let data = Splits::course(&mnist.train, mnist.test, args.seed).limit(train_limit, eval_limit);
    let part_dir = args.reports_dir(cnn::PART);
    let conv = conv.map_or(ConvMethod::fastest_on(args.backend), Conv::method);
    let spec = cnn::spec(
        part_dir,
        name,
        conv,
        args.training_config(cnn::training()),
        args.resume,
    );
    run_on(
        args.backend,
        TrainTask {
            spec: &spec,
            data: &data,
        },
    )
    .map_err(text)?
}

fn print_plan(spec: &RunSpec, data: &Splits, backend: BackendKind) {
    let t = &spec.training;
    let optimizer = match t.optimizer {
        mnist_train::OptimizerConfig::Sgd {
            learning_rate,
            momentum,
            nesterov,
        } => format!(
            "SGD lr {learning_rate}, momentum {momentum}{}",
            if nesterov { ", Nesterov" } else { "" }
        ),
        mnist_train::OptimizerConfig::Adam { learning_rate } => format!("Adam lr {learning_rate}"),
    };
    let conv = match &spec.model {
        mnist_train::model::ModelConfig::Cnn(c) => conv_name(c.conv),
        mnist_train::model::ModelConfig::Mlp(_) => "none",
    };
    println!(
        "The course CNN ({}, convolutions: {conv}), {} epoch{} on {backend}: {optimizer}, batch {}, seed {}",
        spec.model.describe(),
        t.epochs,
        if t.epochs == 1 { "" } else { "s" },
        t.batch_size,
        t.seed
    );
    println!(
        "{} training, {} validation, {} test images; report in {}",
        data.train.len(),
        data.validation.len(),
        data.test.len(),
        spec.dir().display()
    );
}

struct TrainTask<'a> {
    spec: &'a RunSpec,
    data: &'a Splits,
}

impl BackendTask for TrainTask<'_> {
    type Output = Result<(), String>;

    fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
        print_plan(self.spec, self.data, backend);
        let outcome = run::<B>(self.spec, self.data, &device, backend).map_err(text)?;
        if outcome.test.is_none() {
            println!("The run diverged: no test evaluation (try a lower --learning-rate).");
        } else {
            let matrix = &outcome.confusion[0];
            cnn::per_class_report(matrix, &outcome.report_dir, &self.spec.run).map_err(text)?;
            if let Some((digit, accuracy)) = cnn::weakest_digit(matrix) {
                println!(
                    "Per-digit test accuracy in per-class.md; the weakest digit is {digit} ({:.2} %)",
                    100.0 * accuracy
                );
            }
        }
        println!(
            "Report: {} ({:.0} s)",
            outcome.report_dir.display(),
            outcome.wall_seconds
        );
        Ok(())
    }
}

impl ModelChoice {
    /// Checks that `--model` holds a trained model; a run's folder will do
    /// as well as its checkpoint folder.
    fn find(&mut self) -> Result<(), String> {
        if let Some(dir) = find_model(&self.model) {
            self.model = dir;
            Ok(())
        } else {
            Err(format!(
                "--model: no trained model in {} (it needs model.json and model.mpk): train one \
                 with `cargo run --release -p cnn`, or give a run's checkpoint folder",
                self.model.display()
            ))
        }
    }
}

fn predict(mut args: Predict) -> Result<(), String> {
    args.model.find()?;
    run_on(args.model.backend, PredictTask(args)).map_err(text)?
}

struct PredictTask(Predict);

impl BackendTask for PredictTask {
    type Output = Result<(), String>;

    fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
        let args = self.0;
        let model =
            TrainedModel::<B::InnerBackend>::load(&args.model.model, &device).map_err(text)?;
        let (height, width) = model.config.image_size();
        // Every file's images, and which file each image came from.
        let mut all = Images::new(0, height, width, Vec::new());
        let mut sources: Vec<(&Path, usize)> = Vec::new();
        for file in &args.files {
            let images = load_images(file, height, width).map_err(text)?;
            sources.push((file, images.count));
            all.count += images.count;
            all.pixels.extend(images.pixels);
        }
        let predictions = model.predict(&all, &device);

        if let Some(out) = &args.csv {
            write_predictions_csv(out, &predictions, args.probabilities).map_err(text)?;
            println!("Wrote {} predictions to {}", all.count, out.display());
            return Ok(());
        }
        let mut index = 0;
        for (file, count) in sources {
            for k in 0..count {
                let name = if count == 1 {
                    file.display().to_string()
                } else {
                    format!("{} #{}", file.display(), k + 1)
                };
                let labels = predictions.labels.of(index);
                let digits: Vec<String> = labels.iter().map(u8::to_string).collect();
                let confidence: Vec<String> = labels
                    .iter()
                    .enumerate()
                    .map(|(head, &d)| {
                        format!(
                            "{:.3}",
                            predictions.probabilities(index, head)[usize::from(d)]
                        )
                    })
                    .collect();
                let mut line = format!(
                    "{name}: {} (p = {})",
                    digits.join(" "),
                    confidence.join(" ")
                );
                if args.probabilities {
                    for head in 0..predictions.heads() {
                        let p: Vec<String> = predictions
                            .probabilities(index, head)
                            .iter()
                            .map(|p| format!("{p:.3}"))
                            .collect();
                        line.push_str(&format!("  p0..p9: {}", p.join(" ")));
                    }
                }
                println!("{line}");
                index += 1;
            }
        }
        Ok(())
    }
}

fn serve(mut args: Serve) -> Result<(), String> {
    args.model.find()?;
    // Listening before the model loads: a taken port fails at once.
    let listener = TcpListener::bind((args.host, args.port)).map_err(|e| {
        format!(
            "--host {} --port {}: cannot listen: {e}",
            args.host, args.port
        )
    })?;
    run_on(args.model.backend, ServeTask { args, listener }).map_err(text)?
}

struct ServeTask {
    args: Serve,
    listener: TcpListener,
}

impl BackendTask for ServeTask {
    type Output = Result<(), String>;

    fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
        let dir = &self.args.model.model;
        let model = DigitModel::<B::InnerBackend>::load(dir, device)?;
        let address = self.listener.local_addr().map_err(text)?;
        if !address.ip().is_loopback() {
            println!("Listening on {address}: anyone who can reach this machine can use the page.");
        }
        // Tests and scripts read the URL from this line.
        println!(
            "Draw a digit at http://{address}/ (model {}, {backend} backend; Ctrl-C stops)",
            dir.display()
        );
        let ctrl_c = async {
            // Without a Ctrl-C handler, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        cnn::serve::serve(self.listener, model, ctrl_c)
            .map_err(|e| format!("the server stopped: {e}"))
    }
}

fn bench(args: Bench) -> Result<(), String> {
    let mnist = Mnist::load_default().map_err(text)?;
    let (batch_size, steps) = (args.batch_size as usize, args.steps as usize);
    if batch_size.saturating_mul(steps) > mnist.train.len() {
        return Err(format!(
            "--steps {steps} of --batch-size {batch_size} need {} images; MNIST has {} \
             training images",
            batch_size.saturating_mul(steps),
            mnist.train.len()
        ));
    }
    // Steps in one epoch of the course split (90 % of the training file).
    let epoch_steps = (mnist.train.len() * 9 / 10) / batch_size;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "The course CNN, batch {batch_size}: {steps} timed steps per measurement, medians of \
         {} rounds taken in turn; an epoch is {epoch_steps} steps; CPU threads: {threads}.",
        args.rounds
    );
    for &backend in &args.backend {
        let task = BenchTask {
            args: &args,
            data: &mnist.train,
        };
        let result = run_on(backend, task).map_err(text)?;
        println!(
            "\n{:<8} {:<7} {:>12} {:>13} {:>9} {:>8}   raw step: {:>8} {:>9} {:>9}",
            "backend",
            "conv",
            "raw step ms",
            "loop step ms",
            "loop/raw",
            "epoch s",
            "forward",
            "backward",
            "optimiser"
        );
        for (conv, times) in &result.steps {
            println!(
                "{:<8} {:<7} {:>12.2} {:>13.2} {:>8.2}x {:>8.1}   {:>18.2} {:>9.2} {:>9.2}",
                backend.name(),
                conv_name(*conv),
                times.raw_ms,
                times.loop_ms,
                times.loop_ms / times.raw_ms,
                times.loop_ms * epoch_steps as f64 / 1e3,
                times.forward_ms,
                times.backward_ms,
                times.optimizer_ms
            );
        }
        println!(
            "\nPer layer on {} (ms; medians of {} runs):",
            backend.name(),
            LAYER_REPEATS
        );
        let columns: Vec<(&str, Vec<LayerTime>)> = result
            .layers
            .into_iter()
            .map(|(conv, layers)| (conv_name(conv), layers))
            .collect();
        print!("{}", layer_table(&columns));
    }
    Ok(())
}

const LAYER_REPEATS: usize = 20;

fn conv_name(conv: ConvMethod) -> &'static str {
    match conv {
        ConvMethod::Matmul => "matmul",
        ConvMethod::Burn => "burn",
    }
}

struct BenchTask<'a> {
    args: &'a Bench,
    data: &'a mnist_data::Dataset,
}

struct BenchResult {
    steps: Vec<(ConvMethod, StepTimes)>,
    layers: Vec<(ConvMethod, Vec<LayerTime>)>,
}

impl BackendTask for BenchTask<'_> {
    type Output = BenchResult;

    fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
        let (batch_size, steps) = (self.args.batch_size as usize, self.args.steps as usize);
        let methods: Vec<ConvMethod> = self.args.conv.iter().map(|c| c.method()).collect();
        let models: Vec<ModelConfig> = methods
            .iter()
            .map(|&conv| ModelConfig::Cnn(cnn::cnn_config().with_conv(conv)))
            .collect();
        let times = time_steps_in_rounds::<B>(
            &models,
            self.data,
            batch_size,
            steps,
            self.args.rounds as usize,
            &device,
        );
        let steps = methods.iter().copied().zip(times).collect();
        let layers = methods
            .iter()
            .map(|&conv| {
                let config = cnn::cnn_config().with_conv(conv);
                (
                    conv,
                    cnn_layer_times::<B>(&config, self.data, batch_size, LAYER_REPEATS, &device),
                )
            })
            .collect();
        BenchResult { steps, layers }
    }
}
