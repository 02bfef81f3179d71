//! The proof header records the security parameters, and the verifier accepts a proof only at
//! the level its key demands: a proof whose header claims fewer bits (or another proximity
//! assumption, or another grinding budget) is rejected with a one-sentence error.

use zkgrad_core::commit::commit_model;
use zkgrad_core::proof::{Proof, SecurityHeader};
use zkgrad_core::prover::prove;
use zkgrad_core::verifier::{soundness_report, verify};

mod common;

const SEED: [u8; 32] = [3; 32];

/// The encoded proof with its header (bytes 6..10: target bits LE u16, assumption, PoW bits)
/// replaced.
fn with_header(bytes: &[u8], h: SecurityHeader) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[6..8].copy_from_slice(&h.target_bits.to_le_bytes());
    out[8] = h.assumption;
    out[9] = h.pow_bits;
    out
}

#[test]
fn header_below_the_keys_level_is_rejected() {
    let (spec, w, x) = common::mlp(&[6, 4, 3], false, 1);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let bytes = prove(&spec, &w, SEED, &x).unwrap().to_bytes();
    let honest = Proof::from_bytes(&bytes).unwrap();
    assert_eq!(honest.security, SecurityHeader::current());
    verify(&spec, &mc, &honest).expect("the honest proof verifies");

    let demand = SecurityHeader::current();
    let weak = SecurityHeader {
        target_bits: demand.target_bits - 20,
        ..demand
    };
    let proof = Proof::from_bytes(&with_header(&bytes, weak)).expect("decodes");
    let err = verify(&spec, &mc, &proof).unwrap_err().to_string();
    assert!(
        err.contains("claims 80-bit soundness but the key demands 100 bits"),
        "{err}"
    );

    let conjectured = SecurityHeader {
        assumption: 2,
        ..demand
    };
    let proof = Proof::from_bytes(&with_header(&bytes, conjectured)).unwrap();
    let err = verify(&spec, &mc, &proof).unwrap_err().to_string();
    assert!(err.contains("capacity bound (conjectured)"), "{err}");

    let less_grinding = SecurityHeader {
        pow_bits: demand.pow_bits - 1,
        ..demand
    };
    let proof = Proof::from_bytes(&with_header(&bytes, less_grinding)).unwrap();
    assert!(verify(&spec, &mc, &proof).is_err());

    // A truncated header is a decoding error, not a panic.
    assert!(Proof::from_bytes(&bytes[..8]).is_err());
}

#[test]
fn proof_report_reaches_100_provable_bits() {
    let (spec, _, _) = common::mlp(&[13, 7, 4], false, 2);
    for batch in [1, 4] {
        let report = soundness_report(&spec, batch).unwrap();
        assert!(report.bits() >= 100.0, "{}", report.line());
        assert!(
            report.line().starts_with("soundness: 1"),
            "{}",
            report.line()
        );
        assert!(
            report
                .components
                .iter()
                .any(|c| c.name.starts_with("WHIR weights"))
        );
        assert!(
            report
                .components
                .iter()
                .any(|c| c.name == "LogUp challenge α")
        );
    }
}
