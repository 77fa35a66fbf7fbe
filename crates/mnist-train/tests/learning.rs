//! The loop learns, on every CPU backend (and wgpu when compiled in); a seed
//! fixes a run; a diverging run is recorded, not a crash.
mod common;

use common::{Flex, NdArray, learn_separable, no_checkpoints};
use mnist_models::models::{CnnConfig, MlpConfig, ModelConfig};
use mnist_models::{OptimizerConfig, TrainingConfig};
use mnist_report::RunStatus;
use mnist_train::BackendKind;
use mnist_train::run::{RunSpec, Splits, Start, Tested, run_with};
use mnist_train::train::{TrainingData, train};

#[test]
fn flex_learns_a_separable_problem() {
    let (first, last, accuracy) = learn_separable::<Flex>(&Default::default());
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert!(accuracy >= 0.99, "accuracy {accuracy}");
}

#[test]
fn ndarray_learns_a_separable_problem() {
    let (first, last, accuracy) = learn_separable::<NdArray>(&Default::default());
    assert!(last < first / 4.0, "loss {first} -> {last}");
    assert!(accuracy >= 0.99, "accuracy {accuracy}");
}

#[test]
fn adam_learns_a_separable_problem() {
    let (train_set, validation) = (common::separable(400, 1), common::separable(100, 2));
    let device = Default::default();
    let model = MlpConfig::new(vec![32]).init::<Flex>(&device);
    let config = TrainingConfig::new(OptimizerConfig::Adam {
        learning_rate: 1e-3,
    })
    .with_epochs(3)
    .with_batch_size(20);
    let data = TrainingData {
        train: &train_set,
        validation: &validation,
    };
    let history = train(model.into(), data, &config, &no_checkpoints(), &device)
        .unwrap()
        .state
        .history;
    assert!(history[2].val_accuracy[0] >= 0.99, "{history:?}");
}

#[test]
fn same_seed_gives_the_same_metrics() {
    let m = common::mnist();
    let data = Splits::course(&m.train.take(3_000), m.test.take(200), 11).limit(1_280, 200);
    let once = || {
        let device = Default::default();
        <Flex as burn::tensor::backend::Backend>::seed(&device, 3);
        // The CNN has dropout: the seed must fix its masks too.
        let model = CnnConfig::new().init::<Flex>(&device);
        let config = TrainingConfig::new(OptimizerConfig::sgd(0.01, 0.9, true)).with_epochs(2);
        let data = TrainingData {
            train: &data.train,
            validation: &data.validation,
        };
        train(model.into(), data, &config, &no_checkpoints(), &device)
            .unwrap()
            .state
            .history
    };
    let (a, b) = (once(), once());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (x.train_loss, &x.train_accuracy, x.val_loss, &x.val_accuracy),
            (y.train_loss, &y.train_accuracy, y.val_loss, &y.val_accuracy)
        );
    }
    assert!(a[1].train_loss < a[0].train_loss, "{a:?}");
}

#[test]
fn a_diverging_run_is_recorded_as_diverged() {
    let m = common::mnist();
    let data = Splits::course(&m.train.take(2_000), m.test.take(100), 1).limit(640, 100);
    let dir = tempfile::tempdir().unwrap();
    let spec = RunSpec {
        part_dir: dir.path().to_path_buf(),
        run: "too-fast".into(),
        model: ModelConfig::Mlp(MlpConfig::new(vec![16])),
        conv: None,
        training: TrainingConfig::new(OptimizerConfig::sgd(1e30, 0.0, false)).with_epochs(3),
        start: Start::Fresh,
        verbose: false,
        extra: Vec::new(),
        tested: Tested::BestByValidation,
        data: None,
    };
    let outcome = run_with::<Flex>(&spec, &data, &Default::default(), BackendKind::Flex).unwrap();
    assert!(
        matches!(outcome.status, RunStatus::Diverged { epoch: 1 }),
        "{:?}",
        outcome.status
    );
    assert!(outcome.test.is_none());
    let rows = mnist_report::read_results(&dir.path().join("results.csv")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, RunStatus::Diverged { epoch: 1 });
    assert_eq!(rows[0].get("status"), Some("diverged"));
}

#[test]
fn model_outputs_have_the_right_shapes() {
    use burn::prelude::*;
    type B = burn::backend::Flex;
    let device = Default::default();
    let course = CnnConfig::new();
    assert_eq!(course.flatten_width(), 1_600);
    let two_digit = CnnConfig::new().with_height(42).with_heads(2);
    assert_eq!(two_digit.flatten_width(), 2_880);
    let out = course
        .init::<B>(&device)
        .forward(Tensor::zeros([3, 1, 28, 28], &device));
    assert_eq!(
        out.iter().map(|t| t.dims()).collect::<Vec<_>>(),
        vec![[3, 10]]
    );
    let out = two_digit
        .init::<B>(&device)
        .forward(Tensor::zeros([3, 1, 42, 28], &device));
    assert_eq!(
        out.iter().map(|t| t.dims()).collect::<Vec<_>>(),
        vec![[3, 10], [3, 10]]
    );
    let mlp = MlpConfig::new(vec![64, 64]).with_height(42).with_heads(2);
    let out = mlp
        .init::<B>(&device)
        .forward(Tensor::zeros([5, 1, 42, 28], &device));
    assert_eq!(
        out.iter().map(|t| t.dims()).collect::<Vec<_>>(),
        vec![[5, 10], [5, 10]]
    );
}
