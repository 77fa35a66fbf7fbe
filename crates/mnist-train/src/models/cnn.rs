//! The course's CNN: conv 32@3×3 → ReLU → max-pool 2 → conv 64@3×3 → ReLU →
//! max-pool 2 → flatten → linear 128 → dropout → one linear head of 10 per
//! digit. As in the course (and PyTorch's `nn.Sequential` it came from),
//! there is no activation between the 128-unit layer and the heads.
//!
//! The two convolutions can be computed two ways with the same parameters
//! and the same results ([`ConvMethod`]): Burn's `Conv2d`, or one matrix
//! product per layer ([`conv3x3_as_matmul`]), which trains about twice as
//! fast on the CPU backends because its backward pass is two matrix
//! products where Burn's is a convolution with a 26×26 kernel.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::backend::BackendKind;
use crate::model::Classifier;

/// How the convolutions are computed. Both use the parameters of Burn's
/// `Conv2d` (`weight [out, in, 3, 3]`, `bias [out]`), so checkpoints load
/// either way.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ConvMethod {
    /// Burn's `Conv2d` on `[batch, channels, height, width]` tensors.
    Burn,
    /// One matrix product per layer over shifted views of the flattened
    /// images, on `[channels, batch, height, width]` tensors
    /// ([`conv3x3_as_matmul`]).
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
            conv: self.conv,
        }
    }
}

impl<B: Backend> Cnn<B> {
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
                // Channels first, batch second: a layout in which each
                // convolution is a single matrix product (no transposes
                // between layers). Pooling treats the two leading
                // dimensions alike, so it needs no change.
                let width = images.dims()[3];
                let x = channels_first(images);
                let x = self.pool.forward(relu(conv_matmul(&self.conv1, x)));
                let x = self.pool.forward(relu(conv_matmul(&self.conv2, x)));
                flatten_valid(x, width)
            }
        }
    }

    /// The method the convolutions use.
    pub fn conv_method(&self) -> ConvMethod {
        self.conv
    }
}

/// Valid columns after conv → pool → conv → pool on images `width` wide.
fn valid_width(width: usize) -> usize {
    (width.saturating_sub(2) / 2).saturating_sub(2) / 2
}

/// Images `[batch, 1, height, width]` as `[1, batch, height, width]`: the
/// matmul convolutions' layout (a reshape, no copy).
pub(crate) fn channels_first<B: Backend>(images: Tensor<B, 4>) -> Tensor<B, 4> {
    let [batch, _, height, width] = images.dims();
    images.reshape([1, batch, height, width])
}

/// The second pooling's output `[channels, batch, rows, columns]` as
/// `[batch, features]` in PyTorch's order, keeping only the valid columns
/// (each row carries columns past them, see [`conv3x3_as_matmul`]) of
/// images `image_width` wide.
pub(crate) fn flatten_valid<B: Backend>(x: Tensor<B, 4>, image_width: usize) -> Tensor<B, 2> {
    let [channels, batch, rows, _] = x.dims();
    let columns = valid_width(image_width);
    x.slice([0..channels, 0..batch, 0..rows, 0..columns])
        .swap_dims(0, 1)
        .reshape([batch, channels * rows * columns])
}

pub(crate) fn conv_matmul<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let bias = conv.bias.as_ref().map(|b| b.val());
    conv3x3_as_matmul(x, conv.weight.val(), bias)
}

/// A valid (unpadded, stride 1) convolution as one matrix product, on
/// `[channels, batch, height, width]` tensors: `weight [out, in, kh, kw]`
/// times the matrix whose rows are the input shifted by each kernel offset.
///
/// Flatten each image to `height × width` values. Output position
/// `(y, x)` is `y × width + x`, and the input under kernel offset
/// `(ky, kx)` is at that position plus `ky × width + kx`: so for each offset
/// the needed inputs are one contiguous run of the flattened image, and the
/// shifted runs stacked are the usual im2col matrix, built from plain
/// slices. The price: outputs are computed for all `width` columns of
/// each row, and the last `kw − 1` of them mix neighbouring rows. They are
/// returned (output `[out, batch, height − kh + 1, width]`) and must be
/// ignored; later layers see only valid columns if they are valid
/// convolutions and poolings, whose outputs' valid columns come only from
/// valid inputs.
pub fn conv3x3_as_matmul<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
) -> Tensor<B, 4> {
    let [channels, batch, height, width] = x.dims();
    let [out, _, kh, kw] = weight.dims();
    let rows = height + 1 - kh;
    let run = rows * width;
    // The last offset's run ends `kw − 1` values past the image.
    let padding = kw - 1;
    let flat = x.reshape([channels * batch, height * width]);
    let flat = Tensor::cat(
        vec![
            flat,
            Tensor::zeros([channels * batch, padding], &weight.device()),
        ],
        1,
    );
    let mut shifted = Vec::with_capacity(kh * kw);
    for ky in 0..kh {
        for kx in 0..kw {
            let start = ky * width + kx;
            shifted.push(
                flat.clone()
                    .slice([0..channels * batch, start..start + run])
                    .reshape([channels, batch * run]),
            );
        }
    }
    // Rows in `weight`'s order: channel, then kernel offset.
    let columns = Tensor::stack::<3>(shifted, 1).reshape([channels * kh * kw, batch * run]);
    let y = weight.reshape([out, channels * kh * kw]).matmul(columns);
    let y = match bias {
        Some(bias) => y + bias.reshape([out, 1]),
        None => y,
    };
    y.reshape([out, batch, rows, width])
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

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::Distribution;
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;

    use super::*;

    type B = Autodiff<Flex>;

    fn max_difference<const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>) -> f32 {
        (a - b).abs().max().into_scalar()
    }

    #[test]
    fn conv_as_matmul_equals_burns_conv2d() {
        let device = Default::default();
        for [channels_in, channels_out, height, width] in [
            [1, 32, 28, 28],
            [32, 64, 13, 13],
            [3, 5, 9, 6],
            [2, 4, 20, 14],
        ] {
            let x = Tensor::<B, 4>::random(
                [5, channels_in, height, width],
                Distribution::Default,
                &device,
            );
            let weight = Tensor::<B, 4>::random(
                [channels_out, channels_in, 3, 3],
                Distribution::Default,
                &device,
            );
            let bias = Tensor::<B, 1>::random([channels_out], Distribution::Default, &device);
            let expected = conv2d(
                x.clone(),
                weight.clone(),
                Some(bias.clone()),
                ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
            );
            let got = conv3x3_as_matmul(x.swap_dims(0, 1), weight, Some(bias));
            assert_eq!(got.dims(), [channels_out, 5, height - 2, width]);
            let got = got
                .slice([0..channels_out, 0..5, 0..height - 2, 0..width - 2])
                .swap_dims(0, 1);
            let scale = expected.clone().abs().max().into_scalar();
            let difference = max_difference(got, expected);
            assert!(
                difference <= 1e-5 * scale,
                "{channels_in}->{channels_out} on {height}x{width}: differs by {difference}"
            );
        }
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
