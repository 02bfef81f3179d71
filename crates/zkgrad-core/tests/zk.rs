//! The zero-knowledge protocol end to end: honest proofs verify, every cheating prover is
//! rejected, and proofs reveal nothing recognisable (`docs/SECURITY.md`, "Zero knowledge").

use p3_field::PrimeCharacteristicRing;
use p3_field::PrimeField64;
use zkgrad_core::circuit::{CircuitSpec, forward};
use zkgrad_core::commit::{CommittedWeights, commit_model};
use zkgrad_core::field::{F, from_i64};
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::{prove, prove_batch, prove_committed, prove_tampered};
use zkgrad_core::verifier::{soundness_bits, verify};
use zkgrad_core::witness::WitnessPlan;

mod common;
use common::Lcg;

use common::mlp;

const SEED: [u8; 32] = [9; 32];

#[test]
fn zk_mlps_prove_and_verify() {
    for (dims, relu_last) in [
        (vec![5, 3], false),
        (vec![13, 7, 4], false),
        (vec![16, 9, 1], true),
        (vec![1, 1], true),
        (vec![2, 1], false),
    ] {
        let (spec, w, x) = mlp(&dims, relu_last, 1);
        let mc = commit_model(&spec, &w, SEED).unwrap();
        let proof = common::roundtrip(&prove(&spec, &w, SEED, &x).unwrap());
        let expect = forward(&spec, &w, &x).unwrap().last().unwrap().a.clone();
        assert_eq!(verify(&spec, &mc, &proof).unwrap(), expect, "dims {dims:?}");
        assert!(
            soundness_bits(&spec, 1) >= 90.0,
            "soundness {}",
            soundness_bits(&spec, 1)
        );
    }
}

#[test]
fn zk_batch_and_cached_weights() {
    let (spec, w, _) = mlp(&[10, 6, 3], false, 2);
    let mut rng = Lcg(5);
    let xs: Vec<Vec<i64>> = (0..5)
        .map(|_| (0..10).map(|_| rng.next(-900, 900)).collect())
        .collect();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let proof = common::roundtrip(&prove_committed(&spec, &w, SEED, &cw, &xs).unwrap());
    let out = verify(&spec, &cw.commitment, &proof).unwrap();
    let expect: Vec<i64> = xs
        .iter()
        .flat_map(|x| forward(&spec, &w, x).unwrap().last().unwrap().a.clone())
        .collect();
    assert_eq!(out, expect);
    // The kept prover data served the first proof; the second recomputes it.
    let again = prove_committed(&spec, &w, SEED, &cw, &xs[..2]).unwrap();
    verify(&spec, &cw.commitment, &again).unwrap();
    let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
    verify(&spec, &cw.commitment, &proof).unwrap();
}

/// A cheating prover edits the witness before committing; the verifier must reject, and the
/// reason is printed (run with `--nocapture`).
fn assert_rejected(
    dims: &[usize],
    relu_last: bool,
    tamper: &dyn Fn(&WitnessPlan, &mut Vec<Vec<F>>),
    what: &str,
) -> String {
    let (spec, w, x) = mlp(dims, relu_last, 3);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = prove_tampered(&spec, &w, SEED, &[x], tamper).unwrap();
    let err =
        verify(&spec, &mc, &common::roundtrip(&proof)).expect_err(&format!("{what} was accepted"));
    println!("{what}: {err}");
    err.to_string()
}

#[test]
fn wrong_remainder_is_rejected() {
    assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| c[p.blocks[0].t.unwrap()][1] += F::ONE,
        "remainder + 1",
    );
}

#[test]
fn wrong_requant_with_consistent_remainder_is_rejected() {
    let e = assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| {
            let b = &p.blocks[0];
            c[b.q][0] += F::ONE;
            c[b.t.unwrap()][0] -= F::from_u64(1 << 16);
            c[b.a][0] = c[b.q][0];
            p.refresh_multiplicities(c);
        },
        "shifted requant",
    );
    assert!(e.contains("lookup"), "{e}");
}

#[test]
fn wrong_relu_output_is_rejected() {
    assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| c[p.blocks[0].a][2] += F::ONE,
        "relu output + 1",
    );
}

#[test]
fn wrong_input_is_rejected() {
    let e = assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| {
            c[p.x][0] += F::ONE;
            p.refresh_multiplicities(c);
        },
        "input + 1",
    );
    assert!(e.contains("fc0"), "{e}");
}

#[test]
fn wrong_multiplicity_is_rejected() {
    assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| c[p.tables[0].1][5] += F::ONE,
        "multiplicity + 1",
    );
}

#[test]
fn wrong_final_activation_is_rejected() {
    assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| c[p.blocks[1].a][0] += F::ONE,
        "last block output + 1",
    );
}

#[test]
fn out_of_range_value_is_rejected_by_the_lookup() {
    let e = assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| {
            c[p.blocks[0].t.unwrap()][0] += F::from_u64(1 << 16);
            p.refresh_multiplicities(c);
        },
        "remainder outside the table",
    );
    assert!(e.contains("lookup"), "{e}");
}

#[test]
fn relu_above_its_input_is_caught_by_the_zero_check() {
    let e = assert_rejected(
        &[12, 6],
        true,
        &|p, c| {
            let b = &p.blocks[0];
            let i = (0..6)
                .find(|&i| zkgrad_core::field::to_i64(c[b.q][i]) > 0)
                .expect("a positive pre-activation");
            c[b.a][i] = c[b.q][i] + F::ONE;
            p.refresh_multiplicities(c);
        },
        "relu = q + 1",
    );
    assert!(e.contains("zk-relu 'fc0'") || e.contains("ReLU"), "{e}");
}

#[test]
fn relu_zero_for_a_positive_input_is_rejected() {
    assert_rejected(
        &[12, 6],
        true,
        &|p, c| {
            let b = &p.blocks[0];
            let i = (0..6)
                .find(|&i| zkgrad_core::field::to_i64(c[b.q][i]) > 0)
                .expect("a positive pre-activation");
            c[b.a][i] = F::ZERO;
            p.refresh_multiplicities(c);
        },
        "relu(q > 0) = 0",
    );
}

#[test]
fn wrong_output_and_other_weights_are_rejected() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 4);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let mut proof = prove(&spec, &w, SEED, &x).unwrap();
    proof.output[1] += 1;
    assert!(
        verify(&spec, &mc, &proof).is_err(),
        "changed output accepted"
    );
    for l in 0..2 {
        let mut w2 = w.clone();
        w2.layers[l].weight[4] += 1;
        let proof = prove(&spec, &w2, SEED, &x).unwrap();
        println!(
            "weight of fc{l} + 1: {}",
            verify(&spec, &mc, &proof).unwrap_err()
        );
        let mut w3 = w.clone();
        w3.layers[l].bias[0] -= 1;
        assert!(
            verify(&spec, &mc, &prove(&spec, &w3, SEED, &x).unwrap()).is_err(),
            "bias of fc{l} - 1 accepted"
        );
    }
    // Another model digest (same architecture, other weights) rejects an honest proof.
    let mut w4 = w.clone();
    w4.layers[0].weight[0] += 1;
    let other = commit_model(&spec, &w4, SEED).unwrap();
    let honest = prove(&spec, &w, SEED, &x).unwrap();
    let err = verify(&spec, &other, &honest).unwrap_err().to_string();
    assert!(
        err.starts_with("this proof is for model ") && err.contains(", not "),
        "{err}"
    );
    // A header relabelled to the other model still fails: the transcript binds the key's digest.
    let mut relabelled = honest.clone();
    relabelled.model = other.digest();
    let err = verify(&spec, &other, &common::roundtrip(&relabelled)).unwrap_err();
    assert!(
        !matches!(err, zkgrad_core::ProofError::WrongModel { .. }),
        "{err}"
    );
}

/// A proof of an earlier format (6: no model digest in the header) is refused by its version
/// before anything else is read.
#[test]
fn a_proof_of_an_earlier_format_is_refused() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 4);
    let mut bytes = prove(&spec, &w, SEED, &x).unwrap().to_bytes();
    bytes[4..6].copy_from_slice(&6u16.to_le_bytes());
    let err = Proof::from_bytes(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            zkgrad_core::ProofError::BadVersion {
                expected: zkgrad_core::proof::VERSION,
                got: 6
            }
        ),
        "{err}"
    );
}

#[test]
fn flipped_proof_bytes_are_rejected() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 5);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let bytes = prove(&spec, &w, SEED, &x).unwrap().to_bytes();
    let step = (bytes.len() / 61).max(1);
    for pos in (0..bytes.len()).step_by(step) {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        let ok = Proof::from_bytes(&b)
            .map(|p| verify(&spec, &mc, &p).is_ok())
            .unwrap_or(false);
        assert!(!ok, "flip at byte {pos} of {} accepted", bytes.len());
    }
}

#[test]
fn public_input_is_bound() {
    let (mut spec, w, x) = mlp(&[12, 6, 3], false, 11);
    spec.public_input = true;
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = common::roundtrip(&prove(&spec, &w, SEED, &x).unwrap());
    verify(&spec, &mc, &proof).unwrap();
    let mut other = proof.clone();
    other.input.as_mut().unwrap()[3] += 1;
    assert!(
        verify(&spec, &mc, &other).is_err(),
        "another stated input accepted"
    );
    let cheat = prove_tampered(&spec, &w, SEED, &[x.clone()], &|p, c| {
        c[p.x][0] += F::ONE;
        p.refresh_multiplicities(c);
    })
    .unwrap();
    assert!(
        verify(&spec, &mc, &common::roundtrip(&cheat)).is_err(),
        "witness from another input accepted"
    );
}

#[test]
fn two_proofs_of_the_same_statement_differ() {
    let (spec, w, x) = mlp(&[12, 6, 3], false, 6);
    let (a, b) = (
        prove(&spec, &w, SEED, &x).unwrap(),
        prove(&spec, &w, SEED, &x).unwrap(),
    );
    assert_eq!(a.output, b.output);
    let (a, b) = (&a.body, &b.body);
    assert_ne!(a.witness_commitment, b.witness_commitment);
    assert_ne!(a.lookups.values, b.lookups.values);
    let linear = |p: &zkgrad_core::zk::proof::ZkProof, i: usize| match &p.blocks[i] {
        zkgrad_core::zk::proof::ZkBlockProof::Linear(b) => b.clone(),
        _ => panic!("a dense block"),
    };
    assert_ne!(linear(a, 0).q_t, linear(b, 0).q_t);
    assert_ne!(
        linear(a, 1).weights,
        linear(b, 1).weights,
        "weight evaluations are masked per proof"
    );
}

/// Every encoding of a value the project uses: i64 little-endian, the field element's canonical
/// u64 little-endian, and bincode's varint of either.
fn encodings(v: i64) -> Vec<Vec<u8>> {
    let cfg = bincode::config::standard();
    let canon = from_i64(v).as_canonical_u64();
    vec![
        v.to_le_bytes().to_vec(),
        canon.to_le_bytes().to_vec(),
        bincode::encode_to_vec(v, cfg).unwrap(),
        bincode::encode_to_vec(canon, cfg).unwrap(),
    ]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// How many of `values` appear in `bytes`: a value alone where its encoding is long enough
/// (≥ 5 bytes) that random bytes will not contain it by chance, and otherwise as the encoding of
/// it and its neighbour side by side (how a vector of them would be written).
fn found(bytes: &[u8], values: &[i64]) -> usize {
    let alone = |v: i64| {
        encodings(v)
            .iter()
            .any(|e| e.len() >= 5 && contains(bytes, e))
    };
    let pair = |a: i64, b: i64| {
        encodings(a).iter().zip(encodings(b)).any(|(ea, eb)| {
            let joined = [ea.as_slice(), &eb].concat();
            joined.len() >= 5 && contains(bytes, &joined)
        })
    };
    (0..values.len())
        .filter(|&i| {
            alone(values[i])
                || (i + 1 < values.len() && pair(values[i], values[i + 1]))
                || (i > 0 && pair(values[i - 1], values[i]))
        })
        .count()
}

#[test]
fn no_private_value_appears_in_the_proof() {
    // Values with long encodings (negative ones are large field elements).
    let (mut spec, mut w, _) = mlp(&[24, 8, 3], false, 12);
    let mut rng = Lcg(77);
    let x: Vec<i64> = (0..24).map(|_| -rng.next(300, 1000)).collect();
    for lw in &mut w.layers {
        lw.weight.iter_mut().for_each(|v| *v = -(v.abs() + 1));
    }
    let bytes = prove(&spec, &w, SEED, &x).unwrap().to_bytes();
    assert_eq!(found(&bytes, &x), 0, "an input value appears in the proof");
    let weights: Vec<i64> = w
        .layers
        .iter()
        .flat_map(|l| l.weight.iter().chain(&l.bias).copied())
        .collect();
    assert_eq!(found(&bytes, &weights), 0, "a weight appears in the proof");
    let hidden: Vec<i64> = forward(&spec, &w, &x).unwrap()[0].q.clone();
    assert_eq!(
        found(&bytes, &hidden),
        0,
        "a hidden activation appears in the proof"
    );
    // The detector does find a value the proof carries: the input, once it is public.
    spec.public_input = true;
    let public = prove(&spec, &w, SEED, &x).unwrap().to_bytes();
    assert_eq!(found(&public, &x), x.len());
}

/// Range checks go through two 8-bit limbs, v = lo + 2^8·hi: a limb that does not add up, and
/// limbs that add up but leave their range, are both rejected.
#[test]
fn limb_tampering_is_rejected() {
    let limb_split = |p: &WitnessPlan| {
        p.decompositions
            .iter()
            .find(|d| matches!(d.value, zkgrad_core::witness::LookupValue::Column(_)))
            .cloned()
            .unwrap()
    };
    let e = assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| {
            let d = limb_split(p);
            c[d.lo][0] += F::ONE;
        },
        "low limb + 1",
    );
    assert!(e.contains("lookup"), "{e}");
    let e = assert_rejected(
        &[12, 6, 3],
        false,
        &|p, c| {
            let d = limb_split(p);
            c[d.lo][1] += F::from_u64(256);
            c[d.hi][1] -= F::ONE;
        },
        "limbs that add up, low limb out of range",
    );
    assert!(e.contains("lookup"), "{e}");
}

/// Every 11th byte of a zero-knowledge proof, flipped, is rejected without a panic (slow:
/// `cargo test --release -p zkgrad-core --test zk dense_flips -- --ignored`).
#[test]
#[ignore]
fn dense_flips_of_a_zk_proof_are_rejected() {
    let (spec, w, x) = mlp(&[6, 4, 2], false, 8);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    common::assert_flips_rejected(&spec, &mc, &prove(&spec, &w, SEED, &x).unwrap(), 11);
}

/// A committed input: the proof carries the input's commitment (deterministic given the inputs
/// and the owner's seed), and every claim on the input is opened against it.
#[test]
fn committed_input_links_proofs_to_one_hidden_input() {
    use zkgrad_core::prover::{InputEpoch, prove_with_committed_input};
    use zkgrad_core::verifier::verify_with_input;
    use zkgrad_core::zk::input::commit_input;
    let (mut spec, w, x) = mlp(&[12, 6, 3], false, 14);
    spec.committed_input = true;
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let input_seed = [42u8; 32];
    let xs = vec![x.clone()];
    let expected = commit_input(&spec, &xs, input_seed).unwrap().digest();
    let digest = |p: &Proof| p.body.input_commitment.as_ref().map(|c| c.digest());
    let first = |number| InputEpoch {
        seed: input_seed,
        number,
        known: None,
    };
    let (a, ca) = prove_with_committed_input(&spec, &w, SEED, None, &xs, first(0)).unwrap();
    let a = common::roundtrip(&a);
    verify_with_input(&spec, &mc, &a, None, Some(&ca)).unwrap();
    assert_eq!(
        digest(&a),
        Some(expected),
        "the proof carries the input's commitment"
    );
    // The same input and seed: the same commitment, though the proofs differ.
    let (b, cb) = prove_with_committed_input(&spec, &w, SEED, None, &xs, first(1)).unwrap();
    verify_with_input(&spec, &mc, &b, None, Some(&cb)).unwrap();
    assert_eq!(digest(&b), Some(expected));
    // Another input under the same seed: another commitment.
    let mut x2 = x.clone();
    x2[0] += 1;
    let (c, cc) =
        prove_with_committed_input(&spec, &w, SEED, None, &[x2.clone()], first(0)).unwrap();
    verify_with_input(&spec, &mc, &c, None, Some(&cc)).unwrap();
    assert_ne!(digest(&c), Some(expected));
    // A proof about x2 presented with x's commitment is rejected.
    let mut swapped = c.clone();
    swapped.body.input_commitment = a.body.input_commitment.clone();
    assert!(
        verify_with_input(&spec, &mc, &swapped, None, Some(&cc)).is_err()
            && verify_with_input(&spec, &mc, &swapped, None, Some(&ca)).is_err(),
        "a proof under another input's commitment was accepted"
    );
    // No seed, or an input both committed and public: clear errors.
    assert!(
        prove(&spec, &w, SEED, &x)
            .unwrap_err()
            .to_string()
            .contains("seed")
    );
    spec.public_input = true;
    assert!(
        commit_model(&spec, &w, SEED)
            .unwrap_err()
            .to_string()
            .contains("committed input must be private")
    );
}

/// A 13-input layer is stored as kernel pieces of 8, 4 and 2 slots (`commit::weight_columns`):
/// each piece's masked value is in the proof; changing one, dropping one or adding one is
/// rejected with an error (never a panic).
#[test]
fn kernel_pieces_are_each_bound() {
    let (spec, w, x) = mlp(&[13, 7, 4], false, 8);
    let pieces = zkgrad_core::commit::weight_columns(&spec, 0).pieces;
    assert_eq!(
        pieces.iter().map(|p| (p.log, p.offset)).collect::<Vec<_>>(),
        vec![(3, 0), (2, 8), (1, 12)]
    );
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    verify(&spec, &mc, &proof).unwrap();
    let edits: [(&str, &dyn Fn(&mut Vec<zkgrad_core::field::EF>)); 3] = [
        ("a piece changed", &|v| v[1] += zkgrad_core::field::EF::ONE),
        ("a piece dropped", &|v| {
            v.pop();
        }),
        ("a piece added", &|v| v.push(zkgrad_core::field::EF::ONE)),
    ];
    for (what, edit) in edits {
        let mut cheat = proof.clone();
        let z = &mut cheat.body;
        let b = z.blocks.len() - 1;
        let zkgrad_core::zk::proof::ZkBlockProof::Linear(first) = &mut z.blocks[b] else {
            panic!("a dense block")
        };
        edit(&mut first.weights);
        let err = verify(&spec, &mc, &common::roundtrip(&cheat)).expect_err(what);
        println!("{what}: {err}");
    }
    // Weights changed in the last piece only (input 12), proved with the honest commitment (its
    // digest in the transcript, its data opened): the piece's claim fails the weight opening.
    for o in [0, 6] {
        let mut bad = w.clone();
        bad.layers[0].weight[o * 13 + 12] += 1;
        let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
        let cheat = prove_committed(&spec, &bad, SEED, &cw, std::slice::from_ref(&x)).unwrap();
        let err = verify(&spec, &mc, &common::roundtrip(&cheat))
            .expect_err("a weight in the last piece changed");
        println!("weight of input 12, row {o}, changed: {err}");
    }
}

/// An edit of a zero-knowledge proof body.
type ZkEdit = fn(&mut zkgrad_core::zk::proof::ZkProof);

/// Each edit of `proof`'s body, after an encoding round trip, is rejected by the verifier.
fn assert_edits_rejected(
    spec: &CircuitSpec,
    mc: &zkgrad_core::commit::ModelCommitment,
    proof: &Proof,
    edits: &[(&str, ZkEdit)],
) {
    for (what, edit) in edits {
        let mut cheat = proof.clone();
        edit(&mut cheat.body);
        let err = verify(spec, mc, &common::roundtrip(&cheat)).expect_err(what);
        println!("{what}: {err}");
    }
}

/// Sumcheck mask values live in the witness table: those of every sumcheck but the witness
/// batching are batched with the witness claims, the witness batching's own are direct points of
/// the witness opening. A wrong value of any kind is rejected (here by the sumcheck's own final
/// check, which the value enters; the byte-flip test covers the rest).
#[test]
fn mask_values_are_bound_to_the_witness_table() {
    let (spec, w, x) = mlp(&[13, 7, 4], false, 9);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    verify(&spec, &mc, &proof).unwrap();
    let edits: [(&str, ZkEdit); 4] = [
        ("a lookup mask value", |z| {
            z.lookups.sumcheck.mask_evals[2] += zkgrad_core::field::EF::ONE
        }),
        ("an inverse batching mask value", |z| {
            z.inverse_batch.0.mask_evals[0] += zkgrad_core::field::EF::ONE
        }),
        ("a weight batching mask value", |z| {
            z.weight_batch.0.mask_evals[0] += zkgrad_core::field::EF::ONE
        }),
        ("a witness batching mask value", |z| {
            z.witness_batch.0.mask_evals[1] += zkgrad_core::field::EF::ONE
        }),
    ];
    assert_edits_rejected(&spec, &mc, &proof, &edits);
}

/// Every table is opened at one point through its batching sumcheck (`zk/open.rs`): a changed
/// batched value or round message of any of them — witness, inverses, weights, committed input —
/// is rejected, and so is an input batching the circuit does not have (or a missing one).
#[test]
fn batched_openings_are_bound() {
    use zkgrad_core::field::EF;
    use zkgrad_core::prover::{InputEpoch, prove_with_committed_input};
    let (mut spec, w, x) = mlp(&[13, 7, 4], false, 10);
    spec.committed_input = true;
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let input = InputEpoch::first([5; 32]);
    let (proof, cert) =
        prove_with_committed_input(&spec, &w, SEED, None, std::slice::from_ref(&x), input).unwrap();
    // The input leaf's chain checked once: later checks of the same leaf need no certificate.
    zkgrad_core::verifier::verify_with_input(&spec, &mc, &proof, None, Some(&cert)).unwrap();
    verify(&spec, &mc, &proof).unwrap();
    let edits: [(&str, ZkEdit); 10] = [
        ("the witness table's value", |z| {
            z.witness_batch.1 += EF::ONE
        }),
        ("the inverse table's value", |z| {
            z.inverse_batch.1 += EF::ONE
        }),
        ("the weight table's value", |z| z.weight_batch.1 += EF::ONE),
        ("the input table's value", |z| {
            z.input_batch.as_mut().expect("committed input").1 += EF::ONE
        }),
        ("a witness batching round", |z| {
            z.witness_batch.0.rounds[0][1] += EF::ONE
        }),
        ("an inverse batching round", |z| {
            z.inverse_batch.0.rounds[2][0] += EF::ONE
        }),
        ("a weight batching round", |z| {
            z.weight_batch.0.rounds[1][2] += EF::ONE
        }),
        ("an input batching round", |z| {
            z.input_batch.as_mut().expect("committed input").0.rounds[0][0] += EF::ONE
        }),
        ("the input batching dropped", |z| z.input_batch = None),
        ("the weight batching's mask sum", |z| {
            z.weight_batch.0.mask_sum += EF::ONE
        }),
    ];
    assert_edits_rejected(&spec, &mc, &proof, &edits);
    // An input batching where the input is not committed.
    spec.committed_input = false;
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let plain = prove(&spec, &w, SEED, &x).unwrap();
    verify(&spec, &mc, &plain).unwrap();
    let mut cheat = plain.clone();
    let z = &mut cheat.body;
    z.input_batch = Some(z.weight_batch.clone());
    let err = verify(&spec, &mc, &common::roundtrip(&cheat))
        .expect_err("an input batching without a committed input");
    println!("extra input batching: {err}");
}
