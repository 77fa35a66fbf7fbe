//! The deployment table: a trained model in Burn against its ONNX exports
//! (f32 and int8 weights) run by tract, on this machine: file size, test
//! accuracy, and inference time for one image and for a batch of 256.

use std::path::Path;
use std::time::Instant;

use mnist_report::metrics::median;

use super::onnx::Weights;
use super::onnx_run::OnnxModel;
use super::{ExportError, burn_logits, course_test_set, metadata, write_onnx};
use mnist_data::Dataset;
use mnist_models::CnnOps;
use mnist_models::TrainBackend;
use mnist_models::evaluate::evaluate;
use mnist_models::models::{ConvMethod, Model};
use mnist_train::backend::{BackendKind, BackendTask, run_on};
use mnist_train::checkpoint::MODEL_FILE;
use mnist_train::inference::{LoadError, TrainedModel};

/// `mnist-export bench`'s options.
#[derive(clap::Args, Clone, Debug)]
pub struct BenchExportArgs {
    /// Timed runs of each kind (the median is shown).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub repeats: u64,
    /// Backend Burn runs the model on.
    #[arg(long, value_enum, default_value_t = BackendKind::Flex)]
    pub backend: BackendKind,
}

impl BenchExportArgs {
    /// Prints the deployment table of the model in `checkpoints`.
    pub fn print(&self, checkpoints: &Path) -> Result<(), ExportError> {
        let table = deployment_table(checkpoints, self.backend, self.repeats as usize)?;
        println!("{table}");
        println!(
            "Median of {} runs, after one warm-up; one thread per core (tract runs on one).",
            self.repeats
        );
        Ok(())
    }
}

/// Images in the batched timing.
pub const BATCH: usize = 256;

/// One row of the table.
#[derive(Clone, Debug)]
pub struct DeploymentRow {
    pub runtime: String,
    pub weights: &'static str,
    /// The file's size, where the model is kept in one.
    pub bytes: Option<u64>,
    pub accuracy: f64,
    /// Median milliseconds for one image, and for a batch of [`BATCH`].
    pub single_ms: f64,
    pub batch_ms: f64,
}

/// Measures the model in `checkpoints` in Burn on `backend` and exported to
/// ONNX (f32, int8) in tract, on the course's test set; `repeats` timed
/// runs each. Returns the table in Markdown.
pub fn deployment_table(
    checkpoints: &Path,
    backend: BackendKind,
    repeats: usize,
) -> Result<String, ExportError> {
    struct Task<'a> {
        checkpoints: &'a Path,
        repeats: usize,
    }
    impl BackendTask for Task<'_> {
        type Output = Result<String, ExportError>;
        fn run<B: TrainBackend>(self, device: B::Device, backend: BackendKind) -> Self::Output {
            let repeats = self.repeats;
            let trained = TrainedModel::<B::InnerBackend>::load(self.checkpoints, &device)?;
            let test = &course_test_set(trained.config.image_size())?;
            if test.len() < BATCH {
                return Err(ExportError::TooFewImages {
                    found: test.len(),
                    needed: BATCH,
                });
            }
            let burn_run = |n: usize| {
                burn_logits(&trained, &test.images, n, &device);
                Ok(())
            };
            let mut rows = vec![DeploymentRow {
                runtime: format!("Burn ({backend})"),
                weights: "f32",
                bytes: file_size(&self.checkpoints.join(MODEL_FILE)),
                accuracy: evaluate(&trained.model, test, &device).accuracy_all_heads,
                single_ms: time_ms(|| burn_run(1), repeats)?,
                batch_ms: time_ms(|| burn_run(BATCH), repeats)?,
            }];
            rows.push(burn_int8_row(&trained, &device, backend, test, repeats)?);
            let folder = tempfile::tempdir().map_err(|e| ExportError::Write {
                path: std::env::temp_dir(),
                message: e.to_string(),
            })?;
            for (weights, name) in [(Weights::F32, "f32"), (Weights::Int8, "int8")] {
                let path = folder.path().join(format!("model-{name}.onnx"));
                let metadata = metadata(&trained.config, self.checkpoints, weights);
                let check = write_onnx(&trained, &device, &path, weights, &metadata, test)?;
                let runtime = OnnxModel::load(&path)?;
                let tract_run = |n: usize| runtime.logits(&test.images, 0..n).map(drop);
                rows.push(DeploymentRow {
                    runtime: "ONNX in tract".into(),
                    weights: name,
                    bytes: Some(check.bytes as u64),
                    accuracy: check.accuracy.0,
                    single_ms: time_ms(|| tract_run(1), repeats)?,
                    batch_ms: time_ms(|| tract_run(BATCH), repeats)?,
                });
            }
            Ok(markdown(&trained.config.describe(), &rows, test.len()))
        }
    }
    let task = Task {
        checkpoints,
        repeats,
    };
    run_on(backend, task).map_err(LoadError::from)?
}

/// Burn's own int8: the weights quantized per tensor (`quantize_weights`),
/// the CNN's convolutions by Burn's layers, which read quantized weights.
fn burn_int8_row<B: CnnOps>(
    trained: &TrainedModel<B>,
    device: &B::Device,
    backend: BackendKind,
    test: &Dataset,
    repeats: usize,
) -> Result<DeploymentRow, ExportError> {
    use burn::module::{Module, Quantizer};
    use burn::tensor::quantization::{Calibration, QuantScheme};
    let mut model = trained.model.clone();
    if let Model::Cnn(cnn) = &mut model {
        cnn.conv = ConvMethod::Layers;
    }
    let model = model.quantize_weights(&mut Quantizer {
        calibration: Calibration::MinMax,
        scheme: QuantScheme::default(),
    });
    let quantized = TrainedModel {
        config: trained.config.clone(),
        model,
    };
    let run = |n: usize| {
        burn_logits(&quantized, &test.images, n, device);
        Ok(())
    };
    Ok(DeploymentRow {
        runtime: format!("Burn ({backend}), quantize_weights"),
        weights: "int8",
        bytes: None,
        accuracy: evaluate(&quantized.model, test, device).accuracy_all_heads,
        single_ms: time_ms(|| run(1), repeats)?,
        batch_ms: time_ms(|| run(BATCH), repeats)?,
    })
}

/// The rows as a Markdown table.
fn markdown(model: &str, rows: &[DeploymentRow], test_images: usize) -> String {
    let mut table = format!(
        "| {model} | weights | file | test accuracy ({test_images} images) | one image | batch of {BATCH} |\n\
         | --- | --- | ---: | ---: | ---: | ---: |\n"
    );
    for row in rows {
        table.push_str(&format!(
            "| {} | {} | {} | {:.2} % | {:.3} ms | {:.2} ms |\n",
            row.runtime,
            row.weights,
            row.bytes.map_or("—".to_string(), |b| format!(
                "{:.0} KB",
                b as f64 / 1000.0
            )),
            100.0 * row.accuracy,
            row.single_ms,
            row.batch_ms
        ));
    }
    table
}

/// Median wall time of `run` in milliseconds, after a warm-up run.
fn time_ms(
    mut run: impl FnMut() -> Result<(), ExportError>,
    repeats: usize,
) -> Result<f64, ExportError> {
    run()?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        run()?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(times).unwrap_or(f64::NAN))
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}
