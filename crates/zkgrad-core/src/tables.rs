//! The fixed lookup tables and their multilinear extensions, which the verifier evaluates in
//! O(16) field operations instead of reading 2^16 entries.
//!
//! Tables have 2^b entries (b = the circuit's `table_bits`):
//! - `Range`: entry j is j, for j in [0, 2^b). Proves 0 ≤ v < 2^b (remainders, differences, and
//!   signed b-bit activations shifted by 2^(b−1)). Its MLE is Σ_i 2^i x_i.
//!
//! (ReLU needs no table of its own: a = relu(q) is a ≥ 0, a − q ≥ 0 and a·(a − q) = 0, see
//! `zk/dense.rs`.)

use p3_field::PrimeCharacteristicRing;
use p3_maybe_rayon::prelude::*;

use crate::field::EF;

/// The tables zkgrad proves lookups into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// 0..2^b.
    Range,
}

impl Table {
    /// Name used in transcripts and errors.
    pub fn name(self) -> &'static str {
        match self {
            Table::Range => "range",
        }
    }

    /// Table entries of a 2^bits table.
    pub fn entries(self, bits: usize) -> Vec<EF> {
        (0..1usize << bits)
            .into_par_iter()
            .map(|j| match self {
                Table::Range => EF::from_usize(j),
            })
            .collect()
    }

    /// The table's MLE at a point (the table has 2^|point| entries).
    pub fn evaluate(self, point: &[EF]) -> EF {
        match self {
            Table::Range => point
                .iter()
                .enumerate()
                .map(|(i, &x)| x * EF::from_u64(1 << i))
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate;

    #[test]
    fn succinct_mle_matches_the_entries() {
        for bits in [8usize, 12, 16] {
            let point: Vec<EF> = (0..bits).map(|i| EF::from_u64(3 + 5 * i as u64)).collect();
            assert_eq!(
                evaluate(&Table::Range.entries(bits), &point),
                Table::Range.evaluate(&point)
            );
        }
    }
}
