//! IDX reading and writing, and every malformed file the reader must name.
mod common;

use std::path::Path;

use common::{gzip, idx_bytes, write};
use mnist_data::idx::{self, read_dataset, read_idx, read_images, read_labels};
use mnist_data::{DataError, Dataset, Images, Labels};

fn err_msg(result: Result<impl std::fmt::Debug, DataError>) -> (DataError, String) {
    let err = result.expect_err("malformed input must fail");
    let msg = err.to_string();
    (err, msg)
}

#[test]
fn reads_any_rank_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..24).collect();
    for (dims, name) in [
        (vec![24u32], "r1"),
        (vec![12, 2], "r2"),
        (vec![2, 3, 4], "r3"),
        (vec![1, 2, 3, 4], "r4"),
    ] {
        let bytes = idx_bytes(0x08, &dims, &data);
        let plain = write(dir.path(), name, &bytes);
        let gz = write(dir.path(), &format!("{name}.gz"), &gzip(&bytes));
        for path in [plain, gz] {
            let array = read_idx(&path).unwrap();
            assert_eq!(
                array.dims,
                dims.iter().map(|&d| d as usize).collect::<Vec<_>>()
            );
            assert_eq!(array.data, data);
        }
    }
}

#[test]
fn dataset_written_as_idx_reads_back_identical_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let set = common::mnist().test.take(50);
    for gzip in [false, true] {
        let prefix = dir.path().join(if gzip { "gz" } else { "plain" });
        let (images, labels) = idx::write_dataset(&prefix, &set, gzip).unwrap();
        assert_eq!(images.to_string_lossy().ends_with(".gz"), gzip);
        assert!(labels.to_string_lossy().contains("labels-idx1-ubyte"));
        assert_eq!(read_dataset(&images, &labels).unwrap(), set);
        assert_eq!(idx::read_dataset_prefix(&prefix, 1).unwrap(), set);
    }
    // Readable by everyone, like any file a program writes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("plain-images-idx3-ubyte"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }
    // Nothing but the two files: no temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn missing_file_is_named() {
    let (err, msg) = err_msg(read_idx(Path::new("/no/such/dir/x-images-idx3-ubyte")));
    assert!(matches!(err, DataError::MissingFile { .. }));
    assert!(msg.contains("/no/such/dir/x-images-idx3-ubyte"), "{msg}");
}

#[test]
fn bad_magic() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "magic", &[0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0]);
    let (err, msg) = err_msg(read_idx(&path));
    assert!(matches!(err, DataError::BadMagic { .. }));
    assert!(
        msg.contains("magic") && msg.contains("12, 34") && msg.contains("magic"),
        "{msg}"
    );
}

#[test]
fn wrong_type_byte() {
    let dir = tempfile::tempdir().unwrap();
    // 0x0D is IDX's float type: a real IDX file, but not the u8 data we read.
    let path = write(dir.path(), "float", &idx_bytes(0x0D, &[1], &[0, 0, 0, 0]));
    let (err, msg) = err_msg(read_idx(&path));
    assert!(matches!(err, DataError::WrongType { found: 0x0d, .. }));
    assert!(msg.contains("float") && msg.contains("0x0d"), "{msg}");
}

#[test]
fn truncated_header_and_truncated_data() {
    let dir = tempfile::tempdir().unwrap();
    let short_header = write(dir.path(), "short-header", &[0, 0, 8, 3, 0, 0, 0, 2]);
    let (err, msg) = err_msg(read_idx(&short_header));
    assert!(matches!(err, DataError::Truncated { .. }));
    assert!(
        msg.contains("short-header") && msg.contains("truncated") && msg.contains("header"),
        "{msg}"
    );

    let short_data = write(
        dir.path(),
        "short-data",
        &idx_bytes(8, &[2, 28, 28], &[0; 1000]),
    );
    let (err, msg) = err_msg(read_idx(&short_data));
    assert!(
        matches!(
            err,
            DataError::Truncated {
                expected: 1584,
                found: 1016,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("short-data") && msg.contains("1584"), "{msg}");

    let empty = write(dir.path(), "empty", &[]);
    assert!(matches!(read_idx(&empty), Err(DataError::Truncated { .. })));
}

#[test]
fn dimensions_that_do_not_match_the_file_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "long", &idx_bytes(8, &[2, 2], &[1, 2, 3, 4, 5]));
    let (err, msg) = err_msg(read_idx(&path));
    assert!(
        matches!(
            err,
            DataError::DimensionMismatch {
                expected: 4,
                found: 5,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("long") && msg.contains("[2, 2]"), "{msg}");
}

#[test]
fn wrong_rank_for_images_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let flat = write(dir.path(), "flat-images", &idx_bytes(8, &[4], &[0; 4]));
    let (err, msg) = err_msg(read_images(&flat));
    assert!(matches!(err, DataError::WrongRank { found: 1, .. }));
    assert!(
        msg.contains("flat-images") && msg.contains("rank is 1, expected 3"),
        "{msg}"
    );

    let cube = write(dir.path(), "cube-labels", &idx_bytes(8, &[1, 1, 1], &[0]));
    let (_, msg) = err_msg(read_labels(&cube));
    assert!(
        msg.contains("cube-labels") && msg.contains("rank is 3"),
        "{msg}"
    );
}

#[test]
fn image_and_label_count_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let images = write(dir.path(), "img", &idx_bytes(8, &[3, 2, 2], &[0; 12]));
    let labels = write(dir.path(), "lab", &idx_bytes(8, &[2], &[1, 2]));
    let (err, msg) = err_msg(read_dataset(&images, &labels));
    assert!(matches!(
        err,
        DataError::CountMismatch {
            images: 3,
            labels: 2,
            ..
        }
    ));
    assert!(
        msg.contains("lab") && msg.contains("2 labels for 3 images"),
        "{msg}"
    );
}

#[test]
fn label_above_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "labels-ten", &idx_bytes(8, &[3], &[1, 10, 2]));
    let (err, msg) = err_msg(read_labels(&path));
    assert!(matches!(
        err,
        DataError::LabelOutOfRange {
            index: 1,
            label: 10,
            ..
        }
    ));
    assert!(
        msg.contains("labels-ten") && msg.contains("label 10 at index 1 is above 9"),
        "{msg}"
    );
}

#[test]
fn corrupt_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = gzip(&idx_bytes(8, &[100], &[7; 100]));
    let n = bytes.len();
    bytes.truncate(n - 12); // cut into the stream and its trailer
    let path = write(dir.path(), "broken.gz", &bytes);
    let (err, msg) = err_msg(read_idx(&path));
    assert!(matches!(err, DataError::CorruptGzip { .. }));
    assert!(
        msg.contains("broken.gz") && msg.contains("corrupt gzip"),
        "{msg}"
    );
}

#[test]
fn huge_dimensions_do_not_overflow_or_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "huge",
        &idx_bytes(8, &[u32::MAX, u32::MAX, u32::MAX], &[0; 8]),
    );
    assert!(read_idx(&path).is_err());
}

#[test]
fn label_pairs_are_rank_2() {
    let set = Dataset::new(
        Images::new(2, 1, 1, vec![3, 4]),
        Labels::new(2, vec![1, 2, 3, 4]),
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, labels) = idx::write_dataset(&dir.path().join("pairs"), &set, false).unwrap();
    assert!(
        labels
            .to_string_lossy()
            .ends_with("pairs-labels-idx2-ubyte")
    );
    assert_eq!(read_idx(&labels).unwrap().dims, vec![2, 2]);
    let back = read_labels(&labels).unwrap();
    assert_eq!(back.of(1), [3, 4]);
    assert_eq!(back.head(1), vec![2, 4]);
}

#[test]
fn gzip_is_recognised_by_its_magic_bytes_not_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = idx_bytes(8, &[2, 2], &[1, 2, 3, 4]);
    let path = write(dir.path(), "no-gz-suffix", &gzip(&bytes));
    assert_eq!(read_idx(&path).unwrap().data, vec![1, 2, 3, 4]);
}

#[test]
fn a_set_with_no_images_or_no_pixels_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let labels = write(dir.path(), "none-labels", &idx_bytes(8, &[0], &[]));
    let images = write(dir.path(), "none-images", &idx_bytes(8, &[0, 28, 28], &[]));
    let (err, msg) = err_msg(read_dataset(&images, &labels));
    assert!(matches!(err, DataError::Empty { .. }), "{msg}");
    assert!(
        msg.contains("none-images") && msg.contains("holds no images"),
        "{msg}"
    );

    let flat = write(dir.path(), "flat-images", &idx_bytes(8, &[3, 0, 28], &[]));
    let (err, msg) = err_msg(read_images(&flat));
    assert!(matches!(err, DataError::NoPixels { .. }), "{msg}");
    assert!(
        msg.contains("flat-images") && msg.contains("[3, 0, 28]"),
        "{msg}"
    );
}

#[test]
fn labels_of_the_wrong_rank_name_the_file_and_its_shape() {
    let dir = tempfile::tempdir().unwrap();
    let cube = write(
        dir.path(),
        "cube-labels",
        &idx_bytes(8, &[2, 3, 1], &[0; 6]),
    );
    let (_, msg) = err_msg(read_labels(&cube));
    assert!(
        msg.contains("cube-labels")
            && msg.contains("[2, 3, 1]")
            && msg.contains("one label per item"),
        "{msg}"
    );
    let no_heads = write(dir.path(), "no-heads", &idx_bytes(8, &[2, 0], &[]));
    let (err, msg) = err_msg(read_labels(&no_heads));
    assert!(matches!(err, DataError::LabelShape { .. }), "{msg}");
    assert!(msg.contains("no-heads") && msg.contains("[2, 0]"), "{msg}");
}

#[test]
fn arrays_built_by_hand_with_the_wrong_length_are_errors() {
    let path = Path::new("by-hand");
    let array = idx::IdxArray {
        dims: vec![2, 2, 2],
        data: vec![0; 3],
    };
    let (err, msg) = err_msg(idx::images_from_idx(path, array.clone()));
    assert!(matches!(err, DataError::DimensionMismatch { .. }), "{msg}");
    assert!(msg.contains("by-hand"), "{msg}");
    let labels = idx::IdxArray {
        dims: vec![4],
        data: vec![0; 3],
    };
    assert!(idx::labels_from_idx(path, labels).is_err());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mismatch");
    let (_, msg) = err_msg(idx::write_idx(&out, &array.dims, &array.data));
    assert!(msg.contains("mismatch"), "{msg}");
    assert!(!out.exists());
}

#[test]
fn a_folder_is_not_a_dataset_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let set = Dataset::new(Images::new(1, 1, 1, vec![3]), Labels::new(1, vec![4]));
    let with_slash = format!("{}/", dir.path().display());
    for prefix in [Path::new(&with_slash), dir.path()] {
        let (err, msg) = err_msg(idx::write_dataset(prefix, &set, false));
        assert!(matches!(err, DataError::NotAPrefix { .. }), "{msg}");
        assert!(msg.contains("file prefix"), "{msg}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
