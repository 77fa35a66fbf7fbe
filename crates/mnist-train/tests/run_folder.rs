//! What a run may do to the folder it reports in: it refuses to replace a
//! completed run unless told to, to share its folder with a running one, to
//! resume from nothing or from a damaged checkpoint; what it refuses, it
//! refuses before training, with one line naming what was wrong.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `mnist-train train` of a small MLP run `r`, reported in `reports`.
fn train(reports: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnist-train"))
        .args(["train", "--hidden", "16", "--limit", "320"])
        .args(["--run", "r", "--reports"])
        .arg(reports)
        .args(extra)
        .output()
        .expect("mnist-train runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run ended with an error of one line that says all of `says`, and
/// was not a panic or an abort.
fn refused(out: &Output, says: &[&str]) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    for s in says {
        assert!(text.contains(s), "{text:?} should say {s:?}");
    }
}

#[test]
fn a_completed_run_is_kept_unless_overwrite_is_given() {
    let dir = tempfile::tempdir().unwrap();
    assert!(train(dir.path(), &["--seed", "3"]).status.success());
    let model = dir.path().join("r/checkpoints/model.mpk");
    let before = std::fs::read(&model).unwrap();

    let again = train(dir.path(), &["--seed", "4"]);
    refused(&again, &["completed run `r`", "--overwrite"]);
    assert_eq!(std::fs::read(&model).unwrap(), before, "the model was kept");

    // A killed run's temporary files go when the folder is next used.
    let leftover = dir.path().join("r/checkpoints/.tmp-killed");
    std::fs::write(&leftover, b"half a model").unwrap();
    let replaced = train(dir.path(), &["--seed", "4", "--overwrite"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_ne!(
        std::fs::read(&model).unwrap(),
        before,
        "another seed, another model"
    );
    assert!(!leftover.exists(), "a killed run's temporary file stays");
}

#[test]
fn a_folder_in_use_by_a_running_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("r").join(mnist_train::run::RUN_LOCK);
    let held = mnist_report::lock::try_lock(&lock).unwrap().expect("free");
    refused(&train(dir.path(), &[]), &["another run", "r"]);
    drop(held);
    assert!(train(dir.path(), &[]).status.success());
}

#[test]
fn resume_without_a_checkpoint_is_an_error_naming_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = train(dir.path(), &["--resume"]);
    refused(&out, &["no checkpoint to resume", "r/checkpoints"]);
    assert!(
        !dir.path().join("r/metrics.csv").exists(),
        "nothing trained"
    );
}

/// What is changed, how, and what the refusal says.
type Edit = (&'static str, fn(&mut Value), &'static str);

#[test]
fn a_damaged_or_edited_last_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = ["--epochs", "2"];
    assert!(train(dir.path(), &run).status.success());
    let checkpoints = dir.path().join("r/checkpoints");
    let last_path = checkpoints.join("last.json");
    let original: Value = serde_json::from_slice(&std::fs::read(&last_path).unwrap()).unwrap();
    let resume = [&run[..], &["--resume"]].concat();
    // Untouched, it resumes (after its last epoch: nothing left to train).
    assert!(train(dir.path(), &resume).status.success());

    let edits: [Edit; 4] = [
        (
            "a path outside",
            |v| v["model"] = "../../../../etc/passwd".into(),
            "last.json",
        ),
        (
            "more epochs than the run",
            |v| v["state"]["epochs_done"] = 99.into(),
            "99 epochs done",
        ),
        (
            "a short history",
            |v| v["state"]["epochs_done"] = 1.into(),
            "last.json",
        ),
        (
            "no checksums",
            |v| v["sha256"] = serde_json::json!({}),
            "no SHA-256",
        ),
    ];
    for (what, edit, says) in edits {
        let mut last = original.clone();
        edit(&mut last);
        std::fs::write(&last_path, serde_json::to_vec(&last).unwrap()).unwrap();
        let out = train(dir.path(), &resume);
        assert!(!out.status.success(), "{what} was resumed");
        refused(&out, &[says]);
    }

    std::fs::write(&last_path, serde_json::to_vec(&original).unwrap()).unwrap();
    let model = checkpoints.join(original["model"].as_str().unwrap());
    let mut bytes = std::fs::read(&model).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&model, bytes).unwrap();
    refused(
        &train(dir.path(), &resume),
        &["SHA-256", "last-e2-model.mpk"],
    );
}

type Change = fn(&mut Value);

#[test]
fn an_edited_model_json_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    assert!(train(dir.path(), &[]).status.success());
    let checkpoints = dir.path().join("r/checkpoints");
    let config_path = checkpoints.join("model.json");
    let original: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    let image = dir.path().join("one.idx");
    let test = mnist_data::Mnist::load_default().unwrap().test.take(3);
    mnist_data::idx::write_idx(&image, &[3, 28, 28], &test.images.pixels).unwrap();

    let edits: [(Change, &str); 5] = [
        (
            |v| v["Mlp"]["hidden"] = serde_json::json!([128, 64]),
            "model.mpk",
        ),
        (
            |v| v["Mlp"]["hidden"] = serde_json::json!([0]),
            "model.json",
        ),
        (|v| v["Mlp"]["heads"] = 0.into(), "model.json"),
        (|v| v["Mlp"]["dropout"] = 7.5.into(), "model.json"),
        (
            |v| v["Mlp"]["hidden"] = serde_json::json!([1_000_000_000]),
            "model.json",
        ),
    ];
    for (edit, says) in edits {
        let mut config = original.clone();
        edit(&mut config);
        std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_mnist-train"))
            .args(["predict", "--checkpoint"])
            .arg(&checkpoints)
            .arg(&image)
            .output()
            .unwrap();
        refused(&out, &[says]);
    }
}

#[test]
fn absurd_sizes_are_refused_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let out = train(dir.path(), &["--hidden", "1000000000"]);
    refused(&out, &["parameters", "limit"]);
    assert!(!dir.path().join("r").exists(), "nothing written");
}

#[test]
fn provenance_names_the_course_s_commit_wherever_the_run_starts() {
    let git = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output();
    let Some(commit) = git
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
    else {
        eprintln!("not in a git checkout: nothing to compare with");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mnist-train"))
        .args([
            "train",
            "--hidden",
            "8",
            "--limit",
            "320",
            "--run",
            "r",
            "--reports",
        ])
        .arg(dir.path())
        .env(
            "MNIST_COURSE_ROOT",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../.."),
        )
        .current_dir("/")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let config: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/config.json")).unwrap()).unwrap();
    let recorded = config["provenance"]["commit"].as_str().unwrap();
    assert!(recorded.starts_with(&commit), "{recorded} is not {commit}");
}
