//! Lowering: a validated IR graph becomes a zkgrad-core [`CircuitSpec`] and its [`Weights`].
//!
//! The proof system proves a DAG of blocks: each block reads one activation column (the input,
//! or an earlier block's output; `CircuitSpec::sources`) and an elementwise block a second one, so
//! tensors may have several readers (skip connections, branches that both compute). Every
//! `dense`, `conv`, `add` or `mul` is directly followed by its `requant` and optionally a `relu`
//! (the relu may come later, after a node of another branch): each such group is one
//! [`DenseSpec`] named after the dense, conv, add, mul or matmul node. A `maxpool` or `unary` is a block
//! on its own. Reshapes are free (they relabel the flattened vector). The graph output must be
//! the last block's output. Anything else is an error naming the node. The lowering also
//! records, for every IR tensor, which vector of the forward pass holds its values (see
//! [`Source`]), so the executor can report every named intermediate.

use std::collections::{BTreeMap, BTreeSet};

use zkgrad_core::circuit::{
    ActShape, CircuitSpec, ConvGeom, DenseSpec, DenseWeights, ElementwiseGeom, ElementwiseOp,
    LayerKind, MatMulGeom, Operand, PoolGeom, UnaryGeom, Weights,
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
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        },
        weights: Weights { layers: Vec::new() },
        input: graph.input.name.clone(),
        blocks: Vec::new(),
        tensors: vec![(graph.input.name.clone(), Source::Input)],
    };
    let nodes = &graph.nodes;
    let mut fused = BTreeSet::new();
    let mut i = 0;
    while i < nodes.len() {
        let node = &nodes[i];
        if fused.contains(&i) {
            i += 1;
            continue;
        }
        let elementwise = match &node.op {
            Op::Add { coef } => Some((ElementwiseOp::Sum, *coef)),
            Op::Mul { coef } => Some((ElementwiseOp::Product, [*coef, 1])),
            _ => None,
        };
        if let Some((op, coef)) = elementwise {
            let block = add_block(&out, node, op, coef)?;
            i += push_linear(&mut out, nodes, i, block, &mut fused)?;
            continue;
        }
        if let Op::MatMul {
            heads,
            rows,
            inner,
            cols,
        } = node.op
        {
            let block = matmul_block(
                &out,
                node,
                MatMulGeom {
                    other: Operand::Input,
                    heads,
                    rows,
                    inner,
                    cols,
                },
            )?;
            i += push_linear(&mut out, nodes, i, block, &mut fused)?;
            continue;
        }
        let Some(input) = node.inputs.first().filter(|_| node.inputs.len() == 1) else {
            return Err(unsupported(
                node,
                format!(
                    "it reads {:?}; a {} node reads one tensor",
                    node.inputs,
                    node.op.kind()
                ),
            ));
        };
        let in_shape = &shapes[input];
        match &node.op {
            Op::Add { .. } | Op::Mul { .. } | Op::MatMul { .. } => unreachable!("handled above"),
            Op::Reshape { .. } => {
                // Free: the output is the same vector under a new name.
                let source = source_of(&out, node, input)?;
                out.tensors.push((node.output.clone(), source));
                i += 1;
            }
            Op::Dense { .. } | Op::Conv { .. } => {
                let source = operand(&out, node, input)?;
                let (spec, weights) = linear_block(node, in_shape, tensors);
                i += push_linear(&mut out, nodes, i, (spec, weights, source), &mut fused)?;
            }
            Op::MaxPool { kernel, strides } => {
                let source = operand(&out, node, input)?;
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
                let l = push_block(&mut out, node, spec, no_weights(), source)?;
                out.blocks.push(BlockNames {
                    node: node.name.clone(),
                    op: "maxpool".into(),
                    acc: node.output.clone(),
                    requant: node.name.clone(),
                    q: node.output.clone(),
                });
                out.tensors.push((node.output.clone(), Source::Act(l)));
                i += 1;
            }
            Op::Unary { .. } => {
                let source = operand(&out, node, input)?;
                let l = unary_block(&mut out, node, in_shape, graph.act_bits, source)?;
                out.tensors.push((node.output.clone(), Source::Act(l)));
                i += 1;
            }
            Op::Requant { .. } => {
                return Err(unsupported(
                    node,
                    "a requant must directly follow a dense, conv, add, mul or matmul node".into(),
                ));
            }
            Op::Relu {} => {
                return Err(unsupported(
                    node,
                    "a relu must directly follow a dense, conv, add, mul or matmul node's requant"
                        .into(),
                ));
            }
        }
    }
    if out.spec.layers.is_empty() {
        return Err(ModelError::NoLayers);
    }
    check_output(&out, graph)?;
    for info in &graph.extra_outputs {
        let block = extra_output_block(&out, &info.name)?;
        out.spec.extra_outputs.push(block);
    }
    // A chain is stored as one (no sources), so its circuit has one encoding.
    let chain = out.spec.sources.iter().enumerate().all(|(l, &o)| {
        o == match l {
            0 => Operand::Input,
            _ => Operand::Block(l - 1),
        }
    });
    if chain {
        out.spec.sources.clear();
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

/// The spec (requantisation still unset) and the first operand of an add or mul node: both
/// operands are activations (the input, or blocks' outputs) stored alike; the first one is the
/// block's input, the second its `other`.
fn add_block(
    out: &Lowered,
    node: &Node,
    op: ElementwiseOp,
    coef: [i64; 2],
) -> Result<(DenseSpec, DenseWeights, Operand)> {
    let [first, second] = node.inputs.as_slice() else {
        return Err(unsupported(
            node,
            format!(
                "it reads {:?}; an {} reads two tensors",
                node.inputs,
                node.op.kind()
            ),
        ));
    };
    let (mut source, mut other) = (operand(out, node, first)?, operand(out, node, second)?);
    let mut coef = coef;
    // The previous block's output as the first operand keeps a chain a chain (one encoding).
    let previous = out.spec.layers.len().checked_sub(1).map(Operand::Block);
    if Some(other) == previous && Some(source) != previous {
        (source, other) = (other, source);
        coef = [coef[1], coef[0]];
    }
    let shape = stored(out, source, None);
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
    Ok((spec, no_weights(), source))
}

/// A product of two activations: A the node's first input (the block's source), B its second;
/// the core checks that each is stored as its matrix.
fn matmul_block(
    out: &Lowered,
    node: &Node,
    mut g: MatMulGeom,
) -> Result<(DenseSpec, DenseWeights, Operand)> {
    let [first, second] = node.inputs.as_slice() else {
        return Err(unsupported(
            node,
            format!("it reads {:?}; a matmul reads two tensors", node.inputs),
        ));
    };
    let source = operand(out, node, first)?;
    g.other = operand(out, node, second)?;
    let spec = DenseSpec {
        name: node.name.clone(),
        in_dim: g.heads * g.rows * g.inner,
        out_dim: g.heads * g.rows * g.cols,
        mult: 1,
        shift: 1,
        relu: false,
        kind: LayerKind::MatMul(g),
    };
    Ok((spec, no_weights(), source))
}

/// Where the values of tensor `name` live (an error naming `node` for a tensor no supported
/// node wrote).
fn source_of(out: &Lowered, node: &Node, name: &str) -> Result<Source> {
    out.tensors
        .iter()
        .rev()
        .find(|(t, _)| t == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            unsupported(
                node,
                format!("it reads '{name}', which no earlier node computes"),
            )
        })
}

/// The activation column a node reads as `name`: the graph input, or a block's output (after
/// its ReLU, if it has one). An accumulator or a pre-ReLU value has no column of its own.
fn operand(out: &Lowered, node: &Node, name: &str) -> Result<Operand> {
    match source_of(out, node, name)? {
        Source::Input => Ok(Operand::Input),
        Source::Act(k) => Ok(Operand::Block(k)),
        Source::Requant(k) if !out.spec.layers[k].relu => Ok(Operand::Block(k)),
        _ => Err(unsupported(
            node,
            format!(
                "its operand '{name}' is not an activation (the graph input, or a block's \
                 output after its ReLU); reading an accumulator or a pre-ReLU value is not \
                 supported"
            ),
        )),
    }
}

/// How an operand is stored: a block's output as that block writes it; the input as its first
/// reader wants it, else channel by channel for an image (`image_shape`), else flat.
fn stored(out: &Lowered, o: Operand, image_shape: Option<&[usize]>) -> ActShape {
    match o {
        Operand::Block(k) => out.spec.layers[k].out_shape(),
        Operand::Input => {
            let first_reader = (0..out.spec.layers.len())
                .filter(|&l| out.spec.sources[l] == Operand::Input)
                .find_map(|l| out.spec.layers[l].in_shape());
            match (first_reader, image_shape.and_then(image)) {
                (Some(s), _) => s,
                (None, Some([channels, h, w])) => ActShape {
                    channels,
                    len: h * w,
                },
                (None, None) => ActShape::flat(out.spec.input_len),
            }
        }
    }
}

fn no_weights() -> DenseWeights {
    DenseWeights {
        weight: Vec::new(),
        bias: Vec::new(),
    }
}

/// The graph output must be the last block's output: every block then leads to it (a block
/// after the output's producer would be computed and proved for nothing).
fn check_output(out: &Lowered, graph: &Graph) -> Result<()> {
    let last = out.spec.layers.len() - 1;
    let name = &graph.output.name;
    let source = out
        .tensors
        .iter()
        .rev()
        .find(|(t, _)| t == name)
        .map(|(_, s)| *s);
    match source {
        Some(Source::Act(k)) if k == last => Ok(()),
        Some(Source::Requant(k)) if k == last && !out.spec.layers[k].relu => Ok(()),
        _ => Err(ModelError::ChainEnd {
            output: name.clone(),
            last: out.blocks[last].node.clone(),
        }),
    }
}

/// The block an extra graph output is the output of: an earlier block than the last (the last
/// is the main output), whose stored activations are exactly the tensor (not a requant that a
/// ReLU then changes).
fn extra_output_block(out: &Lowered, name: &str) -> Result<usize> {
    let last = out.spec.layers.len() - 1;
    let source = out
        .tensors
        .iter()
        .rev()
        .find(|(t, _)| t == name)
        .map(|(_, s)| *s);
    let block = match source {
        Some(Source::Act(k)) => Some(k),
        Some(Source::Requant(k)) if !out.spec.layers[k].relu => Some(k),
        _ => None,
    };
    match block {
        Some(k) if k < last && !out.spec.extra_outputs.contains(&k) => Ok(k),
        _ => Err(ModelError::ExtraOutput {
            tensor: name.to_string(),
        }),
    }
}

/// Adds the block that starts at `nodes[at]` (dense, conv, add or mul) with its requant, which
/// must follow it directly, and the relu that reads the requant's output if there is one (it may
/// come later, after a node of another branch: it is fused here and skipped there); returns how
/// many nodes from `at` on it used.
fn push_linear(
    out: &mut Lowered,
    nodes: &[Node],
    at: usize,
    (mut spec, weights, source): (DenseSpec, DenseWeights, Operand),
    fused: &mut BTreeSet<usize>,
) -> Result<usize> {
    let node = &nodes[at];
    let requant = nodes
        .get(at + 1)
        .filter(|n| matches!(n.op, Op::Requant { .. }));
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
    let relu = (at + 2..nodes.len()).find(|&j| {
        matches!(nodes[j].op, Op::Relu {}) && nodes[j].inputs == [requant.output.as_str()]
    });
    let Op::Requant { mult, shift } = requant.op else {
        unreachable!("matched above")
    };
    // Validation checked 1..=2^24 and 1..=16, so these conversions are exact.
    spec.mult = mult as u64;
    spec.shift = shift as u32;
    spec.relu = relu.is_some();
    let l = push_block(out, node, spec, weights, source)?;
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
    if let Some(j) = relu {
        out.tensors.push((nodes[j].output.clone(), Source::Act(l)));
        fused.insert(j);
    }
    Ok(2)
}

/// Appends a `unary` node's table block (stored like its input: the previous block's output,
/// or the graph input, channel by channel for an image); returns its index.
fn unary_block(
    out: &mut Lowered,
    node: &Node,
    in_shape: &[usize],
    bits: u32,
    source: Operand,
) -> Result<usize> {
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
    let shape = stored(out, source, Some(in_shape));
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
    let l = push_block(out, node, spec, no_weights(), source)?;
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
    source: Operand,
) -> Result<usize> {
    // The input is stored as its first reader wants it; any later reader must agree.
    let first_input_reader = source == Operand::Input
        && !(0..out.spec.layers.len()).any(|l| out.spec.sources[l] == Operand::Input);
    if let (Some(want), false) = (spec.in_shape(), first_input_reader) {
        let prev = stored(out, source, None);
        let same = (0..spec.in_dim).all(|i| want.slot(i) == prev.slot(i));
        if !same {
            return Err(unsupported(
                node,
                format!(
                    "it reads {} channel(s) of {} values, but the tensor it reads is stored as {} \
                     channel(s) of {}; regrouping channels between blocks is not supported",
                    want.channels, want.len, prev.channels, prev.len
                ),
            ));
        }
    }
    out.spec.layers.push(spec);
    out.spec.sources.push(source);
    out.weights.layers.push(weights);
    Ok(out.spec.layers.len() - 1)
}

/// A requant reads exactly the accumulator of the node before it.
fn expect_input(node: &Node, current: &str) -> Result<()> {
    if node.inputs.len() == 1 && node.inputs[0] == current {
        return Ok(());
    }
    Err(unsupported(
        node,
        format!(
            "it reads {:?} but must read '{current}', the accumulator of the node before it",
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
        assert!(e.to_string().starts_with("node '/fc2/Gemm' (dense) cannot be proved yet: its operand 'fc1_q' is not an activation"), "{e}");
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
    fn output_must_be_the_last_block() {
        // The declared output is fc1's activation; fc2 after it leads nowhere.
        let json = MLP_JSON.replace(
            r#""name": "logits", "shape": [1, 2]"#,
            r#""name": "h1", "shape": [1, 3]"#,
        );
        let e = lower_json(&json).unwrap_err();
        assert_eq!(
            e,
            ModelError::ChainEnd {
                output: "h1".into(),
                last: "/fc2/Gemm".into()
            }
        );
        // A reshape after the last block is free: the output is the same vector.
        let json = MLP_JSON.replace(
            r#""mult": 1, "shift": 1}"#,
            r#""mult": 1, "shift": 1}, {"name": "/tail", "op": "reshape", "inputs": ["logits"], "output": "tail", "shape": [2]}"#,
        );
        assert!(lower_json(&json).is_ok());
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
