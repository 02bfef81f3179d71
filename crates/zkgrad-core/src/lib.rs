//! zkgrad-core: a sumcheck/GKR proof system for quantised tensor computations.
//!
//! It knows nothing about ML or ONNX: a [`circuit::CircuitSpec`] is a chain of integer layers
//! (dense products, requantisation, lookups), proved with sumchecks, LogUp-GKR lookups and a
//! multilinear polynomial commitment (WHIR over Goldilocks).

mod block;
pub mod bounds;
pub mod circuit;
pub mod commit;
pub mod error;
pub mod field;
pub mod layout;
pub mod logup;
pub mod mle;
pub mod pcs;
pub mod proof;
pub mod prover;
pub mod security;
pub mod sumcheck;
pub mod tables;
pub mod transcript;
pub mod verifier;
pub mod witness;
pub mod zk;

pub use error::{ProofError, Result};
