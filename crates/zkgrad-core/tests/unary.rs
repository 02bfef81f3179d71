//! Table blocks: `a' = f(a)` by a public table of (input, output) pairs, proved by the lookup
//! sumcheck (`zk/unary.rs`). Honest proofs verify (batches, a public input, the table block
//! first or last, narrow columns); a tampered output, a pair that is not in the table, values
//! in the padding and inputs outside the table are rejected.

use zkgrad_core::circuit::{
    CircuitSpec, DenseSpec, DenseWeights, LayerKind, UnaryGeom, Weights, forward, run_block,
};
use zkgrad_core::commit::CommittedWeights;
use zkgrad_core::field::{F, from_i64};
use zkgrad_core::prover::{prove, prove_batch, prove_from_traces, prove_tampered};
use zkgrad_core::verifier::verify;
use zkgrad_core::witness::WitnessPlan;

mod common;

const SEED: [u8; 32] = [5; 32];
/// The tables cover [−LIMIT, LIMIT).
const LIMIT: i64 = 4096;

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

/// round(sigmoid(x / 2^8)·2^12): inputs at scale 8, outputs at scale 12.
fn sigmoid_table() -> (i64, Vec<i64>) {
    let values = (-LIMIT..LIMIT)
        .map(|x| ((1.0 / (1.0 + (-(x as f64) / 256.0).exp())) * 4096.0).round() as i64)
        .collect();
    (-LIMIT, values)
}

fn unary(name: &str, width: usize) -> DenseSpec {
    let (lo, values) = sigmoid_table();
    DenseSpec {
        name: name.into(),
        in_dim: width,
        out_dim: width,
        mult: 1,
        shift: 1,
        relu: false,
        kind: LayerKind::Unary(UnaryGeom {
            func: "sigmoid".into(),
            channels: 1,
            len: width,
            lo,
            values,
        }),
    }
}

fn no_weights() -> DenseWeights {
    DenseWeights {
        weight: Vec::new(),
        bias: Vec::new(),
    }
}

/// x (n) → fc0 (w) → sigmoid → fc1 (3).
fn sigmoid_mlp(n: usize, w: usize, seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = common::Lcg(seed);
    let mut weights = |i: usize, o: usize| DenseWeights {
        weight: (0..i * o).map(|_| rng.next(-300, 300)).collect(),
        bias: (0..o).map(|_| rng.next(-5000, 5000)).collect(),
    };
    let ws = vec![weights(n, w), no_weights(), weights(w, 3)];
    let spec = CircuitSpec {
        input_len: n,
        table_bits: 16,
        layers: vec![dense("fc0", n, w), unary("sig", w), dense("fc1", w, 3)],
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
fn a_sigmoid_between_dense_layers_proves_and_verifies() {
    let (spec, w, x) = sigmoid_mlp(6, 5, 3);
    let traces = forward(&spec, &w, &x).unwrap();
    let (lo, table) = sigmoid_table();
    let expect: Vec<i64> = traces[0]
        .a
        .iter()
        .map(|&v| table[(v - lo) as usize])
        .collect();
    assert_eq!(traces[1].a, expect, "the integer semantics are the table's");
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    assert_eq!(proof.output, traces[2].a);
    common::verifies(&spec, &w, SEED, &proof).unwrap();
}

#[test]
fn a_batch_a_public_input_and_a_table_first_or_last_verify() {
    let (spec, w, _) = sigmoid_mlp(6, 5, 4);
    let mut rng = common::Lcg(11);
    let xs: Vec<Vec<i64>> = (0..3)
        .map(|_| (0..6).map(|_| rng.next(-1000, 1000)).collect())
        .collect();
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    common::verifies(&spec, &w, SEED, &proof).unwrap();
    let mut public = spec.clone();
    public.public_input = true;
    let proof = prove_batch(&public, &w, SEED, &xs).unwrap();
    common::verifies(&public, &w, SEED, &proof).unwrap();
    // The table block reads the circuit input, and is the (public) output.
    let first = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![unary("sig_in", 6), dense("fc", 6, 4), unary("sig_out", 4)],
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    let mut rng = common::Lcg(12);
    let fw = Weights {
        layers: vec![
            no_weights(),
            DenseWeights {
                weight: (0..24).map(|_| rng.next(-30, 30)).collect(),
                bias: (0..4).map(|_| rng.next(-5000, 5000)).collect(),
            },
            no_weights(),
        ],
    };
    let proof = prove_batch(&first, &fw, SEED, &xs).unwrap();
    common::verifies(&first, &fw, SEED, &proof).unwrap();
    let (lo, table) = sigmoid_table();
    assert!(proof.output.iter().all(|v| table.contains(v) && lo < 0));
}

/// The zero-knowledge planner (`zk/budget.rs`, checked before anything is revealed) gives the
/// table block's narrow columns enough mask room: widths 1, 2 and 3.
#[test]
fn narrow_table_columns_verify() {
    for width in [1, 2, 3] {
        let (spec, w, x) = sigmoid_mlp(3, width, 7 + width as u64);
        let proof = prove(&spec, &w, SEED, &x).unwrap_or_else(|e| panic!("width {width}: {e}"));
        common::verifies(&spec, &w, SEED, &proof).unwrap_or_else(|e| panic!("width {width}: {e}"));
    }
}

#[test]
fn a_tampered_output_is_rejected() {
    let (spec, w, x) = sigmoid_mlp(6, 5, 3);
    let mut proof = prove(&spec, &w, SEED, &x).unwrap();
    proof.output[1] += 1;
    assert!(common::verifies(&spec, &w, SEED, &proof).is_err());
}

/// A sigmoid output off by one at entry 2, the next block recomputed from it: every other
/// relation holds, only the pair (a, b) is not in the table.
#[test]
fn a_pair_outside_the_table_is_rejected() {
    let (spec, w, x) = sigmoid_mlp(6, 5, 3);
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let honest = forward(&spec, &w, &x).unwrap();
    let p = prove_from_traces(
        &spec,
        &w,
        SEED,
        &cw,
        &[x.clone()],
        &[honest.clone()],
        &|_, _| {},
    )
    .unwrap();
    verify(&spec, &cw.commitment, &common::roundtrip(&p)).unwrap();
    let mut lie = honest;
    lie[1].a[2] += 1;
    lie[1].q[2] += 1;
    lie[2] = run_block(&spec.layers[2], &w.layers[2], &lie[1].a, 16).unwrap();
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x], &[lie], &|_, _| {}).unwrap();
    let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
        .unwrap_err()
        .to_string();
    assert!(err.contains("lookup"), "rejected for another reason: {err}");
}

#[test]
fn values_in_the_padding_are_rejected() {
    // Width 5 is stored in 8 slots: slot 6 is padding. The pair (0, f(0)) is a table entry,
    // but not on a padding slot; nor is any nonzero output.
    let (spec, w, x) = sigmoid_mlp(6, 5, 3);
    let (lo, table) = sigmoid_table();
    let f0 = table[(-lo) as usize];
    for value in [f0, 11] {
        let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
            cols[plan.blocks[1].a][6] = from_i64(value);
            plan.refresh_multiplicities(cols);
        };
        let p = prove_tampered(&spec, &w, SEED, &[x.clone()], &edit).unwrap();
        let err = common::verifies(&spec, &w, SEED, &p).unwrap_err();
        assert!(err.contains("lookup"), "padding {value}: {err}");
    }
}

#[test]
fn an_input_outside_the_table_names_the_block_and_range() {
    let spec = CircuitSpec {
        input_len: 2,
        table_bits: 16,
        layers: vec![unary("sig", 2)],
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    let w = Weights {
        layers: vec![no_weights()],
    };
    let err = prove(&spec, &w, SEED, &[5, LIMIT]).unwrap_err().to_string();
    assert!(
        err.contains("at sig:") && err.contains("[-4096, 4095]") && err.contains("4096"),
        "{err}"
    );
}

#[test]
fn tables_outside_the_activation_range_are_refused() {
    let (mut spec, ..) = sigmoid_mlp(6, 5, 3);
    if let LayerKind::Unary(g) = &mut spec.layers[1].kind {
        g.values[3] = 1 << 15;
    }
    let err = spec.validate().unwrap_err().to_string();
    assert!(
        err.contains("'sig'") && err.contains("activation range"),
        "{err}"
    );
    let (mut spec, ..) = sigmoid_mlp(6, 5, 3);
    if let LayerKind::Unary(g) = &mut spec.layers[1].kind {
        g.values = vec![0; 1 << 16];
    }
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("2^16 entries"), "{err}");
}

/// A constant list read at an integer index (the importer's `"table"`: ONNX `Gather` from a
/// constant by a computed index, a decision tree's node tables): repeated values, indices
/// −4..=3. The honest proof verifies; the value of another index (a pair of the table's
/// values, but not at this index), the next block recomputed from it, is rejected.
#[test]
fn a_list_read_at_another_index_is_rejected() {
    let values = vec![7, -2, 7, 30, 0, 12, -2, 5];
    let n = 8;
    let spec = CircuitSpec {
        input_len: n,
        table_bits: 16,
        layers: vec![
            DenseSpec {
                name: "gather".into(),
                in_dim: n,
                out_dim: n,
                mult: 1,
                shift: 1,
                relu: false,
                kind: LayerKind::Unary(UnaryGeom {
                    func: "table".into(),
                    channels: 1,
                    len: n,
                    lo: -4,
                    values: values.clone(),
                }),
            },
            dense("fc", n, 3),
        ],
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    let mut rng = common::Lcg(9);
    let fc = DenseWeights {
        weight: (0..n * 3).map(|_| rng.next(-300, 300)).collect(),
        bias: (0..3).map(|_| rng.next(-50, 50)).collect(),
    };
    let w = Weights {
        layers: vec![no_weights(), fc],
    };
    let x: Vec<i64> = vec![-4, 3, 0, -1, 2, 1, -3, 0];
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let honest = forward(&spec, &w, &x).unwrap();
    let at = |k: i64| values[(k + 4) as usize];
    assert_eq!(honest[0].a, x.iter().map(|&k| at(k)).collect::<Vec<_>>());
    let p = prove_from_traces(
        &spec,
        &w,
        SEED,
        &cw,
        &[x.clone()],
        &[honest.clone()],
        &|_, _| {},
    )
    .unwrap();
    verify(&spec, &cw.commitment, &common::roundtrip(&p)).unwrap();
    // Entry 3 reads index −1 (value 0); claim the value at index 0 (12) instead.
    let mut lie = honest;
    lie[0].a[3] = at(0);
    lie[0].q[3] = at(0);
    lie[1] = run_block(&spec.layers[1], &w.layers[1], &lie[0].a, 16).unwrap();
    let p = prove_from_traces(&spec, &w, SEED, &cw, &[x], &[lie], &|_, _| {}).unwrap();
    let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
        .unwrap_err()
        .to_string();
    assert!(err.contains("lookup"), "rejected for another reason: {err}");
}
