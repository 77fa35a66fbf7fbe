//! The `mnist-train` binary: help, the benchmark table, and one-line errors.
use std::process::{Command, Output};

fn mnist_train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnist-train"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn help_lists_commands_and_backends() {
    let out = mnist_train(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for word in ["train", "predict", "bench"] {
        assert!(text.contains(word), "{text}");
    }
    let out = mnist_train(&["train", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--backend",
        "flex",
        "ndarray",
        "wgpu",
        "cuda",
        "--resume",
        "--quick",
        "--epochs",
    ] {
        assert!(text.contains(word), "{word} in {text}");
    }
}

#[cfg(not(feature = "cuda"))]
#[test]
fn a_backend_that_was_not_compiled_in_is_a_one_line_error() {
    let out = mnist_train(&[
        "train",
        "--backend",
        "cuda",
        "--quick",
        "--reports",
        "/nonexistent",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("--backend cuda was not compiled into this binary"),
        "{err}"
    );
    assert!(err.contains("available: flex, ndarray"), "{err}");
}

#[test]
fn bad_flag_values_are_rejected_before_anything_runs() {
    for (flag, value) in [
        ("--batch-size", "0"),
        ("--learning-rate", "-1"),
        ("--momentum", "1.5"),
        ("--backend", "tpu"),
    ] {
        let out = mnist_train(&["train", &format!("{flag}={value}")]);
        assert!(!out.status.success(), "{flag}={value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(flag) && err.contains(value),
            "{flag}={value}: {err}"
        );
    }
}

#[test]
fn bench_prints_raw_and_loop_step_times() {
    let out = mnist_train(&["bench", "--model", "mlp", "--steps", "20", "--no-pytorch"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("flex"))
        .expect("a flex row");
    let numbers: Vec<f64> = row
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches('x').parse().ok())
        .collect();
    // raw ms, loop ms, loop/raw, epoch seconds; the raw step's forward,
    // backward and optimiser ms
    assert_eq!(numbers.len(), 7, "{row}");
    assert!(numbers[0] > 0.0 && numbers[1] > 0.0, "{row}");
}
