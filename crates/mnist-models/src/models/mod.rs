//! The curriculum's networks, configurable so that each part builds its own
//! variant from one definition: the MLPs of parts 2 and 4 ([`mlp`]) and the
//! CNN of parts 3 and 4 ([`cnn`]: 28×28 or 42×28 input, one or two heads).
//!
//! [`Model`] is either of them: the one model type that training,
//! evaluation, benchmarks and prediction take. [`ModelConfig`] is saved
//! beside every checkpoint (`model.json`), so a checkpoint folder says how
//! to rebuild its model.

pub mod cnn;
pub mod mlp;
#[cfg(test)]
mod tests;

use burn::prelude::*;

pub use cnn::{Cnn, CnnConfig, ConvMethod};
pub use mlp::{Activation, Mlp, MlpConfig};

use conv_blocks::{CnnOps, block_side};

/// The most parameters a model may have: a hundred times the course's
/// largest, and little enough that training it fits in memory.
pub const MAX_PARAMETERS: usize = 50_000_000;
/// The most output heads a model may have (Part 4 reads two digits).
pub const MAX_HEADS: usize = 4;
/// The largest image side a model reads.
pub const MAX_SIDE: usize = 1024;

/// One of the curriculum's models.
// The CNN's layers are larger than the MLP's; a model is moved once per
// optimiser step, which a kilobyte's copy does not slow.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Model<B: Backend> {
    Mlp(Mlp<B>),
    Cnn(Cnn<B>),
}

impl<B: CnnOps> Model<B> {
    /// Logits, one `[batch, 10]` tensor per head, for images
    /// `[batch, 1, height, width]` with pixels in [0, 1].
    pub fn forward(&self, images: Tensor<B, 4>) -> Vec<Tensor<B, 2>> {
        match self {
            Self::Mlp(mlp) => mlp.forward(images),
            Self::Cnn(cnn) => cnn.forward(images),
        }
    }

    /// What the heads read: the last hidden layer's activations,
    /// `[batch, width]` (for t-SNE).
    pub fn last_hidden(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            Self::Mlp(mlp) => mlp.last_hidden(images),
            Self::Cnn(cnn) => cnn.last_hidden(images),
        }
    }
}

impl<B: Backend> From<Mlp<B>> for Model<B> {
    fn from(mlp: Mlp<B>) -> Self {
        Self::Mlp(mlp)
    }
}

impl<B: Backend> From<Cnn<B>> for Model<B> {
    fn from(cnn: Cnn<B>) -> Self {
        Self::Cnn(cnn)
    }
}

/// The configuration of a [`Model`].
#[derive(Config, Debug)]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
}

impl ModelConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Model<B> {
        match self {
            Self::Mlp(c) => Model::Mlp(c.init(device)),
            Self::Cnn(c) => Model::Cnn(c.init(device)),
        }
    }

    /// A CNN's convolutions computed by `conv`; an MLP unchanged.
    pub fn with_conv(self, conv: ConvMethod) -> Self {
        match self {
            Self::Cnn(c) => Self::Cnn(c.with_conv(conv)),
            mlp => mlp,
        }
    }

    /// A short description for tables, e.g. `mlp 784-128-10 relu` or `cnn 28x28`.
    pub fn describe(&self) -> String {
        let heads = match self.heads() {
            1 => String::new(),
            n => format!(" x{n} heads"),
        };
        match self {
            Self::Mlp(c) => {
                let mut sizes = vec![c.height * c.width];
                sizes.extend(&c.hidden);
                sizes.push(10);
                let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
                let activation = match c.activation {
                    Activation::Relu => "relu",
                    Activation::LeakyRelu => "leaky-relu",
                };
                format!("mlp {} {activation}{heads}", sizes.join("-"))
            }
            Self::Cnn(c) => format!("cnn {}x{}{heads}", c.height, c.width),
        }
    }

    /// Checks that the configuration describes a model that can be built:
    /// sizes at least 1, dropout in [0, 1), a bounded size. A
    /// configuration read from a file or the command line is checked before
    /// anything is allocated.
    pub fn validate(&self) -> Result<(), String> {
        let (height, width) = self.image_size();
        let (heads, dropout) = match self {
            Self::Mlp(c) => (c.heads, c.dropout),
            Self::Cnn(c) => (c.heads, c.dropout),
        };
        let smallest_side = match self {
            Self::Mlp(_) => 1,
            // Two conv blocks need ten pixels a side to leave one.
            Self::Cnn(_) => 10,
        };
        if !(smallest_side..=MAX_SIDE).contains(&height)
            || !(smallest_side..=MAX_SIDE).contains(&width)
        {
            return Err(format!(
                "images of {height}x{width}: each side must be {smallest_side} to {MAX_SIDE} pixels"
            ));
        }
        if !(1..=MAX_HEADS).contains(&heads) {
            return Err(format!("{heads} heads: a model has 1 to {MAX_HEADS}"));
        }
        if !(0.0..1.0).contains(&dropout) {
            return Err(format!("dropout {dropout}: it must be in [0, 1)"));
        }
        if let Self::Mlp(c) = self
            && c.hidden.contains(&0)
        {
            return Err(format!(
                "hidden widths {:?}: each must be at least 1",
                c.hidden
            ));
        }
        let parameters = self.parameter_count();
        if parameters > MAX_PARAMETERS {
            return Err(format!(
                "{} would have {parameters} parameters; the limit is {MAX_PARAMETERS}",
                self.describe()
            ));
        }
        Ok(())
    }

    /// The number of trained parameters (saturating: an absurd size stays
    /// absurd instead of wrapping round).
    pub fn parameter_count(&self) -> usize {
        let linear =
            |inputs: usize, outputs: usize| inputs.saturating_mul(outputs).saturating_add(outputs);
        let (features, heads, layers) = match self {
            Self::Mlp(c) => {
                let mut width = c.height.saturating_mul(c.width);
                let mut layers = 0usize;
                for &next in &c.hidden {
                    layers = layers.saturating_add(linear(width, next));
                    width = next;
                }
                (width, c.heads, layers)
            }
            Self::Cnn(c) => {
                let convolutions = linear(9, 32) + linear(32 * 9, 64);
                let flat = 64usize
                    .saturating_mul(block_side(block_side(c.height)))
                    .saturating_mul(block_side(block_side(c.width)));
                (128, c.heads, convolutions.saturating_add(linear(flat, 128)))
            }
        };
        layers.saturating_add(heads.saturating_mul(linear(features, 10)))
    }

    /// Output heads: 1 for MNIST, 2 for two-digit images.
    pub fn heads(&self) -> usize {
        match self {
            Self::Mlp(c) => c.heads,
            Self::Cnn(c) => c.heads,
        }
    }

    /// The image size the model reads: (height, width).
    pub fn image_size(&self) -> (usize, usize) {
        match self {
            Self::Mlp(c) => (c.height, c.width),
            Self::Cnn(c) => (c.height, c.width),
        }
    }
}
