use super::*;

#[test]
fn gives_one_batch_of_ten_logits_per_head() {
    let _graded = graded_test::start();
    let device = Default::default();
    for config in random_configs(1) {
        let model: Mlp<B> = config.init(&device);
        let batch = 1 + config.hidden.len();
        let outputs = model.forward(images(batch, config.height, config.width));
        assert_eq!(
            outputs.len(),
            config.heads,
            "one output per head for {config:?}"
        );
        for output in outputs {
            assert_eq!(output.dims(), [batch, 10], "a head's logits for {config:?}");
        }
        let width = config
            .hidden
            .last()
            .copied()
            .unwrap_or(config.height * config.width);
        let features = model.last_hidden(images(batch, config.height, config.width));
        assert_eq!(features.dims(), [batch, width], "features() for {config:?}");
    }
}

#[test]
fn has_one_weight_per_connection_and_one_bias_per_unit() {
    let _graded = graded_test::start();
    let device = Default::default();
    for config in random_configs(2) {
        let model: Mlp<B> = config.init(&device);
        let mut widths = vec![config.height * config.width];
        widths.extend(&config.hidden);
        let hidden: usize = widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
        let heads = config.heads * (widths[widths.len() - 1] * 10 + 10);
        assert!(
            model.num_params() == hidden + heads,
            "{config:?}: the parameter count is not that of fully connected layers \
             (input → hidden layers → heads of 10)"
        );
    }
}

#[test]
fn hidden_units_are_rectified() {
    let _graded = graded_test::start();
    let device = Default::default();
    let model: Mlp<B> = MlpConfig::new(vec![200, 100]).init(&device);
    let features = model.last_hidden(images(8, 28, 28)).into_data();
    let values = features.to_vec::<f32>().expect("f32 features");
    assert!(
        values.iter().all(|&v| v >= 0.0),
        "ReLU features are never negative"
    );
    let zeros = values.iter().filter(|&&v| v == 0.0).count();
    assert!(
        zeros > 0 && zeros < values.len(),
        "ReLU zeroes some units, not all"
    );

    let leaky: Mlp<B> = MlpConfig::new(vec![200, 100])
        .with_activation(Activation::LeakyRelu)
        .init(&device);
    let values = leaky
        .last_hidden(images(8, 28, 28))
        .into_data()
        .to_vec::<f32>()
        .expect("f32");
    assert!(
        values.iter().any(|&v| v < 0.0),
        "leaky ReLU lets negative values through, scaled"
    );
}

#[test]
fn each_hidden_layer_feeds_the_next_through_the_activation() {
    let _graded = graded_test::start();
    use mnist_models::burn::nn::{LeakyReluConfig, Relu};
    let device = Default::default();
    for activation in [Activation::Relu, Activation::LeakyRelu] {
        let config = MlpConfig::new(vec![30, 20, 12])
            .with_heads(3)
            .with_activation(activation);
        let model: Mlp<B> = config.init(&device);
        let x = images(5, 28, 28);
        // The same network cut after its first `k` hidden layers.
        let cut = |k: usize| {
            let mut cut = model.clone();
            cut.hidden.truncate(k);
            cut.last_hidden(x.clone())
        };
        assert!(
            max_difference(cut(0), x.clone().reshape([5, 28 * 28])) == 0.0,
            "with no hidden layer the features are the image's pixels, row by row"
        );
        for (k, layer) in model.hidden.iter().enumerate() {
            let z = layer.forward(cut(k));
            let activated = match activation {
                Activation::Relu => Relu::new().forward(z),
                Activation::LeakyRelu => LeakyReluConfig::new().init().forward(z),
            };
            assert!(
                max_difference(cut(k + 1), activated) < 1e-6,
                "{activation:?}: hidden layer {k} does not give Burn's {activation:?} layer \
                 applied to its linear layer's output on the previous layer's features"
            );
        }
    }
}

#[test]
fn every_parameter_is_its_own() {
    let _graded = graded_test::start();
    let device = Default::default();
    for config in [
        MlpConfig::new(vec![20, 15]).with_heads(4),
        MlpConfig::new(vec![]).with_heads(3),
    ] {
        let model: Mlp<B> = config.init(&device);
        let mut ids = param_ids(&model);
        let count = ids.len();
        assert_eq!(
            count,
            2 * (config.hidden.len() + config.heads),
            "{config:?}: a weight and a bias per layer and head"
        );
        ids.sort();
        ids.dedup();
        assert!(
            ids.len() == count,
            "{config:?}: two layers share a parameter id; every layer and head must be \
             initialised on its own"
        );
    }
}

#[test]
fn heads_train_apart() {
    let _graded = graded_test::start();
    use mnist_models::burn::optim::{GradientsParams, Optimizer, SgdConfig};
    use mnist_models::loss::head_cross_entropy;
    let device = Default::default();
    let model: Mlp<B> = MlpConfig::new(vec![12, 8]).with_heads(3).init(&device);
    let x = images(6, 28, 28);
    let targets = Tensor::<B, 1, Int>::from_ints([1, 2, 3, 4, 5, 6], &device);
    for trained in 0..3 {
        // A loss on one head only: the other heads get no gradient.
        let logits = model.forward(x.clone());
        let loss = head_cross_entropy(&logits[trained], &targets);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let mut optimizer = SgdConfig::new().init::<B, Mlp<B>>();
        let stepped = optimizer.step(0.5, model.clone(), grads);
        for (head, (old, new)) in model.heads.iter().zip(&stepped.heads).enumerate() {
            let moved = max_difference(old.weight.val(), new.weight.val()) > 0.0;
            assert!(
                moved == (head == trained),
                "a step on head {trained}'s loss alone must move head {trained}'s weights \
                 and no other head's (head {head} {})",
                if moved { "moved" } else { "did not move" }
            );
        }
    }
}

#[test]
fn dropout_is_used_in_training_only() {
    let _graded = graded_test::start();
    let device = Default::default();
    let model: Mlp<B> = MlpConfig::new(vec![400]).with_dropout(0.5).init(&device);
    let x = images(4, 28, 28);
    let train = model
        .last_hidden(x.clone())
        .into_data()
        .to_vec::<f32>()
        .expect("f32");
    let eval = model
        .valid()
        .last_hidden(x.inner())
        .into_data()
        .to_vec::<f32>()
        .expect("f32");
    let dropped = train
        .iter()
        .zip(&eval)
        .filter(|(t, e)| **t == 0.0 && **e > 0.0)
        .count();
    let active = eval.iter().filter(|&&e| e > 0.0).count();
    let share = dropped as f64 / active.max(1) as f64;
    assert!(
        (0.3..0.7).contains(&share),
        "with dropout 0.5 about half of the active units should be dropped in training, \
         none in evaluation"
    );
}
