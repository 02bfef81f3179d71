//! The weight range certificate: a zero-knowledge proof, made once when the model is committed and
//! kept with its commitment (`ModelCommitment::range`), that every committed weight and bias lies
//! in the signed integer range its column's public bit width E says, [−2^(E−1), 2^(E−1)).
//!
//! Why: the relation is checked in the field, p = 2^64 − 2^32 + 1. A block proves
//! z·m_b ≡ 2^b·q + t − 2^(b−1) (mod p) with z ≡ Σ_j W_ij·x_j + bias_i, |q| < 2^(b−1), 0 ≤ t < 2^b
//! (range lookups on the witness, b ≤ 16). The integers behind it are bounded only if W and the bias
//! are: with |x_j| ≤ 2^(b−1) (every activation is range-checked), |W| ≤ 2^(E_w−1), |bias| ≤
//! 2^(E_b−1) and fan-in F (a dense block's inputs, a convolution's C_in·kh·kw),
//!   |z| ≤ Z = F·2^(E_w−1)·2^(b−1) + 2^(E_b−1),
//! and [`crate::circuit::check_accumulator_bound`] demands Z·m_b < 2^62 (m_b ≤ 2^24·2^15). Then the
//! integer z·m_b − (2^b·q + t − 2^(b−1)) has magnitude < 2^62 + 2^32 < p, so the congruence is an
//! equality of integers: no accumulator can wrap, for any committed model that passes this
//! certificate. (Example: MNIST 784-128-10, b = 16, E_w = 16, E_b = 32, shift 12 so m_b = 2^4:
//! Z·m_b < 2^9.62·2^15·2^15·2^4 + 2^35 ≈ 2^43.6.) A key whose bits or fan-ins could wrap is refused.
//!
//! How (LogUp with committed inverses, as `lookup.rs`, against the 2^16-entry range table
//! T = {0..2^16 − 1}): with u = v + 2^(E−1),
//! - E ≤ 16: u ∈ T, and for E < 16 also u + 2^16 − 2^E ∈ T (so u < 2^E);
//! - E > 16: u = lo + 2^16·hi with lo, hi committed limbs, lo ∈ T, hi ∈ T, and for E < 32 also
//!   hi + 2^16 − 2^(E−16) ∈ T; the zero-check ν·eq(τ, x)·(v + 2^(E−1) − lo − 2^16·hi) joins the sum.
//! Both sides of every congruence are below p, so each is an integer statement. Committed after
//! the statement (circuit digest, weight commitment, bits): the limb table (limbs, the table's
//! multiplicities, every sumcheck mask of the certificate); after α: the inverses. One masked
//! sumcheck with claim 0 proves all lookups (their zero-checks h·(α − u) = 1 and Σh = Σ m/(α − T))
//! and the limb zero-checks; three batchings (`open.rs`) reduce its claims to one point per table.
//!
//! What it reveals on the weight commitment (its hiding budget): one masked value per weight
//! column at the lookup sumcheck's point (each column is claimed once, however many lookups read
//! it: the same point, the same value) and the weight batching's T(ρ), plus one more WHIR opening
//! of the weight table — the same as one inference proof's opening, made once per commitment.
//! Like a proof, it draws its own lift point for the weight table's lifted masks
//! (`masked::LiftPoint`, after its commitments and before any weight value).

use p3_field::{PrimeCharacteristicRing, batch_multiplicative_inverse};
use p3_maybe_rayon::prelude::*;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::lookup::pad_factor;
use super::masked::{LiftPoint, MaskedLayout, ext_point, join_ext, split_ext};
use super::masks::MaskPlan;
use super::open::{self, ColumnClaim};
use super::sumcheck::{self as zksc, Group, Table, ZkSumcheckProof, invert};
use crate::circuit::CircuitSpec;
use crate::commit::{WeightTables, weight_columns};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::{eq_eval, eq_table};
use crate::pcs::{Commitment, OpeningProof, Pcs};
use crate::transcript::Transcript;

/// Limb width: the range table has 2^LIMB entries.
pub const LIMB: usize = 16;
/// The widest weight the certificate covers (i32, the IR's constant type).
pub const MAX_BITS: u32 = 32;
const DOMAIN: &[u8] = b"zkgrad/weight-range/v1";

/// The certificate's messages.
#[derive(Clone, Serialize, Deserialize)]
pub struct RangeCertificate {
    /// The limb table: limbs, multiplicities, and the certificate's sumcheck masks.
    pub limb_commitment: Commitment,
    /// The LogUp inverses (committed after α).
    pub inverse_commitment: Commitment,
    /// The lookup and limb sumcheck (claim 0).
    pub lookup: ZkSumcheckProof,
    /// ḣ per lookup at the sumcheck point.
    pub inverses: Vec<EF>,
    /// Weight columns, then limb columns (lo, hi per wide column), then the multiplicities.
    pub values: Vec<EF>,
    /// Batchings of the inverse, weight and limb tables: messages and T(ρ).
    pub batches: Vec<(ZkSumcheckProof, EF)>,
    /// Openings: inverses, weights, limbs (the batched point, then its own batching's masks).
    pub openings: Vec<OpeningProof>,
}

impl std::fmt::Debug for RangeCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RangeCertificate({} lookups, {} values)",
            self.inverses.len(),
            self.values.len()
        )
    }
}

/// Where a looked-up value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Src {
    /// A weight column (index in the weight layout).
    Weight(usize),
    /// A limb column (index in the limb layout).
    Limb(usize),
}

/// What the public bits imply: the lookups, the limbs, the tables' layouts.
struct Plan {
    /// (source, its variables, offset added before the lookup).
    lookups: Vec<(Src, usize, F)>,
    /// Wide columns: (weight column, variables, lo limb, hi limb, 2^(E−1)).
    splits: Vec<(usize, usize, usize, usize, F)>,
    /// Limb layout column of the multiplicities.
    mult: usize,
    /// Variables of the lookup sumcheck.
    vars: usize,
    limb_layout: MaskedLayout,
    mask_plan: MaskPlan,
    mask_first: usize,
    inverse_layout: MaskedLayout,
}

fn pow2(e: usize) -> F {
    F::from_u64(1u64 << e)
}

impl Plan {
    fn new(weights: &MaskedLayout, bits: &[u8]) -> Result<Self> {
        let n_cols = weights.masked.len();
        if bits.len() != n_cols || bits.iter().any(|&b| b as u32 > MAX_BITS) {
            return Err(ProofError::Malformed(format!(
                "the weight range bits do not fit the weight layout ({n_cols} columns, at most {MAX_BITS} bits)"
            )));
        }
        let (mut lookups, mut splits, mut limb_logs) = (Vec::new(), Vec::new(), Vec::new());
        for (c, &e) in bits.iter().enumerate() {
            let (e, k) = (e as usize, weights.col_vars(c));
            if e == 0 {
                continue;
            }
            if e <= LIMB {
                lookups.push((Src::Weight(c), k, pow2(e - 1)));
                if e < LIMB {
                    lookups.push((Src::Weight(c), k, pow2(e - 1) + pow2(LIMB) - pow2(e)));
                }
            } else {
                let (lo, hi) = (limb_logs.len(), limb_logs.len() + 1);
                limb_logs.extend([k, k]);
                lookups.push((Src::Limb(lo), k, F::ZERO));
                lookups.push((Src::Limb(hi), k, F::ZERO));
                if e < 2 * LIMB {
                    lookups.push((Src::Limb(hi), k, pow2(LIMB) - pow2(e - LIMB)));
                }
                splits.push((c, k, lo, hi, pow2(e - 1)));
            }
        }
        if weights.masked.iter().zip(bits).any(|(&m, &b)| m && b == 0) {
            return Err(ProofError::Malformed(
                "a weight column without a range".into(),
            ));
        }
        let mult = limb_logs.len();
        limb_logs.push(LIMB);
        let vars = lookups
            .iter()
            .map(|l| l.1)
            .chain([LIMB])
            .max()
            .unwrap_or(LIMB);
        let inverse_layout = MaskedLayout::new(
            &lookups.iter().map(|l| l.1 + 1).collect::<Vec<_>>(),
            &vec![true; lookups.len()],
        );
        // The limb table holds the certificate's sumcheck masks, its own batching's included:
        // grow its variable count to a fixed point (as `zk::verifier::WitnessTable`).
        let mask_first = limb_logs.len();
        let mut tv = 1;
        loop {
            let schedules = vec![
                (0..vars).map(|l| if l == 0 { 7 } else { 3 }).collect(),
                open::schedule(inverse_layout.num_vars()),
                open::schedule(weights.num_vars()),
                open::schedule(tv),
            ];
            let mask_plan = MaskPlan::new(schedules);
            let logs: Vec<usize> = limb_logs.iter().chain(&mask_plan.logs).copied().collect();
            let mut masked = vec![true; limb_logs.len()];
            masked.resize(logs.len(), false);
            let limb_layout = MaskedLayout::new(&logs, &masked);
            if limb_layout.num_vars() <= tv {
                return Ok(Self {
                    lookups,
                    splits,
                    mult,
                    vars,
                    limb_layout,
                    mask_plan,
                    mask_first,
                    inverse_layout,
                });
            }
            tv = limb_layout.num_vars();
        }
    }

    /// The claims the sumcheck's final values make (weights, limbs, inverses).
    fn claims(
        &self,
        point: &[EF],
        inverses: &[EF],
        values: &[EF],
        n_weight_cols: usize,
    ) -> Result<[Vec<ColumnClaim>; 3]> {
        let mut inv = Vec::new();
        for (l, &(_, k, _)) in self.lookups.iter().enumerate() {
            let (p, factor) = ext_point(&point[..k])?;
            inv.push((l, p, inverses[l] * factor));
        }
        let (wcols, lcols) = self.value_columns(n_weight_cols);
        let wt: Vec<ColumnClaim> = wcols
            .iter()
            .zip(values)
            .map(|(&(c, k), &v)| (c, point[..k].to_vec(), v))
            .collect();
        let mut limbs: Vec<ColumnClaim> = lcols
            .iter()
            .zip(&values[wcols.len()..])
            .map(|(&(c, k), &v)| (c, point[..k].to_vec(), v))
            .collect();
        limbs.push((
            self.mult,
            point[..LIMB].to_vec(),
            values[wcols.len() + lcols.len()],
        ));
        Ok([inv, wt, limbs])
    }

    /// The weight columns and limb columns whose values the certificate reveals, each once.
    fn value_columns(&self, n_weight_cols: usize) -> (Vec<(usize, usize)>, Vec<(usize, usize)>) {
        let mut w = vec![None; n_weight_cols];
        let mut l = Vec::new();
        for &(src, k, _) in &self.lookups {
            match src {
                Src::Weight(c) => w[c] = Some(k),
                Src::Limb(c) if !l.iter().any(|&(d, _)| d == c) => l.push((c, k)),
                Src::Limb(_) => {}
            }
        }
        for &(c, k, ..) in &self.splits {
            w[c] = Some(k);
        }
        (
            w.into_iter()
                .enumerate()
                .filter_map(|(c, k)| k.map(|k| (c, k)))
                .collect(),
            l,
        )
    }
}

/// Each column's bit width: the smallest E with every value in [−2^(E−1), 2^(E−1)), rounded up
/// to 16 or 32 (one or two limbs, fewer lookups) unless the accumulator bound needs the tight width.
pub fn choose_bits(spec: &CircuitSpec, cols: &[Vec<F>]) -> Result<Vec<u8>> {
    let tight: Vec<u8> = cols
        .iter()
        .map(|c| {
            let max = c
                .iter()
                .map(|&v| crate::field::to_i64(v))
                .map(|v| if v < 0 { -(v + 1) } else { v })
                .max()
                .unwrap_or(0);
            (64 - max.leading_zeros() + 1).min(64) as u8
        })
        .collect();
    if let Some((c, _)) = tight
        .iter()
        .enumerate()
        .find(|&(_, &b)| b as u32 > MAX_BITS)
    {
        return Err(ProofError::Circuit(format!(
            "weight column {c} has values outside the 32-bit range the range certificate covers"
        )));
    }
    let round = |b: u8| {
        if b as usize <= LIMB {
            LIMB as u8
        } else {
            MAX_BITS as u8
        }
    };
    let mut bits: Vec<u8> = Vec::with_capacity(cols.len());
    for l in 0..spec.layers.len() {
        let wc = weight_columns(spec, l);
        let ids: Vec<usize> = wc.pieces.iter().map(|p| p.col).chain([wc.bias]).collect();
        let mut lb: Vec<u8> = ids.iter().map(|&c| round(tight[c])).collect();
        if check_layer(spec, l, &ids, &lb).is_err() {
            lb = ids.iter().map(|&c| tight[c]).collect();
            check_layer(spec, l, &ids, &lb)?;
        }
        bits.extend(lb);
    }
    // Empty pooling columns carry no range.
    for (c, b) in bits.iter_mut().enumerate() {
        if cols[c].len() <= 1 && cols[c].iter().all(|v| *v == F::ZERO) {
            *b = 0;
        }
    }
    Ok(bits)
}

fn check_layer(spec: &CircuitSpec, l: usize, ids: &[usize], bits: &[u8]) -> Result<()> {
    if !spec.layers[l].is_linear() {
        return Ok(());
    }
    let w = bits[..ids.len() - 1].iter().copied().max().unwrap_or(1) as u32;
    crate::circuit::check_accumulator_bound(spec, l, w, bits[ids.len() - 1] as u32)
}

/// Checks every block's accumulator bound under `bits` (what the verifier relies on).
pub fn check_bits(spec: &CircuitSpec, bits: &[u8]) -> Result<()> {
    for l in 0..spec.layers.len() {
        let wc = weight_columns(spec, l);
        let ids: Vec<usize> = wc.pieces.iter().map(|p| p.col).chain([wc.bias]).collect();
        if ids.iter().any(|&c| c >= bits.len()) {
            return Err(ProofError::Malformed(
                "the weight range bits do not cover every weight column".into(),
            ));
        }
        let lb: Vec<u8> = ids.iter().map(|&c| bits[c]).collect();
        check_layer(spec, l, &ids, &lb)?;
    }
    Ok(())
}

fn start(spec: &CircuitSpec, weights: &Commitment, bits: &[u8]) -> Transcript {
    let mut tr = Transcript::new(DOMAIN);
    tr.absorb_bytes("circuit", &spec.digest());
    tr.absorb_bytes("weight-commitment", &weights.digest());
    tr.absorb_bytes("bits", bits);
    tr
}

pub(crate) fn table_weights(alpha: EF) -> Result<Vec<EF>> {
    let d: Vec<EF> = (0..1u64 << LIMB)
        .into_par_iter()
        .map(|t| alpha - EF::from_u64(t))
        .collect();
    if d.contains(&EF::ZERO) {
        return Err(ProofError::Lookup(
            "the challenge α is a table entry (probability 2^-128)".into(),
        ));
    }
    Ok(batch_multiplicative_inverse(&d))
}

fn lookup_summand(alpha: EF, mu: EF, off: EF) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| mu * v[0] * (v[1] * (alpha - v[2] - off) - EF::ONE) + v[1]
}

fn split_summand(nu: EF, off: EF) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    let base = EF::from_u64(1 << LIMB);
    move |v: &[EF]| nu * v[0] * (v[1] + off - v[2] - base * v[3])
}

/// Proves the ranges of `tables`' columns (committed as `weights`, with `seed`'s randomness).
pub fn prove(
    spec: &CircuitSpec,
    tables: &WeightTables,
    weights: &Commitment,
    bits: &[u8],
    seed: [u8; 32],
) -> Result<RangeCertificate> {
    let plan = Plan::new(&tables.layout, bits)?;
    let mut rng = rand::rngs::StdRng::from_seed(
        *blake3::keyed_hash(&seed, b"zkgrad weight range certificate").as_bytes(),
    );
    let mut tr = start(spec, weights, bits);
    let cols = &tables.cols;
    let to_i = |v: F| crate::field::to_i64(v);
    // Limbs of the wide columns, then the multiplicities of every looked-up value.
    let mut limbs: Vec<Vec<F>> = vec![Vec::new(); plan.mult + 1];
    for &(c, _, lo, hi, off) in &plan.splits {
        let u: Vec<i64> = cols[c].iter().map(|&v| to_i(v + off)).collect();
        limbs[lo] = u
            .iter()
            .map(|&x| crate::field::from_i64(x.rem_euclid(1 << LIMB)))
            .collect();
        limbs[hi] = u
            .iter()
            .map(|&x| crate::field::from_i64(x.div_euclid(1 << LIMB)))
            .collect();
    }
    let value = |src: Src, limbs: &[Vec<F>]| -> Vec<F> {
        match src {
            Src::Weight(c) => cols[c].clone(),
            Src::Limb(c) => limbs[c].clone(),
        }
    };
    let mut counts = vec![0u64; 1 << LIMB];
    for &(src, _, off) in &plan.lookups {
        for v in value(src, &limbs) {
            // An out-of-range value is left out: the lookup then fails, as it must.
            if let Some(c) = usize::try_from(to_i(v + off))
                .ok()
                .and_then(|j| counts.get_mut(j))
            {
                *c += 1;
            }
        }
    }
    limbs[plan.mult] = counts.into_iter().map(F::from_u64).collect();
    let masks: Vec<Vec<Vec<EF>>> = plan
        .mask_plan
        .schedules
        .iter()
        .map(|s| zksc::random_masks(s, &mut rng))
        .collect();
    let mut limb_cols = limbs.clone();
    limb_cols.extend(plan.mask_plan.columns(&masks));
    let (limb_table, limb_r) = plan.limb_layout.masked_table(&limb_cols, &mut rng);
    drop(limb_cols);
    let limb_pcs = Pcs::new(plan.limb_layout.num_vars(), true);
    let (limb_commitment, limb_data) = limb_pcs.commit(limb_table.clone(), rng.random());
    tr.absorb_bytes("limb-commitment", &limb_commitment.digest());
    let alpha = tr.challenge("range-alpha");
    let mut inv = Vec::with_capacity(plan.lookups.len());
    for &(src, _, off) in &plan.lookups {
        let d: Vec<EF> = value(src, &limbs)
            .into_iter()
            .map(|v| alpha - EF::from(v + off))
            .collect();
        if d.contains(&EF::ZERO) {
            return Err(ProofError::Lookup(
                "a weight equals the challenge α (probability 2^-128); commit again".into(),
            ));
        }
        inv.push(batch_multiplicative_inverse(&d));
    }
    let inv_cols: Vec<Vec<F>> = inv.iter().map(|h| split_ext(h)).collect();
    let (inv_table, inv_r) = plan.inverse_layout.masked_table(&inv_cols, &mut rng);
    let inv_pcs = Pcs::new(plan.inverse_layout.num_vars(), true);
    let (inverse_commitment, inv_data) = inv_pcs.commit(inv_table.clone(), rng.random());
    tr.absorb_bytes("inverse-commitment", &inverse_commitment.digest());
    // The certificate's own point for the weight table's lifted masks, as a proof draws its own.
    let lift_point = LiftPoint::draw(&tables.layout, &mut tr);
    let w_r = tables.expanded_masks(&lift_point);
    let tau = tr.challenge_point("range-tau", plan.vars);
    let mus: Vec<EF> = (0..plan.lookups.len() + plan.splits.len())
        .map(|_| tr.challenge("range-mu"))
        .collect();
    let lift = |c: &[F]| c.iter().map(|&x| EF::from(x)).collect::<Vec<EF>>();
    let column = |src: Src| match src {
        Src::Weight(c) => Table::masked(lift(&cols[c]), lift(&w_r[c])),
        Src::Limb(c) => Table::masked(lift(&limbs[c]), lift(&limb_r[c])),
    };
    let mut groups = Vec::new();
    for (l, &(src, k, off)) in plan.lookups.iter().enumerate() {
        let tables = vec![
            Table::plain(eq_table(&tau[..k])),
            Table::masked(inv[l].clone(), join_ext(&inv_r[l])),
            column(src),
        ];
        groups.push(Group {
            tables,
            summand: Box::new(lookup_summand(alpha, mus[l], EF::from(off))),
        });
    }
    let tw = table_weights(alpha)?;
    groups.push(Group {
        tables: vec![column(Src::Limb(plan.mult)), Table::plain(tw)],
        summand: Box::new(|v: &[EF]| -(v[0] * v[1])),
    });
    let nl = plan.lookups.len();
    for (s, &(c, k, lo, hi, off)) in plan.splits.iter().enumerate() {
        let tables = vec![
            Table::plain(eq_table(&tau[..k])),
            column(Src::Weight(c)),
            column(Src::Limb(lo)),
            column(Src::Limb(hi)),
        ];
        groups.push(Group {
            tables,
            summand: Box::new(split_summand(mus[nl + s], EF::from(off))),
        });
    }
    let mut masks = masks.into_iter();
    let mut mask_claims = Vec::new();
    let mut sc = zksc::Prover::start(
        masks.next().expect("four schedules"),
        plan.mask_plan.schedules[0].clone(),
        "range-lookup",
        &mut tr,
    );
    let (point, finals) = sc.phase_groups(groups, plan.vars, &mut tr);
    let (lookup, _) = sc.finish(&mut tr);
    mask_claims.extend(plan.mask_plan.claims(0, &point, &lookup.mask_evals)?);
    // Each column's own (masked) value: undo the zero padding of the smaller groups.
    let unpad = |k: usize| invert(pad_factor(&point, k), "range padding");
    let mut inverses = Vec::with_capacity(nl);
    for (&(_, k, _), f) in plan.lookups.iter().zip(&finals) {
        inverses.push(f[1] * unpad(k)?);
    }
    let (wv, lv) = plan.value_columns(cols.len());
    let mut values = Vec::new();
    for &(c, k) in &wv {
        let at = |t: &[F], r: &[F]| super::dense::masked_eval(t, r, &point[..k]);
        values.push(at(&cols[c], &w_r[c]));
    }
    for &(c, k) in &lv {
        values.push(super::dense::masked_eval(
            &limbs[c],
            &limb_r[c],
            &point[..k],
        ));
    }
    values.push(finals[nl][0] * unpad(LIMB)?);
    tr.absorb_ext("range-inverses", &inverses);
    tr.absorb_ext("range-values", &values);
    let [inv_claims, w_claims, mut limb_claims] =
        plan.claims(&point, &inverses, &values, cols.len())?;
    // Batch each table's claims to one point; the limb table's last, as it holds the masks.
    let weight_table = tables.table();
    let mut batches = Vec::new();
    let mut rhos = Vec::new();
    let none = LiftPoint::none();
    for (s, (label, layout, table, claims)) in [
        (
            "range-open-inverses",
            (&plan.inverse_layout, &none),
            &inv_table,
            &inv_claims,
        ),
        (
            "range-open-weights",
            (&tables.layout, &lift_point),
            &weight_table,
            &w_claims,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let g = masks.next().expect("four schedules");
        let start = |tr: &mut Transcript| {
            zksc::Prover::start(g, plan.mask_plan.schedules[s + 1].clone(), label, tr)
        };
        let (proof, rho, value) = open::prove_with(&mut tr, label, layout, table, claims, start);
        mask_claims.extend(plan.mask_plan.claims(s + 1, &rho, &proof.mask_evals)?);
        batches.push((proof, value));
        rhos.push(rho);
    }
    limb_claims.extend(
        mask_claims
            .into_iter()
            .map(|(c, z, v)| (plan.mask_first + c, z, v)),
    );
    let label = "range-open-limbs";
    let g = masks.next().expect("four schedules");
    let start = |tr: &mut Transcript| {
        zksc::Prover::start(g, plan.mask_plan.schedules[3].clone(), label, tr)
    };
    let (proof, rho_l, value) = open::prove_with(
        &mut tr,
        label,
        (&plan.limb_layout, &none),
        &limb_table,
        &limb_claims,
        start,
    );
    let own = plan.mask_plan.claims(3, &rho_l, &proof.mask_evals)?;
    batches.push((proof, value));
    let mut limb_points = vec![rho_l];
    limb_points.extend(own.iter().map(|(c, z, _)| {
        plan.limb_layout
            .point(plan.mask_first + c, z)
            .expect("mask columns are unmasked")
    }));
    let weight_pcs = crate::commit::weight_pcs(spec)?;
    let weight_data = weight_pcs.commit(weight_table, seed).1;
    let openings = vec![
        inv_pcs.open(inv_data, &[rhos[0].clone()], &mut tr).1,
        weight_pcs.open(weight_data, &[rhos[1].clone()], &mut tr).1,
        limb_pcs.open(limb_data, &limb_points, &mut tr).1,
    ];
    Ok(RangeCertificate {
        limb_commitment,
        inverse_commitment,
        lookup,
        inverses,
        values,
        batches,
        openings,
    })
}

/// Checks a certificate for the weight commitment `weights` with per-column `bits`; every
/// failure names the certificate.
pub fn verify(
    spec: &CircuitSpec,
    weights: &Commitment,
    bits: &[u8],
    cert: &RangeCertificate,
) -> Result<()> {
    verify_inner(spec, weights, bits, cert).map_err(|e| match e {
        e @ ProofError::Circuit(_) => e,
        e => ProofError::Lookup(format!("the weight range certificate fails ({e})")),
    })
}

fn verify_inner(
    spec: &CircuitSpec,
    weights: &Commitment,
    bits: &[u8],
    cert: &RangeCertificate,
) -> Result<()> {
    let wl = crate::commit::weight_masked_layout(spec);
    check_bits(spec, bits)?;
    let plan = Plan::new(&wl, bits)?;
    let nl = plan.lookups.len();
    let (wv, lv) = plan.value_columns(wl.masked.len());
    let n_values = wv.len() + lv.len() + 1;
    if cert.inverses.len() != nl
        || cert.values.len() != n_values
        || cert.batches.len() != 3
        || cert.openings.len() != 3
    {
        return Err(ProofError::Shape {
            what: "range certificate values",
            expected: n_values,
            got: cert.values.len(),
        });
    }
    let mut tr = start(spec, weights, bits);
    tr.absorb_bytes("limb-commitment", &cert.limb_commitment.digest());
    let alpha = tr.challenge("range-alpha");
    tr.absorb_bytes("inverse-commitment", &cert.inverse_commitment.digest());
    let lift = LiftPoint::draw(&wl, &mut tr);
    let tau = tr.challenge_point("range-tau", plan.vars);
    let mus: Vec<EF> = (0..nl + plan.splits.len())
        .map(|_| tr.challenge("range-mu"))
        .collect();
    let (point, expected) = zksc::verify(
        EF::ZERO,
        &plan.mask_plan.schedules[0],
        &cert.lookup,
        "range-lookup",
        &mut tr,
    )?;
    let mut mask_claims = plan.mask_plan.claims(0, &point, &cert.lookup.mask_evals)?;
    let weight_value = |c: usize| wv.iter().position(|&(d, _)| d == c).map(|i| cert.values[i]);
    let limb_value = |c: usize| {
        lv.iter()
            .position(|&(d, _)| d == c)
            .map(|i| cert.values[wv.len() + i])
    };
    let missing = || ProofError::Malformed("a range certificate value is missing".into());
    let mut total = EF::ZERO;
    for (l, &(src, k, off)) in plan.lookups.iter().enumerate() {
        let s = pad_factor(&point, k);
        let v = match src {
            Src::Weight(c) => weight_value(c),
            Src::Limb(c) => limb_value(c),
        }
        .ok_or_else(missing)?;
        total += lookup_summand(alpha, mus[l], EF::from(off))(&[
            eq_eval(&tau[..k], &point[..k]) * s,
            cert.inverses[l] * s,
            v * s,
        ]);
    }
    let tw = crate::mle::evaluate(&table_weights(alpha)?, &point[..LIMB]);
    total -= cert.values[n_values - 1] * tw * pad_factor(&point, LIMB) * pad_factor(&point, LIMB);
    for (s, &(c, k, lo, hi, off)) in plan.splits.iter().enumerate() {
        let f = pad_factor(&point, k);
        let v = [
            eq_eval(&tau[..k], &point[..k]) * f,
            weight_value(c).ok_or_else(missing)? * f,
            limb_value(lo).ok_or_else(missing)? * f,
            limb_value(hi).ok_or_else(missing)? * f,
        ];
        total += split_summand(mus[nl + s], EF::from(off))(&v);
    }
    if total != expected {
        return Err(ProofError::Lookup(
            "the weight range certificate fails: a committed weight is outside its declared range"
                .into(),
        ));
    }
    tr.absorb_ext("range-inverses", &cert.inverses);
    tr.absorb_ext("range-values", &cert.values);
    let [inv_claims, w_claims, mut limb_claims] =
        plan.claims(&point, &cert.inverses, &cert.values, wl.masked.len())?;
    let mut rhos = Vec::new();
    let none = LiftPoint::none();
    for (s, (label, layout, claims)) in [
        (
            "range-open-inverses",
            (&plan.inverse_layout, &none),
            &inv_claims,
        ),
        ("range-open-weights", (&wl, &lift), &w_claims),
    ]
    .into_iter()
    .enumerate()
    {
        let (proof, value) = &cert.batches[s];
        let rho = open::verify_with(
            &plan.mask_plan.schedules[s + 1],
            &mut tr,
            label,
            layout,
            claims,
            proof,
            *value,
        )?;
        mask_claims.extend(plan.mask_plan.claims(s + 1, &rho, &proof.mask_evals)?);
        rhos.push(rho);
    }
    limb_claims.extend(
        mask_claims
            .into_iter()
            .map(|(c, z, v)| (plan.mask_first + c, z, v)),
    );
    let (proof, value) = &cert.batches[2];
    let rho_l = open::verify_with(
        &plan.mask_plan.schedules[3],
        &mut tr,
        "range-open-limbs",
        (&plan.limb_layout, &none),
        &limb_claims,
        proof,
        *value,
    )?;
    let mut limb_points = vec![(rho_l, *value)];
    for (c, z, v) in plan
        .mask_plan
        .claims(3, &limb_points[0].0.clone(), &proof.mask_evals)?
    {
        let p = plan
            .limb_layout
            .point(plan.mask_first + c, &z)
            .ok_or_else(|| ProofError::Malformed("a range mask column is masked".into()))?;
        limb_points.push((p, v));
    }
    let open = |pcs: Pcs,
                c: &Commitment,
                pts: Vec<(Vec<EF>, EF)>,
                proof: &OpeningProof,
                tr: &mut Transcript|
     -> Result<()> {
        let (points, values): (Vec<Vec<EF>>, Vec<EF>) = pts.into_iter().unzip();
        pcs.verify(c, &points, &values, proof, tr)
    };
    let pcs = |n: usize| Pcs::try_new(n, true);
    open(
        pcs(plan.inverse_layout.num_vars())?,
        &cert.inverse_commitment,
        vec![(rhos[0].clone(), cert.batches[0].1)],
        &cert.openings[0],
        &mut tr,
    )?;
    open(
        crate::commit::weight_pcs(spec)?,
        weights,
        vec![(rhos[1].clone(), cert.batches[1].1)],
        &cert.openings[1],
        &mut tr,
    )?;
    open(
        pcs(plan.limb_layout.num_vars())?,
        &cert.limb_commitment,
        limb_points,
        &cert.openings[2],
        &mut tr,
    )
}
