//! The proof object and its versioned byte encoding: magic `ZKGP`, a little-endian u16 format
//! version, the security header (target bits as a little-endian u16, the proximity assumption,
//! the grinding budget in bits: [`SecurityHeader`]), the 32-byte digest of the model commitment
//! the proof is for, then the bincode (serde) body. Decoding is bounded and never panics.
//!
//! The model digest in the header is a label, not a binding: the transcript absorbs the key's
//! own digest, so a proof whose header names the key's model but was made for another fails the
//! cryptography. The label lets the verifier say "this proof is for model X, not Y" before it.

use serde::{Deserialize, Serialize};

use crate::bounds::budget::{Budget, De, SliceReader, read_i64s, read_option_tag};

use crate::error::{ProofError, Result};
use crate::zk::proof::ZkProof;

/// Magic bytes at the start of every proof.
pub const MAGIC: &[u8; 4] = b"ZKGP";
/// Current format version (10: the circuit digest the statement binds covers where each block
/// reads its input, `CircuitSpec::sources`; 9: a committed input opens an input epoch leaf, named in the body;
/// 8: the epoch leaf the proof opens, and weight tables with the epoch link masks; 7: the model digest in the header; 6: one protocol, zero knowledge always on, and
/// the security header).
pub const VERSION: u16 = 10;
/// Bytes before the body: magic, version, security header, model digest.
pub(crate) const HEADER_BYTES: usize = 4 + 2 + SecurityHeader::BYTES + 32;

/// The security parameters a proof was made with, recorded in its header. The verifier accepts
/// a proof only if they are those its key demands ([`SecurityHeader::check_against`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecurityHeader {
    /// Target soundness in bits every WHIR phase is sized for (grinding included).
    pub target_bits: u16,
    /// Proximity assumption: 1 = Johnson bound (provable); 0 = unique decoding; 2 = capacity
    /// bound (conjectured, never accepted).
    pub assumption: u8,
    /// Grinding budget in bits.
    pub pow_bits: u8,
}

impl SecurityHeader {
    const BYTES: usize = 4;

    /// The parameters this build proves and verifies with ([`crate::pcs::PcsParams::default`]).
    pub fn current() -> Self {
        let p = crate::pcs::PcsParams::default();
        let assumption = match p.assumption {
            p3_whir::SecurityAssumption::UniqueDecoding => 0,
            p3_whir::SecurityAssumption::JohnsonBound => 1,
            p3_whir::SecurityAssumption::CapacityBound => 2,
        };
        Self {
            target_bits: p.security_level as u16,
            assumption,
            pow_bits: p.pow_bits as u8,
        }
    }

    fn assumption_name(a: u8) -> &'static str {
        match a {
            0 => "unique decoding",
            1 => "Johnson bound",
            2 => "capacity bound (conjectured)",
            _ => "unknown",
        }
    }

    /// Rejects a proof whose header is not what the key `demand`s: fewer target bits, another
    /// proximity assumption, or another grinding budget.
    pub fn check_against(&self, demand: &SecurityHeader) -> Result<()> {
        let bad = |msg: String| Err(ProofError::Malformed(msg));
        if self.target_bits < demand.target_bits {
            return bad(format!(
                "the proof claims {}-bit soundness but the key demands {} bits",
                self.target_bits, demand.target_bits
            ));
        }
        if self.assumption != demand.assumption {
            return bad(format!(
                "the proof's parameters assume the {} but the key demands the {}",
                Self::assumption_name(self.assumption),
                Self::assumption_name(demand.assumption)
            ));
        }
        if *self != *demand {
            return bad(format!(
                "the proof's security parameters ({} bits, {}-bit grinding) differ from the key's ({} bits, {}-bit grinding)",
                self.target_bits, self.pow_bits, demand.target_bits, demand.pow_bits
            ));
        }
        Ok(())
    }

    pub(crate) fn encode(&self) -> [u8; Self::BYTES] {
        let t = self.target_bits.to_le_bytes();
        [t[0], t[1], self.assumption, self.pow_bits]
    }

    fn decode(b: &[u8]) -> Self {
        Self {
            target_bits: u16::from_le_bytes([b[0], b[1]]),
            assumption: b[2],
            pow_bits: b[3],
        }
    }
}

impl Default for SecurityHeader {
    fn default() -> Self {
        Self::current()
    }
}
/// Decoding refuses bodies larger than this (bounds allocations on hostile input).
pub const MAX_PROOF_BYTES: usize = 64 << 20;

/// A proof of one inference (or a batch).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Proof {
    /// The claimed (public) output of the computation.
    pub output: Vec<i64>,
    /// The input, when the circuit makes it public (batch items concatenated); None otherwise.
    pub input: Option<Vec<i64>>,
    /// The protocol's messages (`zk/proof.rs`).
    pub body: ZkProof,
    /// The security parameters from the header (not part of the bincode body).
    #[serde(skip)]
    pub security: SecurityHeader,
    /// The digest of the model commitment the proof is for, from the header.
    #[serde(skip)]
    pub model: [u8; 32],
}

impl Proof {
    /// Encodes the proof as versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.security.encode());
        out.extend_from_slice(&self.model);
        let body = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("proofs always encode");
        out.extend(body);
        out
    }

    /// Decodes versioned bytes; every malformed input is a typed error. Decoding takes memory
    /// proportional to the byte count (`bounds::budget`), whatever sizes the bytes declare.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        decode(b, false).map(|(proof, _)| proof)
    }
}

/// Memory a decoded proof may take: this many bytes per encoded byte, plus [`DECODE_BASE`].
/// Every sequence is charged its length times its element size (`bounds::budget`). An honest
/// proof takes at most 8 bytes per byte: its densest parts are the statement's small integers
/// (8 bytes each, at least 1 encoded); field elements take 16 bytes for ~18 encoded.
const DECODE_PER_BYTE: usize = 8;
/// The budget's fixed part (small proofs' vector headers).
const DECODE_BASE: usize = 1 << 12;

/// Decodes a proof under the memory budget; with `record`, also returns the offset of every
/// length field (`bounds::length_fields`).
pub(crate) fn decode(b: &[u8], record: bool) -> Result<(Proof, Vec<usize>)> {
    use std::cell::Cell;
    use std::rc::Rc;
    if b.len() < 6 || &b[..4] != MAGIC {
        return Err(ProofError::BadMagic);
    }
    let version = u16::from_le_bytes([b[4], b[5]]);
    if version != VERSION {
        return Err(ProofError::BadVersion {
            expected: VERSION,
            got: version,
        });
    }
    if b.len() < HEADER_BYTES {
        return Err(ProofError::Malformed(
            "the proof ends inside its header".into(),
        ));
    }
    let security = SecurityHeader::decode(&b[6..6 + SecurityHeader::BYTES]);
    let model: [u8; 32] = b[6 + SecurityHeader::BYTES..HEADER_BYTES]
        .try_into()
        .expect("32 header bytes");
    let body = &b[HEADER_BYTES..];
    if body.len() > MAX_PROOF_BYTES {
        return Err(ProofError::Malformed(format!(
            "the proof is {} bytes, more than any proof may take ({MAX_PROOF_BYTES})",
            b.len()
        )));
    }
    let pos = Rc::new(Cell::new(0));
    let budget = Budget::new(
        DECODE_PER_BYTE * body.len() + DECODE_BASE,
        body,
        pos.clone(),
        record,
    );
    let cfg = bincode::config::standard().with_limit::<MAX_PROOF_BYTES>();
    let mut decoder = bincode::serde::OwnedSerdeDecoder::from_reader(
        SliceReader {
            data: body,
            pos: pos.clone(),
        },
        cfg,
    );
    // The statement's integer vectors by hand (exact reservations), the body through serde.
    let output = read_i64s(&budget)?;
    let input = if read_option_tag(&budget)? {
        Some(read_i64s(&budget)?)
    } else {
        None
    };
    let messages = ZkProof::deserialize(De {
        inner: decoder.as_deserializer(),
        budget: &budget,
    })
    .map_err(decode_error)?;
    let proof = Proof {
        output,
        input,
        body: messages,
        security,
        model,
    };
    if pos.get() != body.len() {
        return Err(ProofError::Malformed(format!(
            "{} bytes follow the proof",
            body.len() - pos.get()
        )));
    }
    Ok((
        proof,
        budget
            .lengths()
            .into_iter()
            .map(|o| o + HEADER_BYTES)
            .collect(),
    ))
}

/// One sentence for a decoding failure.
pub(crate) fn decode_error(e: bincode::error::DecodeError) -> ProofError {
    ProofError::Malformed(decode_error_sentence(&e, "proof"))
}

/// One sentence (never `Debug` text) for a bincode decoding failure of a `what` (proof, model,
/// verifying key).
pub fn decode_error_sentence(e: &bincode::error::DecodeError, what: &str) -> String {
    use bincode::error::DecodeError as D;
    match e {
        D::UnexpectedEnd { .. } => format!("the {what} ends early (truncated bytes)"),
        D::LimitExceeded => format!("the {what} declares more data than any {what} may hold"),
        D::OtherString(s) => s.clone(),
        D::UnexpectedVariant {
            type_name, found, ..
        } => format!("the {what} bytes hold an unknown {type_name} variant {found}"),
        D::Utf8 { .. } => format!("the {what} holds text that is not UTF-8"),
        D::InvalidBooleanValue(v) => {
            format!("the {what} holds {v} where a boolean (0 or 1) belongs")
        }
        D::InvalidCharEncoding(_) => format!("the {what} holds an invalid character"),
        D::OutsideUsizeRange(v) => {
            format!("the {what} declares a size {v} beyond this machine's range")
        }
        _ => format!("the {what} bytes do not decode as a zkgrad {what} of this version"),
    }
}
