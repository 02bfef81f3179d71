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
use crate::mle::fold_low;
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

/// Runs the prover. All tables must have the same power-of-two length.
pub fn prove<G>(mut tables: Vec<Vec<EF>>, degree: usize, g: G, label: &str, tr: &mut Transcript) -> ProverOutput
where
    G: Fn(&[EF]) -> EF + Sync,
{
    let len = tables[0].len();
    assert!(len.is_power_of_two() && tables.iter().all(|t| t.len() == len));
    let n = len.trailing_zeros() as usize;
    let k = tables.len();
    let mut rounds = Vec::with_capacity(n);
    let mut point = Vec::with_capacity(n);
    for _ in 0..n {
        let half = tables[0].len() / 2;
        // Per pair j: the tables restricted to the line x0 = t, for t = 0..=degree.
        let add_pair = |(mut acc, mut at, mut step): (Vec<EF>, Vec<EF>, Vec<EF>), j: usize| {
            for (i, t) in tables.iter().enumerate() {
                at[i] = t[2 * j];
                step[i] = t[2 * j + 1] - t[2 * j];
            }
            acc[0] += g(&at);
            for a in acc.iter_mut().skip(1) {
                for i in 0..k {
                    at[i] += step[i];
                }
                *a += g(&at);
            }
            (acc, at, step)
        };
        let init = || (vec![EF::ZERO; degree + 1], vec![EF::ZERO; k], vec![EF::ZERO; k]);
        // Small rounds run on one thread: spreading them costs more than it saves.
        let evals = if half < PARALLEL_THRESHOLD {
            (0..half).fold(init(), add_pair).0
        } else {
            (0..half)
                .into_par_iter()
                .fold(init, add_pair)
                .map(|(acc, _, _)| acc)
                .reduce(|| vec![EF::ZERO; degree + 1], |a, b| a.iter().zip(&b).map(|(x, y)| *x + *y).collect())
        };
        tr.absorb_ext(label, &evals);
        let r = tr.challenge("sumcheck-r");
        rounds.push(evals);
        point.push(r);
        tables = tables.iter().map(|t| fold_low(t, r)).collect();
    }
    let finals = tables.iter().map(|t| t[0]).collect();
    ProverOutput { proof: SumcheckProof { rounds }, point, finals }
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
            return Err(ProofError::Sumcheck("round sum"));
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
            return Err(ProofError::Sumcheck("final"));
        }
        Ok(())
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
