//! A convolution block in zero knowledge: one sumcheck with claim 0 over the output variables
//! (p, oc, n), then the patch variables j, then the input variables i:
//!   Σ eq(τ, (p, oc, n))·(D(p, oc, n)/2^(kj + ki) − K(oc, j)·M(i; j, p)·a(i, n)) = 0,
//!   D = (2^b·q + t − 2^(b−1))/m_b − bias(oc)·[p real],
//! where M(i; j, p) = [src(j, p) = i] is the public patch selector (`block/wiring.rs`): Σ_i M·a is
//! the patch matrix, Σ_j K·(patches) the convolution. The first phase binds (p, oc, n) over
//! eq, the requantised accumulator (masked in p₀), the bias (masked in oc₀, a later variable)
//! and the convolution output Y; the second binds j over K(r_oc, ·) and the patches folded at
//! (r_p, r_n); the third binds i over M(·; r_j, r_p) and a(·, r_n). Revealed: the masked q̇, ṫ
//! at (r_p, r_oc, r_n), ḃ at r_oc, K̇ at (r_j, r_oc) and ȧ at (r_i, r_n); the verifier evaluates
//! M itself. A ReLU adds the zero-check of `dense.rs`.
//!
//! Padding: K and the bias are read through the public row selector S_r(oc) = [oc < C_out]
//! (`dense::prefix_eval`), so padding output channels of the weight table never reach an
//! accumulator, and a padding channel's q, t are forced to 0, 2^(b−1) (see `dense.rs`); padding
//! patch slots (j ≥ C_in·kh·kw), padding positions and the input's padding slots are never read,
//! because M(i; j, p) is zero unless j is a real patch entry, p a real position and i a real input.

use p3_field::{Field, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;

use super::dense::{masked_eval, prefix_eval, prove_relu, requant, verify_relu};
use super::prover::ProverCtx;
use super::sumcheck::Table;
use super::verifier::VerifierCtx;
use crate::block::fold_batch;
use crate::block::wiring::conv_selector;
use crate::circuit::{ActShape, CircuitSpec, ConvGeom, LayerKind};
use crate::commit::{WeightColumns, weight_columns, weight_logs};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::{eq_eval, eq_table, evaluate, log2_ceil};
use crate::witness::WitnessPlan;
use crate::zk::proof::ZkDenseProof;
use crate::zk::weights;

fn label(spec: &CircuitSpec, l: usize) -> String {
    format!("zk-conv '{}'", spec.layers[l].name)
}

fn geometry(spec: &CircuitSpec, l: usize) -> Result<&ConvGeom> {
    match &spec.layers[l].kind {
        LayerKind::Conv(g) => Ok(g),
        _ => Err(ProofError::Circuit(format!(
            "block '{}' is not a convolution",
            spec.layers[l].name
        ))),
    }
}

/// What prover and verifier both derive for block l from the public circuit.
struct Setup<'a> {
    g: &'a ConvGeom,
    /// Position, output-channel, batch and patch variables.
    kp: usize,
    koc: usize,
    kb: usize,
    kj: usize,
    positions: usize,
    input: ActShape,
    q_col: usize,
    t_col: usize,
    x_col: usize,
    /// The kernel's and the bias's weight columns.
    wcols: WeightColumns,
}

fn setup<'a>(spec: &'a CircuitSpec, plan: &WitnessPlan, l: usize) -> Result<Setup<'a>> {
    let g = geometry(spec, l)?;
    let bc = &plan.blocks[l];
    let t_col = bc.t.ok_or_else(|| {
        ProofError::Circuit(format!(
            "block '{}' has no remainder column",
            spec.layers[l].name
        ))
    })?;
    let wcols = weight_columns(spec, l);
    let positions = g.out_hw()[0] * g.out_hw()[1];
    Ok(Setup {
        g,
        kp: log2_ceil(positions),
        koc: log2_ceil(g.out_channels),
        kb: plan.log_batch,
        kj: weight_logs(spec, l).0,
        positions,
        input: spec.layer_input_shape(l),
        q_col: bc.q,
        t_col,
        x_col: crate::block::input_col(spec, plan, l),
        wcols,
    })
}

/// Round degrees: the output phase carries two masks (q, t in p₀: eq·Q is 1 + 3; the bias in
/// oc₀: eq·S_r·bias is 1 + 1 + 3), the patch and input phases one each (3 + 1).
pub(crate) fn schedule(n_out: usize, kj: usize, ki: usize) -> Vec<usize> {
    let first = |n: usize| (0..n).map(|k| if k == 0 { 4 } else { 2 });
    (0..n_out)
        .map(|_| 5)
        .chain(first(kj))
        .chain(first(ki))
        .collect()
}

/// Refuses convolutions whose kernel or bias column would have no variable to carry a mask, or
/// whose output is narrower than the narrowest column.
pub(crate) fn check(spec: &CircuitSpec, l: usize) -> Result<()> {
    let g = geometry(spec, l)?;
    if g.out_channels < 2 || g.patch_len() < 2 {
        return Err(ProofError::Circuit(format!(
            "block '{}': a convolution with a single output channel or a single value per patch is not supported yet \
             (its kernel or bias column has no variable to carry a zero-knowledge mask)",
            spec.layers[l].name
        )));
    }
    let out_vars = log2_ceil(g.out_hw()[0] * g.out_hw()[1]) + log2_ceil(g.out_channels);
    if out_vars < crate::circuit::MIN_COLUMN_VARS {
        // Its output column would be padded with variables the output relation does not span.
        return Err(ProofError::Circuit(format!(
            "block '{}': a convolution with fewer than {} output values is not supported yet",
            spec.layers[l].name,
            1usize << crate::circuit::MIN_COLUMN_VARS
        )));
    }
    Ok(())
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> Result<ZkDenseProof> {
    let spec = ctx.spec;
    let Setup {
        g,
        kp,
        koc,
        kb,
        kj,
        positions,
        input,
        q_col,
        t_col,
        x_col,
        wcols,
    } = setup(spec, ctx.plan, l)?;
    let bcol = wcols.bias;
    let ki = input.log_size();
    let tau = ctx.tr.challenge_point("zk-conv-tau", kp + koc + kb);
    let (full, half, mb_inv) = requant(spec, l);
    let (q, t, b) = (&ctx.cols[q_col], &ctx.cols[t_col], &ctx.wcols[bcol]);
    let (rq, rt, rb) = (&ctx.wit_r[q_col], &ctx.wit_r[t_col], &ctx.w_r[bcol]);
    let real = |idx: usize| idx & ((1 << kp) - 1) < positions;
    let oc = |idx: usize| (idx >> kp) & ((1 << koc) - 1);
    let n = q.len();
    let dqt: Vec<EF> = (0..n)
        .map(|i| EF::from((full * q[i] + t[i] - half) * mb_inv))
        .collect();
    let dqt_m: Vec<EF> = (0..n)
        .map(|i| EF::from((full * rq[i] + rt[i]) * mb_inv))
        .collect();
    let bias_at = |v: &[F], i: usize| {
        if real(i) {
            EF::from(v[oc(i)])
        } else {
            EF::ZERO
        }
    };
    let bb: Vec<EF> = (0..n).map(|i| bias_at(b, i)).collect();
    let bb_m: Vec<EF> = (0..n).map(|i| bias_at(rb, i)).collect();
    let s_row: Vec<EF> = (0..n)
        .map(|i| {
            if oc(i) < g.out_channels {
                EF::ONE
            } else {
                EF::ZERO
            }
        })
        .collect();
    // The convolution output K·patches (for an honest prover, what q and t requantise; zero in
    // padding channels). S_r multiplies it as a separate table (the MLE of a product in oc is
    // not the product of the MLEs).
    let y: Vec<EF> = (0..n).map(|i| s_row[i] * (dqt[i] - bb[i])).collect();
    let mut sc = ctx.sumcheck(&label(spec, l));
    let tables = vec![
        Table::plain(eq_table(&tau)),
        Table::masked(dqt, dqt_m),
        Table::masked_at(bb, bb_m, kp),
        Table::plain(y),
        Table::plain(s_row),
    ];
    let (r1, f1) = sc.phase(tables, |v| v[0] * (v[1] - v[4] * (v[2] + v[3])), ctx.tr);
    let s_at = f1[4];
    let (e, d_at) = (f1[0], f1[1] - s_at * f1[2]);
    let (r_p, rest) = r1.split_at(kp);
    let (r_oc, r_n) = rest.split_at(koc);
    let (eq_p, eq_oc, eq_n) = (eq_table(r_p), eq_table(r_oc), eq_table(r_n));
    // Phase 2: K(r_oc, j) and the patches folded at (r_p, r_n).
    let (w, w_r) = (
        weights::whole(&wcols, ctx.wcols, kj, koc),
        weights::whole(&wcols, ctx.w_r, kj, koc),
    );
    let x = &ctx.cols[x_col];
    let a_r = fold_batch(x, ki, &eq_n);
    let mut patches: Vec<EF> = (0..g.patch_len())
        .into_par_iter()
        .map(|j| {
            (0..positions)
                .filter_map(|p| g.source(j, p).map(|src| eq_p[p] * a_r[input.slot(src)]))
                .sum()
        })
        .collect();
    patches.resize(1 << kj, EF::ZERO);
    let k_tab = Table::masked(fold_batch(&w, kj, &eq_oc), fold_batch(&w_r, kj, &eq_oc));
    let kappa2 = e * d_at * EF::from_u64(1 << kj).inverse();
    let es = e * s_at;
    let (r_j, f2) = sc.phase(
        vec![k_tab, Table::plain(patches)],
        |v| kappa2 - es * v[0] * v[1],
        ctx.tr,
    );
    let kval = f2[0];
    // Phase 3: the selector M(·; r_j, r_p) and a(·, r_n).
    let sel = conv_selector(g, input, &eq_table(&r_j), &eq_p);
    let a_tab = Table::masked(a_r, fold_batch(&ctx.wit_r[x_col], ki, &eq_n));
    let kappa3 = e * d_at * EF::from_u64(1 << (kj + ki)).inverse();
    let (r_i, f3) = sc.phase(
        vec![Table::plain(sel), a_tab],
        |v| kappa3 - es * kval * v[0] * v[1],
        ctx.tr,
    );
    let sumcheck = ctx.finish(sc)?;
    let q_t = [masked_eval(q, rq, &r1), masked_eval(t, rt, &r1)];
    let bias = masked_eval(b, rb, r_oc);
    let input_eval = f3[1];
    let weights = weights::piece_values(&wcols, ctx.wcols, ctx.w_r, &r_j, r_oc);
    debug_assert_eq!(weights::combine(&wcols, &r_j, &weights, "")?, kval);
    ctx.tr.absorb_ext(
        "zk-conv-evals",
        &[&[q_t[0], q_t[1], bias, input_eval][..], &weights].concat(),
    );
    ctx.claims.wit.extend([
        (q_col, r1.clone(), q_t[0]),
        (t_col, r1.clone(), q_t[1]),
        (x_col, [r_i.as_slice(), r_n].concat(), input_eval),
    ]);
    ctx.claims
        .weight
        .extend(weights::claims(&wcols, &r_j, r_oc, &weights));
    ctx.claims.weight.push((bcol, r_oc.to_vec(), bias));
    let relu = if spec.layers[l].relu {
        Some(prove_relu(ctx, l, kp + koc + kb)?)
    } else {
        None
    };
    Ok(ZkDenseProof {
        sumcheck,
        q_t,
        bias,
        weights,
        input: input_eval,
        relu,
    })
}

/// Mirrors [`prove`].
pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, p: &ZkDenseProof) -> Result<()> {
    let spec = ctx.spec;
    let Setup {
        g,
        kp,
        koc,
        kb,
        kj,
        positions,
        input,
        q_col,
        t_col,
        x_col,
        wcols,
    } = setup(spec, ctx.plan, l)?;
    let tau = ctx.tr.challenge_point("zk-conv-tau", kp + koc + kb);
    let (point, expected) = ctx.sumcheck(&label(spec, l), EF::ZERO, &p.sumcheck)?;
    let (r1, rest) = point.split_at(kp + koc + kb);
    let (r_j, r_i) = rest.split_at(kj);
    let (r_p, rest) = r1.split_at(kp);
    let (r_oc, r_n) = rest.split_at(koc);
    let (full, half, mb_inv) = requant(spec, l);
    let s_row = prefix_eval(r_oc, g.out_channels);
    let d = (EF::from(full) * p.q_t[0] + p.q_t[1] - EF::from(half)) * EF::from(mb_inv)
        - s_row * p.bias * prefix_eval(r_p, positions);
    let es = eq_eval(&tau, r1) * s_row;
    let sel = evaluate(
        &conv_selector(g, input, &eq_table(r_j), &eq_table(r_p)),
        r_i,
    );
    let weight = weights::combine(&wcols, r_j, &p.weights, &spec.layers[l].name)?;
    if eq_eval(&tau, r1) * d * EF::from_u64(1 << (kj + r_i.len())).inverse()
        - es * weight * sel * p.input
        != expected
    {
        return Err(ProofError::Layer(format!(
            "block '{}': the committed outputs do not match the convolution",
            spec.layers[l].name
        )));
    }
    ctx.tr.absorb_ext(
        "zk-conv-evals",
        &[&[p.q_t[0], p.q_t[1], p.bias, p.input][..], &p.weights].concat(),
    );
    ctx.claims.wit.extend([
        (q_col, r1.to_vec(), p.q_t[0]),
        (t_col, r1.to_vec(), p.q_t[1]),
        (x_col, [r_i, r_n].concat(), p.input),
    ]);
    ctx.claims
        .weight
        .extend(weights::claims(&wcols, r_j, r_oc, &p.weights));
    ctx.claims.weight.push((wcols.bias, r_oc.to_vec(), p.bias));
    verify_relu(ctx, l, &p.relu)
}
