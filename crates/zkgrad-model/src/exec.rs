//! The integer forward pass of a lowered model.
//!
//! It runs zkgrad-core's [`forward`] — the one definition of the integer semantics, shared with
//! the prover's witness generator — so a value computed here is exactly the value that gets
//! proved. A value outside the provable range is reported by the IR node and tensor it belongs to.

use zkgrad_core::ProofError;
use zkgrad_core::circuit::{BlockTrace, forward};

use crate::error::{ModelError, Result};
use crate::lower::{Lowered, Source};

/// Runs the model on a flattened integer input and returns the flattened output.
pub fn run(model: &Lowered, input: &[i64]) -> Result<Vec<i64>> {
    let mut traces = run_blocks(model, input)?;
    // A block's `a` is its output whether or not a ReLU follows the requant (a maxpool's maxima).
    Ok(traces.pop().map_or_else(|| input.to_vec(), |last| last.a))
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
}
