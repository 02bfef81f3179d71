//! Typed errors of the proof system. The verifier returns these; it never panics on bytes.

use thiserror::Error;

/// Everything that can go wrong while proving or verifying.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// The proof bytes do not start with the zkgrad magic.
    #[error("not a zkgrad proof (bad magic bytes)")]
    BadMagic,
    /// The proof was written by an incompatible format version.
    #[error("unsupported proof format version {got} (expected {expected})")]
    BadVersion { expected: u16, got: u16 },
    /// The proof bytes could not be decoded.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The proof's shape does not match the circuit (wrong number of rounds, layers, ...).
    #[error("proof shape mismatch in {what}: expected {expected}, got {got}")]
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A sumcheck round polynomial does not agree with the running claim.
    #[error("sumcheck failed in {0}")]
    Sumcheck(String),
    /// A final claim of a layer does not match.
    #[error("layer check failed: {0}")]
    Layer(String),
    /// A lookup (range check / activation table) argument does not balance.
    #[error("lookup argument failed: {0}")]
    Lookup(String),
    /// The polynomial commitment opening was rejected.
    #[error("commitment opening rejected: {0}")]
    Pcs(String),
    /// The proof was made for other weights than the commitment the verifier expects.
    #[error("model commitment mismatch")]
    Commitment,

    /// The proof's header names another model than the key's (checked before any cryptography).
    #[error("this proof is for model {proof}…, not {key}… (the model this key verifies)")]
    WrongModel { proof: String, key: String },
    /// The proof names another dataset than the one pinned (checked before any cryptography).
    #[error("this proof is for dataset {proof}…, not {pinned}… (the dataset you pinned)")]
    WrongDataset { proof: String, pinned: String },
    /// The witness does not satisfy the circuit (prover side, names the place).
    #[error("witness invalid at {layer}: {detail}")]
    Witness { layer: String, detail: String },
    /// The public input is missing, malformed, or not the one the witness was built from.
    #[error("public input rejected: {0}")]
    PublicInput(String),
    /// The circuit description itself is inconsistent.
    #[error("invalid circuit: {0}")]
    Circuit(String),
    /// The proof's epoch (a fresh commitment linked to the published one, `epoch.rs`) is missing,
    /// malformed or not linked to the model.
    #[error("{0}")]
    Epoch(String),
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, ProofError>;
