//! The command line: help everywhere, clear one-line errors, the toy run, and
//! a quick MNIST run that writes a complete report.

use std::process::{Command, Output};

use mnist_report::cli::{QUICK_EPOCHS, QUICK_EVAL_IMAGES, QUICK_TRAIN_IMAGES};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scratch-numpy-style"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_is_available_for_every_command() {
    for args in [
        vec!["--help"],
        vec!["toy", "--help"],
        vec!["run", "--help"],
        vec!["bench", "--help"],
        vec!["gradcheck", "--help"],
        vec!["list", "--help"],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn toy_prints_predictions_within_the_tolerance() {
    let out = run(&["toy"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("within the course's 0.1"), "{stdout}");
}

#[test]
fn unknown_experiment_is_a_one_line_error() {
    let out = run(&["run", "--experiment", "nope", "--quick"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: no experiment named \"nope\""),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn layers_that_do_not_fit_mnist_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let wide = run(&["--quick", "--layers", "700,32,10", "--reports", out_dir]);
    assert_eq!(wide.status.code(), Some(1));
    assert_eq!(
        text(&wide.stderr).trim(),
        "error: input width mismatch: the network takes 700 features per sample, got 784"
    );
    let classes = run(&["--quick", "--layers", "784,32,7", "--reports", out_dir]);
    assert_eq!(classes.status.code(), Some(1));
    assert_eq!(
        text(&classes.stderr).trim(),
        "error: target width mismatch: the network gives 7 outputs per sample, got 10"
    );
    let empty = run(&["--quick", "--layers", "784", "--reports", out_dir]);
    assert_eq!(empty.status.code(), Some(1));
    assert!(text(&empty.stderr).starts_with("error: a network needs at least"));
}

#[test]
fn quick_run_writes_a_full_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "run",
        "--quick",
        "--no-progress",
        "--experiment",
        "mlp-128-64-relu-ce",
        "--reports",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let last_epoch = format!("Epoch {QUICK_EPOCHS}/{QUICK_EPOCHS}  train loss");
    assert!(stdout.contains(&last_epoch), "{stdout}");
    let run_dir = dir.path().join("mlp-128-64-relu-ce");
    for file in [
        "metrics.csv",
        "config.json",
        "curves.png",
        "confusion.png",
        "misclassified.png",
        "predictions.png",
        "predictions.csv",
    ] {
        assert!(run_dir.join(file).is_file(), "{file} missing");
    }
    assert!(dir.path().join("results.csv").is_file());
    assert!(dir.path().join("results.md").is_file());
    let predictions = std::fs::read_to_string(run_dir.join("predictions.csv")).unwrap();
    let lines: Vec<&str> = predictions.lines().collect();
    assert_eq!(lines[0], "ImageId,Label");
    assert_eq!(lines.len(), 1 + QUICK_EVAL_IMAGES);
    assert!(lines[1].starts_with("1,"));
    let results = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    assert!(results.contains("mlp-128-64-relu-ce"));
    assert!(results.contains("activation") && results.contains("loss"));
}

#[test]
fn quick_trains_on_the_shared_smoke_run_and_reports_where_told() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("quick");
    let out = run(&[
        "--quick",
        "--no-progress",
        "--experiment",
        "mlp-107-26-relu-ce-clip",
        "--reports",
        reports.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = std::fs::read_to_string(reports.join("mlp-107-26-relu-ce-clip/config.json"))
        .expect("config.json in the --reports folder");
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["epochs"], QUICK_EPOCHS);
    assert_eq!(config["config"]["train_images"], QUICK_TRAIN_IMAGES);
    assert_eq!(config["config"]["test_images"], QUICK_EVAL_IMAGES);
    let metrics = std::fs::read_to_string(reports.join("mlp-107-26-relu-ce-clip/metrics.csv"))
        .expect("metrics.csv in the --reports folder");
    assert_eq!(metrics.lines().count(), 1 + QUICK_EPOCHS, "{metrics}");
    assert!(reports.join("results.csv").is_file());
}

#[test]
fn limit_caps_the_training_images() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "run",
        "--limit",
        "700",
        "--epochs",
        "1",
        "--no-progress",
        "--experiment",
        "mlp-128-64-relu-ce",
        "--reports",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config =
        std::fs::read_to_string(dir.path().join("mlp-128-64-relu-ce/config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["config"]["train_images"], 700);
    assert_eq!(config["config"]["test_images"], 10_000);
}

#[test]
fn a_bad_flag_value_is_a_one_line_error_naming_the_flag() {
    for (args, flag) in [
        (vec!["run", "--epochs", "0"], "--epochs"),
        (vec!["--limit", "many"], "--limit"),
        (vec!["--layers", "784,x,10"], "--layers"),
        (vec!["bench", "--batch-size", "0"], "--batch-size"),
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}
