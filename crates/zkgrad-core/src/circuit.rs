//! The public description of a provable computation and its integer semantics.
//!
//! A circuit is a chain of dense blocks. Block `l` maps activations `a` (length `in_dim`) to
//!   z = W·a + b                                  (exact integers, W is out_dim × in_dim)
//!   q = floor((z·mult + 2^(shift−1)) / 2^shift)  (requantisation, round half up)
//!   a' = relu(q) if `relu` else q
//! With b = `table_bits` (8..=16, public), every activation (the input, each q and a') must lie
//! in [−2^(b−1), 2^(b−1)) and every shift must be ≤ b: that is what the 2^b-entry lookup tables
//! prove, and exceeding it is a witness error naming the block. Smaller b means smaller tables
//! and proofs, larger b more precision.
//!
//! These functions are the single definition of the integer semantics: the model crate's
//! executor and the prover's witness generator both call them.

use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};

/// Largest table size (log2), hence largest activation width and requantisation shift.
pub const MAX_TABLE_BITS: u32 = 16;
/// Smallest table size (log2).
pub const MIN_TABLE_BITS: u32 = 8;
/// Largest requantisation shift for any table size.
pub const MAX_SHIFT: u32 = MAX_TABLE_BITS;
/// Default table size: 16-bit activations.
pub const DEFAULT_TABLE_BITS: u32 = 16;
/// Largest requantisation multiplier.
pub const MAX_MULT: u64 = 1 << 24;
/// Accumulator values must stay below this magnitude so field arithmetic equals integer arithmetic.
pub const ACC_LIMIT: i128 = 1 << 62;

/// One dense block (public: shapes and scales, not the weights).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseSpec {
    /// Name used in error messages (the ONNX node it came from).
    pub name: String,
    /// Input length.
    pub in_dim: usize,
    /// Output length.
    pub out_dim: usize,
    /// Requantisation multiplier (≥ 1).
    pub mult: u64,
    /// Requantisation shift (1..=16).
    pub shift: u32,
    /// Whether a ReLU follows the requantisation.
    pub relu: bool,
}

/// Public description of the whole computation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitSpec {
    /// Length of the input vector.
    pub input_len: usize,
    /// log2 of the lookup tables: activations are signed `table_bits`-bit integers.
    pub table_bits: u32,
    /// The dense blocks, in execution order.
    pub layers: Vec<DenseSpec>,
}

/// Private weights of one dense block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseWeights {
    /// Row-major `out_dim × in_dim`.
    pub weight: Vec<i64>,
    /// Length `out_dim`, at the accumulator's scale.
    pub bias: Vec<i64>,
}

/// Private weights of the whole computation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// One entry per dense block.
    pub layers: Vec<DenseWeights>,
}

/// Everything the forward pass produces for one block (the prover's witness).
#[derive(Clone, Debug)]
pub struct BlockTrace {
    /// Accumulator `W·a + b`.
    pub z: Vec<i64>,
    /// Requantised values.
    pub q: Vec<i64>,
    /// Scaled remainders `t = z·mult·2^(16−shift) + 2^15 − q·2^16`, each in [0, 2^16).
    pub t: Vec<i64>,
    /// Output activations.
    pub a: Vec<i64>,
}

/// Requantises one accumulator value: floor((z·mult + 2^(shift−1)) / 2^shift).
pub fn requant_value(z: i64, mult: u64, shift: u32) -> i64 {
    let num = z as i128 * mult as i128 + (1i128 << (shift - 1));
    num.div_euclid(1i128 << shift) as i64
}

/// ReLU on one value.
pub fn relu_value(q: i64) -> i64 {
    q.max(0)
}

impl DenseSpec {
    /// Multiplier scaled so the shift is always b: z·m_b + 2^(b−1) = q·2^b + t.
    pub fn mult_scaled(&self, bits: u32) -> u64 {
        self.mult << (bits - self.shift)
    }
}

impl CircuitSpec {
    /// Checks the shape and parameter rules of every block.
    pub fn validate(&self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(ProofError::Circuit("the circuit has no layers".into()));
        }
        if self.input_len == 0 {
            return Err(ProofError::Circuit("the input is empty".into()));
        }
        if !(MIN_TABLE_BITS..=MAX_TABLE_BITS).contains(&self.table_bits) {
            return Err(ProofError::Circuit(format!(
                "table bits {} outside {MIN_TABLE_BITS}..={MAX_TABLE_BITS}",
                self.table_bits
            )));
        }
        let mut prev = self.input_len;
        for l in &self.layers {
            let bad = |d: String| Err(ProofError::Circuit(format!("block '{}': {d}", l.name)));
            if l.in_dim != prev {
                return bad(format!("input length {} does not match the previous output {prev}", l.in_dim));
            }
            if l.out_dim == 0 || l.in_dim == 0 {
                return bad("empty dimension".into());
            }
            if !(1..=self.table_bits).contains(&l.shift) {
                return bad(format!("shift {} outside 1..={} (the table bits)", l.shift, self.table_bits));
            }
            if l.mult == 0 || l.mult > MAX_MULT {
                return bad(format!("multiplier {} outside 1..={MAX_MULT}", l.mult));
            }
            prev = l.out_dim;
        }
        Ok(())
    }

    /// Length of the output vector.
    pub fn output_len(&self) -> usize {
        self.layers.last().map_or(self.input_len, |l| l.out_dim)
    }

    /// Stable digest of the public description (bound into every transcript).
    pub fn digest(&self) -> [u8; 32] {
        let bytes = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("a circuit spec always encodes");
        *blake3::hash(&bytes).as_bytes()
    }

    /// Half the table size: activations lie in [−offset, offset).
    pub fn signed_offset(&self) -> i64 {
        1 << (self.table_bits - 1)
    }

    /// Checks that the weights have the shapes the spec says.
    pub fn check_weights(&self, w: &Weights) -> Result<()> {
        if w.layers.len() != self.layers.len() {
            return Err(ProofError::Circuit(format!(
                "{} weight blocks for {} layers",
                w.layers.len(),
                self.layers.len()
            )));
        }
        for (l, lw) in self.layers.iter().zip(&w.layers) {
            if lw.weight.len() != l.in_dim * l.out_dim || lw.bias.len() != l.out_dim {
                return Err(ProofError::Circuit(format!(
                    "block '{}': weight has {} entries and bias {}, expected {}×{} and {}",
                    l.name,
                    lw.weight.len(),
                    lw.bias.len(),
                    l.out_dim,
                    l.in_dim,
                    l.out_dim
                )));
            }
        }
        Ok(())
    }
}

fn check_range(name: &str, what: &str, v: &[i64], bits: u32) -> Result<()> {
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !(lo..=hi).contains(*x)) {
        return Err(ProofError::Witness {
            layer: name.to_string(),
            detail: format!(
                "{what}[{i}] = {x} is outside the provable range [{lo}, {hi}] ({bits}-bit tables); \
                 recompile with calibration data that covers this input"
            ),
        });
    }
    Ok(())
}

/// Runs one block on integer activations with `bits`-bit tables.
pub fn run_block(l: &DenseSpec, w: &DenseWeights, a: &[i64], bits: u32) -> Result<BlockTrace> {
    let mb = l.mult_scaled(bits) as i128;
    let mut z = Vec::with_capacity(l.out_dim);
    for (row, &b) in w.weight.chunks_exact(l.in_dim).zip(&w.bias) {
        let acc: i128 = row.iter().zip(a).map(|(&x, &y)| x as i128 * y as i128).sum::<i128>() + b as i128;
        if acc.abs() * mb >= ACC_LIMIT {
            return Err(ProofError::Witness {
                layer: l.name.clone(),
                detail: format!("accumulator {acc} is too large for exact field arithmetic"),
            });
        }
        z.push(acc as i64);
    }
    let q: Vec<i64> = z.iter().map(|&v| requant_value(v, l.mult, l.shift)).collect();
    check_range(&l.name, "requantised output", &q, bits)?;
    let t = z
        .iter()
        .zip(&q)
        .map(|(&zv, &qv)| (zv as i128 * mb + (1 << (bits - 1)) - ((qv as i128) << bits)) as i64)
        .collect();
    let a = if l.relu { q.iter().map(|&v| relu_value(v)).collect() } else { q.clone() };
    Ok(BlockTrace { z, q, t, a })
}

/// Runs the whole chain, checking the input range first.
pub fn forward(spec: &CircuitSpec, w: &Weights, input: &[i64]) -> Result<Vec<BlockTrace>> {
    if input.len() != spec.input_len {
        return Err(ProofError::Witness {
            layer: "input".into(),
            detail: format!("expected {} values, got {}", spec.input_len, input.len()),
        });
    }
    check_range("input", "input", input, spec.table_bits)?;
    let mut traces: Vec<BlockTrace> = Vec::with_capacity(spec.layers.len());
    for (l, lw) in spec.layers.iter().zip(&w.layers) {
        let a = traces.last().map_or(input, |t| &t.a);
        traces.push(run_block(l, lw, a, spec.table_bits)?);
    }
    Ok(traces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requant_rounds_half_up_and_floors_negatives() {
        assert_eq!(requant_value(3, 1, 1), 2); // 1.5 -> 2
        assert_eq!(requant_value(-3, 1, 1), -1); // -1.5 -> -1
        assert_eq!(requant_value(1000, 3, 4), 188); // 187.5 -> 188
    }

    #[test]
    fn remainder_is_in_range() {
        let l = DenseSpec { name: "b".into(), in_dim: 2, out_dim: 2, mult: 5, shift: 7, relu: true };
        let w = DenseWeights { weight: vec![100, -7, 3, 9], bias: vec![11, -4000] };
        for bits in [12, 16] {
            let tr = run_block(&l, &w, &[50, -20], bits).unwrap();
            for (&t, (&z, &q)) in tr.t.iter().zip(tr.z.iter().zip(&tr.q)) {
                assert!((0..1 << bits).contains(&t));
                let lhs = z as i128 * l.mult_scaled(bits) as i128 + (1 << (bits - 1));
                assert_eq!(lhs, ((q as i128) << bits) + t as i128);
            }
            assert!(tr.a.iter().all(|&v| v >= 0));
        }
    }
}
