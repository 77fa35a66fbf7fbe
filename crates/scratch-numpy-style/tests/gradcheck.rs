//! Grading: backpropagation agrees with central finite differences (f64) to a
//! relative error below 1e-5, for every hidden activation and every output +
//! loss, on a network with two hidden layers and a batch of several samples.

use ndarray::Array2;
use scratch_numpy_style::gradcheck::{check, compare, numeric_gradients};
use scratch_numpy_style::init::{normal, uniform};
use scratch_numpy_style::{Activation, Init, Mlp, Output, Spec, Workspace};

const TOLERANCE: f64 = 1e-5;

/// Checks one (activation, output) pair on a 5-4-3-3 network, batch 6.
fn gradient_error(hidden: Activation, output: Output) -> f64 {
    let mut rng = mnist_data::split::seeded_rng(7);
    let spec = Spec {
        sizes: vec![5, 4, 3, 3],
        hidden,
        output,
        init: Init::Xavier,
    };
    let mut net: Mlp<f64> = Mlp::new(&spec, &mut rng).expect("valid spec");
    // Non-zero biases, so the check also covers their effect through ReLU.
    for layer in &mut net.layers {
        layer.biases.mapv_inplace(|_| 0.1 * normal(&mut rng));
    }
    let x = Array2::from_shape_simple_fn((6, 5), || normal(&mut rng));
    let y = match output {
        // One-hot targets for cross-entropy.
        Output::SoftmaxCrossEntropy => {
            Array2::from_shape_fn((6, 3), |(i, j)| if (i % 3) == j { 1.0 } else { 0.0 })
        }
        // Targets in (0, 1) for a sigmoid output, anything for a linear one.
        Output::SigmoidMse => Array2::from_shape_simple_fn((6, 3), || uniform(&mut rng)),
        Output::LinearMse => Array2::from_shape_simple_fn((6, 3), || normal(&mut rng)),
    };
    let result = check(&mut net, x.view(), y.view()).expect("shapes match");
    assert_eq!(result.parameters, 5 * 4 + 4 + 4 * 3 + 3 + 3 * 3 + 3);
    result.relative_error
}

fn assert_activation_passes(hidden: Activation) {
    for output in Output::ALL {
        let error = gradient_error(hidden, output);
        assert!(
            error < TOLERANCE,
            "{hidden} with {output}: relative error {error:e}"
        );
    }
}

fn assert_output_passes(output: Output) {
    for hidden in Activation::ALL {
        let error = gradient_error(hidden, output);
        assert!(
            error < TOLERANCE,
            "{output} with {hidden}: relative error {error:e}"
        );
    }
}

#[test]
fn sigmoid_gradients_match_finite_differences() {
    assert_activation_passes(Activation::Sigmoid);
}

#[test]
fn relu_gradients_match_finite_differences() {
    assert_activation_passes(Activation::Relu);
}

#[test]
fn leaky_relu_gradients_match_finite_differences() {
    assert_activation_passes(Activation::LeakyRelu);
}

#[test]
fn tanh_gradients_match_finite_differences() {
    assert_activation_passes(Activation::Tanh);
}

#[test]
fn softmax_cross_entropy_gradients_match_finite_differences() {
    assert_output_passes(Output::SoftmaxCrossEntropy);
}

#[test]
fn sigmoid_mse_gradients_match_finite_differences() {
    assert_output_passes(Output::SigmoidMse);
}

#[test]
fn linear_mse_gradients_match_finite_differences() {
    assert_output_passes(Output::LinearMse);
}

/// The check itself can fail: a gradient off by 0.1 % in one component of
/// the first layer is caught.
#[test]
fn a_wrong_gradient_is_detected() {
    let mut rng = mnist_data::split::seeded_rng(1);
    let spec = Spec {
        sizes: vec![3, 4, 2],
        hidden: Activation::Tanh,
        output: Output::SoftmaxCrossEntropy,
        init: Init::Xavier,
    };
    let mut net: Mlp<f64> = Mlp::new(&spec, &mut rng).unwrap();
    let x = Array2::from_shape_simple_fn((4, 3), || normal(&mut rng));
    let y = Array2::from_shape_fn((4, 2), |(i, j)| f64::from(u8::from(i % 2 == j)));
    let mut ws = Workspace::new(&net, 4);
    net.loss_and_gradients(&mut ws, x.view(), y.view()).unwrap();
    let numeric = numeric_gradients(&mut net, x.view(), y.view()).unwrap();
    assert!(compare(&numeric, &ws.grads).relative_error < TOLERANCE);
    let mut wrong = ws.grads.clone();
    let (i, j) = (0, 0);
    wrong.weights[0][[i, j]] *= 1.001;
    assert!(wrong.weights[0][[i, j]] != ws.grads.weights[0][[i, j]]);
    let caught = compare(&numeric, &wrong);
    assert!(
        caught.relative_error > TOLERANCE,
        "relative error {:e}",
        caught.relative_error
    );
}
