//! A dense block in zero knowledge: one sumcheck over the block's output variables (i, n) and
//! then its input variables j, with the public claim 0:
//!   Σ_{i,n,j} eq(τ, (i, n))·(D(i, n)/2^k − W(i, j)·x(j, n)) = 0,
//!   D = (2^b·q + t − 2^(b−1))/m_b − bias  (the accumulator the requantisation implies),
//! i.e. at every output entry the committed q, t match W·x + bias. The first phase binds (i, n)
//! over the tables eq, D and Y = W·x; the second binds j over W(r_i, ·) and x(·, r_n). Nothing
//! but masked evaluations at the final point is revealed: q̇, ṫ at (r_i, r_n), ḃ at r_i, Ẇ at
//! (r_j, r_i) and ẋ at (r_j, r_n). A ReLU adds the zero-check Σ eq(τ', x)·a·(a − q) = 0 (with the
//! range lookups a ≥ 0, a − q ≥ 0 this is a = relu(q)).
//!
//! Padding: the weight table is padded to powers of two (rows beyond `out_dim`, input slots no
//! input occupies), and nothing in the commitment says those entries are zero. The relation
//! therefore reads W and the bias only through the public selectors S_r(i) = [i < out_dim] and
//! S_c(j) = [slot j holds an input] (a product of prefix indicators; the verifier evaluates both
//! in O(variables), [`prefix_eval`], [`slot_selector`]):
//!   Σ eq(τ, (i, n))·(Q(i, n)/2^k − S_r(i)·bias(i)/2^k − S_r(i)·S_c(j)·W(i, j)·x(j, n)) = 0,
//!   Q = (2^b·q + t − 2^(b−1))/m_b.
//! So padding weights never reach an accumulator, and a padding row (i ≥ out_dim) must have
//! 2^b·q + t = 2^(b−1), which with the range lookups (|q| < 2^(b−1), 0 ≤ t < 2^b: no
//! wrap-around) forces q = 0, t = 2^(b−1) and a = 0: every activation column's padding is
//! zero. Unused input slots of x (a private or committed input's padding, which only its
//! range lookup constrains) are never read either.
//!
//! Padding of the other committed tables (audited with this change):
//! - witness columns q, t, a: padding rows forced as above (dense S_r; conv S_r, its [p real]
//!   bias factor and M, which give padding positions Y = 0; pooling's link sumcheck gives padding
//!   g_u = 0, so a = 0); limbs lo, hi: zero-checked against their value on every entry, padding
//!   included; multiplicities: the table has exactly 2^h entries, no padding;
//! - the input column: public — every claim is checked against the stated input's zero-padded
//!   MLE; private or committed (`zk/input.rs`) — padding is free but never read (S_c, M, M_λ
//!   read occupied slots only); batch items past the batch repeat item 0 for the honest prover,
//!   and a dishonest choice there only changes padding outputs, which the verifier fills itself;
//! - LogUp inverses: each column has exactly its lookup's entries, and every entry, padding
//!   included, is zero-checked h·(α − v) = 1;
//! - sumcheck mask columns (`masks.rs`): a round's 2^a coefficient slots may hold more than
//!   degree + 1 nonzero coefficients; free but harmless — g_l is committed before ρ, so
//!   Σ(f + ρ·G) = c + ρ·ΣG still forces Σf = c, and a higher-degree g_l (at most 2^a − 1 < 2d + 1)
//!   at most doubles that round's Schwartz–Zippel error (audit note 8);
//! - table entries outside every column and mask (layout holes, `layout.rs`): no claim gives
//!   them weight;
//! - the weight range certificate's limb table (`range.rs`): limbs cover whole weight columns,
//!   padding included (so padding entries are in range too).

use p3_field::{Field, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;

use super::prover::ProverCtx;
use super::sumcheck::Table;
use super::verifier::VerifierCtx;
use crate::block::fold_batch;
use crate::circuit::ActShape;
use crate::commit::{weight_columns, weight_logs};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::{eq_eval, eq_table};
use crate::zk::proof::ZkDenseProof;
use crate::zk::weights;

/// Sumcheck labels name the block, so a rejection says where it failed.
pub(crate) fn label(spec: &crate::circuit::CircuitSpec, l: usize) -> String {
    format!("zk-dense '{}'", spec.layers[l].name)
}

fn relu_label(spec: &crate::circuit::CircuitSpec, l: usize) -> String {
    format!("zk-relu '{}'", spec.layers[l].name)
}

/// Round degrees: output variables (eq·S_r·bias: 1 + 1 + 1, the bias's mask adding 2 in the
/// first round), then input variables (S_c·W·x, W's and x's masks adding 2 each in the first).
pub(crate) fn schedule(n_out: usize, k_in: usize) -> Vec<usize> {
    let first = |d0: usize, n: usize| (0..n).map(move |k| if k == 0 { d0 } else { 3 });
    first(5, n_out).chain(first(7, k_in)).collect()
}

/// Σ_{x < n} eq(r, x) (x little-endian, variable 0 on bit 0): the MLE of the prefix indicator
/// [x < n] at r, in O(|r|).
pub(crate) fn prefix_eval(r: &[EF], n: usize) -> EF {
    let Some((&top, rest)) = r.split_last() else {
        return if n >= 1 { EF::ONE } else { EF::ZERO };
    };
    let half = 1usize << rest.len();
    if n <= half {
        (EF::ONE - top) * prefix_eval(rest, n)
    } else {
        (EF::ONE - top) + top * prefix_eval(rest, n - half)
    }
}

/// The MLE at r of [slot is occupied] for an activation stored as `shape` (channels of `len`
/// values, each padded to 2^⌈log2 len⌉; r has the column's variables, position low).
pub(crate) fn slot_selector(shape: ActShape, r: &[EF]) -> EF {
    let (pos, ch) = r.split_at(shape.log_len().min(r.len()));
    prefix_eval(pos, shape.len) * prefix_eval(ch, shape.channels)
}

/// The same selector on the hypercube of `k` variables.
pub(crate) fn slot_table(shape: ActShape, k: usize) -> Vec<EF> {
    let mut t = vec![EF::ZERO; 1 << k];
    for i in 0..shape.channels * shape.len {
        t[shape.slot(i)] = EF::ONE;
    }
    t
}

/// ReLU zero-check degrees: eq·a·(a − q), both masked (1 + 3 + 3), then 3.
pub(crate) fn relu_schedule(n_out: usize) -> Vec<usize> {
    (0..n_out).map(|k| if k == 0 { 7 } else { 3 }).collect()
}

/// The public constants of block l's requantisation: 2^b, 2^(b−1), 1/m_b.
pub(crate) fn requant(ctx_spec: &crate::circuit::CircuitSpec, l: usize) -> (F, F, F) {
    let bits = ctx_spec.table_bits;
    let mb = F::from_u64(ctx_spec.layers[l].mult_scaled(bits));
    (
        F::from_u64(1 << bits),
        F::from_u64(1 << (bits - 1)),
        mb.inverse(),
    )
}

pub(crate) fn lift(c: &[F]) -> Vec<EF> {
    c.iter().map(|&x| EF::from(x)).collect()
}

/// Ṗ(z) = P̃(z) + z₀(1 − z₀)·R̃(z) for base-field P and R.
pub(crate) fn masked_eval(p: &[F], r: &[F], z: &[EF]) -> EF {
    crate::mle::evaluate_base(p, z) + z[0] * (EF::ONE - z[0]) * crate::mle::evaluate_base(r, z)
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> Result<ZkDenseProof> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let bc = &plan.blocks[l];
    let (n_o, kb) = (bc.log_out, plan.log_batch);
    let (ki, ko) = weight_logs(spec, l);
    let t_col = bc.t.ok_or_else(|| {
        ProofError::Circuit(format!(
            "block '{}' has no remainder column",
            spec.layers[l].name
        ))
    })?;
    let x_col = ctx.input_col(l);
    let wcols = weight_columns(spec, l);
    let bcol = wcols.bias;
    let tau = ctx.tr.challenge_point("zk-dense-tau", n_o + kb);
    let (full, half, mb_inv) = requant(spec, l);
    let (q, t, b) = (&ctx.cols[bc.q], &ctx.cols[t_col], &ctx.wcols[bcol]);
    let (rq, rt, rb) = (&ctx.wit_r[bc.q], &ctx.wit_r[t_col], &ctx.w_r[bcol]);
    let rows = (1usize << n_o) - 1;
    let out_dim = spec.layers[l].out_dim;
    let in_shape = spec.layer_input_shape(l);
    let qd: Vec<EF> = (0..q.len())
        .map(|i| EF::from((full * q[i] + t[i] - half) * mb_inv))
        .collect();
    let qd_m: Vec<EF> = (0..q.len())
        .map(|i| EF::from((full * rq[i] + rt[i]) * mb_inv))
        .collect();
    let bias: Vec<EF> = (0..q.len()).map(|i| EF::from(b[i & rows])).collect();
    let bias_m: Vec<EF> = (0..q.len()).map(|i| EF::from(rb[i & rows])).collect();
    let s_row: Vec<EF> = (0..q.len())
        .map(|i| {
            if i & rows < out_dim {
                EF::ONE
            } else {
                EF::ZERO
            }
        })
        .collect();
    let s_col = slot_table(in_shape, ki);
    let used: Vec<bool> = s_col.iter().map(|s| *s == EF::ONE).collect();
    // Y(i, n) = Σ_j S_c(j)·W(i, j)·x(j, n): the product the first phase compares with (times
    // S_r, a separate table: the MLE of S_r·Y at r is not S_r(r)·Y(r) for a product in i).
    let (w, w_r) = (
        weights::whole(&wcols, ctx.wcols, ki, ko),
        weights::whole(&wcols, ctx.w_r, ki, ko),
    );
    let x = &ctx.cols[x_col];
    let len_in = 1usize << ki;
    let y: Vec<EF> = (0..q.len())
        .into_par_iter()
        .map(|idx| {
            let (i, n) = (idx & rows, idx >> n_o);
            let (wr, xr) = (
                &w[i * len_in..(i + 1) * len_in],
                &x[n * len_in..(n + 1) * len_in],
            );
            EF::from(
                wr.iter()
                    .zip(xr)
                    .zip(&used)
                    .filter(|(_, u)| **u)
                    .map(|((&a, &b), _)| a * b)
                    .sum::<F>(),
            )
        })
        .collect();
    let mut sc = ctx.sumcheck(&label(spec, l));
    let tables = vec![
        Table::plain(eq_table(&tau)),
        Table::masked(qd, qd_m),
        Table::masked(bias, bias_m),
        Table::plain(s_row),
        Table::plain(y),
    ];
    let (r1, f1) = sc.phase(tables, |v| v[0] * (v[1] - v[3] * (v[2] + v[4])), ctx.tr);
    let (e, s_at) = (f1[0], f1[3]);
    let d_at = f1[1] - s_at * f1[2];
    let (r_i, r_n) = r1.split_at(n_o);
    let (eq_i, eq_n) = (eq_table(r_i), eq_table(r_n));
    let w_tab = Table::masked(fold_batch(&w, ki, &eq_i), fold_batch(&w_r, ki, &eq_i));
    let x_tab = Table::masked(
        fold_batch(x, ki, &eq_n),
        fold_batch(&ctx.wit_r[x_col], ki, &eq_n),
    );
    let kappa = e * d_at * EF::from_u64(1 << ki).inverse();
    let es = e * s_at;
    let (r_j, f2) = sc.phase(
        vec![w_tab, x_tab, Table::plain(s_col)],
        |v| kappa - es * v[0] * v[1] * v[2],
        ctx.tr,
    );
    let sumcheck = ctx.finish(sc)?;
    let q_t = [masked_eval(q, rq, &r1), masked_eval(t, rt, &r1)];
    let bias = masked_eval(b, rb, r_i);
    let input = f2[1];
    let weights = weights::piece_values(&wcols, ctx.wcols, ctx.w_r, &r_j, r_i);
    debug_assert_eq!(weights::combine(&wcols, &r_j, &weights, "")?, f2[0]);
    ctx.tr.absorb_ext(
        "zk-dense-evals",
        &[&[q_t[0], q_t[1], bias, input][..], &weights].concat(),
    );
    let x_point = [r_j.as_slice(), r_n].concat();
    ctx.claims.wit.extend([
        (bc.q, r1.clone(), q_t[0]),
        (t_col, r1.clone(), q_t[1]),
        (x_col, x_point, input),
    ]);
    ctx.claims
        .weight
        .extend(weights::claims(&wcols, &r_j, r_i, &weights));
    ctx.claims.weight.push((bcol, r_i.to_vec(), bias));
    let relu = if spec.layers[l].relu {
        Some(prove_relu(ctx, l, n_o + kb)?)
    } else {
        None
    };
    Ok(ZkDenseProof {
        sumcheck,
        q_t,
        bias,
        weights,
        input,
        relu,
    })
}

pub(crate) fn prove_relu(
    ctx: &mut ProverCtx,
    l: usize,
    n: usize,
) -> Result<(super::sumcheck::ZkSumcheckProof, [EF; 2])> {
    let (q, a) = (ctx.plan.blocks[l].q, ctx.plan.blocks[l].a);
    let tau = ctx.tr.challenge_point("zk-relu-tau", n);
    let tables = vec![
        Table::plain(eq_table(&tau)),
        Table::masked(lift(&ctx.cols[a]), lift(&ctx.wit_r[a])),
        Table::masked(lift(&ctx.cols[q]), lift(&ctx.wit_r[q])),
    ];
    let mut sc = ctx.sumcheck(&relu_label(ctx.spec, l));
    let (pt, f) = sc.phase(tables, relu_summand, ctx.tr);
    let proof = ctx.finish(sc)?;
    let evals = [f[1], f[2]];
    ctx.tr.absorb_ext("zk-relu-evals", &evals);
    ctx.claims
        .wit
        .extend([(a, pt.clone(), evals[0]), (q, pt, evals[1])]);
    Ok((proof, evals))
}

fn relu_summand(v: &[EF]) -> EF {
    v[0] * v[1] * (v[1] - v[2])
}

/// Mirrors [`prove`].
pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, p: &ZkDenseProof) -> Result<()> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let layer = &spec.layers[l];
    let bc = &plan.blocks[l];
    let (n_o, kb) = (bc.log_out, plan.log_batch);
    let (ki, _) = weight_logs(spec, l);
    let t_col = bc.t.ok_or_else(|| {
        ProofError::Circuit(format!("block '{}' has no remainder column", layer.name))
    })?;
    let x_col = ctx.input_col(l);
    let wcols = weight_columns(spec, l);
    let tau = ctx.tr.challenge_point("zk-dense-tau", n_o + kb);
    let (point, expected) = ctx.sumcheck(&label(spec, l), EF::ZERO, &p.sumcheck)?;
    let (r1, r_j) = point.split_at(n_o + kb);
    let (r_i, r_n) = r1.split_at(n_o);
    let (full, half, mb_inv) = requant(spec, l);
    let s_row = prefix_eval(r_i, layer.out_dim);
    let s_col = slot_selector(spec.layer_input_shape(l), r_j);
    let d =
        (EF::from(full) * p.q_t[0] + p.q_t[1] - EF::from(half)) * EF::from(mb_inv) - s_row * p.bias;
    let e = eq_eval(&tau, r1);
    let weight = weights::combine(&wcols, r_j, &p.weights, &layer.name)?;
    if e * d * EF::from_u64(1 << ki).inverse() - e * s_row * s_col * weight * p.input != expected {
        return Err(ProofError::Layer(format!(
            "block '{}': the committed outputs do not match W·x + bias",
            layer.name
        )));
    }
    ctx.tr.absorb_ext(
        "zk-dense-evals",
        &[&[p.q_t[0], p.q_t[1], p.bias, p.input][..], &p.weights].concat(),
    );
    ctx.claims.wit.extend([
        (bc.q, r1.to_vec(), p.q_t[0]),
        (t_col, r1.to_vec(), p.q_t[1]),
        (x_col, [r_j, r_n].concat(), p.input),
    ]);
    ctx.claims
        .weight
        .extend(weights::claims(&wcols, r_j, r_i, &p.weights));
    ctx.claims.weight.push((wcols.bias, r_i.to_vec(), p.bias));
    verify_relu(ctx, l, &p.relu)
}

/// The ReLU zero-check of block l (dense or convolution), when it has one.
pub(crate) fn verify_relu(
    ctx: &mut VerifierCtx,
    l: usize,
    relu: &Option<(super::sumcheck::ZkSumcheckProof, [EF; 2])>,
) -> Result<()> {
    let layer = &ctx.spec.layers[l];
    let bc = &ctx.plan.blocks[l];
    let n = bc.log_out + ctx.plan.log_batch;
    match (layer.relu, relu) {
        (false, None) => Ok(()),
        (true, Some((sc, evals))) => {
            let tau = ctx.tr.challenge_point("zk-relu-tau", n);
            let (pt, expected) = ctx.sumcheck(&relu_label(ctx.spec, l), EF::ZERO, sc)?;
            if relu_summand(&[eq_eval(&tau, &pt), evals[0], evals[1]]) != expected {
                return Err(ProofError::Layer(format!(
                    "block '{}': a ReLU output is neither 0 nor its input",
                    layer.name
                )));
            }
            ctx.tr.absorb_ext("zk-relu-evals", evals);
            ctx.claims
                .wit
                .extend([(bc.a, pt.clone(), evals[0]), (bc.q, pt, evals[1])]);
            Ok(())
        }
        _ => Err(ProofError::Layer(format!(
            "block '{}': ReLU proof present where none is due, or missing",
            layer.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate;

    #[test]
    fn selectors_are_the_mles_of_their_tables() {
        let r: Vec<EF> = (0..5)
            .map(|i| EF::from_u64(3 + 7 * i) * super::super::masked::omega() + EF::from_u64(i + 2))
            .collect();
        for n in 0..=33 {
            let t: Vec<EF> = (0..32)
                .map(|i| if i < n { EF::ONE } else { EF::ZERO })
                .collect();
            assert_eq!(prefix_eval(&r, n), evaluate(&t, &r), "n = {n}");
        }
        for shape in [
            ActShape {
                channels: 3,
                len: 5,
            },
            ActShape::flat(7),
            ActShape::flat(1),
            ActShape {
                channels: 4,
                len: 8,
            },
        ] {
            let k = shape.log_size();
            assert_eq!(
                slot_selector(shape, &r[..k]),
                evaluate(&slot_table(shape, k), &r[..k]),
                "{shape:?}"
            );
        }
    }
}
