//! The curriculum's data layer, shared by every part (and free of Burn, so
//! the from-scratch part uses it too):
//!
//! - [`files`]: atomic writes (temporary file, then rename);
//! - [`idx`]: IDX files of any rank, plain or gzip, read and written;
//! - [`mnist`]: the committed MNIST files, checksum-verified;
//! - [`csv`]: Kaggle-style CSV digits, with or without labels;
//! - [`parquet`]: Hugging Face's parquet files (PNG digits and labels);
//! - [`split`]: the course's train/validation split and seeded shuffling;
//! - [`two_digit`]: 42×28 images of two digits, composed from MNIST.

pub mod csv;
pub mod dataset;
pub mod error;
pub mod files;
pub mod idx;
pub mod mnist;
pub mod parquet;
pub mod split;
pub mod two_digit;

pub use dataset::{Dataset, Images, Labels};
pub use error::{DataError, Result};
pub use mnist::Mnist;
pub use split::{Split, course_split};
