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
    for command in ["verify", "compose", "to-parquet", "show"] {
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

#[test]
fn compose_to_a_folder_is_an_error_naming_out() {
    let dir = tempfile::tempdir().unwrap();
    let with_slash = format!("{}/", dir.path().display());
    for out in [with_slash.as_str(), dir.path().to_str().unwrap()] {
        let result = mnist_data(&["compose", "--count", "3", "--out", out]);
        assert!(!result.status.success());
        let err = String::from_utf8_lossy(&result.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains("--out") && err.contains("file prefix"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn compose_with_a_huge_count_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("huge");
    let out = mnist_data(&[
        "compose",
        "--count",
        "100000000000",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--count 100000000000") && err.contains("500000"),
        "{err}"
    );
}

#[test]
fn compose_leaves_only_its_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("set");
    let out = mnist_data(&[
        "compose",
        "--count",
        "5",
        "--gzip",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["set-images-idx3-ubyte.gz", "set-labels-idx2-ubyte.gz"]
    );
}

#[test]
fn show_on_a_set_with_no_images_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("empty");
    let images = dir.path().join("empty-images-idx3-ubyte");
    mnist_data::idx::write_idx(&images, &[0, 42, 28], &[]).unwrap();
    mnist_data::idx::write_idx(&dir.path().join("empty-labels-idx2-ubyte"), &[0, 2], &[]).unwrap();
    let out = mnist_data(&["show", "--data", prefix.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&images.display().to_string()) && err.contains("holds no images"),
        "{err}"
    );
}

#[test]
fn the_data_is_found_in_the_course_the_binary_is_run_in() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mnist-data"))
        .arg("verify")
        .env("MNIST_COURSE_ROOT", elsewhere.path())
        .env_remove("MNIST_DIR")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            &elsewhere
                .path()
                .join("datasets/mnist")
                .display()
                .to_string()
        ),
        "the course named by MNIST_COURSE_ROOT is read: {stderr}"
    );
}

#[test]
fn to_parquet_writes_the_first_images_as_the_committed_fixture_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("first.parquet");
    let out = mnist_data(&[
        "to-parquet",
        "--count",
        "100",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = mnist_data::parquet::read_parquet(&out_path).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mnist-test-100.parquet");
    assert_eq!(
        written,
        mnist_data::parquet::read_parquet(&fixture).unwrap()
    );

    // `show` reads it back.
    let out = mnist_data(&["show", "--data", out_path.to_str().unwrap(), "--index", "0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("image 0, label [7]"), "{text}");
}

#[test]
fn verify_reads_a_folder_of_hugging_face_files_without_the_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mnist-test-100.parquet");
    for split in ["train", "test"] {
        std::fs::copy(
            &fixture,
            dir.path().join(format!("{split}-00000-of-00001.parquet")),
        )
        .unwrap();
    }
    let out = mnist_data(&["--dir", dir.path().to_str().unwrap(), "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("checksums verified"), "{text}");
    assert!(
        text.contains("train-00000-of-00001.parquet") && text.contains("100 images"),
        "{text}"
    );
}
