//! What the training loop needs of a model, and the curriculum's models.

use burn::prelude::*;

pub use crate::models::cnn::{Cnn, CnnConfig, ConvMethod};
pub use crate::models::cnn_ops::{CnnOps, TrainBackend};
pub use crate::models::mlp::{Activation, Mlp, MlpConfig};

/// A classifier of images into 10 digits, with one head (MNIST) or more
/// (two-digit images: one head per digit).
pub trait Classifier<B: Backend> {
    /// Logits, one `[batch, 10]` tensor per head, for images
    /// `[batch, 1, height, width]` with pixels in [0, 1].
    fn forward(&self, images: Tensor<B, 4>) -> Vec<Tensor<B, 2>>;
}

/// Any of the curriculum's models, as saved beside a checkpoint
/// (`model.json`), so a checkpoint folder says how to rebuild its model.
#[derive(Config, Debug)]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
}

impl ModelConfig {
    /// A CNN's convolutions computed the faster way on `backend`
    /// ([`ConvMethod::fastest_on`]); an MLP unchanged.
    pub fn with_fastest_conv(self, backend: crate::backend::BackendKind) -> Self {
        match self {
            Self::Cnn(c) => Self::Cnn(c.with_conv(ConvMethod::fastest_on(backend))),
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

/// Work to do with a concrete model, whichever [`ModelConfig`] it came from.
pub trait ModelTask<B: TrainBackend> {
    type Output;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: burn::module::AutodiffModule<B> + Classifier<B>,
        M::InnerModule: Classifier<B::InnerBackend>;
}

impl ModelConfig {
    /// Builds the model on `device` and hands it to `task`.
    pub fn with_model<B, T>(&self, device: &B::Device, task: T) -> T::Output
    where
        B: TrainBackend,
        T: ModelTask<B>,
    {
        match self {
            Self::Mlp(c) => task.run(c.init::<B>(device)),
            Self::Cnn(c) => task.run(c.init::<B>(device)),
        }
    }
}
