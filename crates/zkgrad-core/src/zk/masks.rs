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
use crate::zk::sumcheck::invert;
use crate::zk::masked::{ext_point, split_ext};

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
        Self { schedules, first, logs }
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
    pub fn claims(&self, s: usize, point: &[EF], evals: &[EF]) -> Result<Vec<(usize, Vec<EF>, EF)>> {
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
        let masks: Vec<Vec<Vec<EF>>> = schedules.iter().map(|s| crate::zk::sumcheck::random_masks(s, &mut rng)).collect();
        let cols = plan.columns(&masks);
        for (s, m) in masks.iter().enumerate() {
            let point: Vec<EF> = (0..m.len()).map(|_| crate::zk::random_ef(&mut rng)).collect();
            let evals: Vec<EF> = m.iter().zip(&point).map(|(g, &r)| horner(g, r)).collect();
            for (c, p, v) in plan.claims(s, &point, &evals).unwrap() {
                assert_eq!(evaluate_base(&cols[c], &p), v);
            }
        }
    }
}
