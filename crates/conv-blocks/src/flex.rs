//! Flex, the default CPU backend, runs the conv block with the kernels of
//! the `conv-kernels` crate: the whole block directly for inputs of few
//! channels (the images), else as patches times the weight.

use std::sync::Arc;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::ops::FloatTensorOps;
use burn::tensor::{DType, Shape, TensorData, TensorMetadata};

use super::sgd::{self, SgdMomentum, Updated};
use super::{CnnKernels, ConvBlockGrads, burn_ops};
use conv_kernels::Pooled;

/// Input channels up to which the block is computed directly: a matrix
/// product over patches of `channels × 9` values pays off only when that
/// inner dimension is long.
const DIRECT_MAX_CHANNELS: usize = 3;

#[derive(Clone, Debug)]
pub enum State {
    /// The conv-kernels block.
    Kernels(Box<Saved>),
    /// Other dtypes than f32: Burn's operations.
    Burn(Box<burn_ops::State<Flex>>),
}

/// What the kernels' backward pass needs: the input and weight for the
/// gradients, and where each pooled output came from.
#[derive(Clone, Debug)]
pub struct Saved {
    x: FlexTensor,
    weight: FlexTensor,
    indices: Arc<Vec<i32>>,
}

fn f32_values(x: FlexTensor) -> FlexTensor {
    x.to_contiguous()
}

fn flex<E: burn::tensor::Element>(values: Vec<E>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.into()))
}

/// Whether the block on `[channels, …]` inputs is computed directly, or
/// as patches times the weight.
fn direct(channels: usize) -> bool {
    channels <= DIRECT_MAX_CHANNELS
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
        let dims @ [channels, batch, height, width] = x.shape().dims();
        let out = bias.shape().dims::<1>()[0];
        let block = if direct(channels) {
            conv_kernels::conv_block_direct
        } else {
            conv_kernels::conv_block_patches
        };
        let Pooled { output, indices } = block(x.storage(), dims, weight.storage(), bias.storage());
        let state = State::Kernels(Box::new(Saved {
            x,
            weight,
            indices: Arc::new(indices),
        }));
        let pooled_shape = [out, batch, (height - 2) / 2, (width - 2) / 2];
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
        let Saved { x, weight, indices } = match state {
            State::Burn(state) => return burn_ops::backward::<Flex>(*state, grad, input_grad),
            State::Kernels(saved) => *saved,
        };
        let (x_shape, weight_shape) = (x.shape(), weight.shape());
        let dims = x_shape.dims::<4>();
        let backward = if direct(dims[0]) {
            conv_kernels::conv_block_direct_backward
        } else {
            conv_kernels::conv_block_maxima_backward
        };
        let (x_grad, weight_grad, bias_grad) = backward(
            x.storage(),
            dims,
            weight.storage(),
            grad.storage(),
            &indices,
            input_grad,
        );
        let out = weight_shape.dims::<4>()[0];
        ConvBlockGrads {
            x: x_grad.map(|g| flex(g, x_shape)),
            weight: flex(weight_grad, weight_shape),
            bias: flex(bias_grad, [out]),
        }
    }

    /// The update in one pass over the values, in place where the
    /// parameter and velocity are not shared.
    fn sgd_update(
        param: FlexTensor,
        grad: FlexTensor,
        velocity: Option<FlexTensor>,
        learning_rate: f64,
        momentum: Option<SgdMomentum>,
    ) -> Updated<Flex> {
        let shape = param.shape();
        let fits = |t: &FlexTensor| t.dtype() == DType::F32 && t.shape() == shape;
        if !fits(&param) || !fits(&grad) || !velocity.as_ref().is_none_or(fits) {
            return sgd::burn_update::<Flex>(param, grad, velocity, learning_rate, momentum);
        }
        let (mut param, grad) = (f32_values(param), f32_values(grad));
        let mut velocity = velocity.map(f32_values);
        sgd::update_f32(
            param.storage_mut(),
            grad.storage(),
            velocity.as_mut().map(|v| v.storage_mut()),
            learning_rate as f32,
            momentum,
        );
        // The first step's velocity is the gradient.
        let velocity = momentum.map(|_| velocity.unwrap_or(grad));
        (param, velocity)
    }
}
