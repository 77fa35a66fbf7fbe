//! Instructor-only graded tests of Part 4 (`tests/hidden.rs` is left out of
//! the learner edition; the Gradescope bundle carries it).

use mnist_train::burn::backend::{Autodiff, Flex};
use mnist_train::burn::prelude::*;
use mnist_train::burn::tensor::Distribution;
use mnist_train::loss::head_cross_entropy;
use mnist_train::models::{Cnn, CnnConfig};

type B = Autodiff<Flex>;

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
