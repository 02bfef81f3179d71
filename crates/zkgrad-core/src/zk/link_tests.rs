//! Epochs and their links: proofs in epochs verify against the published digest; a node with
//! other weights (a shift W + c, one changed entry), a swapped leaf, an edited certificate and a
//! missing certificate are rejected; the link values stay independent of the weights (rank test
//! on real transcripts).

use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};

use super::*;
use crate::commit::CommittedWeights;
use crate::epoch::{self, EpochCertificate, Epochs};
use crate::verifier::verify_in_epoch;

use super::super::test_model::mlp_6_4_2 as model;

const SEED: [u8; 32] = [9; 32];

/// A verifier's fresh copy of the published commitment (nothing checked yet).
fn fresh(cw: &CommittedWeights) -> crate::commit::ModelCommitment {
    bincode::serde::decode_from_slice(
        &bincode::serde::encode_to_vec(&cw.commitment, bincode::config::standard()).unwrap(),
        bincode::config::standard(),
    )
    .unwrap()
    .0
}

#[test]
fn proofs_in_epochs_verify_against_the_published_digest() {
    let (spec, w, x) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let epochs = Epochs::default();
    let expected = crate::circuit::forward(&spec, &w, &x).unwrap();
    let expected = &expected.last().unwrap().a;
    let mut certs: Vec<EpochCertificate> = Vec::new();
    let mut proofs = Vec::new();
    for e in [0u64, 1, 2] {
        let (proof, cert) = crate::prover::prove_in_epoch(
            &spec,
            &w,
            SEED,
            &cw.commitment,
            &epochs,
            e,
            std::slice::from_ref(&x),
            None,
        )
        .unwrap();
        let leaf = proof
            .body
            .epoch
            .clone()
            .expect("an epoch proof names its leaf");
        assert_eq!(
            leaf.path,
            epoch::leaf_path(epoch::fanout(&spec), e).unwrap()
        );
        assert_eq!(proof.model, cw.commitment.digest(), "the published digest");
        let mc = fresh(&cw);
        assert_eq!(
            &verify_in_epoch(&spec, &mc, &proof, Some(&cert)).unwrap(),
            expected
        );
        // The certificate survives its byte encoding.
        let again = EpochCertificate::from_bytes(&cert.to_bytes()).unwrap();
        verify_in_epoch(&spec, &fresh(&cw), &proof, Some(&again)).unwrap();
        certs.push(cert);
        proofs.push(proof);
    }
    // Epochs 1 and 2 share their inner node: the owner made it once.
    assert_eq!(certs[1].nodes[0].path, vec![1]);
    assert_eq!(certs[1].nodes[0].commitment, certs[2].nodes[0].commitment);
    // A key that checked a leaf's chain needs no certificate for the leaf's next proofs.
    let mc = fresh(&cw);
    verify_in_epoch(&spec, &mc, &proofs[1], Some(&certs[1])).unwrap();
    let (again, _) = crate::prover::prove_in_epoch(
        &spec,
        &w,
        SEED,
        &cw.commitment,
        &epochs,
        1,
        std::slice::from_ref(&x),
        None,
    )
    .unwrap();
    assert_eq!(
        &verify_in_epoch(&spec, &mc, &again, None).unwrap(),
        expected
    );
    assert!(
        verify_in_epoch(&spec, &mc, &proofs[2], None).is_err(),
        "another leaf"
    );
    // Without its certificate, or with another epoch's, a proof is refused with a sentence.
    let mc = fresh(&cw);
    let e = crate::verifier::verify(&spec, &mc, &proofs[1]).unwrap_err();
    assert!(e.to_string().contains("give its epoch certificate"), "{e}");
    for (p, c) in [(1, 0), (1, 2), (0, 1)] {
        let e = verify_in_epoch(&spec, &mc, &proofs[p], Some(&certs[c])).unwrap_err();
        assert!(matches!(e, ProofError::Epoch(_)), "{p} with {c}: {e}");
    }
    // A proof that names another leaf's commitment fails the cryptography.
    let mut swapped = proofs[2].clone();
    swapped.body.epoch.as_mut().unwrap().commitment = certs[1].nodes[1].commitment.clone();
    let mut cert = certs[2].clone();
    cert.nodes[1] = certs[1].nodes[1].clone();
    cert.nodes[1].path = vec![1, 1];
    assert!(verify_in_epoch(&spec, &fresh(&cw), &swapped, Some(&cert)).is_err());
    // An edited link value, batching value or node commitment is rejected.
    for edit in 0..3 {
        let mut bad = certs[2].clone();
        let node = &mut bad.nodes[1];
        match edit {
            0 => node.link.value += EF::ONE,
            1 => node.link.batches[1].1 += EF::ONE,
            _ => node.commitment.root[0] ^= 1,
        }
        let e = verify_in_epoch(&spec, &fresh(&cw), &proofs[2], Some(&bad)).unwrap_err();
        assert!(
            matches!(e, ProofError::Epoch(_) | ProofError::Pcs(_)),
            "edit {edit}: {e}"
        );
    }
}

/// A dishonest owner links a node whose weights differ from the published ones: the shift
/// W' = W + c of a whole column, and one changed entry (including a padding entry of a column).
#[test]
fn a_node_with_other_weights_is_not_linked() {
    let (spec, w, _) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let identity = cw.commitment.digest();
    let wc = crate::commit::weight_columns(&spec, 1);
    let edits: [(&str, Box<dyn Fn(&mut Vec<Vec<F>>)>); 3] = [
        (
            "shift",
            Box::new(|cols: &mut Vec<Vec<F>>| {
                for v in cols[0].iter_mut() {
                    *v += F::from_u64(5);
                }
            }),
        ),
        (
            "one entry",
            Box::new(|cols: &mut Vec<Vec<F>>| cols[wc.bias][1] += F::ONE),
        ),
        (
            "padding",
            Box::new(|cols: &mut Vec<Vec<F>>| {
                let last = cols[wc.pieces[0].col].len() - 1;
                cols[wc.pieces[0].col][last] = F::from_u64(7);
            }),
        ),
    ];
    let path = [0u8];
    for (what, edit) in &edits {
        let (pt, pc, _) = epoch::commit_node(&spec, &w, SEED, &[]).unwrap();
        assert_eq!(
            pc, cw.commitment.pcs,
            "the root node is the published commitment"
        );
        let mut ct = crate::commit::node_tables(&spec, &w, SEED, &path).unwrap();
        edit(&mut ct.cols);
        let commit = |t: &WeightTables, seed| Ok(weight_pcs(&spec)?.commit(t.table(), seed).1);
        let cc = weight_pcs(&spec).unwrap().commit(ct.table(), [3; 32]).0;
        let (pd, cd) = (|| commit(&pt, SEED), || commit(&ct, [3; 32]));
        let sides = || {
            (
                Side {
                    tables: &pt,
                    commitment: &pc,
                    data: &pd,
                },
                Side {
                    tables: &ct,
                    commitment: &cc,
                    data: &cd,
                },
            )
        };
        // The honest prover refuses to link it.
        let (p, c) = sides();
        assert!(
            prove(&spec, &identity, &path, p, c, [4; 32]).is_err(),
            "{what}"
        );
        // A dishonest one claims the parent's value for it: the verifier rejects.
        dishonest::ON.set(true);
        let (p, c) = sides();
        let cert = prove(&spec, &identity, &path, p, c, [4; 32]);
        dishonest::ON.set(false);
        let cert = cert.unwrap();
        let e = verify(&spec, &identity, &path, &pc, &cc, &cert).unwrap_err();
        assert!(e.to_string().contains("epoch link"), "{what}: {e}");
    }
}

/// Zero knowledge of the links, on real transcripts: every link value a node's down-link mask D
/// hides is v = (private) + ζ·D̃(s). Over the fanout's children the functionals (ζ·eq(s, ·)
/// split into base-field rows) restricted to D have full rank 2·F, so the values are uniform
/// and independent of the weights; and the count leaves room for the batching values too.
#[test]
fn link_values_are_independent_of_the_weights() {
    let (spec, w, _) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let identity = cw.commitment.digest();
    let f = epoch::fanout(&spec);
    assert!(LINK_READS_PER_CHILD * f + 2 <= 1 << LINK_VARS, "fanout {f}");
    let wl = weight_masked_layout(&spec);
    let mut rows: Vec<Vec<F>> = Vec::new();
    for child in 0..f as u8 {
        let path = [child];
        let node = epoch::make_node(&spec, &w, SEED, &identity, &path).unwrap();
        // Replay the verifier's transcript up to its challenges.
        let mut tr = start(
            &LinkedLayout::weights(&spec).unwrap(),
            &identity,
            &path,
            &cw.commitment.pcs,
            &node.commitment,
        );
        tr.absorb_bytes("link-mask-commitment", &node.link.mask_commitment.digest());
        let ch = Challenges::draw(&wl, &mut tr);
        let eq = crate::mle::eq_table(&ch.s);
        // The EF functional ζ·eq(s, x) over D's 2^LINK_VARS base-field entries: two F-rows.
        let coeffs: Vec<[F; 2]> = eq
            .iter()
            .map(|&e| {
                let c = (ch.zeta * e).as_basis_coefficients_slice().to_vec();
                [c[0], c[1]]
            })
            .collect();
        rows.push(coeffs.iter().map(|c| c[0]).collect());
        rows.push(coeffs.iter().map(|c| c[1]).collect());
    }
    let rank = crate::zk::budget::rank_test::rank_over(rows.clone());
    assert_eq!(
        rank,
        rows.len(),
        "{f} links reveal {} independent values",
        rows.len()
    );
}

/// Certificate bytes from anywhere decode to a typed error, never a panic or an allocation
/// beyond the bytes' budget: garbage, truncations, trailing bytes, another version, and a
/// length field set to its maximum.
#[test]
fn hostile_certificate_bytes_are_refused() {
    let (spec, w, _) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let cert = Epochs::default()
        .certificate(&spec, &w, SEED, &cw.commitment, &[1, 0])
        .unwrap();
    let bytes = cert.to_bytes();
    let refused = |b: &[u8]| EpochCertificate::from_bytes(b).is_err();
    assert!(refused(b""));
    assert!(refused(b"ZKGP\x08\x00 a proof, not a certificate"));
    let mut other_version = bytes.clone();
    other_version[4] ^= 0x7f;
    assert!(refused(&other_version));
    for cut in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        assert!(refused(&bytes[..cut]), "truncated at {cut}");
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(refused(&trailing));
    // The node count (the first varint after the header) at u64::MAX: refused by the budget.
    let mut huge = bytes[..6].to_vec();
    huge.push(0xff);
    huge.extend(u64::MAX.to_le_bytes());
    huge.extend(&bytes[7..]);
    assert!(refused(&huge));
    let mut rng = 0x1234_5678_u64;
    for _ in 0..200 {
        let mut b = bytes.clone();
        for _ in 0..4 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
            let at = 6 + (rng >> 33) as usize % (b.len() - 6);
            b[at] ^= 1 << ((rng >> 20) % 8);
        }
        // Either refused while decoding, or decoded to a certificate whose links fail.
        if let Ok(c) = EpochCertificate::from_bytes(&b) {
            let leaf = crate::epoch::EpochRef {
                path: vec![1, 0],
                commitment: cert.nodes[1].commitment.clone(),
            };
            let accepted = crate::epoch::verify_chain(&spec, &fresh(&cw), &leaf, &c).is_ok();
            assert!(
                !accepted || c.to_bytes() == bytes,
                "a changed certificate was accepted"
            );
        }
    }
    assert!(!refused(&bytes));
}
