//! Multilinear extensions over the boolean hypercube and eq tables.
//!
//! Convention used everywhere in zkgrad: a vector of 2^n values is the table of a multilinear
//! polynomial in n variables, and **bit i of the index is variable i** (little-endian), so
//! `point[0]` fixes the lowest index bit.

use p3_field::{Field, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;

use crate::field::{EF, F};

/// Number of variables of the smallest hypercube holding `len` values (0 for len ≤ 1).
pub fn log2_ceil(len: usize) -> usize {
    if len <= 1 {
        0
    } else {
        (usize::BITS - (len - 1).leading_zeros()) as usize
    }
}

/// eq(point, x) for every x in the hypercube, as a table of 2^n entries.
pub fn eq_table(point: &[EF]) -> Vec<EF> {
    let mut table = vec![EF::ONE];
    // Process the highest variable first so that variable 0 ends up on index bit 0.
    for &r in point.iter().rev() {
        let mut next = vec![EF::ZERO; table.len() * 2];
        let split = |(pair, &v): (&mut [EF], &EF)| {
            let hi = v * r;
            pair[0] = v - hi;
            pair[1] = hi;
        };
        // Small tables (most claims' points) are cheaper on the calling thread.
        if table.len() < 1 << 11 {
            next.chunks_mut(2).zip(table.iter()).for_each(split);
        } else {
            next.par_chunks_mut(2).zip(table.par_iter()).for_each(split);
        }
        table = next;
    }
    table
}

/// eq(a, b) = Π (a_i b_i + (1 − a_i)(1 − b_i)).
pub fn eq_eval(a: &[EF], b: &[EF]) -> EF {
    debug_assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x * y + (EF::ONE - x) * (EF::ONE - y))
        .product()
}

/// Fixes variable 0 of a table to `r`, halving it.
pub fn fold_low(values: &[EF], r: EF) -> Vec<EF> {
    let fold = |p: &[EF]| p[0] + r * (p[1] - p[0]);
    if values.len() < 1 << 13 {
        values.chunks(2).map(fold).collect()
    } else {
        values.par_chunks(2).map(fold).collect()
    }
}

/// Evaluates the multilinear extension of base-field values at `point`.
pub fn evaluate_base(values: &[F], point: &[EF]) -> EF {
    assert_eq!(
        values.len(),
        1 << point.len(),
        "table size must be 2^(number of variables)"
    );
    if point.is_empty() {
        return EF::from(values[0]);
    }
    // The first fold lifts base values into the extension.
    let r = point[0];
    let first: Vec<EF> = values
        .par_chunks(2)
        .map(|p| r * (p[1] - p[0]) + p[0])
        .collect();
    evaluate(&first, &point[1..])
}

/// Evaluates the multilinear extension of extension-field values at `point`.
pub fn evaluate(values: &[EF], point: &[EF]) -> EF {
    assert_eq!(
        values.len(),
        1 << point.len(),
        "table size must be 2^(number of variables)"
    );
    let mut cur = values.to_vec();
    for &r in point {
        cur = fold_low(&cur, r);
    }
    cur[0]
}

/// Evaluates the MLE of a vector of signed integers zero-padded to 2^|point| (used by the
/// verifier on public tensors).
pub fn evaluate_i64_padded(values: &[i64], point: &[EF]) -> EF {
    let mut padded = vec![F::ZERO; 1 << point.len()];
    for (d, &v) in padded.iter_mut().zip(values) {
        *d = crate::field::from_i64(v);
    }
    evaluate_base(&padded, point)
}

/// Embeds a point's coordinates as field elements of the given bits (little-endian).
pub fn bits_as_point(value: usize, n: usize) -> Vec<EF> {
    (0..n)
        .map(|i| {
            if (value >> i) & 1 == 1 {
                EF::ONE
            } else {
                EF::ZERO
            }
        })
        .collect()
}

/// Inverts a nonzero extension element.
pub fn inv(x: EF) -> Option<EF> {
    x.try_inverse()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(v: &[u64]) -> Vec<EF> {
        v.iter().map(|&x| EF::from_u64(x)).collect()
    }

    #[test]
    fn eq_table_matches_eq_eval_and_booleans() {
        let r = pt(&[3, 7, 11]);
        let t = eq_table(&r);
        for i in 0..8 {
            assert_eq!(t[i], eq_eval(&r, &bits_as_point(i, 3)));
        }
        // At a boolean point the MLE returns the table entry (little-endian bits).
        let vals: Vec<F> = (0..8).map(|i| F::from_u64(10 + i)).collect();
        for i in 0..8 {
            assert_eq!(
                evaluate_base(&vals, &bits_as_point(i, 3)),
                EF::from(vals[i])
            );
        }
    }

    #[test]
    fn evaluate_is_inner_product_with_eq() {
        let r = pt(&[5, 9]);
        let vals: Vec<EF> = pt(&[1, 2, 3, 4]);
        let eq = eq_table(&r);
        let direct: EF = vals.iter().zip(&eq).map(|(&a, &b)| a * b).sum();
        assert_eq!(evaluate(&vals, &r), direct);
        assert_eq!(log2_ceil(1), 0);
        assert_eq!(log2_ceil(5), 3);
        assert_eq!(log2_ceil(8), 3);
    }
}
