//! `scratch-numpy-style`: part 1 of the course, a neural network from first
//! principles. Run with no arguments for all four MNIST experiments.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use scratch_numpy_style::bench::{self, BenchConfig, NUMPY_SECONDS_PER_EPOCH};
use scratch_numpy_style::experiments::{self, Experiment, MnistData, RunOptions};
use scratch_numpy_style::gradcheck;
use scratch_numpy_style::{Activation, Init, Mlp, Output, Result, Samples, Spec, toy};

#[derive(Parser)]
#[command(
    name = "scratch-numpy-style",
    version,
    about = "Part 1: a multilayer perceptron from first principles on ndarray",
    long_about = "Part 1 of the MNIST course: a multilayer perceptron written out as matrix \
                  algebra (forward pass, backpropagation, SGD) on ndarray, without a framework.\n\n\
                  With no subcommand, runs every MNIST experiment (same options as `run`) and \
                  writes the reports to reports/scratch-numpy-style/.",
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
    /// Train the course's 2-3-1 toy network and check its five predictions.
    Toy,
    /// Train the MNIST experiments (all, or the one --experiment names) and
    /// write their reports.
    Run(RunArgs),
    /// Time training epochs of the first experiment's network (seconds per
    /// epoch on the 60,000 training images) and compare with NumPy.
    Bench(BenchArgs),
    /// Compare backpropagation with finite differences (f64) for every
    /// activation and output/loss, and print the relative errors.
    Gradcheck,
    /// List the experiments with their settings.
    List,
}

#[derive(Args, Clone, Default)]
struct RunArgs {
    /// Run only this experiment (see `list`).
    #[arg(long, value_name = "NAME")]
    experiment: Option<String>,
    /// Epochs per experiment (default: the experiment's, 10).
    #[arg(long)]
    epochs: Option<usize>,
    /// A small smoke run: 5,000 training and 1,000 test images, 2 epochs,
    /// reported to a temporary directory unless --out is given.
    #[arg(long)]
    quick: bool,
    /// Replace the experiment's layer sizes, e.g. 784,256,10 (the run's name
    /// gets a -layers-… suffix).
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    layers: Option<Vec<usize>>,
    /// Seed for initialisation and shuffling (default 42).
    #[arg(long)]
    seed: Option<u64>,
    /// Report directory (default: reports/scratch-numpy-style in the workspace).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    no_progress: bool,
}

#[derive(Args)]
struct BenchArgs {
    /// Timed epochs.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Untimed epochs before them.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Train on only the first N training images (default: all 60,000).
    #[arg(long, value_name = "N")]
    images: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Toy) => run_toy(),
        Some(Command::Run(args)) => run_experiments(&args),
        Some(Command::Bench(args)) => run_bench(&args),
        Some(Command::Gradcheck) => run_gradcheck(),
        Some(Command::List) => {
            list();
            Ok(())
        }
        None => run_experiments(&cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_toy() -> Result<()> {
    println!(
        "Toy network: 2 inputs → 3 ReLU → 1 linear, weights 1, biases 0, \
         per-sample SGD, lr {}, {} epochs",
        toy::LEARNING_RATE,
        toy::EPOCHS
    );
    println!("training points (x₁, x₂) → y:");
    for ([x1, x2], y) in toy::POINTS {
        println!("  ({x1}, {x2}) → {y}");
    }
    let (net, losses) = toy::train()?;
    for (epoch, loss) in losses.iter().enumerate() {
        println!(
            "Epoch {:>2}/{}  mean loss ½(ŷ−y)² {loss:.6}",
            epoch + 1,
            toy::EPOCHS
        );
    }
    println!("\n  (x, x)      predicted   7·x   error");
    let mut worst: f64 = 0.0;
    for x in toy::QUERIES {
        let y = toy::predict(&net, x, x)?;
        let error = y - 7.0 * x;
        worst = worst.max(error.abs());
        println!("  ({x:>2}, {x:>2})  {y:>9.4}  {:>5}   {error:+.4}", 7.0 * x);
    }
    println!(
        "\nlargest error {worst:.4} ({} the course's 0.1)",
        if worst < 0.1 { "within" } else { "OUTSIDE" }
    );
    for (l, layer) in net.layers.iter().enumerate() {
        println!(
            "layer {}: W = {:.4}, b = {:.4}",
            l + 1,
            layer.weights,
            layer.biases
        );
    }
    Ok(())
}

fn run_experiments(args: &RunArgs) -> Result<()> {
    let chosen: Vec<Experiment> = match &args.experiment {
        Some(name) => vec![experiments::find(name)?],
        None => experiments::all(),
    };
    let (train_images, test_images, default_epochs) = if args.quick {
        (Some(5000), Some(1000), Some(2))
    } else {
        (None, None, None)
    };
    let out = match (&args.out, args.quick) {
        (Some(dir), _) => dir.clone(),
        (None, true) => std::env::temp_dir().join("scratch-numpy-style-quick"),
        (None, false) => experiments::default_report_dir(),
    };
    let options = RunOptions {
        epochs: args.epochs.or(default_epochs),
        layers: args.layers.clone(),
        seed: args.seed,
        train_images,
        test_images,
        out,
        progress: !args.no_progress,
    };
    if options.epochs == Some(0) {
        return Err(scratch_numpy_style::Error::Invalid(
            "--epochs must be at least 1".into(),
        ));
    }
    let start = Instant::now();
    let data = MnistData::load(train_images, test_images)?;
    println!(
        "MNIST: {} training, {} test images (loaded in {:.1} s); matrix products: {}",
        data.train.len(),
        data.test.len(),
        start.elapsed().as_secs_f64(),
        bench::matmul_path()
    );
    let mut outcomes = Vec::new();
    for experiment in &chosen {
        outcomes.push(experiments::run(experiment, &data, &options)?);
    }
    println!("\n| run | test accuracy | epochs | training s | wall s |");
    println!("|---|---|---|---|---|");
    for o in &outcomes {
        println!(
            "| {} | {:.2} % | {} | {:.1} | {:.1} |",
            o.name,
            100.0 * o.test.accuracy.unwrap_or(f64::NAN),
            o.epochs,
            o.train_seconds,
            o.wall_seconds
        );
    }
    println!(
        "\nreports in {} ({:.1} s in all)",
        options.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_bench(args: &BenchArgs) -> Result<()> {
    if args.epochs == 0 || args.batch_size == 0 || args.images == Some(0) {
        return Err(scratch_numpy_style::Error::Invalid(
            "--epochs, --batch-size and --images must be at least 1".into(),
        ));
    }
    let data = MnistData::load(args.images, Some(0))?;
    let spec = experiments::first().spec;
    println!(
        "network {} ({} hidden, {}), batch {}, f32, {} training images",
        experiments::sizes_text(&spec.sizes),
        spec.hidden,
        spec.output,
        args.batch_size,
        data.train.len()
    );
    println!("matrix products: {}", bench::matmul_path());
    println!(
        "load average before: {}",
        bench::load_average().unwrap_or_else(|| "unknown".into())
    );
    let result = bench::run(
        &data.train,
        BenchConfig {
            epochs: args.epochs,
            warmup: args.warmup,
            batch_size: args.batch_size,
        },
    )?;
    println!("\n| epoch | seconds | images/s |");
    println!("|---|---|---|");
    for (i, s) in result.seconds.iter().enumerate() {
        println!("| {} | {s:.3} | {:.0} |", i + 1, result.images as f64 / s);
    }
    let (min, median) = (result.min(), result.median());
    println!(
        "\nseconds per epoch: min {min:.3}, median {median:.3}; \
         NumPy from scratch: {NUMPY_SECONDS_PER_EPOCH:.2} → {:.1}× faster (median); goal ≤ 0.90",
        NUMPY_SECONDS_PER_EPOCH / median
    );
    println!(
        "load average after: {}",
        bench::load_average().unwrap_or_else(|| "unknown".into())
    );
    Ok(())
}

fn run_gradcheck() -> Result<()> {
    println!(
        "central differences (ε = {:e}) against backpropagation, f64, network 5-4-3-3, batch 6",
        gradcheck::EPSILON
    );
    println!("\n| hidden | output + loss | relative error | max abs difference |");
    println!("|---|---|---|---|");
    for hidden in Activation::ALL {
        for output in Output::ALL {
            let mut rng = mnist_data::split::seeded_rng(7);
            let spec = Spec {
                sizes: vec![5, 4, 3, 3],
                hidden,
                output,
                init: Init::Xavier,
            };
            let mut net: Mlp<f64> = Mlp::new(&spec, &mut rng)?;
            let x = ndarray::Array2::from_shape_simple_fn((6, 5), || {
                scratch_numpy_style::init::normal(&mut rng)
            });
            let labels: Vec<u8> = (0..6).map(|i| i % 3).collect();
            let samples = Samples::classification(x, &labels, 3)?;
            let check = gradcheck::check(&mut net, samples.x.view(), samples.y.view())?;
            println!(
                "| {hidden} | {output} | {:.2e} | {:.2e} |",
                check.relative_error, check.max_abs_difference
            );
        }
    }
    Ok(())
}

fn list() {
    for e in experiments::all() {
        println!("{}", e.name);
        println!("    {}", e.source);
        println!("    {}", e.summary());
        println!("    choices: {}", e.choices);
    }
}
