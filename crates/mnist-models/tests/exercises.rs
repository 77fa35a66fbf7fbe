//! Graded tests of the exercises of Parts 2–4 (`cargo run -p coursework --
//! grade --part N`), one module per exercise. They check what the code
//! does, never how it is written.

use mnist_data::split::{below, seeded_rng};
use mnist_data::{Dataset, Labels, Mnist};
use mnist_models::burn::backend::{Autodiff, Flex};
use mnist_models::burn::module::{AutodiffModule, Module, ModuleVisitor, Param, ParamId};
use mnist_models::burn::prelude::*;
use mnist_models::burn::tensor::Distribution;
use mnist_models::{Activation, Cnn, CnnConfig, ConvMethod, Mlp, MlpConfig, Model};

// Part 2
#[path = "exercises/accuracy.rs"]
mod accuracy;
#[path = "exercises/mlp.rs"]
mod mlp;
#[path = "exercises/train_step.rs"]
mod train_step;
// Part 3
#[path = "exercises/cnn.rs"]
mod cnn;
// Part 4
#[path = "exercises/both_digits_right.rs"]
mod both_digits_right;
#[path = "exercises/compose.rs"]
mod compose;
#[path = "exercises/two_digit_loss.rs"]
mod two_digit_loss;
#[path = "exercises/two_heads.rs"]
mod two_heads;

type B = Autodiff<Flex>;

fn images(batch: usize, height: usize, width: usize) -> Tensor<B, 4> {
    let device = Default::default();
    Tensor::random(
        [batch, 1, height, width],
        Distribution::Uniform(0.0, 1.0),
        &device,
    )
}

fn max_difference<const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>) -> f32 {
    (a - b).abs().max().into_scalar()
}

fn mnist() -> &'static Mnist {
    static MNIST: std::sync::OnceLock<Mnist> = std::sync::OnceLock::new();
    MNIST.get_or_init(|| Mnist::load_default().expect("the committed MNIST files load"))
}

/// The ids of every parameter of `module`, in visiting order.
fn param_ids<M: Module<B>>(module: &M) -> Vec<ParamId> {
    struct Ids(Vec<ParamId>);
    impl ModuleVisitor<B> for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.id);
        }
    }
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    ids.0
}

/// Random MLP configurations: 0–3 hidden layers of 1–40 units, 1–3 heads.
fn random_configs(seed: u64) -> Vec<MlpConfig> {
    let mut rng = seeded_rng(seed);
    (0..6)
        .map(|i| {
            let hidden = (0..below(&mut rng, 4))
                .map(|_| 1 + below(&mut rng, 40))
                .collect();
            let config = MlpConfig::new(hidden).with_heads(1 + below(&mut rng, 3));
            if i % 2 == 0 {
                config
            } else {
                config.with_height(42)
            }
        })
        .collect()
}
