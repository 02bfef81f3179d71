//! Sumcheck over products of multilinear tables (Lund–Fortnow–Karloff–Nisan; Thaler, "Proofs,
//! Arguments, and Zero-Knowledge", ch. 4), usable as a sub-protocol: both sides take an outside
//! transcript.
//!
//! Claim: Σ_{x ∈ {0,1}^n} g(t_1(x), …, t_k(x)) = c, where each t_j is multilinear and g has total
//! degree `degree`. Each round binds variable 0 (the lowest index bit), the prover sends the round
//! polynomial as its values at 0, 1, …, degree, and the verifier checks p(0) + p(1) against the
//! running claim.

use p3_field::{Field, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::transcript::Transcript;

/// Below this many pairs per round the prover stays on one thread.
const PARALLEL_THRESHOLD: usize = 1 << 12;

/// The prover's messages: one round polynomial (values at 0..=degree) per variable.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SumcheckProof {
    /// `rounds[i][t]` = p_i(t).
    pub rounds: Vec<Vec<EF>>,
}

/// What the prover has after the sumcheck: the random point and each table's value there.
pub struct ProverOutput {
    /// The proof messages.
    pub proof: SumcheckProof,
    /// The point the verifier's challenges define.
    pub point: Vec<EF>,
    /// Each table evaluated at `point`.
    pub finals: Vec<EF>,
}

/// Pairs per parallel task: large enough that splitting costs little.
const BLOCK: usize = 1 << 9;

/// Runs the prover. All tables must have the same power-of-two length.
///
/// After the first round the prover knows the running claim, so it derives p(1) = claim − p(0)
/// instead of summing it; each round's fold is fused with the next round's sums, and the folded
/// tables live in two buffers reused across rounds. The messages are the same as summing every
/// p(t) directly.
pub fn prove<G>(tables: Vec<Vec<EF>>, degree: usize, g: G, label: &str, tr: &mut Transcript) -> ProverOutput
where
    G: Fn(&[EF]) -> EF + Sync,
{
    let len = tables[0].len();
    assert!(len.is_power_of_two() && tables.iter().all(|t| t.len() == len));
    let n = len.trailing_zeros() as usize;
    let mut rounds = Vec::with_capacity(n);
    let mut point = Vec::with_capacity(n);
    if n == 0 {
        let finals = tables.iter().map(|t| t[0]).collect();
        return ProverOutput { proof: SumcheckProof { rounds }, point, finals };
    }
    // Round i reads `size` = len/2^i entries per table from `cur` and folds them into `spare`.
    let mut cur = tables;
    let mut spare: Vec<Vec<EF>> = cur.iter().map(|_| vec![EF::ZERO; len / 2]).collect();
    let mut size = len;
    let mut evals = round_sums(&cur, size, degree, &g, false);
    let mut claim = EF::ZERO;
    for i in 0..n {
        if i > 0 && degree >= 1 {
            evals[1] = claim - evals[0];
        }
        tr.absorb_ext(label, &evals);
        let r = tr.challenge("sumcheck-r");
        claim = interpolate_at(&evals, r);
        rounds.push(evals);
        point.push(r);
        let half = size / 2;
        if i + 1 < n {
            evals = fold_and_sum(&cur, &mut spare, size, r, degree, &g);
        } else {
            for (src, dst) in cur.iter().zip(spare.iter_mut()) {
                dst[0] = src[0] + r * (src[1] - src[0]);
            }
            evals = Vec::new();
        }
        std::mem::swap(&mut cur, &mut spare);
        size = half;
    }
    let finals = cur.iter().map(|t| t[0]).collect();
    ProverOutput { proof: SumcheckProof { rounds }, point, finals }
}

/// Adds, for the pairs (2j, 2j+1) of `tables` (each restricted to `0..2·pairs`), g on the line
/// through them at t = 0..acc.len() into `acc`; t = 1 is skipped when `skip_one`.
fn add_line_sums<G, T>(tables: &[T], pairs: usize, g: &G, skip_one: bool, acc: &mut [EF])
where
    G: Fn(&[EF]) -> EF,
    T: AsRef<[EF]>,
{
    let k = tables.len();
    let mut at = vec![EF::ZERO; k];
    let mut step = vec![EF::ZERO; k];
    for j in 0..pairs {
        for (i, t) in tables.iter().enumerate() {
            let t = t.as_ref();
            at[i] = t[2 * j];
            step[i] = t[2 * j + 1] - t[2 * j];
        }
        acc[0] += g(&at);
        for (d, a) in acc.iter_mut().enumerate().skip(1) {
            for (x, s) in at.iter_mut().zip(&step) {
                *x += *s;
            }
            if d != 1 || !skip_one {
                *a += g(&at);
            }
        }
    }
}

fn add_vecs(mut a: Vec<EF>, b: Vec<EF>) -> Vec<EF> {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

/// The first round's values p(0..=degree), summed straight from the tables.
fn round_sums<G>(tables: &[Vec<EF>], size: usize, degree: usize, g: &G, skip_one: bool) -> Vec<EF>
where
    G: Fn(&[EF]) -> EF + Sync,
{
    let pairs = size / 2;
    if pairs < PARALLEL_THRESHOLD {
        let mut acc = vec![EF::ZERO; degree + 1];
        add_line_sums(tables, pairs, g, skip_one, &mut acc);
        return acc;
    }
    (0..pairs.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let lo = 2 * b * BLOCK;
            let hi = (lo + 2 * BLOCK).min(size);
            let block: Vec<&[EF]> = tables.iter().map(|t| &t[lo..hi]).collect();
            let mut acc = vec![EF::ZERO; degree + 1];
            add_line_sums(&block, (hi - lo) / 2, g, skip_one, &mut acc);
            acc
        })
        .reduce(|| vec![EF::ZERO; degree + 1], add_vecs)
}

/// Binds variable 0 of `src` (first `size` entries per table) to `r` into `dst`, and returns the
/// next round's values p(0), p(2), …, p(degree) over the folded tables (p(1) left zero).
fn fold_and_sum<G>(src: &[Vec<EF>], dst: &mut [Vec<EF>], size: usize, r: EF, degree: usize, g: &G) -> Vec<EF>
where
    G: Fn(&[EF]) -> EF + Sync,
{
    let half = size / 2;
    let block = |src: &[&[EF]], dst: &mut [&mut [EF]]| {
        for (s, d) in src.iter().zip(dst.iter_mut()) {
            for (o, p) in d.iter_mut().zip(s.chunks_exact(2)) {
                *o = p[0] + r * (p[1] - p[0]);
            }
        }
        let mut acc = vec![EF::ZERO; degree + 1];
        add_line_sums(&*dst, dst[0].len() / 2, g, true, &mut acc);
        acc
    };
    if half / 2 < PARALLEL_THRESHOLD {
        let s: Vec<&[EF]> = src.iter().map(|t| &t[..size]).collect();
        let mut d: Vec<&mut [EF]> = dst.iter_mut().map(|t| &mut t[..half]).collect();
        return block(&s, &mut d);
    }
    // Per block of the next round's pairs: 2·BLOCK folded entries from 4·BLOCK source entries.
    let blocks = half.div_ceil(2 * BLOCK);
    let mut outs: Vec<Vec<&mut [EF]>> = (0..blocks).map(|_| Vec::with_capacity(dst.len())).collect();
    for t in dst.iter_mut() {
        for (b, c) in t[..half].chunks_mut(2 * BLOCK).enumerate() {
            outs[b].push(c);
        }
    }
    outs.into_par_iter()
        .enumerate()
        .map(|(b, mut out)| {
            let lo = 4 * b * BLOCK;
            let hi = (lo + 4 * BLOCK).min(size);
            let s: Vec<&[EF]> = src.iter().map(|t| &t[lo..hi]).collect();
            block(&s, &mut out)
        })
        .reduce(|| vec![EF::ZERO; degree + 1], add_vecs)
}

/// Checks the rounds against `claim`; returns the point and the claim the final tables must meet.
pub fn verify(
    claim: EF,
    num_vars: usize,
    degree: usize,
    proof: &SumcheckProof,
    label: &str,
    tr: &mut Transcript,
) -> Result<(Vec<EF>, EF)> {
    if proof.rounds.len() != num_vars {
        return Err(ProofError::Shape { what: "sumcheck rounds", expected: num_vars, got: proof.rounds.len() });
    }
    let mut claim = claim;
    let mut point = Vec::with_capacity(num_vars);
    for evals in &proof.rounds {
        if evals.len() != degree + 1 {
            return Err(ProofError::Shape { what: "sumcheck round degree", expected: degree + 1, got: evals.len() });
        }
        if evals[0] + evals[1] != claim {
            return Err(ProofError::Sumcheck(format!("{label}, round sum")));
        }
        tr.absorb_ext(label, evals);
        let r = tr.challenge("sumcheck-r");
        claim = interpolate_at(evals, r);
        point.push(r);
    }
    Ok((point, claim))
}

/// Evaluates the polynomial with values `evals[t]` at t = 0..d at the point `x` (Lagrange).
pub fn interpolate_at(evals: &[EF], x: EF) -> EF {
    let d = evals.len();
    let mut total = EF::ZERO;
    for (i, &yi) in evals.iter().enumerate() {
        let xi = EF::from_usize(i);
        let mut num = EF::ONE;
        let mut den = EF::ONE;
        for j in 0..d {
            if j != i {
                let xj = EF::from_usize(j);
                num *= x - xj;
                den *= xi - xj;
            }
        }
        total += yi * num * den.inverse();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate;

    fn rand_vec(n: usize, seed: u64) -> Vec<EF> {
        (0..n).map(|i| EF::from_u64(seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64 * 1442695040888963407) % 1_000_003)).collect()
    }

    fn run(f: Vec<EF>, h: Vec<EF>, tamper: bool) -> Result<()> {
        let claim: EF = f.iter().zip(&h).map(|(a, b)| *a * *b).sum();
        let mut tp = Transcript::new(b"test");
        let out = prove(vec![f.clone(), h.clone()], 2, |v| v[0] * v[1], "sc", &mut tp);
        let mut proof = out.proof.clone();
        if tamper {
            proof.rounds[1][2] += EF::ONE;
        }
        let mut tv = Transcript::new(b"test");
        let (point, fin) = verify(claim, 3, 2, &proof, "sc", &mut tv)?;
        assert_eq!(point, out.point);
        if evaluate(&f, &point) * evaluate(&h, &point) != fin {
            return Err(ProofError::Sumcheck("final".into()));
        }
        Ok(())
    }

    /// The prover as first written: every p(t) summed directly, tables re-allocated each round.
    fn reference_prove<G: Fn(&[EF]) -> EF>(mut tables: Vec<Vec<EF>>, degree: usize, g: G, tr: &mut Transcript) -> ProverOutput {
        let (mut rounds, mut point) = (Vec::new(), Vec::new());
        while tables[0].len() > 1 {
            let mut evals = vec![EF::ZERO; degree + 1];
            for j in 0..tables[0].len() / 2 {
                for (t, e) in evals.iter_mut().enumerate() {
                    let at: Vec<EF> = tables.iter().map(|v| v[2 * j] + EF::from_usize(t) * (v[2 * j + 1] - v[2 * j])).collect();
                    *e += g(&at);
                }
            }
            tr.absorb_ext("sc", &evals);
            let r = tr.challenge("sumcheck-r");
            rounds.push(evals);
            point.push(r);
            tables = tables.iter().map(|t| crate::mle::fold_low(t, r)).collect();
        }
        let finals = tables.iter().map(|t| t[0]).collect();
        ProverOutput { proof: SumcheckProof { rounds }, point, finals }
    }

    #[test]
    fn prover_matches_reference_messages() {
        // Sizes on both sides of the parallel threshold; products, squares and constants in g.
        for (n, k, degree) in [(0usize, 1usize, 1usize), (1, 2, 2), (3, 3, 3), (5, 1, 1), (9, 2, 2), (14, 3, 3), (15, 2, 2)] {
            let tables: Vec<Vec<EF>> = (0..k).map(|i| rand_vec(1 << n, 10 * n as u64 + i as u64 + 1)).collect();
            let g = |v: &[EF]| match v.len() {
                1 => v[0] + EF::TWO,
                2 => v[0] * v[1] + v[0],
                _ => v[0] * v[1] * v[2] + v[2].square() + EF::ONE,
            };
            let fast = prove(tables.clone(), degree, g, "sc", &mut Transcript::new(b"m"));
            let slow = reference_prove(tables, degree, g, &mut Transcript::new(b"m"));
            assert_eq!(fast.proof, slow.proof, "n = {n}");
            assert_eq!(fast.point, slow.point);
            assert_eq!(fast.finals, slow.finals);
        }
    }

    #[test]
    fn product_sumcheck_completes() {
        run(rand_vec(8, 1), rand_vec(8, 2), false).unwrap();
    }

    #[test]
    fn tampered_round_is_rejected() {
        assert!(run(rand_vec(8, 1), rand_vec(8, 2), true).is_err());
    }

    #[test]
    fn wrong_claim_is_rejected() {
        let f = rand_vec(4, 3);
        let mut tp = Transcript::new(b"t");
        let out = prove(vec![f.clone()], 1, |v| v[0], "sc", &mut tp);
        let claim: EF = f.iter().copied().sum::<EF>() + EF::ONE;
        let mut tv = Transcript::new(b"t");
        assert!(verify(claim, 2, 1, &out.proof, "sc", &mut tv).is_err());
    }
}
