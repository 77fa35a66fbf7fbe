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
//! written after the files it names, so it always points at a complete pair,
//! and records their SHA-256: `--resume` refuses a damaged or replaced file,
//! a name outside the folder, or a history that does not add up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::nn::LinearRecord;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;
use mnist_data::files::write_bytes_atomically;
use mnist_data::mnist::sha256_hex;
use mnist_report::EpochMetrics;
use serde::{Deserialize, Serialize};

use mnist_models::TrainBackend;
use mnist_models::models::cnn::CnnRecord;
use mnist_models::models::mlp::MlpRecord;
use mnist_models::models::{Model, ModelConfig};
use mnist_models::optimizer::ModelOptimizer;

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
        "{path}: the checkpoint was made with another configuration; \
         delete it or run without --resume"
    )]
    OtherConfiguration { path: PathBuf },
    #[error("--resume: {dir} has no checkpoint to resume (no last.json); run without --resume")]
    NothingToResume { dir: PathBuf },
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
    /// SHA-256 of each file the checkpoint reads, by file name.
    sha256: BTreeMap<String, String>,
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
        self.dir.join(BEST_FILE)
    }

    /// `model.mpk`: the model the run tested, which prediction loads.
    pub fn model_path(&self) -> PathBuf {
        self.dir.join(MODEL_FILE)
    }

    fn last_path(&self) -> PathBuf {
        self.dir.join("last.json")
    }

    /// Whether there is a last checkpoint to resume.
    pub fn has_last(&self) -> bool {
        self.last_path().is_file()
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
        let mut sha256 = BTreeMap::new();
        let model_bytes = model_bytes(model, &self.dir.join(&model_file))?;
        write(&self.dir.join(&model_file), &model_bytes)?;
        sha256.insert(model_file.clone(), sha256_hex(&model_bytes));
        let bytes = optimizer
            .to_bytes()
            .map_err(|e| io(&self.dir.join(&optimizer_file), e))?;
        write(&self.dir.join(&optimizer_file), &bytes)?;
        sha256.insert(optimizer_file.clone(), sha256_hex(&bytes));
        if state.best_epoch.is_some() {
            let best = read(&self.best_path())?;
            sha256.insert(BEST_FILE.to_string(), sha256_hex(&best));
        }
        let last = LastCheckpoint {
            model: model_file,
            optimizer: optimizer_file,
            config: config.clone(),
            state: state.clone(),
            sha256,
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

    /// Loads the last checkpoint into `model` and `optimizer`; `epochs` is
    /// the run's length. The best model so far, if any, is `best.mpk`, whose
    /// checksum is checked here and which the caller loads.
    #[allow(clippy::type_complexity)]
    pub fn load_last<B: TrainBackend>(
        &self,
        model: Model<B>,
        optimizer: ModelOptimizer<B>,
        config: &serde_json::Value,
        epochs: usize,
        device: &B::Device,
    ) -> Result<(Model<B>, ModelOptimizer<B>, TrainState), CheckpointError> {
        let path = self.last_path();
        if !path.is_file() {
            return Err(CheckpointError::NothingToResume {
                dir: self.dir.clone(),
            });
        }
        let json = read(&path)?;
        let last: LastCheckpoint =
            serde_json::from_slice(&json).map_err(|e| incompatible(&path, e))?;
        if &last.config != config {
            return Err(CheckpointError::OtherConfiguration { path });
        }
        last.check(&path, epochs)?;
        let model_path = self.dir.join(&last.model);
        let model = load_model_bytes(
            model,
            &model_path,
            last.verified(&self.dir, &last.model)?,
            device,
        )?;
        let optimizer_path = self.dir.join(&last.optimizer);
        let optimizer_bytes = last.verified(&self.dir, &last.optimizer)?;
        let optimizer = without_panics(&optimizer_path, || {
            optimizer
                .load_bytes(optimizer_bytes, device)
                .map_err(|e| incompatible(&optimizer_path, e))
        })?;
        if last.state.best_epoch.is_some() {
            last.verified(&self.dir, BEST_FILE)?;
        }
        Ok((model, optimizer, last.state))
    }
}

/// The best model's file, beside the last checkpoint.
const BEST_FILE: &str = "best.mpk";

impl LastCheckpoint {
    /// The names are the ones `save_last` gives (so nothing outside the
    /// folder is read) and the state adds up.
    fn check(&self, path: &Path, epochs: usize) -> Result<(), CheckpointError> {
        let state = &self.state;
        let done = state.epochs_done;
        let bad = |message: String| {
            Err(CheckpointError::Incompatible {
                path: path.to_path_buf(),
                message,
            })
        };
        if done == 0 || done > epochs {
            return bad(format!("{done} epochs done, of a run of {epochs}"));
        }
        if state.history.len() != done {
            return bad(format!(
                "{done} epochs done, but a history of {}",
                state.history.len()
            ));
        }
        if state
            .history
            .iter()
            .enumerate()
            .any(|(i, e)| e.epoch != i + 1)
        {
            return bad("its history's epochs are not 1, 2, 3, …".into());
        }
        if state
            .best_epoch
            .is_some_and(|best| best == 0 || best > done)
        {
            return bad(format!("best epoch {:?} of {done}", state.best_epoch));
        }
        let expected = [
            (&self.model, format!("last-e{done}-model.mpk")),
            (&self.optimizer, format!("last-e{done}-optimizer.mpk")),
        ];
        for (name, expected) in expected {
            if *name != expected {
                return bad(format!(
                    "it names {name:?} where epoch {done}'s file is {expected:?}"
                ));
            }
        }
        Ok(())
    }

    /// The bytes of `name` in `dir`, if their SHA-256 is the one recorded.
    fn verified(&self, dir: &Path, name: &str) -> Result<Vec<u8>, CheckpointError> {
        let path = dir.join(name);
        let bytes = read(&path)?;
        match self.sha256.get(name) {
            Some(sum) if *sum == sha256_hex(&bytes) => Ok(bytes),
            Some(_) => Err(CheckpointError::Incompatible {
                path,
                message: "its SHA-256 is not the one last.json records: the file is damaged or was replaced".into(),
            }),
            None => Err(CheckpointError::Incompatible {
                path,
                message: "last.json records no SHA-256 for it".into(),
            }),
        }
    }
}

/// Saves a model's parameters to `path`: those of the network it holds, so
/// a file is the same as that network's own ([`save_module`]).
pub fn save_model<B: Backend>(model: &Model<B>, path: &Path) -> Result<(), CheckpointError> {
    write(path, &model_bytes(model, path)?)
}

/// Loads parameters saved by [`save_model`] into `model`.
pub fn load_model<B: Backend>(
    model: Model<B>,
    path: &Path,
    device: &B::Device,
) -> Result<Model<B>, CheckpointError> {
    load_model_bytes(model, path, read(path)?, device)
}

/// [`load_model`] of bytes already read from `path`. The layers' number
/// and shapes are compared before loading: a record of another
/// architecture decodes (the field names are the same) but cannot load.
fn load_model_bytes<B: Backend>(
    model: Model<B>,
    path: &Path,
    bytes: Vec<u8>,
    device: &B::Device,
) -> Result<Model<B>, CheckpointError> {
    Ok(match model {
        Model::Mlp(mlp) => {
            let record: MlpRecord<B> = decode(path, bytes, device)?;
            let expected = mlp.clone().into_record();
            same_layers(
                path,
                [&expected.hidden, &expected.heads],
                [&record.hidden, &record.heads],
            )?;
            Model::Mlp(load_record(mlp, record, path)?)
        }
        Model::Cnn(cnn) => {
            let record: CnnRecord<B> = decode(path, bytes, device)?;
            let expected = cnn.clone().into_record();
            same_layers(
                path,
                [std::slice::from_ref(&expected.hidden), &expected.heads],
                [std::slice::from_ref(&record.hidden), &record.heads],
            )?;
            Model::Cnn(load_record(cnn, record, path)?)
        }
    })
}

/// The linear layers' weight shapes match, layer for layer.
fn same_layers<B: Backend, const N: usize>(
    path: &Path,
    expected: [&[LinearRecord<B>]; N],
    found: [&[LinearRecord<B>]; N],
) -> Result<(), CheckpointError> {
    let shapes = |groups: [&[LinearRecord<B>]; N]| -> Vec<Vec<[usize; 2]>> {
        groups
            .iter()
            .map(|layers| layers.iter().map(|l| l.weight.val().dims()).collect())
            .collect()
    };
    let (expected, found) = (shapes(expected), shapes(found));
    if expected != found {
        return Err(CheckpointError::Incompatible {
            path: path.to_path_buf(),
            message: format!(
                "its linear layers are {found:?}, model.json's are {expected:?} ([inputs, outputs])"
            ),
        });
    }
    Ok(())
}

/// Saves a module's parameters to `path` (Burn's named MessagePack format).
pub fn save_module<B: Backend, M: Module<B>>(
    model: &M,
    path: &Path,
) -> Result<(), CheckpointError> {
    write(path, &module_bytes(model, path)?)
}

/// A module's parameters as [`save_module`] writes them (`path` names the
/// file in errors).
fn module_bytes<B: Backend, M: Module<B>>(
    model: &M,
    path: &Path,
) -> Result<Vec<u8>, CheckpointError> {
    ByteRecorder::default()
        .record(model.clone().into_record(), ())
        .map_err(|e| io(path, e))
}

/// A model's parameters as [`save_model`] writes them.
fn model_bytes<B: Backend>(model: &Model<B>, path: &Path) -> Result<Vec<u8>, CheckpointError> {
    match model {
        Model::Mlp(mlp) => module_bytes(mlp, path),
        Model::Cnn(cnn) => module_bytes(cnn, path),
    }
}

/// Loads parameters saved by [`save_module`] into `model`.
pub fn load_module<B: Backend, M: Module<B>>(
    model: M,
    path: &Path,
    device: &B::Device,
) -> Result<M, CheckpointError> {
    let record = decode(path, read(path)?, device)?;
    load_record(model, record, path)
}

fn decode<B: Backend, R: Record<B>>(
    path: &Path,
    bytes: Vec<u8>,
    device: &B::Device,
) -> Result<R, CheckpointError> {
    without_panics(path, || {
        ByteRecorder::default()
            .load(bytes, device)
            .map_err(|e| incompatible(path, e))
    })
}

/// Runs `read`, which hands a file's bytes to Burn: a damaged file can make
/// Burn panic (an invalid parameter id, bytes that do not fill a tensor's
/// shape), and that panic becomes an error naming the file.
fn without_panics<T>(
    path: &Path,
    read: impl FnOnce() -> Result<T, CheckpointError>,
) -> Result<T, CheckpointError> {
    mnist_data::files::without_panics(read)
        .unwrap_or_else(|message| Err(incompatible(path, format!("damaged: {message}"))))
}

fn load_record<B: Backend, M: Module<B>>(
    model: M,
    record: M::Record,
    path: &Path,
) -> Result<M, CheckpointError> {
    // Shapes can differ where the parameter count tells.
    let expected = model.num_params();
    let loaded = without_panics(path, || Ok(model.load_record(record)))?;
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

fn read(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    std::fs::read(path).map_err(|e| io(path, e))
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
