//! Grading: the course's toy network, after 10 epochs of per-sample SGD at
//! learning rate 0.001 from all-ones weights, predicts 7·x₁ on the diagonal
//! within 0.1. One test per point.

use scratch_numpy_style::toy;

fn assert_predicts_seven_x(x: f64) {
    let (net, _) = toy::train().expect("the toy network trains");
    let y = toy::predict(&net, x, x).expect("a 2-input query");
    assert!(
        (y - 7.0 * x).abs() < 0.1,
        "({x}, {x}) predicted {y:.4}, expected {} ± 0.1",
        7.0 * x
    );
}

#[test]
fn predicts_1_1_as_7() {
    assert_predicts_seven_x(1.0);
}

#[test]
fn predicts_2_2_as_14() {
    assert_predicts_seven_x(2.0);
}

#[test]
fn predicts_3_3_as_21() {
    assert_predicts_seven_x(3.0);
}

#[test]
fn predicts_5_5_as_35() {
    assert_predicts_seven_x(5.0);
}

#[test]
fn predicts_10_10_as_70() {
    assert_predicts_seven_x(10.0);
}

#[test]
fn toy_training_reduces_the_loss() {
    let (_, losses) = toy::train().unwrap();
    assert_eq!(losses.len(), toy::EPOCHS);
    assert!(losses[9] < losses[0] / 10.0, "losses: {losses:?}");
}
