//! The `mnist-data` binary: help, verification, and one-line errors.
use std::process::Command;

fn mnist_data(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mnist-data"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn help_describes_the_commands() {
    let out = mnist_data(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["verify", "compose", "show"] {
        assert!(text.contains(command), "{text}");
    }
}

#[test]
fn verify_reports_counts_and_checksums() {
    let out = mnist_data(&["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("checksums verified")
            && text.contains("60000 images")
            && text.contains("10000 images"),
        "{text}"
    );
}

#[test]
fn missing_data_folder_is_one_line_error_and_nonzero_exit() {
    let out = mnist_data(&["--dir", "/nonexistent/mnist", "verify"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: missing file /nonexistent/mnist/train-images-idx3-ubyte.gz"),
        "{err}"
    );
}

#[test]
fn compose_writes_a_set_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("set");
    let out = mnist_data(&[
        "compose",
        "--count",
        "20",
        "--seed",
        "3",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let set = mnist_data::two_digit::load(&prefix).unwrap();
    assert_eq!(set.len(), 20);
    let out = mnist_data(&["compose", "--count", "0", "--out", prefix.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--count"));
}
