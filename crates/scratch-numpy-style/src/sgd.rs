//! Mini-batch stochastic gradient descent: shuffle, cut into batches, and for
//! each batch run forward, backward, (clip,) step.
//!
//! The batch gradient is the mean of the per-sample gradients (the losses
//! are means), an unbiased estimate of the full-data gradient that costs B
//! samples instead of N.

use std::fmt;

use ndarray::Axis;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Samples, argmax};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::network::{Mlp, Workspace};

/// Gradient clipping, applied to each batch's gradient before the step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Clip {
    None,
    /// Rescale g to norm `max` when ‖g‖ > max.
    Norm(f64),
    /// Clamp every component into [−max, max].
    Value(f64),
}

impl fmt::Display for Clip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clip::None => f.write_str("none"),
            Clip::Norm(max) => write!(f, "norm {max}"),
            Clip::Value(max) => write!(f, "value {max}"),
        }
    }
}

/// The optimiser's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sgd {
    pub learning_rate: f64,
    pub batch_size: usize,
    pub clip: Clip,
    /// Reshuffle the samples every epoch (with the trainer's seed).
    pub shuffle: bool,
}

impl Sgd {
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::Invalid("batch size must be at least 1".into()));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::Invalid(format!(
                "learning rate must be positive, got {}",
                self.learning_rate
            )));
        }
        match self.clip {
            Clip::Norm(m) | Clip::Value(m) if !(m.is_finite() && m > 0.0) => Err(Error::Invalid(
                format!("clipping threshold must be positive, got {m}"),
            )),
            _ => Ok(()),
        }
    }
}

/// Mean loss and accuracy over one epoch's batches, measured on each batch
/// before its step (so they lag the end-of-epoch weights a little).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    pub loss: f64,
    /// Fraction correct, for classification samples.
    pub accuracy: Option<f64>,
    /// Batches whose gradient the clipping changed.
    pub clipped_batches: usize,
    pub batches: usize,
}

/// The training loop's state: the sample order, its random generator, and
/// the preallocated workspaces (one for full batches, one for the last,
/// shorter batch when the batch size does not divide the data).
pub struct Trainer<F> {
    sgd: Sgd,
    order: Vec<usize>,
    rng: ChaCha8Rng,
    full: Workspace<F>,
    tail: Option<Workspace<F>>,
}

impl<F: Float> Trainer<F> {
    pub fn new(net: &Mlp<F>, samples: &Samples<F>, sgd: Sgd, seed: u64) -> Result<Self> {
        sgd.validate()?;
        if samples.is_empty() {
            return Err(Error::Invalid("no training samples".into()));
        }
        if samples.x.ncols() != net.inputs() {
            return Err(Error::InputWidth {
                expected: net.inputs(),
                found: samples.x.ncols(),
            });
        }
        if samples.y.ncols() != net.outputs() {
            return Err(Error::TargetWidth {
                expected: net.outputs(),
                found: samples.y.ncols(),
            });
        }
        let batch = sgd.batch_size.min(samples.len());
        let rest = samples.len() % batch;
        Ok(Self {
            sgd,
            order: (0..samples.len()).collect(),
            rng: mnist_data::split::seeded_rng(seed),
            full: Workspace::new(net, batch),
            tail: (rest > 0).then(|| Workspace::new(net, rest)),
        })
    }

    /// One pass over `samples`; `on_batch(rows)` is called after each step.
    /// Nothing in this loop allocates: the batch is gathered into the
    /// workspace, and every product writes into a preallocated buffer.
    pub fn epoch(
        &mut self,
        net: &mut Mlp<F>,
        samples: &Samples<F>,
        mut on_batch: impl FnMut(usize),
    ) -> Result<EpochStats> {
        if samples.len() != self.order.len() {
            return Err(Error::Invalid(format!(
                "this trainer was made for {} samples, got {}",
                self.order.len(),
                samples.len()
            )));
        }
        if self.sgd.shuffle {
            mnist_data::split::shuffle(&mut self.order, &mut self.rng);
        }
        let learning_rate = F::of(self.sgd.learning_rate);
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        let (mut batches, mut clipped_batches) = (0, 0);
        for chunk in self.order.chunks(self.full.batch()) {
            let ws = match self.tail.as_mut() {
                Some(tail) if chunk.len() == tail.batch() => tail,
                _ => &mut self.full,
            };
            // Gather the batch's rows into the workspace.
            for (row, &i) in chunk.iter().enumerate() {
                ws.input_mut().row_mut(row).assign(&samples.x.row(i));
                ws.targets_mut().row_mut(row).assign(&samples.y.row(i));
            }
            net.forward_prepared(ws)?;
            if samples.is_classification() {
                correct += ws
                    .output()
                    .axis_iter(Axis(0))
                    .zip(chunk)
                    .filter(|(out, i)| argmax(out.view()) == samples.labels[**i])
                    .count();
            }
            let loss = net.backward_prepared(ws)?;
            loss_sum += loss.as_f64() * chunk.len() as f64;
            let clipped = match self.sgd.clip {
                Clip::None => false,
                Clip::Norm(max) => ws.grads.clip_norm(max),
                Clip::Value(max) => ws.grads.clip_value(max) > 0,
            };
            clipped_batches += usize::from(clipped);
            batches += 1;
            net.step(&ws.grads, learning_rate);
            on_batch(chunk.len());
        }
        let n = samples.len() as f64;
        Ok(EpochStats {
            loss: loss_sum / n,
            accuracy: samples.is_classification().then(|| correct as f64 / n),
            clipped_batches,
            batches,
        })
    }
}

/// A network's loss, accuracy and predictions on a set of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    /// Fraction correct (classification only).
    pub accuracy: Option<f64>,
    /// The predicted class of every sample (classification only).
    pub predictions: Vec<usize>,
}

/// Evaluates `net` on `samples`, `batch` rows at a time.
pub fn evaluate<F: Float>(net: &Mlp<F>, samples: &Samples<F>, batch: usize) -> Result<Evaluation> {
    if samples.y.ncols() != net.outputs() {
        return Err(Error::TargetWidth {
            expected: net.outputs(),
            found: samples.y.ncols(),
        });
    }
    let out = net.predict(samples.x.view(), batch)?;
    let loss = net.output.loss(out.view(), samples.y.view()).as_f64();
    if !samples.is_classification() {
        return Ok(Evaluation {
            loss,
            accuracy: None,
            predictions: Vec::new(),
        });
    }
    let predictions: Vec<usize> = out.axis_iter(Axis(0)).map(argmax).collect();
    let correct = predictions
        .iter()
        .zip(&samples.labels)
        .filter(|(p, l)| p == l)
        .count();
    Ok(Evaluation {
        loss,
        accuracy: Some(correct as f64 / samples.len().max(1) as f64),
        predictions,
    })
}
