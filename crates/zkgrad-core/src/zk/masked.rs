//! Masked columns (Libra's masking, Xie et al. 2019, §4.1, adapted to a multilinear PCS): how a
//! committed table holds its columns P and their random masks, and which linear functional of
//! the table a masked evaluation is.
//!
//! For a column with local variables z the protocol never uses P̃ itself but the masked
//! Ṗ(z) = P̃(z) + z₀(1 − z₀)·R(z): it equals P on the hypercube, so every sum the protocol proves
//! is unchanged, while at the points it reveals it is P̃ plus a random value. R is a uniformly
//! random multilinear polynomial from a space much smaller than the column: multilinear in the
//! first m local variables (a table A of 2^m entries) and affine in the others (coefficients B),
//! R(z) = Ã(z[..m]) + Σ_j B_j·z[m + j] — 2^m + k − m dimensions for k variables, the whole
//! column when k ≤ m. A and B are extra columns of the same committed table, so a masked value
//! is one linear functional of it, eq(c's point) + ζ·eq(A's point) + Σ_j ζ·z[m + j]·[B_j]
//! with ζ = z₀(1 − z₀) ([`MaskedLayout::terms`]); a batching sumcheck (`open.rs`) turns any
//! number of them into one opening. m is as large as fits in the power-of-two table the
//! columns need (so the masks usually cost nothing; a table the columns fill grows by one
//! variable, and its masks are then up to full size), at least [`MIN_MASK_VARS`].
//! Columns whose values are public (the output, a public input, the sumcheck mask columns) have
//! no mask and are plain points of the table.
//!
//! Lifted masks ([`MaskedLayout::lifted`], the weight table only): a table opened by many proofs
//! reveals one value per column per proof, so a column of k variables with a k-variable mask is
//! over-determined after 2^k openings. A lifted column (k < lift) gets a mask table A of 2^lift
//! entries and, in one proof, R(z) = Ã(z ‖ u[k..lift]) with u a public base-field point drawn
//! per proof from the transcript ([`LiftPoint`]) before any value of the table is revealed. For a
//! fixed u, R is a k-variable multilinear: Ṗ still equals P on the hypercube and a masked value
//! is still one linear functional of the table (only A's point is extended by u). Across proofs
//! u differs, so K openings reveal Ã at K random points: up to 2^lift independent functionals.
//!
//! Extension-field columns (the LogUp inverses) are stored as two base-field halves, the top local
//! variable choosing the half; c₀(z) + ω·c₁(z) = (1 + ω)·C(z, ω/(1 + ω)) is again one opening.

use p3_challenger::CanSample;
use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};
use p3_maybe_rayon::prelude::*;

use crate::error::Result;
use crate::field::{EF, F};
use crate::layout::Layout;
use crate::mle::{bits_as_point, eq_eval, log2_ceil};
use crate::transcript::Transcript;
use crate::zk::sumcheck::invert;

/// The smallest m (variables of a mask's multilinear part) a layout uses.
pub const MIN_MASK_VARS: usize = 4;
/// The largest m tried.
const MAX_MASK_VARS: usize = 20;

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
    lo.iter()
        .zip(hi)
        .map(|(&a, &b)| EF::from(a) + w * b)
        .collect()
}

/// The local point on a split column whose opening is (c₀(z) + ω·c₁(z))/(1 + ω), and that factor.
pub fn ext_point(z: &[EF]) -> Result<(Vec<EF>, EF)> {
    let w = omega();
    let inv = invert(EF::ONE + w, "extension-field column")?;
    let mut p = z.to_vec();
    p.push(w * inv);
    Ok((p, inv))
}

/// Where a masked column's mask lives: the layout columns of A (2^m entries) and of B (the
/// k − m affine coefficients, when k > m). A lifted column has m > k (A's extra variables are
/// read at the proof's [`LiftPoint`]) and no B.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MaskSlots {
    a: usize,
    m: usize,
    b: Option<usize>,
}

/// The public per-proof coordinates that complete a lifted column's mask point: a column of k
/// variables reads its mask table A at (z ‖ u[k..lift]). Drawn from the transcript by
/// [`LiftPoint::draw`] (prover, verifier and the range certificate alike), in the base field so
/// every column's R stays a base-field table. Empty for a layout without lifted columns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiftPoint(Vec<F>);

impl LiftPoint {
    /// The point of a layout without lifted columns (nothing to extend).
    pub fn none() -> Self {
        Self::default()
    }

    /// A given point (tests: several openings with their own u).
    pub fn new(u: Vec<F>) -> Self {
        Self(u)
    }

    /// Draws `layout`'s lift coordinates from the transcript (nothing for an unlifted layout).
    /// Call it after the statement and commitments are absorbed and before any value of the
    /// table is revealed, at the same transcript position on both sides.
    pub fn draw(layout: &MaskedLayout, tr: &mut Transcript) -> Self {
        if layout.lift == 0 {
            return Self::none();
        }
        tr.absorb_label("mask-lift");
        #[allow(unused_mut)]
        let mut u: Vec<F> = (0..layout.lift)
            .map(|_| CanSample::<F>::sample(tr.challenger_mut()))
            .collect();
        #[cfg(test)]
        if skew::ON.get() {
            // The last coordinate: every lifted column reads it.
            *u.last_mut().expect("a lift has coordinates") += F::ONE;
        }
        Self(u)
    }

    /// The coordinates a column of `k` variables appends to its point on A (lift `m`).
    fn tail(&self, k: usize, m: usize) -> &[F] {
        self.0.get(k..m).unwrap_or_else(|| {
            panic!(
                "a lifted mask needs its lift point ({} coordinates, {m} needed)",
                self.0.len()
            )
        })
    }
}

/// Tests of a prover and verifier that disagree on u: while set, [`LiftPoint::draw`] shifts
/// its last coordinate.
#[cfg(test)]
pub(crate) mod skew {
    thread_local! {
        pub(crate) static ON: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
}

/// eq(u, y) for every y of the base-field hypercube (y's bit 0 is u's first coordinate).
fn eq_table_base(u: &[F]) -> Vec<F> {
    let mut table = vec![F::ONE];
    for &r in u.iter().rev() {
        table = table
            .iter()
            .flat_map(|&v| {
                let hi = v * r;
                [v - hi, hi]
            })
            .collect();
    }
    table
}

/// One column's mask: A (2^m values) and B (k − m values).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnMask {
    pub a: Vec<F>,
    pub b: Vec<F>,
}

/// One term of a masked evaluation as a functional of the table: `weight`·T̃(point on `col`), or
/// `weight`·(entry `index` of `col`).
#[derive(Clone, Debug)]
pub enum Term {
    Point {
        col: usize,
        point: Vec<EF>,
        weight: EF,
    },
    Entry {
        col: usize,
        index: usize,
        weight: EF,
    },
}

/// A committed table: the caller's columns (indices kept), then each masked column's A and B.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskedLayout {
    pub layout: Layout,
    /// Which of the caller's columns are masked.
    pub masked: Vec<bool>,
    slots: Vec<Option<MaskSlots>>,
    /// Variables of a lifted column's mask table (0: no column is lifted).
    lift: usize,
}

impl MaskedLayout {
    /// The table for columns of the given log2 sizes; `masked[c]` says which carry a mask (every
    /// masked column needs at least one variable, for its z₀). The masks are as large as fit
    /// (m at most 20) in the smallest table that holds the columns and masks with m = 4.
    pub fn new(logs: &[usize], masked: &[bool]) -> Self {
        Self::build(logs, masked, 0)
    }

    /// [`Self::new`] with lifted masks (a table committed once and opened by many proofs): every
    /// masked column of fewer than `lift` variables gets a mask table of 2^lift entries read at
    /// (z ‖ u) with a per-proof [`LiftPoint`] u, and the wider ones get masks of at least `lift`
    /// multilinear variables, so every masked column has at least 2^lift mask dimensions across
    /// openings.
    pub fn lifted(logs: &[usize], masked: &[bool], lift: usize) -> Self {
        assert!(
            (1..=MAX_MASK_VARS).contains(&lift),
            "a lift of {lift} variables (1 to {MAX_MASK_VARS})"
        );
        Self::build(logs, masked, lift)
    }

    fn build(logs: &[usize], masked: &[bool], lift: usize) -> Self {
        let widest = logs
            .iter()
            .zip(masked)
            .filter(|&(_, &m)| m)
            .map(|(&k, _)| k)
            .max()
            .unwrap_or(0);
        let floor = MIN_MASK_VARS.max(lift);
        let largest = widest.clamp(floor, MAX_MASK_VARS);
        // The smallest table size that holds the columns with some masks, then the largest masks
        // that fit in it (a table the columns fill must grow anyway: the masks then take up to
        // as much room as the columns).
        let mut vars = Layout::new(logs).num_vars;
        loop {
            for m in (floor..=largest).rev() {
                let candidate = Self::with_mask_vars(logs, masked, m, lift);
                if candidate.layout.num_vars <= vars {
                    return candidate;
                }
            }
            vars += 1;
        }
    }

    fn with_mask_vars(logs: &[usize], masked: &[bool], m_max: usize, lift: usize) -> Self {
        let mut all = logs.to_vec();
        let mut slots = vec![None; logs.len()];
        for (c, (&k, &is_masked)) in logs.iter().zip(masked).enumerate() {
            if !is_masked {
                continue;
            }
            // A lifted column's A has the lift's variables (m > k, no affine part).
            let m = if k < lift { lift } else { k.min(m_max) };
            let a = all.len();
            all.push(m);
            let b = (k > m).then(|| {
                all.push(log2_ceil(k - m));
                all.len() - 1
            });
            slots[c] = Some(MaskSlots { a, m, b });
        }
        Self {
            layout: Layout::new(&all),
            masked: masked.to_vec(),
            slots,
            lift,
        }
    }

    /// Variables of a lifted column's mask table (0 when no column is lifted).
    pub fn lift(&self) -> usize {
        self.lift
    }

    /// Whether column `c`'s mask is lifted (read at the proof's [`LiftPoint`]).
    pub fn is_lifted(&self, c: usize) -> bool {
        self.slots[c].is_some_and(|s| s.m > self.col_vars(c))
    }

    /// Variables of the committed table.
    pub fn num_vars(&self) -> usize {
        self.layout.num_vars
    }

    /// Local variables of the caller's column `c`.
    pub fn col_vars(&self, c: usize) -> usize {
        self.layout.columns[c].1
    }

    /// Dimension of column `c`'s mask space V (2^m + k − m; 2^lift for a lifted column; 0 for an
    /// unmasked column): how many independent linear functionals of the column the masks can
    /// hide over all openings of the table (`zk/budget.rs`).
    pub fn mask_dim(&self, c: usize) -> usize {
        let k = self.col_vars(c);
        self.slots[c].map_or(0, |s| (1usize << s.m) + k.saturating_sub(s.m))
    }

    /// The mask dimensions one opening's point claims on column `c` can use: [`Self::mask_dim`],
    /// except for a lifted column, whose claims in one proof share u and so see only R(·, u), a
    /// k-variable multilinear (2^k dimensions). (The batching value T(ρ) reads A at ρ's point,
    /// not (· ‖ u): it sees all of [`Self::mask_dim`].)
    pub fn proof_mask_dim(&self, c: usize) -> usize {
        if self.is_lifted(c) {
            1usize << self.col_vars(c)
        } else {
            self.mask_dim(c)
        }
    }

    /// Uniformly random masks for the masked columns (empty for the others).
    pub fn draw(&self, rng: &mut impl rand::Rng) -> Vec<ColumnMask> {
        let random = |n: usize, rng: &mut _| (0..n).map(|_| super::random_base(rng)).collect();
        (0..self.masked.len())
            .map(|c| match self.slots[c] {
                None => ColumnMask::default(),
                Some(s) => ColumnMask {
                    a: random(1 << s.m, rng),
                    b: random(self.col_vars(c).saturating_sub(s.m), rng),
                },
            })
            .collect()
    }

    /// The committed table: every column and mask at its offset, zero elsewhere.
    pub fn table<C: AsRef<[F]>>(&self, cols: &[C], masks: &[ColumnMask]) -> Vec<F> {
        let mut out = vec![F::ZERO; self.layout.len()];
        let mut put = |col: usize, values: &[F]| {
            let off = self.layout.columns[col].0;
            out[off..off + values.len()].copy_from_slice(values);
        };
        for (c, col) in cols.iter().enumerate() {
            let col = col.as_ref();
            assert_eq!(
                col.len(),
                1 << self.col_vars(c),
                "column size does not match the layout"
            );
            put(c, col);
        }
        for (slot, mask) in self.slots.iter().zip(masks) {
            if let Some(s) = slot {
                put(s.a, &mask.a);
                if let Some(b) = s.b {
                    put(b, &mask.b);
                }
            }
        }
        out
    }

    /// R of column `c` on its whole hypercube (the sumchecks use Ṗ = P + ζ·R as tables); a
    /// lifted column's is Ã(·, u[k..lift]), A's extra variables fixed at `lift`'s coordinates.
    pub fn expand(&self, c: usize, mask: &ColumnMask, lift: &LiftPoint) -> Vec<F> {
        let k = self.col_vars(c);
        let Some(s) = self.slots[c] else {
            return vec![F::ZERO; 1 << k];
        };
        if s.m > k {
            // A's index: the column's k variables low, the lift's high.
            let eq = eq_table_base(lift.tail(k, s.m));
            return (0..1usize << k)
                .into_par_iter()
                .map(|x| {
                    eq.iter()
                        .enumerate()
                        .map(|(y, &e)| e * mask.a[x | (y << k)])
                        .sum()
                })
                .collect();
        }
        let low = (1usize << s.m) - 1;
        // Every entry on its own: a large column (a batch's lookup inverses) is spread over the
        // thread pool.
        (0..1usize << k)
            .into_par_iter()
            .map(|x| {
                let affine: F = mask
                    .b
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| (x >> (s.m + j)) & 1 == 1)
                    .map(|(_, &v)| v)
                    .sum();
                mask.a[x & low] + affine
            })
            .collect()
    }

    /// Fresh masks from `rng`: the committed table, and every column's R on its whole hypercube
    /// (a per-proof table: no lifted columns).
    pub fn masked_table(&self, cols: &[Vec<F>], rng: &mut impl rand::Rng) -> (Vec<F>, Vec<Vec<F>>) {
        debug_assert_eq!(self.lift, 0, "a per-proof table has no lifted masks");
        let masks = self.draw(rng);
        (
            self.table(cols, &masks),
            self.expand_all(&masks, &LiftPoint::none()),
        )
    }

    /// Every column's R on its whole hypercube, lifted columns at `lift`.
    pub fn expand_all(&self, masks: &[ColumnMask], lift: &LiftPoint) -> Vec<Vec<F>> {
        masks
            .iter()
            .enumerate()
            .map(|(c, m)| self.expand(c, m, lift))
            .collect()
    }

    /// The value at `z` of column `c` (masked: Ṗ(z)) as a functional of the table; a lifted
    /// column's mask term is A at (z ‖ u[k..lift]).
    pub fn terms(&self, c: usize, z: &[EF], lift: &LiftPoint) -> Vec<Term> {
        let mut out = vec![Term::Point {
            col: c,
            point: z.to_vec(),
            weight: EF::ONE,
        }];
        if let Some(s) = self.slots[c] {
            let zeta = z[0] * (EF::ONE - z[0]);
            let k = self.col_vars(c);
            let point = if s.m > k {
                let tail = lift.tail(k, s.m).iter().map(|&u| EF::from(u));
                z.iter().copied().chain(tail).collect()
            } else {
                z[..s.m].to_vec()
            };
            out.push(Term::Point {
                col: s.a,
                point,
                weight: zeta,
            });
            if let Some(b) = s.b {
                out.extend(z[s.m..].iter().enumerate().map(|(index, &zj)| Term::Entry {
                    col: b,
                    index,
                    weight: zeta * zj,
                }));
            }
        }
        out
    }

    /// The table point of an unmasked column's value at `z` (a direct PCS point).
    pub fn point(&self, c: usize, z: &[EF]) -> Option<Vec<EF>> {
        (!self.masked[c]).then(|| self.layout.embed(c, z))
    }

    /// Σ weight·eq(term point, ρ): what the terms weigh at the table point ρ.
    pub fn weigh(&self, terms: &[Term], rho: &[EF]) -> EF {
        terms
            .iter()
            .map(|t| match t {
                Term::Point { col, point, weight } => {
                    *weight * eq_eval(&self.layout.embed(*col, point), rho)
                }
                Term::Entry { col, index, weight } => {
                    *weight
                        * eq_eval(
                            &self
                                .layout
                                .embed(*col, &bits_as_point(*index, self.layout.columns[*col].1)),
                            rho,
                        )
                }
            })
            .sum()
    }

    /// Adds `scale`·(the terms' weights) into the table-sized W.
    pub fn add_weights(&self, terms: &[Term], scale: EF, w: &mut [EF]) {
        for t in terms {
            match t {
                Term::Point { col, point, weight } => {
                    let off = self.layout.columns[*col].0;
                    let g = scale * *weight;
                    for (j, e) in crate::mle::eq_table(point).into_iter().enumerate() {
                        w[off + j] += g * e;
                    }
                }
                Term::Entry { col, index, weight } => {
                    w[self.layout.columns[*col].0 + index] += scale * *weight
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::{evaluate, evaluate_base};
    use rand::SeedableRng;

    /// Ṗ at a point from P and R tables.
    fn masked_eval(p: &[EF], r: &[EF], point: &[EF]) -> EF {
        let z = point[0] * (EF::ONE - point[0]);
        evaluate(p, point) + z * evaluate(r, point)
    }

    fn point(k: usize, seed: u64) -> Vec<EF> {
        (0..k)
            .map(|i| EF::from_u64(11 + 3 * i as u64 + seed) * omega() + EF::from_u64(5 + seed))
            .collect()
    }

    /// A masked value is the inner product of the table with the terms' weights, and the
    /// verifier's `weigh` is the MLE of those weights.
    fn check(logs: &[usize], masked: &[bool]) {
        check_layout(&MaskedLayout::new(logs, masked), &LiftPoint::none());
    }

    fn check_layout(ml: &MaskedLayout, lift: &LiftPoint) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let logs: Vec<usize> = (0..ml.masked.len()).map(|c| ml.col_vars(c)).collect();
        let masked = &ml.masked;
        let cols: Vec<Vec<F>> = logs
            .iter()
            .map(|&k| (0..1u64 << k).map(|i| F::from_u64(i * 7 + 1)).collect())
            .collect();
        let masks = ml.draw(&mut rng);
        let table = ml.table(&cols, &masks);
        let rho = point(ml.num_vars(), 100);
        for (c, &k) in logs.iter().enumerate() {
            let z = point(k, c as u64);
            let pe: Vec<EF> = cols[c].iter().map(|&x| EF::from(x)).collect();
            let re: Vec<EF> = ml
                .expand(c, &masks[c], lift)
                .iter()
                .map(|&x| EF::from(x))
                .collect();
            let value = masked_eval(&pe, &re, &z);
            let terms = ml.terms(c, &z, lift);
            let mut w = vec![EF::ZERO; table.len()];
            ml.add_weights(&terms, EF::ONE, &mut w);
            let inner: EF = table.iter().zip(&w).map(|(&t, &x)| x * t).sum();
            assert_eq!(inner, value, "column {c}");
            assert_eq!(ml.weigh(&terms, &rho), evaluate(&w, &rho), "column {c}");
            if !masked[c] {
                assert_eq!(evaluate_base(&table, &ml.point(c, &z).unwrap()), value);
            }
        }
    }

    #[test]
    fn masked_values_are_functionals_of_the_table() {
        check(&[3, 2, 1], &[true, false, true]);
        // Columns wider than the mask's multilinear part get affine coefficients.
        check(&[9, 9, 8, 2], &[true, true, true, false]);
        check(&[12, 6, 1], &[true, true, true]);
    }

    /// A lifted column's masked value at z is still one functional of the table (A read at
    /// (z ‖ u)), and its R for one u is the k-variable multilinear the sumchecks use.
    #[test]
    fn lifted_masks_are_functionals_of_the_table() {
        let logs = [3, 1, 7, 6];
        let masked = [true, true, true, false];
        let ml = MaskedLayout::lifted(&logs, &masked, 6);
        assert_eq!(ml.lift(), 6);
        // Columns under the lift read a 2^6 table; the 7-variable one keeps its own mask.
        assert!(ml.is_lifted(0) && ml.is_lifted(1) && !ml.is_lifted(2) && !ml.is_lifted(3));
        assert_eq!((ml.mask_dim(0), ml.mask_dim(1)), (64, 64));
        assert!(ml.mask_dim(2) >= 64, "{}", ml.mask_dim(2));
        assert_eq!((ml.proof_mask_dim(0), ml.proof_mask_dim(1)), (8, 2));
        for seed in 0..3u64 {
            let u = (0..6).map(|i| F::from_u64(17 * seed + 5 * i + 2)).collect();
            check_layout(&ml, &LiftPoint::new(u));
        }
        // The same layout without a lift point is a programming error, not a silent zero.
        let masks = ml.draw(&mut rand::rngs::StdRng::seed_from_u64(1));
        let missing =
            std::panic::catch_unwind(|| ml.expand(0, &masks[0], &LiftPoint::none())).is_err();
        assert!(missing);
    }

    #[test]
    fn masks_fill_the_free_space() {
        // 2^9 + 2^8 + 4 entries leave room in 2^10: the masks take it.
        let ml = MaskedLayout::new(&[9, 8, 2], &[true, true, true]);
        assert_eq!(ml.num_vars(), 10);
        // A full table grows by one variable, and its masks take the new room: full-size masks.
        let full = MaskedLayout::new(&[10, 10], &[true, true]);
        assert_eq!(full.num_vars(), 12);
        assert_eq!(full.slots[0].unwrap().m, 10);
        // A single full column (a committed input) likewise gets a mask of its own size.
        assert_eq!(MaskedLayout::new(&[9], &[true]).slots[0].unwrap().m, 9);
    }

    #[test]
    fn split_columns_open_as_one_point() {
        let vals: Vec<EF> = (0..8u64)
            .map(|i| EF::from_u64(i + 2) + omega() * EF::from_u64(3 * i + 1))
            .collect();
        let col = split_ext(&vals);
        let z: Vec<EF> = (0..3).map(|i| EF::from_u64(9 + i) + omega()).collect();
        let (p, factor) = ext_point(&z).unwrap();
        assert_eq!(evaluate_base(&col, &p), evaluate(&vals, &z) * factor);
        assert_eq!(join_ext(&col), vals);
    }
}
