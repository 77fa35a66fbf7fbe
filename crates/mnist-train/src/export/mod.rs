//! A trained model in the formats other frameworks read.

pub mod safetensors;
