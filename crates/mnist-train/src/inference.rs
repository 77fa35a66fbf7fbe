//! Trained models for prediction: loading one from its checkpoint folder
//! ([`TrainedModel`], or [`load_predictor`] on the backend `--backend`
//! names), reading images to predict from IDX, CSV or image files, and the
//! Kaggle submission format (`ImageId,Label`) out.

use std::io::Write;
use std::path::Path;

use burn::prelude::*;
use mnist_data::files::write_atomically;
use mnist_data::{DataError, Images, idx, two_digit};

use crate::backend::{BackendKind, BackendTask, BackendUnavailable, run_on};
use crate::checkpoint::{CheckpointError, MODEL_CONFIG_FILE, MODEL_FILE, load_model};
use crate::image_input::{ImageInputError, is_image_file, load_digit, load_image};
use crate::two_digit_image::two_digit_style;
use mnist_models::CnnOps;
use mnist_models::TrainBackend;
use mnist_models::evaluate::{Predictions, predictions};
use mnist_models::models::{Model, ModelConfig};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Image(#[from] ImageInputError),
    #[error("{path}: images are {found}, the model reads {expected}")]
    Shape {
        path: String,
        found: String,
        expected: String,
    },
}

/// Reads images to predict from `path`, by its kind: `.csv` (optionally
/// `.csv.gz`) is CSV, `.parquet` Hugging Face's MNIST layout; an image
/// file (PNG, JPEG, BMP, GIF, WebP or TIFF, known by its content or its
/// extension) is one 28×28 digit or one 42×28 pair of digits, as the model
/// reads (made MNIST-like); anything else IDX (plain or gzip). The result
/// must have the model's image size.
pub fn load_images(path: &Path, height: usize, width: usize) -> Result<Images, InputError> {
    let name = path.to_string_lossy().to_lowercase();
    let images = if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        mnist_data::csv::read_csv(path)?.images
    } else if name.ends_with(".parquet") {
        mnist_data::parquet::read_parquet(path)?.images
    } else if is_image_file(path) {
        let pixels = match (height, width) {
            (28, 28) => load_digit(path)?,
            (two_digit::HEIGHT, two_digit::WIDTH) => load_image(path, two_digit_style)?,
            _ => {
                return Err(InputError::Shape {
                    path: path.display().to_string(),
                    found: "one 28x28 digit or 42x28 pair of digits per image file".into(),
                    expected: format!("{height}x{width}"),
                });
            }
        };
        Images::new(1, height, width, pixels)
    } else {
        idx::read_images(path)?
    };
    if (images.height, images.width) != (height, width) {
        return Err(InputError::Shape {
            path: path.display().to_string(),
            found: format!("{}x{}", images.height, images.width),
            expected: format!("{height}x{width}"),
        });
    }
    Ok(images)
}

/// Writes predictions as CSV: `ImageId` (ids from 1), then one column per
/// head named by `label_columns` ([`kaggle_label_columns`]: `Label`, Kaggle's
/// digit-recognizer submission format, or `Label_1,Label_2` for two heads);
/// `probabilities` adds `p0..p9` per head (`p0_1..p9_1,p0_2..` for two).
pub fn write_predictions_csv(
    path: &Path,
    predictions: &Predictions,
    probabilities: bool,
    label_columns: &[impl AsRef<str>],
) -> Result<(), DataError> {
    let heads = predictions.heads();
    debug_assert_eq!(label_columns.len(), heads, "one label column per head");
    write_atomically(path, |out| {
        let mut header = vec!["ImageId".to_string()];
        header.extend(label_columns.iter().map(|c| c.as_ref().to_string()));
        if probabilities {
            for head in 0..heads {
                for digit in 0..10 {
                    header.push(label_column(&format!("p{digit}"), head, heads));
                }
            }
        }
        writeln!(out, "{}", header.join(","))?;
        for i in 0..predictions.labels.count() {
            let mut row = vec![(i + 1).to_string()];
            row.extend(predictions.labels.of(i).iter().map(u8::to_string));
            if probabilities {
                for head in 0..heads {
                    row.extend(
                        predictions
                            .probabilities(i, head)
                            .iter()
                            .map(|p| format!("{p:.6}")),
                    );
                }
            }
            writeln!(out, "{}", row.join(","))?;
        }
        Ok(())
    })
}

/// The label columns of a submission for a model with `heads` heads:
/// `Label` for one, `Label_1,Label_2,..` for more.
pub fn kaggle_label_columns(heads: usize) -> Vec<String> {
    (0..heads)
        .map(|h| label_column("Label", h, heads))
        .collect()
}

fn label_column(name: &str, head: usize, heads: usize) -> String {
    if heads == 1 {
        name.to_string()
    } else {
        format!("{name}_{}", head + 1)
    }
}

/// Whether `dir` holds a trained model (`model.json` and `model.mpk`).
pub fn has_model(dir: &Path) -> bool {
    dir.join(MODEL_CONFIG_FILE).is_file() && dir.join(MODEL_FILE).is_file()
}

/// The folder holding the trained model named by `dir`: `dir` itself, or
/// its `checkpoints` folder when `dir` is a run's folder.
pub fn find_model(dir: &Path) -> Option<std::path::PathBuf> {
    [dir.to_path_buf(), dir.join("checkpoints")]
        .into_iter()
        .find(|d| has_model(d))
}

/// A trained model loaded from a checkpoint folder (`model.json` +
/// `model.mpk`), ready to predict.
pub struct TrainedModel<B: Backend> {
    pub config: ModelConfig,
    pub model: Model<B>,
}

impl<B: CnnOps> TrainedModel<B> {
    /// Loads the model a run tested from its checkpoint folder.
    pub fn load(checkpoints: &Path, device: &B::Device) -> Result<Self, CheckpointError> {
        let config_path = checkpoints.join(MODEL_CONFIG_FILE);
        let json = std::fs::read_to_string(&config_path).map_err(|e| CheckpointError::Io {
            path: config_path.clone(),
            message: e.to_string(),
        })?;
        let config: ModelConfig =
            serde_json::from_str(&json).map_err(|e| CheckpointError::Incompatible {
                path: config_path.clone(),
                message: e.to_string(),
            })?;
        config
            .validate()
            .map_err(|message| CheckpointError::Incompatible {
                path: config_path.clone(),
                message,
            })?;
        let model = load_model(config.init(device), &checkpoints.join(MODEL_FILE), device)?;
        Ok(Self { config, model })
    }

    /// Predicts every image (which must have the model's size).
    pub fn predict(&self, images: &Images, device: &B::Device) -> Predictions {
        predictions(&self.model, images, device)
    }
}

/// A trained model ready to predict on the device it was loaded on: what
/// `predict`, `serve` and `eval` use, whatever the backend.
pub trait Predictor: Send {
    fn config(&self) -> &ModelConfig;
    /// Predicts every image (which must have the model's size).
    fn predict(&self, images: &Images) -> Predictions;
}

struct OnDevice<B: Backend> {
    model: TrainedModel<B>,
    device: B::Device,
}

impl<B: CnnOps> Predictor for OnDevice<B> {
    fn config(&self) -> &ModelConfig {
        &self.model.config
    }

    fn predict(&self, images: &Images) -> Predictions {
        self.model.predict(images, &self.device)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Backend(#[from] BackendUnavailable),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Loads the trained model in `checkpoints` on `backend`'s default device.
pub fn load_predictor(
    checkpoints: &Path,
    backend: BackendKind,
) -> Result<Box<dyn Predictor>, LoadError> {
    struct Load<'a>(&'a Path);
    impl BackendTask for Load<'_> {
        type Output = Result<Box<dyn Predictor>, CheckpointError>;
        fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
            let model = TrainedModel::<B::InnerBackend>::load(self.0, &device)?;
            Ok(Box::new(OnDevice { model, device }))
        }
    }
    Ok(run_on(backend, Load(checkpoints))??)
}

/// The trained model named by `--model DIR`: `DIR` itself or its
/// `checkpoints` folder; otherwise an error that says how to make one
/// (`train_command`, e.g. `cargo run --release -p cnn`).
pub fn model_dir(dir: &Path, train_command: &str) -> Result<std::path::PathBuf, NoModel> {
    find_model(dir).ok_or_else(|| NoModel {
        dir: dir.to_path_buf(),
        train_command: train_command.to_string(),
    })
}

#[derive(Debug, thiserror::Error)]
#[error(
    "--model: no trained model in {} (it needs model.json and model.mpk): train one with \
     `{train_command}`, or give a run's checkpoint folder",
    dir.display()
)]
pub struct NoModel {
    pub dir: std::path::PathBuf,
    pub train_command: String,
}
