//! Multilayer perceptron: flatten → (linear → activation → dropout)* → heads.

use burn::nn::{Dropout, Linear};
use burn::prelude::*;

#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub enum Activation {
    Relu,
    /// Negative slope 0.01, as PyTorch's default.
    LeakyRelu,
}

#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Input image size: 28×28 for MNIST, 42×28 for two-digit images.
    #[config(default = 28)]
    pub height: usize,
    #[config(default = 28)]
    pub width: usize,
    /// Widths of the hidden layers, e.g. `[10]` or `[64, 64]`.
    pub hidden: Vec<usize>,
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Dropout after each hidden activation (0 = none).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Output heads of 10 classes each.
    #[config(default = 1)]
    pub heads: usize,
}

#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    pub hidden: Vec<Linear<B>>,
    pub heads: Vec<Linear<B>>,
    pub dropout: Dropout,
    #[module(skip)]
    pub activation: Activation,
}

impl MlpConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Mlp<B> {
        // BEGIN EXERCISE p2.mlp uses device
        use burn::nn::{DropoutConfig, LinearConfig};
        let mut width = self.height * self.width;
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for &next in &self.hidden {
            hidden.push(LinearConfig::new(width, next).init(device));
            width = next;
        }
        Mlp {
            hidden,
            heads: (0..self.heads)
                .map(|_| LinearConfig::new(width, 10).init(device))
                .collect(),
            dropout: DropoutConfig::new(self.dropout).init(),
            activation: self.activation,
        }
        // END EXERCISE
    }
}

impl<B: Backend> Mlp<B> {
    /// Logits, one `[batch, 10]` tensor per head.
    pub fn forward(&self, images: Tensor<B, 4>) -> Vec<Tensor<B, 2>> {
        let features = self.last_hidden(images);
        self.heads
            .iter()
            .map(|head| head.forward(features.clone()))
            .collect()
    }

    /// The last hidden layer's activations, `[batch, width]` (for t-SNE).
    pub fn last_hidden(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        // BEGIN EXERCISE p2.mlp uses images
        use burn::tensor::activation::{leaky_relu, relu};
        let mut x = images.flatten(1, 3);
        for layer in &self.hidden {
            x = layer.forward(x);
            x = match self.activation {
                Activation::Relu => relu(x),
                Activation::LeakyRelu => leaky_relu(x, 0.01),
            };
            x = self.dropout.forward(x);
        }
        x
        // END EXERCISE
    }
}
