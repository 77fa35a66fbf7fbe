//! Part 1 of the course: a neural network from first principles.
//!
//! A multilayer perceptron written out as matrix algebra on `ndarray` — no
//! framework, no automatic differentiation — in the spirit of Nielsen's
//! `network.py`: the maths is the code, and the comments give each step's
//! derivation.
//!
//! - [`activation`]: sigmoid, ReLU, leaky ReLU, tanh and their slopes;
//! - [`loss`]: softmax + cross-entropy, sigmoid/linear + mean squared error;
//! - [`init`]: He and Xavier initialisation;
//! - [`network`]: the forward pass, backpropagation and the SGD step;
//! - [`sgd`]: mini-batches, shuffling, clipping, evaluation;
//! - [`gradcheck`]: backpropagation checked against finite differences;
//! - [`toy`]: the course's 2-3-1 toy network;
//! - [`experiments`]: the MNIST runs and their reports;
//! - [`bench`](mod@bench): seconds per epoch.
//!
//! The network is generic over [`Float`]: `f32` to train, `f64` to check.

pub mod activation;
pub mod bench;
pub mod data;
pub mod error;
pub mod experiments;
pub mod float;
pub mod gradcheck;
pub mod init;
pub mod loss;
pub mod matrix_products;
pub mod network;
pub mod sgd;
pub mod toy;

pub use activation::Activation;
pub use data::Samples;
pub use error::{Error, Result};
pub use float::Float;
pub use init::Init;
pub use loss::Output;
pub use network::{Gradients, Layer, Mlp, Spec, Workspace};
pub use sgd::{Clip, EpochStats, Evaluation, Sgd, Trainer, evaluate};
