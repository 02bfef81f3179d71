//! The data-property proof's messages and their versioned bytes: magic `ZKGD`, a little-endian
//! u16 format version, then the bincode body (statement first). Decoding never panics, and takes
//! at most 8 bytes of memory per byte of proof (`bounds::budget::decode_bounded`).

use serde::{Deserialize, Serialize};

use super::PropertySpec;
use crate::bounds::versioned::Format;
use crate::error::Result;
use crate::field::EF;
use crate::pcs::{Commitment, OpeningProof};
use crate::zk::sumcheck::ZkSumcheckProof;

/// Magic bytes of an encoded property proof.
pub const MAGIC: &[u8; 4] = b"ZKGD";
/// Format version of [`PropertyProof::to_bytes`]: 2 since proofs open an epoch leaf of the
/// dataset (`data/epochs.rs`) instead of its published commitment; 3 since specs carry
/// variance bounds.
pub const VERSION: u16 = 3;
/// The largest property proof decoded.
const MAX_BYTES: usize = 16 << 20;

/// A property proof: its statement (spec, dataset digest) and messages.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PropertyProof {
    /// The dataset digest the proof is for (the verifier compares it with the one it pins).
    pub dataset: [u8; 32],
    /// The statement.
    pub spec: PropertySpec,
    /// The epoch leaf of the dataset the proof opens (its certificate links it to the
    /// published commitment).
    pub epoch: crate::epoch::EpochRef,
    /// Multiplicities, counts, limbs and the sumcheck masks.
    pub aux_commitment: Commitment,
    /// The LogUp inverses.
    pub inverse_commitment: Commitment,
    /// The one sumcheck.
    pub main: ZkSumcheckProof,
    /// ḣ per lookup at the sumcheck point.
    pub inverses: Vec<EF>,
    /// Masked values: the dataset columns read, then the auxiliary columns.
    pub values: Vec<EF>,
    /// Batchings of the inverse, dataset and auxiliary tables: messages and T(ρ).
    pub batches: Vec<(ZkSumcheckProof, EF)>,
    /// Openings of the inverse, dataset and auxiliary tables.
    pub openings: Vec<OpeningProof>,
}

/// The format: magic, version, the largest proof decoded.
const FORMAT: Format = Format {
    magic: MAGIC,
    version: VERSION,
    max_bytes: MAX_BYTES,
    what: "data-property proof",
};

impl PropertyProof {
    /// Versioned bytes: magic, version, then the bincode body.
    pub fn to_bytes(&self) -> Vec<u8> {
        FORMAT.encode(self)
    }

    /// Decodes versioned bytes; every malformed input is a typed error.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        FORMAT.decode(b)
    }
}
