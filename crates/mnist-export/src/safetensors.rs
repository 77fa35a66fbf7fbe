//! A trained model as a safetensors file in PyTorch's layout, for the
//! reference scripts' own `nn.Module`s (`load_state_dict`).
//!
//! The format, written out here: 8 bytes, the header's length (a
//! little-endian u64); the header, JSON padded with spaces to a multiple of
//! 8 bytes, naming each tensor's dtype, shape and byte range in the data,
//! with free-form text under `__metadata__`; then the data, each tensor's
//! values as little-endian f32 in row-major order, one after another.
//!
//! The names are those of the PyTorch modules the reference scripts build:
//!
//! - one head: every layer in one `nn.Sequential`, named by its index. The
//!   course CNN is `Conv2d ReLU MaxPool2d Conv2d ReLU MaxPool2d Flatten
//!   Linear Dropout Linear`, so its tensors are `0.*`, `3.*`, `7.*`, `9.*`;
//!   an MLP is `Flatten`, then `Linear` and its activation (and `Dropout`
//!   when the model has some) per hidden layer, then the head: `1.*`,
//!   `3.*`, ...;
//! - several heads: the same layers without the head as `body`, and the
//!   heads as `first`, `second`, ... (Part 4's `TwoHeads`): `body.7.*`,
//!   `first.*`, `second.*`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use mnist_data::DataError;
use mnist_data::files::write_atomically;
use serde_json::json;

use mnist_models::models::{Model, ModelConfig};

#[derive(Debug, thiserror::Error)]
pub enum SafetensorsError {
    #[error("cannot export to {path}: the folder {} does not exist", folder.display(), path = path.display())]
    MissingFolder { path: PathBuf, folder: PathBuf },
    #[error("cannot export: the model is {model}, but its configuration describes {config}")]
    OtherConfiguration { model: String, config: String },
    #[error(transparent)]
    Write(#[from] DataError),
}

/// One tensor as PyTorch's `state_dict()` holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct PytorchTensor {
    pub name: String,
    pub shape: Vec<usize>,
    /// Row-major, as `shape` lays them out.
    pub values: Vec<f32>,
}

/// Writes `model` (built from `config`) to `path` as safetensors in
/// PyTorch's layout. The metadata holds `metadata`'s entries and the
/// model's own, which take precedence: `model` (model.json's content),
/// `classes`, `heads`, `input_shape`, `input` and `format`. The file is
/// written whole or not at all; its folder must exist.
pub fn write_safetensors<B: Backend>(
    model: &Model<B>,
    config: &ModelConfig,
    metadata: &BTreeMap<String, String>,
    path: &Path,
) -> Result<(), SafetensorsError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(SafetensorsError::MissingFolder {
            path: path.to_path_buf(),
            folder: folder.to_path_buf(),
        });
    }
    let tensors = pytorch_tensors(model, config)?;
    let mut metadata = metadata.clone();
    metadata.extend(model_metadata(config));
    write_atomically(path, |out| write_safetensors_to(out, &tensors, &metadata))?;
    Ok(())
}

/// What the file says about the model, beside its tensors.
pub fn model_metadata(config: &ModelConfig) -> BTreeMap<String, String> {
    let (height, width) = config.image_size();
    let classes: Vec<String> = (0..10).map(|digit: u8| digit.to_string()).collect();
    [
        ("format", "pt".to_string()),
        ("model", config.to_string()),
        ("classes", json!(classes).to_string()),
        ("heads", config.heads().to_string()),
        ("input_shape", json!([1, height, width]).to_string()),
        (
            "input",
            "float32 [batch, 1, height, width]: pixel bytes / 255, ink bright on a black \
             background, as in MNIST; one [batch, 10] tensor of logits out per head"
                .to_string(),
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

/// The model's parameters, named and laid out as in the PyTorch module the
/// reference scripts build for it (see the module's documentation).
pub fn pytorch_tensors<B: Backend>(
    model: &Model<B>,
    config: &ModelConfig,
) -> Result<Vec<PytorchTensor>, SafetensorsError> {
    let mut tensors = Vec::new();
    // The layers before the heads, and the index in the `nn.Sequential`
    // that a single head takes after them.
    let (head_index, heads) = match (model, config) {
        (Model::Cnn(cnn), ModelConfig::Cnn(_)) => {
            let body = if cnn.heads.len() == 1 { "" } else { "body." };
            // 0 Conv2d, 1 ReLU, 2 MaxPool2d, 3 Conv2d, 4 ReLU, 5 MaxPool2d,
            // 6 Flatten, 7 Linear, 8 Dropout.
            conv(&mut tensors, &format!("{body}0"), &cnn.conv1);
            conv(&mut tensors, &format!("{body}3"), &cnn.conv2);
            linear(&mut tensors, &format!("{body}7"), &cnn.hidden);
            (9, cnn.heads.as_slice())
        }
        (Model::Mlp(mlp), ModelConfig::Mlp(mlp_config)) => {
            let body = if mlp.heads.len() == 1 { "" } else { "body." };
            // Linear, activation and, if the model has some, Dropout.
            let modules_per_layer = if mlp_config.dropout > 0.0 { 3 } else { 2 };
            // 0 is the Flatten.
            let mut index = 1;
            for layer in &mlp.hidden {
                linear(&mut tensors, &format!("{body}{index}"), layer);
                index += modules_per_layer;
            }
            (index, mlp.heads.as_slice())
        }
        _ => {
            return Err(SafetensorsError::OtherConfiguration {
                model: match model {
                    Model::Mlp(_) => "an MLP".into(),
                    Model::Cnn(_) => "a CNN".into(),
                },
                config: config.describe(),
            });
        }
    };
    if heads.len() != config.heads() {
        return Err(SafetensorsError::OtherConfiguration {
            model: format!("a model of {} heads", heads.len()),
            config: config.describe(),
        });
    }
    if let [head] = heads {
        linear(&mut tensors, &head_index.to_string(), head);
    } else {
        for (head, name) in heads.iter().zip(HEAD_NAMES) {
            linear(&mut tensors, name, head);
        }
    }
    Ok(tensors)
}

/// The heads' names when a model has several: as in Part 4's `TwoHeads`.
const HEAD_NAMES: [&str; mnist_models::models::MAX_HEADS] = ["first", "second", "third", "fourth"];

fn linear<B: Backend>(tensors: &mut Vec<PytorchTensor>, name: &str, layer: &Linear<B>) {
    // Burn computes x·W with W [in, out]; PyTorch x·Wᵀ with W [out, in].
    let weight = layer.weight.val().transpose();
    tensors.push(pytorch_tensor(format!("{name}.weight"), weight));
    if let Some(bias) = &layer.bias {
        tensors.push(pytorch_tensor(format!("{name}.bias"), bias.val()));
    }
}

fn conv<B: Backend>(tensors: &mut Vec<PytorchTensor>, name: &str, layer: &Conv2d<B>) {
    // Both frameworks keep convolution weights as [out, in, height, width].
    tensors.push(pytorch_tensor(format!("{name}.weight"), layer.weight.val()));
    if let Some(bias) = &layer.bias {
        tensors.push(pytorch_tensor(format!("{name}.bias"), bias.val()));
    }
}

fn pytorch_tensor<B: Backend, const D: usize>(name: String, tensor: Tensor<B, D>) -> PytorchTensor {
    PytorchTensor {
        name,
        shape: tensor.dims().to_vec(),
        values: tensor.into_data().iter::<f32>().collect(),
    }
}

/// Writes `tensors` and `metadata` in the safetensors format (see the
/// module's documentation), the tensors' data in the order given.
pub fn write_safetensors_to(
    out: &mut impl Write,
    tensors: &[PytorchTensor],
    metadata: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), json!(metadata));
    let mut offset = 0;
    for tensor in tensors {
        let end = offset + size_of::<f32>() * tensor.values.len();
        header.insert(
            tensor.name.clone(),
            json!({ "dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    let mut header = serde_json::Value::Object(header).to_string().into_bytes();
    // Spaces after the JSON put the data on an 8-byte boundary.
    header.resize(header.len().next_multiple_of(8), b' ');
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(&header)?;
    for tensor in tensors {
        for value in &tensor.values {
            out.write_all(&value.to_le_bytes())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
