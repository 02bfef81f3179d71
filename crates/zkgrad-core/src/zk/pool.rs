//! A max-pooling block in zero knowledge. Committed: the maxima a and, per window element u,
//! the gathered input values g_u. Proved, each by a sumcheck with claim 0:
//! * the g_u are the input's values: at a random ρ and λ,
//!   Σ_x eq(ρ, x)·Σ_u λ^u·g_u(x) − Σ_(i,n) M_λ(i; ρ)·eq(ρ_n, n)·a_in(i, n) = 0 with the public
//!   window selector M_λ (`block/wiring.rs`) — one sumcheck over two groups of different sizes;
//! * Σ_x eq(τ, x)·Π_u (a − g_u)(x) = 0: at every x some g_u equals a;
//! and the range lookups a − g_u ≥ 0 (`witness.rs`), so a is the window maximum.

use p3_field::PrimeCharacteristicRing;

use super::lookup::pad_factor;
use super::prover::ProverCtx;
use super::sumcheck::{Group, Table, invert};
use super::verifier::VerifierCtx;
use crate::block::wiring::pool_selector;
use crate::circuit::{CircuitSpec, LayerKind, PoolGeom};
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::{eq_eval, eq_table, evaluate, log2_ceil};
use crate::zk::dense::lift;
use crate::zk::proof::ZkPoolProof;

fn geometry(spec: &CircuitSpec, l: usize) -> Result<&PoolGeom> {
    match &spec.layers[l].kind {
        LayerKind::MaxPool(g) => Ok(g),
        _ => Err(ProofError::Circuit(format!(
            "block '{}' is not a pooling",
            spec.layers[l].name
        ))),
    }
}

fn labels(spec: &CircuitSpec, l: usize) -> (String, String) {
    let name = &spec.layers[l].name;
    (
        format!("zk-pool-link '{name}'"),
        format!("zk-pool-max '{name}'"),
    )
}

/// The link sumcheck's rounds (both groups' first rounds carry masks: 1 + 3), then the
/// product's (eq·Π_u (a − g_u), every factor masked in the first round).
pub(crate) fn schedules(n_out: usize, n_in: usize, window: usize) -> (Vec<usize>, Vec<usize>) {
    let link = (0..n_out.max(n_in))
        .map(|k| if k == 0 { 4 } else { 2 })
        .collect();
    let product = (0..n_out)
        .map(|k| if k == 0 { 1 + 3 * window } else { 1 + window })
        .collect();
    (link, product)
}

/// ρ (over the output column and batch), its batch part, and λ's powers.
struct Link {
    rho: Vec<EF>,
    rho_n: Vec<EF>,
    lambdas: Vec<EF>,
    /// M_λ over the input features.
    selector: Vec<EF>,
}

/// `log_out`: variables of the output column, which a small output (under 2^MIN_COLUMN_VARS
/// values) pads with high variables that are 0 at every real value.
fn link(
    ctx_spec: &CircuitSpec,
    l: usize,
    g: &PoolGeom,
    log_out: usize,
    log_batch: usize,
    tr: &mut crate::transcript::Transcript,
) -> Link {
    let (kp, kch) = (
        log2_ceil(g.out_hw()[0] * g.out_hw()[1]),
        log2_ceil(g.channels),
    );
    let extra = log_out.saturating_sub(kp + kch);
    let rho = tr.challenge_point("zk-pool-point", kp + kch + extra + log_batch);
    let lambda = tr.challenge("zk-pool-lambda");
    let lambdas: Vec<EF> = std::iter::successors(Some(EF::ONE), |p| Some(*p * lambda))
        .take(g.window())
        .collect();
    let input = ctx_spec.layer_input_shape(l);
    // Real outputs sit where the padding variables are 0: eq(ρ_pad, 0) weighs all of them.
    let real: EF = rho[kp + kch..kp + kch + extra]
        .iter()
        .map(|&r| EF::ONE - r)
        .product();
    let selector = pool_selector(
        g,
        input,
        &lambdas,
        &eq_table(&rho[..kp]),
        &eq_table(&rho[kp..kp + kch]),
    )
    .into_iter()
    .map(|m| m * real)
    .collect();
    Link {
        rho_n: rho[kp + kch + extra..].to_vec(),
        rho,
        lambdas,
        selector,
    }
}

/// eq(τ, x)·Π_u (a − g_u).
fn attained(v: &[EF]) -> EF {
    v[2..].iter().fold(v[0], |acc, &g| acc * (v[1] - g))
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> Result<ZkPoolProof> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let g = geometry(spec, l)?;
    let bc = &plan.blocks[l];
    let kb = plan.log_batch;
    let (a, gathered) = (bc.a, bc.gathered.clone());
    let n_out = bc.log_out + kb;
    let ki = spec.layer_input_shape(l).log_size();
    let n_in = ki + kb;
    let x_col = ctx.input_col(l);
    let lk = link(spec, l, g, bc.log_out, kb, ctx.tr);
    let (link_label, max_label) = labels(spec, l);
    // Group A: eq(ρ, x)·Σ_u λ^u·g_u(x); group B: −M_λ(i)·eq(ρ_n, n)·a_in(i, n).
    let mut a_tables = vec![Table::plain(eq_table(&lk.rho))];
    a_tables.extend(
        gathered
            .iter()
            .map(|&c| Table::masked(lift(&ctx.cols[c]), lift(&ctx.wit_r[c]))),
    );
    let lambdas = lk.lambdas.clone();
    let group_a = Group {
        tables: a_tables,
        summand: Box::new(move |v: &[EF]| {
            v[0] * lambdas
                .iter()
                .zip(&v[1..])
                .map(|(&l, &g)| l * g)
                .sum::<EF>()
        }),
    };
    let eq_n = eq_table(&lk.rho_n);
    let sel_n: Vec<EF> = (0..1usize << n_in)
        .map(|idx| lk.selector[idx & ((1 << ki) - 1)] * eq_n[idx >> ki])
        .collect();
    let b_tables = vec![
        Table::plain(sel_n),
        Table::masked(lift(&ctx.cols[x_col]), lift(&ctx.wit_r[x_col])),
    ];
    let group_b = Group {
        tables: b_tables,
        summand: Box::new(|v: &[EF]| -(v[0] * v[1])),
    };
    let mut sc = ctx.sumcheck(&link_label);
    let (pt, finals) = sc.phase_groups(vec![group_a, group_b], n_out.max(n_in), ctx.tr);
    let link_sc = ctx.finish(sc)?;
    let (sa, sb) = (
        invert(pad_factor(&pt, n_out), "pool padding")?,
        invert(pad_factor(&pt, n_in), "pool padding")?,
    );
    let values: Vec<EF> = finals[0][1..].iter().map(|&v| v * sa).collect();
    let input = finals[1][1] * sb;
    ctx.tr.absorb_ext(
        "zk-pool-link-evals",
        &[values.as_slice(), &[input]].concat(),
    );
    for (&c, &v) in gathered.iter().zip(&values) {
        ctx.claims.wit.push((c, pt[..n_out].to_vec(), v));
    }
    ctx.claims.wit.push((x_col, pt[..n_in].to_vec(), input));
    // Some window element attains the maximum.
    let tau = ctx.tr.challenge_point("zk-pool-tau", n_out);
    let mut tables = vec![Table::plain(eq_table(&tau))];
    tables.extend(
        std::iter::once(a)
            .chain(gathered.iter().copied())
            .map(|c| Table::masked(lift(&ctx.cols[c]), lift(&ctx.wit_r[c]))),
    );
    let mut sc = ctx.sumcheck(&max_label);
    let (pt2, f) = sc.phase(tables, attained, ctx.tr);
    let product = ctx.finish(sc)?;
    let evals = f[1..].to_vec();
    ctx.tr.absorb_ext("zk-pool-max-evals", &evals);
    for (c, &v) in std::iter::once(a)
        .chain(gathered.iter().copied())
        .zip(&evals)
    {
        ctx.claims.wit.push((c, pt2.clone(), v));
    }
    Ok(ZkPoolProof {
        link: link_sc,
        gathered: values,
        input,
        product,
        evals,
    })
}

/// Mirrors [`prove`].
pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, p: &ZkPoolProof) -> Result<()> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let g = geometry(spec, l)?;
    let name = &spec.layers[l].name;
    let bc = &plan.blocks[l];
    let kb = plan.log_batch;
    let (a, gathered) = (bc.a, bc.gathered.clone());
    let n_out = bc.log_out + kb;
    let ki = spec.layer_input_shape(l).log_size();
    let n_in = ki + kb;
    let x_col = ctx.input_col(l);
    if p.gathered.len() != g.window() || p.evals.len() != g.window() + 1 {
        return Err(ProofError::Shape {
            what: "pooling window values",
            expected: g.window(),
            got: p.gathered.len(),
        });
    }
    let lk = link(spec, l, g, bc.log_out, kb, ctx.tr);
    let (link_label, max_label) = labels(spec, l);
    let (pt, expected) = ctx.sumcheck(&link_label, EF::ZERO, &p.link)?;
    let (sa, sb) = (pad_factor(&pt, n_out), pad_factor(&pt, n_in));
    let group_a = eq_eval(&lk.rho, &pt[..n_out])
        * sa
        * lk.lambdas
            .iter()
            .zip(&p.gathered)
            .map(|(&l, &v)| l * v * sa)
            .sum::<EF>();
    let sel = evaluate(&lk.selector, &pt[..ki]) * eq_eval(&lk.rho_n, &pt[ki..n_in]) * sb;
    if group_a - sel * p.input * sb != expected {
        return Err(ProofError::Layer(format!(
            "block '{name}': the gathered values do not match the input"
        )));
    }
    ctx.tr.absorb_ext(
        "zk-pool-link-evals",
        &[p.gathered.as_slice(), &[p.input]].concat(),
    );
    for (&c, &v) in gathered.iter().zip(&p.gathered) {
        ctx.claims.wit.push((c, pt[..n_out].to_vec(), v));
    }
    ctx.claims.wit.push((x_col, pt[..n_in].to_vec(), p.input));
    let tau = ctx.tr.challenge_point("zk-pool-tau", n_out);
    let (pt2, expected) = ctx.sumcheck(&max_label, EF::ZERO, &p.product)?;
    let mut v = vec![eq_eval(&tau, &pt2)];
    v.extend_from_slice(&p.evals);
    if attained(&v) != expected {
        return Err(ProofError::Layer(format!(
            "block '{name}': a pooled value is not in its window"
        )));
    }
    ctx.tr.absorb_ext("zk-pool-max-evals", &p.evals);
    for (c, &e) in std::iter::once(a)
        .chain(gathered.iter().copied())
        .zip(&p.evals)
    {
        ctx.claims.wit.push((c, pt2.clone(), e));
    }
    Ok(())
}
