//! The `cnn` binary on data other than the committed IDX files: training
//! with `--data` on a folder of Hugging Face's parquet files, and `predict`
//! and `eval` on a parquet file, which must agree with the same images read
//! from IDX and CSV.

use std::path::{Path, PathBuf};

use mnist_data::Dataset;

mod common;
use common::{cnn, path, stderr, stdout};

/// The first 100 MNIST test digits in Hugging Face's layout.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mnist-data/tests/fixtures/mnist-test-100.parquet")
}

/// The same 100 digits, from the committed IDX files.
fn first_100() -> Dataset {
    mnist_data::Mnist::load_default()
        .expect("the committed MNIST files load")
        .test
        .take(100)
}

/// A folder laid out as Hugging Face's MNIST repository, with the fixture
/// as both splits.
fn hugging_face_folder(root: &Path) -> PathBuf {
    let dir = root.join("hf");
    std::fs::create_dir_all(dir.join("mnist")).expect("a temporary folder");
    for split in ["train", "test"] {
        let name = format!("mnist/{split}-00000-of-00001.parquet");
        std::fs::copy(fixture(), dir.join(name)).expect("the fixture copied");
    }
    dir
}

/// `cnn eval --json` with the committed model: the parsed JSON.
fn eval_json(data: &Path) -> serde_json::Value {
    let out = cnn(&["eval", "--json", "--data", path(data)]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("one JSON object")
}

#[test]
fn training_with_data_reads_that_folder_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = hugging_face_folder(dir.path());
    let reports = dir.path().join("reports");
    let out = cnn(&[
        "--data",
        path(&data),
        "--epochs",
        "1",
        "--reports",
        path(&reports),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The fixture's 100 digits, split 90 / 10, and tested whole.
    let text = stdout(&out);
    assert!(
        text.contains("90 training, 10 validation, 100 test images"),
        "{text}"
    );
    let config = std::fs::read_to_string(reports.join("cnn/config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let recorded = config["config"]["data"]
        .as_str()
        .expect("the data recorded");
    let sha256 = mnist_data::mnist::sha256_hex(&std::fs::read(fixture()).unwrap());
    assert!(
        recorded.contains("mnist/train-00000-of-00001.parquet") && recorded.contains(&sha256),
        "{recorded}"
    );
}

#[test]
fn eval_on_parquet_csv_idx_and_a_folder_of_the_same_digits_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let set = first_100();
    let prefix = dir.path().join("first");
    mnist_data::idx::write_dataset(&prefix, &set, true).unwrap();
    let csv = dir.path().join("first.csv");
    let mut text = String::new();
    for i in 0..set.len() {
        let row: Vec<String> = std::iter::once(set.labels.of(i)[0])
            .chain(set.images.image(i).iter().copied())
            .map(|v| v.to_string())
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(&csv, text).unwrap();

    let parquet = eval_json(&fixture());
    assert_eq!(parquet["images"], 100);
    let accuracy = parquet["accuracy"][0].as_f64().unwrap();
    assert!(accuracy > 0.9, "{parquet}");
    assert_eq!(eval_json(&prefix), parquet, "IDX prefix");
    assert_eq!(eval_json(&csv), parquet, "CSV with labels");
    assert_eq!(
        eval_json(&hugging_face_folder(dir.path())),
        parquet,
        "the test split of a folder"
    );

    // The text form says the same.
    let out = cnn(&["eval", "--data", path(&fixture())]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    assert!(
        line.contains(&format!("100 images; accuracy {:.2} %", 100.0 * accuracy)),
        "{line}"
    );

    // `predict` gives the labels that accuracy counts: from parquet as from IDX.
    let predictions = |input: &Path, name: &str| {
        let out_csv = dir.path().join(name);
        let out = cnn(&["predict", path(input), "--csv", path(&out_csv)]);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::read_to_string(out_csv).unwrap()
    };
    let from_parquet = predictions(&fixture(), "parquet.csv");
    let images = dir.path().join("first-images-idx3-ubyte.gz");
    assert_eq!(from_parquet, predictions(&images, "idx.csv"));
    let right = (from_parquet.lines().skip(1))
        .zip(&set.labels.values)
        .filter(|(row, label)| row.ends_with(&format!(",{label}")))
        .count();
    assert_eq!(right as f64 / 100.0, accuracy, "{from_parquet}");
}

#[test]
fn eval_errors_name_the_file_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let unlabelled = dir.path().join("unlabelled.csv");
    std::fs::write(&unlabelled, vec!["0"; 784].join(",") + "\n").unwrap();
    let not_parquet = dir.path().join("digits.parquet");
    std::fs::write(&not_parquet, "label,pixel0\n").unwrap();
    let two_digit = dir.path().join("two");
    let set = mnist_data::two_digit::compose(&first_100(), 10, 1, 0);
    mnist_data::two_digit::save(&two_digit, &set, false).unwrap();
    for (data, says) in [
        (unlabelled.as_path(), "has no labels"),
        (not_parquet.as_path(), "not a parquet file"),
        (
            two_digit.as_path(),
            "42x28 images with 2 label(s) each, the model reads 28x28",
        ),
    ] {
        let out = cnn(&["eval", "--data", path(data)]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(path(data)) && err.contains(says), "{err}");
    }
}
