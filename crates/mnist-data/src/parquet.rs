//! MNIST as Hugging Face publishes it (`mnist/train-00000-of-00001.parquet`,
//! `mnist/test-00000-of-00001.parquet`): a parquet file with one row per
//! digit and two columns,
//!
//! ```text
//! image: struct { bytes: binary (a PNG file), path: string (may be null) }
//! label: int64
//! ```
//!
//! Parquet stores each column on its own, so the reader walks the
//! `image.bytes` and `label` columns side by side, a batch of rows at a
//! time, and decodes each PNG into 28×28 greyscale pixels. The file, its
//! rows and each PNG are capped, so a damaged or hostile file cannot make
//! the reader allocate much more than the digits it holds.

use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Compression, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::dataset::{Dataset, Images, Labels};
use crate::error::io_error;
use crate::error::{DataError, Result};
use crate::files::write_bytes_atomically;

const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;

/// The most rows read: MNIST's 70,000 digits and room to spare (as the CSV
/// reader's limit).
pub const MAX_PARQUET_ROWS: usize = 100_000;

/// The largest file read (256 MiB): Hugging Face's MNIST files are 15 MB
/// (train) and 2.5 MB (test).
pub const MAX_PARQUET_BYTES: u64 = 256 << 20;

/// The most memory the PNG decoder may take for one image: a 28×28 digit
/// needs a few kilobytes.
const MAX_PNG_DECODER_BYTES: usize = 1 << 20;

/// Rows decoded per batch.
const BATCH_ROWS: usize = 1024;

/// Hugging Face's layout, as a parquet schema (what pyarrow writes for it).
const SCHEMA: &str = "
message schema {
  optional group image {
    optional binary bytes;
    optional binary path (STRING);
  }
  optional int64 label;
}";

/// What the columns must be, for error messages.
const EXPECTED_COLUMNS: &str =
    "image.bytes (binary: a PNG), image.path (string, optional) and label (int64)";

/// The `datasets` library's description of the columns, so that Hugging
/// Face's tools read `label` as a class and `image` as an image.
const HUGGING_FACE_FEATURES: &str = r#"{"info": {"features": {"image": {"_type": "Image"}, "label": {"names": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], "_type": "ClassLabel"}}}}"#;

/// Reads a parquet file in Hugging Face's MNIST layout: 28×28 greyscale
/// digits, one label 0–9 each. Rows are numbered from 0 in error messages,
/// as images are everywhere else.
pub fn read_parquet(path: &Path) -> Result<Dataset> {
    without_panics(path, || read_checked(path))
}

/// Runs `read`, which hands the file to the parquet crate: some damaged
/// files make it panic (a page that needs a dictionary the file lacks), and
/// that panic becomes an error naming the file.
fn without_panics(path: &Path, read: impl FnOnce() -> Result<Dataset>) -> Result<Dataset> {
    crate::files::without_panics(read).unwrap_or_else(|message| {
        Err(DataError::ParquetData {
            path: path.to_path_buf(),
            message,
        })
    })
}

/// [`read_parquet`]'s work, checking everything it can before the parquet
/// crate decodes a page.
fn read_checked(path: &Path) -> Result<Dataset> {
    let file = std::fs::File::open(path).map_err(|source| io_error(path, source))?;
    let size = (file.metadata())
        .map_err(|source| io_error(path, source))?
        .len();
    if size > MAX_PARQUET_BYTES {
        return Err(DataError::ParquetTooLarge {
            path: path.to_path_buf(),
            what: format!("{size} bytes, above the limit of {MAX_PARQUET_BYTES}"),
        });
    }
    let reader = SerializedFileReader::new(file).map_err(|e| DataError::NotParquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let columns = Columns::find(path, &reader)?;
    let rows = reader.metadata().file_metadata().num_rows();
    let rows = match usize::try_from(rows) {
        Ok(rows) if rows <= MAX_PARQUET_ROWS => rows,
        _ => {
            return Err(DataError::ParquetTooLarge {
                path: path.to_path_buf(),
                what: format!("{rows} rows, above the limit of {MAX_PARQUET_ROWS}"),
            });
        }
    };
    if rows == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }

    // Every row group's rows, as its metadata says, add up to the file's:
    // the reader then never decodes more rows than were checked above.
    let groups = reader.metadata().row_groups();
    let group_rows = (groups.iter()).try_fold(0i64, |sum, group| match group.num_rows() {
        n if n >= 0 => sum.checked_add(n),
        _ => None,
    });
    if group_rows != Some(rows as i64) {
        return Err(DataError::ParquetData {
            path: path.to_path_buf(),
            message: format!("its row groups do not hold the {rows} rows its footer says"),
        });
    }

    let mut pixels = Vec::with_capacity(rows * PIXELS);
    let mut labels = Vec::with_capacity(rows);
    for group in 0..reader.num_row_groups() {
        let group = reader.get_row_group(group).map_err(|e| damaged(path, e))?;
        read_row_group(path, group.as_ref(), &columns, &mut pixels, &mut labels)?;
    }
    Ok(Dataset::new(
        Images::new(rows, SIDE, SIDE, pixels),
        Labels::new(1, labels),
    ))
}

/// The two columns read: where they are among the file's leaf columns, and
/// their definition level when a row has a value (0 when they cannot be
/// null).
struct Columns {
    image_bytes: (usize, i16),
    label: (usize, i16),
}

impl Columns {
    /// Checks the schema is Hugging Face's: `image.bytes`, `image.path`
    /// (which may be left out) and `label`, none repeated.
    fn find(path: &Path, reader: &SerializedFileReader<std::fs::File>) -> Result<Self> {
        let schema = reader.metadata().file_metadata().schema_descr();
        let mut image_bytes = None;
        let mut label = None;
        let mut others = false;
        for (i, column) in schema.columns().iter().enumerate() {
            let integer = matches!(
                column.physical_type(),
                PhysicalType::INT64 | PhysicalType::INT32
            );
            let binary = column.physical_type() == PhysicalType::BYTE_ARRAY;
            let found = Some((i, column.max_def_level()));
            match column.path().string().as_str() {
                _ if column.max_rep_level() > 0 => others = true,
                "image.bytes" if binary => image_bytes = found,
                "image.path" if binary => {}
                "label" if integer => label = found,
                _ => others = true,
            }
        }
        match (image_bytes, label, others) {
            (Some(image_bytes), Some(label), false) => Ok(Self { image_bytes, label }),
            _ => Err(DataError::ParquetColumns {
                path: path.to_path_buf(),
                found: (schema.columns().iter())
                    .map(|c| format!("{} ({})", c.path().string(), c.physical_type()))
                    .collect::<Vec<_>>()
                    .join(", "),
                expected: EXPECTED_COLUMNS,
            }),
        }
    }
}

/// Decodes one row group's images and labels, appending them to `pixels`
/// and `labels`, a batch of rows at a time.
fn read_row_group(
    path: &Path,
    group: &dyn RowGroupReader,
    columns: &Columns,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u8>,
) -> Result<()> {
    let column = |i| group.get_column_reader(i).map_err(|e| damaged(path, e));
    let mut images = match column(columns.image_bytes.0)? {
        ColumnReader::ByteArrayColumnReader(reader) => reader,
        _ => unreachable!("image.bytes was checked to be binary"),
    };
    let mut label_column = LabelColumn::new(column(columns.label.0)?);
    let group_rows = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
    let mut levels = Vec::new();
    let mut done = 0;
    while done < group_rows {
        let first_row = labels.len();
        let batch = BATCH_ROWS.min(group_rows - done);
        let mut png_files = Vec::new();
        levels.clear();
        (images.read_records(batch, Some(&mut levels), None, &mut png_files))
            .map_err(|e| damaged(path, e))?;
        let png_files = by_row(png_files, &levels, columns.image_bytes.1);
        let batch_labels = label_column.read(path, batch, columns.label.1)?;
        let rows = png_files.len().min(batch_labels.len());
        if rows < batch {
            return Err(DataError::ParquetData {
                path: path.to_path_buf(),
                message: format!("its columns end at row {}", first_row + rows),
            });
        }
        for (i, (png, label)) in png_files.into_iter().zip(batch_labels).enumerate() {
            let row_error = |problem: String| DataError::ParquetRow {
                path: path.to_path_buf(),
                row: first_row + i,
                problem,
            };
            let Some(png) = png else {
                return Err(row_error("the image has no bytes (null)".into()));
            };
            let label = match label {
                Some(label @ 0..=9) => label as u8,
                Some(label) => return Err(row_error(format!("label {label} is not a digit 0-9"))),
                None => return Err(row_error("the label is null".into())),
            };
            decode_digit(png.data(), pixels).map_err(row_error)?;
            labels.push(label);
        }
        done += batch;
    }
    Ok(())
}

/// Pairs a batch's values with its rows, `None` for a null row: `levels`
/// holds each row's definition level, and only rows at `max_level` have a
/// value. A column that cannot be null (`max_level` 0) has no levels.
fn by_row<T>(values: Vec<T>, levels: &[i16], max_level: i16) -> Vec<Option<T>> {
    if max_level == 0 {
        return values.into_iter().map(Some).collect();
    }
    let mut values = values.into_iter();
    (levels.iter())
        .map(|&level| {
            if level == max_level {
                values.next()
            } else {
                None
            }
        })
        .collect()
}

/// The label column, whether the file stores it as int64 (Hugging Face) or
/// int32.
enum LabelColumn {
    Int64(ColumnReaderImpl<Int64Type>),
    Int32(ColumnReaderImpl<Int32Type>),
}

impl LabelColumn {
    fn new(reader: ColumnReader) -> Self {
        match reader {
            ColumnReader::Int32ColumnReader(reader) => Self::Int32(reader),
            ColumnReader::Int64ColumnReader(reader) => Self::Int64(reader),
            _ => unreachable!("label was checked to be an integer"),
        }
    }

    /// The next `rows` labels (fewer at the column's end), `None` for null.
    fn read(&mut self, path: &Path, rows: usize, max_level: i16) -> Result<Vec<Option<i64>>> {
        let mut levels = Vec::new();
        let values = match self {
            Self::Int64(reader) => {
                let mut values = Vec::new();
                (reader.read_records(rows, Some(&mut levels), None, &mut values))
                    .map_err(|e| damaged(path, e))?;
                values
            }
            Self::Int32(reader) => {
                let mut values = Vec::new();
                (reader.read_records(rows, Some(&mut levels), None, &mut values))
                    .map_err(|e| damaged(path, e))?;
                values.into_iter().map(i64::from).collect()
            }
        };
        Ok(by_row(values, &levels, max_level))
    }
}

/// Decodes a PNG that must be a 28×28, 8-bit greyscale digit, appending its
/// pixels to `pixels`; otherwise says what the image is.
fn decode_digit(png: &[u8], pixels: &mut Vec<u8>) -> Result<(), String> {
    let not_png = |e: png::DecodingError| format!("the image is not a readable PNG: {e}");
    let limits = png::Limits {
        bytes: MAX_PNG_DECODER_BYTES,
    };
    let mut decoder = png::Decoder::new_with_limits(std::io::Cursor::new(png), limits);
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(not_png)?;
    let info = reader.info();
    let kind = (info.width, info.height, info.color_type, info.bit_depth);
    if kind != (28, 28, png::ColorType::Grayscale, png::BitDepth::Eight) {
        return Err(format!(
            "the image is {}x{} {:?} {}-bit, expected 28x28 greyscale 8-bit",
            info.width, info.height, info.color_type, info.bit_depth as u8
        ));
    }
    let start = pixels.len();
    pixels.resize(start + PIXELS, 0);
    reader.next_frame(&mut pixels[start..]).map_err(not_png)?;
    Ok(())
}

/// A parquet error while reading rows: the file is damaged.
fn damaged(path: &Path, error: parquet::errors::ParquetError) -> DataError {
    DataError::ParquetData {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// Writes `set` (28×28 digits, one label each) as a parquet file in Hugging
/// Face's layout, snappy-compressed as theirs are, each image a PNG with no
/// path. Atomic: a temporary file, then a rename.
pub fn write_parquet(path: &Path, set: &Dataset) -> Result<()> {
    let invalid = |message: String| io_error(path, std::io::Error::other(message));
    let images = &set.images;
    if (images.height, images.width, set.labels.heads) != (SIDE, SIDE, 1) {
        return Err(invalid(format!(
            "the set has {}x{} images with {} labels each; the parquet layout holds 28x28 \
             digits with one label",
            images.height, images.width, set.labels.heads
        )));
    }
    let bytes = parquet_bytes(set).map_err(|e| invalid(e.to_string()))?;
    write_bytes_atomically(path, &bytes)
}

/// The parquet file [`write_parquet`] writes, in memory.
fn parquet_bytes(set: &Dataset) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let metadata = KeyValue::new("huggingface".into(), HUGGING_FACE_FEATURES.to_string());
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![metadata]))
        .build();
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, Arc::new(properties))?;
    let mut group = writer.next_row_group()?;
    let rows = set.len();

    // Definition levels: 2 = image and its bytes present; 1 = image present,
    // path null; 1 = label present (it sits one level deep).
    let png_files = (0..rows)
        .map(|i| encode_digit(set.images.image(i)).map(ByteArray::from))
        .collect::<Result<Vec<_>, _>>()?;
    let columns: [(Vec<ByteArray>, Vec<i16>); 2] =
        [(png_files, vec![2; rows]), (Vec::new(), vec![1; rows])];
    for (values, levels) in columns {
        let mut column = group
            .next_column()?
            .ok_or("the schema has too few columns")?;
        column
            .typed::<ByteArrayType>()
            .write_batch(&values, Some(&levels), None)?;
        column.close()?;
    }
    let labels: Vec<i64> = set.labels.values.iter().map(|&l| i64::from(l)).collect();
    let mut column = group
        .next_column()?
        .ok_or("the schema has too few columns")?;
    column
        .typed::<Int64Type>()
        .write_batch(&labels, Some(&vec![1; rows]), None)?;
    column.close()?;
    group.close()?;
    Ok(writer.into_inner()?)
}

/// A 28×28 greyscale digit as an 8-bit greyscale PNG.
fn encode_digit(pixels: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, SIDE as u32, SIDE as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(png)
}
