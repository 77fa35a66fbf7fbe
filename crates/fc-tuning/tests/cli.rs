//! The command line: help, listing, one-line errors with a non-zero exit,
//! and a quick smoke run of the course table.

use std::process::Command;

fn fc_tuning(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fc-tuning"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn help_and_list() {
    for args in [&["--help"][..], &["bench", "--help"], &["run", "--help"]] {
        let out = fc_tuning(args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let out = fc_tuning(&["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("h128-leaky-relu") && text.contains("h64x64-batch-256"),
        "{text}"
    );
}

#[test]
fn errors_are_one_line_and_fail() {
    for args in [
        &["--only", "no-such-run"][..],
        &["--only", "h64x64-batch-16"],
        &["--study", "nope"],
        &["--epochs", "0"],
    ] {
        let out = fc_tuning(args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error:"), "{args:?}: {err}");
    }
    let out = fc_tuning(&["--only", "no-such-run"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn a_quick_run_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().to_str().unwrap();
    let out = fc_tuning(&["--quick", "--only", "h10-baseline", "--reports", reports]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = mnist_report::read_results(&dir.path().join("results.csv")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("epochs"), Some("1"));
    assert!(dir.path().join("course-table.md").is_file());
}
