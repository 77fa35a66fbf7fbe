//! `eval`, as the parts' command lines have it: a trained model's loss and
//! accuracy on a labelled set, read from IDX files (a prefix, or a folder of
//! MNIST whose test split is taken), a CSV file with labels, or a parquet
//! file in Hugging Face's layout.

use std::path::{Path, PathBuf};

use clap::Args;
use mnist_data::{DataError, Dataset, Mnist, idx};
use serde::Serialize;

use crate::backend::BackendKind;
use crate::inference::{LoadError, Predictor, load_predictor};
use mnist_models::evaluate::score;

#[derive(Args, Clone, Debug)]
pub struct EvalArgs {
    /// The labelled set: an IDX prefix (PREFIX-images-idx3-ubyte and
    /// PREFIX-labels-idx1-ubyte, plain or .gz), a folder of MNIST (its test
    /// split: t10k-* IDX files or Hugging Face's test-*.parquet), a CSV file
    /// with labels (Kaggle's layout) or a .parquet file (Hugging Face's
    /// layout).
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Print one JSON object (images, loss, accuracy per head,
    /// accuracy_all_heads) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A model's loss and accuracy on a labelled set, named as in a run's
/// `config.json` (`test`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetScore {
    pub images: usize,
    /// Mean cross-entropy, averaged over heads.
    pub loss: f64,
    /// Fraction right, per head.
    pub accuracy: Vec<f64>,
    /// Fraction of images with every head right.
    pub accuracy_all_heads: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{}: the CSV file has no labels: eval needs a label per image", path.display())]
    Unlabelled { path: PathBuf },
    #[error("{}: {found}, the model reads {expected}", path.display())]
    Mismatch {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

/// Reads a labelled set with `heads` labels per image from `path`, by its
/// kind: `.parquet` is Hugging Face's layout, `.csv` (or `.csv.gz`) Kaggle's
/// with labels, a folder holds MNIST (its test split is read), anything else
/// is an IDX prefix.
pub fn load_labelled_set(path: &Path, heads: usize) -> Result<Dataset, EvalError> {
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".parquet") {
        return Ok(mnist_data::parquet::read_parquet(path)?);
    }
    if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        let csv = mnist_data::csv::read_csv(path)?;
        let labels = csv.labels.ok_or_else(|| EvalError::Unlabelled {
            path: path.to_path_buf(),
        })?;
        return Ok(Dataset::new(csv.images, labels));
    }
    if path.is_dir() {
        return Ok(Mnist::load_test(path)?);
    }
    // A prefix: the labels file for `heads`, else the one for the other
    // count, so that a set made for another model is named as such.
    let other_heads = if heads == 1 { 2 } else { 1 };
    idx::read_dataset_prefix(path, heads)
        .or_else(|error| match error {
            DataError::MissingFile { .. } => {
                idx::read_dataset_prefix(path, other_heads).map_err(|_| error)
            }
            error => Err(error),
        })
        .map_err(EvalError::from)
}

/// Scores `model` on `set` (read from `path`), whose images and labels per
/// image must be the model's.
pub fn score_set(model: &dyn Predictor, set: &Dataset, path: &Path) -> Result<SetScore, EvalError> {
    let config = model.config();
    let (height, width) = config.image_size();
    let shape =
        |height, width, heads| format!("{height}x{width} images with {heads} label(s) each");
    let found = (set.images.height, set.images.width, set.labels.heads);
    if found != (height, width, config.heads()) {
        return Err(EvalError::Mismatch {
            path: path.to_path_buf(),
            found: shape(found.0, found.1, found.2),
            expected: shape(height, width, config.heads()),
        });
    }
    let evaluation = score(model.predict(&set.images), set);
    Ok(SetScore {
        images: set.len(),
        loss: evaluation.loss,
        accuracy: evaluation.accuracy,
        accuracy_all_heads: evaluation.accuracy_all_heads,
    })
}

/// Evaluates the trained model in `model_dir` (a checkpoint folder) on the
/// labelled set `args.data`, on `backend`, and prints the result.
pub fn eval(args: &EvalArgs, model_dir: &Path, backend: BackendKind) -> Result<(), EvalError> {
    let model = load_predictor(model_dir, backend)?;
    let set = load_labelled_set(&args.data, model.config().heads())?;
    let result = score_set(model.as_ref(), &set, &args.data)?;
    if args.json {
        // Numbers and a list of numbers always serialise.
        let json = serde_json::to_string(&result).unwrap_or_default();
        println!("{json}");
        return Ok(());
    }
    let percent = |a: f64| format!("{:.2} %", 100.0 * a);
    let accuracy = match result.accuracy.as_slice() {
        [one] => format!("accuracy {}", percent(*one)),
        heads => format!(
            "accuracy per head {}; all heads {}",
            heads
                .iter()
                .map(|&a| percent(a))
                .collect::<Vec<_>>()
                .join(", "),
            percent(result.accuracy_all_heads)
        ),
    };
    println!(
        "{}: {} images; {accuracy}; loss {:.4}",
        args.data.display(),
        result.images,
        result.loss
    );
    Ok(())
}
