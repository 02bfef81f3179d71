//! Lowering: a validated IR graph becomes a zkgrad-core [`CircuitSpec`] and its [`Weights`].
//!
//! The proof system proves a chain of blocks in which an elementwise block may also read an
//! earlier block's output or the input (a skip or residual connection: the circuit is a DAG whose
//! tensors may have several readers). So the graph must be one chain of ops in which every
//! `dense`, `conv` or `add` is directly followed by its `requant` and optionally a `relu`: each
//! such group is one [`DenseSpec`] named after the dense, conv or add node; one input of an `add`
//! is the chain's current tensor, the other any earlier activation. A `maxpool` is a block on its
//! own. Reshapes are free (they relabel the flattened vector). Anything else is an error naming
//! the node. The lowering also records, for every IR tensor, which vector of the forward
//! pass holds its values (see [`Source`]), so the executor can report every named intermediate.

use std::collections::BTreeMap;

use zkgrad_core::circuit::{
    ActShape, CircuitSpec, ConvGeom, DenseSpec, DenseWeights, ElementwiseGeom, ElementwiseOp,
    LayerKind, Operand, PoolGeom, UnaryGeom, Weights,
};

use crate::error::{ModelError, Result};
use crate::ir::{Graph, Node, Op, Tensor, numel};
use crate::validate::{image, shapes};

/// Which vector of the core's forward pass holds an IR tensor's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The graph input.
    Input,
    /// The accumulator `W·a + b` of block `l`.
    Acc(usize),
    /// The requantised values of block `l`.
    Requant(usize),
    /// The output activations of block `l` (after the ReLU, if any; the maxima of a maxpool).
    Act(usize),
}

/// The IR names behind one block, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockNames {
    /// The dense, conv or maxpool node (also the block's name in the spec).
    pub node: String,
    /// Its op: "dense", "conv" or "maxpool".
    pub op: String,
    /// The tensor that node writes.
    pub acc: String,
    /// The requant node (the maxpool node itself for a pooling block).
    pub requant: String,
    /// The tensor the requant node writes (the maxpool's output for a pooling block).
    pub q: String,
}

/// A graph lowered to the proof system's circuit, with the names needed to report on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lowered {
    /// The public circuit description.
    pub spec: CircuitSpec,
    /// The private weights, one entry per block.
    pub weights: Weights,
    /// Name of the graph input tensor.
    pub input: String,
    /// The IR names of each block, parallel to `spec.layers`.
    pub blocks: Vec<BlockNames>,
    /// Every IR tensor, in graph order starting with the input, and where its values live.
    pub tensors: Vec<(String, Source)>,
}

/// Validates the graph, then lowers it to a circuit and weights.
pub fn lower(graph: &Graph, tensors: &BTreeMap<String, Tensor>) -> Result<Lowered> {
    let shapes = shapes(graph, tensors)?;
    let mut out = Lowered {
        spec: CircuitSpec {
            input_len: graph.input.numel(),
            table_bits: graph.act_bits,
            layers: Vec::new(),
            public_input: graph.input.visibility == Some(crate::ir::Visibility::Public),
            committed_input: graph.input.visibility == Some(crate::ir::Visibility::Committed),
        },
        weights: Weights { layers: Vec::new() },
        input: graph.input.name.clone(),
        blocks: Vec::new(),
        tensors: vec![(graph.input.name.clone(), Source::Input)],
    };
    let mut current = (graph.input.name.as_str(), Source::Input);
    let nodes = &graph.nodes;
    let mut i = 0;
    while i < nodes.len() {
        let node = &nodes[i];
        let elementwise = match &node.op {
            Op::Add { coef } => Some((ElementwiseOp::Sum, *coef)),
            Op::Mul { coef } => Some((ElementwiseOp::Product, [*coef, 1])),
            _ => None,
        };
        if let Some((op, coef)) = elementwise {
            let (spec, weights) = add_block(&out, node, current, op, coef)?;
            let (used, last) = push_linear(&mut out, &nodes[i..], spec, weights)?;
            current = last;
            i += used;
            continue;
        }
        expect_input(node, current.0)?;
        let in_shape = &shapes[current.0];
        match &node.op {
            Op::Add { .. } | Op::Mul { .. } => unreachable!("handled above"),
            Op::Reshape { .. } => {
                out.tensors.push((node.output.clone(), current.1));
                current.0 = &node.output;
                i += 1;
            }
            Op::Dense { .. } | Op::Conv { .. } => {
                let (spec, weights) = linear_block(node, in_shape, tensors);
                let (used, last) = push_linear(&mut out, &nodes[i..], spec, weights)?;
                current = last;
                i += used;
            }
            Op::MaxPool { kernel, strides } => {
                let [channels, h, w] = image(in_shape).expect("validated: an image input");
                let g = PoolGeom {
                    channels,
                    in_hw: [h, w],
                    kernel: *kernel,
                    stride: *strides,
                };
                let spec = DenseSpec {
                    name: node.name.clone(),
                    in_dim: numel(in_shape),
                    out_dim: channels * g.out_hw()[0] * g.out_hw()[1],
                    mult: 1,
                    shift: 1,
                    relu: false,
                    kind: LayerKind::MaxPool(g),
                };
                let l = push_block(
                    &mut out,
                    node,
                    spec,
                    DenseWeights {
                        weight: Vec::new(),
                        bias: Vec::new(),
                    },
                )?;
                out.blocks.push(BlockNames {
                    node: node.name.clone(),
                    op: "maxpool".into(),
                    acc: node.output.clone(),
                    requant: node.name.clone(),
                    q: node.output.clone(),
                });
                out.tensors.push((node.output.clone(), Source::Act(l)));
                current = (&node.output, Source::Act(l));
                i += 1;
            }
            Op::Unary { .. } => {
                let l = unary_block(&mut out, node, in_shape, graph.act_bits)?;
                out.tensors.push((node.output.clone(), Source::Act(l)));
                current = (&node.output, Source::Act(l));
                i += 1;
            }
            Op::Requant { .. } => {
                return Err(unsupported(
                    node,
                    "a requant must directly follow a dense or conv or add or mul node".into(),
                ));
            }
            Op::Relu {} => {
                return Err(unsupported(
                    node,
                    "a relu must directly follow a dense or conv or add or mul node's requant"
                        .into(),
                ));
            }
        }
    }
    if out.spec.layers.is_empty() {
        return Err(ModelError::NoLayers);
    }
    if current.0 != graph.output.name {
        return Err(ModelError::ChainEnd {
            output: graph.output.name.clone(),
            last: current.0.to_string(),
        });
    }
    out.spec.validate().map_err(ModelError::Core)?;
    out.spec
        .check_weights(&out.weights)
        .map_err(ModelError::Core)?;
    // Refused at compile time, naming the node, rather than at the first proof.
    zkgrad_core::zk::check_supported(&out.spec).map_err(|e| {
        let block = out
            .blocks
            .iter()
            .zip(&out.spec.layers)
            .find(|(_, l)| e.to_string().contains(&format!("'{}'", l.name)));
        match block.and_then(|(b, l)| Some((graph.nodes.iter().find(|n| n.name == b.node)?, l))) {
            // The node is named already: keep the reason, not the core's "invalid circuit:
            // block '…':" wording.
            Some((node, layer)) => {
                let text = match &e {
                    zkgrad_core::ProofError::Circuit(m) => m.clone(),
                    e => e.to_string(),
                };
                let prefix = format!("block '{}': ", layer.name);
                unsupported(
                    node,
                    text.strip_prefix(&prefix).unwrap_or(&text).to_string(),
                )
            }
            None => ModelError::Core(e),
        }
    })?;
    Ok(out)
}

/// The spec (requantisation still unset) and weights of a dense or conv node.
fn linear_block(
    node: &Node,
    in_shape: &[usize],
    tensors: &BTreeMap<String, Tensor>,
) -> (DenseSpec, DenseWeights) {
    let (Op::Dense { weight, bias } | Op::Conv { weight, bias, .. }) = &node.op else {
        unreachable!("called for dense and conv nodes only")
    };
    let w = &tensors[weight];
    let rows = w.shape()[0];
    let bias = match bias {
        Some(b) => tensors[b].data().to_vec(),
        None => vec![0; rows],
    };
    let (out_dim, kind) = match &node.op {
        Op::Conv { strides, pads, .. } => {
            let [c, h, wd] = image(in_shape).expect("validated: an image input");
            let g = ConvGeom {
                in_channels: c,
                in_hw: [h, wd],
                out_channels: rows,
                kernel: [w.shape()[2], w.shape()[3]],
                stride: *strides,
                pads: *pads,
            };
            (rows * g.out_hw()[0] * g.out_hw()[1], LayerKind::Conv(g))
        }
        _ => (rows, LayerKind::Dense),
    };
    let spec = DenseSpec {
        name: node.name.clone(),
        in_dim: numel(in_shape),
        out_dim,
        mult: 1,
        shift: 1,
        relu: false,
        kind,
    };
    let weights = DenseWeights {
        weight: w.data().to_vec(),
        bias,
    };
    (spec, weights)
}

/// The spec (requantisation still unset) of an add or mul node: one operand is the chain's current
/// tensor, the other an earlier activation (a block's output, or the input) stored alike.
fn add_block(
    out: &Lowered,
    node: &Node,
    current: (&str, Source),
    op: ElementwiseOp,
    coef: [i64; 2],
) -> Result<(DenseSpec, DenseWeights)> {
    let Some(pos) = node.inputs.iter().position(|t| t == current.0) else {
        return Err(unsupported(
            node,
            format!(
                "it reads {:?} but neither is the chain's current tensor '{}'; an add must take \
                 the previous op's output and one earlier tensor (two branches that both compute \
                 are not supported yet)",
                node.inputs, current.0
            ),
        ));
    };
    let other_name = &node.inputs[1 - pos];
    let source = out
        .tensors
        .iter()
        .find(|(t, _)| t == other_name)
        .map(|(_, s)| *s);
    let other = match source {
        Some(Source::Input) => Operand::Input,
        Some(Source::Act(k)) => Operand::Block(k),
        Some(Source::Requant(k)) if !out.spec.layers[k].relu => Operand::Block(k),
        _ => {
            return Err(unsupported(
                node,
                format!(
                    "its operand '{other_name}' is not an activation (the graph input, or a \
                     block's output after its ReLU); adding an accumulator or a pre-ReLU value is \
                     not supported"
                ),
            ));
        }
    };
    let shape = match current.1 {
        Source::Act(l) | Source::Requant(l) => out.spec.layers[l].out_shape(),
        _ => out
            .spec
            .layers
            .first()
            .and_then(|l| l.in_shape())
            .unwrap_or(ActShape::flat(out.spec.input_len)),
    };
    let coef = if pos == 0 { coef } else { [coef[1], coef[0]] };
    let len = shape.channels * shape.len;
    let spec = DenseSpec {
        name: node.name.clone(),
        in_dim: len,
        out_dim: len,
        mult: 1,
        shift: 1,
        relu: false,
        kind: LayerKind::Elementwise(ElementwiseGeom {
            op,
            other,
            coef,
            channels: shape.channels,
            len: shape.len,
        }),
    };
    let none = DenseWeights {
        weight: Vec::new(),
        bias: Vec::new(),
    };
    Ok((spec, none))
}

/// Adds the block that starts at `nodes[0]` (dense, conv or add), its requant and optional relu;
/// returns how many nodes it used and the chain's new current tensor.
fn push_linear<'g>(
    out: &mut Lowered,
    nodes: &'g [Node],
    mut spec: DenseSpec,
    weights: DenseWeights,
) -> Result<(usize, (&'g str, Source))> {
    let node = &nodes[0];
    let requant = nodes.get(1).filter(|n| matches!(n.op, Op::Requant { .. }));
    let Some(requant) = requant else {
        return Err(unsupported(
            node,
            format!(
                "a {} node must be followed directly by its requant",
                node.op.kind()
            ),
        ));
    };
    expect_input(requant, &node.output)?;
    let relu = nodes.get(2).filter(|n| matches!(n.op, Op::Relu {}));
    if let Some(r) = relu {
        expect_input(r, &requant.output)?;
    }
    let Op::Requant { mult, shift } = requant.op else {
        unreachable!("matched above")
    };
    // Validation checked 1..=2^24 and 1..=16, so these conversions are exact.
    spec.mult = mult as u64;
    spec.shift = shift as u32;
    spec.relu = relu.is_some();
    let l = push_block(out, node, spec, weights)?;
    out.blocks.push(BlockNames {
        node: node.name.clone(),
        op: node.op.kind().into(),
        acc: node.output.clone(),
        requant: requant.name.clone(),
        q: requant.output.clone(),
    });
    out.tensors.push((node.output.clone(), Source::Acc(l)));
    out.tensors
        .push((requant.output.clone(), Source::Requant(l)));
    Ok(match relu {
        Some(r) => {
            out.tensors.push((r.output.clone(), Source::Act(l)));
            (3, (&r.output, Source::Act(l)))
        }
        None => (2, (&requant.output, Source::Act(l))),
    })
}

/// Appends a `unary` node's table block (stored like its input: the previous block's output,
/// or the graph input, channel by channel for an image); returns its index.
fn unary_block(out: &mut Lowered, node: &Node, in_shape: &[usize], bits: u32) -> Result<usize> {
    let Op::Unary {
        func,
        in_scale,
        out_scale,
        range,
        params,
    } = &node.op
    else {
        unreachable!("called on unary nodes")
    };
    let shape = match (out.spec.layers.last(), image(in_shape)) {
        (Some(l), _) => l.out_shape(),
        (None, Some([channels, h, w])) => ActShape {
            channels,
            len: h * w,
        },
        (None, None) => ActShape::flat(out.spec.input_len),
    };
    let params: Vec<f64> = params.iter().map(|p| p.0).collect();
    let values = crate::exec::unary_table(func, &params, *range, (*in_scale, *out_scale), bits)
        .map_err(|x| {
            unsupported(
                node,
                format!(
                    "{func} is undefined at input {x} (the real value {}) of its table range \
                         [{}, {}]",
                    x as f64 * (-f64::from(*in_scale)).exp2(),
                    range[0],
                    range[1]
                ),
            )
        })?;
    let n = shape.channels * shape.len;
    let spec = DenseSpec {
        name: node.name.clone(),
        in_dim: n,
        out_dim: n,
        mult: 1,
        shift: 1,
        relu: false,
        kind: LayerKind::Unary(UnaryGeom {
            func: func.clone(),
            channels: shape.channels,
            len: shape.len,
            lo: range[0],
            values,
        }),
    };
    let l = push_block(
        out,
        node,
        spec,
        DenseWeights {
            weight: Vec::new(),
            bias: Vec::new(),
        },
    )?;
    out.blocks.push(BlockNames {
        node: node.name.clone(),
        op: func.clone(),
        acc: node.inputs[0].clone(),
        requant: node.name.clone(),
        q: node.output.clone(),
    });
    Ok(l)
}

/// Appends a block after checking that the previous block stores its output the way this one
/// reads it (channel by channel); returns the block's index.
fn push_block(
    out: &mut Lowered,
    node: &Node,
    spec: DenseSpec,
    weights: DenseWeights,
) -> Result<usize> {
    let prev = out
        .spec
        .layers
        .last()
        .map(|l| l.out_shape())
        .unwrap_or(ActShape::flat(out.spec.input_len));
    if let (Some(want), false) = (spec.in_shape(), out.spec.layers.is_empty()) {
        let same = (0..spec.in_dim).all(|i| want.slot(i) == prev.slot(i));
        if !same {
            return Err(unsupported(
                node,
                format!(
                    "it reads {} channel(s) of {} values, but the previous block stores {} channel(s) \
                     of {}; regrouping channels between blocks is not supported",
                    want.channels, want.len, prev.channels, prev.len
                ),
            ));
        }
    }
    out.spec.layers.push(spec);
    out.weights.layers.push(weights);
    Ok(out.spec.layers.len() - 1)
}

/// The chain rule: every node reads exactly the tensor the previous op wrote.
fn expect_input(node: &Node, current: &str) -> Result<()> {
    if node.inputs.len() == 1 && node.inputs[0] == current {
        return Ok(());
    }
    Err(unsupported(
        node,
        format!(
            "it reads {:?} but the chain's current tensor is '{current}'; only a single chain of ops \
             (no branches, no skipped tensors) can be proved",
            node.inputs
        ),
    ))
}

fn unsupported(node: &Node, detail: String) -> ModelError {
    ModelError::Unsupported {
        node: node.name.clone(),
        op: node.op.kind().into(),
        detail,
    }
}

impl Lowered {
    /// Number of weight and bias values in the circuit (absent biases count as zeros).
    pub fn num_values(&self) -> usize {
        self.weights
            .layers
            .iter()
            .map(|l| l.weight.len() + l.bias.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::tests::{MLP_JSON, mlp_tensors};

    fn lower_json(json: &str) -> Result<Lowered> {
        lower(&Graph::from_json(json).unwrap(), &mlp_tensors())
    }

    #[test]
    fn the_mlp_lowers_to_two_blocks() {
        let l = lower_json(MLP_JSON).unwrap();
        assert_eq!(l.spec.input_len, 4);
        assert_eq!(
            l.spec.layers,
            vec![
                DenseSpec {
                    name: "/fc1/Gemm".into(),
                    in_dim: 4,
                    out_dim: 3,
                    mult: 3,
                    shift: 2,
                    relu: true,
                    kind: LayerKind::Dense,
                },
                DenseSpec {
                    name: "/fc2/Gemm".into(),
                    in_dim: 3,
                    out_dim: 2,
                    mult: 1,
                    shift: 1,
                    relu: false,
                    kind: LayerKind::Dense,
                },
            ]
        );
        assert_eq!(l.weights.layers[0].bias, vec![1, 0, -5]);
        assert_eq!(
            l.weights.layers[1].bias,
            vec![0, 0],
            "a null bias lowers to zeros"
        );
        assert_eq!(l.weights.layers[1].weight, vec![1, -1, 2, 0, 3, -2]);
        let names: Vec<_> = l.tensors.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        assert_eq!(
            names,
            vec![
                ("input", Source::Input),
                ("fc1_acc", Source::Acc(0)),
                ("fc1_q", Source::Requant(0)),
                ("h1", Source::Act(0)),
                ("h1f", Source::Act(0)),
                ("fc2_acc", Source::Acc(1)),
                ("logits", Source::Requant(1)),
            ]
        );
        assert_eq!(l.blocks[1].requant, "/fc2/Gemm:requant");
        assert_eq!(l.blocks[1].op, "dense");
        assert_eq!(l.num_values(), 12 + 3 + 6 + 2);
    }

    #[test]
    fn a_dense_without_requant_is_rejected() {
        // The graph ends at the second dense's accumulator.
        let json = MLP_JSON
            .replace(r#""output": "fc2_acc""#, r#""output": "logits""#)
            .replace(r#"{"name": "/fc2/Gemm:requant", "op": "requant", "inputs": ["fc2_acc"], "output": "logits", "mult": 1, "shift": 1}"#, "")
            .replace(r#""bias": null},"#, r#""bias": null}"#);
        let e = lower_json(&json).unwrap_err();
        assert_eq!(
            e.to_string(),
            "node '/fc2/Gemm' (dense) cannot be proved yet: a dense node must be followed directly by its requant"
        );
    }

    #[test]
    fn branches_are_rejected_naming_the_node() {
        // The second dense reads the requantised tensor, skipping the relu's output.
        let json = MLP_JSON
            .replace(r#""inputs": ["h1f"]"#, r#""inputs": ["fc1_q"]"#)
            .replace(r#""shape": [1, 3]"#, r#""shape": [3]"#);
        let e = lower_json(&json).unwrap_err();
        assert!(e.to_string().starts_with("node '/fc2/Gemm' (dense) cannot be proved yet: it reads [\"fc1_q\"] but the chain's current tensor is 'h1f'"), "{e}");
    }

    /// fc1 → relu (h1) → fc2 (h2) → res = h2 − h1 → relu: the add reads the chain and h1.
    const RESIDUAL_JSON: &str = r#"{"version": 1,
      "input":  {"name": "input", "shape": [1, 4], "scale_bits": 8},
      "output": {"name": "y", "shape": [1, 3], "scale_bits": 8},
      "nodes": [
        {"name": "fc1", "op": "dense", "inputs": ["input"], "output": "a1", "weight": "fc1.weight", "bias": "fc1.bias"},
        {"name": "fc1:requant", "op": "requant", "inputs": ["a1"], "output": "q1", "mult": 3, "shift": 2},
        {"name": "relu1", "op": "relu", "inputs": ["q1"], "output": "h1"},
        {"name": "fc2", "op": "dense", "inputs": ["h1"], "output": "a2", "weight": "fc2.weight", "bias": null},
        {"name": "fc2:requant", "op": "requant", "inputs": ["a2"], "output": "h2", "mult": 1, "shift": 1},
        {"name": "res", "op": "add", "inputs": ["h1", "h2"], "output": "r", "coef": [-1, 1]},
        {"name": "res:requant", "op": "requant", "inputs": ["r"], "output": "rq", "mult": 2, "shift": 1},
        {"name": "relu2", "op": "relu", "inputs": ["rq"], "output": "y"}
      ]}"#;

    fn residual_tensors() -> BTreeMap<String, Tensor> {
        let mut t = mlp_tensors();
        t.insert(
            "fc2.weight".into(),
            Tensor::new("fc2.weight", vec![3, 3], vec![1, -1, 2, 0, 3, -2, 1, 1, 1]).unwrap(),
        );
        t
    }

    #[test]
    fn a_residual_add_lowers_to_an_elementwise_block() {
        let g = Graph::from_json(RESIDUAL_JSON).unwrap();
        let m = lower(&g, &residual_tensors()).unwrap();
        assert_eq!(m.spec.layers.len(), 3);
        let res = &m.spec.layers[2];
        assert!(res.relu && res.mult == 2 && res.shift == 1);
        // The chain's tensor (h2) is the first operand: the coefficients follow it.
        assert_eq!(
            res.kind,
            LayerKind::Elementwise(ElementwiseGeom {
                op: ElementwiseOp::Sum,
                other: Operand::Block(0),
                coef: [1, -1],
                channels: 1,
                len: 3
            })
        );
        let x = [5, -3, 2, 7];
        let t = crate::exec::run_trace(&m, &x).unwrap();
        let get = |n: &str| t.iter().find(|(k, _)| k == n).unwrap().1.clone();
        let (h1, h2) = (get("h1"), get("h2"));
        let want: Vec<i64> = h1.iter().zip(&h2).map(|(a, b)| (b - a).max(0)).collect();
        assert_eq!(get("y"), want);
        // An add whose operands are both off the chain, or an accumulator, is refused by name.
        let e = lower_json_with(&RESIDUAL_JSON.replace(r#"["h1", "h2"]"#, r#"["h1", "q1"]"#))
            .unwrap_err();
        assert!(e.to_string().contains("node 'res' (add)"), "{e}");
        let e = lower_json_with(&RESIDUAL_JSON.replace(r#"["h1", "h2"]"#, r#"["a1", "h2"]"#))
            .unwrap_err();
        assert!(e.to_string().contains("not an activation"), "{e}");
        let e = lower_json_with(&RESIDUAL_JSON.replace(r#"["h1", "h2"]"#, r#"["input", "h2"]"#))
            .unwrap_err();
        assert!(e.to_string().contains("differ in size"), "{e}");
    }

    fn lower_json_with(json: &str) -> Result<Lowered> {
        lower(&Graph::from_json(json)?, &residual_tensors())
    }

    #[test]
    fn output_must_end_the_chain() {
        // A trailing reshape after the declared output.
        let json = MLP_JSON.replace(
            r#""mult": 1, "shift": 1}"#,
            r#""mult": 1, "shift": 1}, {"name": "/tail", "op": "reshape", "inputs": ["logits"], "output": "tail", "shape": [2]}"#,
        );
        let e = lower_json(&json).unwrap_err();
        assert_eq!(
            e,
            ModelError::ChainEnd {
                output: "logits".into(),
                last: "tail".into()
            }
        );
    }

    #[test]
    fn a_graph_of_reshapes_has_nothing_to_prove() {
        let json = r#"{"version": 1, "input": {"name": "x", "shape": [1, 2]}, "output": {"name": "y", "shape": [2]},
            "nodes": [{"name": "r", "op": "reshape", "inputs": ["x"], "output": "y", "shape": [2]}]}"#;
        assert_eq!(lower_json(json).unwrap_err(), ModelError::NoLayers);
    }

    #[test]
    fn lowering_validates_first() {
        let json = MLP_JSON.replace(r#""shift": 2"#, r#""shift": 0"#);
        let e = lower_json(&json).unwrap_err();
        assert!(matches!(e, ModelError::Invalid(_)), "{e}");
    }
}
