//! `export`, as every Burn part's command line has it: a trained model out
//! of Burn's own format, for other runtimes.
//!
//! - `--onnx FILE`: an ONNX graph ([`onnx`]), its weights f32 or, with
//!   `--int8`, int8 per output channel. Before the file is put in place it
//!   is run with tract ([`onnx_run`]): its logits must equal Burn's, and
//!   both read the test set.
//! - `--pytorch FILE`: the weights as safetensors in PyTorch's layout
//!   ([`safetensors`]), which the reference scripts load.

pub mod bench;
pub mod network;
pub mod onnx;
pub mod onnx_run;
pub mod safetensors;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use mnist_data::{DataError, Dataset, Images};
use prost::Message;

use mnist_models::TrainBackend;
use mnist_models::evaluate::{evaluate, every_head_right};
use mnist_models::models::ModelConfig;
use mnist_train::backend::{BackendKind, BackendTask, run_on};
use mnist_train::checkpoint::CheckpointError;
use mnist_train::inference::{LoadError, TrainedModel};
use network::Network;
use onnx::Weights;
use onnx_run::OnnxModel;

/// The largest difference between an f32 export's logits and Burn's that
/// still counts as the same model (float sums in another order).
pub const LOGIT_TOLERANCE: f32 = 1e-4;
/// Test images whose logits are compared.
const COMPARED_IMAGES: usize = 256;

#[derive(Args, Clone, Debug)]
pub struct ExportArgs {
    /// Write the model as ONNX (opset 13; input `image` [batch, 1, height,
    /// width], pixels in [0, 1]; outputs: logits) to FILE.
    #[arg(long, value_name = "FILE", required_unless_present = "pytorch")]
    pub onnx: Option<PathBuf>,
    /// Store the ONNX file's weights as int8, one scale per output channel
    /// (about four times smaller).
    #[arg(long, requires = "onnx")]
    pub int8: bool,
    /// Write the weights as safetensors in PyTorch's layout (the reference
    /// scripts' `evaluate` loads them) to FILE.
    #[arg(long, value_name = "FILE")]
    pub pytorch: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{flag} {path}: {message}")]
    Path {
        flag: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Safetensors(#[from] safetensors::SafetensorsError),
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{path}: tract cannot run it: {message}")]
    Runtime { path: PathBuf, message: String },
    #[error(
        "{path}: the exported model's logits differ from Burn's by up to {difference:.1e} \
         (more than {LOGIT_TOLERANCE:.0e}); the file was not written"
    )]
    Mismatch { path: PathBuf, difference: f32 },
    #[error("the course has no test set of {height}x{width} images to check the export on")]
    NoTestSet { height: usize, width: usize },
    #[error("the test set has {found} images; the benchmark needs {needed}")]
    TooFewImages { found: usize, needed: usize },
}

impl ExportArgs {
    /// Checks every output path before any work: its folder must exist,
    /// and it must not be a folder itself.
    pub fn validate(&self) -> Result<(), ExportError> {
        if let Some(path) = &self.onnx {
            check_output_path("--onnx", path)?;
        }
        if let Some(path) = &self.pytorch {
            check_output_path("--pytorch", path)?;
        }
        Ok(())
    }
}

fn check_output_path(flag: &'static str, path: &Path) -> Result<(), ExportError> {
    let error = |message: String| ExportError::Path {
        flag,
        path: path.to_path_buf(),
        message,
    };
    if path.is_dir() {
        return Err(error("is a folder; give a file name".into()));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(error(format!(
            "the folder {} does not exist",
            folder.display()
        )));
    }
    Ok(())
}

/// What an ONNX export was checked against.
#[derive(Clone, Debug)]
pub struct OnnxCheck {
    pub bytes: usize,
    /// Largest |tract − Burn| over the logits of the compared images.
    pub max_difference: f32,
    pub compared_images: usize,
    /// Fraction of the test set with every head right: tract, Burn.
    pub accuracy: (f64, f64),
    pub test_images: usize,
}

/// Exports the trained model in `checkpoints` as `args` asks, checked on
/// the set `test_set` loads (the part's test set); prints what it wrote.
pub fn export(
    args: &ExportArgs,
    checkpoints: &Path,
    backend: BackendKind,
) -> Result<(), ExportError> {
    args.validate()?;
    struct Task<'a> {
        args: &'a ExportArgs,
        checkpoints: &'a Path,
    }
    impl BackendTask for Task<'_> {
        type Output = Result<(), ExportError>;
        fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
            let trained = TrainedModel::<B::InnerBackend>::load(self.checkpoints, &device)?;
            if let Some(path) = &self.args.onnx {
                let test = course_test_set(trained.config.image_size())?;
                let weights = if self.args.int8 {
                    Weights::Int8
                } else {
                    Weights::F32
                };
                let metadata = metadata(&trained.config, self.checkpoints, weights);
                let check = write_onnx(&trained, &device, path, weights, &metadata, &test)?;
                print_onnx_check(path, weights, &check);
            }
            if let Some(path) = &self.args.pytorch {
                let provenance = training_provenance(self.checkpoints)
                    .map(|trained| ("trained".to_string(), trained));
                safetensors::write_safetensors(
                    &trained.model,
                    &trained.config,
                    &provenance.into_iter().collect(),
                    path,
                )?;
                println!(
                    "Wrote {} (safetensors in PyTorch's layout; the reference scripts' \
                     `evaluate` loads it)",
                    path.display()
                );
            }
            Ok(())
        }
    }
    run_on(backend, Task { args, checkpoints }).map_err(LoadError::from)?
}

/// The course's test set for models reading images of `size`: MNIST's
/// 10,000 test images for 28×28, Part 4's 4,000 composed ones for 42×28.
pub fn course_test_set(size: (usize, usize)) -> Result<Dataset, ExportError> {
    use mnist_data::two_digit;
    let mnist = mnist_data::Mnist::load_default()?;
    match size {
        (28, 28) => Ok(mnist.test),
        (two_digit::HEIGHT, two_digit::WIDTH) => {
            let count = two_digit::TEST_COUNT;
            Ok(two_digit::compose(
                &mnist.test,
                count,
                two_digit::COURSE_SEED,
                1,
            ))
        }
        (height, width) => Err(ExportError::NoTestSet { height, width }),
    }
}

/// Writes `trained` as ONNX to `path`, once tract has run it: an f32
/// file's logits must be Burn's (within [`LOGIT_TOLERANCE`]); either kind's
/// test accuracy is measured against Burn's.
pub fn write_onnx<B: mnist_models::CnnOps>(
    trained: &TrainedModel<B>,
    device: &B::Device,
    path: &Path,
    weights: Weights,
    metadata: &[(String, String)],
    test: &Dataset,
) -> Result<OnnxCheck, ExportError> {
    let network = Network::of(&trained.model, trained.config.image_size());
    let bytes = onnx::onnx_model(&network, weights, metadata).encode_to_vec();
    write_checked(path, &bytes, |written| {
        let runtime = OnnxModel::load(written)?;
        let compared = COMPARED_IMAGES.min(test.len());
        let ours = runtime.logits(&test.images, 0..compared)?;
        let burn = burn_logits(trained, &test.images, compared, device);
        let max_difference = ours
            .iter()
            .flatten()
            .zip(burn.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        if weights == Weights::F32 && (max_difference.is_nan() || max_difference > LOGIT_TOLERANCE)
        {
            return Err(ExportError::Mismatch {
                path: path.to_path_buf(),
                difference: max_difference,
            });
        }
        let tract_labels = runtime.predict(&test.images)?;
        let burn_accuracy = evaluate(&trained.model, test, device).accuracy_all_heads;
        Ok(OnnxCheck {
            bytes: bytes.len(),
            max_difference,
            compared_images: compared,
            accuracy: (every_head_right(&tract_labels, &test.labels), burn_accuracy),
            test_images: test.len(),
        })
    })
}

/// Burn's logits for the first `n` images: one `[n × 10]` vector per head.
fn burn_logits<B: mnist_models::CnnOps>(
    trained: &TrainedModel<B>,
    images: &Images,
    n: usize,
    device: &B::Device,
) -> Vec<Vec<f32>> {
    let input = mnist_models::batch::images_tensor(images, 0..n, device);
    trained
        .model
        .forward(input)
        .into_iter()
        .map(|logits| {
            logits
                .into_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .expect("converted to f32")
        })
        .collect()
}

/// Writes `bytes` to a temporary file beside `path`, lets `check` read it,
/// and only then renames it to `path`: a file that fails its check is never
/// put in place.
fn write_checked<T>(
    path: &Path,
    bytes: &[u8],
    check: impl FnOnce(&Path) -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    let write_error = |e: std::io::Error| ExportError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(folder)
        .map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    mnist_data::files::readable_by_all(file.as_file()).map_err(write_error)?;
    file.as_file().sync_all().map_err(write_error)?;
    let checked = check(file.path())?;
    file.persist(path).map_err(|e| write_error(e.error))?;
    Ok(checked)
}

/// The model's description for its file: what it reads and how, what it
/// outputs, and where it came from.
pub fn metadata(
    config: &ModelConfig,
    checkpoints: &Path,
    weights: Weights,
) -> Vec<(String, String)> {
    let (height, width) = config.image_size();
    let heads = config.heads();
    let outputs = onnx::output_names(heads);
    let digits = if heads == 1 {
        "the digit".to_string()
    } else {
        format!("digit 1 to {heads}, top to bottom")
    };
    let layout = if (height, width) == (28, 28) {
        "an MNIST digit: cropped to the ink, scaled to fit 20x20 keeping the aspect ratio, \
         centred by its centre of mass in 28x28"
            .to_string()
    } else {
        format!(
            "{heads} MNIST digits of 28x28 in {height}x{width}, the first at the top, each \
             next one 14 rows lower, overlaps combined by the brighter pixel"
        )
    };
    let mut entries = vec![
        ("classes", "0,1,2,3,4,5,6,7,8,9".to_string()),
        (
            "input",
            format!("{}: float32 [batch, 1, {height}, {width}]", onnx::INPUT),
        ),
        (
            "preprocessing",
            format!(
                "greyscale, ink bright on a dark background, pixel values divided by 255; \
                 {layout}"
            ),
        ),
        (
            "outputs",
            format!(
                "{}: float32 [batch, 10] logits of {digits}; softmax gives probabilities",
                outputs.join(", ")
            ),
        ),
        ("model", config.describe()),
        (
            "model_config",
            serde_json::to_string(config).unwrap_or_default(),
        ),
        (
            "weights",
            match weights {
                Weights::F32 => "float32".to_string(),
                Weights::Int8 => {
                    "int8, one scale per output channel, zero point 0 (DequantizeLinear)".into()
                }
            },
        ),
        (
            "exported",
            format!(
                "{} from {} (commit {})",
                mnist_report::provenance::utc_now(),
                checkpoints.display(),
                mnist_report::provenance::git_commit()
            ),
        ),
    ];
    if let Some(trained) = training_provenance(checkpoints) {
        entries.push(("trained", trained));
    }
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// The run's provenance (commit, backend, date) from its `config.json`,
/// beside the checkpoint folder, when there is one.
fn training_provenance(checkpoints: &Path) -> Option<String> {
    let run = checkpoints.parent()?;
    let text = std::fs::read_to_string(run.join("config.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(json.get("provenance")?.to_string())
}

fn print_onnx_check(path: &Path, weights: Weights, check: &OnnxCheck) {
    let kind = match weights {
        Weights::F32 => "f32",
        Weights::Int8 => "int8",
    };
    println!(
        "Wrote {} (ONNX opset {}, {kind} weights, {:.1} KB)",
        path.display(),
        onnx::OPSET,
        check.bytes as f64 / 1000.0
    );
    println!(
        "  run with tract: logits of {} test images within {:.1e} of Burn's",
        check.compared_images, check.max_difference
    );
    println!(
        "  test accuracy: {:.2} % in tract, {:.2} % in Burn ({} images)",
        100.0 * check.accuracy.0,
        100.0 * check.accuracy.1,
        check.test_images
    );
}

impl From<CheckpointError> for ExportError {
    fn from(e: CheckpointError) -> Self {
        Self::Load(LoadError::Checkpoint(e))
    }
}
