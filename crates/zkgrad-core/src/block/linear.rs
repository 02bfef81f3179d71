//! The step dense and convolution blocks share. At a random output point r the committed q, t
//! give the accumulator z̃(r) = (2^b·q̃(r) + t̃(r) − 2^(b−1)) / m_b (the requantisation relation
//! z·m_b + 2^(b−1) = q·2^b + t at a random point); a sumcheck then proves
//! z̃(r) − b̃(rows)·β = Σ_j W̃(rows, j)·x̃(j), where `rows` are the output-row variables of r
//! (output features, or output channels), β the bias's broadcast factor, and x the block's input
//! (its patches for a convolution). It ends with one claim on W and one on x. A block with a
//! ReLU then proves a = relu(q): the range lookups give a ≥ 0 and a − q ≥ 0 (`witness.rs`), and a
//! zero-check sumcheck Σ eq(τ, x)·a·(a − q) = 0 gives a ∈ {0, q} at every x.

use p3_field::{Field, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;

use super::{ProverCtx, VerifierCtx};
use crate::circuit::ActShape;
use crate::commit::{weight_columns, weight_logs};
use crate::error::{ProofError, Result};
use crate::field::{EF, from_i64};
use crate::mle::{eq_eval, eq_table, evaluate_base, evaluate_i64_padded};
use crate::proof::{LinearProof, ReluProof};
use crate::sumcheck;

/// Where the block's output point splits.
pub(crate) struct OutputPoint {
    /// The whole point over the output column (and batch).
    pub r: Vec<EF>,
    /// The variables that index weight rows and biases.
    pub rows: Vec<EF>,
    /// How often the bias is added at r (1 for dense, Σ over real positions for convolutions).
    pub bias_factor: EF,
}

/// Σ_o eq(r, o)·W[o][·], padded to 2^k_in: the weight rows folded at the row point. Column i
/// of the matrix goes to slot `shape.slot(i)` when the input is stored by channel.
pub(crate) fn fold_rows(weight: &[i64], n_cols: usize, eq_r: &[EF], log_in: usize, shape: Option<ActShape>) -> Vec<EF> {
    let zero = || vec![EF::ZERO; 1 << log_in];
    let slot = |i: usize| shape.map_or(i, |s| s.slot(i));
    weight
        .par_chunks(n_cols)
        .zip(eq_r.par_iter())
        .fold(zero, |mut acc, (row, &e)| {
            for (i, &w) in row.iter().enumerate() {
                if w != 0 {
                    acc[slot(i)] += e * from_i64(w);
                }
            }
            acc
        })
        .reduce(zero, |mut a, b| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += *y);
            a
        })
}

/// Proves block l's requantisation and product against the input-side table `x_r` (already
/// folded at the output point); returns the sumcheck point and x̃ there.
pub(crate) fn prove(ctx: &mut ProverCtx, l: usize, pt: &OutputPoint, x_r: Vec<EF>, in_shape: Option<ActShape>) -> (LinearProof, Vec<EF>, EF) {
    let bc = &ctx.plan.blocks[l];
    let t_col = bc.t.expect("linear blocks have a remainder column");
    let q_t = [evaluate_base(&ctx.cols[bc.q], &pt.r), evaluate_base(&ctx.cols[t_col], &pt.r)];
    ctx.tr.absorb_ext("block-qt", &q_t);
    let lw = &ctx.weights.layers[l];
    let bias = evaluate_i64_padded(&lw.bias, &pt.rows);
    ctx.tr.absorb_ext("block-bias", &[bias]);
    let (log_in, _) = weight_logs(ctx.spec, l);
    let (_, n_cols) = ctx.spec.layers[l].weight_dims();
    let w_r = fold_rows(&lw.weight, n_cols, &eq_table(&pt.rows), log_in, in_shape);
    let sc = sumcheck::prove(vec![w_r, x_r], 2, |v| v[0] * v[1], "dense-sc", ctx.tr);
    let w_a = [sc.finals[0], sc.finals[1]];
    ctx.tr.absorb_ext("block-wa", &w_a);
    // Plain circuits keep every kernel whole: one piece.
    let wcols = weight_columns(ctx.spec, l);
    let (wc, bcol) = (wcols.pieces[0].col, wcols.bias);
    ctx.claim_weight(wc, &[sc.point.as_slice(), &pt.rows].concat());
    ctx.claim_weight(bcol, &pt.rows);
    let (q, a) = (bc.q, bc.a);
    ctx.claim_col(q, &pt.r);
    ctx.claim_col(t_col, &pt.r);
    let relu = ctx.spec.layers[l].relu.then(|| prove_relu(ctx, q, a, bc.log_out));
    (LinearProof { q_t, bias, sumcheck: sc.proof, w_a, relu }, sc.point, w_a[1])
}

/// eq(τ, x)·a·(a − q): zero at every x exactly when a ∈ {0, q} everywhere.
fn relu_summand(v: &[EF]) -> EF {
    v[0] * v[1] * (v[1] - v[2])
}

fn prove_relu(ctx: &mut ProverCtx, q: usize, a: usize, log_out: usize) -> ReluProof {
    let tau = ctx.tr.challenge_point("relu-tau", log_out + ctx.plan.log_batch);
    let ef = |c: usize| ctx.cols[c].iter().map(|&v| EF::from(v)).collect::<Vec<EF>>();
    let sc = sumcheck::prove(vec![eq_table(&tau), ef(a), ef(q)], 3, relu_summand, "relu-sc", ctx.tr);
    let evals = [sc.finals[1], sc.finals[2]];
    ctx.tr.absorb_ext("relu-evals", &evals);
    ctx.claim_col(a, &sc.point);
    ctx.claim_col(q, &sc.point);
    ReluProof { sumcheck: sc.proof, evals }
}

fn verify_relu(ctx: &mut VerifierCtx, l: usize, p: Option<&ReluProof>) -> Result<()> {
    let layer = &ctx.spec.layers[l];
    let bc = &ctx.plan.blocks[l];
    let p = match (layer.relu, p) {
        (false, None) => return Ok(()),
        (true, Some(p)) => p,
        _ => return Err(ProofError::Layer(format!("block '{}': ReLU proof present where none is due, or missing", layer.name))),
    };
    let n = bc.log_out + ctx.plan.log_batch;
    let tau = ctx.tr.challenge_point("relu-tau", n);
    let (point, fin) = sumcheck::verify(EF::ZERO, n, 3, &p.sumcheck, "relu-sc", ctx.tr)?;
    if relu_summand(&[eq_eval(&tau, &point), p.evals[0], p.evals[1]]) != fin {
        return Err(ProofError::Layer(format!("block '{}': a ReLU output is neither 0 nor its input", layer.name)));
    }
    ctx.tr.absorb_ext("relu-evals", &p.evals);
    let (q, a) = (bc.q, bc.a);
    ctx.claim_col(a, &point, p.evals[0]);
    ctx.claim_col(q, &point, p.evals[1]);
    Ok(())
}

/// Mirrors [`prove`]; returns the sumcheck point and the claimed x̃ there.
pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, pt: &OutputPoint, p: &LinearProof) -> Result<(Vec<EF>, EF)> {
    let layer = &ctx.spec.layers[l];
    let bc = &ctx.plan.blocks[l];
    let t_col = bc.t.ok_or_else(|| ProofError::Circuit(format!("block '{}' has no remainder column", layer.name)))?;
    ctx.tr.absorb_ext("block-qt", &p.q_t);
    ctx.tr.absorb_ext("block-bias", &[p.bias]);
    let [q, t] = p.q_t;
    let half = EF::from_u64(ctx.plan.signed_offset as u64);
    let full = EF::from_u64(1 << ctx.plan.table_bits);
    let mb = EF::from_u64(layer.mult_scaled(ctx.spec.table_bits));
    let z = (full * q + t - half) * mb.inverse();
    let (log_in, _) = weight_logs(ctx.spec, l);
    let (point, fin) = sumcheck::verify(z - p.bias * pt.bias_factor, log_in, 2, &p.sumcheck, "dense-sc", ctx.tr)?;
    let [w_eval, x_eval] = p.w_a;
    if w_eval * x_eval != fin {
        return Err(ProofError::Layer(format!("block '{}': matmul sumcheck final check", layer.name)));
    }
    ctx.tr.absorb_ext("block-wa", &p.w_a);
    // Plain circuits keep every kernel whole: one piece.
    let wcols = weight_columns(ctx.spec, l);
    let (wc, bcol) = (wcols.pieces[0].col, wcols.bias);
    ctx.claim_weight(wc, &[point.as_slice(), &pt.rows].concat(), w_eval);
    ctx.claim_weight(bcol, &pt.rows, p.bias);
    let qc = bc.q;
    ctx.claim_col(qc, &pt.r, q);
    ctx.claim_col(t_col, &pt.r, t);
    verify_relu(ctx, l, p.relu.as_ref())?;
    Ok((point, x_eval))
}
