//! LogUp with committed inverses (Haböck, "Multivariate lookups based on logarithmic
//! derivatives", 2022), as one zero-claim sumcheck so that no sum of private values is revealed.
//!
//! After α the prover commits, for each lookup l, h_l(x) = 1/(α − v_l(x)). One sumcheck over
//! N = the largest column's variables proves
//!   Σ_x Σ_l [μ_l·E_l·(h_l·(α − v_l) − 1) + h_l] − Σ_T m_T(x)·w_T(x) = 0,
//! where E = eq(τ, ·) on the column's own variables (smaller columns are zero-padded in their
//! high variables, and the prover's work follows each column's own size) and w_T = 1/(α − T) is
//! public (the verifier evaluates it in one pass over the table). The zero-checks force every
//! h_l to be the inverse it claims to be; the rest, Σh = Σ m·w, is the LogUp identity
//! Σ 1/(α − v) = Σ m/(α − T), which for a random α means every looked-up value is a table entry.
//! Values split into limbs (`witness::Decomposition`) add the zero-checks
//! Σ_x ν_d·E_d·(v_d − lo_d − 2^h·hi_d) = 0 to the same sum.

use p3_field::{PrimeCharacteristicRing, batch_multiplicative_inverse};
use p3_maybe_rayon::prelude::*;

use super::masked::{MaskedLayout, ext_point, join_ext};
use super::prover::ProverCtx;
use super::sumcheck::{Group, Table, invert};
use super::unary;
use super::verifier::{Claims, VerifierCtx};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::{eq_eval, eq_table};
use crate::witness::{LookupValue, WitnessPlan};
use crate::zk::proof::ZkLookupProof;

const LABEL: &str = "zk-lookup";

/// The second challenge of the table blocks' combined lookups (`unary.rs`), drawn right after α;
/// circuits without them draw nothing (their transcripts are unchanged).
pub(crate) fn beta(plan: &WitnessPlan, tr: &mut crate::transcript::Transcript) -> EF {
    if plan.unary.is_empty() {
        EF::ZERO
    } else {
        tr.challenge("lookup-beta")
    }
}

/// Variables of the lookup sumcheck.
pub(crate) fn num_vars(plan: &WitnessPlan) -> usize {
    plan.lookups
        .iter()
        .map(|l| l.log_len)
        .chain(plan.unary.iter().flat_map(|u| [u.log_len, u.table_log]))
        .chain([plan.table_bits])
        .max()
        .unwrap_or(1)
}

/// Round degrees: the first round carries the masks (eq·h·(α − v), both masked: 1 + 3 + 3).
pub(crate) fn schedule(plan: &WitnessPlan) -> Vec<usize> {
    (0..num_vars(plan))
        .map(|l| if l == 0 { 7 } else { 3 })
        .collect()
}

/// The inverse commitment's table: one split (EF) column per lookup, then one per table block's
/// lookup (`unary.rs`), each masked.
pub(crate) fn inverse_layout(plan: &WitnessPlan) -> MaskedLayout {
    let logs: Vec<usize> = plan
        .lookups
        .iter()
        .map(|l| l.log_len)
        .chain(plan.unary.iter().map(|u| u.log_len))
        .map(|k| k + 1)
        .collect();
    MaskedLayout::new(&logs, &vec![true; logs.len()])
}

fn value_at(v: LookupValue, cols: &[Vec<F>], i: usize, offset: F) -> F {
    match v {
        LookupValue::Column(c) => cols[c][i],
        LookupValue::Signed(c) => cols[c][i] + offset,
        LookupValue::Diff(a, g) => cols[a][i] - cols[g][i],
    }
}

/// h_l = 1/(α − v_l) per lookup, then per table block's lookup (v = a + β·b + β²·p).
pub(crate) fn inverses(
    plan: &WitnessPlan,
    cols: &[Vec<F>],
    alpha: EF,
    beta: EF,
) -> Result<Vec<Vec<EF>>> {
    let offset = F::from_u64(plan.signed_offset as u64);
    let inv = |d: Vec<EF>| -> Result<Vec<EF>> {
        if d.par_iter().any(|x| *x == EF::ZERO) {
            return Err(ProofError::Lookup(
                "a looked-up value equals the challenge α (probability 2^-128); prove again".into(),
            ));
        }
        Ok(batch_multiplicative_inverse(&d))
    };
    let mut out = Vec::with_capacity(plan.lookups.len() + plan.tables.len());
    for lk in &plan.lookups {
        out.push(inv((0..1usize << lk.log_len)
            .into_par_iter()
            .map(|i| alpha - value_at(lk.value, cols, i, offset))
            .collect())?);
    }
    for u in &plan.unary {
        let p = unary::padding_column(u);
        out.push(inv((0..1usize << u.log_len)
            .into_par_iter()
            .map(|i| {
                let (a, b) = (EF::from(cols[u.input][i]), EF::from(cols[u.output][i]));
                alpha - unary::combine(a, b, p[i], beta)
            })
            .collect())?);
    }
    Ok(out)
}

/// w_T = 1/(α − T(t)) over a table (public: both sides compute it).
fn table_weights(table: crate::tables::Table, bits: usize, alpha: EF) -> Result<Vec<EF>> {
    let d: Vec<EF> = table.entries(bits).into_iter().map(|t| alpha - t).collect();
    if d.contains(&EF::ZERO) {
        return Err(ProofError::Lookup(
            "the challenge α is a table entry (probability 2^-128)".into(),
        ));
    }
    Ok(batch_multiplicative_inverse(&d))
}

/// Lookup l's group: tables [E, h, value columns…].
fn lookup_summand(
    kind: LookupValue,
    offset: EF,
    alpha: EF,
    mu: EF,
) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| {
        let val = match kind {
            LookupValue::Column(_) => v[2],
            LookupValue::Signed(_) => v[2] + offset,
            LookupValue::Diff(..) => v[2] - v[3],
        };
        mu * v[0] * (v[1] * (alpha - val) - EF::ONE) + v[1]
    }
}

/// Decomposition d's group: tables [E, value columns…, lo, hi].
fn split_summand(
    kind: LookupValue,
    offset: EF,
    limb: EF,
    nu: EF,
) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| {
        let (val, k) = match kind {
            LookupValue::Column(_) => (v[1], 2),
            LookupValue::Signed(_) => (v[1] + offset, 2),
            LookupValue::Diff(..) => (v[1] - v[2], 3),
        };
        nu * v[0] * (val - v[k] - limb * v[k + 1])
    }
}

/// A table's group: tables [m, w].
fn table_summand(v: &[EF]) -> EF {
    -(v[0] * v[1])
}

fn challenges(plan: &WitnessPlan, tr: &mut crate::transcript::Transcript) -> (Vec<EF>, Vec<EF>) {
    let tau = tr.challenge_point("zk-lookup-tau", num_vars(plan));
    let mus = (0..plan.lookups.len() + plan.decompositions.len() + plan.unary.len())
        .map(|_| tr.challenge("zk-lookup-mu"))
        .collect();
    (tau, mus)
}

/// Π_{k ≥ n} (1 − r_k): the zero-padding factor of a column with n variables.
pub(crate) fn pad_factor(point: &[EF], n: usize) -> EF {
    point[n..].iter().map(|&r| EF::ONE - r).product()
}

/// The claims on committed columns the sumcheck leaves (same on both sides).
fn add_claims(
    claims: &mut Claims,
    plan: &WitnessPlan,
    point: &[EF],
    inverses: &[EF],
    values: &[EF],
) -> Result<()> {
    let mut vi = 0;
    for (l, lk) in plan.lookups.iter().enumerate() {
        let (p, factor) = ext_point(&point[..lk.log_len])?;
        claims.inv.push((l, p, inverses[l] * factor));
        for c in lk.value.columns() {
            claims
                .wit
                .push((c, point[..lk.log_len].to_vec(), values[vi]));
            vi += 1;
        }
    }
    for &(_, mcol) in &plan.tables {
        claims
            .wit
            .push((mcol, point[..plan.table_bits].to_vec(), values[vi]));
        vi += 1;
    }
    for d in &plan.decompositions {
        for c in split_columns(d) {
            claims
                .wit
                .push((c, point[..d.log_len].to_vec(), values[vi]));
            vi += 1;
        }
    }
    let nl = plan.lookups.len();
    for (k, u) in plan.unary.iter().enumerate() {
        let (p, factor) = ext_point(&point[..u.log_len])?;
        claims.inv.push((nl + k, p, inverses[nl + k] * factor));
        for (c, n) in [
            (u.input, u.log_len),
            (u.output, u.log_len),
            (u.mult, u.table_log),
        ] {
            claims.wit.push((c, point[..n].to_vec(), values[vi]));
            vi += 1;
        }
    }
    Ok(())
}

/// A decomposition's committed columns: the value's, then lo and hi.
fn split_columns(d: &crate::witness::Decomposition) -> Vec<usize> {
    let mut c = d.value.columns();
    c.extend([d.lo, d.hi]);
    c
}

fn limb_base(plan: &WitnessPlan) -> EF {
    EF::from_u64(1 << plan.table_bits)
}

/// Proves every lookup; `inv_r` are the inverse commitment's mask columns.
pub(crate) fn prove(
    ctx: &mut ProverCtx,
    alpha: EF,
    beta: EF,
    inv: &[Vec<EF>],
    inv_r: &[Vec<F>],
) -> Result<ZkLookupProof> {
    let plan = ctx.plan;
    let n = num_vars(plan);
    let (tau, mus) = challenges(plan, ctx.tr);
    let lift = |c: &[F]| c.iter().map(|&x| EF::from(x)).collect::<Vec<EF>>();
    let column = |c: usize| Table::masked(lift(&ctx.cols[c]), lift(&ctx.wit_r[c]));
    let offset = EF::from_u64(plan.signed_offset as u64);
    let mut groups = Vec::new();
    for (l, lk) in plan.lookups.iter().enumerate() {
        let mut tables = vec![
            Table::plain(eq_table(&tau[..lk.log_len])),
            Table::masked(inv[l].clone(), join_ext(&inv_r[l])),
        ];
        tables.extend(lk.value.columns().into_iter().map(column));
        groups.push(Group {
            tables,
            summand: Box::new(lookup_summand(lk.value, offset, alpha, mus[l])),
        });
    }
    for &(table, mcol) in &plan.tables {
        let tables = vec![
            column(mcol),
            Table::plain(table_weights(table, plan.table_bits, alpha)?),
        ];
        groups.push(Group {
            tables,
            summand: Box::new(table_summand),
        });
    }
    let nl = plan.lookups.len();
    for (k, d) in plan.decompositions.iter().enumerate() {
        let mut tables = vec![Table::plain(eq_table(&tau[..d.log_len]))];
        tables.extend(split_columns(d).into_iter().map(column));
        groups.push(Group {
            tables,
            summand: Box::new(split_summand(d.value, offset, limb_base(plan), mus[nl + k])),
        });
    }
    let nd = plan.decompositions.len();
    for (k, u) in plan.unary.iter().enumerate() {
        let tables = vec![
            Table::plain(eq_table(&tau[..u.log_len])),
            Table::masked(inv[nl + k].clone(), join_ext(&inv_r[nl + k])),
            column(u.input),
            column(u.output),
            Table::plain(unary::padding_column(u)),
        ];
        groups.push(Group {
            tables,
            summand: Box::new(unary::summand(alpha, beta, mus[nl + nd + k])),
        });
        let g = unary::geometry(ctx.spec, u)?;
        groups.push(Group {
            tables: vec![
                column(u.mult),
                Table::plain(unary::table_weights(g, u.table_log, alpha, beta)?),
            ],
            summand: Box::new(table_summand),
        });
    }
    let mut sc = ctx.sumcheck(LABEL);
    let (point, finals) = sc.phase_groups(groups, n, ctx.tr);
    let sumcheck = ctx.finish(sc)?;
    // Undo the zero-padding factor to get the columns' own (masked) values.
    let (mut inverses, mut values) = (Vec::new(), Vec::new());
    for (lk, f) in plan.lookups.iter().zip(&finals) {
        let s = invert(pad_factor(&point, lk.log_len), "lookup padding")?;
        inverses.push(f[1] * s);
        values.extend(f[2..].iter().map(|&v| v * s));
    }
    for f in &finals[nl..nl + plan.tables.len()] {
        values.push(f[0] * invert(pad_factor(&point, plan.table_bits), "lookup padding")?);
    }
    for (d, f) in plan
        .decompositions
        .iter()
        .zip(&finals[nl + plan.tables.len()..])
    {
        let s = invert(pad_factor(&point, d.log_len), "lookup padding")?;
        values.extend(f[1..].iter().map(|&v| v * s));
    }
    let first = nl + plan.tables.len() + nd;
    for (u, f) in plan.unary.iter().zip(finals[first..].chunks(2)) {
        let s = invert(pad_factor(&point, u.log_len), "lookup padding")?;
        inverses.push(f[0][1] * s);
        values.extend([f[0][2] * s, f[0][3] * s]);
        values.push(f[1][0] * invert(pad_factor(&point, u.table_log), "lookup padding")?);
    }
    ctx.tr.absorb_ext("zk-lookup-inverses", &inverses);
    ctx.tr.absorb_ext("zk-lookup-values", &values);
    add_claims(&mut ctx.claims, plan, &point, &inverses, &values)?;
    Ok(ZkLookupProof {
        sumcheck,
        inverses,
        values,
    })
}

/// Mirrors [`prove`].
pub(crate) fn verify(ctx: &mut VerifierCtx, alpha: EF, beta: EF, p: &ZkLookupProof) -> Result<()> {
    let plan = ctx.plan;
    let (tau, mus) = challenges(plan, ctx.tr);
    let (point, expected) = ctx.sumcheck(LABEL, EF::ZERO, &p.sumcheck)?;
    let n_values: usize = plan
        .lookups
        .iter()
        .map(|l| l.value.columns().len())
        .sum::<usize>()
        + plan.tables.len()
        + plan
            .decompositions
            .iter()
            .map(|d| split_columns(d).len())
            .sum::<usize>()
        + 3 * plan.unary.len();
    let n_inverses = plan.lookups.len() + plan.unary.len();
    if p.inverses.len() != n_inverses || p.values.len() != n_values {
        return Err(ProofError::Shape {
            what: "lookup evaluations",
            expected: n_values,
            got: p.values.len(),
        });
    }
    let offset = EF::from_u64(plan.signed_offset as u64);
    let mut total = EF::ZERO;
    let mut vi = 0;
    for (l, lk) in plan.lookups.iter().enumerate() {
        let s = pad_factor(&point, lk.log_len);
        let m = lk.value.columns().len();
        let mut v = vec![
            eq_eval(&tau[..lk.log_len], &point[..lk.log_len]) * s,
            p.inverses[l] * s,
        ];
        v.extend(p.values[vi..vi + m].iter().map(|&x| x * s));
        vi += m;
        total += lookup_summand(lk.value, offset, alpha, mus[l])(&v);
    }
    for &(table, _) in &plan.tables {
        let bits = plan.table_bits;
        let s = pad_factor(&point, bits);
        let w = crate::mle::evaluate(&table_weights(table, bits, alpha)?, &point[..bits]);
        total += table_summand(&[p.values[vi] * s, w * s]);
        vi += 1;
    }
    let nl = plan.lookups.len();
    for (k, d) in plan.decompositions.iter().enumerate() {
        let s = pad_factor(&point, d.log_len);
        let m = split_columns(d).len();
        let mut v = vec![eq_eval(&tau[..d.log_len], &point[..d.log_len]) * s];
        v.extend(p.values[vi..vi + m].iter().map(|&x| x * s));
        vi += m;
        total += split_summand(d.value, offset, limb_base(plan), mus[nl + k])(&v);
    }
    let nd = plan.decompositions.len();
    for (k, u) in plan.unary.iter().enumerate() {
        let z = &point[..u.log_len];
        let s = pad_factor(&point, u.log_len);
        let v = [
            eq_eval(&tau[..u.log_len], z) * s,
            p.inverses[nl + k] * s,
            p.values[vi] * s,
            p.values[vi + 1] * s,
            unary::padding_eval(u, z) * s,
        ];
        total += unary::summand(alpha, beta, mus[nl + nd + k])(&v);
        let g = unary::geometry(ctx.spec, u)?;
        let bits = u.table_log;
        let s = pad_factor(&point, bits);
        let w = crate::mle::evaluate(&unary::table_weights(g, bits, alpha, beta)?, &point[..bits]);
        total += table_summand(&[p.values[vi + 2] * s, w * s]);
        vi += 3;
    }
    if total != expected {
        return Err(ProofError::Lookup(
            "the lookup sumcheck's final check failed: a value is outside its table".into(),
        ));
    }
    ctx.tr.absorb_ext("zk-lookup-inverses", &p.inverses);
    ctx.tr.absorb_ext("zk-lookup-values", &p.values);
    add_claims(&mut ctx.claims, plan, &point, &p.inverses, &p.values)
}
