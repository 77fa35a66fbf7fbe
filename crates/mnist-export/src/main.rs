//! `mnist-export`: a trained model of the course as ONNX or for PyTorch
//! (the default command), and `bench`, Burn timed against its ONNX exports.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mnist_export::bench::BenchExportArgs;
use mnist_export::{ExportArgs, export};
use mnist_train::backend::BackendKind;
use mnist_train::inference::{NoModel, model_dir};

const EXAMPLES: &str = "Examples:
  cargo run --release -p mnist-export -- --onnx cnn.onnx              Part 3's committed CNN as ONNX
  cargo run --release -p mnist-export -- --onnx cnn-int8.onnx --int8  int8 weights
  cargo run --release -p mnist-export -- --part two-digit --onnx two-digit.onnx
  cargo run --release -p mnist-export -- --pytorch cnn.safetensors    for PyTorch
  cargo run --release -p mnist-export -- --model DIR --onnx model.onnx   any run's model
  cargo run --release -p mnist-export -- bench                        Burn against ONNX f32 and int8";

#[derive(Parser)]
#[command(
    version,
    about = "A trained model as ONNX (checked against Burn with tract) or as safetensors for PyTorch",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    model: Trained,
    #[command(flatten)]
    export: ExportArgs,
    /// Backend to load the model on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    backend: BackendKind,
}

#[derive(Subcommand)]
enum Command {
    /// Time the trained model in Burn against its ONNX exports (f32 and
    /// int8 weights) in tract: file size, test accuracy, inference time.
    Bench {
        #[command(flatten)]
        model: Trained,
        #[command(flatten)]
        bench: BenchExportArgs,
    },
}

/// Which trained model: a part's committed one, or any run's.
#[derive(Args)]
struct Trained {
    /// The part whose committed model to use.
    #[arg(long, value_enum, default_value_t = CoursePart::Cnn)]
    part: CoursePart,
    /// Any trained model instead: a run's checkpoint folder (model.json and
    /// model.mpk), or the run's folder.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
}

/// The parts that commit a trained model.
#[derive(Clone, Copy, ValueEnum)]
enum CoursePart {
    /// Part 3's CNN (reports/cnn/cnn).
    Cnn,
    /// Part 4's two-digit CNN (reports/two-digit/cnn).
    TwoDigit,
}

impl CoursePart {
    fn name(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::TwoDigit => "two-digit",
        }
    }
}

impl Trained {
    /// The checkpoint folder of the chosen model.
    fn checkpoints(&self) -> Result<PathBuf, NoModel> {
        let part = self.part.name();
        // Both parts commit their course run, named `cnn`.
        let dir = self.model.clone().unwrap_or_else(|| {
            mnist_report::paths::committed_reports_dir(part)
                .join("cnn")
                .join("checkpoints")
        });
        model_dir(&dir, &format!("cargo run --release -p {part}"))
    }
}

fn main() -> ExitCode {
    mnist_report::cli::run(|cli: Cli| match cli.command {
        None => Ok(export(&cli.export, &cli.model.checkpoints()?, cli.backend)?),
        Some(Command::Bench { model, bench }) => Ok(bench.print(&model.checkpoints()?)?),
    })
}
