//! A product of two activations, `Z = A·B` per batch item (attention's Q·Kᵀ and scores·V): its
//! geometry and integer semantics. The relation is proved in `zk/matmul.rs`.
//!
//! A is the block's source (`heads` stacked `rows × inner` matrices, row-major), B its second
//! operand (`heads` stacked `inner × cols`); head h of the output is A[h]·B[h]. Each is stored as
//! its rows (`ActShape` with one channel per row of every head), so a column's variables split
//! into a column index (low) and a row index (high): A's into (t, i), B's into (j, t) and the
//! output's into (j, i), the head being the row index's high part. A producer that stores its
//! output flat (a dense block) stores it that way exactly when the row length is a power of two;
//! with several heads the rows per head must be powers of two too (so the head has variables of
//! its own).

use serde::{Deserialize, Serialize};

use crate::circuit::{ACC_LIMIT, ActShape, Operand};

/// Geometry of a product of two activations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatMulGeom {
    /// The second operand B (the first, A, is the block's source).
    pub other: Operand,
    /// Stacked products (attention heads), at least 1.
    pub heads: usize,
    /// Rows of A and of the output.
    pub rows: usize,
    /// Columns of A, rows of B: the length of every dot product (at least 2).
    pub inner: usize,
    /// Columns of B and of the output.
    pub cols: usize,
}

impl MatMulGeom {
    /// How A is stored: one channel per row (of every head).
    pub fn a_shape(&self) -> ActShape {
        ActShape {
            channels: self.heads * self.rows,
            len: self.inner,
        }
    }

    /// How B is stored: one channel per row (of every head).
    pub fn b_shape(&self) -> ActShape {
        ActShape {
            channels: self.heads * self.inner,
            len: self.cols,
        }
    }

    /// How the output is stored: one channel per row (of every head).
    pub fn out_shape(&self) -> ActShape {
        ActShape {
            channels: self.heads * self.rows,
            len: self.cols,
        }
    }

    /// Values of B.
    pub fn b_len(&self) -> usize {
        self.heads * self.inner * self.cols
    }

    /// The rules of the geometry alone, for a block of `in_dim` inputs and `out_dim` outputs.
    pub(crate) fn check(&self, in_dim: usize, out_dim: usize) -> Result<(), String> {
        if self.rows == 0 || self.cols == 0 || self.inner < 2 || self.heads == 0 {
            return Err(format!(
                "{} matrix products of {}×{} by {}×{} (the inner dimension must be at least 2)",
                self.heads, self.rows, self.inner, self.inner, self.cols
            ));
        }
        if self.heads > 1 && !(self.rows.is_power_of_two() && self.inner.is_power_of_two()) {
            return Err(format!(
                "{} stacked products of {}×{} by {}×{}: with several, rows and inner dimension \
                 must be powers of two",
                self.heads, self.rows, self.inner, self.inner, self.cols
            ));
        }
        let (a, z) = (
            self.heads * self.rows * self.inner,
            self.heads * self.rows * self.cols,
        );
        if in_dim != a || out_dim != z {
            return Err(format!(
                "matrix product input and output lengths {in_dim} and {out_dim} are not {a} and {z}"
            ));
        }
        Ok(())
    }

    /// Refuses a product whose accumulator times the requantisation multiplier `mb` could wrap
    /// around the field: |z| ≤ inner·2^(2b−2) for b-bit operands.
    pub(crate) fn check_bound(&self, bits: u32, mb: u64) -> Result<(), String> {
        let z = (self.inner as u128) << (2 * bits - 2);
        let bound = z.saturating_mul(mb as u128);
        if bound >= ACC_LIMIT as u128 {
            return Err(format!(
                "a dot product of {} terms with multiplier {mb} could reach 2^{:.1} ≥ 2^62 and \
                 wrap around the field",
                self.inner,
                (bound as f64).log2()
            ));
        }
        Ok(())
    }

    /// The accumulator Z = A·B of one batch item (every head; row-major).
    pub fn accumulate(&self, a: &[i64], b: &[i64]) -> Vec<i128> {
        let (m, k, n) = (self.rows, self.inner, self.cols);
        let mut z = vec![0i128; self.heads * m * n];
        for h in 0..self.heads {
            let (ah, bh) = (
                &a[h * m * k..(h + 1) * m * k],
                &b[h * k * n..(h + 1) * k * n],
            );
            let zh = &mut z[h * m * n..(h + 1) * m * n];
            for i in 0..m {
                for t in 0..k {
                    let x = ah[i * k + t] as i128;
                    for (zj, &y) in zh[i * n..(i + 1) * n]
                        .iter_mut()
                        .zip(&bh[t * n..(t + 1) * n])
                    {
                        *zj += x * y as i128;
                    }
                }
            }
        }
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulate_is_the_matrix_product() {
        let g = MatMulGeom {
            other: Operand::Input,
            heads: 1,
            rows: 2,
            inner: 3,
            cols: 2,
        };
        let a = [1, 2, 3, 4, 5, 6];
        let b = [7, 8, 9, 10, 11, 12];
        assert_eq!(g.accumulate(&a, &b), vec![58, 64, 139, 154]);
        assert!(g.check(6, 4).is_ok());
        assert!(g.check(6, 5).is_err());
        assert!(g.check_bound(16, 1 << 20).is_ok());
        assert!(g.check_bound(16, 1 << 40).is_err());
    }
}
