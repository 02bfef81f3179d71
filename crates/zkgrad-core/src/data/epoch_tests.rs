//! A dataset's epochs: proof numbers map to leaves within each leaf's budget up to 10^4 proofs
//! and far beyond; proofs across epoch boundaries verify against the one published digest;
//! a tampered certificate, a leaf of another dataset and a proof past the tree are refused.

use p3_field::PrimeCharacteristicRing;

use super::*;
use crate::data::{Bound, PropertyProof, PropertySpec, commit, prove, verify};
use crate::epoch::{EpochCertificate, EpochRef, Epochs};
use crate::field::EF;

/// The breast-cancer table's shape: 569 rows, 30 features, labels.
fn breast_cancer_shaped() -> Dataset {
    let x: Vec<i64> = (0..569 * 30).map(|i| (i * 13 % 97) as i64).collect();
    let y: Vec<i64> = (0..569).map(|i| (i % 3 == 0) as i64).collect();
    commit(&x, 569, 30, Some(&y), [1; 32], [2; 32]).unwrap()
}

/// 20 rows, 3 features in [0, 45]; `salt` changes the values.
fn small(salt: i64) -> Dataset {
    let x: Vec<i64> = (0..60).map(|i| (i * 7 + salt) % 46).collect();
    commit(&x, 20, 3, None, [5; 32], [6; 32]).unwrap()
}

fn spec() -> PropertySpec {
    PropertySpec {
        ranges: vec![Bound {
            feature: 0,
            lo: 0,
            hi: 45,
        }],
        ..Default::default()
    }
}

#[test]
fn proof_numbers_fill_leaves_within_their_budget_up_to_ten_thousand_and_beyond() {
    let ds = breast_cancer_shaped();
    let c = &ds.commitment;
    assert_eq!(c.budget().unwrap(), 128);
    let (per, f) = (proofs_per_epoch(c).unwrap(), fanout(c).unwrap());
    assert_eq!((per, f), (127, 21));
    let mut served: std::collections::HashMap<Vec<u8>, usize> = Default::default();
    // (The loop uses leaf_path with the fanout and budget read once: `leaf_for_proof` derives
    // them from the commitment's PCS configuration on every call.)
    for n in 0..20_000u64 {
        let path = epoch::leaf_path(f, n / per as u64).unwrap();
        if n % 4999 == 0 {
            assert_eq!(leaf_for_proof(c, n).unwrap(), path);
        }
        epoch::check_leaf(f, &path).unwrap();
        *served.entry(path).or_default() += 1;
    }
    // Every leaf serves at most its budget; none is the root or above another leaf.
    assert!(served.values().all(|&k| k <= per), "a leaf over budget");
    assert_eq!(served.len(), 20_000usize.div_ceil(per));
    for p in served.keys() {
        assert!(!p.is_empty());
        for q in served.keys() {
            assert!(p == q || !q.starts_with(p), "{p:?} is above {q:?}");
        }
    }
    // Depths: the documented chain lengths (docs/DATA.md, docs/SECURITY.md).
    let links = |n: u64| leaf_for_proof(c, n).unwrap().len();
    assert_eq!(links(0), 1);
    assert_eq!(links(126), 1);
    assert_eq!(links(127), 2);
    assert_eq!(links(10_000), 3);
    assert_eq!(links(1_000_000), 4);
    assert!(capacity(c).unwrap() >= 10u64.pow(18));
    // Every u64 proof number has a leaf (the tree holds F·Σ_{i<F} F^i epochs, past 2^64 at
    // F = 21); the prover cannot open the root or an inner node.
    let last = leaf_for_proof(c, u64::MAX).unwrap();
    epoch::check_leaf(f, &last).unwrap();
    assert!(last.len() <= 15, "{last:?}");
    for bad in [vec![], vec![1], vec![0, 0], vec![21]] {
        let e = ds.leaf(&bad).err().expect("not a leaf").to_string();
        assert!(e.contains("not a leaf"), "{bad:?}: {e}");
    }
}

/// Proves `spec()` as proof `n` of `ds`, with the certificate of its epoch.
fn proof_number(ds: &Dataset, epochs: &Epochs, n: u64) -> (PropertyProof, EpochCertificate) {
    let path = leaf_for_proof(&ds.commitment, n).unwrap();
    let proof = prove(&ds.leaf(&path).unwrap(), &spec()).unwrap();
    (proof, ds.certificate(epochs, &path).unwrap())
}

#[test]
fn proofs_across_epoch_boundaries_verify_against_the_one_published_digest() {
    let ds = small(0);
    let c = &ds.commitment;
    let per = proofs_per_epoch(c).unwrap() as u64;
    let epochs = Epochs::default();
    // The last proof of epoch 0, the first of epoch 1 (a leaf two links down) and of epoch 2
    // (its sibling: the inner node [1] is made once).
    let made: Vec<_> = [per - 1, per, 2 * per]
        .iter()
        .map(|&n| proof_number(&ds, &epochs, n))
        .collect();
    let paths: Vec<Vec<u8>> = made.iter().map(|(p, _)| p.epoch.path.clone()).collect();
    assert_eq!(paths, vec![vec![0], vec![1, 0], vec![1, 1]]);
    assert_eq!(made[1].1.nodes[0].commitment, made[2].1.nodes[0].commitment);
    for (proof, cert) in &made {
        let back = PropertyProof::from_bytes(&proof.to_bytes()).unwrap();
        let cert = EpochCertificate::from_bytes(&cert.to_bytes()).unwrap();
        assert_eq!(verify(c, &back, &cert).unwrap(), spec());
    }
    // A certificate from an earlier process, remembered: the same chain, nothing made again.
    let later = Epochs::default();
    later.remember(&made[2].1);
    assert_eq!(
        ds.certificate(&later, &[1, 1]).unwrap().to_bytes(),
        made[2].1.to_bytes()
    );
    // Another epoch's certificate, or none of the right depth, is refused by name.
    let e = verify(c, &made[1].0, &made[2].1).unwrap_err().to_string();
    assert!(e.contains("epoch"), "{e}");
    let e = verify(c, &made[1].0, &made[0].1).unwrap_err().to_string();
    assert!(e.contains("epoch certificate has 1 nodes"), "{e}");
    // A proof whose leaf reference was swapped for another leaf's (with that leaf's valid
    // certificate): the transcript binds the leaf, the opening is of another table.
    let mut swapped = made[1].0.clone();
    swapped.epoch = made[2].0.epoch.clone();
    assert!(verify(c, &swapped, &made[2].1).is_err());
}

#[test]
fn a_tampered_certificate_is_rejected() {
    let ds = small(0);
    let c = &ds.commitment;
    let per = proofs_per_epoch(c).unwrap() as u64;
    let (proof, cert) = proof_number(&ds, &Epochs::default(), per);
    verify(c, &proof, &cert).unwrap();
    type Edit = Box<dyn Fn(&mut EpochCertificate)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("link value", Box::new(|c| c.nodes[0].link.value += EF::ONE)),
        (
            "batching value",
            Box::new(|c| c.nodes[1].link.batches[1].1 += EF::ONE),
        ),
        (
            "inner commitment",
            Box::new(|c| c.nodes[0].commitment.root[0] ^= 1),
        ),
        (
            "mask commitment",
            Box::new(|c| c.nodes[1].link.mask_commitment.root[3] ^= 1),
        ),
    ];
    for (what, edit) in edits {
        let mut bad = cert.clone();
        edit(&mut bad);
        let e = verify(c, &proof, &bad).unwrap_err().to_string();
        assert!(e.contains("epoch link"), "{what}: {e}");
    }
}

fn side<'a>(
    t: &'a DatasetNode<'_>,
    c: &'a crate::pcs::Commitment,
    d: &'a dyn Fn() -> Result<ProverData>,
) -> crate::zk::link::Side<'a> {
    crate::zk::link::Side {
        tables: t,
        commitment: c,
        data: d,
    }
}

#[test]
fn a_leaf_of_another_dataset_is_not_linked_to_this_one() {
    let (a, b) = (small(0), small(1));
    assert_ne!(a.commitment.digest(), b.commitment.digest());
    // B's own leaf and certificate, presented for A's digest: no link holds.
    let leaf_b = b.leaf(&[0]).unwrap();
    let cert_b = b.certificate(&Epochs::default(), &[0]).unwrap();
    verify_leaf(&b.commitment, &leaf_b.epoch, &cert_b).unwrap();
    let e = verify_leaf(&a.commitment, &leaf_b.epoch, &cert_b)
        .unwrap_err()
        .to_string();
    assert!(e.contains("epoch link"), "{e}");
    // A dishonest owner links B's node under A's root (the honest prover refuses; this one
    // claims A's value for it): the verifier rejects the link.
    let ll = linked(&a.commitment).unwrap();
    let (root_a, node_b) = (a.node(&[]), b.node(&[0]));
    let pd = || Ok(ll.pcs.commit(root_a.table(), root_a.commit_seed()).1);
    let cd = || Ok(ll.pcs.commit(node_b.table(), node_b.commit_seed()).1);
    let identity = a.commitment.digest();
    let refused = crate::zk::link::prove_linked(
        &ll,
        &identity,
        &[0],
        side(&root_a, &a.commitment.pcs, &pd),
        side(&node_b, &leaf_b.epoch.commitment, &cd),
        [7; 32],
    );
    assert!(refused.is_err(), "the honest prover links another dataset");
    crate::zk::link::dishonest::ON.set(true);
    let forged = crate::zk::link::prove_linked(
        &ll,
        &identity,
        &[0],
        side(&root_a, &a.commitment.pcs, &pd),
        side(&node_b, &leaf_b.epoch.commitment, &cd),
        [7; 32],
    );
    crate::zk::link::dishonest::ON.set(false);
    let cert = EpochCertificate {
        nodes: vec![epoch::EpochNode {
            path: vec![0],
            commitment: leaf_b.epoch.commitment.clone(),
            link: forged.unwrap(),
        }],
    };
    let leaf = EpochRef {
        path: vec![0],
        commitment: leaf_b.epoch.commitment.clone(),
    };
    let e = verify_leaf(&a.commitment, &leaf, &cert)
        .unwrap_err()
        .to_string();
    assert!(e.contains("epoch link"), "{e}");
}

/// `Dataset::open_epoch` (what property proofs and attestations call): the leaf of a proof
/// number and its certificate; a certificate made earlier is reused as it is, a foreign one
/// (another dataset's) is detected and the chain made afresh.
#[test]
fn open_epoch_reuses_the_owners_certificate_and_survives_a_foreign_one() {
    let (a, b) = (small(0), small(1));
    let per = proofs_per_epoch(&a.commitment).unwrap() as u64;
    let (leaf, cert) = a.open_epoch(per, None).unwrap();
    assert_eq!(leaf.epoch.path, vec![1, 0]);
    verify_leaf(&a.commitment, &leaf.epoch, &cert).unwrap();
    let (again, same) = a.open_epoch(per + 1, Some(&cert)).unwrap();
    assert_eq!(again.epoch, leaf.epoch);
    assert_eq!(same.to_bytes(), cert.to_bytes());
    let (_, foreign) = b.open_epoch(per, None).unwrap();
    let (leaf, fixed) = a.open_epoch(per, Some(&foreign)).unwrap();
    verify_leaf(&a.commitment, &leaf.epoch, &fixed).unwrap();
    let proof = prove(&leaf, &spec()).unwrap();
    assert_eq!(verify(&a.commitment, &proof, &fixed).unwrap(), spec());
}

/// The verifier checks each certificate node once per process: a stream of proofs of one epoch
/// pays for its links once; an edited copy of a checked link is checked again and rejected.
#[test]
fn checked_links_are_cached_but_an_edited_copy_is_not() {
    let ds = small(2);
    let c = &ds.commitment;
    let per = proofs_per_epoch(c).unwrap() as u64;
    let (leaf, cert) = ds.open_epoch(2 * per, None).unwrap();
    let time = |cert: &EpochCertificate| {
        let t = std::time::Instant::now();
        let ok = verify_leaf(c, &leaf.epoch, cert).is_ok();
        (ok, t.elapsed())
    };
    let (first, cold) = time(&cert);
    let (second, warm) = time(&cert);
    assert!(first && second);
    assert!(warm * 5 < cold, "cached check {warm:?}, first {cold:?}");
    let mut edited = cert.clone();
    edited.nodes[1].link.value += EF::ONE;
    assert!(!time(&edited).0);
}
