//! Property tests over what prediction and `--resume` read: whatever a
//! checkpoint folder's `model.json`, `model.mpk` or `last.json`, or an image
//! file, holds (arbitrary bytes, or a valid file with bytes changed, cut or
//! added), reading it never panics, and an error names the file.

use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, Flex};
use mnist_models::OptimizerConfig;
use mnist_models::models::{MlpConfig, ModelConfig};
use mnist_models::optimizer::ModelOptimizer;
use mnist_report::EpochMetrics;
use mnist_train::checkpoint::{Checkpoints, TrainState};
use mnist_train::image_input::load_digit;
use mnist_train::inference::TrainedModel;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

type B = Autodiff<Flex>;

/// Changes to a file's bytes: (position, how, byte).
type Edits = Vec<(usize, u8, u8)>;

fn edits() -> impl Strategy<Value = Edits> {
    prop::collection::vec((any::<usize>(), 0u8..4, any::<u8>()), 1..6)
}

/// `bytes` with each edit applied: flip bits, overwrite, cut or insert.
fn mutated(bytes: &[u8], edits: &Edits) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(at, how, byte) in edits {
        let at = if out.is_empty() { 0 } else { at % out.len() };
        match how {
            0 if !out.is_empty() => out[at] ^= byte.max(1),
            1 if !out.is_empty() => out[at] = byte,
            2 => out.truncate(at),
            _ => out.insert(at, byte),
        }
    }
    out
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// A checkpoint folder of a small MLP after one epoch: `model.json`,
/// `model.mpk`, `last.json` and the files it names.
fn checkpoint_folder(dir: &Path) -> (Checkpoints, ModelConfig, serde_json::Value) {
    let config = ModelConfig::Mlp(MlpConfig::new(vec![8]));
    let device = Default::default();
    let model = config.init::<B>(&device);
    let checkpoints = Checkpoints::new(dir);
    checkpoints.save_model_config(&config).expect("model.json");
    checkpoints.save_tested(&model).expect("model.mpk");
    let optimizer = ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.1, 0.9, false));
    let state = TrainState {
        epochs_done: 1,
        history: vec![EpochMetrics {
            epoch: 1,
            train_loss: 0.5,
            train_accuracy: vec![0.8],
            val_loss: 0.4,
            val_accuracy: vec![0.85],
            seconds: 1.0,
        }],
        best_epoch: None,
        best_val_accuracy: 0.0,
    };
    let run = serde_json::json!({ "run": "properties" });
    checkpoints
        .save_last(&model, &optimizer, &state, &run)
        .expect("the last checkpoint");
    (checkpoints, config, run)
}

/// The error is one line that names one of `files`.
fn names_one_of(message: &str, files: &[PathBuf]) -> Result<(), TestCaseError> {
    prop_assert_eq!(message.lines().count(), 1, "{}", message);
    prop_assert!(
        files
            .iter()
            .any(|f| message.contains(&f.display().to_string())),
        "{message} names none of {files:?}"
    );
    Ok(())
}

#[test]
fn prediction_never_panics_on_a_damaged_model() {
    let dir = tempfile::tempdir().unwrap();
    let (checkpoints, _, _) = checkpoint_folder(dir.path());
    let json_path = checkpoints.dir.join("model.json");
    let mpk_path = checkpoints.model_path();
    let (json, mpk) = (
        std::fs::read(&json_path).unwrap(),
        std::fs::read(&mpk_path).unwrap(),
    );
    let files = [json_path.clone(), mpk_path.clone()];
    let device = Default::default();
    runner(1000)
        .run(&(any::<bool>(), edits()), |(in_json, edits)| {
            let (path, original) = if in_json {
                (&json_path, &json)
            } else {
                (&mpk_path, &mpk)
            };
            std::fs::write(path, mutated(original, &edits)).unwrap();
            let loaded = TrainedModel::<Flex>::load(&checkpoints.dir, &device);
            std::fs::write(path, original).unwrap();
            if let Err(e) = loaded {
                names_one_of(&e.to_string(), &files)?;
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn resuming_never_panics_on_a_damaged_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (checkpoints, config, run) = checkpoint_folder(dir.path());
    let names = ["last.json", "last-e1-model.mpk", "last-e1-optimizer.mpk"];
    let files: Vec<PathBuf> = names.iter().map(|n| checkpoints.dir.join(n)).collect();
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let device = Default::default();
    runner(1000)
        .run(&(0..names.len(), edits()), |(which, edits)| {
            let damaged = mutated(&originals[which], &edits);
            std::fs::write(&files[which], &damaged).unwrap();
            let loaded = checkpoints.load_last(
                config.init::<B>(&device),
                ModelOptimizer::<B>::new(&OptimizerConfig::sgd(0.1, 0.9, false)),
                &run,
                3,
                &device,
            );
            std::fs::write(&files[which], &originals[which]).unwrap();
            match loaded {
                // A change that leaves the file, or what the JSON means, as it was.
                Ok(_) => prop_assert!(which == 0 || damaged == originals[which]),
                Err(e) => names_one_of(&e.to_string(), &files)?,
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn reading_a_digit_never_panics_on_damaged_or_arbitrary_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digit.png");
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(28, 28, |x, y| {
        image::Luma([if (8..20).contains(&x) && (4..24).contains(&y) {
            0
        } else {
            255
        }])
    }))
    .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
    .unwrap();
    let files = [path.clone()];
    let inputs = prop_oneof![
        edits().prop_map(move |e| mutated(&png, &e)),
        prop::collection::vec(any::<u8>(), 0..512),
    ];
    runner(2000)
        .run(&inputs, |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            if let Err(e) = load_digit(&path) {
                names_one_of(&e.to_string(), &files)?;
            }
            Ok(())
        })
        .unwrap();
}
