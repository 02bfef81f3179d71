//! The sumcheck masks: Libra's per-round masking polynomials g_l of every zero-knowledge
//! sumcheck in a proof, drawn before the first challenge and stored as extra columns of the
//! witness table (`zk::verifier::WitnessTable`), so they share its hiding commitment and opening.
//!
//! Round l of sumcheck s gets one column holding g_l's EF coefficients (lowest first, padded to
//! 2^a), split into base-field halves (`masked::split_ext`). A univariate value is one opening of
//! that column: with u_b = r^(2^b)/(1 + r^(2^b)), the eq-weight of coefficient t at u is
//! Π_b(1 − u_b)·r^t, so g(r) = c̃(u)/Π_b(1 − u_b).

use p3_field::PrimeCharacteristicRing;

use crate::error::Result;
use crate::field::{EF, F};
use crate::mle::log2_ceil;
use crate::zk::masked::{ext_point, split_ext};
use crate::zk::sumcheck::invert;

/// Where each round's mask lives.
pub struct MaskPlan {
    /// Round degrees of each sumcheck, in proof order.
    pub schedules: Vec<Vec<usize>>,
    /// Column of sumcheck s's first round.
    first: Vec<usize>,
    /// log2 size of each mask column.
    pub logs: Vec<usize>,
}

impl MaskPlan {
    /// Lays out one column per round of every schedule.
    pub fn new(schedules: Vec<Vec<usize>>) -> Self {
        let mut logs = Vec::new();
        let mut first = Vec::with_capacity(schedules.len());
        for s in &schedules {
            first.push(logs.len());
            logs.extend(s.iter().map(|&d| log2_ceil(d + 1) + 1));
        }
        Self {
            schedules,
            first,
            logs,
        }
    }

    /// The mask columns (`masks[s][l]` = coefficients of round l of sumcheck s).
    pub fn columns(&self, masks: &[Vec<Vec<EF>>]) -> Vec<Vec<F>> {
        let mut cols = Vec::with_capacity(self.logs.len());
        for s in masks {
            for g in s {
                let size = 1usize << log2_ceil(g.len());
                let mut c = g.clone();
                c.resize(size, EF::ZERO);
                cols.push(split_ext(&c));
            }
        }
        cols
    }

    /// The claims (mask column, local point, value) that check sumcheck s's revealed g_l(r_l).
    pub fn claims(
        &self,
        s: usize,
        point: &[EF],
        evals: &[EF],
    ) -> Result<Vec<(usize, Vec<EF>, EF)>> {
        let mut out = Vec::with_capacity(point.len());
        for (l, (&r, &v)) in point.iter().zip(evals).enumerate() {
            let d = self.schedules[s][l];
            let a = log2_ceil(d + 1);
            let mut u = Vec::with_capacity(a);
            let mut scale = EF::ONE;
            let mut pow = r;
            for _ in 0..a {
                let inv = invert(EF::ONE + pow, "mask opening")?;
                u.push(pow * inv);
                scale *= inv;
                pow = pow.square();
            }
            let (local, factor) = ext_point(&u)?;
            out.push((self.first[s] + l, local, v * scale * factor));
            out.extend(self.degree_claims(s, l)?);
        }
        Ok(out)
    }

    /// The claims that bound round l of sumcheck s's mask to its degree d_l: the column has
    /// 2^a ≥ d_l + 1 coefficient slots, and each slot past d_l must hold zero. Without them a
    /// prover could commit a mask of degree up to 2^a − 1, beyond the d_l + 1 values per round
    /// the verifier interpolates (Libra's analysis assumes deg g_l ≤ d_l). An honest mask's
    /// zero slots reveal nothing.
    fn degree_claims(&self, s: usize, l: usize) -> Result<Vec<(usize, Vec<EF>, EF)>> {
        let d = self.schedules[s][l];
        let a = log2_ceil(d + 1);
        let mut out = Vec::new();
        for t in d + 1..1usize << a {
            let bits: Vec<EF> = (0..a)
                .map(|b| if (t >> b) & 1 == 1 { EF::ONE } else { EF::ZERO })
                .collect();
            // (c₀(t) + ω·c₁(t))/(1 + ω) = 0 holds iff both base-field halves of c_t are zero.
            let (local, _) = ext_point(&bits)?;
            out.push((self.first[s] + l, local, EF::ZERO));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate_base;
    use crate::zk::sumcheck::horner;
    use rand::SeedableRng;

    #[test]
    fn mask_values_are_openings_of_the_mask_table() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let schedules = vec![vec![7, 3, 3], vec![4, 2]];
        let plan = MaskPlan::new(schedules.clone());
        let masks: Vec<Vec<Vec<EF>>> = schedules
            .iter()
            .map(|s| crate::zk::sumcheck::random_masks(s, &mut rng))
            .collect();
        let cols = plan.columns(&masks);
        for (s, m) in masks.iter().enumerate() {
            let point: Vec<EF> = (0..m.len())
                .map(|_| crate::zk::random_ef(&mut rng))
                .collect();
            let evals: Vec<EF> = m.iter().zip(&point).map(|(g, &r)| horner(g, r)).collect();
            for (c, p, v) in plan.claims(s, &point, &evals).unwrap() {
                assert_eq!(evaluate_base(&cols[c], &p), v);
            }
        }
    }

    /// A mask of degree 3 in a degree-2 round fits the column (4 slots) and its value g(r) is an
    /// honest opening of it, so the value claim alone passes; the degree claim (slot 3 is zero)
    /// does not.
    #[test]
    fn a_mask_above_its_round_degree_fails_its_degree_claim() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let plan = MaskPlan::new(vec![vec![2]]);
        let mut g = crate::zk::sumcheck::random_masks(&[2], &mut rng).remove(0);
        g.push(crate::zk::random_ef(&mut rng));
        let cols = plan.columns(&[vec![g.clone()]]);
        assert_eq!(
            cols[0].len(),
            1 << plan.logs[0],
            "the high coefficient fits the column"
        );
        let r = crate::zk::random_ef(&mut rng);
        let claims = plan.claims(0, &[r], &[horner(&g, r)]).unwrap();
        assert_eq!(claims.len(), 2, "a value claim and one degree claim");
        let (c, p, v) = &claims[0];
        assert_eq!(evaluate_base(&cols[*c], p), *v, "the value claim holds");
        let (c, p, v) = &claims[1];
        assert_ne!(evaluate_base(&cols[*c], p), *v, "the degree claim fails");
        // An honest mask passes both.
        let honest = crate::zk::sumcheck::random_masks(&[2], &mut rng);
        let cols = plan.columns(&[honest.clone()]);
        for (c, p, v) in plan.claims(0, &[r], &[horner(&honest[0], r)]).unwrap() {
            assert_eq!(evaluate_base(&cols[c], &p), v);
        }
    }
}
