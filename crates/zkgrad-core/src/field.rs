//! The field choice: Goldilocks (p = 2^64 − 2^32 + 1) for witness values and its degree-2
//! extension (≈2^128 elements) for every verifier challenge.
//!
//! Everything else in the crate names `F` and `EF` from here, so swapping the field is local.

use p3_field::extension::BinomialExtensionField;
use p3_field::{PrimeCharacteristicRing, PrimeField64};
use p3_goldilocks::Goldilocks;

/// Base field of witness values.
pub type F = Goldilocks;
/// Challenge field: degree-2 binomial extension of `F`.
pub type EF = BinomialExtensionField<F, 2>;

/// log2 of the size of the challenge field (used by the soundness calculator).
pub const EF_BITS: f64 = 127.99;

/// Embeds a signed integer into the field (negative values wrap to p − |v|).
#[inline]
pub fn from_i64(v: i64) -> F {
    if v >= 0 {
        F::from_u64(v as u64)
    } else {
        -F::from_u64(v.unsigned_abs())
    }
}

/// Reads a field element back as a signed integer in (−p/2, p/2).
#[inline]
pub fn to_i64(v: F) -> i64 {
    let u = v.as_canonical_u64();
    if u > F::ORDER_U64 / 2 {
        -((F::ORDER_U64 - u) as i64)
    } else {
        u as i64
    }
}

/// Embeds a whole slice of signed integers.
pub fn vec_from_i64(v: &[i64]) -> Vec<F> {
    v.iter().map(|&x| from_i64(x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_round_trip() {
        for v in [
            0i64,
            1,
            -1,
            127,
            -128,
            1 << 40,
            -(1 << 40),
            i64::MAX / 2,
            -(i64::MAX / 2),
        ] {
            assert_eq!(to_i64(from_i64(v)), v);
        }
    }
}
