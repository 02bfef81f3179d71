//! The proof object and its versioned byte encoding: magic `ZKGP`, a little-endian u16 format
//! version, then the bincode (serde) body. Decoding is bounded and never panics.

use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};
use crate::zk::proof::ZkProof;

/// Magic bytes at the start of every proof.
pub const MAGIC: &[u8; 4] = b"ZKGP";
/// Current format version (6: one protocol, zero knowledge always on; the body is the
/// zero-knowledge protocol's messages, with no tag for a second protocol).
pub const VERSION: u16 = 6;
/// Decoding refuses bodies larger than this (bounds allocations on hostile input).
const MAX_PROOF_BYTES: usize = 64 << 20;

/// A proof of one inference (or a batch).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Proof {
    /// The claimed (public) output of the computation.
    pub output: Vec<i64>,
    /// The input, when the circuit makes it public (batch items concatenated); None otherwise.
    pub input: Option<Vec<i64>>,
    /// The protocol's messages (`zk/proof.rs`).
    pub body: ZkProof,
}

impl Proof {
    /// Encodes the proof as versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        let body = bincode::serde::encode_to_vec(self, bincode::config::standard()).expect("proofs always encode");
        out.extend(body);
        out
    }

    /// Decodes versioned bytes; every malformed input is a typed error.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() < 6 || &b[..4] != MAGIC {
            return Err(ProofError::BadMagic);
        }
        let version = u16::from_le_bytes([b[4], b[5]]);
        if version != VERSION {
            return Err(ProofError::BadVersion { expected: VERSION, got: version });
        }
        let cfg = bincode::config::standard().with_limit::<MAX_PROOF_BYTES>();
        let (proof, used): (Proof, usize) =
            bincode::serde::decode_from_slice(&b[6..], cfg).map_err(|e| ProofError::Malformed(e.to_string()))?;
        if used != b.len() - 6 {
            return Err(ProofError::Malformed(format!("{} trailing bytes", b.len() - 6 - used)));
        }
        Ok(proof)
    }
}
