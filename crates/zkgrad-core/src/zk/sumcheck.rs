//! Zero-knowledge sumcheck: Libra's masking polynomial (Xie et al., "Libra", CRYPTO 2019, §4)
//! over tables that may carry a masked-polynomial correction in their first variable.
//!
//! Claim: Σ_{x ∈ {0,1}^n} f(x) = c. The prover holds one random univariate g_l per round (EF
//! coefficients, committed with the witness table before the sumcheck starts; `zk/masks.rs`),
//! G(x) = Σ_l g_l(x_l). It sends ΣG over the hypercube, the verifier draws ρ, and the rounds
//! prove Σ (f + ρ·G) = c + ρ·ΣG. After the last round the prover reveals each g_l(r_l) (opened
//! from the witness commitment), and the verifier is left with f(r). Every round message is
//! f_l + ρ·(2^k·g_l + known terms) with a fresh random g_l of the round's degree, and the future
//! masks' endpoint sums hide each partial sum of f: the view is simulated from f(r) alone.
//!
//! The variables come in phases (e.g. a dense block binds its output variables, then its input
//! variables); each phase brings its own tables. A table may carry a mask table R for its phase's
//! first variable: its polynomial is then P̃(x) + x₀(1 − x₀)·R̃(x), which agrees with P on the
//! hypercube (`zk/masked.rs` says where these come from). That round has a higher degree; after
//! it the table is multilinear again.

use p3_field::{Field, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::transcript::Transcript;

/// Tables shorter than this are processed on the calling thread.
const PAR_MIN: usize = 1 << 12;
/// One table of a phase: its values and, for a masked polynomial, the mask and its variable.
pub struct Table {
    /// Values over the phase's remaining hypercube.
    pub p: Vec<EF>,
    /// R̃ such that the table's polynomial is P̃ + x_v(1 − x_v)·R̃.
    pub mask: Option<Vec<EF>>,
    /// v: the mask's variable, counted from the phase's next round.
    pub mask_var: usize,
}

impl Table {
    /// A multilinear table.
    pub fn plain(p: Vec<EF>) -> Self {
        Self {
            p,
            mask: None,
            mask_var: 0,
        }
    }

    /// A table masked in the phase's first variable.
    pub fn masked(p: Vec<EF>, mask: Vec<EF>) -> Self {
        Self {
            p,
            mask: Some(mask),
            mask_var: 0,
        }
    }

    /// A table masked in the phase's variable v (until round v the mask vanishes on the
    /// hypercube and is only folded along).
    pub fn masked_at(p: Vec<EF>, mask: Vec<EF>, v: usize) -> Self {
        Self {
            p,
            mask: Some(mask),
            mask_var: v,
        }
    }

    /// The mask if it acts in this round.
    fn live_mask(&self) -> Option<&Vec<EF>> {
        self.mask.as_ref().filter(|_| self.mask_var == 0)
    }
}

/// A group of tables with its own summand (see [`Prover::phase_groups`]).
pub struct Group {
    pub tables: Vec<Table>,
    pub summand: Box<dyn Fn(&[EF]) -> EF + Sync>,
}

/// The prover's messages.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ZkSumcheckProof {
    /// ΣG over the hypercube.
    pub mask_sum: EF,
    /// Round l's polynomial at 0..=degree_l.
    pub rounds: Vec<Vec<EF>>,
    /// g_l(r_l) for every round (checked against the witness commitment, where the masks live).
    pub mask_evals: Vec<EF>,
}

/// Evaluates a univariate with coefficients `c` (lowest first) at x.
pub fn horner(c: &[EF], x: EF) -> EF {
    c.iter().rev().fold(EF::ZERO, |acc, &a| acc * x + a)
}

/// Value at x of the line through (v0, v1), plus x(1 − x) times the line through (m0, m1).
#[inline]
fn masked_line(v0: EF, v1: EF, m: Option<(EF, EF)>, x: EF) -> EF {
    let base = v0 + x * (v1 - v0);
    match m {
        Some((m0, m1)) => base + x * (EF::ONE - x) * (m0 + x * (m1 - m0)),
        None => base,
    }
}

/// Σ over pairs of s(tables on the line) at x = 0..=degree.
fn round_values<S: Fn(&[EF]) -> EF + Sync + ?Sized>(
    tables: &[Table],
    degree: usize,
    s: &S,
) -> Vec<EF> {
    let pairs = tables[0].p.len() / 2;
    let k = tables.len();
    let masked = tables.iter().any(|t| t.live_mask().is_some());
    // x and x(1 − x) for x = 0..=degree.
    let xs: Vec<(EF, EF)> = (0..=degree)
        .map(|x| {
            (
                EF::from_usize(x),
                EF::from_usize(x) * (EF::ONE - EF::from_usize(x)),
            )
        })
        .collect();
    struct Scratch {
        acc: Vec<EF>,
        at: Vec<EF>,
        step: Vec<EF>,
        cur: Vec<EF>,
    }
    let new = || Scratch {
        acc: vec![EF::ZERO; degree + 1],
        at: vec![EF::ZERO; k],
        step: vec![EF::ZERO; k],
        cur: vec![EF::ZERO; k],
    };
    let pair = |mut sc: Scratch, j: usize| {
        for (i, t) in tables.iter().enumerate() {
            sc.at[i] = t.p[2 * j];
            sc.step[i] = t.p[2 * j + 1] - t.p[2 * j];
        }
        sc.acc[0] += s(&sc.at);
        for (x, &(xv, xx)) in xs.iter().enumerate().skip(1) {
            for (a, st) in sc.at.iter_mut().zip(&sc.step) {
                *a += *st;
            }
            if masked {
                for (i, t) in tables.iter().enumerate() {
                    sc.cur[i] = match t.live_mask() {
                        Some(m) => sc.at[i] + xx * (m[2 * j] + xv * (m[2 * j + 1] - m[2 * j])),
                        None => sc.at[i],
                    };
                }
                sc.acc[x] += s(&sc.cur);
            } else {
                sc.acc[x] += s(&sc.at);
            }
        }
        sc
    };
    let add = |mut a: Vec<EF>, b: Vec<EF>| {
        a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        a
    };
    if 2 * pairs < PAR_MIN {
        return (0..pairs).fold(new(), pair).acc;
    }
    (0..pairs)
        .into_par_iter()
        .fold(new, pair)
        .map(|sc| sc.acc)
        .reduce(|| vec![EF::ZERO; degree + 1], add)
}

/// Σ_j f(j) over `pairs` pairs, on the calling thread when small.
fn pair_sums(pairs: usize, f: impl Fn(usize) -> [EF; 3] + Sync) -> Vec<EF> {
    let add = |a: [EF; 3], b: [EF; 3]| [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
    let total = if 2 * pairs < PAR_MIN {
        (0..pairs).map(&f).fold([EF::ZERO; 3], add)
    } else {
        (0..pairs)
            .into_par_iter()
            .map(&f)
            .reduce(|| [EF::ZERO; 3], add)
    };
    total.to_vec()
}

/// (f(j))_j over `pairs` pairs, on the calling thread when small.
fn pair_map(pairs: usize, f: impl Fn(usize) -> EF + Sync + Send) -> Vec<EF> {
    if 2 * pairs < PAR_MIN {
        return (0..pairs).map(f).collect();
    }
    (0..pairs).into_par_iter().map(f).collect()
}

/// Binds variable 0 of every table to r (a live mask is folded in and dropped; a later one is
/// folded on its own).
fn fold(tables: &mut [Table], r: EF) {
    let line = |v: &[EF], m: Option<&[EF]>| -> Vec<EF> {
        let at = |j: usize| {
            masked_line(
                v[2 * j],
                v[2 * j + 1],
                m.map(|m| (m[2 * j], m[2 * j + 1])),
                r,
            )
        };
        // Small tables (most of a proof's: every lookup group, every late round) fold in place:
        // handing them to the thread pool cost more than the arithmetic.
        if v.len() < PAR_MIN {
            return (0..v.len() / 2).map(at).collect();
        }
        (0..v.len() / 2).into_par_iter().map(at).collect()
    };
    for t in tables.iter_mut() {
        if t.mask.is_some() && t.mask_var > 0 {
            t.p = line(&t.p, None);
            t.mask = Some(line(t.mask.as_ref().expect("checked"), None));
            t.mask_var -= 1;
        } else {
            let m = t.mask.take();
            t.p = line(&t.p, m.as_deref());
        }
    }
}

/// The mask part of round l's message at x: Σ over the remaining variables of G(r_<l, x, ·).
fn mask_round(g: &[EF], x: EF, past: EF, future: EF, remaining: usize) -> EF {
    let scale = EF::from_u64(1 << remaining);
    let fut = if remaining == 0 {
        EF::ZERO
    } else {
        EF::from_u64(1 << (remaining - 1)) * future
    };
    scale * (past + horner(g, x)) + fut
}

/// The prover's state across phases.
pub struct Prover {
    label: String,
    masks: Vec<Vec<EF>>,
    degrees: Vec<usize>,
    rho: EF,
    /// Σ_{k<l} g_k(r_k).
    past: EF,
    /// future[l] = Σ_{k>l} (g_k(0) + g_k(1)).
    future: Vec<EF>,
    proof: ZkSumcheckProof,
    point: Vec<EF>,
}

impl Prover {
    /// Starts a sumcheck of `degrees.len()` rounds with one mask polynomial per round.
    pub fn start(
        masks: Vec<Vec<EF>>,
        degrees: Vec<usize>,
        label: &str,
        tr: &mut Transcript,
    ) -> Self {
        assert_eq!(masks.len(), degrees.len(), "one mask per round");
        let n = degrees.len();
        let ends: Vec<EF> = masks
            .iter()
            .map(|g| horner(g, EF::ZERO) + horner(g, EF::ONE))
            .collect();
        let mut future = vec![EF::ZERO; n];
        for l in (0..n.saturating_sub(1)).rev() {
            future[l] = future[l + 1] + ends[l + 1];
        }
        let total: EF = ends.iter().copied().sum();
        let mask_sum = if n == 0 {
            EF::ZERO
        } else {
            EF::from_u64(1 << (n - 1)) * total
        };
        tr.absorb_ext(&format!("{label}.mask-sum"), &[mask_sum]);
        let rho = tr.challenge("zk-sumcheck-rho");
        let proof = ZkSumcheckProof {
            mask_sum,
            rounds: Vec::with_capacity(n),
            mask_evals: Vec::with_capacity(n),
        };
        Self {
            label: label.to_string(),
            masks,
            degrees,
            rho,
            past: EF::ZERO,
            future,
            proof,
            point: Vec::with_capacity(n),
        }
    }

    /// Runs the rounds of one phase over `tables` (all of one power-of-two length); returns the
    /// phase's point and each table's value there.
    pub fn phase<S: Fn(&[EF]) -> EF + Sync>(
        &mut self,
        mut tables: Vec<Table>,
        s: S,
        tr: &mut Transcript,
    ) -> (Vec<EF>, Vec<EF>) {
        let len = tables[0].p.len();
        assert!(
            len.is_power_of_two()
                && tables
                    .iter()
                    .all(|t| t.p.len() == len && t.mask.as_ref().is_none_or(|m| m.len() == len))
        );
        assert!(
            tables
                .iter()
                .all(|t| t.mask.is_none() || 1usize << t.mask_var < len),
            "a mask variable outside the phase"
        );
        let vars = len.trailing_zeros() as usize;
        let mut pt = Vec::with_capacity(vars);
        for _ in 0..vars {
            let l = self.point.len();
            let n = self.degrees.len();
            assert!(l < n, "more rounds than the schedule has");
            let d = self.degrees[l];
            let f = round_values(&tables, d, &s);
            let r = self.send_round(f, tr);
            pt.push(r);
            fold(&mut tables, r);
        }
        let finals = tables.iter().map(|t| t.p[0]).collect();
        (pt, finals)
    }

    /// Runs every round of Σ_x T(x)·W(x) (degree 2 per round; the batching of openings,
    /// `open.rs`) with T in the base field: the first round reads T without lifting it to EF,
    /// and no round builds per-entry scratch. Returns the point and T's value there.
    pub fn inner_product(&mut self, t: &[F], mut w: Vec<EF>, tr: &mut Transcript) -> (Vec<EF>, EF) {
        assert!(t.len().is_power_of_two() && t.len() == w.len());
        let vars = t.len().trailing_zeros() as usize;
        if vars == 0 {
            return (Vec::new(), EF::from(t[0]));
        }
        let two = F::TWO;
        let r = self.send_round(
            pair_sums(t.len() / 2, |j| {
                let (t0, t1, w0, w1) = (t[2 * j], t[2 * j + 1], w[2 * j], w[2 * j + 1]);
                [w0 * t0, w1 * t1, (w1.double() - w0) * (t1 * two - t0)]
            }),
            tr,
        );
        let mut pt = vec![r];
        let mut te: Vec<EF> = pair_map(t.len() / 2, |j| {
            EF::from(t[2 * j]) + r * (t[2 * j + 1] - t[2 * j])
        });
        w = pair_map(w.len() / 2, |j| w[2 * j] + r * (w[2 * j + 1] - w[2 * j]));
        for _ in 1..vars {
            let r = self.send_round(
                pair_sums(te.len() / 2, |j| {
                    let (t0, t1, w0, w1) = (te[2 * j], te[2 * j + 1], w[2 * j], w[2 * j + 1]);
                    [w0 * t0, w1 * t1, (w1.double() - w0) * (t1.double() - t0)]
                }),
                tr,
            );
            pt.push(r);
            te = pair_map(te.len() / 2, |j| {
                te[2 * j] + r * (te[2 * j + 1] - te[2 * j])
            });
            w = pair_map(w.len() / 2, |j| w[2 * j] + r * (w[2 * j + 1] - w[2 * j]));
        }
        (pt, te[0])
    }

    /// Like [`Prover::phase`] for a sum of independent groups over `vars` variables, each with
    /// its own tables of 2^k ≤ 2^vars entries, zero-padded in the high variables (a group's
    /// polynomial is its tables' times Π_{i ≥ k}(1 − x_i)). Work is proportional to each group's
    /// own size. Returns the point and, per group, its padded tables' values there.
    pub fn phase_groups(
        &mut self,
        mut groups: Vec<Group>,
        vars: usize,
        tr: &mut Transcript,
    ) -> (Vec<EF>, Vec<Vec<EF>>) {
        assert!(groups.iter().all(|g| g.tables[0].p.len() <= 1 << vars));
        let mut pt = Vec::with_capacity(vars);
        for _ in 0..vars {
            let l = self.point.len();
            let n = self.degrees.len();
            assert!(l < n, "more rounds than the schedule has");
            let d = self.degrees[l];
            let mut f = vec![EF::ZERO; d + 1];
            for g in &groups {
                let part = if g.tables[0].p.len() >= 2 {
                    round_values(&g.tables, d, &g.summand)
                } else {
                    // Past the group's own variables: each table is the line from v to 0.
                    (0..=d)
                        .map(|x| {
                            let one_minus = EF::ONE - EF::from_usize(x);
                            let at: Vec<EF> = g.tables.iter().map(|t| t.p[0] * one_minus).collect();
                            (g.summand)(&at)
                        })
                        .collect()
                };
                f.iter_mut().zip(part).for_each(|(a, b)| *a += b);
            }
            let r = self.send_round(f, tr);
            pt.push(r);
            for g in &mut groups {
                if g.tables[0].p.len() >= 2 {
                    fold(&mut g.tables, r);
                } else {
                    g.tables.iter_mut().for_each(|t| t.p[0] *= EF::ONE - r);
                }
            }
        }
        let finals = groups
            .iter()
            .map(|g| g.tables.iter().map(|t| t.p[0]).collect())
            .collect();
        (pt, finals)
    }

    /// Adds the mask to round values f(0..=d), sends them, and returns the challenge.
    fn send_round(&mut self, f: Vec<EF>, tr: &mut Transcript) -> EF {
        let l = self.point.len();
        let n = self.degrees.len();
        let g = &self.masks[l];
        let h: Vec<EF> = f
            .iter()
            .enumerate()
            .map(|(x, &fx)| {
                fx + self.rho
                    * mask_round(g, EF::from_usize(x), self.past, self.future[l], n - l - 1)
            })
            .collect();
        tr.absorb_ext(&self.label, &h);
        let r = tr.challenge("sumcheck-r");
        self.past += horner(g, r);
        self.proof.rounds.push(h);
        self.point.push(r);
        r
    }

    /// Ends the sumcheck: reveals every g_l(r_l); returns the proof and the whole point.
    pub fn finish(mut self, tr: &mut Transcript) -> (ZkSumcheckProof, Vec<EF>) {
        assert_eq!(
            self.point.len(),
            self.degrees.len(),
            "the phases did not cover every round"
        );
        self.proof.mask_evals = self
            .masks
            .iter()
            .zip(&self.point)
            .map(|(g, &r)| horner(g, r))
            .collect();
        tr.absorb_ext(
            &format!("{}.mask-evals", self.label),
            &self.proof.mask_evals,
        );
        (self.proof, self.point)
    }
}

/// Checks the rounds against `claim`; returns the point and the value f(point) must have.
/// The caller checks each `mask_evals[l]` against the commitment that holds the masks.
pub fn verify(
    claim: EF,
    degrees: &[usize],
    proof: &ZkSumcheckProof,
    label: &str,
    tr: &mut Transcript,
) -> Result<(Vec<EF>, EF)> {
    let n = degrees.len();
    if proof.rounds.len() != n || proof.mask_evals.len() != n {
        return Err(ProofError::Shape {
            what: "zero-knowledge sumcheck rounds",
            expected: n,
            got: proof.rounds.len(),
        });
    }
    tr.absorb_ext(&format!("{label}.mask-sum"), &[proof.mask_sum]);
    let rho = tr.challenge("zk-sumcheck-rho");
    let mut running = claim + rho * proof.mask_sum;
    let mut point = Vec::with_capacity(n);
    for (h, &d) in proof.rounds.iter().zip(degrees) {
        if h.len() != d + 1 {
            return Err(ProofError::Shape {
                what: "zero-knowledge sumcheck round degree",
                expected: d + 1,
                got: h.len(),
            });
        }
        if h[0] + h[1] != running {
            return Err(ProofError::Sumcheck(format!("{label}, round sum")));
        }
        tr.absorb_ext(label, h);
        let r = tr.challenge("sumcheck-r");
        running = interpolate_at(h, r);
        point.push(r);
    }
    tr.absorb_ext(&format!("{label}.mask-evals"), &proof.mask_evals);
    let g_sum: EF = proof.mask_evals.iter().copied().sum();
    Ok((point, running - rho * g_sum))
}

/// Random mask polynomials for a schedule (degree_l + 1 coefficients each).
pub fn random_masks(degrees: &[usize], rng: &mut impl rand::Rng) -> Vec<Vec<EF>> {
    degrees
        .iter()
        .map(|&d| (0..=d).map(|_| crate::zk::random_ef(rng)).collect())
        .collect()
}

/// 1/x, or an error naming what was not invertible (probability ~2^-128 for honest runs).
pub fn invert(x: EF, what: &str) -> Result<EF> {
    x.try_inverse()
        .ok_or_else(|| ProofError::Sumcheck(format!("{what}: a challenge hit a zero denominator")))
}

/// Evaluates the polynomial with values `evals[t]` at t = 0..d at the point `x` (Lagrange).
pub(crate) fn interpolate_at(evals: &[EF], x: EF) -> EF {
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
    use rand::SeedableRng;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    /// Proves Σ eq(τ,x)·a·b over 2^n with a and b masked, in two phases of the same tables'
    /// variables (n1 then n − n1), and checks the final value against direct evaluation.
    fn run(n: usize, tamper: bool) -> Result<()> {
        let mut rng = rng();
        let rv = |rng: &mut rand::rngs::StdRng, k: usize| {
            (0..1 << k)
                .map(|_| crate::zk::random_ef(rng))
                .collect::<Vec<EF>>()
        };
        let (a, b, ra, rb) = (
            rv(&mut rng, n),
            rv(&mut rng, n),
            rv(&mut rng, n),
            rv(&mut rng, n),
        );
        let claim: EF = a.iter().zip(&b).map(|(x, y)| *x * *y).sum();
        let degrees: Vec<usize> = (0..n).map(|l| if l == 0 { 6 } else { 2 }).collect();
        let masks = random_masks(&degrees, &mut rng);
        let mut tp = Transcript::new(b"t");
        let mut p = Prover::start(masks, degrees.clone(), "sc", &mut tp);
        let (_, fin) = p.phase(
            vec![
                Table::masked(a.clone(), ra.clone()),
                Table::masked(b.clone(), rb.clone()),
            ],
            |v| v[0] * v[1],
            &mut tp,
        );
        let (mut proof, point) = p.finish(&mut tp);
        if tamper {
            proof.rounds[n - 1][1] += EF::ONE;
        }
        let (vpoint, expected) = verify(claim, &degrees, &proof, "sc", &mut Transcript::new(b"t"))?;
        assert_eq!(vpoint, point);
        // The masked polynomial at the point: P̃(r) + r0(1 − r0)·R̃(r).
        let z = point[0] * (EF::ONE - point[0]);
        let am = evaluate(&a, &point) + z * evaluate(&ra, &point);
        let bm = evaluate(&b, &point) + z * evaluate(&rb, &point);
        assert_eq!(fin, vec![am, bm]);
        if am * bm != expected {
            return Err(ProofError::Sumcheck("final".into()));
        }
        Ok(())
    }

    #[test]
    fn masked_sumcheck_completes() {
        for n in [1, 2, 5, 13] {
            run(n, false).unwrap();
        }
    }

    /// A mask on a later variable: Σ a·b with b masked in variable 2 of 4.
    #[test]
    fn mask_on_a_later_variable() {
        let mut rng = rng();
        let rv = |rng: &mut rand::rngs::StdRng| {
            (0..16)
                .map(|_| crate::zk::random_ef(rng))
                .collect::<Vec<EF>>()
        };
        let (a, b, rb) = (rv(&mut rng), rv(&mut rng), rv(&mut rng));
        let claim: EF = a.iter().zip(&b).map(|(x, y)| *x * *y).sum();
        let degrees = vec![2, 2, 4, 2];
        let mut tp = Transcript::new(b"t");
        let mut p = Prover::start(
            random_masks(&degrees, &mut rng),
            degrees.clone(),
            "sc",
            &mut tp,
        );
        let (_, fin) = p.phase(
            vec![
                Table::plain(a.clone()),
                Table::masked_at(b.clone(), rb.clone(), 2),
            ],
            |v| v[0] * v[1],
            &mut tp,
        );
        let (proof, point) = p.finish(&mut tp);
        let (_, expected) =
            verify(claim, &degrees, &proof, "sc", &mut Transcript::new(b"t")).unwrap();
        let z = point[2] * (EF::ONE - point[2]);
        let bm = evaluate(&b, &point) + z * evaluate(&rb, &point);
        assert_eq!(fin, vec![evaluate(&a, &point), bm]);
        assert_eq!(fin[0] * fin[1], expected);
    }

    #[test]
    fn tampered_round_is_rejected() {
        assert!(run(4, true).is_err());
    }

    #[test]
    fn wrong_claim_is_rejected() {
        let mut rng = rng();
        let a: Vec<EF> = (0..8).map(|_| crate::zk::random_ef(&mut rng)).collect();
        let degrees = vec![1; 3];
        let mut tp = Transcript::new(b"t");
        let mut p = Prover::start(
            random_masks(&degrees, &mut rng),
            degrees.clone(),
            "sc",
            &mut tp,
        );
        p.phase(vec![Table::plain(a.clone())], |v| v[0], &mut tp);
        let (proof, _) = p.finish(&mut tp);
        let claim: EF = a.iter().copied().sum::<EF>() + EF::ONE;
        assert!(verify(claim, &degrees, &proof, "sc", &mut Transcript::new(b"t")).is_err());
    }

    #[test]
    fn two_runs_send_different_messages() {
        let a: Vec<EF> = (0..8).map(|i| EF::from_u64(i)).collect();
        let degrees = vec![1; 3];
        let msgs = |seed| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut tp = Transcript::new(b"t");
            let mut p = Prover::start(
                random_masks(&degrees, &mut rng),
                degrees.clone(),
                "sc",
                &mut tp,
            );
            p.phase(vec![Table::plain(a.clone())], |v| v[0], &mut tp);
            p.finish(&mut tp).0
        };
        assert_ne!(msgs(1).rounds, msgs(2).rounds);
    }
}
