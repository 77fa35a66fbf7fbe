//! The part's networks: every configuration builds, and its outputs and
//! hidden features have the right shapes.

use fc_tuning::studies::{batch_size_study, course_table, tsne_model};
use mnist_models::burn::prelude::*;
use mnist_models::models::{Activation, MlpConfig};

type B = mnist_models::burn::backend::Flex;

#[test]
fn every_configuration_gives_ten_logits_and_its_hidden_width() {
    let device = Default::default();
    let configs: Vec<_> = course_table()
        .into_iter()
        .chain(batch_size_study())
        .chain([tsne_model()])
        .collect();
    assert_eq!(configs.len(), 16);
    for config in configs {
        let model = config.mlp().init::<B>(&device);
        let images = Tensor::<B, 4>::zeros([5, 1, 28, 28], &device);
        let logits = model.forward(images.clone());
        assert_eq!(
            logits.iter().map(|t| t.dims()).collect::<Vec<_>>(),
            vec![[5, 10]],
            "{}",
            config.name
        );
        let last = *config.hidden.last().expect("hidden layers");
        assert_eq!(
            model.last_hidden(images).dims(),
            [5, last],
            "{}",
            config.name
        );
    }
}

#[test]
fn the_course_table_changes_one_thing_at_a_time() {
    let table = course_table();
    assert_eq!(table.len(), 10);
    for block in table.chunks(5) {
        let base = &block[0];
        assert_eq!(
            (
                base.batch_size,
                base.learning_rate,
                base.momentum,
                base.epochs
            ),
            (32, 0.1, 0.0, 10)
        );
        assert_eq!(base.activation, Activation::Relu);
        let differences: Vec<usize> = block[1..]
            .iter()
            .map(|c| {
                [
                    c.batch_size != base.batch_size,
                    c.learning_rate != base.learning_rate,
                    c.momentum != base.momentum,
                    c.activation != base.activation,
                ]
                .iter()
                .filter(|&&d| d)
                .count()
            })
            .collect();
        assert_eq!(differences, vec![1, 1, 1, 1], "{block:?}");
    }
    assert_eq!(table[0].layers(), "784-10-10");
    assert_eq!(table[5].layers(), "784-128-10");
    let sizes: Vec<usize> = batch_size_study().iter().map(|c| c.batch_size).collect();
    assert_eq!(sizes, vec![16, 32, 64, 128, 256]);
}

#[test]
fn leaky_relu_and_dropout_change_the_output() {
    let device = Default::default();
    // Negative inputs: ReLU and LeakyReLU differ there.
    let images = Tensor::<B, 4>::ones([2, 1, 28, 28], &device).neg();
    B::seed(&device, 3);
    let relu = MlpConfig::new(vec![16]).init::<B>(&device);
    let leaky = relu.clone();
    let leaky_config = MlpConfig::new(vec![16]).with_activation(Activation::LeakyRelu);
    // Same weights, other activation: load relu's record into a LeakyReLU net.
    use mnist_models::burn::module::Module;
    let leaky = leaky_config
        .init::<B>(&device)
        .load_record(leaky.into_record());
    let a = relu.last_hidden(images.clone()).into_data();
    let b = leaky.last_hidden(images).into_data();
    assert_ne!(a, b, "LeakyReLU lets negative pre-activations through");
    let with_dropout = MlpConfig::new(vec![64])
        .with_dropout(0.5)
        .init::<B>(&device);
    let out = with_dropout.forward(Tensor::zeros([3, 1, 28, 28], &device));
    assert_eq!(out[0].dims(), [3, 10]);
}
