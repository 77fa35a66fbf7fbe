//! The part's models, training configuration and data, in process.

use mnist_data::{Mnist, two_digit as composer};
use mnist_models::OptimizerConfig;
use mnist_models::batch::images_tensor;
use mnist_models::burn::module::Module;
use mnist_models::models::ModelConfig;
use two_digit::{DATA_SEED, Model, splits, training};

type Inner = mnist_models::burn::backend::Flex;

fn mnist() -> Mnist {
    Mnist::load_default().expect("the committed MNIST files load")
}

#[test]
fn both_models_output_two_batch_by_10_tensors() {
    let device = Default::default();
    let (train, _) = composer::course_sets(&mnist(), DATA_SEED);
    let images = images_tensor::<Inner>(&train.images, 0..5, &device);
    assert_eq!(images.dims(), [5, 1, 42, 28]);

    let ModelConfig::Cnn(cnn) = Model::Cnn.config() else {
        panic!("--model cnn is the CNN");
    };
    assert_eq!((cnn.height, cnn.width, cnn.heads), (42, 28, 2));
    assert_eq!(cnn.dropout, 0.5);
    assert_eq!(cnn.flatten_width(), 2_880, "9 x 5 x 64 after two conv+pool");
    let cnn = cnn.init::<Inner>(&device);
    // conv1 32·(9+1), conv2 64·(32·9+1), linear 2,880→128, two heads 128→10.
    assert_eq!(cnn.num_params(), 320 + 18_496 + 368_768 + 2 * 1_290);
    assert_eq!(cnn.conv_features(images.clone()).dims(), [5, 2_880]);
    let outputs = cnn.forward(images.clone());
    assert_eq!(outputs.len(), 2, "two heads");
    for head in &outputs {
        assert_eq!(head.dims(), [5, 10]);
    }

    let ModelConfig::Mlp(mlp) = Model::Mlp.config() else {
        panic!("--model mlp is the MLP");
    };
    assert_eq!(mlp.hidden, vec![64, 64]);
    let mlp = mlp.init::<Inner>(&device);
    // 1,176→64, 64→64, two heads 64→10.
    assert_eq!(mlp.num_params(), 75_328 + 4_160 + 2 * 650);
    let outputs = mlp.forward(images);
    assert_eq!(outputs.len(), 2, "two heads");
    for head in &outputs {
        assert_eq!(head.dims(), [5, 10]);
    }
    // The heads are separate layers: they disagree on the same features.
    let [a, b] = [&outputs[0], &outputs[1]].map(|t| t.clone().into_data().to_vec::<f32>().unwrap());
    assert_ne!(a, b);
}

#[test]
fn training_is_sgd_lr_001_momentum_09_batch_64_for_30_epochs() {
    let t = training();
    assert_eq!(t.optimizer, OptimizerConfig::sgd(0.01, 0.9, false));
    assert_eq!((t.batch_size, t.epochs), (64, 30));
}

#[test]
fn the_course_sets_are_36000_4000_and_4000_composed_images() {
    let mnist = mnist();
    let data = splits(&mnist, 1);
    assert_eq!(
        (data.train.len(), data.validation.len(), data.test.len()),
        (36_000, 4_000, 4_000)
    );
    for set in [&data.train, &data.validation, &data.test] {
        assert_eq!((set.images.height, set.images.width), (42, 28));
        assert_eq!(set.labels.heads, 2);
    }
    // The composed training file's last 10 % validates, whatever the seed;
    // the test set is composed from MNIST's test split.
    let (composed, test) = composer::course_sets(&mnist, DATA_SEED);
    assert_eq!(
        data.validation,
        composed.select(&(36_000..40_000).collect::<Vec<_>>())
    );
    assert_eq!(data.test, test);
    assert_eq!(splits(&mnist, 7).validation, data.validation);
    assert_ne!(
        splits(&mnist, 7).train,
        data.train,
        "the seed shuffles the training part"
    );
    // Image 0 of the test set is test digits (a, b) stacked by the rule.
    let [a, b] = composer::pair_sources(mnist.test.len(), 1, DATA_SEED, 1)[0];
    assert_eq!(
        test.labels.of(0),
        [mnist.test.labels.of(a)[0], mnist.test.labels.of(b)[0]]
    );
    let mut canvas = vec![0; 42 * 28];
    composer::compose_pair(
        mnist.test.images.image(a),
        mnist.test.images.image(b),
        &mut canvas,
    );
    assert_eq!(test.images.image(0), canvas.as_slice());
}
