//! The multilayer perceptron: layers, forward pass, backpropagation and the
//! SGD step, all in batched matrix form.
//!
//! Notation (one row per sample, B samples in a batch):
//!
//! - a⁰ = X, the input batch (B × n₀);
//! - layer l has weights Wˡ (nₗ₋₁ × nₗ) and biases bˡ (nₗ);
//! - zˡ = aˡ⁻¹ Wˡ + bˡ (B × nₗ, bˡ added to every row), aˡ = f(zˡ);
//! - δˡ = ∂L/∂zˡ (B × nₗ), the error signal at layer l.
//!
//! Backpropagation is the chain rule applied layer by layer, from the top:
//!
//! - δᴸ comes from the output and loss (see `loss.rs`);
//! - ∂L/∂Wˡ = (aˡ⁻¹)ᵀ δˡ, because zˡ_bj = Σᵢ aˡ⁻¹_bi Wˡ_ij, so each weight
//!   collects (activation in) × (error out), summed over the batch by the
//!   matrix product;
//! - ∂L/∂bˡ = Σ_b δˡ_b, the column sums of δˡ;
//! - δˡ⁻¹ = (δˡ Wˡᵀ) ⊙ f'(zˡ⁻¹): the error flows back through the same
//!   weights, transposed, then through the activation's slope.
//!
//! Every buffer lives in a [`Workspace`] made once per batch size, and every
//! product writes into one with `general_mat_mul`, so a training step
//! allocates nothing.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::init::Init;
use crate::loss::Output;

/// What a network looks like, before it has weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// Units per layer, input first: `[784, 128, 64, 10]`.
    pub sizes: Vec<usize>,
    /// The activation of every hidden layer.
    pub hidden: Activation,
    /// The output activation and the loss.
    pub output: Output,
    pub init: Init,
}

impl Spec {
    pub fn validate(&self) -> Result<()> {
        if self.sizes.len() < 2 {
            return Err(Error::TooFewLayers {
                sizes: self.sizes.clone(),
            });
        }
        if self.sizes.contains(&0) {
            return Err(Error::ZeroWidth {
                sizes: self.sizes.clone(),
            });
        }
        // Weights and biases, counted without overflow: checked before
        // anything is allocated.
        let parameters = self.sizes.windows(2).fold(0usize, |total, pair| {
            total.saturating_add(pair[0].saturating_add(1).saturating_mul(pair[1]))
        });
        if parameters > MAX_PARAMETERS {
            return Err(Error::TooLarge {
                sizes: self.sizes.clone(),
                parameters,
                limit: MAX_PARAMETERS,
            });
        }
        Ok(())
    }
}

/// The most parameters a network may have: far above the course's
/// networks, and little enough that training one fits in memory.
pub const MAX_PARAMETERS: usize = 50_000_000;

/// One fully connected layer: z = a W + b, one sample per row of a.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer<F> {
    /// n_in × n_out: column j holds the weights into unit j.
    pub weights: Array2<F>,
    pub biases: Array1<F>,
}

impl<F: Float> Layer<F> {
    pub fn inputs(&self) -> usize {
        self.weights.nrows()
    }

    pub fn outputs(&self) -> usize {
        self.weights.ncols()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<F> {
    pub layers: Vec<Layer<F>>,
    pub hidden: Activation,
    pub output: Output,
}

impl<F: Float> Mlp<F> {
    /// A network initialised as `spec` says, drawing weights from `rng`.
    pub fn new(spec: &Spec, rng: &mut ChaCha8Rng) -> Result<Self> {
        spec.validate()?;
        let layers = spec
            .sizes
            .windows(2)
            .map(|w| Layer {
                weights: spec.init.weights(w[0], w[1], rng),
                biases: Array1::zeros(w[1]),
            })
            .collect();
        Ok(Self {
            layers,
            hidden: spec.hidden,
            output: spec.output,
        })
    }

    /// A network from given layers, after checking that they chain: each
    /// layer must take as many inputs as the one before gives outputs.
    pub fn from_layers(layers: Vec<Layer<F>>, hidden: Activation, output: Output) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::TooFewLayers { sizes: vec![] });
        }
        for (l, layer) in layers.iter().enumerate() {
            if layer.inputs() == 0 || layer.outputs() == 0 {
                return Err(Error::ZeroWidth {
                    sizes: vec![layer.inputs(), layer.outputs()],
                });
            }
            if layer.biases.len() != layer.outputs() {
                return Err(Error::BiasMismatch {
                    layer: l,
                    expected: layer.outputs(),
                    found: layer.biases.len(),
                });
            }
            if l > 0 && layers[l - 1].outputs() != layer.inputs() {
                return Err(Error::LayerMismatch {
                    layer: l,
                    expected: layers[l - 1].outputs(),
                    found: layer.inputs(),
                });
            }
        }
        Ok(Self {
            layers,
            hidden,
            output,
        })
    }

    /// Units per layer, input first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.inputs()];
        sizes.extend(self.layers.iter().map(Layer::outputs));
        sizes
    }

    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weights.len() + l.biases.len())
            .sum()
    }

    /// Forward pass on `x` (one sample per row); returns the output rows.
    /// The workspace must have been made for this network and `x.nrows()`.
    pub fn forward<'w>(
        &self,
        ws: &'w mut Workspace<F>,
        x: ArrayView2<F>,
    ) -> Result<ArrayView2<'w, F>> {
        self.check(ws)?;
        check_input(self.inputs(), ws.batch, x)?;
        ws.activations[0].assign(&x);
        self.forward_prepared(ws)?;
        Ok(ws.output())
    }

    /// Forward and backward pass on a batch: returns the batch's mean loss
    /// and leaves ∂L/∂W, ∂L/∂b in `ws.grads`.
    pub fn loss_and_gradients(
        &self,
        ws: &mut Workspace<F>,
        x: ArrayView2<F>,
        y: ArrayView2<F>,
    ) -> Result<F> {
        self.check(ws)?;
        check_input(self.inputs(), ws.batch, x)?;
        check_targets(self.outputs(), x.nrows(), y)?;
        ws.activations[0].assign(&x);
        ws.targets.assign(&y);
        self.forward_prepared(ws)?;
        self.backward_prepared(ws)
    }

    /// The forward pass on the input already in `ws.input_mut()`.
    pub fn forward_prepared(&self, ws: &mut Workspace<F>) -> Result<()> {
        self.check(ws)?;
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            // BEGIN EXERCISE p1.forward uses l, layer, last
            use ndarray::linalg::general_mat_mul;
            let (below, above) = ws.activations.split_at_mut(l + 1);
            let (a_prev, z) = (&below[l], &mut above[0]);
            // zˡ = aˡ⁻¹ Wˡ + bˡ: start every row at bˡ, then add the product (β = 1).
            z.assign(&layer.biases);
            general_mat_mul(F::one(), a_prev, &layer.weights, F::one(), z);
            // aˡ = f(zˡ), overwriting zˡ: the derivatives only need aˡ.
            if l == last {
                self.output.activate_in_place(z.view_mut());
            } else {
                self.hidden.apply_in_place(z.view_mut());
            }
            // END EXERCISE
        }
        Ok(())
    }

    /// Backpropagation after `forward_prepared`, against the targets already
    /// in `ws.targets_mut()`. Returns the mean loss; gradients go to `ws.grads`.
    pub fn backward_prepared(&self, ws: &mut Workspace<F>) -> Result<F> {
        self.check(ws)?;
        // BEGIN EXERCISE p1.backpropagation
        use ndarray::linalg::general_mat_mul;
        let top = self.layers.len();
        let Workspace {
            activations,
            deltas,
            targets,
            grads,
            ..
        } = ws;
        // Code indices start at 0: `layers[l]` reads `activations[l]` (its
        // input, aˡ⁻¹ in the formulas), writes `activations[l + 1]` (aˡ), and
        // `deltas[l]` is its δˡ.
        let loss = self.output.loss(activations[top].view(), targets.view());
        // δᴸ = ∂L/∂zᴸ from the output and loss.
        self.output.delta(
            activations[top].view(),
            targets.view(),
            deltas[top - 1].view_mut(),
        );
        for l in (0..top).rev() {
            // ∂L/∂Wˡ = (aˡ⁻¹)ᵀ δˡ (the product sums over the batch).
            general_mat_mul(
                F::one(),
                &activations[l].t(),
                &deltas[l],
                F::zero(),
                &mut grads.weights[l],
            );
            // ∂L/∂bˡ = Σ_b δˡ_b.
            let db = &mut grads.biases[l];
            db.fill(F::zero());
            for row in deltas[l].rows() {
                *db += &row;
            }
            if l > 0 {
                // δˡ⁻¹ = (δˡ Wˡᵀ) ⊙ f'(zˡ⁻¹), with f' read from aˡ⁻¹. (Not
                // needed below the first layer: nobody learns the input.)
                let (lower, upper) = deltas.split_at_mut(l);
                let delta_prev = &mut lower[l - 1];
                general_mat_mul(
                    F::one(),
                    &upper[0],
                    &self.layers[l].weights.t(),
                    F::zero(),
                    delta_prev,
                );
                self.hidden
                    .backprop_in_place(delta_prev.view_mut(), activations[l].view());
            }
        }
        Ok(loss)
        // END EXERCISE
    }

    /// Gradient descent: W ← W − η ∂L/∂W, b ← b − η ∂L/∂b.
    pub fn step(&mut self, grads: &Gradients<F>, learning_rate: F) {
        // BEGIN EXERCISE p1.sgd-clip uses grads, learning_rate
        for ((layer, dw), db) in self
            .layers
            .iter_mut()
            .zip(&grads.weights)
            .zip(&grads.biases)
        {
            layer.weights.scaled_add(-learning_rate, dw);
            layer.biases.scaled_add(-learning_rate, db);
        }
        // END EXERCISE
    }

    /// Outputs for every row of `x`, computed `batch` rows at a time
    /// (allocates its own buffers: for evaluation, not the training loop).
    pub fn predict(&self, x: ArrayView2<F>, batch: usize) -> Result<Array2<F>> {
        if x.ncols() != self.inputs() {
            return Err(Error::InputWidth {
                expected: self.inputs(),
                found: x.ncols(),
            });
        }
        let batch = batch.clamp(1, x.nrows().max(1));
        let mut out = Array2::zeros((x.nrows(), self.outputs()));
        let mut ws = Workspace::new(self, batch);
        let mut tail: Option<Workspace<F>> = None;
        for start in (0..x.nrows()).step_by(batch) {
            let end = (start + batch).min(x.nrows());
            let ws = if end - start == batch {
                &mut ws
            } else {
                tail.insert(Workspace::new(self, end - start))
            };
            let rows = Slice::from(start..end);
            let y = self.forward(ws, x.slice_axis(Axis(0), rows))?;
            out.slice_axis_mut(Axis(0), rows).assign(&y);
        }
        Ok(out)
    }

    /// The workspace must have been made for a network of this shape.
    fn check(&self, ws: &Workspace<F>) -> Result<()> {
        let fits = ws.activations.len() == self.layers.len() + 1
            && ws.activations[0].ncols() == self.inputs()
            && self
                .layers
                .iter()
                .zip(&ws.activations[1..])
                .all(|(layer, a)| a.ncols() == layer.outputs());
        if fits {
            Ok(())
        } else {
            Err(Error::WorkspaceMismatch {
                expected: self.sizes(),
                found: ws.sizes(),
            })
        }
    }
}

fn check_input<F>(width: usize, batch: usize, x: ArrayView2<F>) -> Result<()> {
    if x.ncols() != width {
        return Err(Error::InputWidth {
            expected: width,
            found: x.ncols(),
        });
    }
    if x.nrows() != batch {
        return Err(Error::BatchSize {
            expected: batch,
            found: x.nrows(),
        });
    }
    Ok(())
}

fn check_targets<F>(width: usize, rows: usize, y: ArrayView2<F>) -> Result<()> {
    if y.ncols() != width {
        return Err(Error::TargetWidth {
            expected: width,
            found: y.ncols(),
        });
    }
    if y.nrows() != rows {
        return Err(Error::RowMismatch {
            inputs: rows,
            targets: y.nrows(),
        });
    }
    Ok(())
}

/// ∂L/∂W and ∂L/∂b for every layer, shaped like the network's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<F> {
    pub weights: Vec<Array2<F>>,
    pub biases: Vec<Array1<F>>,
}

impl<F: Float> Gradients<F> {
    pub fn zeros_like(net: &Mlp<F>) -> Self {
        Self {
            weights: net
                .layers
                .iter()
                .map(|l| Array2::zeros(l.weights.dim()))
                .collect(),
            biases: net
                .layers
                .iter()
                .map(|l| Array1::zeros(l.biases.len()))
                .collect(),
        }
    }

    /// The Euclidean norm of all gradients together, ‖g‖ = √(Σ g²).
    pub fn norm(&self) -> f64 {
        let squares = |x: &F| x.as_f64() * x.as_f64();
        let w: f64 = self.weights.iter().flatten().map(squares).sum();
        let b: f64 = self.biases.iter().flatten().map(squares).sum();
        (w + b).sqrt()
    }

    /// Clipping by norm: if ‖g‖ > max, g ← g · max / ‖g‖ (direction kept).
    /// Returns whether it clipped.
    pub fn clip_norm(&mut self, max: f64) -> bool {
        // BEGIN EXERCISE p1.sgd-clip uses max
        let norm = self.norm();
        if norm <= max || norm == 0.0 {
            return false;
        }
        let scale = F::of(max / norm);
        self.weights.iter_mut().for_each(|w| *w *= scale);
        self.biases.iter_mut().for_each(|b| *b *= scale);
        true
        // END EXERCISE
    }

    /// Clipping by value: every component into [−max, max]. Returns how
    /// many components it changed.
    pub fn clip_value(&mut self, max: f64) -> usize {
        let max = F::of(max);
        let mut clipped = 0;
        let mut clamp = |g: &mut F| {
            if g.abs() > max {
                *g = if *g > F::zero() { max } else { -max };
                clipped += 1;
            }
        };
        self.weights
            .iter_mut()
            .for_each(|w| w.iter_mut().for_each(&mut clamp));
        self.biases
            .iter_mut()
            .for_each(|b| b.iter_mut().for_each(&mut clamp));
        clipped
    }
}

/// Every buffer one training step needs, for one network shape and one
/// batch size: the activations of each layer (a⁰ is the input batch), the
/// deltas, the targets and the gradients.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    batch: usize,
    activations: Vec<Array2<F>>,
    deltas: Vec<Array2<F>>,
    targets: Array2<F>,
    pub grads: Gradients<F>,
}

impl<F: Float> Workspace<F> {
    pub fn new(net: &Mlp<F>, batch: usize) -> Self {
        let sizes = net.sizes();
        Self {
            batch,
            activations: sizes.iter().map(|&n| Array2::zeros((batch, n))).collect(),
            deltas: sizes[1..]
                .iter()
                .map(|&n| Array2::zeros((batch, n)))
                .collect(),
            targets: Array2::zeros((batch, net.outputs())),
            grads: Gradients::zeros_like(net),
        }
    }

    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The sizes of the network this workspace was made for.
    pub fn sizes(&self) -> Vec<usize> {
        self.activations.iter().map(|a| a.ncols()).collect()
    }

    /// The input batch a⁰, to fill in place before `forward_prepared`.
    pub fn input_mut(&mut self) -> ArrayViewMut2<'_, F> {
        self.activations[0].view_mut()
    }

    /// The targets, to fill in place before `backward_prepared`.
    pub fn targets_mut(&mut self) -> ArrayViewMut2<'_, F> {
        self.targets.view_mut()
    }

    /// The error signals δˡ = ∂L/∂zˡ of the last backward pass, one per layer.
    pub fn deltas(&self) -> &[Array2<F>] {
        &self.deltas
    }

    /// The output activations aᴸ of the last forward pass.
    pub fn output(&self) -> ArrayView2<'_, F> {
        self.activations[self.activations.len() - 1].view()
    }
}
