//! Hugging Face's parquet layout: the committed fixture, the writer, the
//! folder layouts `Mnist::load` finds, and the errors of damaged files.
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mnist_data::mnist::MnistSource;
use mnist_data::parquet::{MAX_PARQUET_ROWS, read_parquet, write_parquet};
use mnist_data::{DataError, Dataset, Images, Labels, Mnist};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::parser::parse_message_type;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mnist-test-100.parquet")
}

/// The error and its message, which must name `path` and fit on one line.
fn error_naming(result: mnist_data::Result<Dataset>, path: &Path) -> (DataError, String) {
    let err = result.expect_err("the file is refused");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    (err, msg)
}

/// An 8-bit PNG of `data`, any size and colour.
fn png(width: u32, height: u32, color: png::ColorType, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(data).expect("PNG data");
    writer.finish().expect("PNG end");
    out
}

/// A parquet file in Hugging Face's layout with the given PNG bytes and
/// labels (uncompressed), for files the writer would not make.
fn write_rows(path: &Path, images: &[Vec<u8>], labels: &[i64]) {
    let schema = "message schema {
      optional group image { optional binary bytes; optional binary path (STRING); }
      optional int64 label;
    }";
    let png_files: Vec<ByteArray> = images.iter().map(|b| ByteArray::from(b.clone())).collect();
    let image_levels = vec![2; images.len()];
    let no_paths = vec![1; images.len()];
    let label_levels = vec![1; labels.len()];
    write_columns(path, schema, |column, i| match i {
        0 => column
            .typed::<ByteArrayType>()
            .write_batch(&png_files, Some(&image_levels), None),
        1 => column
            .typed::<ByteArrayType>()
            .write_batch(&[], Some(&no_paths), None),
        _ => column
            .typed::<Int64Type>()
            .write_batch(labels, Some(&label_levels), None),
    });
}

/// A one-row-group parquet file of `schema`, each column written by
/// `write(column, its index)`.
fn write_columns(
    path: &Path,
    schema: &str,
    mut write: impl FnMut(&mut SerializedColumnWriter, usize) -> parquet::errors::Result<usize>,
) {
    let schema = Arc::new(parse_message_type(schema).expect("schema"));
    let file = std::fs::File::create(path).expect("create file");
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, schema, props).expect("writer");
    let mut group = writer.next_row_group().expect("row group");
    let mut i = 0;
    while let Some(mut column) = group.next_column().expect("column") {
        write(&mut column, i).expect("column data");
        column.close().expect("column end");
        i += 1;
    }
    group.close().expect("row group end");
    writer.close().expect("file end");
}

fn digits(count: usize) -> (Vec<Vec<u8>>, Vec<i64>) {
    let test = &common::mnist().test;
    let images = (0..count)
        .map(|i| png(28, 28, png::ColorType::Grayscale, test.images.image(i)))
        .collect();
    let labels = (0..count)
        .map(|i| i64::from(test.labels.of(i)[0]))
        .collect();
    (images, labels)
}

#[test]
fn the_fixture_holds_the_first_100_test_images_exactly() {
    let set = read_parquet(&fixture()).unwrap();
    assert_eq!(set, common::mnist().test.take(100));
}

#[test]
fn written_sets_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.parquet");
    let set = common::mnist().train.take(2_500);
    write_parquet(&path, &set).unwrap();
    assert_eq!(read_parquet(&path).unwrap(), set);
    // Nothing is left beside it: the file was written through a temporary one.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn the_writer_refuses_sets_that_are_not_28x28_digits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.parquet");
    let set = Dataset::new(
        Images::new(1, 28, 42, vec![0; 28 * 42]),
        Labels::new(2, vec![1, 2]),
    );
    let err = write_parquet(&path, &set).unwrap_err().to_string();
    assert!(
        err.contains("28x42") && err.contains("two.parquet"),
        "{err}"
    );
    assert!(!path.exists());
}

#[test]
fn a_folder_with_hugging_face_files_loads_as_mnist() {
    for subfolder in ["", "mnist"] {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join(subfolder);
        std::fs::create_dir_all(&files).unwrap();
        let train = common::mnist().train.take(300);
        write_parquet(
            &files.join("train-00000-of-00002.parquet"),
            &train.take(200),
        )
        .unwrap();
        let second = train.select(&(200..300).collect::<Vec<_>>());
        write_parquet(&files.join("train-00001-of-00002.parquet"), &second).unwrap();
        std::fs::copy(fixture(), files.join("test-00000-of-00001.parquet")).unwrap();

        let mnist = Mnist::load(dir.path()).unwrap();
        assert_eq!(mnist.train, train, "shards are read in order");
        assert_eq!(mnist.test, common::mnist().test.take(100));
        let MnistSource::Parquet { train, test } = &mnist.source else {
            panic!("read from {:?}", mnist.source);
        };
        assert_eq!((train.len(), test.len()), (2, 1));
        assert_eq!(
            test[0].1,
            mnist_data::mnist::sha256_hex(&std::fs::read(fixture()).unwrap())
        );
        assert!(
            mnist
                .source
                .to_string()
                .contains("test-00000-of-00001.parquet")
        );
        assert_eq!(Mnist::load_test(dir.path()).unwrap(), mnist.test);
    }
}

#[test]
fn a_folder_with_one_split_names_the_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(), dir.path().join("train-00000-of-00001.parquet")).unwrap();
    let msg = Mnist::load(dir.path()).unwrap_err().to_string();
    assert!(msg.contains("test-00000-of-00001.parquet"), "{msg}");
}

#[test]
fn a_file_that_is_not_parquet_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = common::write(dir.path(), "digits.parquet", b"label,pixel0\n7,0\n");
    let (err, msg) = error_naming(read_parquet(&text), &text);
    assert!(matches!(err, DataError::NotParquet { .. }), "{msg}");
    assert!(msg.contains("not a parquet file"), "{msg}");

    // The fixture cut short: its footer is gone.
    let bytes = std::fs::read(fixture()).unwrap();
    let cut = common::write(dir.path(), "cut.parquet", &bytes[..bytes.len() / 2]);
    let (err, msg) = error_naming(read_parquet(&cut), &cut);
    assert!(matches!(err, DataError::NotParquet { .. }), "{msg}");
}

#[test]
fn other_columns_are_named_with_the_expected_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pixels.parquet");
    let schema = "message m { required binary pixels; required int64 digit; }";
    write_columns(&path, schema, |column, i| match i {
        0 => (column.typed::<ByteArrayType>()).write_batch(&[vec![0u8; 784].into()], None, None),
        _ => (column.typed::<Int64Type>()).write_batch(&[7], None, None),
    });

    let (err, msg) = error_naming(read_parquet(&path), &path);
    assert!(matches!(err, DataError::ParquetColumns { .. }), "{msg}");
    assert!(msg.contains("pixels") && msg.contains("digit"), "{msg}");
    assert!(
        msg.contains("image.bytes") && msg.contains("label"),
        "{msg}"
    );
}

#[test]
fn a_label_outside_0_to_9_names_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.parquet");
    let (images, mut labels) = digits(5);
    labels[3] = 10;
    write_rows(&path, &images, &labels);
    let (err, msg) = error_naming(read_parquet(&path), &path);
    assert!(matches!(err, DataError::ParquetRow { row: 3, .. }), "{msg}");
    assert!(msg.contains("row 3") && msg.contains("label 10"), "{msg}");

    labels[3] = -1;
    write_rows(&path, &images, &labels);
    let (_, msg) = error_naming(read_parquet(&path), &path);
    assert!(msg.contains("row 3") && msg.contains("label -1"), "{msg}");
}

#[test]
fn a_corrupt_png_names_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images.parquet");
    let (mut images, labels) = digits(5);
    let half = images[2].len() / 2;
    images[2].truncate(half);
    write_rows(&path, &images, &labels);
    let (err, msg) = error_naming(read_parquet(&path), &path);
    assert!(matches!(err, DataError::ParquetRow { row: 2, .. }), "{msg}");
    assert!(msg.contains("row 2") && msg.contains("PNG"), "{msg}");

    images[2] = b"not a png at all".to_vec();
    write_rows(&path, &images, &labels);
    let (_, msg) = error_naming(read_parquet(&path), &path);
    assert!(
        msg.contains("row 2: the image is not a readable PNG"),
        "{msg}"
    );
}

#[test]
fn an_image_that_is_not_a_28x28_greyscale_digit_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colour.parquet");
    let (mut images, labels) = digits(5);
    images[4] = png(32, 32, png::ColorType::Rgb, &[128; 32 * 32 * 3]);
    write_rows(&path, &images, &labels);
    let (_, msg) = error_naming(read_parquet(&path), &path);
    assert!(msg.contains("row 4"), "{msg}");
    assert!(
        msg.contains("32x32 Rgb 8-bit, expected 28x28 greyscale 8-bit"),
        "{msg}"
    );

    images[4] = png(28, 28, png::ColorType::GrayscaleAlpha, &[128; 28 * 28 * 2]);
    write_rows(&path, &images, &labels);
    let (_, msg) = error_naming(read_parquet(&path), &path);
    assert!(
        msg.contains("row 4: the image is 28x28 GrayscaleAlpha"),
        "{msg}"
    );
}

#[test]
fn too_many_rows_are_refused_before_any_image_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.parquet");
    let rows = MAX_PARQUET_ROWS + 1;
    write_rows(&path, &vec![Vec::new(); rows], &vec![0; rows]);
    let (err, msg) = error_naming(read_parquet(&path), &path);
    assert!(matches!(err, DataError::ParquetTooLarge { .. }), "{msg}");
    assert!(msg.contains(&format!("{rows} rows")), "{msg}");
}

#[test]
fn a_file_with_no_rows_holds_no_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.parquet");
    write_rows(&path, &[], &[]);
    let (err, msg) = error_naming(read_parquet(&path), &path);
    assert!(matches!(err, DataError::Empty { .. }), "{msg}");
}

#[test]
fn damaged_copies_of_the_fixture_are_errors_naming_the_file_never_panics() {
    let bytes = std::fs::read(fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.parquet");
    // Every byte of the footer (the schema and where each column is), and
    // bytes throughout the pages.
    let footer = bytes.len().saturating_sub(512)..bytes.len();
    let positions = footer.chain((0..bytes.len()).step_by(97));
    for position in positions {
        let mut damaged = bytes.clone();
        damaged[position] ^= 0x80;
        std::fs::write(&path, &damaged).unwrap();
        if let Err(err) = read_parquet(&path) {
            let msg = err.to_string();
            assert!(
                msg.contains(path.to_str().unwrap()),
                "byte {position}: {msg}"
            );
            assert!(!msg.contains('\n'), "byte {position}: {msg}");
        }
    }
}
