//! WHIR polynomial commitment over Goldilocks: round trips, rejections, determinism.
//!
//! Run with `cargo test -p zkgrad-core --release pcs` (debug builds are slow).
//! Timing report: `cargo test -p zkgrad-core --release pcs_timing -- --ignored --nocapture`.

use std::time::Instant;

use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zkgrad_core::field::{EF, F};
use zkgrad_core::pcs::{Commitment, OpeningProof, Pcs};
use zkgrad_core::transcript::Transcript;

const DOMAIN: &[u8] = b"zkgrad-pcs-test";

fn rand_f(rng: &mut StdRng) -> F {
    F::from_u64(rng.random::<u64>() % 0xFFFF_FFFF_0000_0001)
}

fn rand_ef(rng: &mut StdRng) -> EF {
    EF::from_basis_coefficients_fn(|_| rand_f(rng))
}

fn rand_evals(rng: &mut StdRng, num_vars: usize) -> Vec<F> {
    (0..1usize << num_vars).map(|_| rand_f(rng)).collect()
}

fn rand_points(rng: &mut StdRng, num_vars: usize, n: usize) -> Vec<Vec<EF>> {
    (0..n)
        .map(|_| (0..num_vars).map(|_| rand_ef(rng)).collect())
        .collect()
}

/// Direct multilinear evaluation, little-endian: bit i of the index is variable i (`point[i]`).
fn mle_eval(evals: &[F], point: &[EF]) -> EF {
    assert_eq!(evals.len(), 1 << point.len());
    let mut cur: Vec<EF> = evals.iter().map(|&v| EF::from(v)).collect();
    // Fold the lowest variable first: pairs (2j, 2j+1) differ in bit 0.
    for &r in point {
        cur = cur.chunks(2).map(|c| c[0] + r * (c[1] - c[0])).collect();
    }
    cur[0]
}

/// Caller-side transcript prefix: the caller absorbs the commitment digest itself.
fn transcript_for(c: &Commitment) -> Transcript {
    let mut t = Transcript::new(DOMAIN);
    t.absorb_bytes("commitment", &c.digest());
    t
}

struct Opened {
    pcs: Pcs,
    commitment: Commitment,
    points: Vec<Vec<EF>>,
    values: Vec<EF>,
    proof: OpeningProof,
    evals: Vec<F>,
    /// The prover's transcript after `open`.
    prover_transcript: Transcript,
}

fn open_random(num_vars: usize, num_points: usize, hiding: bool, seed: u64) -> Opened {
    let mut rng = StdRng::seed_from_u64(seed);
    let pcs = Pcs::new(num_vars, hiding);
    let evals = rand_evals(&mut rng, num_vars);
    let (commitment, data) = pcs.commit(evals.clone(), [seed as u8; 32]);
    let points = rand_points(&mut rng, num_vars, num_points);
    let mut t = transcript_for(&commitment);
    let (values, proof) = pcs.open(data, &points, &mut t);
    Opened {
        pcs,
        commitment,
        points,
        values,
        proof,
        evals,
        prover_transcript: t,
    }
}

fn verify(
    o: &Opened,
    commitment: &Commitment,
    points: &[Vec<EF>],
    values: &[EF],
    proof: &OpeningProof,
) -> bool {
    let mut t = transcript_for(commitment);
    o.pcs
        .verify(commitment, points, values, proof, &mut t)
        .is_ok()
}

fn round_trip(num_vars: usize, num_points: usize, hiding: bool) {
    let o = open_random(
        num_vars,
        num_points,
        hiding,
        7 + num_vars as u64 * 10 + num_points as u64,
    );
    assert_eq!(o.values.len(), num_points);
    for (p, v) in o.points.iter().zip(&o.values) {
        assert_eq!(
            *v,
            mle_eval(&o.evals, p),
            "value mismatch at num_vars={num_vars}"
        );
    }
    assert!(
        verify(&o, &o.commitment, &o.points, &o.values, &o.proof),
        "honest proof rejected"
    );
    // Prover and verifier transcripts end in the same state.
    let mut tv = transcript_for(&o.commitment);
    o.pcs
        .verify(&o.commitment, &o.points, &o.values, &o.proof, &mut tv)
        .unwrap();
    let mut tp = o.prover_transcript.clone();
    assert_eq!(
        tp.challenge("after"),
        tv.challenge("after"),
        "transcripts diverge after the PCS"
    );
}

#[test]
fn pcs_round_trip_plain() {
    for num_vars in [1, 4, 10, 16] {
        for num_points in [1, 3] {
            round_trip(num_vars, num_points, false);
        }
    }
}

#[test]
fn pcs_round_trip_hiding() {
    for num_vars in [1, 4, 10, 16] {
        for num_points in [1, 3] {
            round_trip(num_vars, num_points, true);
        }
    }
}

#[test]
fn pcs_round_trip_zero_vars_and_odd_sizes() {
    for hiding in [false, true] {
        for num_vars in [0, 2, 7, 9, 13] {
            round_trip(num_vars, 2, hiding);
        }
    }
}

#[test]
fn pcs_hypercube_points_match_evals() {
    // At a boolean point the MLE equals the table entry: pins the little-endian convention.
    for hiding in [false, true] {
        let num_vars = 5;
        let mut rng = StdRng::seed_from_u64(99);
        let pcs = Pcs::new(num_vars, hiding);
        let evals = rand_evals(&mut rng, num_vars);
        let (c, d) = pcs.commit(evals.clone(), [1; 32]);
        let idx = [1usize, 6, 19];
        let points: Vec<Vec<EF>> = idx
            .iter()
            .map(|&i| {
                (0..num_vars)
                    .map(|b| if (i >> b) & 1 == 1 { EF::ONE } else { EF::ZERO })
                    .collect()
            })
            .collect();
        let mut t = transcript_for(&c);
        let (values, proof) = pcs.open(d, &points, &mut t);
        for (k, &i) in idx.iter().enumerate() {
            assert_eq!(values[k], EF::from(evals[i]));
        }
        let mut t = transcript_for(&c);
        pcs.verify(&c, &points, &values, &proof, &mut t).unwrap();
    }
}

fn rejections(hiding: bool) {
    let o = open_random(10, 3, hiding, 1234);
    assert!(verify(&o, &o.commitment, &o.points, &o.values, &o.proof));

    // Wrong value.
    for i in 0..3 {
        let mut values = o.values.clone();
        values[i] += EF::ONE;
        assert!(
            !verify(&o, &o.commitment, &o.points, &values, &o.proof),
            "wrong value {i} accepted"
        );
    }
    // Wrong point.
    for i in 0..3 {
        let mut points = o.points.clone();
        points[i][4] += EF::ONE;
        assert!(
            !verify(&o, &o.commitment, &points, &o.values, &o.proof),
            "wrong point {i} accepted"
        );
    }
    // Swapped points / fewer values.
    let mut points = o.points.clone();
    points.swap(0, 1);
    assert!(!verify(&o, &o.commitment, &points, &o.values, &o.proof));
    assert!(!verify(
        &o,
        &o.commitment,
        &o.points[..2],
        &o.values[..2],
        &o.proof
    ));
    assert!(!verify(
        &o,
        &o.commitment,
        &o.points,
        &o.values[..2],
        &o.proof
    ));
    assert!(!verify(&o, &o.commitment, &[], &[], &o.proof));
    let short: Vec<Vec<EF>> = o.points.iter().map(|p| p[..9].to_vec()).collect();
    assert!(!verify(&o, &o.commitment, &short, &o.values, &o.proof));

    // Wrong commitment: another polynomial of the same size.
    let mut rng = StdRng::seed_from_u64(555);
    let (other, _) = o.pcs.commit(rand_evals(&mut rng, 10), [9; 32]);
    assert_ne!(other, o.commitment);
    assert!(
        !verify(&o, &other, &o.points, &o.values, &o.proof),
        "other commitment accepted"
    );
    // Wrong commitment: root byte flipped, mode flipped, size changed.
    let mut c = o.commitment.clone();
    c.root[3] ^= 1;
    assert!(!verify(&o, &c, &o.points, &o.values, &o.proof));
    let mut c = o.commitment.clone();
    c.hiding = !c.hiding;
    assert!(!verify(&o, &c, &o.points, &o.values, &o.proof));
    let mut c = o.commitment.clone();
    c.num_vars += 1;
    assert!(!verify(&o, &c, &o.points, &o.values, &o.proof));

    // Different transcript prefix.
    let mut t = Transcript::new(b"other-domain");
    t.absorb_bytes("commitment", &o.commitment.digest());
    assert!(
        o.pcs
            .verify(&o.commitment, &o.points, &o.values, &o.proof, &mut t)
            .is_err()
    );

    // Proof of the other mode / other size.
    let other_mode = open_random(10, 3, !hiding, 1234);
    assert!(!verify(
        &o,
        &o.commitment,
        &o.points,
        &o.values,
        &other_mode.proof
    ));
    let other_size = open_random(11, 3, hiding, 1234);
    assert!(!verify(
        &o,
        &o.commitment,
        &o.points,
        &o.values,
        &other_size.proof
    ));
}

#[test]
fn pcs_rejects_tampering_plain() {
    rejections(false);
}

#[test]
fn pcs_rejects_tampering_hiding() {
    rejections(true);
}

fn byte_flips(hiding: bool, num_vars: usize) {
    let o = open_random(num_vars, 2, hiding, 4321);
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&o.proof, cfg).unwrap();
    let decoded: OpeningProof = bincode::serde::decode_from_slice(&bytes, cfg).unwrap().0;
    assert!(
        verify(&o, &o.commitment, &o.points, &o.values, &decoded),
        "re-decoded proof rejected"
    );

    let n = bytes.len();
    // Every byte for small proofs would be slow; take ~300 positions spread over the proof,
    // plus the first and last 16 bytes, with two different flip masks.
    let mut positions: Vec<usize> = (0..n).step_by((n / 300).max(1)).collect();
    positions.extend(0..16.min(n));
    positions.extend(n.saturating_sub(16)..n);
    positions.sort_unstable();
    positions.dedup();
    let mut decode_errors = 0;
    for (k, &pos) in positions.iter().enumerate() {
        let mut tampered = bytes.clone();
        tampered[pos] ^= if k % 2 == 0 { 0x01 } else { 0x80 };
        match bincode::serde::decode_from_slice::<OpeningProof, _>(&tampered, cfg) {
            Err(_) => decode_errors += 1,
            Ok((proof, _)) => {
                assert!(
                    !verify(&o, &o.commitment, &o.points, &o.values, &proof),
                    "flipped byte {pos} of {n} accepted (hiding = {hiding})"
                );
            }
        }
    }
    // Truncations and garbage never verify.
    for cut in [0, 1, n / 2, n - 1] {
        if let Ok((proof, _)) =
            bincode::serde::decode_from_slice::<OpeningProof, _>(&bytes[..cut], cfg)
        {
            assert!(!verify(&o, &o.commitment, &o.points, &o.values, &proof));
        }
    }
    eprintln!(
        "byte flips (hiding = {hiding}, num_vars = {num_vars}): {} positions of {n} bytes, {decode_errors} decode errors, rest rejected by verify",
        positions.len()
    );
}

#[test]
fn pcs_rejects_flipped_bytes_plain() {
    byte_flips(false, 10);
    byte_flips(false, 4);
}

#[test]
fn pcs_rejects_flipped_bytes_hiding() {
    byte_flips(true, 10);
    byte_flips(true, 4);
}

#[test]
fn pcs_commit_is_deterministic() {
    for hiding in [false, true] {
        let mut rng = StdRng::seed_from_u64(42);
        let evals = rand_evals(&mut rng, 12);
        let pcs = Pcs::new(12, hiding);
        let (c1, _) = pcs.commit(evals.clone(), [5; 32]);
        let (c2, _) = Pcs::new(12, hiding).commit(evals.clone(), [5; 32]);
        assert_eq!(c1, c2);
        assert_eq!(c1.digest(), c2.digest());
        let (c3, _) = pcs.commit(evals.clone(), [6; 32]);
        if hiding {
            assert_ne!(
                c1.root, c3.root,
                "hiding commitment must depend on the seed"
            );
        } else {
            assert_eq!(c1, c3, "plain commitment ignores the seed");
        }
        let mut evals2 = evals.clone();
        evals2[77] += F::ONE;
        let (c4, _) = pcs.commit(evals2, [5; 32]);
        assert_ne!(c1.root, c4.root);
    }
}

#[test]
fn pcs_commitment_serde_round_trip() {
    let pcs = Pcs::new(6, true);
    let (c, _) = pcs.commit(vec![F::ONE; 64], [3; 32]);
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&c, cfg).unwrap();
    let back: Commitment = bincode::serde::decode_from_slice(&bytes, cfg).unwrap().0;
    assert_eq!(back, c);
    assert!(pcs.soundness_bits(1) >= 100.0);
}

#[test]
#[ignore = "timing report; run with --ignored --nocapture in release"]
fn pcs_timing() {
    let sizes: Vec<usize> = std::env::var("PCS_SIZES")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .unwrap_or_else(|| vec![16, 20]);
    for hiding in [false, true] {
        for &num_vars in &sizes {
            let mut rng = StdRng::seed_from_u64(1);
            let pcs = Pcs::new(num_vars, hiding);
            let evals = rand_evals(&mut rng, num_vars);
            let points = rand_points(&mut rng, num_vars, 2);
            let t0 = Instant::now();
            let (c, d) = pcs.commit(evals, [1; 32]);
            let commit = t0.elapsed();
            let mut t = transcript_for(&c);
            let t0 = Instant::now();
            let (values, proof) = pcs.open(d, &points, &mut t);
            let open = t0.elapsed();
            let mut t = transcript_for(&c);
            let t0 = Instant::now();
            pcs.verify(&c, &points, &values, &proof, &mut t).unwrap();
            let verify = t0.elapsed();
            eprintln!(
                "hiding={hiding:5} num_vars={num_vars:2} (padded {:2}): commit {:8.1?}  open(2 pts) {:8.1?}  verify {:7.1?}  proof {:6} bytes  soundness {:.0} bits",
                pcs.padded_num_vars(),
                commit,
                open,
                verify,
                proof.size_bytes(),
                pcs.soundness_bits(1)
            );
        }
    }
}

#[test]
fn pcs_configs_for_all_sizes() {
    for hiding in [false, true] {
        for num_vars in 0..=zkgrad_core::pcs::MAX_NUM_VARS {
            let pcs = Pcs::try_new(num_vars, hiding)
                .unwrap_or_else(|e| panic!("{num_vars} {hiding}: {e}"));
            assert_eq!(pcs.num_vars(), num_vars);
            assert!(pcs.padded_num_vars() >= num_vars);
            assert!(pcs.soundness_bits(1) >= 100.0);
        }
        assert!(Pcs::try_new(zkgrad_core::pcs::MAX_NUM_VARS + 1, hiding).is_err());
    }
}

#[test]
fn pcs_prover_data_reuse() {
    // Non-hiding prover data can be copied to open the same commitment in several proofs.
    let mut rng = StdRng::seed_from_u64(77);
    let pcs = Pcs::new(9, false);
    let evals = rand_evals(&mut rng, 9);
    let (c, data) = pcs.commit(evals.clone(), [0; 32]);
    for round in 0..2 {
        let copy = data.try_clone().expect("plain data is clonable");
        assert_eq!(copy.commitment(), &c);
        let points = rand_points(&mut rng, 9, 2);
        let mut t = transcript_for(&c);
        t.absorb_u64s("proof", &[round]);
        let (values, proof) = pcs.open(copy, &points, &mut t);
        assert_eq!(values[1], mle_eval(&evals, &points[1]));
        let mut t = transcript_for(&c);
        t.absorb_u64s("proof", &[round]);
        pcs.verify(&c, &points, &values, &proof, &mut t).unwrap();
    }
    let (_, hidden) = Pcs::new(9, true).commit(evals, [0; 32]);
    assert!(hidden.try_clone().is_none());
}
