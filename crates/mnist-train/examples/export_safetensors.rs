//! Exports a trained model to safetensors in PyTorch's layout, for the
//! reference scripts' `evaluate` modes:
//!
//!     cargo run -p mnist-train --example export_safetensors -- \
//!         reports/cnn/cnn/checkpoints /tmp/cnn.safetensors

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use burn::backend::Flex;
use clap::Parser;
use mnist_train::burn;
use mnist_train::export::safetensors::write_safetensors;
use mnist_train::inference::{TrainedModel, model_dir};

/// Exports a trained model to safetensors in PyTorch's layout (the names of
/// the reference scripts' modules), its configuration in the metadata.
#[derive(Parser)]
struct Args {
    /// A checkpoint folder (model.json + model.mpk), or a run's folder.
    model: PathBuf,
    /// The file to write, e.g. cnn.safetensors (its folder must exist).
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match export(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn export(args: &Args) -> Result<(), String> {
    let dir = model_dir(&args.model, "cargo run --release -p cnn").map_err(|e| e.to_string())?;
    let trained =
        TrainedModel::<Flex>::load(&dir, &Default::default()).map_err(|e| e.to_string())?;
    let metadata = BTreeMap::from([("source".to_string(), dir.display().to_string())]);
    write_safetensors(&trained.model, &trained.config, &metadata, &args.out)
        .map_err(|e| e.to_string())?;
    println!(
        "wrote {} ({})",
        args.out.display(),
        trained.config.describe()
    );
    Ok(())
}
