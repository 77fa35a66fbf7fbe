//! How long a training step takes: the raw step (forward, loss, backward,
//! optimiser step on one prepared batch) against the training loop's time
//! per step (batches built from the data, running metrics, progress), so
//! any overhead of the loop shows; and each CNN layer's share.
//!
//! [`StepBench`] is every part's `bench` command: one table of steps per
//! backend, then PyTorch's step of the same models, timed in turn with
//! ours when a Python with torch is there ([`crate::pytorch_reference`]),
//! then the CNNs' per-layer table.

use std::path::PathBuf;
use std::time::Instant;

use burn::nn::conv::Conv2d;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use mnist_data::Dataset;
use mnist_report::metrics::median;

use crate::backend::{
    BackendKind, BackendTask, BackendUnavailable, DEVICE_HELP, parse_gpu_ordinal, run_on,
};
use crate::pytorch_reference::{PyTorch, ReferenceStep};
use crate::train::{TrainError, TrainOptions, TrainingData, train};
use conv_blocks::{channels_first, conv_pool_relu, flatten_channels_first};
use mnist_models::TrainBackend;
use mnist_models::batch::batch;
use mnist_models::config::{OptimizerConfig, TrainingConfig};
use mnist_models::loss::cross_entropy;
use mnist_models::models::{Cnn, CnnConfig, ConvMethod, ModelConfig};
use mnist_models::optimizer::ModelOptimizer;

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

/// Untimed steps or calls before timing.
const WARM_UP: usize = 3;

/// Times `steps` training steps of `config`'s model at `batch_size` on `data`
/// (which needs at least `steps × batch_size` images), after a warm-up.
pub fn time_steps<B: TrainBackend>(
    config: &ModelConfig,
    data: &Dataset,
    batch_size: usize,
    steps: usize,
    device: &B::Device,
) -> StepTimes {
    crate::allocator::keep_freed_memory();
    B::seed(device, 1);
    let model = config.init::<B>(device);
    let training = TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, true))
        .with_batch_size(batch_size)
        .with_epochs(2);

    // Raw: one batch, prepared once.
    let indices: Vec<usize> = (0..batch_size).collect();
    let prepared = batch::<B>(data, &indices, device);
    let mut optimizer = ModelOptimizer::<B>::new(&training.optimizer);
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
        raw_model = optimizer.step(training.optimizer.learning_rate(), raw_model, grads);
        lap(2);
    }
    let _ = B::sync(device);
    let raw_ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
    let [forward_ms, backward_ms, optimizer_ms] = phases.map(|s| s * 1e3 / steps as f64);

    // The loop: two epochs of `steps` steps; the second one is timed
    // (the first warms up). Validation is a single image.
    let train_set = data.take(steps * batch_size);
    let validation = data.take(1);
    let options = TrainOptions::default();
    let training_data = TrainingData {
        train: &train_set,
        validation: &validation,
    };
    let loop_ms = match train(model, training_data, &training, &options, device) {
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

/// [`time_steps`] for each of `models`, in `rounds` taken in turn so that a
/// noisy moment of a shared machine hits every model alike, with
/// `between_rounds` (PyTorch's round) after each: each model's times, one
/// per round.
pub fn time_steps_in_rounds<B: TrainBackend>(
    models: &[ModelConfig],
    data: &Dataset,
    batch_size: usize,
    steps: usize,
    rounds: usize,
    device: &B::Device,
    mut between_rounds: impl FnMut(),
) -> Vec<Vec<StepTimes>> {
    let mut samples: Vec<Vec<StepTimes>> = vec![Vec::new(); models.len()];
    for _ in 0..rounds.max(1) {
        for (model, samples) in models.iter().zip(&mut samples) {
            samples.push(time_steps::<B>(model, data, batch_size, steps, device));
        }
        between_rounds();
    }
    samples
}

/// The median of each time over rounds.
pub fn median_times(rounds: &[StepTimes]) -> StepTimes {
    let median_of = |f: fn(&StepTimes) -> f64| median(rounds.iter().map(f)).unwrap_or(f64::NAN);
    StepTimes {
        raw_ms: median_of(|t| t.raw_ms),
        loop_ms: median_of(|t| t.loop_ms),
        forward_ms: median_of(|t| t.forward_ms),
        backward_ms: median_of(|t| t.backward_ms),
        optimizer_ms: median_of(|t| t.optimizer_ms),
    }
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
        ConvMethod::Layers => {
            let block = |conv: &Conv2d<B>, x| model.pool.forward(relu(conv.forward(x)));
            let x = timer.layer("block1", images, false, |x| block(&model.conv1, x));
            let x = timer.layer("block2", x, true, |x| block(&model.conv2, x));
            timer.layer("flatten", x, true, |x| x.flatten::<2>(1, 3))
        }
        ConvMethod::Fused => {
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
pub fn layer_table(columns: &[(String, Vec<LayerTime>)]) -> String {
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

/// Calls of each layer timed per measurement in the per-layer table.
pub const LAYER_REPEATS: usize = 20;

/// The flags of every part's `bench`.
#[derive(clap::Args, Clone, Debug)]
pub struct BenchArgs {
    /// Backends to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "flex")]
    pub backend: Vec<BackendKind>,
    #[arg(long, value_name = "N", value_parser = parse_gpu_ordinal, help = DEVICE_HELP)]
    pub device: Option<usize>,
    /// Timed steps per measurement.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub steps: u64,
    /// Rounds of measurements, taken in turn; the table gives medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub rounds: u64,
    /// Python with PyTorch, whose step of the same models is timed after
    /// each of our rounds [default: $PYTHON, else python3].
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Time our step only, without PyTorch's.
    #[arg(long, conflicts_with = "python")]
    pub no_pytorch: bool,
}

/// A part's `bench`: which models to time, on what data.
pub struct StepBench<'a> {
    /// What is timed, for the first line, e.g. `The course CNN`.
    pub title: String,
    /// Each model, with the name of its row.
    pub models: Vec<(String, ModelConfig)>,
    /// Each CNN with the conv method that training picks on each backend
    /// ([`BackendKind::fastest_conv`]), rather than as given.
    pub conv_per_backend: bool,
    pub data: &'a Dataset,
    pub batch_size: usize,
    /// Training images of one of the part's epochs, for the epoch column.
    pub epoch_images: usize,
    /// The reference script that times PyTorch's step of the same models
    /// (relative to the workspace), run in turn with ours.
    pub pytorch_script: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(
        "--steps {steps} of batch {batch_size} need {needed} images; there are {available} training images"
    )]
    TooFewImages {
        steps: usize,
        batch_size: usize,
        needed: usize,
        available: usize,
    },
    #[error(transparent)]
    Backend(#[from] BackendUnavailable),
    #[error(transparent)]
    Train(#[from] TrainError),
}

/// The step times and per-layer times of one backend.
struct BackendTimes {
    /// Each model's times, one per round.
    steps: Vec<Vec<StepTimes>>,
    /// PyTorch's steps, one per round.
    reference: Vec<Result<Vec<ReferenceStep>, String>>,
    layers: Vec<(String, Vec<LayerTime>)>,
}

impl StepBench<'_> {
    /// Times every model as `args` say and prints the tables.
    pub fn print(&self, args: &BenchArgs) -> Result<(), BenchError> {
        let (steps, rounds) = (args.steps as usize, args.rounds as usize);
        let needed = self.batch_size.saturating_mul(steps);
        if needed > self.data.len() {
            return Err(BenchError::TooFewImages {
                steps,
                batch_size: self.batch_size,
                needed,
                available: self.data.len(),
            });
        }
        let epoch_steps = self.epoch_images / self.batch_size;
        let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
        println!(
            "{}, batch {}: {} timed steps per measurement, medians of {} rounds taken in turn; \
             an epoch is {epoch_steps} steps; CPU threads: {threads}.",
            self.title, self.batch_size, steps, rounds
        );
        for &backend in &args.backend {
            let pytorch = self.pytorch(args, backend);
            let task = TimeOn {
                bench: self,
                backend,
                steps,
                rounds,
                pytorch: pytorch.as_ref().ok(),
            };
            let times = run_on(backend, task)?;
            println!(
                "\n{:<8} {:<20} {:>12} {:>13} {:>9} {:>8}   raw step: {:>8} {:>9} {:>9}",
                "backend",
                "model",
                "raw step ms",
                "loop step ms",
                "loop/raw",
                "epoch s",
                "forward",
                "backward",
                "optimiser"
            );
            for ((name, _), rounds) in self.models.iter().zip(&times.steps) {
                let t = median_times(rounds);
                println!(
                    "{:<8} {:<20} {:>12.2} {:>13.2} {:>8.2}x {:>8.1}   {:>18.2} {:>9.2} {:>9.2}",
                    backend.name(),
                    name,
                    t.raw_ms,
                    t.loop_ms,
                    t.loop_ms / t.raw_ms,
                    t.loop_ms * epoch_steps as f64 / 1e3,
                    t.forward_ms,
                    t.backward_ms,
                    t.optimizer_ms
                );
            }
            match &pytorch {
                Ok(pytorch) => print!("{}", self.paired_table(pytorch, steps, &times)),
                Err(why) => println!("\n{why}"),
            }
            if !times.layers.is_empty() {
                println!(
                    "\nPer layer on {} (ms; medians of {LAYER_REPEATS} runs; the first head):",
                    backend.name()
                );
                print!("{}", layer_table(&times.layers));
            }
        }
        Ok(())
    }

    /// PyTorch for the paired step on `backend`, or why there is none.
    fn pytorch(&self, args: &BenchArgs, backend: BackendKind) -> Result<PyTorch, String> {
        if args.no_pytorch {
            return Err("PyTorch's step not timed (--no-pytorch).".into());
        }
        let device = match backend {
            BackendKind::Flex | BackendKind::Ndarray | BackendKind::Tch => "cpu".to_string(),
            BackendKind::Cuda => format!("cuda:{}", crate::backend::gpu_ordinal()),
            BackendKind::Wgpu => {
                return Err("no paired PyTorch step on wgpu: PyTorch has no such device.".into());
            }
        };
        PyTorch::find(
            args.python.as_deref(),
            self.pytorch_script,
            &device,
            rayon::current_num_threads(),
        )
    }

    /// Our raw step against PyTorch's, round by round: the ratio is the
    /// median of the rounds' ratios.
    fn paired_table(&self, pytorch: &PyTorch, steps: usize, times: &BackendTimes) -> String {
        let mut table = format!(
            "\nPaired with PyTorch {} on {}, {} CPU threads, after each of our rounds:\n  {}\n",
            pytorch.version,
            pytorch.device,
            pytorch.threads,
            pytorch.command(steps)
        );
        let rounds: Vec<&Vec<ReferenceStep>> = match times
            .reference
            .iter()
            .map(Result::as_ref)
            .collect::<Result<Vec<_>, &String>>()
        {
            Ok(rounds) => rounds,
            Err(error) => {
                table.push_str(&format!("PyTorch's step failed: {error}\n"));
                return table;
            }
        };
        table.push_str(&format!(
            "{:<20} {:>9} {:>11} {:>7} {:>17} {:>17}   {}\n",
            "model",
            "ours ms",
            "PyTorch ms",
            "ratio",
            "forward ours/PT",
            "backward ours/PT",
            "each round, ours/PyTorch ms"
        ));
        for ((name, config), ours) in self.models.iter().zip(&times.steps) {
            let kind = match config {
                ModelConfig::Cnn(_) => "cnn",
                ModelConfig::Mlp(_) => "mlp",
            };
            let theirs: Vec<&ReferenceStep> = rounds
                .iter()
                .filter_map(|round| round.iter().find(|step| step.model == kind))
                .collect();
            if theirs.len() != ours.len() {
                table.push_str(&format!("{name:<20} (no {kind} in the reference script)\n"));
                continue;
            }
            let median_of = |values: Vec<f64>| median(values).unwrap_or(f64::NAN);
            let ratio = median_of(
                ours.iter()
                    .zip(&theirs)
                    .map(|(o, t)| o.raw_ms / t.raw_ms)
                    .collect(),
            );
            let pairs: Vec<String> = ours
                .iter()
                .zip(&theirs)
                .map(|(o, t)| format!("{:.2}/{:.2}", o.raw_ms, t.raw_ms))
                .collect();
            let (o, t) = (
                median_times(ours),
                median_of(theirs.iter().map(|t| t.raw_ms).collect()),
            );
            let forward = median_of(theirs.iter().map(|t| t.forward_ms).collect());
            let backward = median_of(theirs.iter().map(|t| t.backward_ms).collect());
            table.push_str(&format!(
                "{:<20} {:>9.2} {:>11.2} {:>6.2}x {:>17} {:>17}   {}\n",
                name,
                o.raw_ms,
                t,
                ratio,
                format!("{:.2}/{:.2}", o.forward_ms, forward),
                format!("{:.2}/{:.2}", o.backward_ms, backward),
                pairs.join("  ")
            ));
        }
        table
    }

    /// The models as this bench times them on `backend`.
    fn configs(&self, backend: BackendKind) -> Vec<(String, ModelConfig)> {
        self.models
            .iter()
            .map(|(name, config)| {
                let config = if self.conv_per_backend {
                    config.clone().with_conv(backend.fastest_conv())
                } else {
                    config.clone()
                };
                (name.clone(), config)
            })
            .collect()
    }
}

/// [`StepBench`]'s measurements on one backend, with PyTorch's round after
/// each of ours.
struct TimeOn<'a, 'b> {
    bench: &'a StepBench<'b>,
    backend: BackendKind,
    steps: usize,
    rounds: usize,
    pytorch: Option<&'a PyTorch>,
}

impl BackendTask for TimeOn<'_, '_> {
    type Output = BackendTimes;

    fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> BackendTimes {
        let TimeOn {
            bench,
            backend,
            steps,
            rounds,
            pytorch,
        } = self;
        let models = bench.configs(backend);
        let configs: Vec<ModelConfig> = models.iter().map(|(_, c)| c.clone()).collect();
        let mut reference = Vec::new();
        let steps = time_steps_in_rounds::<B>(
            &configs,
            bench.data,
            bench.batch_size,
            steps,
            rounds,
            &device,
            || {
                if let Some(pytorch) = pytorch {
                    reference.push(pytorch.time_round(steps));
                }
            },
        );
        let layers = models
            .iter()
            .filter_map(|(name, config)| match config {
                ModelConfig::Cnn(cnn) => Some((
                    name.clone(),
                    cnn_layer_times::<B>(cnn, bench.data, bench.batch_size, LAYER_REPEATS, &device),
                )),
                ModelConfig::Mlp(_) => None,
            })
            .collect();
        BackendTimes {
            steps,
            reference,
            layers,
        }
    }
}

/// Seconds per epoch of `model` trained as `training` says on `train_set`,
/// through the training loop (shuffle, batches, forward, loss, backward,
/// optimiser step, running metrics; validation is a single image, so the
/// time is the training pass): `epochs` timed epochs after one untimed
/// warm-up epoch, on `backend`.
pub fn epoch_seconds(
    model: &ModelConfig,
    training: &TrainingConfig,
    train_set: &Dataset,
    epochs: usize,
    backend: BackendKind,
) -> Result<Vec<f64>, BenchError> {
    struct Epochs<'a> {
        model: &'a ModelConfig,
        training: TrainingConfig,
        train_set: &'a Dataset,
    }
    impl BackendTask for Epochs<'_> {
        type Output = Result<Vec<f64>, TrainError>;
        fn run<B: TrainBackend>(self, device: B::Device, _: BackendKind) -> Self::Output {
            B::seed(&device, self.training.seed);
            let model = self.model.init::<B>(&device);
            let validation = self.train_set.take(1);
            let options = TrainOptions::default();
            let data = TrainingData {
                train: self.train_set,
                validation: &validation,
            };
            let trained = train(model, data, &self.training, &options, &device)?;
            Ok(trained
                .state
                .history
                .iter()
                .skip(1)
                .map(|e| e.seconds)
                .collect())
        }
    }
    let training = training.clone().with_epochs(epochs + 1);
    let task = Epochs {
        model,
        training,
        train_set,
    };
    Ok(run_on(backend, task)??)
}
