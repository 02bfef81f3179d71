//! Hostile review of bb9f5db's model digest in the proof header (format 7). These pass: they are
//! the evidence that the header label cannot make a wrong proof pass, an honest proof fail, or
//! the verifier panic — and they pin down that the "this proof is for model X" sentence repeats
//! an unverified label.

use zkgrad_core::ProofError;
use zkgrad_core::commit::commit_model;
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::prove;
use zkgrad_core::verifier::verify;

mod common;
use common::mlp;

const SEED: [u8; 32] = [5; 32];

fn hex6(d: &[u8; 32]) -> String {
    d[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the 32 header bytes of the model digest sit: magic 4, version 2, security header.
fn digest_offset(bytes: &[u8], digest: &[u8; 32]) -> usize {
    bytes
        .windows(32)
        .position(|w| w == digest)
        .expect("the header carries the digest")
}

#[test]
fn review_header_label_cannot_pass_fail_or_panic() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 8);
    let mut w_b = w.clone();
    w_b.layers[0].bias[0] += 1;
    let key_a = commit_model(&spec, &w, SEED).unwrap();
    let key_b = commit_model(&spec, &w_b, SEED).unwrap();
    let honest = prove(&spec, &w, SEED, &x).unwrap();
    let bytes = honest.to_bytes();
    let at = digest_offset(&bytes, &key_a.digest());
    assert!(at < 64, "the digest is in the header, at byte {at}");
    verify(&spec, &key_a, &Proof::from_bytes(&bytes).unwrap()).expect("honest proof");

    // Every single-byte change of the label: never accepted, never a panic, always WrongModel
    // against the key the proof was made for.
    for i in 0..32 {
        let mut b = bytes.clone();
        b[at + i] ^= 0x01;
        let p = Proof::from_bytes(&b).expect("the label is not parsed");
        let e = verify(&spec, &key_a, &p).unwrap_err();
        assert!(matches!(e, ProofError::WrongModel { .. }), "byte {i}: {e}");
    }
    // Relabelled to B and checked against B: the transcript binds B's digest, so A's messages fail.
    let mut b = bytes.clone();
    b[at..at + 32].copy_from_slice(&key_b.digest());
    let relabelled = Proof::from_bytes(&b).unwrap();
    let e = verify(&spec, &key_b, &relabelled).unwrap_err();
    assert!(!matches!(e, ProofError::WrongModel { .. }), "{e}");
    // An honest proof for A against B's key: the sentence names A's label and B's key.
    let e = verify(&spec, &key_b, &honest).unwrap_err().to_string();
    assert!(
        e.contains(&hex6(&key_a.digest())) && e.contains(&hex6(&key_b.digest())),
        "{e}"
    );
    // The same bytes relabelled to B, against A's key: the sentence says the proof "is for"
    // model B — the label is repeated as a fact although these messages were made for A
    // (wording only: nothing verifies).
    let e = verify(&spec, &key_a, &relabelled).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "this proof is for model {}",
            hex6(&key_b.digest())
        )),
        "{e}"
    );
    // A truncated header is a sentence, not a panic.
    let e = Proof::from_bytes(&bytes[..at + 16]).unwrap_err();
    assert!(e.to_string().contains("header"), "{e}");
}
