//! Hyper-parameters of a training run: the one place they live. Saved with
//! every run (`config.json`) and with every checkpoint.

use burn::config::Config;
use burn::optim::AdamConfig;

/// The optimiser, with PyTorch's semantics so the course's numbers carry over.
#[derive(Config, Debug, PartialEq)]
pub enum OptimizerConfig {
    /// SGD. With momentum μ: v ← μ·v + g (PyTorch: no dampening; Burn's
    /// default dampening of 0.1 is switched off), step along v, or along
    /// g + μ·v with Nesterov.
    Sgd {
        learning_rate: f64,
        momentum: f64,
        nesterov: bool,
    },
    /// Adam with PyTorch's defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    Adam { learning_rate: f64 },
}

impl OptimizerConfig {
    pub fn sgd(learning_rate: f64, momentum: f64, nesterov: bool) -> Self {
        Self::Sgd {
            learning_rate,
            momentum,
            nesterov,
        }
    }

    pub fn learning_rate(&self) -> f64 {
        match self {
            Self::Sgd { learning_rate, .. } | Self::Adam { learning_rate } => *learning_rate,
        }
    }

    /// For people: e.g. `SGD lr 0.01, momentum 0.9, Nesterov`.
    pub fn describe(&self) -> String {
        match *self {
            Self::Sgd {
                learning_rate,
                momentum,
                nesterov,
            } => format!(
                "SGD lr {learning_rate}, momentum {momentum}{}",
                if nesterov { ", Nesterov" } else { "" }
            ),
            Self::Adam { learning_rate } => format!("Adam lr {learning_rate}"),
        }
    }

    /// SGD's momentum, or Adam's β₁.
    pub fn momentum(&self) -> f64 {
        match self {
            Self::Sgd { momentum, .. } => *momentum,
            Self::Adam { .. } => 0.9,
        }
    }

    pub(crate) fn burn_adam() -> AdamConfig {
        AdamConfig::new().with_epsilon(1e-8)
    }
}

/// Everything that shapes a training run besides the model.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    pub optimizer: OptimizerConfig,
    #[config(default = 10)]
    pub epochs: usize,
    #[config(default = 32)]
    pub batch_size: usize,
    /// Fixes the split's shuffle, every epoch's order, the initial weights
    /// and dropout: on a CPU backend the same seed gives the same run.
    #[config(default = 1)]
    pub seed: u64,
}

impl TrainingConfig {
    /// For people: e.g. `SGD lr 0.01, momentum 0.9, Nesterov, batch 32, 10
    /// epochs, seed 1`.
    pub fn describe(&self) -> String {
        format!(
            "{}, batch {}, {} epoch{}, seed {}",
            self.optimizer.describe(),
            self.batch_size,
            self.epochs,
            if self.epochs == 1 { "" } else { "s" },
            self.seed
        )
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, Flex};
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::adaptor::OptimizerAdaptor;
    use burn::optim::{GradientsParams, Optimizer};
    use burn::prelude::*;

    use crate::optimizer::Sgd;

    type B = Autodiff<Flex>;

    /// The weight of a 1→1 linear layer after `steps` SGD steps on the loss
    /// L = w·1 + b, whose gradient is always 1, starting from w = 0.
    fn weight_after(steps: usize, momentum: f64, nesterov: bool) -> f64 {
        let device = Default::default();
        let mut layer = LinearConfig::new(1, 1).init::<B>(&device);
        layer.weight = Param::from_tensor(Tensor::zeros([1, 1], &device));
        let mut optimizer =
            OptimizerAdaptor::<Sgd, Linear<B>, B>::from(Sgd::new(momentum, nesterov));
        for _ in 0..steps {
            let loss = layer.forward(Tensor::<B, 2>::ones([1, 1], &device)).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &layer);
            layer = optimizer.step(0.1, layer, grads);
        }
        layer.weight.val().into_scalar().elem::<f64>()
    }

    /// PyTorch: v₁ = g, vₜ = μ·vₜ₋₁ + g; the step is lr·v, or lr·(g + μ·v)
    /// with Nesterov. With g = 1, μ = 0.9, lr = 0.1, two steps:
    /// plain: −0.1·(1 + 1.9) = −0.29 (Burn's default dampening 0.1 gives −0.28);
    /// Nesterov: −0.1·(1.9 + 2.71) = −0.461.
    #[test]
    fn sgd_with_momentum_matches_pytorch() {
        assert!((weight_after(2, 0.9, false) - -0.29).abs() < 1e-6);
        assert!((weight_after(2, 0.9, true) - -0.461).abs() < 1e-6);
        assert!((weight_after(3, 0.0, false) - -0.3).abs() < 1e-6);
    }
}
