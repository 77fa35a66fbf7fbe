//! The MNIST database (LeCun, Cortes and Burges; CC BY-SA 3.0), as the four
//! original IDX files committed under `datasets/mnist/`. Each file's
//! decompressed content is checked against `datasets/mnist/SHA256SUMS`.
//!
//! A folder may hold Hugging Face's parquet files instead
//! (`train-*.parquet` and `test-*.parquet`, there or in its `mnist/`
//! folder, as their repository has them): those are validated as they are
//! read, but not checked against the committed checksums.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dataset::Dataset;
use crate::error::{DataError, Result, io_error};
use crate::idx::{self, IdxArray, plain_or_gz};
use crate::parquet::read_parquet;

/// The committed checksum list (`sha256  name` per line), compiled in so a
/// binary verifies its data wherever it runs.
pub const SHA256SUMS: &str = include_str!("../../../datasets/mnist/SHA256SUMS");

/// Where the MNIST files are unless told otherwise: `$MNIST_DIR`, else the
/// workspace's `datasets/mnist/`.
pub fn default_dir() -> PathBuf {
    match std::env::var_os("MNIST_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("datasets/mnist"),
    }
}

/// The course's workspace, found at run time so that a copied or installed
/// binary reads the checkout it is run in: `$MNIST_COURSE_ROOT`, else the
/// nearest folder at or above the current directory that holds the course
/// ([`find_workspace`]), else the workspace this crate was built in.
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("MNIST_COURSE_ROOT") {
        return PathBuf::from(root);
    }
    let here = std::env::current_dir().ok();
    here.as_deref()
        .and_then(find_workspace)
        .unwrap_or_else(built_in_workspace)
}

/// The nearest folder at or above `start` with a `Cargo.toml` and the
/// course's `datasets/mnist/SHA256SUMS`.
pub fn find_workspace(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            dir.join("Cargo.toml").is_file() && dir.join("datasets/mnist/SHA256SUMS").is_file()
        })
        .map(Path::to_path_buf)
}

/// The workspace this crate was built in (two levels above the crate).
fn built_in_workspace() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .to_path_buf()
}

/// MNIST's two splits: 60,000 training and 10,000 test images of 28×28,
/// and the files they were read from.
#[derive(Clone, Debug)]
pub struct Mnist {
    pub train: Dataset,
    pub test: Dataset,
    pub source: MnistSource,
}

/// The files a [`Mnist`] was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MnistSource {
    /// The four IDX files in this folder, checked against `SHA256SUMS`.
    Idx(PathBuf),
    /// Hugging Face's parquet files of each split, with their SHA-256.
    Parquet {
        train: Vec<(PathBuf, String)>,
        test: Vec<(PathBuf, String)>,
    },
}

impl fmt::Display for MnistSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Idx(dir) => write!(
                f,
                "MNIST IDX files in {} (checksums verified)",
                dir.display()
            ),
            Self::Parquet { train, test } => {
                let files = (train.iter().chain(test))
                    .map(|(path, sha256)| format!("{} (sha256 {sha256})", path.display()))
                    .collect::<Vec<_>>();
                write!(f, "Hugging Face's parquet files {}", files.join(", "))
            }
        }
    }
}

impl Mnist {
    /// Loads and verifies MNIST from [`default_dir`].
    pub fn load_default() -> Result<Self> {
        Self::load(&default_dir())
    }

    /// Loads both splits from `dir`: the IDX files, verified against the
    /// committed checksums, or else Hugging Face's parquet files (see
    /// [`parquet_files`]).
    pub fn load(dir: &Path) -> Result<Self> {
        if !has_idx_files(dir)
            && let Some(files) = parquet_files(dir)?
        {
            return load_parquet(files);
        }
        Ok(Self {
            train: load_split(dir, "train")?,
            test: load_split(dir, "t10k")?,
            source: MnistSource::Idx(dir.to_path_buf()),
        })
    }

    /// Loads only the test split from `dir`, IDX or parquet as [`Self::load`].
    pub fn load_test(dir: &Path) -> Result<Dataset> {
        if !has_idx_files(dir)
            && let Some(files) = parquet_files(dir)?
        {
            return Ok(read_parquet_files(&files.test)?.0);
        }
        load_split(dir, "t10k")
    }
}

/// Whether `dir` holds an IDX file of MNIST's (plain or gzip).
fn has_idx_files(dir: &Path) -> bool {
    ["train", "t10k"].iter().any(|split| {
        let name = format!("{split}-images-idx3-ubyte");
        dir.join(&name).exists() || dir.join(format!("{name}.gz")).exists()
    })
}

/// Hugging Face's files of each split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetFiles {
    pub train: Vec<PathBuf>,
    pub test: Vec<PathBuf>,
}

/// Hugging Face's MNIST files in `dir`, or in `dir/mnist` as their
/// repository has them: `train-*.parquet` and `test-*.parquet` (a split may
/// be in several shards, read in name order). `None` when there are none;
/// an error when only one split is there.
pub fn parquet_files(dir: &Path) -> Result<Option<ParquetFiles>> {
    for dir in [dir.to_path_buf(), dir.join("mnist")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|entry| entry.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(|source| io_error(&dir, source))?;
        files.retain(|p| p.extension().is_some_and(|e| e == "parquet") && p.is_file());
        files.sort();
        let split = |name: &str| -> Vec<PathBuf> {
            let prefix = format!("{name}-");
            (files.iter())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|f| f.to_string_lossy().starts_with(&prefix))
                })
                .cloned()
                .collect()
        };
        let (train, test) = (split("train"), split("test"));
        match (train.is_empty(), test.is_empty()) {
            (true, true) => continue,
            (false, false) => return Ok(Some(ParquetFiles { train, test })),
            (train_missing, _) => {
                let missing = if train_missing { "train" } else { "test" };
                return Err(DataError::MissingFile {
                    path: dir.join(format!("{missing}-00000-of-00001.parquet")),
                    hint: format!(
                        "the folder has Hugging Face's other split; MNIST needs \
                         {missing}-*.parquet beside it"
                    ),
                });
            }
        }
    }
    Ok(None)
}

/// Reads both splits from Hugging Face's files.
fn load_parquet(files: ParquetFiles) -> Result<Mnist> {
    let (train, train_sums) = read_parquet_files(&files.train)?;
    let (test, test_sums) = read_parquet_files(&files.test)?;
    Ok(Mnist {
        train,
        test,
        source: MnistSource::Parquet {
            train: files.train.into_iter().zip(train_sums).collect(),
            test: files.test.into_iter().zip(test_sums).collect(),
        },
    })
}

/// Reads the shards of one split, one after another, with each file's
/// SHA-256.
fn read_parquet_files(paths: &[PathBuf]) -> Result<(Dataset, Vec<String>)> {
    let mut sets = Vec::new();
    let mut sums = Vec::new();
    for path in paths {
        sets.push(read_parquet(path)?);
        let bytes = std::fs::read(path).map_err(|source| io_error(path, source))?;
        sums.push(sha256_hex(&bytes));
    }
    let count = sets.iter().map(Dataset::len).sum();
    let mut pixels = Vec::with_capacity(count * 28 * 28);
    let mut labels = Vec::with_capacity(count);
    for set in sets {
        pixels.extend_from_slice(&set.images.pixels);
        labels.extend_from_slice(&set.labels.values);
    }
    let set = Dataset::new(
        crate::Images::new(count, 28, 28, pixels),
        crate::Labels::new(1, labels),
    );
    Ok((set, sums))
}

/// Loads one split (`train` or `t10k`) from `dir`, verifying checksums.
pub fn load_split(dir: &Path, split: &str) -> Result<Dataset> {
    let (images_path, images) = verified_idx(dir, &format!("{split}-images-idx3-ubyte"))?;
    let (labels_path, labels) = verified_idx(dir, &format!("{split}-labels-idx1-ubyte"))?;
    let images = idx::images_from_idx(&images_path, images)?;
    let labels = idx::labels_from_idx(&labels_path, labels)?;
    let set = idx::pair(&images_path, images, &labels_path, labels)?;
    if (set.images.height, set.images.width) != (28, 28) {
        return Err(DataError::WrongImageSize {
            path: images_path,
            expected_height: 28,
            expected_width: 28,
            found_height: set.images.height,
            found_width: set.images.width,
        });
    }
    Ok(set)
}

/// Finds `name` (or `name.gz`) in `dir`, checks its decompressed SHA-256 and
/// parses it.
fn verified_idx(dir: &Path, name: &str) -> Result<(PathBuf, IdxArray)> {
    let path = plain_or_gz(dir.join(name)).map_err(|_| DataError::MissingFile {
        path: dir.join(format!("{name}.gz")),
        hint: format!(
            "the MNIST files belong in {} (a fresh clone has them in datasets/mnist/; \
             see datasets/README.md, or set MNIST_DIR); Hugging Face's train-*.parquet and \
             test-*.parquet do too",
            dir.display()
        ),
    })?;
    let expected = expected_sha256(name).expect("every MNIST file is in SHA256SUMS");
    let bytes = idx::read_idx_bytes(&path)?;
    let found = sha256_hex(&bytes);
    if found != expected {
        return Err(DataError::ChecksumMismatch {
            path,
            expected: expected.to_string(),
            found,
        });
    }
    let array = idx::parse_idx(&path, bytes)?;
    Ok((path, array))
}

/// The committed checksum of the decompressed file `name`.
pub fn expected_sha256(name: &str) -> Option<&'static str> {
    SHA256SUMS.lines().find_map(|line| {
        let (sum, file) = line.split_once(char::is_whitespace)?;
        (file.trim_start_matches([' ', '*']) == name).then_some(sum)
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
