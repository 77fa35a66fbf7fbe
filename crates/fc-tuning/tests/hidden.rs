//! Instructor-only graded tests of Part 2 (`tests/hidden.rs` is left out of
//! the learner edition; the Gradescope bundle carries it).

use mnist_train::burn::backend::{Autodiff, Flex};
use mnist_train::burn::module::AutodiffModule;
use mnist_train::burn::prelude::*;
use mnist_train::burn::tensor::Distribution;
use mnist_train::models::{Activation, Mlp, MlpConfig};

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
