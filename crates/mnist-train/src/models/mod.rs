//! The curriculum's networks, configurable so that each part builds its own
//! variant from one definition: the MLPs of parts 2 and 4, and the CNN of
//! parts 3 and 4 (28×28 or 42×28 input, one or two heads).

pub mod cnn;
pub mod cnn_ops;
pub mod cpu_kernels;
pub mod mlp;
