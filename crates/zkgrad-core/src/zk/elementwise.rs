//! An elementwise block in zero knowledge (a residual or skip connection, `z = c0·a + c1·o`
//! with public integer coefficients, Sub being c1 = −1; or a product `z = c0·c1·a·o`): one
//! sumcheck over the block's output variables (features and batch) with the public claim 0,
//!   Σ_x eq(τ, x)·(Q(x) − S(x)·(c0·a(x) + c1·o(x))) = 0,   Q = (2^b·q + t − 2^(b−1))/m_b,
//! (for a product S(x)·c0·c1·a(x)·o(x), a degree-4 summand),
//! i.e. at every entry the committed q, t are the requantisation of c0·a + c1·o. The three
//! tensors are stored alike (`ElementwiseGeom::shape`), so one point r serves them all, and the only
//! values revealed are masked evaluations at r: q̇, ṫ, ȧ, ȯ (each a column's Ṗ = P + z₀(1 − z₀)·R,
//! `masked.rs`). A ReLU adds the zero-check of `dense.rs`.
//!
//! Padding: S(x) = [slot x holds a value] (public, `dense::slot_selector`) so padding slots
//! never read a or o (an input column's padding is free), and there Q = 0, which with the range
//! lookups on q and t (|q| < 2^(b−1), 0 ≤ t < 2^b, no wrap-around) forces q = 0, t = 2^(b−1)
//! and a = 0: the output column's padding is zero like every other activation column's.
//! Wrap-around: the circuit refuses coefficients and multipliers that could push c0·a + c1·o
//! times m_b past 2^62 (`circuit::check_elementwise_bound`), so the field identity is the
//! integer one.

use p3_field::PrimeCharacteristicRing;

use super::dense::{lift, masked_eval, prove_relu, requant, slot_selector, verify_relu};
use super::prover::ProverCtx;
use super::sumcheck::Table;
use super::verifier::VerifierCtx;
use crate::circuit::{CircuitSpec, ElementwiseGeom, ElementwiseOp, LayerKind, Operand};
use crate::error::{ProofError, Result};
use crate::field::{EF, from_i64};
use crate::mle::{eq_eval, eq_table};
use crate::witness::WitnessPlan;
use crate::zk::proof::ZkElementwiseProof;

fn label(spec: &CircuitSpec, l: usize) -> String {
    format!("zk-elementwise '{}'", spec.layers[l].name)
}

/// Round degrees of a sum: eq·S·a (1 + 1 + 1, a's mask adding 2 in the first round), then 3;
/// of a product: eq·S·a·o (1 + 1 + 1 + 1, a's and o's masks adding 2 each), then 4.
pub(crate) fn schedule(op: ElementwiseOp, n: usize) -> Vec<usize> {
    let (first, rest) = match op {
        ElementwiseOp::Sum => (5, 3),
        ElementwiseOp::Product => (8, 4),
    };
    (0..n).map(|k| if k == 0 { first } else { rest }).collect()
}

/// Block l's geometry (an error naming the block if it is not elementwise).
pub(crate) fn geom(spec: &CircuitSpec, l: usize) -> Result<&ElementwiseGeom> {
    match &spec.layers[l].kind {
        LayerKind::Elementwise(g) => Ok(g),
        _ => Err(ProofError::Circuit(format!(
            "block '{}' is not elementwise",
            spec.layers[l].name
        ))),
    }
}

/// The column of an elementwise block's second operand.
pub(crate) fn other_col(plan: &WitnessPlan, g: &ElementwiseGeom) -> usize {
    match g.other {
        Operand::Input => plan.x,
        Operand::Block(k) => plan.blocks[k].a,
    }
}

/// Block l's remainder column (an error naming the block if it has none).
pub(crate) fn t_col(spec: &CircuitSpec, plan: &WitnessPlan, l: usize) -> Result<usize> {
    plan.blocks[l].t.ok_or_else(|| {
        ProofError::Circuit(format!(
            "block '{}' has no remainder column",
            spec.layers[l].name
        ))
    })
}

/// The summand eq·(Q − S·(c0·a + c1·o)), or eq·(Q − S·c0·c1·a·o), over [eq, Q, S, a, o].
fn summand(op: ElementwiseOp, c: [EF; 2]) -> impl Fn(&[EF]) -> EF + Sync {
    let c01 = c[0] * c[1];
    move |v: &[EF]| {
        let z = match op {
            ElementwiseOp::Sum => c[0] * v[3] + c[1] * v[4],
            ElementwiseOp::Product => c01 * v[3] * v[4],
        };
        v[0] * (v[1] - v[2] * z)
    }
}

fn coefs(g: &ElementwiseGeom) -> [EF; 2] {
    [EF::from(from_i64(g.coef[0])), EF::from(from_i64(g.coef[1]))]
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> Result<ZkElementwiseProof> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let g = geom(spec, l)?;
    let bc = &plan.blocks[l];
    let n = bc.log_out + plan.log_batch;
    let t_col = t_col(spec, plan, l)?;
    let (a_col, o_col) = (ctx.input_col(l), other_col(plan, g));
    let tau = ctx.tr.challenge_point("zk-elementwise-tau", n);
    let (full, half, mb_inv) = requant(spec, l);
    let (q, t) = (&ctx.cols[bc.q], &ctx.cols[t_col]);
    let (rq, rt) = (&ctx.wit_r[bc.q], &ctx.wit_r[t_col]);
    let qd: Vec<EF> = (0..q.len())
        .map(|i| EF::from((full * q[i] + t[i] - half) * mb_inv))
        .collect();
    let qd_m: Vec<EF> = (0..q.len())
        .map(|i| EF::from((full * rq[i] + rt[i]) * mb_inv))
        .collect();
    // S over the features, repeated for every batch item (the batch is the high variables).
    let shape = g.shape();
    let feat = (1usize << bc.log_out) - 1;
    let slots: Vec<bool> = {
        let mut s = vec![false; feat + 1];
        (0..shape.channels * shape.len).for_each(|i| s[shape.slot(i)] = true);
        s
    };
    let s: Vec<EF> = (0..q.len())
        .map(|i| if slots[i & feat] { EF::ONE } else { EF::ZERO })
        .collect();
    let tables = vec![
        Table::plain(eq_table(&tau)),
        Table::masked(qd, qd_m),
        Table::plain(s),
        Table::masked(lift(&ctx.cols[a_col]), lift(&ctx.wit_r[a_col])),
        Table::masked(lift(&ctx.cols[o_col]), lift(&ctx.wit_r[o_col])),
    ];
    let mut sc = ctx.sumcheck(&label(spec, l));
    let (r, f) = sc.phase(tables, summand(g.op, coefs(g)), ctx.tr);
    let sumcheck = ctx.finish(sc)?;
    let q_t = [masked_eval(q, rq, &r), masked_eval(t, rt, &r)];
    let operands = [f[3], f[4]];
    ctx.tr
        .absorb_ext("zk-elementwise-evals", &[q_t[0], q_t[1], f[3], f[4]]);
    ctx.claims.wit.extend([
        (bc.q, r.clone(), q_t[0]),
        (t_col, r.clone(), q_t[1]),
        (a_col, r.clone(), operands[0]),
        (o_col, r, operands[1]),
    ]);
    let relu = if spec.layers[l].relu {
        Some(prove_relu(ctx, l, n)?)
    } else {
        None
    };
    Ok(ZkElementwiseProof {
        sumcheck,
        q_t,
        operands,
        relu,
    })
}

/// Mirrors [`prove`].
pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, p: &ZkElementwiseProof) -> Result<()> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let g = geom(spec, l)?;
    let layer = &spec.layers[l];
    let bc = &plan.blocks[l];
    let n = bc.log_out + plan.log_batch;
    let t_col = t_col(spec, plan, l)?;
    let (a_col, o_col) = (ctx.input_col(l), other_col(plan, g));
    let tau = ctx.tr.challenge_point("zk-elementwise-tau", n);
    let (r, expected) = ctx.sumcheck(&label(spec, l), EF::ZERO, &p.sumcheck)?;
    let (full, half, mb_inv) = requant(spec, l);
    let qd = (EF::from(full) * p.q_t[0] + p.q_t[1] - EF::from(half)) * EF::from(mb_inv);
    let s = slot_selector(g.shape(), &r[..bc.log_out]);
    let values = [eq_eval(&tau, &r), qd, s, p.operands[0], p.operands[1]];
    if summand(g.op, coefs(g))(&values) != expected {
        return Err(ProofError::Layer(format!(
            "block '{}': the committed outputs do not match the elementwise sum of its operands",
            layer.name
        )));
    }
    ctx.tr.absorb_ext(
        "zk-elementwise-evals",
        &[p.q_t[0], p.q_t[1], p.operands[0], p.operands[1]],
    );
    ctx.claims.wit.extend([
        (bc.q, r.clone(), p.q_t[0]),
        (t_col, r.clone(), p.q_t[1]),
        (a_col, r.clone(), p.operands[0]),
        (o_col, r, p.operands[1]),
    ]);
    verify_relu(ctx, l, &p.relu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summand_is_zero_exactly_when_the_sum_holds() {
        let c = [EF::from_u64(2), -EF::ONE];
        let f = summand(ElementwiseOp::Sum, c);
        let (a, o) = (EF::from_u64(7), EF::from_u64(3));
        let q = EF::from_u64(2) * a - o;
        assert_eq!(f(&[EF::ONE, q, EF::ONE, a, o]), EF::ZERO);
        assert_ne!(f(&[EF::ONE, q + EF::ONE, EF::ONE, a, o]), EF::ZERO);
        // Outside the selector only Q = 0 is consistent.
        assert_eq!(f(&[EF::ONE, EF::ZERO, EF::ZERO, a, o]), EF::ZERO);
        let g = summand(ElementwiseOp::Product, c);
        let p = EF::from_u64(2) * a * o;
        assert_eq!(g(&[EF::ONE, -p, EF::ONE, a, o]), EF::ZERO);
        assert_ne!(g(&[EF::ONE, p, EF::ONE, a, o]), EF::ZERO);
    }
}
