//! The training core shared by the Burn parts of the curriculum (`fc-tuning`,
//! `cnn`, `two-digit`): written once, generic over Burn's backends. A part
//! calls [`run::run`] with its model, data and `--backend`; the rest follows
//! from there:
//!
//! - [`models`]: the MLP and the CNN, and [`models::Model`], either of them;
//! - [`config`]: hyper-parameters (`#[derive(Config)]`);
//! - [`run`] → [`train`]: one run, and the training loop ([`batch`],
//!   [`loss`], [`optimizer`]);
//! - [`evaluate`]: accuracy, loss and predictions;
//! - [`checkpoint`]: best and last checkpoints, `--resume`;
//! - [`export`]: a trained model in other frameworks' formats;
//! - [`backend`]: `--backend` picks a backend type at run time;
//! - [`ops`]: the CNN's fused conv blocks, the fast path on the CPU;
//! - [`cli`], [`predict`], [`eval`], [`bench`], [`inference`], [`export`]:
//!   what every part's command line shares ([`image_input`] and
//!   [`two_digit_image`]: pictures made to look like the parts' images).

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
