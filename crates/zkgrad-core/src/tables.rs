//! The fixed lookup tables and their multilinear extensions, which the verifier evaluates in
//! O(16) field operations instead of reading 2^16 entries.
//!
//! - `Range16`: entry j is j, for j in [0, 2^16). Proves 0 ≤ v < 2^16 (remainders, and signed
//!   16-bit activations shifted by 2^15).
//! - `Relu16`: entry j is the pair (v, relu(v)) with v = j − 2^15, folded with a column challenge
//!   γ as v + γ·relu(v). Its MLE is (Σ_i 2^i x_i − 2^15) + γ·x_15·Σ_{i<15} 2^i x_i.

use p3_field::PrimeCharacteristicRing;
use p3_maybe_rayon::prelude::*;

use crate::field::EF;

/// log2 of every table's size.
pub const TABLE_BITS: usize = 16;
/// Offset that maps a signed 16-bit value to its table index.
pub const SIGNED_OFFSET: i64 = 1 << 15;

/// The tables zkgrad proves lookups into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// 0..2^16.
    Range16,
    /// (v, relu v) for signed 16-bit v, folded with γ.
    Relu16,
}

impl Table {
    /// Name used in transcripts and errors.
    pub fn name(self) -> &'static str {
        match self {
            Table::Range16 => "range16",
            Table::Relu16 => "relu16",
        }
    }

    /// Table entries (folded with γ for pair tables).
    pub fn entries(self, gamma: EF) -> Vec<EF> {
        (0..1usize << TABLE_BITS)
            .into_par_iter()
            .map(|j| {
                let idx = EF::from_usize(j);
                match self {
                    Table::Range16 => idx,
                    Table::Relu16 => {
                        let v = j as i64 - SIGNED_OFFSET;
                        EF::from(crate::field::from_i64(v)) + gamma * EF::from_u64(v.max(0) as u64)
                    }
                }
            })
            .collect()
    }

    /// The table's MLE at a point of `TABLE_BITS` variables.
    pub fn evaluate(self, point: &[EF], gamma: EF) -> EF {
        debug_assert_eq!(point.len(), TABLE_BITS);
        let weighted = |bits: usize| -> EF {
            point[..bits].iter().enumerate().map(|(i, &x)| x * EF::from_u64(1 << i)).sum()
        };
        match self {
            Table::Range16 => weighted(TABLE_BITS),
            Table::Relu16 => {
                let v = weighted(TABLE_BITS) - EF::from_u64(SIGNED_OFFSET as u64);
                v + gamma * point[TABLE_BITS - 1] * weighted(TABLE_BITS - 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate;

    #[test]
    fn succinct_mle_matches_the_entries() {
        let gamma = EF::from_u64(12345);
        let point: Vec<EF> = (0..TABLE_BITS).map(|i| EF::from_u64(3 + 5 * i as u64)).collect();
        for t in [Table::Range16, Table::Relu16] {
            assert_eq!(evaluate(&t.entries(gamma), &point), t.evaluate(&point, gamma));
        }
    }
}
