//! The curriculum's networks on Burn, and what training them takes one step
//! at a time: the code Parts 2–4 have the learner write, generic over Burn's
//! backends and free of everything else (no files, no command line, no
//! reports), so that it builds in seconds.
//!
//! - [`models`]: the MLP and the CNN, and [`Model`], either of them;
//! - [`batch`], [`loss`], [`optimizer`], [`step`]: one step of training;
//! - [`evaluate`]: predictions, accuracy and loss;
//! - [`config`]: hyper-parameters (`#[derive(Config)]`).

pub mod batch;
pub mod config;
pub mod evaluate;
pub mod loss;
pub mod models;
pub mod optimizer;
pub mod step;

pub use burn;
pub use config::{OptimizerConfig, TrainingConfig};
/// The CNN's fused conv blocks, the fast path the CNN takes on the CPU.
pub use conv_blocks::CnnOps;
pub use models::{Activation, Cnn, CnnConfig, ConvMethod, Mlp, MlpConfig, Model, ModelConfig};

use burn::tensor::backend::AutodiffBackend;
use conv_blocks::CnnKernels;

/// A backend that trains the curriculum's models: autodiff over a backend,
/// both with the CNN's fused operations; the inner backend also runs the
/// optimiser's update ([`conv_blocks::CnnKernels::sgd_update`]).
pub trait TrainBackend: AutodiffBackend<InnerBackend: CnnKernels> + CnnOps {}

impl<B: AutodiffBackend<InnerBackend: CnnKernels> + CnnOps> TrainBackend for B {}
