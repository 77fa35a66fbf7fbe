//! The conv block in Burn's own operations, for any backend: 3×3 patches
//! from nine slices, one matrix product, Burn's max-pooling and ReLU.

use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Int, Shape, Tensor, TensorMetadata, TensorPrimitive};

use super::ConvBlockGrads;

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
    let conv = (weight.clone().matmul(patches.clone()) + tensor::<B, 1>(bias).reshape([out, 1]))
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
