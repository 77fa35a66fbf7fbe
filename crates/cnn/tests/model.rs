//! The course CNN and its training configuration, in process.

use cnn::{model, per_class_markdown, training};
use mnist_models::OptimizerConfig;
use mnist_models::batch::images_tensor;
use mnist_models::burn::module::Module;
use mnist_models::models::ModelConfig;
use mnist_report::ConfusionMatrix;

type Inner = mnist_models::burn::backend::Flex;

#[test]
fn the_cnn_outputs_batch_by_10_and_flattens_1600_features() {
    let ModelConfig::Cnn(config) = model() else {
        panic!("the part's model is the CNN");
    };
    assert_eq!(config.flatten_width(), 1_600);
    assert_eq!((config.height, config.width, config.heads), (28, 28, 1));
    assert_eq!(config.dropout, 0.5);

    let device = Default::default();
    let cnn = config.init::<Inner>(&device);
    // conv1 32·(9+1), conv2 64·(32·9+1), linear 1,600→128, linear 128→10.
    assert_eq!(cnn.num_params(), 320 + 18_496 + 204_928 + 1_290);

    let test = mnist_data::Mnist::load_default().expect("MNIST loads").test;
    let images = images_tensor::<Inner>(&test.images, 0..5, &device);
    assert_eq!(cnn.conv_features(images.clone()).dims(), [5, 1_600]);
    let outputs = cnn.forward(images);
    assert_eq!(outputs.len(), 1, "one head");
    assert_eq!(outputs[0].dims(), [5, 10]);
}

#[test]
fn training_is_the_course_sgd_with_nesterov_momentum_batch_32_for_10_epochs() {
    let t = training();
    assert_eq!(t.optimizer, OptimizerConfig::sgd(0.01, 0.9, true));
    assert_eq!((t.batch_size, t.epochs), (32, 10));
}

#[test]
fn the_per_class_table_has_one_row_per_digit() {
    // 10 images of each digit; digit d is right 10 − d times, else taken for 0
    // (digit 0 is taken for 1 once).
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    for d in 0..10u8 {
        for i in 0..10u8 {
            truth.push(d);
            let wrong = if d == 0 { i < 1 } else { i < d };
            predicted.push(match (wrong, d) {
                (false, _) => d,
                (true, 0) => 1,
                (true, _) => 0,
            });
        }
    }
    let matrix = ConfusionMatrix::from_predictions(&truth, &predicted).unwrap();
    let md = per_class_markdown("r", &matrix);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 11, "header and ten digits: {md}");
    assert_eq!(rows[1], "| 0 | 90.00 % | 10 | 1 | 1 (1×) |");
    assert_eq!(rows[4], "| 3 | 70.00 % | 10 | 3 | 0 (3×) |");
    assert_eq!(rows[10], "| 9 | 10.00 % | 10 | 9 | 0 (9×) |");
    assert_eq!(
        cnn::weakest_digit(&matrix).map(|(d, _)| d),
        Some(9),
        "the weakest digit"
    );
    assert!(md.contains("on 100 test images"), "{md}");
}
