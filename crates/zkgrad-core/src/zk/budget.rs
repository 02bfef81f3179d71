//! What a proof reveals about each private column, against the mask dimensions that hide it.
//!
//! Every value the verifier sees is an affine function of (private values, masks). A masked
//! column P with mask space V (`masked.rs`) is opened at c distinct points per proof, each
//! revealing P̃(z) + ζ(z)·R(z), and its table's batching reveals one more functional T(ρ) that
//! involves R. The revealed values are independent of P when the functionals restricted to the
//! masks are linearly independent, which needs at least c + 1 ≤ dim V; with dim V ≥ c + 2 there
//! is one spare dimension. [`check_claims`] enforces that for every masked column of a table
//! before any of its values are revealed: a violation is an error, never a leak. A lifted column
//! (`masked.rs`) is checked per proof against its own 2^k dimensions (one proof's claims share
//! u) and across proofs against 2^lift ([`column_openings`]).
//!
//! The committed codeword is hidden by HVZK-WHIR's encoding randomness: `p3-whir` sizes it to
//! the spot checks of ONE opening (its budget rule: every opening is simulatable while the leaves
//! ever opened on the oracle number at most its randomness per limb). A table committed once and
//! opened by several proofs (the weights, a committed input) therefore has a budget of
//! [`openings_budget`] proofs before its leaves over-determine the randomness.

use std::collections::HashMap;

use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::pcs::Pcs;

use super::masked::MaskedLayout;

/// Distinct claim points per column of `layout` in `claims` (col, point, value).
pub fn distinct_claims(layout: &MaskedLayout, claims: &[(usize, Vec<EF>, EF)]) -> Vec<usize> {
    let mut seen: HashMap<usize, Vec<&[EF]>> = HashMap::new();
    for (c, z, _) in claims {
        let points = seen.entry(*c).or_default();
        if !points.contains(&z.as_slice()) {
            points.push(z);
        }
    }
    (0..layout.masked.len())
        .map(|c| seen.get(&c).map_or(0, Vec::len))
        .collect()
}

/// Refuses to reveal claims on a masked column whose mask space cannot hide them: the c distinct
/// claims and the batching value need c + 1 ≤ dim V (`what` names the table).
pub fn check_claims(
    layout: &MaskedLayout,
    claims: &[(usize, Vec<EF>, EF)],
    what: &str,
) -> Result<()> {
    // Counted over F, where the columns and masks live: every revealed EF value is two
    // F-functionals (its 1- and ω-parts).
    let counts = distinct_claims(layout, claims);
    let (mut revealed, mut room) = (F_PER_VALUE, 0);
    for (c, &n) in counts.iter().enumerate() {
        if !layout.masked[c] {
            continue;
        }
        // One proof's claims on a lifted column share its lift point: they see the column's
        // own mask size, not the 2^lift that all openings together spread over; the batching
        // value sees every mask whole.
        let dim = layout.proof_mask_dim(c);
        room += layout.mask_dim(c);
        revealed += F_PER_VALUE * n;
        if F_PER_VALUE * n > dim {
            return Err(ProofError::Circuit(format!(
                "column {c} of the {what} table would reveal {n} values ({} base-field functionals) through a mask space of dimension {dim}: zero knowledge cannot hold, so no proof is made",
                F_PER_VALUE * n
            )));
        }
    }
    // A table without a masked column (a circuit whose blocks have no weights: its weight
    // table is all public zeros) hides nothing, so its batching value reveals nothing.
    if room == 0 && !layout.masked.iter().any(|&m| m) {
        return Ok(());
    }
    if revealed > room {
        return Err(ProofError::Circuit(format!(
            "the {what} table would reveal {revealed} base-field functionals (its claims and its batching value) through masks of total dimension {room}: zero knowledge cannot hold, so no proof is made"
        )));
    }
    Ok(())
}

/// Base-field functionals one revealed value is: the weights, activations and masks are
/// Goldilocks elements, every revealed value an element of EF = F[ω] (at an EF point), i.e.
/// two F-linear equations in them.
pub const F_PER_VALUE: usize = 2;

/// How many openings of one hiding commitment stay simulatable (HVZK-WHIR's budget rule:
/// the randomness per limb over the spot checks one opening makes; 1 with `p3-whir`'s sizing).
pub fn openings_budget(pcs: &Pcs) -> usize {
    match pcs.first_oracle_exposure() {
        Some((queries, randomness)) if queries > 0 => randomness / queries,
        _ => 0,
    }
}

/// Openings of the weight table the commitment's randomness is sized for, at most. Every
/// opening's proof carries the first round's code-switch mask of that many times its spot checks
/// (`pcs/`), so the cap is paid in every proof: 64 cost the [12,6,3] MLP ~117 KB of blinded
/// randomness per proof; 16 keep it near a quarter of that. Epochs (docs/SECURITY.md), not a
/// larger cap, are the way to many proofs per published digest.
pub const WEIGHT_OPENINGS_CAP: usize = 16;

/// Openings of a table committed once whose column masks stay undetermined: every opening
/// reveals one value on each masked column (a weight column is claimed at one point per proof
/// and once by the range certificate) and one batching value T(ρ) over the whole table. K
/// openings reveal K values through each column's mask space V_c and K more through all of
/// them; with the points random, the revealed functionals restricted to the masks have full
/// rank while K ≤ dim V_c for every column and K·(columns + 1) ≤ Σ dim V_c (tested by the rank
/// test below). A lifted column (the weight table's, `commit::M_LIFT`) has dim V_c = 2^lift:
/// each opening reads its mask table at its own random lift point u. Capped at
/// [`WEIGHT_OPENINGS_CAP`].
pub fn column_openings(layout: &MaskedLayout) -> usize {
    let dims: Vec<usize> = (0..layout.masked.len())
        .filter(|&c| layout.masked[c])
        .map(|c| layout.mask_dim(c))
        .collect();
    let Some(&smallest) = dims.iter().min() else {
        return WEIGHT_OPENINGS_CAP;
    };
    let total: usize = dims.iter().sum();
    (smallest / F_PER_VALUE)
        .min(total / (F_PER_VALUE * (dims.len() + 1)))
        .min(WEIGHT_OPENINGS_CAP)
}

/// Openings the weight commitment of a circuit with `layout` is made to hide: the range
/// certificate's and the proofs' (at least 1).
pub fn weight_openings(layout: &MaskedLayout) -> usize {
    column_openings(layout).max(1)
}

/// Proofs one weight commitment of `spec` may serve with the weights hidden: the openings its
/// randomness and its column masks both hide, less the range certificate's.
pub fn weight_openings_budget(spec: &crate::circuit::CircuitSpec) -> usize {
    let layout = crate::commit::weight_masked_layout(spec);
    let codeword = crate::commit::weight_pcs(spec).map_or(0, |p| openings_budget(&p));
    codeword.min(column_openings(&layout)).saturating_sub(1)
}

/// Proofs one input epoch's leaf (batch of `batch`) serves with the input hidden (0 when the
/// circuit's input is not committed); the published input digest serves any number of input
/// epochs, each linked to it (`zk/input.rs`).
pub fn input_openings_budget(spec: &crate::circuit::CircuitSpec, batch: usize) -> usize {
    if !spec.committed_input {
        return 0;
    }
    super::input::proofs_per_epoch(spec, batch).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p3_field::PrimeCharacteristicRing;

    fn pt(v: u64, k: usize) -> Vec<EF> {
        (0..k).map(|i| EF::from_u64(v + i as u64)).collect()
    }

    #[test]
    fn claims_are_counted_per_distinct_point() {
        let layout = MaskedLayout::new(&[6, 2], &[true, true]);
        let claims = vec![
            (0, pt(1, 6), EF::ONE),
            (0, pt(1, 6), EF::TWO),
            (0, pt(5, 6), EF::ONE),
            (1, pt(9, 2), EF::ONE),
        ];
        assert_eq!(distinct_claims(&layout, &claims), vec![2, 1]);
    }

    /// The planner check at columns of 1, 2 and 3 variables beside a wide one: a column's mask
    /// space must hold two base-field functionals per distinct claim (the batching value finds
    /// room in the wide column's mask).
    #[test]
    fn narrow_columns_are_refused_when_their_claims_exceed_the_masks() {
        for k in 1..=3usize {
            let layout = MaskedLayout::new(&[k, 8], &[true, true]);
            let dim = layout.mask_dim(0);
            let most = dim / F_PER_VALUE;
            let claims: Vec<_> = (0..=most as u64)
                .map(|i| (0, pt(10 * i + 3, k), EF::ONE))
                .collect();
            assert!(
                check_claims(&layout, &claims[..most], "test").is_ok(),
                "{k} variables: {most} claims, dim {dim}"
            );
            let err = check_claims(&layout, &claims, "test")
                .unwrap_err()
                .to_string();
            assert!(err.contains("zero knowledge cannot hold"), "{err}");
        }
    }

    /// The public shape of an MLP with the given widths (the budget depends on nothing else).
    fn mlp_spec(dims: &[usize]) -> crate::circuit::CircuitSpec {
        crate::circuit::CircuitSpec {
            input_len: dims[0],
            table_bits: 16,
            layers: dims
                .windows(2)
                .enumerate()
                .map(|(i, d)| crate::circuit::DenseSpec {
                    name: format!("fc{i}"),
                    in_dim: d[0],
                    out_dim: d[1],
                    mult: 3,
                    shift: 12,
                    relu: i + 2 < dims.len(),
                    kind: crate::circuit::LayerKind::Dense,
                })
                .collect(),
            public_input: false,
            committed_input: false,
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        }
    }

    /// With lifted masks every weight column has at least 2^M_LIFT mask dimensions, so the
    /// codeword's randomness (sized for at most WEIGHT_OPENINGS_CAP openings) bounds the weight
    /// commitment's budget, not the narrowest bias (before: 2^k − 1, e.g. 15 for 10 classes).
    #[test]
    fn weight_budgets_of_mlps_with_lifted_masks() {
        for dims in [&[12, 6, 3][..], &[784, 128, 10], &[30, 16, 2]] {
            let spec = mlp_spec(dims);
            let layout = crate::commit::weight_masked_layout(&spec);
            let narrowest = (0..layout.masked.len())
                .filter(|&c| layout.masked[c])
                .map(|c| layout.mask_dim(c))
                .min()
                .unwrap();
            let budget = weight_openings_budget(&spec);
            println!(
                "weight_openings_budget {dims:?}: {budget} proofs (narrowest column mask {narrowest} dimensions, weight table 2^{})",
                layout.num_vars()
            );
            assert!(narrowest >= 1 << crate::commit::M_LIFT, "{dims:?}");
            assert_eq!(budget, WEIGHT_OPENINGS_CAP - 1, "{dims:?}");
        }
    }

    /// One proof's claims on a lifted column share its u, so they see the column's own 2^k mask
    /// dimensions (plus one for the batching value), not the 2^lift of all openings together.
    #[test]
    fn one_proof_on_a_lifted_column_is_checked_against_its_own_size() {
        let layout = MaskedLayout::lifted(&[2, 8], &[true, true], 6);
        assert_eq!(layout.mask_dim(0), 64);
        let claims: Vec<_> = (0..3u64).map(|i| (0, pt(10 * i + 3, 2), EF::ONE)).collect();
        // A 2-variable column's own mask holds 2 claims (2 base-field functionals each).
        assert!(check_claims(&layout, &claims[..2], "test").is_ok());
        let err = check_claims(&layout, &claims, "test")
            .unwrap_err()
            .to_string();
        assert!(err.contains("zero knowledge cannot hold"), "{err}");
    }

    /// A table committed for B openings (the weights) hides B openings' spot checks and still
    /// reaches 100 provable bits, with the randomized code's rate in the analysis.
    #[test]
    fn a_reused_commitment_hides_its_openings_at_100_bits() {
        for nv in [8, 12, 15, 17, 20] {
            for b in [2, 16, 64] {
                let pcs = Pcs::for_reused(nv, b)
                    .unwrap_or_else(|e| panic!("{nv} vars, {b} openings: {e}"));
                assert_eq!(
                    openings_budget(&pcs),
                    b,
                    "{nv} vars: {}",
                    pcs.config_summary()
                );
                let bits = pcs.soundness_bits(crate::pcs::MAX_POINTS);
                assert!(
                    bits >= 100.0,
                    "{nv} vars, {b} openings: {bits} bits ({})",
                    pcs.config_summary()
                );
                assert_eq!(
                    pcs.padded_num_vars(),
                    Pcs::new(nv, true).padded_num_vars(),
                    "{nv} vars, {b} openings: padded"
                );
            }
        }
    }

    /// Every weight-table size gets a configuration for at least half the cap (64 openings of a
    /// 14-variable table have none: `commit::reused_pcs` halves them), at 100 provable bits.
    #[test]
    fn every_weight_table_size_hides_at_least_half_the_cap() {
        for nv in 6..=20 {
            let pcs = crate::commit::reused_pcs(nv, WEIGHT_OPENINGS_CAP).unwrap();
            let b = openings_budget(&pcs);
            println!("weight table 2^{nv}: codeword hides {b} openings");
            assert!(b >= WEIGHT_OPENINGS_CAP / 2, "{nv} variables: {b}");
            let bits = pcs.soundness_bits(crate::pcs::MAX_POINTS);
            assert!(bits >= 100.0, "{nv} variables: {bits} bits");
        }
    }

    #[test]
    fn one_opening_per_commitment_with_p3_whir_sizing() {
        for nv in [8, 12, 17, 20] {
            assert_eq!(openings_budget(&Pcs::new(nv, true)), 1, "{nv} variables");
        }
    }
}

/// The rank test: what K proofs reveal on one masked column, written as linear functionals of
/// the committed table, must be covered by the masks — the revealed values are independent of
/// the private values exactly when the functionals restricted to the mask entries have the same
/// rank as the functionals themselves.
#[cfg(test)]
pub(crate) mod rank_test {
    use p3_field::{Field, PrimeCharacteristicRing};

    use super::*;
    use crate::field::F;
    use crate::mle::eq_table;
    use crate::zk::masked::LiftPoint;

    /// Rank of a matrix over any field (Gaussian elimination).
    pub(crate) fn rank_over<T: Field>(mut rows: Vec<Vec<T>>) -> usize {
        let width = rows.first().map_or(0, Vec::len);
        let mut r = 0;
        for col in 0..width {
            let Some(p) = (r..rows.len()).find(|&i| rows[i][col] != T::ZERO) else {
                continue;
            };
            rows.swap(r, p);
            let inv = rows[r][col].inverse();
            let pivot: Vec<T> = rows[r].iter().map(|&x| x * inv).collect();
            for (i, row) in rows.iter_mut().enumerate() {
                if i != r && row[col] != T::ZERO {
                    let f = row[col];
                    row.iter_mut().zip(&pivot).for_each(|(x, &p)| *x -= f * p);
                }
            }
            rows[r] = pivot;
            r += 1;
        }
        r
    }

    /// Rank over F of revealed EF functionals of F-valued unknowns: each EF row is two F rows
    /// (its 1- and ω-parts), since a revealed EF value is two F-linear equations.
    fn rank(rows: Vec<Vec<EF>>) -> usize {
        use p3_field::BasedVectorSpace;
        let part = |w: &Vec<EF>, i: usize| -> Vec<F> {
            w.iter()
                .map(|x| x.as_basis_coefficients_slice()[i])
                .collect()
        };
        rank_over(rows.iter().flat_map(|w| [part(w, 0), part(w, 1)]).collect())
    }

    fn random_point(k: usize, rng: &mut impl rand::Rng) -> Vec<EF> {
        (0..k).map(|_| crate::zk::random_ef(rng)).collect()
    }

    /// Rows of the functionals K proofs reveal on column 0 (`claims` masked values each, plus
    /// the batching value T(ρ)), split into (whole table, mask entries only).
    fn revealed(
        layout: &MaskedLayout,
        proofs: usize,
        claims: usize,
        seed: u64,
    ) -> (Vec<Vec<EF>>, Vec<Vec<EF>>) {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let k = layout.layout.columns[0].1;
        let mut full = Vec::new();
        for _ in 0..proofs {
            for _ in 0..claims {
                let mut w = vec![EF::ZERO; layout.layout.len()];
                layout.add_weights(
                    &layout.terms(0, &random_point(k, &mut rng), &LiftPoint::none()),
                    EF::ONE,
                    &mut w,
                );
                full.push(w);
            }
            full.push(eq_table(&random_point(layout.num_vars(), &mut rng)));
        }
        // Split the table's entries: the mask columns A and B (after the caller's columns) are
        // uniformly random; the caller's columns are private; unused room is zero and known.
        let callers = layout.masked.len();
        let mut kind = vec![0u8; layout.layout.len()]; // 0 unused, 1 private, 2 mask
        for (i, &(o, kk)) in layout.layout.columns.iter().enumerate() {
            kind[o..o + (1 << kk)].fill(if i < callers { 1 } else { 2 });
        }
        let keep = |w: &Vec<EF>, want: &[u8]| -> Vec<EF> {
            w.iter()
                .zip(&kind)
                .filter(|(_, k)| want.contains(k))
                .map(|(&x, _)| x)
                .collect()
        };
        let masks = full.iter().map(|w| keep(w, &[2])).collect();
        let full = full.iter().map(|w| keep(w, &[1, 2])).collect();
        (full, masks)
    }

    fn hidden(layout: &MaskedLayout, proofs: usize, claims: usize) -> bool {
        let (full, masks) = revealed(layout, proofs, claims, 7 + proofs as u64);
        rank(masks) == rank(full)
    }

    #[test]
    fn three_claims_on_a_narrow_column_are_hidden_for_one_proof() {
        // The narrowest activation column (MIN_COLUMN_VARS = 3): eight mask dimensions hold
        // three claims and the batching value (2 base-field functionals each).
        let layout = MaskedLayout::new(&[crate::circuit::MIN_COLUMN_VARS], &[true]);
        assert_eq!(layout.mask_dim(0), 8);
        assert!(hidden(&layout, 1, 3));
        assert!(check_claims(&layout, &claims_on(&layout, 3), "test").is_ok());
        // Two variables (what narrow columns had until 2026-12-07): three claims leak.
        let narrow = MaskedLayout::new(&[2], &[true]);
        assert!(
            !hidden(&narrow, 1, 3),
            "a 4-dimensional mask cannot hide three claims"
        );
        assert!(check_claims(&narrow, &claims_on(&narrow, 3), "test").is_err());
    }

    fn claims_on(layout: &MaskedLayout, n: usize) -> Vec<(usize, Vec<EF>, EF)> {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        (0..n)
            .map(|_| (0, random_point(layout.col_vars(0), &mut rng), EF::ONE))
            .collect()
    }

    /// Whether K openings of a whole table stay hidden, each with one random point on every
    /// masked column (read with that opening's lift point, `lift(opening, rng)`) and the batching
    /// value T(ρ): the revealed functionals restricted to the mask entries have the rank of the
    /// functionals themselves.
    pub(crate) fn table_hidden(
        layout: &MaskedLayout,
        openings: usize,
        mut lift: impl FnMut(usize, &mut rand::rngs::StdRng) -> LiftPoint,
    ) -> bool {
        use rand::SeedableRng;
        let callers = layout.masked.len();
        let mut kind = vec![0u8; layout.layout.len()];
        for (i, &(o, kk)) in layout.layout.columns.iter().enumerate() {
            kind[o..o + (1 << kk)].fill(if i < callers { 1 } else { 2 });
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(11 + openings as u64);
        let mut full = Vec::new();
        for opening in 0..openings {
            let u = lift(opening, &mut rng);
            // Unmasked columns (a dataset table's filler) are never claimed.
            for c in (0..callers).filter(|&c| layout.masked[c]) {
                let mut w = vec![EF::ZERO; layout.layout.len()];
                let point = random_point(layout.layout.columns[c].1, &mut rng);
                layout.add_weights(&layout.terms(c, &point, &u), EF::ONE, &mut w);
                full.push(w);
            }
            full.push(eq_table(&random_point(layout.num_vars(), &mut rng)));
        }
        let keep = |w: &Vec<EF>, want: &[u8]| -> Vec<EF> {
            w.iter()
                .zip(&kind)
                .filter(|(_, k)| want.contains(k))
                .map(|(&x, _)| x)
                .collect()
        };
        let masks: Vec<_> = full.iter().map(|w| keep(w, &[2])).collect();
        let both: Vec<_> = full.iter().map(|w| keep(w, &[1, 2])).collect();
        rank(masks) == rank(both)
    }

    /// K openings of a whole table, each with one point on every masked column and the batching
    /// value: hidden while K ≤ [`column_openings`], and the narrowest column leaks one past it.
    #[test]
    fn a_reused_table_is_hidden_up_to_its_column_budget() {
        let layout = MaskedLayout::new(&[2, 6, 5], &[true, true, true]);
        let budget = column_openings(&layout);
        assert_eq!(
            budget,
            layout.mask_dim(0) / F_PER_VALUE,
            "the narrow column bounds the budget"
        );
        let none = |_: usize, _: &mut rand::rngs::StdRng| LiftPoint::none();
        assert!(table_hidden(&layout, budget, none), "K = {budget}");
        assert!(
            !table_hidden(&layout, budget + 1, none),
            "K = {}",
            budget + 1
        );
    }

    /// The same table with lifted masks (the weight table's, `commit::M_LIFT`; 4 variables here
    /// to keep the matrices small): every opening draws a fresh u, so the narrow column's K
    /// values are Ã at K random points of a 2^lift-entry table, hidden up to the new budget and
    /// leaking one past it; with one u for every opening they would leak past 2^k, as before.
    #[test]
    fn a_reused_lifted_table_is_hidden_up_to_its_lifted_budget() {
        let lift_vars = 4;
        let logs = [2, 6, 5];
        let layout = MaskedLayout::lifted(&logs, &[true, true, true], lift_vars);
        let unlifted = column_openings(&MaskedLayout::new(&logs, &[true, true, true]));
        let budget = column_openings(&layout);
        assert_eq!(
            budget,
            (1 << lift_vars) / F_PER_VALUE,
            "the lifted narrow column bounds it"
        );
        assert!(budget > unlifted, "lifted {budget}, unlifted {unlifted}");
        let fresh = |_: usize, rng: &mut rand::rngs::StdRng| {
            LiftPoint::new(
                (0..lift_vars)
                    .map(|_| crate::zk::random_base(rng))
                    .collect(),
            )
        };
        assert!(table_hidden(&layout, budget, fresh), "K = {budget}");
        assert!(
            !table_hidden(&layout, budget + 1, fresh),
            "K = {}",
            budget + 1
        );
        // u is what spreads the openings: one fixed u hides no more than the column's own 2^k.
        let fixed = |_: usize, _: &mut rand::rngs::StdRng| {
            LiftPoint::new((0..lift_vars as u64).map(|i| F::from_u64(3 + i)).collect())
        };
        let own = (1 << logs[0]) / F_PER_VALUE;
        assert!(table_hidden(&layout, own, fixed));
        assert!(!table_hidden(&layout, own + 1, fixed));
    }

    #[test]
    fn a_reused_column_is_hidden_up_to_its_budget_and_not_beyond() {
        // A 2^6-entry column with the room of a 2^7 table: its mask space has some dimension d;
        // proofs of c claims each stay hidden while 2·K·(c + 1) ≤ d (two base-field functionals
        // per revealed value), and leak one past it.
        let layout = MaskedLayout::new(&[6], &[true]);
        let d = layout.mask_dim(0);
        let c = 2;
        let budget = d / (F_PER_VALUE * (c + 1));
        assert!(budget >= 1);
        assert!(hidden(&layout, budget, c), "K = {budget} within dim {d}");
        assert!(
            !hidden(&layout, budget + 1, c),
            "K = {} beyond dim {d}",
            budget + 1
        );
    }
}
