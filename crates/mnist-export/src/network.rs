//! A trained model as plain arrays, layer by layer: what the ONNX writer
//! reads, free of Burn's types. Weights keep Burn's layouts: a linear
//! layer's `[inputs, outputs]`, a convolution's `[out, in, kh, kw]`.

use burn::module::Param;
use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::prelude::*;

use mnist_models::models::{Activation, Model};

/// A tensor's shape and its values in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// One step of the forward pass (at inference: dropout is the identity).
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// 2-d convolution, stride 1, no padding; `weight [out, in, kh, kw]`.
    Conv {
        weight: Array,
        bias: Array,
    },
    Relu,
    /// Negative slope 0.01.
    LeakyRelu,
    /// 2×2 max-pooling, stride 2.
    MaxPool2,
    /// `[batch, c, h, w]` → `[batch, c·h·w]`, channel first.
    Flatten,
    /// `x · weight + bias`; `weight [inputs, outputs]`.
    Linear {
        weight: Array,
        bias: Array,
    },
}

/// The trunk every head reads, then one linear layer per head.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The image size read: (height, width), one grey channel.
    pub image: (usize, usize),
    pub trunk: Vec<Layer>,
    /// One `Layer::Linear` of 10 outputs per head.
    pub heads: Vec<Layer>,
}

impl Network {
    /// The layers of a trained `model` reading images of `image` size.
    pub fn of<B: Backend>(model: &Model<B>, image: (usize, usize)) -> Self {
        let (trunk, heads) = match model {
            Model::Mlp(mlp) => {
                let activation = match mlp.activation {
                    Activation::Relu => Layer::Relu,
                    Activation::LeakyRelu => Layer::LeakyRelu,
                };
                let mut trunk = vec![Layer::Flatten];
                for layer in &mlp.hidden {
                    trunk.push(linear(layer));
                    trunk.push(activation.clone());
                }
                (trunk, &mlp.heads)
            }
            Model::Cnn(cnn) => {
                // The fused conv blocks compute these same layers (models::cnn).
                let trunk = vec![
                    conv(&cnn.conv1),
                    Layer::Relu,
                    Layer::MaxPool2,
                    conv(&cnn.conv2),
                    Layer::Relu,
                    Layer::MaxPool2,
                    Layer::Flatten,
                    linear(&cnn.hidden),
                ];
                (trunk, &cnn.heads)
            }
        };
        Self {
            image,
            trunk,
            heads: heads.iter().map(linear).collect(),
        }
    }
}

fn linear<B: Backend>(layer: &Linear<B>) -> Layer {
    Layer::Linear {
        weight: array(&layer.weight),
        bias: layer
            .bias
            .as_ref()
            .map_or_else(|| zeros(layer.weight.dims()[1]), |b| array(b)),
    }
}

fn conv<B: Backend>(layer: &Conv2d<B>) -> Layer {
    Layer::Conv {
        weight: array(&layer.weight),
        bias: layer
            .bias
            .as_ref()
            .map_or_else(|| zeros(layer.weight.dims()[0]), |b| array(b)),
    }
}

fn array<B: Backend, const D: usize>(param: &Param<Tensor<B, D>>) -> Array {
    let data = param.val().into_data().convert::<f32>();
    Array {
        shape: data.shape.to_vec(),
        values: data.into_vec::<f32>().expect("converted to f32"),
    }
}

fn zeros(n: usize) -> Array {
    Array {
        shape: vec![n],
        values: vec![0.0; n],
    }
}
