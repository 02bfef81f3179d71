//! Masked polynomials as single openings of a twin commitment (Libra's masking, Xie et al. 2019,
//! §4.1, adapted to a multilinear PCS).
//!
//! A committed table P (packed columns) is committed as the twin T = [P | R]: one more variable,
//! the top one, selects the random table R. For a column with local variables z, the polynomial
//! the protocol uses is the *masked* Ṗ(z) = P̃(z) + z₀(1 − z₀)·R̃(z): it equals P on the hypercube,
//! so every sum the protocol proves is unchanged, but at a random point it is P̃ plus a fresh
//! random value. It is one opening of T:
//!   T(z, β) = (1 − β)·P̃(z) + β·R̃(z) = Ṗ(z)/(1 + ζ)  with ζ = z₀(1 − z₀), β = ζ/(1 + ζ).
//! Columns whose values are public (the output, a public input) have R = 0 and are opened at
//! β = 0, so the verifier can compare them with the public values.
//!
//! Extension-field columns (the LogUp inverses) are stored as two base-field halves, the top local
//! variable choosing the half; c₀(z) + ω·c₁(z) = (1 + ω)·C(z, ω/(1 + ω)) is again one opening.

use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};

use crate::error::Result;
use crate::field::{EF, F};
use crate::layout::Layout;
use crate::zk::sumcheck::invert;

/// The extension generator ω (EF = F[ω]/(ω² − 7)).
pub fn omega() -> EF {
    EF::from_basis_coefficients_slice(&[F::ZERO, F::ONE]).expect("two coefficients")
}

/// Splits EF values into the two base-field halves of a 2^(k+1) column: [c₀ | c₁].
pub fn split_ext(values: &[EF]) -> Vec<F> {
    let mut lo = Vec::with_capacity(2 * values.len());
    let mut hi = Vec::with_capacity(values.len());
    for v in values {
        let c = v.as_basis_coefficients_slice();
        lo.push(c[0]);
        hi.push(c[1]);
    }
    lo.extend(hi);
    lo
}

/// The EF table c₀ + ω·c₁ of a split column.
pub fn join_ext(col: &[F]) -> Vec<EF> {
    let (lo, hi) = col.split_at(col.len() / 2);
    let w = omega();
    lo.iter().zip(hi).map(|(&a, &b)| EF::from(a) + w * b).collect()
}

/// The local point on a split column whose opening is (c₀(z) + ω·c₁(z))/(1 + ω), and that factor.
pub fn ext_point(z: &[EF]) -> Result<(Vec<EF>, EF)> {
    let w = omega();
    let inv = invert(EF::ONE + w, "extension-field column")?;
    let mut p = z.to_vec();
    p.push(w * inv);
    Ok((p, inv))
}

/// A uniformly random mask R per column (zero where `masked[c]` is false).
pub fn column_masks(layout: &Layout, masked: &[bool], rng: &mut impl rand::Rng) -> Vec<Vec<F>> {
    layout
        .columns
        .iter()
        .zip(masked)
        .map(|(&(_, k), &m)| if m { (0..1usize << k).map(|_| super::random_base(rng)).collect() } else { vec![F::ZERO; 1 << k] })
        .collect()
}

/// The twin table [P | R] of packed P.
pub fn twin_of(packed: Vec<F>, layout: &Layout, masks: &[Vec<F>]) -> Vec<F> {
    let mut t = packed;
    t.extend(layout.pack(masks));
    t
}

/// The twin table [P | R] and R per column (zero where `masked[c]` is false).
pub fn twin_table(packed: Vec<F>, layout: &Layout, masked: &[bool], rng: &mut impl rand::Rng) -> (Vec<F>, Vec<Vec<F>>) {
    let r_cols = column_masks(layout, masked, rng);
    (twin_of(packed, layout, &r_cols), r_cols)
}

/// The twin-commitment claim for a claim `value` = Ṗ(point) (or P̃(point) when not masked) on
/// the packed polynomial.
pub fn twin_claim(point: &[EF], value: EF, masked: bool) -> Result<(Vec<EF>, EF)> {
    let mut p = point.to_vec();
    if !masked {
        p.push(EF::ZERO);
        return Ok((p, value));
    }
    let zeta = point[0] * (EF::ONE - point[0]);
    let inv = invert(EF::ONE + zeta, "masked opening")?;
    p.push(zeta * inv);
    Ok((p, value * inv))
}

/// Ṗ at a point from P and R tables (tests and the prover's own checks).
pub fn masked_eval(p: &[EF], r: &[EF], point: &[EF]) -> EF {
    let z = point[0] * (EF::ONE - point[0]);
    crate::mle::evaluate(p, point) + z * crate::mle::evaluate(r, point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::{evaluate, evaluate_base};
    use rand::SeedableRng;

    #[test]
    fn masked_claims_are_single_twin_openings() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let layout = Layout::new(&[3, 2, 1]);
        let cols: Vec<Vec<F>> = layout.columns.iter().map(|&(_, k)| (0..1u64 << k).map(|i| F::from_u64(i * 7 + 1)).collect()).collect();
        let (twin, r) = twin_table(layout.pack(&cols), &layout, &[true, false, true], &mut rng);
        let twin_ef: Vec<EF> = twin.iter().map(|&x| EF::from(x)).collect();
        for c in 0..3 {
            let k = layout.columns[c].1;
            let z: Vec<EF> = (0..k).map(|i| EF::from_u64(11 + 3 * i as u64) * omega() + EF::from_u64(5)).collect();
            let pe: Vec<EF> = cols[c].iter().map(|&x| EF::from(x)).collect();
            let re: Vec<EF> = r[c].iter().map(|&x| EF::from(x)).collect();
            let masked = c != 1;
            let value = if masked { masked_eval(&pe, &re, &z) } else { evaluate_base(&cols[c], &z) };
            let (p, v) = twin_claim(&layout.embed(c, &z), value, masked).unwrap();
            assert_eq!(evaluate(&twin_ef, &p), v, "column {c}");
        }
    }

    #[test]
    fn split_columns_open_as_one_point() {
        let vals: Vec<EF> = (0..8u64).map(|i| EF::from_u64(i + 2) + omega() * EF::from_u64(3 * i + 1)).collect();
        let col = split_ext(&vals);
        let z: Vec<EF> = (0..3).map(|i| EF::from_u64(9 + i) + omega()).collect();
        let (p, factor) = ext_point(&z).unwrap();
        assert_eq!(evaluate_base(&col, &p), evaluate(&vals, &z) * factor);
        assert_eq!(join_ext(&col), vals);
    }
}
