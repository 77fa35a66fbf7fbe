//! The MNIST database (LeCun, Cortes and Burges; CC BY-SA 3.0), as the four
//! original IDX files committed under `datasets/mnist/`. Each file's
//! decompressed content is checked against `datasets/mnist/SHA256SUMS`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::idx::{self, IdxArray, plain_or_gz};

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

/// MNIST's two splits: 60,000 training and 10,000 test images of 28×28.
#[derive(Clone, Debug)]
pub struct Mnist {
    pub train: Dataset,
    pub test: Dataset,
}

impl Mnist {
    /// Loads and verifies MNIST from [`default_dir`].
    pub fn load_default() -> Result<Self> {
        Self::load(&default_dir())
    }

    /// Loads and verifies both splits from `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self {
            train: load_split(dir, "train")?,
            test: load_split(dir, "t10k")?,
        })
    }
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
             see datasets/README.md, or set MNIST_DIR)",
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
