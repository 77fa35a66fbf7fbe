//! `predict`, as every part's command line has it: a trained model's digits
//! for image, CSV or IDX files, printed one line per image or written in
//! Kaggle's submission format.

use std::path::{Path, PathBuf};

use clap::Args;
use mnist_data::{DataError, Images};

use crate::backend::BackendKind;
use crate::inference::{
    InputError, LoadError, Predictor, kaggle_label_columns, load_images, load_predictor,
    write_predictions_csv,
};
use mnist_models::evaluate::Predictions;

#[derive(Args, Clone, Debug)]
pub struct PredictArgs {
    /// Images: PNG, JPEG, BMP, GIF, WebP or TIFF files (one image each, either
    /// polarity: a digit, or for part 4 two digits one above the other), CSV
    /// (Kaggle's layout, with or without labels), parquet (Hugging Face's
    /// layout) or IDX (plain or .gz).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the predictions to this CSV file, in Kaggle's submission format
    /// (ImageId,Label; part 4: ImageId,First,Second; ids count from 1 across
    /// all files).
    #[arg(long, value_name = "OUT")]
    pub csv: Option<PathBuf>,
    /// Also give each image's ten probabilities (columns p0..p9 in the CSV).
    #[arg(long)]
    pub probabilities: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Write(#[from] DataError),
}

/// Predicts the images in `args.files` with the trained model in
/// `model_dir` (a checkpoint folder), on `backend`.
pub fn predict(
    args: &PredictArgs,
    model_dir: &Path,
    backend: BackendKind,
) -> Result<(), PredictError> {
    let model = load_predictor(model_dir, backend)?;
    let columns = kaggle_label_columns(model.config().heads());
    predict_with(args, model.as_ref(), &columns)
}

/// Predicts the images in `args.files` with `model`; the CSV names its
/// heads' columns `label_columns`.
pub fn predict_with(
    args: &PredictArgs,
    model: &dyn Predictor,
    label_columns: &[impl AsRef<str>],
) -> Result<(), PredictError> {
    let (height, width) = model.config().image_size();
    // Every file's images, and which file each image came from.
    let mut all = Images::new(0, height, width, Vec::new());
    let mut sources: Vec<(&Path, usize)> = Vec::new();
    for file in &args.files {
        let images = load_images(file, height, width)?;
        sources.push((file, images.count));
        all.count += images.count;
        all.pixels.extend(images.pixels);
    }
    let predictions = model.predict(&all);

    if let Some(out) = &args.csv {
        write_predictions_csv(out, &predictions, args.probabilities, label_columns)?;
        println!("Wrote {} predictions to {}", all.count, out.display());
        return Ok(());
    }
    let mut index = 0;
    for (file, count) in sources {
        for k in 0..count {
            let name = if count == 1 {
                file.display().to_string()
            } else {
                format!("{} #{}", file.display(), k + 1)
            };
            println!(
                "{name}: {}",
                describe(&predictions, index, args.probabilities)
            );
            index += 1;
        }
    }
    Ok(())
}

/// Image `index`'s digits and how sure the model is, e.g. `7 (p = 0.998)`;
/// with `probabilities`, each head's ten probabilities too.
fn describe(predictions: &Predictions, index: usize, probabilities: bool) -> String {
    let labels = predictions.labels.of(index);
    let digits: Vec<String> = labels.iter().map(u8::to_string).collect();
    let confidence: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(head, &d)| {
            format!(
                "{:.3}",
                predictions.probabilities(index, head)[usize::from(d)]
            )
        })
        .collect();
    let mut line = format!("{} (p = {})", digits.join(" "), confidence.join(" "));
    if probabilities {
        for head in 0..predictions.heads() {
            let p: Vec<String> = predictions
                .probabilities(index, head)
                .iter()
                .map(|p| format!("{p:.3}"))
                .collect();
            line.push_str(&format!("  p0..p9: {}", p.join(" ")));
        }
    }
    line
}
