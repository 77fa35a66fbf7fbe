//! Checkpoints in Burn's record format (named MessagePack, full precision):
//!
//! - `model.json`: the model's configuration, to rebuild it for prediction;
//! - `model.mpk`: the trained model, the one the run tested: what prediction
//!   loads (written when training has finished);
//! - `best.mpk`: the model with the best validation accuracy so far;
//! - `last.json` + the two files it names: model and optimiser state after
//!   the last finished epoch, and the run's history, for `--resume`.
//!
//! Every file is written to a temporary file and renamed. `last.json` is
//! written after the files it names, so it always points at a complete pair.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::Backend;
use mnist_data::files::write_bytes_atomically;
use mnist_report::EpochMetrics;
use serde::{Deserialize, Serialize};

use crate::backend::TrainBackend;
use crate::models::{Model, ModelConfig};
use crate::optimizer::ModelOptimizer;

type ByteRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// The trained model's configuration, in a checkpoint folder.
pub const MODEL_CONFIG_FILE: &str = "model.json";
/// The trained model's parameters (the model the run tested).
pub const MODEL_FILE: &str = "model.mpk";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read or write checkpoint {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path} is not a checkpoint of this model: {message}")]
    Incompatible { path: PathBuf, message: String },
    #[error(
        "the checkpoint in {dir} was made with another configuration; \
         delete it or run without --resume"
    )]
    OtherConfiguration { dir: PathBuf },
}

/// Where a run has got to: saved with the last checkpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TrainState {
    pub epochs_done: usize,
    pub history: Vec<EpochMetrics>,
    pub best_epoch: Option<usize>,
    /// Validation accuracy (all heads right) of the best epoch.
    pub best_val_accuracy: f64,
}

#[derive(Serialize, Deserialize)]
struct LastCheckpoint {
    model: String,
    optimizer: String,
    /// The run's full configuration, to refuse resuming another run.
    config: serde_json::Value,
    state: TrainState,
}

/// The checkpoint folder of one run.
#[derive(Clone, Debug)]
pub struct Checkpoints {
    pub dir: PathBuf,
}

impl Checkpoints {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn best_path(&self) -> PathBuf {
        self.dir.join("best.mpk")
    }

    /// `model.mpk`: the model the run tested, which prediction loads.
    pub fn model_path(&self) -> PathBuf {
        self.dir.join(MODEL_FILE)
    }

    fn last_path(&self) -> PathBuf {
        self.dir.join("last.json")
    }

    /// `model.json`: how to rebuild the model the weights belong to.
    pub fn save_model_config(&self, config: &ModelConfig) -> Result<(), CheckpointError> {
        write(
            &self.dir.join(MODEL_CONFIG_FILE),
            config.to_string().as_bytes(),
        )
    }

    pub fn save_best<B: Backend>(&self, model: &Model<B>) -> Result<(), CheckpointError> {
        save_model(model, &self.best_path())
    }

    /// Saves the model the run tested as `model.mpk`.
    pub fn save_tested<B: Backend>(&self, model: &Model<B>) -> Result<(), CheckpointError> {
        save_model(model, &self.model_path())
    }

    /// Saves model, optimiser and state after epoch `state.epochs_done`.
    pub fn save_last<B: TrainBackend>(
        &self,
        model: &Model<B>,
        optimizer: &ModelOptimizer<B>,
        state: &TrainState,
        config: &serde_json::Value,
    ) -> Result<(), CheckpointError> {
        let epoch = state.epochs_done;
        let model_file = format!("last-e{epoch}-model.mpk");
        let optimizer_file = format!("last-e{epoch}-optimizer.mpk");
        save_model(model, &self.dir.join(&model_file))?;
        let bytes = optimizer
            .to_bytes()
            .map_err(|e| io(&self.dir.join(&optimizer_file), e))?;
        write(&self.dir.join(&optimizer_file), &bytes)?;
        let last = LastCheckpoint {
            model: model_file,
            optimizer: optimizer_file,
            config: config.clone(),
            state: state.clone(),
        };
        let json = serde_json::to_vec_pretty(&last).map_err(|e| io(&self.last_path(), e))?;
        write(&self.last_path(), &json)?;
        // Only now is the previous pair unreferenced.
        if epoch > 0 {
            for old in [
                format!("last-e{}-model.mpk", epoch - 1),
                format!("last-e{}-optimizer.mpk", epoch - 1),
            ] {
                let _ = std::fs::remove_file(self.dir.join(old));
            }
        }
        Ok(())
    }

    /// Loads the last checkpoint into `model` and `optimizer`, if there is one.
    #[allow(clippy::type_complexity)]
    pub fn load_last<B: TrainBackend>(
        &self,
        model: Model<B>,
        optimizer: ModelOptimizer<B>,
        config: &serde_json::Value,
        device: &B::Device,
    ) -> Result<Option<(Model<B>, ModelOptimizer<B>, TrainState)>, CheckpointError> {
        let path = self.last_path();
        let Ok(json) = std::fs::read(&path) else {
            return Ok(None);
        };
        let last: LastCheckpoint =
            serde_json::from_slice(&json).map_err(|e| incompatible(&path, e))?;
        if &last.config != config {
            return Err(CheckpointError::OtherConfiguration {
                dir: self.dir.clone(),
            });
        }
        let model = load_model(model, &self.dir.join(&last.model), device)?;
        let optimizer_path = self.dir.join(&last.optimizer);
        let bytes = std::fs::read(&optimizer_path).map_err(|e| io(&optimizer_path, e))?;
        let optimizer = optimizer
            .load_bytes(bytes, device)
            .map_err(|e| incompatible(&optimizer_path, e))?;
        Ok(Some((model, optimizer, last.state)))
    }
}

/// Saves a model's parameters to `path`: those of the network it holds, so
/// a file is the same as that network's own ([`save_module`]).
pub fn save_model<B: Backend>(model: &Model<B>, path: &Path) -> Result<(), CheckpointError> {
    match model {
        Model::Mlp(mlp) => save_module(mlp, path),
        Model::Cnn(cnn) => save_module(cnn, path),
    }
}

/// Loads parameters saved by [`save_model`] into `model`.
pub fn load_model<B: Backend>(
    model: Model<B>,
    path: &Path,
    device: &B::Device,
) -> Result<Model<B>, CheckpointError> {
    Ok(match model {
        Model::Mlp(mlp) => Model::Mlp(load_module(mlp, path, device)?),
        Model::Cnn(cnn) => Model::Cnn(load_module(cnn, path, device)?),
    })
}

/// Saves a module's parameters to `path` (Burn's named MessagePack format).
pub fn save_module<B: Backend, M: Module<B>>(
    model: &M,
    path: &Path,
) -> Result<(), CheckpointError> {
    let bytes = ByteRecorder::default()
        .record(model.clone().into_record(), ())
        .map_err(|e| io(path, e))?;
    write(path, &bytes)
}

/// Loads parameters saved by [`save_module`] into `model`.
pub fn load_module<B: Backend, M: Module<B>>(
    model: M,
    path: &Path,
    device: &B::Device,
) -> Result<M, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    let record = ByteRecorder::default()
        .load(bytes, device)
        .map_err(|e| incompatible(path, e))?;
    // A record of another architecture can decode (same field names) with
    // other shapes; the parameter count tells.
    let expected = model.num_params();
    let loaded = model.load_record(record);
    if loaded.num_params() != expected {
        return Err(CheckpointError::Incompatible {
            path: path.to_path_buf(),
            message: format!(
                "it has {} parameters, the model has {expected}",
                loaded.num_params()
            ),
        });
    }
    Ok(loaded)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    write_bytes_atomically(path, bytes).map_err(|e| CheckpointError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn io(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn incompatible(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Incompatible {
        path: path.to_path_buf(),
        message: e.to_string().lines().next().unwrap_or_default().to_string(),
    }
}
