//! The course's CNN: conv 32@3×3 → ReLU → max-pool 2 → conv 64@3×3 → ReLU →
//! max-pool 2 → flatten → linear 128 → dropout → one linear head of 10 per
//! digit. As in the course (and PyTorch's `nn.Sequential` it came from),
//! there is no activation between the 128-unit layer and the heads.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::model::Classifier;

#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Input height: 28 for MNIST, 42 for two-digit images.
    #[config(default = 28)]
    pub height: usize,
    #[config(default = 28)]
    pub width: usize,
    #[config(default = 1)]
    pub heads: usize,
    #[config(default = 0.5)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct Cnn<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    pool: MaxPool2d,
    hidden: Linear<B>,
    dropout: Dropout,
    heads: Vec<Linear<B>>,
}

impl CnnConfig {
    /// Features after the second pooling: each side goes n → n−2 (3×3
    /// convolution) → ⌊n/2⌋ (pooling), twice; 64 channels. 28×28 → 5×5×64
    /// = 1,600; 42×28 → 9×5×64 = 2,880.
    pub fn flatten_width(&self) -> usize {
        let side = |n: usize| (n.saturating_sub(2) / 2).saturating_sub(2) / 2;
        64 * side(self.height) * side(self.width)
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> Cnn<B> {
        Cnn {
            conv1: Conv2dConfig::new([1, 32], [3, 3]).init(device),
            conv2: Conv2dConfig::new([32, 64], [3, 3]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            hidden: LinearConfig::new(self.flatten_width(), 128).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            heads: (0..self.heads)
                .map(|_| LinearConfig::new(128, 10).init(device))
                .collect(),
        }
    }
}

impl<B: Backend> Cnn<B> {
    /// The flattened convolutional features, `[batch, flatten_width]`.
    pub fn features(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.pool.forward(relu(self.conv1.forward(images)));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        x.flatten(1, 3)
    }
}

impl<B: Backend> Classifier<B> for Cnn<B> {
    fn forward(&self, images: Tensor<B, 4>) -> Vec<Tensor<B, 2>> {
        let x = self
            .dropout
            .forward(self.hidden.forward(self.features(images)));
        self.heads
            .iter()
            .map(|head| head.forward(x.clone()))
            .collect()
    }
}
