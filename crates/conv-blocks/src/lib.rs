//! The course CNN's fast path: each conv block, `relu(max_pool_2x2(conv3x3(x)
//! + bias))`, as one backend operation with its own backward pass, and the
//! layout change before the classifier (channels first to batch first).
//! The CNN uses it through one call, [`conv_blocks`].
//!
//! - [`CnnKernels`]: what a backend computes, forward (keeping what the
//!   backward pass needs) and backward. Every backend gets Burn's own
//!   operations ([`burn_ops`]: 3×3 patches from slices, a matrix product,
//!   Burn's max-pooling). Flex, the default CPU backend, runs the kernels of
//!   the `conv-kernels` crate instead ([`flex`]).
//! - [`CnnOps`]: the operations as models call them. [`Autodiff`] records
//!   each with its backward pass, so the same model trains on any backend.
//! - [`sgd`]: the optimiser's update of one parameter, one pass over its
//!   values on Flex, Burn's operations elsewhere.

pub mod burn_ops;
#[cfg(feature = "flex")]
mod flex;
pub mod sgd;

use std::fmt::Debug;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::nn::conv::Conv2d;
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};

pub use sgd::SgdMomentum;
use sgd::Updated;

/// A backend's computation of the CNN's operations.
///
/// The conv block is `relu(max_pool_2x2(conv3x3(x) + bias))` for `x`
/// `[channels, batch, height, width]`, `weight` `[out, channels, 3, 3]` and
/// `bias` `[out]`: a valid 3×3 convolution, 2×2 max-pooling with stride 2
/// (odd sizes drop their last row or column, as in PyTorch and Burn), then
/// ReLU. Its output is `[out, batch, (height − 2) / 2, (width − 2) / 2]`.
pub trait CnnKernels: Backend {
    /// What the backward pass needs from the forward pass.
    type ConvBlockState: Clone + Send + Debug + 'static;

    fn conv_block_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, Self::ConvBlockState);

    /// The gradients of the inputs from the output's gradient; the input's
    /// only if `input_grad` (the images need none).
    fn conv_block_backward(
        state: Self::ConvBlockState,
        grad: FloatTensor<Self>,
        input_grad: bool,
    ) -> ConvBlockGrads<Self>;

    /// `x` `[a, b, …]` as `[b, a, …]`, laid out in that order; its own
    /// backward pass.
    fn swap_leading_dims(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_swap_dims(x, 0, 1)
    }

    /// SGD's update of one parameter ([`sgd`]): the parameter and the
    /// velocity to keep. Optimisers run it on the backend without autodiff.
    fn sgd_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        velocity: Option<FloatTensor<Self>>,
        learning_rate: f64,
        momentum: Option<SgdMomentum>,
    ) -> Updated<Self> {
        sgd::burn_update::<Self>(param, grad, velocity, learning_rate, momentum)
    }
}

/// The gradients of a conv block's inputs.
pub struct ConvBlockGrads<B: Backend> {
    pub x: Option<FloatTensor<B>>,
    pub weight: FloatTensor<B>,
    pub bias: FloatTensor<B>,
}

/// The CNN's operations as models use them, on any backend (with or
/// without autodiff).
pub trait CnnOps: Backend {
    fn conv_block(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    fn swap_leading_dims(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// [`CnnOps::conv_block`] on tensors.
pub fn conv_block<B: CnnOps>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Tensor<B, 1>,
) -> Tensor<B, 4> {
    Tensor::from_primitive(TensorPrimitive::Float(B::conv_block(
        x.into_primitive().tensor(),
        weight.into_primitive().tensor(),
        bias.into_primitive().tensor(),
    )))
}

/// `x` `[channels, batch, …]` as `[batch, channels × …]`: the features in
/// PyTorch's order (channel, row, column).
pub fn flatten_channels_first<B: CnnOps>(x: Tensor<B, 4>) -> Tensor<B, 2> {
    let [channels, batch, rows, cols] = x.dims();
    let swapped = B::swap_leading_dims(x.into_primitive().tensor());
    Tensor::<B, 4>::from_primitive(TensorPrimitive::Float(swapped))
        .reshape([batch, channels * rows * cols])
}

/// The side of a conv block's output for an input side of `n`: a valid 3×3
/// convolution (n − 2), then 2×2 pooling (⌊·/2⌋). 28 → 13 → 5; 42 → 20 → 9.
pub fn block_side(n: usize) -> usize {
    n.saturating_sub(2) / 2
}

/// The pixels two conv blocks read along a side of `n`. The `m` outputs of
/// the second pooling come from conv2 outputs 0..2m, pool1 outputs
/// 0..2m + 2, conv1 outputs 0..4m + 4 and pixels 0..4m + 6; what lies past
/// them (the last two rows and columns of a 28×28 image) reaches only
/// outputs that the poolings' rounding down drops. Leaving it out gives the
/// same outputs and gradients for less work.
fn used_side(n: usize) -> usize {
    (4 * block_side(block_side(n)) + 6).min(n)
}

/// The CNN's two conv blocks and flatten, fused: `images` `[batch, 1,
/// height, width]` → `relu(pool(conv2(relu(pool(conv1(images))))))`
/// flattened to `[batch, 64 × rows × cols]` in PyTorch's order, with the
/// parameters of Burn's `Conv2d` layers.
pub fn conv_blocks<B: CnnOps>(
    images: Tensor<B, 4>,
    conv1: &Conv2d<B>,
    conv2: &Conv2d<B>,
) -> Tensor<B, 2> {
    let x = channels_first(images);
    let x = conv_pool_relu(conv1, x);
    let x = conv_pool_relu(conv2, x);
    flatten_channels_first(x)
}

/// Images `[batch, 1, height, width]` as `[1, batch, height, width]`, the
/// conv blocks' layout (a reshape), cropped to the pixels the network reads
/// ([`used_side`]).
pub fn channels_first<B: Backend>(images: Tensor<B, 4>) -> Tensor<B, 4> {
    let [batch, _, height, width] = images.dims();
    images.reshape([1, batch, height, width]).slice([
        0..1,
        0..batch,
        0..used_side(height),
        0..used_side(width),
    ])
}

/// `relu(max_pool_2x2(conv(x)))` as one [`conv_block`], with `conv`'s
/// parameters, on `[channels, batch, height, width]` tensors.
pub fn conv_pool_relu<B: CnnOps>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let weight = conv.weight.val();
    let bias = match &conv.bias {
        Some(bias) => bias.val(),
        None => Tensor::zeros([weight.dims()[0]], &weight.device()),
    };
    conv_block(x, weight, bias)
}

/// A backend without autodiff runs its kernels' forward pass.
impl<B: CnnKernels> CnnOps for B {
    fn conv_block(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        bias: FloatTensor<B>,
    ) -> FloatTensor<B> {
        B::conv_block_forward(x, weight, bias).0
    }

    fn swap_leading_dims(x: FloatTensor<B>) -> FloatTensor<B> {
        <B as CnnKernels>::swap_leading_dims(x)
    }
}

/// With autodiff, each operation is one node of the graph, whose backward
/// pass is the backend's.
impl<B: CnnKernels, C: CheckpointStrategy> CnnOps for Autodiff<B, C> {
    fn conv_block(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ConvBlock;

        impl<B: CnnKernels> Backward<B, 3> for ConvBlock {
            type State = B::ConvBlockState;

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [x, weight, bias] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let computed = B::conv_block_backward(ops.state, grad, x.is_some());
                if let (Some(node), Some(x_grad)) = (x, computed.x) {
                    grads.register::<B>(node.id, x_grad);
                }
                if let Some(node) = weight {
                    grads.register::<B>(node.id, computed.weight);
                }
                if let Some(node) = bias {
                    grads.register::<B>(node.id, computed.bias);
                }
            }
        }

        let nodes = [x.node.clone(), weight.node.clone(), bias.node.clone()];
        let (output, state) = B::conv_block_forward(x.primitive, weight.primitive, bias.primitive);
        match ConvBlock.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(state, output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }

    fn swap_leading_dims(x: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct SwapLeadingDims;

        impl<B: CnnKernels> Backward<B, 1> for SwapLeadingDims {
            type State = ();

            fn backward(self, ops: Ops<(), 1>, grads: &mut Gradients, _: &mut Checkpointer) {
                unary::<B, _>(ops.parents, ops.node, grads, B::swap_leading_dims);
            }
        }

        let output = B::swap_leading_dims(x.primitive);
        match SwapLeadingDims
            .prepare::<C>([x.node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((), output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}

/// The GPU backends and LibTorch compute the CNN's operations with Burn's
/// own operations ([`burn_ops`]), through this marker: a generic
/// implementation is compiled only in the binaries that use the backend
/// (see `docs/build.md`).
pub trait BurnOpsKernels: Backend {}

impl<B: BurnOpsKernels> CnnKernels for B {
    type ConvBlockState = burn_ops::State<B>;

    fn conv_block_forward(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        bias: FloatTensor<B>,
    ) -> (FloatTensor<B>, Self::ConvBlockState) {
        burn_ops::forward::<B>(x, weight, bias)
    }

    fn conv_block_backward(
        state: Self::ConvBlockState,
        grad: FloatTensor<B>,
        input_grad: bool,
    ) -> ConvBlockGrads<B> {
        burn_ops::backward::<B>(state, grad, input_grad)
    }
}

#[cfg(any(feature = "wgpu", feature = "test-wgpu"))]
impl BurnOpsKernels for burn::backend::Wgpu {}
#[cfg(feature = "cuda")]
impl BurnOpsKernels for burn::backend::Cuda {}
#[cfg(feature = "tch")]
impl BurnOpsKernels for burn::backend::LibTorch {}

/// ndarray uses Burn's operations too, written out so that they are compiled
/// once, in this library (see `docs/build.md`).
#[cfg(feature = "ndarray")]
impl CnnKernels for burn::backend::NdArray {
    type ConvBlockState = burn_ops::State<Self>;

    fn conv_block_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, Self::ConvBlockState) {
        burn_ops::forward::<Self>(x, weight, bias)
    }

    fn conv_block_backward(
        state: Self::ConvBlockState,
        grad: FloatTensor<Self>,
        input_grad: bool,
    ) -> ConvBlockGrads<Self> {
        burn_ops::backward::<Self>(state, grad, input_grad)
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex, NdArray};
    use burn::tensor::activation::relu;
    use burn::tensor::module::{conv2d, max_pool2d};
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{Distribution, TensorData};

    use super::*;
    use burn::tensor::backend::AutodiffBackend;

    type Reference = Autodiff<Flex>;

    /// The block's output and the gradients of its input, weight and bias
    /// for the loss Σ output × `weights`, computed by `block` on `B`.
    fn run<B: AutodiffBackend>(
        block: impl Fn(Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 1>) -> Tensor<B, 4>,
        [x, weight, bias, weights]: [&TensorData; 4],
    ) -> [TensorData; 4] {
        let device = Default::default();
        let x = Tensor::<B, 4>::from_data(x.clone(), &device).require_grad();
        let weight = Tensor::<B, 4>::from_data(weight.clone(), &device).require_grad();
        let bias = Tensor::<B, 1>::from_data(bias.clone(), &device).require_grad();
        let output = block(x.clone(), weight.clone(), bias.clone());
        let weights = Tensor::<B, 4>::from_data(weights.clone(), &device);
        let grads = (output.clone() * weights).sum().backward();
        [
            output.into_data(),
            x.grad(&grads).unwrap().into_data(),
            weight.grad(&grads).unwrap().into_data(),
            bias.grad(&grads).unwrap().into_data(),
        ]
    }

    /// The block in Burn's layers, on `[batch, channels, …]` tensors.
    fn burns_layers<B: Backend>(
        x: Tensor<B, 4>,
        weight: Tensor<B, 4>,
        bias: Tensor<B, 1>,
    ) -> Tensor<B, 4> {
        let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        let conv = conv2d(x.swap_dims(0, 1), weight, Some(bias), options);
        relu(max_pool2d(conv, [2, 2], [2, 2], [0, 0], [1, 1], false)).swap_dims(0, 1)
    }

    /// Inputs on which the block is well conditioned: with random data two
    /// convolution outputs in a pooling window can be equal to within
    /// rounding, and two correct convolutions then send the gradient to
    /// different pixels. Here each image is a ramp (4 per pixel, rising
    /// towards one corner, a different corner per image) plus noise in [0, 1),
    /// and the weights are positive, so neighbouring outputs differ by at
    /// least 3 × the sum of the weights and each window has one clear maximum.
    /// Even channels get a bias in [1, 2), odd ones a bias below every sum, so
    /// the ReLU passes the first and zeroes the second, far from 0 both.
    fn tie_free_inputs([channels, out, batch, height, width]: [usize; 5]) -> [TensorData; 4] {
        let device = Default::default();
        let random = |shape: Vec<usize>| {
            Tensor::<Reference, 1>::random(
                [shape.iter().product::<usize>()],
                Distribution::Default,
                &device,
            )
            .into_data()
            .to_vec::<f32>()
            .unwrap()
        };
        let noise = random(vec![channels, batch, height, width]);
        let mut x = Vec::with_capacity(noise.len());
        for (i, noise) in noise.iter().enumerate() {
            let (n, y, col) = (i / (height * width) % batch, i / width % height, i % width);
            let y = if n % 2 == 0 { y } else { height - 1 - y };
            let col = if n / 2 % 2 == 0 { col } else { width - 1 - col };
            x.push(4.0 * (y + col) as f32 + noise);
        }
        let largest_sum = (9 * channels) as f32 * (4.0 * (height + width) as f32 + 1.0);
        let bias: Vec<f32> = random(vec![out])
            .iter()
            .enumerate()
            .map(|(o, r)| {
                if o % 2 == 0 {
                    1.0 + r
                } else {
                    -largest_sum - 1.0 - r
                }
            })
            .collect();
        [
            TensorData::new(x, [channels, batch, height, width]),
            TensorData::new(random(vec![out, channels, 3, 3]), [out, channels, 3, 3]),
            TensorData::new(bias, [out]),
            TensorData::new(
                random(vec![out, batch, (height - 2) / 2, (width - 2) / 2]),
                [out, batch, (height - 2) / 2, (width - 2) / 2],
            ),
        ]
    }

    /// [`conv_block`] on `B` equals Burn's convolution, pooling and ReLU on
    /// Flex: the output and the gradients of input, weight and bias. The
    /// shapes cover Flex's direct kernel (1 and 3 channels) and its matrix
    /// product, odd sizes, and the course's two blocks.
    fn conv_block_equals_burns_layers<B: AutodiffBackend + CnnOps>() {
        Reference::seed(&Default::default(), 3);
        for shape in [
            [1, 32, 4, 26, 26],
            [32, 64, 4, 12, 12],
            [3, 5, 2, 9, 7],
            [4, 6, 3, 8, 11],
        ] {
            let [channels, out, _, height, width] = shape;
            let [x, weight, bias, weights] = tie_free_inputs(shape);
            let data = [&x, &weight, &bias, &weights];
            let ours = run::<B>(conv_block, data);
            let theirs = run::<Reference>(burns_layers, data);
            for ((ours, theirs), what) in ours.iter().zip(&theirs).zip([
                "output",
                "input gradient",
                "weight gradient",
                "bias gradient",
            ]) {
                let (ours, theirs) = (
                    ours.to_vec::<f32>().unwrap(),
                    theirs.to_vec::<f32>().unwrap(),
                );
                let scale = theirs.iter().fold(1.0f32, |m, v| m.max(v.abs()));
                let difference = ours
                    .iter()
                    .zip(&theirs)
                    .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(
                    difference <= 1e-5 * scale,
                    "{channels}->{out} on {height}x{width}, {what}: differs by {difference} (largest {scale})"
                );
            }
        }
    }

    #[test]
    fn flex_kernels_equal_burns_layers() {
        conv_block_equals_burns_layers::<Autodiff<Flex>>();
    }

    #[test]
    fn burn_ops_equal_burns_layers() {
        conv_block_equals_burns_layers::<Autodiff<NdArray>>();
    }

    /// Without autodiff the block is the forward pass alone.
    #[test]
    fn inference_equals_training_forward() {
        let device = Default::default();
        let x = Tensor::<Flex, 4>::random([1, 3, 12, 12], Distribution::Default, &device);
        let weight = Tensor::<Flex, 4>::random([8, 1, 3, 3], Distribution::Default, &device);
        let bias = Tensor::<Flex, 1>::random([8], Distribution::Default, &device);
        let inference = conv_block(x.clone(), weight.clone(), bias.clone());
        let training = conv_block(
            Tensor::<Reference, 4>::from_inner(x),
            Tensor::from_inner(weight),
            Tensor::from_inner(bias),
        )
        .inner();
        inference.into_data().assert_eq(&training.into_data(), true);
    }
}
