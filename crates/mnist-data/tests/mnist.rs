//! The committed MNIST files: counts, shapes, labels, checksums.
mod common;

use mnist_data::{DataError, Mnist, mnist};

#[test]
fn mnist_has_60000_training_and_10000_test_images_of_28x28() {
    let m = common::mnist();
    for (set, count) in [(&m.train, 60_000), (&m.test, 10_000)] {
        assert_eq!(set.len(), count);
        assert_eq!((set.images.height, set.images.width), (28, 28));
        assert_eq!(set.images.pixels.len(), count * 784);
        assert_eq!(set.labels.heads, 1);
        assert!(set.labels.values.iter().all(|&l| l <= 9));
        // Every digit occurs: a sanity check that labels are not all one value.
        for digit in 0..10 {
            assert!(set.labels.values.contains(&digit), "digit {digit} missing");
        }
    }
}

#[test]
fn first_training_label_is_5_and_first_test_label_is_7() {
    let m = common::mnist();
    assert_eq!(m.train.labels.of(0), [5]);
    assert_eq!(m.test.labels.of(0), [7]);
}

#[test]
fn images_scale_to_unit_interval() {
    let m = common::mnist();
    let first = m.test.take(1).images.to_f32();
    assert_eq!(first.len(), 784);
    assert!(first.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_eq!(first.iter().copied().fold(0.0, f32::max), 1.0);
    let raw = m.test.images.image(0);
    for (f, &u) in first.iter().zip(raw) {
        assert_eq!(*f, f32::from(u) / 255.0);
    }
}

#[test]
fn committed_checksum_list_covers_the_four_files_and_matches_shared_copy() {
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        let sum = mnist::expected_sha256(name).expect("listed");
        assert_eq!(sum.len(), 64);
    }
    assert_eq!(
        mnist::expected_sha256("t10k-labels-idx1-ubyte"),
        Some("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")
    );
}

#[test]
fn missing_directory_says_where_the_data_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    assert!(matches!(err, DataError::MissingFile { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("train-images-idx3-ubyte.gz"), "{msg}");
    assert!(msg.contains("datasets/mnist"), "{msg}");
}

#[test]
fn altered_file_fails_its_checksum_with_expected_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = mnist::default_dir();
    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
        std::fs::copy(src.join(name), dir.path().join(name)).unwrap();
    }
    // Test labels, decompressed, with one label changed: still a valid IDX
    // file, so only the checksum can catch it.
    let mut labels =
        mnist_data::idx::read_idx_bytes(&src.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    labels[8] = (labels[8] + 1) % 10;
    common::write(dir.path(), "t10k-labels-idx1-ubyte", &labels);
    std::fs::copy(
        src.join("t10k-images-idx3-ubyte.gz"),
        dir.path().join("t10k-images-idx3-ubyte.gz"),
    )
    .unwrap();

    let err = Mnist::load(dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{msg}");
    assert!(msg.contains("t10k-labels-idx1-ubyte"), "{msg}");
    assert!(
        msg.contains("expected ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        "{msg}"
    );
    assert!(msg.contains("found "), "{msg}");
}

#[test]
fn plain_uncompressed_files_load_too() {
    let dir = tempfile::tempdir().unwrap();
    let src = mnist::default_dir();
    for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        let bytes = mnist_data::idx::read_idx_bytes(&src.join(format!("{name}.gz"))).unwrap();
        common::write(dir.path(), name, &bytes);
    }
    let test = mnist::load_split(dir.path(), "t10k").unwrap();
    assert_eq!(test, common::mnist().test);
}

#[test]
fn the_workspace_is_found_from_any_folder_inside_it() {
    let course = tempfile::tempdir().unwrap();
    let root = course.path();
    std::fs::create_dir_all(root.join("datasets/mnist")).unwrap();
    std::fs::write(root.join("datasets/mnist/SHA256SUMS"), "").unwrap();
    std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
    let deep = root.join("crates/cnn/src");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(
        mnist_data::mnist::find_workspace(&deep).as_deref(),
        Some(root)
    );
    assert_eq!(
        mnist_data::mnist::find_workspace(root).as_deref(),
        Some(root)
    );
    let elsewhere = tempfile::tempdir().unwrap();
    assert_eq!(mnist_data::mnist::find_workspace(elsewhere.path()), None);
}
