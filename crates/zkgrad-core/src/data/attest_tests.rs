//! Accuracy attestations: an honest one verifies with the true count; an inflated or deflated
//! count, a prediction that is not the argmax, rows counted from the padding, another dataset
//! and another model are each rejected.

use super::*;
use p3_field::PrimeCharacteristicRing;

use crate::circuit::forward;
use crate::data::attest_prove::Tamper;
use crate::data::commit::commit;
use crate::zk::test_model::mlp_6_4_2;

const SEED: [u8; 32] = [1; 32];

/// The dataset's first epoch leaf (what an attestation opens) and its certificate.
fn leaf(ds: &Dataset) -> crate::data::DatasetLeaf<'_> {
    ds.leaf(&[0]).unwrap()
}

fn cert(ds: &Dataset) -> crate::epoch::EpochCertificate {
    ds.certificate(&crate::epoch::Epochs::default(), &[0])
        .unwrap()
}

/// m rows of 6 features and their labels: the model's argmax, flipped on every third row.
fn rows(m: usize, salt: i64) -> (Vec<i64>, Vec<i64>, u64) {
    let (spec, w, _) = mlp_6_4_2();
    let x: Vec<i64> = (0..m * 6)
        .map(|i| ((i as i64 * 7919 + salt * 31) % 2001) - 1000)
        .collect();
    let mut correct = 0;
    let y: Vec<i64> = (0..m)
        .map(|n| {
            let out = forward(&spec, &w, &x[n * 6..(n + 1) * 6]).unwrap();
            let z = &out.last().unwrap().a;
            let pred = i64::from(z[1] > z[0]);
            if n % 3 == 0 {
                1 - pred
            } else {
                correct += 1;
                pred
            }
        })
        .collect();
    (x, y, correct)
}

/// [`rows`], committed (seed from `salt`).
fn dataset(m: usize, salt: i64) -> (Dataset, u64) {
    let (x, y, correct) = rows(m, salt);
    (
        commit(&x, m, 6, Some(&y), [2; 32], [salt as u8; 32]).unwrap(),
        correct,
    )
}

fn model() -> (
    crate::circuit::CircuitSpec,
    crate::circuit::Weights,
    CommittedWeights,
) {
    let (spec, w, _) = mlp_6_4_2();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    (spec, w, cw)
}

#[test]
fn an_honest_attestation_verifies_with_the_true_count() {
    let (spec, w, cw) = model();
    let (ds, correct) = dataset(13, 3);
    let (proof, _) = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    assert_eq!(proof.correct, correct);
    let bytes = proof.to_bytes();
    let back = Attestation::from_bytes(&bytes).unwrap();
    let st = crate::data::verify_attestation(
        &spec,
        &cw.commitment,
        &ds.commitment,
        &back,
        None,
        &cert(&ds),
    )
    .unwrap();
    assert_eq!((st.rows, st.classes, st.correct), (13, 2, correct));
}

#[test]
fn an_inflated_or_deflated_count_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    for delta in [1, -1] {
        let (proof, _) = attest_tampered(
            &spec,
            &w,
            SEED,
            AttestWeights::Committed(&cw),
            &leaf(&ds),
            None,
            Tamper::default(),
            delta,
        )
        .unwrap();
        let err = crate::data::verify_attestation(
            &spec,
            &cw.commitment,
            &ds.commitment,
            &proof,
            None,
            &cert(&ds),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("does not prove the stated accuracy"), "{err}");
    }
}

#[test]
fn a_prediction_that_is_not_the_argmax_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    // Row 1 is labelled with its argmax: predicting the other class turns it wrong, row 0
    // (labelled against its argmax) turns right; both change the count the prover claims.
    for (row, delta) in [(0usize, 1i64), (1, -1), (0, 0)] {
        let t = Tamper {
            wrong_pred: Some(row),
            ..Tamper::default()
        };
        let (proof, _) = attest_tampered(
            &spec,
            &w,
            SEED,
            AttestWeights::Committed(&cw),
            &leaf(&ds),
            None,
            t,
            delta,
        )
        .unwrap();
        assert!(
            crate::data::verify_attestation(
                &spec,
                &cw.commitment,
                &ds.commitment,
                &proof,
                None,
                &cert(&ds)
            )
            .is_err(),
            "row {row} delta {delta} accepted"
        );
    }
}

#[test]
fn rows_in_the_padding_are_not_counted() {
    let (spec, w, cw) = model();
    let (mut ds, _) = dataset(13, 3);
    // A dishonest owner fills the 3 padding rows (13..16) with the features of row 1 and its
    // label (correctly classified), then commits.
    for c in 0..7 {
        let v = ds.cols[c][1];
        for n in 13..16 {
            ds.cols[c][n] = v;
        }
    }
    let ds = ds.recommit().unwrap();
    let honest = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap()
        .0;
    crate::data::verify_attestation(
        &spec,
        &cw.commitment,
        &ds.commitment,
        &honest,
        None,
        &cert(&ds),
    )
    .unwrap();
    let t = Tamper {
        count_padding: true,
        ..Tamper::default()
    };
    let (proof, _) = attest_tampered(
        &spec,
        &w,
        SEED,
        AttestWeights::Committed(&cw),
        &leaf(&ds),
        None,
        t,
        0,
    )
    .unwrap();
    assert_eq!(proof.correct, honest.correct + 3);
    assert!(
        crate::data::verify_attestation(
            &spec,
            &cw.commitment,
            &ds.commitment,
            &proof,
            None,
            &cert(&ds)
        )
        .is_err()
    );
}

#[test]
fn another_dataset_or_model_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    let (other, _) = dataset(13, 4);
    let (proof, _) = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    let err = crate::data::verify_attestation(
        &spec,
        &cw.commitment,
        &other.commitment,
        &proof,
        None,
        &cert(&other),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("for dataset"), "{err}");
    // The digest swapped in the proof too: the transcript and the dataset opening reject it.
    let mut swapped = proof.clone();
    swapped.dataset = other.commitment.digest();
    assert!(
        crate::data::verify_attestation(
            &spec,
            &cw.commitment,
            &other.commitment,
            &swapped,
            None,
            &cert(&other)
        )
        .is_err()
    );
    let other_model = CommittedWeights::new(&spec, &w, [9; 32]).unwrap();
    let err = crate::data::verify_attestation(
        &spec,
        &other_model.commitment,
        &ds.commitment,
        &proof,
        None,
        &cert(&ds),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("for model"), "{err}");
    let mut renamed = proof.clone();
    renamed.model = other_model.commitment.digest();
    assert!(
        crate::data::verify_attestation(
            &spec,
            &other_model.commitment,
            &ds.commitment,
            &renamed,
            None,
            &cert(&ds)
        )
        .is_err()
    );
}

#[test]
fn a_dataset_the_model_cannot_read_is_refused() {
    let (spec, w, cw) = model();
    let ds = commit(&[1, 2, 3, 4, 5, 6], 2, 3, Some(&[0, 1]), [0; 32], [0; 32]).unwrap();
    let err = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap_err()
        .to_string();
    assert!(err.contains("3 features but the model takes 6"), "{err}");
    let (mut bad, _) = dataset(13, 3);
    bad.cols[6][2] = crate::field::from_i64(5);
    let err = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&bad))
        .unwrap_err()
        .to_string();
    assert!(err.contains("row 3: label 5"), "{err}");
}

/// Timing on the 6-4-2 test MLP (not a timed test: `cargo test --release -- --ignored
/// attestation_timing --nocapture`).
#[test]
#[ignore]
fn attestation_timing() {
    let (spec, w, cw) = model();
    for m in [100, 569] {
        let (ds, correct) = dataset(m, 5);
        let t = std::time::Instant::now();
        let (proof, _) =
            attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
        let prove = t.elapsed();
        let bytes = proof.to_bytes();
        let t = std::time::Instant::now();
        let st = crate::data::verify_attestation(
            &spec,
            &cw.commitment,
            &ds.commitment,
            &proof,
            None,
            &cert(&ds),
        )
        .unwrap();
        let verify = t.elapsed();
        assert_eq!(st.correct, correct);
        eprintln!(
            "m = {m}: prove {:.2} s, verify {:.1} ms, proof {} bytes",
            prove.as_secs_f64(),
            verify.as_secs_f64() * 1e3,
            bytes.len()
        );
    }
}

/// Zero knowledge, structurally: the logits are a masked column of the witness table in an
/// attestation (and public in an inference proof), and the values one attestation reveals on
/// the dataset table (the label once, every feature once per input claim) fit each column's
/// per-proof mask dimensions, while a second attestation's worth in one proof would not fit a
/// small table (the check refuses it rather than leak).
#[test]
fn the_logits_are_masked_and_the_dataset_reveals_within_its_masks() {
    use crate::zk::verifier::WitnessTable;
    let (spec, ..) = mlp_6_4_2();
    let (ds, _) = dataset(13, 3);
    let plan = crate::data::attest_plan::ArgmaxPlan::new(&spec, &ds.commitment, false).unwrap();
    let wp = crate::witness::WitnessPlan::new(&spec, 1 << plan.k);
    let logits = wp.blocks.last().unwrap().a;
    assert!(WitnessTable::with_output(&spec, &wp, false).layout.masked[logits]);
    assert!(!WitnessTable::new(&spec, &wp).layout.masked[logits]);
    let point = |s: u64| -> Vec<EF> {
        (0..plan.log_in + plan.k)
            .map(|i| EF::from_u64(s * 1000 + i as u64 + 7))
            .collect()
    };
    let one = |s: u64| (0, point(s), EF::ZERO);
    let label = point(99)[..plan.k].to_vec();
    let claims = crate::data::attest_plan::budget_claims(&plan, &[one(1), one(2)], &label);
    assert_eq!(claims.len(), 1 + 2 * 6);
    crate::zk::budget::check_claims(&ds.layout, &claims, "dataset").unwrap();
    let many: Vec<_> = (1..=9).map(one).collect();
    let claims = crate::data::attest_plan::budget_claims(&plan, &many, &label);
    assert!(crate::zk::budget::check_claims(&ds.layout, &claims, "dataset").is_err());
}

#[test]
fn a_threshold_attestation_hides_the_count_and_rejects_an_unmet_threshold() {
    let (spec, w, cw) = model();
    let (ds, correct) = dataset(13, 3);
    let verify = |p: &Attestation| {
        crate::data::verify_attestation(&spec, &cw.commitment, &ds.commitment, p, None, &cert(&ds))
    };
    for t in [0, correct / 2, correct] {
        let (p, _) = attest_at_least(
            &spec,
            &w,
            SEED,
            AttestWeights::Committed(&cw),
            &leaf(&ds),
            t,
        )
        .unwrap();
        let st = verify(&p).unwrap();
        assert_eq!((st.correct, st.at_least), (t, true));
    }
    let err = attest_at_least(
        &spec,
        &w,
        SEED,
        AttestWeights::Committed(&cw),
        &leaf(&ds),
        correct + 1,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("fewer than"), "{err}");
    // A dishonest prover states a threshold the model does not reach: c − T < 0 has no limbs
    // in range.
    let t = Tamper {
        ignore_threshold: true,
        ..Tamper::default()
    };
    let (p, _) = attest_tampered(
        &spec,
        &w,
        SEED,
        AttestWeights::Committed(&cw),
        &leaf(&ds),
        Some(correct + 1),
        t,
        0,
    )
    .unwrap();
    assert!(verify(&p).is_err());
    // An exact attestation relabelled as a threshold one (or back) is another statement.
    let (mut p, _) = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    p.at_least = true;
    assert!(verify(&p).is_err());
}

#[test]
fn an_attestation_opens_a_dataset_epoch_leaf_whose_certificate_must_link_it() {
    let (spec, w, cw) = model();
    let (ds, correct) = dataset(13, 3);
    let (other, _) = dataset(13, 4);
    let (proof, _) = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    // Never the published commitment: the root's openings are its children's links.
    assert_eq!(proof.dataset_epoch.path, vec![0]);
    assert_ne!(proof.dataset_epoch.commitment, ds.commitment.pcs);
    let verify = |c: &crate::epoch::EpochCertificate, p: &Attestation| {
        crate::data::verify_attestation(&spec, &cw.commitment, &ds.commitment, p, None, c)
    };
    assert_eq!(verify(&cert(&ds), &proof).unwrap().correct, correct);
    // Another dataset's certificate does not link this leaf to the pinned digest.
    assert!(verify(&cert(&other), &proof).is_err());
    // Nor does this dataset's certificate link another leaf swapped into the proof.
    let mut moved = proof.clone();
    moved.dataset_epoch = other.leaf(&[0]).unwrap().epoch;
    assert!(verify(&cert(&ds), &moved).is_err());
}

/// The dataset's rows with one sample dropped, one duplicated, or one swapped for a row of
/// another dataset: each committed with the same seed, as a dishonest owner would.
fn altered_datasets() -> Vec<(&'static str, Dataset)> {
    let (x, y, _) = rows(13, 3);
    let (ox, oy, _) = rows(13, 4);
    let row = |x: &[i64], n: usize| x[n * 6..(n + 1) * 6].to_vec();
    let build = |picks: Vec<(Vec<i64>, i64)>| {
        let m = picks.len();
        let xs: Vec<i64> = picks.iter().flat_map(|(r, _)| r.clone()).collect();
        let ys: Vec<i64> = picks.iter().map(|&(_, l)| l).collect();
        commit(&xs, m, 6, Some(&ys), [2; 32], [3; 32]).unwrap()
    };
    let own = |n: usize| (row(&x, n), y[n]);
    let dropped = (0..13).filter(|&n| n != 5).map(own).collect();
    let duplicated = (0..13).map(own).chain([own(4)]).collect();
    let swapped = (0..13)
        .map(|n| if n == 5 { (row(&ox, 7), oy[7]) } else { own(n) })
        .collect();
    vec![
        ("dropped", build(dropped)),
        ("duplicated", build(duplicated)),
        ("swapped", build(swapped)),
    ]
}

#[test]
fn a_sample_dropped_duplicated_or_swapped_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    let verify = |p: &Attestation| {
        crate::data::verify_attestation(&spec, &cw.commitment, &ds.commitment, p, None, &cert(&ds))
            .unwrap_err()
            .to_string()
    };
    for (what, altered) in altered_datasets() {
        assert_ne!(
            altered.commitment.digest(),
            ds.commitment.digest(),
            "{what}"
        );
        let (proof, _) = attest(
            &spec,
            &w,
            SEED,
            AttestWeights::Committed(&cw),
            &leaf(&altered),
        )
        .unwrap();
        // Presented as it is, with this dataset's public part: named before any cryptography.
        let err = verify(&proof);
        assert!(err.contains("for dataset"), "{what}: {err}");
        // Relabelled as this dataset's (digest, row count and its epoch leaf, all public): the
        // transcript and the dataset opening reject it.
        let mut relabelled = proof.clone();
        relabelled.dataset = ds.commitment.digest();
        relabelled.rows = ds.commitment.rows;
        relabelled.dataset_epoch = leaf(&ds).epoch;
        let err = verify(&relabelled);
        assert!(
            err.contains("does not prove the stated accuracy"),
            "{what}: {err}"
        );
    }
}

#[test]
fn another_model_relabelled_as_this_one_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    // The same circuit with other weights (another commitment), attesting on this dataset.
    let (_, w2, _) = mlp_6_4_2();
    let w2 = {
        let mut w2 = w2;
        for v in w2.layers[0].weight.iter_mut().step_by(3) {
            *v = -*v;
        }
        w2
    };
    assert_ne!(w2.layers[0].weight, w.layers[0].weight);
    let other = CommittedWeights::new(&spec, &w2, [9; 32]).unwrap();
    let (proof, _) = attest(
        &spec,
        &w2,
        [9; 32],
        AttestWeights::Committed(&other),
        &leaf(&ds),
    )
    .unwrap();
    let verify = |p: &Attestation| {
        crate::data::verify_attestation(&spec, &cw.commitment, &ds.commitment, p, None, &cert(&ds))
            .unwrap_err()
            .to_string()
    };
    let err = verify(&proof);
    assert!(err.contains("for model"), "{err}");
    let mut relabelled = proof.clone();
    relabelled.model = cw.commitment.digest();
    let err = verify(&relabelled);
    assert!(err.contains("does not prove the stated accuracy"), "{err}");
}

#[test]
fn an_attestation_of_another_format_version_or_security_header_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    let (proof, _) = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    let bytes = proof.to_bytes();
    for version in [VERSION - 1, VERSION + 1] {
        let mut old = bytes.clone();
        old[4..6].copy_from_slice(&version.to_le_bytes());
        let err = Attestation::from_bytes(&old).unwrap_err();
        assert!(
            matches!(err, ProofError::BadVersion { expected, got } if expected == VERSION && got == version),
            "{err}"
        );
    }
    let verify = |p: &Attestation| {
        crate::data::verify_attestation(&spec, &cw.commitment, &ds.commitment, p, None, &cert(&ds))
            .unwrap_err()
            .to_string()
    };
    let mut weaker = proof.clone();
    weaker.security.0 -= 1;
    let err = verify(&weaker);
    assert!(err.contains("bit soundness"), "{err}");
    let mut grinding = proof.clone();
    grinding.security.2 += 1;
    let err = verify(&grinding);
    assert!(err.contains("security parameters"), "{err}");
}

/// The confusion matrix the rows of [`rows`] give: label × prediction, row-major.
fn confusion_of(m: usize, salt: i64) -> Vec<u64> {
    let (spec, w, _) = mlp_6_4_2();
    let (x, y, _) = rows(m, salt);
    let mut cells = vec![0u64; 4];
    for n in 0..m {
        let out = forward(&spec, &w, &x[n * 6..(n + 1) * 6]).unwrap();
        let z = &out.last().unwrap().a;
        let pred = usize::from(z[1] > z[0]);
        cells[y[n] as usize * 2 + pred] += 1;
    }
    cells
}

#[test]
fn a_confusion_matrix_verifies_and_a_moved_row_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, correct) = dataset(13, 3);
    let expected = confusion_of(13, 3);
    let (proof, _) =
        attest_confusion(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    assert_eq!(proof.confusion, expected);
    let back = Attestation::from_bytes(&proof.to_bytes()).unwrap();
    let verify = |p: &Attestation| {
        crate::data::verify_attestation(&spec, &cw.commitment, &ds.commitment, p, None, &cert(&ds))
    };
    let st = verify(&back).unwrap();
    assert_eq!(
        (st.correct, st.confusion.clone()),
        (correct, expected.clone())
    );
    // A proof made for a matrix with a right row of label 0 moved to label 1 (same total, same
    // diagonal): the sumcheck's claim does not hold.
    let moved = Tamper {
        shift_confusion: true,
        ..Tamper::default()
    };
    let source = AttestWeights::Committed(&cw);
    let (lie, _) = attest_inner(&spec, &w, SEED, source, &leaf(&ds), None, true, moved, 0).unwrap();
    assert_ne!(lie.confusion, expected);
    let err = verify(&lie).unwrap_err().to_string();
    assert!(err.contains("does not prove the stated accuracy"), "{err}");
    // The honest proof with its matrix edited: another statement, rejected; with cells that do
    // not add up to the rows or the count: malformed.
    let mut edited = back.clone();
    edited.confusion.swap(1, 2);
    assert!(verify(&edited).is_err());
    let mut edited = back.clone();
    edited.confusion[1] += 1;
    assert!(
        verify(&edited)
            .unwrap_err()
            .to_string()
            .contains("confusion matrix")
    );
    let mut edited = back;
    edited.confusion.pop();
    assert!(
        verify(&edited)
            .unwrap_err()
            .to_string()
            .contains("confusion matrix")
    );
}

#[test]
fn a_threshold_attestation_states_no_confusion_matrix() {
    let (spec, _, _) = model();
    let (ds, _) = dataset(13, 3);
    let plan = crate::data::attest_plan::ArgmaxPlan::new(&spec, &ds.commitment, true).unwrap();
    let err = plan.with_confusion(true).err().unwrap().to_string();
    assert!(err.contains("cannot state the confusion matrix"), "{err}");
}
