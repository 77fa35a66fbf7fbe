//! Checkpoints: save → load gives the same predictions; a run killed with
//! SIGKILL mid-epoch resumes and ends exactly where an uninterrupted run ends.
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mnist_models::evaluate::predictions;
use mnist_models::models::{CnnConfig, MlpConfig, Model};
use mnist_train::checkpoint::{CheckpointError, load_model, save_model};
use mnist_train::inference::TrainedModel;

type Inner = burn::backend::Flex;

#[test]
fn saved_and_loaded_model_predicts_identically() {
    let device = Default::default();
    let model = Model::from(CnnConfig::new().init::<Inner>(&device));
    let images = &common::mnist().test.take(64).images;
    let before = predictions(&model, images, &device);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.mpk");
    save_model(&model, &path).unwrap();
    // A fresh model has other random weights until the record is loaded.
    let loaded = load_model(
        CnnConfig::new().init::<Inner>(&device).into(),
        &path,
        &device,
    )
    .unwrap();
    let after = predictions(&loaded, images, &device);
    assert_eq!(before.log_probabilities, after.log_probabilities);
    assert_eq!(before.labels, after.labels);
}

#[test]
fn loading_a_checkpoint_of_another_model_is_a_clear_error() {
    let device = Default::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.mpk");
    save_model(
        &MlpConfig::new(vec![32]).init::<Inner>(&device).into(),
        &path,
    )
    .unwrap();
    let err = load_model(
        MlpConfig::new(vec![64]).init::<Inner>(&device).into(),
        &path,
        &device,
    )
    .unwrap_err();
    assert!(matches!(err, CheckpointError::Incompatible { .. }), "{err}");
    assert!(err.to_string().contains("mlp.mpk"), "{err}");

    let missing = load_model(
        MlpConfig::new(vec![32]).init::<Inner>(&device).into(),
        &dir.path().join("none.mpk"),
        &device,
    );
    assert!(missing.unwrap_err().to_string().contains("none.mpk"));
}

/// `mnist-train train` of a small CNN run `r` (two epochs of 100 steps).
fn train_command(reports: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mnist-train"));
    command
        .args([
            "train", "--model", "cnn", "--quick", "--seed", "5", "--run", "r",
        ])
        .arg("--reports")
        .arg(reports)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn killed_mid_epoch_run_resumes_and_matches_an_uninterrupted_run() {
    let killed = tempfile::tempdir().unwrap();
    let last = killed.path().join("r/checkpoints/last.json");
    let run = ["--limit", "3200", "--epochs", "2"];
    let mut child = train_command(killed.path(), &run).spawn().unwrap();
    let start = Instant::now();
    while !last.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint after 2 minutes"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&last).unwrap()).unwrap();
    assert_eq!(
        saved["state"]["epochs_done"], 1,
        "killed during the second epoch"
    );
    assert!(!killed.path().join("results.csv").exists());

    let resumed = train_command(killed.path(), &[&run[..], &["--resume"]].concat())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(stdout.contains("Resuming after epoch 1"), "{stdout}");
    assert!(
        !stdout.contains("Epoch 1/2"),
        "epoch 1 is not trained again: {stdout}"
    );

    let fresh = tempfile::tempdir().unwrap();
    let uninterrupted = train_command(fresh.path(), &run).output().unwrap();
    assert!(uninterrupted.status.success());
    let metrics = |dir: &Path| std::fs::read_to_string(dir.join("r/metrics.csv")).unwrap();
    let without_seconds = |csv: String| -> Vec<String> {
        csv.lines()
            .map(|l| l.rsplit_once(',').map_or(l, |(rest, _)| rest).to_string())
            .collect()
    };
    let resumed_rows = without_seconds(metrics(killed.path()));
    assert_eq!(resumed_rows.len(), 3, "header and two epochs");
    assert_eq!(resumed_rows, without_seconds(metrics(fresh.path())));

    // The checkpoint loads and predicts.
    let model =
        TrainedModel::<Inner>::load(&killed.path().join("r/checkpoints"), &Default::default())
            .unwrap();
    let test = common::mnist().test.take(100);
    let predictions = model.predict(&test.images, &Default::default());
    let right = (0..100)
        .filter(|&i| predictions.labels.of(i) == test.labels.of(i))
        .count();
    assert!(right >= 80, "{right}/100 right after two short epochs");
}

#[test]
fn resuming_with_another_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = ["--epochs", "1", "--limit", "320"];
    assert!(
        train_command(dir.path(), &run)
            .output()
            .unwrap()
            .status
            .success()
    );
    let other = train_command(
        dir.path(),
        &[&run[..], &["--resume", "--learning-rate", "0.5"]].concat(),
    )
    .output()
    .unwrap();
    assert!(!other.status.success());
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains("another configuration") && stderr.contains("--resume"),
        "{stderr}"
    );
}
