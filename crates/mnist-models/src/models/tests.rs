//! The CNN's two ways to compute its conv blocks are one model.

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn::prelude::*;
use burn::tensor::Distribution;

use super::{CnnConfig, ConvMethod};

type Reference = Autodiff<Flex>;

fn max_difference<const D: usize>(a: Tensor<Reference, D>, b: Tensor<Reference, D>) -> f32 {
    (a - b).abs().max().into_scalar()
}

/// The two methods, with the same parameters, compute the same outputs
/// and the same gradients (dropout off, so both see the same network).
#[test]
fn both_conv_methods_are_the_same_model() {
    let device = Default::default();
    Reference::seed(&device, 7);
    for config in [
        CnnConfig::new(),
        CnnConfig::new().with_height(42).with_heads(2),
    ] {
        let config = config.with_dropout(0.0);
        let images = Tensor::<Reference, 4>::random(
            [6, 1, config.height, config.width],
            Distribution::Uniform(0.0, 1.0),
            &device,
        );
        // Parameters are initialised lazily, each copy on its own: a
        // forward pass fixes them before the copies are taken.
        let original = config.init::<Reference>(&device);
        let _ = original.forward(images.clone());
        let layers = config
            .clone()
            .with_conv(ConvMethod::Layers)
            .init::<Reference>(&device)
            .load_record(original.clone().into_record());
        let fused = config
            .clone()
            .with_conv(ConvMethod::Fused)
            .init::<Reference>(&device)
            .load_record(original.into_record());
        let weights = Tensor::<Reference, 2>::random([6, 10], Distribution::Default, &device);
        let objective = |outputs: Vec<Tensor<Reference, 2>>| {
            outputs
                .into_iter()
                .map(|o| (o * weights.clone()).sum())
                .reduce(|a, b| a + b)
                .unwrap()
        };
        let out_layers = layers.forward(images.clone());
        let out_fused = fused.forward(images);
        for (a, b) in out_layers.iter().zip(&out_fused) {
            let difference = max_difference(a.clone(), b.clone());
            assert!(
                difference < 1e-4,
                "{}x{}: outputs differ by {difference}",
                config.height,
                config.width
            );
        }
        let grads_layers = objective(out_layers).backward();
        let grads_fused = objective(out_fused).backward();
        let pairs = [
            (&layers.conv1.weight, &fused.conv1.weight),
            (&layers.conv2.weight, &fused.conv2.weight),
        ];
        for (a, b) in pairs {
            let (ga, gb) = (
                a.grad(&grads_layers).unwrap(),
                b.grad(&grads_fused).unwrap(),
            );
            let scale: f32 = ga.clone().abs().max().into_scalar();
            let difference: f32 = (ga - gb).abs().max().into_scalar();
            assert!(
                difference <= 1e-4 * scale.max(1.0),
                "weight gradients differ by {difference} (largest {scale})"
            );
        }
        let biases = [
            (&layers.conv1.bias, &fused.conv1.bias),
            (&layers.conv2.bias, &fused.conv2.bias),
        ];
        for (a, b) in biases {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            let (ga, gb) = (
                a.grad(&grads_layers).unwrap(),
                b.grad(&grads_fused).unwrap(),
            );
            let scale: f32 = ga.clone().abs().max().into_scalar();
            let difference: f32 = (ga - gb).abs().max().into_scalar();
            assert!(difference <= 1e-4 * scale.max(1.0));
        }
    }
}

/// Checkpoints written before the methods had their present names load.
#[test]
fn conv_methods_load_by_their_earlier_names() {
    let read = |name: &str| serde_json::from_str::<ConvMethod>(&format!("{name:?}")).unwrap();
    assert_eq!(read("Matmul"), ConvMethod::Fused);
    assert_eq!(read("Burn"), ConvMethod::Layers);
    assert_eq!(read("Fused"), ConvMethod::Fused);
    assert_eq!(read("Layers"), ConvMethod::Layers);
}

/// The arithmetic parameter count is what Burn counts once the model is built.
#[test]
fn parameter_count_is_burns() {
    use super::{MlpConfig, ModelConfig};
    let device = Default::default();
    for config in [
        ModelConfig::Mlp(MlpConfig::new(vec![128])),
        ModelConfig::Mlp(MlpConfig::new(vec![64, 32]).with_height(42).with_heads(2)),
        ModelConfig::Mlp(MlpConfig::new(vec![])),
        ModelConfig::Cnn(CnnConfig::new()),
        ModelConfig::Cnn(CnnConfig::new().with_height(42).with_heads(2)),
    ] {
        let model = config.init::<Reference>(&device);
        assert_eq!(config.parameter_count(), model.num_params(), "{config:?}");
        assert_eq!(config.validate(), Ok(()));
    }
}

/// Sizes that cannot be built, or not in memory, are refused before anything
/// is allocated, each with what was wrong.
#[test]
fn impossible_models_are_refused() {
    use super::{MlpConfig, ModelConfig};
    let refused = |config: ModelConfig, says: &str| {
        let message = config.validate().expect_err("refused");
        assert!(message.contains(says), "{message:?} should say {says:?}");
    };
    refused(ModelConfig::Mlp(MlpConfig::new(vec![0])), "at least 1");
    refused(
        ModelConfig::Mlp(MlpConfig::new(vec![1_000_000_000])),
        "parameters",
    );
    refused(
        ModelConfig::Mlp(MlpConfig::new(vec![usize::MAX, usize::MAX])),
        "parameters",
    );
    refused(
        ModelConfig::Mlp(MlpConfig::new(vec![128]).with_heads(0)),
        "heads",
    );
    refused(
        ModelConfig::Cnn(CnnConfig::new().with_dropout(7.5)),
        "dropout",
    );
    refused(
        ModelConfig::Cnn(CnnConfig::new().with_dropout(f64::NAN)),
        "dropout",
    );
    refused(ModelConfig::Cnn(CnnConfig::new().with_height(9)), "9x28");
}
