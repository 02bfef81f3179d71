//! The public selectors of values gathered from the input by a fixed index map (convolution
//! patches, pooling windows).
//!
//! A gathered tensor G(e) = a(src(e)) (0 where src(e) is padding) has, at a point ρ,
//! G̃(ρ) = Σ_e eq(ρ, e)·a(src(e)) = Σ_i M(i)·a(i) with the public selector
//! M(i) = Σ_{e: src(e) = i} eq(ρ, e). The protocol's sumchecks (`zk/conv.rs`, `zk/pool.rs`)
//! reduce such a claim to the input column; the verifier builds M itself (O(#entries)).

use p3_field::PrimeCharacteristicRing;

use crate::circuit::{ActShape, ConvGeom, PoolGeom};
use crate::field::EF;

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
pub(crate) fn pool_selector(
    g: &PoolGeom,
    input: ActShape,
    lambdas: &[EF],
    eq_p: &[EF],
    eq_ch: &[EF],
) -> Vec<EF> {
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
