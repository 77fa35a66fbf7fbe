//! The training core shared by the Burn parts of the curriculum (`fc-tuning`,
//! `cnn`, `two-digit`): written once, generic over Burn's backends. The
//! models, loss, batches, optimiser and training step are
//! `mnist_models`'; this crate runs them. A part calls [`run::run`] with its
//! model, data and `--backend`; the rest follows from there:
//!
//! - [`run`] → [`train`]: one run, and the training loop;
//! - [`checkpoint`]: best and last checkpoints, `--resume`;
//! - [`backend`]: `--backend` picks a backend type at run time;
//! - [`allocator`]: freed memory kept for the next training step;
//! - [`cli`], [`predict`], [`eval`], [`bench`], [`inference`]: what every
//!   part's command line shares ([`image_input`] and [`two_digit_image`]:
//!   pictures made to look like the parts' images; [`pytorch_reference`]:
//!   PyTorch's step, timed in turn with ours).

pub mod allocator;
pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod eval;
pub mod image_input;
pub mod inference;
pub mod predict;
pub mod pytorch_reference;
pub mod run;
pub mod train;
pub mod two_digit_image;

pub use backend::{BackendKind, BackendTask, run_on};
