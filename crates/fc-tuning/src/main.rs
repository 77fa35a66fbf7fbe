//! `fc-tuning`: part 2 of the course. Runs the course's tuning table (the
//! default), seed 002's batch-size study and the t-SNE of the hidden layer,
//! and times an epoch of the 128-hidden MLP.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fc_tuning::bench::{PYTORCH_SECONDS, time_epochs};
use fc_tuning::studies::{FcConfig, batch_size_study, course_table, tsne_model};
use fc_tuning::sweep::{Outcome, StudyData, SweepOptions, SweepRun, run_sweep, summary_table};
use fc_tuning::tables::{BatchSizeCurves, course_table_markdown};
use fc_tuning::tsne::{TsneOptions, tsne_study};
use mnist_data::Mnist;
use mnist_report::PartReport;
use mnist_train::backend::{BackendKind, BackendTask, run_on};
use mnist_train::model::TrainBackend;

#[derive(Parser)]
#[command(
    version,
    about = "Part 2: fully-connected networks on MNIST and the tuning study",
    long_about = "Part 2: fully-connected networks on MNIST and the tuning study.\n\n\
        With no command, runs the course table: 784-10-10 ReLU, SGD lr 0.1, momentum 0, \
        batch 32, 10 epochs on the course split, then one change at a time (batch 64; lr 0.01; \
        momentum 0.9; LeakyReLU), then the same five with 128 hidden units. Each run's report \
        goes to reports/fc-tuning/<run>/, the table to reports/fc-tuning/results.md and \
        course-table.md. A run already completed with the same settings is skipped; an \
        interrupted one resumes from its checkpoint.",
    after_help = "Examples:\n  \
        cargo run --release -p fc-tuning                       the course table\n  \
        cargo run --release -p fc-tuning -- --study all        course table, batch sizes, t-SNE\n  \
        cargo run --release -p fc-tuning -- --study batch-sizes\n  \
        cargo run --release -p fc-tuning -- --quick --study all   smoke run (target/runs/fc-tuning)\n  \
        cargo run --release -p fc-tuning -- list\n  \
        cargo run --release -p fc-tuning -- bench",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run studies and write their reports (the default command).
    Run(RunArgs),
    /// List the configurations of each study.
    List,
    /// Time training epochs of the 128-hidden MLP (54,000 images, batch 32).
    Bench(BenchArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Study {
    /// The course table: 10 and 128 hidden units, baseline and one change at a time.
    Course,
    /// Seed 002: 784-64-64-10, batch sizes 16 to 256, test accuracy every epoch.
    BatchSizes,
    /// t-SNE of the last hidden layer, untrained against trained.
    Tsne,
    /// All three.
    All,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Which study to run.
    #[arg(long, value_enum, default_value_t = Study::Course)]
    study: Study,
    /// Backend to train on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
    /// Epochs of every run (default: 10 for the course table, 20 for batch sizes and t-SNE).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    epochs: Option<u64>,
    /// Seed for the split, the shuffles and the initial weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A smoke run: 3,000 training images, 500 validation and test images,
    /// 1 epoch (2 for batch sizes), t-SNE of 500 images; reports in
    /// target/runs/fc-tuning unless --reports is given.
    #[arg(long)]
    quick: bool,
    /// Train on at most this many images (validation and test stay whole).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Only these runs (names as `list` shows them, comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Run again what results.csv records as completed.
    #[arg(long)]
    rerun: bool,
    /// Test images in the t-SNE (2,000–5,000 for the study).
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u64).range(50..=20_000))]
    tsne_images: u64,
    /// Folder for reports and checkpoints (default: reports/fc-tuning).
    #[arg(long)]
    reports: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    /// Backends to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "flex")]
    backend: Vec<BackendKind>,
    /// Timed epochs per backend (after one untimed warm-up epoch).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    epochs: u64,
    /// Images per batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Hidden units of the 784-h-10 MLP.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..))]
    hidden: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run_studies(cli.run),
        Some(Command::Run(args)) => run_studies(args),
        Some(Command::List) => {
            list();
            Ok(())
        }
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

fn list() {
    for (study, configs) in [
        ("course", course_table()),
        ("batch-sizes", batch_size_study()),
        ("tsne", vec![tsne_model()]),
    ] {
        println!("--study {study}:");
        for c in configs {
            println!("  {:<20} {}", c.name, c.describe());
        }
    }
}

/// Picks `only`'s runs out of `configs` (all when `only` is empty).
fn select(configs: Vec<FcConfig>, only: &[String]) -> Vec<FcConfig> {
    if only.is_empty() {
        configs
    } else {
        configs
            .into_iter()
            .filter(|c| only.contains(&c.name))
            .collect()
    }
}

fn run_studies(args: RunArgs) -> Result<(), String> {
    let studies = [
        (Study::Course, course_table()),
        (Study::BatchSizes, batch_size_study()),
        (Study::Tsne, vec![tsne_model()]),
    ];
    for name in &args.only {
        let Some((study, _)) = studies
            .iter()
            .find(|(_, configs)| configs.iter().any(|c| &c.name == name))
        else {
            return Err(format!("--only {name}: no such run (see `fc-tuning list`)"));
        };
        if args.study != *study && args.study != Study::All {
            let wanted = study.to_possible_value().map(|v| v.get_name().to_string());
            return Err(format!(
                "--only {name}: that run is in --study {}, not the one chosen",
                wanted.unwrap_or_default()
            ));
        }
    }
    let mnist = Mnist::load_default().map_err(|e| e.to_string())?;
    let (train, eval) = match (args.quick, args.limit) {
        (true, limit) => (limit.map_or(3_000, |l| l as usize), 500),
        (false, Some(limit)) => (limit as usize, usize::MAX),
        (false, None) => (usize::MAX, usize::MAX),
    };
    let data = StudyData::new(&mnist, args.seed, train, eval);
    let part_dir = args.reports.clone().unwrap_or_else(|| {
        if args.quick {
            fc_tuning::quick_reports_dir()
        } else {
            fc_tuning::reports_dir()
        }
    });
    run_on(
        args.backend,
        StudiesTask {
            args: &args,
            data: &data,
            part_dir,
        },
    )
    .map_err(|e| e.to_string())?
}

struct StudiesTask<'a> {
    args: &'a RunArgs,
    data: &'a StudyData,
    part_dir: PathBuf,
}

impl BackendTask for StudiesTask<'_> {
    type Output = Result<(), String>;

    fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
        let Self {
            args,
            data,
            part_dir,
        } = self;
        let epochs = |default_quick: usize| {
            args.epochs
                .map(|e| e as usize)
                .or(args.quick.then_some(default_quick))
        };
        let options = |epochs: Option<usize>| SweepOptions {
            part_dir: part_dir.clone(),
            seed: args.seed,
            epochs,
            rerun: args.rerun,
            verbose: true,
        };
        let wants = |study: Study| args.study == study || args.study == Study::All;
        let mut failed = Vec::new();
        let report = PartReport::new(&part_dir);

        if wants(Study::Course) {
            let configs = select(course_table(), &args.only);
            if !configs.is_empty() {
                let runs = run_sweep::<B>(&configs, data, &options(epochs(1)), &device, backend);
                println!("\nCourse table:\n{}", summary_table(&runs));
                failed.extend(failures(&runs));
                let rows = report.results().map_err(|e| e.to_string())?;
                let md = format!(
                    "# The course table\n\n\
                     Generated from `results.csv` by `fc-tuning`. Test accuracy is the \
                     best-by-validation epoch's model on the test set; the goal is each \
                     row with a PyTorch figure within 0.5 points of it.\n\n{}",
                    course_table_markdown(&rows, &course_table())
                );
                write(&part_dir.join("course-table.md"), &md)?;
                println!("{}", course_table_markdown(&rows, &course_table()));
            }
        }
        if wants(Study::BatchSizes) {
            let configs = select(batch_size_study(), &args.only);
            if !configs.is_empty() {
                let runs = run_sweep::<B>(&configs, data, &options(epochs(2)), &device, backend);
                println!("\nBatch sizes:\n{}", summary_table(&runs));
                failed.extend(failures(&runs));
                let all = batch_size_study();
                let rows = report.results().map_err(|e| e.to_string())?;
                let curves = BatchSizeCurves::read(&part_dir, &all).map_err(|e| e.to_string())?;
                let images = (data.tested_each_epoch.train.len(), data.test().len());
                curves
                    .write(&part_dir, &rows, &all, images)
                    .map_err(|e| e.to_string())?;
                println!("{}", curves.markdown(&rows, &all, images));
            }
        }
        if wants(Study::Tsne) && (args.only.is_empty() || args.only.iter().any(|n| n == "tsne")) {
            let mut config = tsne_model();
            if let Some(e) = epochs(1) {
                config.epochs = e;
            }
            let tsne = TsneOptions {
                images: if args.quick {
                    500
                } else {
                    args.tsne_images as usize
                },
                seed: args.seed,
                ..TsneOptions::default()
            };
            let out = part_dir.join("tsne");
            println!("\n=== t-SNE: {} ===", config.describe());
            match tsne_study::<B>(
                &config,
                &data.course.train,
                &data.course.validation,
                data.test(),
                &tsne,
                &out,
                &device,
                true,
            ) {
                Ok(s) => println!(
                    "t-SNE of {} test images: 5-NN accuracy in 2-D {:.2} % untrained, {:.2} % \
                     trained (test accuracy {:.2} %); {} ({:.0} s)",
                    s.images,
                    100.0 * s.knn_untrained,
                    100.0 * s.knn_trained,
                    100.0 * s.test_accuracy,
                    s.plot.display(),
                    s.seconds
                ),
                Err(e) => failed.push(format!("tsne: {e}")),
            }
        }
        println!("\nReports in {}", part_dir.display());
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} run(s) failed: {}",
                failed.len(),
                failed.join("; ")
            ))
        }
    }
}

fn failures(runs: &[SweepRun]) -> Vec<String> {
    runs.iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(message) => Some(format!("{}: {message}", r.config.name)),
            _ => None,
        })
        .collect()
}

fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
    mnist_data::files::write_bytes_atomically(path, text.as_bytes()).map_err(|e| e.to_string())
}

fn bench(args: BenchArgs) -> Result<(), String> {
    let mnist = Mnist::load_default().map_err(|e| e.to_string())?;
    let split = mnist_data::course_split(mnist.train.len(), 1);
    let train = mnist.train.select(&split.train);
    println!(
        "784-{}-10 ReLU, SGD lr 0.1, batch {}, {} training images per epoch; \
         {} timed epoch(s) after one warm-up",
        args.hidden,
        args.batch_size,
        train.len(),
        args.epochs
    );
    println!(
        "{:<10} {:>12} {:>15} {:>22}",
        "backend", "min s/epoch", "median s/epoch", "PyTorch here s/epoch"
    );
    for backend in &args.backend {
        let times = run_on(
            *backend,
            BenchTask {
                train: &train,
                args: &args,
            },
        )
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        println!(
            "{:<10} {:>12.2} {:>15.2} {:>22}",
            backend.name(),
            times.min(),
            times.median(),
            format!("{:.1}–{:.1}", PYTORCH_SECONDS.0, PYTORCH_SECONDS.1)
        );
    }
    Ok(())
}

struct BenchTask<'a> {
    train: &'a mnist_data::Dataset,
    args: &'a BenchArgs,
}

impl BackendTask for BenchTask<'_> {
    type Output = Result<fc_tuning::bench::EpochTimes, mnist_train::train::TrainError>;

    fn run<B: TrainBackend>(self, device: B::Device, _backend: BackendKind) -> Self::Output {
        time_epochs::<B>(
            self.train,
            self.args.hidden as usize,
            self.args.batch_size as usize,
            self.args.epochs as usize,
            &device,
        )
    }
}
