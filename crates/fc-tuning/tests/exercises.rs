//! Graded tests of Part 2's exercises (`cargo run -p coursework -- grade
//! --part 2`). They check what the code does, never how it is written.

use mnist_data::split::{below, seeded_rng};
use mnist_data::{Dataset, Labels, Mnist};
use mnist_train::burn::backend::{Autodiff, Flex};
use mnist_train::burn::module::{AutodiffModule, Module, ModuleVisitor, Param, ParamId};
use mnist_train::burn::prelude::*;
use mnist_train::burn::tensor::Distribution;
use mnist_train::models::{Activation, Mlp, MlpConfig, Model};

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

mod mlp {
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
            let features = model.features(images(batch, config.height, config.width));
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
        let features = model.features(images(8, 28, 28)).into_data();
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
            .features(images(8, 28, 28))
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
        use mnist_train::burn::nn::{LeakyReluConfig, Relu};
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
                cut.features(x.clone())
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
        use mnist_train::burn::optim::{GradientsParams, Optimizer, SgdConfig};
        use mnist_train::loss::head_cross_entropy;
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
            .features(x.clone())
            .into_data()
            .to_vec::<f32>()
            .expect("f32");
        let eval = model
            .valid()
            .features(x.inner())
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
}

mod train_step {
    use super::*;
    use mnist_train::batch::batch;
    use mnist_train::loss::cross_entropy;
    use mnist_train::optimizer::ModelOptimizer;
    use mnist_train::train::{TrainOptions, TrainingData, train, train_step};
    use mnist_train::{OptimizerConfig, TrainingConfig};

    fn loss_on(model: &Model<B>, set: &Dataset, indices: &[usize]) -> f32 {
        let b = batch::<B>(set, indices, &Default::default());
        cross_entropy(&model.forward(b.images), &b.targets).into_scalar()
    }

    #[test]
    fn returns_the_batch_loss_and_lowers_it() {
        let _graded = graded_test::start();
        let device = Default::default();
        B::seed(&device, 3);
        let set = mnist().train.take(64);
        let indices: Vec<usize> = (0..64).collect();
        let model: Model<B> = MlpConfig::new(vec![32]).init::<B>(&device).into();
        let before = loss_on(&model, &set, &indices);
        let mut optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.05, 0.0, false));
        let step = train_step(
            model,
            &mut optimizer,
            batch::<B>(&set, &indices, &device),
            0.05,
        );
        let reported: f32 = step.loss.into_scalar();
        assert!(
            (reported - before).abs() < 1e-4 * before.abs().max(1.0),
            "the step should return the batch's cross-entropy before the update"
        );
        assert_eq!(
            step.logits.len(),
            1,
            "the step returns the logits of every head"
        );
        let after = loss_on(&step.model, &set, &indices);
        assert!(
            after < before,
            "one step of gradient descent should lower the batch's loss"
        );
    }

    #[test]
    fn moves_each_parameter_by_the_learning_rate_times_its_gradient() {
        let _graded = graded_test::start();
        let device = Default::default();
        B::seed(&device, 7);
        let set = mnist().train.take(48);
        let indices: Vec<usize> = (0..48).collect();
        let model: Model<B> = MlpConfig::new(vec![16, 12]).init::<B>(&device).into();
        let Model::Mlp(mlp) = &model else {
            unreachable!("an MLP was built")
        };
        // ∂L/∂θ of the batch's cross-entropy, with the model as it is.
        let b = batch::<B>(&set, &indices, &device);
        let grads = cross_entropy(&model.forward(b.images), &b.targets).backward();
        let learning_rate = 0.05;
        // The optimiser is made with another rate: the step's argument counts.
        let mut optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.7, 0.0, false));
        let stepped = train_step(
            model.clone(),
            &mut optimizer,
            batch::<B>(&set, &indices, &device),
            learning_rate,
        )
        .model;
        let Model::Mlp(new) = &stepped else {
            unreachable!("the step keeps the model's kind")
        };
        let pairs = [
            (&mlp.hidden[0].weight, &new.hidden[0].weight),
            (&mlp.hidden[1].weight, &new.hidden[1].weight),
            (&mlp.heads[0].weight, &new.heads[0].weight),
        ];
        for (layer, (old, new)) in pairs.into_iter().enumerate() {
            let grad = old.grad(&grads).expect("every weight gets a gradient");
            let moved = old.val().inner() - new.val().inner();
            let error: f32 = (moved - grad.clone() * learning_rate)
                .abs()
                .max()
                .into_scalar();
            let scale: f32 = grad.abs().max().into_scalar();
            assert!(
                error <= 1e-4 * scale * learning_rate as f32 + 1e-7,
                "weight {layer}: plain SGD (no momentum) must move every parameter by minus the \
                 learning rate times the batch loss's gradient"
            );
        }
        let bias_moved = max_difference(
            mlp.hidden[0].bias.as_ref().expect("biases").val(),
            new.hidden[0].bias.as_ref().expect("biases").val(),
        );
        assert!(bias_moved > 0.0, "the step must move the biases too");
    }

    #[test]
    fn follows_the_learning_rate() {
        let _graded = graded_test::start();
        let device = Default::default();
        let set = mnist().train.take(32);
        let indices: Vec<usize> = (0..32).collect();
        B::seed(&device, 4);
        let model: Model<B> = MlpConfig::new(vec![16]).init::<B>(&device).into();
        let x = images(3, 28, 28);
        let _ = model.forward(x.clone());
        let change = |lr: f64| {
            let mut optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.1, 0.0, false));
            let stepped = train_step(
                model.clone(),
                &mut optimizer,
                batch::<B>(&set, &indices, &device),
                lr,
            )
            .model;
            let (a, b) = (model.forward(x.clone()), stepped.forward(x.clone()));
            max_difference(a[0].clone(), b[0].clone())
        };
        assert!(
            change(0.0) == 0.0,
            "a learning rate of 0 must leave the model as it was"
        );
        let (small, large) = (change(1e-3), change(1e-2));
        assert!(small > 0.0, "a step must change the parameters");
        assert!(
            large > 3.0 * small,
            "a step ten times larger should move the outputs further"
        );
    }

    #[test]
    fn trains_an_mlp_to_85_percent_on_3000_images() {
        let _graded = graded_test::start();
        let device = Default::default();
        B::seed(&device, 5);
        let m = mnist();
        let (train_set, validation) = (m.train.take(3_000), m.test.take(1_000));
        let model: Model<B> = MlpConfig::new(vec![64]).init::<B>(&device).into();
        let config = TrainingConfig::new(OptimizerConfig::sgd(0.1, 0.9, false))
            .with_epochs(4)
            .with_batch_size(32);
        let options = TrainOptions::default();
        let data = TrainingData {
            train: &train_set,
            validation: &validation,
        };
        let trained = train(model, data, &config, &options, &device).expect("training runs");
        let accuracy = trained
            .state
            .history
            .last()
            .expect("four epochs")
            .val_accuracy[0];
        assert!(
            accuracy >= 0.85,
            "after 4 epochs on 3,000 images the MLP should reach 85 % ({:.1} %)",
            100.0 * accuracy
        );
    }
}

mod accuracy {
    use super::*;
    use mnist_train::evaluate::accuracy_per_head;

    #[test]
    fn counts_each_head_against_its_own_labels() {
        let _graded = graded_test::start();
        let mut rng = seeded_rng(6);
        for _ in 0..20 {
            let (images, heads) = (1 + below(&mut rng, 300), 1 + below(&mut rng, 3));
            let truth: Vec<u8> = (0..images * heads)
                .map(|_| below(&mut rng, 10) as u8)
                .collect();
            let mut predicted = truth.clone();
            let mut wrong = vec![0usize; heads];
            for (i, p) in predicted.iter_mut().enumerate() {
                if below(&mut rng, 3) == 0 {
                    *p = (*p + 1 + below(&mut rng, 9) as u8) % 10;
                    wrong[i % heads] += 1;
                }
            }
            let accuracy =
                accuracy_per_head(&Labels::new(heads, predicted), &Labels::new(heads, truth));
            assert_eq!(accuracy.len(), heads, "one accuracy per head");
            for (head, (&a, &w)) in accuracy.iter().zip(&wrong).enumerate() {
                assert!(
                    (a - (images - w) as f64 / images as f64).abs() < 1e-12,
                    "head {head} of {heads}, {images} images: not the fraction of right digits"
                );
            }
        }
    }
}
