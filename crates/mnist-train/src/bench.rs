//! How long a training step takes: the raw step (forward, loss, backward,
//! optimiser step on one prepared batch) against the training loop's time
//! per step (batches built from the data, running metrics, progress), so
//! any overhead of the loop shows.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::nn::conv::Conv2d;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use mnist_data::Dataset;
use mnist_report::metrics::median;

use crate::batch::batch;
use crate::config::{OptimizerConfig, TrainingConfig};
use crate::loss::cross_entropy;
use crate::model::{Classifier, Cnn, CnnConfig, ConvMethod, ModelConfig, ModelTask, TrainBackend};
use crate::models::cnn::{channels_first, conv_pool_relu};
use crate::models::cnn_ops::flatten_channels_first;
use crate::train::{TrainOptions, TrainingData, train};

/// Milliseconds per step.
#[derive(Clone, Copy, Debug)]
pub struct StepTimes {
    pub raw_ms: f64,
    pub loop_ms: f64,
    /// The raw step's parts: forward pass and loss, backward pass,
    /// optimiser step (gradients gathered and applied).
    pub forward_ms: f64,
    pub backward_ms: f64,
    pub optimizer_ms: f64,
}

/// Times `steps` training steps of `model` at `batch_size` on `data`
/// (which needs at least `steps × batch_size` images), after a warm-up.
pub fn time_steps<B: TrainBackend>(
    model: &ModelConfig,
    data: &Dataset,
    batch_size: usize,
    steps: usize,
    device: &B::Device,
) -> StepTimes {
    B::seed(device, 1);
    model.with_model::<B, _>(
        device,
        StepBench::<B> {
            data,
            batch_size,
            steps,
            device,
        },
    )
}

struct StepBench<'a, B: TrainBackend> {
    data: &'a Dataset,
    batch_size: usize,
    steps: usize,
    device: &'a B::Device,
}

const WARM_UP: usize = 3;

impl<B: TrainBackend> ModelTask<B> for StepBench<'_, B> {
    type Output = StepTimes;

    fn run<M>(self, model: M) -> StepTimes
    where
        M: AutodiffModule<B> + Classifier<B>,
        M::InnerModule: Classifier<B::InnerBackend>,
    {
        let Self {
            data,
            batch_size,
            steps,
            device,
        } = self;
        let config = TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, true))
            .with_batch_size(batch_size)
            .with_epochs(2);

        // Raw: one batch, prepared once.
        let indices: Vec<usize> = (0..batch_size).collect();
        let prepared = batch::<B>(data, &indices, device);
        let mut optimizer = OptimizerConfig::burn_sgd(0.9, true).init::<B, M>();
        let mut raw_model = model.clone();
        // Seconds in each phase: forward, backward, optimiser.
        let mut phases = [0.0; 3];
        let mut start = Instant::now();
        for step in 0..WARM_UP + steps {
            if step == WARM_UP {
                let _ = B::sync(device);
                phases = [0.0; 3];
                start = Instant::now();
            }
            let mut phase = Instant::now();
            let mut lap = |i: usize| {
                let _ = B::sync(device);
                phases[i] += phase.elapsed().as_secs_f64();
                phase = Instant::now();
            };
            let logits = raw_model.forward(prepared.images.clone());
            let loss = cross_entropy(&logits, &prepared.targets);
            lap(0);
            let grads = loss.backward();
            lap(1);
            let grads = GradientsParams::from_grads(grads, &raw_model);
            raw_model = optimizer.step(0.01, raw_model, grads);
            lap(2);
        }
        let _ = B::sync(device);
        let raw_ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
        let [forward_ms, backward_ms, optimizer_ms] = phases.map(|s| s * 1e3 / steps as f64);

        // The loop: two epochs of `steps` steps; the second one is timed
        // (the first warms up). Validation is a single image.
        let train_set = data.take(steps * batch_size);
        let validation = data.take(1);
        let options = TrainOptions {
            checkpoints: None,
            resume: false,
            run_config: serde_json::Value::Null,
            verbose: false,
        };
        let training_data = TrainingData {
            train: &train_set,
            validation: &validation,
        };
        let loop_ms = match train(model, training_data, &config, &options, device) {
            Ok(trained) => trained
                .state
                .history
                .last()
                .map_or(f64::NAN, |e| e.seconds * 1e3 / steps as f64),
            Err(_) => f64::NAN,
        };
        StepTimes {
            raw_ms,
            loop_ms,
            forward_ms,
            backward_ms,
            optimizer_ms,
        }
    }
}

/// [`time_steps`] for each of `models`, in `rounds` taken in turn so that a
/// noisy moment of a shared machine hits every model alike: the medians, one
/// per model.
pub fn time_steps_in_rounds<B: TrainBackend>(
    models: &[ModelConfig],
    data: &Dataset,
    batch_size: usize,
    steps: usize,
    rounds: usize,
    device: &B::Device,
) -> Vec<StepTimes> {
    let mut samples: Vec<Vec<StepTimes>> = vec![Vec::new(); models.len()];
    for _ in 0..rounds.max(1) {
        for (model, samples) in models.iter().zip(&mut samples) {
            samples.push(time_steps::<B>(model, data, batch_size, steps, device));
        }
    }
    samples
        .into_iter()
        .map(|s| {
            let median_of = |f: fn(&StepTimes) -> f64| median(s.iter().map(f)).unwrap_or(f64::NAN);
            StepTimes {
                raw_ms: median_of(|t| t.raw_ms),
                loop_ms: median_of(|t| t.loop_ms),
                forward_ms: median_of(|t| t.forward_ms),
                backward_ms: median_of(|t| t.backward_ms),
                optimizer_ms: median_of(|t| t.optimizer_ms),
            }
        })
        .collect()
}

/// One layer's share of a training step, in milliseconds.
#[derive(Clone, Debug)]
pub struct LayerTime {
    pub layer: &'static str,
    pub forward_ms: f64,
    /// The backward pass alone: forward and backward, less the forward.
    pub backward_ms: f64,
}

/// Forward and backward time of each layer of the CNN `config` on one
/// batch of `batch_size` images from `data`: each layer is run on the
/// previous layer's output (detached, and tracked for gradients except for
/// the images) and the backward pass starts from the sum of its output.
/// A block is a convolution, its ReLU and its pooling, which the matmul
/// method computes as one operation. Medians of `repeats` runs after a
/// warm-up.
pub fn cnn_layer_times<B: TrainBackend>(
    config: &CnnConfig,
    data: &Dataset,
    batch_size: usize,
    repeats: usize,
    device: &B::Device,
) -> Vec<LayerTime> {
    B::seed(device, 1);
    let model: Cnn<B> = config.init(device);
    let indices: Vec<usize> = (0..batch_size.min(data.len())).collect();
    let prepared = batch::<B>(data, &indices, device);
    let mut times = Vec::new();
    let mut timer = LayerTimer {
        repeats,
        device,
        times: &mut times,
    };
    let images = prepared.images;
    let features = match model.conv {
        ConvMethod::Burn => {
            let block = |conv: &Conv2d<B>, x| model.pool.forward(relu(conv.forward(x)));
            let x = timer.layer("block1", images, false, |x| block(&model.conv1, x));
            let x = timer.layer("block2", x, true, |x| block(&model.conv2, x));
            timer.layer("flatten", x, true, |x| x.flatten::<2>(1, 3))
        }
        ConvMethod::Matmul => {
            let x = timer.layer("block1", images, false, |x| {
                conv_pool_relu(&model.conv1, channels_first(x))
            });
            let x = timer.layer("block2", x, true, |x| conv_pool_relu(&model.conv2, x));
            timer.layer("flatten", x, true, flatten_channels_first)
        }
    };
    let x = timer.layer("linear 128", features, true, |x| model.hidden.forward(x));
    let x = timer.layer("dropout", x, true, |x| model.dropout.forward(x));
    let logits = timer.layer("linear 10", x, true, |x| model.heads[0].forward(x));
    let targets = prepared.targets;
    timer.layer("loss", logits, true, |x| cross_entropy(&[x], &targets));
    times
}

struct LayerTimer<'a, B: TrainBackend> {
    repeats: usize,
    device: &'a B::Device,
    times: &'a mut Vec<LayerTime>,
}

impl<B: TrainBackend> LayerTimer<'_, B> {
    /// Times `layer` on `input` and returns its output, detached.
    fn layer<const D: usize, const E: usize>(
        &mut self,
        name: &'static str,
        input: Tensor<B, D>,
        track: bool,
        layer: impl Fn(Tensor<B, D>) -> Tensor<B, E>,
    ) -> Tensor<B, E> {
        let input = if track {
            input.detach().require_grad()
        } else {
            input.detach()
        };
        let forward = median_ms::<B>(self.repeats, self.device, || {
            let _ = layer(input.clone());
        });
        let both = median_ms::<B>(self.repeats, self.device, || {
            let _ = layer(input.clone()).sum().backward();
        });
        self.times.push(LayerTime {
            layer: name,
            forward_ms: forward,
            backward_ms: (both - forward).max(0.0),
        });
        layer(input).detach()
    }
}

/// Median milliseconds of `repeats` calls of `f`, after a warm-up.
fn median_ms<B: TrainBackend>(repeats: usize, device: &B::Device, mut f: impl FnMut()) -> f64 {
    for _ in 0..WARM_UP {
        f();
    }
    let mut samples: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            let _ = B::sync(device);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The per-layer table: a row per layer, a forward and a backward column per
/// measured variant (`(name, times)`), then the totals.
pub fn layer_table(columns: &[(&str, Vec<LayerTime>)]) -> String {
    let mut table = format!("{:<11}", "layer");
    for (name, _) in columns {
        table.push_str(&format!(
            " {:>14} {:>14}",
            format!("{name} fwd"),
            format!("{name} bwd")
        ));
    }
    table.push('\n');
    let rows = columns.first().map_or(0, |(_, l)| l.len());
    for i in 0..rows {
        table.push_str(&format!("{:<11}", columns[0].1[i].layer));
        for (_, layers) in columns {
            table.push_str(&format!(
                " {:>14.2} {:>14.2}",
                layers[i].forward_ms, layers[i].backward_ms
            ));
        }
        table.push('\n');
    }
    table.push_str(&format!("{:<11}", "total"));
    for (_, layers) in columns {
        let forward: f64 = layers.iter().map(|l| l.forward_ms).sum();
        let backward: f64 = layers.iter().map(|l| l.backward_ms).sum();
        table.push_str(&format!(" {forward:>14.2} {backward:>14.2}"));
    }
    table.push('\n');
    table
}
