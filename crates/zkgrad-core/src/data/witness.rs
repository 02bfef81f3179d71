//! The prover's check of the statement before anything is committed.

use super::PropertySpec;
use super::commit::Dataset;
use crate::error::{ProofError, Result};

/// Refuses, before anything is committed, a dataset that does not have the stated properties:
/// the error names the property, the row and the feature (an honest prover must not make a
/// proof that fails, and a test must see why).
pub(super) fn check(ds: &Dataset, spec: &PropertySpec) -> Result<()> {
    let rows = ds.commitment.rows as usize;
    let value = |col: usize, r: usize| crate::field::to_i64(ds.cols[col][r]);
    let fail = |m: String| {
        Err(ProofError::Witness {
            layer: "dataset".into(),
            detail: m,
        })
    };
    for b in &spec.ranges {
        let f = b.feature as usize;
        if let Some(r) = (0..rows).find(|&r| !(b.lo..=b.hi).contains(&value(f, r))) {
            return fail(format!(
                "row {}, feature {f}: the value {} is outside the declared range [{}, {}]",
                r + 1,
                value(f, r),
                b.lo,
                b.hi
            ));
        }
    }
    if let Some(cs) = &spec.classes {
        let y = ds.commitment.features as usize;
        let mut counts = vec![0u64; cs.classes as usize];
        for r in 0..rows {
            match usize::try_from(value(y, r))
                .ok()
                .and_then(|t| counts.get_mut(t))
            {
                Some(c) => *c += 1,
                None => {
                    return fail(format!(
                        "row {}: the label {} is not one of the {} classes",
                        r + 1,
                        value(y, r),
                        cs.classes
                    ));
                }
            }
        }
        for (t, (&n, &(lo, hi))) in counts.iter().zip(&cs.counts).enumerate() {
            if !(lo..=hi).contains(&n) {
                return fail(format!(
                    "class {t} has {n} rows, outside the stated count [{lo}, {hi}]"
                ));
            }
        }
    }
    for s in &spec.sums {
        let f = s.feature as usize;
        let sum: i64 = (0..rows).map(|r| value(f, r)).sum();
        if !(s.lo..=s.hi).contains(&sum) {
            return fail(format!(
                "feature {f}'s sum {sum} is outside the stated bounds [{}, {}] (its mean is out of bounds)",
                s.lo, s.hi
            ));
        }
    }
    for v in &spec.variances {
        let f = v.feature as usize;
        let xs = || (0..rows).map(|r| value(f, r) as i128);
        let (s, q) = (xs().sum::<i128>(), xs().map(|x| x * x).sum::<i128>());
        let var = rows as i128 * q - s * s;
        if !(v.lo as i128..=v.hi as i128).contains(&var) {
            return fail(format!(
                "feature {f}'s n²·variance {var} is outside the stated bounds [{}, {}] (its variance is out of bounds)",
                v.lo, v.hi
            ));
        }
    }
    Ok(())
}
