//! LogUp with committed inverses (Haböck, "Multivariate lookups based on logarithmic
//! derivatives", 2022), as one zero-claim sumcheck so that no sum of private values is revealed.
//!
//! After α the prover commits, for each lookup l, h_l(x) = 1/(α − v_l(x)), and for each table
//! ĥ(t) = m(t)/(α − T(t)). One sumcheck over N = the largest lookup's variables proves
//!   Σ_x Σ_l [μ_l·E_l·(h_l·(α − v_l) − 1) + h_l] + Σ_T [μ_T·E_T·(ĥ·(α − T) − m) − ĥ] = 0,
//! where E = eq(τ, ·) on the column's own variables (smaller columns are zero-padded in their
//! high variables). The zero-checks force every h_l and ĥ to be the inverses they claim to be;
//! the rest, Σh − Σĥ = 0, is the LogUp identity Σ 1/(α − v) = Σ m/(α − T), which for a random α
//! means every looked-up value is a table entry.

use p3_field::{PrimeCharacteristicRing, batch_multiplicative_inverse};
use p3_maybe_rayon::prelude::*;

use super::prover::ProverCtx;
use super::sumcheck::{Table, invert};
use super::twin::{ext_point, join_ext};
use super::verifier::{Claims, VerifierCtx};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::layout::Layout;
use crate::mle::{eq_eval, eq_table};
use crate::witness::{LookupValue, WitnessPlan};
use crate::zk::proof::ZkLookupProof;

const LABEL: &str = "zk-lookup";

/// Variables of the lookup sumcheck.
pub(crate) fn num_vars(plan: &WitnessPlan) -> usize {
    plan.lookups.iter().map(|l| l.log_len).chain([plan.table_bits]).max().unwrap_or(1)
}

/// Round degrees: the first round carries the masks (eq·h·(α − v), both masked: 1 + 3 + 3).
pub(crate) fn schedule(plan: &WitnessPlan) -> Vec<usize> {
    (0..num_vars(plan)).map(|l| if l == 0 { 7 } else { 3 }).collect()
}

/// The inverse commitment's layout: one split (EF) column per lookup, then one per table.
pub(crate) fn inverse_layout(plan: &WitnessPlan) -> Layout {
    let logs: Vec<usize> = plan.lookups.iter().map(|l| l.log_len + 1).chain(plan.tables.iter().map(|_| plan.table_bits + 1)).collect();
    Layout::new(&logs)
}

fn value_at(v: LookupValue, cols: &[Vec<F>], i: usize, offset: F) -> F {
    match v {
        LookupValue::Plain(c) => cols[c][i],
        LookupValue::Signed(c) => cols[c][i] + offset,
        LookupValue::Diff(a, g) => cols[a][i] - cols[g][i],
    }
}

/// h_l = 1/(α − v_l) per lookup, then ĥ = m/(α − T) per table.
pub(crate) fn inverses(plan: &WitnessPlan, cols: &[Vec<F>], alpha: EF) -> Result<Vec<Vec<EF>>> {
    let offset = F::from_u64(plan.signed_offset as u64);
    let inv = |d: Vec<EF>| -> Result<Vec<EF>> {
        if d.par_iter().any(|x| *x == EF::ZERO) {
            return Err(ProofError::Lookup("a looked-up value equals the challenge α (probability 2^-128); prove again".into()));
        }
        Ok(batch_multiplicative_inverse(&d))
    };
    let mut out = Vec::with_capacity(plan.lookups.len() + plan.tables.len());
    for lk in &plan.lookups {
        out.push(inv((0..1usize << lk.log_len).into_par_iter().map(|i| alpha - value_at(lk.value, cols, i, offset)).collect())?);
    }
    for &(table, mcol) in &plan.tables {
        let d = inv(table.entries(plan.table_bits).into_iter().map(|t| alpha - t).collect())?;
        out.push(d.into_iter().zip(&cols[mcol]).map(|(x, &m)| x * m).collect());
    }
    Ok(out)
}

/// The sumcheck's summand over the tables in the order `prove` builds them: per lookup
/// [E, h, value columns…], then per table [E, ĥ, m, T].
struct Summand {
    kinds: Vec<LookupValue>,
    tables: usize,
    offset: EF,
    alpha: EF,
    mus: Vec<EF>,
}

impl Summand {
    fn new(plan: &WitnessPlan, alpha: EF, mus: Vec<EF>) -> Self {
        let kinds = plan.lookups.iter().map(|l| l.value).collect();
        Self { kinds, tables: plan.tables.len(), offset: EF::from_u64(plan.signed_offset as u64), alpha, mus }
    }

    fn eval(&self, v: &[EF]) -> EF {
        let mut k = 0;
        let mut acc = EF::ZERO;
        for (l, kind) in self.kinds.iter().enumerate() {
            let (e, h) = (v[k], v[k + 1]);
            let val = match kind {
                LookupValue::Plain(_) => v[k + 2],
                LookupValue::Signed(_) => v[k + 2] + self.offset,
                LookupValue::Diff(..) => v[k + 2] - v[k + 3],
            };
            k += 2 + kind.columns().len();
            acc += self.mus[l] * e * (h * (self.alpha - val) - EF::ONE) + h;
        }
        for t in 0..self.tables {
            let (e, hh, m, tt) = (v[k], v[k + 1], v[k + 2], v[k + 3]);
            k += 4;
            acc += self.mus[self.kinds.len() + t] * e * (hh * (self.alpha - tt) - m) - hh;
        }
        acc
    }
}

fn challenges(plan: &WitnessPlan, tr: &mut crate::transcript::Transcript) -> (Vec<EF>, Vec<EF>) {
    let tau = tr.challenge_point("zk-lookup-tau", num_vars(plan));
    let mus = (0..plan.lookups.len() + plan.tables.len()).map(|_| tr.challenge("zk-lookup-mu")).collect();
    (tau, mus)
}

/// Π_{k ≥ n} (1 − r_k): the zero-padding factor of a column with n variables.
fn pad_factor(point: &[EF], n: usize) -> EF {
    point[n..].iter().map(|&r| EF::ONE - r).product()
}

/// The claims on committed columns the sumcheck leaves (same on both sides).
fn add_claims(claims: &mut Claims, plan: &WitnessPlan, point: &[EF], inverses: &[EF], values: &[EF]) -> Result<()> {
    let mut vi = 0;
    let inv_claim = |claims: &mut Claims, k: usize, n: usize| -> Result<()> {
        let (p, factor) = ext_point(&point[..n])?;
        claims.inv.push((k, p, inverses[k] * factor));
        Ok(())
    };
    for (l, lk) in plan.lookups.iter().enumerate() {
        inv_claim(claims, l, lk.log_len)?;
        for c in lk.value.columns() {
            claims.wit.push((c, point[..lk.log_len].to_vec(), values[vi]));
            vi += 1;
        }
    }
    for (t, &(_, mcol)) in plan.tables.iter().enumerate() {
        inv_claim(claims, plan.lookups.len() + t, plan.table_bits)?;
        claims.wit.push((mcol, point[..plan.table_bits].to_vec(), values[vi]));
        vi += 1;
    }
    Ok(())
}

/// Proves every lookup; `inv_r` are the inverse commitment's mask columns.
pub(crate) fn prove(ctx: &mut ProverCtx, alpha: EF, inv: &[Vec<EF>], inv_r: &[Vec<F>]) -> Result<ZkLookupProof> {
    let plan = ctx.plan;
    let n = num_vars(plan);
    let (tau, mus) = challenges(plan, ctx.tr);
    let pad = |mut v: Vec<EF>| {
        v.resize(1 << n, EF::ZERO);
        v
    };
    let lift = |c: &[F]| pad(c.iter().map(|&x| EF::from(x)).collect());
    let column = |c: usize| Table::masked(lift(&ctx.cols[c]), lift(&ctx.wit_r[c]));
    let mut tables = Vec::new();
    for (l, lk) in plan.lookups.iter().enumerate() {
        tables.push(Table::plain(pad(eq_table(&tau[..lk.log_len]))));
        tables.push(Table::masked(pad(inv[l].clone()), pad(join_ext(&inv_r[l]))));
        tables.extend(lk.value.columns().into_iter().map(column));
    }
    for (t, &(table, mcol)) in plan.tables.iter().enumerate() {
        let k = plan.lookups.len() + t;
        tables.push(Table::plain(pad(eq_table(&tau[..plan.table_bits]))));
        tables.push(Table::masked(pad(inv[k].clone()), pad(join_ext(&inv_r[k]))));
        tables.push(column(mcol));
        tables.push(Table::plain(pad(table.entries(plan.table_bits))));
    }
    let summand = Summand::new(plan, alpha, mus);
    let mut sc = ctx.sumcheck(LABEL);
    let (point, finals) = sc.phase(tables, |v| summand.eval(v), ctx.tr);
    let sumcheck = ctx.finish(sc)?;
    // Undo the zero-padding factor to get the columns' own (masked) values.
    let (mut inverses, mut values, mut k) = (Vec::new(), Vec::new(), 0);
    for lk in &plan.lookups {
        let s = invert(pad_factor(&point, lk.log_len), "lookup padding")?;
        inverses.push(finals[k + 1] * s);
        let m = lk.value.columns().len();
        values.extend(finals[k + 2..k + 2 + m].iter().map(|&v| v * s));
        k += 2 + m;
    }
    for _ in &plan.tables {
        let s = invert(pad_factor(&point, plan.table_bits), "lookup padding")?;
        inverses.push(finals[k + 1] * s);
        values.push(finals[k + 2] * s);
        k += 4;
    }
    ctx.tr.absorb_ext("zk-lookup-inverses", &inverses);
    ctx.tr.absorb_ext("zk-lookup-values", &values);
    add_claims(&mut ctx.claims, plan, &point, &inverses, &values)?;
    Ok(ZkLookupProof { sumcheck, inverses, values })
}

/// Mirrors [`prove`].
pub(crate) fn verify(ctx: &mut VerifierCtx, alpha: EF, p: &ZkLookupProof) -> Result<()> {
    let plan = ctx.plan;
    let (tau, mus) = challenges(plan, ctx.tr);
    let (point, expected) = ctx.sumcheck(LABEL, EF::ZERO, &p.sumcheck)?;
    let n_values: usize = plan.lookups.iter().map(|l| l.value.columns().len()).sum::<usize>() + plan.tables.len();
    if p.inverses.len() != plan.lookups.len() + plan.tables.len() || p.values.len() != n_values {
        return Err(ProofError::Shape { what: "lookup evaluations", expected: n_values, got: p.values.len() });
    }
    let mut v = Vec::new();
    let mut vi = 0;
    for (l, lk) in plan.lookups.iter().enumerate() {
        let s = pad_factor(&point, lk.log_len);
        v.push(eq_eval(&tau[..lk.log_len], &point[..lk.log_len]) * s);
        v.push(p.inverses[l] * s);
        for _ in lk.value.columns() {
            v.push(p.values[vi] * s);
            vi += 1;
        }
    }
    for (t, &(table, _)) in plan.tables.iter().enumerate() {
        let bits = plan.table_bits;
        let s = pad_factor(&point, bits);
        v.push(eq_eval(&tau[..bits], &point[..bits]) * s);
        v.push(p.inverses[plan.lookups.len() + t] * s);
        v.push(p.values[vi] * s);
        vi += 1;
        v.push(table.evaluate(&point[..bits]) * s);
    }
    if Summand::new(plan, alpha, mus).eval(&v) != expected {
        return Err(ProofError::Lookup("the lookup sumcheck's final check failed: a value is outside its table".into()));
    }
    ctx.tr.absorb_ext("zk-lookup-inverses", &p.inverses);
    ctx.tr.absorb_ext("zk-lookup-values", &p.values);
    add_claims(&mut ctx.claims, plan, &point, &p.inverses, &p.values)
}
