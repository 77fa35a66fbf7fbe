//! The IDX format (LeCun's MNIST files), for unsigned bytes and any rank:
//!
//! ```text
//! 0x00 0x00 | type (0x08 = u8) | rank | rank × u32 big-endian dimensions | data
//! ```
//!
//! Files may be plain or gzip; gzip is recognised by its magic bytes, not by
//! the file name. Writing gzips when the name ends in `.gz`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::dataset::{Dataset, Images, Labels};
use crate::error::{DataError, Result};
use crate::files::write_atomically;

const UNSIGNED_BYTE: u8 = 0x08;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An IDX array of unsigned bytes: its dimensions and its data, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads a whole file, decompressing it if it is gzip.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|source| io_error(path, source))?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    GzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DataError::CorruptGzip {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}

/// Reads an IDX file (plain or gzip) of any rank.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    parse_idx(path, read_bytes(path)?)
}

/// Parses IDX bytes; `path` is only used in error messages.
pub fn parse_idx(path: &Path, mut bytes: Vec<u8>) -> Result<IdxArray> {
    let path_buf = || path.to_path_buf();
    if bytes.len() < 4 {
        return Err(DataError::Truncated {
            path: path_buf(),
            what: "the IDX header",
            expected: 4,
            found: bytes.len(),
        });
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::BadMagic {
            path: path_buf(),
            found: [bytes[0], bytes[1]],
        });
    }
    if bytes[2] != UNSIGNED_BYTE {
        return Err(DataError::WrongType {
            path: path_buf(),
            found: bytes[2],
        });
    }
    let rank = usize::from(bytes[3]);
    if rank == 0 {
        return Err(DataError::WrongRank {
            path: path_buf(),
            expected: "at least 1".into(),
            found: 0,
        });
    }
    let header_len = 4 + 4 * rank;
    if bytes.len() < header_len {
        return Err(DataError::Truncated {
            path: path_buf(),
            what: "the IDX header",
            expected: header_len,
            found: bytes.len(),
        });
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let found = bytes.len() - header_len;
    let Some(expected) = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) else {
        return Err(DataError::DimensionMismatch {
            path: path_buf(),
            dims,
            expected: usize::MAX,
            found,
        });
    };
    if found < expected {
        return Err(DataError::Truncated {
            path: path_buf(),
            what: "the data its dimensions describe",
            expected: header_len + expected,
            found: bytes.len(),
        });
    }
    if found > expected {
        return Err(DataError::DimensionMismatch {
            path: path_buf(),
            dims,
            expected,
            found,
        });
    }
    bytes.drain(..header_len);
    Ok(IdxArray { dims, data: bytes })
}

/// Writes an IDX file atomically (temporary file, then rename); gzip if the
/// name ends in `.gz`.
pub fn write_idx(path: &Path, dims: &[usize], data: &[u8]) -> Result<()> {
    let expected: usize = dims.iter().product();
    assert_eq!(
        expected,
        data.len(),
        "IDX data does not match its dimensions"
    );
    let mut header = vec![0, 0, UNSIGNED_BYTE, dims.len() as u8];
    for &d in dims {
        let d = u32::try_from(d)
            .map_err(|_| io_error(path, std::io::Error::other("dimension does not fit in u32")))?;
        header.extend_from_slice(&d.to_be_bytes());
    }
    let gzip = path.extension().is_some_and(|e| e == "gz");
    write_atomically(path, |file| {
        if gzip {
            let mut encoder = GzEncoder::new(file, Compression::default());
            encoder.write_all(&header)?;
            encoder.write_all(data)?;
            encoder.finish()?.flush()
        } else {
            file.write_all(&header)?;
            file.write_all(data)
        }
    })
}

/// Reads an image file (rank 3: n × height × width).
pub fn read_images(path: &Path) -> Result<Images> {
    images_from_idx(path, read_idx(path)?)
}

/// Interprets a parsed IDX array from `path` as images.
pub fn images_from_idx(path: &Path, IdxArray { dims, data }: IdxArray) -> Result<Images> {
    if dims.len() != 3 {
        return Err(DataError::WrongRank {
            path: path.to_path_buf(),
            expected: "3 (images × rows × columns)".into(),
            found: dims.len(),
        });
    }
    Ok(Images::new(dims[0], dims[1], dims[2], data))
}

/// Reads a label file: rank 1 (one label per image) or rank 2 (n × heads).
/// Every label must be a digit 0–9.
pub fn read_labels(path: &Path) -> Result<Labels> {
    labels_from_idx(path, read_idx(path)?)
}

/// Interprets a parsed IDX array from `path` as labels.
pub fn labels_from_idx(path: &Path, IdxArray { dims, data }: IdxArray) -> Result<Labels> {
    let heads = match dims.as_slice() {
        [_] => 1,
        [_, heads] if *heads > 0 => *heads,
        _ => {
            return Err(DataError::WrongRank {
                path: path.to_path_buf(),
                expected: "1 (labels) or 2 (labels × heads)".into(),
                found: dims.len(),
            });
        }
    };
    if let Some(index) = data.iter().position(|&l| l > 9) {
        return Err(DataError::LabelOutOfRange {
            path: path.to_path_buf(),
            index,
            label: data[index],
        });
    }
    Ok(Labels::new(heads, data))
}

/// Reads an image file and its label file and checks they belong together.
pub fn read_dataset(images_path: &Path, labels_path: &Path) -> Result<Dataset> {
    pair(
        images_path,
        read_images(images_path)?,
        labels_path,
        read_labels(labels_path)?,
    )
}

/// Checks that images and labels (read from the two paths) belong together.
pub fn pair(
    images_path: &Path,
    images: Images,
    labels_path: &Path,
    labels: Labels,
) -> Result<Dataset> {
    if images.count != labels.count() {
        return Err(DataError::CountMismatch {
            images_path: images_path.to_path_buf(),
            images: images.count,
            labels_path: labels_path.to_path_buf(),
            labels: labels.count(),
        });
    }
    Ok(Dataset::new(images, labels))
}

/// Writes a dataset as `{prefix}-images-idx3-ubyte` and
/// `{prefix}-labels-idx1-ubyte` (one head) or `-idx2-ubyte` (several), with
/// `.gz` appended when `gzip`. Returns the two paths.
pub fn write_dataset(prefix: &Path, set: &Dataset, gzip: bool) -> Result<(PathBuf, PathBuf)> {
    let (images_path, labels_path) = dataset_paths(prefix, set.labels.heads, gzip);
    let images = &set.images;
    write_idx(
        &images_path,
        &[images.count, images.height, images.width],
        &images.pixels,
    )?;
    let labels = &set.labels;
    let label_dims = if labels.heads == 1 {
        vec![labels.count()]
    } else {
        vec![labels.count(), labels.heads]
    };
    write_idx(&labels_path, &label_dims, &labels.values)?;
    Ok((images_path, labels_path))
}

/// Reads the pair written by [`write_dataset`], plain or gzip: for each of
/// the two files, `{name}` is used if it exists, else `{name}.gz`.
pub fn read_dataset_prefix(prefix: &Path, heads: usize) -> Result<Dataset> {
    let (images, labels) = dataset_paths(prefix, heads, false);
    read_dataset(&plain_or_gz(images)?, &plain_or_gz(labels)?)
}

fn dataset_paths(prefix: &Path, heads: usize, gzip: bool) -> (PathBuf, PathBuf) {
    let gz = if gzip { ".gz" } else { "" };
    let label_rank = if heads == 1 { 1 } else { 2 };
    let with = |suffix: String| {
        let mut name = prefix.as_os_str().to_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    (
        with(format!("-images-idx3-ubyte{gz}")),
        with(format!("-labels-idx{label_rank}-ubyte{gz}")),
    )
}

/// `path` if it exists, else `path.gz` if that exists, else a missing-file error.
pub(crate) fn plain_or_gz(path: PathBuf) -> Result<PathBuf> {
    if path.exists() {
        return Ok(path);
    }
    let mut gz = path.clone().into_os_string();
    gz.push(".gz");
    let gz = PathBuf::from(gz);
    if gz.exists() {
        return Ok(gz);
    }
    Err(DataError::MissingFile {
        hint: format!(
            "neither it nor {} exists",
            gz.file_name().unwrap_or_default().to_string_lossy()
        ),
        path,
    })
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> DataError {
    if source.kind() == std::io::ErrorKind::NotFound {
        DataError::MissingFile {
            path: path.to_path_buf(),
            hint: "no such file".into(),
        }
    } else {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
