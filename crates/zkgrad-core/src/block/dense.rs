//! A dense block: the linear step with x = the input column folded at the batch point, then a
//! claim on the input column at (sumcheck point, batch point).

use super::linear::{self, OutputPoint};
use super::{ProverCtx, VerifierCtx};
use crate::error::Result;
use crate::field::{EF, F};
use crate::mle::eq_table;
use crate::proof::LinearProof;
use p3_field::PrimeCharacteristicRing;

/// Σ_n eq(r_n, n)·col[n·2^log_feat + ·]: a batched column folded at a batch point.
pub(crate) fn fold_batch(col: &[F], log_feat: usize, eq_n: &[EF]) -> Vec<EF> {
    let mut out = vec![EF::ZERO; 1 << log_feat];
    for (row, &e) in col.chunks(1 << log_feat).zip(eq_n) {
        out.iter_mut().zip(row).for_each(|(o, &v)| *o += e * v);
    }
    out
}

fn output_point(ctx_tr: &mut crate::transcript::Transcript, log_out: usize, kb: usize) -> (OutputPoint, Vec<EF>) {
    let r = ctx_tr.challenge_point("block-point", log_out + kb);
    let (rows, r_n) = r.split_at(log_out);
    let pt = OutputPoint { rows: rows.to_vec(), bias_factor: EF::ONE, r: r.clone() };
    (pt, r_n.to_vec())
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> LinearProof {
    let (pt, r_n) = output_point(ctx.tr, ctx.plan.blocks[l].log_out, ctx.plan.log_batch);
    let in_shape = ctx.spec.layer_input_shape(l);
    let a_col = ctx.input_col(l);
    let x_r = fold_batch(&ctx.cols[a_col], in_shape.log_size(), &eq_table(&r_n));
    let shape = (in_shape.channels > 1).then_some(in_shape);
    let (proof, point, _) = linear::prove(ctx, l, &pt, x_r, shape);
    ctx.claim_col(a_col, &[point.as_slice(), &r_n].concat());
    proof
}

pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, p: &LinearProof) -> Result<()> {
    let (pt, r_n) = output_point(ctx.tr, ctx.plan.blocks[l].log_out, ctx.plan.log_batch);
    let (point, x_eval) = linear::verify(ctx, l, &pt, p)?;
    let a_col = ctx.input_col(l);
    ctx.claim_col(a_col, &[point.as_slice(), &r_n].concat(), x_eval);
    Ok(())
}
