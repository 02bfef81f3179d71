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

// ---- Hostile review of the confusion matrix: every attack kept as a test. ----

/// Verifies `p` against the 6-4-2 model's commitment `cw` and the dataset `ds`.
fn verify_on(
    spec: &crate::circuit::CircuitSpec,
    cw: &CommittedWeights,
    ds: &Dataset,
    p: &Attestation,
) -> Result<AttestStatement> {
    crate::data::verify_attestation(spec, &cw.commitment, &ds.commitment, p, None, &cert(ds))
}

/// A dishonest prover that states the true matrix with `edits` (cell, delta) applied.
fn confusion_lie(
    spec: &crate::circuit::CircuitSpec,
    w: &crate::circuit::Weights,
    cw: &CommittedWeights,
    ds: &Dataset,
    edits: &'static [(usize, i64)],
) -> Attestation {
    let t = Tamper {
        edit_confusion: Some(edits),
        ..Tamper::default()
    };
    let source = AttestWeights::Committed(cw);
    attest_inner(spec, w, SEED, source, &leaf(ds), None, true, t, 0)
        .unwrap()
        .0
}

/// Attack 1: the relabels of the bytes. An exact attestation made without a matrix, given one
/// (even the true one, consistent with its count and rows), is another statement drawn with
/// other challenges; a confusion attestation with its matrix dropped (count kept) likewise; and
/// a confusion attestation relabelled as a threshold one names the contradiction.
#[test]
fn a_matrix_added_to_or_dropped_from_an_attestation_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, correct) = dataset(13, 3);
    let truth = confusion_of(13, 3);
    let plain = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap()
        .0;
    assert!(plain.confusion.is_empty());
    assert_eq!(verify_on(&spec, &cw, &ds, &plain).unwrap().correct, correct);
    let lying = |what: &str, p: &Attestation| {
        let back = Attestation::from_bytes(&p.to_bytes()).unwrap();
        let err = verify_on(&spec, &cw, &ds, &back).unwrap_err().to_string();
        assert!(
            err.contains("does not prove the stated accuracy"),
            "{what}: {err}"
        );
    };
    // The true matrix, and another one with the same rows and diagonal.
    let mut added = plain.clone();
    added.confusion = truth.clone();
    assert_eq!(added.confusion[0] + added.confusion[3], correct);
    lying("true matrix added", &added);
    let mut other = truth.clone();
    other.swap(1, 2);
    added.confusion = other;
    lying("other matrix added", &added);

    let conf = attest_confusion(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap()
        .0;
    assert_eq!(conf.confusion, truth);
    let mut dropped = conf.clone();
    dropped.confusion.clear();
    lying("matrix dropped", &dropped);
    // Both proofs' argmax messages swapped under the other's statement.
    let mut spliced = conf.clone();
    spliced.argmax = plain.argmax.clone();
    lying("plain argmax under the matrix", &spliced);
    let mut spliced = plain.clone();
    spliced.argmax = conf.argmax.clone();
    spliced.body = conf.body.clone();
    lying("matrix proof under the plain statement", &spliced);
    // A confusion attestation called a threshold one: refused, never accepted.
    let mut threshold = conf.clone();
    threshold.at_least = true;
    let err = verify_on(&spec, &cw, &ds, &threshold)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot state the confusion matrix"), "{err}");
}

/// Attack 2 (K = 2): off-diagonal counts moved, the total and the diagonal (so `correct`) kept,
/// the per-label totals changed: by a dishonest prover (the transcript binds the lie) and by
/// editing an honest proof's bytes.
#[test]
fn an_off_diagonal_count_moved_is_rejected() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    let truth = confusion_of(13, 3);
    assert!(truth[1] > 0 && truth[2] > 0, "{truth:?}");
    for edits in [&[(1usize, -1i64), (2, 1)][..], &[(1, 1), (2, -1)]] {
        let lie = confusion_lie(&spec, &w, &cw, &ds, edits);
        assert_ne!(lie.confusion, truth);
        assert_eq!(lie.confusion.iter().sum::<u64>(), 13);
        assert_eq!(lie.confusion[0] + lie.confusion[3], lie.correct);
        let err = verify_on(&spec, &cw, &ds, &lie).unwrap_err().to_string();
        assert!(
            err.contains("does not prove the stated accuracy"),
            "{edits:?}: {err}"
        );
    }
    // A diagonal count moved between labels (a right row of label 1 claimed for label 0).
    let lie = confusion_lie(&spec, &w, &cw, &ds, &[(3, -1), (0, 1)]);
    let err = verify_on(&spec, &cw, &ds, &lie).unwrap_err().to_string();
    assert!(err.contains("does not prove the stated accuracy"), "{err}");
}

/// The 6-8-3 MLP (K = 3) of the shape of [`mlp_6_4_2`].
fn mlp_6_8_3() -> (crate::circuit::CircuitSpec, crate::circuit::Weights) {
    let (spec, mut w) = crate::zk::test_model::mlp_6(8, 3);
    // Class 2's logit raised by about 2 (3·2731 >> 12): every class is someone's argmax.
    w.layers[1].bias[2] += 2731;
    (spec, w)
}

/// Attack 2 (K = 3): a cycle of off-diagonal counts, (0,1)(1,2)(2,0) up and (0,2)(1,0)(2,1)
/// down, keeps the total, the diagonal, every label's total and every prediction's total; only
/// the per-cell challenges tell it from the truth.
#[test]
fn a_cycle_of_off_diagonal_counts_keeping_every_margin_is_rejected() {
    let (spec, w) = mlp_6_8_3();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let m = 30;
    let x: Vec<i64> = (0..m * 6)
        .map(|i| ((i as i64 * 7919 + 5 * 31) % 2001) - 1000)
        .collect();
    let preds: Vec<usize> = (0..m)
        .map(|n| {
            let out = forward(&spec, &w, &x[n * 6..(n + 1) * 6]).unwrap();
            let z = &out.last().unwrap().a;
            (1..3).fold(0, |b, j| if z[j] > z[b] { j } else { b })
        })
        .collect();
    // Each prediction's rows labelled in turn pred + 1, pred + 2, pred (mod 3): the first row of
    // each prediction fills a cell of the cycle below.
    let mut seen = [0usize; 3];
    let y: Vec<i64> = preds
        .iter()
        .map(|&p| {
            seen[p] += 1;
            ((p + seen[p]) % 3) as i64
        })
        .collect();
    let mut truth = vec![0u64; 9];
    for n in 0..m {
        truth[y[n] as usize * 3 + preds[n]] += 1;
    }
    for c in [2, 3, 7] {
        assert!(
            truth[c] > 0,
            "the model must predict every class: {truth:?} {preds:?}"
        );
    }
    let ds = commit(&x, m, 6, Some(&y), [2; 32], [6; 32]).unwrap();
    let (honest, _) =
        attest_confusion(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    assert_eq!(honest.confusion, truth);
    let st = verify_on(&spec, &cw, &ds, &honest).unwrap();
    assert_eq!((st.classes, st.confusion), (3, truth.clone()));
    const CYCLE: &[(usize, i64)] = &[(1, 1), (5, 1), (6, 1), (2, -1), (3, -1), (7, -1)];
    let margins = |c: &[u64]| {
        let rows: Vec<u64> = (0..3).map(|t| c[3 * t..3 * t + 3].iter().sum()).collect();
        let cols: Vec<u64> = (0..3).map(|j| (0..3).map(|t| c[3 * t + j]).sum()).collect();
        (rows, cols, c[0] + c[4] + c[8])
    };
    let lie = confusion_lie(&spec, &w, &cw, &ds, CYCLE);
    assert_ne!(lie.confusion, truth);
    assert_eq!(margins(&lie.confusion), margins(&truth));
    let err = verify_on(&spec, &cw, &ds, &lie).unwrap_err().to_string();
    assert!(err.contains("does not prove the stated accuracy"), "{err}");
    // The same cycle edited into the honest proof's bytes.
    let mut edited = honest.clone();
    for &(c, d) in CYCLE {
        edited.confusion[c] = edited.confusion[c].checked_add_signed(d).unwrap();
    }
    let edited = Attestation::from_bytes(&edited.to_bytes()).unwrap();
    let err = verify_on(&spec, &cw, &ds, &edited).unwrap_err().to_string();
    assert!(err.contains("does not prove the stated accuracy"), "{err}");
}

/// Attack 3: cells near u64::MAX whose sum wraps to the rows, the diagonal kept (an off-diagonal
/// cell of u64::MAX): the checked total rejects it as malformed, before any cryptography, and
/// nothing panics.
#[test]
fn a_confusion_matrix_whose_total_wraps_is_malformed() {
    let (spec, w, cw) = model();
    let (ds, correct) = dataset(13, 3);
    let conf = attest_confusion(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap()
        .0;
    let c = conf.confusion.clone();
    // c00 + MAX + x + c11 ≡ 13 (mod 2^64), the diagonal still `correct`.
    let x = (13 - c[0] - c[3]) + 1;
    for wrapping in [
        vec![c[0], u64::MAX, x, c[3]],
        vec![c[0], x, u64::MAX, c[3]],
        vec![c[0], u64::MAX / 2 + 1, u64::MAX / 2 + 1 + (x - 1), c[3]],
    ] {
        assert_eq!(
            wrapping.iter().fold(0u64, |a, &v| a.wrapping_add(v)),
            13,
            "{wrapping:?}"
        );
        assert_eq!(wrapping[0] + wrapping[3], correct);
        let mut p = conf.clone();
        p.confusion = wrapping.clone();
        let p = Attestation::from_bytes(&p.to_bytes()).unwrap();
        let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            verify_on(&spec, &cw, &ds, &p)
        }));
        let err = got.expect("the verifier panicked").unwrap_err();
        assert!(
            matches!(&err, ProofError::Malformed(s) if s.contains("confusion matrix")),
            "{wrapping:?}: {err}"
        );
    }
}

/// Attack 3, the diagonal: cells [MAX, 0, 13 − c, c + 1] wrap both the diagonal (to c) and the
/// total (to 13): malformed, never a panic (the verifier sums both with checked additions; an
/// unchecked diagonal sum once panicked wherever overflow checks are on).
#[test]
fn a_confusion_matrix_whose_diagonal_wraps_is_malformed_and_never_panics() {
    let (spec, w, cw) = model();
    let (ds, correct) = dataset(13, 3);
    let conf = attest_confusion(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap()
        .0;
    let mut p = conf.clone();
    p.confusion = vec![u64::MAX, 0, 13 - correct, correct + 1];
    assert_eq!(p.confusion[0].wrapping_add(p.confusion[3]), correct);
    assert_eq!(p.confusion.iter().fold(0u64, |a, &v| a.wrapping_add(v)), 13);
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        verify_on(&spec, &cw, &ds, &p)
    }));
    let err = got
        .expect("the verifier panicked on a wrapping diagonal")
        .unwrap_err();
    assert!(
        matches!(&err, ProofError::Malformed(s) if s.contains("confusion matrix")),
        "{err}"
    );
}

/// Attack 4: hostile bytes. The confusion vector's length prefix rewritten to 2^40, 2^61 and
/// u64::MAX entries (the bytes hold 4): decoding fails as malformed, at once, without
/// reserving the declared length. A long vector that is really there (10^6 zero cells) decodes
/// or not under the memory budget, and if it decodes the verifier calls it malformed.
#[test]
fn a_confusion_vector_of_hostile_length_fails_to_decode_cleanly() {
    let (spec, w, cw) = model();
    let (ds, _) = dataset(13, 3);
    let conf = attest_confusion(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap()
        .0;
    let bytes = conf.to_bytes();
    // The fields before `confusion`, encoded alike: where its varint length sits.
    let head = bincode::serde::encode_to_vec(
        (
            conf.model,
            conf.dataset,
            conf.rows,
            conf.classes,
            conf.correct,
            conf.at_least,
        ),
        bincode::config::standard(),
    )
    .unwrap();
    let at = 6 + head.len();
    assert_eq!(bytes[at], 4, "the length prefix of the 4 cells");
    assert_eq!(
        bytes[at + 1..at + 5]
            .iter()
            .map(|&b| u64::from(b))
            .collect::<Vec<_>>(),
        conf.confusion
    );
    for declared in [1u64 << 40, 1 << 61, u64::MAX] {
        let mut hostile = bytes[..at].to_vec();
        hostile.push(253); // bincode varint: a u64 follows
        hostile.extend_from_slice(&declared.to_le_bytes());
        hostile.extend_from_slice(&bytes[at + 1..]);
        let t = std::time::Instant::now();
        let got = std::panic::catch_unwind(|| Attestation::from_bytes(&hostile));
        let err = got.expect("decoding panicked").unwrap_err();
        assert!(matches!(err, ProofError::Malformed(_)), "{declared}: {err}");
        assert!(t.elapsed().as_secs() < 5, "{declared}: {:?}", t.elapsed());
    }
    // Declared through the u32 form too (2^32 − 1 entries).
    let mut hostile = bytes[..at].to_vec();
    hostile.push(252);
    hostile.extend_from_slice(&u32::MAX.to_le_bytes());
    hostile.extend_from_slice(&bytes[at + 1..]);
    assert!(matches!(
        Attestation::from_bytes(&hostile),
        Err(ProofError::Malformed(_))
    ));
    // Really long: decoded within the budget or refused, never a panic; when decoded, malformed.
    let mut long = conf.clone();
    long.confusion = vec![0; 1_000_000];
    let b = long.to_bytes();
    match std::panic::catch_unwind(|| Attestation::from_bytes(&b)).expect("decoding panicked") {
        Ok(p) => {
            let err = verify_on(&spec, &cw, &ds, &p).unwrap_err();
            assert!(
                matches!(&err, ProofError::Malformed(s) if s.contains("1000000 counts")),
                "{err}"
            );
        }
        Err(e) => assert!(matches!(e, ProofError::Malformed(_)), "{e}"),
    }
}

/// Attack 5: a class absent from the labels (every row labelled 1, K = 2): the honest matrix's
/// row 0 is zeros and verifies; a count stated for the absent label (off-diagonal or on the
/// diagonal, the total and the diagonal kept) is rejected.
#[test]
fn an_absent_class_states_a_zero_row_and_a_count_for_it_is_rejected() {
    let (spec, w, cw) = model();
    let m = 13;
    let (x, _, _) = rows(m, 3);
    let y = vec![1i64; m];
    let ds = commit(&x, m, 6, Some(&y), [2; 32], [7; 32]).unwrap();
    let mut truth = vec![0u64; 4];
    for n in 0..m {
        let out = forward(&spec, &w, &x[n * 6..(n + 1) * 6]).unwrap();
        let z = &out.last().unwrap().a;
        truth[2 + usize::from(z[1] > z[0])] += 1;
    }
    assert!(truth[2] > 0 && truth[3] > 0, "{truth:?}");
    let (honest, _) =
        attest_confusion(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds)).unwrap();
    assert_eq!(honest.confusion, truth);
    assert_eq!(&honest.confusion[..2], &[0, 0]);
    let st = verify_on(&spec, &cw, &ds, &honest).unwrap();
    assert_eq!((st.correct, st.confusion), (truth[3], truth.clone()));
    // The plain attestation of the same dataset verifies with the same count.
    let plain = attest(&spec, &w, SEED, AttestWeights::Committed(&cw), &leaf(&ds))
        .unwrap()
        .0;
    assert_eq!(
        verify_on(&spec, &cw, &ds, &plain).unwrap().correct,
        truth[3]
    );
    for edits in [&[(2usize, -1i64), (1, 1)][..], &[(3, -1), (0, 1)]] {
        let lie = confusion_lie(&spec, &w, &cw, &ds, edits);
        assert_ne!(&lie.confusion[..2], &[0, 0]);
        let err = verify_on(&spec, &cw, &ds, &lie).unwrap_err().to_string();
        assert!(
            err.contains("does not prove the stated accuracy"),
            "{edits:?}: {err}"
        );
    }
}
