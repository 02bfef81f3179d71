//! A product of two activations (`LayerKind::MatMul`, `zk/matmul.rs`): attention's Q·Kᵀ shape,
//! two dense projections of one input multiplied together, then a dense head. Honest proofs
//! verify (one input, a batch, a public input, A the circuit input itself, one output column);
//! a tampered output, a wrong-but-consistent product, a value in the product's padding, a field
//! wrap-around and operands stored the wrong way are rejected.

use p3_field::PrimeCharacteristicRing;
use zkgrad_core::circuit::{
    BlockTrace, CircuitSpec, DenseSpec, DenseWeights, LayerKind, MatMulGeom, Operand, Weights,
    forward, run_block, run_block_with,
};
use zkgrad_core::commit::CommittedWeights;
use zkgrad_core::field::{F, from_i64};
use zkgrad_core::prover::{prove, prove_batch, prove_from_traces, prove_tampered};
use zkgrad_core::verifier::verify;
use zkgrad_core::witness::WitnessPlan;

mod common;

const SEED: [u8; 32] = [6; 32];

fn dense(name: &str, in_dim: usize, out_dim: usize) -> DenseSpec {
    DenseSpec {
        name: name.into(),
        in_dim,
        out_dim,
        mult: 3,
        shift: 12,
        relu: false,
        kind: LayerKind::Dense,
    }
}

fn product(rows: usize, inner: usize, cols: usize, other: Operand, relu: bool) -> DenseSpec {
    DenseSpec {
        name: "scores".into(),
        in_dim: rows * inner,
        out_dim: rows * cols,
        mult: 1,
        shift: 10,
        relu,
        kind: LayerKind::MatMul(MatMulGeom {
            other,
            heads: 1,
            rows,
            inner,
            cols,
        }),
    }
}

fn weights(rng: &mut common::Lcg, i: usize, o: usize) -> DenseWeights {
    DenseWeights {
        weight: (0..i * o).map(|_| rng.next(-300, 300)).collect(),
        bias: (0..o).map(|_| rng.next(-3000, 3000)).collect(),
    }
}

fn none() -> DenseWeights {
    DenseWeights {
        weight: Vec::new(),
        bias: Vec::new(),
    }
}

/// x (10) → a = fc_a(x) as rows × 4; x → b = fc_b(x) as 4 × cols; scores = a·b (ReLU);
/// head (3) reads the scores.
fn attention(rows: usize, cols: usize, seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = common::Lcg(seed);
    let layers = vec![
        dense("fc_a", 10, rows * 4),
        dense("fc_b", 10, 4 * cols),
        product(rows, 4, cols, Operand::Block(1), true),
        dense("head", rows * cols, 3),
    ];
    let w = Weights {
        layers: vec![
            weights(&mut rng, 10, rows * 4),
            weights(&mut rng, 10, 4 * cols),
            none(),
            weights(&mut rng, rows * cols, 3),
        ],
    };
    let spec = CircuitSpec {
        input_len: 10,
        table_bits: 16,
        layers,
        public_input: false,
        committed_input: false,
        sources: vec![
            Operand::Input,
            Operand::Input,
            Operand::Block(0),
            Operand::Block(2),
        ],
        extra_outputs: Vec::new(),
    };
    spec.validate().unwrap();
    let x = (0..10).map(|_| rng.next(-2000, 2000)).collect();
    (spec, w, x)
}

#[test]
fn the_product_block_computes_a_times_b() {
    let (spec, w, x) = attention(2, 4, 1);
    let t = forward(&spec, &w, &x).unwrap();
    let (a, b) = (&t[0].a, &t[1].a);
    let z: Vec<i64> = (0..2)
        .flat_map(|i| (0..4).map(move |j| (0..4).map(|k| a[i * 4 + k] * b[k * 4 + j]).sum()))
        .collect();
    assert_eq!(t[2].z, z);
    assert!(
        t[2].a.iter().any(|&v| v > 0),
        "a product of zeros tests little"
    );
}

#[test]
fn products_of_every_shape_prove_and_verify() {
    // Rows with padding (3 of 4), one output column (its column index has no variable), and
    // a square product.
    for (rows, cols) in [(2, 4), (3, 2), (3, 1), (4, 4)] {
        let (spec, w, x) = attention(rows, cols, 2);
        let proof = prove(&spec, &w, SEED, &x).unwrap();
        assert_eq!(proof.output, forward(&spec, &w, &x).unwrap()[3].a);
        common::verifies(&spec, &w, SEED, &proof).unwrap();
    }
    let (spec, w, _) = attention(3, 2, 3);
    let mut rng = common::Lcg(4);
    let xs: Vec<Vec<i64>> = (0..3)
        .map(|_| (0..10).map(|_| rng.next(-2000, 2000)).collect())
        .collect();
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    let mut public = spec.clone();
    public.public_input = true;
    let proof = prove(&public, &w, SEED, &xs[0]).unwrap();
    common::verifies(&public, &w, SEED, &proof).unwrap();
}

#[test]
fn the_circuit_input_can_be_the_first_operand() {
    // x (3 × 4, one padding row in its column) times fc_b(x)'s 4 × 2.
    let mut rng = common::Lcg(5);
    let spec = CircuitSpec {
        input_len: 12,
        table_bits: 16,
        layers: vec![
            dense("fc_b", 12, 8),
            product(3, 4, 2, Operand::Block(0), false),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Input],
        extra_outputs: Vec::new(),
    };
    spec.validate().unwrap();
    let w = Weights {
        layers: vec![weights(&mut rng, 12, 8), none()],
    };
    let x: Vec<i64> = (0..12).map(|_| rng.next(-2000, 2000)).collect();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    let xs = vec![x.clone(), x.iter().map(|v| -v).collect()];
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
}

#[test]
fn a_tampered_output_is_rejected() {
    let (spec, w, x) = attention(3, 2, 6);
    let mut proof = prove(&spec, &w, SEED, &x).unwrap();
    proof.output[1] += 1;
    assert!(common::verifies(&spec, &w, SEED, &proof).is_err());
}

/// The product wrong at entry `i` by `delta`, the head recomputed from it.
fn lie_in_product(
    spec: &CircuitSpec,
    w: &Weights,
    x: &[i64],
    i: usize,
    delta: i64,
) -> Vec<BlockTrace> {
    let mut t = forward(spec, w, x).unwrap();
    t[2].z[i] += delta * 1024;
    t[2].q[i] += delta;
    t[2].a[i] = t[2].q[i].max(0);
    t[3] = run_block(&spec.layers[3], &w.layers[3], &t[2].a, 16).unwrap();
    t
}

#[test]
fn a_wrong_but_consistent_product_is_rejected() {
    let (spec, w, x) = attention(3, 2, 7);
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let honest = forward(&spec, &w, &x).unwrap();
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[honest], &|_, _| {}).unwrap();
    verify(&spec, &cw.commitment, &common::roundtrip(&p)).unwrap();
    for (i, delta) in [(0, 3), (4, -2), (5, 40)] {
        let lie = lie_in_product(&spec, &w, &x, i, delta);
        let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[lie], &|_, _| {}).unwrap();
        let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
            .unwrap_err()
            .to_string();
        assert!(err.contains("scores"), "rejected for another reason: {err}");
    }
    // A wrong operand with the product recomputed from it: fc_b's own relation rejects it.
    let mut t = forward(&spec, &w, &x).unwrap();
    t[1].z[3] += 4096;
    t[1].q[3] += 1;
    t[1].a[3] += 1;
    t[2] = run_block_with(&spec.layers[2], &w.layers[2], &t[0].a, &t[1].a, 16).unwrap();
    t[3] = run_block(&spec.layers[3], &w.layers[3], &t[2].a, 16).unwrap();
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[t], &|_, _| {}).unwrap();
    let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
        .unwrap_err()
        .to_string();
    assert!(err.contains("fc_b"), "rejected for another reason: {err}");
}

#[test]
fn a_value_in_the_products_padding_is_rejected() {
    // 3 rows stored in 4: slots 6 and 7 of the 3 × 2 product are padding.
    let (spec, w, x) = attention(3, 2, 8);
    let edit = |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let b = &plan.blocks[2];
        cols[b.q][7] = from_i64(9);
        cols[b.a][7] = from_i64(9);
        plan.refresh_multiplicities(cols);
    };
    let p = prove_tampered(&spec, &w, SEED, &[x], &edit).unwrap();
    assert!(common::verifies(&spec, &w, SEED, &p).is_err());
}

#[test]
fn a_field_wrap_around_is_rejected() {
    let (spec, w, x) = attention(3, 2, 9);
    let edit = |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let b = &plan.blocks[2];
        let t = b.t.unwrap();
        cols[b.q][1] += F::ONE;
        cols[t][1] -= F::from_u64(1 << 16);
        plan.refresh_multiplicities(cols);
    };
    match prove_tampered(&spec, &w, SEED, &[x], &edit) {
        Ok(p) => assert!(common::verifies(&spec, &w, SEED, &p).is_err()),
        Err(e) => assert!(e.to_string().contains("lookup"), "{e}"),
    }
    // A multiplier that could wrap the accumulator is refused with the circuit.
    let (mut spec, ..) = attention(3, 2, 9);
    spec.layers[2].mult = 1 << 24;
    spec.layers[2].shift = 1;
    let err = spec.validate().unwrap_err().to_string();
    assert!(
        err.contains("'scores'") && err.contains("wrap around"),
        "{err}"
    );
}

#[test]
fn operands_stored_otherwise_are_refused() {
    // fc_b's 4 × 3 output is stored flat: its rows are not 4-entry channels.
    let (mut spec, ..) = attention(2, 4, 10);
    spec.layers[1].out_dim = 12;
    spec.layers[2].kind = LayerKind::MatMul(MatMulGeom {
        other: Operand::Block(1),
        heads: 1,
        rows: 2,
        inner: 4,
        cols: 3,
    });
    spec.layers[2].out_dim = 6;
    spec.layers[3].in_dim = 6;
    let err = spec.validate().unwrap_err().to_string();
    assert!(
        err.contains("'scores'") && err.contains("second operand"),
        "{err}"
    );
    // A second operand that is not earlier.
    let (mut spec, ..) = attention(2, 4, 10);
    if let LayerKind::MatMul(g) = &mut spec.layers[2].kind {
        g.other = Operand::Block(3);
    }
    assert!(spec.validate().is_err());
    // The input as B with padding (3 × 2 stored in 4 × 2): refused.
    let mut rng = common::Lcg(11);
    let spec = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![dense("fc_a", 6, 8), product(2, 3, 2, Operand::Input, false)],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Block(0)],
        extra_outputs: Vec::new(),
    };
    let _ = weights(&mut rng, 1, 1);
    assert!(spec.validate().is_err());
}

#[test]
fn the_inputs_padding_is_never_read() {
    // x is 3 × 4 stored in 4 × 4: a prover who fills the padding row with values (in range)
    // gets the same verified output, since S_A never reads it.
    let mut rng = common::Lcg(12);
    let spec = CircuitSpec {
        input_len: 12,
        table_bits: 16,
        layers: vec![
            dense("fc_b", 12, 8),
            product(3, 4, 2, Operand::Block(0), false),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Input],
        extra_outputs: Vec::new(),
    };
    let w = Weights {
        layers: vec![weights(&mut rng, 12, 8), none()],
    };
    let x: Vec<i64> = (0..12).map(|_| rng.next(-2000, 2000)).collect();
    let edit = |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        for slot in 12..16 {
            cols[plan.x][slot] = from_i64(1500);
        }
        plan.refresh_multiplicities(cols);
    };
    let p = prove_tampered(&spec, &w, SEED, &[x.clone()], &edit).unwrap();
    // fc_b reads the padding through its own selector too, so the proof verifies as is.
    common::verifies(&spec, &w, SEED, &p).unwrap();
    assert_eq!(p.output, forward(&spec, &w, &x).unwrap()[1].a);
}

/// x (10) → fc_a as `heads` stacked rows × inner; fc_b as heads × inner × cols; their product.
fn stacked(
    heads: usize,
    rows: usize,
    inner: usize,
    cols: usize,
) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = common::Lcg(13 + heads as u64);
    let (a, b, z) = (
        heads * rows * inner,
        heads * inner * cols,
        heads * rows * cols,
    );
    let mut scores = product(rows, inner, cols, Operand::Block(1), false);
    scores.in_dim = a;
    scores.out_dim = z;
    if let LayerKind::MatMul(g) = &mut scores.kind {
        g.heads = heads;
    }
    let spec = CircuitSpec {
        input_len: 10,
        table_bits: 16,
        layers: vec![dense("fc_a", 10, a), dense("fc_b", 10, b), scores],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Input, Operand::Block(0)],
        extra_outputs: Vec::new(),
    };
    spec.validate().unwrap();
    let w = Weights {
        layers: vec![weights(&mut rng, 10, a), weights(&mut rng, 10, b), none()],
    };
    let x = (0..10).map(|_| rng.next(-2000, 2000)).collect();
    (spec, w, x)
}

#[test]
fn stacked_products_multiply_each_head_and_verify() {
    // Two and three heads (a padding head), and a product so small its columns are widened.
    for (heads, rows, inner, cols) in [(2, 2, 4, 2), (3, 2, 2, 4), (2, 1, 2, 1)] {
        let (spec, w, x) = stacked(heads, rows, inner, cols);
        let t = forward(&spec, &w, &x).unwrap();
        let (a, b) = (&t[0].a, &t[1].a);
        for h in 0..heads {
            for i in 0..rows {
                for j in 0..cols {
                    let z: i64 = (0..inner)
                        .map(|k| a[(h * rows + i) * inner + k] * b[(h * inner + k) * cols + j])
                        .sum();
                    assert_eq!(t[2].z[(h * rows + i) * cols + j], z, "head {h}");
                }
            }
        }
        let proof = prove(&spec, &w, SEED, &x).unwrap();
        common::verifies(&spec, &w, SEED, &proof).unwrap();
        let mut bad = proof.clone();
        let last = bad.output.len() - 1; // the last head's last value
        bad.output[last] += 1;
        assert!(common::verifies(&spec, &w, SEED, &bad).is_err());
        let xs = vec![
            x.clone(),
            x.iter().map(|v| v / 2).collect(),
            x.iter().rev().copied().collect(),
        ];
        let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
        common::verifies(&spec, &w, SEED, &proof).unwrap();
    }
    // Rows that are not a power of two cannot be stacked: the head would share variables.
    let (mut spec, ..) = stacked(2, 2, 4, 2);
    if let LayerKind::MatMul(g) = &mut spec.layers[2].kind {
        g.rows = 3;
    }
    spec.layers[2].in_dim = 2 * 3 * 4;
    spec.layers[2].out_dim = 2 * 3 * 2;
    spec.layers[0].out_dim = 24;
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("powers of two"), "{err}");
}
