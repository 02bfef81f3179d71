//! zkgrad-core: a sumcheck/GKR proof system for quantised tensor computations.
//!
//! It knows nothing about ML or ONNX: a [`circuit::CircuitSpec`] is a chain of integer layers
//! (dense products, convolutions, pooling, requantisation, ReLU), proved by one protocol with
//! zero knowledge built in (`zk/`): masked sumchecks, lookups with committed inverses and hiding
//! multilinear commitments (WHIR over Goldilocks). [`prover`] and [`verifier`] are its entry
//! points.

mod block;
pub mod bounds;
pub mod circuit;
pub mod commit;
pub mod data;
pub mod epoch;
pub mod error;
pub mod field;
pub mod layout;
pub mod matmul;
pub mod mle;
pub mod pcs;
pub mod progress;
pub mod proof;
pub mod prover;
pub mod security;
mod statement;
pub mod tables;
pub mod transcript;
pub mod verifier;
pub mod witness;
pub mod zk;

pub use error::{ProofError, Result};
