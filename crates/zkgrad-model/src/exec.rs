//! The integer forward pass of a lowered model.
//!
//! It runs zkgrad-core's [`forward`] — the one definition of the integer semantics, shared with
//! the prover's witness generator — so a value computed here is exactly the value that gets
//! proved. A value outside the provable range is reported by the IR node and tensor it belongs to.

use zkgrad_core::ProofError;
use zkgrad_core::circuit::{BlockTrace, forward};

use crate::error::{ModelError, Result};
use crate::lower::{Lowered, Source};

/// Runs the model on a flattened integer input and returns the flattened outputs, in statement
/// order (the last block's, then each extra output's).
pub fn run(model: &Lowered, input: &[i64]) -> Result<Vec<i64>> {
    let traces = run_blocks(model, input)?;
    // A block's `a` is its output whether or not a ReLU follows the requant (a maxpool's maxima).
    if traces.is_empty() {
        return Ok(input.to_vec());
    }
    Ok(model.spec.item_output(&traces))
}

/// Runs the model and returns every IR tensor by name, in graph order (input first), flattened.
pub fn run_trace(model: &Lowered, input: &[i64]) -> Result<Vec<(String, Vec<i64>)>> {
    let traces = run_blocks(model, input)?;
    let values = model
        .tensors
        .iter()
        .map(|(name, src)| {
            let v = match *src {
                Source::Input => input.to_vec(),
                Source::Acc(l) => traces[l].z.clone(),
                Source::Requant(l) => traces[l].q.clone(),
                Source::Act(l) => traces[l].a.clone(),
            };
            (name.clone(), v)
        })
        .collect();
    Ok(values)
}

/// The core's forward pass, with its errors translated to the IR's names.
pub fn run_blocks(model: &Lowered, input: &[i64]) -> Result<Vec<BlockTrace>> {
    if input.len() != model.spec.input_len {
        return Err(ModelError::InputLength {
            tensor: model.input.clone(),
            expected: model.spec.input_len,
            got: input.len(),
        });
    }
    forward(&model.spec, &model.weights, input).map_err(|e| name_error(model, e))
}

/// Translates a core error about a block into one naming the IR node and tensor.
pub fn name_error(model: &Lowered, err: ProofError) -> ModelError {
    let ProofError::Witness { layer, detail } = err else {
        return ModelError::Core(err);
    };
    let block = model.spec.layers.iter().position(|l| l.name == layer);
    match block.map(|i| &model.blocks[i]) {
        // The core checks the accumulator first and names it in the detail; every other witness
        // problem of a block is about the requantised output (a maxpool raises none).
        // A table block's input is outside its calibrated range: named by the node and its
        // input tensor.
        Some(b) if b.requant == b.node && b.op != "maxpool" => ModelError::ValueRange {
            node: b.node.clone(),
            op: b.op.clone(),
            tensor: b.acc.clone(),
            detail,
        },
        Some(b) if detail.starts_with("accumulator") => ModelError::ValueRange {
            node: b.node.clone(),
            op: b.op.clone(),
            tensor: b.acc.clone(),
            detail,
        },
        Some(b) => ModelError::ValueRange {
            node: b.requant.clone(),
            op: "requant".into(),
            tensor: b.q.clone(),
            detail,
        },
        None if layer == "input" => ModelError::InputRange {
            tensor: model.input.clone(),
            detail,
        },
        None => ModelError::Core(ProofError::Witness { layer, detail }),
    }
}

/// The functions a `unary` node computes (ONNX's op names in lower case; "gelu_tanh" is GELU
/// with `approximate="tanh"`; "table" is a constant list read at an integer index, ONNX
/// `Gather` from a constant by an integer activation).
pub const UNARY_FUNCS: [&str; 38] = [
    "sigmoid",
    "tanh",
    "exp",
    "log",
    "sqrt",
    "reciprocal",
    "pow",
    "erf",
    "gelu",
    "gelu_tanh",
    "softplus",
    "softsign",
    "hardsigmoid",
    "hardswish",
    "leakyrelu",
    "prelu",
    "elu",
    "selu",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "abs",
    "sign",
    "ceil",
    "floor",
    "round",
    "clip",
    "celu",
    "thresholdedrelu",
    "shrink",
    "mish",
    "compare",
    "table",
];

/// The most entries a "table" function may list (its parameters are the first index, then one
/// value per index): one per value of the widest activations.
pub const MAX_TABLE_ENTRIES: usize = 1 << 16;

/// Names of a function's real attributes, in IR order (None: not a known function). Selu is
/// an elu with its own alpha times gamma: see [`unary_real`].
pub fn unary_params(func: &str) -> Option<&'static [&'static str]> {
    Some(match func {
        "pow" => &["exponent"],
        "hardsigmoid" => &["alpha", "beta"],
        "leakyrelu" | "elu" => &["alpha"],
        "prelu" => &["slope"],
        "selu" => &["alpha", "gamma"],
        "clip" => &["min", "max"],
        "celu" | "thresholdedrelu" => &["alpha"],
        "shrink" => &["bias", "lambd"],
        "compare" => &["threshold", "below", "equal", "above"],
        // Variable length: the first index, then the values (see `table_param_problem`).
        "table" => &["first", "values..."],
        f if UNARY_FUNCS.contains(&f) => &[],
        _ => return None,
    })
}

/// f(x) over the reals, by libm (the same bits on every platform). NaN outside f's domain
/// (log and sqrt of a negative number, a negative number to a fractional power).
pub fn unary_real(func: &str, x: f64, params: &[f64]) -> f64 {
    let p = |i: usize| params.get(i).copied().unwrap_or(f64::NAN);
    let sigmoid = |x: f64| 1.0 / (1.0 + libm::exp(-x));
    match func {
        "sigmoid" => sigmoid(x),
        "tanh" => libm::tanh(x),
        "exp" => libm::exp(x),
        "log" => libm::log(x),
        "sqrt" => libm::sqrt(x),
        "reciprocal" => 1.0 / x,
        "pow" => libm::pow(x, p(0)),
        "erf" => libm::erf(x),
        "gelu" => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
        "gelu_tanh" => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            0.5 * x * (1.0 + libm::tanh(c * (x + 0.044715 * x * x * x)))
        }
        // log(1 + e^x) without overflow: max(x, 0) + log1p(e^−|x|).
        "softplus" => x.max(0.0) + libm::log1p(libm::exp(-x.abs())),
        "softsign" => x / (1.0 + x.abs()),
        "hardsigmoid" => (p(0) * x + p(1)).clamp(0.0, 1.0),
        "hardswish" => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
        "leakyrelu" | "prelu" => {
            if x < 0.0 {
                p(0) * x
            } else {
                x
            }
        }
        "elu" => {
            if x < 0.0 {
                p(0) * libm::expm1(x)
            } else {
                x
            }
        }
        "selu" => p(1) * if x <= 0.0 { p(0) * libm::expm1(x) } else { x },
        "sin" => libm::sin(x),
        "cos" => libm::cos(x),
        "tan" => libm::tan(x),
        "asin" => libm::asin(x),
        "acos" => libm::acos(x),
        "atan" => libm::atan(x),
        "sinh" => libm::sinh(x),
        "cosh" => libm::cosh(x),
        "abs" => x.abs(),
        "sign" => {
            if x == 0.0 {
                0.0
            } else {
                x.signum()
            }
        }
        "ceil" => libm::ceil(x),
        "floor" => libm::floor(x),
        // ONNX Round: halves to even.
        "round" => libm::rint(x),
        "clip" => x.max(p(0)).min(p(1)),
        "celu" => x.max(0.0) + (p(0) * libm::expm1(x / p(0))).min(0.0),
        "thresholdedrelu" => {
            if x > p(0) {
                x
            } else {
                0.0
            }
        }
        "shrink" => {
            if x < -p(1) {
                x + p(0)
            } else if x > p(1) {
                x - p(0)
            } else {
                0.0
            }
        }
        "mish" => x * libm::tanh(x.max(0.0) + libm::log1p(libm::exp(-x.abs()))),
        // A comparison with a constant (ONNX Less, Equal, ... as 0/1): one value below the
        // threshold, one at it, one above.
        "compare" => {
            if x < p(0) {
                p(1)
            } else if x == p(0) {
                p(2)
            } else {
                p(3)
            }
        }
        // values[k − first] at the index k = x rounded (half away from zero); NaN at an index
        // the list does not hold (Gather refuses it too).
        "table" => {
            let k = libm::round(x) - p(0);
            if k >= 0.0 && k < (params.len() - 1) as f64 {
                params[1 + k as usize]
            } else {
                f64::NAN
            }
        }
        _ => f64::NAN,
    }
}

/// What is wrong with a "table" function's parameters, if anything: an integral first index
/// and 1..=[`MAX_TABLE_ENTRIES`] finite values.
pub fn table_param_problem(params: &[f64]) -> Option<String> {
    let Some((&first, values)) = params.split_first() else {
        return Some("'table' takes its first index and at least one value, got none".into());
    };
    if !(first.is_finite() && first.fract() == 0.0 && first.abs() < 1e15) {
        return Some(format!("'table' first index {first} must be an integer"));
    }
    if values.is_empty() || values.len() > MAX_TABLE_ENTRIES {
        return Some(format!(
            "'table' lists {} values; it takes 1 to {MAX_TABLE_ENTRIES}",
            values.len()
        ));
    }
    values
        .iter()
        .position(|v| !v.is_finite())
        .map(|i| format!("'table' value {i} is not finite"))
}

/// One `unary` node's integer semantics: round(f(x / 2^in_scale)·2^out_scale) (half away from
/// zero), saturated to the `bits`-bit activation range (so ±∞, e.g. log 0, become its ends);
/// None where f is undefined.
pub fn unary_value(
    func: &str,
    params: &[f64],
    x: i64,
    scales: (i32, i32),
    bits: u32,
) -> Option<i64> {
    let real = unary_real(func, x as f64 * libm::exp2(-f64::from(scales.0)), params);
    if real.is_nan() {
        return None;
    }
    let half = (1i64 << (bits - 1)) as f64;
    let y = libm::round(real * libm::exp2(f64::from(scales.1)));
    Some(y.clamp(-half, half - 1.0) as i64)
}

/// A `unary` node's table: its value at every input of `range`, or the first input where f is
/// undefined.
pub fn unary_table(
    func: &str,
    params: &[f64],
    range: [i64; 2],
    scales: (i32, i32),
    bits: u32,
) -> std::result::Result<Vec<i64>, i64> {
    (range[0]..=range[1])
        .map(|x| unary_value(func, params, x, scales, bits).ok_or(x))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Graph;
    use crate::ir::tests::{MLP_JSON, mlp_tensors};
    use crate::lower::lower;

    fn mlp() -> Lowered {
        lower(&Graph::from_json(MLP_JSON).unwrap(), &mlp_tensors()).unwrap()
    }

    #[test]
    fn mlp_output_matches_hand_computation() {
        // fc1: z = W·x + b = [-4, -2, 3]; q = floor((3z + 2)/4) = [-3, -1, 2]; relu = [0, 0, 2].
        // fc2: z = [4, -4]; q = floor((z + 1)/2) = [2, -2].
        assert_eq!(run(&mlp(), &[-10, 4, 7, 3]).unwrap(), vec![2, -2]);
        // fc1: z = [0, 22, 27] -> q = [0, 17, 20]; fc2: z = [23, 11] -> [12, 6].
        assert_eq!(run(&mlp(), &[10, -4, 7, 3]).unwrap(), vec![12, 6]);
    }

    #[test]
    fn trace_names_every_tensor() {
        let t = run_trace(&mlp(), &[-10, 4, 7, 3]).unwrap();
        let expected: Vec<(String, Vec<i64>)> = [
            ("input", vec![-10, 4, 7, 3]),
            ("fc1_acc", vec![-4, -2, 3]),
            ("fc1_q", vec![-3, -1, 2]),
            ("h1", vec![0, 0, 2]),
            ("h1f", vec![0, 0, 2]),
            ("fc2_acc", vec![4, -4]),
            ("logits", vec![2, -2]),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
        assert_eq!(t, expected);
    }

    #[test]
    fn wrong_input_length_names_the_input() {
        let e = run(&mlp(), &[1, 2, 3]).unwrap_err();
        assert_eq!(
            e,
            ModelError::InputLength {
                tensor: "input".into(),
                expected: 4,
                got: 3
            }
        );
    }

    #[test]
    fn out_of_range_input_names_the_input() {
        let e = run(&mlp(), &[0, 40_000, 0, 0]).unwrap_err();
        assert!(
            matches!(&e, ModelError::InputRange { tensor, .. } if tensor == "input"),
            "{e}"
        );
        assert!(e.to_string().contains("40000"), "{e}");
    }

    #[test]
    fn out_of_range_requant_names_node_and_tensor() {
        // z0 = 32767·3 + 1 = 98302, q0 = floor((3·98302 + 2)/4) = 73727 > 32767.
        let e = run(&mlp(), &[32767, 32767, 0, 0]).unwrap_err();
        match &e {
            ModelError::ValueRange {
                node, op, tensor, ..
            } => {
                assert_eq!(
                    (node.as_str(), op.as_str(), tensor.as_str()),
                    ("/fc1/Gemm:requant", "requant", "fc1_q")
                );
            }
            other => panic!("unexpected error {other}"),
        }
        assert!(
            e.to_string()
                .starts_with("node '/fc1/Gemm:requant' (requant) output 'fc1_q' is out of range"),
            "{e}"
        );
    }

    #[test]
    fn accumulator_overflow_names_the_dense_node() {
        let mut m = mlp();
        m.weights.layers[0].weight[0] = i64::from(i32::MAX);
        m.spec.layers[0].mult = 1 << 24;
        let e = run(&m, &[32767, 0, 0, 0]).unwrap_err();
        assert!(
            matches!(&e, ModelError::ValueRange { node, tensor, .. } if node == "/fc1/Gemm" && tensor == "fc1_acc"),
            "{e}"
        );
    }

    #[test]
    fn unary_values_are_the_rounded_real_functions() {
        let v = |f: &str, p: &[f64], x: i64| unary_value(f, p, x, (8, 12), 16);
        assert_eq!(v("sigmoid", &[], 0), Some(2048));
        assert_eq!(v("tanh", &[], 256), Some(3119)); // tanh(1)·4096 = 3119.4
        assert_eq!(v("leakyrelu", &[0.1], -256), Some(-410)); // −409.6
        assert_eq!(v("sqrt", &[], 1024), Some(8192)); // √4
        assert_eq!(v("sqrt", &[], -1), None);
        assert_eq!(v("log", &[], 0), Some(-32768), "−∞ saturates");
        assert_eq!(v("exp", &[], 32767), Some(32767), "e^128 saturates");
        // x < 1 (in_scale 8: 256 is 1.0) as 0/1 at out_scale 12.
        let less = [1.0, 1.0, 0.0, 0.0];
        assert_eq!(v("compare", &less, 255), Some(4096));
        assert_eq!(v("compare", &less, 256), Some(0));
        assert_eq!(
            v("compare", &[1.0, 0.0, 1.0, 0.0], 256),
            Some(4096),
            "equal"
        );
        assert_eq!(
            unary_table("sqrt", &[], [-1, 3], (8, 12), 16),
            Err(-1),
            "the first input outside the domain"
        );
    }

    #[test]
    fn a_table_is_read_at_the_rounded_index() {
        // Indices −2..=2 (in_scale 0) → 10, 20, 30, 40, 50 at out_scale 1.
        let t = [-2.0, 10.0, 20.0, 30.0, 40.0, 50.0];
        let v = |x: i64, s: i32| unary_value("table", &t, x, (s, 1), 16);
        assert_eq!(v(-2, 0), Some(20));
        assert_eq!(v(2, 0), Some(100));
        assert_eq!(v(3, 0), None, "past the last index");
        assert_eq!(v(-3, 0), None, "before the first index");
        // in_scale 2: x = 5 is 1.25, read at index 1.
        assert_eq!(v(5, 2), Some(80));
        assert_eq!(unary_table("table", &t, [-2, 3], (0, 1), 16), Err(3));
        assert_eq!(table_param_problem(&t), None);
        assert!(table_param_problem(&[]).is_some());
        assert!(table_param_problem(&[0.5, 1.0]).is_some());
        assert!(table_param_problem(&[0.0]).is_some());
        assert!(table_param_problem(&[0.0, f64::NAN]).is_some());
        assert!(table_param_problem(&vec![0.0; MAX_TABLE_ENTRIES + 2]).is_some());
    }

    #[test]
    fn an_input_outside_a_table_names_the_unary_node() {
        let json = MLP_JSON.replace(
            r#"{"name": "/fc2/Gemm:requant", "op": "requant", "inputs": ["fc2_acc"], "output": "logits", "mult": 1, "shift": 1}"#,
            r#"{"name": "/fc2/Gemm:requant", "op": "requant", "inputs": ["fc2_acc"], "output": "z", "mult": 1, "shift": 1},
               {"name": "/sig", "op": "unary", "inputs": ["z"], "output": "logits", "func": "sigmoid",
                "in_scale": 8, "out_scale": 12, "range": [-5, 5]}"#,
        );
        let m = lower(&Graph::from_json(&json).unwrap(), &mlp_tensors()).unwrap();
        // z = [2, -2]: inside the table.
        let sig = |x: i64| unary_value("sigmoid", &[], x, (8, 12), 16).unwrap();
        assert_eq!(run(&m, &[-10, 4, 7, 3]).unwrap(), vec![sig(2), sig(-2)]);
        // z = [12, 6]: 12 is not.
        let e = run(&m, &[10, -4, 7, 3]).unwrap_err().to_string();
        assert!(
            e.starts_with("node '/sig' (sigmoid) output 'z' is out of range: input[0] = 12")
                && e.contains("[-5, 5]"),
            "{e}"
        );
    }

    #[test]
    fn bad_unary_attributes_are_reported_by_node() {
        let with = |attrs: &str| {
            MLP_JSON.replace(
                r#"{"name": "/fc2/Gemm:requant", "op": "requant", "inputs": ["fc2_acc"], "output": "logits", "mult": 1, "shift": 1}"#,
                &format!(
                    r#"{{"name": "/fc2/Gemm:requant", "op": "requant", "inputs": ["fc2_acc"], "output": "z", "mult": 1, "shift": 1}},
                       {{"name": "/f", "op": "unary", "inputs": ["z"], "output": "logits", {attrs}}}"#
                ),
            )
        };
        let err = |attrs: &str| {
            lower(&Graph::from_json(&with(attrs)).unwrap(), &mlp_tensors())
                .unwrap_err()
                .to_string()
        };
        let e = err(r#""func": "cbrt", "in_scale": 8, "out_scale": 8, "range": [-5, 5]"#);
        assert!(
            e.contains("'/f'") && e.contains("unknown function 'cbrt'"),
            "{e}"
        );
        let e = err(r#""func": "leakyrelu", "in_scale": 8, "out_scale": 8, "range": [-5, 5]"#);
        assert!(e.contains("takes 1 parameter(s) (alpha), got 0"), "{e}");
        let e = err(r#""func": "tanh", "in_scale": 8, "out_scale": 8, "range": [-40000, 5]"#);
        assert!(e.contains("range [-40000, 5]"), "{e}");
        let e = err(r#""func": "sqrt", "in_scale": 8, "out_scale": 8, "range": [-5, 5]"#);
        assert!(
            e.contains("'/f'") && e.contains("sqrt is undefined at input -5"),
            "{e}"
        );
    }
}
