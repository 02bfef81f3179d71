//! Property proofs: honest proofs verify; a false statement, an altered proof and a proof for
//! another dataset are rejected, each with the error that says why.

use super::*;
use crate::field::EF;
use p3_field::PrimeCharacteristicRing;

/// 20 rows, 3 features in [-5, 40], labels 0/1 (8 zeros, 12 ones).
fn data(seed: u8) -> (Vec<i64>, Vec<i64>) {
    let x: Vec<i64> = (0..60).map(|i| (i * 7 + seed as i64) % 46 - 5).collect();
    let y: Vec<i64> = (0..20).map(|i| i64::from(i % 5 >= 2)).collect();
    (x, y)
}

fn committed(seed: u8) -> Dataset {
    let (x, y) = data(seed);
    commit(&x, 20, 3, Some(&y), [seed; 32], [seed; 32]).unwrap()
}

/// Proves `spec` in epoch 0 (the leaf [0]) of `ds`, as the tests before epochs proved against
/// the published commitment.
pub(super) fn prove(ds: &Dataset, spec: &PropertySpec) -> crate::error::Result<PropertyProof> {
    super::prove(&ds.leaf(&[0])?, spec)
}

/// The certificate of epoch 0's leaf.
pub(super) fn cert0(ds: &Dataset) -> crate::epoch::EpochCertificate {
    ds.certificate(&crate::epoch::Epochs::default(), &[0])
        .unwrap()
}

fn spec() -> PropertySpec {
    let (x, _) = data(1);
    let sum1: i64 = x.iter().skip(1).step_by(3).sum();
    PropertySpec {
        ranges: (0..3)
            .map(|f| Bound {
                feature: f,
                lo: -5,
                hi: 40,
            })
            .collect(),
        classes: Some(ClassSpec {
            classes: 2,
            counts: vec![(8, 8), (10, 14)],
        }),
        sums: vec![Bound {
            feature: 1,
            lo: sum1 - 3,
            hi: sum1 + 3,
        }],
        variances: Vec::new(),
    }
}

#[test]
fn an_honest_property_proof_verifies_and_round_trips() {
    let ds = committed(1);
    let proof = prove(&ds, &spec()).unwrap();
    let bytes = proof.to_bytes();
    let back = PropertyProof::from_bytes(&bytes).unwrap();
    assert_eq!(verify(&ds.commitment, &back, &cert0(&ds)).unwrap(), spec());
    // A spec with ranges only, and one with unconstrained class counts.
    let mut only = spec();
    only.classes = None;
    only.sums.clear();
    verify(&ds.commitment, &prove(&ds, &only).unwrap(), &cert0(&ds)).unwrap();
    let mut free = spec();
    free.classes = Some(ClassSpec {
        classes: 3,
        counts: vec![(0, 20); 3],
    });
    verify(&ds.commitment, &prove(&ds, &free).unwrap(), &cert0(&ds)).unwrap();
}

#[test]
fn an_out_of_range_value_is_refused_by_the_prover_and_rejected_by_the_verifier() {
    let (mut x, y) = data(1);
    x[3 * 7 + 2] = 41; // row 7, feature 2
    let ds = commit(&x, 20, 3, Some(&y), [1; 32], [1; 32]).unwrap();
    let mut s = spec();
    s.sums.clear();
    let err = prove(&ds, &s).unwrap_err().to_string();
    assert!(err.contains("row 8, feature 2"), "{err}");
    assert_forgery_rejected(&ds, &s);
}

/// A dishonest prover's proof of `spec` (no witness check) is rejected as not establishing it.
pub(super) fn assert_forgery_rejected(ds: &Dataset, spec: &PropertySpec) {
    let forged = props::prove_unchecked(&ds.leaf(&[0]).unwrap(), spec).unwrap();
    let err = verify(&ds.commitment, &forged, &cert0(ds))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not establish the stated properties"),
        "{err}"
    );
}

#[test]
fn a_value_wrapped_around_the_field_is_rejected() {
    // -5 - p... written as a field element that is "small" only modulo p: p - 6 + 1 etc.
    let (mut x, y) = data(1);
    x[0] = -6;
    let ds = commit(&x, 20, 3, Some(&y), [1; 32], [1; 32]).unwrap();
    let mut s = spec();
    s.sums.clear();
    s.classes = None;
    let forged = props::prove_unchecked(&ds.leaf(&[0]).unwrap(), &s).unwrap();
    assert!(verify(&ds.commitment, &forged, &cert0(&ds)).is_err());
}

#[test]
fn a_wrong_class_count_is_rejected() {
    let ds = committed(1);
    let mut s = spec();
    s.classes = Some(ClassSpec {
        classes: 2,
        counts: vec![(9, 9), (11, 11)],
    });
    let err = prove(&ds, &s).unwrap_err().to_string();
    assert!(err.contains("class 0 has 8 rows"), "{err}");
    let forged = props::prove_unchecked(&ds.leaf(&[0]).unwrap(), &s).unwrap();
    assert!(verify(&ds.commitment, &forged, &cert0(&ds)).is_err());
    // An honest proof whose statement is edited afterwards.
    let mut edited = prove(&ds, &spec()).unwrap();
    edited.spec.classes.as_mut().unwrap().counts[0] = (9, 9);
    assert!(verify(&ds.commitment, &edited, &cert0(&ds)).is_err());
}

#[test]
fn a_label_outside_the_classes_is_rejected() {
    let (x, mut y) = data(1);
    y[4] = 2;
    let ds = commit(&x, 20, 3, Some(&y), [1; 32], [1; 32]).unwrap();
    let mut s = spec();
    s.classes = Some(ClassSpec {
        classes: 2,
        counts: vec![(0, 20), (0, 20)],
    });
    let err = prove(&ds, &s).unwrap_err().to_string();
    assert!(err.contains("row 5: the label 2"), "{err}");
    let forged = props::prove_unchecked(&ds.leaf(&[0]).unwrap(), &s).unwrap();
    assert!(verify(&ds.commitment, &forged, &cert0(&ds)).is_err());
}

#[test]
fn a_mean_out_of_its_bounds_is_rejected() {
    let ds = committed(1);
    let mut s = spec();
    s.sums[0].lo += 10;
    s.sums[0].hi += 10;
    assert!(prove(&ds, &s).unwrap_err().to_string().contains("sum"));
    let forged = props::prove_unchecked(&ds.leaf(&[0]).unwrap(), &s).unwrap();
    assert!(verify(&ds.commitment, &forged, &cert0(&ds)).is_err());
}

#[test]
fn a_proof_for_another_dataset_or_altered_is_rejected() {
    let ds = committed(1);
    let other = committed(2);
    let proof = prove(&ds, &spec()).unwrap();
    let err = verify(&other.commitment, &proof, &cert0(&other))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is for dataset"), "{err}");
    // The header label rewritten to the other dataset: the transcript still binds the first.
    let mut relabelled = proof.clone();
    relabelled.dataset = other.commitment.digest();
    assert!(verify(&other.commitment, &relabelled, &cert0(&other)).is_err());
    let mut altered = proof.clone();
    altered.values[0] += EF::ONE;
    assert!(verify(&ds.commitment, &altered, &cert0(&ds)).is_err());
    let mut altered = proof.clone();
    altered.inverses[1] += EF::ONE;
    assert!(verify(&ds.commitment, &altered, &cert0(&ds)).is_err());
    let bytes = proof.to_bytes();
    let cert = cert0(&ds);
    let mut rejected = 0;
    for i in (6..bytes.len()).step_by(bytes.len() / 40) {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        if PropertyProof::from_bytes(&b)
            .and_then(|p| verify(&ds.commitment, &p, &cert))
            .is_err()
        {
            rejected += 1;
        }
    }
    assert_eq!(rejected, (6..bytes.len()).step_by(bytes.len() / 40).count());
}

#[test]
fn padding_rows_are_read_by_no_property() {
    // 20 rows padded to 32: an owner who fills the padding with out-of-range values and extra
    // labels proves exactly the statement about the 20 real rows (ranges, counts, sums).
    let mut bad = committed(1);
    for c in bad.cols.iter_mut() {
        c[25] = crate::field::from_i64(1 << 40);
        c[26] = crate::field::from_i64(1);
    }
    let bad = bad.recommit().unwrap();
    let proof = prove(&bad, &spec()).unwrap();
    verify(&bad.commitment, &proof, &cert0(&bad)).unwrap();
    // Counting a padding label as a row would be a false count: rejected.
    let mut s = spec();
    s.classes.as_mut().unwrap().counts[1] = (13, 13);
    assert!(
        verify(
            &bad.commitment,
            &props::prove_unchecked(&bad.leaf(&[0]).unwrap(), &s).unwrap(),
            &cert0(&bad)
        )
        .is_err()
    );
}

#[test]
fn the_dataset_commitment_hides_a_hundred_proofs() {
    for rows in [20, 569, 10_000] {
        let x = vec![1i64; rows * 30];
        let y = vec![0i64; rows];
        let ds = commit(&x, rows, 30, Some(&y), [0; 32], [3; 32]).unwrap();
        let b = ds.commitment.budget().unwrap();
        assert!(b >= 100, "{rows} rows: budget {b}");
    }
}

#[test]
fn bad_specs_are_refused_naming_the_feature() {
    let ds = committed(1);
    let mut s = spec();
    s.ranges[0].feature = 9;
    assert!(
        prove(&ds, &s)
            .unwrap_err()
            .to_string()
            .contains("feature 9")
    );
    let mut s = spec();
    s.ranges[1].hi = 1 << 20;
    assert!(prove(&ds, &s).unwrap_err().to_string().contains("2^16"));
    let mut s = spec();
    s.ranges.remove(1);
    assert!(
        prove(&ds, &s)
            .unwrap_err()
            .to_string()
            .contains("no declared range")
    );
}

/// The rank test on the dataset table itself (`zk::budget::rank_test`): K proofs, each revealing
/// one masked value per column at its own lift point and the batching value, stay independent of
/// the data at the commitment's column budget, and the data leak one opening past it.
#[test]
fn the_dataset_table_is_hidden_up_to_its_column_budget() {
    use crate::zk::masked::LiftPoint;
    // One 8-row column (a small matrix for the test): its lifted mask, 2^8 dimensions, holds
    // 64 openings of one value and the batching value each (wider tables hold 128).
    let ds = commit(&[1i64; 8], 8, 1, None, [0; 32], [4; 32]).unwrap();
    let layout = ds.commitment.layout();
    let budget = commit::column_openings(&layout);
    assert_eq!(budget, 64);
    assert_eq!(ds.commitment.budget().unwrap(), budget);
    let fresh = |_: usize, rng: &mut rand::rngs::StdRng| {
        LiftPoint::new(
            (0..commit::DATASET_LIFT)
                .map(|_| crate::zk::random_base(rng))
                .collect(),
        )
    };
    assert!(crate::zk::budget::rank_test::table_hidden(
        &layout, budget, fresh
    ));
    assert!(!crate::zk::budget::rank_test::table_hidden(
        &layout,
        budget + 1,
        fresh
    ));
}
