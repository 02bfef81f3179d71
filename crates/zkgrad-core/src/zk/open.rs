//! One WHIR point per twin commitment, however many claims: the claims v_i = T(p_i) are batched
//! with a random γ into Σ_x T(x)·W(x) = Σ_i γ^i·v_i, W = Σ_i γ^i·eq(p_i, ·), proved by a masked
//! sumcheck (`sumcheck.rs`), which leaves one claim T(ρ). WHIR's cost grows with every opened
//! point times the whole table; building W here costs only each claim's own column (a claim on
//! column c is zero outside c's sub-cube of both twin halves).

use p3_field::PrimeCharacteristicRing;

use super::sumcheck::{Table, ZkSumcheckProof};
use crate::error::Result;
use crate::field::{EF, F};
use crate::layout::Layout;
use crate::mle::{eq_eval, eq_table};
use crate::transcript::Transcript;

/// Round degrees of the batching sumcheck over the twin of a `num_vars`-variable layout (T·W).
pub(crate) fn schedule(num_vars: usize) -> Vec<usize> {
    vec![2; num_vars + 1]
}

/// A column claim on a twin commitment: (column, local point, value, whether masked).
pub(crate) type ColumnClaim = (usize, Vec<EF>, EF, bool);

/// β on the top (twin) variable and the value on the twin table, as `twin::twin_claim`.
fn twin_weight(z0: EF, masked: bool) -> Result<(EF, EF)> {
    if !masked {
        return Ok((EF::ZERO, EF::ONE));
    }
    let zeta = z0 * (EF::ONE - z0);
    let inv = super::sumcheck::invert(EF::ONE + zeta, "masked opening")?;
    Ok((zeta * inv, inv))
}

/// γ, and the batched claim Σ γ^i·v_i on the twin table.
fn batch(claims: &[ColumnClaim], tr: &mut Transcript, label: &str) -> Result<(Vec<EF>, EF)> {
    let gamma = tr.challenge(&format!("{label}.gamma"));
    let mut powers = Vec::with_capacity(claims.len());
    let mut g = EF::ONE;
    let mut total = EF::ZERO;
    for (_, z, v, masked) in claims {
        let (_, scale) = twin_weight(z[0], *masked)?;
        total += g * *v * scale;
        powers.push(g);
        g *= gamma;
    }
    Ok((powers, total))
}

/// W over the twin of `layout`.
fn weights(layout: &Layout, claims: &[ColumnClaim], powers: &[EF]) -> Result<Vec<EF>> {
    let half = layout.len();
    let mut w = vec![EF::ZERO; 2 * half];
    for ((c, z, _, masked), &g) in claims.iter().zip(powers) {
        let (beta, _) = twin_weight(z[0], *masked)?;
        let (off, _) = layout.columns[*c];
        for (j, e) in eq_table(z).into_iter().enumerate() {
            w[off + j] += g * (EF::ONE - beta) * e;
            w[half + off + j] += g * beta * e;
        }
    }
    Ok(w)
}

/// Proves the claims on the twin table `twin`; returns the proof messages, ρ and T(ρ).
pub(crate) fn prove(
    ctx: &mut super::prover::ProverCtx,
    label: &str,
    layout: &Layout,
    twin: &[F],
    claims: &[ColumnClaim],
) -> Result<(ZkSumcheckProof, Vec<EF>, EF)> {
    let (powers, _) = batch(claims, ctx.tr, label)?;
    let w = weights(layout, claims, &powers)?;
    let t: Vec<EF> = twin.iter().map(|&x| EF::from(x)).collect();
    let mut sc = ctx.sumcheck(label);
    let (rho, finals) = sc.phase(vec![Table::plain(t), Table::plain(w)], |v| v[0] * v[1], ctx.tr);
    let proof = ctx.finish(sc)?;
    ctx.tr.absorb_ext(&format!("{label}.value"), &[finals[0]]);
    Ok((proof, rho, finals[0]))
}

/// Checks the batching sumcheck; returns ρ (the caller opens T(ρ) = `value`).
pub(crate) fn verify(
    ctx: &mut super::verifier::VerifierCtx,
    label: &str,
    layout: &Layout,
    claims: &[ColumnClaim],
    proof: &ZkSumcheckProof,
    value: EF,
) -> Result<Vec<EF>> {
    let (powers, total) = batch(claims, ctx.tr, label)?;
    let (rho, expected) = ctx.sumcheck(label, total, proof)?;
    let mut w = EF::ZERO;
    for ((c, z, _, masked), &g) in claims.iter().zip(&powers) {
        let (beta, _) = twin_weight(z[0], *masked)?;
        let point = layout.embed(*c, z);
        let top = rho[layout.num_vars];
        w += g * eq_eval(&point, &rho[..layout.num_vars]) * (beta * top + (EF::ONE - beta) * (EF::ONE - top));
    }
    if value * w != expected {
        return Err(crate::ProofError::Pcs(format!("{label}: the batched openings do not match")));
    }
    ctx.tr.absorb_ext(&format!("{label}.value"), &[value]);
    Ok(rho)
}
