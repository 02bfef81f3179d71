//! The validator of a parsed IR graph and its constant tensors.
//!
//! One pass over the nodes in order, tracking the shape of every tensor defined so far, that
//! collects every problem it finds (rather than stopping at the first) into one
//! [`ModelError::Invalid`]. What it checks: unique node and tensor names, inputs defined before
//! use, each op's arity and attributes (requant multiplier and shift in the provable range),
//! constant tensors present with the right shapes and within the i32 range, reshapes that keep
//! the element count, conv and maxpool geometry (an image input, strides ≥ 1, a kernel that fits
//! the padded input), the dense or conv → requant → optional relu placement that the proof system
//! needs, and that the graph output is produced with its declared size.

use std::collections::{BTreeMap, HashMap, HashSet};

use zkgrad_core::circuit::{MAX_COEF, MAX_MULT, MAX_SHIFT};

use crate::error::{ModelError, Result};
use crate::ir::{Graph, Node, Op, Tensor, numel};

/// Largest magnitude of a `unary` node's scales (2^±32 spans any f32 activation's precision).
const MAX_UNARY_SCALE: i32 = 32;

/// What is wrong with a `unary` node's attributes, if anything: an unknown function, the wrong
/// number of parameters, scales beyond ±[`MAX_UNARY_SCALE`], or a range that is empty, outside
/// the `bits`-bit activations or with 2^bits entries or more (the table has one more, the
/// padding pair).
fn unary_problem(
    func: &str,
    in_scale: i32,
    out_scale: i32,
    range: [i64; 2],
    params: &[f64],
    bits: u32,
) -> Option<String> {
    let n_params = params.len();
    let Some(names) = crate::exec::unary_params(func) else {
        return Some(format!(
            "unknown function '{func}'; known: {}",
            crate::exec::UNARY_FUNCS.join(", ")
        ));
    };
    if func == "table" {
        if let Some(problem) = crate::exec::table_param_problem(params) {
            return Some(problem);
        }
    } else if names.len() != n_params {
        return Some(format!(
            "'{func}' takes {} parameter(s) ({}), got {n_params}",
            names.len(),
            names.join(", ")
        ));
    }
    if in_scale.abs() > MAX_UNARY_SCALE || out_scale.abs() > MAX_UNARY_SCALE {
        return Some(format!(
            "scales {in_scale} and {out_scale} must be at most {MAX_UNARY_SCALE} in magnitude"
        ));
    }
    let half = 1i64 << (bits.clamp(2, 63) - 1);
    let [lo, hi] = range;
    if lo > hi || lo < -half || hi >= half || hi - lo + 1 >= 2 * half {
        return Some(format!(
            "range [{lo}, {hi}] must be a nonempty part of [{}, {}] with fewer than 2^{bits} values",
            -half,
            half - 1
        ));
    }
    None
}

/// Checks the graph against its tensors; every problem found is in the returned error.
pub fn validate(graph: &Graph, tensors: &BTreeMap<String, Tensor>) -> Result<()> {
    shapes(graph, tensors).map(|_| ())
}

/// Validates, then returns the shape of every tensor of the graph (the input included).
pub(crate) fn shapes(
    graph: &Graph,
    tensors: &BTreeMap<String, Tensor>,
) -> Result<HashMap<String, Vec<usize>>> {
    let mut v = Validator {
        graph,
        tensors,
        problems: Vec::new(),
        defined: HashMap::new(),
    };
    v.run();
    ModelError::collect(v.problems)?;
    Ok(v.defined
        .into_iter()
        .filter_map(|(name, d)| Some((name.to_string(), d.shape?)))
        .collect())
}

/// `[C, H, W]` of an image shape `[1, C, H, W]` or `[C, H, W]` without empty dimensions.
pub(crate) fn image(shape: &[usize]) -> Option<[usize; 3]> {
    let chw = match shape {
        [1, c, h, w] | [c, h, w] => [*c, *h, *w],
        _ => return None,
    };
    chw.iter().all(|&d| d > 0).then_some(chw)
}

/// Where a tensor comes from: its shape (`None` once an earlier problem made it unknown) and the
/// index of the node that writes it (`None` for the graph input).
struct Defined {
    shape: Option<Vec<usize>>,
    producer: Option<usize>,
}

struct Validator<'a> {
    graph: &'a Graph,
    tensors: &'a BTreeMap<String, Tensor>,
    problems: Vec<ModelError>,
    defined: HashMap<&'a str, Defined>,
}

impl<'a> Validator<'a> {
    fn run(&mut self) {
        let g = self.graph;
        for out in g.outputs() {
            if matches!(
                out.visibility,
                Some(crate::ir::Visibility::Private | crate::ir::Visibility::Committed)
            ) {
                self.problems.push(ModelError::PrivateOutput {
                    tensor: out.name.clone(),
                });
            }
        }
        let named = std::iter::once(("input", &g.input)).chain(g.outputs().map(|o| ("output", o)));
        for (which, info) in named {
            if info.numel() == 0 {
                self.problems.push(ModelError::EmptyShape {
                    place: format!("graph {which} '{}'", info.name),
                    shape: info.shape.clone(),
                });
            }
        }
        self.defined.insert(
            &g.input.name,
            Defined {
                shape: Some(g.input.shape.clone()),
                producer: None,
            },
        );
        let mut names = HashSet::new();
        for (i, node) in g.nodes.iter().enumerate() {
            if !names.insert(node.name.as_str()) {
                self.problems.push(ModelError::DuplicateNode {
                    node: node.name.clone(),
                    op: kind(node),
                });
            }
            let out_shape = self.check_node(i, node);
            if self.defined.contains_key(node.output.as_str()) {
                self.problems.push(ModelError::DuplicateTensor {
                    node: node.name.clone(),
                    op: kind(node),
                    tensor: node.output.clone(),
                });
            } else {
                self.defined.insert(
                    &node.output,
                    Defined {
                        shape: out_shape,
                        producer: Some(i),
                    },
                );
            }
        }
        self.check_output();
    }

    /// Checks node `i`; returns the shape of its output when it is known.
    fn check_node(&mut self, i: usize, node: &'a Node) -> Option<Vec<usize>> {
        let in_shape = self.input_shape(node);
        let in_len = in_shape.as_deref().map(numel);
        match &node.op {
            Op::Dense { weight, bias } => {
                let out = self.check_weight(node, weight, in_len);
                if let (Some(b), Some(out)) = (bias, out) {
                    self.check_bias(node, b, out);
                }
                Some(vec![1, out?])
            }
            Op::Conv {
                weight,
                bias,
                strides,
                pads,
            } => {
                let chw = self.check_image(node, in_shape.as_deref());
                let strides_ok = self.check_strides(node, strides);
                self.check_requant_follows(i, node);
                let [c_out, kh, kw] = self.check_conv_weight(node, weight, chw.map(|d| d[0]))?;
                if let Some(b) = bias {
                    self.check_bias(node, b, c_out);
                }
                let [_, h, w] = chw?;
                let padded = [h + pads[0] + pads[2], w + pads[1] + pads[3]];
                let [ho, wo] = self.check_window(node, [kh, kw], padded, *strides, strides_ok)?;
                Some(vec![1, c_out, ho, wo])
            }
            Op::MaxPool { kernel, strides } => {
                let chw = self.check_image(node, in_shape.as_deref());
                let strides_ok = self.check_strides(node, strides);
                let [c, h, w] = chw?;
                let [ho, wo] = self.check_window(node, *kernel, [h, w], *strides, strides_ok)?;
                Some(vec![1, c, ho, wo])
            }
            Op::Requant { mult, shift } => {
                // The remainder is range-checked in the 2^act_bits table, so shift ≤ act_bits.
                let max_shift = self.graph.act_bits.min(MAX_SHIFT) as i64;
                if !(1..=max_shift).contains(shift) {
                    self.problems.push(ModelError::RequantShift {
                        node: node.name.clone(),
                        got: *shift,
                        min: 1,
                        max: max_shift,
                    });
                }
                if !(1..=MAX_MULT as i64).contains(mult) {
                    self.problems.push(ModelError::RequantMult {
                        node: node.name.clone(),
                        got: *mult,
                        min: 1,
                        max: MAX_MULT as i64,
                    });
                }
                self.check_placement(node, &["dense", "conv", "add", "mul", "matmul"]);
                in_shape
            }
            Op::Relu {} => {
                self.check_placement(node, &["requant"]);
                in_shape
            }
            Op::Reshape { shape } => {
                let n = numel(shape);
                match in_len {
                    Some(len) if len != n => self.problems.push(ModelError::ReshapeCount {
                        node: node.name.clone(),
                        input: node.inputs[0].clone(),
                        shape: shape.clone(),
                        expected: len,
                        got: n,
                    }),
                    _ => {}
                }
                Some(shape.clone())
            }
            Op::Unary {
                func,
                in_scale,
                out_scale,
                range,
                params,
            } => {
                if let Some(detail) = unary_problem(
                    func,
                    *in_scale,
                    *out_scale,
                    *range,
                    &params.iter().map(|p| p.0).collect::<Vec<_>>(),
                    self.graph.act_bits,
                ) {
                    self.problems.push(ModelError::Attribute {
                        node: node.name.clone(),
                        op: kind(node),
                        detail,
                    });
                }
                in_shape
            }
            Op::MatMul {
                heads,
                rows,
                inner,
                cols,
            } => {
                self.check_requant_follows(i, node);
                self.check_matmul(node, in_len, [*heads, *rows, *inner, *cols])
            }
            Op::Add { .. } | Op::Mul { .. } => {
                self.check_requant_follows(i, node);
                let coef = match &node.op {
                    Op::Add { coef } => coef.to_vec(),
                    Op::Mul { coef } => vec![*coef],
                    _ => unreachable!("matched above"),
                };
                if coef.iter().any(|c| *c == 0 || c.abs() > MAX_COEF) {
                    self.problems.push(ModelError::Attribute {
                        node: node.name.clone(),
                        op: kind(node),
                        detail: format!(
                            "coef {coef:?}: each coefficient must be nonzero and at most {MAX_COEF} in magnitude"
                        ),
                    });
                }
                let other = node
                    .inputs
                    .get(1)
                    .and_then(|t| self.defined.get(t.as_str()))
                    .and_then(|d| d.shape.clone());
                match (&in_shape, other) {
                    (Some(a), Some(b)) if numel(a) != numel(&b) => {
                        self.problems.push(ModelError::Unsupported {
                            node: node.name.clone(),
                            op: kind(node),
                            detail: format!(
                                "its operands '{}' {a:?} and '{}' {b:?} differ in size (broadcasting two activations is not supported)",
                                node.inputs[0], node.inputs[1]
                            ),
                        });
                        None
                    }
                    _ => in_shape,
                }
            }
        }
    }

    /// A matrix product: its operands hold heads·rows·inner and heads·inner·cols values; its
    /// output is `[heads, rows, cols]`.
    fn check_matmul(
        &mut self,
        node: &Node,
        a_len: Option<usize>,
        [heads, rows, inner, cols]: [usize; 4],
    ) -> Option<Vec<usize>> {
        let b_len = node
            .inputs
            .get(1)
            .and_then(|t| self.defined.get(t.as_str()))
            .and_then(|d| d.shape.as_deref().map(numel));
        let want = [
            (a_len, heads * rows * inner, 0),
            (b_len, heads * inner * cols, 1),
        ];
        let mut ok = heads > 0 && rows > 0 && inner > 0 && cols > 0;
        for (got, expected, k) in want {
            if let Some(got) = got.filter(|&g| g != expected) {
                self.problems.push(ModelError::Unsupported {
                    node: node.name.clone(),
                    op: kind(node),
                    detail: format!(
                        "its operand '{}' has {got} values, not the {expected} of {heads} {rows}×{inner} by {inner}×{cols} products",
                        node.inputs[k]
                    ),
                });
                ok = false;
            }
        }
        ok.then(|| vec![heads, rows, cols])
    }

    /// Checks the arity (add is binary, every other op unary) and that the inputs are defined;
    /// returns the first input's shape.
    fn input_shape(&mut self, node: &Node) -> Option<Vec<usize>> {
        let arity = if matches!(node.op, Op::Add { .. } | Op::Mul { .. } | Op::MatMul { .. }) {
            2
        } else {
            1
        };
        if node.inputs.len() != arity {
            self.problems.push(ModelError::Arity {
                node: node.name.clone(),
                op: kind(node),
                expected: arity,
                got: node.inputs.len(),
            });
            return None;
        }
        let mut first = None;
        for (k, input) in node.inputs.iter().enumerate() {
            match self.defined.get(input.as_str()) {
                Some(d) if k == 0 => first = d.shape.clone(),
                Some(_) => {}
                None => self.problems.push(ModelError::DanglingInput {
                    node: node.name.clone(),
                    op: kind(node),
                    input: input.clone(),
                }),
            }
        }
        first
    }

    /// Checks a dense weight `[out, in]`; returns `out` when the weight is usable.
    fn check_weight(&mut self, node: &Node, name: &str, in_len: Option<usize>) -> Option<usize> {
        let t = self.constant(node, name)?;
        let shape = t.shape();
        let in_text = in_len.map_or("in".to_string(), |n| n.to_string());
        let ok = shape.len() == 2 && shape[0] > 0 && in_len.is_none_or(|n| shape[1] == n);
        if !ok {
            self.problems.push(ModelError::TensorShape {
                node: node.name.clone(),
                op: kind(node),
                tensor: name.into(),
                expected: format!("[out, {in_text}] with out ≥ 1 (row-major, y = W·x)"),
                got: shape.to_vec(),
            });
            return None;
        }
        self.check_i32(node, name, t);
        Some(shape[0])
    }

    /// Checks a conv weight `[C_out, C_in, kh, kw]`; returns `[C_out, kh, kw]` when usable.
    fn check_conv_weight(
        &mut self,
        node: &Node,
        name: &str,
        c_in: Option<usize>,
    ) -> Option<[usize; 3]> {
        let t = self.constant(node, name)?;
        let shape = t.shape();
        let c_text = c_in.map_or("C_in".to_string(), |n| n.to_string());
        let ok = shape.len() == 4 && shape[0] > 0 && c_in.is_none_or(|n| shape[1] == n);
        if !ok {
            self.problems.push(ModelError::TensorShape {
                node: node.name.clone(),
                op: kind(node),
                tensor: name.into(),
                expected: format!("[C_out, {c_text}, kh, kw] with C_out ≥ 1 (ONNX Conv layout)"),
                got: shape.to_vec(),
            });
            return None;
        }
        self.check_i32(node, name, t);
        Some([shape[0], shape[2], shape[3]])
    }

    fn check_bias(&mut self, node: &Node, name: &str, out: usize) {
        let Some(t) = self.constant(node, name) else {
            return;
        };
        if t.shape() != [out] {
            self.problems.push(ModelError::TensorShape {
                node: node.name.clone(),
                op: kind(node),
                tensor: name.into(),
                expected: format!("[{out}]"),
                got: t.shape().to_vec(),
            });
            return;
        }
        self.check_i32(node, name, t);
    }

    /// The input of a conv or maxpool must be an image; returns `[C, H, W]`.
    fn check_image(&mut self, node: &Node, shape: Option<&[usize]>) -> Option<[usize; 3]> {
        let shape = shape?;
        let chw = image(shape);
        if chw.is_none() {
            self.problems.push(ModelError::ImageShape {
                node: node.name.clone(),
                op: kind(node),
                input: node.inputs[0].clone(),
                got: shape.to_vec(),
            });
        }
        chw
    }

    fn check_strides(&mut self, node: &Node, strides: &[usize; 2]) -> bool {
        let ok = strides.iter().all(|&s| s > 0);
        if !ok {
            self.problems.push(ModelError::Stride {
                node: node.name.clone(),
                op: kind(node),
                got: strides.to_vec(),
            });
        }
        ok
    }

    /// Checks that the window fits the (padded) input; returns the output height and width.
    fn check_window(
        &mut self,
        node: &Node,
        kernel: [usize; 2],
        input: [usize; 2],
        strides: [usize; 2],
        strides_ok: bool,
    ) -> Option<[usize; 2]> {
        if (0..2).any(|i| kernel[i] == 0 || kernel[i] > input[i]) {
            self.problems.push(ModelError::KernelSize {
                node: node.name.clone(),
                op: kind(node),
                kernel: kernel.to_vec(),
                input: input.to_vec(),
            });
            return None;
        }
        strides_ok.then(|| [0, 1].map(|i| (input[i] - kernel[i]) / strides[i] + 1))
    }

    /// Node `i` (a conv) must be followed by a requant reading its accumulator.
    fn check_requant_follows(&mut self, i: usize, node: &Node) {
        let next = self.graph.nodes.get(i + 1);
        let ok = next.is_some_and(|n| {
            matches!(n.op, Op::Requant { .. }) && n.inputs.first() == Some(&node.output)
        });
        if !ok {
            self.problems.push(ModelError::MissingRequant {
                node: node.name.clone(),
                op: kind(node),
                tensor: node.output.clone(),
            });
        }
    }

    fn constant(&mut self, node: &Node, name: &str) -> Option<&'a Tensor> {
        let t = self.tensors.get(name);
        if t.is_none() {
            self.problems.push(ModelError::MissingTensor {
                node: node.name.clone(),
                op: kind(node),
                tensor: name.into(),
            });
        }
        t
    }

    fn check_i32(&mut self, node: &Node, name: &str, t: &Tensor) {
        let bad = t
            .data()
            .iter()
            .enumerate()
            .find(|(_, v)| i32::try_from(**v).is_err());
        if let Some((index, &value)) = bad {
            self.problems.push(ModelError::WeightRange {
                node: node.name.clone(),
                op: kind(node),
                tensor: name.into(),
                index,
                value,
            });
        }
    }

    /// The node's input must be written by a node of one of the ops `required`.
    fn check_placement(&mut self, node: &Node, required: &[&str]) {
        let Some(input) = node.inputs.first() else {
            return;
        };
        let Some(d) = self.defined.get(input.as_str()) else {
            return;
        };
        let found = match d.producer.map(|i| &self.graph.nodes[i]) {
            Some(p) if required.contains(&p.op.kind()) => return,
            Some(p) => format!("node '{}' ({})", p.name, p.op.kind()),
            None => "the graph input".to_string(),
        };
        self.problems.push(ModelError::Placement {
            node: node.name.clone(),
            op: kind(node),
            required: required.join(" or "),
            input: input.clone(),
            found,
        });
    }

    fn check_output(&mut self) {
        for out in self.graph.outputs() {
            self.check_one_output(out);
        }
    }

    fn check_one_output(&mut self, out: &crate::ir::TensorInfo) {
        match self.defined.get(out.name.as_str()) {
            Some(Defined {
                producer: Some(_),
                shape,
            }) => {
                if let Some(len) = shape.as_deref().map(numel)
                    && len != out.numel()
                {
                    self.problems.push(ModelError::DeclaredShape {
                        which: "output",
                        tensor: out.name.clone(),
                        declared: out.numel(),
                        actual: len,
                    });
                }
            }
            _ => self.problems.push(ModelError::OutputNotProduced {
                tensor: out.name.clone(),
            }),
        }
    }
}

fn kind(node: &Node) -> String {
    node.op.kind().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::tests::{MLP_JSON, mlp_tensors};

    fn problems(json: &str, tensors: &BTreeMap<String, Tensor>) -> Vec<String> {
        let g = Graph::from_json(json).unwrap();
        match validate(&g, tensors) {
            Ok(()) => vec![],
            Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn the_mlp_is_valid() {
        assert_eq!(problems(MLP_JSON, &mlp_tensors()), Vec::<String>::new());
    }

    #[test]
    fn dangling_input_names_the_node() {
        let json = MLP_JSON.replace(r#""inputs": ["h1"]"#, r#""inputs": ["h2"]"#);
        let p = problems(&json, &mlp_tensors());
        assert_eq!(
            p[0],
            "node '/flatten' (reshape): input 'h2' is not the graph input and is not produced by an earlier node"
        );
        // The unknown length does not cascade into more errors downstream.
        assert_eq!(p.len(), 1, "{p:?}");
    }

    #[test]
    fn missing_and_misshapen_weights_are_all_reported() {
        let mut t = mlp_tensors();
        t.remove("fc1.bias");
        t.insert(
            "fc2.weight".into(),
            Tensor::new("fc2.weight", vec![2, 4], vec![0; 8]).unwrap(),
        );
        let p = problems(MLP_JSON, &t);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            p[0],
            "node '/fc1/Gemm' (dense): constant tensor 'fc1.bias' is missing"
        );
        assert!(
            p[1].starts_with(
                "node '/fc2/Gemm' (dense): tensor 'fc2.weight' has shape [2, 4], expected [out, 3]"
            ),
            "{p:?}"
        );
    }

    #[test]
    fn weight_rank_and_bias_shape_are_checked() {
        let mut t = mlp_tensors();
        t.insert(
            "fc1.weight".into(),
            Tensor::new("fc1.weight", vec![12], vec![0; 12]).unwrap(),
        );
        let p = problems(MLP_JSON, &t);
        assert!(
            p[0].contains("tensor 'fc1.weight' has shape [12], expected [out, 4]"),
            "{p:?}"
        );
        let mut t = mlp_tensors();
        t.insert(
            "fc1.bias".into(),
            Tensor::new("fc1.bias", vec![1, 3], vec![0; 3]).unwrap(),
        );
        let p = problems(MLP_JSON, &t);
        assert_eq!(
            p,
            vec!["node '/fc1/Gemm' (dense): tensor 'fc1.bias' has shape [1, 3], expected [3]"]
        );
    }

    #[test]
    fn weights_outside_i32_are_rejected() {
        let mut t = mlp_tensors();
        t.insert(
            "fc2.weight".into(),
            Tensor::new("fc2.weight", vec![2, 3], vec![0, 0, 0, 0, 1 << 31, 0]).unwrap(),
        );
        let p = problems(MLP_JSON, &t);
        assert_eq!(
            p,
            vec![
                "node '/fc2/Gemm' (dense): tensor 'fc2.weight' has value 2147483648 at flat index 4, outside the i32 range"
            ]
        );
    }

    #[test]
    fn requant_parameters_are_range_checked() {
        let json = MLP_JSON.replace(r#""mult": 3, "shift": 2"#, r#""mult": 0, "shift": 17"#);
        let p = problems(&json, &mlp_tensors());
        assert_eq!(
            p,
            vec![
                "node '/fc1/Gemm:requant' (requant): shift 17 is outside 1..=16",
                "node '/fc1/Gemm:requant' (requant): multiplier 0 is outside 1..=16777216",
            ]
        );
    }

    #[test]
    fn relu_must_follow_a_requant() {
        // Drop the requant: the relu now reads the dense accumulator.
        let json = MLP_JSON.replace(
            r#""inputs": ["fc1_q"], "output": "h1""#,
            r#""inputs": ["fc1_acc"], "output": "h1""#,
        );
        let p = problems(&json, &mlp_tensors());
        assert_eq!(
            p,
            vec![
                "node '/relu' (relu): must directly follow a requant node, but its input 'fc1_acc' comes from node '/fc1/Gemm' (dense)"
            ]
        );
    }

    #[test]
    fn requant_must_follow_a_dense() {
        let json = MLP_JSON.replace(
            r#""inputs": ["fc1_acc"], "output": "fc1_q""#,
            r#""inputs": ["input"], "output": "fc1_q""#,
        );
        let p = problems(&json, &mlp_tensors());
        assert_eq!(
            p,
            vec![
                "node '/fc1/Gemm:requant' (requant): must directly follow a dense or conv or add or mul or matmul node, but its input 'input' comes from the graph input",
                // The requant now carries the input's 4 values, so the reshape to 3 is wrong too.
                "node '/flatten' (reshape): shape [1, 3] has 3 elements but the input 'h1' has 4",
            ]
        );
    }

    #[test]
    fn reshape_must_keep_the_element_count() {
        let json = MLP_JSON.replace(r#""shape": [1, 3]"#, r#""shape": [2, 2]"#);
        let p = problems(&json, &mlp_tensors());
        assert_eq!(
            p[0],
            "node '/flatten' (reshape): shape [2, 2] has 4 elements but the input 'h1' has 3"
        );
    }

    #[test]
    fn output_must_be_produced_with_its_declared_size() {
        let json = MLP_JSON.replace(
            r#""name": "logits", "shape": [1, 2]"#,
            r#""name": "probs", "shape": [1, 2]"#,
        );
        assert_eq!(
            problems(&json, &mlp_tensors()),
            vec!["graph output 'probs' is not produced by any node"]
        );
        let json = MLP_JSON.replace(
            r#""name": "logits", "shape": [1, 2]"#,
            r#""name": "logits", "shape": [1, 5]"#,
        );
        assert_eq!(
            problems(&json, &mlp_tensors()),
            vec!["graph output 'logits' is declared with 5 elements but the graph has 2"]
        );
    }

    #[test]
    fn duplicate_names_and_arity_are_reported() {
        let json = MLP_JSON
            .replace(r#""name": "/flatten""#, r#""name": "/relu""#)
            .replace(r#""output": "h1f""#, r#""output": "fc1_q""#)
            .replace(r#""inputs": ["fc2_acc"]"#, r#""inputs": ["fc2_acc", "h1"]"#);
        let p = problems(&json, &mlp_tensors());
        assert!(
            p.contains(&"node '/relu' (reshape): the node name is used twice".to_string()),
            "{p:?}"
        );
        assert!(
            p.contains(&"node '/relu' (reshape): output tensor 'fc1_q' is already defined earlier in the graph".into()),
            "{p:?}"
        );
        assert!(
            p.contains(&"node '/fc2/Gemm:requant' (requant): expected 1 input(s), got 2".into()),
            "{p:?}"
        );
    }
}
