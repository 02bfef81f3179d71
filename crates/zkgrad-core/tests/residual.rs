//! Residual (skip) connections: an elementwise block `z = c0·a + c1·o` whose second operand is
//! an earlier block's output or the circuit input (`zk/elementwise.rs`). Honest proofs verify;
//! a tampered output, a wrong-but-consistent witness, values in the padding and a field
//! wrap-around are rejected.

use p3_field::PrimeCharacteristicRing;
use zkgrad_core::circuit::{
    BlockTrace, CircuitSpec, DenseSpec, DenseWeights, ElementwiseGeom, ElementwiseOp, LayerKind,
    Operand, Weights, forward, run_block_with,
};
use zkgrad_core::commit::CommittedWeights;
use zkgrad_core::field::{F, from_i64};
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::{prove, prove_batch, prove_from_traces, prove_tampered};
use zkgrad_core::verifier::verify;
use zkgrad_core::witness::WitnessPlan;

mod common;

const SEED: [u8; 32] = [9; 32];

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

/// `z = coef·(a, other)`, identity requantisation (m = 2, shift 1: q = z).
fn add(name: &str, width: usize, other: Operand, coef: [i64; 2], relu: bool) -> DenseSpec {
    elementwise(name, width, other, coef, relu, ElementwiseOp::Sum)
}

fn elementwise(
    name: &str,
    width: usize,
    other: Operand,
    coef: [i64; 2],
    relu: bool,
    op: ElementwiseOp,
) -> DenseSpec {
    DenseSpec {
        name: name.into(),
        in_dim: width,
        out_dim: width,
        mult: 2,
        shift: 1,
        relu,
        kind: LayerKind::Elementwise(ElementwiseGeom {
            op,
            other,
            coef,
            channels: 1,
            len: width,
        }),
    }
}

/// x (n) → fc0 (w, ReLU) → fc1 (w, ReLU) → res = fc1 + fc0 (`coef`) → fc2 (3).
fn residual_mlp(n: usize, w: usize, coef: [i64; 2], seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = common::Lcg(seed);
    let mut weights = |i: usize, o: usize| DenseWeights {
        weight: (0..i * o).map(|_| rng.next(-300, 300)).collect(),
        bias: (0..o).map(|_| rng.next(-5000, 5000)).collect(),
    };
    let ws = vec![
        weights(n, w),
        weights(w, w),
        DenseWeights {
            weight: Vec::new(),
            bias: Vec::new(),
        },
        weights(w, 3),
    ];
    let spec = CircuitSpec {
        input_len: n,
        table_bits: 16,
        layers: vec![
            dense("fc0", n, w, true),
            dense("fc1", w, w, true),
            add("res", w, Operand::Block(0), coef, false),
            dense("fc2", w, 3, false),
        ],
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    let mut rng = common::Lcg(seed + 1);
    let x = (0..n).map(|_| rng.next(-1000, 1000)).collect();
    (spec, Weights { layers: ws }, x)
}

#[test]
fn a_residual_mlp_proves_and_verifies() {
    for coef in [[1, 1], [1, -1], [4, 1]] {
        let (spec, w, x) = residual_mlp(6, 5, coef, 3);
        let traces = forward(&spec, &w, &x).unwrap();
        let expect: Vec<i64> = traces[1]
            .a
            .iter()
            .zip(&traces[0].a)
            .map(|(a, o)| coef[0] * a + coef[1] * o)
            .collect();
        assert_eq!(traces[2].a, expect, "the integer semantics are c0·a + c1·o");
        let proof = prove(&spec, &w, SEED, &x).unwrap();
        assert_eq!(proof.output, traces[3].a);
        common::verifies(&spec, &w, SEED, &proof).unwrap_or_else(|e| panic!("{coef:?}: {e}"));
    }
}

#[test]
fn a_batch_and_an_input_skip_with_relu_verify() {
    // res = relu(fc0 − x) reads the circuit input, and is the output.
    let spec = CircuitSpec {
        input_len: 4,
        table_bits: 16,
        layers: vec![
            dense("fc0", 4, 4, false),
            add("res", 4, Operand::Input, [1, -1], true),
        ],
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    let mut rng = common::Lcg(5);
    let w = Weights {
        layers: vec![
            DenseWeights {
                weight: (0..16).map(|_| rng.next(-300, 300)).collect(),
                bias: (0..4).map(|_| rng.next(-5000, 5000)).collect(),
            },
            DenseWeights {
                weight: Vec::new(),
                bias: Vec::new(),
            },
        ],
    };
    let xs: Vec<Vec<i64>> = (0..3)
        .map(|_| (0..4).map(|_| rng.next(-1000, 1000)).collect())
        .collect();
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    let t = forward(&spec, &w, &xs[0]).unwrap();
    let expect: Vec<i64> = t[0]
        .a
        .iter()
        .zip(&xs[0])
        .map(|(a, x)| (a - x).max(0))
        .collect();
    assert_eq!(&proof.output[..4], &expect[..]);
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    let mut public = spec.clone();
    public.public_input = true;
    let proof = prove_batch(&public, &w, SEED, &xs).unwrap();
    common::verifies(&public, &w, SEED, &proof).unwrap();
}

/// The planner gives narrow columns read by two blocks enough mask room (widths 1, 2, 3).
#[test]
fn narrow_residual_columns_verify() {
    for width in [1, 2, 3] {
        let (spec, w, x) = residual_mlp(3, width, [1, 1], 7 + width as u64);
        let proof = prove(&spec, &w, SEED, &x).unwrap_or_else(|e| panic!("width {width}: {e}"));
        common::verifies(&spec, &w, SEED, &proof).unwrap_or_else(|e| panic!("width {width}: {e}"));
    }
}

#[test]
fn a_tampered_output_is_rejected() {
    let (spec, w, x) = residual_mlp(6, 5, [1, 1], 3);
    let mut proof = prove(&spec, &w, SEED, &x).unwrap();
    proof.output[1] += 1;
    assert!(common::verifies(&spec, &w, SEED, &proof).is_err());
}

fn sub_add_evals(p: &mut Proof) {
    for b in &mut p.body.blocks {
        if let zkgrad_core::zk::proof::ZkBlockProof::Elementwise(e) = b {
            e.operands[1] += <zkgrad_core::field::EF as PrimeCharacteristicRing>::ONE;
        }
    }
}

#[test]
fn a_changed_operand_value_is_rejected() {
    let (spec, w, x) = residual_mlp(6, 5, [1, 1], 3);
    let mut proof = prove(&spec, &w, SEED, &x).unwrap();
    sub_add_evals(&mut proof);
    let err = common::verifies(&spec, &w, SEED, &proof).unwrap_err();
    assert!(err.contains("res"), "{err}");
}

/// Traces in which the residual sum is wrong at entry `i` by `delta`, every other relation
/// (requantisation, ReLU, the next blocks) recomputed from it: a consistent lie.
fn lie_at(spec: &CircuitSpec, w: &Weights, x: &[i64], i: usize, delta: i64) -> Vec<BlockTrace> {
    let mut t = forward(spec, w, x).unwrap();
    t[2].z[i] += delta;
    t[2].q[i] += delta;
    t[2].a[i] += delta;
    for l in 3..spec.layers.len() {
        t[l] = run_block_with(&spec.layers[l], &w.layers[l], &t[l - 1].a, &[], 16).unwrap();
    }
    t
}

#[test]
fn a_wrong_but_consistent_sum_is_rejected() {
    let (spec, w, x) = residual_mlp(6, 5, [1, 1], 3);
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    // The honest traces through the same dishonest entry point verify.
    let honest = forward(&spec, &w, &x).unwrap();
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[honest], &|_, _| {}).unwrap();
    verify(&spec, &cw.commitment, &common::roundtrip(&p)).unwrap();
    let lie = lie_at(&spec, &w, &x, 2, 37);
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[lie], &|_, _| {}).unwrap();
    let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
        .unwrap_err()
        .to_string();
    assert!(err.contains("res"), "rejected for another reason: {err}");
}

#[test]
fn values_in_the_padding_are_rejected() {
    // Width 5 is stored in 8 slots: slot 6 of the residual's output is padding.
    let (spec, w, x) = residual_mlp(6, 5, [1, 1], 3);
    let pad = 6;
    let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let b = &plan.blocks[2];
        cols[b.q][pad] = from_i64(11);
        plan.refresh_multiplicities(cols);
    };
    let p = prove_tampered(&spec, &w, SEED, &[x.clone()], &edit).unwrap();
    assert!(
        common::verifies(&spec, &w, SEED, &p).is_err(),
        "a nonzero padding output"
    );
    // Padding in the operand's column that the output copies: the operand's own relation
    // (fc0's padding rows) rejects it, and the sum never reads it.
    let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let (src, out) = (&plan.blocks[0], &plan.blocks[2]);
        for c in [src.q, src.a, out.q] {
            cols[c][pad] = from_i64(11);
        }
        plan.refresh_multiplicities(cols);
    };
    let p = prove_tampered(&spec, &w, SEED, &[x], &edit).unwrap();
    assert!(
        common::verifies(&spec, &w, SEED, &p).is_err(),
        "padding through the skip"
    );
}

#[test]
fn a_field_wrap_around_is_rejected() {
    // q + 1 and t − 2^16 satisfy the requantisation in the field; t is then p − something,
    // far outside its range.
    let (spec, w, x) = residual_mlp(6, 5, [1, 1], 3);
    let edit = |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let b = &plan.blocks[2];
        let t = b.t.unwrap();
        cols[b.q][1] += F::ONE;
        cols[b.a][1] += F::ONE;
        cols[t][1] -= F::from_u64(1 << 16);
        plan.refresh_multiplicities(cols);
    };
    let p = prove_tampered(&spec, &w, SEED, &[x], &edit);
    match p {
        Ok(p) => assert!(common::verifies(&spec, &w, SEED, &p).is_err()),
        Err(e) => assert!(e.to_string().contains("lookup"), "{e}"),
    }
    // Coefficients that could wrap the accumulator are refused with the circuit.
    let (mut spec, ..) = residual_mlp(6, 5, [1, 1], 3);
    spec.layers[2].mult = 1 << 24;
    spec.layers[2].shift = 1;
    if let LayerKind::Elementwise(g) = &mut spec.layers[2].kind {
        g.coef = [1 << 16, 1 << 16];
    }
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("wrap around"), "{err}");
}

#[test]
fn a_second_operand_that_is_not_earlier_is_refused() {
    let (mut spec, ..) = residual_mlp(6, 5, [1, 1], 3);
    if let LayerKind::Elementwise(g) = &mut spec.layers[2].kind {
        g.other = Operand::Block(3);
    }
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("'res'") && err.contains("earlier"), "{err}");
    let (mut spec, ..) = residual_mlp(6, 5, [1, 1], 3);
    if let LayerKind::Elementwise(g) = &mut spec.layers[2].kind {
        g.other = Operand::Input; // 6 values, not 5
    }
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("not stored like its output"), "{err}");
}

/// A narrow column read by three blocks (the next block and two skips) is refused with the
/// circuit, naming the block; a wide one is not, and proves.
#[test]
fn a_narrow_column_with_three_readers_is_refused() {
    let three_readers = |w: usize| {
        let (mut spec, mut weights, x) = residual_mlp(3, w, [1, 1], 4);
        spec.layers
            .push(add("res2", w, Operand::Block(0), [1, 1], false));
        weights.layers.push(DenseWeights {
            weight: Vec::new(),
            bias: Vec::new(),
        });
        // res2 follows fc2 (3 wide) in the chain: put it before fc2 instead.
        let fc2 = spec.layers.remove(3);
        let w2 = weights.layers.remove(3);
        spec.layers.push(fc2);
        weights.layers.push(w2);
        (spec, weights, x)
    };
    let (spec, ..) = three_readers(5);
    let err = spec.validate().unwrap_err().to_string();
    assert!(
        err.contains("'fc0'") && err.contains("read by 3 blocks"),
        "{err}"
    );
    let (spec, w, x) = three_readers(9);
    spec.validate().unwrap();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
}

/// x (5) → fc0 (4, ReLU) → fc1 (4) → sq = 3·fc1·fc0 requantised by 2^-9 → fc2 (3).
fn product_mlp(seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let (mut spec, w, x) = residual_mlp(5, 4, [1, 1], seed);
    spec.layers[1].relu = false;
    spec.layers[2] = elementwise(
        "sq",
        4,
        Operand::Block(0),
        [3, 1],
        false,
        ElementwiseOp::Product,
    );
    spec.layers[2].mult = 1;
    spec.layers[2].shift = 8;
    (spec, w, x)
}

#[test]
fn an_elementwise_product_proves_and_a_wrong_one_is_rejected() {
    let (spec, w, x) = product_mlp(21);
    let t = forward(&spec, &w, &x).unwrap();
    let z: Vec<i64> = t[1].a.iter().zip(&t[0].a).map(|(a, o)| 3 * a * o).collect();
    assert_eq!(t[2].z, z, "the integer semantics are c0·c1·a·o");
    assert!(
        t[2].q.iter().any(|&q| q != 0),
        "a product that requantises to zeros tests little"
    );
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    // A wrong-but-consistent product (the next blocks recomputed from it) is rejected.
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let lie = lie_at(&spec, &w, &x, 1, 5);
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[lie], &|_, _| {}).unwrap();
    let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
        .unwrap_err()
        .to_string();
    assert!(err.contains("sq"), "rejected for another reason: {err}");
    // A factor that could wrap the accumulator is refused with the circuit.
    let (mut spec, ..) = product_mlp(21);
    spec.layers[2].mult = 1 << 20;
    if let LayerKind::Elementwise(g) = &mut spec.layers[2].kind {
        g.coef = [1 << 16, 1 << 10];
    }
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("wrap around"), "{err}");
}
