//! CSV digits: the three layouts the seeds' users have, two-digit images,
//! and bad rows.
mod common;

use mnist_data::DataError;
use mnist_data::csv::read_csv;

/// `n` rows of the first MNIST test digits, optionally with label column and header.
fn csv_text(n: usize, labelled: bool, header: Option<&str>) -> String {
    let test = &common::mnist().test;
    let mut text = String::new();
    if let Some(prefix) = header {
        let mut cols: Vec<String> = (0..784).map(|i| format!("{prefix}{i}")).collect();
        if labelled {
            cols.insert(0, "label".into());
        }
        text += &cols.join(",");
        text.push('\n');
    }
    for i in 0..n {
        let mut fields: Vec<String> = test.images.image(i).iter().map(u8::to_string).collect();
        if labelled {
            fields.insert(0, test.labels.of(i)[0].to_string());
        }
        text += &fields.join(",");
        text.push('\n');
    }
    text
}

#[test]
fn labelled_with_header_without_header_and_pixel_only() {
    let dir = tempfile::tempdir().unwrap();
    let expected = common::mnist().test.take(5);
    for (name, labelled, header) in [
        ("digit-recognizer-train.csv", true, Some("pixel")),
        ("mnist_test.csv", true, None),
        ("digit-recognizer-test.csv", false, Some("pixel")),
        ("pixels-no-header.csv", false, None),
    ] {
        let path = common::write(dir.path(), name, csv_text(5, labelled, header).as_bytes());
        let read = read_csv(&path).unwrap();
        assert_eq!(read.images, expected.images, "{name}");
        assert_eq!(
            read.labels.as_ref(),
            labelled.then_some(&expected.labels),
            "{name}"
        );
    }
}

#[test]
fn gzipped_csv_reads() {
    let dir = tempfile::tempdir().unwrap();
    let text = csv_text(3, true, None);
    let path = common::write(dir.path(), "train.csv.gz", &common::gzip(text.as_bytes()));
    assert_eq!(read_csv(&path).unwrap().images.count, 3);
}

#[test]
fn row_with_wrong_field_count_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = csv_text(3, true, Some("pixel"));
    text.push_str("4,0,0,0\n");
    let path = common::write(dir.path(), "short-row.csv", text.as_bytes());
    let err = read_csv(&path).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            DataError::CsvFieldCount {
                line: 5,
                found: 4,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("short-row.csv") && msg.contains("line 5") && msg.contains("785"),
        "{msg}"
    );
}

#[test]
fn first_row_of_unknown_width_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(dir.path(), "three.csv", b"1,2,3\n");
    let msg = read_csv(&path).unwrap_err().to_string();
    assert!(
        msg.contains("three.csv") && msg.contains("line 1") && msg.contains("3 fields"),
        "{msg}"
    );
}

#[test]
fn pixel_out_of_range_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = csv_text(2, true, None);
    let mut row: Vec<String> = vec!["0".into(); 785];
    row[10] = "256".into();
    text.push_str(&row.join(","));
    text.push('\n');
    let path = common::write(dir.path(), "bright.csv", text.as_bytes());
    let err = read_csv(&path).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            DataError::CsvPixel {
                line: 3,
                column: 11,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("bright.csv") && msg.contains("line 3") && msg.contains("\"256\""),
        "{msg}"
    );

    let path = common::write(
        dir.path(),
        "negative.csv",
        format!("-1{}\n", ",0".repeat(783)).as_bytes(),
    );
    let msg = read_csv(&path).unwrap_err().to_string();
    assert!(
        msg.contains("negative.csv") && msg.contains("line 1") && msg.contains("\"-1\""),
        "{msg}"
    );
}

#[test]
fn label_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(
        dir.path(),
        "label12.csv",
        format!("12{}\n", ",0".repeat(784)).as_bytes(),
    );
    let msg = read_csv(&path).unwrap_err().to_string();
    assert!(
        msg.contains("label12.csv") && msg.contains("line 1") && msg.contains("\"12\""),
        "{msg}"
    );
}

#[test]
fn header_only_file_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(
        dir.path(),
        "header.csv",
        csv_text(0, true, Some("pixel")).as_bytes(),
    );
    assert!(matches!(read_csv(&path), Err(DataError::Empty { .. })));
}

#[test]
fn first_row_with_a_non_numeric_label_is_data_not_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("x{}\n{}", ",0".repeat(784), csv_text(2, true, None));
    let path = common::write(dir.path(), "bad-label.csv", text.as_bytes());
    let err = read_csv(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::CsvLabel { line: 1, .. }), "{msg}");
    assert!(
        msg.contains("bad-label.csv") && msg.contains("line 1") && msg.contains("\"x\""),
        "{msg}"
    );
    // A header naming some columns by number is not a header either.
    let text = format!("label{}\n{}", ",0".repeat(784), csv_text(1, true, None));
    let path = common::write(dir.path(), "half-header.csv", text.as_bytes());
    let msg = read_csv(&path).unwrap_err().to_string();
    assert!(
        msg.contains("half-header.csv") && msg.contains("line 1") && msg.contains("\"label\""),
        "{msg}"
    );
}

#[test]
fn gzipped_csv_is_recognised_without_a_gz_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = csv_text(2, false, Some("pixel"));
    let path = common::write(dir.path(), "packed.csv", &common::gzip(text.as_bytes()));
    assert_eq!(read_csv(&path).unwrap().images.count, 2);
}

#[test]
fn two_digit_images_read_with_two_labels_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let set = mnist_data::two_digit::compose(&common::mnist().test, 4, 3, 1);
    for labelled in [true, false] {
        let mut text = String::new();
        let mut header: Vec<String> = (0..42 * 28).map(|i| format!("pixel{i}")).collect();
        if labelled {
            header.splice(0..0, ["first".to_string(), "second".to_string()]);
        }
        text += &header.join(",");
        text.push('\n');
        for i in 0..set.len() {
            let mut fields: Vec<String> = set.images.image(i).iter().map(u8::to_string).collect();
            if labelled {
                let labels = set.labels.of(i).iter().map(u8::to_string);
                fields.splice(0..0, labels);
            }
            text += &fields.join(",");
            text.push('\n');
        }
        let path = common::write(dir.path(), "two.csv", text.as_bytes());
        let read = read_csv(&path).unwrap();
        assert_eq!(read.images, set.images, "labelled: {labelled}");
        assert_eq!(read.labels.as_ref(), labelled.then_some(&set.labels));
    }
}
