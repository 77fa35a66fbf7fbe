//! The export is a valid safetensors file whose tensors, read as PyTorch
//! reads them, compute what the Burn model computes.

use std::collections::BTreeMap;

use burn::backend::Flex;
use burn::prelude::*;
use burn::tensor::Distribution;

use super::{SafetensorsError, pytorch_tensors, write_safetensors, write_safetensors_to};
use mnist_models::models::{Activation, CnnConfig, MlpConfig, Model, ModelConfig};

type B = Flex;

/// A model with its parameters fixed (Burn initialises them lazily).
fn model(config: &ModelConfig) -> Model<B> {
    let device = Default::default();
    B::seed(&device, 3);
    let model = config.init::<B>(&device);
    let (height, width) = config.image_size();
    let _ = model.forward(Tensor::zeros([1, 1, height, width], &device));
    model
}

fn exported_bytes(config: &ModelConfig, metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let tensors =
        pytorch_tensors(&model(config), config).expect("the model matches its configuration");
    let mut bytes = Vec::new();
    write_safetensors_to(&mut bytes, &tensors, metadata).expect("writing to memory");
    bytes
}

/// A file parsed back: its header's JSON and its data.
struct Parsed {
    header: serde_json::Map<String, serde_json::Value>,
    data: Vec<u8>,
}

fn parse(bytes: &[u8]) -> Parsed {
    let length = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    assert_eq!(length % 8, 0, "the data starts on an 8-byte boundary");
    let header = std::str::from_utf8(&bytes[8..8 + length]).expect("the header is UTF-8");
    let header: serde_json::Value = serde_json::from_str(header).expect("the header is JSON");
    Parsed {
        header: header.as_object().expect("the header is an object").clone(),
        data: bytes[8 + length..].to_vec(),
    }
}

impl Parsed {
    /// Each tensor's name, shape and byte range, in the order of the data.
    fn entries(&self) -> Vec<(String, Vec<usize>, [usize; 2])> {
        let mut entries: Vec<_> = self
            .header
            .iter()
            .filter(|(name, _)| *name != "__metadata__")
            .map(|(name, entry)| {
                assert_eq!(entry["dtype"], "F32", "{name}");
                let shape = serde_json::from_value(entry["shape"].clone()).expect("a shape");
                let range = serde_json::from_value(entry["data_offsets"].clone()).expect("offsets");
                (name.clone(), shape, range)
            })
            .collect();
        entries.sort_by_key(|(_, _, range)| *range);
        entries
    }

    fn shapes(&self) -> BTreeMap<String, Vec<usize>> {
        self.entries()
            .into_iter()
            .map(|(name, shape, _)| (name, shape))
            .collect()
    }

    fn values(&self, name: &str) -> Vec<f32> {
        let [begin, end] = self
            .entries()
            .into_iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no tensor {name}"))
            .2;
        self.data[begin..end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect()
    }
}

fn course_cnn() -> ModelConfig {
    ModelConfig::Cnn(CnnConfig::new())
}

fn two_digit_cnn() -> ModelConfig {
    ModelConfig::Cnn(CnnConfig::new().with_height(42).with_heads(2))
}

fn two_digit_mlp() -> ModelConfig {
    ModelConfig::Mlp(MlpConfig::new(vec![64, 64]).with_height(42).with_heads(2))
}

fn shapes(entries: &[(&str, &[usize])]) -> BTreeMap<String, Vec<usize>> {
    entries
        .iter()
        .map(|(name, shape)| (name.to_string(), shape.to_vec()))
        .collect()
}

#[test]
fn the_data_follows_the_header_without_gap_or_overlap() {
    for config in [course_cnn(), two_digit_cnn(), two_digit_mlp()] {
        let parsed = parse(&exported_bytes(&config, &BTreeMap::new()));
        let mut end_of_last = 0;
        for (name, shape, [begin, end]) in parsed.entries() {
            assert_eq!(
                begin, end_of_last,
                "{name} starts where the last tensor ended"
            );
            assert_eq!(
                end - begin,
                4 * shape.iter().product::<usize>(),
                "{name}'s bytes"
            );
            end_of_last = end;
        }
        assert_eq!(end_of_last, parsed.data.len(), "the tensors cover the data");
    }
}

/// The names and shapes of the reference scripts' `state_dict()`.
#[test]
fn names_and_shapes_are_the_reference_modules() {
    let parsed = parse(&exported_bytes(&course_cnn(), &BTreeMap::new()));
    assert_eq!(
        parsed.shapes(),
        shapes(&[
            ("0.weight", &[32, 1, 3, 3]),
            ("0.bias", &[32]),
            ("3.weight", &[64, 32, 3, 3]),
            ("3.bias", &[64]),
            ("7.weight", &[128, 1600]),
            ("7.bias", &[128]),
            ("9.weight", &[10, 128]),
            ("9.bias", &[10]),
        ])
    );
    let parsed = parse(&exported_bytes(&two_digit_cnn(), &BTreeMap::new()));
    assert_eq!(
        parsed.shapes(),
        shapes(&[
            ("body.0.weight", &[32, 1, 3, 3]),
            ("body.0.bias", &[32]),
            ("body.3.weight", &[64, 32, 3, 3]),
            ("body.3.bias", &[64]),
            ("body.7.weight", &[128, 2880]),
            ("body.7.bias", &[128]),
            ("first.weight", &[10, 128]),
            ("first.bias", &[10]),
            ("second.weight", &[10, 128]),
            ("second.bias", &[10]),
        ])
    );
    let parsed = parse(&exported_bytes(&two_digit_mlp(), &BTreeMap::new()));
    assert_eq!(
        parsed.shapes(),
        shapes(&[
            ("body.1.weight", &[64, 1176]),
            ("body.1.bias", &[64]),
            ("body.3.weight", &[64, 64]),
            ("body.3.bias", &[64]),
            ("first.weight", &[10, 64]),
            ("first.bias", &[10]),
            ("second.weight", &[10, 64]),
            ("second.bias", &[10]),
        ])
    );
    // Dropout is a module of its own in PyTorch: it shifts the indices.
    let with_dropout = ModelConfig::Mlp(MlpConfig::new(vec![16, 8]).with_dropout(0.2));
    let parsed = parse(&exported_bytes(&with_dropout, &BTreeMap::new()));
    let names: Vec<String> = parsed.shapes().into_keys().collect();
    assert_eq!(
        names,
        [
            "1.bias", "1.weight", "4.bias", "4.weight", "7.bias", "7.weight"
        ]
    );
}

#[test]
fn a_linear_weight_is_burns_transposed() {
    let config = ModelConfig::Mlp(MlpConfig::new(vec![5]).with_height(2).with_width(3));
    let Model::Mlp(mlp) = model(&config) else {
        unreachable!("an MLP's configuration builds an MLP")
    };
    let parsed = parse(&exported_bytes(&config, &BTreeMap::new()));
    // Burn's weight is [in 6, out 5]; PyTorch's [out 5, in 6].
    let burn: Vec<f32> = mlp.hidden[0]
        .weight
        .val()
        .into_data()
        .to_vec()
        .expect("f32");
    let exported = parsed.values("1.weight");
    assert_eq!(exported.len(), 30);
    for output in 0..5 {
        for input in 0..6 {
            assert_eq!(exported[output * 6 + input], burn[input * 5 + output]);
        }
    }
}

/// `y = W x + b` with W [out, in], PyTorch's `nn.Linear`.
fn linear_by_hand(parsed: &Parsed, name: &str, x: &[f32]) -> Vec<f32> {
    let weight = parsed.values(&format!("{name}.weight"));
    let bias = parsed.values(&format!("{name}.bias"));
    bias.iter()
        .zip(weight.chunks_exact(x.len()))
        .map(|(b, row)| b + row.iter().zip(x).map(|(w, x)| w * x).sum::<f32>())
        .collect()
}

#[test]
fn logits_from_the_exported_tensors_are_burns() {
    let config = ModelConfig::Mlp(
        MlpConfig::new(vec![7, 5])
            .with_height(3)
            .with_width(4)
            .with_activation(Activation::LeakyRelu)
            .with_heads(2),
    );
    let burn_model = model(&config);
    let parsed = parse(&exported_bytes(&config, &BTreeMap::new()));
    let device = Default::default();
    let images = Tensor::<B, 4>::random([4, 1, 3, 4], Distribution::Uniform(0.0, 1.0), &device);
    let pixels: Vec<f32> = images.clone().into_data().to_vec().expect("f32");
    let logits: Vec<Vec<f32>> = burn_model
        .forward(images)
        .into_iter()
        .map(|head| head.into_data().to_vec().expect("f32"))
        .collect();
    let leaky_relu = |x: Vec<f32>| -> Vec<f32> {
        x.into_iter()
            .map(|v| if v > 0.0 { v } else { 0.01 * v })
            .collect()
    };
    for (image, x) in pixels.chunks_exact(12).enumerate() {
        let x = leaky_relu(linear_by_hand(&parsed, "body.1", x));
        let x = leaky_relu(linear_by_hand(&parsed, "body.3", &x));
        for (head, name) in ["first", "second"].into_iter().enumerate() {
            let by_hand = linear_by_hand(&parsed, name, &x);
            let burn = &logits[head][image * 10..(image + 1) * 10];
            for (a, b) in by_hand.iter().zip(burn) {
                assert!((a - b).abs() < 1e-5, "image {image}, {name}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn an_independent_reader_reads_the_file_and_its_metadata() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("cnn.safetensors");
    let config = two_digit_cnn();
    let metadata = BTreeMap::from([("source".to_string(), "a test".to_string())]);
    write_safetensors(&model(&config), &config, &metadata, &path).expect("the export");
    let bytes = std::fs::read(&path).expect("the file");
    let (_, file_metadata) = safetensors::SafeTensors::read_metadata(&bytes).expect("safetensors");
    let file_metadata = file_metadata.metadata().clone().expect("metadata");
    assert_eq!(file_metadata["source"], "a test");
    assert_eq!(file_metadata["heads"], "2");
    assert_eq!(file_metadata["input_shape"], "[1,42,28]");
    let read_back: ModelConfig =
        serde_json::from_str(&file_metadata["model"]).expect("model.json's content");
    assert_eq!(read_back.describe(), config.describe());
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let parsed = parse(&bytes);
    assert_eq!(file.len(), 10);
    for (name, view) in file.tensors() {
        assert_eq!(view.dtype(), safetensors::Dtype::F32);
        assert_eq!(view.shape(), parsed.shapes()[&name].as_slice());
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        assert_eq!(values, parsed.values(&name), "{name}");
    }
}

#[test]
fn a_missing_folder_is_named_and_not_created() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("missing");
    let path = missing.join("model.safetensors");
    let config = course_cnn();
    let error = write_safetensors(&model(&config), &config, &BTreeMap::new(), &path)
        .expect_err("no folder to write into");
    assert!(matches!(error, SafetensorsError::MissingFolder { .. }));
    let message = error.to_string();
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
    assert!(!missing.exists());
}

#[test]
fn a_model_and_another_configuration_are_refused() {
    let mlp = ModelConfig::Mlp(MlpConfig::new(vec![4]));
    let error = pytorch_tensors(&model(&mlp), &course_cnn()).expect_err("an MLP is not a CNN");
    assert!(error.to_string().contains("cnn 28x28"), "{error}");
    let one_head = model(&course_cnn());
    let error = pytorch_tensors(&one_head, &ModelConfig::Cnn(CnnConfig::new().with_heads(2)))
        .expect_err("one head is not two");
    assert!(matches!(error, SafetensorsError::OtherConfiguration { .. }));
}
