//! `fc-tuning`: part 2 of the course. Runs the course's tuning table (the
//! default), MLP-for-MNIST's batch-size study and the t-SNE of the hidden layer,
//! and times an epoch of the 128-hidden MLP.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};
use fc_tuning::bench::time_epochs;
use fc_tuning::studies::{FcConfig, batch_size_study, course_table, tsne_model};
use fc_tuning::sweep::{Outcome, StudyData, SweepOptions, SweepRun, run_sweep, summary_table};
use fc_tuning::tables::{BatchSizeCurves, course_table_markdown};
use fc_tuning::tsne::{TsneOptions, TsneSummary, tsne_study};
use mnist_data::Mnist;
use mnist_models::TrainBackend;
use mnist_report::PartReport;
use mnist_report::cli::PartArgs;
use mnist_train::backend::{BackendKind, BackendTask, run_on};

const EXAMPLES: &str = "Examples:
  cargo run --release -p fc-tuning                       the course table
  cargo run --release -p fc-tuning -- --study all        course table, batch sizes, t-SNE
  cargo run --release -p fc-tuning -- --study batch-sizes
  cargo run --release -p fc-tuning -- --quick --study all   smoke run (target/runs/fc-tuning)
  cargo run --release -p fc-tuning -- list
  cargo run --release -p fc-tuning -- bench";

#[derive(Subcommand)]
enum Command {
    /// Run studies and write their reports (the default command).
    Run(RunArgs),
    /// List the configurations of each study.
    List,
    /// Time training epochs of the course's MLP through the training loop.
    Bench(BenchArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Study {
    /// The course table: 10 and 128 hidden units, baseline and one change at a time.
    Course,
    /// MLP-for-MNIST's study: 784-64-64-10, batch sizes 16 to 256, test accuracy every epoch.
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
    #[command(flatten)]
    part: PartArgs,
    /// Only these runs (names as `list` shows them, comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Run again what results.csv records as completed.
    #[arg(long)]
    rerun: bool,
    /// Test images in the t-SNE (2,000–5,000 for the study; a smoke run uses
    /// the smoke run's test images).
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(u64).range(50..=20_000))]
    tsne_images: u64,
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
    mnist_report::cli::run_part(
        fc_tuning::PART,
        fc_tuning::about(),
        EXAMPLES,
        |command, run| match command {
            None => run_studies(run),
            Some(Command::Run(args)) => run_studies(args),
            Some(Command::List) => {
                list();
                Ok(())
            }
            Some(Command::Bench(args)) => bench(args),
        },
    )
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

fn run_studies(args: RunArgs) -> anyhow::Result<()> {
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
            bail!("--only {name}: no such run (see `fc-tuning list`)");
        };
        if args.study != *study && args.study != Study::All {
            let wanted = study.to_possible_value().map(|v| v.get_name().to_string());
            bail!(
                "--only {name}: that run is in --study {}, not the one chosen",
                wanted.unwrap_or_default()
            );
        }
    }
    args.backend.check_compiled()?;
    let mnist = args.part.load_mnist()?;
    let seed = args.part.seed_or(fc_tuning::SEED);
    let (train, eval) = args.part.limits();
    let data = StudyData::new(&mnist, seed, train, eval);
    let part_dir = args.part.reports_dir(fc_tuning::PART);
    // Each configuration's own epochs, unless --epochs or --quick say otherwise.
    let epochs = (args.part.epochs.is_some() || args.part.quick).then(|| args.part.epochs_or(0));
    let options = SweepOptions {
        part_dir: part_dir.clone(),
        seed,
        epochs,
        rerun: args.rerun,
        verbose: true,
        data: args.part.data_record(&mnist),
    };
    let wants = |study: Study| args.study == study || args.study == Study::All;
    let mut failed = Vec::new();
    let report = PartReport::new(&part_dir);

    if wants(Study::Course) {
        let configs = select(course_table(), &args.only);
        if !configs.is_empty() {
            let runs = run_sweep(&configs, &data, &options, args.backend);
            println!("\nCourse table:\n{}", summary_table(&runs));
            failed.extend(failures(&runs));
            let rows = report.results()?;
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
            let runs = run_sweep(&configs, &data, &options, args.backend);
            println!("\nBatch sizes:\n{}", summary_table(&runs));
            failed.extend(failures(&runs));
            let all = batch_size_study();
            let rows = report.results()?;
            let curves = BatchSizeCurves::read(&part_dir, &all)?;
            let images = (data.tested_each_epoch.train.len(), data.test().len());
            curves.write(&part_dir, &rows, &all, images)?;
            println!("{}", curves.markdown(&rows, &all, images));
        }
    }
    if wants(Study::Tsne) && (args.only.is_empty() || args.only.iter().any(|n| n == "tsne")) {
        let mut config = tsne_model();
        if let Some(e) = epochs {
            config.epochs = e;
        }
        let tsne = TsneOptions {
            images: (args.tsne_images as usize).min(data.test().len()),
            seed,
            ..TsneOptions::default()
        };
        println!("\n=== t-SNE: {} ===", config.describe());
        let task = Tsne {
            config: &config,
            data: &data,
            options: &tsne,
            out: part_dir.join("tsne"),
        };
        match run_on(args.backend, task)? {
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
    if !failed.is_empty() {
        bail!("{} run(s) failed: {}", failed.len(), failed.join("; "));
    }
    Ok(())
}

/// The t-SNE study on the backend `--backend` names.
struct Tsne<'a> {
    config: &'a FcConfig,
    data: &'a StudyData,
    options: &'a TsneOptions,
    out: PathBuf,
}

impl BackendTask for Tsne<'_> {
    type Output = Result<TsneSummary, fc_tuning::tsne::TsneError>;

    fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
        let course = &self.data.course;
        tsne_study::<B>(
            self.config,
            &course.train,
            &course.validation,
            self.data.test(),
            self.options,
            &self.out,
            &device,
            true,
        )
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

fn write(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    Ok(mnist_data::files::write_bytes_atomically(
        path,
        text.as_bytes(),
    )?)
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let mnist = Mnist::load_default()?;
    let split = mnist_data::course_split(mnist.train.len(), fc_tuning::SEED);
    let train = mnist.train.select(&split.train);
    let (batch_size, hidden) = (args.batch_size as usize, args.hidden as usize);
    println!(
        "784-{hidden}-10 ReLU, {}, batch {batch_size}, {} training images per epoch; \
         {} timed epoch(s) after one warm-up",
        fc_tuning::bench::course_training(batch_size)
            .optimizer
            .describe(),
        train.len(),
        args.epochs
    );
    println!(
        "{:<10} {:>12} {:>15}",
        "backend", "min s/epoch", "median s/epoch"
    );
    for &backend in &args.backend {
        let times = time_epochs(&train, hidden, batch_size, args.epochs as usize, backend)?;
        println!(
            "{:<10} {:>12.2} {:>15.2}",
            backend.name(),
            times.min(),
            times.median()
        );
    }
    println!(
        "\nPyTorch on this machine: time the same network's epoch in turn with this command, \
         on a quiet machine, for a paired figure."
    );
    Ok(())
}
