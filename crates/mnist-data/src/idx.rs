//! The IDX format (LeCun's MNIST files), for unsigned bytes and any rank:
//!
//! ```text
//! 0x00 0x00 | type (0x08 = u8) | rank | rank × u32 big-endian dimensions | data
//! ```
//!
//! Files may be plain or gzip; gzip is recognised by its magic bytes, not by
//! the file name. Writing gzips when the name ends in `.gz`.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::dataset::{Dataset, Images, Labels};
use crate::error::{DataError, Result, io_error};
use crate::files::write_atomically;

const UNSIGNED_BYTE: u8 = 0x08;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most data bytes an IDX file may declare (1 GiB): far above MNIST's
/// largest file (47 MB), small enough to hold in memory. A header declaring
/// more is rejected before anything is allocated.
pub const MAX_IDX_DATA_BYTES: usize = 1 << 30;

/// Past the declared data, at most this many extra bytes are counted for the
/// error message; the rest of the file is not read.
const TRAILING_COUNT_LIMIT: u64 = 1 << 20;

/// An IDX array of unsigned bytes: its dimensions and its data, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// A file opened for reading, decompressed on the fly if it is gzip.
pub(crate) struct Source<'a> {
    path: &'a Path,
    reader: Box<dyn Read>,
    /// Whether the file starts with gzip's magic bytes.
    pub gzip: bool,
    /// Size on disk.
    pub len: u64,
}

impl<'a> Source<'a> {
    /// Opens `path`; gzip is recognised by its magic bytes, whatever the name.
    pub(crate) fn open(path: &'a Path) -> Result<Self> {
        let file = File::open(path).map_err(|source| io_error(path, source))?;
        let len = file
            .metadata()
            .map_err(|source| io_error(path, source))?
            .len();
        let mut file = BufReader::new(file);
        let mut start = Vec::with_capacity(2);
        // Read the two magic bytes, then put them back in front of the rest.
        (&mut file)
            .take(2)
            .read_to_end(&mut start)
            .map_err(|source| io_error(path, source))?;
        let gzip = start == GZIP_MAGIC;
        let rest = std::io::Cursor::new(start).chain(file);
        let reader: Box<dyn Read> = if gzip {
            Box::new(GzDecoder::new(rest))
        } else {
            Box::new(rest)
        };
        Ok(Self {
            path,
            reader,
            gzip,
            len,
        })
    }

    /// Appends up to `n` more (decompressed) bytes to `buf`; returns how many.
    pub(crate) fn read_up_to(&mut self, n: u64, buf: &mut Vec<u8>) -> Result<usize> {
        (&mut self.reader)
            .take(n)
            .read_to_end(buf)
            .map_err(|source| self.read_error(source))
    }

    /// The reader itself, for streaming; map its errors with [`Self::read_error`].
    pub(crate) fn reader(&mut self) -> &mut dyn Read {
        &mut self.reader
    }

    /// A read error: a corrupt stream if gzip, else an I/O error.
    pub(crate) fn read_error(&self, source: std::io::Error) -> DataError {
        read_error(self.path, self.gzip, source)
    }
}

/// A read error from `path`: a corrupt stream if `gzip`, else an I/O error.
pub(crate) fn read_error(path: &Path, gzip: bool, source: std::io::Error) -> DataError {
    if gzip {
        DataError::CorruptGzip {
            path: path.to_path_buf(),
            source,
        }
    } else {
        io_error(path, source)
    }
}

/// An IDX header: dimensions, header length and declared data length.
struct Header {
    dims: Vec<usize>,
    len: usize,
    data_len: usize,
}

/// Checks the first four bytes (magic, type, rank) and returns the rank.
fn check_start(path: &Path, start: &[u8]) -> Result<usize> {
    let path_buf = || path.to_path_buf();
    if start.len() < 4 {
        return Err(DataError::Truncated {
            path: path_buf(),
            what: "the IDX header",
            expected: 4,
            found: start.len(),
        });
    }
    if start[0] != 0 || start[1] != 0 {
        return Err(DataError::BadMagic {
            path: path_buf(),
            found: [start[0], start[1]],
        });
    }
    if start[2] != UNSIGNED_BYTE {
        return Err(DataError::WrongType {
            path: path_buf(),
            found: start[2],
        });
    }
    let rank = usize::from(start[3]);
    if rank == 0 {
        return Err(DataError::WrongRank {
            path: path_buf(),
            expected: "at least 1".into(),
            found: 0,
            dims: Vec::new(),
        });
    }
    Ok(rank)
}

/// Parses a complete header (`bytes` holds at least `4 + 4 × rank` bytes)
/// and checks the data it declares is within [`MAX_IDX_DATA_BYTES`].
fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let rank = check_start(path, bytes)?;
    let len = 4 + 4 * rank;
    if bytes.len() < len {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            what: "the IDX header",
            expected: len,
            found: bytes.len(),
        });
    }
    let dims: Vec<usize> = bytes[4..len]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    match dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) {
        Some(data_len) if data_len <= MAX_IDX_DATA_BYTES => Ok(Header {
            dims,
            len,
            data_len,
        }),
        declared => Err(DataError::TooLarge {
            path: path.to_path_buf(),
            dims,
            declared: declared.map_or_else(|| "more than 2^64".into(), |n| n.to_string()),
            limit: MAX_IDX_DATA_BYTES,
        }),
    }
}

/// Reads an IDX file (plain or gzip): its header, then exactly the data the
/// header declares. Returns the decompressed content, header and data. Never
/// holds more than the declared size (itself capped) in memory.
pub fn read_idx_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut source = Source::open(path)?;
    let mut bytes = Vec::with_capacity(4);
    source.read_up_to(4, &mut bytes)?;
    let rank = check_start(path, &bytes)?;
    source.read_up_to(4 * rank as u64, &mut bytes)?;
    let header = parse_header(path, &bytes)?;
    // Allocate what the file can plausibly hold, growing only as data comes.
    let plausible = if source.gzip {
        source.len.saturating_mul(8)
    } else {
        source.len
    };
    let capacity = header
        .data_len
        .min(usize::try_from(plausible).unwrap_or(usize::MAX));
    bytes.reserve_exact(capacity);
    let found = source.read_up_to(header.data_len as u64, &mut bytes)?;
    if found < header.data_len {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            what: "the data its dimensions describe",
            expected: header.len + header.data_len,
            found: bytes.len(),
        });
    }
    let extra = std::io::copy(
        &mut source.reader().take(TRAILING_COUNT_LIMIT),
        &mut std::io::sink(),
    )
    .map_err(|e| source.read_error(e))?;
    if extra > 0 {
        let dims = header.dims;
        let expected = header.data_len;
        return Err(if extra < TRAILING_COUNT_LIMIT {
            DataError::DimensionMismatch {
                path: path.to_path_buf(),
                dims,
                expected,
                found: expected + extra as usize,
            }
        } else {
            DataError::TrailingData {
                path: path.to_path_buf(),
                dims,
                expected,
                found_over: expected + extra as usize,
            }
        });
    }
    Ok(bytes)
}

/// Reads an IDX file (plain or gzip) of any rank.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    parse_idx(path, read_idx_bytes(path)?)
}

/// Parses IDX bytes; `path` is only used in error messages.
pub fn parse_idx(path: &Path, mut bytes: Vec<u8>) -> Result<IdxArray> {
    let Header {
        dims,
        len: header_len,
        data_len: expected,
    } = parse_header(path, &bytes)?;
    let found = bytes.len() - header_len;
    if found < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            what: "the data its dimensions describe",
            expected: header_len + expected,
            found: bytes.len(),
        });
    }
    if found > expected {
        return Err(DataError::DimensionMismatch {
            path: path.to_path_buf(),
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
    let invalid = |message: &str| io_error(path, std::io::Error::other(message));
    if dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(data.len()) {
        return Err(invalid("IDX data does not match its dimensions"));
    }
    let rank = u8::try_from(dims.len()).map_err(|_| invalid("IDX rank is above 255"))?;
    let mut header = vec![0, 0, UNSIGNED_BYTE, rank];
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| invalid("dimension does not fit in u32"))?;
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
/// A set needs at least one image of at least one pixel.
pub fn images_from_idx(path: &Path, IdxArray { dims, data }: IdxArray) -> Result<Images> {
    let &[count, height, width] = dims.as_slice() else {
        return Err(DataError::WrongRank {
            path: path.to_path_buf(),
            expected: "3 (images × rows × columns)".into(),
            found: dims.len(),
            dims,
        });
    };
    check_len(path, &dims, &data)?;
    if count == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    if height == 0 || width == 0 {
        return Err(DataError::NoPixels {
            path: path.to_path_buf(),
            dims,
        });
    }
    Ok(Images::new(count, height, width, data))
}

/// Checks that `data` is as long as `dims` say (an [`IdxArray`] may be built
/// by hand).
fn check_len(path: &Path, dims: &[usize], data: &[u8]) -> Result<()> {
    let expected = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if expected == Some(data.len()) {
        return Ok(());
    }
    Err(DataError::DimensionMismatch {
        path: path.to_path_buf(),
        dims: dims.to_vec(),
        expected: expected.unwrap_or(usize::MAX),
        found: data.len(),
    })
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
        [_, 0] => {
            return Err(DataError::LabelShape {
                path: path.to_path_buf(),
                expected: "at least one label per item".into(),
                dims,
            });
        }
        _ => {
            return Err(DataError::WrongRank {
                path: path.to_path_buf(),
                expected: "1 (one label per item) or 2 (items × labels per item)".into(),
                found: dims.len(),
                dims,
            });
        }
    };
    check_len(path, &dims, &data)?;
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
/// The prefix must name files, not a folder (see [`check_prefix`]).
pub fn write_dataset(prefix: &Path, set: &Dataset, gzip: bool) -> Result<(PathBuf, PathBuf)> {
    check_prefix(prefix)?;
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

/// Checks that `prefix` can start file names: it must not end in a path
/// separator or name an existing folder (the files would be hidden ones
/// named `-images-…` inside it).
pub fn check_prefix(prefix: &Path) -> Result<()> {
    let text = prefix.as_os_str().to_string_lossy();
    let ends_in_separator = text.ends_with(std::path::is_separator);
    if text.is_empty() || ends_in_separator || prefix.is_dir() {
        return Err(DataError::NotAPrefix {
            path: prefix.to_path_buf(),
            example: prefix.join("set"),
        });
    }
    Ok(())
}

/// Reads the pair written by [`write_dataset`], plain or gzip: for each of
/// the two files, `{name}` is used if it exists, else `{name}.gz`.
pub fn read_dataset_prefix(prefix: &Path, heads: usize) -> Result<Dataset> {
    read_dataset_prefix_from(prefix, heads).map(|(set, _, _)| set)
}

/// [`read_dataset_prefix`], also returning the images and labels paths read.
pub fn read_dataset_prefix_from(
    prefix: &Path,
    heads: usize,
) -> Result<(Dataset, PathBuf, PathBuf)> {
    let (images, labels) = dataset_paths(prefix, heads, false);
    let (images, labels) = (plain_or_gz(images)?, plain_or_gz(labels)?);
    Ok((read_dataset(&images, &labels)?, images, labels))
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
