//! ONNX export: every kind of model the course trains, run by tract, gives
//! Burn's logits and predictions; the committed models read the test set
//! as well in tract as in Burn, in f32 and in int8; the file says what it
//! is; bad output paths are refused before any work.

use std::path::Path;

use mnist_data::{Dataset, Images, Labels};
use mnist_export::network::{Array, Network};
use mnist_export::onnx::{OPSET, Weights, quantize_per_channel};
use mnist_export::onnx_run::OnnxModel;
use mnist_export::{ExportArgs, LOGIT_TOLERANCE, course_test_set, metadata, write_onnx};
use mnist_models::evaluate::{accuracy_all_heads, predictions};
use mnist_models::models::{Activation, CnnConfig, MlpConfig, ModelConfig};
use mnist_train::inference::TrainedModel;
use prost::Message;
use tract_onnx::pb::ModelProto;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::pb::type_proto::Value as TypeValue;

type Inner = burn::backend::Flex;

/// `n` random images of `height × width` with random labels for `heads`.
fn random_set(n: usize, height: usize, width: usize, heads: usize, seed: u64) -> Dataset {
    let mut rng = mnist_data::split::seeded_rng(seed);
    let pixels = (0..n * height * width)
        .map(|_| mnist_data::split::below(&mut rng, 256) as u8)
        .collect();
    let labels = (0..n * heads)
        .map(|_| mnist_data::split::below(&mut rng, 10) as u8)
        .collect();
    Dataset::new(
        Images::new(n, height, width, pixels),
        Labels::new(heads, labels),
    )
}

fn untrained(config: ModelConfig) -> TrainedModel<Inner> {
    use burn::tensor::backend::Backend;
    let device = Default::default();
    Inner::seed(&device, 7);
    TrainedModel {
        model: config.init(&device),
        config,
    }
}

/// Every model shape the course trains: MLPs (ReLU, LeakyReLU) and CNNs,
/// one head on 28×28 and two on 42×28.
fn course_model_kinds() -> Vec<ModelConfig> {
    vec![
        ModelConfig::Mlp(MlpConfig::new(vec![128])),
        ModelConfig::Mlp(
            MlpConfig::new(vec![64, 64])
                .with_activation(Activation::LeakyRelu)
                .with_dropout(0.2),
        ),
        ModelConfig::Mlp(MlpConfig::new(vec![64, 64]).with_height(42).with_heads(2)),
        ModelConfig::Cnn(CnnConfig::new()),
        ModelConfig::Cnn(CnnConfig::new().with_height(42).with_heads(2)),
    ]
}

#[test]
fn every_model_kind_runs_in_tract_with_burns_logits_at_any_batch_size() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (k, config) in course_model_kinds().into_iter().enumerate() {
        let described = config.describe();
        let (height, width) = config.image_size();
        let heads = config.heads();
        let trained = untrained(config);
        let set = random_set(300, height, width, heads, k as u64);
        let path = dir.path().join(format!("model-{k}.onnx"));
        let check = write_onnx(
            &trained,
            &Default::default(),
            &path,
            Weights::F32,
            &[],
            &set,
        )
        .unwrap_or_else(|e| panic!("{described}: {e}"));
        assert!(check.max_difference <= LOGIT_TOLERANCE, "{described}");

        // The batch dimension is open: 1, 7 and 300 images through one plan.
        let runtime = OnnxModel::load(&path).expect("the file loads in tract");
        assert_eq!(runtime.heads, heads, "{described}");
        assert_eq!(runtime.image, (height, width), "{described}");
        let burn = predictions(&trained.model, &set.images, &Default::default());
        for batch in [1, 7, 300] {
            let logits = runtime.logits(&set.images, 0..batch).expect("runs");
            assert_eq!(logits.len(), heads);
            for (head, values) in logits.iter().enumerate() {
                assert_eq!(values.len(), batch * 10);
                for i in 0..batch {
                    let row = &values[i * 10..(i + 1) * 10];
                    let top = (0..10)
                        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                        .expect("ten logits") as u8;
                    assert_eq!(
                        top,
                        burn.labels.of(i)[head],
                        "{described}: image {i}, head {head}, batch {batch}"
                    );
                }
            }
        }
        let labels = runtime.predict(&set.images).expect("runs");
        assert_eq!(labels, burn.labels, "{described}");
    }
}

#[test]
fn the_file_is_standard_onnx_with_named_io_an_open_batch_and_metadata() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = ModelConfig::Cnn(CnnConfig::new().with_height(42).with_heads(2));
    let trained = untrained(config);
    let set = random_set(20, 42, 28, 2, 1);
    let path = dir.path().join("two.onnx");
    let meta = metadata(&trained.config, dir.path(), Weights::F32);
    write_onnx(
        &trained,
        &Default::default(),
        &path,
        Weights::F32,
        &meta,
        &set,
    )
    .expect("exports");

    let bytes = std::fs::read(&path).expect("written");
    let model = ModelProto::decode(bytes.as_slice()).expect("a protobuf ModelProto");
    assert_eq!(model.opset_import[0].version, OPSET);
    assert!(model.opset_import[0].version >= 13, "a standard opset");
    let graph = model.graph.expect("a graph");
    let dims = |info: &tract_onnx::pb::ValueInfoProto| -> Vec<String> {
        let Some(TypeValue::TensorType(t)) = info.r#type.as_ref().and_then(|t| t.value.clone())
        else {
            panic!("{} is not a tensor", info.name)
        };
        t.shape
            .expect("a shape")
            .dim
            .iter()
            .map(|d| match &d.value {
                Some(Dim::DimParam(p)) => p.clone(),
                Some(Dim::DimValue(v)) => v.to_string(),
                None => "?".into(),
            })
            .collect()
    };
    assert_eq!(graph.input.len(), 1);
    assert_eq!(graph.input[0].name, "image");
    assert_eq!(dims(&graph.input[0]), ["batch", "1", "42", "28"]);
    let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["logits_1", "logits_2"]);
    assert_eq!(dims(&graph.output[1]), ["batch", "10"]);
    let keys: Vec<&str> = model
        .metadata_props
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    for key in [
        "classes",
        "input",
        "preprocessing",
        "outputs",
        "model_config",
        "exported",
    ] {
        assert!(keys.contains(&key), "no {key} in {keys:?}");
    }
    let config = &model
        .metadata_props
        .iter()
        .find(|p| p.key == "model_config")
        .expect("model_config")
        .value;
    let parsed: ModelConfig = serde_json::from_str(config).expect("model.json's format");
    assert_eq!(parsed.heads(), 2);
}

#[test]
fn int8_weights_are_within_half_a_step_of_the_f32_ones_per_channel() {
    // A linear layer [inputs 3, outputs 2]: output channels along axis 1.
    let weight = Array {
        shape: vec![3, 2],
        values: vec![0.5, -0.01, -1.0, 0.02, 0.25, 0.0],
    };
    let (q, scales) = quantize_per_channel(&weight, 1);
    assert_eq!(scales.len(), 2);
    assert!((scales[0] - 1.0 / 127.0).abs() < 1e-7, "{scales:?}");
    assert!((scales[1] - 0.02 / 127.0).abs() < 1e-9, "{scales:?}");
    for (i, (&w, &q)) in weight.values.iter().zip(&q).enumerate() {
        let scale = scales[i % 2];
        assert!(
            (w - scale * f32::from(q)).abs() <= scale / 2.0 + 1e-9,
            "{i}"
        );
    }
    assert_eq!(q[2], -127, "the largest magnitude maps to 127");
}

/// Exports the committed model in `checkpoints` as `weights` and checks it
/// on the course's test set; returns (tract accuracy, Burn accuracy, bytes).
fn export_committed(checkpoints: &Path, weights: Weights) -> (f64, f64, usize) {
    let device = Default::default();
    let trained = TrainedModel::<Inner>::load(checkpoints, &device).expect("committed model");
    let test = course_test_set(trained.config.image_size()).expect("the test set");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("model.onnx");
    let meta = metadata(&trained.config, checkpoints, weights);
    let check = write_onnx(&trained, &device, &path, weights, &meta, &test).expect("exports");
    assert_eq!(check.test_images, test.len());
    // The accuracy is recomputed here from tract's labels, not taken from the check.
    let labels = OnnxModel::load(&path)
        .expect("loads")
        .predict(&test.images)
        .expect("runs");
    let accuracy = accuracy_all_heads(&labels, &test.labels);
    assert_eq!(accuracy, check.accuracy.0);
    (accuracy, check.accuracy.1, check.bytes)
}

fn committed(part: &str) -> std::path::PathBuf {
    mnist_report::paths::committed_reports_dir(part).join("cnn/checkpoints")
}

#[test]
fn the_committed_cnn_reads_all_10000_test_images_as_in_burn_in_f32_and_nearly_in_int8() {
    let (tract, burn, f32_bytes) = export_committed(&committed("cnn"), Weights::F32);
    assert_eq!(tract, burn, "f32 export: same test accuracy");
    assert!(burn > 0.98, "{burn}");
    let (int8, _, int8_bytes) = export_committed(&committed("cnn"), Weights::Int8);
    assert!(
        (int8 - burn).abs() <= 0.002,
        "int8 {int8} against f32 {burn}"
    );
    assert!(
        int8_bytes * 3 < f32_bytes,
        "int8 {int8_bytes} B, f32 {f32_bytes} B"
    );
}

#[test]
fn the_committed_two_digit_cnn_reads_the_4000_test_images_as_in_burn() {
    let (tract, burn, _) = export_committed(&committed("two-digit"), Weights::F32);
    assert_eq!(tract, burn);
    assert!(burn > 0.9, "{burn}");
}

#[test]
fn export_paths_are_checked_before_any_work() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("no-such-folder/model.onnx");
    let args = |path: &Path| ExportArgs {
        onnx: Some(path.to_path_buf()),
        int8: false,
        pytorch: None,
    };
    let message = args(&missing).validate().expect_err("refused").to_string();
    assert!(message.contains("no-such-folder"), "{message}");
    assert!(message.starts_with("--onnx"), "{message}");
    assert!(!message.contains('\n'), "{message}");

    let message = args(dir.path())
        .validate()
        .expect_err("refused")
        .to_string();
    assert!(message.contains("is a folder"), "{message}");
    assert!(matches!(
        args(&dir.path().join("fine.onnx")).validate(),
        Ok(())
    ));
}

#[test]
fn the_network_reads_burns_weights_in_burns_layout() {
    let trained = untrained(ModelConfig::Mlp(MlpConfig::new(vec![16])));
    let network = Network::of(&trained.model, (28, 28));
    let mnist_export::network::Layer::Linear { weight, bias } = &network.trunk[1] else {
        panic!("the first hidden layer is linear: {:?}", network.trunk[1]);
    };
    assert_eq!(weight.shape, [784, 16]);
    assert_eq!(bias.shape, [16]);
    assert_eq!(network.heads.len(), 1);
}
