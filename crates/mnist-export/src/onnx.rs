//! A [`Network`] as an ONNX graph (opset 13): one input `image
//! [batch, 1, height, width]` of pixels in [0, 1], one output of logits
//! `[batch, 10]` per head, the batch size left open. Layers become ONNX's
//! standard operators: Conv, Relu, LeakyRelu, MaxPool, Flatten and Gemm.
//!
//! With [`Weights::Int8`] every weight matrix is stored as int8 with one
//! scale per output channel (symmetric, zero point 0) and a
//! DequantizeLinear in front of the layer that reads it: the file is about
//! four times smaller, and a runtime computes in f32 as before.

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::type_proto::{self, Value};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use super::network::{Array, Layer, Network};

/// The ONNX operator set the graph uses.
pub const OPSET: i64 = 13;
/// The IR version that goes with opset 13.
const IR_VERSION: i64 = 7;
/// The graph's input.
pub const INPUT: &str = "image";
/// The symbolic batch dimension.
pub const BATCH: &str = "batch";

/// How weight matrices are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    F32,
    /// int8, one scale per output channel.
    Int8,
}

/// The graph's outputs: `logits` for one head, `logits_1`, `logits_2`, …
/// for several.
pub fn output_names(heads: usize) -> Vec<String> {
    match heads {
        1 => vec!["logits".to_string()],
        n => (1..=n).map(|h| format!("logits_{h}")).collect(),
    }
}

/// The ONNX model of `network`, with `metadata` as the model's metadata
/// properties.
pub fn onnx_model(
    network: &Network,
    weights: Weights,
    metadata: &[(String, String)],
) -> ModelProto {
    let mut graph = Graph {
        weights,
        proto: GraphProto {
            name: "mnist".into(),
            ..Default::default()
        },
    };
    let (height, width) = network.image;
    graph.proto.input.push(value_info(
        INPUT,
        &[
            Dim::Batch,
            Dim::Fixed(1),
            Dim::Fixed(height),
            Dim::Fixed(width),
        ],
    ));

    let mut x = INPUT.to_string();
    for (i, layer) in network.trunk.iter().enumerate() {
        x = graph.layer(layer, &x, &format!("trunk.{i}"), None);
    }
    for (head, (layer, output)) in network
        .heads
        .iter()
        .zip(output_names(network.heads.len()))
        .enumerate()
    {
        graph.layer(layer, &x, &format!("head.{head}"), Some(&output));
        graph
            .proto
            .output
            .push(value_info(&output, &[Dim::Batch, Dim::Fixed(10)]));
    }

    ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "mnist-course".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(graph.proto),
        metadata_props: metadata
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        ..Default::default()
    }
}

/// The graph being built: nodes and their stored tensors (initializers).
struct Graph {
    weights: Weights,
    proto: GraphProto,
}

impl Graph {
    /// Adds `layer` reading `x`; returns the name of its output (`output`
    /// if given, else one made from `name`).
    fn layer(&mut self, layer: &Layer, x: &str, name: &str, output: Option<&str>) -> String {
        let out = output.map_or_else(|| format!("{name}.out"), str::to_string);
        let (op, inputs, attributes) = match layer {
            Layer::Conv { weight, bias } => {
                let kernel = weight.shape[2..].iter().map(|&k| k as i64).collect();
                (
                    "Conv",
                    vec![
                        x.to_string(),
                        self.weight(&format!("{name}.weight"), weight, 0),
                        self.tensor(&format!("{name}.bias"), bias),
                    ],
                    vec![ints("kernel_shape", kernel), ints("strides", vec![1, 1])],
                )
            }
            Layer::Relu => ("Relu", vec![x.to_string()], vec![]),
            Layer::LeakyRelu => ("LeakyRelu", vec![x.to_string()], vec![float("alpha", 0.01)]),
            Layer::MaxPool2 => (
                "MaxPool",
                vec![x.to_string()],
                vec![
                    ints("kernel_shape", vec![2, 2]),
                    ints("strides", vec![2, 2]),
                ],
            ),
            Layer::Flatten => ("Flatten", vec![x.to_string()], vec![int("axis", 1)]),
            // Gemm: x · weight + bias, weight stored [inputs, outputs] as Burn has it.
            Layer::Linear { weight, bias } => (
                "Gemm",
                vec![
                    x.to_string(),
                    self.weight(&format!("{name}.weight"), weight, 1),
                    self.tensor(&format!("{name}.bias"), bias),
                ],
                vec![],
            ),
        };
        self.node(op, inputs, &out, attributes);
        out
    }

    fn node(
        &mut self,
        op: &str,
        inputs: Vec<String>,
        output: &str,
        attribute: Vec<AttributeProto>,
    ) {
        self.proto.node.push(NodeProto {
            name: output.to_string(),
            op_type: op.into(),
            input: inputs,
            output: vec![output.to_string()],
            attribute,
            ..Default::default()
        });
    }

    /// Stores a float tensor; returns its name.
    fn tensor(&mut self, name: &str, array: &Array) -> String {
        self.proto.initializer.push(TensorProto {
            name: name.into(),
            dims: dims(&array.shape),
            data_type: DataType::Float as i32,
            raw_data: array.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        name.to_string()
    }

    /// Stores a weight matrix whose output channels run along `axis`;
    /// returns the name of the f32 weights the layer reads.
    fn weight(&mut self, name: &str, array: &Array, axis: usize) -> String {
        match self.weights {
            Weights::F32 => self.tensor(name, array),
            Weights::Int8 => {
                let (quantized, scales) = quantize_per_channel(array, axis);
                let channels = scales.len();
                self.proto.initializer.push(TensorProto {
                    name: format!("{name}.int8"),
                    dims: dims(&array.shape),
                    data_type: DataType::Int8 as i32,
                    raw_data: quantized.iter().map(|&q| q as u8).collect(),
                    ..Default::default()
                });
                self.tensor(
                    &format!("{name}.scale"),
                    &Array {
                        shape: vec![channels],
                        values: scales,
                    },
                );
                self.proto.initializer.push(TensorProto {
                    name: format!("{name}.zero_point"),
                    dims: vec![channels as i64],
                    data_type: DataType::Int8 as i32,
                    raw_data: vec![0; channels],
                    ..Default::default()
                });
                self.node(
                    "DequantizeLinear",
                    vec![
                        format!("{name}.int8"),
                        format!("{name}.scale"),
                        format!("{name}.zero_point"),
                    ],
                    name,
                    vec![int("axis", axis as i64)],
                );
                name.to_string()
            }
        }
    }
}

/// Symmetric int8 quantization with one scale per index of `axis`: each
/// channel's largest magnitude maps to 127, and w ≈ scale · q.
pub fn quantize_per_channel(array: &Array, axis: usize) -> (Vec<i8>, Vec<f32>) {
    let channels = array.shape[axis];
    // Row-major: the index along `axis` of flat position i.
    let inner: usize = array.shape[axis + 1..].iter().product();
    let channel_of = |i: usize| (i / inner) % channels;
    let mut largest = vec![0f32; channels];
    for (i, &w) in array.values.iter().enumerate() {
        let c = channel_of(i);
        largest[c] = largest[c].max(w.abs());
    }
    let scales: Vec<f32> = largest
        .iter()
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let quantized = array
        .values
        .iter()
        .enumerate()
        .map(|(i, &w)| (w / scales[channel_of(i)]).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (quantized, scales)
}

enum Dim {
    Batch,
    Fixed(usize),
}

fn value_info(name: &str, shape: &[Dim]) -> ValueInfoProto {
    let dim = shape
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Batch => dimension::Value::DimParam(BATCH.into()),
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn dims(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

fn ints(name: &str, values: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: values,
        ..Default::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..Default::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f: value,
        ..Default::default()
    }
}
