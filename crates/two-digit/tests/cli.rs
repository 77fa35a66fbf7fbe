//! The `two-digit` binary end to end: short training of both models, `eval`
//! on sets written by the composer (against the run's own test figures and
//! the in-process evaluation), the committed model, and clear errors.

use std::path::Path;
use std::process::Output;

use mnist_data::{Dataset, Mnist, two_digit as composer};
use two_digit::{DATA_SEED, SetAccuracy, evaluate_set};

mod common;
use common::{path, stderr, stdout, two_digit};

/// Trains `model` on `images` training images for `epochs` (validation and
/// test sets whole: 4,000 images each), reported in `reports`.
fn train_short(reports: &Path, model: &str, images: &str, epochs: &str) -> Output {
    let out = two_digit(&[
        "--model",
        model,
        "--limit",
        images,
        "--epochs",
        epochs,
        "--reports",
        path(reports),
    ]);
    assert!(out.status.success(), "training failed: {}", stderr(&out));
    out
}

/// The run's test accuracies from `results.csv`: first, second, both.
fn recorded(reports: &Path, run: &str) -> [f64; 3] {
    let rows = mnist_report::read_results(&reports.join("results.csv")).expect("results.csv reads");
    let row = rows
        .iter()
        .find(|r| r.get("run") == Some(run))
        .expect("the run's row");
    [
        "test_accuracy",
        "test_accuracy_second",
        "test_accuracy_both",
    ]
    .map(|c| {
        row.get_f64(c)
            .unwrap_or_else(|| panic!("{c} in results.csv"))
    })
}

fn eval_json(args: &[&str]) -> SetAccuracy {
    let mut all = vec!["eval", "--json"];
    all.extend(args);
    let out = two_digit(&all);
    assert!(out.status.success(), "eval failed: {}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).expect("one JSON object")
}

fn test_set() -> Dataset {
    let mnist = Mnist::load_default().expect("the committed MNIST files load");
    composer::course_sets(&mnist, DATA_SEED).1
}

/// Chance is 10 % per head and 1 % for both digits.
#[test]
fn short_training_beats_chance_by_far_on_both_heads() {
    let dir = tempfile::tempdir().unwrap();
    // The MLP: 8,000 images, 3 epochs (375 steps).
    let out = train_short(dir.path(), "mlp", "8000", "3");
    let text = stdout(&out);
    assert!(text.contains("mlp 1176-64-64-10 relu x2 heads"), "{text}");
    assert!(
        text.contains("8000 training, 4000 validation, 4000 test images"),
        "{text}"
    );
    let [first, second, both] = recorded(dir.path(), "mlp");
    assert!(
        first >= 0.75 && second >= 0.70 && both >= 0.50,
        "mlp: {first} {second} {both}"
    );

    // The CNN: 4,000 images, 3 epochs (186 steps).
    let out = train_short(dir.path(), "cnn", "4000", "3");
    let text = stdout(&out);
    assert!(text.contains("cnn 42x28 x2 heads"), "{text}");
    // The course's test line, with both heads' accuracies.
    assert!(text.contains("Accuracy on test set: "), "{text}");
    let [first, second, both] = recorded(dir.path(), "cnn");
    assert!(
        first >= 0.75 && second >= 0.70 && both >= 0.50,
        "cnn: {first} {second} {both}"
    );

    // The report: per-head curves and confusion matrices, the gallery, the
    // checkpoint, the table with the three test accuracies.
    for file in [
        "samples.png",
        "results.md",
        "cnn/curves.png",
        "cnn/confusion-first.png",
        "cnn/confusion-second.png",
        "cnn/misclassified.png",
        "cnn/metrics.csv",
        "cnn/checkpoints/model.json",
        "cnn/checkpoints/model.mpk",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
    let table = std::fs::read_to_string(dir.path().join("results.md")).unwrap();
    assert!(
        table.contains("Test (second)") && table.contains("Test (both)"),
        "{table}"
    );
    let metrics = std::fs::read_to_string(dir.path().join("cnn/metrics.csv")).unwrap();
    assert!(metrics.starts_with("epoch,"), "{metrics}");
    assert!(metrics.contains("val_accuracy_2"), "{metrics}");
}

#[test]
fn eval_on_a_composed_set_matches_the_run_and_the_in_process_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    train_short(dir.path(), "mlp", "3000", "1");
    let model = dir.path().join("mlp/checkpoints");

    // The run's test set, written by the composer: eval must give the
    // figures the run recorded, in plain and in gzip files.
    let test = test_set();
    let plain = dir.path().join("test");
    let gzip = dir.path().join("test-gz");
    composer::save(&plain, &test, false).unwrap();
    composer::save(&gzip, &test, true).unwrap();
    assert!(dir.path().join("test-gz-images-idx3-ubyte.gz").is_file());
    let run = recorded(dir.path(), "mlp");
    for prefix in [&plain, &gzip] {
        let json = eval_json(&["--data", path(prefix), "--model", path(&model)]);
        assert_eq!(json.images, 4_000);
        let got = [
            json.test_accuracy,
            json.test_accuracy_second,
            json.test_accuracy_both,
        ];
        for (g, r) in got.iter().zip(run) {
            assert!(
                (g - r).abs() < 1e-9,
                "eval {got:?} against the run's {run:?}"
            );
        }
    }

    // Another set (from the training split, another seed): eval and the
    // library's evaluation in this process agree; a run folder will do as
    // well as its checkpoint folder.
    let mnist = Mnist::load_default().unwrap();
    let other = composer::compose(&mnist.train, 700, 42, 0);
    let other_prefix = dir.path().join("other");
    composer::save(&other_prefix, &other, true).unwrap();
    let json = eval_json(&[
        "--data",
        path(&other_prefix),
        "--model",
        path(&dir.path().join("mlp")),
    ]);
    let in_process = evaluate_set(
        &model,
        &other,
        &other_prefix,
        mnist_train::BackendKind::Flex,
    )
    .unwrap();
    assert_eq!(json.images, 700);
    assert!((json.loss - in_process.loss).abs() < 1e-9);
    assert_eq!(
        [
            json.test_accuracy,
            json.test_accuracy_second,
            json.test_accuracy_both
        ],
        [
            in_process.test_accuracy,
            in_process.test_accuracy_second,
            in_process.test_accuracy_both
        ]
    );

    // Text output names the set and gives the three accuracies.
    let out = two_digit(&["eval", "--data", path(&plain), "--model", path(&model)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("4000 images; first digit "), "{text}");
    assert!(text.contains(" both "), "{text}");
}

/// On a fresh clone, `eval` uses the committed CNN.
#[test]
fn eval_uses_the_committed_cnn_by_default() {
    assert!(
        two_digit::has_model(&two_digit::committed_model_dir()),
        "the course CNN's checkpoint is committed in {}",
        two_digit::committed_model_dir().display()
    );
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("first-1000");
    composer::save(&prefix, &test_set().take(1_000), false).unwrap();
    let json = eval_json(&["--data", path(&prefix)]);
    assert_eq!(json.images, 1_000);
    assert!(
        json.test_accuracy >= 0.97 && json.test_accuracy_second >= 0.96,
        "the committed CNN on 1,000 test images: {json:?}"
    );
}

#[test]
fn malformed_sets_and_bad_flags_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = two_digit::committed_model_dir();
    let fails = |args: &[&str], expected: &[&str]| {
        let out = two_digit(args);
        assert!(!out.status.success(), "{args:?} must fail");
        let err = stderr(&out);
        for e in expected {
            assert!(err.contains(e), "{args:?}: {err:?} should say {e:?}");
        }
        err
    };

    // Missing files: the error names the file it looked for.
    let missing = dir.path().join("nothing");
    let err = fails(
        &["eval", "--data", path(&missing), "--model", path(&model)],
        &["nothing-images-idx3-ubyte"],
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    // A truncated images file.
    let set = test_set().take(20);
    let cut = dir.path().join("cut");
    composer::save(&cut, &set, false).unwrap();
    let images = dir.path().join("cut-images-idx3-ubyte");
    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..bytes.len() - 100]).unwrap();
    fails(
        &["eval", "--data", path(&cut), "--model", path(&model)],
        &["cut-images-idx3-ubyte"],
    );

    // MNIST-shaped images (28×28) are not a two-digit set.
    let mnist = Mnist::load_default().unwrap();
    let single = dir.path().join("single");
    mnist_data::idx::write_idx(
        &dir.path().join("single-images-idx3-ubyte"),
        &[10, 28, 28],
        &mnist.test.images.pixels[..10 * 784],
    )
    .unwrap();
    mnist_data::idx::write_idx(
        &dir.path().join("single-labels-idx2-ubyte"),
        &[10, 2],
        &[1; 20],
    )
    .unwrap();
    fails(
        &["eval", "--data", path(&single), "--model", path(&model)],
        &["single-images-idx3-ubyte", "42"],
    );

    // No model where --model points.
    let good = dir.path().join("good");
    composer::save(&good, &set, false).unwrap();
    fails(
        &["eval", "--data", path(&good), "--model", path(dir.path())],
        &["no trained model in", "model.json"],
    );

    // Flags.
    fails(&["--model", "rnn"], &["rnn"]);
    fails(&["--epochs", "0"], &["--epochs"]);
    fails(&["--run", "a/b"], &["a/b"]);
    fails(&["bench", "--steps", "100000"], &["--steps"]);
    fails(&["eval"], &["--data"]);
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["train", "--help"],
        &["eval", "--help"],
        &["bench", "--help"],
    ] {
        let out = two_digit(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
    let help = stdout(&two_digit(&["--help"]));
    assert!(help.contains("--model"), "{help}");
    assert!(help.contains("eval"), "{help}");
}
