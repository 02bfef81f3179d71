//! Dishonest provers against the zero-knowledge relation (audit 2026-12, findings 4 and 5): a
//! model owner who hides values in the padding of the committed weight table, and one whose
//! committed weights make an accumulator wrap around the field. Each attack has an honest twin
//! that goes through the same dishonest-prover entry points and verifies, so a rejection is the
//! relation's doing, not the harness's.

use zkgrad_core::circuit::{BlockTrace, CircuitSpec, DenseWeights, Weights, forward};
use zkgrad_core::commit::{CommittedWeights, weight_columns};
use zkgrad_core::field::{F, from_i64};
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::prove_from_traces;
use zkgrad_core::verifier::verify;
use zkgrad_core::witness::WitnessPlan;

mod common;

const SEED: [u8; 32] = [4; 32];

fn roundtrip(proof: &Proof) -> Proof {
    Proof::from_bytes(&proof.to_bytes()).expect("own proof decodes")
}

/// The 4-3-2 network obtained by dropping hidden neuron 3 of a 4-4-2 network.
fn drop_neuron(w: &Weights) -> Weights {
    let (l0, l1) = (&w.layers[0], &w.layers[1]);
    Weights {
        layers: vec![
            DenseWeights { weight: l0.weight[..12].to_vec(), bias: l0.bias[..3].to_vec() },
            DenseWeights { weight: l1.weight.chunks(4).flat_map(|r| r[..3].to_vec()).collect(), bias: l1.bias.clone() },
        ],
    }
}

/// The 4-4-2 network's traces cut to the 4-3-2 shapes (neuron 3's values go in the padding).
fn cut_traces(t: &[BlockTrace]) -> Vec<BlockTrace> {
    let cut = |b: &BlockTrace| BlockTrace { z: b.z[..3].to_vec(), q: b.q[..3].to_vec(), t: b.t[..3].to_vec(), a: b.a[..3].to_vec() };
    vec![cut(&t[0]), t[1].clone()]
}

/// A committed 4-3-2 network whose weight table carries a fourth hidden neuron in its padding
/// (row 3 of the first kernel and bias, slot 3 of the second kernel), proved with a witness
/// that puts that neuron's values in the padding row of the hidden activations: the proof
/// claims the 4-4-2 network's output. Returns (accepted?, the error).
fn hidden_neuron_attack(seed: u64, cheat: bool) -> (bool, String, bool) {
    let (spec442, w442, x) = common::mlp(&[4, 4, 2], false, seed, true);
    let (spec432, _, _) = common::mlp(&[4, 3, 2], false, seed, true);
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
        (CommittedWeights::tampered(&spec432, &w432, SEED, &padding, None).unwrap(), cut_traces(&t442))
    } else {
        (CommittedWeights::new(&spec432, &w432, SEED).unwrap(), t432)
    };
    let proof = if cheat {
        prove_from_traces(&spec432, &w432, SEED, &cw, &[x], &[traces], &witness).unwrap()
    } else {
        prove_from_traces(&spec432, &w432, SEED, &cw, &[x], &[traces], &|_, _| {}).unwrap()
    };
    match verify(&spec432, &cw.commitment, &roundtrip(&proof)) {
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
    let seed = (1..40).find(|&s| hidden_neuron_attack(s, false).2).expect("some network's fourth neuron matters");
    let (ok, err, differs) = hidden_neuron_attack(seed, true);
    assert!(differs);
    assert!(!ok, "the 4-4-2 network in a 4-3-2 commitment was accepted");
    println!("hidden neuron: {err}");
    assert!(err.contains("fc0") || err.contains("fc1"), "rejected for another reason: {err}");
}
