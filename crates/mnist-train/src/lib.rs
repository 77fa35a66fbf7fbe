//! The training core shared by the Burn parts of the curriculum (`fc-tuning`,
//! `cnn`, `two-digit`): written once, generic over Burn's backends.
//!
//! - [`backend`]: `--backend` picks a backend type at run time;
//! - [`model`], [`models`]: the classifier trait, the MLP and the CNN;
//! - [`config`]: hyper-parameters (`#[derive(Config)]`);
//! - [`batch`], [`loss`], [`train`]: the training loop;
//! - [`evaluate`]: accuracy, loss and predictions;
//! - [`checkpoint`]: best and last checkpoints, `--resume`.

pub mod backend;
pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod evaluate;
pub mod loss;
pub mod model;
pub mod models;
pub mod train;

pub use backend::{BackendKind, BackendTask, run_on};
pub use burn;
pub use config::{OptimizerConfig, TrainingConfig};
pub use model::Classifier;
pub mod bench;
pub mod cli;
pub mod image_input;
pub mod inference;
#[cfg(all(debug_assertions, not(test)))]
pub mod instances;
pub mod run;
