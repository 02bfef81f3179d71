//! A max-pooling block. Committed: the maxima a and, per window element u, the gathered input
//! g_u(ch, p) = input(src_u(ch, p)). Proved:
//! * every a − g_u lies in [0, 2^b) (range lookups, set up in `witness.rs`), so a ≥ every g_u;
//! * Σ_x eq(τ, x)·Π_u (a(x) − g_u(x)) = 0 at a random τ, so at every x some g_u equals a;
//! * the g_u are the input's values: Σ_u λ^u·g̃_u(ρ) reduced to the input column by wiring.
//!
//! With every g_u a range-checked activation, a is exactly the window maximum.

use p3_field::PrimeCharacteristicRing;

use super::dense::fold_batch;
use super::{ProverCtx, VerifierCtx, wiring};
use crate::circuit::{CircuitSpec, LayerKind, PoolGeom};
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::{eq_eval, eq_table, evaluate_base, log2_ceil};
use crate::proof::PoolProof;
use crate::sumcheck;
use crate::transcript::Transcript;

fn geometry(spec: &CircuitSpec, l: usize) -> Result<&PoolGeom> {
    match &spec.layers[l].kind {
        LayerKind::MaxPool(g) => Ok(g),
        _ => Err(ProofError::Circuit(format!("block '{}' is not a pooling", spec.layers[l].name))),
    }
}

/// The link point ρ, its batch part and the eq tables of its position and channel parts.
struct Link {
    rho: Vec<EF>,
    rho_n: Vec<EF>,
    eq_p: Vec<EF>,
    eq_ch: Vec<EF>,
}

fn link_point(g: &PoolGeom, log_batch: usize, tr: &mut Transcript) -> Link {
    let positions = g.out_hw()[0] * g.out_hw()[1];
    let (kp, kch) = (log2_ceil(positions), log2_ceil(g.channels));
    let rho = tr.challenge_point("pool-point", kp + kch + log_batch);
    let (rho_p, rest) = rho.split_at(kp);
    let (rho_ch, rho_n) = rest.split_at(kch);
    Link { eq_p: eq_table(rho_p), eq_ch: eq_table(rho_ch), rho_n: rho_n.to_vec(), rho: rho.clone() }
}

fn powers(lambda: EF, n: usize) -> Vec<EF> {
    std::iter::successors(Some(EF::ONE), |p| Some(*p * lambda)).take(n).collect()
}

/// eq(τ, x)·Π_u (a − g_u): the product sumcheck's summand.
fn attained(v: &[EF]) -> EF {
    v[2..].iter().fold(v[0], |acc, &g| acc * (v[1] - g))
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> Result<PoolProof> {
    let g = geometry(ctx.spec, l)?;
    let bc = &ctx.plan.blocks[l];
    let (a, gathered_cols) = (bc.a, bc.gathered.clone());
    let log_len = bc.log_out + ctx.plan.log_batch;
    let link = link_point(g, ctx.plan.log_batch, ctx.tr);
    let gathered: Vec<EF> = gathered_cols.iter().map(|&c| evaluate_base(&ctx.cols[c], &link.rho)).collect();
    ctx.tr.absorb_ext("pool-gathered", &gathered);
    let lambdas = powers(ctx.tr.challenge("pool-lambda"), g.window());
    let input = ctx.spec.layer_input_shape(l);
    let a_col = ctx.input_col(l);
    let selector = wiring::pool_selector(g, input, &lambdas, &link.eq_p, &link.eq_ch);
    let (wiring, sigma) = wiring::prove(selector, fold_batch(&ctx.cols[a_col], input.log_size(), &eq_table(&link.rho_n)), ctx.tr);
    ctx.claim_col(a_col, &[sigma.as_slice(), &link.rho_n].concat());
    for &c in &gathered_cols {
        ctx.claim_col(c, &link.rho);
    }
    let tau = ctx.tr.challenge_point("pool-tau", log_len);
    let mut tables = vec![eq_table(&tau)];
    for &c in std::iter::once(&a).chain(&gathered_cols) {
        tables.push(ctx.cols[c].iter().map(|&v| EF::from(v)).collect());
    }
    let sc = sumcheck::prove(tables, g.window() + 1, attained, "pool-sc", ctx.tr);
    let evals = sc.finals[1..].to_vec();
    ctx.tr.absorb_ext("pool-evals", &evals);
    for &c in std::iter::once(&a).chain(&gathered_cols) {
        ctx.claim_col(c, &sc.point);
    }
    Ok(PoolProof { gathered, wiring, product: sc.proof, evals })
}

pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, p: &PoolProof) -> Result<()> {
    let g = geometry(ctx.spec, l)?;
    let name = &ctx.spec.layers[l].name;
    let bc = &ctx.plan.blocks[l];
    let (a, gathered_cols) = (bc.a, bc.gathered.clone());
    let log_len = bc.log_out + ctx.plan.log_batch;
    if p.gathered.len() != g.window() {
        return Err(ProofError::Shape { what: "pooling window values", expected: g.window(), got: p.gathered.len() });
    }
    if p.evals.len() != g.window() + 1 {
        return Err(ProofError::Shape { what: "pooling evaluations", expected: g.window() + 1, got: p.evals.len() });
    }
    let link = link_point(g, ctx.plan.log_batch, ctx.tr);
    ctx.tr.absorb_ext("pool-gathered", &p.gathered);
    let lambdas = powers(ctx.tr.challenge("pool-lambda"), g.window());
    let claim: EF = lambdas.iter().zip(&p.gathered).map(|(&l, &v)| l * v).sum();
    let input = ctx.spec.layer_input_shape(l);
    let selector = wiring::pool_selector(g, input, &lambdas, &link.eq_p, &link.eq_ch);
    let sigma = wiring::verify(claim, &selector, &p.wiring, name, ctx.tr)?;
    let a_col = ctx.input_col(l);
    ctx.claim_col(a_col, &[sigma.as_slice(), &link.rho_n].concat(), p.wiring.input_eval);
    for (&c, &v) in gathered_cols.iter().zip(&p.gathered) {
        ctx.claim_col(c, &link.rho, v);
    }
    let tau = ctx.tr.challenge_point("pool-tau", log_len);
    let (point, fin) = sumcheck::verify(EF::ZERO, log_len, g.window() + 1, &p.product, "pool-sc", ctx.tr)?;
    let mut v = vec![eq_eval(&tau, &point)];
    v.extend_from_slice(&p.evals);
    if attained(&v) != fin {
        return Err(ProofError::Layer(format!("block '{name}': a pooled value is not in its window")));
    }
    ctx.tr.absorb_ext("pool-evals", &p.evals);
    for (&c, &e) in std::iter::once(&a).chain(&gathered_cols).zip(&p.evals) {
        ctx.claim_col(c, &point, e);
    }
    Ok(())
}
