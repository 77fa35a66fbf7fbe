//! Flex, the default CPU backend, runs the conv block with the kernels of
//! the `conv-kernels` crate: the whole block directly for inputs of few
//! channels (the images), else patches, Flex's matrix product and a pooling
//! kernel that adds the bias and applies the ReLU.

use std::sync::Arc;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::ops::FloatTensorOps;
use burn::tensor::{DType, Shape, TensorData, TensorMetadata};

use super::{CnnKernels, ConvBlockGrads, burn_ops};
use burn::tensor::{Tensor, TensorPrimitive};
use conv_kernels::Pooled;

/// Images per part of the input's gradient in the matrix-product
/// block's backward pass.
const IMAGES_PER_PART: usize = 8;

/// Input channels up to which the block is computed directly: a matrix
/// product over patches of `channels × 9` values pays off only when that
/// inner dimension is long.
const DIRECT_MAX_CHANNELS: usize = 3;

#[derive(Clone, Debug)]
pub enum State {
    /// [`conv_kernels::conv_block_direct`]: the input for the weight's
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
            let Pooled { output, indices } = conv_kernels::conv_block_direct(
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
            conv_kernels::im2col_3x3(x.storage(), dims),
            [channels * 9, batch * rows * cols],
        ));
        let weight = tensor::<4>(weight).reshape([out, channels * 9]);
        let conv = weight
            .clone()
            .matmul(patches.clone())
            .into_primitive()
            .tensor()
            .to_contiguous();
        let Pooled { output, indices } =
            conv_kernels::pool_bias_relu(conv.storage(), [out, batch, rows, cols], bias.storage());
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
        let values = conv_kernels::swap_leading_dims(x.storage(), [dims[0], dims[1]]);
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
                let (x_grad, weight_grad, bias_grad) = conv_kernels::conv_block_direct_backward(
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
                let (conv_grad, bias_grad) =
                    conv_kernels::pool_backward(grad.storage(), &indices, [out, batch, rows, cols]);
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
                        conv_kernels::im2col_3x3_backward_add(
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
