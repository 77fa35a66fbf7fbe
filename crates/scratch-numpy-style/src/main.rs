//! `scratch-numpy-style`: part 1 of the course, a neural network from first
//! principles. Run with no arguments for every MNIST experiment.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};
use mnist_report::cli::{self, PartArgs};
use scratch_numpy_style::bench::{self, BenchArgs};
use scratch_numpy_style::experiments::{self, Experiment, PART, RunOptions, SEED};
use scratch_numpy_style::matrix_products::matrix_products;
use scratch_numpy_style::{gradcheck, toy};

fn long_about() -> String {
    format!(
        "Part 1 of the MNIST course: a multilayer perceptron written out as matrix algebra \
         (forward pass, backpropagation, SGD) on ndarray, without a framework.\n\n\
         With no subcommand, runs every MNIST experiment (same options as `run`), each for its \
         own epochs (see `list`) with seed {SEED}, and writes the reports to reports/{PART}/ \
         (smoke runs to target/runs/{PART}/)."
    )
}

#[derive(Subcommand)]
enum Command {
    /// Train the course's toy network and check its predictions on the diagonal.
    Toy,
    /// Train the MNIST experiments (all, or the one --experiment names) and
    /// write their reports.
    #[command(
        mut_arg("epochs", |a| a.help(experiments::epochs_help())),
        mut_arg("seed", |a| a.help(experiments::seed_help()))
    )]
    Run(RunArgs),
    /// Time training epochs of the first experiment's network (seconds per
    /// epoch on the MNIST training images).
    Bench(BenchArgs),
    /// Compare backpropagation with finite differences (f64) for every
    /// activation and output/loss, and print the relative errors.
    Gradcheck,
    /// List the experiments with their settings.
    List,
}

#[derive(Args, Clone, Default)]
struct RunArgs {
    #[command(flatten)]
    part: PartArgs,
    #[arg(long, value_name = "NAME", help = experiments::experiment_help())]
    experiment: Option<String>,
    /// Replace the experiment's layer sizes, e.g. 784,256,10 (the run's name
    /// gets a -layers-… suffix).
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    layers: Option<Vec<usize>>,
    /// No progress bars.
    #[arg(long)]
    no_progress: bool,
}

fn main() -> ExitCode {
    let help = |cli: clap::Command| {
        cli.name(PART)
            .about("Part 1: a multilayer perceptron from first principles on ndarray")
            .long_about(long_about())
            .mut_arg("epochs", |a| a.help(experiments::epochs_help()))
            .mut_arg("seed", |a| a.help(experiments::seed_help()))
    };
    cli::run_part_with(help, run)
}

fn run(command: Option<Command>, default: RunArgs) -> Result<()> {
    match command {
        Some(Command::Toy) => toy::print_run()?,
        Some(Command::Run(args)) => train(&args)?,
        Some(Command::Bench(args)) => bench::print_timings(&args)?,
        Some(Command::Gradcheck) => gradcheck::print_table()?,
        Some(Command::List) => experiments::print_list(),
        None => train(&default)?,
    }
    Ok(())
}

/// Trains the chosen experiments on MNIST and writes a report for each.
fn train(args: &RunArgs) -> Result<()> {
    let chosen: Vec<Experiment> = match &args.experiment {
        Some(name) => vec![experiments::find(name)?],
        None => experiments::all(),
    };
    let options = RunOptions {
        part: args.part.clone(),
        layers: args.layers.clone(),
        progress: !args.no_progress,
    };
    let start = Instant::now();
    let data = options.load_data()?;
    println!(
        "MNIST: {} training, {} test images (loaded in {:.1} s); matrix products: {}",
        data.train.len(),
        data.test.len(),
        start.elapsed().as_secs_f64(),
        matrix_products()
    );
    let mut outcomes = Vec::new();
    for experiment in &chosen {
        outcomes.push(experiments::run(experiment, &data, &options)?);
    }
    experiments::print_summary(&outcomes);
    println!(
        "\nreports in {} ({:.1} s in all)",
        options.reports_dir().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
