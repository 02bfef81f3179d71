//! Dishonest provers against the zero-knowledge relation (audit 2026-12, findings 4 and 5): a
//! model owner who hides values in the padding of the committed weight table, and one whose
//! committed weights make an accumulator wrap around the field. Each attack has an honest twin
//! that goes through the same dishonest-prover entry points and verifies, so a rejection is the
//! relation's doing, not the harness's.

use p3_field::PrimeField64;
use zkgrad_core::circuit::{BlockTrace, CircuitSpec, DenseWeights, Weights, forward};
use zkgrad_core::commit::{CommittedWeights, weight_columns};
use zkgrad_core::field::{F, from_i64};
use zkgrad_core::prover::prove_from_traces;
use zkgrad_core::verifier::verify;
use zkgrad_core::witness::WitnessPlan;

mod common;

const SEED: [u8; 32] = [4; 32];

/// The 4-3-2 network obtained by dropping hidden neuron 3 of a 4-4-2 network.
fn drop_neuron(w: &Weights) -> Weights {
    let (l0, l1) = (&w.layers[0], &w.layers[1]);
    Weights {
        layers: vec![
            DenseWeights {
                weight: l0.weight[..12].to_vec(),
                bias: l0.bias[..3].to_vec(),
            },
            DenseWeights {
                weight: l1.weight.chunks(4).flat_map(|r| r[..3].to_vec()).collect(),
                bias: l1.bias.clone(),
            },
        ],
    }
}

/// The 4-4-2 network's traces cut to the 4-3-2 shapes (neuron 3's values go in the padding).
fn cut_traces(t: &[BlockTrace]) -> Vec<BlockTrace> {
    let cut = |b: &BlockTrace| BlockTrace {
        z: b.z[..3].to_vec(),
        q: b.q[..3].to_vec(),
        t: b.t[..3].to_vec(),
        a: b.a[..3].to_vec(),
    };
    vec![cut(&t[0]), t[1].clone()]
}

/// A committed 4-3-2 network whose weight table carries a fourth hidden neuron in its padding
/// (row 3 of the first kernel and bias, slot 3 of the second kernel), proved with a witness
/// that puts that neuron's values in the padding row of the hidden activations: the proof
/// claims the 4-4-2 network's output. Returns (accepted?, the error).
fn hidden_neuron_attack(seed: u64, cheat: bool) -> (bool, String, bool) {
    let (spec442, w442, x) = common::mlp(&[4, 4, 2], false, seed);
    let (spec432, _, _) = common::mlp(&[4, 3, 2], false, seed);
    let w432 = drop_neuron(&w442);
    let t442 = forward(&spec442, &w442, &x).unwrap();
    let t432 = forward(&spec432, &w432, &x).unwrap();
    let differs = t442[1].a != t432[1].a;
    let padding = |spec: &CircuitSpec, cols: &mut Vec<Vec<F>>| {
        let (c0, c1) = (weight_columns(spec, 0), weight_columns(spec, 1));
        let (k0, k1) = (&c0.pieces[0], &c1.pieces[0]);
        for j in 0..4 {
            cols[k0.col][(3 << k0.log) + j] = from_i64(w442.layers[0].weight[12 + j]);
        }
        cols[c0.bias][3] = from_i64(w442.layers[0].bias[3]);
        for o in 0..2 {
            cols[k1.col][(o << k1.log) + 3] = from_i64(w442.layers[1].weight[4 * o + 3]);
        }
    };
    let hidden = t442[0].clone();
    let witness = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let b = &plan.blocks[0];
        cols[b.q][3] = from_i64(hidden.q[3]);
        cols[b.t.unwrap()][3] = from_i64(hidden.t[3]);
        cols[b.a][3] = from_i64(hidden.a[3]);
        plan.refresh_multiplicities(cols);
    };
    let (cw, traces) = if cheat {
        (
            CommittedWeights::tampered(&spec432, &w432, SEED, &padding, None).unwrap(),
            cut_traces(&t442),
        )
    } else {
        (CommittedWeights::new(&spec432, &w432, SEED).unwrap(), t432)
    };
    let proof = if cheat {
        prove_from_traces(&spec432, &w432, SEED, &cw, &[x], &[traces], &witness).unwrap()
    } else {
        prove_from_traces(&spec432, &w432, SEED, &cw, &[x], &[traces], &|_, _| {}).unwrap()
    };
    match verify(&spec432, &cw.commitment, &common::roundtrip(&proof)) {
        Ok(_) => (true, String::new(), differs),
        Err(e) => (false, e.to_string(), differs),
    }
}

#[test]
fn honest_432_network_verifies_through_the_dishonest_entry_points() {
    let (ok, err, _) = hidden_neuron_attack(11, false);
    assert!(ok, "honest proof rejected: {err}");
}

/// Audit finding 4: a committed 4-4-2 network verified as a 4-3-2 network with another output.
#[test]
fn a_neuron_hidden_in_the_weight_padding_is_rejected() {
    // A seed whose hidden neuron changes the output, so the attack claims a false output.
    let seed = (1..40)
        .find(|&s| hidden_neuron_attack(s, false).2)
        .expect("some network's fourth neuron matters");
    let (ok, err, differs) = hidden_neuron_attack(seed, true);
    assert!(differs);
    assert!(!ok, "the 4-4-2 network in a 4-3-2 commitment was accepted");
    println!("hidden neuron: {err}");
    assert!(
        err.contains("fc0") || err.contains("fc1"),
        "rejected for another reason: {err}"
    );
}

/// A one-block network [2 → 2] whose weight W[0][0] is, to a dishonest owner, the field element
/// 1/2 = (p + 1)/2 (as an integer, 2^63 − 2^31 + 1): on the input (2k, x₁) its accumulator is
/// k + W[0][1]·x₁ + b in the field, while the integer accumulator is ≈ 2^63·k — it wraps. The
/// witness is the honest trace of W[0][0] = 1 on (k, x₁), which satisfies every field relation.
/// `cheat = false` proves that honest network (W[0][0] = 1 on (k, x₁)) through the same path.
fn wrap_attack(cheat: bool) -> std::result::Result<Vec<i64>, String> {
    let (spec, mut w, _) = common::mlp(&[2, 2], false, 5);
    w.layers[0].weight[0] = 1;
    let (k, x1) = (700, -300);
    let traces = forward(&spec, &w, &[k, x1]).unwrap();
    let half = ((zkgrad_core::field::F::ORDER_U64 + 1) / 2) as i64;
    let (cw, input) = if cheat {
        let set_half = |spec: &CircuitSpec, cols: &mut Vec<Vec<F>>| {
            cols[weight_columns(spec, 0).pieces[0].col][0] = from_i64(half)
        };
        // The honest bit widths choice refuses a 63-bit weight; the dishonest owner claims 16.
        let cw =
            CommittedWeights::tampered(&spec, &w, SEED, &set_half, Some(vec![16, 32])).unwrap();
        (cw, vec![2 * k, x1])
    } else {
        (
            CommittedWeights::tampered(&spec, &w, SEED, &|_, _| {}, None).unwrap(),
            vec![k, x1],
        )
    };
    let proof = prove_from_traces(&spec, &w, SEED, &cw, &[input], &[traces], &|_, _| {}).unwrap();
    verify(&spec, &cw.commitment, &common::roundtrip(&proof)).map_err(|e| e.to_string())
}

#[test]
fn honest_weights_pass_the_range_certificate() {
    let (spec, w, _) = common::mlp(&[2, 2], false, 5);
    let out = wrap_attack(false).expect("honest proof verifies");
    let mut w1 = w.clone();
    w1.layers[0].weight[0] = 1;
    assert_eq!(out, forward(&spec, &w1, &[700, -300]).unwrap()[0].a);
}

/// Audit finding 5: committed weights whose accumulators wrap around the field are rejected —
/// by the weight range certificate the verifier checks before the proof.
#[test]
fn a_weight_that_wraps_the_accumulator_is_rejected() {
    let err = wrap_attack(true).expect_err("a wrapping weight was accepted");
    println!("wrapping weight: {err}");
    assert!(
        err.contains("range certificate"),
        "rejected for another reason: {err}"
    );
}

/// A weight just outside its declared width (2^15 in a 16-bit column) is rejected too, and so
/// is a certificate presented for other bits.
#[test]
fn a_weight_outside_its_declared_width_is_rejected() {
    let (spec, w, _) = common::mlp(&[3, 2], false, 6);
    let big = |spec: &CircuitSpec, cols: &mut Vec<Vec<F>>| {
        cols[weight_columns(spec, 0).pieces[0].col][1] = from_i64(1 << 15)
    };
    let cw = CommittedWeights::tampered(&spec, &w, SEED, &big, Some(vec![16, 32])).unwrap();
    let err = cw
        .commitment
        .check_range(&spec)
        .expect_err("2^15 in a 16-bit column was accepted");
    assert!(err.to_string().contains("range certificate"), "{err}");
    let honest = CommittedWeights::new(&spec, &w, SEED).unwrap();
    honest.commitment.check_range(&spec).unwrap();
    let mut other = honest.commitment.clone();
    // Each weight column's bits, then the two epoch-link mask columns' (no range).
    assert_eq!(other.range_bits, vec![16, 16, 0, 0]);
    other.range_bits = vec![32, 32, 0, 0];
    assert!(
        other.check_range(&spec).is_err(),
        "a certificate checked against other bits"
    );
}

/// Bit widths whose worst case could wrap are refused when the model is committed, naming the
/// block.
#[test]
fn a_model_that_could_wrap_is_refused_at_commit_time() {
    let (mut spec, mut w, _) = common::mlp(&[600, 2], false, 7);
    spec.layers[0].mult = 1 << 24;
    spec.layers[0].shift = 16;
    w.layers[0].weight[0] = 1 << 20;
    let err = zkgrad_core::commit::commit_model(&spec, &w, SEED)
        .expect_err("a model that could wrap was committed");
    println!("{err}");
    assert!(
        err.to_string().contains("fc0") && err.to_string().contains("wrap"),
        "{err}"
    );
}
