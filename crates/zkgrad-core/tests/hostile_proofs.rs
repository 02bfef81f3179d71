//! A verifier that cannot be pushed over: hostile bytes (a 64 MiB random file, truncations,
//! every declared size at its maximum, a batch beyond what the circuit commits, masks above
//! their degree) each give a clear error, fast, without allocating from what the bytes declare.
//! `crates/zkgrad-fuzz` runs the same kinds of mutations a million times (`make fuzz`).

use std::time::{Duration, Instant};

use zkgrad_core::bounds::{length_fields, max_batch, max_proof_bytes};
use zkgrad_core::circuit::CircuitSpec;
use zkgrad_core::commit::{ModelCommitment, commit_model};
use zkgrad_core::proof::{MAGIC, Proof, VERSION};
use zkgrad_core::verifier::verify;
use zkgrad_core::{ProofError, Result};

mod common;

const SEED: [u8; 32] = [4; 32];
const FAST: Duration = Duration::from_secs(1);

fn model() -> (CircuitSpec, ModelCommitment, Vec<u8>) {
    let (spec, w, x) = common::mlp(&[6, 4, 3], false, 21);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = zkgrad_core::prover::prove(&spec, &w, SEED, &x)
        .unwrap()
        .to_bytes();
    (spec, mc, proof)
}

/// What a verifier holding the key does with bytes: refuse more than a proof can take, decode,
/// verify.
fn check(spec: &CircuitSpec, mc: &ModelCommitment, bytes: &[u8]) -> Result<Vec<i64>> {
    if bytes.len() > max_proof_bytes(spec) {
        return Err(ProofError::Malformed(format!(
            "{} bytes, more than a proof for this circuit can take",
            bytes.len()
        )));
    }
    verify(spec, mc, &Proof::from_bytes(bytes)?)
}

/// Rejected, within a second, with a one-sentence message.
fn assert_rejected_fast(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    bytes: &[u8],
    what: &str,
) -> String {
    let start = Instant::now();
    let err = check(spec, mc, bytes).expect_err(what);
    let took = start.elapsed();
    assert!(took < FAST, "{what}: took {took:?}");
    let msg = err.to_string();
    assert!(
        !msg.is_empty() && !msg.contains('\n'),
        "{what}: message {msg:?}"
    );
    msg
}

/// A fast deterministic byte stream (xorshift).
fn random_bytes(n: usize, mut s: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.truncate(n);
    out
}

#[test]
fn honest_proofs_fit_the_key_bound() {
    let (spec, mc, proof) = model();
    assert_eq!(check(&spec, &mc, &proof).unwrap().len(), spec.output_len());
    let limit = max_proof_bytes(&spec);
    assert!(
        proof.len() < limit && limit < 64 << 20,
        "proof {} bytes, bound {limit}",
        proof.len()
    );
    assert!(
        max_batch(&spec) >= 1 << 10,
        "max batch {}",
        max_batch(&spec)
    );
}

#[test]
fn a_64_mib_random_file_is_rejected_quickly() {
    let (spec, mc, _) = model();
    let mut bytes = random_bytes(64 << 20, 0x9E37_79B9_7F4A_7C15);
    println!(
        "random: {}",
        assert_rejected_fast(&spec, &mc, &bytes, "64 MiB of random bytes")
    );
    // With a valid header, and decoded without the key's size check: still a fast error.
    bytes[..4].copy_from_slice(MAGIC);
    bytes[4..6].copy_from_slice(&VERSION.to_le_bytes());
    println!(
        "with header: {}",
        assert_rejected_fast(&spec, &mc, &bytes, "64 MiB with a header")
    );
    let start = Instant::now();
    let err = Proof::from_bytes(&bytes[..(64 << 20) - 6])
        .map(|_| ())
        .expect_err("random body");
    assert!(
        start.elapsed() < FAST,
        "decoding took {:?}",
        start.elapsed()
    );
    println!("decoded without the key: {err}");
}

#[test]
fn truncated_proofs_are_rejected_quickly() {
    let (spec, mc, proof) = model();
    let step = (proof.len() / 97).max(1);
    for end in (0..proof.len()).step_by(step) {
        let msg = assert_rejected_fast(&spec, &mc, &proof[..end], "a truncated proof");
        if end > 6 {
            assert!(
                msg.contains("ends early") || msg.contains("malformed"),
                "truncated at {end}: {msg}"
            );
        }
    }
    println!(
        "truncated: {}",
        check(&spec, &mc, &proof[..proof.len() - 1]).unwrap_err()
    );
}

/// bincode's encoding of u64::MAX as a length: tag 253, then 8 bytes.
fn max_length() -> Vec<u8> {
    let mut v = vec![253u8];
    v.extend_from_slice(&u64::MAX.to_le_bytes());
    v
}

/// Replaces the varint at `off` with `with`.
fn set_length(bytes: &[u8], off: usize, with: &[u8]) -> Vec<u8> {
    let old = match bytes[off] {
        251 => 3,
        252 => 5,
        253 => 9,
        254 => 17,
        _ => 1,
    };
    let mut b = bytes.to_vec();
    b.splice(off..off + old, with.iter().copied());
    b
}

#[test]
fn every_size_field_at_its_maximum_is_rejected_quickly() {
    let (spec, mc, proof) = model();
    let offsets = length_fields(&proof).unwrap();
    assert!(offsets.len() > 50, "{} length fields", offsets.len());
    let huge = max_length();
    for (what, with) in [
        ("u64::MAX", huge.clone()),
        ("2^32 - 1", [&[252u8][..], &u32::MAX.to_le_bytes()].concat()),
    ] {
        // Each length field on its own.
        for &off in &offsets {
            assert_rejected_fast(&spec, &mc, &set_length(&proof, off, &with), what);
        }
    }
    // Every one at once (from the last, so earlier offsets stay valid).
    let mut all = proof.clone();
    for &off in offsets.iter().rev() {
        all = set_length(&all, off, &huge);
    }
    println!(
        "all at the maximum: {}",
        assert_rejected_fast(&spec, &mc, &all, "every length at its maximum")
    );
}

#[test]
fn a_batch_beyond_the_circuit_is_rejected_before_it_is_built() {
    let (spec, mc, proof) = model();
    let mut p = Proof::from_bytes(&proof).unwrap();
    let batch = zkgrad_core::bounds::MAX_BATCH + 1;
    p.output = vec![0; batch * spec.output_len()];
    let start = Instant::now();
    let err = verify(&spec, &mc, &p).unwrap_err();
    assert!(start.elapsed() < FAST);
    assert!(err.to_string().contains("batch"), "{err}");
    // The largest batch the circuit allows passes the statement check and fails on the messages.
    p.output = vec![0; max_batch(&spec) * spec.output_len()];
    let err = verify(&spec, &mc, &p).unwrap_err();
    assert!(matches!(err, ProofError::Shape { .. }), "{err}");
}

/// Mask polynomials above their round degree (finding 8): a sumcheck round message with more
/// values than its degree allows is refused before the transcript starts, and a mask column
/// with a nonzero coefficient past its degree fails the degree claims (`zk/masks.rs` unit test
/// `a_mask_above_its_round_degree_fails_its_degree_claim`); here the message side.
#[test]
fn a_round_or_mask_list_of_the_wrong_length_is_rejected() {
    let (spec, mc, proof) = model();
    let p = Proof::from_bytes(&proof).unwrap();
    let edits: [(&str, fn(&mut zkgrad_core::zk::proof::ZkProof)); 3] = [
        ("a round of higher degree", |z| {
            z.lookups.sumcheck.rounds[0].push(Default::default())
        }),
        ("an extra mask value", |z| {
            z.weight_batch.0.mask_evals.push(Default::default())
        }),
        ("a missing round", |z| {
            z.witness_batch.0.rounds.pop();
        }),
    ];
    for (what, edit) in edits {
        let mut cheat = p.clone();
        edit(&mut cheat.body);
        let err = verify(&spec, &mc, &cheat).expect_err(what);
        assert!(matches!(err, ProofError::Shape { .. }), "{what}: {err}");
    }
}
