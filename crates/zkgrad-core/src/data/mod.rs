//! Committed datasets and zero-knowledge proofs of their properties.
//!
//! A data owner commits to an integer (quantised) feature matrix and, optionally, integer
//! labels once ([`commit`]): every feature and the label column is a masked column of one hiding
//! table (`zk/masked.rs`, lifted masks as the weight table's), committed with the PCS whose
//! randomness is sized for a counted number of openings (`commit::reused_pcs`, as the weight
//! commitment). The public identity is [`DatasetCommitment::digest`]: the shape (rows, features,
//! labels or not), a 32-byte digest of the owner's metadata (scales, schema: the Python side
//! hashes them) and the table commitment.
//!
//! A property proof ([`props`]) shows, against that digest and for a public [`PropertySpec`],
//! in one zero-knowledge proof: the row count (public in the digest; every relation reads only
//! rows below it), each listed feature within [lo, hi], the labels in {0..K−1} with each class's
//! count within [a, b], each listed feature's sum (so its mean) within [lo, hi], and each listed
//! feature's n·Σx² − (Σx)² (so its population variance, times n²) within [lo, hi]. It reuses
//! the protocol's parts: LogUp with committed inverses against the 2^16-entry range table (as
//! the weight range certificate, `zk/range.rs`), masked sumchecks and batched openings.

pub mod attest;
mod attest_plan;
pub mod attest_prove;
mod attest_verify;
pub mod commit;
pub mod epochs;
mod openings;
pub mod proof;
pub mod props;
mod props_plan;
mod verify;
mod witness;

pub use attest::{
    AttestStatement, AttestWeights, Attestation, attest, attest_at_least, attest_confusion,
};
pub use attest_verify::verify as verify_attestation;
pub use commit::{Dataset, DatasetCommitment, DatasetNode, commit};
pub use epochs::DatasetLeaf;
pub use proof::PropertyProof;
pub use props::prove;
pub use verify::verify;

use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};

/// The first 8 bytes of a digest in hex (errors naming a dataset or model).
fn hex8(d: &[u8; 32]) -> String {
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Range checks are lookups in the 2^16-entry table: a declared width must be below 2^16.
pub const RANGE_BITS: usize = crate::zk::range::LIMB;

/// One feature's (or its sum's) declared integer bounds, inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    /// Feature (column) index.
    pub feature: u32,
    /// Smallest allowed value.
    pub lo: i64,
    /// Largest allowed value.
    pub hi: i64,
}

/// The labels' domain {0..classes−1} and each class's count bounds (inclusive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassSpec {
    /// K: labels lie in {0..K−1}.
    pub classes: u32,
    /// Per class (K entries): the allowed count [lo, hi]; lo == hi states the exact count.
    pub counts: Vec<(u64, u64)>,
}

/// The public statement of a property proof, in quantised integers (the Python side converts
/// real-valued bounds with the dataset's public scales).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertySpec {
    /// Features proved within [lo, hi].
    pub ranges: Vec<Bound>,
    /// The labels' domain and class counts.
    pub classes: Option<ClassSpec>,
    /// Features whose sum over the rows lies in [lo, hi] (the mean times the row count).
    pub sums: Vec<Bound>,
    /// Features whose n·Σx² − (Σx)² over the n rows lies in [lo, hi] (the population variance
    /// times n²).
    pub variances: Vec<Bound>,
}

/// The most a variance bound's n·Σx² − (Σx)² may reach: rows × range width below 2^31 keeps
/// n·Σx'² and (Σx')² (x' = x − the range's lo) below 2^62, so no sum wraps around the field.
pub const VARIANCE_SPAN_BITS: u32 = 31;

/// The largest n·Σx'² − (Σx')² over n rows with x' in [0, width]: (n·width)²/4.
pub fn variance_max(rows: u64, width: u64) -> i128 {
    (rows as i128 * width as i128).pow(2) / 4
}

impl PropertySpec {
    /// Checks the spec against the dataset's public shape; every error names the feature or class.
    pub fn validate(&self, c: &DatasetCommitment) -> Result<()> {
        let bad = |m: String| Err(ProofError::Circuit(m));
        let n = c.rows;
        let mut seen = vec![false; c.features as usize];
        for b in &self.ranges {
            let Some(s) = seen.get_mut(b.feature as usize) else {
                return bad(format!(
                    "the spec names feature {} but the dataset has {} features",
                    b.feature, c.features
                ));
            };
            if std::mem::replace(s, true) {
                return bad(format!("feature {} has two ranges", b.feature));
            }
            if b.hi < b.lo || (b.hi as i128 - b.lo as i128) >= 1 << RANGE_BITS {
                return bad(format!(
                    "feature {}'s range [{}, {}] is empty or spans 2^16 quantised values or more; declare a smaller scale or a tighter range",
                    b.feature, b.lo, b.hi
                ));
            }
            if b.lo.unsigned_abs() >= 1 << 40 || b.hi.unsigned_abs() >= 1 << 40 {
                return bad(format!("feature {}'s range is beyond ±2^40", b.feature));
            }
        }
        let mut summed = vec![false; c.features as usize];
        for s in &self.sums {
            let Some(r) = self.ranges.iter().find(|r| r.feature == s.feature) else {
                return bad(format!(
                    "feature {}'s mean is bounded but the feature has no declared range (the mean proof needs one)",
                    s.feature
                ));
            };
            if std::mem::replace(&mut summed[s.feature as usize], true) {
                return bad(format!("feature {} has two mean bounds", s.feature));
            }
            // The sum is proved as lo + d₀ = Σx = hi − d₁ with d₀, d₁ two 16-bit limbs each.
            let (lo, hi) = (s.lo as i128, s.hi as i128);
            let (min, max) = (n as i128 * r.lo as i128, n as i128 * r.hi as i128);
            if hi < lo || hi - lo >= 1 << (2 * RANGE_BITS) || lo < min - 1 || hi > max + 1 {
                return bad(format!(
                    "feature {}'s sum bounds [{}, {}] are empty, span 2^32 or more, or lie outside what its range allows [{min}, {max}]",
                    s.feature, s.lo, s.hi
                ));
            }
        }
        let mut varied = vec![false; c.features as usize];
        for v in &self.variances {
            let Some(r) = self.ranges.iter().find(|r| r.feature == v.feature) else {
                return bad(format!(
                    "feature {}'s variance is bounded but the feature has no declared range (the variance proof needs one)",
                    v.feature
                ));
            };
            if std::mem::replace(&mut varied[v.feature as usize], true) {
                return bad(format!("feature {} has two variance bounds", v.feature));
            }
            let width = (r.hi - r.lo) as u64;
            if (n as u128) * (width as u128) >= 1 << VARIANCE_SPAN_BITS {
                return bad(format!(
                    "feature {}'s variance over {n} rows of a range {width} quantised values wide could wrap around the field (rows × width must be below 2^31); declare a tighter range or a smaller scale",
                    v.feature
                ));
            }
            let max = variance_max(n, width);
            if v.lo < 0 || v.hi < v.lo || v.hi as i128 > max {
                return bad(format!(
                    "feature {}'s variance bounds [{}, {}] (n²·variance) are empty or lie outside what its range allows [0, {max}]",
                    v.feature, v.lo, v.hi
                ));
            }
        }
        if let Some(cs) = &self.classes {
            if !c.labels {
                return bad(
                    "the spec states class properties but the dataset has no labels".into(),
                );
            }
            if cs.classes == 0 || cs.classes as usize > 1 << RANGE_BITS {
                return bad(format!(
                    "{} classes: between 1 and 65536 are supported",
                    cs.classes
                ));
            }
            if cs.counts.len() != cs.classes as usize {
                return bad(format!(
                    "the spec gives {} class count bounds for {} classes",
                    cs.counts.len(),
                    cs.classes
                ));
            }
            for (t, &(lo, hi)) in cs.counts.iter().enumerate() {
                if hi < lo || lo > n {
                    return bad(format!(
                        "class {t}'s count bounds [{lo}, {hi}] are empty or above the {n} rows"
                    ));
                }
                if lo == 0 && hi >= n {
                    continue;
                }
                if hi.min(n) - lo >= 1 << RANGE_BITS {
                    return bad(format!(
                        "class {t}'s count bounds [{lo}, {hi}] span 2^16 rows or more; give a tighter share"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Canonical bytes (what the transcript absorbs).
    pub fn to_bytes(&self) -> Vec<u8> {
        bincode::serde::encode_to_vec(self, bincode::config::standard()).expect("specs encode")
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod variance_tests;
