//! The prover: runs the integer forward pass, commits to the witness columns, proves every
//! lookup with LogUp-GKR and every dense block with a sumcheck, from the output back to the
//! input, and opens both committed polynomials at all the points those steps produced.
//!
//! The order of transcript operations is the protocol; `verifier.rs` mirrors it line by line.

use p3_field::PrimeCharacteristicRing;
use p3_maybe_rayon::prelude::*;

use crate::block::{self, ProverCtx};
use crate::circuit::{CircuitSpec, LayerKind, Weights, forward};
use crate::commit::{CommittedWeights, HIDING, commit_with_data, weight_layout};
use crate::error::Result;
use crate::field::{EF, F};
use crate::logup;
use crate::mle::evaluate_base;
use crate::pcs::Pcs;
use crate::proof::{BlockProof, LookupProof, PlainProof, Proof, ProofBody};
use crate::transcript::Transcript;
use crate::witness::{LookupValue, WitnessPlan};

/// Prints the time of each prover phase to stderr when `ZKGRAD_PROFILE` is set.
pub(crate) struct Stopwatch {
    on: bool,
    last: std::time::Instant,
}

impl Stopwatch {
    pub(crate) fn new() -> Self {
        Self { on: std::env::var_os("ZKGRAD_PROFILE").is_some(), last: std::time::Instant::now() }
    }

    pub(crate) fn lap(&mut self, what: &str) {
        if self.on {
            eprintln!("[zkgrad] {what}: {:.1} ms", self.last.elapsed().as_secs_f64() * 1e3);
        }
        self.last = std::time::Instant::now();
    }
}

/// Domain separator of the inference protocol.
pub const DOMAIN: &[u8] = b"zkgrad/inference/v1";

/// Starts the transcript both sides use: protocol, circuit, model commitment, batch size,
/// public output and, when public, the input.
pub(crate) fn start_transcript(spec: &CircuitSpec, model_digest: &[u8; 32], batch: usize, output: &[i64], input: Option<&[i64]>) -> Transcript {
    let mut tr = Transcript::new(DOMAIN);
    tr.absorb_bytes("circuit", &spec.digest());
    tr.absorb_bytes("model-commitment", model_digest);
    tr.absorb_u64s("batch", &[batch as u64]);
    tr.absorb_i64s("output", output);
    if let Some(x) = input {
        tr.absorb_i64s("public-input", x);
    }
    tr
}

/// The value looked up at entry `i`.
fn lookup_entry(v: LookupValue, cols: &[Vec<F>], i: usize, offset: i64) -> EF {
    match v {
        LookupValue::Plain(c) => EF::from(cols[c][i]),
        LookupValue::Signed(c) => EF::from(cols[c][i] + F::from_u64(offset as u64)),
        LookupValue::Diff(a, g) => EF::from(cols[a][i] - cols[g][i]),
    }
}

/// A hook that edits the witness columns before they are committed (tests of soundness only).
pub type WitnessTamper<'a> = &'a dyn Fn(&WitnessPlan, &mut Vec<Vec<F>>);

/// Proves one inference; `seed` is the weight-commitment seed chosen at compile time.
pub fn prove(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], input: &[i64]) -> Result<Proof> {
    prove_inner(spec, w, seed, &[input.to_vec()], None, None, None)
}

/// Proves a batch whose input is committed (`CircuitSpec::committed_input`): `input_seed` fixes
/// the input commitment (see [`crate::zk::input::commit_input`]); `cached` as in [`prove_committed`].
pub fn prove_with_committed_input(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    cached: Option<&CommittedWeights>,
    inputs: &[Vec<i64>],
    input_seed: [u8; 32],
) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, None, cached, Some(input_seed))
}

/// Proves a batch of inferences in one proof (the batch is one more set of sumcheck variables).
pub fn prove_batch(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], inputs: &[Vec<i64>]) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, None, None, None)
}

/// Like [`prove_batch`], reusing a weight commitment made once (see [`CommittedWeights`]).
pub fn prove_committed(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], cw: &CommittedWeights, inputs: &[Vec<i64>]) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, None, Some(cw), None)
}

/// Like [`prove_batch`], but lets a test play a cheating prover by editing the witness.
#[doc(hidden)]
pub fn prove_tampered(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], inputs: &[Vec<i64>], t: WitnessTamper) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, Some(t), None, None)
}

/// A dishonest prover (soundness tests only): proves the given forward-pass traces (not
/// recomputed from `w`; the public output is their last activations) against the cached, possibly
/// tampered, weight commitment `cw`, editing the witness with `t` before it is committed.
#[doc(hidden)]
pub fn prove_from_traces(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    cw: &CommittedWeights,
    inputs: &[Vec<i64>],
    traces: &[Vec<crate::circuit::BlockTrace>],
    t: WitnessTamper,
) -> Result<Proof> {
    let output: Vec<i64> = traces.iter().flat_map(|t| t.last().map(|b| b.a.clone()).unwrap_or_default()).collect();
    let tr = start_transcript(spec, &cw.commitment.digest(), inputs.len(), &output, None);
    let body = crate::zk::prover::prove(spec, w, seed, inputs, traces, Some(t), Some(cw), None, tr)?;
    Ok(Proof { output, input: None, body })
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
    cached: Option<&CommittedWeights>,
    input_seed: Option<[u8; 32]>,
) -> Result<Proof> {
    spec.validate()?;
    spec.check_weights(w)?;
    let mut sw = Stopwatch::new();
    let traces = forward_batch(spec, w, inputs)?;
    if spec.zk {
        let output: Vec<i64> = traces.iter().flat_map(|t| t.last().expect("validated: at least one layer").a.clone()).collect();
        let input: Option<Vec<i64>> = spec.public_input.then(|| inputs.concat());
        let mc = match cached {
            Some(cw) => cw.commitment.clone(),
            None => crate::commit::zk_commit_with_data(spec, w, seed)?.0,
        };
        let tr = start_transcript(spec, &mc.digest(), inputs.len(), &output, input.as_deref());
        let body = crate::zk::prover::prove(spec, w, seed, inputs, &traces, tamper, cached, input_seed, tr)?;
        return Ok(Proof { output, input, body });
    }
    let (mc, weight_data) = match cached {
        Some(cw) if cw.commitment.circuit != spec.digest() => {
            return Err(crate::ProofError::Circuit("the cached weight commitment belongs to another circuit".into()));
        }
        Some(cw) => (cw.commitment.clone(), cw.data_for_opening(spec, w, seed)?),
        None => commit_with_data(spec, w, seed)?,
    };
    sw.lap("forward pass + weight commitment");
    let output: Vec<i64> = traces.iter().flat_map(|t| t.last().expect("validated: at least one layer").a.clone()).collect();
    let input: Option<Vec<i64>> = spec.public_input.then(|| inputs.concat());
    let mut tr = start_transcript(spec, &mc.digest(), inputs.len(), &output, input.as_deref());

    // Commit to the witness columns.
    let plan = WitnessPlan::new(spec, inputs.len());
    let kb = plan.log_batch;
    let mut cols = plan.columns(spec, inputs, &traces);
    if let Some(t) = tamper {
        t(&plan, &mut cols);
    }
    let wit_pcs = Pcs::new(plan.layout.num_vars, HIDING);
    let (witness_commitment, wit_data) = wit_pcs.commit(plan.layout.pack(&cols), rand::random());
    tr.absorb_bytes("witness-commitment", &witness_commitment.digest());
    sw.lap("witness commitment");
    let alpha = tr.challenge("lookup-alpha");

    let mut wit_claims: Vec<Vec<EF>> = Vec::new();
    let claim_col = |claims: &mut Vec<Vec<EF>>, c: usize, pt: &[EF]| claims.push(plan.layout.embed(c, pt));

    // Lookups: each witness column's fractions 1/(α − v), then each table's −m/(α − T).
    let mut lookups = Vec::new();
    for lk in &plan.lookups {
        let n = 1usize << lk.log_len;
        let q: Vec<EF> = (0..n).into_par_iter().map(|i| alpha - lookup_entry(lk.value, &cols, i, plan.signed_offset)).collect();
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
        let q: Vec<EF> = table.entries(plan.table_bits).into_iter().map(|t| alpha - t).collect();
        let (tree, leaf) = logup::prove(p, q, &mut tr);
        let evals = vec![evaluate_base(&cols[mcol], &leaf.point)];
        tr.absorb_ext("lookup-evals", &evals);
        claim_col(&mut wit_claims, mcol, &leaf.point);
        lookups.push(LookupProof { tree, evals });
    }

    sw.lap("lookups");
    let wlayout = weight_layout(spec);
    let mut ctx = ProverCtx {
        spec,
        weights: w,
        plan: &plan,
        cols: &cols,
        wlayout: &wlayout,
        tr: &mut tr,
        wit_points: wit_claims,
        weight_points: Vec::new(),
    };
    // The public output equals the last block's activations.
    let last = plan.blocks.last().expect("at least one block");
    let r_out = ctx.tr.challenge_point("output-point", last.log_out + kb);
    ctx.claim_col(last.a, &r_out);

    // Blocks, from the output back to the input.
    let mut blocks = Vec::with_capacity(spec.layers.len());
    for l in (0..spec.layers.len()).rev() {
        blocks.push(match spec.layers[l].kind {
            LayerKind::Dense => BlockProof::Dense(block::dense::prove(&mut ctx, l)),
            LayerKind::Conv(_) => {
                let (lp, wp) = block::conv::prove(&mut ctx, l)?;
                BlockProof::Conv(lp, wp)
            }
            LayerKind::MaxPool(_) => BlockProof::Pool(block::pool::prove(&mut ctx, l)?),
        });
    }
    let (wit_claims, weight_claims) = (ctx.wit_points, ctx.weight_points);

    sw.lap("blocks");
    let (_, witness_opening) = wit_pcs.open(wit_data, &wit_claims, &mut tr);
    sw.lap("witness opening");
    let weight_pcs = Pcs::new(wlayout.num_vars, HIDING);
    let (_, weight_opening) = weight_pcs.open(weight_data, &weight_claims, &mut tr);
    sw.lap("weight opening");
    let body = ProofBody::Plain(Box::new(PlainProof { witness_commitment, lookups, blocks, witness_opening, weight_opening }));
    Ok(Proof { output, input, body })
}
