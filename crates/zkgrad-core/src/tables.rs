//! The fixed lookup tables and their multilinear extensions, which the verifier evaluates in
//! O(16) field operations instead of reading 2^16 entries.
//!
//! Tables have 2^b entries (b = the circuit's `table_bits`):
//! - `Range`: entry j is j, for j in [0, 2^b). Proves 0 ≤ v < 2^b (remainders, and signed
//!   b-bit activations shifted by 2^(b−1)).
//! - `Relu`: entry j is the pair (v, relu(v)) with v = j − 2^(b−1), folded with a column challenge
//!   γ as v + γ·relu(v). Its MLE is (Σ_i 2^i x_i − 2^(b−1)) + γ·x_(b−1)·Σ_{i<b−1} 2^i x_i.

use p3_field::PrimeCharacteristicRing;
use p3_maybe_rayon::prelude::*;

use crate::field::EF;


/// The tables zkgrad proves lookups into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// 0..2^b.
    Range,
    /// (v, relu v) for signed b-bit v, folded with γ.
    Relu,
}

impl Table {
    /// Name used in transcripts and errors.
    pub fn name(self) -> &'static str {
        match self {
            Table::Range => "range",
            Table::Relu => "relu",
        }
    }

    /// Table entries of a 2^bits table (folded with γ for pair tables).
    pub fn entries(self, bits: usize, gamma: EF) -> Vec<EF> {
        let offset = 1i64 << (bits - 1);
        (0..1usize << bits)
            .into_par_iter()
            .map(|j| {
                let idx = EF::from_usize(j);
                match self {
                    Table::Range => idx,
                    Table::Relu => {
                        let v = j as i64 - offset;
                        EF::from(crate::field::from_i64(v)) + gamma * EF::from_u64(v.max(0) as u64)
                    }
                }
            })
            .collect()
    }

    /// The table's MLE at a point (the table has 2^|point| entries).
    pub fn evaluate(self, point: &[EF], gamma: EF) -> EF {
        let bits = point.len();
        let weighted = |bits: usize| -> EF {
            point[..bits].iter().enumerate().map(|(i, &x)| x * EF::from_u64(1 << i)).sum()
        };
        match self {
            Table::Range => weighted(bits),
            Table::Relu => {
                let v = weighted(bits) - EF::from_u64(1 << (bits - 1));
                v + gamma * point[bits - 1] * weighted(bits - 1)
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
        for bits in [8usize, 12, 16] {
            let point: Vec<EF> = (0..bits).map(|i| EF::from_u64(3 + 5 * i as u64)).collect();
            for t in [Table::Range, Table::Relu] {
                assert_eq!(evaluate(&t.entries(bits, gamma), &point), t.evaluate(&point, gamma));
            }
        }
    }
}
