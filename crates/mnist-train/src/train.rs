//! The training loop: one loop for every Burn part, for classifiers with one
//! or two heads. Read it top to bottom: per epoch, shuffle, take batches,
//! forward, loss, backward, step; then validate, print, checkpoint.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mnist_data::Dataset;
use mnist_data::split::{seeded_rng, shuffle};
use mnist_report::{EpochMetrics, RunStatus};

use crate::checkpoint::{CheckpointError, Checkpoints, TrainState, load_model};
use mnist_models::TrainBackend;
use mnist_models::batch::batch;
use mnist_models::config::TrainingConfig;
use mnist_models::evaluate::evaluate;
use mnist_models::models::Model;
use mnist_models::optimizer::ModelOptimizer;
use mnist_models::step::train_step;

/// Steps between reads of the running loss (each read waits for the device).
const LOG_EVERY: usize = 20;

/// The data a run learns from and is validated on.
#[derive(Clone, Copy)]
pub struct TrainingData<'a> {
    pub train: &'a Dataset,
    pub validation: &'a Dataset,
}

/// How a run behaves around the loop. The default keeps no checkpoints,
/// starts afresh and prints nothing (benchmarks, tests).
#[derive(Default)]
pub struct TrainOptions<'a> {
    /// Where checkpoints go; `None` for runs that keep nothing (benchmarks).
    pub checkpoints: Option<&'a Checkpoints>,
    /// Continue from the last checkpoint if there is one.
    pub resume: bool,
    /// The run's whole configuration; a checkpoint made with another one is
    /// not resumed.
    pub run_config: serde_json::Value,
    /// Print a progress bar and the epoch lines.
    pub verbose: bool,
}

/// What a run produced.
pub struct Trained<M> {
    /// The model of the epoch with the best validation accuracy (the last
    /// model if no epoch finished).
    pub best: M,
    /// The model as training left it: after the last epoch (or where a
    /// diverged run stopped), for studies that test the last model.
    pub last: M,
    pub state: TrainState,
    pub status: RunStatus,
    /// Seconds spent in this process's training (not counting time before a
    /// resume).
    pub wall_seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("{0} training images make no batch of {1}: lower --batch-size")]
    TooFewImages(usize, usize),
}

/// Trains `model` on `data` as `config` says.
pub fn train<B: TrainBackend>(
    mut model: Model<B>,
    data: TrainingData,
    config: &TrainingConfig,
    options: &TrainOptions,
    device: &B::Device,
) -> Result<Trained<Model<B::InnerBackend>>, TrainError> {
    crate::allocator::keep_freed_memory();
    let start = Instant::now();
    let batch_size = config.batch_size;
    // As in the course, the last incomplete batch is dropped.
    let steps = data.train.len() / batch_size;
    if steps == 0 {
        return Err(TrainError::TooFewImages(data.train.len(), batch_size));
    }
    let learning_rate = config.optimizer.learning_rate();
    let mut optimizer = ModelOptimizer::<B>::new(&config.optimizer);

    let mut state = TrainState::default();
    let mut best = None;
    if let (true, Some(checkpoints)) = (options.resume, options.checkpoints) {
        (model, optimizer, state) = checkpoints.load_last(
            model.clone(),
            optimizer.clone(),
            &options.run_config,
            config.epochs,
            device,
        )?;
        if state.best_epoch.is_some() {
            best = Some(load_model(model.valid(), &checkpoints.best_path(), device)?);
        }
        if options.verbose {
            println!(
                "Resuming after epoch {} from {}",
                state.epochs_done,
                checkpoints.dir.display()
            );
        }
    }

    let mut status = RunStatus::Completed;
    for epoch in state.epochs_done + 1..=config.epochs {
        let epoch_start = Instant::now();
        // Seeding per epoch makes a resumed run continue exactly as an
        // uninterrupted one would: same order, same dropout masks.
        B::seed(
            device,
            config.seed.wrapping_mul(1000).wrapping_add(epoch as u64),
        );
        let order = epoch_order(data.train.len(), config.seed, epoch);
        let bar = progress_bar(epoch, config.epochs, steps, options.verbose);
        let mut meter = Meter::<B>::new(data.train.labels.heads, device);

        for step in 0..steps {
            let batch = batch::<B>(
                data.train,
                &order[step * batch_size..][..batch_size],
                device,
            );
            let targets = batch.targets.clone();
            let trained = train_step(model, &mut optimizer, batch, learning_rate);
            model = trained.model;
            meter.add(&trained.loss, &trained.logits, &targets);

            if (step + 1) % LOG_EVERY == 0 || step + 1 == steps {
                let running = meter.mean_loss();
                if !running.is_finite() {
                    status = RunStatus::Diverged { epoch };
                    break;
                }
                bar.set_message(format!("loss {running:.4}"));
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        if let RunStatus::Diverged { .. } = status {
            if options.verbose {
                println!("Epoch {epoch}: the loss is not finite: the run diverged");
            }
            break;
        }

        let (train_loss, train_accuracy) = meter.finish(steps * batch_size);
        let valid_model = model.valid();
        let validation = evaluate(&valid_model, data.validation, device);
        let metrics = EpochMetrics {
            epoch,
            train_loss,
            train_accuracy,
            val_loss: validation.loss,
            val_accuracy: validation.accuracy,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        if options.verbose {
            print_epoch(&metrics, config.epochs, validation.accuracy_all_heads);
        }
        state.history.push(metrics);
        state.epochs_done = epoch;

        let improved =
            state.best_epoch.is_none() || validation.accuracy_all_heads > state.best_val_accuracy;
        if improved {
            state.best_epoch = Some(epoch);
            state.best_val_accuracy = validation.accuracy_all_heads;
        }
        if let Some(checkpoints) = options.checkpoints {
            if improved {
                checkpoints.save_best(&valid_model)?;
            }
            checkpoints.save_last(&model, &optimizer, &state, &options.run_config)?;
        }
        if improved {
            best = Some(valid_model);
        }
    }

    let last = model.valid();
    Ok(Trained {
        best: best.unwrap_or_else(|| last.clone()),
        last,
        state,
        status,
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

/// The order of the training images in `epoch`: a fresh seeded shuffle.
fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = seeded_rng(seed);
    rng.set_stream(epoch as u64);
    shuffle(&mut order, &mut rng);
    order
}

/// Running loss and correct counts, summed on the device and read only when
/// asked, so the loop does not wait for the device at every step.
struct Meter<B: Backend> {
    loss_sum: Tensor<B, 1>,
    correct: Vec<Tensor<B, 1, Int>>,
    steps: usize,
}

impl<B: AutodiffBackend> Meter<B> {
    fn new(heads: usize, device: &B::Device) -> Self {
        Self {
            loss_sum: Tensor::zeros([1], device),
            correct: (0..heads).map(|_| Tensor::zeros([1], device)).collect(),
            steps: 0,
        }
    }

    fn add(&mut self, loss: &Tensor<B, 1>, logits: &[Tensor<B, 2>], targets: &[Tensor<B, 1, Int>]) {
        self.loss_sum = self.loss_sum.clone() + loss.clone().detach();
        for ((correct, logits), targets) in self.correct.iter_mut().zip(logits).zip(targets) {
            let n = targets.dims()[0];
            let predicted = logits.clone().detach().argmax(1).reshape([n]);
            *correct = correct.clone() + predicted.equal(targets.clone()).int().sum();
        }
        self.steps += 1;
    }

    fn mean_loss(&self) -> f64 {
        self.loss_sum.clone().into_scalar().elem::<f64>() / self.steps.max(1) as f64
    }

    /// Mean loss and accuracy per head over `images` training images.
    fn finish(self, images: usize) -> (f64, Vec<f64>) {
        let accuracy = self
            .correct
            .iter()
            .map(|c| c.clone().into_scalar().elem::<f64>() / images as f64)
            .collect();
        (self.mean_loss(), accuracy)
    }
}

fn progress_bar(epoch: usize, epochs: usize, steps: usize, visible: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(steps as u64),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} batches  {msg}  {per_sec}  ETA {eta}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_prefix(format!("Epoch {epoch}/{epochs}"));
    bar
}

/// The course's epoch lines.
fn print_epoch(m: &EpochMetrics, epochs: usize, val_all_heads: f64) {
    let accuracies = |a: &[f64]| {
        a.iter()
            .map(|x| format!("{x:.6}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("-------------\nEpoch {}/{epochs}:\n", m.epoch);
    println!(
        "Train loss: {:.6} | Train accuracy: {}",
        m.train_loss,
        accuracies(&m.train_accuracy)
    );
    let both = if m.val_accuracy.len() > 1 {
        format!(" (all digits right: {val_all_heads:.6})")
    } else {
        String::new()
    };
    println!(
        "Val loss:   {:.6} | Val accuracy:   {}{both}   [{:.1} s]",
        m.val_loss,
        accuracies(&m.val_accuracy),
        m.seconds
    );
}
