//! A small MLP through the whole model path: compile (commit), bytes round trips, prove, verify,
//! and rejection of tampered proofs. These need zkgrad-core's commitment, prover and verifier.

use std::collections::BTreeMap;

use zkgrad_core::proof::Proof;
use zkgrad_model::{CompiledModel, Graph, ModelError, Tensor, VerifyingKey};

const MLP: &str = r#"{"version": 1,
  "input":  {"name": "input", "shape": [1, 16], "scale_bits": 8},
  "output": {"name": "logits", "shape": [1, 4], "scale_bits": 8},
  "nodes": [
    {"name": "/fc1/Gemm", "op": "dense", "inputs": ["input"], "output": "fc1_acc", "weight": "fc1.weight", "bias": "fc1.bias"},
    {"name": "/fc1/Gemm:requant", "op": "requant", "inputs": ["fc1_acc"], "output": "fc1_q", "mult": 3, "shift": 6},
    {"name": "/relu", "op": "relu", "inputs": ["fc1_q"], "output": "h1"},
    {"name": "/flatten", "op": "reshape", "inputs": ["h1"], "output": "h1f", "shape": [1, 8]},
    {"name": "/fc2/Gemm", "op": "dense", "inputs": ["h1f"], "output": "fc2_acc", "weight": "fc2.weight", "bias": null},
    {"name": "/fc2/Gemm:requant", "op": "requant", "inputs": ["fc2_acc"], "output": "logits", "mult": 1, "shift": 4}
  ],
  "meta": {"source": "tests/compiled_mlp.rs", "scales": [8, 8]}
}"#;

/// Deterministic small weights in [-8, 8).
fn tensors(salt: i64) -> BTreeMap<String, Tensor> {
    let vals = |n: usize, k: i64| {
        (0..n as i64)
            .map(|i| ((i * 37 + k * 11 + salt) % 16) - 8)
            .collect::<Vec<_>>()
    };
    let mut t = BTreeMap::new();
    t.insert(
        "fc1.weight".into(),
        Tensor::new("fc1.weight", vec![8, 16], vals(128, 1)).unwrap(),
    );
    t.insert(
        "fc1.bias".into(),
        Tensor::new("fc1.bias", vec![8], vals(8, 2)).unwrap(),
    );
    t.insert(
        "fc2.weight".into(),
        Tensor::new("fc2.weight", vec![4, 8], vals(32, 3)).unwrap(),
    );
    t
}

fn compile(salt: i64) -> CompiledModel {
    CompiledModel::compile_with_seed(Graph::from_json(MLP).unwrap(), tensors(salt), [7; 32])
        .unwrap()
}

fn input() -> Vec<i64> {
    (0..16).map(|i| (i * 13 % 29) - 14).collect()
}

#[test]
fn mlp_commitment_is_deterministic_given_the_seed() {
    assert_eq!(
        compile(0).commitment().digest(),
        compile(0).commitment().digest()
    );
    assert_ne!(
        compile(0).commitment().digest(),
        compile(1).commitment().digest()
    );
}

#[test]
fn mlp_compiled_model_round_trips_through_bytes() {
    let m = compile(0);
    let bytes = m.to_bytes();
    assert_eq!(
        &bytes[..6],
        [
            &b"ZKGM"[..],
            &zkgrad_model::compiled::FORMAT_VERSION.to_le_bytes()
        ]
        .concat()
    );
    let back = CompiledModel::from_bytes(&bytes).unwrap();
    assert_eq!(back.graph(), m.graph());
    assert_eq!(back.tensors(), m.tensors());
    assert_eq!(back.lowered(), m.lowered());
    assert_eq!(back.commitment(), m.commitment());
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.graph().meta["source"], "tests/compiled_mlp.rs");
    assert_eq!(m.num_params(), 128 + 8 + 32);
    // Every strict prefix is rejected with an error, never a panic.
    for cut in [0, 3, 6, 7, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            CompiledModel::from_bytes(&bytes[..cut]).is_err(),
            "prefix of {cut} bytes accepted"
        );
    }
}

#[test]
fn mlp_verifying_key_round_trips_and_has_no_weights() {
    let m = compile(0);
    let vk = m.verifying_key();
    let bytes = vk.to_bytes();
    assert_eq!(&bytes[..4], b"ZKGV");
    assert_eq!(VerifyingKey::from_bytes(&bytes).unwrap(), vk);
    assert!(bytes.len() < m.to_bytes().len());
    assert!(matches!(
        VerifyingKey::from_bytes(&m.to_bytes()),
        Err(ModelError::BadMagic { .. })
    ));
}

#[test]
fn verifying_key_meta_can_be_replaced_without_changing_what_it_accepts() {
    let m = compile(0);
    let vk = m
        .verifying_key()
        .with_meta_json(r#"{"public": true}"#)
        .unwrap();
    assert_eq!(vk.graph().meta, serde_json::json!({"public": true}));
    assert_eq!(vk.spec(), m.spec());
    assert_eq!(vk.commitment(), m.commitment());
    let proof = m.prove(&input()).unwrap();
    assert_eq!(vk.verify(&proof).unwrap(), m.run(&input()).unwrap());
    assert!(matches!(
        m.verifying_key().with_meta_json("{not json"),
        Err(ModelError::Json { .. })
    ));
}

#[test]
fn mlp_proof_verifies_to_the_executed_output() {
    let m = compile(0);
    let x = input();
    let expected = m.run(&x).unwrap();
    let proof = m.prove(&x).unwrap();
    assert_eq!(proof.output, expected);
    let decoded = Proof::from_bytes(&proof.to_bytes()).unwrap();
    assert_eq!(m.verify(&decoded).unwrap(), expected);
    let vk = VerifyingKey::from_bytes(&m.verifying_key().to_bytes()).unwrap();
    assert_eq!(vk.verify(&decoded).unwrap(), expected);
    // A model decoded from its bytes proves the same statement.
    let again = CompiledModel::from_bytes(&m.to_bytes())
        .unwrap()
        .prove(&x)
        .unwrap();
    assert_eq!(m.verify(&again).unwrap(), expected);
}

#[test]
fn mlp_proof_with_a_tampered_output_is_rejected() {
    let m = compile(0);
    let mut proof = m.prove(&input()).unwrap();
    proof.output[0] += 1;
    assert!(m.verify(&proof).is_err());
}

#[test]
fn mlp_proof_for_other_weights_is_rejected() {
    let (a, b) = (compile(0), compile(1));
    let proof = a.prove(&input()).unwrap();
    assert!(b.verify(&proof).is_err());
}

#[test]
fn mlp_prove_reports_an_out_of_range_input_by_name() {
    let mut x = input();
    x[3] = 1 << 20;
    let e = compile(0).prove(&x).unwrap_err();
    assert!(
        matches!(&e, ModelError::InputRange { tensor, .. } if tensor == "input"),
        "{e}"
    );
}
