//! The CNN's operations as Burn backend operations with their own backward
//! passes, for the matrix-product formulation
//! ([`super::cnn::ConvMethod::Matmul`]): the convolutional block,
//! `relu(max_pool_2x2(conv3x3(x) + bias))`, and the layout change before the
//! classifier (channels first to batch first).
//!
//! - [`CnnKernels`]: what a backend computes, forward (keeping what
//!   the backward pass needs) and backward. Every backend gets Burn's own
//!   operations ([`burn_ops`]: 3×3 patches from slices, a matrix product,
//!   Burn's max-pooling). Flex, the default CPU backend, runs the kernels of
//!   [`super::cpu_kernels`] instead: Burn 0.21's Flex builds patches from
//!   strided copies and pools with a generic 3-D kernel, and a
//!   one-channel convolution as a matrix product is mostly memory traffic.
//! - [`CnnOps`]: the operations as models call them. [`Autodiff`] records
//!   each with its backward pass, so the same model trains on any backend.

use std::fmt::Debug;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};

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

/// A backend that trains the curriculum's models: autodiff over a backend,
/// both with the CNN's operations.
pub trait TrainBackend: AutodiffBackend<InnerBackend: CnnOps> + CnnOps {}

impl<B: AutodiffBackend<InnerBackend: CnnOps> + CnnOps> TrainBackend for B {}

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

/// The conv block in Burn's own operations, for any backend: 3×3 patches
/// from nine slices, one matrix product, Burn's max-pooling and ReLU.
pub mod burn_ops {
    use burn::tensor::{Int, Shape, TensorMetadata};

    use super::*;

    /// What the backward pass keeps: the patches and weight for the matrix
    /// product's gradients, the convolution's output and the pooling's
    /// indices for the pooling's, the output for the ReLU's.
    #[derive(Clone, Debug)]
    pub struct State<B: Backend> {
        x_shape: Shape,
        weight: Tensor<B, 2>,
        patches: Tensor<B, 2>,
        conv: Tensor<B, 4>,
        indices: Tensor<B, 4, Int>,
        output: Tensor<B, 4>,
    }

    fn tensor<B: Backend, const D: usize>(primitive: FloatTensor<B>) -> Tensor<B, D> {
        Tensor::from_primitive(TensorPrimitive::Float(primitive))
    }

    /// The 3×3 patches of `x` as a matrix `[channels × 9, batch × rows ×
    /// cols]`: rows in `weight`'s order (channel, then offset `ky × 3 +
    /// kx`), columns by image then output position.
    pub fn im2col_3x3<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 2> {
        let [channels, batch, height, width] = x.dims();
        let (rows, cols) = (height - 2, width - 2);
        let shifted: Vec<Tensor<B, 4>> = (0..9)
            .map(|k| {
                let (ky, kx) = (k / 3, k % 3);
                x.clone()
                    .slice([0..channels, 0..batch, ky..ky + rows, kx..kx + cols])
            })
            .collect();
        Tensor::stack::<5>(shifted, 1).reshape([channels * 9, batch * rows * cols])
    }

    /// The gradient of [`im2col_3x3`]'s input: each patch value's gradient
    /// added back to its pixel.
    pub fn im2col_3x3_backward<B: Backend>(grad: Tensor<B, 2>, x_shape: Shape) -> Tensor<B, 4> {
        let [channels, batch, height, width] = x_shape.dims();
        let (rows, cols) = (height - 2, width - 2);
        let grad = grad.reshape([channels, 9, batch, rows, cols]);
        let mut x_grad = Tensor::<B, 4>::zeros(x_shape, &grad.device());
        for k in 0..9 {
            let (ky, kx) = (k / 3, k % 3);
            let region = [0..channels, 0..batch, ky..ky + rows, kx..kx + cols];
            let patch_grad = grad
                .clone()
                .slice([0..channels, k..k + 1, 0..batch, 0..rows, 0..cols])
                .reshape([channels, batch, rows, cols]);
            let sum = x_grad.clone().slice(region.clone()) + patch_grad;
            x_grad = x_grad.slice_assign(region, sum);
        }
        x_grad
    }

    pub fn forward<B: Backend>(
        x: FloatTensor<B>,
        weight: FloatTensor<B>,
        bias: FloatTensor<B>,
    ) -> (FloatTensor<B>, State<B>) {
        let x_shape = x.shape();
        let [_, batch, height, width] = x_shape.dims();
        let weight: Tensor<B, 4> = tensor(weight);
        let [out, channels, _, _] = weight.dims();
        let weight = weight.reshape([out, channels * 9]);
        let patches = im2col_3x3(tensor::<B, 4>(x));
        let conv = (weight.clone().matmul(patches.clone())
            + tensor::<B, 1>(bias).reshape([out, 1]))
        .reshape([out, batch, height - 2, width - 2]);
        let (pooled, indices) = burn::tensor::module::max_pool2d_with_indices(
            conv.clone(),
            [2, 2],
            [2, 2],
            [0, 0],
            [1, 1],
            false,
        );
        let output = burn::tensor::activation::relu(pooled);
        let state = State {
            x_shape,
            weight,
            patches,
            conv,
            indices,
            output: output.clone(),
        };
        (output.into_primitive().tensor(), state)
    }

    pub fn backward<B: Backend>(
        state: State<B>,
        grad: FloatTensor<B>,
        input_grad: bool,
    ) -> ConvBlockGrads<B> {
        let State {
            x_shape,
            weight,
            patches,
            conv,
            indices,
            output,
        } = state;
        let [out, channels] = weight.dims();
        let grad = tensor::<B, 4>(grad).mask_fill(output.lower_equal_elem(0.0), 0.0);
        let conv_grad: Tensor<B, 4> = tensor(
            B::max_pool2d_with_indices_backward(
                conv.into_primitive().tensor(),
                [2, 2],
                [2, 2],
                [0, 0],
                [1, 1],
                false,
                grad.into_primitive().tensor(),
                indices.into_primitive(),
            )
            .x_grad,
        );
        let [_, batch, rows, cols] = conv_grad.dims();
        let conv_grad = conv_grad.reshape([out, batch * rows * cols]);
        let x = input_grad.then(|| {
            let patches_grad = weight.clone().transpose().matmul(conv_grad.clone());
            im2col_3x3_backward(patches_grad, x_shape)
                .into_primitive()
                .tensor()
        });
        ConvBlockGrads {
            x,
            weight: conv_grad
                .clone()
                .matmul(patches.transpose())
                .reshape([out, channels / 9, 3, 3])
                .into_primitive()
                .tensor(),
            bias: conv_grad
                .sum_dim(1)
                .reshape([out])
                .into_primitive()
                .tensor(),
        }
    }
}

/// The GPU backends and LibTorch compute the CNN's operations with Burn's
/// own operations ([`burn_ops`]). A marker for the generic implementation
/// below, so that a GPU backend's code is compiled only in the binaries
/// that use it: written out as `impl CnnKernels for Cuda`, it made this
/// library compile all of the CUDA (or wgpu) backend's operations itself,
/// minutes per build.
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

/// ndarray, a CPU backend every part binary has, also uses Burn's
/// operations, written out here (not through [`BurnOpsKernels`]) so that
/// they are compiled once, in this library, rather than in every binary.
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

/// Flex runs the kernels of [`cpu_kernels`]: the whole block directly for
/// inputs of few channels (the images), else patches, Flex's matrix product
/// and a pooling kernel that adds the bias and applies the ReLU.
#[cfg(feature = "flex")]
mod flex {
    use std::sync::Arc;

    use burn::backend::Flex;
    use burn::backend::flex::FlexTensor;
    use burn::tensor::ops::FloatTensorOps;
    use burn::tensor::{DType, Shape, TensorData, TensorMetadata};

    use super::*;
    use crate::models::cpu_kernels::{self, Pooled};

    /// Images per part of the input's gradient in the matrix-product
    /// block's backward pass.
    const IMAGES_PER_PART: usize = 8;

    /// Input channels up to which the block is computed directly: a matrix
    /// product over patches of `channels × 9` values pays off only when that
    /// inner dimension is long.
    const DIRECT_MAX_CHANNELS: usize = 3;

    #[derive(Clone, Debug)]
    pub enum State {
        /// [`cpu_kernels::conv_block_direct`]: the input for the weight's
        /// gradient.
        Direct {
            x: FlexTensor,
            weight: FlexTensor,
            indices: Arc<Vec<i32>>,
        },
        /// Patches and a matrix product.
        Matmul {
            x_shape: Shape,
            weight: Tensor<Flex, 2>,
            patches: Tensor<Flex, 2>,
            indices: Arc<Vec<i32>>,
        },
        /// Other dtypes than f32: Burn's operations.
        Burn(Box<burn_ops::State<Flex>>),
    }

    fn f32_values(x: FlexTensor) -> FlexTensor {
        x.to_contiguous()
    }

    fn flex<E: burn::tensor::Element>(values: Vec<E>, shape: impl Into<Shape>) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape.into()))
    }

    impl CnnKernels for Flex {
        type ConvBlockState = State;

        fn conv_block_forward(
            x: FlexTensor,
            weight: FlexTensor,
            bias: FlexTensor,
        ) -> (FlexTensor, State) {
            if [&x, &weight, &bias].iter().any(|t| t.dtype() != DType::F32) {
                let (output, state) = burn_ops::forward::<Flex>(x, weight, bias);
                return (output, State::Burn(Box::new(state)));
            }
            let (x, weight, bias) = (f32_values(x), f32_values(weight), f32_values(bias));
            let x_shape = x.shape();
            let dims @ [channels, batch, height, width] = x_shape.dims();
            let out = bias.shape().dims::<1>()[0];
            let (rows, cols) = (height - 2, width - 2);
            let pooled_shape = [out, batch, rows / 2, cols / 2];
            if channels <= DIRECT_MAX_CHANNELS {
                let Pooled { output, indices } = cpu_kernels::conv_block_direct(
                    x.storage(),
                    dims,
                    weight.storage(),
                    bias.storage(),
                );
                let state = State::Direct {
                    x,
                    weight,
                    indices: Arc::new(indices),
                };
                return (flex(output, pooled_shape), state);
            }
            let patches: Tensor<Flex, 2> = tensor(flex(
                cpu_kernels::im2col_3x3(x.storage(), dims),
                [channels * 9, batch * rows * cols],
            ));
            let weight = tensor::<4>(weight).reshape([out, channels * 9]);
            let conv = weight
                .clone()
                .matmul(patches.clone())
                .into_primitive()
                .tensor()
                .to_contiguous();
            let Pooled { output, indices } = cpu_kernels::pool_bias_relu(
                conv.storage(),
                [out, batch, rows, cols],
                bias.storage(),
            );
            let state = State::Matmul {
                x_shape,
                weight,
                patches,
                indices: Arc::new(indices),
            };
            (flex(output, pooled_shape), state)
        }

        /// A copy into the new order: a view would cost Flex's generic
        /// strided copy at the next operation, several times slower.
        fn swap_leading_dims(x: FlexTensor) -> FlexTensor {
            if x.dtype() != DType::F32 {
                return Flex::float_swap_dims(x, 0, 1);
            }
            let x = x.to_contiguous();
            let mut dims = x.shape().to_vec();
            let values = cpu_kernels::swap_leading_dims(x.storage(), [dims[0], dims[1]]);
            dims.swap(0, 1);
            flex(values, dims)
        }

        fn conv_block_backward(
            state: State,
            grad: FlexTensor,
            input_grad: bool,
        ) -> ConvBlockGrads<Flex> {
            let grad = f32_values(grad);
            match state {
                State::Burn(state) => burn_ops::backward::<Flex>(*state, grad, input_grad),
                State::Direct { x, weight, indices } => {
                    let x_shape = x.shape();
                    let weight_shape = weight.shape();
                    let out = weight_shape.dims::<4>()[0];
                    let (x_grad, weight_grad, bias_grad) = cpu_kernels::conv_block_direct_backward(
                        x.storage(),
                        x_shape.dims(),
                        weight.storage(),
                        grad.storage(),
                        &indices,
                        input_grad,
                    );
                    ConvBlockGrads {
                        x: x_grad.map(|g| flex(g, x_shape)),
                        weight: flex(weight_grad, weight_shape),
                        bias: flex(bias_grad, [out]),
                    }
                }
                State::Matmul {
                    x_shape,
                    weight,
                    patches,
                    indices,
                } => {
                    let [_, batch, height, width] = x_shape.dims();
                    let [out, patch] = weight.dims();
                    let (rows, cols) = (height - 2, width - 2);
                    let (conv_grad, bias_grad) = cpu_kernels::pool_backward(
                        grad.storage(),
                        &indices,
                        [out, batch, rows, cols],
                    );
                    let conv_grad: Tensor<Flex, 2> =
                        tensor(flex(conv_grad, [out, batch * rows * cols]));
                    // The patches' gradient, weightᵀ × conv_grad, a few
                    // images at a time: each part stays in the cache until
                    // its gradient is added back to the pixels, where the
                    // whole (megabytes) would not.
                    let x = input_grad.then(|| {
                        let mut x_grad = vec![0.0; x_shape.num_elements()];
                        let weight = weight.transpose();
                        for first in (0..batch).step_by(IMAGES_PER_PART) {
                            let images = first..(first + IMAGES_PER_PART).min(batch);
                            let columns = images.start * rows * cols..images.end * rows * cols;
                            let part = conv_grad.clone().slice([0..out, columns]);
                            let patches_grad = weight
                                .clone()
                                .matmul(part)
                                .into_primitive()
                                .tensor()
                                .to_contiguous();
                            cpu_kernels::im2col_3x3_backward_add(
                                patches_grad.storage(),
                                x_shape.dims(),
                                images,
                                &mut x_grad,
                            );
                        }
                        flex(x_grad, x_shape)
                    });
                    let weight_grad =
                        conv_grad
                            .matmul(patches.transpose())
                            .reshape([out, patch / 9, 3, 3]);
                    ConvBlockGrads {
                        x,
                        weight: weight_grad.into_primitive().tensor(),
                        bias: flex(bias_grad, [out]),
                    }
                }
            }
        }
    }

    fn tensor<const D: usize>(x: FlexTensor) -> Tensor<Flex, D> {
        Tensor::from_primitive(TensorPrimitive::Float(x))
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
