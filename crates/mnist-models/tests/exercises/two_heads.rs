use super::*;
use mnist_models::models::{Cnn, CnnConfig};

#[test]
fn each_head_reads_the_shared_features() {
    let _graded = graded_test::start();
    let device = Default::default();
    B::seed(&device, 21);
    let config = CnnConfig::new()
        .with_height(42)
        .with_heads(2)
        .with_dropout(0.0);
    let two: Cnn<B> = config.init(&device);
    let x = Tensor::<B, 4>::random([4, 1, 42, 28], Distribution::Uniform(0.0, 1.0), &device);
    each_head_is_its_own_layer(&two, x);
}

#[test]
fn more_heads_give_more_outputs() {
    let _graded = graded_test::start();
    let device = Default::default();
    B::seed(&device, 22);
    for heads in [3, 4] {
        let config = CnnConfig::new()
            .with_height(42)
            .with_heads(heads)
            .with_dropout(0.0);
        let model: Cnn<B> = config.init(&device);
        let x = Tensor::<B, 4>::random([3, 1, 42, 28], Distribution::Uniform(0.0, 1.0), &device);
        each_head_is_its_own_layer(&model, x);
    }
}

/// Every output of `two` is its own head on the shared features: the same
/// network with only that head (Part 3's one-headed path) gives it.
fn each_head_is_its_own_layer(two: &Cnn<B>, x: Tensor<B, 4>) {
    let batch = x.dims()[0];
    let outputs = two.forward(x.clone());
    let heads = two.heads.len();
    assert_eq!(
        outputs.len(),
        heads,
        "a network with {heads} heads gives {heads} outputs"
    );
    for (head, output) in outputs.into_iter().enumerate() {
        assert_eq!(
            output.dims(),
            [batch, 10],
            "head {head} gives 10 logits per image"
        );
        // The same network with only this head (Part 3's one-headed path).
        let mut one = two.clone();
        one.heads = vec![two.heads[head].clone()];
        let alone = one.forward(x.clone()).remove(0);
        let difference: f32 = (output - alone).abs().max().into_scalar();
        assert!(
            difference < 1e-5,
            "head {head} of {heads}: its output is not its own linear layer on the shared \
             128 features"
        );
    }
}
