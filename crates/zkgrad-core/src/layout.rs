//! Packing several power-of-two columns into one committed multilinear polynomial.
//!
//! Columns are placed largest first at offsets aligned to their own size, so column c (2^k_c
//! entries at offset o_c) is the sub-cube where the high variables equal the bits of o_c >> k_c.
//! A claim on column c at a local point r is then a claim on the packed polynomial at
//! (r, bits(o_c >> k_c)): one commitment, one opening for all columns.

use p3_field::PrimeCharacteristicRing;

use crate::field::{EF, F};
use crate::mle::bits_as_point;

/// Where each column lives in the packed polynomial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// (offset, log2 size) per column, in the caller's column order.
    pub columns: Vec<(usize, usize)>,
    /// Variables of the packed polynomial.
    pub num_vars: usize,
}

impl Layout {
    /// Places columns of the given log2 sizes.
    pub fn new(log_sizes: &[usize]) -> Self {
        let mut order: Vec<usize> = (0..log_sizes.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(log_sizes[i]));
        let mut columns = vec![(0, 0); log_sizes.len()];
        let mut offset = 0usize;
        for i in order {
            columns[i] = (offset, log_sizes[i]);
            offset += 1 << log_sizes[i];
        }
        let num_vars = crate::mle::log2_ceil(offset.max(1));
        Self { columns, num_vars }
    }

    /// Total number of entries of the packed polynomial.
    pub fn len(&self) -> usize {
        1 << self.num_vars
    }

    /// Always false: a layout holds at least one entry.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the columns (each already padded to its power-of-two size) into one table.
    pub fn pack(&self, cols: &[Vec<F>]) -> Vec<F> {
        let mut out = vec![F::ZERO; self.len()];
        for (c, &(off, k)) in cols.iter().zip(&self.columns) {
            assert_eq!(c.len(), 1 << k, "column size does not match the layout");
            out[off..off + c.len()].copy_from_slice(c);
        }
        out
    }

    /// The packed-polynomial point for a local point on column `c`.
    pub fn embed(&self, c: usize, local: &[EF]) -> Vec<EF> {
        let (off, k) = self.columns[c];
        assert_eq!(local.len(), k, "point length does not match the column");
        let mut p = local.to_vec();
        p.extend(bits_as_point(off >> k, self.num_vars - k));
        p
    }
}

/// Lays out a batch: row n (features padded to 2^log_feat with `pad`) at offset n·2^log_feat,
/// rows repeated from row 0 up to 2^log_batch. The batch index is the high variables, so a
/// point is (feature point, batch point).
pub fn batched_column(rows: &[&[i64]], log_feat: usize, log_batch: usize, pad: i64) -> Vec<F> {
    (0..1usize << log_batch)
        .flat_map(|n| padded_column(rows.get(n).unwrap_or(&rows[0]), log_feat, pad))
        .collect()
}

/// Pads signed values to 2^k entries with `pad` and embeds them in the field.
pub fn padded_column(values: &[i64], log_size: usize, pad: i64) -> Vec<F> {
    let mut out: Vec<F> = values.iter().map(|&v| crate::field::from_i64(v)).collect();
    out.resize(1 << log_size, crate::field::from_i64(pad));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::{evaluate, evaluate_base};

    #[test]
    fn claims_on_columns_are_claims_on_the_packed_table() {
        let layout = Layout::new(&[1, 3, 0, 2]);
        let cols: Vec<Vec<F>> = layout
            .columns
            .iter()
            .enumerate()
            .map(|(c, &(_, k))| {
                (0..1 << k)
                    .map(|i| F::from_u64((c * 100 + i) as u64))
                    .collect()
            })
            .collect();
        let packed = layout.pack(&cols);
        for (c, col) in cols.iter().enumerate() {
            let k = layout.columns[c].1;
            let r: Vec<EF> = (0..k).map(|i| EF::from_u64(7 + i as u64)).collect();
            let packed_ef: Vec<EF> = packed.iter().map(|&x| EF::from(x)).collect();
            assert_eq!(
                evaluate(&packed_ef, &layout.embed(c, &r)),
                evaluate_base(col, &r)
            );
        }
    }
}
