//! One WHIR point per committed table, however many claims: the claims v_i on columns of a
//! masked table T (`masked.rs`) are each a linear functional ⟨T, W_i⟩; with a random γ they batch
//! into Σ_x T(x)·W(x) = Σ_i γ^i·v_i, W = Σ_i γ^i·W_i, proved by a masked sumcheck
//! (`sumcheck.rs`), which leaves one claim T(ρ). WHIR's cost grows with every opened point times
//! the whole table, and a masked value is not a single point of T; building W here costs only each
//! claim's own column and mask.

use p3_field::PrimeCharacteristicRing;

use super::masked::{LiftPoint, MaskedLayout, Term};
use super::sumcheck::ZkSumcheckProof;
use crate::error::Result;
use crate::field::{EF, F};
use crate::transcript::Transcript;

/// Round degrees of the batching sumcheck over a `num_vars`-variable table (T·W).
pub(crate) fn schedule(num_vars: usize) -> Vec<usize> {
    vec![2; num_vars]
}

/// A claim on a column of a masked table: (column, local point, value).
pub(crate) type ColumnClaim = (usize, Vec<EF>, EF);

/// A claim that a linear functional of the table (its terms) has a value: what a column claim
/// is once its mask is spelled out, and what an epoch link (`link.rs`) claims directly.
pub(crate) type Functional = (Vec<Term>, EF);

/// The column claims as functionals of the table (masks read at `lift`).
fn functionals(layout: &MaskedLayout, lift: &LiftPoint, claims: &[ColumnClaim]) -> Vec<Functional> {
    claims
        .iter()
        .map(|(c, z, v)| (layout.terms(*c, z, lift), *v))
        .collect()
}

/// γ's powers, and the batched claim Σ γ^i·v_i.
fn batch(claims: &[Functional], tr: &mut Transcript, label: &str) -> (Vec<EF>, EF) {
    let gamma = tr.challenge(&format!("{label}.gamma"));
    let mut powers = Vec::with_capacity(claims.len());
    let mut g = EF::ONE;
    let mut total = EF::ZERO;
    for (_, v) in claims {
        total += g * *v;
        powers.push(g);
        g *= gamma;
    }
    (powers, total)
}

/// Proves the claims on the committed `table` of `layout` (lifted masks read at `lift`);
/// returns the proof messages, ρ and T(ρ).
pub(crate) fn prove(
    ctx: &mut super::prover::ProverCtx,
    label: &str,
    (layout, lift): (&MaskedLayout, &LiftPoint),
    table: &[F],
    claims: &[ColumnClaim],
) -> Result<(ZkSumcheckProof, Vec<EF>, EF)> {
    let claims = functionals(layout, lift, claims);
    let (powers, _) = batch(&claims, ctx.tr, label);
    let w = batched_weights(layout, table.len(), &claims, &powers);
    let mut sc = ctx.sumcheck(label);
    let (rho, value) = sc.inner_product(table, w, ctx.tr);
    let proof = ctx.finish(sc)?;
    ctx.tr.absorb_ext(&format!("{label}.value"), &[value]);
    Ok((proof, rho, value))
}

/// W = Σ_i γ^i·W_i over the table: each claim's functional, weighted by its power of γ.
fn batched_weights(
    layout: &MaskedLayout,
    len: usize,
    claims: &[Functional],
    powers: &[EF],
) -> Vec<EF> {
    let mut w = vec![EF::ZERO; len];
    for ((terms, _), &g) in claims.iter().zip(powers) {
        layout.add_weights(terms, g, &mut w);
    }
    w
}

/// [`prove`] outside an inference proof (the weight range certificate, `range.rs`): `start`
/// begins the sumcheck with its masks; returns the messages, ρ and T(ρ).
pub(crate) fn prove_with(
    tr: &mut Transcript,
    label: &str,
    (layout, lift): (&MaskedLayout, &LiftPoint),
    table: &[F],
    claims: &[ColumnClaim],
    start: impl FnOnce(&mut Transcript) -> super::sumcheck::Prover,
) -> (ZkSumcheckProof, Vec<EF>, EF) {
    prove_functionals_with(
        tr,
        label,
        layout,
        table,
        &functionals(layout, lift, claims),
        start,
    )
}

/// [`prove_with`] for claims given as functionals of the table.
pub(crate) fn prove_functionals_with(
    tr: &mut Transcript,
    label: &str,
    layout: &MaskedLayout,
    table: &[F],
    claims: &[Functional],
    start: impl FnOnce(&mut Transcript) -> super::sumcheck::Prover,
) -> (ZkSumcheckProof, Vec<EF>, EF) {
    let (powers, _) = batch(claims, tr, label);
    let w = batched_weights(layout, table.len(), claims, &powers);
    let mut sc = start(tr);
    let (rho, value) = sc.inner_product(table, w, tr);
    let (proof, _) = sc.finish(tr);
    tr.absorb_ext(&format!("{label}.value"), &[value]);
    (proof, rho, value)
}

/// [`verify`] outside an inference proof, with the sumcheck's round degrees; returns ρ (the
/// caller checks the mask values and opens T(ρ) = `value`).
pub(crate) fn verify_with(
    degrees: &[usize],
    tr: &mut Transcript,
    label: &str,
    table: (&MaskedLayout, &LiftPoint),
    claims: &[ColumnClaim],
    proof: &ZkSumcheckProof,
    value: EF,
) -> Result<Vec<EF>> {
    let (layout, lift) = table;
    verify_functionals_with(
        degrees,
        tr,
        label,
        layout,
        &functionals(layout, lift, claims),
        proof,
        value,
    )
}

/// [`verify_with`] for claims given as functionals of the table.
pub(crate) fn verify_functionals_with(
    degrees: &[usize],
    tr: &mut Transcript,
    label: &str,
    layout: &MaskedLayout,
    claims: &[Functional],
    proof: &ZkSumcheckProof,
    value: EF,
) -> Result<Vec<EF>> {
    let (powers, total) = batch(claims, tr, label);
    let (rho, expected) = super::sumcheck::verify(total, degrees, proof, label, tr)?;
    finish_check(tr, label, layout, claims, &powers, rho, value, expected)
}

/// The batching sumcheck's last check — T(ρ) times the claims' batched weights at ρ equals the
/// sumcheck's final value — then T(ρ) into the transcript; returns ρ.
#[allow(clippy::too_many_arguments)]
fn finish_check(
    tr: &mut Transcript,
    label: &str,
    layout: &MaskedLayout,
    claims: &[Functional],
    powers: &[EF],
    rho: Vec<EF>,
    value: EF,
    expected: EF,
) -> Result<Vec<EF>> {
    let w: EF = claims
        .iter()
        .zip(powers)
        .map(|((terms, _), &g)| g * layout.weigh(terms, &rho))
        .sum();
    if value * w != expected {
        return Err(crate::ProofError::Pcs(format!(
            "{label}: the batched openings do not match"
        )));
    }
    tr.absorb_ext(&format!("{label}.value"), &[value]);
    Ok(rho)
}

/// Checks the batching sumcheck; returns ρ (the caller opens T(ρ) = `value`).
pub(crate) fn verify(
    ctx: &mut super::verifier::VerifierCtx,
    label: &str,
    table: (&MaskedLayout, &LiftPoint),
    claims: &[ColumnClaim],
    proof: &ZkSumcheckProof,
    value: EF,
) -> Result<Vec<EF>> {
    let (layout, lift) = table;
    let claims = functionals(layout, lift, claims);
    let (powers, total) = batch(&claims, ctx.tr, label);
    let (rho, expected) = ctx.sumcheck(label, total, proof)?;
    finish_check(
        ctx.tr, label, layout, &claims, &powers, rho, value, expected,
    )
}
