//! The prover: runs the integer forward pass, commits to the witness columns, proves every
//! lookup with LogUp-GKR and every dense block with a sumcheck, from the output back to the
//! input, and opens both committed polynomials at all the points those steps produced.
//!
//! The order of transcript operations is the protocol; `verifier.rs` mirrors it line by line.

use p3_field::PrimeCharacteristicRing;
use p3_maybe_rayon::prelude::*;

use crate::circuit::{CircuitSpec, Weights, forward};
use crate::commit::{HIDING, commit_with_data, weight_columns, weight_layout};
use crate::error::Result;
use crate::field::{EF, F, from_i64};
use crate::logup;
use crate::mle::{eq_table, evaluate_base, evaluate_i64_padded, log2_ceil};
use crate::pcs::Pcs;
use crate::proof::{BlockProof, LookupProof, Proof};
use crate::sumcheck;
use crate::transcript::Transcript;
use crate::witness::{LookupValue, WitnessPlan};

/// Prints the time of each prover phase to stderr when `ZKGRAD_PROFILE` is set.
struct Stopwatch {
    on: bool,
    last: std::time::Instant,
}

impl Stopwatch {
    fn new() -> Self {
        Self { on: std::env::var_os("ZKGRAD_PROFILE").is_some(), last: std::time::Instant::now() }
    }

    fn lap(&mut self, what: &str) {
        if self.on {
            eprintln!("[zkgrad] {what}: {:.1} ms", self.last.elapsed().as_secs_f64() * 1e3);
        }
        self.last = std::time::Instant::now();
    }
}

/// Domain separator of the inference protocol.
pub const DOMAIN: &[u8] = b"zkgrad/inference/v1";

/// Starts the transcript both sides use: protocol, circuit, model commitment, batch size and
/// public output.
pub(crate) fn start_transcript(spec: &CircuitSpec, model_digest: &[u8; 32], batch: usize, output: &[i64]) -> Transcript {
    let mut tr = Transcript::new(DOMAIN);
    tr.absorb_bytes("circuit", &spec.digest());
    tr.absorb_bytes("model-commitment", model_digest);
    tr.absorb_u64s("batch", &[batch as u64]);
    tr.absorb_i64s("output", output);
    tr
}

/// Σ_n eq(r_n, n)·col[n·2^log_feat + ·]: a batched column folded at a batch point.
pub(crate) fn fold_batch(col: &[F], log_feat: usize, eq_n: &[EF]) -> Vec<EF> {
    let mut out = vec![EF::ZERO; 1 << log_feat];
    for (row, &e) in col.chunks(1 << log_feat).zip(eq_n) {
        out.iter_mut().zip(row).for_each(|(o, &v)| *o += e * v);
    }
    out
}

/// The value looked up at entry `i` (folded with γ for pairs).
fn lookup_entry(v: LookupValue, cols: &[Vec<F>], i: usize, gamma: EF, offset: i64) -> EF {
    match v {
        LookupValue::Plain(c) => EF::from(cols[c][i]),
        LookupValue::Signed(c) => EF::from(cols[c][i] + F::from_u64(offset as u64)),
        LookupValue::Pair(q, a) => EF::from(cols[q][i]) + gamma * cols[a][i],
    }
}

/// Σ_o eq(r, o)·W[o][·], padded to 2^k_in: the weight row folded at the output point.
fn fold_rows(weight: &[i64], in_dim: usize, eq_r: &[EF], log_in: usize) -> Vec<EF> {
    let zero = || vec![EF::ZERO; 1 << log_in];
    weight
        .par_chunks(in_dim)
        .zip(eq_r.par_iter())
        .fold(zero, |mut acc, (row, &e)| {
            for (a, &w) in acc.iter_mut().zip(row) {
                if w != 0 {
                    *a += e * from_i64(w);
                }
            }
            acc
        })
        .reduce(zero, |mut a, b| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += *y);
            a
        })
}

/// A hook that edits the witness columns before they are committed (tests of soundness only).
pub type WitnessTamper<'a> = &'a dyn Fn(&WitnessPlan, &mut Vec<Vec<F>>);

/// Proves one inference; `seed` is the weight-commitment seed chosen at compile time.
pub fn prove(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], input: &[i64]) -> Result<Proof> {
    prove_inner(spec, w, seed, &[input.to_vec()], None)
}

/// Proves a batch of inferences in one proof (the batch is one more set of sumcheck variables).
pub fn prove_batch(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], inputs: &[Vec<i64>]) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, None)
}

/// Like [`prove_batch`], but lets a test play a cheating prover by editing the witness.
#[doc(hidden)]
pub fn prove_tampered(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], inputs: &[Vec<i64>], t: WitnessTamper) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, Some(t))
}

/// Runs the forward pass of every batch item, naming the item in errors.
fn forward_batch(spec: &CircuitSpec, w: &Weights, inputs: &[Vec<i64>]) -> Result<Vec<Vec<crate::circuit::BlockTrace>>> {
    if inputs.is_empty() {
        return Err(crate::ProofError::Witness { layer: "input".into(), detail: "the batch is empty".into() });
    }
    inputs
        .iter()
        .enumerate()
        .map(|(n, x)| {
            forward(spec, w, x).map_err(|e| match e {
                crate::ProofError::Witness { layer, detail } if inputs.len() > 1 => {
                    crate::ProofError::Witness { layer, detail: format!("batch item {n}: {detail}") }
                }
                e => e,
            })
        })
        .collect()
}

fn prove_inner(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    inputs: &[Vec<i64>],
    tamper: Option<WitnessTamper>,
) -> Result<Proof> {
    spec.validate()?;
    crate::circuit::require_dense(spec)?;
    spec.check_weights(w)?;
    let mut sw = Stopwatch::new();
    let traces = forward_batch(spec, w, inputs)?;
    let (mc, weight_data) = commit_with_data(spec, w, seed)?;
    sw.lap("forward pass + weight commitment");
    let output: Vec<i64> = traces.iter().flat_map(|t| t.last().expect("validated: at least one layer").a.clone()).collect();
    let mut tr = start_transcript(spec, &mc.digest(), inputs.len(), &output);

    // Commit to the witness columns.
    let plan = WitnessPlan::new(spec, inputs.len());
    let kb = plan.log_batch;
    let mut cols = plan.columns(inputs, &traces);
    if let Some(t) = tamper {
        t(&plan, &mut cols);
    }
    let wit_pcs = Pcs::new(plan.layout.num_vars, HIDING);
    let (witness_commitment, wit_data) = wit_pcs.commit(plan.layout.pack(&cols), rand::random());
    tr.absorb_bytes("witness-commitment", &witness_commitment.digest());
    sw.lap("witness commitment");
    let alpha = tr.challenge("lookup-alpha");
    let gamma = tr.challenge("lookup-gamma");

    let mut wit_claims: Vec<Vec<EF>> = Vec::new();
    let mut weight_claims: Vec<Vec<EF>> = Vec::new();
    let claim_col = |claims: &mut Vec<Vec<EF>>, c: usize, pt: &[EF]| claims.push(plan.layout.embed(c, pt));

    // Lookups: each witness column's fractions 1/(α − v), then each table's −m/(α − T).
    let mut lookups = Vec::new();
    for lk in &plan.lookups {
        let n = 1usize << lk.log_len;
        let q: Vec<EF> = (0..n).into_par_iter().map(|i| alpha - lookup_entry(lk.value, &cols, i, gamma, plan.signed_offset)).collect();
        let (tree, leaf) = logup::prove(vec![EF::ONE; n], q, &mut tr);
        let evals: Vec<EF> = lk.value.columns().iter().map(|&c| evaluate_base(&cols[c], &leaf.point)).collect();
        tr.absorb_ext("lookup-evals", &evals);
        for c in lk.value.columns() {
            claim_col(&mut wit_claims, c, &leaf.point);
        }
        lookups.push(LookupProof { tree, evals });
    }
    for &(table, mcol) in &plan.tables {
        let p: Vec<EF> = cols[mcol].iter().map(|&m| -EF::from(m)).collect();
        let q: Vec<EF> = table.entries(plan.table_bits, gamma).into_iter().map(|t| alpha - t).collect();
        let (tree, leaf) = logup::prove(p, q, &mut tr);
        let evals = vec![evaluate_base(&cols[mcol], &leaf.point)];
        tr.absorb_ext("lookup-evals", &evals);
        claim_col(&mut wit_claims, mcol, &leaf.point);
        lookups.push(LookupProof { tree, evals });
    }

    sw.lap("lookups");
    // The public output equals the last block's activations.
    let last = plan.blocks.last().expect("at least one block");
    let r_out = tr.challenge_point("output-point", last.log_out + kb);
    claim_col(&mut wit_claims, last.a, &r_out);

    // Dense blocks, from the output back to the input.
    let wlayout = weight_layout(spec);
    let mut blocks = Vec::with_capacity(spec.layers.len());
    for (l, ((layer, lw), bc)) in spec.layers.iter().zip(&w.layers).zip(&plan.blocks).enumerate().rev() {
        let r = tr.challenge_point("block-point", bc.log_out + kb);
        let (r_o, r_n) = r.split_at(bc.log_out);
        let q_t = [evaluate_base(&cols[bc.q], &r), evaluate_base(&cols[bc.t], &r)];
        tr.absorb_ext("block-qt", &q_t);
        let bias = evaluate_i64_padded(&lw.bias, r_o);
        tr.absorb_ext("block-bias", &[bias]);
        let log_in = log2_ceil(layer.in_dim);
        let a_col = if l == 0 { plan.x } else { plan.blocks[l - 1].a };
        let a_folded = fold_batch(&cols[a_col], log_in, &eq_table(r_n));
        let w_r = fold_rows(&lw.weight, layer.in_dim, &eq_table(r_o), log_in);
        let sc = sumcheck::prove(vec![w_r, a_folded], 2, |v| v[0] * v[1], "dense-sc", &mut tr);
        let w_a = [sc.finals[0], sc.finals[1]];
        tr.absorb_ext("block-wa", &w_a);
        let (wc, bcol) = weight_columns(l);
        weight_claims.push(wlayout.embed(wc, &[sc.point.as_slice(), r_o].concat()));
        weight_claims.push(wlayout.embed(bcol, r_o));
        claim_col(&mut wit_claims, a_col, &[sc.point.as_slice(), r_n].concat());
        claim_col(&mut wit_claims, bc.q, &r);
        claim_col(&mut wit_claims, bc.t, &r);
        blocks.push(BlockProof { q_t, bias, sumcheck: sc.proof, w_a });
    }

    sw.lap("dense blocks");
    let (_, witness_opening) = wit_pcs.open(wit_data, &wit_claims, &mut tr);
    sw.lap("witness opening");
    let weight_pcs = Pcs::new(wlayout.num_vars, HIDING);
    let (_, weight_opening) = weight_pcs.open(weight_data, &weight_claims, &mut tr);
    sw.lap("weight opening");
    Ok(Proof { output, witness_commitment, lookups, blocks, witness_opening, weight_opening })
}
