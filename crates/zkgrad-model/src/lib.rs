//! zkgrad-model: the quantised IR of zkgrad and its integer semantics.
//!
//! The Python front end writes a [`Graph`] (JSON) plus a map of integer [`Tensor`]s. This crate
//! parses it ([`ir`]), checks it and reports every problem by node ([`mod@validate`]), lowers it to
//! zkgrad-core's chain of dense blocks ([`mod@lower`]), runs the integer forward pass with the core's
//! single definition of the semantics ([`exec`]), and bundles the result with its weight
//! commitment into a [`CompiledModel`] file and a public [`VerifyingKey`] ([`compiled`]).
//! It knows nothing about how commitments or proofs work: it calls zkgrad-core for those.
#![deny(missing_docs)]

pub mod compiled;
pub mod error;
pub mod exec;
pub mod ir;
pub mod lower;
pub mod validate;

pub use compiled::{CompiledModel, VerifyingKey};
pub use error::{ModelError, Problems, Result};
pub use ir::{Graph, Node, Op, Tensor, TensorInfo};
pub use lower::{Lowered, lower};
pub use validate::validate;
