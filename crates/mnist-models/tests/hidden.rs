//! Instructor-only graded tests of Parts 2–4 (`tests/hidden.rs` is left out
//! of the learner edition; the Gradescope bundle carries it).

use mnist_models::burn::backend::{Autodiff, Flex};
use mnist_models::burn::module::AutodiffModule;
use mnist_models::burn::prelude::*;
use mnist_models::burn::tensor::Distribution;
use mnist_models::loss::head_cross_entropy;
use mnist_models::{Activation, Cnn, CnnConfig, ConvMethod, Mlp, MlpConfig};

type B = Autodiff<Flex>;

mod mlp {
    use super::*;

    #[test]
    fn each_image_is_read_on_its_own() {
        let _graded = graded_test::start();
        let device = Default::default();
        for activation in [Activation::Relu, Activation::LeakyRelu] {
            let model: Mlp<B> = MlpConfig::new(vec![24, 16])
                .with_height(42)
                .with_heads(3)
                .with_activation(activation)
                .init(&device);
            let x = Tensor::<B, 4>::random([5, 1, 42, 28], Distribution::Default, &device);
            let together = model.forward(x.clone());
            for i in 0..5 {
                let alone = model.forward(x.clone().narrow(0, i, 1));
                for (head, (all, one)) in together.iter().zip(alone).enumerate() {
                    let difference: f32 = (all.clone().narrow(0, i, 1) - one)
                        .abs()
                        .max()
                        .into_scalar();
                    assert!(
                        difference < 1e-5,
                        "p2.mlp ({activation:?}): head {head}'s logits for image {i} change \
                         with the other images of its batch"
                    );
                }
            }
            let evaluated = model.valid().forward(x.inner());
            for (head, (train, eval)) in together.into_iter().zip(evaluated).enumerate() {
                let difference: f32 = (train.inner() - eval).abs().max().into_scalar();
                assert!(
                    difference < 1e-5,
                    "p2.mlp ({activation:?}): without dropout the evaluation model's head \
                     {head} must compute what the training model's does"
                );
            }
        }
    }
}

mod cnn {
    use super::*;

    /// `x` moved `by` pixels towards the start of dimension `dim` (2: up,
    /// 3: left), zeros coming in at the other end.
    fn shifted(x: Tensor<B, 4>, dim: usize, by: usize) -> Tensor<B, 4> {
        let mut dims = x.dims();
        let side = dims[dim];
        dims[dim] = by;
        let zeros = Tensor::zeros(dims, &x.device());
        Tensor::cat(vec![x.narrow(dim, by, side - by), zeros], dim)
    }

    #[test]
    fn moving_the_image_four_pixels_moves_the_features_one_cell() {
        let _graded = graded_test::start();
        let device = Default::default();
        let config = CnnConfig::new().with_dropout(0.0);
        let mut model: Cnn<B> = config.clone().with_conv(ConvMethod::Layers).init(&device);
        model.conv = ConvMethod::Layers;
        let x = Tensor::<B, 4>::random([2, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &device);
        let grid = |images: Tensor<B, 4>| model.conv_features(images).reshape([2, 64, 5, 5]);
        let original = grid(x.clone());
        // Each 2×2 pooling halves a shift: 4 pixels are one cell after two
        // blocks. Cells 0–3 of the moved image see what cells 1–4 saw.
        for (dim, direction) in [(2, "up"), (3, "left")] {
            let moved = grid(shifted(x.clone(), dim, 4));
            let difference: f32 = (moved.narrow(dim, 0, 4) - original.clone().narrow(dim, 1, 4))
                .abs()
                .max()
                .into_scalar();
            assert!(
                difference < 1e-5,
                "p3.cnn: moving the image 4 pixels {direction} must move its features one cell \
                 {direction} (two blocks of 3×3 convolution, ReLU and 2×2 max-pooling, flattened \
                 in channel, row, column order)"
            );
        }
    }
}

mod two_heads {
    use super::*;

    #[test]
    fn a_heads_loss_trains_that_head_and_the_shared_layers_only() {
        let _graded = graded_test::start();
        let device = Default::default();
        let heads = 4;
        let config = CnnConfig::new()
            .with_height(42)
            .with_heads(heads)
            .with_dropout(0.0);
        let model: Cnn<B> = config.init(&device);
        let x = Tensor::<B, 4>::random([3, 1, 42, 28], Distribution::Uniform(0.0, 1.0), &device);
        let targets = Tensor::<B, 1, Int>::from_ints([3, 1, 4], &device);
        for trained in 0..heads {
            let outputs = model.forward(x.clone());
            assert!(
                outputs.len() == heads,
                "p4.two-heads: a network with {heads} heads gives {heads} outputs"
            );
            let grads = head_cross_entropy(&outputs[trained], &targets).backward();
            let shared = model
                .hidden
                .weight
                .grad(&grads)
                .map(|g| g.abs().max().into_scalar());
            assert!(
                shared.is_some_and(|g: f32| g > 0.0),
                "p4.two-heads: a head's loss must reach the shared 128-unit layer"
            );
            for (head, layer) in model.heads.iter().enumerate() {
                let reached = layer
                    .weight
                    .grad(&grads)
                    .is_some_and(|g| g.abs().max().into_scalar() > 0.0);
                assert!(
                    reached == (head == trained),
                    "p4.two-heads: the loss of output {trained} must reach head {trained}'s \
                     weights and no other head's (head {head} {})",
                    if reached { "reached" } else { "not reached" }
                );
            }
        }
    }
}
