//! The verifier: replays the prover's transcript (see `prover.rs`), checks every lookup balance,
//! every layer relation and both polynomial openings, and returns the verified output.
//! It works from public data only and never panics on proof contents.

use p3_field::PrimeCharacteristicRing;

use crate::block::{self, VerifierCtx};
use crate::circuit::{CircuitSpec, LayerKind};
use crate::commit::{HIDING, ModelCommitment, weight_layout};
use crate::error::{ProofError, Result};
use crate::field::{EF, EF_BITS, F};
use crate::logup::{self, add_fractions, zero_fraction};
use crate::layout::batched_column;
use crate::mle::evaluate_base;
use crate::pcs::Pcs;
use crate::proof::{BlockProof, PlainProof, Proof, ProofBody};
use crate::prover::start_transcript;
use crate::witness::WitnessPlan;

/// Largest batch a proof may claim (bounds the verifier's work on hostile input).
pub const MAX_BATCH: usize = 1 << 16;

fn shape(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got { Ok(()) } else { Err(ProofError::Shape { what, expected, got }) }
}

/// Verifies a proof against the public circuit and model commitment; returns the verified output.
pub fn verify(spec: &CircuitSpec, mc: &ModelCommitment, proof: &Proof) -> Result<Vec<i64>> {
    spec.validate()?;
    proof.security.check_against(&crate::proof::SecurityHeader::current())?;
    // Every size the proof declares is bounded by the circuit before anything is built from it.
    let batch = crate::bounds::check_statement(spec, proof)?;
    let plan = WitnessPlan::new(spec, batch);
    let wlayout = weight_layout(spec);
    if mc.circuit != spec.digest() {
        return Err(ProofError::Commitment);
    }
    shape("weight polynomial variables", wlayout.num_vars, mc.num_vars)?;
    let public_x = public_input_column(spec, &plan, batch, proof.input.as_deref())?;
    let tr = start_transcript(spec, &mc.digest(), batch, &proof.output, proof.input.as_deref());
    let output_value = |r: &[EF]| crate::bounds::output_eval(spec, &plan, &proof.output, r);
    let body = match (&proof.body, spec.zk) {
        (ProofBody::Zk(z), true) => {
            crate::zk::verifier::verify(spec, mc, &plan, z, output_value, public_x.as_deref(), tr)?;
            return Ok(proof.output.clone());
        }
        (ProofBody::Plain(p), false) => p,
        _ => return Err(ProofError::Malformed("the proof was made by the other protocol (zero-knowledge or not) than the circuit uses".into())),
    };
    verify_plain(spec, mc, &plan, body, output_value, public_x.as_deref(), tr)?;
    Ok(proof.output.clone())
}

/// The plain protocol's checks after the statement.
fn verify_plain(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    plan: &WitnessPlan,
    proof: &PlainProof,
    output_value: impl Fn(&[EF]) -> EF,
    public_x: Option<&[F]>,
    mut tr: crate::transcript::Transcript,
) -> Result<()> {
    let (plan, kb, wlayout) = (plan.clone(), plan.log_batch, weight_layout(spec));
    shape("lookups", plan.lookups.len() + plan.tables.len(), proof.lookups.len())?;
    shape("blocks", spec.layers.len(), proof.blocks.len())?;
    tr.absorb_bytes("witness-commitment", &proof.witness_commitment.digest());
    let alpha = tr.challenge("lookup-alpha");

    let mut wit_claims: Vec<(Vec<EF>, EF)> = Vec::new();

    // Lookups: every witness tree has numerators 1; each table tree has −m. Per table, the
    // fractions must sum to zero.
    let mut balance = vec![zero_fraction(); plan.tables.len()];
    let table_slot = |t| plan.tables.iter().position(|&(tt, _)| tt == t).expect("plan lists every used table");
    for (lk, lp) in plan.lookups.iter().zip(&proof.lookups) {
        let leaf = logup::verify(lk.log_len, &lp.tree, &mut tr)?;
        let cols = lk.value.columns();
        shape("lookup evaluations", cols.len(), lp.evals.len())?;
        tr.absorb_ext("lookup-evals", &lp.evals);
        if leaf.p != EF::ONE || leaf.q != alpha - lk.value.combine(&lp.evals, plan.signed_offset) {
            return Err(ProofError::Lookup(format!("{} lookup leaves do not match the committed columns", lk.table.name())));
        }
        for (&c, &v) in cols.iter().zip(&lp.evals) {
            check_public_claim(&plan, public_x, c, &leaf.point, v)?;
            wit_claims.push((plan.layout.embed(c, &leaf.point), v));
        }
        let s = table_slot(lk.table);
        balance[s] = add_fractions(balance[s], leaf.root);
    }
    for (s, (&(table, mcol), lp)) in plan.tables.iter().zip(&proof.lookups[plan.lookups.len()..]).enumerate() {
        let leaf = logup::verify(plan.table_bits, &lp.tree, &mut tr)?;
        shape("multiplicity evaluations", 1, lp.evals.len())?;
        tr.absorb_ext("lookup-evals", &lp.evals);
        if leaf.p != -lp.evals[0] || leaf.q != alpha - table.evaluate(&leaf.point) {
            return Err(ProofError::Lookup(format!("{} table leaves do not match", table.name())));
        }
        wit_claims.push((plan.layout.embed(mcol, &leaf.point), lp.evals[0]));
        balance[s] = add_fractions(balance[s], leaf.root);
    }
    for (&(table, _), b) in plan.tables.iter().zip(&balance) {
        if b[0] != EF::ZERO || b[1] == EF::ZERO {
            return Err(ProofError::Lookup(format!("{} lookups do not balance", table.name())));
        }
    }

    // The public output is the last block's committed activations.
    let last = plan.blocks.last().expect("validated: at least one block");
    let r_out = tr.challenge_point("output-point", last.log_out + kb);
    let expected = output_value(&r_out);
    wit_claims.push((plan.layout.embed(last.a, &r_out), expected));

    // Blocks from the output back.
    let mut ctx = VerifierCtx {
        spec,
        plan: &plan,
        wlayout: &wlayout,
        tr: &mut tr,
        wit_claims,
        weight_claims: Vec::new(),
        public_x,
        public_mismatch: false,
    };
    for (l, bp) in (0..spec.layers.len()).rev().zip(&proof.blocks) {
        match (&spec.layers[l].kind, bp) {
            (LayerKind::Dense, BlockProof::Dense(p)) => block::dense::verify(&mut ctx, l, p)?,
            (LayerKind::Conv(_), BlockProof::Conv(lp, wp)) => block::conv::verify(&mut ctx, l, lp, wp)?,
            (LayerKind::MaxPool(_), BlockProof::Pool(p)) => block::pool::verify(&mut ctx, l, p)?,
            _ => return Err(ProofError::Layer(format!("block '{}': proof of the wrong kind", spec.layers[l].name))),
        }
    }
    if ctx.public_mismatch {
        return Err(ProofError::PublicInput("the proof's input column is not the public input".into()));
    }
    let (wit_claims, weight_claims) = (ctx.wit_claims, ctx.weight_claims);

    let open = |pcs: &Pcs, c, claims: &[(Vec<EF>, EF)], proof, tr: &mut _| {
        let (points, values): (Vec<Vec<EF>>, Vec<EF>) = claims.iter().cloned().unzip();
        pcs.verify(c, &points, &values, proof, tr)
    };
    open(&Pcs::new(plan.layout.num_vars, HIDING), &proof.witness_commitment, &wit_claims, &proof.witness_opening, &mut tr)?;
    open(&Pcs::new(wlayout.num_vars, HIDING), &mc.pcs, &weight_claims, &proof.weight_opening, &mut tr)
}

/// The input column the verifier expects when the input is public (None when it is private).
fn public_input_column(spec: &CircuitSpec, plan: &WitnessPlan, batch: usize, input: Option<&[i64]>) -> Result<Option<Vec<F>>> {
    let x = match (spec.public_input, input) {
        (false, None) => return Ok(None),
        (false, Some(_)) => return Err(ProofError::PublicInput("the circuit's input is private, yet the proof carries one".into())),
        (true, None) => return Err(ProofError::PublicInput("the circuit's input is public and the proof carries none".into())),
        (true, Some(x)) => x,
    };
    shape("public input length", batch * spec.input_len, x.len())?;
    let half = plan.signed_offset;
    if let Some(v) = x.iter().find(|&&v| !(-half..half).contains(&v)) {
        return Err(ProofError::PublicInput(format!("value {v} outside the {}-bit range", plan.table_bits)));
    }
    let placed: Vec<Vec<i64>> = x.chunks(spec.input_len).map(|r| plan.input_shape.place(r, 0)).collect();
    let rows: Vec<&[i64]> = placed.iter().map(|r| r.as_slice()).collect();
    Ok(Some(batched_column(&rows, plan.log_in, plan.log_batch, 0)))
}

/// A claim on the input column must agree with the public input, when there is one.
pub(crate) fn check_public_claim(plan: &WitnessPlan, public_x: Option<&[F]>, c: usize, local: &[EF], v: EF) -> Result<()> {
    match public_x {
        Some(x) if c == plan.x && evaluate_base(x, local) != v => {
            Err(ProofError::PublicInput("the proof's input column is not the public input".into()))
        }
        _ => Ok(()),
    }
}

/// Soundness of a proof for this circuit, in bits: the weaker of the algebraic (Fiat–Shamir,
/// union bound over every sumcheck round, LogUp denominator and random-point check) error and
/// the PCS openings' security.
/// Every component's soundness for a zero-knowledge circuit ([`crate::security::proof_report`]).
pub fn soundness_report(spec: &CircuitSpec, batch: usize) -> Result<crate::security::SoundnessReport> {
    crate::security::proof_report(spec, batch)
}

pub fn soundness_bits(spec: &CircuitSpec, batch: usize) -> f64 {
    if spec.zk {
        return crate::zk::verifier::soundness_bits(spec, batch);
    }
    let plan = WitnessPlan::new(spec, batch);
    // Each sumcheck round of degree d errs with probability ≤ d/|EF|.
    let mut events = 0f64;
    let tree = |n: usize| (0..n).map(|k| 3.0 * k as f64 + 1.0).sum::<f64>() + (1u64 << n) as f64;
    for lk in &plan.lookups {
        events += tree(lk.log_len) + (1u64 << plan.table_bits) as f64;
    }
    events += plan.tables.len() as f64 * tree(plan.table_bits);
    for (l, (layer, bc)) in spec.layers.iter().zip(&plan.blocks).enumerate() {
        let (k_in, k_out) = (crate::commit::weight_logs(spec, l).0 as f64, (bc.log_out + plan.log_batch) as f64);
        let k_wire = spec.layer_input_shape(l).log_size() as f64;
        // The ReLU zero-check: a random τ and a degree-3 sumcheck.
        let relu = if layer.relu { 4.0 * k_out } else { 0.0 };
        events += match &layer.kind {
            // Random output point, matrix-product sumcheck (degree 2).
            LayerKind::Dense => 2.0 * k_in + 2.0 * k_out + relu,
            // ... plus the wiring sumcheck.
            LayerKind::Conv(_) => 2.0 * k_in + 2.0 * k_out + 2.0 * k_wire + relu,
            // Link point with λ batching, wiring, product sumcheck of degree U+1.
            LayerKind::MaxPool(g) => {
                let u = g.window() as f64;
                (u + 2.0 * k_wire) + (u + 1.0) * k_out + 2.0 * k_out
            }
        };
    }
    let algebraic = EF_BITS - events.log2();
    let pcs = Pcs::new(plan.layout.num_vars, HIDING)
        .soundness_bits(crate::pcs::MAX_POINTS)
        .min(Pcs::new(weight_layout(spec).num_vars, HIDING).soundness_bits(crate::pcs::MAX_POINTS));
    algebraic.min(pcs)
}
