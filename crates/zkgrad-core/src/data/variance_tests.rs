//! Variance bounds in property proofs: an honest bound verifies; a variance the data do not
//! meet is refused by the prover, and its proof by a dishonest prover (every relation holding
//! modulo p, the slack wrapped around the field) is rejected by the verifier; altered proofs,
//! edited statements and specs that could wrap are refused, each naming the feature.

use super::tests::{assert_forgery_rejected, cert0, prove};
use super::*;
use crate::field::EF;
use p3_field::PrimeCharacteristicRing;

/// 20 rows, 3 features in [-5, 40] (as `tests.rs`), no labels needed.
fn committed() -> Dataset {
    let x: Vec<i64> = (0..60).map(|i| (i * 7 + 1) % 46 - 5).collect();
    commit(&x, 20, 3, None, [1; 32], [1; 32]).unwrap()
}

/// n·Σx² − (Σx)² of feature `f` (n²·variance).
fn scaled_variance(ds: &Dataset, f: usize) -> i64 {
    let xs: Vec<i64> = ds.cols[f][..20]
        .iter()
        .map(|&v| crate::field::to_i64(v))
        .collect();
    let (s, q): (i64, i64) = (xs.iter().sum(), xs.iter().map(|x| x * x).sum());
    20 * q - s * s
}

fn spec(ds: &Dataset, lo_off: i64, hi_off: i64) -> PropertySpec {
    let v = scaled_variance(ds, 1);
    PropertySpec {
        ranges: (0..3)
            .map(|f| Bound {
                feature: f,
                lo: -5,
                hi: 40,
            })
            .collect(),
        variances: vec![Bound {
            feature: 1,
            lo: v + lo_off,
            hi: v + hi_off,
        }],
        ..Default::default()
    }
}

#[test]
fn an_honest_variance_bound_verifies_and_round_trips() {
    let ds = committed();
    // Exact, then loose; with a mean bound on the same feature and a second variance.
    let mut s = spec(&ds, 0, 0);
    let proof = PropertyProof::from_bytes(&prove(&ds, &s).unwrap().to_bytes()).unwrap();
    assert_eq!(verify(&ds.commitment, &proof, &cert0(&ds)).unwrap(), s);
    s = spec(&ds, -1000, 70_000);
    s.sums.push(Bound {
        feature: 1,
        lo: -100,
        hi: 800,
    });
    s.variances.push(Bound {
        feature: 2,
        lo: 0,
        hi: variance_max(20, 45) as i64,
    });
    let proof = prove(&ds, &s).unwrap();
    assert_eq!(verify(&ds.commitment, &proof, &cert0(&ds)).unwrap(), s);
}

#[test]
fn a_variance_below_or_above_its_bounds_is_refused_and_its_forgery_rejected() {
    let ds = committed();
    for (lo, hi) in [(1, 50), (-50, -1)] {
        let s = spec(&ds, lo, hi);
        let err = prove(&ds, &s).unwrap_err().to_string();
        assert!(
            err.contains("feature 1's n²·variance") && err.contains("outside the stated bounds"),
            "{err}"
        );
        // The dishonest prover's slack is −1..−50 as a field element (p − 1, ...): every
        // identity holds modulo p, only the limbs' range lookups catch it (the top limb's
        // below-2^14 check: without it this forgery verifies, as tried when it was written).
        assert_forgery_rejected(&ds, &s);
    }
}

#[test]
fn an_altered_variance_proof_or_statement_is_rejected() {
    let ds = committed();
    let s = spec(&ds, -5, 5);
    let proof = prove(&ds, &s).unwrap();
    // Every revealed value (the variance columns' last), one at a time.
    for i in 0..proof.values.len() {
        let mut altered = proof.clone();
        altered.values[i] += EF::ONE;
        assert!(
            verify(&ds.commitment, &altered, &cert0(&ds)).is_err(),
            "value {i}"
        );
    }
    // The statement edited after proving: a tighter bound the data do not meet, and a bound
    // moved to another feature.
    let mut edited = proof.clone();
    edited.spec.variances[0].lo += 6;
    assert!(verify(&ds.commitment, &edited, &cert0(&ds)).is_err());
    let mut moved = proof.clone();
    moved.spec.variances[0].feature = 2;
    assert!(verify(&ds.commitment, &moved, &cert0(&ds)).is_err());
    let mut dropped = proof;
    dropped.spec.variances.clear();
    assert!(verify(&ds.commitment, &dropped, &cert0(&ds)).is_err());
}

#[test]
fn variance_specs_that_could_wrap_or_lack_a_range_are_refused_naming_the_feature() {
    let ds = committed();
    let mut s = spec(&ds, 0, 0);
    s.ranges.remove(1);
    let err = prove(&ds, &s).unwrap_err().to_string();
    assert!(
        err.contains("feature 1's variance") && err.contains("no declared range"),
        "{err}"
    );
    let mut s = spec(&ds, 0, 0);
    s.variances[0].hi = variance_max(20, 45) as i64 + 1;
    let err = prove(&ds, &s).unwrap_err().to_string();
    assert!(err.contains("feature 1's variance bounds"), "{err}");
    let mut s = spec(&ds, 0, 0);
    s.variances.push(s.variances[0].clone());
    assert!(
        prove(&ds, &s)
            .unwrap_err()
            .to_string()
            .contains("two variance")
    );
    // 40,000 rows of a 2^16-wide range: n·w ≥ 2^31, so n·Σx² could wrap.
    let big = commit(&vec![0i64; 40_000], 40_000, 1, None, [2; 32], [2; 32]).unwrap();
    let s = PropertySpec {
        ranges: vec![Bound {
            feature: 0,
            lo: 0,
            hi: (1 << 16) - 1,
        }],
        variances: vec![Bound {
            feature: 0,
            lo: 0,
            hi: 0,
        }],
        ..Default::default()
    };
    let err = s.validate(&big.commitment).unwrap_err().to_string();
    assert!(
        err.contains("feature 0's variance") && err.contains("wrap"),
        "{err}"
    );
}

#[test]
fn a_property_proof_of_the_previous_format_is_refused_by_version() {
    let ds = committed();
    let mut bytes = prove(&ds, &spec(&ds, 0, 0)).unwrap().to_bytes();
    bytes[4..6].copy_from_slice(&2u16.to_le_bytes());
    let err = PropertyProof::from_bytes(&bytes).unwrap_err().to_string();
    assert!(err.contains('2') && err.contains('3'), "{err}");
}
