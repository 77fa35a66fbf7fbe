//! Prediction from files: PNG digits (either polarity), CSV export, and a
//! run's report on disk.
mod common;

use std::path::Path;

use common::Flex;
use image::GrayImage;
use mnist_models::evaluate::evaluate;
use mnist_models::models::{MlpConfig, ModelConfig};
use mnist_models::{OptimizerConfig, TrainingConfig};
use mnist_train::BackendKind;
use mnist_train::inference::{TrainedModel, load_images, write_predictions_csv};
use mnist_train::run::{RunSpec, Splits, Start, Tested, confusion_matrices, run_with};

type Inner = burn::backend::Flex;

/// Trains a quick MLP with a report in `dir` (about 95 % on MNIST).
fn trained_mlp(dir: &Path) -> TrainedModel<Inner> {
    let m = common::mnist();
    let data = Splits::course(&m.train.take(12_000), m.test.take(500), 2);
    let spec = RunSpec {
        part_dir: dir.to_path_buf(),
        run: "mlp".into(),
        model: ModelConfig::Mlp(MlpConfig::new(vec![128])),
        conv: None,
        training: TrainingConfig::new(OptimizerConfig::sgd(0.1, 0.0, false)).with_epochs(2),
        start: Start::Fresh,
        verbose: false,
        extra: vec![("note".into(), "test".into())],
        tested: Tested::BestByValidation,
        data: None,
    };
    let outcome =
        run_with::<Flex>(&spec, &data, &Default::default(), BackendKind::Flex).expect("the run");
    assert!(outcome.test.expect("test metrics").accuracy[0] > 0.9);
    TrainedModel::load(&dir.join("mlp/checkpoints"), &Default::default())
        .expect("the checkpoint loads")
}

#[test]
fn prediction_loads_the_model_the_run_tested() {
    let m = common::mnist();
    let data = Splits::course(&m.train.take(6_000), m.test.take(500), 3);
    let device = Default::default();
    for tested in [Tested::BestByValidation, Tested::Last] {
        let dir = tempfile::tempdir().unwrap();
        let spec = RunSpec {
            part_dir: dir.path().to_path_buf(),
            run: "mlp".into(),
            model: ModelConfig::Mlp(MlpConfig::new(vec![32])),
            conv: None,
            training: TrainingConfig::new(OptimizerConfig::sgd(0.3, 0.0, false)).with_epochs(3),
            start: Start::Fresh,
            verbose: false,
            extra: Vec::new(),
            tested,
            data: None,
        };
        let outcome = run_with::<Flex>(&spec, &data, &device, BackendKind::Flex).expect("the run");
        let model = TrainedModel::<Inner>::load(&dir.path().join("mlp/checkpoints"), &device)
            .expect("the checkpoint loads");
        // Every test prediction agrees, not just the accuracy.
        let reloaded = confusion_matrices(&data.test, &evaluate(&model.model, &data.test, &device));
        assert_eq!(reloaded, outcome.confusion, "{tested:?}");

        let rows = mnist_report::read_results(&dir.path().join("results.csv")).unwrap();
        let tested_epoch = rows[0].get_f64("tested_epoch").expect("a tested epoch");
        if tested == Tested::Last {
            assert_eq!(tested_epoch, 3.0);
        }
    }
}

#[test]
fn png_of_an_mnist_test_digit_is_predicted_as_its_label_in_either_polarity() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_mlp(dir.path());
    let test = &common::mnist().test;
    let (mut right, mut right_inverted) = (0, 0);
    for i in 0..20 {
        let pixels = test.images.image(i).to_vec();
        let label = test.labels.of(i);
        // Ink bright on black, as MNIST stores it, and dark on white paper,
        // drawn larger, as a phone photo or a drawing would be.
        let png = dir.path().join(format!("digit-{i}.png"));
        GrayImage::from_raw(28, 28, pixels.clone())
            .unwrap()
            .save(&png)
            .unwrap();
        let inverted = dir.path().join(format!("paper-{i}.png"));
        let paper = GrayImage::from_raw(28, 28, pixels.iter().map(|p| 255 - p).collect()).unwrap();
        image::imageops::resize(&paper, 112, 112, image::imageops::FilterType::Triangle)
            .save(&inverted)
            .unwrap();

        for (path, count) in [(&png, &mut right), (&inverted, &mut right_inverted)] {
            let images = load_images(path, 28, 28).unwrap();
            assert_eq!(images.count, 1);
            let predicted = model.predict(&images, &Default::default());
            *count += usize::from(predicted.labels.of(0) == label);
        }
    }
    assert!(right >= 18, "{right}/20 PNG digits right");
    assert!(
        right_inverted >= 18,
        "{right_inverted}/20 inverted, enlarged PNG digits right"
    );
}

#[test]
fn predictions_export_as_kaggle_csv_and_the_run_report_exists() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_mlp(dir.path());
    let test = common::mnist().test.take(50);
    let predictions = model.predict(&test.images, &Default::default());
    let csv = dir.path().join("submission.csv");
    write_predictions_csv(&csv, &predictions, true, &["Label"]).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..3], ["ImageId", "Label", "p0"]);
    assert_eq!(header.len(), 12);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 50);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (i + 1).to_string());
        let label: usize = row[1].parse().unwrap();
        let p: Vec<f64> = row[2..].iter().map(|v| v.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-3);
        let best = (0..10).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(label, best, "the label is the most probable digit");
    }
    write_predictions_csv(&csv, &predictions, false, &["Label"]).unwrap();
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("ImageId,Label\n1,7\n")
    );

    // The run's report: metrics, config, plots, and the part's tables.
    let run_dir = dir.path().join("mlp");
    for file in [
        "metrics.csv",
        "config.json",
        "curves.png",
        "confusion.png",
        "misclassified.png",
    ] {
        assert!(run_dir.join(file).exists(), "{file}");
    }
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("config.json")).unwrap()).unwrap();
    assert!(
        config.to_string().contains("\"learning_rate\":0.1"),
        "{config}"
    );
    let curves = image::open(run_dir.join("curves.png")).unwrap().to_luma8();
    let distinct: std::collections::HashSet<u8> = curves.pixels().map(|p| p[0]).collect();
    assert!(distinct.len() > 20, "the curves plot is not blank");
    let rows = mnist_report::read_results(&dir.path().join("results.csv")).unwrap();
    assert_eq!(rows[0].run, "mlp");
    assert_eq!(rows[0].get("backend"), Some("flex"));
    assert_eq!(rows[0].get("note"), Some("test"));
    assert!(rows[0].get_f64("test_accuracy").unwrap() > 0.9);
    let md = std::fs::read_to_string(dir.path().join("results.md")).unwrap();
    assert!(md.contains("flex") && md.contains("mlp"), "{md}");
}

#[test]
fn bad_input_files_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_png = dir.path().join("broken.png");
    std::fs::write(&not_png, b"not an image").unwrap();
    let err = load_images(&not_png, 28, 28).unwrap_err().to_string();
    assert!(err.contains("broken.png"), "{err}");

    let blank = dir.path().join("blank.png");
    GrayImage::new(28, 28).save(&blank).unwrap();
    let err = load_images(&blank, 28, 28).unwrap_err().to_string();
    assert!(err.contains("blank.png") && err.contains("blank"), "{err}");

    let two_digit = dir.path().join("two");
    let set = mnist_data::two_digit::compose(&common::mnist().test, 4, 1, 1);
    mnist_data::two_digit::save(&two_digit, &set, false).unwrap();
    let err = load_images(&dir.path().join("two-images-idx3-ubyte"), 28, 28)
        .unwrap_err()
        .to_string();
    assert!(err.contains("42x28") && err.contains("28x28"), "{err}");
}
