//! Values gathered from the input by a fixed index map (convolution patches, pooling windows).
//!
//! A gathered tensor G(e) = a(src(e)) (0 where src(e) is padding) has, at a point ρ,
//! G̃(ρ) = Σ_e eq(ρ, e)·a(src(e)) = Σ_i M(i)·a(i) with the public selector
//! M(i) = Σ_{e: src(e) = i} eq(ρ, e). A sumcheck over the input column's variables reduces the
//! claim to ã(σ) at a random σ; the verifier builds M itself (O(#entries)) and checks M̃(σ)·ã(σ).

use p3_field::PrimeCharacteristicRing;

use crate::circuit::{ActShape, ConvGeom, PoolGeom};
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::{evaluate, eq_table};
use crate::proof::WiringProof;
use crate::sumcheck;
use crate::transcript::Transcript;

/// M for convolution patches: entry (c, p) of the patch matrix at the point (σ_c, r_p), given
/// as the eq tables of those two points.
pub(crate) fn conv_selector(g: &ConvGeom, input: ActShape, eq_c: &[EF], eq_p: &[EF]) -> Vec<EF> {
    let mut m = vec![EF::ZERO; 1 << input.log_size()];
    let positions = g.out_hw()[0] * g.out_hw()[1];
    for (c, &ec) in eq_c.iter().enumerate().take(g.patch_len()) {
        for (p, &ep) in eq_p.iter().enumerate().take(positions) {
            if let Some(src) = g.source(c, p) {
                m[input.slot(src)] += ec * ep;
            }
        }
    }
    m
}

/// M for pooling windows: Σ_u λ_u · (window element u at the point (ρ_p, ρ_ch)).
pub(crate) fn pool_selector(g: &PoolGeom, input: ActShape, lambdas: &[EF], eq_p: &[EF], eq_ch: &[EF]) -> Vec<EF> {
    let mut m = vec![EF::ZERO; 1 << input.log_size()];
    let positions = g.out_hw()[0] * g.out_hw()[1];
    for (u, &lu) in lambdas.iter().enumerate() {
        for (ch, &ec) in eq_ch.iter().enumerate().take(g.channels) {
            let w = lu * ec;
            for (p, &ep) in eq_p.iter().enumerate().take(positions) {
                m[input.slot(g.source(ch, u, p))] += w * ep;
            }
        }
    }
    m
}

/// Proves Σ_i M(i)·a(i) = claim; returns the proof and the point σ.
pub(crate) fn prove(selector: Vec<EF>, input: Vec<EF>, tr: &mut Transcript) -> (WiringProof, Vec<EF>) {
    let sc = sumcheck::prove(vec![selector, input], 2, |v| v[0] * v[1], "wiring-sc", tr);
    let input_eval = sc.finals[1];
    tr.absorb_ext("wiring-eval", &[input_eval]);
    (WiringProof { sumcheck: sc.proof, input_eval }, sc.point)
}

/// Checks the wiring sumcheck against the verifier's own selector; returns σ (the caller
/// claims ã(σ) = `proof.input_eval`).
pub(crate) fn verify(claim: EF, selector: &[EF], proof: &WiringProof, what: &str, tr: &mut Transcript) -> Result<Vec<EF>> {
    let n = selector.len().trailing_zeros() as usize;
    let (point, fin) = sumcheck::verify(claim, n, 2, &proof.sumcheck, "wiring-sc", tr)?;
    if evaluate(selector, &point) * proof.input_eval != fin {
        return Err(ProofError::Layer(format!("block '{what}': the gathered values do not match the input")));
    }
    tr.absorb_ext("wiring-eval", &[proof.input_eval]);
    Ok(point)
}

/// Σ_{p < n} eq(r, p): how often a per-channel bias is added at the point r over positions.
pub(crate) fn prefix_sum(r: &[EF], n: usize) -> EF {
    eq_table(r).iter().take(n).copied().sum()
}
