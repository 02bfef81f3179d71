//! The protocol, zero knowledge built in: it proves the statement that `crate::prover` and
//! `crate::verifier` fix (`statement.rs`: circuit, model commitment, output, public input) so
//! that nothing the verifier sees is an evaluation of an unmasked private polynomial
//! (`docs/SECURITY.md`, "Zero knowledge"):
//!
//! - every private committed column is a masked polynomial whose small random mask lives in the
//!   same committed table (`masked.rs`), and every commitment is hiding (HVZK-WHIR, salted
//!   Merkle leaves);
//! - every sumcheck is masked with Libra's masking polynomial (`sumcheck.rs`), whose per-round
//!   pieces are columns of the witness table (`masks.rs`);
//! - every check starts from a public claim: lookups use committed inverses and one zero-claim
//!   sumcheck (`lookup.rs`); a dense block is one sumcheck over its output and input variables
//!   with claim 0 (`dense.rs`), so no intermediate value is revealed.
//!
//! Convolution (`conv.rs`) and max pooling (`pool.rs`) read their inputs through public
//! selectors inside the same kind of zero-claim sumchecks; an elementwise block (`elementwise.rs`:
//! a residual sum) reads two committed columns at one point.

pub mod budget;
pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod elementwise;
pub mod input;
pub mod link;
pub(crate) mod lookup;
pub mod masked;
pub(crate) mod masks;
pub(crate) mod matmul;
pub(crate) mod open;
pub(crate) mod pool;
pub mod proof;
pub(crate) mod prover;
pub mod range;
pub mod sumcheck;
#[cfg(test)]
pub(crate) mod test_model;
pub(crate) mod unary;
pub(crate) mod verifier;
pub(crate) mod weights;

use p3_field::{BasedVectorSpace, PrimeCharacteristicRing, PrimeField64};

use crate::field::{EF, F};

/// A uniform base-field element (rejection sampling: no modular bias).
pub fn random_base(rng: &mut impl rand::Rng) -> F {
    loop {
        let v: u64 = rng.random();
        if v < F::ORDER_U64 {
            return F::from_u64(v);
        }
    }
}

/// A uniform extension-field element.
pub fn random_ef(rng: &mut impl rand::Rng) -> EF {
    EF::from_basis_coefficients_slice(&[random_base(rng), random_base(rng)])
        .expect("two coefficients")
}

/// Refuses circuits the protocol does not cover, naming the block.
pub fn check_supported(spec: &crate::circuit::CircuitSpec) -> crate::Result<()> {
    for (l, layer) in spec.layers.iter().enumerate() {
        if matches!(layer.kind, crate::circuit::LayerKind::Conv(_)) {
            conv::check(spec, l)?;
        }
    }
    Ok(())
}
