//! A product of two activations in zero knowledge, `Z = A·B` per batch item (`crate::matmul`).
//! Stored as matrices, A's column has variables (t, i, n), B's (j, t, n) and the output's
//! (j, i, n): column index low, row index, batch high. One sumcheck with the public claim 0,
//!   Σ_{j,i,n} eq(τ, (j, i, n))·(Q(j, i, n) − Y(j, i, n)) = 0,   Q = (2^b·q + t − 2^(b−1))/m_b,
//!   Y(j, i, n) = Σ_t S_A(t, i)·A(t, i, n)·B(j, t, n),
//! i.e. at every output entry the committed q, t are the requantisation of the dot product.
//! Its first phase binds the output variables to r = (r_j, r_i, r_n) over the tables eq, Q and Y;
//! its second proves what Y(r) is without revealing it, continuing the claim as `dense.rs`
//! does, over every index (j, t, i, n):
//!   Σ_{j,t,i,n} (κ − e·eq(r, (j, i, n))·S_A(t, i)·Ȧ(t, i, n)·Ḃ(j, t, n)),
//!   κ = e·Q(r)/2^(|j|+|t|+|i|+|n|), e = eq(τ, r).
//! Nothing is folded before it: a masked Ṗ = P̃ + z₀(1 − z₀)·R̃ equals P only on the hypercube,
//! and B's mask variable z₀ is j₀, so B is summed in its own layout (masked in the phase's
//! first variable) and A in its layout spread over j (masked in t₀, the phase's variable |j|).
//! Revealed: q̇, ṫ at r, Ȧ at (ρ_t, ρ_i, ρ_n) and Ḃ at (ρ_j, ρ_t, ρ_n); a ReLU adds the
//! zero-check of `dense.rs`. The second phase costs rows·inner·cols per item, as the product.
//!
//! Padding: S_A = [slot (t, i) holds a value of A] (public, `dense::slot_selector`), so A's
//! padding is never read, even when A is the circuit input (whose padding is free). B's padding
//! rows t ≥ inner are never reached (S_A is 0 there); its padding columns j ≥ cols are zero as
//! every block output's padding is (the circuit refuses B = the input unless it has none), so
//! Y = 0 on the output's padding, which with the range lookups forces q = 0, t = 2^(b−1), a = 0
//! there. Wrap-around: the circuit refuses products whose accumulator times m_b could reach
//! 2^62 (`MatMulGeom::check_bound`), so the field identity is the integer one.

use p3_field::{Field, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;

use super::dense::{masked_eval, prove_relu, requant, slot_selector, slot_table, verify_relu};
use super::elementwise::t_col;
use super::prover::ProverCtx;
use super::sumcheck::Table;
use super::verifier::VerifierCtx;
use crate::circuit::{CircuitSpec, LayerKind, MatMulGeom, Operand};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::{eq_eval, eq_table};
use crate::witness::WitnessPlan;
use crate::zk::proof::ZkMatMulProof;

fn label(spec: &CircuitSpec, l: usize) -> String {
    format!("zk-matmul '{}'", spec.layers[l].name)
}

/// Round degrees: the output variables (eq·Q, Q masked: 1 + 3, then 2; 5 and 3 kept as dense's),
/// then (j, t, i, n): E·S_A·Ȧ·Ḃ is of degree 3 in every variable but the masks' — j₀ (Ḃ's,
/// 3 + 1) and t₀ (Ȧ's, 3 + 2, and Ḃ's too when B has one column: 7); with several heads Ḃ
/// depends on the head's variables too (4).
pub(crate) fn schedule(n_out: usize, g: &MatMulGeom, log_batch: usize) -> Vec<usize> {
    let (nu, kt) = (g.out_shape().log_len(), g.a_shape().log_len());
    let mut phase2 = vec![3; in_vars(g) + log_batch];
    // The head's variables: Ḃ depends on them too (E·S_A·Ȧ·Ḃ, 4).
    let head = nu + kt + crate::mle::log2_ceil(g.rows);
    phase2[head..head + crate::mle::log2_ceil(g.heads)].fill(4);
    phase2[0] = 7;
    phase2[nu] = phase2[nu].max(5);
    (0..n_out)
        .map(|k| if k == 0 { 5 } else { 3 })
        .chain(phase2)
        .collect()
}

/// Block l's geometry (an error naming the block if it is not a matrix product).
pub(crate) fn geom(spec: &CircuitSpec, l: usize) -> Result<&MatMulGeom> {
    match &spec.layers[l].kind {
        LayerKind::MatMul(g) => Ok(g),
        _ => Err(ProofError::Circuit(format!(
            "block '{}' is not a matrix product",
            spec.layers[l].name
        ))),
    }
}

/// Variables of the second phase: (j, t, i) without the batch.
pub(crate) fn in_vars(g: &MatMulGeom) -> usize {
    g.out_shape().log_len() + g.a_shape().log_size()
}

fn b_col(plan: &WitnessPlan, g: &MatMulGeom) -> usize {
    match g.other {
        Operand::Input => plan.x,
        Operand::Block(k) => plan.blocks[k].a,
    }
}

/// How the three columns' variables split. Every activation column has at least
/// `MIN_COLUMN_VARS` variables, so a small matrix's row index may have more variables in one
/// column than in another: A's rows (μ_A) and the output's (μ_O) are counted apart, and B's
/// column may have unused high variables (read at 0).
struct Dims {
    /// Output columns j (B's and the output's low variables).
    nu: usize,
    /// The inner index t (A's low variables).
    kt: usize,
    /// A's row variables (with its padding variables).
    mu_a: usize,
    /// The output's row variables (with its padding variables).
    mu_o: usize,
    /// B's feature variables.
    b_log: usize,
    /// Variables of the rows of one head (the low part of A's and the output's row index).
    mu: usize,
    /// Variables of the head (the next part; 0 for one head).
    eta: usize,
}

impl Dims {
    fn new(spec: &CircuitSpec, l: usize, g: &MatMulGeom) -> Self {
        let (nu, kt) = (g.out_shape().log_len(), g.a_shape().log_len());
        Dims {
            nu,
            kt,
            mu_a: g.a_shape().log_size() - kt,
            mu_o: spec.layers[l].out_shape().log_size() - nu,
            b_log: g.b_shape().log_size(),
            mu: crate::mle::log2_ceil(g.rows),
            eta: crate::mle::log2_ceil(g.heads),
        }
    }

    fn a_index(&self, t: usize, i: usize, n: usize) -> usize {
        t | (i << self.kt) | (n << (self.kt + self.mu_a))
    }

    /// B's index for output row i (of A's row index: its head part picks B's head).
    fn b_index(&self, j: usize, t: usize, i: usize, n: usize) -> usize {
        let h = (i >> self.mu) & ((1 << self.eta) - 1);
        j | (t << self.nu) | (h << (self.nu + self.kt)) | (n << self.b_log)
    }

    /// The output index (j, i, n), or None for a row beyond the output's row variables.
    fn out_index(&self, j: usize, i: usize, n: usize) -> Option<usize> {
        (i >> self.mu_o == 0).then_some(j | (i << self.nu) | (n << (self.nu + self.mu_o)))
    }

    /// The second phase's index x = (j, t, i, n), j lowest (i over A's row variables).
    fn split(&self, x: usize) -> (usize, usize, usize, usize) {
        let j = x & ((1 << self.nu) - 1);
        let t = (x >> self.nu) & ((1 << self.kt) - 1);
        let i = (x >> (self.nu + self.kt)) & ((1 << self.mu_a) - 1);
        (j, t, i, x >> (self.nu + self.kt + self.mu_a))
    }

    /// E(ρ) for E(j, i, n) = eq(r, (j, i, n)) on A's rows that the output has, else 0: the
    /// rows are A's i padded or cut to the output's (the cut rows are ≥ rows, where S_A is 0).
    fn e_eval(&self, r1: &[EF], rho: &[EF]) -> EF {
        let (r_j, rest) = r1.split_at(self.nu);
        let (r_i, r_n) = rest.split_at(self.mu_o);
        let (rho_j, rest) = rho.split_at(self.nu);
        let (rho_i, rho_n) = rest[self.kt..].split_at(self.mu_a);
        let zeros = |v: &[EF]| v.iter().map(|&x| EF::ONE - x).product::<EF>();
        let rows = if self.mu_a >= self.mu_o {
            eq_eval(r_i, &rho_i[..self.mu_o]) * zeros(&rho_i[self.mu_o..])
        } else {
            eq_eval(&r_i[..self.mu_a], rho_i) * zeros(&r_i[self.mu_a..])
        };
        eq_eval(r_j, rho_j) * rows * eq_eval(r_n, rho_n)
    }

    /// Where ρ = (ρ_j, ρ_t, ρ_i, ρ_n) evaluates A (ρ_t, ρ_i, ρ_n) and B (ρ_j, ρ_t, ρ_h, 0…, ρ_n),
    /// ρ_h the head part of ρ_i.
    fn operand_points(&self, rho: &[EF]) -> (Vec<EF>, Vec<EF>) {
        let (rho_j, rest) = rho.split_at(self.nu);
        let rho_t = &rest[..self.kt];
        let rho_n = &rest[self.kt + self.mu_a..];
        let rho_h = &rest[self.kt + self.mu..self.kt + self.mu + self.eta];
        let unused = vec![EF::ZERO; self.b_log - self.nu - self.kt - self.eta];
        (
            rest.to_vec(),
            [rho_j, rho_t, rho_h, &unused, rho_n].concat(),
        )
    }
}

/// The second phase's summand over [E, S_A, Ȧ, Ḃ] given κ and e.
fn summand(kappa: EF, e: EF) -> impl Fn(&[EF]) -> EF + Sync {
    move |v: &[EF]| kappa - e * v[0] * v[1] * v[2] * v[3]
}

pub(crate) fn prove(ctx: &mut ProverCtx, l: usize) -> Result<ZkMatMulProof> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let g = geom(spec, l)?;
    let bc = &plan.blocks[l];
    let kb = plan.log_batch;
    let n_out = bc.log_out + kb;
    let d = Dims::new(spec, l, g);
    let n_in = in_vars(g) + kb;
    let t_col = t_col(spec, plan, l)?;
    let (a_col, b_col) = (ctx.input_col(l), b_col(plan, g));
    let tau = ctx.tr.challenge_point("zk-matmul-tau", n_out);
    let (full, half, mb_inv) = requant(spec, l);
    let (q, t) = (&ctx.cols[bc.q], &ctx.cols[t_col]);
    let (rq, rt) = (&ctx.wit_r[bc.q], &ctx.wit_r[t_col]);
    let qd: Vec<EF> = (0..q.len())
        .map(|i| EF::from((full * q[i] + t[i] - half) * mb_inv))
        .collect();
    let qd_m: Vec<EF> = (0..q.len())
        .map(|i| EF::from((full * rq[i] + rt[i]) * mb_inv))
        .collect();
    let (a, b) = (&ctx.cols[a_col], &ctx.cols[b_col]);
    let a_log = g.a_shape().log_size();
    let s_a = slot_table(g.a_shape(), a_log);
    // Y(j, i, n) = Σ_t S_A(t, i)·A(t, i, n)·B(j, t, n): the product the first phase compares Q with.
    let y: Vec<EF> = (0..q.len())
        .into_par_iter()
        .map(|idx| {
            let (j, i, n) = (
                idx & ((1 << d.nu) - 1),
                (idx >> d.nu) & ((1 << d.mu_o) - 1),
                idx >> (d.nu + d.mu_o),
            );
            if i >> d.mu_a != 0 {
                return EF::ZERO; // a row A does not have: beyond its rows, as S_A says
            }
            let sum: F = (0..1usize << d.kt)
                .filter(|&tt| s_a[tt | (i << d.kt)] == EF::ONE)
                .map(|tt| a[d.a_index(tt, i, n)] * b[d.b_index(j, tt, i, n)])
                .sum();
            EF::from(sum)
        })
        .collect();
    let mut sc = ctx.sumcheck(&label(spec, l));
    let tables = vec![
        Table::plain(eq_table(&tau)),
        Table::masked(qd, qd_m),
        Table::plain(y),
    ];
    let (r1, f1) = sc.phase(tables, |v| v[0] * (v[1] - v[2]), ctx.tr);
    let (e, qd_at) = (f1[0], f1[1]);
    let size = 1usize << n_in;
    let eq_r = eq_table(&r1);
    let a_at = |x: usize| {
        let (_, tt, i, n) = d.split(x);
        d.a_index(tt, i, n)
    };
    let b_at = |x: usize| {
        let (j, tt, i, n) = d.split(x);
        d.b_index(j, tt, i, n)
    };
    let e_at = |x: usize| {
        let (j, _, i, n) = d.split(x);
        d.out_index(j, i, n).map_or(EF::ZERO, |o| eq_r[o])
    };
    let feat_a = (1usize << a_log) - 1;
    let pick = |src: &[F], at: &(dyn Fn(usize) -> usize + Sync)| -> Vec<EF> {
        (0..size)
            .into_par_iter()
            .map(|x| EF::from(src[at(x)]))
            .collect()
    };
    let kappa = e * qd_at * EF::from_u64(size as u64).inverse();
    let tables = vec![
        Table::plain((0..size).map(e_at).collect()),
        Table::plain((0..size).map(|x| s_a[a_at(x) & feat_a]).collect()),
        Table::masked_at(pick(a, &a_at), pick(&ctx.wit_r[a_col], &a_at), d.nu),
        Table::masked(pick(b, &b_at), pick(&ctx.wit_r[b_col], &b_at)),
    ];
    let (rho, f2) = sc.phase(tables, summand(kappa, e), ctx.tr);
    let sumcheck = ctx.finish(sc)?;
    let q_t = [masked_eval(q, rq, &r1), masked_eval(t, rt, &r1)];
    let operands = [f2[2], f2[3]];
    ctx.tr.absorb_ext(
        "zk-matmul-evals",
        &[q_t[0], q_t[1], operands[0], operands[1]],
    );
    let (a_point, b_point) = d.operand_points(&rho);
    ctx.claims.wit.extend([
        (bc.q, r1.clone(), q_t[0]),
        (t_col, r1.clone(), q_t[1]),
        (a_col, a_point, operands[0]),
        (b_col, b_point, operands[1]),
    ]);
    let relu = if spec.layers[l].relu {
        Some(prove_relu(ctx, l, n_out)?)
    } else {
        None
    };
    Ok(ZkMatMulProof {
        sumcheck,
        q_t,
        operands,
        relu,
    })
}

/// Mirrors [`prove`].
pub(crate) fn verify(ctx: &mut VerifierCtx, l: usize, p: &ZkMatMulProof) -> Result<()> {
    let (spec, plan) = (ctx.spec, ctx.plan);
    let g = geom(spec, l)?;
    let layer = &spec.layers[l];
    let bc = &plan.blocks[l];
    let kb = plan.log_batch;
    let n_out = bc.log_out + kb;
    let d = Dims::new(spec, l, g);
    let n_in = in_vars(g) + kb;
    let t_col = t_col(spec, plan, l)?;
    let (a_col, b_col) = (ctx.input_col(l), b_col(plan, g));
    let tau = ctx.tr.challenge_point("zk-matmul-tau", n_out);
    let (point, expected) = ctx.sumcheck(&label(spec, l), EF::ZERO, &p.sumcheck)?;
    let (r1, rho) = point.split_at(n_out);
    let (full, half, mb_inv) = requant(spec, l);
    let qd = (EF::from(full) * p.q_t[0] + p.q_t[1] - EF::from(half)) * EF::from(mb_inv);
    let e = eq_eval(&tau, r1);
    let kappa = e * qd * EF::from_u64(1u64 << n_in).inverse();
    let eq_r = d.e_eval(r1, rho);
    let s_a = slot_selector(g.a_shape(), &rho[d.nu..d.nu + d.kt + d.mu_a]);
    let values = [eq_r, s_a, p.operands[0], p.operands[1]];
    if summand(kappa, e)(&values) != expected {
        return Err(ProofError::Layer(format!(
            "block '{}': the committed outputs do not match the product of its operands",
            layer.name
        )));
    }
    ctx.tr.absorb_ext(
        "zk-matmul-evals",
        &[p.q_t[0], p.q_t[1], p.operands[0], p.operands[1]],
    );
    let (a_point, b_point) = d.operand_points(rho);
    ctx.claims.wit.extend([
        (bc.q, r1.to_vec(), p.q_t[0]),
        (t_col, r1.to_vec(), p.q_t[1]),
        (a_col, a_point, p.operands[0]),
        (b_col, b_point, p.operands[1]),
    ]);
    verify_relu(ctx, l, &p.relu)
}
