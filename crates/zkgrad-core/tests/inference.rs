//! End-to-end inference proofs on small chains, with a cheating prover for every relation
//! (the protocol's own edits of proof bodies are in `zk.rs`).

use p3_field::PrimeCharacteristicRing;
use zkgrad_core::circuit::CircuitSpec;
use zkgrad_core::commit::{CommittedWeights, commit_model};
use zkgrad_core::field::F;
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::{prove, prove_batch, prove_committed, prove_tampered};
use zkgrad_core::verifier::{soundness_bits, verify};
use zkgrad_core::witness::WitnessPlan;

mod common;
use common::Lcg;

use common::mlp;

const SEED: [u8; 32] = [7; 32];

#[test]
fn small_tables_prove_and_reject_out_of_range() {
    let (mut spec, mut w, x) = mlp(&[12, 6, 3], false, 9);
    spec.table_bits = 12;
    for l in &mut spec.layers {
        l.shift = 12;
        l.mult = 1;
    }
    let x: Vec<i64> = x.iter().map(|v| v / 4).collect();
    for lw in &mut w.layers {
        lw.weight.iter_mut().for_each(|v| *v /= 8);
    }
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = common::roundtrip(&prove(&spec, &w, SEED, &x).unwrap());
    verify(&spec, &mc, &proof).unwrap();
    // A 16-bit input value no longer fits a 12-bit table.
    let mut big = x.clone();
    big[0] = 3000;
    assert!(
        prove(&spec, &w, SEED, &big)
            .unwrap_err()
            .to_string()
            .contains("12-bit")
    );
    // The same proof checked against a circuit with other table bits is rejected, also when the
    // model commitment is relabelled with that circuit's digest.
    let mut other = spec.clone();
    other.table_bits = 13;
    assert!(verify(&other, &mc, &proof).is_err());
    let mut relabelled = mc.clone();
    relabelled.circuit = other.digest();
    assert!(verify(&other, &relabelled, &proof).is_err());
    assert_ne!(relabelled.digest(), mc.digest());
}

#[test]
fn mlp_proves_and_verifies() {
    for (dims, relu_last) in [
        (vec![5, 3], false),
        (vec![13, 7, 4], false),
        (vec![16, 9, 1], true),
        (vec![1, 1], true),
    ] {
        let (spec, w, x) = mlp(&dims, relu_last, 1);
        let mc = commit_model(&spec, &w, SEED).unwrap();
        let proof = common::roundtrip(&prove(&spec, &w, SEED, &x).unwrap());
        let expect = zkgrad_core::circuit::forward(&spec, &w, &x)
            .unwrap()
            .last()
            .unwrap()
            .a
            .clone();
        assert_eq!(verify(&spec, &mc, &proof).unwrap(), expect, "dims {dims:?}");
        assert!(
            soundness_bits(&spec, 1) >= 90.0,
            "soundness {}",
            soundness_bits(&spec, 1)
        );
    }
}

fn assert_rejected_with(tamper: &dyn Fn(&WitnessPlan, &mut Vec<Vec<F>>), what: &str) {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 2);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = prove_tampered(&spec, &w, SEED, &[x.clone()], tamper).unwrap();
    assert!(
        verify(&spec, &mc, &common::roundtrip(&proof)).is_err(),
        "{what} was accepted"
    );
}

#[test]
fn wrong_remainder_is_rejected() {
    assert_rejected_with(
        &|p, c| c[p.blocks[0].t.unwrap()][1] += F::ONE,
        "remainder + 1",
    );
}

#[test]
fn wrong_requant_value_with_consistent_remainder_is_rejected() {
    // q + 1 and t − 2^16 keeps z·m + 2^15 = q·2^16 + t, but t leaves the range table.
    assert_rejected_with(
        &|p, c| {
            let b = &p.blocks[0];
            c[b.q][0] += F::ONE;
            c[b.t.unwrap()][0] -= F::from_u64(1 << 16);
            c[b.a][0] = c[b.q][0];
        },
        "shifted requant",
    );
}

#[test]
fn wrong_relu_output_is_rejected() {
    assert_rejected_with(&|p, c| c[p.blocks[0].a][2] += F::ONE, "relu output + 1");
}

#[test]
fn wrong_input_is_rejected() {
    assert_rejected_with(&|p, c| c[p.x][0] += F::ONE, "input + 1");
}

#[test]
fn wrong_multiplicity_is_rejected() {
    assert_rejected_with(&|p, c| c[p.tables[0].1][5] += F::ONE, "multiplicity + 1");
}

#[test]
fn wrong_final_activation_is_rejected() {
    assert_rejected_with(
        &|p, c| c[p.blocks[1].a][0] += F::ONE,
        "last block output + 1",
    );
}

#[test]
fn wrong_output_is_rejected() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 3);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let mut proof = prove(&spec, &w, SEED, &x).unwrap();
    proof.output[1] += 1;
    assert!(verify(&spec, &mc, &proof).is_err());
}

#[test]
fn other_weights_are_rejected() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 4);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let mut w2 = w.clone();
    w2.layers[1].weight[4] += 1;
    let proof = prove(&spec, &w2, SEED, &x).unwrap();
    assert!(verify(&spec, &mc, &proof).is_err());
}

#[test]
fn flipped_proof_bytes_are_rejected() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 5);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let bytes = prove(&spec, &w, SEED, &x).unwrap().to_bytes();
    let step = (bytes.len() / 97).max(1);
    for pos in (0..bytes.len()).step_by(step) {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        let ok = Proof::from_bytes(&b)
            .map(|p| verify(&spec, &mc, &p).is_ok())
            .unwrap_or(false);
        assert!(!ok, "flip at byte {pos} of {} accepted", bytes.len());
    }
}

#[test]
fn out_of_range_activation_is_a_witness_error() {
    let (spec, mut w, x) = mlp(&[4, 2], false, 6);
    w.layers[0].bias[0] = 1 << 40;
    let err = prove(&spec, &w, SEED, &x).unwrap_err();
    assert!(err.to_string().contains("fc0"), "{err}");
}

/// Every single-byte change of a proof is rejected (slow: run with `--ignored`).
#[test]
#[ignore]
fn every_flipped_byte_is_rejected() {
    let (spec, w, x) = mlp(&[30, 16, 8, 2], false, 8);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    common::assert_flips_rejected(&spec, &mc, &prove(&spec, &w, SEED, &x).unwrap(), 1);
}

fn batch_inputs(spec: &CircuitSpec, n: usize) -> Vec<Vec<i64>> {
    let mut rng = Lcg(99);
    (0..n)
        .map(|_| (0..spec.input_len).map(|_| rng.next(-1000, 1000)).collect())
        .collect()
}

#[test]
fn batch_proves_every_item() {
    let (spec, w, _) = mlp(&[12, 6, 3], false, 10);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    for n in [1usize, 2, 5, 16] {
        let xs = batch_inputs(&spec, n);
        let proof = common::roundtrip(&prove_batch(&spec, &w, SEED, &xs).unwrap());
        let expect: Vec<i64> = xs
            .iter()
            .flat_map(|x| {
                zkgrad_core::circuit::forward(&spec, &w, x)
                    .unwrap()
                    .last()
                    .unwrap()
                    .a
                    .clone()
            })
            .collect();
        assert_eq!(verify(&spec, &mc, &proof).unwrap(), expect, "batch {n}");
    }
}

#[test]
fn batch_with_one_wrong_item_output_is_rejected() {
    let (spec, w, _) = mlp(&[12, 6, 3], false, 11);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let xs = batch_inputs(&spec, 5);
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    for pos in [0, 7, 14] {
        let mut bad = proof.clone();
        bad.output[pos] += 1;
        assert!(verify(&spec, &mc, &bad).is_err(), "output {pos} changed");
    }
    // Dropping the last item changes the claimed batch size.
    let mut short = proof.clone();
    short.output.truncate(12);
    assert!(verify(&spec, &mc, &short).is_err());
}

#[test]
fn batch_witness_tampering_in_a_later_item_is_rejected() {
    let (spec, w, _) = mlp(&[12, 6, 3], false, 12);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let xs = batch_inputs(&spec, 3);
    // Item 2's first hidden activation, at offset 2·2^3 in the batched column.
    let tamper = |p: &WitnessPlan, c: &mut Vec<Vec<F>>| c[p.blocks[0].a][2 * 8] += F::ONE;
    let proof = prove_tampered(&spec, &w, SEED, &xs, &tamper).unwrap();
    assert!(verify(&spec, &mc, &proof).is_err());
}

/// A proof written by an earlier build still verifies: a format or protocol change breaks this
/// test on purpose. Regenerate with `ZKGRAD_WRITE_GOLDEN=1 cargo test --release golden`.
#[test]
fn golden_proof_still_verifies() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mlp_12_6_3_batch2.zkp");
    let (spec, w, _) = mlp(&[12, 6, 3], false, 13);
    let xs = batch_inputs(&spec, 2);
    if std::env::var_os("ZKGRAD_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, prove_batch(&spec, &w, SEED, &xs).unwrap().to_bytes()).unwrap();
    }
    let bytes = std::fs::read(&path).expect("golden proof fixture");
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let out = verify(&spec, &mc, &Proof::from_bytes(&bytes).unwrap()).unwrap();
    assert_eq!(out.len(), 6);
}

#[test]
fn a_weight_commitment_made_once_serves_many_proofs() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 9);
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    assert_eq!(cw.commitment, commit_model(&spec, &w, SEED).unwrap());
    for _ in 0..2 {
        let proof = prove_committed(&spec, &w, SEED, &cw, &[x.clone()]).unwrap();
        verify(&spec, &cw.commitment, &common::roundtrip(&proof)).unwrap();
    }
    let (other, ..) = mlp(&[12, 6, 4], false, 9);
    assert!(prove_committed(&other, &w, SEED, &cw, &[x]).is_err());
}

#[test]
fn public_input_is_part_of_the_statement() {
    let (mut spec, w, x) = mlp(&[12, 6, 3], false, 11);
    spec.public_input = true;
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = common::roundtrip(&prove(&spec, &w, SEED, &x).unwrap());
    assert_eq!(proof.input.as_deref(), Some(x.as_slice()));
    verify(&spec, &mc, &proof).unwrap();

    // Another input stated for the same proof.
    let mut other = proof.clone();
    other.input.as_mut().unwrap()[3] += 1;
    assert!(verify(&spec, &mc, &other).is_err());
    // No input at all.
    let mut none = proof.clone();
    none.input = None;
    assert!(verify(&spec, &mc, &none).is_err());

    // A witness built from another input, presented under the original public input.
    let cheat = prove_tampered(&spec, &w, SEED, &[x.clone()], &|p, c| {
        c[p.x][0] += F::ONE;
        p.refresh_multiplicities(c);
    })
    .unwrap();
    assert_eq!(cheat.input.as_deref(), Some(x.as_slice()));
    assert!(verify(&spec, &mc, &common::roundtrip(&cheat)).is_err());

    // A private-input circuit refuses a proof that states an input.
    spec.public_input = false;
    let mc_private = commit_model(&spec, &w, SEED).unwrap();
    let mut stated = common::roundtrip(&prove(&spec, &w, SEED, &x).unwrap());
    verify(&spec, &mc_private, &stated).unwrap();
    stated.input = Some(x);
    assert!(verify(&spec, &mc_private, &stated).is_err());
}

/// a = q + 1 for a positive q passes both range checks (a ≥ 0, a − q ≥ 0): only the ReLU
/// zero-check a·(a − q) = 0 catches it.
#[test]
fn relu_output_above_its_input_is_caught_by_the_zero_check() {
    let (spec, w, x) = mlp(&[12, 6], true, 21);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let tamper = |p: &WitnessPlan, c: &mut Vec<Vec<F>>| {
        let b = &p.blocks[0];
        let i = (0..6)
            .find(|&i| zkgrad_core::field::to_i64(c[b.q][i]) > 0)
            .expect("a positive pre-activation");
        c[b.a][i] = c[b.q][i] + F::ONE;
        p.refresh_multiplicities(c);
    };
    let proof = prove_tampered(&spec, &w, SEED, &[x], &tamper).unwrap();
    let err = verify(&spec, &mc, &common::roundtrip(&proof))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("zk-relu 'fc0'") || err.contains("ReLU"),
        "rejected for another reason: {err}"
    );
}

/// relu(q) = 0 claimed for a positive q: the range check of a − q catches it.
#[test]
fn relu_zero_for_a_positive_input_is_rejected() {
    let (spec, w, x) = mlp(&[12, 6], true, 22);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let tamper = |p: &WitnessPlan, c: &mut Vec<Vec<F>>| {
        let b = &p.blocks[0];
        let i = (0..6)
            .find(|&i| zkgrad_core::field::to_i64(c[b.q][i]) > 0)
            .expect("a positive pre-activation");
        c[b.a][i] = F::ZERO;
        p.refresh_multiplicities(c);
    };
    let proof = prove_tampered(&spec, &w, SEED, &[x], &tamper).unwrap();
    assert!(verify(&spec, &mc, &common::roundtrip(&proof)).is_err());
}
