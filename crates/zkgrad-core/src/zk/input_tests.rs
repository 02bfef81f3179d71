//! A committed input's epochs: proofs over one input in epochs 0, 1 and 2 verify against the
//! one published input digest; a certificate of another input, a spliced or edited certificate,
//! and a leaf holding a changed value or a shifted column (x + c) are refused; bad bytes and
//! missing parts are sentences, never panics.

use p3_field::PrimeCharacteristicRing;

use super::*;
use crate::commit::{CommittedWeights, ModelCommitment};
use crate::data::commit::DatasetNode;
use crate::epoch::{EpochNode, leaf_path};
use crate::pcs::ProverData;
use crate::proof::Proof;
use crate::prover::{InputEpoch, prove_with_committed_input};
use crate::verifier::verify_with_input;

const SEED: [u8; 32] = [9; 32];
const INPUT_SEED: [u8; 32] = [42; 32];

/// The shared 6-4-2 MLP, its input committed.
fn model() -> (
    CircuitSpec,
    crate::circuit::Weights,
    Vec<i64>,
    CommittedWeights,
) {
    let (mut spec, w, x) = crate::zk::test_model::mlp_6_4_2();
    spec.committed_input = true;
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    (spec, w, x, cw)
}

/// A verifier's copy of the model commitment (no cache of links checked by the prover's).
fn fresh(mc: &ModelCommitment) -> ModelCommitment {
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(mc, cfg).unwrap();
    bincode::serde::decode_from_slice(&bytes, cfg).unwrap().0
}

/// Proof `number` over `x` (one input), with its input epoch's certificate.
fn proof_number(
    spec: &CircuitSpec,
    w: &crate::circuit::Weights,
    cw: &CommittedWeights,
    x: &[i64],
    number: u64,
) -> (Proof, EpochCertificate) {
    let input = InputEpoch {
        seed: INPUT_SEED,
        number,
        known: None,
    };
    prove_with_committed_input(spec, w, SEED, Some(cw), &[x.to_vec()], input).unwrap()
}

fn leaf_of(p: &Proof) -> (Commitment, EpochRef) {
    (
        p.body.input_commitment.clone().unwrap(),
        p.body.input_epoch.clone().unwrap(),
    )
}

#[test]
fn proofs_in_input_epochs_0_to_2_verify_against_the_published_input_digest() {
    let (spec, w, x, cw) = model();
    let per = proofs_per_epoch(&spec, 1).unwrap() as u64;
    assert!(per >= 2, "{per} proofs per input epoch");
    // 10^4 proofs over one input fit its tree, a few links deep.
    assert!(capacity(&spec, 1).unwrap() >= 10u64.pow(12));
    assert!(leaf_for_proof(&spec, 1, 10_000).unwrap().len() <= 4);
    let published = commit_input(&spec, std::slice::from_ref(&x), INPUT_SEED).unwrap();
    let mc = fresh(&cw.commitment);
    let mut paths = Vec::new();
    for number in [0, per - 1, per, 2 * per] {
        let (proof, cert) = proof_number(&spec, &w, &cw, &x, number);
        let proof = Proof::from_bytes(&proof.to_bytes()).unwrap();
        let cert = EpochCertificate::from_bytes(&cert.to_bytes()).unwrap();
        let (root, leaf) = leaf_of(&proof);
        assert_eq!(root.digest(), published.digest(), "the published digest");
        assert_ne!(
            leaf.commitment, root,
            "a proof never opens the published commitment"
        );
        verify_with_input(&spec, &mc, &proof, None, Some(&cert)).unwrap();
        paths.push(leaf.path);
    }
    let f = crate::data::epochs::fanout(&public(&spec, 1, &published)).unwrap();
    assert_eq!(
        paths,
        vec![
            vec![0],
            vec![0],
            leaf_path(f, 1).unwrap(),
            leaf_path(f, 2).unwrap()
        ]
    );
}

#[test]
fn a_certificate_of_another_input_is_refused() {
    let (spec, w, x, cw) = model();
    let per = proofs_per_epoch(&spec, 1).unwrap() as u64;
    let mut x2 = x.clone();
    x2[0] += 1;
    let (proof, cert) = proof_number(&spec, &w, &cw, &x, 3 * per);
    let (proof2, cert2) = proof_number(&spec, &w, &cw, &x2, 3 * per);
    let (root, leaf) = leaf_of(&proof);
    verify_leaf(&spec, 1, &root, &leaf, &cert).unwrap();
    let e = verify_leaf(&spec, 1, &root, &leaf, &cert2).unwrap_err();
    assert!(
        e.to_string()
            .contains("committed input's epoch certificate"),
        "{e}"
    );
    // The other input's leaf and certificate under this input's published commitment.
    let (_, leaf2) = leaf_of(&proof2);
    assert!(verify_leaf(&spec, 1, &root, &leaf2, &cert2).is_err());
    let mut swapped = proof2.clone();
    swapped.body.input_commitment = Some(root.clone());
    let mc = fresh(&cw.commitment);
    let e = verify_with_input(&spec, &mc, &swapped, None, Some(&cert2)).unwrap_err();
    assert!(e.to_string().contains("epoch"), "{e}");
    // Another circuit's tree: the same input table, another identity.
    let mut other = spec.clone();
    other.layers[0].shift += 1;
    assert!(verify_leaf(&other, 1, &root, &leaf, &cert).is_err());
}

#[test]
fn spliced_or_edited_input_certificates_are_refused() {
    let (spec, w, x, cw) = model();
    let per = proofs_per_epoch(&spec, 1).unwrap() as u64;
    let (p1, c1) = proof_number(&spec, &w, &cw, &x, per);
    let (p2, c2) = proof_number(&spec, &w, &cw, &x, 2 * per);
    let (root, leaf1) = leaf_of(&p1);
    let (_, leaf2) = leaf_of(&p2);
    verify_leaf(&spec, 1, &root, &leaf1, &c1).unwrap();
    verify_leaf(&spec, 1, &root, &leaf2, &c2).unwrap();
    // The sibling's leaf node relabelled as this leaf's.
    let mut spliced = c1.clone();
    let last = spliced.nodes.len() - 1;
    spliced.nodes[last] = EpochNode {
        path: leaf1.path.clone(),
        ..c2.nodes[last].clone()
    };
    let moved = EpochRef {
        path: leaf1.path.clone(),
        commitment: c2.nodes[last].commitment.clone(),
    };
    assert!(verify_leaf(&spec, 1, &root, &moved, &spliced).is_err());
    // The other epoch's certificate for this leaf, and edits of every part of a link.
    assert!(verify_leaf(&spec, 1, &root, &leaf1, &c2).is_err());
    type Edit = Box<dyn Fn(&mut EpochCertificate)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("link value", Box::new(|c| c.nodes[0].link.value += EF::ONE)),
        (
            "batching value",
            Box::new(move |c| c.nodes[last].link.batches[1].1 += EF::ONE),
        ),
        (
            "inner commitment",
            Box::new(|c| c.nodes[0].commitment.root[0] ^= 1),
        ),
        (
            "mask commitment",
            Box::new(move |c| c.nodes[last].link.mask_commitment.root[3] ^= 1),
        ),
        ("a node dropped", Box::new(|c| drop(c.nodes.remove(0)))),
    ];
    for (what, edit) in edits {
        let mut bad = c1.clone();
        edit(&mut bad);
        let e = verify_leaf(&spec, 1, &root, &leaf1, &bad).unwrap_err();
        assert!(e.to_string().contains("epoch"), "{what}: {e}");
    }
}

fn side<'a>(
    t: &'a DatasetNode<'_>,
    c: &'a Commitment,
    d: &'a dyn Fn() -> Result<ProverData>,
) -> crate::zk::link::Side<'a> {
    crate::zk::link::Side {
        tables: t,
        commitment: c,
        data: d,
    }
}

/// A dishonest data owner links a leaf holding other values under the honest published input:
/// one value changed, or the whole column shifted by a constant (x + c, padding rows included).
/// The honest prover refuses; the forged link (the parent's value claimed) is rejected.
#[test]
fn an_input_leaf_with_a_changed_value_or_a_shifted_column_is_refused() {
    let (spec, _, x, _) = model();
    let plan = WitnessPlan::new(&spec, 1);
    let column = plan.input_column(std::slice::from_ref(&x));
    let honest = commit(&spec, &plan, 1, &column, INPUT_SEED).unwrap();
    let rows = 1usize << table_vars(&plan);
    let forged_table = |edit: &dyn Fn(&mut Vec<F>)| {
        let mut col = column.clone();
        col.resize(rows, F::ZERO);
        edit(&mut col);
        commit_columns(
            vec![col],
            rows,
            false,
            meta(&spec, 1),
            table_seed(INPUT_SEED),
        )
        .unwrap()
    };
    let changed = forged_table(&|c| c[2] += F::ONE);
    let shifted = forged_table(&|c| c.iter_mut().for_each(|v| *v += F::from_u64(5)));
    let ll = crate::data::epochs::linked(&honest.commitment).unwrap();
    let identity = honest.commitment.digest();
    let root = honest.node(&[]);
    let pd = || Ok(ll.pcs.commit(root.table(), root.commit_seed()).1);
    for (what, forged) in [
        ("a changed value", &changed),
        ("a shifted column", &shifted),
    ] {
        let node = forged.node(&[0]);
        let (leaf_c, cd_data) = ll.pcs.commit(node.table(), node.commit_seed());
        drop(cd_data);
        let cd = || Ok(ll.pcs.commit(node.table(), node.commit_seed()).1);
        let link = |dishonest: bool| {
            crate::zk::link::dishonest::ON.set(dishonest);
            let l = crate::zk::link::prove_linked(
                &ll,
                &identity,
                &[0],
                side(&root, &honest.commitment.pcs, &pd),
                side(&node, &leaf_c, &cd),
                [7; 32],
            );
            crate::zk::link::dishonest::ON.set(false);
            l
        };
        assert!(link(false).is_err(), "{what}: the honest owner links it");
        let cert = EpochCertificate {
            nodes: vec![EpochNode {
                path: vec![0],
                commitment: leaf_c.clone(),
                link: link(true).unwrap(),
            }],
        };
        let leaf = EpochRef {
            path: vec![0],
            commitment: leaf_c,
        };
        let e = verify_leaf(&spec, 1, &honest.commitment.pcs, &leaf, &cert).unwrap_err();
        assert!(e.to_string().contains("epoch link"), "{what}: {e}");
    }
}

/// Missing parts and bad bytes: one sentence each, never a panic.
#[test]
fn missing_or_malformed_input_epochs_are_sentences() {
    let (spec, w, x, cw) = model();
    let per = proofs_per_epoch(&spec, 1).unwrap() as u64;
    let (proof, cert) = proof_number(&spec, &w, &cw, &x, 5 * per);
    let mc = fresh(&cw.commitment);
    // No certificate for a leaf this process has not checked.
    let e = verify_with_input(&spec, &mc, &proof, None, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("give that input epoch's certificate"),
        "{e}"
    );
    // The input epoch or the published input dropped from the proof.
    let mut no_leaf = proof.clone();
    no_leaf.body.input_epoch = None;
    let e = verify_with_input(&spec, &mc, &no_leaf, None, Some(&cert)).unwrap_err();
    assert!(e.to_string().contains("input epoch"), "{e}");
    let mut no_root = proof.clone();
    no_root.body.input_commitment = None;
    assert!(verify_with_input(&spec, &mc, &no_root, None, Some(&cert)).is_err());
    // A leaf path that is not a leaf (the published commitment itself, an inner node).
    for path in [vec![], vec![1]] {
        let mut inner = proof.clone();
        inner.body.input_epoch.as_mut().unwrap().path = path.clone();
        let e = verify_with_input(&spec, &mc, &inner, None, Some(&cert)).unwrap_err();
        assert!(e.to_string().contains("not a leaf"), "{path:?}: {e}");
    }
    // Truncated or flipped certificate bytes.
    let bytes = cert.to_bytes();
    for cut in [0, 3, 6, bytes.len() / 2, bytes.len() - 1] {
        assert!(EpochCertificate::from_bytes(&bytes[..cut]).is_err());
    }
    for i in (0..bytes.len()).step_by(bytes.len() / 40 + 1) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        if let Ok(c) = EpochCertificate::from_bytes(&b) {
            let _ = verify_with_input(&spec, &mc, &proof, None, Some(&c));
        }
    }
    // The honest certificate still verifies, and afterwards the leaf needs none.
    verify_with_input(&spec, &mc, &proof, None, Some(&cert)).unwrap();
    verify_with_input(&spec, &mc, &proof, None, None).unwrap();
    // The prover refuses a proof number past the tree and a missing seed, in a sentence.
    let e = leaf_for_proof(&spec, 1, u64::MAX);
    assert!(e.is_ok() || e.unwrap_err().to_string().contains("past the last epoch"));
}
