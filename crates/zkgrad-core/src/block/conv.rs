//! A convolution block: the output column stores channel oc's positions p at oc·2^kp + p, so an
//! output point is (r_p, r_oc, r_n). The linear step runs over the patch index c with the
//! kernel matrix K[oc][c] and the patch matrix X[c][p] = a(src(c, p)) folded at (r_p, r_n); the
//! bias is added once per real position. The wiring step then reduces x̃ to the input column.

use p3_field::PrimeCharacteristicRing;
use p3_maybe_rayon::prelude::*;

use super::dense::fold_batch;
use super::linear::{self, OutputPoint};
use super::{ProverCtx, VerifierCtx, wiring};
use crate::circuit::{ConvGeom, LayerKind};
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::{eq_table, log2_ceil};
use crate::proof::{LinearProof, WiringProof};
use crate::transcript::Transcript;

fn geometry(spec: &crate::circuit::CircuitSpec, l: usize) -> Result<&ConvGeom> {
    match &spec.layers[l].kind {
        LayerKind::Conv(g) => Ok(g),
        _ => Err(ProofError::Circuit(format!("block '{}' is not a convolution", spec.layers[l].name))),
    }
}

/// Samples the output point and splits it into (point, r_p, r_n).
fn output_point(g: &ConvGeom, log_batch: usize, tr: &mut Transcript) -> (OutputPoint, Vec<EF>, Vec<EF>) {
    let positions = g.out_hw()[0] * g.out_hw()[1];
    let (kp, koc) = (log2_ceil(positions), log2_ceil(g.out_channels));
    let r = tr.challenge_point("block-point", kp + koc + log_batch);
    let (r_p, rest) = r.split_at(kp);
    let (rows, r_n) = rest.split_at(koc);
    let pt = OutputPoint { rows: rows.to_vec(), bias_factor: wiring::prefix_sum(r_p, positions), r: r.clone() };
    (pt, r_p.to_vec(), r_n.to_vec())
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> Result<(LinearProof, WiringProof)> {
    let g = geometry(ctx.spec, l)?;
    let (pt, r_p, r_n) = output_point(g, ctx.plan.log_batch, ctx.tr);
    let input = ctx.spec.layer_input_shape(l);
    let a_col = ctx.input_col(l);
    let col = &ctx.cols[a_col];
    let (eq_p, eq_n) = (eq_table(&r_p), eq_table(&r_n));
    let positions = g.out_hw()[0] * g.out_hw()[1];
    let in_size = 1usize << input.log_size();
    // X[c] folded at (r_p, r_n): Σ_n Σ_p eq·a_n(src(c, p)).
    let mut x_r: Vec<EF> = (0..g.patch_len())
        .into_par_iter()
        .map(|c| {
            let mut acc = EF::ZERO;
            for (p, &ep) in eq_p.iter().enumerate().take(positions) {
                if let Some(src) = g.source(c, p) {
                    let i = input.slot(src);
                    acc += ep * eq_n.iter().enumerate().map(|(n, &en)| en * col[n * in_size + i]).sum::<EF>();
                }
            }
            acc
        })
        .collect();
    x_r.resize(1 << log2_ceil(g.patch_len()), EF::ZERO);
    let (lp, point, _) = linear::prove(ctx, l, &pt, x_r, None);
    let selector = wiring::conv_selector(g, input, &eq_table(&point), &eq_p);
    let (wp, sigma) = wiring::prove(selector, fold_batch(col, input.log_size(), &eq_n), ctx.tr);
    ctx.claim_col(a_col, &[sigma.as_slice(), &r_n].concat());
    Ok((lp, wp))
}

pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, lp: &LinearProof, wp: &WiringProof) -> Result<()> {
    let g = geometry(ctx.spec, l)?;
    let (pt, r_p, r_n) = output_point(g, ctx.plan.log_batch, ctx.tr);
    let (point, x_eval) = linear::verify(ctx, l, &pt, lp)?;
    let input = ctx.spec.layer_input_shape(l);
    let selector = wiring::conv_selector(g, input, &eq_table(&point), &eq_table(&r_p));
    let sigma = wiring::verify(x_eval, &selector, wp, &ctx.spec.layers[l].name, ctx.tr)?;
    let a_col = ctx.input_col(l);
    ctx.claim_col(a_col, &[sigma.as_slice(), &r_n].concat(), wp.input_eval);
    Ok(())
}
