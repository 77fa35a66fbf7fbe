//! The course's CNN: conv 32@3×3 → ReLU → max-pool 2 → conv 64@3×3 → ReLU →
//! max-pool 2 → flatten → linear 128 → dropout → one linear head of 10 per
//! digit. As in the course (and PyTorch's `nn.Sequential` it came from),
//! there is no activation between the 128-unit layer and the heads.
//!
//! The convolutions and poolings can be computed two ways with the same
//! parameters and the same results ([`ConvMethod`]): Burn's `Conv2d`,
//! `MaxPool2d` and ReLU, or each convolution, pooling and ReLU as one
//! operation, [`conv_block`], which the backend computes its own way
//! ([`super::cnn_ops`]: a matrix product over 3×3 patches, or on Flex its
//! own kernels). On Flex the second trains several times faster: Burn's
//! `Conv2d` computes its weight gradient as a convolution with a 26×26
//! kernel.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::cnn_ops::{CnnOps, conv_block, flatten_channels_first};
use crate::backend::BackendKind;
use crate::model::Classifier;

/// How the convolutions and poolings are computed. Both use the parameters
/// of Burn's `Conv2d` (`weight [out, in, 3, 3]`, `bias [out]`), so
/// checkpoints load either way.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ConvMethod {
    /// Burn's `Conv2d` and `MaxPool2d` on `[batch, channels, height,
    /// width]` tensors.
    Burn,
    /// Each convolution, pooling and ReLU as one [`conv_block`] (a matrix
    /// product over 3×3 patches, or the backend's own kernels), on
    /// `[channels, batch, height, width]` tensors.
    Matmul,
}

impl ConvMethod {
    /// The faster method on `backend`, as `cnn bench` measures it: the
    /// matrix product on Burn's own CPU backends (flex, ndarray), whose
    /// `Conv2d` backward pass is slow; Burn's `Conv2d` elsewhere, where it
    /// is the library's own convolution (LibTorch's, CubeCL's).
    pub fn fastest_on(backend: BackendKind) -> Self {
        match backend {
            BackendKind::Flex | BackendKind::Ndarray => Self::Matmul,
            BackendKind::Tch | BackendKind::Wgpu | BackendKind::Cuda => Self::Burn,
        }
    }
}

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
    /// How the convolutions are computed: the same model either way.
    #[config(default = "ConvMethod::Matmul")]
    pub conv: ConvMethod,
}

#[derive(Module, Debug)]
pub struct Cnn<B: Backend> {
    pub(crate) conv1: Conv2d<B>,
    pub(crate) conv2: Conv2d<B>,
    pub(crate) pool: MaxPool2d,
    pub(crate) hidden: Linear<B>,
    pub(crate) dropout: Dropout,
    pub(crate) heads: Vec<Linear<B>>,
    pub(crate) conv: ConvMethod,
}

impl CnnConfig {
    /// Features after the second pooling: each side goes n → n−2 (3×3
    /// convolution) → ⌊n/2⌋ (pooling), twice; 64 channels. 28×28 → 5×5×64
    /// = 1,600; 42×28 → 9×5×64 = 2,880.
    pub fn flatten_width(&self) -> usize {
        64 * pooled_side(self.height) * pooled_side(self.width)
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
            conv: self.conv,
        }
    }
}

impl<B: CnnOps> Cnn<B> {
    /// The flattened convolutional features, `[batch, flatten_width]`, in
    /// PyTorch's order (channel, row, column).
    pub fn features(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        match self.conv {
            ConvMethod::Burn => {
                let x = self.pool.forward(relu(self.conv1.forward(images)));
                let x = self.pool.forward(relu(self.conv2.forward(x)));
                x.flatten(1, 3)
            }
            ConvMethod::Matmul => {
                // Channels first, batch second: the layout in which a
                // convolution is one matrix product, with no transposes
                // between layers.
                let x = channels_first(images);
                let x = conv_pool_relu(&self.conv1, x);
                let x = conv_pool_relu(&self.conv2, x);
                flatten_channels_first(x)
            }
        }
    }
}

impl<B: Backend> Cnn<B> {
    /// The method the convolutions use.
    pub fn conv_method(&self) -> ConvMethod {
        self.conv
    }
}

/// The side of the second pooling's output for a side of `n` pixels: n →
/// n − 2 (3×3 convolution) → ⌊·/2⌋ (pooling), twice. 28 → 5, 42 → 9.
fn pooled_side(n: usize) -> usize {
    (n.saturating_sub(2) / 2).saturating_sub(2) / 2
}

/// The pixels the network reads along a side of `n`. The `m` outputs of the
/// second pooling come from conv2 outputs 0..2m, pool1 outputs 0..2m + 2,
/// conv1 outputs 0..4m + 4 and pixels 0..4m + 6; what lies past them (the
/// last two rows and columns of a 28×28 image) reaches only outputs that
/// the poolings' rounding down drops. Leaving it out gives the same outputs
/// and gradients for 15 % less convolution.
fn used_side(n: usize) -> usize {
    (4 * pooled_side(n) + 6).min(n)
}

/// Images `[batch, 1, height, width]` as `[1, batch, height, width]`, the
/// matmul convolutions' layout (a reshape), cropped to the pixels the
/// network reads ([`used_side`]).
pub(crate) fn channels_first<B: Backend>(images: Tensor<B, 4>) -> Tensor<B, 4> {
    let [batch, _, height, width] = images.dims();
    images.reshape([1, batch, height, width]).slice([
        0..1,
        0..batch,
        0..used_side(height),
        0..used_side(width),
    ])
}

/// `relu(max_pool_2x2(conv(x)))` as one [`conv_block`], with `conv`'s
/// parameters.
pub(crate) fn conv_pool_relu<B: CnnOps>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let weight = conv.weight.val();
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([weight.dims()[0]], &weight.device()),
    };
    conv_block(x, weight, bias)
}

impl<B: CnnOps> Classifier<B> for Cnn<B> {
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

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::Distribution;

    use super::*;

    type B = Autodiff<Flex>;

    fn max_difference<const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>) -> f32 {
        (a - b).abs().max().into_scalar()
    }

    /// The two methods, with the same parameters, compute the same outputs
    /// and the same gradients (dropout off, so both see the same network).
    #[test]
    fn both_conv_methods_are_the_same_model() {
        let device = Default::default();
        B::seed(&device, 7);
        for config in [
            CnnConfig::new(),
            CnnConfig::new().with_height(42).with_heads(2),
        ] {
            let config = config.with_dropout(0.0);
            let images = Tensor::<B, 4>::random(
                [6, 1, config.height, config.width],
                Distribution::Uniform(0.0, 1.0),
                &device,
            );
            // Parameters are initialised lazily, each copy on its own: a
            // forward pass fixes them before the copies are taken.
            let original = config.init::<B>(&device);
            let _ = original.forward(images.clone());
            let burn = config
                .clone()
                .with_conv(ConvMethod::Burn)
                .init::<B>(&device)
                .load_record(original.clone().into_record());
            let matmul = config
                .clone()
                .with_conv(ConvMethod::Matmul)
                .init::<B>(&device)
                .load_record(original.into_record());
            let weights = Tensor::<B, 2>::random([6, 10], Distribution::Default, &device);
            let objective = |outputs: Vec<Tensor<B, 2>>| {
                outputs
                    .into_iter()
                    .map(|o| (o * weights.clone()).sum())
                    .reduce(|a, b| a + b)
                    .unwrap()
            };
            let out_burn = burn.forward(images.clone());
            let out_matmul = matmul.forward(images);
            for (a, b) in out_burn.iter().zip(&out_matmul) {
                let difference = max_difference(a.clone(), b.clone());
                assert!(
                    difference < 1e-4,
                    "{}x{}: outputs differ by {difference}",
                    config.height,
                    config.width
                );
            }
            let grads_burn = objective(out_burn).backward();
            let grads_matmul = objective(out_matmul).backward();
            let pairs = [
                (&burn.conv1.weight, &matmul.conv1.weight),
                (&burn.conv2.weight, &matmul.conv2.weight),
            ];
            for (a, b) in pairs {
                let (ga, gb) = (a.grad(&grads_burn).unwrap(), b.grad(&grads_matmul).unwrap());
                let scale: f32 = ga.clone().abs().max().into_scalar();
                let difference: f32 = (ga - gb).abs().max().into_scalar();
                assert!(
                    difference <= 1e-4 * scale.max(1.0),
                    "weight gradients differ by {difference} (largest {scale})"
                );
            }
            let biases = [
                (&burn.conv1.bias, &matmul.conv1.bias),
                (&burn.conv2.bias, &matmul.conv2.bias),
            ];
            for (a, b) in biases {
                let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
                let (ga, gb) = (a.grad(&grads_burn).unwrap(), b.grad(&grads_matmul).unwrap());
                let scale: f32 = ga.clone().abs().max().into_scalar();
                let difference: f32 = (ga - gb).abs().max().into_scalar();
                assert!(difference <= 1e-4 * scale.max(1.0));
            }
        }
    }
}
