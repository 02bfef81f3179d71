//! The quantised IR: the one boundary between the Python front end and the Rust prover.
//!
//! A [`Graph`] is a list of [`Node`]s in execution order. Each node reads named tensors and writes
//! one named tensor; integer constants (weights, biases) live outside the graph in a map of
//! [`Tensor`]s, referred to by name. Tensors are flattened row-major (NCHW for images, so a
//! `dense` after a conv sees ONNX Flatten's order); shapes, with an optional leading batch
//! dimension of 1, give conv and maxpool their geometry and are checked by the validator.
//!
//! The JSON layout:
//! ```json
//! {"version": 1,
//!  "input":  {"name": "input",  "shape": [1, 1, 28, 28], "scale_bits": 8},
//!  "output": {"name": "logits", "shape": [1, 10],  "scale_bits": 8},
//!  "nodes": [
//!    {"name": "/conv/Conv", "op": "conv", "inputs": ["input"], "output": "cacc",
//!     "weight": "conv.weight", "bias": "conv.bias", "strides": [1, 1], "pads": [1, 1, 1, 1]},
//!    {"name": "/conv/Conv:requant", "op": "requant", "inputs": ["cacc"], "output": "cq", "mult": 3, "shift": 9},
//!    {"name": "/relu1", "op": "relu", "inputs": ["cq"], "output": "c"},
//!    {"name": "/pool", "op": "maxpool", "inputs": ["c"], "output": "p", "kernel": [2, 2], "strides": [2, 2]},
//!    {"name": "/flatten", "op": "reshape", "inputs": ["p"], "output": "pf", "shape": [1, 1568]},
//!    {"name": "/fc/Gemm", "op": "dense", "inputs": ["pf"], "output": "acc",
//!     "weight": "fc.weight", "bias": null},
//!    {"name": "/fc/Gemm:requant", "op": "requant", "inputs": ["acc"], "output": "logits", "mult": 1, "shift": 9}],
//!  "meta": {"anything": "kept as is"}}
//! ```
//! Parsing is strict (unknown keys are errors, so a misspelt attribute never goes unnoticed) and
//! collects every node-level problem in one [`ModelError::Invalid`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ModelError, Result};

/// The IR format version this crate reads and writes.
pub const IR_VERSION: u64 = 1;

/// A named graph input or output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorInfo {
    /// Tensor name used by the nodes.
    pub name: String,
    /// Shape, usually with a leading batch dimension of 1.
    pub shape: Vec<usize>,
    /// Fixed-point scale: real value = integer / 2^scale_bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_bits: Option<i32>,
    /// Who sees the values: the input defaults to private, the output is always public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

/// Whether a graph input or output is part of the public statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Hidden in the witness; only proved consistent.
    Private,
    /// Carried in the proof and bound by Fiat–Shamir.
    Public,
    /// Hidden, and proved against a separate commitment whose digest the proof carries (inputs
    /// only; zero-knowledge models only).
    Committed,
}

impl TensorInfo {
    /// Number of elements (product of the shape).
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }
}

/// One operation and its attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Op {
    /// y = W·x + b with W of shape `[out, in]` (row-major) and b of shape `[out]` (zeros when absent).
    Dense {
        /// Name of the weight tensor.
        weight: String,
        /// Name of the bias tensor, `null` for none.
        #[serde(default)]
        bias: Option<String>,
    },
    /// 2-D convolution of an NCHW input (one group, no dilation): weight `[C_out, C_in, kh, kw]`
    /// row-major, bias `[C_out]` (zeros when absent). Must be followed by a requant, like dense.
    Conv {
        /// Name of the weight tensor.
        weight: String,
        /// Name of the bias tensor, `null` for none.
        #[serde(default)]
        bias: Option<String>,
        /// Strides (height, width), each ≥ 1.
        strides: [usize; 2],
        /// Zero padding: top, left, bottom, right.
        pads: [usize; 4],
    },
    /// 2-D max pooling without padding; keeps the input's scale (no requant follows it).
    #[serde(rename = "maxpool")]
    MaxPool {
        /// Window height and width.
        kernel: [usize; 2],
        /// Strides (height, width), each ≥ 1.
        strides: [usize; 2],
    },
    /// y = floor((x·mult + 2^(shift−1)) / 2^shift): rescales an accumulator to activation scale.
    Requant {
        /// Multiplier, 1..=2^24 (kept signed so that a bad value is a range error, not a type error).
        mult: i64,
        /// Right shift, 1..=16.
        shift: i64,
    },
    /// y = max(x, 0); must directly follow a requant.
    Relu {},
    /// Changes the shape, not the values (free in the proof).
    Reshape {
        /// The new shape; its element count must match the input's.
        shape: Vec<usize>,
    },
    /// y = coef[0]·x0 + coef[1]·x1 elementwise, of two tensors with as many elements (a residual
    /// or skip connection; Sub has coef[1] = −1; the coefficients align power-of-two scales).
    /// One input is the chain's current tensor, the other an earlier activation or the graph
    /// input. Must be followed by a requant, like dense.
    Add {
        /// Integer coefficients, each nonzero and at most 2^16 in magnitude.
        coef: [i64; 2],
    },
    /// y = coef·x0·x1 elementwise, of two tensors with as many elements, read like `add`'s.
    /// Must be followed by a requant.
    Mul {
        /// Integer factor, nonzero and at most 2^16 in magnitude.
        coef: i64,
    },
    /// y = round(f(x / 2^in_scale)·2^out_scale) elementwise, saturated to the activation
    /// range, for x in `range` (an input outside it is an error at proof time): a nonlinear
    /// function proved by a lookup in its table (`crate::exec::unary_value`).
    Unary {
        /// The function: one of [`crate::exec::UNARY_FUNCS`].
        func: String,
        /// Scale of the input (its producer's output scale).
        in_scale: i32,
        /// Scale of the output.
        out_scale: i32,
        /// The smallest and largest input the table covers (calibrated).
        range: [i64; 2],
        /// The function's real attributes (LeakyRelu's alpha, Pow's exponent, …), in the order
        /// [`crate::exec::unary_params`] lists them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        params: Vec<Real>,
    },
    /// Z = A·B of two activations: A (`inputs[0]`) `heads` stacked `rows × inner` matrices and
    /// B (`inputs[1]`) `heads` stacked `inner × cols`, all row-major; the output is `heads`
    /// stacked `rows × cols`. Each operand must be stored as its rows (a dense block's output is
    /// when its row length is a power of two). Must be followed by a requant, like dense.
    #[serde(rename = "matmul")]
    MatMul {
        /// Stacked products (attention heads; 1 when absent).
        #[serde(default = "one")]
        heads: usize,
        /// Rows of A and of the output.
        rows: usize,
        /// Columns of A, rows of B.
        inner: usize,
        /// Columns of B and of the output.
        cols: usize,
    },
}

fn one() -> usize {
    1
}

/// A real attribute (an ONNX float such as LeakyRelu's alpha), equal when its bits are.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Real(pub f64);

impl PartialEq for Real {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Real {}

impl Op {
    /// The op's name as written in the IR.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Dense { .. } => "dense",
            Op::Conv { .. } => "conv",
            Op::MaxPool { .. } => "maxpool",
            Op::Requant { .. } => "requant",
            Op::Relu {} => "relu",
            Op::Reshape { .. } => "reshape",
            Op::Add { .. } => "add",
            Op::Mul { .. } => "mul",
            Op::Unary { .. } => "unary",
            Op::MatMul { .. } => "matmul",
        }
    }
}

/// One node of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Unique node name (usually the ONNX node it came from).
    pub name: String,
    /// The operation and its attributes (serialised as `"op"` plus the attribute keys).
    #[serde(flatten)]
    pub op: Op,
    /// Names of the tensors it reads.
    pub inputs: Vec<String>,
    /// Name of the tensor it writes.
    pub output: String,
}

/// A quantised model graph. Serialises to the IR JSON; read it with [`Graph::from_json`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Graph {
    /// IR format version ([`IR_VERSION`]).
    pub version: u64,
    /// The graph input.
    pub input: TensorInfo,
    /// The graph output: the last computing node's output.
    pub output: TensorInfo,
    /// Further outputs (a graph with several): each the output of an earlier computing node,
    /// stated in every proof after `output`, in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_outputs: Vec<TensorInfo>,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// Activation width in bits (the proof's lookup tables have 2^act_bits entries; 8..=16).
    #[serde(default = "default_act_bits")]
    pub act_bits: u32,
    /// Opaque metadata from the front end, returned unchanged.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub meta: Value,
}

fn default_act_bits() -> u32 {
    zkgrad_core::circuit::DEFAULT_TABLE_BITS
}

/// An integer constant tensor (weights, biases), row-major.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<i64>,
}

impl Tensor {
    /// Builds a tensor, checking that `data` has as many values as `shape` says.
    pub fn new(name: &str, shape: Vec<usize>, data: Vec<i64>) -> Result<Self> {
        let expected = numel(&shape);
        if data.len() != expected {
            return Err(ModelError::TensorData {
                tensor: name.into(),
                shape,
                expected,
                got: data.len(),
            });
        }
        Ok(Tensor { shape, data })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values, row-major.
    pub fn data(&self) -> &[i64] {
        &self.data
    }
}

/// Number of elements of a shape (1 for the empty shape, a scalar).
pub fn numel(shape: &[usize]) -> usize {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .unwrap_or(usize::MAX)
}

/// The graph as written, before the op of each node is interpreted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGraph {
    version: u64,
    input: TensorInfo,
    output: TensorInfo,
    #[serde(default)]
    extra_outputs: Vec<TensorInfo>,
    nodes: Vec<RawNode>,
    #[serde(default = "default_act_bits")]
    act_bits: u32,
    /// Written by front ends before proof format 6; only `true` is accepted (zero knowledge
    /// is always on).
    #[serde(default)]
    zk: Option<bool>,
    #[serde(default)]
    meta: Value,
}

#[derive(Deserialize)]
struct RawNode {
    name: String,
    op: String,
    inputs: Vec<String>,
    output: String,
    #[serde(flatten)]
    attrs: Map<String, Value>,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

const KNOWN_OPS: [&str; 10] = [
    "dense", "conv", "maxpool", "requant", "relu", "reshape", "add", "mul", "unary", "matmul",
];

impl Graph {
    /// Parses the IR JSON. Reports a wrong version before anything else, then every unknown op
    /// and bad attribute at once. Does not check the graph's structure: see [`crate::validate()`].
    pub fn from_json(text: &str) -> Result<Graph> {
        let json_err = |e: serde_json::Error| ModelError::Json {
            detail: e.to_string(),
        };
        let v: VersionOnly = serde_json::from_str(text).map_err(json_err)?;
        if v.version != IR_VERSION {
            return Err(ModelError::IrVersion {
                expected: IR_VERSION,
                got: v.version,
            });
        }
        let raw: RawGraph = serde_json::from_str(text).map_err(json_err)?;
        if raw.zk == Some(false) {
            return Err(ModelError::Json {
                detail: "\"zk\": false is no longer accepted: zero knowledge is always on since proof format 6".into(),
            });
        }
        let mut problems = Vec::new();
        let mut nodes = Vec::with_capacity(raw.nodes.len());
        for n in raw.nodes {
            match parse_op(&n) {
                Ok(op) => nodes.push(Node {
                    name: n.name,
                    op,
                    inputs: n.inputs,
                    output: n.output,
                }),
                Err(e) => problems.push(e),
            }
        }
        ModelError::collect(problems)?;
        Ok(Graph {
            version: raw.version,
            input: raw.input,
            output: raw.output,
            extra_outputs: raw.extra_outputs,
            nodes,
            act_bits: raw.act_bits,
            meta: raw.meta,
        })
    }

    /// Every graph output, in statement order: `output`, then `extra_outputs`.
    pub fn outputs(&self) -> impl Iterator<Item = &TensorInfo> {
        std::iter::once(&self.output).chain(&self.extra_outputs)
    }

    /// The IR JSON (compact), including `meta`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an IR graph always serialises to JSON")
    }

    /// The node that writes `tensor`, if any.
    pub fn producer(&self, tensor: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.output == tensor)
    }
}

fn parse_op(n: &RawNode) -> Result<Op> {
    if !KNOWN_OPS.contains(&n.op.as_str()) {
        return Err(ModelError::UnknownOp {
            node: n.name.clone(),
            op: n.op.clone(),
        });
    }
    let mut obj = n.attrs.clone();
    obj.insert("op".into(), Value::String(n.op.clone()));
    serde_json::from_value(Value::Object(obj)).map_err(|e| ModelError::Attribute {
        node: n.name.clone(),
        op: n.op.clone(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A two-layer MLP 4-3-2 in IR form, used by the tests of every module.
    pub(crate) const MLP_JSON: &str = r#"{"version": 1,
      "input":  {"name": "input", "shape": [1, 4], "scale_bits": 8},
      "output": {"name": "logits", "shape": [1, 2], "scale_bits": 8},
      "nodes": [
        {"name": "/fc1/Gemm", "op": "dense", "inputs": ["input"], "output": "fc1_acc", "weight": "fc1.weight", "bias": "fc1.bias"},
        {"name": "/fc1/Gemm:requant", "op": "requant", "inputs": ["fc1_acc"], "output": "fc1_q", "mult": 3, "shift": 2},
        {"name": "/relu", "op": "relu", "inputs": ["fc1_q"], "output": "h1"},
        {"name": "/flatten", "op": "reshape", "inputs": ["h1"], "output": "h1f", "shape": [1, 3]},
        {"name": "/fc2/Gemm", "op": "dense", "inputs": ["h1f"], "output": "fc2_acc", "weight": "fc2.weight", "bias": null},
        {"name": "/fc2/Gemm:requant", "op": "requant", "inputs": ["fc2_acc"], "output": "logits", "mult": 1, "shift": 1}
      ],
      "meta": {"zeta": 1, "alpha": [1.5, 0.1, 1e-7], "nested": {"b": null, "a": "x"}}
    }"#;

    /// The MLP's tensors: fc1 is 3×4 with a bias, fc2 is 2×3 without.
    pub(crate) fn mlp_tensors() -> std::collections::BTreeMap<String, Tensor> {
        let mut t = std::collections::BTreeMap::new();
        t.insert(
            "fc1.weight".into(),
            Tensor::new(
                "fc1.weight",
                vec![3, 4],
                vec![1, 2, 0, -1, 0, -3, 1, 1, 2, 2, 2, 2],
            )
            .unwrap(),
        );
        t.insert(
            "fc1.bias".into(),
            Tensor::new("fc1.bias", vec![3], vec![1, 0, -5]).unwrap(),
        );
        t.insert(
            "fc2.weight".into(),
            Tensor::new("fc2.weight", vec![2, 3], vec![1, -1, 2, 0, 3, -2]).unwrap(),
        );
        t
    }

    #[test]
    fn parses_the_mlp_ir() {
        let g = Graph::from_json(MLP_JSON).unwrap();
        assert_eq!(g.nodes.len(), 6);
        assert_eq!(g.input.numel(), 4);
        assert_eq!(
            g.nodes[0].op,
            Op::Dense {
                weight: "fc1.weight".into(),
                bias: Some("fc1.bias".into())
            }
        );
        assert_eq!(g.nodes[1].op, Op::Requant { mult: 3, shift: 2 });
        assert_eq!(g.nodes[2].op, Op::Relu {});
        assert_eq!(g.nodes[3].op, Op::Reshape { shape: vec![1, 3] });
        assert_eq!(
            g.nodes[4].op,
            Op::Dense {
                weight: "fc2.weight".into(),
                bias: None
            }
        );
        assert_eq!(g.producer("h1").unwrap().name, "/relu");
    }

    #[test]
    fn json_round_trip_preserves_graph_and_meta_order() {
        let g = Graph::from_json(MLP_JSON).unwrap();
        let text = g.to_json();
        assert_eq!(Graph::from_json(&text).unwrap(), g);
        // Key order of the opaque meta object is kept as written.
        let meta = &text[text.find("\"meta\"").unwrap()..];
        assert!(
            meta.starts_with(
                r#""meta":{"zeta":1,"alpha":[1.5,0.1,1e-7],"nested":{"b":null,"a":"x"}}"#
            ),
            "{meta}"
        );
        // The node attributes come out flattened, as the front end writes them.
        assert!(
            text.contains(r#""op":"requant","mult":3,"shift":2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"{"name":"/relu","op":"relu","inputs":["fc1_q"],"output":"h1"}"#),
            "{text}"
        );
    }

    #[test]
    fn unknown_ops_and_bad_attributes_are_all_reported_by_node() {
        let text = MLP_JSON
            .replace(r#""op": "relu""#, r#""op": "gelu""#)
            .replace(r#""mult": 3, "shift": 2"#, r#""mult": 3, "shfit": 2"#)
            .replace(r#""shape": [1, 3]"#, r#""shape": [1, -1]"#);
        let e = Graph::from_json(&text).unwrap_err();
        let ps = e.problems();
        assert_eq!(ps.len(), 3, "{e}");
        assert_eq!(
            *ps[0],
            ModelError::Attribute {
                node: "/fc1/Gemm:requant".into(),
                op: "requant".into(),
                detail: ps[0]
                    .to_string()
                    .split("bad attributes: ")
                    .nth(1)
                    .unwrap()
                    .into(),
            }
        );
        assert!(ps[0].to_string().contains("shfit"), "{e}");
        assert_eq!(
            *ps[1],
            ModelError::UnknownOp {
                node: "/relu".into(),
                op: "gelu".into()
            }
        );
        assert!(
            ps[2]
                .to_string()
                .starts_with("node '/flatten' (reshape): bad attributes"),
            "{e}"
        );
    }

    #[test]
    fn relu_with_attributes_is_rejected() {
        let text = MLP_JSON.replace(r#""output": "h1"}"#, r#""output": "h1", "alpha": 0.1}"#);
        let e = Graph::from_json(&text).unwrap_err();
        assert!(
            e.to_string()
                .contains("node '/relu' (relu): bad attributes"),
            "{e}"
        );
    }

    #[test]
    fn wrong_version_and_bad_json_are_rejected() {
        let e =
            Graph::from_json(&MLP_JSON.replace(r#""version": 1"#, r#""version": 2"#)).unwrap_err();
        assert_eq!(
            e,
            ModelError::IrVersion {
                expected: 1,
                got: 2
            }
        );
        assert!(matches!(
            Graph::from_json("{not json"),
            Err(ModelError::Json { .. })
        ));
        let e =
            Graph::from_json(&MLP_JSON.replace(r#""meta""#, r#""extra": 1, "meta""#)).unwrap_err();
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    }

    #[test]
    fn meta_and_bias_are_optional() {
        let text = r#"{"version": 1, "input": {"name": "x", "shape": [2]}, "output": {"name": "y", "shape": [1]},
            "nodes": [{"name": "d", "op": "dense", "inputs": ["x"], "output": "y", "weight": "w"}]}"#;
        let g = Graph::from_json(text).unwrap();
        assert_eq!(g.meta, Value::Null);
        assert_eq!(
            g.nodes[0].op,
            Op::Dense {
                weight: "w".into(),
                bias: None
            }
        );
        assert!(!g.to_json().contains("meta"));
    }

    #[test]
    fn tensor_checks_its_length() {
        let e = Tensor::new("w", vec![2, 3], vec![0; 5]).unwrap_err();
        assert_eq!(
            e,
            ModelError::TensorData {
                tensor: "w".into(),
                shape: vec![2, 3],
                expected: 6,
                got: 5
            }
        );
    }
}
