//! Builders shared by the integration tests.
#![allow(dead_code)]

use zkgrad_core::circuit::{CircuitSpec, DenseSpec, DenseWeights, LayerKind, Weights};
use zkgrad_core::commit::commit_model;
use zkgrad_core::proof::Proof;
use zkgrad_core::verifier::verify;

/// A proof as a verifier receives it: encoded and decoded.
pub fn roundtrip(p: &Proof) -> Proof {
    Proof::from_bytes(&p.to_bytes()).expect("own proof decodes")
}

/// Verifies `p` (after a round trip through bytes) against the commitment to `w` made with
/// `seed`; the error as text.
pub fn verifies(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], p: &Proof) -> Result<(), String> {
    let mc = commit_model(spec, w, seed).map_err(|e| e.to_string())?;
    verify(spec, &mc, &roundtrip(p))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A small deterministic generator (the same values on every platform).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, lo: i64, hi: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + ((self.0 >> 33) as i64).rem_euclid(hi - lo + 1)
    }
}

/// An MLP with the given widths, random weights and an input.
pub fn mlp(dims: &[usize], relu_last: bool, seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = Lcg(seed);
    let mut layers = Vec::new();
    let mut ws = Vec::new();
    for (i, d) in dims.windows(2).enumerate() {
        let last = i + 2 == dims.len();
        layers.push(DenseSpec {
            name: format!("fc{i}"),
            in_dim: d[0],
            out_dim: d[1],
            mult: 3,
            shift: 12,
            relu: !last || relu_last,
            kind: LayerKind::Dense,
        });
        ws.push(DenseWeights {
            weight: (0..d[0] * d[1]).map(|_| rng.next(-300, 300)).collect(),
            bias: (0..d[1]).map(|_| rng.next(-5000, 5000)).collect(),
        });
    }
    let input = (0..dims[0]).map(|_| rng.next(-1000, 1000)).collect();
    (
        CircuitSpec {
            input_len: dims[0],
            table_bits: 16,
            layers,
            public_input: false,
            committed_input: false,
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        },
        Weights { layers: ws },
        input,
    )
}

/// Flips the top bit of every `step`-th byte of a proof's encoding and asserts that none of the
/// results decodes to a proof that verifies (a decoding error or a rejection both count).
pub fn assert_flips_rejected(
    spec: &CircuitSpec,
    mc: &zkgrad_core::commit::ModelCommitment,
    proof: &zkgrad_core::proof::Proof,
    step: usize,
) {
    use zkgrad_core::proof::Proof;
    let bytes = proof.to_bytes();
    let accepted: Vec<usize> = (0..bytes.len())
        .step_by(step)
        .filter(|&pos| {
            let mut b = bytes.clone();
            b[pos] ^= 0x80;
            Proof::from_bytes(&b)
                .map(|p| zkgrad_core::verifier::verify(spec, mc, &p).is_ok())
                .unwrap_or(false)
        })
        .collect();
    assert!(
        accepted.is_empty(),
        "{} of {} flips accepted, first at {:?}",
        accepted.len(),
        bytes.len(),
        &accepted[..accepted.len().min(10)]
    );
}
