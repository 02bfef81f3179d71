//! LogUp-GKR: proves the value of Σ_i p_i / q_i over 2^n leaves with a binary tree of fraction
//! additions checked layer by layer with sumchecks (Papini–Haböck, "Improving logarithmic
//! derivative lookups using GKR", eprint 2023/1284, §3).
//!
//! Layer k has 2^k fractions; node j of layer k is the sum of children 2j and 2j+1 of layer k+1:
//!   p_k(j) = p_{k+1}(2j)·q_{k+1}(2j+1) + p_{k+1}(2j+1)·q_{k+1}(2j),  q_k(j) = q_{k+1}(2j)·q_{k+1}(2j+1).
//! The verifier gets the root (P, Q) and, at the end, one claim on the leaf MLEs p̃(ρ), q̃(ρ) at a
//! random point ρ, which the caller must check against the committed columns.

use p3_field::PrimeCharacteristicRing;
use p3_maybe_rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::{eq_eval, eq_table};
use crate::sumcheck::{self, SumcheckProof};
use crate::transcript::Transcript;

/// One layer step: the sumcheck and the four child values at its point.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LayerStep {
    /// Sumcheck over the parent layer's variables.
    pub sumcheck: SumcheckProof,
    /// p_{k+1}(ρ,0), p_{k+1}(ρ,1), q_{k+1}(ρ,0), q_{k+1}(ρ,1) with the child bit lowest.
    pub children: [EF; 4],
}

/// A fraction-tree proof.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TreeProof {
    /// Root numerator and denominator.
    pub root: [EF; 2],
    /// One step per layer, from the root down.
    pub steps: Vec<LayerStep>,
}

/// What the verifier learns: the root and a claim on the leaves.
pub struct LeafClaim {
    /// Root numerator and denominator.
    pub root: [EF; 2],
    /// Random point over the leaf variables.
    pub point: Vec<EF>,
    /// Claimed p̃(point).
    pub p: EF,
    /// Claimed q̃(point).
    pub q: EF,
}

fn split_even_odd(v: &[EF]) -> (Vec<EF>, Vec<EF>) {
    (v.par_iter().step_by(2).copied().collect(), v.par_iter().skip(1).step_by(2).copied().collect())
}

/// Proves the fraction sum of the leaves; returns the proof and the leaf claim.
pub fn prove(p: Vec<EF>, q: Vec<EF>, tr: &mut Transcript) -> (TreeProof, LeafClaim) {
    assert!(p.len().is_power_of_two() && p.len() == q.len());
    let n = p.len().trailing_zeros() as usize;
    // layers[k] = (p_k, q_k) with 2^k entries.
    let mut layers = vec![(p, q)];
    while layers.last().unwrap().0.len() > 1 {
        let (lp, lq) = layers.last().unwrap();
        let parent: (Vec<EF>, Vec<EF>) = lp
            .par_chunks(2)
            .zip(lq.par_chunks(2))
            .map(|(pp, qq)| (pp[0] * qq[1] + pp[1] * qq[0], qq[0] * qq[1]))
            .unzip();
        layers.push(parent);
    }
    layers.reverse();
    let root = [layers[0].0[0], layers[0].1[0]];
    tr.absorb_ext("logup-root", &root);
    let mut point: Vec<EF> = Vec::new();
    let mut claim_p = root[0];
    let mut claim_q = root[1];
    let mut steps = Vec::with_capacity(n);
    for k in 0..n {
        let (cp, cq) = &layers[k + 1];
        let (p0, p1) = split_even_odd(cp);
        let (q0, q1) = split_even_odd(cq);
        let lambda = tr.challenge("logup-lambda");
        let eq = eq_table(&point);
        let out = sumcheck::prove(
            vec![eq, p0, p1, q0, q1],
            3,
            |v| v[0] * (lambda * (v[1] * v[4] + v[2] * v[3]) + v[3] * v[4]),
            "logup-sc",
            tr,
        );
        let children = [out.finals[1], out.finals[2], out.finals[3], out.finals[4]];
        tr.absorb_ext("logup-children", &children);
        let mu = tr.challenge("logup-mu");
        claim_p = children[0] + mu * (children[1] - children[0]);
        claim_q = children[2] + mu * (children[3] - children[2]);
        point = std::iter::once(mu).chain(out.point).collect();
        steps.push(LayerStep { sumcheck: out.proof, children });
    }
    (TreeProof { root, steps }, LeafClaim { root, point, p: claim_p, q: claim_q })
}

/// Verifies a tree over 2^n leaves; returns the root and the leaf claim to check.
pub fn verify(n: usize, proof: &TreeProof, tr: &mut Transcript) -> Result<LeafClaim> {
    if proof.steps.len() != n {
        return Err(ProofError::Shape { what: "logup layers", expected: n, got: proof.steps.len() });
    }
    let root = proof.root;
    tr.absorb_ext("logup-root", &root);
    let mut point: Vec<EF> = Vec::new();
    let mut claim_p = root[0];
    let mut claim_q = root[1];
    for step in &proof.steps {
        let lambda = tr.challenge("logup-lambda");
        let claim = lambda * claim_p + claim_q;
        let (rho, fin) = sumcheck::verify(claim, point.len(), 3, &step.sumcheck, "logup-sc", tr)?;
        let [p0, p1, q0, q1] = step.children;
        if eq_eval(&point, &rho) * (lambda * (p0 * q1 + p1 * q0) + q0 * q1) != fin {
            return Err(ProofError::Lookup("fraction layer does not match its children".into()));
        }
        tr.absorb_ext("logup-children", &step.children);
        let mu = tr.challenge("logup-mu");
        claim_p = p0 + mu * (p1 - p0);
        claim_q = q0 + mu * (q1 - q0);
        point = std::iter::once(mu).chain(rho).collect();
    }
    Ok(LeafClaim { root, point, p: claim_p, q: claim_q })
}

/// Adds fractions a/b + c/d without dividing.
pub fn add_fractions(a: [EF; 2], c: [EF; 2]) -> [EF; 2] {
    [a[0] * c[1] + c[0] * a[1], a[1] * c[1]]
}

/// The zero fraction 0/1.
pub fn zero_fraction() -> [EF; 2] {
    [EF::ZERO, EF::ONE]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate;
    use p3_field::Field;

    fn leaves(n: usize) -> (Vec<EF>, Vec<EF>) {
        let p = (0..1 << n).map(|i| EF::from_u64(i as u64 % 5 + 1)).collect();
        let q = (0..1 << n).map(|i| EF::from_u64(1000 + 7 * i as u64)).collect();
        (p, q)
    }

    #[test]
    fn fraction_sum_and_leaf_claim_are_correct() {
        for n in [0usize, 1, 4] {
            let (p, q) = leaves(n);
            let expected: EF = p.iter().zip(&q).map(|(a, b)| *a * b.inverse()).sum();
            let mut tp = Transcript::new(b"l");
            let (proof, _) = prove(p.clone(), q.clone(), &mut tp);
            let mut tv = Transcript::new(b"l");
            let c = verify(n, &proof, &mut tv).unwrap();
            assert_eq!(c.root[0] * c.root[1].inverse(), expected);
            assert_eq!(evaluate(&p, &c.point), c.p);
            assert_eq!(evaluate(&q, &c.point), c.q);
        }
    }

    #[test]
    fn tampered_children_or_root_are_caught() {
        let (p, q) = leaves(3);
        let mut tp = Transcript::new(b"l");
        let (proof, _) = prove(p.clone(), q.clone(), &mut tp);
        let mut bad = proof.clone();
        bad.steps[1].children[2] += EF::ONE;
        assert!(verify(3, &bad, &mut Transcript::new(b"l")).is_err());
        // A changed root passes the layer checks only if the leaf claim then fails.
        let mut bad = proof.clone();
        bad.root[0] += EF::ONE;
        match verify(3, &bad, &mut Transcript::new(b"l")) {
            Err(_) => {}
            Ok(c) => assert!(evaluate(&p, &c.point) != c.p || evaluate(&q, &c.point) != c.q),
        }
    }
}
