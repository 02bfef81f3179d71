//! Fiat–Shamir transcript: a Blake3 hash chain (p3-challenger) with labelled, length-prefixed
//! absorption so that no two different message sequences hash to the same byte stream.
//!
//! The prover and the verifier drive the same object with the same calls in the same order; the
//! PCS receives the inner challenger so that its own messages are bound too.

mod chain;

use p3_challenger::{CanObserve, CanSample, SerializingChallenger64};
use p3_field::{BasedVectorSpace, PrimeField64};
use p3_symmetric::Hash;

use crate::field::{EF, F};

pub use chain::Blake3Chain;

/// The p3 challenger type every component shares.
pub type Challenger = SerializingChallenger64<F, Blake3Chain>;

/// A fresh challenger with no state.
pub fn new_challenger() -> Challenger {
    SerializingChallenger64::new(Blake3Chain::new())
}

/// Labelled Fiat–Shamir transcript.
#[derive(Clone, Debug)]
pub struct Transcript {
    ch: Challenger,
}

impl Transcript {
    /// Starts a transcript with a domain separator (protocol name and version).
    pub fn new(domain: &[u8]) -> Self {
        let mut t = Self {
            ch: new_challenger(),
        };
        t.absorb_bytes("domain", domain);
        t
    }

    /// Every absorption is one framed message: label length, label, payload length, payload.
    /// The frame is hashed with Blake3 and the digest fed to the challenger.
    fn absorb_frame(&mut self, label: &str, count: usize, payload: impl FnOnce(&mut Vec<u8>)) {
        let mut buf = Vec::with_capacity(32 + label.len());
        buf.extend_from_slice(&(label.len() as u64).to_le_bytes());
        buf.extend_from_slice(label.as_bytes());
        buf.extend_from_slice(&(count as u64).to_le_bytes());
        payload(&mut buf);
        let digest: [u8; 32] = *blake3::hash(&buf).as_bytes();
        self.ch.observe(Hash::<F, u8, 32>::from(digest));
    }

    /// Absorbs a label alone (used before sampling).
    pub fn absorb_label(&mut self, label: &str) {
        self.absorb_frame(label, 0, |_| {});
    }

    /// Absorbs labelled bytes.
    pub fn absorb_bytes(&mut self, label: &str, bytes: &[u8]) {
        self.absorb_frame(label, bytes.len(), |b| b.extend_from_slice(bytes));
    }

    /// Absorbs labelled unsigned integers.
    pub fn absorb_u64s(&mut self, label: &str, vals: &[u64]) {
        self.absorb_frame(label, vals.len(), |b| {
            vals.iter()
                .for_each(|v| b.extend_from_slice(&v.to_le_bytes()))
        });
    }

    /// Absorbs labelled signed integers (public tensors).
    pub fn absorb_i64s(&mut self, label: &str, vals: &[i64]) {
        self.absorb_frame(label, vals.len(), |b| {
            vals.iter()
                .for_each(|v| b.extend_from_slice(&v.to_le_bytes()))
        });
    }

    /// Absorbs labelled extension-field elements (prover messages).
    pub fn absorb_ext(&mut self, label: &str, vals: &[EF]) {
        self.absorb_frame(label, vals.len(), |b| {
            for v in vals {
                for c in BasedVectorSpace::<F>::as_basis_coefficients_slice(v) {
                    b.extend_from_slice(&c.as_canonical_u64().to_le_bytes());
                }
            }
        });
    }

    /// Absorbs labelled base-field elements.
    pub fn absorb_base(&mut self, label: &str, vals: &[F]) {
        self.absorb_frame(label, vals.len(), |b| {
            vals.iter()
                .for_each(|v| b.extend_from_slice(&v.as_canonical_u64().to_le_bytes()))
        });
    }

    /// Samples one challenge in the extension field.
    pub fn challenge(&mut self, label: &str) -> EF {
        self.absorb_label(label);
        self.ch.sample()
    }

    /// Samples `n` challenges (a random point).
    pub fn challenge_point(&mut self, label: &str, n: usize) -> Vec<EF> {
        self.absorb_label(label);
        (0..n).map(|_| self.ch.sample()).collect()
    }

    /// The inner challenger, for sub-protocols (the PCS) that speak p3's challenger traits.
    pub fn challenger_mut(&mut self) -> &mut Challenger {
        &mut self.ch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_calls_same_challenges_and_labels_matter() {
        let mut a = Transcript::new(b"t");
        let mut b = Transcript::new(b"t");
        a.absorb_u64s("x", &[1, 2]);
        b.absorb_u64s("x", &[1, 2]);
        assert_eq!(a.challenge("c"), b.challenge("c"));
        let mut c = Transcript::new(b"t");
        c.absorb_u64s("y", &[1, 2]);
        let mut d = Transcript::new(b"t");
        d.absorb_u64s("x", &[1, 2]);
        assert_ne!(c.challenge("c"), d.challenge("c"));
    }
}
