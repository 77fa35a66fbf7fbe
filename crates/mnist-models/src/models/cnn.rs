//! The course's CNN: conv 32@3×3 → ReLU → max-pool 2 → conv 64@3×3 → ReLU →
//! max-pool 2 → flatten → linear 128 → dropout → one linear head of 10 per
//! digit. As in the course (and PyTorch's `nn.Sequential` it came from),
//! there is no activation between the 128-unit layer and the heads.

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{Dropout, Linear};
use burn::prelude::*;

use conv_blocks::{CnnOps, block_side, conv_blocks};

#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Input height: 28 for MNIST, 42 for two-digit images.
    #[config(default = 28)]
    pub height: usize,
    #[config(default = 28)]
    pub width: usize,
    /// Output heads of 10 classes each.
    #[config(default = 1)]
    pub heads: usize,
    #[config(default = 0.5)]
    pub dropout: f64,
    /// How the conv blocks are computed: the same model either way. A run
    /// lets the backend choose (fused on the CPU backends).
    #[config(default = "ConvMethod::Layers")]
    pub conv: ConvMethod,
}

#[derive(Module, Debug)]
pub struct Cnn<B: Backend> {
    pub conv1: Conv2d<B>,
    pub conv2: Conv2d<B>,
    pub pool: MaxPool2d,
    pub hidden: Linear<B>,
    pub dropout: Dropout,
    pub heads: Vec<Linear<B>>,
    pub conv: ConvMethod,
}

impl CnnConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Cnn<B> {
        // BEGIN EXERCISE p3.cnn uses device
        use burn::nn::conv::Conv2dConfig;
        use burn::nn::pool::MaxPool2dConfig;
        use burn::nn::{DropoutConfig, LinearConfig};
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
        // END EXERCISE
    }

    /// Features after the second pooling: each side goes n → (n − 2) / 2
    /// twice; 64 channels. 28×28 → 5×5×64 = 1,600; 42×28 → 9×5×64 = 2,880.
    pub fn flatten_width(&self) -> usize {
        64 * block_side(block_side(self.height)) * block_side(block_side(self.width))
    }
}

impl<B: CnnOps> Cnn<B> {
    /// Logits, one `[batch, 10]` tensor per head.
    pub fn forward(&self, images: Tensor<B, 4>) -> Vec<Tensor<B, 2>> {
        let x = self.last_hidden(images);
        // Part 3's network has one head; Part 4's two read the same features.
        if let [head] = self.heads.as_slice() {
            return vec![head.forward(x)];
        }
        // BEGIN EXERCISE p4.two-heads uses x
        self.heads
            .iter()
            .map(|head| head.forward(x.clone()))
            .collect()
        // END EXERCISE
    }

    /// What the heads read: the 128-unit layer's output, `[batch, 128]`.
    pub fn last_hidden(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.conv_features(images);
        let x = self.hidden.forward(x);
        self.dropout.forward(x)
    }

    /// The two conv blocks, flattened: `[batch, flatten_width]` in PyTorch's
    /// order (channel, row, column).
    pub fn conv_features(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        match self.conv {
            ConvMethod::Layers => {
                // BEGIN EXERCISE p3.cnn
                use burn::tensor::activation::relu;
                let x = self.pool.forward(relu(self.conv1.forward(images)));
                let x = self.pool.forward(relu(self.conv2.forward(x)));
                x.flatten(1, 3)
                // END EXERCISE
            }
            // The same two blocks, each as one operation with its own
            // backward pass (`conv_blocks`; Flex runs the `conv-kernels` crate).
            ConvMethod::Fused => conv_blocks(images, &self.conv1, &self.conv2),
        }
    }
}

/// How the conv blocks (convolution, ReLU, pooling) are computed. Both use
/// the parameters of Burn's `Conv2d` (`weight [out, in, 3, 3]`, `bias
/// [out]`), so checkpoints load either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ConvMethod {
    /// Burn's `Conv2d`, ReLU and `MaxPool2d` layers.
    #[serde(alias = "Burn")]
    Layers,
    /// Each block as one fused operation with its own backward pass.
    #[serde(alias = "Matmul")]
    Fused,
}
