//! Branches that both compute (`CircuitSpec::sources`): blocks read the circuit input or any
//! earlier block's output, not only the previous one, so a graph may fork and join. Here the input
//! feeds two dense branches, an elementwise block joins them, and a dense head reads the join.
//! Honest proofs verify (one input and a batch); a tampered output, a wrong-but-consistent
//! branch, a proof made for another wiring and a source that is not earlier are rejected.

use zkgrad_core::circuit::{
    BlockTrace, CircuitSpec, DenseSpec, DenseWeights, ElementwiseGeom, ElementwiseOp, LayerKind,
    Operand, Weights, forward, run_block, run_block_with,
};
use zkgrad_core::commit::{CommittedWeights, commit_model};
use zkgrad_core::prover::{prove, prove_batch, prove_from_traces};
use zkgrad_core::verifier::verify;

mod common;

const SEED: [u8; 32] = [4; 32];

fn dense(name: &str, in_dim: usize, out_dim: usize, relu: bool) -> DenseSpec {
    DenseSpec {
        name: name.into(),
        in_dim,
        out_dim,
        mult: 3,
        shift: 12,
        relu,
        kind: LayerKind::Dense,
    }
}

fn join(width: usize, other: Operand) -> DenseSpec {
    DenseSpec {
        name: "join".into(),
        in_dim: width,
        out_dim: width,
        mult: 2,
        shift: 1,
        relu: true,
        kind: LayerKind::Elementwise(ElementwiseGeom {
            op: ElementwiseOp::Sum,
            other,
            coef: [1, 1],
            channels: 1,
            len: width,
        }),
    }
}

/// x (6) → fc_a (5, ReLU); x → fc_b (5); join = relu(fc_b + fc_a); head (3) reads join.
fn forked(seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = common::Lcg(seed);
    let mut weights = |i: usize, o: usize| DenseWeights {
        weight: (0..i * o).map(|_| rng.next(-300, 300)).collect(),
        bias: (0..o).map(|_| rng.next(-5000, 5000)).collect(),
    };
    let layers = vec![weights(6, 5), weights(6, 5)];
    let head = weights(5, 3);
    let none = DenseWeights {
        weight: Vec::new(),
        bias: Vec::new(),
    };
    let spec = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 6, 5, true),
            dense("fc_b", 6, 5, false),
            join(5, Operand::Block(0)),
            dense("head", 5, 3, false),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![
            Operand::Input,
            Operand::Input,
            Operand::Block(1),
            Operand::Block(2),
        ],
        extra_outputs: Vec::new(),
    };
    let mut rng = common::Lcg(seed + 1);
    let x = (0..6).map(|_| rng.next(-1000, 1000)).collect();
    let w = Weights {
        layers: [layers, vec![none, head]].concat(),
    };
    (spec, w, x)
}

#[test]
fn a_forked_graph_computes_each_branch_from_its_own_source() {
    let (spec, w, x) = forked(3);
    spec.validate().unwrap();
    let t = forward(&spec, &w, &x).unwrap();
    // Each block recomputed from the tensor it names, not from the previous block.
    let a = run_block(&spec.layers[0], &w.layers[0], &x, 16).unwrap();
    let b = run_block(&spec.layers[1], &w.layers[1], &x, 16).unwrap();
    let joined: Vec<i64> = b.a.iter().zip(&a.a).map(|(b, a)| (b + a).max(0)).collect();
    assert_eq!((&t[0].a, &t[1].a, &t[2].a), (&a.a, &b.a, &joined));
    assert!(
        joined.iter().any(|&v| v != 0),
        "a join of zeros tests little"
    );
    let head = run_block(&spec.layers[3], &w.layers[3], &joined, 16).unwrap();
    assert_eq!(t[3].a, head.a);
    // The input has two readers (the branches); each block's output one, the head's none.
    assert_eq!(spec.readers(), vec![2, 1, 1, 1, 0]);
}

#[test]
fn a_forked_graph_proves_and_verifies() {
    let (spec, w, x) = forked(3);
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    assert_eq!(proof.output, forward(&spec, &w, &x).unwrap()[3].a);
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    let mut rng = common::Lcg(8);
    let xs: Vec<Vec<i64>> = (0..3)
        .map(|_| (0..6).map(|_| rng.next(-1000, 1000)).collect())
        .collect();
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    let mut public = spec.clone();
    public.public_input = true;
    let proof = prove(&public, &w, SEED, &x).unwrap();
    common::verifies(&public, &w, SEED, &proof).unwrap();
}

#[test]
fn a_tampered_output_is_rejected() {
    let (spec, w, x) = forked(3);
    let mut proof = prove(&spec, &w, SEED, &x).unwrap();
    proof.output[0] += 1;
    assert!(common::verifies(&spec, &w, SEED, &proof).is_err());
}

/// fc_b's output wrong at entry `i` by `delta`, the join and the head recomputed from it.
fn lie_in_branch(
    spec: &CircuitSpec,
    w: &Weights,
    x: &[i64],
    i: usize,
    delta: i64,
) -> Vec<BlockTrace> {
    let mut t = forward(spec, w, x).unwrap();
    t[1].z[i] += delta;
    t[1].q[i] += delta;
    t[1].a[i] += delta;
    t[2] = run_block_with(&spec.layers[2], &w.layers[2], &t[1].a, &t[0].a, 16).unwrap();
    t[3] = run_block(&spec.layers[3], &w.layers[3], &t[2].a, 16).unwrap();
    t
}

#[test]
fn a_wrong_but_consistent_branch_is_rejected() {
    let (spec, w, x) = forked(3);
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let honest = forward(&spec, &w, &x).unwrap();
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[honest], &|_, _| {}).unwrap();
    verify(&spec, &cw.commitment, &common::roundtrip(&p)).unwrap();
    let lie = lie_in_branch(&spec, &w, &x, 2, 41);
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[lie], &|_, _| {}).unwrap();
    let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
        .unwrap_err()
        .to_string();
    assert!(err.contains("fc_b"), "rejected for another reason: {err}");
}

#[test]
fn a_proof_for_another_wiring_is_rejected() {
    // The same blocks and weights, but fc_b reads fc_a's output instead of the input: its
    // proof does not verify against the published wiring.
    let (spec, w, x) = forked(3);
    let mut other = spec.clone();
    other.layers[1].in_dim = 5;
    other.sources[1] = Operand::Block(0);
    let mut w_other = w.clone();
    w_other.layers[1].weight.truncate(5 * 5);
    other.validate().unwrap();
    let proof = prove(&other, &w_other, SEED, &x).unwrap();
    common::verifies(&other, &w_other, SEED, &proof).unwrap();
    let mc = commit_model(&spec, &w, SEED).unwrap();
    assert!(verify(&spec, &mc, &common::roundtrip(&proof)).is_err());
}

#[test]
fn sources_that_are_not_earlier_or_do_not_fit_are_refused() {
    let (mut spec, ..) = forked(3);
    spec.sources[2] = Operand::Block(2);
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("'join'") && err.contains("earlier"), "{err}");
    let (mut spec, ..) = forked(3);
    spec.sources[3] = Operand::Input; // 6 values, the head takes 5
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("'head'") && err.contains("6 values"), "{err}");
    let (mut spec, ..) = forked(3);
    spec.sources.pop();
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("3 block sources for 4 blocks"), "{err}");
}

#[test]
fn a_chain_written_with_sources_is_the_same_circuit() {
    // Explicit chain sources prove like the implicit chain (the lowering stores neither).
    let (mut spec, w, x) = forked(3);
    spec.sources = vec![
        Operand::Input,
        Operand::Block(0),
        Operand::Block(1),
        Operand::Block(2),
    ];
    spec.layers[1].in_dim = 5;
    let mut w = w;
    w.layers[1].weight.truncate(25);
    spec.validate().unwrap();
    let mut implicit = spec.clone();
    implicit.sources.clear();
    assert_eq!(
        forward(&spec, &w, &x).unwrap()[3].a,
        forward(&implicit, &w, &x).unwrap()[3].a
    );
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
}

/// The forked circuit stating fc_a's output too (an extra output, `CircuitSpec::extra_outputs`).
fn two_outputs() -> (CircuitSpec, Weights, Vec<i64>) {
    let (mut spec, w, x) = forked(3);
    spec.extra_outputs = vec![0];
    spec.validate().unwrap();
    (spec, w, x)
}

#[test]
fn an_extra_output_is_stated_after_the_last_blocks_and_verifies() {
    let (spec, w, x) = two_outputs();
    let t = forward(&spec, &w, &x).unwrap();
    assert_eq!(spec.output_len(), 3 + 5);
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    assert_eq!(proof.output, [t[3].a.clone(), t[0].a.clone()].concat());
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    let mut rng = common::Lcg(9);
    let xs: Vec<Vec<i64>> = (0..3)
        .map(|_| (0..6).map(|_| rng.next(-1000, 1000)).collect())
        .collect();
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    let want: Vec<i64> = xs
        .iter()
        .flat_map(|x| {
            let t = forward(&spec, &w, x).unwrap();
            [t[3].a.clone(), t[0].a.clone()].concat()
        })
        .collect();
    assert_eq!(proof.output, want);
    common::verifies(&spec, &w, SEED, &proof).unwrap();
}

#[test]
fn a_tampered_extra_output_is_rejected() {
    let (spec, w, x) = two_outputs();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    for i in [3, 5, 7] {
        // Every entry of the extra output (after the head's 3 values), each on its own.
        let mut p = proof.clone();
        p.output[i] += 1;
        assert!(common::verifies(&spec, &w, SEED, &p).is_err(), "entry {i}");
    }
    // A batch proof: the second item's extra output.
    let proof = prove_batch(&spec, &w, SEED, &[x.clone(), x.clone()]).unwrap();
    let mut p = proof.clone();
    p.output[8 + 4] -= 1;
    assert!(common::verifies(&spec, &w, SEED, &p).is_err());
}

#[test]
fn a_wrong_but_consistent_extra_output_is_rejected() {
    // fc_a's output is stated, but the prover's fc_a lies at one entry and everything after it
    // is recomputed consistently: the lie is caught at fc_a's own relation.
    let (spec, w, x) = two_outputs();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let mut t = forward(&spec, &w, &x).unwrap();
    t[0].z[1] += 37;
    t[0].q[1] += 37;
    t[0].a[1] += 37;
    t[2] = run_block_with(&spec.layers[2], &w.layers[2], &t[1].a, &t[0].a, 16).unwrap();
    t[3] = run_block(&spec.layers[3], &w.layers[3], &t[2].a, 16).unwrap();
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[t], &|_, _| {}).unwrap();
    let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
        .unwrap_err()
        .to_string();
    assert!(err.contains("fc_a"), "rejected for another reason: {err}");
}

#[test]
fn a_proof_stating_other_outputs_is_rejected() {
    // A proof made for the circuit without the extra output does not verify against the one
    // with it, nor the other way round: the outputs listed are part of the circuit's digest.
    let (spec, w, x) = two_outputs();
    let (single, ..) = forked(3);
    let proof = prove(&single, &w, SEED, &x).unwrap();
    let mc = commit_model(&spec, &w, SEED).unwrap();
    assert!(verify(&spec, &mc, &common::roundtrip(&proof)).is_err());
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    let mc = commit_model(&single, &w, SEED).unwrap();
    assert!(verify(&single, &mc, &common::roundtrip(&proof)).is_err());
}

#[test]
fn extra_outputs_that_are_the_last_block_or_repeated_are_refused() {
    let (mut spec, ..) = two_outputs();
    spec.extra_outputs = vec![3];
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("before the last"), "{err}");
    spec.extra_outputs = vec![1, 1];
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("'fc_b' is listed twice"), "{err}");
}
